/* md.c: the md probe. Reports every Linux software RAID array, one sample
 * per array, from /sys/block/mdX/md/ where it exists and from /proc/mdstat
 * for the rest (and for what sysfs does not say). Formats: the kernel's
 * Documentation/admin-guide/md.rst and md_seq_show()/status_resync() in
 * drivers/md/md.c.
 *
 * What the values mean (on-call relies on these: a degraded array must
 * always show degraded 1, and a routine check never may):
 *   disks    raid_disks: the slots the array has, the n of "[n/m]".
 *   active   in-sync members, the m of "[n/m]" (sysfs: raid_disks minus
 *            degraded). A spare being rebuilt into is not active yet.
 *   missing  disks - active: slots without an in-sync member, the '_' of
 *            "[UU_]" (sysfs: the degraded attribute, "the number of
 *            devices by which the array is degraded", md.rst).
 *   failed   members marked (F) / dev-X/state "faulty".
 *   spare    idle spares: members marked (S) (raid_disk < 0 in md.c) /
 *            dev-X/state "spare" with slot "none". A spare that recovery is
 *            rebuilding into has a slot, no (S), and is counted in neither
 *            active nor spare: it is part of missing until it is in sync.
 *   degraded 1 when missing > 0 (or the state is "broken"), so an array
 *            under recovery after a failure stays degraded until the
 *            rebuild ends. A check, repair or resync of a complete array is
 *            not degradation: degraded 0, sync_action check/repair/resync.
 *            raid0 and linear have no redundancy and no "[n/m]": their
 *            disks are the listed non-spare members, and they are degraded
 *            only when a member failed or the array is "broken".
 *   sync_percent  progress of the running resync/recover/check/repair/
 *            reshape in percent, -1 when idle. A resync that waits
 *            (resync=DELAYED behind another array on the same disks,
 *            resync=PENDING on an auto-read-only array, resync=REMOTE in a
 *            cluster; sysfs sync_completed "delayed") is 0 with sync_action
 *            "resync": work is due and none is done.
 *   mismatch_cnt  sysfs only: sectors found inconsistent by the last check.
 * Labels use sysfs's words: state is array_state (clean, active, readonly,
 * read-auto, inactive, broken, ...; mdstat's "active", "(read-only)",
 * "(auto-read-only)" map to active, readonly, read-auto), sync_action is
 * idle/resync/recover/check/repair/reshape/frozen (mdstat's "recovery" is
 * recover). Inactive arrays (assembled but not running, IMSM/DDF containers)
 * report state "inactive" and the member counts that are known; active,
 * missing, degraded and the sync values are unknown there and left out. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "log.h"
#include "md.h"
#include "util.h"

#define MD_DEV_MAX 4096 /* dev-* entries read per array */

static const struct {
	const char *word;  /* as in mdstat's progress line */
	enum md_sync sync;
	const char *sysfs; /* as in sync_action */
} md_sync_words[] = {
	{ "resync", MD_SYNC_RESYNC, "resync" },
	{ "recovery", MD_SYNC_RECOVER, "recover" },
	{ "recover", MD_SYNC_RECOVER, "recover" },
	{ "check", MD_SYNC_CHECK, "check" },
	{ "repair", MD_SYNC_REPAIR, "repair" },
	{ "reshape", MD_SYNC_RESHAPE, "reshape" },
};

/* An array name is used in sysfs paths and as the instance: 1-31 bytes of
 * [A-Za-z0-9_.-], not starting with '.'. */
static int md_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= MD_NAME_MAX || s[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

/* A label word: 1 to MD_WORD_MAX-1 printable ASCII bytes, no brackets. */
static int md_word_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= MD_WORD_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '[' || s[i] == ']')
			return 0;
	return 1;
}

static void md_copy(char *dst, const char *s, size_t len)
{
	memcpy(dst, s, len); /* callers checked len < the buffer size */
	dst[len] = '\0';
}

static int md_redundant(const char *level)
{
	return strcmp(level, "raid0") != 0 && strcmp(level, "linear") != 0 &&
	       strcmp(level, "container") != 0;
}

static void md_problem(struct md_mdstat *out, unsigned lineno)
{
	if (out->problems++ == 0)
		out->first_problem = lineno;
}

/* One member "sda1[2]" with optional flags "(F)", "(S)", "(W)", "(J)",
 * "(R)" (md_seq_show). Returns 0 when understood. */
