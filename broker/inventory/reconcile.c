/*
 * Reconcile one job against the instances EC2 shows for it: the rules of
 * reconcile.h, in that order. It decides; it does not call AWS, persist the
 * transition or log. Instances whose ClientToken is not the job's current
 * token are never acted on, only counted and reported.
 */
#include "inventory/reconcile.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "inventory/text.h"
#include "launcher/plan.h"

void inv_reconcile_settings_default(struct inv_reconcile_settings *s)
{
	*s = (struct inv_reconcile_settings){
		.expiry_lead = (cbq_ms)10 * 60 * 1000,
		.launch_grace = (cbq_ms)5 * 60 * 1000,
	};
}

const char *inv_action_name(enum inv_action a)
{
	switch (a) {
	case INV_ACTION_NONE: return "none";
	case INV_ACTION_TERMINATE: return "terminate";
	case INV_ACTION_TRANSITION: return "transition";
	}
	return "unknown";
}

/* An instance's state as far as the job cares. Unknown names count as
 * alive: cbq never concludes a job ended from a state it does not know. */
enum ist {
	IST_PENDING,
	IST_RUNNING,
	IST_ENDING, /* shutting-down, stopping */
	IST_ENDED,  /* terminated, stopped */
	IST_UNKNOWN,
};

static enum ist classify(const char *state)
{
	if (!state)
		return IST_UNKNOWN;
	if (strcmp(state, "pending") == 0)
		return IST_PENDING;
	if (strcmp(state, "running") == 0)
		return IST_RUNNING;
	if (strcmp(state, "shutting-down") == 0 || strcmp(state, "stopping") == 0)
		return IST_ENDING;
	if (strcmp(state, "terminated") == 0 || strcmp(state, "stopped") == 0)
		return IST_ENDED;
	return IST_UNKNOWN;
}

/* TerminateInstances has work to do: not already shutting down or gone. */
static bool terminable(const char *state)
{
	return !state || (strcmp(state, "shutting-down") != 0 && strcmp(state, "terminated") != 0);
}

static bool reason_has(const struct inv_instance *i, const char *what)
{
	return i->state_reason && strstr(i->state_reason, what);
}

/* The instance's OS shut it down (the job ended by itself; cbq launches
 * with shutdown behaviour terminate). */
static bool self_shutdown(const struct inv_instance *i)
{
	return reason_has(i, "InstanceInitiatedShutdown");
}

static bool capacity_reason(const struct inv_instance *i)
{
	return reason_has(i, "InsufficientInstanceCapacity") ||
	       reason_has(i, "ReservationCapacityExceeded") ||
	       reason_has(i, "InsufficientCapacity");
}

static bool server_reason(const struct inv_instance *i)
{
	return i->state_reason && strncmp(i->state_reason, "Server.", 7) == 0;
}

/* Which of the walltime and the cutoff has passed first, if either. */
enum first {
	FIRST_NONE,
	FIRST_WALLTIME,
	FIRST_CUTOFF,
};

/* Everything the rules look at, worked out once. */
struct view {
	const struct inv_reconcile_input *in;
	const struct job *job;
	cbq_ms now;
	char token[LAUNCH_CLIENT_TOKEN_BUF];
	const char *block_id;
	/* the current attempt's instances (indices into in->instances), by id */
	size_t cur[INV_INSTANCES_MAX];
	size_t n_cur, n_pending, n_running, n_ending, n_ended, n_unknown, n_terminable, n_self;
	cbq_ms deadline; /* started_at + duration, when started */
	cbq_ms cutoff;	 /* end − 30 min; now when the block is gone and earlier */
	cbq_ms warn_at;	 /* end − 40 min − expiry lead */
	bool block_gone;
	enum first first;
};

static const struct inv_instance *cur(const struct view *v, size_t k)
{
	return &v->in->instances[v->cur[k]];
}

