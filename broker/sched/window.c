/*
 * The policy in force over time: each kind's boost and share cap from the
 * timeline rows SQL computed (time zones and daylight saving are SQL's
 * job, not this file's), the capacity a share is taken of, and team quotas.
 * It answers "from when may this job start"; it does not order or place
 * jobs. Both limits are kept as the room left at each moment (what may still start), so
 * a question is a search for the first step with enough room.
 */
#include "sched/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_window(const void *a, const void *b)
{
	const struct sched_window *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

size_t sched_window_clip(const struct sched_window *in, size_t n, cbq_ms from, cbq_ms to,
			 struct sched_window *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i].end <= from || in[i].start >= to)
			continue;
		out[k] = in[i];
		if (out[k].start < from)
			out[k].start = from;
		if (out[k].end > to)
			out[k].end = to;
		k++;
	}
	return k;
}

static int cmp_quota(const void *a, const void *b)
{
	const struct sched_quota *x = a, *y = b;

	if (x->team != y->team)
		return x->team < y->team ? -1 : 1;
	return (x->type > y->type) - (x->type < y->type);
}

/* Index (in the input) of a row equal to w, for messages. */
static size_t input_index(const struct sched_input *in, const struct sched_window *w)
{
	for (size_t i = 0; i < in->n_timeline; i++)
		if (!memcmp(&in->timeline[i], w, sizeof(*w)))
			return i;
	return 0;
}

const struct sched_window *sched_window_at(const struct sched_ctx *ctx, uint32_t kind, cbq_ms t)
{
	uint32_t lo = ctx->win_off[kind], hi = ctx->win_off[kind + 1];

	/* last row starting at or before t */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ctx->win[mid].start <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ctx->win_off[kind])
		return NULL;
	const struct sched_window *w = &ctx->win[lo - 1];
	return t < w->end ? w : NULL;
}

uint32_t sched_quota_find(const struct sched_ctx *ctx, uint32_t team, uint32_t type)
{
	if (ctx->quota_of)
		return ctx->quota_of[(size_t)team * ctx->in->n_types + type];
	struct sched_quota key = { .team = team, .type = type };
	const struct sched_quota *q =
		bsearch(&key, ctx->quota, ctx->in->n_quotas, sizeof(key), cmp_quota);
	return q ? (uint32_t)(q - ctx->quota) : SCHED_NONE;
}

static int64_t share_of(const struct sched_window *w, int64_t capacity)
{
	return (int64_t)(w->max_share * (double)capacity + 1e-9);
}

static bool row_capped(const struct sched_ctx *ctx, const struct sched_window *w)
{
	return w->max_share < 1.0 && w->end > ctx->now && w->start <= ctx->horizon_end;
}

/* Room of a kind on type under capped row w: floor(share × capacity), in
 * steps of the type's capacity. */
static void row_room_init(struct sched_ctx *ctx, struct sched_steps *room,
			  const struct sched_window *w, uint32_t type)
{
	const struct sched_steps *cap = &ctx->type_cap[type];
	cbq_ms a = w->start > ctx->now ? w->start : ctx->now;
	cbq_ms b = w->end < cap->end ? w->end : cap->end;
	uint32_t c = sched_steps_find(cap, a);

	sched_steps_init(room, a, b, share_of(w, cap->s[c].v));
	for (c++; c < cap->n && cap->s[c].t < b; c++)
		sched_steps_add(room, cap->s[c].t, b,
				share_of(w, cap->s[c].v) - share_of(w, cap->s[c - 1].v));
}

