/*
 * Human durations: "90m", "4h", "1h30m", "2d", "3600" (bare number = seconds)
 * to seconds and back. Used by the CLI for --duration and by cbqd for config
 * and messages. Pure: no I/O, no clock. It does not judge whether a duration
 * is acceptable for a job; job_spec_validate does.
 */
#ifndef CBQ_CORE_DURATION_H
#define CBQ_CORE_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Longest text cbq_duration_parse looks at; longer text is refused. */
enum { CBQ_DURATION_TEXT_MAX = 64 };
/* Buffer size that always holds cbq_duration_format's output. */
enum { CBQ_DURATION_BUF = 40 };

/*
 * Parses a number followed by a unit (s m h d w), repeated with units from
 * largest to smallest ("1d12h", "1h30m15s"), or a bare number of seconds.
 * Rejects empty text, signs, spaces, unknown units, a unit used twice or out
 * of order, and values that overflow int64. On success sets *seconds; on
 * failure leaves it alone and fills err (field "duration") with a message
 * that says how to write one.
 */
enum cbq_err cbq_duration_parse(const char *text, int64_t *seconds,
				struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * The shortest form in units up to days: 5400 → "1h30m", 172800 → "2d",
 * 59 → "59s", 0 → "0s", -90 → "-1m30s". Writes at most size bytes into buf,
 * always NUL-terminated when size > 0 (CBQ_DURATION_BUF is always enough),
 * and returns buf.
 */
const char *cbq_duration_format(int64_t seconds, char *buf, size_t size);

/* Buffer that always holds cbq_utc_format's output. */
enum { CBQ_UTC_BUF = 32 };
/* "2026-03-02 20:00Z": t (Unix milliseconds) in UTC, to the minute (times before
 * 1970 floor correctly). Returns buf. */
const char *cbq_utc_format(int64_t t, char *buf, size_t size);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), for
 * turning a parsed UTC time into seconds without timegm or a time zone. */
int64_t cbq_days_from_civil(int64_t y, int64_t m, int64_t d);

/* The value of one hex digit (either case), or -1. */
int cbq_hexval(char c);

#endif