/* How far along an instance's life its state is; unknown names rank lowest. */
static int progress(const char *state)
{
	switch (classify(state)) {
	case IST_UNKNOWN: return 0;
	case IST_PENDING: return 1;
	case IST_RUNNING: return 2;
	case IST_ENDING: return 3;
	case IST_ENDED: return 4;
	}
	return 0;
}

static int cmp_nullable(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* Of two records of one instance (pages that overlap list it twice), the
 * one to believe: the later state, since states only move forward; a tie
 * is broken by the text, so the order EC2 listed them in never matters. */
static bool newer(const struct inv_instance *a, const struct inv_instance *b)
{
	int pa = progress(a->state), pb = progress(b->state);
	int c;

	if (pa != pb)
		return pa > pb;
	c = cmp_nullable(a->state, b->state);
	return c ? c > 0 : cmp_nullable(a->state_reason, b->state_reason) > 0;
}

static void sort_out(struct view *v, struct inv_decision *d)
{
	const struct inv_reconcile_input *in = v->in;

	for (size_t i = 0; i < in->n_instances; i++) {
		const struct inv_instance *x = &in->instances[i];
		bool mine = x->id && x->id[0] && x->client_token &&
			    strcmp(x->client_token, v->token) == 0;
		if (!mine) {
			if (d->n_ignored < INV_IGNORED_MAX)
				d->ignored[d->n_ignored] = x->id ? x->id : "";
			d->n_ignored++;
			continue;
		}
		size_t k = 0;
		while (k < v->n_cur && strcmp(cur(v, k)->id, x->id) != 0)
			k++;
		if (k == v->n_cur)
			v->cur[v->n_cur++] = i;
		else if (newer(x, cur(v, k)))
			v->cur[k] = i;
	}
	for (size_t k = 0; k < v->n_cur; k++) {
		const struct inv_instance *x = cur(v, k);
		enum ist s = classify(x->state);
		switch (s) {
		case IST_PENDING: v->n_pending++; break;
		case IST_RUNNING: v->n_running++; break;
		case IST_ENDING: v->n_ending++; break;
		case IST_ENDED: v->n_ended++; break;
		case IST_UNKNOWN: v->n_unknown++; break;
		}
		v->n_terminable += terminable(x->state);
		v->n_self += (s == IST_ENDING || s == IST_ENDED) && self_shutdown(x);
	}
	d->n_current = v->n_cur;
}

static bool all_ended(const struct view *v)
{
	return v->n_cur > 0 && v->n_ended == v->n_cur;
}

/* ---- decisions ---------------------------------------------------------- */

static enum cbq_err transition(struct view *v, struct inv_decision *d, enum job_state to,
			       struct cbq_error *err, const char *fmt, ...) CBQ_PRINTF(5, 6);
static enum cbq_err transition(struct view *v, struct inv_decision *d, enum job_state to,
			       struct cbq_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inv_vtextf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->action = INV_ACTION_TRANSITION;
	return inv_transition_make(&d->transition, v->job->id, v->job->state, to, v->job->attempt,
				   v->now, err, "%s", d->reason);
}

/* Terminate every terminable instance of the current attempt. */
static void terminate(struct view *v, struct inv_decision *d, const char *fmt, ...)
	CBQ_PRINTF(3, 4);
static void terminate(struct view *v, struct inv_decision *d, const char *fmt, ...)
{
	va_list ap;

	for (size_t k = 0; k < v->n_cur; k++)
		if (terminable(cur(v, k)->state))
			d->terminate[d->n_terminate++] = cur(v, k)->id;
	va_start(ap, fmt);
	inv_vtextf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->action = INV_ACTION_TERMINATE;
}

static void nothing(struct inv_decision *d, const char *fmt, ...) CBQ_PRINTF(2, 3);
static void nothing(struct inv_decision *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inv_vtextf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
	d->action = INV_ACTION_NONE;
}

static void due(struct inv_decision *d, cbq_ms t, cbq_ms now)
{
	if (t > now && t < d->next_at)
		d->next_at = t;
}

/* "1 instance", "2 instances": a value, so several fit in one call. */
struct ntext {
	char s[32];
};

static struct ntext ninst(size_t n)
{
	struct ntext t;

	snprintf(t.s, sizeof(t.s), "%zu instance%s", n, n == 1 ? "" : "s");
	return t;
}

/* "i-0abc: Server.InternalError: …" of instance x, or its state. */
static const char *why(const struct inv_instance *x)
{
	return x->state_reason && x->state_reason[0] ? x->state_reason : x->state;
}

/* ---- the cutoff and the walltime ---------------------------------------- */

static enum cbq_err at_cutoff(struct view *v, struct inv_decision *d, struct cbq_error *err)
{
	const struct block *b = v->in->block;
	char end[INV_TIME_BUF], cut[INV_TIME_BUF];

	inv_time_format(b->end, end);
	inv_time_format(b->end - BLOCK_CUTOFF_LEAD_MS, cut);
	if (v->block_gone && v->job->spec.checkpointable)
		return transition(v, d, JOB_QUEUED, err,
				  "block %s is %s; checkpointable: requeued as attempt %" PRId32,
				  v->block_id, b->state ? b->state : "gone",
				  inv_job_next_attempt(v->job->state, JOB_QUEUED, v->job->attempt));
	if (v->block_gone)
		return transition(v, d, JOB_EXPIRED, err,
				  "block %s is %s before the job's walltime ended", v->block_id,
				  b->state ? b->state : "gone");
	if (v->job->spec.checkpointable)
		return transition(v, d, JOB_QUEUED, err,
				  "block %s reached its cutoff at %s (it ends %s); checkpointable: "
				  "requeued as attempt %" PRId32,
				  v->block_id, cut, end,
				  inv_job_next_attempt(v->job->state, JOB_QUEUED, v->job->attempt));
	char left[CBQ_DURATION_BUF];
	return transition(v, d, JOB_EXPIRED, err,
			  "block %s reached its cutoff at %s (it ends %s) with %s of walltime left; "
			  "AWS terminates its instances",
			  v->block_id, cut, end, inv_span_format(v->deadline - v->cutoff, left));
}

/* R2: every instance of the attempt has ended (or none is visible any more). */
static enum cbq_err ended(struct view *v, struct inv_decision *d, struct cbq_error *err)
{
	char t[INV_TIME_BUF], span[CBQ_DURATION_BUF];
	int32_t a = v->job->attempt;
	size_t n = v->n_cur;

	if (n > 0 && v->n_self == n)
		return transition(v, d, JOB_SUCCEEDED, err,
				  "attempt %" PRId32
				  " ended by itself: %s shut down from inside (%s)",
				  a, ninst(n).s, why(cur(v, 0)));
	if (v->first == FIRST_WALLTIME && n == 0)
		return transition(v, d, JOB_TIMED_OUT, err,
				  "walltime %s reached at %s; no instance of attempt %" PRId32
				  " is visible any more",
				  inv_span_format(v->deadline - v->job->started_at, span),
				  inv_time_format(v->deadline, t), a);
	if (v->first == FIRST_WALLTIME)
		return transition(v, d, JOB_TIMED_OUT, err,
				  "walltime %s reached at %s; %s of attempt %" PRId32 " ended",
				  inv_span_format(v->deadline - v->job->started_at, span),
				  inv_time_format(v->deadline, t), ninst(n).s, a);
	if (v->first == FIRST_CUTOFF)
		return at_cutoff(v, d, err);
	for (size_t k = 0; k < n; k++)
		if (server_reason(cur(v, k)))
			return transition(v, d, JOB_FAILED, err,
					  "instance %s of attempt %" PRId32 " was ended by EC2: %s",
					  cur(v, k)->id, a, cur(v, k)->state_reason);
	if (n == 0)
		return transition(v, d, JOB_FAILED, err,
				  "no instance of attempt %" PRId32
				  " (token %s) is visible in account "
				  "%s any more; cbq cannot tell how the job ended",
				  a, v->token, v->job->spec.account_id);
	return transition(v, d, JOB_SUCCEEDED, err,
			  "%s of attempt %" PRId32 " ended before the cutoff, none by cbq (%s: %s)",
			  ninst(n).s, a, cur(v, 0)->id, why(cur(v, 0)));
}

/* ---- per state ---------------------------------------------------------- */

static enum cbq_err running(struct view *v, struct inv_decision *d, struct cbq_error *err)
{
	const struct inv_reconcile_input *in = v->in;
	const struct job *j = v->job;
	char t1[INV_TIME_BUF], t2[INV_TIME_BUF], t3[INV_TIME_BUF], span[CBQ_DURATION_BUF];
	cbq_ms invisible_until = j->started_at + in->settings.launch_grace;

	if (in->cancel_requested) {
		if (v->n_terminable > 0) {
			terminate(v, d, "cancel requested; terminating %s of attempt %" PRId32,
				  ninst(v->n_terminable).s, j->attempt);
			return CBQ_OK;
		}
		if (v->n_ending > 0) {
			nothing(d,
				"cancel requested; waiting for %s of attempt %" PRId32
				" to finish shutting down",
				ninst(v->n_ending).s, j->attempt);
			return CBQ_OK;
		}
		return transition(v, d, JOB_CANCELLED, err,
				  "cancel requested; %s of attempt %" PRId32 " ended",
				  ninst(v->n_cur).s, j->attempt);
	}
	if (all_ended(v) || (v->n_cur == 0 && v->now >= invisible_until))
		return ended(v, d, err);
	if (v->first == FIRST_WALLTIME) {
		if (v->n_terminable > 0) {
			terminate(v, d,
				  "walltime %s reached at %s (started %s); terminating %s of attempt "
				  "%" PRId32,
				  inv_span_format(v->deadline - j->started_at, span),
				  inv_time_format(v->deadline, t1),
				  inv_time_format(j->started_at, t2), ninst(v->n_terminable).s,
				  j->attempt);
			return CBQ_OK;
		}
		nothing(d,
			"walltime reached; waiting for %s of attempt %" PRId32
			" to finish shutting down",
			ninst(v->n_ending).s, j->attempt);
		return CBQ_OK;
	}
	if (v->first == FIRST_CUTOFF)
		return at_cutoff(v, d, err);
	if (j->state == JOB_RUNNING && v->deadline > v->cutoff && v->now >= v->warn_at)
		return transition(v, d, JOB_EXPIRING, err,
				  "block %s ends at %s; AWS terminates its instances from %s, before "
				  "the walltime ends at %s%s",
				  v->block_id, inv_time_format(in->block->end, t1),
				  inv_time_format(v->cutoff, t2), inv_time_format(v->deadline, t3),
				  j->spec.checkpointable ?
					  "; checkpoint now, the job will be requeued" :
					  "; the job will end expired");

	due(d, v->deadline, v->now);
	due(d, v->cutoff, v->now);
	if (j->state == JOB_RUNNING && v->deadline > v->cutoff)
		due(d, v->warn_at, v->now);
	if (v->n_cur == 0) {
		due(d, invisible_until, v->now);
		nothing(d, "no instance of attempt %" PRId32 " (token %s) visible yet", j->attempt,
			v->token);
		return CBQ_OK;
	}
	nothing(d, "%zu of %zu instances of attempt %" PRId32 " running; walltime ends %s",
		v->n_running, v->n_cur, j->attempt, inv_time_format(v->deadline, t1));
	return CBQ_OK;
}

static const struct inv_instance *first_abnormal(const struct view *v)
{
	const struct inv_instance *first = NULL;

	for (size_t k = 0; k < v->n_cur; k++) {
		const struct inv_instance *x = cur(v, k);
		enum ist s = classify(x->state);
		if ((s == IST_ENDING || s == IST_ENDED) && !self_shutdown(x)) {
			/* the one that ended first is likelier the cause than those
			 * cbq terminated afterwards */
			if (!reason_has(x, "UserInitiatedShutdown"))
				return x;
			if (!first)
				first = x;
		}
	}
	return first;
}

static enum cbq_err launching(struct view *v, struct inv_decision *d, struct cbq_error *err)
{
	const struct inv_reconcile_input *in = v->in;
	const struct job *j = v->job;
	cbq_ms grace_end = in->launch_sent_at + in->settings.launch_grace;
	size_t count = (size_t)j->spec.count;
	int32_t next = inv_job_next_attempt(JOB_LAUNCHING, JOB_QUEUED, j->attempt);
	char t[INV_TIME_BUF], span[CBQ_DURATION_BUF];

	/* only the cutoff can pass: no walltime yet */
	if (v->first != FIRST_NONE && v->block_gone)
		return transition(v, d, JOB_QUEUED, err,
				  "block %s is %s before the launch completed; requeued as attempt "
				  "%" PRId32,
				  v->block_id, in->block->state ? in->block->state : "gone", next);
	if (v->first != FIRST_NONE)
		return transition(v, d, JOB_QUEUED, err,
				  "block %s reached its cutoff at %s before the launch completed; "
				  "requeued as attempt %" PRId32,
				  v->block_id, inv_time_format(v->cutoff, t), next);
	if (in->cancel_requested) {
		if (v->n_terminable > 0) {
			terminate(v, d,
				  "cancel requested during launch; terminating %s of attempt %" PRId32,
				  ninst(v->n_terminable).s, j->attempt);
			return CBQ_OK;
		}
		if (v->n_ending > 0) {
			nothing(d,
				"cancel requested; waiting for %s of attempt %" PRId32
				" to finish shutting down",
				ninst(v->n_ending).s, j->attempt);
			return CBQ_OK;
		}
		if (v->n_cur > 0)
			return transition(v, d, JOB_CANCELLED, err,
					  "cancel requested during launch; %s of attempt %" PRId32
					  " seen, none left",
					  ninst(v->n_cur).s, j->attempt);
		if (v->now >= grace_end)
			return transition(v, d, JOB_CANCELLED, err,
					  "cancel requested during launch; no instance of attempt %" PRId32
					  " appeared within %s",
					  j->attempt,
					  inv_span_format(in->settings.launch_grace, span));
		due(d, grace_end, v->now);
		nothing(d,
			"cancel requested; waiting until %s for instances of attempt %" PRId32
			" to appear",
			inv_time_format(grace_end, t), j->attempt);
		return CBQ_OK;
	}
	if (v->n_cur < count && v->now >= grace_end) {
		if (v->n_terminable > 0) {
			terminate(v, d,
				  "only %zu of %zu instances of attempt %" PRId32
				  " appeared within %s "
				  "of the launch; terminating them",
				  v->n_cur, count, j->attempt,
				  inv_span_format(in->settings.launch_grace, span));
			return CBQ_OK;
		}
		if (v->n_ending > 0) {
			nothing(d, "waiting for %s of attempt %" PRId32 " to finish shutting down",
				ninst(v->n_ending).s, j->attempt);
			return CBQ_OK;
		}
		if (v->n_cur == 0)
			return transition(v, d, JOB_FAILED, err,
					  "no instance of attempt %" PRId32
					  " (token %s) appeared in account "
					  "%s within %s of the launch on %s",
					  j->attempt, v->token, j->spec.account_id,
					  inv_span_format(in->settings.launch_grace, span),
					  v->block_id);
		return transition(v, d, JOB_FAILED, err,
				  "only %zu of %zu instances of attempt %" PRId32
				  " (token %s) appeared "
				  "within %s of the launch on %s",
				  v->n_cur, count, j->attempt, v->token,
				  inv_span_format(in->settings.launch_grace, span), v->block_id);
	}

	const struct inv_instance *bad = first_abnormal(v);
	if (bad) {
		if (v->n_terminable > 0) {
			terminate(v, d,
				  "instance %s of attempt %" PRId32 " ended during launch (%s); "
				  "terminating the other %s",
				  bad->id, j->attempt, why(bad), ninst(v->n_terminable).s);
			return CBQ_OK;
		}
		if (v->n_ending > 0) {
			nothing(d,
				"instance %s ended during launch; waiting for %s of attempt %" PRId32
				" to finish shutting down",
				bad->id, ninst(v->n_ending).s, j->attempt);
			return CBQ_OK;
		}
		for (size_t k = 0; k < v->n_cur; k++)
			if (capacity_reason(cur(v, k)))
				return transition(v, d, JOB_QUEUED, err,
						  "lost the capacity race on %s: instance %s ended "
						  "(%s); requeued as attempt %" PRId32,
						  v->block_id, cur(v, k)->id, why(cur(v, k)), next);
		return transition(v, d, JOB_FAILED, err,
				  "instance %s of attempt %" PRId32
				  " ended during launch on %s: %s",
				  bad->id, j->attempt, v->block_id, why(bad));
	}
	if (v->n_cur >= count && v->n_pending == 0 && v->n_unknown == 0)
		return transition(v, d, JOB_RUNNING, err, "attempt %" PRId32 " is up on %s: %s",
				  j->attempt, v->block_id, ninst(v->n_cur).s);

	due(d, v->cutoff, v->now);
	if (v->n_cur < count)
		due(d, grace_end, v->now);
	nothing(d, "%zu of %zu instances of attempt %" PRId32 " visible, %zu running", v->n_cur,
		count, j->attempt, v->n_running);
	return CBQ_OK;
}

static enum cbq_err queued_or_final(struct view *v, struct inv_decision *d, struct cbq_error *err)
{
	const struct job *j = v->job;

	if (j->state == JOB_QUEUED) {
		if (v->in->cancel_requested)
			return transition(v, d, JOB_CANCELLED, err,
					  "cancel requested while queued");
		nothing(d, "queued");
		return CBQ_OK;
	}
	for (size_t k = 0; k < v->n_cur; k++) {
		const struct inv_instance *x = cur(v, k);
		if (terminable(x->state)) {
			terminate(v, d,
				  "job is %s but instance %s of attempt %" PRId32
				  " is %s; terminating %s",
				  job_state_name(j->state), x->id, j->attempt,
				  x->state ? x->state : "in an unknown state",
				  ninst(v->n_terminable).s);
			return CBQ_OK;
		}
	}
	nothing(d, "job is %s", job_state_name(j->state));
	return CBQ_OK;
}

/* ---- input -------------------------------------------------------------- */

static bool time_ok(cbq_ms t)
{
	return t >= 0 && t <= INV_TIME_MAX;
}

static enum cbq_err check(const struct inv_reconcile_input *in, struct cbq_error *err)
{
	const struct job *j = in->job;

	if (!j)
		return cbq_fail(err, CBQ_ERR_INVALID, "job", "no job to reconcile");
	if (in->n_instances > INV_INSTANCES_MAX)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "instances",
				"job %" PRId64 ": %zu instances carry its tag; at most %d are read",
				j->id, in->n_instances, INV_INSTANCES_MAX);
	if (in->n_instances > 0 && !in->instances)
		return cbq_fail(err, CBQ_ERR_INVALID, "instances", "instances missing");
	if (j->id < 1 || j->attempt < 1)
		return cbq_fail(err, CBQ_ERR_INVALID, "job",
				"job %" PRId64 " attempt %" PRId32 ": both must be at least 1",
				j->id, j->attempt);
	if ((unsigned)j->state >= JOB_STATE_COUNT)
		return cbq_fail(err, CBQ_ERR_INVALID, "job.state",
				"job %" PRId64 ": unknown state %d", j->id, (int)j->state);
	if (in->settings.expiry_lead < 0 || in->settings.expiry_lead > INV_SETTING_MAX_MS ||
	    in->settings.launch_grace < 0 || in->settings.launch_grace > INV_SETTING_MAX_MS)
		return cbq_fail(err, CBQ_ERR_INVALID, "settings",
				"expiry lead and launch grace must lie in 0..30 days");
	if (!time_ok(in->now) || !time_ok(in->launch_sent_at))
		return cbq_fail(err, CBQ_ERR_INVALID, "now", "times must lie in 0..year 9999");

	bool active = j->state == JOB_LAUNCHING || j->state == JOB_RUNNING ||
		      j->state == JOB_EXPIRING;
	if (!active)
		return CBQ_OK;
	if (j->spec.count < 1 || j->spec.count > JOB_COUNT_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "job.count",
				"job %" PRId64 ": count %" PRId32 " is outside 1..%d", j->id,
				j->spec.count, JOB_COUNT_MAX);
	if (j->spec.duration_s < 0 || j->spec.duration_s > JOB_DURATION_MAX_S)
		return cbq_fail(err, CBQ_ERR_INVALID, "job.duration",
				"job %" PRId64 ": duration %" PRId64 " s is out of range", j->id,
				j->spec.duration_s);
	if (!in->block || !time_ok(in->block->end) || in->block->end < BLOCK_CUTOFF_LEAD_MS)
		return cbq_fail(err, CBQ_ERR_INVALID, "block",
				"job %" PRId64 " is %s but has no block with a valid end", j->id,
				job_state_name(j->state));
	if (j->state != JOB_LAUNCHING && (j->started_at <= 0 || !time_ok(j->started_at)))
		return cbq_fail(err, CBQ_ERR_INVALID, "job.started_at",
				"job %" PRId64 " is %s but has no start time", j->id,
				job_state_name(j->state));
	return CBQ_OK;
}

