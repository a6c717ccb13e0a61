/*
 * Placement and conservative backfill: per block, the free instances over
 * time; per job in queue order, the earliest start on an eligible block
 * (type, AZ, consumer set, lifetime before the cutoff, policy), held for
 * the rest of the pass. Launch at now or reservation later. Not ordering
 * (order.c), not the reason a job waits (reason.c).
 */
#include "sched/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct blk_key {
	uint32_t type;
	uint32_t rank;
	uint32_t block;
};

static int cmp_blk_key(const void *a, const void *b)
{
	const struct blk_key *x = a, *y = b;

	if (x->type != y->type)
		return x->type < y->type ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/* qsort has no context argument: sort pointers to the ids instead */
static int cmp_id_ptr(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	return strcmp(*x, *y);
}

static void build_profiles(struct sched_ctx *ctx)
{
	const struct sched_input *in = ctx->in;

	ctx->runs = sched_alloc(in->n_blocks * (JOB_COUNT_MAX + 1), sizeof(*ctx->runs));
	for (size_t b = 0; b < in->n_blocks; b++) {
		struct sched_blk *B = &ctx->blk[b];
		if (!B->plannable)
			continue;
		sched_steps_init(&B->free, B->plan_start, B->cutoff, B->cap);
		B->runs = ctx->runs + b * (JOB_COUNT_MAX + 1);
		for (int c = 0; c <= JOB_COUNT_MAX; c++)
			B->runs[c] = -1;
	}
	for (size_t r = 0; r < in->n_running; r++) {
		const struct sched_running *run = &in->running[r];
		struct sched_blk *B = &ctx->blk[run->block];
		if (!B->plannable)
			continue;
		cbq_ms until = run->expected_end > ctx->now ? run->expected_end : ctx->now + 1;
		sched_steps_add(&B->free, ctx->now, until, -(int64_t)run->count);
	}
	for (size_t b = 0; b < in->n_blocks; b++) {
		struct sched_blk *B = &ctx->blk[b];
		if (!B->launchable)
			continue;
		int64_t f = B->free.s[0].v;
		B->free_now = f > 0 ? (int32_t)f : 0;
		/* a copy of the steps only: no caches shared with free */
		B->base = (struct sched_steps){ .n = B->free.n,
						.cap = B->free.n,
						.end = B->free.end };
		B->base.s = sched_alloc(B->free.n, sizeof(*B->base.s));
		memcpy(B->base.s, B->free.s, B->free.n * sizeof(*B->base.s));
		B->base_min = sched_alloc(B->free.n, sizeof(*B->base_min));
		for (uint32_t i = 0; i < B->base.n; i++) {
			int64_t v = B->base.s[i].v;
			B->base_min[i] = i && B->base_min[i - 1] < v ? B->base_min[i - 1] : v;
		}
	}
}

enum cbq_err sched_blocks_prepare(struct sched_ctx *ctx, struct cbq_error *err)
{
	const struct sched_input *in = ctx->in;
	size_t nb = in->n_blocks, na = in->n_accounts, nt = in->n_types;
	const char **ids = sched_alloc(nb, sizeof(*ids));
	int64_t *cbq_used = sched_alloc(nb, sizeof(*cbq_used));
	struct blk_key *keys = sched_alloc(nb, sizeof(*keys));
	uint32_t *fill = NULL;
	enum cbq_err rc = CBQ_OK;

	ctx->blk = sched_alloc(nb, sizeof(*ctx->blk));
	for (size_t b = 0; b < nb; b++)
		ids[b] = in->blocks[b].id;
	qsort(ids, nb, sizeof(*ids), cmp_id_ptr);
	for (size_t i = 0; i < nb; i++) {
		if (i > 0 && strcmp(ids[i - 1], ids[i]) == 0) {
			rc = cbq_fail(err, CBQ_ERR_INVALID, "blocks.id", "block %s is listed twice",
				      ids[i]);
			goto out;
		}
	}
	/* rank = position of the id among sorted ids */
	for (size_t b = 0; b < nb; b++) {
		const char *const *hit =
			bsearch(&in->blocks[b].id, ids, nb, sizeof(*ids), cmp_id_ptr);
		ctx->blk[b].rank = (uint32_t)(hit - ids);
	}

	for (size_t r = 0; r < in->n_running; r++)
		cbq_used[in->running[r].block] += in->running[r].count;
	for (size_t b = 0; b < nb; b++) {
		const struct sched_block *blk = &in->blocks[b];
		struct sched_blk *B = &ctx->blk[b];
		B->cutoff = sched_cutoff(blk);
		B->plan_start = blk->start > ctx->now ? blk->start : ctx->now;
		B->plannable = blk->state != SCHED_BLOCK_INACTIVE && B->cutoff > B->plan_start;
		B->launchable = B->plannable && blk->state == SCHED_BLOCK_ACTIVE &&
				blk->start <= ctx->now;
		int64_t outside = blk->used_outside;
		if (B->launchable) {
			/* AWS's count is the truth now: what it lacks is someone else's */
			int64_t unexplained = blk->total - cbq_used[b] - blk->available;
			if (unexplained > outside)
				outside = unexplained;
		}
		B->outside = (int32_t)outside;
		B->cap = blk->total - outside;
	}
	build_profiles(ctx);

	/* plannable blocks by (type, rank): per type, and per account that may use them */
	size_t np = 0;
	for (size_t b = 0; b < nb; b++)
		if (ctx->blk[b].plannable)
			keys[np++] = (struct blk_key){ .type = in->blocks[b].type,
						       .rank = ctx->blk[b].rank,
						       .block = (uint32_t)b };
	qsort(keys, np, sizeof(*keys), cmp_blk_key);
	ctx->type_off = sched_alloc(nt + 1, sizeof(*ctx->type_off));
	ctx->type_blk = sched_alloc(np, sizeof(*ctx->type_blk));
	for (size_t i = 0; i < np; i++) {
		ctx->type_off[keys[i].type + 1]++;
		ctx->type_blk[i] = keys[i].block;
	}
	for (size_t t = 0; t < nt; t++)
		ctx->type_off[t + 1] += ctx->type_off[t];

	ctx->acc_off = sched_alloc(na + 1, sizeof(*ctx->acc_off));
	size_t total = 0;
	for (size_t i = 0; i < np; i++) {
		const struct sched_block *blk = &in->blocks[keys[i].block];
		total += blk->n_consumers + (blk->owner != SCHED_NONE);
	}
	ctx->acc_blk = sched_alloc(total, sizeof(*ctx->acc_blk));
	/* two passes: count (repeats included), then fill skipping repeats */
	for (size_t i = 0; i < np; i++) {
		const struct sched_block *blk = &in->blocks[keys[i].block];
		for (size_t c = 0; c < blk->n_consumers; c++)
			ctx->acc_off[blk->consumers[c] + 1]++;
		if (blk->owner != SCHED_NONE)
			ctx->acc_off[blk->owner + 1]++;
	}
	for (size_t a = 0; a < na; a++)
		ctx->acc_off[a + 1] += ctx->acc_off[a];
	fill = sched_alloc(na + 1, sizeof(*fill));
	memcpy(fill, ctx->acc_off, (na + 1) * sizeof(*fill));
	for (size_t i = 0; i < np; i++) {
		const struct sched_block *blk = &in->blocks[keys[i].block];
		for (size_t c = 0; c <= blk->n_consumers; c++) {
			uint32_t a = c < blk->n_consumers ? blk->consumers[c] : blk->owner;
			if (a == SCHED_NONE)
				continue;
			/* blocks arrive in (type, rank) order, so a repeat is the last one */
			if (fill[a] > ctx->acc_off[a] && ctx->acc_blk[fill[a] - 1] == keys[i].block)
				continue;
			ctx->acc_blk[fill[a]++] = keys[i].block;
		}
	}
	/* close the gaps repeats left: slide each account's list down */
	size_t w = 0;
	for (size_t a = 0; a < na; a++) {
		uint32_t from = ctx->acc_off[a], to = fill[a];
		ctx->acc_off[a] = (uint32_t)w;
		for (uint32_t k = from; k < to; k++)
			ctx->acc_blk[w++] = ctx->acc_blk[k];
	}
	ctx->acc_off[na] = (uint32_t)w;

	if ((size_t)na * (nt + 1) <= SCHED_TABLE_MAX) {
		ctx->acc_type = sched_alloc(na * (nt + 1), sizeof(*ctx->acc_type));
		for (size_t a = 0; a < na; a++) {
			uint32_t *row = ctx->acc_type + a * (nt + 1), k = ctx->acc_off[a];
			for (size_t t = 0; t <= nt; t++) {
				while (k < ctx->acc_off[a + 1] &&
				       in->blocks[ctx->acc_blk[k]].type < t)
					k++;
				row[t] = k;
			}
		}
	}
out:
	free(fill);
	free(keys);
	free(cbq_used);
	free(ids);
	return rc;
}

void sched_blocks_free(struct sched_ctx *ctx)
{
	if (ctx->blk)
		for (size_t b = 0; b < ctx->in->n_blocks; b++) {
			struct sched_blk *B = &ctx->blk[b];
			sched_steps_free(&B->free);
			sched_steps_free(&B->base);
			free(B->base_min);
		}
	free(ctx->runs);
	free(ctx->blk);
	free(ctx->acc_off);
	free(ctx->acc_blk);
	free(ctx->acc_type);
	free(ctx->type_off);
	free(ctx->type_blk);
}

void sched_eligible(const struct sched_ctx *ctx, const struct sched_pending *j, uint32_t *begin,
		    uint32_t *end)
{
	const struct sched_block *blocks = ctx->in->blocks;
	uint32_t lo = ctx->acc_off[j->account], hi = ctx->acc_off[j->account + 1];

	if (ctx->acc_type) {
		const uint32_t *row = ctx->acc_type + (size_t)j->account * (ctx->in->n_types + 1);
		*begin = row[j->type];
		*end = row[j->type + 1];
		return;
	}

	/* lists are short (the blocks shared with one account): bisect for the type */
	uint32_t a = lo, b = hi;
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;
		if (blocks[ctx->acc_blk[mid]].type < j->type)
			a = mid + 1;
		else
			b = mid;
	}
	uint32_t e = a;
	while (e < hi && blocks[ctx->acc_blk[e]].type == j->type)
		e++;
	*begin = a;
	*end = e;
}

