/* analyzer_derive.c: the analyzer's instance table (a hash of host, probe
 * and instance) and the sample the rules see: counters turned into rates,
 * cpu busy and disk util derived from them. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "analyzer.h"
#include "analyzer_int.h"
#include "schema.h"
#include "util.h"

/* --- the instance table --------------------------------------------------- */

uint64_t analyzer_inst_hash(const char *host, const char *probe, const char *instance)
{
	return analyzer_fnv_str(analyzer_fnv_str(analyzer_fnv_str(FNV0, host), probe), instance);
}

static struct inst *inst_find(struct analyzer *an, uint64_t h, const char *host,
			      const char *probe, const char *instance)
{
	struct inst *in;

	for (in = an->tab[h & (an->tabsize - 1)]; in != NULL; in = in->next)
		if (in->h == h && strcmp(in->host, host) == 0 && strcmp(in->probe, probe) == 0 &&
		    strcmp(in->instance, instance) == 0)
			return in;
	return NULL;
}

static void table_grow(struct analyzer *an)
{
	size_t n = an->tabsize * 2, i;
	struct inst **t = calloc(n, sizeof(*t));

	if (t == NULL)
		return; /* longer chains, still correct */
	for (i = 0; i < an->tabsize; i++) {
		struct inst *in = an->tab[i], *next;

		for (; in != NULL; in = next) {
			next = in->next;
			in->next = t[in->h & (n - 1)];
			t[in->h & (n - 1)] = in;
		}
	}
	free(an->tab);
	an->tab = t;
	an->tabsize = n;
}

struct inst *analyzer_inst_get(struct analyzer *an, uint64_t h, const char *host,
			       const char *probe, const char *instance)
{
	struct inst *in = inst_find(an, h, host, probe, instance);
	size_t lh, lp, li;

	if (in != NULL)
		return in;
	lh = strlen(host);
	lp = strlen(probe);
	li = strlen(instance);
	in = calloc(1, sizeof(*in));
	if (in == NULL || (in->key = malloc(lh + lp + li + 3)) == NULL) {
		free(in);
		return NULL;
	}
	memcpy(in->key, host, lh + 1);
	memcpy(in->key + lh + 1, probe, lp + 1);
	memcpy(in->key + lh + lp + 2, instance, li + 1);
	in->host = in->key;
	in->probe = in->key + lh + 1;
	in->instance = in->key + lh + lp + 2;
	in->keylen = lh + lp + li + 3;
	in->h = h;
	analyzer_inst_load(an, in);
	in->dirty = 0;
	in->next = an->tab[h & (an->tabsize - 1)];
	an->tab[h & (an->tabsize - 1)] = in;
	if (++an->ninst > an->tabsize)
		table_grow(an);
	return in;
}

uint64_t analyzer_labels_sig(const struct hr_sample *s)
{
	uint64_t h = FNV0;
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		h = analyzer_fnv_str(analyzer_fnv_str(h, s->labels[i].name), s->labels[i].value);
	return h;
}

/* --- derivation ----------------------------------------------------------- */

static const struct counter *counter_find(const struct inst *in, size_t hint, const char *name)
{
	size_t i;

	if (hint < in->ncnt && strcmp(in->cnt[hint].name, name) == 0)
		return &in->cnt[hint];
	for (i = 0; i < in->ncnt; i++)
		if (strcmp(in->cnt[i].name, name) == 0)
			return &in->cnt[i];
	return NULL;
}

/* Is value i of s a counter? Instances keep their value names from one
 * sample to the next, so the answer is remembered by position. */
static int is_counter(struct inst *in, const struct hr_sample *s, size_t i)
{
	const char *name = s->values[i].name;
	size_t j;

	if (i < in->nkind && strcmp(in->kind[i].name, name) == 0)
		return in->kind[i].counter;
	if (in->nkind != s->nvalues) {
		struct kind_memo *k = realloc(in->kind, s->nvalues * sizeof(*k));

		if (k == NULL)
			return hr_schema_kind(s->probe, name) == HR_COUNTER;
		in->kind = k;
		in->nkind = s->nvalues;
	}
	for (j = 0; j < s->nvalues; j++) {
		hr_strlcpy(in->kind[j].name, s->values[j].name, sizeof(in->kind[j].name));
		in->kind[j].counter = hr_schema_kind(s->probe, s->values[j].name) == HR_COUNTER;
	}
	return in->kind[i].counter;
}

static int is_cpu_idle(const char *name)
{
	return strcmp(name, "idle") == 0 || strcmp(name, "iowait") == 0;
}

/* Builds the sample the rules see into d (see analyzer.h) and remembers
 * s's counters in in. Returns d, or s itself when it has no counters. */
const struct hr_sample *analyzer_derive(struct inst *in, const struct hr_sample *s,
					double step, struct hr_sample *d)
{
	struct counter cur[HR_SAMPLE_VALUES];
	double dt = (double)s->t - in->t, idle = 0, total = 0;
	int have_prev = in->t > 0 && dt > 0 && dt <= 2 * step, cpu_ok = 1;
	int is_cpu = strcmp(s->probe, "cpu") == 0, is_disk = strcmp(s->probe, "disk") == 0;
	size_t i, nc = 0, ncpu = 0;

	for (i = 0; i < s->nvalues; i++)
		if (is_counter(in, s, i))
			break;
	if (i == s->nvalues) {
		if (in->ncnt > 0) {
			free(in->cnt);
			in->cnt = NULL;
			in->ncnt = 0;
		}
		in->t = (double)s->t;
		return s;
	}
	*d = *s;
	d->nvalues = 0;
	for (i = 0; i < s->nvalues; i++) {
		const struct hr_value *v = &s->values[i];
		const struct counter *prev;
		double rate;

		if (!is_counter(in, s, i)) {
			d->values[d->nvalues++] = *v;
			continue;
		}
		/* Zeroed past the name and in the padding: the bytes are
		 * saved as they are. */
		memset(&cur[nc], 0, sizeof(cur[nc]));
		hr_strlcpy(cur[nc].name, v->name, sizeof(cur[nc].name));
		cur[nc].v = v->v;
		prev = have_prev ? counter_find(in, nc, v->name) : NULL;
		nc++;
		if (prev == NULL || v->v < prev->v) {
			if (is_cpu)
				cpu_ok = 0;
			continue;
		}
		rate = (v->v - prev->v) / dt;
		d->values[d->nvalues].v = rate;
		memcpy(d->values[d->nvalues].name, v->name, sizeof(v->name));
		d->nvalues++;
		if (is_cpu) {
			total += rate;
			ncpu++;
			if (is_cpu_idle(v->name))
				idle += rate;
		}
		if (is_disk && strcmp(v->name, "io_ms") == 0)
			hr_sample_set(d, "util", rate / 10 > 100 ? 100 : rate / 10);
	}
	if (is_cpu && cpu_ok && ncpu > 0 && total > 0)
		hr_sample_set(d, "busy", 100 * (1 - idle / total));
	if (nc != in->ncnt) {
		struct counter *c = realloc(in->cnt, nc * sizeof(*c));

		if (c == NULL) { /* no rates next time, rather than wrong ones */
			in->t = 0;
			return d;
		}
		in->cnt = c;
		in->ncnt = nc;
	}
	memcpy(in->cnt, cur, nc * sizeof(*cur));
	in->t = (double)s->t;
	in->dirty = 1;
	return d;
}
