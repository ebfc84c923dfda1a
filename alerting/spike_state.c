/* spike_state.c: spike_save and spike_load (spike.h), the detector's
 * versioned, checksummed state blob. A load checks every field and derives
 * again what can be derived, so that a blob can only describe a state that
 * spike_update could have made. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spike_int.h"

#define SPIKE_MAGIC "HRSPIKE"
#define SPIKE_VERSION 1u

/* --- saving and loading --------------------------------------------------- */

/* The blob: "HRSPIKE\0", version (u32), body length (u32), body, FNV-1a 64
 * of everything before it (u64); all little-endian, doubles as IEEE 754
 * bits. The body holds the parameters, the step and the learnt state; what
 * can be derived (sizes, the sorted window) is derived again on load, so a
 * blob can only describe a state that spike_update could have made. */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	int failed;
};

static void put_bytes(struct wbuf *w, const void *src, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		uint8_t *np;

		while (cap < w->len + n)
			cap *= 2;
		np = realloc(w->p, cap);
		if (np == NULL) {
			w->failed = 1;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u64(struct wbuf *w, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, 8);
}

static void put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, 4);
}

static void put_f64(struct wbuf *w, double v)
{
	uint64_t u;

	memcpy(&u, &v, 8);
	put_u64(w, u);
}

static void put_f32(struct wbuf *w, float v)
{
	uint32_t u;

	memcpy(&u, &v, 4);
	put_u32(w, u);
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void put_params(struct wbuf *w, const struct spike_params *p)
{
	put_f64(w, p->roll_window);
	put_f64(w, p->warmup);
	put_f64(w, p->refractory);
	put_f64(w, p->resolve_after);
	put_f64(w, p->gap_reset);
	put_f64(w, p->long_span);
	put_u32(w, (uint32_t)p->short_n);
	put_u32(w, (uint32_t)p->season_days);
	put_u32(w, (uint32_t)p->weekly);
	put_f64(w, p->z_min);
	put_f64(w, p->z_clip);
	put_f64(w, p->tail);
	put_f64(w, p->quantum_mult);
	put_f64(w, p->rel_floor);
	put_u32(w, (uint32_t)p->dir);
}

static void put_roll(struct wbuf *w, const struct rollwin *r)
{
	uint32_t i;

	put_u32(w, r->n);
	for (i = 0; i < r->n; i++)
		put_f64(w, r->fifo[(r->head + i) % r->cap]);
}

int spike_save(const struct spike *s, uint8_t **buf, size_t *len, struct hr_err *err)
{
	struct wbuf w = { NULL, 0, 0, 0 };
	uint32_t i;

	put_bytes(&w, SPIKE_MAGIC, 8);
	put_u32(&w, SPIKE_VERSION);
	put_u32(&w, 0); /* body length, filled in below */
	put_params(&w, &s->p);
	put_f64(&w, s->step);
	put_u32(&w, (uint32_t)s->have_last);
	put_u64(&w, (uint64_t)s->last_k);
	put_u64(&w, s->seen);
	put_u32(&w, s->ring_len);
	for (i = 0; i < s->ring_len; i++)
		put_f32(&w, s->ring[i]);
	put_roll(&w, &s->raw);
	put_roll(&w, &s->res);
	put_f64(&w, s->quantum);
	put_f64(&w, s->last_v);
	put_u32(&w, (uint32_t)s->have_v);
	put_u32(&w, s->short_cnt);
	for (i = 0; i < s->short_cnt; i++)
		put_f64(&w, s->shortv[(s->short_head + i) % SHORT_MAX]);
	for (i = 0; i < NHIST * HBINS; i++)
		put_f64(&w, s->hist[i / HBINS][i % HBINS]);
	for (i = 0; i < NHIST; i++)
		put_f64(&w, s->htotal[i]);
	put_f64(&w, s->inc);
	put_u32(&w, (uint32_t)s->day_mode);
	put_u64(&w, s->long_n);
	put_u32(&w, (uint32_t)s->in_episode);
	put_u32(&w, (uint32_t)s->has_alert);
	put_u64(&w, (uint64_t)s->last_alert_k);
	put_u64(&w, s->normal_run);
	if (!w.failed) {
		uint32_t body = (uint32_t)(w.len - 16);
		int b;

		for (b = 0; b < 4; b++)
			w.p[12 + b] = (uint8_t)(body >> (8 * b));
		put_u64(&w, fnv1a(w.p, w.len));
	}
	if (w.failed) {
		free(w.p);
		return hr_err_set(err, "out of memory");
	}
	*buf = w.p;
	*len = w.len;
	return 0;
}

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int short_read;
};

