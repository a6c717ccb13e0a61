/*
 * What the files of sched/ share while one sched_plan call runs: the working
 * state of a pass (struct sched_ctx) and step functions over time. Not part
 * of the contract; nothing outside broker/sched includes it.
 */
#ifndef CBQ_SCHED_INTERNAL_H
#define CBQ_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/block.h"
#include "sched/sched.h"

/* ---- steps.c: a step function of time ------------------------------------ */

struct sched_step {
	cbq_ms t; /* the value holds on [t, next step's t) */
	int64_t v;
};

/* A piecewise-constant value over [s[0].t, end); steps strictly ascend in t
 * and neighbours differ in value. cmax holds the largest value of each
 * chunk of SCHED_CHUNK steps, valid for the chunks below clean, so a search
 * for room skips full stretches a chunk at a time. */
enum { SCHED_CHUNK = 64 };
struct sched_steps {
	struct sched_step *s;
	uint32_t n, cap;
	cbq_ms end;
	int64_t *cmax;
	uint32_t clean, cmax_cap;
	/* soonest[x] (x ≤ JOB_COUNT_MAX): no step before it has a value ≥ x.
	 * Values only fall once a pass starts asking, so it only moves later;
	 * any rise drops it. Made on first use by sched_steps_room. */
	cbq_ms *soonest;
};

void sched_steps_init(struct sched_steps *p, cbq_ms start, cbq_ms end, int64_t v);
void sched_steps_free(struct sched_steps *p);
/* Index of the step holding t; t in [start, end). */
uint32_t sched_steps_find(const struct sched_steps *p, cbq_ms t);
/* Value at t; 0 outside [start, end). */
int64_t sched_steps_at(const struct sched_steps *p, cbq_ms t);
/* First breakpoint after t, or end (or SCHED_TIME_MAX past the end). */
cbq_ms sched_steps_next(const struct sched_steps *p, cbq_ms t);
/* Adds delta on [a, b) ∩ [start, end). */
void sched_steps_add(struct sched_steps *p, cbq_ms a, cbq_ms b, int64_t delta);
/* Index of the first step at or after i whose value is at least x, or n. */
uint32_t sched_steps_first_ge(struct sched_steps *p, uint32_t i, int64_t x);
/* Earliest t' ≥ t (and ≥ start) whose value is at least x, 1 ≤ x ≤
 * JOB_COUNT_MAX; SCHED_NO_ETA if none before the end. */
cbq_ms sched_steps_room(struct sched_steps *p, cbq_ms t, int64_t x);
/* The same, also giving the index of the step holding the answer. */
cbq_ms sched_steps_room_at(struct sched_steps *p, cbq_ms t, int64_t x, uint32_t *at);

/* ---- the working state of one pass --------------------------------------- */

struct sched_blk {
	bool plannable;	 /* active or scheduled, and its cutoff is ahead */
	bool launchable; /* active and started */
	uint32_t rank;	 /* by id */
	cbq_ms plan_start, cutoff;
	int32_t outside;	 /* instances taken to be used outside cbq */
	int64_t cap;		 /* total − outside: the most cbq can ever use */
	int32_t free_now;	 /* free now before this pass placed anything, ≥ 0 */
	struct sched_steps free; /* free instances on [plan_start, cutoff) */
	/* free before this pass (launchable blocks) and its prefix minima */
	struct sched_steps base;
	int64_t *base_min;
	/* runs[c]: at least as long as the longest stretch with c free; free
	 * only shrinks during a pass, so a bound once true stays true. −1: not
	 * computed yet. Points into ctx->runs. */
	cbq_ms *runs;
};

struct sched_key {
	int64_t eff; /* milli-points */
	cbq_ms submitted_at;
	int64_t id;
	uint32_t job;
};

struct sched_ctx {
	const struct sched_input *in;
	cbq_ms now, horizon_end;
	struct sched_verdict *verdicts;
	uint32_t *order;

	struct sched_blk *blk;
	cbq_ms *runs; /* [block][JOB_COUNT_MAX + 1] */
	/* blocks each account may use, sorted by (type, rank) */
	uint32_t *acc_off, *acc_blk;
	/* when small enough (SCHED_TABLE_MAX): where each account's blocks of
	 * each type start in acc_blk, [account * (n_types + 1) + type]; else NULL */
	uint32_t *acc_type;
	/* plannable blocks of each type, by rank */
	uint32_t *type_off, *type_blk;
	/* reason.c, filled on first use: per type, plannable blocks in each AZ
	 * ([n_azs]: in any); per kind, when its share next rises (0: not yet) */
	int32_t **type_az_blocks;
	cbq_ms *rises;

	/* window.c: the timeline by kind, sorted by start */
	struct sched_window *win;
	uint32_t *win_off;
	bool *kind_capped;	      /* some row of the kind has share < 1 */
	int64_t *boost_now;	      /* per kind */
	struct sched_steps *type_cap; /* per type, when some kind is capped */
	/* [kind * n_types + type], capped kinds only: per row of the kind in
	 * ctx->win (from win_off[kind]), the instances the kind may still start
	 * on the type under that row, floor(share × capacity) − in use. Rows
	 * with share 1 and gaps between rows have no limit and no steps. One
	 * short profile per row keeps every change cheap. */
	struct sched_steps **share_room;
	struct sched_quota *quota;	/* sorted by (team, type) */
	uint32_t *quota_of;		/* [team * n_types + type] when small enough, else NULL */
	struct sched_steps *quota_room; /* per quota: max − in use */
};

