/* test_fleetgen.c: the simulated fleet of bench/fleetsim and bench/rrdraw.
 * What the load test and the ingest bench rely on: the same seed gives the
 * same samples in any program, counters never go back between any two
 * times, the names are DESIGN.md's and pass the central's decoder, and a
 * host's token hashes to the token_sha256 that --emit-hosts prints. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "fleetgen.h"
#include "schema.h"
#include "testutil.h"
#include "wire.h"

#define T_BASE 1764316800 /* 2025-11-28 08:00 UTC */

static void test_deterministic(void)
{
	struct hr_sample a[FLEETGEN_MAX_SAMPLES], b[FLEETGEN_MAX_SAMPLES];
	size_t na, nb, i;
	int differ = 0;

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	na = fleetgen_samples(7, FLEETGEN_ALL, 3, T_BASE, a);
	nb = fleetgen_samples(7, FLEETGEN_ALL, 3, T_BASE, b);
	CU_ASSERT_EQUAL(na, nb);
	CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
	/* Another seed, another host: other values. */
	memset(b, 0, sizeof(b));
	nb = fleetgen_samples(8, FLEETGEN_ALL, 3, T_BASE, b);
	for (i = 0; i < na && i < nb; i++)
		differ |= memcmp(a[i].values, b[i].values, sizeof(a[i].values)) != 0;
	CU_ASSERT(differ);
	nb = fleetgen_samples(7, FLEETGEN_ALL, 4, T_BASE, b);
	CU_ASSERT(memcmp(a[0].values, b[0].values, sizeof(a[0].values)) != 0);
}

/* Every counter of DESIGN.md's cpu, disk and net at t + d is at least its
 * value at t, for steps from 1 s to a day, over two days of many hosts. */
static void test_counters_never_go_back(void)
{
	static const time_t steps[] = { 1, 7, 60, 3600, 86400 };
	struct hr_sample a[FLEETGEN_MAX_SAMPLES], b[FLEETGEN_MAX_SAMPLES];
	unsigned long h;
	size_t i, j, k, n, counters = 0, back = 0, grew = 0;
	time_t t;

	for (h = 0; h < 40; h++) {
		for (t = T_BASE; t < T_BASE + 2 * 86400; t += 997) {
			for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
				n = fleetgen_samples(1, FLEETGEN_CPU | FLEETGEN_DISK | FLEETGEN_NET, h, t, a);
				CU_ASSERT_EQUAL(fleetgen_samples(1, FLEETGEN_CPU | FLEETGEN_DISK |
								 FLEETGEN_NET, h, t + steps[k], b), n);
				for (i = 0; i < n; i++) {
					for (j = 0; j < a[i].nvalues; j++) {
						if (hr_schema_kind(a[i].probe, a[i].values[j].name) != HR_COUNTER)
							continue;
						counters++;
						if (b[i].values[j].v < a[i].values[j].v) {
							if (back++ < 5)
								fprintf(stderr, "host %lu %s %s: %.17g at %lld, %.17g %lld s later\n",
									h, a[i].probe, a[i].values[j].name,
									a[i].values[j].v, (long long)t,
									b[i].values[j].v, (long long)steps[k]);
						}
						grew += b[i].values[j].v > a[i].values[j].v;
					}
				}
			}
		}
	}
	CU_ASSERT(counters > 10000);
	CU_ASSERT_EQUAL(back, 0);
	CU_ASSERT(grew > counters / 2);
}

static void test_profile(void)
{
	struct hr_sample s[FLEETGEN_MAX_SAMPLES];
	unsigned long h;
	size_t i, j, n;
	int ups = 0, bond = 0, degraded = 0;

	for (h = 0; h < 200; h++) {
		n = fleetgen_samples(1, FLEETGEN_ALL, h, T_BASE + (time_t)h * 60, s);
		CU_ASSERT(n >= 11 && n <= FLEETGEN_MAX_SAMPLES);
		for (i = 0; i < n; i++) {
			CU_ASSERT_EQUAL(s[i].t, T_BASE + (time_t)h * 60);
			CU_ASSERT_EQUAL(s[i].truncated, 0);
			CU_ASSERT(s[i].nvalues > 0);
			for (j = 0; j < s[i].nvalues; j++) {
				CU_ASSERT(hr_name_valid(s[i].values[j].name));
				CU_ASSERT(isfinite(s[i].values[j].v));
			}
			ups += strcmp(s[i].probe, "ups") == 0;
			bond += strcmp(s[i].probe, "bond") == 0;
			if (strcmp(s[i].probe, "md") == 0)
				degraded += sval(&s[i], "degraded") == 1;
			if (strcmp(s[i].probe, "mem") == 0)
				CU_ASSERT_DOUBLE_EQUAL(sval(&s[i], "used") + sval(&s[i], "available"),
						       sval(&s[i], "total"), 1.0);
			if (strcmp(s[i].probe, "fs") == 0) {
				CU_ASSERT(sval(&s[i], "used") <= sval(&s[i], "size"));
				CU_ASSERT_PTR_NOT_NULL(hr_sample_get_label(&s[i], "fstype"));
			}
			if (strcmp(s[i].probe, "load") == 0) {
				CU_ASSERT(sval(&s[i], "load1") >= 0);
				CU_ASSERT(sval(&s[i], "ncpu") >= 2);
			}
		}
	}
	CU_ASSERT_EQUAL(ups, 20);  /* every 10th host */
	CU_ASSERT_EQUAL(bond, 50); /* every 4th */
	CU_ASSERT(degraded > 0 && degraded < 20);
	/* A mask keeps only its probes. */
	n = fleetgen_samples(1, FLEETGEN_LOAD | FLEETGEN_FS, 0, T_BASE, s);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_STRING_EQUAL(s[0].probe, "load");
	CU_ASSERT_STRING_EQUAL(s[3].instance, "/srv");
}

