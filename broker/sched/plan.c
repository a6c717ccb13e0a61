/*
 * sched_plan(): checks the snapshot, runs the pass (blocks → policy → order
 * → placement → expiry) and hands the caller a plan it owns. Holds no
 * decisions of its own beyond what is valid input.
 */
#include "sched/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS ((cbq_ms)3600 * 1000)
#define DAY_MS (24 * HOUR_MS)

void sched_settings_default(struct sched_settings *s)
{
	*s = (struct sched_settings){
		.ageing_per_hour = 1.0,
		.fair_share_weight = 100.0,
		.half_life = 7 * DAY_MS,
		.expiry_lead = 10 * 60 * 1000,
		.horizon = 28 * DAY_MS,
		.min_run = 30 * 60 * 1000,
	};
}

enum sched_block_state sched_block_state_from_ec2(const char *state)
{
	if (state && strcmp(state, "active") == 0)
		return SCHED_BLOCK_ACTIVE;
	if (state && strcmp(state, "scheduled") == 0)
		return SCHED_BLOCK_SCHEDULED;
	return SCHED_BLOCK_INACTIVE;
}

/* Fails with field "<what>[i].<name>". */
CBQ_PRINTF(5, 6)
static enum cbq_err bad(struct cbq_error *err, const char *what, size_t i, const char *name,
			const char *fmt, ...)
{
	char field[64];
	va_list ap;

	if (i == SIZE_MAX)
		snprintf(field, sizeof(field), "%s.%s", what, name);
	else
		snprintf(field, sizeof(field), "%s[%zu].%s", what, i, name);
	va_start(ap, fmt);
	cbq_vfail(err, CBQ_ERR_INVALID, field, fmt, ap);
	va_end(ap);
	return CBQ_ERR_INVALID;
}

static bool time_ok(cbq_ms t)
{
	return t >= 0 && t <= SCHED_TIME_MAX;
}

static bool finite_in(double x, double lo, double hi)
{
	return x >= lo && x <= hi; /* false for NaN */
}

static enum cbq_err check_sizes(const struct sched_input *in, struct cbq_error *err)
{
	static const struct {
		const char *name;
		size_t off_n, off_p, max;
	} tables[] = {
#define T(f, m) { #f, offsetof(struct sched_input, n_##f), offsetof(struct sched_input, f), m }
		T(kinds, SCHED_KINDS_MAX),	 T(types, SCHED_TYPES_MAX),
		T(azs, SCHED_AZS_MAX),		 T(teams, SCHED_TEAMS_MAX),
		T(accounts, SCHED_ACCOUNTS_MAX), T(quotas, SCHED_QUOTAS_MAX),
		T(timeline, SCHED_TIMELINE_MAX), T(blocks, SCHED_BLOCKS_MAX),
		T(pending, SCHED_PENDING_MAX),	 T(running, SCHED_RUNNING_MAX),
#undef T
	};
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		size_t n;
		const void *p;
		memcpy(&n, (const char *)in + tables[i].off_n, sizeof(n));
		memcpy(&p, (const char *)in + tables[i].off_p, sizeof(p));
		if (n > tables[i].max)
			return bad(err, tables[i].name, SIZE_MAX, "length",
				   "%zu %s; at most %zu in one plan", n, tables[i].name,
				   tables[i].max);
		if (n && !p)
			return bad(err, tables[i].name, SIZE_MAX, "length", "%zu %s but no array",
				   n, tables[i].name);
	}
	return CBQ_OK;
}

static enum cbq_err check_settings(const struct sched_input *in, struct cbq_error *err)
{
	const struct sched_settings *s = &in->settings;

	if (!time_ok(in->now))
		return bad(err, "input", SIZE_MAX, "now", "now is out of range");
	if (!finite_in(s->ageing_per_hour, 0, 1e6))
		return bad(err, "settings", SIZE_MAX, "ageing_per_hour", "must be 0..1000000");
	if (!finite_in(s->fair_share_weight, 0, 1e6))
		return bad(err, "settings", SIZE_MAX, "fair_share_weight", "must be 0..1000000");
	if (s->half_life < 60000 || s->half_life > 3650 * DAY_MS)
		return bad(err, "settings", SIZE_MAX, "half_life", "must be 1 minute..10 years");
	if (s->expiry_lead < 0 || s->expiry_lead > DAY_MS)
		return bad(err, "settings", SIZE_MAX, "expiry_lead", "must be 0..1 day");
	if (s->horizon < HOUR_MS || s->horizon > 366 * DAY_MS)
		return bad(err, "settings", SIZE_MAX, "horizon", "must be 1 hour..366 days");
	if (s->min_run < 60000 || s->min_run > JOB_DURATION_MAX_S * 1000)
		return bad(err, "settings", SIZE_MAX, "min_run", "must be 1 minute..14 days");
	return CBQ_OK;
}

