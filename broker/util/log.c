/* key=value logging to stderr; see log.h. Timestamps are wall-clock UTC. */
#include "util/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

static enum cbq_log_level min_level = CBQ_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void cbq_log_set_level(enum cbq_log_level level)
{
	min_level = level;
}

int cbq_log_level_parse(const char *name, enum cbq_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum cbq_log_level)i;
			return 1;
		}
	}
	return 0;
}

void cbq_log(enum cbq_log_level level, const char *event, const char *fmt, ...)
{
	char line[2048], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "ts=%s.%03ldZ level=%s event=%s", ts,
		     now.tv_nsec / 1000000, level_names[level], event);
	if (fmt && *fmt && n > 0 && (size_t)n < sizeof(line) - 2) {
		line[n++] = ' ';
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* one write per line so concurrent writers do not interleave */
	fprintf(stderr, "%s\n", line);
}

const char *cbq_log_quote(char *buf, size_t size, const char *value)
{
	size_t o = 0;
	int plain = *value != '\0';

	for (const char *p = value; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			plain = 0;
	if (plain) {
		snprintf(buf, size, "%s", value);
		return buf;
	}
	if (size < 3) {
		buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (const char *p = value; *p && o + 4 < size; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			buf[o++] = '?';
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *cbq_log_q(const char *value)
{
	/* scratch for formatting only: nothing outlives the log call */
	static char ring[CBQ_LOG_Q_SLOTS][CBQ_LOG_Q_SIZE];
	static unsigned next;

	return cbq_log_quote(ring[next++ % CBQ_LOG_Q_SLOTS], CBQ_LOG_Q_SIZE, value ? value : "");
}