/* The central's decoder takes a whole batch of a host with every probe. */
static void test_wire_round_trip(void)
{
	struct hr_sample s[3 * FLEETGEN_MAX_SAMPLES];
	struct hr_batch b;
	struct hr_err err;
	size_t n = 0;
	char *doc;
	int k;

	for (k = 0; k < 3; k++)
		n += fleetgen_samples(1, FLEETGEN_ALL, 0, T_BASE + k * 60, &s[n]);
	doc = hr_wire_encode("sim0001", 42, 60, s, n, 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	memset(&b, 0, sizeof(b));
	CU_ASSERT_EQUAL(hr_wire_decode(doc, strlen(doc), NULL, T_BASE + 3600, &b, &err), 0);
	CU_ASSERT_EQUAL(b.n, n);
	if (b.n == n) {
		CU_ASSERT_STRING_EQUAL(b.samples[n - 1].probe, s[n - 1].probe);
		CU_ASSERT_EQUAL(b.samples[1].values[0].v, s[1].values[0].v);
	}
	hr_batch_free(&b);
	free(doc);
}

static void test_tokens(void)
{
	char hex[FLEETGEN_TOKEN_HEX], hex2[FLEETGEN_TOKEN_HEX], other[FLEETGEN_TOKEN_HEX];
	unsigned char sum[32], want[32];
	size_t i;

	CU_ASSERT_EQUAL(fleetgen_token(5, "sim0001", hex, sum), 0);
	CU_ASSERT_EQUAL(strlen(hex), 64);
	for (i = 0; i < 64; i++)
		CU_ASSERT(strchr("0123456789abcdef", hex[i]) != NULL);
	/* What the central compares: SHA-256 of the token's hex text. */
	CU_ASSERT_EQUAL(gnutls_hash_fast(GNUTLS_DIG_SHA256, hex, 64, want), 0);
	CU_ASSERT(memcmp(sum, want, sizeof(sum)) == 0);
	CU_ASSERT_EQUAL(fleetgen_token(5, "sim0001", hex2, NULL), 0);
	CU_ASSERT_STRING_EQUAL(hex, hex2);
	CU_ASSERT_EQUAL(fleetgen_token(6, "sim0001", other, NULL), 0);
	CU_ASSERT_STRING_NOT_EQUAL(hex, other);
	CU_ASSERT_EQUAL(fleetgen_token(5, "sim0002", other, NULL), 0);
	CU_ASSERT_STRING_NOT_EQUAL(hex, other);
}

static void test_names_and_options(void)
{
	char name[FLEETGEN_PREFIX_MAX + 24];
	struct hr_err err;
	unsigned mask;

	fleetgen_host_name(name, sizeof(name), "sim", 0);
	CU_ASSERT_STRING_EQUAL(name, "sim0001");
	fleetgen_host_name(name, sizeof(name), "web-", 12344);
	CU_ASSERT_STRING_EQUAL(name, "web-12345");
	CU_ASSERT(hr_host_valid(name));
	CU_ASSERT(fleetgen_prefix_valid("sim"));
	CU_ASSERT(!fleetgen_prefix_valid(""));
	CU_ASSERT(!fleetgen_prefix_valid("-x"));
	CU_ASSERT(!fleetgen_prefix_valid("a.b"));
	CU_ASSERT(!fleetgen_prefix_valid("../x"));
	CU_ASSERT(!fleetgen_prefix_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 33 */

	CU_ASSERT_EQUAL(fleetgen_parse_probes("load,cpu", &mask, &err), 0);
	CU_ASSERT_EQUAL(mask, FLEETGEN_LOAD | FLEETGEN_CPU);
	CU_ASSERT_EQUAL(fleetgen_parse_probes("all", &mask, &err), 0);
	CU_ASSERT_EQUAL(mask, FLEETGEN_ALL);
	CU_ASSERT_EQUAL(fleetgen_parse_probes("md,,ups", &mask, &err), 0);
	CU_ASSERT_EQUAL(mask, FLEETGEN_MD | FLEETGEN_UPS);
	CU_ASSERT_EQUAL(fleetgen_parse_probes("load,smart", &mask, &err), -1);
	CU_ASSERT(strstr(err.msg, "\"smart\"") != NULL);
	CU_ASSERT_EQUAL(fleetgen_parse_probes("loadx", &mask, &err), -1);
	CU_ASSERT_EQUAL(fleetgen_parse_probes("", &mask, &err), -1);
	CU_ASSERT_EQUAL(fleetgen_parse_probes(",", &mask, &err), -1);
}

static CU_TestInfo tests[] = {
	{ "same seed, same samples", test_deterministic },
	{ "counters never go back", test_counters_never_go_back },
	{ "the host profile", test_profile },
	{ "the central's decoder takes a batch", test_wire_round_trip },
	{ "tokens", test_tokens },
	{ "host names, prefixes and probe lists", test_names_and_options },
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return run_suite("fleetgen", tests);
}
