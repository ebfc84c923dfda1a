/* analyzer_int.h: the analyzer's internals shared by analyzer.c,
 * analyzer_state.c and analyzer_derive.c; not part of analyzer.h's interface. */
#ifndef HR_ANALYZER_INT_H
#define HR_ANALYZER_INT_H

#include <pthread.h>
#include <stdint.h>

#include <sqlite3.h>

#include "analyzer.h"

#define FNV0 14695981039346656037ull

struct series {
	const struct rule *r;
	struct inst *in;
	struct rule_state st;
	struct spike *sp;
	struct forecast *fc;
	double step;      /* the spike detector's */
	double cap;       /* the forecaster's capacity */
	double next_eval; /* the next forecast evaluation (0: none yet) */
	struct forecast_result last; /* the last evaluation's, for the dashboards */
	double last_at;   /* its time (0: none since start) */
	int active;       /* the last observation emitted was active */
	int fresh;        /* nothing emitted since start */
	int matched;      /* the rule takes the instance's current labels */
	int dirty;        /* changed since the last save */
};

struct counter {
	char name[HR_NAME_MAX];
	double v;
};

struct inst {
	struct inst *next; /* hash chain */
	uint64_t h;
	const char *host, *probe, *instance; /* in key, NUL-separated */
	char *key;        /* host\0probe\0instance\0 */
	size_t keylen;
	double t;         /* the last sample's time (0: none) */
	double arrived;   /* the tick's clock when that sample came (its own
			   * time before the first tick) */
	uint64_t labels_sig;
	int matched_once;
	size_t ncnt;
	struct counter *cnt; /* the last sample's counters */
	size_t nser, capser;
	struct series **ser;
	int dirty;        /* counters changed since the last save */
	size_t nkind;     /* the last sample's value names and whether each is */
	struct kind_memo { /* a counter: schema.h's answer, asked once */
		char name[HR_NAME_MAX];
		int counter;
	} *kind;
};

struct analyzer {
	pthread_mutex_t lock;   /* the tables and the series */
	pthread_mutex_t dblock; /* the database connection */
	const struct rules *rs;
	analyzer_emit_fn emit;
	void *ctx;
	sqlite3 *db;
	sqlite3_stmt *get, *put;
	struct inst **tab;
	size_t tabsize, ninst, nseries;
	double last_save;  /* the tick's now at the last save */
	double last_forget; /* the tick's now at the last look for silent ones */
	double last_prune;
	double last_t;     /* the latest sample or tick time seen */
	double tick_now;   /* the last tick's now: the clock samples arrive by */
	int resave_all;    /* a save failed: write everything next time */
	struct analyzer_stats stats;
};

/* analyzer_state.c */
/* FNV-1a of S with its NUL, continuing H. */
uint64_t analyzer_fnv_str(uint64_t h, const char *s);
/* Opens (creating) the state database at PATH into an: 0, or -1 with err. */
int analyzer_db_open(struct analyzer *an, const char *path, struct hr_err *err);
/* Restores an instance's counters from its saved row, if any. */
void analyzer_inst_load(struct analyzer *an, struct inst *in);
/* Restores a series' state from its saved row, if any (borrows se). */
void analyzer_series_load(struct analyzer *an, struct series *se, double step);
/* Writes the changed rows (all after a failed save): 0, or -1 with err. */
int analyzer_save_now(struct analyzer *an, double now, struct hr_err *err);
/* Deletes the saved rows not written for 30 days. */
void analyzer_prune_rows(struct analyzer *an, double now);

/* analyzer_derive.c */
uint64_t analyzer_inst_hash(const char *host, const char *probe, const char *instance);
/* The instance of (host, probe, instance), made (and its counters loaded)
 * when new: owned by an's table; NULL when out of memory. Under the lock. */
struct inst *analyzer_inst_get(struct analyzer *an, uint64_t h, const char *host,
			       const char *probe, const char *instance);
/* A hash of s's labels, to notice that they changed. */
uint64_t analyzer_labels_sig(const struct hr_sample *s);
/* Builds the sample the rules see into d (caller's buffer) and remembers
 * s's counters in in. Returns d, or s itself when it has no counters. */
const struct hr_sample *analyzer_derive(struct inst *in, const struct hr_sample *s,
					double step, struct hr_sample *d);

#endif