int64_t sched_base_min(const struct sched_blk *b, cbq_ms end)
{
	if (end > b->base.end)
		end = b->base.end;
	return b->base_min[sched_steps_find(&b->base, end - 1)];
}

/* An upper bound on the longest stretch with count free on b (exact when
 * first asked; see struct sched_blk). */
static cbq_ms longest_run(struct sched_blk *b, int32_t count)
{
	if (b->runs[count] >= 0)
		return b->runs[count];
	cbq_ms best = 0, from = -1;
	for (uint32_t i = 0; i < b->free.n; i++) {
		if (b->free.s[i].v >= count) {
			if (from < 0)
				from = b->free.s[i].t;
		} else if (from >= 0) {
			if (b->free.s[i].t - from > best)
				best = b->free.s[i].t - from;
			from = -1;
		}
	}
	if (from >= 0 && b->free.end - from > best)
		best = b->free.end - from;
	b->runs[count] = best;
	return best;
}

cbq_ms sched_fit(struct sched_blk *b, cbq_ms t0, cbq_ms latest, cbq_ms duration, int64_t count)
{
	struct sched_steps *p = &b->free;

	if (t0 > latest)
		return SCHED_NO_ETA;
	/* the first moment with room at all */
	uint32_t i;
	t0 = sched_steps_room_at(p, t0, count, &i);
	if (t0 == SCHED_NO_ETA || t0 > latest)
		return SCHED_NO_ETA;
	cbq_ms start = t0;
	for (;;) {
		cbq_ms end = start + duration < b->cutoff ? start + duration : b->cutoff;
		uint32_t j = i;
		while (j < p->n && p->s[j].t < end && p->s[j].v >= count)
			j++;
		if (j == p->n || p->s[j].t >= end)
			return start;
		/* step j is short: the next start is the next step with room */
		j = sched_steps_first_ge(p, j + 1, count);
		if (j == p->n || p->s[j].t > latest)
			return SCHED_NO_ETA;
		start = p->s[j].t;
		i = j;
	}
}