static enum cbq_err check_names(const char *what, const char *const *names, size_t n,
				struct cbq_error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!names[i])
			return bad(err, what, i, "name", "missing name");
	return CBQ_OK;
}

static enum cbq_err check_tables(const struct sched_input *in, struct cbq_error *err)
{
	enum cbq_err rc;

	if ((rc = check_names("kinds", in->kinds, in->n_kinds, err)) ||
	    (rc = check_names("types", in->types, in->n_types, err)) ||
	    (rc = check_names("azs", in->azs, in->n_azs, err)))
		return rc;
	for (size_t i = 0; i < in->n_teams; i++) {
		const struct sched_team *t = &in->teams[i];
		if (!t->name)
			return bad(err, "teams", i, "name", "missing name");
		if (t->priority < -JOB_PRIORITY_MAX || t->priority > JOB_PRIORITY_MAX)
			return bad(err, "teams", i, "priority",
				   "team %s: priority %d is outside ±%d", t->name, t->priority,
				   JOB_PRIORITY_MAX);
		if (!finite_in(t->usage, 0, 1e15))
			return bad(err, "teams", i, "usage", "team %s: usage must be ≥ 0", t->name);
		if (!time_ok(t->usage_at))
			return bad(err, "teams", i, "usage_at", "team %s: out of range", t->name);
	}
	for (size_t i = 0; i < in->n_accounts; i++) {
		if (!in->accounts[i].id)
			return bad(err, "accounts", i, "id", "missing id");
		if (in->accounts[i].team >= in->n_teams)
			return bad(err, "accounts", i, "team", "account %s: no such team",
				   in->accounts[i].id);
	}
	for (size_t i = 0; i < in->n_quotas; i++) {
		const struct sched_quota *q = &in->quotas[i];
		if (q->team >= in->n_teams)
			return bad(err, "quotas", i, "team", "no such team");
		if (q->type >= in->n_types)
			return bad(err, "quotas", i, "type", "no such instance type");
		if (q->max < 0 || q->max > SCHED_BLOCK_TOTAL_MAX)
			return bad(err, "quotas", i, "max", "must be 0..%d", SCHED_BLOCK_TOTAL_MAX);
	}
	for (size_t i = 0; i < in->n_timeline; i++) {
		const struct sched_window *w = &in->timeline[i];
		if (w->kind >= in->n_kinds)
			return bad(err, "timeline", i, "kind", "no such kind");
		if (!time_ok(w->start) || !time_ok(w->end) || w->start >= w->end)
			return bad(err, "timeline", i, "end", "needs start < end, both in range");
		if (w->boost < -SCHED_BOOST_MAX || w->boost > SCHED_BOOST_MAX)
			return bad(err, "timeline", i, "boost", "must be within ±%d",
				   SCHED_BOOST_MAX);
		if (!finite_in(w->max_share, 0, 1))
			return bad(err, "timeline", i, "max_share", "must be 0..1");
	}
	return CBQ_OK;
}

static enum cbq_err check_blocks(const struct sched_input *in, struct cbq_error *err)
{
	size_t consumers = 0;

