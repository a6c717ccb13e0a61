/*
 * Why a pending job waits: one reason per job, with the numbers that make it
 * actionable, and its text. Decides nothing about placement; it explains
 * what place.c decided, looking at the same state.
 */
#include "sched/internal.h"

#include <inttypes.h>
#include <stdio.h>

#include "core/duration.h"

static const char *const names[SCHED_REASON_COUNT] = {
	[SCHED_REASON_LAUNCHING] = "Launching",
	[SCHED_REASON_NO_ELIGIBLE_BLOCK] = "NoEligibleBlock",
	[SCHED_REASON_EXCEEDS_BLOCK_LIFETIME] = "ExceedsBlockLifetime",
	[SCHED_REASON_POLICY_WINDOW] = "PolicyWindow",
	[SCHED_REASON_TEAM_QUOTA] = "TeamQuota",
	[SCHED_REASON_BEHIND_HIGHER_PRIORITY] = "BehindHigherPriority",
	[SCHED_REASON_WAITING_FOR_CAPACITY] = "WaitingForCapacity",
	[SCHED_REASON_BLOCK_NOT_STARTED] = "BlockNotStarted",
};

const char *sched_reason_name(enum sched_reason r)
{
	return (unsigned)r < SCHED_REASON_COUNT ? names[r] : "Unknown";
}

/* Plannable blocks of j's type (in its AZ if it names one), any account. */
static int32_t blocks_of_type(struct sched_ctx *ctx, const struct sched_pending *j)
{
	size_t na = ctx->in->n_azs;

	if (!ctx->type_az_blocks)
		ctx->type_az_blocks = sched_alloc(ctx->in->n_types, sizeof(*ctx->type_az_blocks));
	int32_t *n = ctx->type_az_blocks[j->type];
	if (!n) {
		n = ctx->type_az_blocks[j->type] = sched_alloc(na + 1, sizeof(*n));
		for (uint32_t k = ctx->type_off[j->type]; k < ctx->type_off[j->type + 1]; k++) {
			n[ctx->in->blocks[ctx->type_blk[k]].az]++;
			n[na]++;
		}
	}
	return n[j->az == SCHED_NONE ? na : j->az];
}

static double share_at(const struct sched_ctx *ctx, uint32_t kind, cbq_ms t)
{
	const struct sched_window *w = sched_window_at(ctx, kind, t);
	return w ? w->max_share : 1.0;
}

static cbq_ms share_rises_now(const struct sched_ctx *ctx, uint32_t kind)
{
	double cur = share_at(ctx, kind, ctx->now);

	for (uint32_t i = ctx->win_off[kind]; i < ctx->win_off[kind + 1]; i++) {
		const struct sched_window *w = &ctx->win[i];
		cbq_ms edges[2] = { w->start, w->end };
		for (int e = 0; e < 2; e++) {
			if (edges[e] <= ctx->now)
				continue;
			if (edges[e] >= ctx->horizon_end)
				return SCHED_NO_ETA;
			if (share_at(ctx, kind, edges[e]) > cur)
				return edges[e];
		}
	}
	return SCHED_NO_ETA;
}

/* When kind's share next rises above what it is at now, within the
 * horizon (past it the timeline says nothing), or SCHED_NO_ETA. */
static cbq_ms share_rises(struct sched_ctx *ctx, uint32_t kind)
{
	if (!ctx->rises)
		ctx->rises = sched_alloc(ctx->in->n_kinds, sizeof(*ctx->rises));
	if (ctx->rises[kind] == 0)
		ctx->rises[kind] = share_rises_now(ctx, kind);
	return ctx->rises[kind];
}

void sched_diag_start(struct sched_diag *d)
{
	*d = (struct sched_diag){ .life = -1,
				  .short_life = -1,
				  .life_block = SCHED_NONE,
				  .first = SCHED_NONE,
				  .room = SCHED_NONE,
				  .wait = SCHED_NONE,
				  .shortest = SCHED_NONE };
}