static bool block_alive(const struct block *b)
{
	return b->state && (strcmp(b->state, "active") == 0 || strcmp(b->state, "scheduled") == 0);
}

enum cbq_err inv_reconcile(const struct inv_reconcile_input *in, struct inv_decision *out,
			   struct cbq_error *err)
{
	enum cbq_err rc;

	if ((rc = check(in, err)))
		return rc;

	/* both are large: built here, copied out only on success */
	static const struct inv_decision empty = { .next_at = INV_NEVER };
	struct view v = { .in = in, .job = in->job, .now = in->now };
	struct inv_decision d = empty;
	const struct job *j = in->job;

	if ((rc = launch_client_token(j->id, j->attempt, v.token, err)))
		return rc;
	sort_out(&v, &d);

	switch (j->state) {
	case JOB_LAUNCHING:
	case JOB_RUNNING:
	case JOB_EXPIRING:
		v.block_id = in->block->id ? in->block->id : "(unnamed block)";
		v.cutoff = in->block->end - BLOCK_CUTOFF_LEAD_MS;
		v.warn_at = in->block->end - INV_WARNING_LEAD_MS - in->settings.expiry_lead;
		v.block_gone = !block_alive(in->block);
		if (v.block_gone && in->now < v.cutoff)
			v.cutoff = in->now;
		v.deadline = j->state == JOB_LAUNCHING ? INV_NEVER :
							 j->started_at + j->spec.duration_s * 1000;
		/* the walltime wins a tie: a job placed to end at the cutoff timed out */
		if (v.deadline <= in->now && v.deadline <= v.cutoff)
			v.first = FIRST_WALLTIME;
		else if (v.cutoff <= in->now)
			v.first = FIRST_CUTOFF;
		rc = j->state == JOB_LAUNCHING ? launching(&v, &d, err) : running(&v, &d, err);
		break;
	default: rc = queued_or_final(&v, &d, err); break;
	}
	if (rc)
		return rc;
	if (d.action == INV_ACTION_NONE && d.n_ignored > 0) {
		size_t len = strlen(d.reason);
		inv_textf(d.reason + len, sizeof(d.reason) - len,
			  "; ignoring %s with other tokens (%s…)", ninst(d.n_ignored).s,
			  d.ignored[0]);
	}
	memcpy(out, &d, sizeof(d));
	return CBQ_OK;
}
