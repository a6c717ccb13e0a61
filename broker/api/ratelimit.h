/*
 * Per-key token buckets for the API's per-team request rate: state in,
 * verdict out. Pure: no I/O, no clock (callers pass `now`), no logging.
 * It is not a fairness scheduler and not a concurrency cap; it only says
 * whether one more request from a key fits its sustained rate and burst.
 */
#ifndef CBQ_API_RATELIMIT_H
#define CBQ_API_RATELIMIT_H

#include <stdint.h>

#include "core/job.h"

enum {
	/* a team name is at most 63 bytes (teams.name CHECK) */
	API_RATELIMIT_KEY_MAX = 63,
	/* keys tracked at once; a full table drops idle buckets first */
	API_RATELIMIT_KEYS_MAX = 1024,
};

struct api_ratelimit;

enum api_rate {
	API_RATE_ALLOW,
	API_RATE_LIMITED,
	API_RATE_BAD_KEY, /* empty or longer than API_RATELIMIT_KEY_MAX */
};

/* rate_per_s requests per second sustained, burst at once (>= 1);
 * rate_per_s 0 turns limiting off (every take is allowed). Aborts on OOM. */
struct api_ratelimit *api_ratelimit_new(uint32_t rate_per_s, uint32_t burst);
void api_ratelimit_free(struct api_ratelimit *rl);

/*
 * Takes one request for key at now (ms; a clock that steps back counts as
 * no time passing). API_RATE_LIMITED sets *retry_after_s to the whole
 * seconds (>= 1) until one request fits again; it is left alone otherwise.
 * A new key starts with a full bucket; when API_RATELIMIT_KEYS_MAX keys are
 * tracked, buckets that have refilled to full (indistinguishable from a new
 * one) are dropped, and failing that the fullest one.
 */
enum api_rate api_ratelimit_take(struct api_ratelimit *rl, const char *key, cbq_ms now,
				 int *retry_after_s);

/* Keys tracked now (for tests and metrics). */
int api_ratelimit_keys(const struct api_ratelimit *rl);

#endif