/*
 * The blocks j may use tell every reason apart: whether any can hold it at
 * all, whether any lasts long enough, and among the active ones whether one
 * had room now before this pass placed anything (then jobs ahead took it)
 * or which has the most free (then it waits for capacity).
 */
void sched_diag_note(const struct sched_ctx *ctx, const struct sched_pending *j, cbq_ms need,
		     uint32_t bi, struct sched_diag *d)
{
	const struct sched_blk *B = &ctx->blk[bi];
	cbq_ms now = ctx->now;

	d->n_elig++;
	if (B->cap > d->largest)
		d->largest = B->cap;
	if (B->cap < j->count)
		return;
	if (B->cutoff - B->plan_start > d->life) {
		d->life = B->cutoff - B->plan_start;
		d->life_block = bi;
	}
	if (!B->launchable) {
		/* the earliest scheduled block it fits, for BlockNotStarted */
		if (B->cutoff - B->plan_start >= need &&
		    (d->first == SCHED_NONE || B->plan_start < ctx->blk[d->first].plan_start))
			d->first = bi;
		return;
	}
	if (now + need <= B->cutoff) {
		cbq_ms len = j->duration < B->cutoff - now ? j->duration : B->cutoff - now;
		if (d->room == SCHED_NONE && sched_base_min(B, now + len) >= j->count)
			d->room = bi;
		if (d->wait == SCHED_NONE || B->free_now > ctx->blk[d->wait].free_now)
			d->wait = bi;
	} else if (B->cutoff - now > d->short_life) {
		d->short_life = B->cutoff - now;
		d->shortest = bi;
	}
}

void sched_diagnose(struct sched_ctx *ctx, const struct sched_pending *j, struct sched_verdict *v,
		    uint32_t q, const struct sched_diag *d)
{
	const struct sched_input *in = ctx->in;

	v->need = j->count;
	if (d->life_block == SCHED_NONE) {
		v->reason = SCHED_REASON_NO_ELIGIBLE_BLOCK;
		v->blocks = blocks_of_type(ctx, j);
		v->used = d->n_elig;
		v->limit = (int32_t)d->largest;
		return;
	}
	if (d->life < sched_min_len(ctx, j)) {
		v->reason = SCHED_REASON_EXCEEDS_BLOCK_LIFETIME;
		v->reason_block = d->life_block;
		v->span_need = j->duration;
		v->span = d->life;
		return;
	}
	if (ctx->kind_capped[j->kind] || q != SCHED_NONE) {
		int64_t used = 0, limit = 0;
		bool quota;
		if (!sched_policy_ok(ctx, j, q, ctx->now, &used, &limit, &quota)) {
			v->reason = quota ? SCHED_REASON_TEAM_QUOTA : SCHED_REASON_POLICY_WINDOW;
			v->used = (int32_t)used;
			v->limit = (int32_t)limit;
			if (!quota)
				v->at = share_rises(ctx, j->kind);
			return;
		}
	}
	if (d->room != SCHED_NONE) {
		v->reason = SCHED_REASON_BEHIND_HIGHER_PRIORITY;
		v->reason_block = d->room;
	} else if (d->wait != SCHED_NONE) {
		v->reason = SCHED_REASON_WAITING_FOR_CAPACITY;
		v->reason_block = d->wait;
		v->free_now = ctx->blk[d->wait].free_now;
		v->outside = ctx->blk[d->wait].outside;
	} else if (d->shortest != SCHED_NONE) {
		v->reason = SCHED_REASON_EXCEEDS_BLOCK_LIFETIME;
		v->reason_block = d->shortest;
		v->span_need = j->duration;
		v->span = d->short_life;
	} else {
		/* only blocks that have not started qualify */
		uint32_t first = v->place == SCHED_PLACE_RESERVE ? v->block : d->first;
		v->reason = SCHED_REASON_BLOCK_NOT_STARTED;
		v->reason_block = first;
		v->at = in->blocks[first].start;
	}
}

/* "2026-03-02 20:00Z": UTC, to the minute. */
static const char *format_utc(cbq_ms t, char *buf, size_t size)
{
	return cbq_utc_format(t, buf, size);
}

