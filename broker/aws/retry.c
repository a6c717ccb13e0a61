/* AWS standard retry mode as a pure policy; see retry.h. */
#include "aws/retry.h"

void aws_retry_quota_init(struct aws_retry_quota *q)
{
	q->tokens = AWS_RETRY_QUOTA;
}

bool aws_retry_next(struct aws_retry_quota *q, struct aws_retry_state *st, int max_attempts,
		    enum aws_retry_cause cause, double random01, cbq_ms *delay_ms)
{
	int cost = cause == AWS_RETRY_TIMED_OUT ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;
	cbq_ms cap = AWS_RETRY_MAX_BACKOFF_MS;
	int n = st->attempt > 0 ? st->attempt : 1; /* 1-based: the attempt that failed */

	if (max_attempts < 1)
		max_attempts = 1;
	if (max_attempts > AWS_RETRY_MAX_ATTEMPTS)
		max_attempts = AWS_RETRY_MAX_ATTEMPTS;
	if (n >= max_attempts || q->tokens < cost)
		return false;
	q->tokens -= cost;
	st->last_cost = cost;
	if (n < 16 && ((cbq_ms)1000 << (n - 1)) < cap)
		cap = (cbq_ms)1000 << (n - 1);
	if (!(random01 >= 0.0 && random01 < 1.0))
		random01 = 0.0;
	*delay_ms = (cbq_ms)(random01 * (double)cap);
	return true;
}

void aws_retry_succeeded(struct aws_retry_quota *q, const struct aws_retry_state *st)
{
	q->tokens += st->last_cost ? st->last_cost : AWS_RETRY_NO_RETRY_REFUND;
	if (q->tokens > AWS_RETRY_QUOTA)
		q->tokens = AWS_RETRY_QUOTA;
}
