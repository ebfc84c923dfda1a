/* fuzz_ingest.c: libFuzzer target for the central's whole decision on one
 * POST body, ingest_handle(): the input is the body, sent with the fixed
 * token of host "fuzz" to an ingest whose data_dir is a folder of its own.
 * Whatever the bytes, the answer is one of the documented statuses with a
 * JSON body of the documented shape, a refusal (4xx) writes nothing, and
 * nothing is ever written but DATA/headroom.db* and files directly in
 * DATA/rrd/fuzz/ (the parent of DATA is watched too). The folder is
 * emptied at start and after every input that was stored: each input then
 * meets an empty store and a new registry, so that a run is reproducible (a seq
 * stored by an earlier input would turn later ones into resends, answered
 * unread) and bounded on disk. */
#include "config.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "central_config.h"
#include "ingest.h"
#include "log.h"
#include "registry.h"

#define NOW 1764316800
#define TOKEN "fuzz-token-0123456789abcdef"
#define HOST "fuzz"
#define MAX_BODY 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char top[64], dir[96];
static struct ingest *in;
static struct registry *held; /* the harness's own connection to the registry */
static int reset; /* start afresh before the next input */

struct snap {
	size_t files;
	unsigned long long bytes;
	unsigned long long mtimes; /* a sum that wraps: only compared */
};

static struct snap walk_snap;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static int under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0;
}

/* Every entry under DATA must be one the ingest is allowed to make. */
static int check_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	const char *rel;
	size_t dl = strlen(dir);

	(void)ftw;
	if (strncmp(path, dir, dl) != 0 || (path[dl] != '\0' && path[dl] != '/'))
		abort();
	rel = path[dl] == '/' ? path + dl + 1 : "";
	if (flag == FTW_SL || flag == FTW_SLN || flag == FTW_NS || flag == FTW_DNR)
		abort();
	if (flag == FTW_D || flag == FTW_DP) {
		if (strcmp(rel, "") != 0 && strcmp(rel, "rrd") != 0 && strcmp(rel, "rrd/" HOST) != 0)
			abort();
		return 0;
	}
	if (under(rel, "rrd/" HOST "/")) {
		if (strchr(rel + strlen("rrd/" HOST "/"), '/') != NULL)
			abort();
	} else if (!under(rel, "headroom.db")) {
		abort();
	}
	walk_snap.files++;
	walk_snap.bytes += (unsigned long long)sb->st_size;
	/* Readers write SQLite's shared-memory index too. */
	if (strcmp(rel, "headroom.db-shm") == 0)
		return 0;
	walk_snap.mtimes += (unsigned long long)sb->st_mtim.tv_sec * 1000000000ULL +
			    (unsigned long long)sb->st_mtim.tv_nsec;
	return 0;
}

/* Checks the tree and that TOP holds DATA and nothing else. */
static struct snap snapshot(void)
{
	DIR *d = opendir(top);
	struct dirent *e;

	if (d == NULL)
		abort();
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    strcmp(e->d_name, "data") != 0)
			abort();
	closedir(d);
	memset(&walk_snap, 0, sizeof(walk_snap));
	if (access(dir, F_OK) == 0 && nftw(dir, check_one, 8, FTW_PHYS) != 0)
		abort();
	return walk_snap;
}

static void remove_top(void)
{
	nftw(top, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void start(void)
{
	struct central_host h;
	struct hr_err err;
	char db[128];

	nftw(top, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	if (mkdir(top, 0700) < 0 || mkdir(dir, 0700) < 0)
		abort();
	/* The registry exists and is open before the first input, as on a
	 * central that has run before: opening it (SQLite's -wal and -shm
	 * files) is not what a refusal may not do. Held open here, so that
	 * those files stay while the ingest opens and uses it. */
	snprintf(db, sizeof(db), "%s/headroom.db", dir);
	held = registry_open(db, &err);
	if (held == NULL)
		abort();
	memset(&h, 0, sizeof(h));
	strcpy(h.name, HOST);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, TOKEN, strlen(TOKEN), h.token_sha256) < 0)
		abort();
	in = ingest_new(dir, MAX_BODY, &err);
	if (in == NULL || ingest_set_hosts(in, &h, 1, &err) < 0)
		abort();
}

static void check_reply(const struct ingest_reply *rep)
{
	cJSON *o = cJSON_Parse(rep->body);
	const cJSON *it;

	if (o == NULL || !cJSON_IsObject(o))
		abort();
	if (rep->status == 200) {
		it = cJSON_GetObjectItemCaseSensitive(o, "acked");
		if (!cJSON_IsNumber(it))
			abort();

	} else {
		it = cJSON_GetObjectItemCaseSensitive(o, "error");
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0')
			abort();
	}
	cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ingest_reply rep;
	struct snap before, after;

	if (in == NULL) {
		/* Refusals are logged at info; here that is nearly every input. */
		hr_log_init("fuzz_ingest", 0, HR_LOG_ERR);
		/* RAM if there is some: the store writes megabytes a batch. */
		snprintf(top, sizeof(top), "%s/hr-fuzz-ingest-%ld",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
		snprintf(dir, sizeof(dir), "%s/data", top);
		start();
		atexit(remove_top);
	}
	before = snapshot();
	if (reset) {
		reset = 0;
		ingest_destroy(in);
		registry_close(held);
		start();
		before = snapshot();
	}
	ingest_handle(in, TOKEN, (const char *)data, size, NOW, &rep);
	check_reply(&rep);
	after = snapshot();
	switch (rep.status) {
	case 200:
		reset = 1;
		break;
	case 400: case 403: case 413:
		/* A refusal changes nothing: not a file, not a byte, not a time. */
		if (after.files != before.files || after.bytes != before.bytes ||
		    after.mtimes != before.mtimes) {
			fprintf(stderr, "fuzz_ingest: %u but written: %s\n", rep.status, rep.body);
			abort();
		}
		break;
	case 503:
		/* The store failing on a document the decoder accepted: a bug
		 * here, where the disk is fine. */
		fprintf(stderr, "fuzz_ingest: 503: %s\n", rep.body);
		abort();
	default:
		abort();
	}
	return 0;
}
