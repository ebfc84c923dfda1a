/* mem.c: the mem probe. Reports the size of memory, how much of it the
 * kernel estimates is available for new work without swapping (MemAvailable,
 * Linux >= 3.14), the part in use (total - available) and swap size and use,
 * in bytes, from /proc/meminfo. One sample, instance "". Values the kernel
 * does not report (MemAvailable on old kernels) are left out, not estimated.
 * Format: Documentation/filesystems/proc.rst, "meminfo". */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cfg.h"
#include "log.h"
#include "mem.h"
#include "util.h"

#define MEM_MEMINFO_CAP (256u << 10)

struct mem_state {
	const char *root;
	struct hr_complain meminfo; /* unreadable or garbled */
	struct hr_complain missing; /* fields a kernel always prints are absent */
	struct hr_complain odd_mem;  /* MemAvailable > MemTotal */
	struct hr_complain odd_swap; /* SwapFree > SwapTotal */
};

static const char *const mem_allowed[] = { "interval", NULL };

/* The "Key: N kB" lines we use. */
enum { MEM_KEY_TOTAL, MEM_KEY_AVAILABLE, MEM_KEY_SWAP_TOTAL, MEM_KEY_SWAP_FREE, MEM_NKEYS };
static const struct {
	const char *key;
	unsigned bit;
} mem_keys[MEM_NKEYS] = {
	[MEM_KEY_TOTAL] = { "MemTotal", MEM_HAVE_TOTAL },
	[MEM_KEY_AVAILABLE] = { "MemAvailable", MEM_HAVE_AVAILABLE },
	[MEM_KEY_SWAP_TOTAL] = { "SwapTotal", MEM_HAVE_SWAP_TOTAL },
	[MEM_KEY_SWAP_FREE] = { "SwapFree", MEM_HAVE_SWAP_FREE },
};

/* Parses the numbers of a legacy table row ("Mem:  total used free ...",
 * bytes) into v; returns how many leading fields were numbers. */
static size_t mem_table_row(const char *s, size_t len, uint64_t *v, size_t n)
{
	struct hr_fields it;
	const char *f;
	size_t flen, i;

	hr_fields_init(&it, s, len);
	for (i = 0; i < n && hr_fields_next(&it, &f, &flen); i++)
		if (hr_parse_u64(f, flen, &v[i]) < 0)
			break;
	return i;
}

int mem_parse_meminfo(const char *buf, size_t len, struct mem_info *out, struct hr_err *err)
{
	uint64_t *dst[MEM_NKEYS] = {
		[MEM_KEY_TOTAL] = &out->total,
		[MEM_KEY_AVAILABLE] = &out->available,
		[MEM_KEY_SWAP_TOTAL] = &out->swap_total,
		[MEM_KEY_SWAP_FREE] = &out->swap_free,
	};
	uint64_t tmem[1], tswap[3];
	size_t nmem = 0, nswap = 0;
	struct hr_lines it;
	const char *line;
	size_t llen, i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	hr_lines_init(&it, buf, len);
	while (hr_lines_next(&it, &line, &llen)) {
		const char *colon = memchr(line, ':', llen);
		const char *rest, *f;
		size_t klen, rlen, flen;
		struct hr_fields fit;
		uint64_t kb;

		if (colon == NULL)
			continue;
		klen = (size_t)(colon - line);
		rest = colon + 1;
		rlen = llen - klen - 1;
		/* Linux 2.4 starts with a table in bytes:
		 *         total:    used:    free:  shared: buffers:  cached:
		 * Mem:  260579328 136073216 124506112 0 4915200 94064640
		 * Swap:        0        0        0
		 * The header line matches no key and falls through. */
		if (hr_field_eq(line, klen, "Mem")) {
			nmem = mem_table_row(rest, rlen, tmem, 1);
			continue;
		}
		if (hr_field_eq(line, klen, "Swap")) {
			nswap = mem_table_row(rest, rlen, tswap, 3);
			continue;
		}
		for (i = 0; i < MEM_NKEYS; i++)
			if (hr_field_eq(line, klen, mem_keys[i].key))
				break;
		/* Unused keys, and repeats of a key (the first one counts). */
		if (i == MEM_NKEYS || (out->have & mem_keys[i].bit))
			continue;
		/* The kernel prints these in kB (KiB) and nothing else. */
		hr_fields_init(&fit, rest, rlen);
		if (!hr_fields_next(&fit, &f, &flen) || hr_parse_u64(f, flen, &kb) < 0 ||
		    kb > UINT64_MAX / 1024 || !hr_fields_next(&fit, &f, &flen) ||
		    !hr_field_eq(f, flen, "kB") || hr_fields_next(&fit, &f, &flen)) {
			hr_err_set(err, "line %u: cannot parse %s \"%.*s\"", it.lineno, mem_keys[i].key,
				   (int)(rlen > 40 ? 40 : rlen), rest);
			rc = -1;
			continue;
		}
		*dst[i] = kb * 1024;
		out->have |= mem_keys[i].bit;
	}
	if (!(out->have & MEM_HAVE_TOTAL) && nmem >= 1) {
		out->total = tmem[0];
		out->have |= MEM_HAVE_TOTAL;
	}
	if (!(out->have & (MEM_HAVE_SWAP_TOTAL | MEM_HAVE_SWAP_FREE)) && nswap >= 3) {
		out->swap_total = tswap[0];
		out->swap_free = tswap[2];
		out->have |= MEM_HAVE_SWAP_TOTAL | MEM_HAVE_SWAP_FREE;
	}
	return rc;
}