/* Least free on [a, end) of b's current steps. */
static int64_t free_min(const struct sched_blk *b, cbq_ms a, cbq_ms end)
{
	const struct sched_steps *p = &b->free;
	int64_t m = INT64_MAX;

	for (uint32_t i = sched_steps_find(p, a); i < p->n && p->s[i].t < end; i++)
		if (p->s[i].v < m)
			m = p->s[i].v;
	return m;
}

struct cand {
	uint32_t block;
	cbq_ms start;
	bool launch, crosses;
	cbq_ms slack; /* fits: cutoff − job end; crosses: −cutoff */
	int64_t left;
	uint32_t rank;
};

static bool better(const struct cand *a, const struct cand *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	if (a->launch != b->launch)
		return a->launch;
	if (a->crosses != b->crosses)
		return !a->crosses;
	if (a->slack != b->slack)
		return a->slack < b->slack;
	if (a->left != b->left)
		return a->left < b->left;
	return a->rank < b->rank;
}

static bool search(struct sched_ctx *ctx, const struct sched_pending *j, uint32_t q,
		   struct sched_diag *diag, struct cand *best)
{
	uint32_t from, to;
	const struct sched_input *in = ctx->in;
	bool found = false, constrained = ctx->kind_capped[j->kind] || q != SCHED_NONE;
	cbq_ms need = sched_min_len(ctx, j), asked = SCHED_NO_ETA, answer = SCHED_NO_ETA;