static int md_member(const char *f, size_t len, struct md_stat *a)
{
	const char *open = memchr(f, '[', len);
	const char *p, *end = f + len;
	int fl = 0, sp = 0, jn = 0;

	if (open == NULL || open == f)
		return -1;
	p = open + 1;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p >= end || *p != ']')
		return -1;
	for (p++; p < end; p += 3) {
		if (end - p < 3 || p[0] != '(' || p[2] != ')')
			return -1;
		switch (p[1]) {
		case 'F': fl = 1; break;
		case 'S': sp = 1; break;
		case 'J': jn = 1; break;
		case 'W': case 'R': break;
		default: return -1;
		}
	}
	a->members++;
	if (fl)
		a->failed++;
	else if (sp)
		a->spares++;
	else if (jn)
		a->journals++;
	return 0;
}

/* "mdX : active|inactive|broken [(read-only)|(auto-read-only)] [level]
 * member ..." after the three leading fields. */
static void md_header(struct hr_fields *it, struct md_stat *a, struct md_mdstat *out,
		      unsigned lineno)
{
	const char *f;
	size_t flen;
	int bad = 0;

	while (hr_fields_next(it, &f, &flen)) {
		if (hr_field_eq(f, flen, "(read-only)"))
			a->ro = 1;
		else if (hr_field_eq(f, flen, "(auto-read-only)"))
			a->ro = 2;
		else if (memchr(f, '[', flen) != NULL) {
			if (md_member(f, flen, a) < 0)
				bad = 1;
		} else if (a->members == 0 && a->level[0] == '\0' && md_word_ok(f, flen))
			md_copy(a->level, f, flen);
		else
			bad = 1;
	}
	if (bad)
		md_problem(out, lineno);
}

/* "[n/m]": raid_disks and working disks. */
static int md_counts(const char *f, size_t len, struct md_stat *a)
{
	const char *slash;
	uint64_t n, m;

	if (len < 5 || f[0] != '[' || f[len - 1] != ']')
		return -1;
	slash = memchr(f, '/', len);
	if (slash == NULL)
		return -1;
	if (hr_parse_u64(f + 1, (size_t)(slash - f - 1), &n) < 0 ||
	    hr_parse_u64(slash + 1, (size_t)(f + len - 1 - slash - 1), &m) < 0)
		return -1;
	if (n > 65535 || m > n)
		return -1;
	a->have_counts = 1;
	a->n = (unsigned long)n;
	a->m = (unsigned long)m;
	return 0;
}

/* "[UU_]": one U per in-sync slot, '_' per slot without one. */
static int md_map(const char *f, size_t len, struct md_stat *a)
{
	size_t i;
	unsigned down = 0;

	if (len < 3 || f[0] != '[' || f[len - 1] != ']')
		return -1;
	for (i = 1; i + 1 < len; i++) {
		if (f[i] == '_')
			down++;
		else if (f[i] != 'U')
			return -1;
	}
	a->have_map = 1;
	a->map_len = (unsigned)(len - 2);
	a->map_down = down;
	return 0;
}

/* A progress item starting at field f: "recovery = 12.6%" (status_resync()
 * prints "%s =%3u.%u%%", so the percent may have more spaces before it),
 * also written without spaces, or "resync=DELAYED" / "=PENDING" / "=REMOTE".
 * On success moves the field iterator past the value and returns 0. */
static int md_progress(struct hr_fields *it, const char *f, size_t flen, struct md_stat *a)
{
	const char *p, *v, *end = it->end;
	size_t i, wl, vl;
	double pct;

	for (i = 0; i < sizeof(md_sync_words) / sizeof(md_sync_words[0]); i++) {
		wl = strlen(md_sync_words[i].word);
		if (flen >= wl && memcmp(f, md_sync_words[i].word, wl) == 0 &&
		    (flen == wl || f[wl] == '='))
			break;
	}
	if (i == sizeof(md_sync_words) / sizeof(md_sync_words[0]))
		return 1; /* not a progress item */
	/* The action is known even when the rest is cut off or garbled. */
	a->sync = md_sync_words[i].sync;
	p = f + wl;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '=')
		return -1;
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	v = p;
	while (p < end && *p != ' ' && *p != '\t')
		p++;
	it->p = p;
	if (p == v)
		return -1;
	vl = (size_t)(p - v);
	if (hr_field_eq(v, vl, "DELAYED") || hr_field_eq(v, vl, "PENDING") ||
	    hr_field_eq(v, vl, "REMOTE")) {
		a->sync_waiting = 1;
		return 0;
	}
	if (v[vl - 1] != '%' || hr_parse_double(v, vl - 1, &pct) < 0 || pct < 0 || pct > 100)
		return -1;
	a->have_percent = 1;
	a->percent = pct;
	return 0;
}

