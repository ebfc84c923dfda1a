/* series.h: a time series held in memory ("timestamp,value" pairs in time
 * order), read from the CSV files that `headroom backtest --csv` and the
 * benchmarks take: one "timestamp,value" row per line, an optional header
 * row, timestamps in unix seconds (fractions allowed) or as
 * "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC. Rows must be in strictly
 * increasing time; an empty value or "nan" is a missing sample and is
 * left out. */
#ifndef HR_SERIES_H
#define HR_SERIES_H

#include <stddef.h>

#include "err.h"

struct series {
	double *t;   /* unix seconds, strictly increasing */
	double *v;   /* finite values */
	size_t n, cap;
};

/* Appends one point (t greater than the last one, v finite). 0, or -1 with
 * err filled. */
int series_push(struct series *s, double t, double v, struct hr_err *err);

/* Parses CSV text (len bytes) into s (emptied first). -1 with err naming
 * the line and the problem: a malformed timestamp or value, time not
 * increasing, a row with other than 2 fields; s is then empty. */
int series_parse_csv(const char *text, size_t len, struct series *s, struct hr_err *err);

/* Reads the CSV file path and parses it as above (err names the file). */
int series_load_csv(const char *path, struct series *s, struct hr_err *err);

/* Parses one timestamp as above into *t. 0 or -1. */
int series_parse_time(const char *str, size_t len, double *t);

void series_free(struct series *s);

#endif