static int mem_setup(const struct probe_env *env, const cJSON *cfg, const char *path,
		     void **state, struct hr_errs *errs)
{
	struct mem_state *st;

	if (hr_cfg_object(cfg, path, mem_allowed, errs) < 0)
		return -1;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		hr_errs_add(errs, path, "out of memory");
		return -1;
	}
	st->root = env->root;
	*state = st;
	return 0;
}

/* Logs which of the fields every kernel prints are absent (MemAvailable is
 * not one: kernels before 3.14 lack it, and that is no fault). */
static void mem_check_missing(struct mem_state *st, unsigned have)
{
	char list[64] = "";
	size_t n = 0;

	if (!(have & MEM_HAVE_TOTAL))
		n += hr_strlcpy(list + n, " MemTotal", sizeof(list) - n);
	if (!(have & MEM_HAVE_SWAP_TOTAL))
		n += hr_strlcpy(list + n, " SwapTotal", sizeof(list) - n);
	if (!(have & MEM_HAVE_SWAP_FREE))
		n += hr_strlcpy(list + n, " SwapFree", sizeof(list) - n);
	if (n > 0)
		hr_complain(&st->missing, "probe mem: /proc/meminfo: missing%s", list);
	else
		hr_complain_clear(&st->missing, "probe mem: /proc/meminfo: complete again");
}

/* Sets NAME = total - unused, unless the kernel reports more unused than
 * total (seen only in broken captures): a negative "used" would be invented,
 * so it is left out and the contradiction logged once. */
static void mem_set_used(struct hr_sample *s, const char *name, uint64_t total, uint64_t unused,
			 struct hr_complain *c, const char *total_key, const char *unused_key)
{
	if (unused > total) {
		hr_complain(c, "probe mem: /proc/meminfo: %s %llu kB exceeds %s %llu kB; %s left out",
			    unused_key, (unsigned long long)(unused / 1024), total_key,
			    (unsigned long long)(total / 1024), name);
		return;
	}
	hr_complain_clear(c, "probe mem: /proc/meminfo: %s within %s again", unused_key, total_key);
	hr_sample_set(s, name, (double)(total - unused));
}

static int mem_read(void *state, struct hr_sink *sink, struct hr_err *err)
{
	struct mem_state *st = state;
	struct hr_err perr = { { 0 } };
	struct mem_info m;
	struct hr_sample s;
	char *buf = NULL;
	size_t len;
	int parsed;

	if (hr_read_file(st->root, "/proc/meminfo", &buf, &len, MEM_MEMINFO_CAP, &perr) < 0) {
		hr_complain(&st->meminfo, "probe mem: %s", perr.msg);
		return hr_err_set(err, "probe mem: %s", perr.msg);
	}
	parsed = mem_parse_meminfo(buf, len, &m, &perr);
	free(buf);
	if (parsed < 0)
		hr_complain(&st->meminfo, "probe mem: /proc/meminfo: %s", perr.msg);
	else
		hr_complain_clear(&st->meminfo, "probe mem: /proc/meminfo: readable again");
	mem_check_missing(st, m.have);
	if (m.have == 0)
		return hr_err_set(err, "probe mem: /proc/meminfo: none of MemTotal, MemAvailable, "
				  "SwapTotal, SwapFree found");

	hr_sample_init(&s, "mem", "");
	if (m.have & MEM_HAVE_TOTAL)
		hr_sample_set(&s, "total", (double)m.total);
	if (m.have & MEM_HAVE_AVAILABLE)
		hr_sample_set(&s, "available", (double)m.available);
	if ((m.have & MEM_HAVE_TOTAL) && (m.have & MEM_HAVE_AVAILABLE))
		mem_set_used(&s, "used", m.total, m.available, &st->odd_mem, "MemTotal",
			     "MemAvailable");
	if (m.have & MEM_HAVE_SWAP_TOTAL)
		hr_sample_set(&s, "swap_total", (double)m.swap_total);
	if ((m.have & MEM_HAVE_SWAP_TOTAL) && (m.have & MEM_HAVE_SWAP_FREE))
		mem_set_used(&s, "swap_used", m.swap_total, m.swap_free, &st->odd_swap, "SwapTotal",
			     "SwapFree");
	hr_sink_put(sink, &s);
	return 0;
}

static void mem_teardown(void *state)
{
	free(state);
}

const struct probe probe_mem = {
	.name = "mem",
	.core = 1,
	.setup = mem_setup,
	.read = mem_read,
	.teardown = mem_teardown,
};