/* Lookup tables indexed by two input sizes are kept only up to this many
 * entries; past it the code bisects instead. */
enum { SCHED_TABLE_MAX = 1 << 20 };

/* order.c */
/* Fills ctx->order with pending indices in queue order. CBQ_ERR_INVALID on
 * two pending jobs that cannot be told apart. */
enum cbq_err sched_order(struct sched_ctx *ctx, struct cbq_error *err);
/* 2^(−age / half_life) × usage, without libm. */
double sched_decay(double usage, cbq_ms age, cbq_ms half_life);

/* window.c */
enum cbq_err sched_window_prepare(struct sched_ctx *ctx, struct cbq_error *err);
void sched_window_free(struct sched_ctx *ctx);
/* The row of kind covering t, or NULL. */
const struct sched_window *sched_window_at(const struct sched_ctx *ctx, uint32_t kind, cbq_ms t);
/* Index into ctx->quota of (team, type), or SCHED_NONE. */
uint32_t sched_quota_find(const struct sched_ctx *ctx, uint32_t team, uint32_t type);
/* May job j start at t as far as its kind's share cap and quota q go? When
 * not, used and limit say what holds it, and *quota whether the quota does. */
bool sched_policy_ok(const struct sched_ctx *ctx, const struct sched_pending *j, uint32_t q,
		     cbq_ms t, int64_t *used, int64_t *limit, bool *quota);
/* Earliest t' ≥ t at which j may start as far as policy goes, or SCHED_NO_ETA
 * when not by the horizon. Remembers what it learns for later jobs. */
cbq_ms sched_policy_next_ok(struct sched_ctx *ctx, const struct sched_pending *j, uint32_t q,
			    cbq_ms t);
/* Counts instances of (kind, type) and against quota q on [a, b). */
void sched_policy_take(struct sched_ctx *ctx, uint32_t kind, uint32_t type, uint32_t q, cbq_ms a,
		       cbq_ms b, int64_t count);

/* place.c */
/* CBQ_ERR_INVALID when two blocks share an id. */
enum cbq_err sched_blocks_prepare(struct sched_ctx *ctx, struct cbq_error *err);
void sched_blocks_free(struct sched_ctx *ctx);
void sched_place_all(struct sched_ctx *ctx);
/* Blocks job j's account may use that are of its type (any AZ), by rank:
 * ctx->acc_blk[*begin .. *end). */
void sched_eligible(const struct sched_ctx *ctx, const struct sched_pending *j, uint32_t *begin,
		    uint32_t *end);
/* Least free instances on [now, end) of a launchable block before the pass. */
int64_t sched_base_min(const struct sched_blk *b, cbq_ms end);
/* The run a job of this duration needs before the cutoff to be placed. */
static inline cbq_ms sched_min_len(const struct sched_ctx *ctx, const struct sched_pending *j)
{
	cbq_ms m = ctx->in->settings.min_run;
	return j->checkpointable && m < j->duration ? m : j->duration;
}
/* Earliest start of [s, s + len) with count free on a block, where len is
 * the job's run before the cutoff; SCHED_NO_ETA if none by latest. */
cbq_ms sched_fit(struct sched_blk *b, cbq_ms t0, cbq_ms latest, cbq_ms duration, int64_t count);

/* reason.c: what the blocks a job may use say about why it waits, gathered
 * while place.c walks them anyway (sched_diag_note per block of its type
 * and AZ), then turned into its one reason (sched_diagnose). */
struct sched_diag {
	int32_t n_elig;
	int64_t largest;
	cbq_ms life, short_life;
	uint32_t life_block, first, room, wait, shortest;
};
void sched_diag_start(struct sched_diag *d);
void sched_diag_note(const struct sched_ctx *ctx, const struct sched_pending *j, cbq_ms need,
		     uint32_t block, struct sched_diag *d);
/* Fills the reason of a job place.c did not launch; q as sched_quota_find gave it. */
void sched_diagnose(struct sched_ctx *ctx, const struct sched_pending *j, struct sched_verdict *v,
		    uint32_t q, const struct sched_diag *d);

/* expiry.c */
size_t sched_expiry_count(const struct sched_input *in);
void sched_expiry_fill(const struct sched_input *in, struct sched_expiry *out);
/* Earliest future expiry step, or SCHED_NO_ETA. */
cbq_ms sched_expiry_next(const struct sched_input *in);

/* cutoff of block b */
static inline cbq_ms sched_cutoff(const struct sched_block *b)
{
	return b->end - BLOCK_CUTOFF_LEAD_MS;
}

/* Zeroed; aborts when memory runs out (core/alloc.h). Sizes are capped by
 * the validation in plan.c before they get here. */
static inline void *sched_alloc(size_t n, size_t size)
{
	return cbq_xcalloc(n, size);
}

#endif
