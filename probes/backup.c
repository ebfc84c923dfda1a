/* backup.c: the backup probe (see backup.h). Config: one object per backup,
 * keyed by its name (the instance): {"path": GLOB} or {"stamp": FILE}, plus
 * "max_age" (default 26 h) and "min_size" (default 1 byte for "path", 0 for
 * "stamp"). Backups are ordinary files, so their paths are used as written
 * and do NOT go under the agent's root, which is for /proc, /sys and /dev. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "backup.h"
#include "cfg.h"
#include "log.h"
#include "util.h"

struct backup_item {
	char *name;       /* instance: the config key */
	char *pattern;    /* glob, or NULL */
	char *stamp;      /* stamp file, or NULL */
	double max_age;
	double min_size;
	struct hr_complain c; /* no match, unreadable folder */
};

struct backup_state {
	struct backup_item *items;
	size_t count;
};

#define BACKUP_EXAMPLE "{\"path\": \"/srv/backup/*.tar.zst\", \"max_age\": \"26h\"}"

static const char *const backup_item_keys[] = { "path", "stamp", "max_age", "min_size", NULL };

/* glob(3)'s error callback has no context pointer, so the first error of the
 * glob() call running on this thread is kept here, set and read right around
 * that one call. */
static _Thread_local struct {
	int err;
	char path[1024];
} backup_glob_err;

static int backup_glob_errfunc(const char *epath, int eerrno)
{
	/* A folder that does not exist is no match, not a read error. */
	if (eerrno == ENOENT || eerrno == ENOTDIR)
		return 0;
	if (backup_glob_err.err == 0) {
		backup_glob_err.err = eerrno;
		hr_strlcpy(backup_glob_err.path, epath, sizeof(backup_glob_err.path));
	}
	return 0; /* go on: other folders may hold the newest match */
}

/* Copies the pattern's leading folder that holds no glob metacharacter
 * ("/srv/backup" of "/srv/backup/x*.tar", "/srv" of "/srv/b[12]/x") into dst,
 * for saying why nothing matched. */
static void backup_fixed_dir(const char *pattern, char *dst, size_t n)
{
	size_t i, last_slash = 0;

	for (i = 0; pattern[i] != '\0'; i++) {
		if (pattern[i] == '*' || pattern[i] == '?' || pattern[i] == '[' ||
		    pattern[i] == '\\')
			break;
		if (pattern[i] == '/')
			last_slash = i;
	}
	if (last_slash == 0) {
		hr_strlcpy(dst, "/", n);
		return;
	}
	if (last_slash + 1 > n)
		last_slash = n - 1;
	memcpy(dst, pattern, last_slash);
	dst[last_slash] = '\0';
}

