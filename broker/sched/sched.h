/*
 * The scheduler: a pure function from a snapshot (now, pending and running
 * jobs, Capacity Blocks, the policy timeline, teams) to a plan (launch now,
 * reserve for later, an ETA and one reason per pending job, expiry actions).
 * It does no I/O, reads no clock, keeps no state between calls and does not
 * decide how a launch is carried out (launcher/) or persisted (engine.c).
 *
 * The model (DESIGN.md §5):
 *
 * - Order. Effective priority = job priority + team priority + the boost of
 *   the job's kind in the timeline row covering now + ageing (ageing_per_hour
 *   points per hour since submission, uncapped so nothing starves) − fair
 *   share (fair_share_weight × the team's share of all teams' decayed usage,
 *   0..1; usage decays from usage_at to now with half_life). Computed in
 *   milli-points; ties go to the earlier submission, then the lower id. The
 *   order is total, so the same input in any order gives the same plan.
 *
 * - Capacity. Per block, what cbq can use at time t is total − outside −
 *   instances of cbq's running jobs still on it at t, where outside is
 *   max(used_outside, total − cbq's running instances − available): AWS's
 *   available count is the truth now, and whatever it is short of cbq's own
 *   accounting is taken to be used by other accounts, and to stay so (other
 *   accounts' instances are never predicted to leave). A running job holds
 *   its instances until max(expected_end, now + 1 ms), never past the cutoff.
 *
 * - Placement is gang (a job's instances in one block) on a block that is
 *   active or scheduled, of the job's instance type (and AZ when the job
 *   names one), that the job's account may use (consumers, plus the owner),
 *   and on which the job ends by the cutoff (end − 30 min), unless it is
 *   checkpointable: then it may cross the cutoff if it can run at least
 *   min(duration, min_run) before it. Only active blocks take launches.
 *
 * - Conservative backfill. Jobs are taken in order; each gets the earliest
 *   start on any eligible block at which its instances are free for its
 *   whole run, given everything placed before it, and that start is held
 *   (a reservation) for the rest of the pass. A job ahead is therefore never
 *   delayed by one behind it, and a job's plan depends only on the jobs
 *   ahead of it. A start at now on an active block is a launch. Among blocks
 *   with the same earliest start the one left with the least slack wins:
 *   launchable first, then least time between the job's end and the cutoff
 *   (long blocks stay free for long jobs; a checkpointable job that must
 *   cross prefers the latest cutoff), then fewest instances left free, then
 *   block id. Starts beyond now + horizon are not planned: no ETA.
 *
 * - Policy. A timeline row gives, per kind and UTC interval, a boost and a
 *   max share of the capacity cbq can use of each instance type (Σ over
 *   active and scheduled blocks of total − outside, at that time). A kind
 *   with no row at t has boost 0 and share 1. A start at t must keep the
 *   kind's instances on that type within floor(share × capacity); a team's
 *   quota caps its concurrent instances of a type. Both are checked when a
 *   job starts (at a window edge running jobs finish; queued jobs reorder),
 *   counting running jobs, launches and reservations.
 *
 * - Reasons. Every pending job gets exactly one reason; see enum
 *   sched_reason for which and when, and sched_reason_format for the text.
 *
 * - ETAs are the reserved starts: they hold while the order of now holds
 *   and nothing changes; a window edge reorders the queue, and a new or
 *   extended block or an early finish brings them forward at the next plan.
 *
 * - Expiry: from end − 40 min − expiry_lead, a running job expected to run
 *   past its block's cutoff gets WARN once (it becomes expiring); from the
 *   cutoff every job still on the block gets REQUEUE if checkpointable,
 *   else EXPIRE.
 *
 * Names (teams, accounts, kinds, instance types, AZs) are interned by the
 * caller into the small tables of struct sched_input and referenced by
 * index, so the hot path never compares strings. Blocks are told apart by
 * id and jobs by id; ties never depend on input order.
 *
 * Cost: O(P log P) to order P pending jobs, then per job a walk over the
 * blocks its account may use of its instance type: each is rejected in O(1)
 * when it cannot hold the job (per block and instance count, a bound on the
 * longest free run and the soonest moment with room, both only tightening
 * during a pass) or else searched along its free-capacity steps. Share
 * caps and quotas are kept the same way, as room left per timeline row and
 * per quota. Memory is linear in the input. cbq-bench-sched measures it.
 */