/* A line after the header: the status line ("NNN blocks ... [n/m] [UU_]",
 * indented or not), the progress line, "bitmap: ...". Fields it does not
 * need (chunk sizes, algorithm, finish=, speed=) are passed over. */
static void md_body(const char *line, size_t len, struct md_stat *a, struct md_mdstat *out,
		    unsigned lineno)
{
	struct hr_fields it;
	const char *f;
	size_t flen;
	int bad = 0, first = 1;

	hr_fields_init(&it, line, len);
	while (hr_fields_next(&it, &f, &flen)) {
		int rc;

		if (first && hr_field_eq(f, flen, "bitmap:"))
			return;
		first = 0;
		if (hr_field_eq(f, flen, "blocks")) {
			a->have_status = 1;
			continue;
		}
		if (f[0] == '[' && memchr(f, '/', flen) != NULL) {
			if (md_counts(f, flen, a) < 0)
				bad = 1;
			continue;
		}
		if (f[0] == '[' && flen >= 2 && (f[1] == 'U' || f[1] == '_')) {
			if (md_map(f, flen, a) < 0)
				bad = 1;
			continue;
		}
		rc = md_progress(&it, f, flen, a);
		if (rc < 0)
			bad = 1;
	}
	if (bad)
		md_problem(out, lineno);
}

static int md_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

const struct md_stat *md_mdstat_find(const struct md_mdstat *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->count; i++)
		if (strcmp(m->arrays[i].name, name) == 0)
			return &m->arrays[i];
	return NULL;
}

void md_mdstat_parse(const char *buf, size_t len, struct md_mdstat *out)
{
	struct hr_lines lines;
	const char *line;
	size_t llen;
	struct md_stat *cur = NULL;
	int ignoring = 0; /* inside the block of an array that was dropped */

	out->count = 0;
	out->problems = 0;
	out->first_problem = 0;
	out->dropped = 0;
	hr_lines_init(&lines, buf, len);
	while (hr_lines_next(&lines, &line, &llen)) {
		struct hr_fields it;
		const char *f[3];
		size_t fl[3];
		enum md_run run;
		char name[MD_NAME_MAX];
		int nf;

		/* Each block ends with an (almost) empty line; samples that
		 * lack it are fine, the next header starts a new block. */
		if (md_blank(line, llen)) {
			cur = NULL;
			ignoring = 0;
			continue;
		}
		hr_fields_init(&it, line, llen);
		for (nf = 0; nf < 3 && hr_fields_next(&it, &f[nf], &fl[nf]); nf++)
			;
		if (nf >= 2 && ((hr_field_eq(f[0], fl[0], "Personalities") &&
				 hr_field_eq(f[1], fl[1], ":")) ||
				(hr_field_eq(f[0], fl[0], "unused") &&
				 hr_field_eq(f[1], fl[1], "devices:")))) {
			cur = NULL;
			ignoring = 0;
			continue;
		}
		if (nf == 3 && hr_field_eq(f[1], fl[1], ":") &&
		    (hr_field_eq(f[2], fl[2], "active") || hr_field_eq(f[2], fl[2], "inactive") ||
		     hr_field_eq(f[2], fl[2], "broken"))) {
			cur = NULL;
			ignoring = 1;
			if (!md_name_ok(f[0], fl[0])) {
				md_problem(out, lines.lineno);
				continue;
			}
			run = hr_field_eq(f[2], fl[2], "active") ? MD_RUN_ACTIVE :
			      hr_field_eq(f[2], fl[2], "inactive") ? MD_RUN_INACTIVE :
			      MD_RUN_BROKEN;
			md_copy(name, f[0], fl[0]);
			if (out->count == MD_MAX_ARRAYS || md_mdstat_find(out, name) != NULL) {
				out->dropped++;
				continue;
			}
			cur = &out->arrays[out->count++];
			memset(cur, 0, sizeof(*cur));
			memcpy(cur->name, name, sizeof(name));
			ignoring = 0;
			cur->run = run;
			md_header(&it, cur, out, lines.lineno);
			continue;
		}
		if (nf >= 1 && hr_field_eq(f[0], fl[0], "read_ahead"))
			continue; /* 2.4 kernels */
		if (cur != NULL)
			md_body(line, llen, cur, out, lines.lineno);
		else if (!ignoring)
			md_problem(out, lines.lineno);
	}
}

