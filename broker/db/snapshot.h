/*
 * The scheduler's input read from Postgres: teams with their decayed usage,
 * accounts, kinds, quotas, the policy timeline, the active and scheduled
 * blocks with their consumers, and the jobs that wait or hold instances, as
 * one struct sched_input with names interned into indices. Adapter only:
 * the queries run concurrently on the pool; nothing here decides anything.
 */
#ifndef CBQ_DB_SNAPSHOT_H
#define CBQ_DB_SNAPSHOT_H

#include "core/arena.h"
#include "core/err.h"
#include "core/job.h"
#include "sched/sched.h"

struct db;
struct db_pending;
struct load;

struct db_snapshot {
	/* everything it points to lives in arena; empty until
	 * db_snapshot_assemble */
	struct sched_input in;
	/* in.pending[i]'s version: jobs.updated_at, which every transition
	 * moves (see core/verdict_memo.h) */
	const cbq_ms *pending_version;
	/* in.accounts[i]'s launcher role, for warming its credentials */
	const struct db_snapshot_role {
		const char *role_arn, *external_id; /* external_id "" for none */
	} * account_roles;
	/* the queued jobs were read whole, not as the changes since the last read */
	bool read_all;
	struct cbq_arena arena;
	/* the results as read: in's strings point into them, and into the
	 * db_pending it was loaded with */
	struct load *rows;
};

/* Called once, from the loop: snap is the caller's to assemble (on any
 * thread) and free with db_snapshot_free(), or NULL with err. */
typedef void db_snapshot_fn(void *arg, struct db_snapshot *snap, const struct cbq_error *err);

/*
 * The policy timeline outlives snapshots: SQL's cbq_policy_timeline() costs
 * tens of milliseconds, and its answer only changes with the policy. It is
 * read for DB_TIMELINE_SLACK_MS beyond the horizon (within the function's
 * 31 days) and each snapshot takes its [now, now + horizon) cut of it,
 * until that runs past what was read, DB_TIMELINE_MAX_AGE_MS of the clock
 * have passed, or db_timeline_forget is called (a cbq_policy NOTIFY, or
 * leadership gained: notifications may have been missed).
 */
enum {
	DB_TIMELINE_SLACK_MS = 3 * 86400 * 1000,
	DB_TIMELINE_MAX_AGE_MS = 3600 * 1000,
};
struct db_timeline;
struct db_timeline *db_timeline_new(void);
void db_timeline_free(struct db_timeline *tl);
void db_timeline_forget(struct db_timeline *tl);

/* Reads the snapshot at now; settings seed in.settings (the policy row's
 * ageing, fair-share weight and half-life override theirs) and give the
 * timeline's horizon; tl and pending (kept by the caller across snapshots,
 * one load at a time, each snapshot freed before the next is assembled)
 * hold the timeline and the queued jobs (db/pending.h). */
void db_snapshot_load(struct db *db, cbq_ms now, const struct sched_settings *settings,
		      struct db_timeline *tl, struct db_pending *pending, db_snapshot_fn *done,
		      void *arg);

/* Turns the rows into snap->in (interning every name): tens of
 * milliseconds at 100,000 queued jobs, so any thread may do it, while the
 * loop leaves snap and the timeline it was loaded with alone. */
void db_snapshot_assemble(struct db_snapshot *snap);

void db_snapshot_free(struct db_snapshot *snap);

#endif