#ifndef CBQ_SCHED_SCHED_H
#define CBQ_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/job.h"

/* An index that refers to nothing (no AZ constraint, no owner, no block). */
#define SCHED_NONE UINT32_MAX
/* eta of a job with no planned start within the horizon. */
#define SCHED_NO_ETA INT64_MIN

/* Caps on what the caller may pass: input decides these sizes. */
enum {
	SCHED_PENDING_MAX = 4000000,
	SCHED_RUNNING_MAX = 1000000,
	SCHED_BLOCKS_MAX = 100000,
	SCHED_CONSUMERS_MAX = 100000,	      /* per block */
	SCHED_CONSUMERS_TOTAL_MAX = 10000000, /* over all blocks */
	SCHED_ACCOUNTS_MAX = 1000000,
	SCHED_TEAMS_MAX = 100000,
	SCHED_KINDS_MAX = 256,
	SCHED_TYPES_MAX = 1024,
	SCHED_AZS_MAX = 1024,
	SCHED_TIMELINE_MAX = 100000,
	SCHED_QUOTAS_MAX = 1000000,
	SCHED_BLOCK_TOTAL_MAX = 1000000,
	SCHED_BOOST_MAX = 100000,
};
/* Times must lie in [0, SCHED_TIME_MAX] (year 9999), so sums never overflow. */
#define SCHED_TIME_MAX ((cbq_ms)253402300799999)
/* AWS starts terminating 30 min before a block ends (block.h) and warns 40 min before. */
#define SCHED_WARNING_LEAD_MS ((cbq_ms)40 * 60 * 1000)

struct sched_settings {
	double ageing_per_hour;	  /* priority points per hour waited; ≥ 0 */
	double fair_share_weight; /* points lost by a team with all the usage; ≥ 0 */
	cbq_ms half_life;	  /* of team usage; > 0 */
	cbq_ms expiry_lead;	  /* warn this long before AWS's 40-minute warning; ≥ 0 */
	cbq_ms horizon;		  /* plan starts up to now + horizon; > 0, ≤ 366 days */
	cbq_ms min_run; /* least run before the cutoff for a crossing checkpointable job */
};

/* Ageing 1 point/h, fair share 100 points, half-life 7 d, lead 10 min,
 * horizon 28 d, min run 30 min. */
void sched_settings_default(struct sched_settings *s);

enum sched_block_state {
	SCHED_BLOCK_ACTIVE,    /* takes launches */
	SCHED_BLOCK_SCHEDULED, /* counts for reservations and ETAs from its start */
	SCHED_BLOCK_INACTIVE,  /* payment-pending, expired, cancelled, ...: ignored */
};

/* EC2's state names: "active", "scheduled"; anything else is inactive. */
enum sched_block_state sched_block_state_from_ec2(const char *state);

struct sched_team {
	const char *name;
	int32_t priority; /* |priority| ≤ JOB_PRIORITY_MAX */
	double usage;	  /* instance-hours, decayed up to usage_at (≥ 0) */
	cbq_ms usage_at;  /* pass now when the usage is already decayed to now */
};

struct sched_account {
	const char *id; /* 12 digits; only quoted in reasons */
	uint32_t team;	/* index into teams */
};

/* At most max instances of type running for team at any moment. One row per (team, type). */
struct sched_quota {
	uint32_t team, type;
	int32_t max; /* ≥ 0 */
};

/* One row of SQL cbq_policy_timeline(now, horizon): [start, end) for one
 * kind. Rows of one kind must not overlap; gaps mean boost 0, share 1. */
struct sched_window {
	cbq_ms start, end;
	uint32_t kind;
	int32_t boost;	  /* |boost| ≤ SCHED_BOOST_MAX */
	double max_share; /* 0..1 */
};

/* The rows of in[n] that meet [from, to), cut to it, into out (room for n);
 * returns how many. A timeline read for a longer range, clipped, is the
 * timeline SQL would give for [from, to): its rows are maximal pieces. */
size_t sched_window_clip(const struct sched_window *in, size_t n, cbq_ms from, cbq_ms to,
			 struct sched_window *out);