static void md_report_clear(struct md_report *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	hr_strlcpy(r->name, name, sizeof(r->name));
	r->disks = r->active = r->failed = r->spare = NAN;
	r->missing = r->degraded = r->sync_percent = r->mismatch_cnt = NAN;
}

static const char *md_sync_sysfs(enum md_sync s)
{
	size_t i;

	for (i = 0; i < sizeof(md_sync_words) / sizeof(md_sync_words[0]); i++)
		if (md_sync_words[i].sync == s)
			return md_sync_words[i].sysfs;
	return "idle";
}

void md_report_from_stat(const struct md_stat *a, struct md_report *r)
{
	md_report_clear(r, a->name);
	hr_strlcpy(r->level, a->level, sizeof(r->level));
	r->failed = a->failed;
	r->spare = a->spares;
	if (a->run == MD_RUN_INACTIVE) {
		hr_strlcpy(r->state, "inactive", sizeof(r->state));
		r->inactive = 1;
		if (a->have_counts)
			r->disks = (double)a->n;
		return;
	}
	if (a->run == MD_RUN_BROKEN)
		hr_strlcpy(r->state, "broken", sizeof(r->state));
	else
		hr_strlcpy(r->state, a->ro == 1 ? "readonly" : a->ro == 2 ? "read-auto" : "active",
			   sizeof(r->state));

	if (a->have_counts) {
		r->disks = (double)a->n;
		r->active = (double)a->m;
		r->missing = (double)(a->n - a->m);
	} else if (a->level[0] != '\0' && !md_redundant(a->level)) {
		/* raid0/linear print no "[n/m]": every listed non-spare member
		 * is a slot, and a failed one leaves its slot empty. */
		unsigned data = a->members - a->spares - a->journals;

		r->disks = data;
		r->active = data - a->failed;
		r->missing = a->failed;
	}
	if (!isnan(r->missing))
		r->degraded = (r->missing > 0 || (a->have_map && a->map_down > 0) ||
			       a->run == MD_RUN_BROKEN) ? 1 : 0;
	else if (a->run == MD_RUN_BROKEN)
		r->degraded = 1;

	if (a->sync != MD_SYNC_NONE) {
		hr_strlcpy(r->sync_action, md_sync_sysfs(a->sync), sizeof(r->sync_action));
		if (a->have_percent)
			r->sync_percent = a->percent;
		else if (a->sync_waiting)
			r->sync_percent = 0;
	} else if (a->have_status) {
		/* The progress line follows the status line when there is
		 * one; without the status line we cannot know. */
		hr_strlcpy(r->sync_action, "idle", sizeof(r->sync_action));
		r->sync_percent = -1;
	}
}

/* Splits a comma-separated dev-X/state and tells whether it holds word. */
static int md_has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p != '\0') {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == wl && memcmp(p, word, wl) == 0)
			return 1;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return 0;
}

void md_sysfs_add_dev(struct md_sysfs *s, const char *state, const char *slot)
{
	/* state_show() in md.c: faulty, in_sync, journal, write_mostly,
	 * blocked, spare, write_error, want_replacement, replacement,
	 * external_bbl, bad_blocks_disabled, joined by ','. "spare" means
	 * not faulty, not a journal and not in sync: idle spares and spares
	 * being rebuilt into; slot tells them apart ("none" when idle). */
	if (state[0] == '\0' || !(md_has_word(state, "faulty") || md_has_word(state, "in_sync") ||
				  md_has_word(state, "spare") || md_has_word(state, "journal"))) {
		s->problems++;
		return;
	}
	s->ndev++;
	if (md_has_word(state, "faulty"))
		s->faulty++;
	else if (md_has_word(state, "in_sync"))
		s->in_sync++;
	else if (md_has_word(state, "spare")) {
		if (slot == NULL || slot[0] == '\0')
			s->spare_noslot++;
		else if (strcmp(slot, "none") == 0)
			s->spare_idle++;
	}
}

