/*
 * The one clock. Real time, or scaled time for demos and tests
 * ("scaled:60" = one simulated minute per real second), so that everything
 * cbqd writes follows the same simulated time. Nothing else reads the time
 * (intervals measured on this machine use cbq_clock_mono_us).
 */
#ifndef CBQ_UTIL_CLOCK_H
#define CBQ_UTIL_CLOCK_H

#include <stdint.h>

#include "core/err.h"
#include "core/job.h"

struct cbq_clock {
	double factor;      /* 1 for real time */
	cbq_ms epoch;       /* simulated time at origin */
	cbq_ms origin;      /* real time the simulation started */
};

/*
 * Parses "real" or "scaled:FACTOR[,epoch=ISO8601][,origin=UNIX_SECONDS]".
 * real_now is the real time to use as the default origin and epoch.
 */
enum cbq_err cbq_clock_parse(const char *spec, cbq_ms real_now,
			     struct cbq_clock *out, struct cbq_error *err) CBQ_MUST_CHECK;

/* The same, but a scaled clock without epoch= starts at default_epoch
 * (a scenario's start, say) instead of at origin; -1 means origin. */
enum cbq_err cbq_clock_parse_default(const char *spec, cbq_ms real_now, cbq_ms default_epoch,
				     struct cbq_clock *out, struct cbq_error *err) CBQ_MUST_CHECK;

/* Now by this clock, in Unix milliseconds. */
cbq_ms cbq_clock_now(const struct cbq_clock *c);
/* Real time in Unix milliseconds. */
cbq_ms cbq_clock_real_ms(void);
/* Monotonic microseconds, for intervals on this machine (timeouts, lag,
 * redraws) and never for a time anything is stored or decided by. */
int64_t cbq_clock_mono_us(void);

#endif