struct sched_block {
	const char *id; /* cr-…; unique */
	enum sched_block_state state;
	uint32_t type, az;
	uint32_t owner;		   /* account index, or SCHED_NONE when not a cbq account */
	int32_t total;		   /* 1..SCHED_BLOCK_TOTAL_MAX */
	int32_t available;	   /* AWS's AvailableInstanceCount, 0..total */
	int32_t used_outside;	   /* instances not launched by cbq, 0..total */
	cbq_ms start, end;	   /* the cutoff is end − BLOCK_CUTOFF_LEAD_MS */
	const uint32_t *consumers; /* accounts it is shared with (any order, repeats allowed) */
	size_t n_consumers;
};

struct sched_pending {
	int64_t id; /* unique among pending jobs */
	uint32_t account, kind, type;
	uint32_t az;	  /* SCHED_NONE: any */
	int32_t count;	  /* 1..JOB_COUNT_MAX */
	cbq_ms duration;  /* 1 s .. JOB_DURATION_MAX_S */
	int32_t priority; /* |priority| ≤ JOB_PRIORITY_MAX */
	bool checkpointable;
	cbq_ms submitted_at; /* a requeued job keeps it, and so its place */
	int32_t attempt;
};

/* A job holding instances: launching, running or expiring. */
struct sched_running {
	int64_t id;
	uint32_t account, kind, block;
	int32_t count;
	cbq_ms started_at, expected_end; /* expected_end = start + duration */
	bool checkpointable;
	bool expiring; /* already warned */
};

/* Everything is borrowed; sched_plan only reads it. */
struct sched_input {
	cbq_ms now;
	struct sched_settings settings;
	const char *const *kinds;
	size_t n_kinds;
	const char *const *types; /* instance types */
	size_t n_types;
	const char *const *azs;
	size_t n_azs;
	const struct sched_team *teams;
	size_t n_teams;
	const struct sched_account *accounts;
	size_t n_accounts;
	const struct sched_quota *quotas;
	size_t n_quotas;
	const struct sched_window *timeline;
	size_t n_timeline;
	const struct sched_block *blocks;
	size_t n_blocks;
	const struct sched_pending *pending;
	size_t n_pending;
	const struct sched_running *running;
	size_t n_running;
};

/*
 * Why a pending job is where it is; exactly one per job, checked in this
 * order. The numbers in struct sched_verdict that each quotes are listed.
 */
enum sched_reason {
	/* It launches now on block (free_now: free before it). */
	SCHED_REASON_LAUNCHING,
	/* No active or scheduled block of its type (in its AZ, if it names one)
	 * that its account may use can hold need instances. blocks: blocks of
	 * the type (and AZ); used: those its account may use; limit: the most
	 * instances cbq can use on one of those. */
	SCHED_REASON_NO_ELIGIBLE_BLOCK,
	/* No eligible block lasts long enough: needs span_need, at most span
	 * before the cutoff of reason_block. Also when only active blocks are
	 * too short now and it waits for a later block. */
	SCHED_REASON_EXCEEDS_BLOCK_LIFETIME,
	/* Its kind's share cap holds it now: used of limit instances of its type
	 * in use by the kind; at: when policy next lets it start (or SCHED_NO_ETA). */
	SCHED_REASON_POLICY_WINDOW,
	/* Its team's quota holds it now: used of limit instances of its type. */
	SCHED_REASON_TEAM_QUOTA,
	/* There is room for it now on reason_block, but jobs ahead hold it. */
	SCHED_REASON_BEHIND_HIGHER_PRIORITY,
	/* No eligible active block has need free: free_now free on reason_block,
	 * outside of them used outside cbq. */
	SCHED_REASON_WAITING_FOR_CAPACITY,
	/* Only scheduled blocks qualify: reason_block starts at at. */
	SCHED_REASON_BLOCK_NOT_STARTED,
	SCHED_REASON_COUNT
};

/* "Launching", "WaitingForCapacity", ...: stable names for the API and logs. */
const char *sched_reason_name(enum sched_reason r);

enum sched_place {
	SCHED_PLACE_NONE,
	SCHED_PLACE_LAUNCH,  /* start on block now */
	SCHED_PLACE_RESERVE, /* planned start on block at eta */
};