/* Parses the leading unsigned number of s ("11 (10)" while raid_disks
 * changes in a reshape: new (old)). */
static int md_lead_u64(const char *s, uint64_t *out)
{
	size_t n = 0;

	while (s[n] >= '0' && s[n] <= '9')
		n++;
	if (n == 0 || (s[n] != '\0' && s[n] != ' '))
		return -1;
	return hr_parse_u64(s, n, out);
}

/* sync_completed: "done / total" in sectors, "none" or "delayed". */
static double md_completed(const char *s)
{
	const char *slash = strchr(s, '/');
	const char *a_end, *b;
	uint64_t done, total;

	if (strcmp(s, "delayed") == 0)
		return 0;
	if (slash == NULL)
		return NAN;
	a_end = slash;
	while (a_end > s && a_end[-1] == ' ')
		a_end--;
	for (b = slash + 1; *b == ' '; b++)
		;
	if (hr_parse_u64(s, (size_t)(a_end - s), &done) < 0 ||
	    hr_parse_u64(b, strlen(b), &total) < 0 || total == 0)
		return NAN;
	if (done >= total)
		return 100;
	return (double)done * 100.0 / (double)total;
}

void md_report_from_sysfs(const char *name, const struct md_sysfs *s, struct md_report *r)
{
	uint64_t v, kdeg = 0;
	int have_kdeg = 0, broken;

	md_report_clear(r, name);
	if (md_word_ok(s->array_state, strlen(s->array_state))) {
		hr_strlcpy(r->state, s->array_state, sizeof(r->state));
		r->inactive = strcmp(r->state, "inactive") == 0 || strcmp(r->state, "clear") == 0;
	}
	broken = strcmp(r->state, "broken") == 0;
	if (md_word_ok(s->level, strlen(s->level)))
		hr_strlcpy(r->level, s->level, sizeof(r->level));
	if (md_lead_u64(s->raid_disks, &v) == 0 && v <= 65535)
		r->disks = (double)v;
	if (md_lead_u64(s->degraded, &v) == 0 && v <= 65535) {
		kdeg = v;
		have_kdeg = 1;
	}
	if (md_word_ok(s->sync_action, strlen(s->sync_action))) {
		hr_strlcpy(r->sync_action, s->sync_action, sizeof(r->sync_action));
		if (strcmp(r->sync_action, "idle") == 0 || strcmp(r->sync_action, "frozen") == 0)
			r->sync_percent = -1;
		else
			r->sync_percent = md_completed(s->sync_completed);
	} else if (r->level[0] != '\0' && !md_redundant(r->level) && r->state[0] != '\0') {
		/* raid0/linear have no sync_action: they never sync. */
		hr_strlcpy(r->sync_action, "idle", sizeof(r->sync_action));
		r->sync_percent = -1;
	}
	if (s->ndev > 0) {
		unsigned spare = s->spare_idle + s->spare_noslot;

		/* Without slot files, a recovery is taken to rebuild into as
		 * many spares as slots are missing (md starts them all). */
		if (s->spare_noslot > 0 && have_kdeg && strcmp(r->sync_action, "recover") == 0)
			spare -= kdeg < s->spare_noslot ? (unsigned)kdeg : s->spare_noslot;
		r->failed = s->faulty;
		r->spare = spare;
	}
	if (md_lead_u64(s->mismatch_cnt, &v) == 0)
		r->mismatch_cnt = (double)v;
	if (r->inactive) {
		r->sync_action[0] = '\0';
		r->sync_percent = NAN;
		return;
	}
	if (have_kdeg && !isnan(r->disks)) {
		r->missing = (double)kdeg;
		r->active = r->disks > (double)kdeg ? r->disks - (double)kdeg : 0;
	} else if (s->ndev > 0) {
		r->active = s->in_sync;
		if (!isnan(r->disks))
			r->missing = r->disks > s->in_sync ? r->disks - s->in_sync : 0;
	}
	if (have_kdeg)
		r->degraded = (kdeg > 0 || broken) ? 1 : 0;
	else if (!isnan(r->missing))
		r->degraded = (r->missing > 0 || broken ||
			       (!md_redundant(r->level) && r->failed > 0)) ? 1 : 0;
	else if (broken)
		r->degraded = 1;
}

static double md_pick(double a, double b)
{
	return isnan(a) ? b : a;
}