/* Says why a pattern matched nothing, as far as its fixed folder tells. */
static void backup_no_match(const char *pattern, struct backup_found *f)
{
	char dir[1024];
	struct stat st;
	DIR *d;

	backup_fixed_dir(pattern, dir, sizeof(dir));
	if (stat(dir, &st) < 0) {
		snprintf(f->error, sizeof(f->error), "no file matches %.200s: %.200s: %s", pattern,
			 dir, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(f->error, sizeof(f->error), "no file matches %.200s: %.200s: not a folder",
			 pattern, dir);
		return;
	}
	d = opendir(dir);
	if (d == NULL) {
		snprintf(f->error, sizeof(f->error), "cannot read %.200s: %s", dir,
			 strerror(errno));
		return;
	}
	closedir(d);
	snprintf(f->error, sizeof(f->error), "no file matches %.200s", pattern);
}

static double backup_mtime(const struct stat *st)
{
	return (double)st->st_mtim.tv_sec + st->st_mtim.tv_nsec / 1e9;
}

void backup_find_glob(const char *pattern, struct backup_found *f)
{
	size_t len = strlen(pattern);
	int want_dirs = len > 0 && pattern[len - 1] == '/';
	glob_t g;
	size_t i;
	int rc;

	memset(f, 0, sizeof(*f));
	backup_glob_err.err = 0;
	backup_glob_err.path[0] = '\0';
	rc = glob(pattern, GLOB_NOSORT, backup_glob_errfunc, &g);
	if (rc == GLOB_NOSPACE) {
		snprintf(f->error, sizeof(f->error), "%.200s: out of memory while matching",
			 pattern);
		globfree(&g);
		return;
	}
	for (i = 0; rc == 0 && i < g.gl_pathc; i++) {
		struct stat st;
		double mt;

		/* Vanished since glob() saw it, or a dangling link: not a backup. */
		if (stat(g.gl_pathv[i], &st) < 0)
			continue;
		if (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
			continue;
		f->matches++;
		mt = backup_mtime(&st);
		if (f->have && mt <= f->mtime)
			continue;
		f->have = 1;
		f->is_dir = want_dirs;
		f->mtime = mt;
		f->size = (double)st.st_size;
		hr_strlcpy(f->path, g.gl_pathv[i], sizeof(f->path));
	}
	if (rc == 0 || rc == GLOB_NOMATCH)
		globfree(&g);
	if (backup_glob_err.err != 0)
		snprintf(f->error, sizeof(f->error), "cannot read %.200s: %s", backup_glob_err.path,
			 strerror(backup_glob_err.err));
	else if (!f->have)
		backup_no_match(pattern, f);
}

void backup_find_stamp(const char *path, struct backup_found *f)
{
	struct stat st;

	memset(f, 0, sizeof(*f));
	if (stat(path, &st) < 0) {
		snprintf(f->error, sizeof(f->error), "stamp %.200s: %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(f->error, sizeof(f->error), "stamp %.200s: not a regular file", path);
		return;
	}
	f->have = 1;
	f->matches = 1;
	f->mtime = backup_mtime(&st);
	f->size = (double)st.st_size;
	hr_strlcpy(f->path, path, sizeof(f->path));
}

/* Copies s into dst (size n) with anything but printable ASCII replaced by
 * '?', so that odd file names cannot put control bytes or broken UTF-8 into
 * labels. When s does not fit and keep_tail is set, its tail is kept behind
 * "...", as the end of a path (the file name) says the most. */
static void backup_label_copy(char *dst, size_t n, const char *s, int keep_tail)
{
	size_t len = strlen(s), i, o = 0;

	if (len > n - 1 && !keep_tail) {
		len = n - 1;
	} else if (len > n - 1) {
		memcpy(dst, "...", 3);
		o = 3;
		s += len - (n - 1 - 3);
		len = n - 1 - 3;
	}
	for (i = 0; i < len; i++)
		dst[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[o] = '\0';
}

/* "26h", "90m", "45s" or "2.5d": an age for a message. */
static void backup_fmt_age(char *dst, size_t n, double s)
{
	if (s >= 2 * 86400.0)
		snprintf(dst, n, "%.1fd", s / 86400);
	else if (s >= 2 * 3600.0)
		snprintf(dst, n, "%.1fh", s / 3600);
	else if (s >= 120.0)
		snprintf(dst, n, "%.0fm", s / 60);
	else
		snprintf(dst, n, "%.0fs", s);
}

void backup_verdict(const struct backup_found *f, double now, double max_age, double min_size,
		    struct hr_sample *s)
{
	char buf[HR_LABEL_VALUE_MAX], a[32], b[32];
	const char *why = f->error[0] != '\0' ? f->error : NULL;
	char reason[HR_LABEL_VALUE_MAX];
	double age;

	if (f->have) {
		age = now - f->mtime;
		hr_sample_set(s, "age_s", age > 0 ? age : 0);
		if (!f->is_dir)
			hr_sample_set(s, "size_bytes", f->size);
		backup_label_copy(buf, sizeof(buf), f->path, 1);
		hr_sample_label(s, "file", buf);
		if (why == NULL && -age > BACKUP_FUTURE_SLACK) {
			backup_fmt_age(a, sizeof(a), -age);
			snprintf(reason, sizeof(reason), "newest is modified %s in the future (clock?)",
				 a);
			why = reason;
		} else if (why == NULL && age > max_age) {
			backup_fmt_age(a, sizeof(a), age);
			backup_fmt_age(b, sizeof(b), max_age);
			snprintf(reason, sizeof(reason), "newest is %s old, over max_age %s", a, b);
			why = reason;
		} else if (why == NULL && !f->is_dir && f->size < min_size) {
			snprintf(reason, sizeof(reason), "newest is %.0f bytes, under min_size %.0f",
				 f->size, min_size);
			why = reason;
		}
	} else if (why == NULL) {
		why = "nothing found";
	}
	hr_sample_set(s, "ok", why == NULL ? 1 : 0);
	if (why != NULL) {
		backup_label_copy(buf, sizeof(buf), why, 0);
		hr_sample_label(s, "error", buf);
	}
}

static void backup_free_state(struct backup_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->count; i++) {
		free(st->items[i].name);
		free(st->items[i].pattern);
		free(st->items[i].stamp);
	}
	free(st->items);
	free(st);
}

/* Validates one backup's object and fills it; 0 or -1 (errs filled). */
static int backup_item_setup(const cJSON *obj, const char *path, struct backup_item *it,
			     struct hr_errs *errs)
{
	const char *glob_s = NULL, *stamp_s = NULL;
	char p[600];
	int bad = 0, r1, r2;

	if (!cJSON_IsObject(obj)) {
		hr_errs_add(errs, path, "expected an object like %s", BACKUP_EXAMPLE);
		return -1;
	}
	if (strlen(obj->string) >= HR_INSTANCE_MAX) {
		hr_errs_add(errs, path, "name longer than %d bytes", HR_INSTANCE_MAX - 1);
		bad = 1;
	}
	if (hr_cfg_check_keys(obj, path, backup_item_keys, errs) > 0)
		bad = 1;
	r1 = hr_cfg_string(obj, "path", path, &glob_s, errs);
	r2 = hr_cfg_string(obj, "stamp", path, &stamp_s, errs);
	if (r1 < 0 || r2 < 0)
		bad = 1;
	if (r1 == 1 && r2 == 1) {
		hr_errs_add(errs, path, "give either \"path\" or \"stamp\", not both");
		bad = 1;
	} else if (r1 == 0 && r2 == 0) {
		hr_errs_add(errs, path, "missing \"path\" (a glob of the backup files) or "
			    "\"stamp\" (a file touched after each good backup)");
		bad = 1;
	}
	if (r1 == 1 && glob_s[0] != '/') {
		hr_cfg_path(p, sizeof(p), path, "path");
		hr_errs_add(errs, p, "must be an absolute path");
		bad = 1;
	}
	if (r2 == 1 && stamp_s[0] != '/') {
		hr_cfg_path(p, sizeof(p), path, "stamp");
		hr_errs_add(errs, p, "must be an absolute path");
		bad = 1;
	}
	it->max_age = BACKUP_MAX_AGE_DEFAULT;
	it->min_size = r2 == 1 ? 0 : BACKUP_MIN_SIZE_DEFAULT;
	if (hr_cfg_duration(obj, "max_age", path, 1, 10 * 366 * 86400.0, &it->max_age, errs) < 0)
		bad = 1;
	if (hr_cfg_number(obj, "min_size", path, 0, 9007199254740992.0, &it->min_size, errs) < 0)
		bad = 1;
	if (bad)
		return -1;
	it->name = strdup(obj->string);
	it->pattern = r1 == 1 ? strdup(glob_s) : NULL;
	it->stamp = r2 == 1 ? strdup(stamp_s) : NULL;
	if (it->name == NULL || (r1 == 1 && it->pattern == NULL) ||
	    (r2 == 1 && it->stamp == NULL)) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	return 0;
}

static int backup_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
			void **state, struct hr_errs *errs)
{
	struct backup_state *st;
	const cJSON *it;
	size_t n = 0;
	int bad = 0;

	(void)env; /* backups are not under the root: see the top of this file */
	if (cfg == NULL || !cJSON_IsObject(cfg)) {
		hr_errs_add(errs, path, "no backups configured: expected {\"NAME\": %s}",
			    BACKUP_EXAMPLE);
		return -1;
	}
	cJSON_ArrayForEach(it, cfg)
		if (it->string != NULL && strcmp(it->string, "interval") != 0)
			n++;
	if (n == 0) {
		hr_errs_add(errs, path, "no backups configured: expected {\"NAME\": %s}",
			    BACKUP_EXAMPLE);
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL || (st->items = calloc(n, sizeof(*st->items))) == NULL) {
		free(st);
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	cJSON_ArrayForEach(it, cfg) {
		char p[512];

		/* "interval" is the agent's (checked there); every other key is
		 * a backup's name. */
		if (it->string == NULL || strcmp(it->string, "interval") == 0)
			continue;
		hr_cfg_path(p, sizeof(p), path, it->string);
		if (hr_cfg_dup_key(cfg, it)) {
			hr_errs_add(errs, p, "duplicate key");
			bad = 1;
			continue;
		}
		if (it->string[0] == '\0') {
			hr_errs_add(errs, p, "a backup needs a non-empty name");
			bad = 1;
			continue;
		}
		if (backup_item_setup(it, p, &st->items[st->count], errs) < 0) {
			struct backup_item *bi = &st->items[st->count];

			free(bi->name);
			free(bi->pattern);
			free(bi->stamp);
			memset(bi, 0, sizeof(*bi));
			bad = 1;
			continue;
		}
		st->count++;
	}
	if (bad) {
		backup_free_state(st);
		return -1;
	}
	*state = st;
	return 0;
}

static int backup_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct backup_state *st = state;
	size_t i;

	(void)err;
	for (i = 0; i < st->count; i++) {
		struct backup_item *it = &st->items[i];
		struct backup_found *f;
		struct hr_sample s;

		f = malloc(sizeof(*f));
		if (f == NULL)
			return hr_err_set(err, "out of memory");
		if (it->pattern != NULL)
			backup_find_glob(it->pattern, f);
		else
			backup_find_stamp(it->stamp, f);
		if (f->error[0] != '\0')
			hr_complain(&it->c, "probe backup: %s: %s", it->name, f->error);
		else
			hr_complain_clear(&it->c, "probe backup: %s: found %s again", it->name,
					  f->path);
		hr_sample_init(&s, "backup", it->name);
		backup_verdict(f, hr_now_wall(), it->max_age, it->min_size, &s);
		free(f);
		hr_sink_put(sink, &s);
	}
	return 0;
}

static void backup_teardown(void *state)
{
	backup_free_state(state);
}

const struct probe probe_backup = {
	.name = "backup",
	.core = 0,
	.default_interval = 60,
	.setup = backup_setup,
	.read = backup_read,
	.teardown = backup_teardown,
};