static uint64_t get_u64(struct rbuf *r)
{
	uint64_t v = 0;
	int i;

	if (r->len - r->off < 8) {
		r->short_read = 1;
		r->off = r->len;
		return 0;
	}
	for (i = 7; i >= 0; i--)
		v = v << 8 | r->p[r->off + (size_t)i];
	r->off += 8;
	return v;
}

static uint32_t get_u32(struct rbuf *r)
{
	uint32_t v = 0;
	int i;

	if (r->len - r->off < 4) {
		r->short_read = 1;
		r->off = r->len;
		return 0;
	}
	for (i = 3; i >= 0; i--)
		v = v << 8 | r->p[r->off + (size_t)i];
	r->off += 4;
	return v;
}

static double get_f64(struct rbuf *r)
{
	uint64_t u = get_u64(r);
	double v;

	memcpy(&v, &u, 8);
	return v;
}

static float get_f32(struct rbuf *r)
{
	uint32_t u = get_u32(r);
	float v;

	memcpy(&v, &u, 4);
	return v;
}

/* A u32 that should be a small int; -1 (refused by the checks) when not. */
static int get_int(struct rbuf *r)
{
	uint32_t v = get_u32(r);

	return v > 0xffff ? -1 : (int)v;
}

static void get_params(struct rbuf *r, struct spike_params *p)
{
	p->roll_window = get_f64(r);
	p->warmup = get_f64(r);
	p->refractory = get_f64(r);
	p->resolve_after = get_f64(r);
	p->gap_reset = get_f64(r);
	p->long_span = get_f64(r);
	p->short_n = get_int(r);
	p->season_days = get_int(r);
	p->weekly = get_int(r);
	p->z_min = get_f64(r);
	p->z_clip = get_f64(r);
	p->tail = get_f64(r);
	p->quantum_mult = get_f64(r);
	p->rel_floor = get_f64(r);
	p->dir = (enum spike_dir)get_int(r);
}

static int get_roll(struct rbuf *r, struct rollwin *w, struct hr_err *err)
{
	uint32_t i, n = get_u32(r);

	if (n > w->cap)
		return hr_err_set(err, "rolling window of %u values, at most %u", n, w->cap);
	for (i = 0; i < n && !r->short_read; i++) {
		double x = get_f64(r);

		if (!isfinite(x))
			return hr_err_set(err, "rolling window: not a finite number");
		spike_roll_push(w, x);
	}
	return 0;
}

