/*
 * Duration text ⇄ seconds; see duration.h. Pure: libc only. Not a general
 * time library: no fractions, no months, no time zones.
 */
#include "core/duration.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const char hint[] = "use a number with a unit, e.g. 90m, 4h, 2d";

static const struct {
	char unit;
	int64_t seconds;
} units[] = {
	{ 'w', 7 * 24 * 3600 },
	{ 'd', 24 * 3600 },
	{ 'h', 3600 },
	{ 'm', 60 },
	{ 's', 1 },
};
enum { N_UNITS = sizeof(units) / sizeof(units[0]) };

/* Index into units[] of c, or -1. */
static int unit_index(char c)
{
	for (int i = 0; i < N_UNITS; i++)
		if (units[i].unit == c)
			return i;
	return -1;
}

/* Copies text for quoting in a message, replacing bytes a terminal might
 * act on. text is at most CBQ_DURATION_TEXT_MAX long here. */
static void quote(const char *text, char out[CBQ_DURATION_TEXT_MAX + 1])
{
	size_t i = 0;

	for (; text[i] && i < CBQ_DURATION_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		out[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

enum cbq_err cbq_duration_parse(const char *text, int64_t *seconds,
				struct cbq_error *err)
{
	char shown[CBQ_DURATION_TEXT_MAX + 1];
	int64_t total = 0;
	int last_unit = -1;
	const char *p = text;

	if (!text || !*text)
		return cbq_fail(err, CBQ_ERR_INVALID, "duration",
				"duration is empty: %s", hint);
	if (strnlen(text, CBQ_DURATION_TEXT_MAX + 1) > CBQ_DURATION_TEXT_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "duration",
				"duration is longer than %d characters: %s",
				CBQ_DURATION_TEXT_MAX, hint);
	quote(text, shown);

	while (*p) {
		int64_t n = 0;
		const char *digits = p;

		for (; *p >= '0' && *p <= '9'; p++) {
			if (n > (INT64_MAX - (*p - '0')) / 10)
				return cbq_fail(err, CBQ_ERR_INVALID, "duration",
						"duration \"%s\" is too large", shown);
			n = n * 10 + (*p - '0');
		}
		if (p == digits)
			return cbq_fail(err, CBQ_ERR_INVALID, "duration",
					"duration \"%s\" is not a duration: %s", shown, hint);
		if (!*p) {
			/* A bare number is seconds, but only on its own: "1h30"
			 * more likely meant minutes than seconds. */
			if (last_unit >= 0)
				return cbq_fail(err, CBQ_ERR_INVALID, "duration",
						"duration \"%s\" is not a duration: the last number has no unit (s m h d w)",
						shown);
			*seconds = n;
			return CBQ_OK;
		}

		int u = unit_index(*p);
		if (u < 0)
			return cbq_fail(err, CBQ_ERR_INVALID, "duration",
					"duration \"%s\" is not a duration: %s", shown, hint);
		if (u <= last_unit)
			return cbq_fail(err, CBQ_ERR_INVALID, "duration",
					"duration \"%s\" is not a duration: write each unit once, largest first, e.g. 1h30m",
					shown);
		last_unit = u;
		p++;

		if (n > INT64_MAX / units[u].seconds ||
		    n * units[u].seconds > INT64_MAX - total)
			return cbq_fail(err, CBQ_ERR_INVALID, "duration",
					"duration \"%s\" is too large", shown);
		total += n * units[u].seconds;
	}
	*seconds = total;
	return CBQ_OK;
}

const char *cbq_duration_format(int64_t seconds, char *buf, size_t size)
{
	/* Weeks are left out on purpose: "14d" reads better than "2w" for a
	 * job's walltime, and both parse. */
	static const struct {
		char unit;
		uint64_t seconds;
	} parts[] = { { 'd', 24 * 3600 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	char tmp[CBQ_DURATION_BUF];
	size_t len = 0;
	/* Magnitude as unsigned so INT64_MIN does not overflow. */
	uint64_t left = seconds < 0 ? -(uint64_t)seconds : (uint64_t)seconds;

	if (size == 0)
		return buf;
	if (seconds < 0)
		tmp[len++] = '-';
	if (left == 0) {
		snprintf(buf, size, "0s");
		return buf;
	}
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		uint64_t n = left / parts[i].seconds;

		if (n == 0)
			continue;
		left -= n * parts[i].seconds;
		int w = snprintf(tmp + len, sizeof(tmp) - len, "%llu%c",
				 (unsigned long long)n, parts[i].unit);
		if (w < 0 || (size_t)w >= sizeof(tmp) - len)
			break; /* cannot happen: 2^63 s is 20 digits of days */
		len += (size_t)w;
	}
	tmp[len] = '\0';
	snprintf(buf, size, "%s", tmp);
	return buf;
}

/* Days since 1970-01-01 → civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

const char *cbq_utc_format(int64_t t, char *buf, size_t size)
{
	int64_t secs = t / 1000 - (t % 1000 < 0);
	int64_t days = secs / 86400 - (secs % 86400 < 0);
	int64_t rem = secs - days * 86400;
	int64_t y;
	int m, d;

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04" PRId64 "-%02d-%02d %02d:%02dZ", y, m, d, (int)(rem / 3600),
		 (int)(rem % 3600 / 60));
	return buf;
}

/* H. Hinnant's days_from_civil. */
int64_t cbq_days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int cbq_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