	for (size_t i = 0; i < in->n_blocks; i++) {
		const struct sched_block *b = &in->blocks[i];
		if (!b->id)
			return bad(err, "blocks", i, "id", "missing id");
		if (b->state != SCHED_BLOCK_ACTIVE && b->state != SCHED_BLOCK_SCHEDULED &&
		    b->state != SCHED_BLOCK_INACTIVE)
			return bad(err, "blocks", i, "state", "block %s: unknown state", b->id);
		if (b->type >= in->n_types)
			return bad(err, "blocks", i, "type", "block %s: no such instance type",
				   b->id);
		if (b->az >= in->n_azs)
			return bad(err, "blocks", i, "az", "block %s: no such AZ", b->id);
		if (b->owner != SCHED_NONE && b->owner >= in->n_accounts)
			return bad(err, "blocks", i, "owner", "block %s: no such account", b->id);
		if (b->total < 1 || b->total > SCHED_BLOCK_TOTAL_MAX)
			return bad(err, "blocks", i, "total", "block %s: total must be 1..%d",
				   b->id, SCHED_BLOCK_TOTAL_MAX);
		if (b->available < 0 || b->available > b->total)
			return bad(err, "blocks", i, "available", "block %s: must be 0..total",
				   b->id);
		if (b->used_outside < 0 || b->used_outside > b->total)
			return bad(err, "blocks", i, "used_outside", "block %s: must be 0..total",
				   b->id);
		if (!time_ok(b->start) || !time_ok(b->end) || b->start >= b->end)
			return bad(err, "blocks", i, "end", "block %s: needs start < end", b->id);
		if (b->n_consumers > SCHED_CONSUMERS_MAX || (b->n_consumers && !b->consumers))
			return bad(err, "blocks", i, "consumers", "block %s: at most %d", b->id,
				   SCHED_CONSUMERS_MAX);
		for (size_t c = 0; c < b->n_consumers; c++)
			if (b->consumers[c] >= in->n_accounts)
				return bad(err, "blocks", i, "consumers",
					   "block %s: consumer %zu is no account", b->id, c);
		consumers += b->n_consumers;
		if (consumers > SCHED_CONSUMERS_TOTAL_MAX)
			return bad(err, "blocks", i, "consumers",
				   "more than %d consumers over all blocks",
				   SCHED_CONSUMERS_TOTAL_MAX);
	}
	return CBQ_OK;
}

static enum cbq_err check_jobs(const struct sched_input *in, struct cbq_error *err)
{
	for (size_t i = 0; i < in->n_pending; i++) {
		const struct sched_pending *j = &in->pending[i];
		if (j->account >= in->n_accounts)
			return bad(err, "pending", i, "account", "no such account");
		if (j->kind >= in->n_kinds)
			return bad(err, "pending", i, "kind", "no such kind");
		if (j->type >= in->n_types)
			return bad(err, "pending", i, "type", "no such instance type");
		if (j->az != SCHED_NONE && j->az >= in->n_azs)
			return bad(err, "pending", i, "az", "no such AZ");
		if (j->count < 1 || j->count > JOB_COUNT_MAX)
			return bad(err, "pending", i, "count", "must be 1..%d", JOB_COUNT_MAX);
		if (j->duration < 1000 || j->duration > JOB_DURATION_MAX_S * 1000)
			return bad(err, "pending", i, "duration", "must be 1 s..14 days");
		if (j->priority < -JOB_PRIORITY_MAX || j->priority > JOB_PRIORITY_MAX)
			return bad(err, "pending", i, "priority", "must be within ±%d",
				   JOB_PRIORITY_MAX);
		if (!time_ok(j->submitted_at))
			return bad(err, "pending", i, "submitted_at", "out of range");
	}
	for (size_t i = 0; i < in->n_running; i++) {
		const struct sched_running *r = &in->running[i];
		if (r->account >= in->n_accounts)
			return bad(err, "running", i, "account", "no such account");
		if (r->kind >= in->n_kinds)
			return bad(err, "running", i, "kind", "no such kind");
		if (r->block >= in->n_blocks)
			return bad(err, "running", i, "block", "no such block");
		if (r->count < 1 || r->count > JOB_COUNT_MAX)
			return bad(err, "running", i, "count", "must be 1..%d", JOB_COUNT_MAX);
		if (!time_ok(r->started_at) || !time_ok(r->expected_end) ||
		    r->expected_end < r->started_at)
			return bad(err, "running", i, "expected_end",
				   "needs started_at ≤ expected_end");
	}
	return CBQ_OK;
}

static void ctx_free(struct sched_ctx *ctx)
{
	if (ctx->type_az_blocks)
		for (size_t t = 0; t < ctx->in->n_types; t++)
			free(ctx->type_az_blocks[t]);
	free(ctx->type_az_blocks);
	free(ctx->rises);
	sched_window_free(ctx);
	sched_blocks_free(ctx);
}

