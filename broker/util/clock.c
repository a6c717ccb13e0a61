/* Real or scaled clock; see clock.h. */
#include "util/clock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cbq_ms cbq_clock_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (cbq_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cbq_clock_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

cbq_ms cbq_clock_now(const struct cbq_clock *c)
{
	cbq_ms real = cbq_clock_real_ms();

	if (c->factor == 1.0 && c->epoch == c->origin)
		return real;
	return c->epoch + (cbq_ms)((double)(real - c->origin) * c->factor);
}

static int parse_iso8601(const char *s, cbq_ms *out)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);

	if (!end || (*end != 'Z' && *end != '\0') || (*end == 'Z' && end[1]))
		return 0;
	*out = (cbq_ms)timegm(&tm) * 1000;
	return 1;
}

enum cbq_err cbq_clock_parse(const char *spec, cbq_ms real_now,
			     struct cbq_clock *out, struct cbq_error *err)
{
	return cbq_clock_parse_default(spec, real_now, -1, out, err);
}

enum cbq_err cbq_clock_parse_default(const char *spec, cbq_ms real_now, cbq_ms default_epoch,
				     struct cbq_clock *out, struct cbq_error *err)
{
	struct cbq_clock c = { .factor = 1.0, .epoch = real_now, .origin = real_now };
	char buf[256], *save = NULL, *tok;
	bool epoch_set = false, factor_set = false;

	if (strcmp(spec, "real") == 0) {
		*out = c;
		return CBQ_OK;
	}
	if (strncmp(spec, "scaled:", 7) != 0 || strlen(spec) >= sizeof(buf))
		return cbq_fail(err, CBQ_ERR_INVALID, "clock",
				"clock must be 'real' or 'scaled:FACTOR[,epoch=ISO8601][,origin=UNIX_SECONDS]'");
	strcpy(buf, spec + 7);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		if (strncmp(tok, "epoch=", 6) == 0) {
			if (!parse_iso8601(tok + 6, &c.epoch))
				return cbq_fail(err, CBQ_ERR_INVALID, "clock",
						"clock epoch must look like 2026-01-05T08:00:00Z");
			epoch_set = true;
		} else if (strncmp(tok, "origin=", 7) == 0) {
			errno = 0;
			long long v = strtoll(tok + 7, &end, 10);
			if (errno || *end || v <= 0)
				return cbq_fail(err, CBQ_ERR_INVALID, "clock",
						"clock origin must be Unix seconds");
			c.origin = (cbq_ms)v * 1000;
		} else {
			errno = 0;
			double f = strtod(tok, &end);
			if (errno || *end || !(f > 0 && f <= 100000))
				return cbq_fail(err, CBQ_ERR_INVALID, "clock",
						"clock factor must be a number in (0, 100000]");
			c.factor = f;
			factor_set = true;
		}
	}
	if (!factor_set)
		return cbq_fail(err, CBQ_ERR_INVALID, "clock",
				"scaled clock needs a factor, e.g. scaled:60");
	if (!epoch_set)
		c.epoch = default_epoch >= 0 ? default_epoch : c.origin;
	*out = c;
	return CBQ_OK;
}