/* The plan for one pending job. */
struct sched_verdict {
	uint32_t position; /* 1-based place in the queue order */
	enum sched_place place;
	uint32_t block; /* where it launches or is reserved; SCHED_NONE otherwise */
	cbq_ms eta;	/* now, the reserved start, or SCHED_NO_ETA */
	enum sched_reason reason;
	uint32_t reason_block; /* the block the reason names, or SCHED_NONE */
	/* The numbers the reason quotes (see enum sched_reason); others are 0. */
	int32_t need;	  /* instances the job needs */
	int32_t free_now; /* free on reason_block now */
	int32_t outside;  /* used outside cbq on reason_block */
	int32_t used, limit;
	int32_t blocks;
	cbq_ms span_need, span, at;
};

struct sched_launch {
	uint32_t job; /* index into pending */
	int64_t job_id;
	uint32_t block; /* index into blocks */
};

struct sched_reservation {
	uint32_t job;
	int64_t job_id;
	uint32_t block;
	cbq_ms start;
};

enum sched_expiry_action {
	SCHED_EXPIRY_WARN,    /* running → expiring; tell the team */
	SCHED_EXPIRY_REQUEUE, /* checkpointable at the cutoff: back to queued, attempt + 1 */
	SCHED_EXPIRY_EXPIRE,  /* at the cutoff: ends expired */
};

const char *sched_expiry_name(enum sched_expiry_action a); /* "warn", "requeue", "expire" */

struct sched_expiry {
	uint32_t job; /* index into running */
	int64_t job_id;
	uint32_t block;
	enum sched_expiry_action action;
	cbq_ms at; /* when it became due (≤ now) */
};

/* Owned by the caller after sched_plan; release with sched_plan_free. */
struct sched_plan {
	uint32_t *order;		/* n_pending indices into pending, in queue order */
	struct sched_verdict *verdicts; /* n_pending, indexed like pending */
	size_t n_verdicts;
	struct sched_launch *launches; /* in queue order */
	size_t n_launches;
	struct sched_reservation *reservations; /* in queue order */
	size_t n_reservations;
	struct sched_expiry *expiries; /* by job id */
	size_t n_expiries;
	/* The next moment the plan may change with no new input (a window edge,
	 * a reserved start, a running job's end, an expiry step), or SCHED_NO_ETA. */
	cbq_ms next_at;
};

/*
 * Plans one cycle. On success fills *out (which the caller frees with
 * sched_plan_free) and returns CBQ_OK. On invalid input returns
 * CBQ_ERR_INVALID with err naming the field ("pending[12].count") and leaves
 * *out untouched. Allocates memory proportional to the input only; aborts
 * when memory runs out. Reentrant: no globals, no callbacks.
 */
enum cbq_err sched_plan(const struct sched_input *in, struct sched_plan *out,
			struct cbq_error *err) CBQ_MUST_CHECK;

/* Frees what sched_plan filled and zeroes it; plan may be NULL or zeroed. */
void sched_plan_free(struct sched_plan *plan);

/* Buffer size that always holds sched_reason_format's output. */
enum { SCHED_REASON_BUF = 256 };

/*
 * The reason of pending job `job` as a user reads it, with its numbers:
 *   Launching (4 on cr-0a1b2c3d, 6 free)
 *   WaitingForCapacity (needs 4, 1 free on cr-0a1b2c3d; 2 used outside cbq)
 *   NoEligibleBlock (no active or scheduled p5.48xlarge block in us-east-1a)
 *   ExceedsBlockLifetime (needs 6h, 4h10m before cutoff on cr-0a1b2c3d)
 *   PolicyWindow (inference capped at 2 of 8 p5.48xlarge, 2 in use; from 2026-03-02 20:00Z)
 *   TeamQuota (team ml: 8 of 8 p5.48xlarge in use, needs 4)
 *   BehindHigherPriority (position 3; room on cr-0a1b2c3d is held for jobs ahead)
 *   BlockNotStarted (cr-0a1b2c3d starts 2026-03-04 11:30Z)
 * Writes at most size bytes, NUL-terminated when size > 0, and returns the
 * length the full text has (as snprintf does). in and plan are the ones
 * sched_plan was called with and filled.
 */
size_t sched_reason_format(const struct sched_input *in, const struct sched_plan *plan, size_t job,
			   char *buf, size_t size);

#endif