void md_report_merge(struct md_report *out, const struct md_report *sys,
		     const struct md_report *proc)
{
	int proc_live;

	if (sys == NULL || proc == NULL) {
		*out = sys ? *sys : *proc;
		return;
	}
	*out = *sys;
	if (out->state[0] == '\0') {
		hr_strlcpy(out->state, proc->state, sizeof(out->state));
		out->inactive = proc->inactive;
	}
	if (out->level[0] == '\0')
		hr_strlcpy(out->level, proc->level, sizeof(out->level));
	out->disks = md_pick(sys->disks, proc->disks);
	out->failed = md_pick(sys->failed, proc->failed);
	out->spare = md_pick(sys->spare, proc->spare);
	if (out->inactive) {
		out->active = out->missing = out->degraded = out->sync_percent = NAN;
		out->sync_action[0] = '\0';
		return;
	}
	proc_live = !proc->inactive;
	/* disks, active and missing describe one moment: take them from one
	 * source when it has all three, so they always add up. */
	if ((isnan(sys->disks) || isnan(sys->active) || isnan(sys->missing)) && proc_live &&
	    !isnan(proc->disks) && !isnan(proc->active) && !isnan(proc->missing)) {
		out->disks = proc->disks;
		out->active = proc->active;
		out->missing = proc->missing;
	} else if (proc_live) {
		out->active = md_pick(sys->active, proc->active);
		out->missing = md_pick(sys->missing, proc->missing);
	}
	if (isnan(out->degraded) && proc_live)
		out->degraded = proc->degraded;
	if (isnan(out->degraded) && !isnan(out->missing))
		out->degraded = out->missing > 0;
	if (sys->sync_action[0] != '\0') {
		if (isnan(sys->sync_percent) && proc_live &&
		    strcmp(proc->sync_action, sys->sync_action) == 0)
			out->sync_percent = proc->sync_percent;
	} else if (proc_live) {
		hr_strlcpy(out->sync_action, proc->sync_action, sizeof(out->sync_action));
		out->sync_percent = proc->sync_percent;
	}
}

void md_report_sample(const struct md_report *r, struct hr_sample *s)
{
	static const struct {
		const char *name;
		size_t off;
	} vals[] = {
		{ "disks", offsetof(struct md_report, disks) },
		{ "active", offsetof(struct md_report, active) },
		{ "failed", offsetof(struct md_report, failed) },
		{ "spare", offsetof(struct md_report, spare) },
		{ "missing", offsetof(struct md_report, missing) },
		{ "degraded", offsetof(struct md_report, degraded) },
		{ "sync_percent", offsetof(struct md_report, sync_percent) },
		{ "mismatch_cnt", offsetof(struct md_report, mismatch_cnt) },
	};
	size_t i;

	hr_sample_init(s, "md", r->name);
	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		double v = *(const double *)(const void *)((const char *)r + vals[i].off);

		if (!isnan(v))
			hr_sample_set(s, vals[i].name, v);
	}
	if (r->level[0] != '\0')
		hr_sample_label(s, "level", r->level);
	if (r->state[0] != '\0')
		hr_sample_label(s, "state", r->state);
	if (r->sync_action[0] != '\0')
		hr_sample_label(s, "sync_action", r->sync_action);
}

/* ---- the probe: reading the files ------------------------------------ */

struct md_state {
	const char *root;
	struct md_mdstat *mdstat;
	char (*names)[MD_NAME_MAX]; /* sysfs-only arrays of one read */
	struct hr_complain c_mdstat;
	struct hr_complain c_parse;
	struct hr_complain c_sysfs;
};

/* Does ROOT+rel exist? 1 yes, 0 no (ENOENT/ENOTDIR), -1 other error. */
static int md_exists(const char *root, const char *rel, int want_dir)
{
	char full[4096];
	struct stat st;

	if (hr_path(full, sizeof(full), root, rel, NULL) < 0)
		return -1;
	if (stat(full, &st) < 0)
		return (errno == ENOENT || errno == ENOTDIR) ? 0 : -1;
	if (want_dir && !S_ISDIR(st.st_mode))
		return 0;
	return 1;
}

/* Reads an optional attribute into buf ("" when absent). Returns -1 with
 * err filled when it exists but cannot be read. */
