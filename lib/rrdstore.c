/* rrdstore.c: one host's RRD archives (see rrdstore.h). Every librrd call is
 * a thread-safe one (rrd_create_r2, rrd_updatex_r, rrd_lastupdate_r) with
 * librrd's per-thread error cleared right before and read right after it.
 * What a file holds (its DS names, its last update) is cached per file, so a
 * steady-state write is one rrd_updatex_r() and no other system call. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <rrd.h>

#include "rrdstore.h"
#include "schema.h"
#include "util.h"

#define DAY 86400UL
#define RRDSTORE_XFF "0.5"
/* DS a file may grow to: bounds what a stream of ever-new value names (a
 * buggy exec plugin, a hostile sender at the central) can do to one file. */
#define RRDSTORE_MAX_DS 256
/* Longest file name: NAME_MAX (255) less the ".tmp" of our temporary name
 * and the "XXXXXX" librrd appends to it for its own. */
#define RRDSTORE_FILE_MAX 240
#define RRDSTORE_LEVELS 5
/* One value in an update line: "%.17g" takes at most 24 bytes, and ':'. */
#define RRDSTORE_VALUE_MAX 32

/* The archives of DESIGN.md: resolution wanted (0: the native step) and how
 * long it is kept. Months count 31 days and years 366, so that "3 months"
 * and "2 years" hold at least that long whatever the calendar. */
static const struct {
	unsigned long res;
	unsigned long keep;
} rrdstore_levels[RRDSTORE_LEVELS] = {
	{ 0, 2 * DAY },
	{ 60, 14 * DAY },
	{ 300, 3 * 31 * DAY },
	{ 3600, 2 * 366 * DAY },
	{ DAY, 10 * 366 * DAY },
};

struct rrdstore_rra {
	unsigned long pdp;  /* primary data points (steps) per row */
	unsigned long rows;
};

/* What we know of one archive file. */
struct rrdstore_file {
	struct rrdstore_file *next; /* hash chain */
	uint32_t hash;
	char *probe;
	char *instance;
	char *path;
	time_t last;                /* the file's last update */
	size_t nds;
	char (*ds)[HR_NAME_MAX];    /* DS names in file order */
	char *tmpl;                 /* "ds1:ds2:...", the update template */
	char *line;                 /* update line buffer, nds values long */
	size_t linecap;
};

struct rrdstore {
	char *dir;
	struct rrdstore_file **buckets;
	size_t nbuckets;            /* a power of two */
	size_t count;
};

/* The archives of a file of this step, coarsest last. An archive whose
 * rows would hold as many steps as an earlier one (the "1 min" archive of a
 * 60 s step, say) is the same archive: it is merged into the earlier one,
 * which keeps the longer retention. Resolutions that are not a multiple of
 * the step are rounded to the nearest whole number of steps (at least 1), and
 * rows are rounded up so that the whole retention is kept. */
static size_t rrdstore_layout(unsigned step, struct rrdstore_rra *out)
{
	size_t i, j, n = 0;

	for (i = 0; i < RRDSTORE_LEVELS; i++) {
		unsigned long pdp = (rrdstore_levels[i].res + step / 2) / step;
		unsigned long span, rows;

		if (pdp < 1)
			pdp = 1;
		span = pdp * step;
		rows = (rrdstore_levels[i].keep + span - 1) / span;
		for (j = 0; j < n && out[j].pdp != pdp; j++)
			;
		if (j < n) {
			if (rows > out[j].rows)
				out[j].rows = rows;
			continue;
		}
		out[n].pdp = pdp;
		out[n].rows = rows;
		n++;
	}
	return n;
}

/* Consolidation functions of an archive: with one step per row AVERAGE, MAX
 * and MIN would be the same numbers, so only AVERAGE is kept there. */
static size_t rrdstore_ncf(const struct rrdstore_rra *rra, int keep_min)
{
	if (rra->pdp == 1)
		return 1;
	return keep_min ? 3 : 2;
}

size_t rrdstore_bytes_per_ds(unsigned step, int keep_min)
{
	struct rrdstore_rra rra[RRDSTORE_LEVELS];
	size_t i, n, rows = 0;

	if (step == 0)
		return 0;
	n = rrdstore_layout(step, rra);
	for (i = 0; i < n; i++)
		rows += rra[i].rows * rrdstore_ncf(&rra[i], keep_min);
	return rows * sizeof(double);
}

