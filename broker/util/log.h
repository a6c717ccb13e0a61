/*
 * Logging: one line per event on stderr, `ts=... level=... event=... k=v ...`.
 * Values with spaces or quotes are quoted. Never pass a secret or user data.
 */
#ifndef CBQ_UTIL_LOG_H
#define CBQ_UTIL_LOG_H

#include <stdio.h>

#include "core/err.h"

enum cbq_log_level { CBQ_LOG_DEBUG, CBQ_LOG_INFO, CBQ_LOG_WARN, CBQ_LOG_ERROR };

void cbq_log_set_level(enum cbq_log_level level);
/* Parses "debug", "info", "warn", "error"; false otherwise. */
int cbq_log_level_parse(const char *name, enum cbq_log_level *out);

/*
 * cbq_log(CBQ_LOG_INFO, "job_submitted", "job=%lld team=%s", id, team):
 * event is a snake_case name; fmt continues with key=value pairs (use
 * cbq_log_quote for values that may contain spaces).
 */
void cbq_log(enum cbq_log_level level, const char *event, const char *fmt, ...)
	CBQ_PRINTF(3, 4);

/* Writes value as a log-safe token into buf (quoted and escaped if needed). */
const char *cbq_log_quote(char *buf, size_t size, const char *value);

/* The same into one of CBQ_LOG_Q_SLOTS rotating buffers of CBQ_LOG_Q_SIZE
 * bytes, for an argument of one cbq_log() call: at most that many per call,
 * used before the next call (cbqd logs from one thread). A longer value is
 * cut. For messages that may hold quotes: AWS's and Postgres's. */
enum { CBQ_LOG_Q_SLOTS = 4, CBQ_LOG_Q_SIZE = 1024 };
const char *cbq_log_q(const char *value);

#endif
