/* delivery.c: the persistent per-receiver queue (see delivery.h).
 *
 * One thread per receiver rather than one curl multi loop: exec and SMTP
 * block anyway, a receiver's strict order means it never has more than one
 * request in flight, and receivers are few (a handful per central), so a
 * thread each is the simplest way to keep a dead receiver (a 30 s timeout
 * per attempt) from delaying the others. All threads share one SQLite
 * connection under one lock; the lock is never held while sending. A new
 * row wakes the threads through a condition variable, so a notification
 * leaves within milliseconds of being queued. */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <sqlite3.h>

#include "delivery.h"
#include "log.h"
#include "notify.h"
#include "util.h"

/* A sleeping worker looks again at least this often: max_age expiry and a
 * row whose wake-up was missed are then handled without an enqueue. */
#define IDLE_RECHECK 60.0

struct receiver {
	struct delivery *d;
	struct notifier *nf;
	pthread_t thread;
	int started;
	unsigned seed;              /* rand_r state of the jitter */
	struct hr_complain failing; /* "retrying" logged once per reason */
};

struct delivery {
	sqlite3 *db;
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* CLOCK_MONOTONIC */
	unsigned long gen;          /* bumped by every enqueue */
	int stop;
	struct notifier *nfs;
	size_t n;
	struct receiver *rcv;
	struct hr_complain bad_route;
	int curl_ready;             /* curl_global_init done: cleanup at close */
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS delivery_queue ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT," /* never reused: the order */
	" receiver TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" created REAL NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_try REAL NOT NULL,"
	" last_error TEXT);"
	"CREATE INDEX IF NOT EXISTS delivery_queue_receiver ON delivery_queue(receiver, id);";

double delivery_backoff(unsigned attempts, double retry_max, double u)
{
	double cap = attempts >= 30 ? retry_max : ldexp(1.0, (int)attempts);

	if (cap > retry_max)
		cap = retry_max;
	if (cap < 1)
		cap = 1;
	if (u < 0)
		u = 0;
	if (u > 1)
		u = 1;
	return 1 + u * (cap - 1);
}

static int db_exec(sqlite3 *db, const char *sql, struct hr_err *err)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		hr_err_set(err, "delivery: %s", msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static struct receiver *find_receiver(struct delivery *d, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strlen(d->nfs[i].name) == len && memcmp(d->nfs[i].name, name, len) == 0)
			return &d->rcv[i];
	return NULL;
}

/* Logs the receivers that have rows but no config any more, once. */
static void log_orphans(struct delivery *d)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(d->db, "SELECT receiver, COUNT(*) FROM delivery_queue"
			       " GROUP BY receiver", -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name != NULL && find_receiver(d, name, strlen(name)) == NULL)
			hr_log_warnx("delivery: %d notifications queued for receiver \"%s\", which is"
				     " not configured: kept until it is again",
				     sqlite3_column_int(st, 1), name);
	}
	sqlite3_finalize(st);
}

struct delivery *delivery_open(const char *db_path, const cJSON *notify_arr, struct hr_err *err)
{
	struct delivery *d = calloc(1, sizeof(*d));
	struct hr_errs errs;
	pthread_condattr_t ca;
	size_t i;