	sched_eligible(ctx, j, &from, &to);
	sched_diag_start(diag);
	for (uint32_t k = from; k < to; k++) {
		uint32_t bi = ctx->acc_blk[k];
		struct sched_blk *B = &ctx->blk[bi];
		if (j->az != SCHED_NONE && in->blocks[bi].az != j->az)
			continue;
		sched_diag_note(ctx, j, need, bi, diag);
		if (B->cap < j->count)
			continue;
		cbq_ms latest = B->cutoff - need;
		if (latest > ctx->horizon_end)
			latest = ctx->horizon_end;
		cbq_ms t = B->plan_start;
		if (t > latest || (found && t > best->start))
			continue;
		if (longest_run(B, j->count) < need)
			continue;
		/* alternate: a start policy allows, then the first fit from there */
		cbq_ms s;
		for (;;) {
			if (constrained) {
				/* blocks mostly ask from now: ask policy once per job */
				if (t != asked) {
					asked = t;
					answer = sched_policy_next_ok(ctx, j, q, t);
				}
				t = answer;
				if (t == SCHED_NO_ETA || t > latest || (found && t > best->start)) {
					s = SCHED_NO_ETA;
					break;
				}
			}
			s = sched_fit(B, t, latest, j->duration, j->count);
			if (s == SCHED_NO_ETA || !constrained || s == t)
				break;
			t = s;
		}
		/* no room for this run anywhere before the cutoff: remember it */
		if (s == SCHED_NO_ETA && !constrained && !j->checkpointable && t == B->plan_start &&
		    B->cutoff - need <= ctx->horizon_end && B->runs[j->count] >= need)
			B->runs[j->count] = need - 1;
		if (s == SCHED_NO_ETA || (found && s > best->start))
			continue;
		cbq_ms end = s + j->duration;
		struct cand c = {
			.block = bi,
			.start = s,
			.launch = B->launchable && s == ctx->now,
			.crosses = end > B->cutoff,
			.slack = end > B->cutoff ? -B->cutoff : B->cutoff - end,
			.left = free_min(B, s, end < B->cutoff ? end : B->cutoff) - j->count,
			.rank = B->rank,
		};
		if (!found || better(&c, best)) {
			*best = c;
			found = true;
		}
	}
	return found;
}

void sched_place_all(struct sched_ctx *ctx)
{
	const struct sched_input *in = ctx->in;

	for (size_t r = 0; r < in->n_pending; r++) {
		uint32_t ji = ctx->order[r];
		/* the queue order visits jobs at random places in memory: ask early */
		if (r + 8 < in->n_pending) {
			__builtin_prefetch(&in->pending[ctx->order[r + 8]]);
			__builtin_prefetch(&ctx->verdicts[ctx->order[r + 8]], 1);
		}
		const struct sched_pending *j = &in->pending[ji];
		struct sched_verdict *v = &ctx->verdicts[ji];
		uint32_t q = sched_quota_find(ctx, in->accounts[j->account].team, j->type);
		struct cand best = { 0 };
		struct sched_diag diag;

		*v = (struct sched_verdict){ .position = (uint32_t)r + 1,
					     .place = SCHED_PLACE_NONE,
					     .block = SCHED_NONE,
					     .eta = SCHED_NO_ETA,
					     .reason_block = SCHED_NONE,
					     .at = SCHED_NO_ETA };
		if (search(ctx, j, q, &diag, &best)) {
			struct sched_blk *B = &ctx->blk[best.block];
			cbq_ms end = best.start + j->duration;
			if (end > B->cutoff)
				end = B->cutoff;
			v->block = best.block;
			v->eta = best.start;
			if (best.launch) {
				v->place = SCHED_PLACE_LAUNCH;
				v->reason = SCHED_REASON_LAUNCHING;
				v->reason_block = best.block;
				v->need = j->count;
				int64_t f = sched_steps_at(&B->free, ctx->now);
				v->free_now = f > 0 ? (int32_t)f : 0;
			} else {
				v->place = SCHED_PLACE_RESERVE;
			}
			sched_steps_add(&B->free, best.start, end, -(int64_t)j->count);
			sched_policy_take(ctx, j->kind, j->type, q, best.start, end, j->count);
		}
		if (v->place != SCHED_PLACE_LAUNCH)
			sched_diagnose(ctx, j, v, q, &diag);
	}
}
