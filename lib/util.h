/* util.h: small bounded helpers for reading outside input: files under a root
 * folder, lines, whitespace-separated fields and numbers, durations. Nothing
 * here logs; failures fill a struct hr_err. */
#ifndef HR_UTIL_H
#define HR_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Hard cap for a whole /proc or /sys file read with hr_read_file. */
#define HR_FILE_CAP (4u << 20)

/* Copies src into dst (size n), always NUL-terminating; returns strlen(src)
 * so that truncation shows as a return value >= n. */
size_t hr_strlcpy(char *dst, const char *src, size_t n);

/* Writes ROOT + PATH into dst. PATH is absolute ("/proc/mdstat"); root may be
 * NULL, "" or "/" for the real root. Returns -1 (err filled) when dst is too
 * small. */
int hr_path(char *dst, size_t n, const char *root, const char *path, struct hr_err *err);

/* Reads the whole file ROOT+PATH into a new NUL-terminated buffer (*out,
 * caller frees with free()) of *len bytes. Works on /proc files whose size
 * is 0. Fails when the file is larger than cap. */
int hr_read_file(const char *root, const char *path, char **out, size_t *len,
		 size_t cap, struct hr_err *err);

/* Reads a small file (a sysfs attribute) into buf (size n), NUL-terminated,
 * with trailing white space removed. Fails when it does not fit. */
int hr_read_attr(const char *root, const char *path, char *buf, size_t n, struct hr_err *err);

/* Reads /sys/class/net/DIR/ATTR under root like hr_read_attr (DIR is an
 * interface name, or "bond0/lower_eth0" for a link below one; check names
 * from outside with hr_ifname_ok first). 0, or -1 (err filled when not NULL)
 * when missing, unreadable, too long for buf or the path is too long. */
int hr_read_netattr(const char *root, const char *dir, const char *attr, char *buf, size_t n,
		    struct hr_err *err);

/* Line iterator over a buffer of known length; lines exclude the '\n'.
 * A NUL byte inside a line is kept as part of the line. */
struct hr_lines {
	const char *p;
	const char *end;
	unsigned lineno; /* 1-based number of the line last returned */
};
void hr_lines_init(struct hr_lines *it, const char *buf, size_t len);
/* Returns 1 and sets *line and *len to the next line, 0 at the end. */
int hr_lines_next(struct hr_lines *it, const char **line, size_t *len);

/* Field iterator: splits [p, end) on spaces and tabs. Returns 1 and sets
 * *f and *flen to the next field, 0 when none is left. */
struct hr_fields {
	const char *p;
	const char *end;
};
void hr_fields_init(struct hr_fields *it, const char *s, size_t len);
int hr_fields_next(struct hr_fields *it, const char **f, size_t *flen);

/* Strict number parsers over exactly len bytes: the whole text must be a
 * number (no sign for u64), no overflow, finite for doubles. 0 or -1. */
int hr_parse_u64(const char *s, size_t len, uint64_t *out);
int hr_parse_i64(const char *s, size_t len, int64_t *out);
int hr_parse_double(const char *s, size_t len, double *out);

/* Does the field [s, s+len) equal the NUL-terminated word? */
int hr_field_eq(const char *s, size_t len, const char *word);

/* Copies [s, s+len) into dst (size n > 0), cut to fit and NUL-terminated,
 * with anything but printable ASCII replaced by '?', so that outside text
 * cannot put control bytes or broken UTF-8 into labels, JSON or the log. */
void hr_printable(char *dst, size_t n, const char *s, size_t len);

/* Writes the n bytes of src as 2 * n lower-case hex digits and a NUL into
 * dst (2 * n + 1 bytes). */
void hr_hex(char *dst, const unsigned char *src, size_t n);

/* Does s match one of the fnmatch(3) globs (NULL-terminated, no flags, so
 * "*" also crosses '/')? NULL globs match nothing. */
int hr_glob_any(char *const *globs, const char *s);

/* Is [s, s+len) a name the kernel could have given a network interface
 * (dev_valid_name(): not empty, not "." or "..", no '/', ':', white space or
 * control byte) that is shorter than max? Such names are used in sysfs
 * paths, so this also keeps a path inside /sys/class/net. */
int hr_ifname_ok(const char *s, size_t len, size_t max);

/* Parses a duration: a non-negative number of seconds, or a number followed
 * by one of s, m, h, d, w ("90s", "15m", "26h", "7d"). 0 or -1. */
int hr_parse_duration(const char *s, double *seconds);

/* Monotonic and wall clock in seconds. */
double hr_now_mono(void);
double hr_now_wall(void);

#endif
