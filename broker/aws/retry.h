/*
 * AWS's "standard" retry mode (AWS.md §11.2), as a pure policy: given the
 * attempt that just failed, whether it may be retried and after how long.
 * A shared quota (a token bucket of 500; 5 per retry, 10 after a timeout)
 * stops retry storms when a service is down. No clock, no randomness of its
 * own: the caller passes a uniform random number in [0, 1). It does not
 * decide which AWS errors are retryable (xml.h classifies them).
 */
#ifndef CBQ_AWS_RETRY_H
#define CBQ_AWS_RETRY_H

#include <stdbool.h>

#include "core/job.h"

enum {
	AWS_RETRY_DEFAULT_ATTEMPTS = 3, /* counting the first call */
	AWS_RETRY_MAX_ATTEMPTS = 20,
	AWS_RETRY_QUOTA = 500,
	AWS_RETRY_COST = 5,
	AWS_RETRY_TIMEOUT_COST = 10,
	AWS_RETRY_NO_RETRY_REFUND = 1,
	AWS_RETRY_MAX_BACKOFF_MS = 20000,
};

/* One per client (AWS keeps one bucket per client object). */
struct aws_retry_quota {
	int tokens;
};

/* One per logical call, across its attempts. */
struct aws_retry_state {
	int attempt;   /* attempts made so far */
	int last_cost; /* tokens the last retry took, 0 if none */
};

void aws_retry_quota_init(struct aws_retry_quota *q);

/* Why the attempt failed, as far as retrying cares. */
enum aws_retry_cause {
	AWS_RETRY_TRANSIENT, /* throttling, 5xx, connection error */
	AWS_RETRY_TIMED_OUT, /* connect or read timeout: costs more */
};

/*
 * Call after attempt number st->attempt failed with a retryable cause.
 * Returns true and sets *delay_ms (full jitter: random01 * min(2^(n-1) s,
 * 20 s)) when another attempt may be made, charging the quota; false when
 * max_attempts is reached or the quota cannot pay.
 */
bool aws_retry_next(struct aws_retry_quota *q, struct aws_retry_state *st, int max_attempts,
		    enum aws_retry_cause cause, double random01, cbq_ms *delay_ms);

/* Call once when the call finally succeeded: refunds the quota. */
void aws_retry_succeeded(struct aws_retry_quota *q, const struct aws_retry_state *st);

#endif