/* First row of kind ending after t (rows of a kind do not overlap). */
static uint32_t row_after(const struct sched_ctx *ctx, uint32_t kind, cbq_ms t)
{
	uint32_t lo = ctx->win_off[kind], hi = ctx->win_off[kind + 1];

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ctx->win[mid].end <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

enum cbq_err sched_window_prepare(struct sched_ctx *ctx, struct cbq_error *err)
{
	const struct sched_input *in = ctx->in;
	size_t nk = in->n_kinds, nt = in->n_types, nw = in->n_timeline;
	bool any_capped = false;

	ctx->win = sched_alloc(nw, sizeof(*ctx->win));
	ctx->win_off = sched_alloc(nk + 1, sizeof(*ctx->win_off));
	ctx->kind_capped = sched_alloc(nk, sizeof(*ctx->kind_capped));
	ctx->boost_now = sched_alloc(nk, sizeof(*ctx->boost_now));
	if (nw)
		memcpy(ctx->win, in->timeline, nw * sizeof(*ctx->win));
	qsort(ctx->win, nw, sizeof(*ctx->win), cmp_window);
	for (size_t i = 0; i < nw; i++) {
		const struct sched_window *w = &ctx->win[i];
		if (i > 0 && w[-1].kind == w->kind && w[-1].end > w->start) {
			char field[64];
			snprintf(field, sizeof(field), "timeline[%zu]", input_index(in, w));
			return cbq_fail(err, CBQ_ERR_INVALID, field,
					"timeline rows of kind %s overlap: combine them into one "
					"row per interval (max boost, min share)",
					in->kinds[w->kind]);
		}
		ctx->win_off[w->kind + 1]++;
		if (row_capped(ctx, w)) {
			ctx->kind_capped[w->kind] = true;
			any_capped = true;
		}
	}
	for (size_t k = 0; k < nk; k++) {
		ctx->win_off[k + 1] += ctx->win_off[k];
		const struct sched_window *w = sched_window_at(ctx, (uint32_t)k, ctx->now);
		ctx->boost_now[k] = w ? w->boost : 0;
	}

	/* starts happen in [now, horizon_end]; room is asked for nowhere else */
	cbq_ms lo = ctx->now, hi = ctx->horizon_end + 1;
	if (any_capped) {
		ctx->type_cap = sched_alloc(nt, sizeof(*ctx->type_cap));
		for (size_t t = 0; t < nt; t++)
			sched_steps_init(&ctx->type_cap[t], lo, hi, 0);
		for (size_t b = 0; b < in->n_blocks; b++) {
			const struct sched_blk *blk = &ctx->blk[b];
			if (blk->plannable && blk->cap > 0)
				sched_steps_add(&ctx->type_cap[in->blocks[b].type], blk->plan_start,
						blk->cutoff, blk->cap);
		}
		ctx->share_room = sched_alloc(nk * nt, sizeof(*ctx->share_room));
		for (size_t k = 0; k < nk; k++) {
			if (!ctx->kind_capped[k])
				continue;
			uint32_t first = ctx->win_off[k], rows = ctx->win_off[k + 1] - first;
			for (size_t t = 0; t < nt; t++) {
				struct sched_steps *p = sched_alloc(rows, sizeof(*p));
				for (uint32_t r = 0; r < rows; r++)
					if (row_capped(ctx, &ctx->win[first + r]))
						row_room_init(ctx, &p[r], &ctx->win[first + r],
							      (uint32_t)t);
				ctx->share_room[k * nt + t] = p;
			}
		}
	}

	ctx->quota = sched_alloc(in->n_quotas, sizeof(*ctx->quota));
	ctx->quota_room = sched_alloc(in->n_quotas, sizeof(*ctx->quota_room));
	if (in->n_quotas)
		memcpy(ctx->quota, in->quotas, in->n_quotas * sizeof(*ctx->quota));
	qsort(ctx->quota, in->n_quotas, sizeof(*ctx->quota), cmp_quota);
	for (size_t q = 0; q < in->n_quotas; q++) {
		if (q > 0 && cmp_quota(&ctx->quota[q - 1], &ctx->quota[q]) == 0)
			return cbq_fail(err, CBQ_ERR_INVALID, "quotas",
					"team %s has two quotas for %s: keep one",
					in->teams[ctx->quota[q].team].name,
					in->types[ctx->quota[q].type]);
		sched_steps_init(&ctx->quota_room[q], lo, hi, ctx->quota[q].max);
	}
	if (in->n_teams * nt <= SCHED_TABLE_MAX) {
		ctx->quota_of = sched_alloc(in->n_teams * nt, sizeof(*ctx->quota_of));
		for (size_t i = 0; i < in->n_teams * nt; i++)
			ctx->quota_of[i] = SCHED_NONE;
		for (size_t q = 0; q < in->n_quotas; q++)
			ctx->quota_of[(size_t)ctx->quota[q].team * nt + ctx->quota[q].type] =
				(uint32_t)q;
	}

	/* what running jobs already hold */
	for (size_t r = 0; r < in->n_running; r++) {
		const struct sched_running *run = &in->running[r];
		const struct sched_blk *blk = &ctx->blk[run->block];
		if (!blk->launchable)
			continue;
		cbq_ms until = run->expected_end > ctx->now ? run->expected_end : ctx->now + 1;
		if (until > blk->cutoff)
			until = blk->cutoff;
		uint32_t type = in->blocks[run->block].type;
		uint32_t q = sched_quota_find(ctx, in->accounts[run->account].team, type);
		sched_policy_take(ctx, run->kind, type, q, ctx->now, until, run->count);
	}
	return CBQ_OK;
}

void sched_window_free(struct sched_ctx *ctx)
{
	const struct sched_input *in = ctx->in;

	if (ctx->type_cap)
		for (size_t t = 0; t < in->n_types; t++)
			sched_steps_free(&ctx->type_cap[t]);
	if (ctx->share_room)
		for (size_t i = 0; i < in->n_kinds * in->n_types; i++) {
			struct sched_steps *p = ctx->share_room[i];
			size_t k = i / in->n_types;
			for (uint32_t r = 0; p && r < ctx->win_off[k + 1] - ctx->win_off[k]; r++)
				sched_steps_free(&p[r]);
			free(p);
		}
	if (ctx->quota_room)
		for (size_t q = 0; q < in->n_quotas; q++)
			sched_steps_free(&ctx->quota_room[q]);
	free(ctx->type_cap);
	free(ctx->share_room);
	free(ctx->quota_room);
	free(ctx->quota);
	free(ctx->quota_of);
	free(ctx->win);
	free(ctx->win_off);
	free(ctx->kind_capped);
	free(ctx->boost_now);
}

/* The room profile of kind on type under row w, or NULL when w is not capped. */
static struct sched_steps *row_room(const struct sched_ctx *ctx, uint32_t kind, uint32_t type,
				    const struct sched_window *w)
{
	struct sched_steps *rows = ctx->share_room[(size_t)kind * ctx->in->n_types + type];
	struct sched_steps *p = &rows[w - ctx->win - ctx->win_off[kind]];
	return p->n ? p : NULL;
}

bool sched_policy_ok(const struct sched_ctx *ctx, const struct sched_pending *j, uint32_t q,
		     cbq_ms t, int64_t *used, int64_t *limit, bool *quota)
{
	*quota = false;
	if (ctx->kind_capped[j->kind]) {
		const struct sched_window *w = sched_window_at(ctx, j->kind, t);
		struct sched_steps *room = w ? row_room(ctx, j->kind, j->type, w) : NULL;
		int64_t r = room ? sched_steps_at(room, t) : 0;
		if (room && r < j->count) {
			*limit = share_of(w, sched_steps_at(&ctx->type_cap[j->type], t));
			*used = *limit - r;
			return false;
		}
	}
	if (q != SCHED_NONE) {
		int64_t room = sched_steps_at(&ctx->quota_room[q], t);
		if (room < j->count) {
			*limit = ctx->quota[q].max;
			*used = *limit - room;
			*quota = true;
			return false;
		}
	}
	return true;
}

/* Earliest t' ≥ t with room ≥ count on p, or SCHED_NO_ETA when none before
 * p ends. */
static cbq_ms first_room(struct sched_steps *p, cbq_ms t, int64_t count)
{
	return count > JOB_COUNT_MAX ? SCHED_NO_ETA : sched_steps_room(p, t, count);
}

/* Earliest t' ≥ t at which j's kind may start count more on its type. */
static cbq_ms share_next_ok(struct sched_ctx *ctx, const struct sched_pending *j, cbq_ms t)
{
	uint32_t last = ctx->win_off[j->kind + 1];

	if (!ctx->kind_capped[j->kind])
		return t;
	for (uint32_t r = row_after(ctx, j->kind, t); r < last; r++) {
		const struct sched_window *w = &ctx->win[r];
		struct sched_steps *room = row_room(ctx, j->kind, j->type, w);
		if (w->start > t || !room || t >= room->end)
			return t; /* in a gap or under a row without a cap */
		cbq_ms ok = first_room(room, t, j->count);
		if (ok != SCHED_NO_ETA)
			return ok;
		t = w->end; /* full to the end of the row: try what follows */
	}
	return t;
}

cbq_ms sched_policy_next_ok(struct sched_ctx *ctx, const struct sched_pending *j, uint32_t q,
			    cbq_ms t)
{
	/* both must have room at once: alternate until they agree */
	for (;;) {
		cbq_ms a = share_next_ok(ctx, j, t);
		if (a > ctx->horizon_end)
			return SCHED_NO_ETA;
		cbq_ms b = q != SCHED_NONE ? first_room(&ctx->quota_room[q], a, j->count) : a;
		if (b == a || b == SCHED_NO_ETA)
			return b;
		t = b;
	}
}

void sched_policy_take(struct sched_ctx *ctx, uint32_t kind, uint32_t type, uint32_t q, cbq_ms a,
		       cbq_ms b, int64_t count)
{
	if (ctx->share_room && ctx->kind_capped[kind]) {
		uint32_t last = ctx->win_off[kind + 1];
		for (uint32_t r = row_after(ctx, kind, a); r < last && ctx->win[r].start < b; r++) {
			struct sched_steps *room = row_room(ctx, kind, type, &ctx->win[r]);
			if (room)
				sched_steps_add(room, a, b, -count);
		}
	}
	if (q != SCHED_NONE)
		sched_steps_add(&ctx->quota_room[q], a, b, -count);
}