static int md_attr(const char *root, const char *rel, char *buf, size_t n, struct hr_err *err)
{
	buf[0] = '\0';
	switch (md_exists(root, rel, 0)) {
	case 0:
		return 0;
	case 1:
		if (hr_read_attr(root, rel, buf, n, err) == 0)
			return 0;
		buf[0] = '\0';
		return -1;
	default:
		return hr_err_errno(err, errno, "%s", rel);
	}
}

/* Reads /sys/block/NAME/md/ into s. Returns the number of problems (the
 * first one in err). */
static int md_sysfs_read(const char *root, const char *name, struct md_sysfs *s,
			 struct hr_err *err)
{
	static const struct {
		const char *file;
		size_t off;
		size_t size;
	} attrs[] = {
		{ "array_state", offsetof(struct md_sysfs, array_state), MD_WORD_MAX },
		{ "level", offsetof(struct md_sysfs, level), MD_WORD_MAX },
		{ "raid_disks", offsetof(struct md_sysfs, raid_disks), MD_WORD_MAX },
		{ "degraded", offsetof(struct md_sysfs, degraded), MD_WORD_MAX },
		{ "sync_action", offsetof(struct md_sysfs, sync_action), MD_WORD_MAX },
		{ "sync_completed", offsetof(struct md_sysfs, sync_completed), 64 },
		{ "mismatch_cnt", offsetof(struct md_sysfs, mismatch_cnt), MD_WORD_MAX },
	};
	char rel[640], full[4096];
	struct hr_err e;
	DIR *d;
	struct dirent *de;
	size_t i;
	int problems = 0;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(rel, sizeof(rel), "/sys/block/%s/md/%s", name, attrs[i].file);
		if (md_attr(root, rel, (char *)s + attrs[i].off, attrs[i].size, &e) < 0 &&
		    problems++ == 0)
			*err = e;
	}
	snprintf(rel, sizeof(rel), "/sys/block/%s/md", name);
	if (hr_path(full, sizeof(full), root, rel, &e) < 0 || (d = opendir(full)) == NULL) {
		if (problems++ == 0)
			hr_err_errno(err, errno, "%s", rel);
		return problems;
	}
	while ((de = readdir(d)) != NULL && s->ndev + s->problems < MD_DEV_MAX) {
		char state[128], slot[32];
		int has_slot;

		if (strncmp(de->d_name, "dev-", 4) != 0 || strlen(de->d_name) > 255)
			continue;
		snprintf(rel, sizeof(rel), "/sys/block/%s/md/%s/state", name, de->d_name);
		if (md_attr(root, rel, state, sizeof(state), &e) < 0) {
			if (problems++ == 0)
				*err = e;
			continue;
		}
		if (state[0] == '\0')
			continue; /* a dev-* without state: not a member */
		snprintf(rel, sizeof(rel), "/sys/block/%s/md/%s/slot", name, de->d_name);
		has_slot = md_attr(root, rel, slot, sizeof(slot), &e) == 0 && slot[0] != '\0';
		md_sysfs_add_dev(s, state, has_slot ? slot : NULL);
	}
	closedir(d);
	if (s->problems > 0 && problems++ == 0)
		hr_err_set(err, "/sys/block/%s/md: dev-*/state not understood", name);
	return problems;
}

static int md_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Arrays that sysfs has and mdstat does not, sorted. */
static size_t md_sysfs_only(struct md_state *st)
{
	char full[4096];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	if (hr_path(full, sizeof(full), st->root, "/sys/block", NULL) < 0 ||
	    (d = opendir(full)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < MD_MAX_ARRAYS) {
		char rel[300];
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, "md", 2) != 0 || !md_name_ok(de->d_name, len) ||
		    md_mdstat_find(st->mdstat, de->d_name) != NULL)
			continue;
		snprintf(rel, sizeof(rel), "/sys/block/%s/md", de->d_name);
		if (md_exists(st->root, rel, 1) != 1)
			continue;
		memcpy(st->names[n++], de->d_name, len + 1);
	}
	closedir(d);
	qsort(st->names, n, sizeof(st->names[0]), md_name_cmp);
	return n;
}

static void md_emit(struct md_state *st, const char *name, const struct md_stat *a,
		    struct hr_sink *sink, unsigned *sys_problems, struct hr_err *sys_err)
{
	struct md_report proc, sys, out;
	struct md_sysfs s = { .ndev = 0 };
	struct hr_sample smp;
	char rel[64];
	int have_sys = 0;

