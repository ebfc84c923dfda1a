/* tls.h: the tls probe. For each configured host:port (with an optional SNI
 * name and CA file) it does a TLS handshake with libcurl and reports whether
 * the service is up, how long connect + handshake took, how many days the
 * leaf certificate has left, and whether the chain and name verify. The
 * pure parsers are public for the unit tests. */
#ifndef HR_PROBE_TLS_H
#define HR_PROBE_TLS_H

#include <stddef.h>
#include <time.h>

#include "err.h"
#include "probe.h"

extern const struct probe probe_tls;

#define TLS_TIMEOUT_DEFAULT 5.0
#define TLS_PORT_DEFAULT "443"

/* Parses a certificate time as libcurl's CURLINFO_CERTINFO "Expire date"
 * gives it: OpenSSL's ASN1_TIME_print form "Nov 28 10:00:00 2026 GMT" (day
 * padded with a space, optional fractional seconds) or libcurl's own
 * x509asn1 form "2026-11-28 10:00:00 GMT" (GnuTLS and other backends).
 * Exactly len bytes, nothing else around them. Sets *out to the UTC time.
 * 0, or -1 when the text is not one of those forms or not a real date. */
int tls_parse_cert_time(const char *s, size_t len, time_t *out);

/* Finds "Expire date:" among one certificate's CERTINFO lines (lines[0..n),
 * each "Name:value") and parses it with tls_parse_cert_time. 0 or -1. */
int tls_certinfo_expiry(const char *const *lines, size_t n, time_t *out);

/* Splits a target "HOST:PORT", "HOST" (port 443) or "[V6]:PORT" into host
 * (without brackets) and port, checking that the host is a DNS name or an
 * IP address that can go into a URL. 0 or -1 with err filled. */
int tls_parse_target(const char *s, char *host, size_t hn, char *port, size_t pn,
		     struct hr_err *err);

#endif
