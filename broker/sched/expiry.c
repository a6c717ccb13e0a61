/*
 * The end of a block, per running job: warn (the job becomes expiring) a
 * configurable lead before AWS's 40-minute warning, and at the cutoff
 * requeue a checkpointable job or expire the rest. It only says what is
 * due; the engine carries it out, and never touches instances cbq did not
 * launch.
 */
#include "sched/internal.h"

#include <stdlib.h>

const char *sched_expiry_name(enum sched_expiry_action a)
{
	switch (a) {
	case SCHED_EXPIRY_WARN: return "warn";
	case SCHED_EXPIRY_REQUEUE: return "requeue";
	case SCHED_EXPIRY_EXPIRE: return "expire";
	}
	return "unknown";
}

static cbq_ms warn_at(const struct sched_input *in, const struct sched_block *b)
{
	return b->end - SCHED_WARNING_LEAD_MS - in->settings.expiry_lead;
}

/* The action due now for running job r, if any. */
static bool due(const struct sched_input *in, const struct sched_running *r,
		enum sched_expiry_action *action, cbq_ms *at)
{
	const struct sched_block *b = &in->blocks[r->block];
	cbq_ms cutoff = sched_cutoff(b);

	if (in->now >= cutoff) {
		/* AWS is terminating the block's instances, whatever was expected */
		*action = r->checkpointable ? SCHED_EXPIRY_REQUEUE : SCHED_EXPIRY_EXPIRE;
		*at = cutoff;
		return true;
	}
	if (r->expected_end > cutoff && !r->expiring && in->now >= warn_at(in, b)) {
		*action = SCHED_EXPIRY_WARN;
		*at = warn_at(in, b);
		return true;
	}
	return false;
}

size_t sched_expiry_count(const struct sched_input *in)
{
	size_t n = 0;
	enum sched_expiry_action a;
	cbq_ms at;

	for (size_t r = 0; r < in->n_running; r++)
		n += due(in, &in->running[r], &a, &at);
	return n;
}

static int cmp_expiry(const void *a, const void *b)
{
	const struct sched_expiry *x = a, *y = b;
	return (x->job_id > y->job_id) - (x->job_id < y->job_id);
}

void sched_expiry_fill(const struct sched_input *in, struct sched_expiry *out)
{
	size_t n = 0;

	for (size_t r = 0; r < in->n_running; r++) {
		const struct sched_running *run = &in->running[r];
		struct sched_expiry e = { .job = (uint32_t)r,
					  .job_id = run->id,
					  .block = run->block };
		if (due(in, run, &e.action, &e.at))
			out[n++] = e;
	}
	qsort(out, n, sizeof(*out), cmp_expiry);
}

cbq_ms sched_expiry_next(const struct sched_input *in)
{
	cbq_ms next = SCHED_NO_ETA;

	for (size_t r = 0; r < in->n_running; r++) {
		const struct sched_running *run = &in->running[r];
		const struct sched_block *b = &in->blocks[run->block];
		cbq_ms cutoff = sched_cutoff(b), w = warn_at(in, b), t = SCHED_NO_ETA;
		if (in->now >= cutoff)
			continue;
		if (run->expected_end > cutoff && !run->expiring && w > in->now)
			t = w;
		else if (run->expected_end > cutoff)
			t = cutoff;
		if (t != SCHED_NO_ETA && (next == SCHED_NO_ETA || t < next))
			next = t;
	}
	return next;
}