/* A span to the minute: "4h10m", "6h", "2d". */
static const char *format_span(cbq_ms span, char *buf, size_t size)
{
	return cbq_duration_format(span / 60000 * 60, buf, size);
}

size_t sched_reason_format(const struct sched_input *in, const struct sched_plan *plan, size_t job,
			   char *buf, size_t size)
{
	const struct sched_pending *j = &in->pending[job];
	const struct sched_verdict *v = &plan->verdicts[job];
	const char *blk = v->reason_block != SCHED_NONE ? in->blocks[v->reason_block].id : "-";
	const char *type = in->types[j->type];
	const char *name = sched_reason_name(v->reason);
	char a[CBQ_DURATION_BUF > 32 ? CBQ_DURATION_BUF : 32], b[sizeof(a)];
	char az[SCHED_REASON_BUF / 2] = "";
	int n = 0;

	if (j->az != SCHED_NONE)
		snprintf(az, sizeof(az), " in %s", in->azs[j->az]);
	switch (v->reason) {
	case SCHED_REASON_LAUNCHING:
		n = snprintf(buf, size, "%s (%d on %s, %d free)", name, v->need, blk, v->free_now);
		break;
	case SCHED_REASON_NO_ELIGIBLE_BLOCK:
		if (v->blocks == 0)
			n = snprintf(buf, size, "%s (no active or scheduled %s block%s)", name,
				     type, az);
		else if (v->used == 0)
			n = snprintf(buf, size, "%s (%d %s block%s%s, none shared with account %s)",
				     name, v->blocks, type, v->blocks == 1 ? "" : "s", az,
				     in->accounts[j->account].id);
		else
			n = snprintf(buf, size,
				     "%s (needs %d in one block; the %s blocks%s account %s may "
				     "use have room for %d)",
				     name, v->need, type, az, in->accounts[j->account].id,
				     v->limit);
		break;
	case SCHED_REASON_EXCEEDS_BLOCK_LIFETIME:
		n = snprintf(buf, size, "%s (needs %s, %s before cutoff on %s)", name,
			     format_span(v->span_need, a, sizeof(a)),
			     format_span(v->span, b, sizeof(b)), blk);
		break;
	case SCHED_REASON_POLICY_WINDOW:
		if (v->at != SCHED_NO_ETA)
			n = snprintf(buf, size,
				     "%s (%s may use %d %s now, %d in use, needs %d; from %s)",
				     name, in->kinds[j->kind], v->limit, type, v->used, v->need,
				     format_utc(v->at, a, sizeof(a)));
		else
			n = snprintf(buf, size,
				     "%s (%s may use %d %s now, %d in use, needs %d; no larger "
				     "share in the timeline)",
				     name, in->kinds[j->kind], v->limit, type, v->used, v->need);
		break;
	case SCHED_REASON_TEAM_QUOTA:
		n = snprintf(buf, size, "%s (team %s: %d of %d %s in use, needs %d)", name,
			     in->teams[in->accounts[j->account].team].name, v->used, v->limit, type,
			     v->need);
		break;
	case SCHED_REASON_BEHIND_HIGHER_PRIORITY:
		n = snprintf(buf, size, "%s (position %u; room on %s is held for jobs ahead)", name,
			     v->position, blk);
		break;
	case SCHED_REASON_WAITING_FOR_CAPACITY:
		if (v->outside > 0)
			n = snprintf(buf, size, "%s (needs %d, %d free on %s; %d used outside cbq)",
				     name, v->need, v->free_now, blk, v->outside);
		else
			n = snprintf(buf, size, "%s (needs %d, %d free on %s)", name, v->need,
				     v->free_now, blk);
		break;
	case SCHED_REASON_BLOCK_NOT_STARTED:
		n = snprintf(buf, size, "%s (%s starts %s)", name, blk,
			     format_utc(v->at, a, sizeof(a)));
		break;
	case SCHED_REASON_COUNT: n = snprintf(buf, size, "%s", name); break;
	}
	return n > 0 ? (size_t)n : 0;
}