	if (d == NULL) {
		hr_err_set(err, "delivery: out of memory");
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* libcurl 7.88's global init is not thread-safe: done here, at start-up,
	 * rather than implicitly by the first worker's curl_easy_init. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		hr_err_set(err, "delivery: cannot initialise libcurl");
		goto fail;
	}
	d->curl_ready = 1;
	hr_errs_init(&errs);
	d->nfs = notify_build(notify_arr, "notify", &d->n, &errs);
	if (hr_errs_any(&errs)) {
		hr_err_set(err, "delivery: %s%s", errs.count > 0 ? errs.items[0] : "bad config",
			   errs.count + errs.dropped > 1 ? " (and more problems)" : "");
		hr_errs_free(&errs);
		goto fail;
	}
	hr_errs_free(&errs);
	d->rcv = calloc(d->n > 0 ? d->n : 1, sizeof(*d->rcv));
	if (d->rcv == NULL) {
		hr_err_set(err, "delivery: out of memory");
		goto fail;
	}
	for (i = 0; i < d->n; i++) {
		d->rcv[i].d = d;
		d->rcv[i].nf = &d->nfs[i];
		if (getrandom(&d->rcv[i].seed, sizeof(d->rcv[i].seed), GRND_NONBLOCK) < 0)
			d->rcv[i].seed = (unsigned)(hr_now_mono() * 1e6) + (unsigned)i;
	}
	if (sqlite3_open_v2(db_path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		hr_err_set(err, "delivery: %s: %s", db_path,
			   d->db != NULL ? sqlite3_errmsg(d->db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(d->db, 5000);
	/* WAL with synchronous FULL: a committed row survives a power cut. */
	if (db_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", err) < 0 ||
	    db_exec(d->db, schema, err) < 0)
		goto fail;
	log_orphans(d);
	return d;
fail:
	delivery_close(d);
	return NULL;
}

/* Sets payload's "receiver" to name: a new text (caller frees with free()),
 * or NULL when payload is not a JSON object (it is queued as it is then,
 * and the notifier drops it with a log line). */
static char *with_receiver(const cJSON *doc, const char *name)
{
	cJSON *copy = cJSON_Duplicate(doc, 1);
	char *out = NULL;

	if (copy == NULL)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "receiver");
	if (cJSON_AddStringToObject(copy, "receiver", name) != NULL)
		out = cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	return out;
}

/* Does route select receiver r? Unknown names are complained about. */
static int route_selects(const char *route, const struct receiver *r)
{
	const char *p = route;

	if (route[0] == '\0')
		return 1;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		size_t l = len;

		while (l > 0 && (*s == ' ' || *s == '\t'))
			s++, l--;
		while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		if (l == strlen(r->nf->name) && memcmp(s, r->nf->name, l) == 0)
			return 1;
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* Complains once about names in route that no receiver has. */
static void check_route(struct delivery *d, const char *route)
{
	const char *p = route;

	if (route[0] == '\0' || strcmp(route, "none") == 0)
		return;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		size_t l = len;

		while (l > 0 && (*s == ' ' || *s == '\t'))
			s++, l--;
		while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		if (l > 0 && find_receiver(d, s, l) == NULL) {
			char name[NOTIFY_NAME_MAX];

			hr_printable(name, sizeof(name), s, l);
			hr_complain(&d->bad_route, "delivery: route \"%s\" names receiver \"%s\","
				    " which is not configured", route, name);
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

int delivery_route_at(struct delivery *d, const char *route, enum alert_severity severity,
		      const char *payload_json, double now, struct hr_err *err)
{
	cJSON *doc = cJSON_Parse(payload_json);
	sqlite3_stmt *st = NULL;
	size_t i, queued = 0;
	int ret = -1;

	if (strcmp(route, "none") == 0 || d->n == 0) {
		cJSON_Delete(doc);
		return 0;
	}
	pthread_mutex_lock(&d->lock);
	check_route(d, route);
	if (db_exec(d->db, "BEGIN IMMEDIATE", err) < 0)
		goto out;
	if (sqlite3_prepare_v2(d->db, "INSERT INTO delivery_queue (receiver, payload, created,"
			       " next_try) VALUES (?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
		hr_err_set(err, "delivery: %s", sqlite3_errmsg(d->db));
		goto rollback;
	}
	for (i = 0; i < d->n; i++) {
		struct receiver *r = &d->rcv[i];
		char *text;
		int rc;

		if (severity < r->nf->min_severity || !route_selects(route, r))
			continue;
		text = cJSON_IsObject(doc) ? with_receiver(doc, r->nf->name) : NULL;
		if (text == NULL && cJSON_IsObject(doc)) {
			hr_err_set(err, "delivery: out of memory");
			goto rollback;
		}
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, r->nf->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, text != NULL ? text : payload_json, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 3, now);
		sqlite3_bind_double(st, 4, now);
		rc = sqlite3_step(st);
		free(text);
		if (rc != SQLITE_DONE) {
			hr_err_set(err, "delivery: %s", sqlite3_errmsg(d->db));
			goto rollback;
		}
		queued++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (db_exec(d->db, "COMMIT", err) < 0)
		goto rollback;
	ret = 0;
	if (queued > 0) {
		d->gen++;
		pthread_cond_broadcast(&d->wake);
	}
	goto out;
rollback:
	sqlite3_finalize(st);
	sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
out:
	pthread_mutex_unlock(&d->lock);
	cJSON_Delete(doc);
	return ret;
}

int delivery_route(struct delivery *d, const char *route, enum alert_severity severity,
		   const char *payload_json, struct hr_err *err)
{
	return delivery_route_at(d, route, severity, payload_json, hr_now_wall(), err);
}

int delivery_send(void *d, const char *route, enum alert_severity severity,
		  const char *payload_json, struct hr_err *err)
{
	return delivery_route(d, route, severity, payload_json, err);
}

/* Drops the rows of r older than its max_age, with one line counting them.
 * Under the lock. */
static void expire(struct delivery *d, struct receiver *r, double now)
{
	sqlite3_stmt *st;
	int n;

	if (sqlite3_prepare_v2(d->db, "DELETE FROM delivery_queue WHERE receiver = ?"
			       " AND created < ?", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, r->nf->name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, now - r->nf->max_age);
	if (sqlite3_step(st) == SQLITE_DONE && (n = sqlite3_changes(d->db)) > 0)
		hr_log_err("notify %s: dropped %d notifications older than max_age %g s,"
			   " undelivered", r->nf->name, n, r->nf->max_age);
	sqlite3_finalize(st);
}

struct head {
	sqlite3_int64 id;
	char *payload;
	double created, next_try;
	int attempts;
};

/* The oldest row of r into h (h->payload: caller frees). 1, 0 when none,
 * -1 on a database error. Under the lock. */
static int load_head(struct delivery *d, struct receiver *r, struct head *h)
{
	sqlite3_stmt *st;
	int rc, ret = -1;

	memset(h, 0, sizeof(*h));
	if (sqlite3_prepare_v2(d->db, "SELECT id, payload, created, next_try, attempts FROM"
			       " delivery_queue WHERE receiver = ? ORDER BY id LIMIT 1", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, r->nf->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		ret = 0;
	} else if (rc == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 1);

		h->id = sqlite3_column_int64(st, 0);
		h->payload = strdup(p != NULL ? p : "");
		h->created = sqlite3_column_double(st, 2);
		h->next_try = sqlite3_column_double(st, 3);
		h->attempts = sqlite3_column_int(st, 4);
		ret = h->payload != NULL ? 1 : -1;
	}
	sqlite3_finalize(st);
	return ret;
}

/* Records the outcome of sending h. Under the lock. */
static void settle(struct delivery *d, struct receiver *r, const struct head *h, int result,
		   const char *why, double now)
{
	sqlite3_stmt *st;
	const char *sql = result == NOTIFY_RETRY
		? "UPDATE delivery_queue SET attempts = ?, next_try = ?, last_error = ? WHERE id = ?"
		: "DELETE FROM delivery_queue WHERE id = ?";

	if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK) {
		hr_log_warnx("notify %s: %s", r->nf->name, sqlite3_errmsg(d->db));
		return;
	}
	if (result == NOTIFY_RETRY) {
		double u = (double)rand_r(&r->seed) / ((double)RAND_MAX + 1.0);
		unsigned attempts = (unsigned)h->attempts + 1;

		sqlite3_bind_int(st, 1, (int)attempts);
		sqlite3_bind_double(st, 2, now + delivery_backoff(attempts, r->nf->retry_max, u));
		sqlite3_bind_text(st, 3, why, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, h->id);
	} else {
		sqlite3_bind_int64(st, 1, h->id);
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		hr_log_warnx("notify %s: %s", r->nf->name, sqlite3_errmsg(d->db));
	sqlite3_finalize(st);
	if (result == NOTIFY_RETRY) {
		hr_complain(&r->failing, "notify %s: cannot deliver, retrying: %s", r->nf->name,
			    why);
	} else if (result == NOTIFY_DROP) {
		/* For the audit trail: what was lost, and why. */
		hr_log_err("notify %s: notification %lld (queued at %.0f) refused, dropped: %s",
			   r->nf->name, (long long)h->id, h->created, why);
	} else {
		hr_complain_clear(&r->failing, "notify %s: delivering again", r->nf->name);
	}
}

/* One attempt on r's oldest row when due at now. Returns 1 when the row left
 * the queue (try the next at once), 0 otherwise with *next_at the time it is
 * due (INFINITY: the queue is empty; now after a failed attempt, whose
 * backoff is in the row). */
static int step(struct delivery *d, struct receiver *r, double now, double *next_at)
{
	struct hr_err err = { "" };
	struct head h;
	int rc;

	*next_at = INFINITY;
	pthread_mutex_lock(&d->lock);
	expire(d, r, now);
	rc = load_head(d, r, &h);
	pthread_mutex_unlock(&d->lock);
	if (rc <= 0) {
		if (rc < 0)
			*next_at = now + 1;
		free(h.payload);
		return 0;
	}
	if (h.next_try > now) {
		*next_at = h.next_try;
		free(h.payload);
		return 0;
	}
	rc = notify_send(r->nf, h.payload, &err);
	pthread_mutex_lock(&d->lock);
	settle(d, r, &h, rc, err.msg, now);
	pthread_mutex_unlock(&d->lock);
	free(h.payload);
	if (rc == NOTIFY_RETRY) {
		*next_at = now; /* settle's backoff is read back on the next step */
		return 0;
	}
	return 1;
}

int delivery_run_once(struct delivery *d, double now)
{
	size_t i;
	int done = 0;
	double next;

	for (i = 0; i < d->n; i++)
		while (step(d, &d->rcv[i], now, &next) == 1)
			done++;
	return done;
}

int delivery_pending(struct delivery *d, const char *receiver)
{
	sqlite3_stmt *st;
	int n = -1;

	pthread_mutex_lock(&d->lock);
	if (sqlite3_prepare_v2(d->db, receiver != NULL
			       ? "SELECT COUNT(*) FROM delivery_queue WHERE receiver = ?"
			       : "SELECT COUNT(*) FROM delivery_queue", -1, &st, NULL) == SQLITE_OK) {
		if (receiver != NULL)
			sqlite3_bind_text(st, 1, receiver, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

static void *worker(void *arg)
{
	struct receiver *r = arg;
	struct delivery *d = r->d;

	pthread_mutex_lock(&d->lock);
	while (!d->stop) {
		unsigned long seen = d->gen;
		double next, wait;
		struct timespec ts;

		pthread_mutex_unlock(&d->lock);
		if (step(d, r, hr_now_wall(), &next) == 1) {
			pthread_mutex_lock(&d->lock);
			continue;
		}
		if (next <= hr_now_wall()) {
			/* A retry was just scheduled: read its time back. */
			pthread_mutex_lock(&d->lock);
			{
				struct head h;

				if (load_head(d, r, &h) == 1)
					next = h.next_try;
				free(h.payload);
			}
		} else {
			pthread_mutex_lock(&d->lock);
		}
		if (d->stop || d->gen != seen)
			continue;
		wait = next - hr_now_wall();
		if (wait > IDLE_RECHECK)
			wait = IDLE_RECHECK;
		if (wait <= 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)wait;
		ts.tv_nsec += (long)((wait - floor(wait)) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int delivery_start(struct delivery *d, struct hr_err *err)
{
	size_t i;
	int rc;

	for (i = 0; i < d->n; i++) {
		rc = pthread_create(&d->rcv[i].thread, NULL, worker, &d->rcv[i]);
		if (rc != 0) {
			hr_err_errno(err, rc, "delivery: cannot start a worker");
			return -1;
		}
		d->rcv[i].started = 1;
	}
	return 0;
}

void delivery_close(struct delivery *d)
{
	size_t i;

	if (d == NULL)
		return;
	pthread_mutex_lock(&d->lock);
	d->stop = 1;
	pthread_cond_broadcast(&d->wake);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; d->rcv != NULL && i < d->n; i++)
		if (d->rcv[i].started)
			pthread_join(d->rcv[i].thread, NULL);
	sqlite3_close(d->db);
	notify_free(d->nfs, d->n);
	free(d->rcv);
	pthread_cond_destroy(&d->wake);
	pthread_mutex_destroy(&d->lock);
	if (d->curl_ready)
		curl_global_cleanup();
	free(d);
}