/* --- names ---------------------------------------------------------------- */

static int rrdstore_keep(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int rrdstore_probe_valid(const char *probe)
{
	size_t i;

	for (i = 0; i < HR_PROBE_MAX && probe[i] != '\0'; i++) {
		unsigned char c = (unsigned char)probe[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return i > 0 && i < HR_PROBE_MAX;
}

int rrdstore_filename(char *dst, size_t n, const char *probe, const char *instance,
		      struct hr_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[RRDSTORE_FILE_MAX + 1];
	size_t len, i;

	if (probe == NULL || !rrdstore_probe_valid(probe))
		return hr_err_set(err, "rrdstore: probe name \"%.*s\" is not 1-%d of [A-Za-z0-9_]",
				  HR_PROBE_MAX, probe ? probe : "", HR_PROBE_MAX - 1);
	if (instance == NULL)
		instance = "";
	len = strlen(probe);
	memcpy(buf, probe, len);
	if (instance[0] != '\0')
		buf[len++] = '-';
	/* The probe name holds no '-', so the first '-' splits the name back
	 * into probe and escaped instance. */
	for (i = 0; instance[i] != '\0'; i++) {
		unsigned char c = (unsigned char)instance[i];
		int keep = rrdstore_keep(c) && !(i == 0 && c == '.');

		if (len + (keep ? 1 : 3) + 4 > RRDSTORE_FILE_MAX)
			return hr_err_set(err, "rrdstore: %s: instance \"%.40s...\" is too long for a file name",
					  probe, instance);
		if (keep) {
			buf[len++] = (char)c;
		} else {
			buf[len++] = '%';
			buf[len++] = hex[c >> 4];
			buf[len++] = hex[c & 15];
		}
	}
	memcpy(buf + len, ".rrd", 5);
	len += 4;
	if (len >= n)
		return hr_err_set(err, "rrdstore: %s: file name does not fit in %zu bytes", probe, n);
	memcpy(dst, buf, len + 1);
	return 0;
}

static int rrdstore_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Strict: only what rrdstore_filename() writes is accepted (upper-case hex,
 * no escape of a byte that is kept as is, no bare leading '.'), so that an
 * instance has exactly one file name and two files never mean the same
 * instance. */
int rrdstore_unescape(char *dst, size_t n, const char *escaped)
{
	size_t i, len = 0;

	for (i = 0; escaped[i] != '\0'; i++) {
		unsigned char c = (unsigned char)escaped[i];

		if (c == '%') {
			int hi = rrdstore_hexval(escaped[i + 1]);
			int lo = hi < 0 ? -1 : rrdstore_hexval(escaped[i + 2]);

			if (lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			if (c == '\0' || (rrdstore_keep(c) && !(len == 0 && c == '.')))
				return -1;
			i += 2;
		} else if (!rrdstore_keep(c) || (len == 0 && c == '.')) {
			return -1;
		}
		if (len + 1 >= n)
			return -1;
		dst[len++] = (char)c;
	}
	if (n == 0)
		return -1;
	dst[len] = '\0';
	return 0;
}

int rrdstore_path(const struct rrdstore *st, char *dst, size_t n, const char *probe,
		  const char *instance, struct hr_err *err)
{
	char name[RRDSTORE_FILE_MAX + 1];
	int len;

	if (rrdstore_filename(name, sizeof(name), probe, instance, err) < 0)
		return -1;
	len = snprintf(dst, n, "%s/%s", st->dir, name);
	if (len < 0 || (size_t)len >= n)
		return hr_err_set(err, "rrdstore: %s/%s: path does not fit in %zu bytes",
				  st->dir, name, n);
	return 0;
}

/* --- folder ---------------------------------------------------------------- */

/* mkdir -p DIR, mode 0755. */
static int rrdstore_mkdir_p(const char *dir, struct hr_err *err)
{
	char buf[PATH_MAX];
	struct stat sb;
	size_t i;

	if (hr_strlcpy(buf, dir, sizeof(buf)) >= sizeof(buf))
		return hr_err_set(err, "rrdstore: %.100s...: folder name too long", dir);
	for (i = 1; buf[i] != '\0'; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", buf);
		buf[i] = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", buf);
	if (stat(buf, &sb) < 0)
		return hr_err_errno(err, errno, "rrdstore: cannot create folder %s", buf);
	if (!S_ISDIR(sb.st_mode))
		return hr_err_errno(err, ENOTDIR, "rrdstore: cannot create folder %s", buf);
	return 0;
}

struct rrdstore *rrdstore_new(const char *dir, struct hr_err *err)
{
	struct rrdstore *st;
	size_t len;

	if (dir == NULL || dir[0] == '\0') {
		hr_err_set(err, "rrdstore: no folder given");
		return NULL;
	}
	len = strlen(dir);
	if (len + 1 + RRDSTORE_FILE_MAX + 4 >= PATH_MAX) {
		hr_err_set(err, "rrdstore: %.100s...: folder name too long", dir);
		return NULL;
	}
	if (rrdstore_mkdir_p(dir, err) < 0)
		return NULL;
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		goto oom;
	st->dir = strdup(dir);
	st->nbuckets = 64;
	st->buckets = calloc(st->nbuckets, sizeof(*st->buckets));
	if (st->dir == NULL || st->buckets == NULL)
		goto oom;
	/* "/a/b/" and "/a/b" name the same folder; keep paths tidy. */
	while (len > 1 && st->dir[len - 1] == '/')
		st->dir[--len] = '\0';
	return st;
oom:
	rrdstore_destroy(st);
	hr_err_set(err, "rrdstore: %s: out of memory", dir);
	return NULL;
}

/* --- the cache -------------------------------------------------------------- */

static uint32_t rrdstore_hash(const char *probe, const char *instance)
{
	uint32_t h = 2166136261u;
	const char *p;

	for (p = probe; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ 0xff) * 16777619u; /* a byte no name holds, between the two */
	for (p = instance; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static void rrdstore_file_free(struct rrdstore_file *f)
{
	if (f == NULL)
		return;
	free(f->probe);
	free(f->instance);
	free(f->path);
	free(f->ds);
	free(f->tmpl);
	free(f->line);
	free(f);
}

void rrdstore_destroy(struct rrdstore *st)
{
	struct rrdstore_file *f, *next;
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; st->buckets != NULL && i < st->nbuckets; i++) {
		for (f = st->buckets[i]; f != NULL; f = next) {
			next = f->next;
			rrdstore_file_free(f);
		}
	}
	free(st->buckets);
	free(st->dir);
	free(st);
}

static struct rrdstore_file *rrdstore_find(struct rrdstore *st, uint32_t h, const char *probe,
					   const char *instance)
{
	struct rrdstore_file *f;

	for (f = st->buckets[h & (st->nbuckets - 1)]; f != NULL; f = f->next)
		if (f->hash == h && strcmp(f->probe, probe) == 0 &&
		    strcmp(f->instance, instance) == 0)
			return f;
	return NULL;
}

static void rrdstore_insert(struct rrdstore *st, struct rrdstore_file *f)
{
	struct rrdstore_file **nb, *g, *next;
	size_t i, nn;

	/* Grow at one file per bucket; a failed grow keeps the old table. */
	if (st->count >= st->nbuckets) {
		nn = st->nbuckets * 2;
		nb = calloc(nn, sizeof(*nb));
		if (nb != NULL) {
			for (i = 0; i < st->nbuckets; i++) {
				for (g = st->buckets[i]; g != NULL; g = next) {
					next = g->next;
					g->next = nb[g->hash & (nn - 1)];
					nb[g->hash & (nn - 1)] = g;
				}
			}
			free(st->buckets);
			st->buckets = nb;
			st->nbuckets = nn;
		}
	}
	f->next = st->buckets[f->hash & (st->nbuckets - 1)];
	st->buckets[f->hash & (st->nbuckets - 1)] = f;
	st->count++;
}

/* Forgets what we knew of f (after a failed update: the file may have been
 * changed or removed behind our back); the next write looks again. */
static void rrdstore_evict(struct rrdstore *st, struct rrdstore_file *f)
{
	struct rrdstore_file **pp;

	for (pp = &st->buckets[f->hash & (st->nbuckets - 1)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == f) {
			*pp = f->next;
			st->count--;
			rrdstore_file_free(f);
			return;
		}
	}
}

static int rrdstore_has_ds(const struct rrdstore_file *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->nds; i++)
		if (strcmp(f->ds[i], name) == 0)
			return 1;
	return 0;
}

/* Reads the file's DS names and last update (rrd_lastupdate_r) into f, and
 * builds the update template and line buffer for them. */
static int rrdstore_load(struct rrdstore_file *f, struct hr_err *err)
{
	unsigned long i, cnt = 0;
	char **names = NULL, **lasts = NULL, *tmpl = NULL, *line = NULL;
	char (*ds)[HR_NAME_MAX] = NULL;
	time_t last = 0;
	size_t tlen = 0;
	int rc = -1;

	rrd_clear_error();
	if (rrd_lastupdate_r(f->path, &last, &cnt, &names, &lasts) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot read the archive: %s", f->path,
			   rrd_get_error());
		rrd_clear_error();
		return -1;
	}
	if (cnt == 0 || cnt > RRDSTORE_MAX_DS) {
		hr_err_set(err, "rrdstore: %s: archive has %lu data sources", f->path, cnt);
		goto out;
	}
	ds = calloc(cnt, sizeof(*ds));
	if (ds == NULL)
		goto oom;
	for (i = 0; i < cnt; i++) {
		if (hr_strlcpy(ds[i], names[i], sizeof(ds[i])) >= sizeof(ds[i])) {
			hr_err_set(err, "rrdstore: %s: data source name \"%s\" too long",
				   f->path, names[i]);
			goto out;
		}
		tlen += strlen(ds[i]) + 1;
	}
	tmpl = malloc(tlen);
	line = malloc((cnt + 1) * RRDSTORE_VALUE_MAX);
	if (tmpl == NULL || line == NULL)
		goto oom;
	tlen = 0;
	for (i = 0; i < cnt; i++) {
		size_t l = strlen(ds[i]);

		memcpy(tmpl + tlen, ds[i], l);
		tlen += l;
		tmpl[tlen++] = i + 1 < cnt ? ':' : '\0';
	}
	free(f->ds);
	free(f->tmpl);
	free(f->line);
	f->ds = ds;
	f->tmpl = tmpl;
	f->line = line;
	f->linecap = (cnt + 1) * RRDSTORE_VALUE_MAX;
	f->nds = cnt;
	f->last = last;
	ds = NULL;
	tmpl = line = NULL;
	rc = 0;
	goto out;
oom:
	hr_err_set(err, "rrdstore: %s: out of memory", f->path);
out:
	for (i = 0; i < cnt; i++) {
		free(names[i]);
		free(lasts[i]);
	}
	free(names);
	free(lasts);
	free(ds);
	free(tmpl);
	free(line);
	return rc;
}

/* Flushes the temporary file to disk and renames it into place, so that a
 * crash leaves either the old archive, or none, or the whole new one; never
 * a half-written file under the archive's name. */
static int rrdstore_commit(const char *tmp, const char *path, struct hr_err *err)
{
	int fd, rc;

	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return hr_err_errno(err, errno, "rrdstore: %s", tmp);
	rc = fsync(fd);
	close(fd);
	if (rc < 0 || rename(tmp, path) < 0) {
		hr_err_errno(err, errno, "rrdstore: %s: cannot put %s in place", path, tmp);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* librrd arguments "DS:name:TYPE:heartbeat:min:max" for the named values:
 * counters are DDERIVE with min 0 (a reset reads as unknown, not as a huge
 * negative rate), levels GAUGE without bounds. DDERIVE (RRDtool >= 1.5) and
 * not DERIVE, because DERIVE takes integers only and some counters are
 * fractional: CPU time in seconds. */
static void rrdstore_ds_spec(char *dst, size_t n, const char *probe, const char *name,
			     unsigned step)
{
	int counter = hr_schema_kind(probe, name) == HR_COUNTER;

	snprintf(dst, n, "DS:%s:%s:%lu:%s:U", name, counter ? "DDERIVE" : "GAUGE",
		 2UL * step, counter ? "0" : "U");
}

/* Creates PATH with one DS per value of s and the archives of this step,
 * the last update just before s, through a temporary name (see commit). */
static int rrdstore_create(struct rrdstore *st, const char *path, const struct hr_sample *s,
			   size_t nvalues, unsigned step, struct hr_err *err)
{
	static const char *const cfs[] = { "AVERAGE", "MAX", "MIN" };
	char specs[HR_SAMPLE_VALUES + RRDSTORE_LEVELS * 3][64];
	const char *argv[HR_SAMPLE_VALUES + RRDSTORE_LEVELS * 3];
	struct rrdstore_rra rra[RRDSTORE_LEVELS];
	char tmp[PATH_MAX];
	size_t i, j, k, nrra, argc = 0;
	int keep_min = hr_schema_keep_min(s->probe);

	for (i = 0; i < nvalues; i++) {
		for (j = 0; j < i && strcmp(s->values[j].name, s->values[i].name) != 0; j++)
			;
		if (j < i)
			continue; /* the same name twice: one DS */
		rrdstore_ds_spec(specs[argc], sizeof(specs[argc]), s->probe, s->values[i].name, step);
		argc++;
	}
	nrra = rrdstore_layout(step, rra);
	for (i = 0; i < nrra; i++) {
		for (k = 0; k < rrdstore_ncf(&rra[i], keep_min); k++) {
			snprintf(specs[argc], sizeof(specs[argc]), "RRA:%s:%s:%lu:%lu", cfs[k],
				 RRDSTORE_XFF, rra[i].pdp, rra[i].rows);
			argc++;
		}
	}
	for (i = 0; i < argc; i++)
		argv[i] = specs[i];
	if (rrdstore_mkdir_p(st->dir, err) < 0)
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return hr_err_set(err, "rrdstore: %s: path too long", path);
	rrd_clear_error();
	if (rrd_create_r2(tmp, step, s->t - (time_t)step, 0, NULL, NULL, (int)argc, argv) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot create: %s", path, rrd_get_error());
		rrd_clear_error();
		unlink(tmp);
		return -1;
	}
	return rrdstore_commit(tmp, path, err);
}

/* Adds DS for the given names to an existing file. librrd 1.7's rrd_tune
 * can add a DS too, but it is not one of the _r calls and it reaches for a
 * global rrdcached connection when RRDCACHED_ADDRESS is set; rrd_create_r2
 * with the file as template (its step, DS and archives stay exactly as they
 * are) and as source (its data, last update and counter state are copied)
 * does the same job with the thread-safe call, into a temporary name that we
 * rename into place. The old data stays; the new DS are unknown until now. */
static int rrdstore_add_ds(struct rrdstore_file *f, const char *const *names, size_t n,
			   unsigned step, struct hr_err *err)
{
	char specs[HR_SAMPLE_VALUES][64];
	const char *argv[HR_SAMPLE_VALUES];
	const char *sources[2] = { f->path, NULL };
	char tmp[PATH_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		rrdstore_ds_spec(specs[i], sizeof(specs[i]), f->probe, names[i], step);
		argv[i] = specs[i];
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", f->path) >= sizeof(tmp))
		return hr_err_set(err, "rrdstore: %s: path too long", f->path);
	rrd_clear_error();
	if (rrd_create_r2(tmp, 0, -1, 0, sources, f->path, (int)n, argv) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot add value %s: %s", f->path, names[0],
			   rrd_get_error());
		rrd_clear_error();
		unlink(tmp);
		return -1;
	}
	if (rrdstore_commit(tmp, f->path, err) < 0)
		return -1;
	return rrdstore_load(f, err);
}

/* The cached file for s, loaded from disk or created on first sight. */
static struct rrdstore_file *rrdstore_open(struct rrdstore *st, const struct hr_sample *s,
					   size_t nvalues, unsigned step, struct hr_err *err)
{
	struct rrdstore_file *f;
	struct stat sb;
	char path[PATH_MAX];
	uint32_t h = rrdstore_hash(s->probe, s->instance);

	f = rrdstore_find(st, h, s->probe, s->instance);
	if (f != NULL)
		return f;
	if (rrdstore_path(st, path, sizeof(path), s->probe, s->instance, err) < 0)
		return NULL;
	if (stat(path, &sb) < 0) {
		/* ENOTDIR: a file where a folder should be; creating says
		 * which. */
		if (errno != ENOENT && errno != ENOTDIR) {
			hr_err_errno(err, errno, "rrdstore: %s", path);
			return NULL;
		}
		if (rrdstore_create(st, path, s, nvalues, step, err) < 0)
			return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (f == NULL)
		goto oom;
	f->hash = h;
	f->probe = strdup(s->probe);
	f->instance = strdup(s->instance);
	f->path = strdup(path);
	if (f->probe == NULL || f->instance == NULL || f->path == NULL)
		goto oom;
	if (rrdstore_load(f, err) < 0) {
		rrdstore_file_free(f);
		return NULL;
	}
	rrdstore_insert(st, f);
	return f;
oom:
	rrdstore_file_free(f);
	hr_err_set(err, "rrdstore: %s: out of memory", path);
	return NULL;
}

/* Checks what goes into file names, templates and update lines: a sample
 * that came over the network is not trusted to be NUL-terminated or to hold
 * valid names. */
static int rrdstore_check(const struct hr_sample *s, unsigned step, size_t *nvalues,
			  struct hr_err *err)
{
	size_t i;

	if (memchr(s->probe, '\0', sizeof(s->probe)) == NULL ||
	    memchr(s->instance, '\0', sizeof(s->instance)) == NULL)
		return hr_err_set(err, "rrdstore: sample with an unterminated probe or instance");
	if (step == 0)
		return hr_err_set(err, "rrdstore: %s \"%s\": step 0", s->probe, s->instance);
	if (s->t <= 0)
		return hr_err_set(err, "rrdstore: %s \"%s\": sample without a time", s->probe,
				  s->instance);
	*nvalues = s->nvalues < HR_SAMPLE_VALUES ? s->nvalues : HR_SAMPLE_VALUES;
	for (i = 0; i < *nvalues; i++)
		if (!hr_name_valid(s->values[i].name))
			return hr_err_set(err, "rrdstore: %s \"%s\": value %zu: invalid name \"%.*s\"",
					  s->probe, s->instance, i, HR_NAME_MAX - 1,
					  s->values[i].name);
	return 0;
}

int rrdstore_write(struct rrdstore *st, const struct hr_sample *s, unsigned step,
		   struct hr_err *err)
{
	struct rrdstore_file *f;
	const char *add[HR_SAMPLE_VALUES];
	const char *argv[1];
	struct hr_err adderr = { { 0 } };
	size_t i, j, nvalues = 0, nadd = 0, len;
	int n, addfail = 0;

	if (rrdstore_check(s, step, &nvalues, err) < 0)
		return -1;
	if (nvalues == 0)
		return 0; /* labels only: nothing for RRD */
	f = rrdstore_open(st, s, nvalues, step, err);
	if (f == NULL)
		return -1;
	if (s->t <= f->last)
		return 1;

	for (i = 0; i < nvalues; i++) {
		const char *name = s->values[i].name;

		if (rrdstore_has_ds(f, name))
			continue;
		for (j = 0; j < nadd && strcmp(add[j], name) != 0; j++)
			;
		if (j == nadd)
			add[nadd++] = name;
	}
	if (nadd > 0) {
		if (f->nds + nadd > RRDSTORE_MAX_DS) {
			hr_err_set(&adderr, "rrdstore: %s: cannot add value %s: the file has %zu data sources already",
				   f->path, add[0], f->nds);
			addfail = 1;
		} else if (rrdstore_add_ds(f, add, nadd, step, &adderr) < 0) {
			addfail = 1;
			/* What the file holds now is unknown: look again. */
			if (rrdstore_load(f, err) < 0) {
				rrdstore_evict(st, f);
				return -1;
			}
		}
	}

	/* Values in the file's DS order, "U" for a DS the sample lacks. The
	 * template names them anyway, so that a file changed behind our back
	 * fails the update instead of taking values into the wrong DS. */
	n = snprintf(f->line, f->linecap, "%lld", (long long)s->t);
	len = (size_t)n;
	for (i = 0; i < f->nds; i++) {
		const struct hr_value *v = NULL;

		if (i < nvalues && strcmp(s->values[i].name, f->ds[i]) == 0)
			v = &s->values[i]; /* the usual case: same order */
		for (j = 0; v == NULL && j < nvalues; j++)
			if (strcmp(s->values[j].name, f->ds[i]) == 0)
				v = &s->values[j];
		if (v != NULL && isfinite(v->v))
			n = snprintf(f->line + len, f->linecap - len, ":%.17g", v->v);
		else
			n = snprintf(f->line + len, f->linecap - len, ":U");
		len += (size_t)n;
	}
	argv[0] = f->line;
	rrd_clear_error();
	if (rrd_updatex_r(f->path, f->tmpl, 0, 1, argv) != 0) {
		hr_err_set(err, "rrdstore: %s: cannot update: %s", f->path, rrd_get_error());
		rrd_clear_error();
		rrdstore_evict(st, f);
		return -1;
	}
	f->last = s->t;
	if (addfail) {
		hr_err_set(err, "%s; the other values were written", adderr.msg);
		return -1;
	}
	return 0;
}
