/*
 * Job state edges and the transition constructor. The table below is the
 * whole state machine; nothing else in cbq decides whether a job may move.
 * It does not decide *when* a job should move (reconcile.c, the launch plan
 * and the scheduler do) nor persist anything (the engine does).
 */
#include "inventory/jobfsm.h"

#include <inttypes.h>
#include <stdarg.h>

#include "inventory/text.h"

#define BIT(s) (1u << (s))

/* edges[from] = the set of legal `to` states. */
static const unsigned edges[JOB_STATE_COUNT] = {
	[JOB_QUEUED] = BIT(JOB_LAUNCHING) | BIT(JOB_CANCELLED),
	[JOB_LAUNCHING] = BIT(JOB_RUNNING) | BIT(JOB_QUEUED) | BIT(JOB_FAILED) | BIT(JOB_CANCELLED),
	[JOB_RUNNING] = BIT(JOB_EXPIRING) | BIT(JOB_SUCCEEDED) | BIT(JOB_FAILED) |
			BIT(JOB_TIMED_OUT) | BIT(JOB_EXPIRED) | BIT(JOB_CANCELLED) |
			BIT(JOB_QUEUED),
	[JOB_EXPIRING] = BIT(JOB_SUCCEEDED) | BIT(JOB_FAILED) | BIT(JOB_TIMED_OUT) |
			 BIT(JOB_EXPIRED) | BIT(JOB_CANCELLED) | BIT(JOB_QUEUED),
	/* succeeded, failed, timed_out, expired, cancelled: final, no exits */
};

static bool valid(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT;
}

bool inv_job_edge_ok(enum job_state from, enum job_state to)
{
	return valid(from) && valid(to) && (edges[from] & BIT(to)) != 0;
}

static bool starts_new_attempt(enum job_state from, enum job_state to)
{
	return to == JOB_QUEUED &&
	       (from == JOB_LAUNCHING || from == JOB_RUNNING || from == JOB_EXPIRING);
}

int32_t inv_job_next_attempt(enum job_state from, enum job_state to, int32_t attempt)
{
	return starts_new_attempt(from, to) && attempt < INT32_MAX ? attempt + 1 : attempt;
}

enum cbq_err inv_transition_make(struct inv_transition *out, int64_t job_id, enum job_state from,
				 enum job_state to, int32_t attempt, cbq_ms at,
				 struct cbq_error *err, const char *fmt, ...)
{
	if (job_id < 1)
		return cbq_fail(err, CBQ_ERR_INVALID, "job_id", "job id %" PRId64 " is not a job",
				job_id);
	if (!inv_job_edge_ok(from, to))
		return cbq_fail(err, CBQ_ERR_CONFLICT, "state",
				"job %" PRId64 " cannot go from %s to %s", job_id,
				job_state_name(from), job_state_name(to));
	if (attempt < 1 || (attempt == INT32_MAX && starts_new_attempt(from, to)))
		return cbq_fail(err, CBQ_ERR_INVALID, "attempt",
				"job %" PRId64 ": attempt %" PRId32 " is out of range", job_id,
				attempt);

	va_list ap;
	struct inv_transition t = {
		.job_id = job_id,
		.from = from,
		.to = to,
		.at = at,
		.new_attempt = inv_job_next_attempt(from, to, attempt),
	};

	va_start(ap, fmt);
	inv_vtextf(t.reason, sizeof(t.reason), fmt, ap);
	va_end(ap);
	*out = t;
	return CBQ_OK;
}
