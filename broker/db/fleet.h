/*
 * The control loops' reads and writes: one job state change with its event
 * (the only way the loops move a job), the launch outbox (jobs the
 * scheduler committed to launching, with what RunInstances needs), and a
 * launch's instances. Every write is one statement, conditional on the
 * state the caller saw, so two leaders or a repeat cannot apply it twice.
 * Decides nothing: which edge is legal is inventory/jobfsm's call.
 */
#ifndef CBQ_DB_FLEET_H
#define CBQ_DB_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "db/db.h"

struct db_transition {
	int64_t job_id;
	enum job_state from, to;
	cbq_ms at;
	const char *actor;    /* "scheduler", "launcher", "reconciler" */
	const char *reason;   /* the event's reason, and the job's while it waits or ends */
	const char *block_id; /* to launching: the block chosen */
	bool next_attempt;    /* a requeue after the cutoff: attempt + 1 */
};

/* applied: the job was in t->from and is now in t->to. */
typedef void db_transition_fn(void *arg, bool applied, const struct db_error *err);
void db_job_transition(struct db *db, const struct db_transition *t, db_transition_fn *done,
		       void *arg);

/* The scheduler's launch decisions of one cycle, committed together: each
 * job queued → launching on its block, with its event, in one statement
 * (one commit and one NOTIFY however many jobs). applied: the ids that
 * were still queued and moved (a job cancelled meanwhile is not among
 * them), valid during the callback. At most DB_LAUNCH_DECISIONS_MAX. */
enum { DB_LAUNCH_DECISIONS_MAX = 100000 };
struct db_launch_decision {
	int64_t job_id;
	const char *block_id;
	const char *reason;
};
typedef void db_decided_fn(void *arg, const int64_t *applied, size_t n, const struct db_error *err);
void db_jobs_launching(struct db *db, const struct db_launch_decision *d, size_t n, cbq_ms at,
		       db_decided_fn *done, void *arg);

/* A job in launching, with its launch spec and role. Strings live as long
 * as the callback runs. */
struct db_launch {
	int64_t id;
	const char *team, *account_id, *role_arn, *external_id; /* external_id may be "" */
	const char *instance_type, *block_id;
	int32_t count, attempt;
	const char *image_id, *subnet_id, *key_name, *instance_profile;
	const char *const *security_group_ids;
	size_t n_security_group_ids;
	const uint8_t *user_data;
	size_t user_data_len;
	const struct job_tag *tags;
	size_t n_tags;
};
typedef void db_launches_fn(void *arg, const struct db_launch *l, size_t n,
			    const struct db_error *err);
/* At most limit jobs in launching, oldest decision first, leaving out the
 * n_skip ids in skip (launches the caller has in hand already; at most
 * DB_OUTBOX_SKIP_MAX are used). Read ahead of queued queries (db_query_first):
 * the outcomes being written are of launches in hand, and decisions that
 * commit after the read ask for another. */
enum { DB_OUTBOX_SKIP_MAX = 100000 };
void db_launch_outbox(struct db *db, int limit, const int64_t *skip, size_t n_skip,
		      db_launches_fn *done, void *arg);

/* A job holding instances (running or expiring), with what reconcile needs. */
struct db_held {
	int64_t id;
	enum job_state state;
	const char *team, *account_id, *role_arn, *external_id;
	int32_t count, attempt;
	int64_t duration_s;
	bool checkpointable;
	cbq_ms started_at;
	const char *block_id, *block_state; /* block_state "" when the block is gone */
	cbq_ms block_end;
	bool cancel_requested;
};
typedef void db_held_fn(void *arg, const struct db_held *h, size_t n, const struct db_error *err);
/* At most limit of them, by account (so one DescribeInstances covers many). */
void db_held_jobs(struct db *db, int limit, db_held_fn *done, void *arg);

/* The launch of (job, attempt) created these instances: records them and
 * moves the job launching → running in one statement. */
void db_job_launched(struct db *db, int64_t job_id, int32_t attempt, const char *const *instance_ids,
		     size_t n, cbq_ms at, db_transition_fn *done, void *arg);

#endif