/* The body after the parameters and the step, into s (sized already). */
static int get_state(struct rbuf *r, struct spike *s, struct hr_err *err)
{
	uint32_t i, n, flag;

	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->have_last = (int)flag;
	s->last_k = (int64_t)get_u64(r);
	if (s->last_k > (int64_t)9e15 || s->last_k < -(int64_t)9e15)
		return hr_err_set(err, "time slot out of range");
	s->last_idx = (uint32_t)((uint64_t)s->last_k % s->ring_len);
	s->seen = get_u64(r);
	n = get_u32(r);
	if (r->short_read)
		return hr_err_set(err, "truncated");
	if (n != s->ring_len)
		return hr_err_set(err, "seasonal history of %u slots, expected %u", n, s->ring_len);
	if (r->len - r->off < (size_t)n * 4)
		return hr_err_set(err, "truncated");
	for (i = 0; i < n; i++) {
		float x = get_f32(r);

		if (isinf(x))
			return hr_err_set(err, "seasonal history: not a finite number");
		s->ring[i] = x;
	}
	if (get_roll(r, &s->raw, err) < 0 || get_roll(r, &s->res, err) < 0)
		return -1;
	s->quantum = get_f64(r);
	s->last_v = get_f64(r);
	flag = get_u32(r);
	if (!isfinite(s->quantum) || s->quantum < 0 || !isfinite(s->last_v) || flag > 1)
		return hr_err_set(err, "bad quantum or last value");
	s->have_v = (int)flag;
	n = get_u32(r);
	if (n > 4 * (uint32_t)s->p.short_n)
		return hr_err_set(err, "short average of %u scores, at most %d", n, 4 * s->p.short_n);
	for (i = 0; i < n; i++) {
		double x = get_f64(r);

		if (!isfinite(x) || x < 0 || x > spike_score_of(s->p.z_clip, s->p.z_clip))
			return hr_err_set(err, "short average: score out of range");
		s->shortv[i] = x;
	}
	s->short_head = 0;
	s->short_cnt = n;
	for (i = 0; i < NHIST * HBINS; i++) {
		double x = get_f64(r);

		if (!isfinite(x) || x < 0)
			return hr_err_set(err, "score history: bad weight");
		s->hist[i / HBINS][i % HBINS] = x;
	}
	for (i = 0; i < NHIST; i++) {
		s->htotal[i] = get_f64(r);
		if (!isfinite(s->htotal[i]) || s->htotal[i] < 0)
			return hr_err_set(err, "score history: bad totals");
	}
	s->inc = get_f64(r);
	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->day_mode = (int)flag;
	s->long_n = get_u64(r);
	if (!isfinite(s->inc) || s->inc < 1 || s->inc > 1e100)
		return hr_err_set(err, "score history: bad totals");
	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->in_episode = (int)flag;
	flag = get_u32(r);
	if (flag > 1)
		return hr_err_set(err, "bad flag");
	s->has_alert = (int)flag;
	s->last_alert_k = (int64_t)get_u64(r);
	s->normal_run = get_u64(r);
	if (r->short_read)
		return hr_err_set(err, "truncated");
	if (s->has_alert && (s->last_alert_k > s->last_k || !s->have_last ||
			     s->last_alert_k < -(int64_t)9e15))
		return hr_err_set(err, "last alert out of range");
	return 0;
}

struct spike *spike_load(const uint8_t *buf, size_t len, struct hr_err *err)
{
	struct rbuf r = { buf, 0, 16, 0 };
	struct spike_params p;
	struct spike *s;
	uint32_t version, body;
	uint64_t sum;
	double step;
	char why[HR_ERR_MAX];
	struct hr_err e2;

	if (len < 16 + 8 || memcmp(buf, SPIKE_MAGIC, 8) != 0) {
		hr_err_set(err, "spike state: not a spike state (bad magic or too short)");
		return NULL;
	}
	r.len = len;
	r.off = 8;
	version = get_u32(&r);
	body = get_u32(&r);
	if (version != SPIKE_VERSION) {
		hr_err_set(err, "spike state: version %u, this build reads %u", version, SPIKE_VERSION);
		return NULL;
	}
	if ((size_t)body != len - 16 - 8) {
		hr_err_set(err, "spike state: %zu bytes, the header says %u", len - 24, body);
		return NULL;
	}
	r.len = len - 8;
	r.off = len - 8;
	{
		struct rbuf t = { buf, len, len - 8, 0 };

		sum = get_u64(&t);
	}
	if (sum != fnv1a(buf, len - 8)) {
		hr_err_set(err, "spike state: checksum mismatch (damaged)");
		return NULL;
	}
	r.off = 16;
	get_params(&r, &p);
	step = get_f64(&r);
	if (r.short_read) {
		hr_err_set(err, "spike state: truncated");
		return NULL;
	}
	s = spike_alloc(&p, step, &e2);
	if (s == NULL) {
		hr_err_set(err, "spike state: %s", e2.msg);
		return NULL;
	}
	if (get_state(&r, s, &e2) < 0 || (r.off != r.len && hr_err_set(&e2, "trailing bytes"))) {
		snprintf(why, sizeof(why), "%s", e2.msg);
		hr_err_set(err, "spike state: %s", why);
		spike_free(s);
		return NULL;
	}
	return s;
}
