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

struct db_snapshot {
	struct sched_input in; /* everything it points to lives in arena */
	struct cbq_arena arena;
};

/* Called once, from the loop: snap is the caller's to free with
 * db_snapshot_free(), or NULL with err. */
typedef void db_snapshot_fn(void *arg, struct db_snapshot *snap, const struct cbq_error *err);

/* Reads the snapshot at now; settings seed in.settings (the policy row's
 * ageing, fair-share weight and half-life override theirs) and give the
 * timeline's horizon. */
void db_snapshot_load(struct db *db, cbq_ms now, const struct sched_settings *settings,
		      db_snapshot_fn *done, void *arg);

void db_snapshot_free(struct db_snapshot *snap);

#endif