	snprintf(rel, sizeof(rel), "/sys/block/%s/md", name);
	if (md_exists(st->root, rel, 1) == 1) {
		struct hr_err e = { { 0 } };

		if (md_sysfs_read(st->root, name, &s, &e) > 0 && (*sys_problems)++ == 0)
			*sys_err = e;
		md_report_from_sysfs(name, &s, &sys);
		have_sys = 1;
	}
	if (a != NULL)
		md_report_from_stat(a, &proc);
	if (a == NULL) {
		/* Only sysfs knows it: a stopped array whose device lingers
		 * ("clear", or inactive without members) is not an array. */
		if (!have_sys || strcmp(sys.state, "clear") == 0 || (sys.inactive && s.ndev == 0))
			return;
	}
	md_report_merge(&out, have_sys ? &sys : NULL, a ? &proc : NULL);
	md_report_sample(&out, &smp);
	hr_sink_put(sink, &smp);
}

static int md_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct md_state *st = state;
	struct hr_err e = { { 0 } }, sys_err = { { 0 } };
	char *buf = NULL;
	size_t len = 0, i, nsys;
	unsigned sys_problems = 0;
	int have_mdstat = 0, rc = 0;

	st->mdstat->count = 0;
	switch (md_exists(st->root, "/proc/mdstat", 0)) {
	case 0: /* no md driver loaded: no arrays, nothing wrong */
		hr_complain_clear(&st->c_mdstat, "probe md: /proc/mdstat: readable again");
		break;
	case 1:
		if (hr_read_file(st->root, "/proc/mdstat", &buf, &len, HR_FILE_CAP, &e) == 0) {
			have_mdstat = 1;
			hr_complain_clear(&st->c_mdstat, "probe md: /proc/mdstat: readable again");
			break;
		}
		/* fall through */
	default:
		if (e.msg[0] == '\0')
			hr_err_errno(&e, errno, "/proc/mdstat");
		hr_complain(&st->c_mdstat, "probe md: %s", e.msg);
		break;
	}
	if (have_mdstat) {
		md_mdstat_parse(buf, len, st->mdstat);
		free(buf);
		if (st->mdstat->problems > 0 || st->mdstat->dropped > 0)
			hr_complain(&st->c_parse,
				    "probe md: /proc/mdstat: line %u: cannot parse; "
				    "%u part(s) skipped, %u array(s) dropped",
				    st->mdstat->first_problem, st->mdstat->problems, st->mdstat->dropped);
		else
			hr_complain_clear(&st->c_parse, "probe md: /proc/mdstat: parsed again");
	}
	for (i = 0; i < st->mdstat->count; i++)
		md_emit(st, st->mdstat->arrays[i].name, &st->mdstat->arrays[i], sink,
			&sys_problems, &sys_err);
	nsys = md_sysfs_only(st);
	for (i = 0; i < nsys; i++)
		md_emit(st, st->names[i], NULL, sink, &sys_problems, &sys_err);
	if (sys_problems > 0)
		hr_complain(&st->c_sysfs, "probe md: %s (%u array(s) affected)", sys_err.msg,
			    sys_problems);
	else
		hr_complain_clear(&st->c_sysfs, "probe md: sysfs readable again");
	if (!have_mdstat && st->c_mdstat.active && nsys == 0) {
		hr_err_set(err, "%s", e.msg);
		rc = -1;
	}
	return rc;
}

static int md_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		    void **state, struct hr_errs *errs)
{
	static const char *const allowed[] = { "interval", NULL };
	struct md_state *st;

	if (hr_cfg_object(cfg, path, allowed, errs) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		goto nomem;
	st->mdstat = malloc(sizeof(*st->mdstat));
	st->names = malloc(MD_MAX_ARRAYS * sizeof(st->names[0]));
	if (st->mdstat == NULL || st->names == NULL)
		goto nomem;
	st->mdstat->count = 0;
	st->root = env->root;
	*state = st;
	return 0;
nomem:
	if (st != NULL) {
		free(st->mdstat);
		free(st->names);
		free(st);
	}
	hr_errs_add(errs, path, "out of memory");
	return -1;
}

static void md_teardown(void *state)
{
	struct md_state *st = state;

	if (st == NULL)
		return;
	free(st->mdstat);
	free(st->names);
	free(st);
}

const struct probe probe_md = {
	.name = "md",
	.core = 1,
	.setup = md_setup,
	.read = md_read,
	.teardown = md_teardown,
};