static cbq_ms earliest(cbq_ms a, cbq_ms b)
{
	if (a == SCHED_NO_ETA)
		return b;
	if (b == SCHED_NO_ETA)
		return a;
	return a < b ? a : b;
}

/* The next moment the plan changes by itself (see struct sched_plan). */
static cbq_ms next_change(const struct sched_ctx *ctx, const struct sched_plan *p)
{
	const struct sched_input *in = ctx->in;
	cbq_ms now = ctx->now, next = sched_expiry_next(in);

	for (size_t i = 0; i < in->n_timeline; i++) {
		const struct sched_window *w = &in->timeline[i];
		if (w->start > now)
			next = earliest(next, w->start);
		else if (w->end > now)
			next = earliest(next, w->end);
	}
	for (size_t i = 0; i < p->n_reservations; i++)
		next = earliest(next, p->reservations[i].start);
	for (size_t r = 0; r < in->n_running; r++)
		if (in->running[r].expected_end > now)
			next = earliest(next, in->running[r].expected_end);
	for (size_t b = 0; b < in->n_blocks; b++)
		if (in->blocks[b].state == SCHED_BLOCK_SCHEDULED && in->blocks[b].start > now)
			next = earliest(next, in->blocks[b].start);
	return next;
}

enum cbq_err sched_plan(const struct sched_input *in, struct sched_plan *out, struct cbq_error *err)
{
	struct sched_ctx ctx = { .in = in };
	struct sched_plan p = { 0 };
	enum cbq_err rc;

	if (!in || !out)
		return cbq_fail(err, CBQ_ERR_INVALID, "input", "no input or no plan to fill");
	if ((rc = check_sizes(in, err)) || (rc = check_settings(in, err)) ||
	    (rc = check_tables(in, err)) || (rc = check_blocks(in, err)) ||
	    (rc = check_jobs(in, err)))
		return rc;

	ctx.now = in->now;
	ctx.horizon_end = in->now + in->settings.horizon;
	p.n_verdicts = in->n_pending;
	p.verdicts = sched_alloc(in->n_pending, sizeof(*p.verdicts));
	p.order = sched_alloc(in->n_pending, sizeof(*p.order));
	ctx.verdicts = p.verdicts;
	ctx.order = p.order;

	if ((rc = sched_blocks_prepare(&ctx, err)) || (rc = sched_window_prepare(&ctx, err)) ||
	    (rc = sched_order(&ctx, err)))
		goto out;
	sched_place_all(&ctx);

	for (size_t i = 0; i < in->n_pending; i++) {
		p.n_launches += p.verdicts[i].place == SCHED_PLACE_LAUNCH;
		p.n_reservations += p.verdicts[i].place == SCHED_PLACE_RESERVE;
	}
	p.launches = sched_alloc(p.n_launches, sizeof(*p.launches));
	p.reservations = sched_alloc(p.n_reservations, sizeof(*p.reservations));
	size_t nl = 0, nr = 0;
	for (size_t r = 0; r < in->n_pending; r++) {
		uint32_t j = p.order[r];
		const struct sched_verdict *v = &p.verdicts[j];
		if (v->place == SCHED_PLACE_LAUNCH)
			p.launches[nl++] = (struct sched_launch){ .job = j,
								  .job_id = in->pending[j].id,
								  .block = v->block };
		else if (v->place == SCHED_PLACE_RESERVE)
			p.reservations[nr++] =
				(struct sched_reservation){ .job = j,
							    .job_id = in->pending[j].id,
							    .block = v->block,
							    .start = v->eta };
	}
	p.n_expiries = sched_expiry_count(in);
	p.expiries = sched_alloc(p.n_expiries, sizeof(*p.expiries));
	sched_expiry_fill(in, p.expiries);
	p.next_at = next_change(&ctx, &p);

	*out = p;
	memset(&p, 0, sizeof(p)); /* ownership moved to the caller */
out:
	ctx_free(&ctx);
	sched_plan_free(&p);
	return rc;
}

void sched_plan_free(struct sched_plan *plan)
{
	if (!plan)
		return;
	free(plan->order);
	free(plan->verdicts);
	free(plan->launches);
	free(plan->reservations);
	free(plan->expiries);
	memset(plan, 0, sizeof(*plan));
}
