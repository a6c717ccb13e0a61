/*
 * The engine: where pure decisions (validation, who may do what) meet the
 * adapters (Postgres). API handlers call these and encode what comes back;
 * later the control loops (scheduling, launching) live here too. Every
 * function calls its callback exactly once, from the event loop.
 */
#ifndef CBQ_ENGINE_H
#define CBQ_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/block.h"
#include "core/err.h"
#include "core/job.h"

struct db;
struct cbq_clock;

/* Who is calling. The transport fills account_id, principal and
 * auth_method; engine_authenticate fills team and admin, or
 * engine_caller_hinted fills team alone (team_unchecked). */
struct caller {
	char account_id[16];
	char principal[2049]; /* an IAM ARN is up to 2048 bytes */
	const char *auth_method; /* "iam", "mtls", "dev" */
	char team[64];
	bool admin;
	bool team_unchecked; /* team is a hint: good for a submit only */
};

struct engine;

struct engine *engine_new(struct db *db, const struct cbq_clock *clock);
void engine_free(struct engine *e);

/* Postgres is up and the schema matches this binary. */
bool engine_ready(const struct engine *e);
/* Called once the schema check passed (serve does it before listening). */
void engine_set_schema_ok(struct engine *e);
/* Leadership gained or lost (db/leader.h): only the leader runs the control loops. */
void engine_set_leader(struct engine *e, bool leader);
bool engine_is_leader(const struct engine *e);
/* cbqd's clock (scaled in tests and the demo), Unix ms. */
cbq_ms engine_now(const struct engine *e);
/* The AWS client launches go through (borrowed; free it before the engine).
 * Without one the engine plans but launches nothing and says so. */
struct aws_client;
void engine_set_aws(struct engine *e, struct aws_client *aws);
/* Most submits stored in one statement (config submit_batch_max; default
 * DB_SUBMIT_BATCH_DEFAULT). Takes effect before the first submit. */
void engine_set_submit_batch_max(struct engine *e, int n);

/* Where the leader's blocks come from (deploy/cbqd.conf.example,
 * inventory_*). Static: whatever `cbqd admin block add` registered; the
 * engine reads nothing. Ec2: every interval_s (and on gaining leadership)
 * the leader mirrors each owner's Capacity Blocks, their RAM consumers and
 * usage into Postgres through the AWS client (engine_set_aws; without one
 * nothing syncs and the log says so). */
enum engine_inventory_source { ENGINE_INVENTORY_STATIC, ENGINE_INVENTORY_EC2 };
struct engine_inventory_cfg {
	enum engine_inventory_source source;
	const char *roles;	 /* comma-separated owner read-role ARNs (app.c checked them) */
	const char *external_id; /* for those roles, or NULL / "" */
	int interval_s;		 /* 5..3600, real seconds */
	const char *region;	 /* recorded as the blocks' region */
};
/* Copies cfg (strings included). */
void engine_set_inventory(struct engine *e, const struct engine_inventory_cfg *cfg);

/* The leader replans at least this often (real time), and at once on any
 * trigger: leadership gained, a NOTIFY, the plan's own next change. */
#define ENGINE_CYCLE_MAX_GAP_MS ((cbq_ms)5000)
/* ... and at least this long between two started by changes; for changes
 * to jobs (not the policy) while the last cycle saw a large queue, this many
 * times that cycle's length when that is longer (up to the max gap): at
 * 40,000 queued a cycle takes ~300 ms of Postgres and the planner, and
 * replanning every second through a burst of submits would spend a third
 * of it on replanning; at 10 times, a cycle is at most a tenth of the time
 * (submit-vs-pgbench p99 17.3 ms mean over 4 runs, 20.2 at 6 times). A
 * small queue's cycle is slow only for other reasons (the first one reads
 * the policy timeline; a loaded machine), which must not delay the next. */
#define ENGINE_CYCLE_MIN_GAP_MS ((cbq_ms)1000)
#define ENGINE_CYCLE_GAP_FACTOR 10
#define ENGINE_CYCLE_SPACED_QUEUE 10000

/* The periodic tick (STYLE.md rule 5): runs a scheduling cycle when one is
 * due. Called by the loop's timer; does nothing unless leader. */
void engine_tick(struct engine *e);
/* How the engine asks the loop for an engine_tick sooner than the period
 * (a launch the pacer lets go in in_ms real ms). fn must not call back into
 * the engine; it arms a timer. Without one the engine waits for the tick. */
typedef void engine_wake_fn(void *arg, cbq_ms in_ms);
void engine_set_wake(struct engine *e, engine_wake_fn *fn, void *arg);

/* Plans off the loop on planner's thread (util/offload.h), which the engine
 * now owns; without one it plans on the loop. */
struct offload;
void engine_set_offload(struct engine *e, struct offload *planner);

/* aws_http's sent hook (aws/http.h; engine is the engine): a RunInstances
 * of a launch this engine decided was handed to curl; it ends the launch
 * pipeline's measurement. Only reads the request. */
struct aws_http_req;
void engine_aws_sent(void *engine, const struct aws_http_req *req);

/* A NOTIFY the leader's session received (policy or job changes). */
void engine_notified(struct engine *e, const char *channel, const char *payload);

/* /metrics (engine_metrics.c): counts into reg from now on (borrowed; it
 * outlives the engine). engine_metrics refreshes the gauges Postgres knows
 * (queue, jobs, blocks; at most every 5 s) and renders reg as Prometheus
 * text; text is valid during the callback only. */
struct metrics;
void engine_set_metrics(struct engine *e, struct metrics *reg);
typedef void engine_text_fn(void *arg, const char *text, size_t len, const struct cbq_error *err);
void engine_metrics(struct engine *e, engine_text_fn *done, void *arg);

typedef void engine_caller_fn(void *arg, const struct caller *caller, const struct cbq_error *err);
/* Looks up the caller's account: CBQ_ERR_FORBIDDEN naming it when not registered. */
void engine_authenticate(struct engine *e, const struct caller *transport, engine_caller_fn *done,
			 void *arg);
/* For a submit only: the team an earlier lookup found for c's account, at
 * once and without Postgres; sets c->team and c->team_unchecked (admin
 * false). engine_submit has the INSERT check that the account is still of
 * that team, and looks the caller up when it is not. False: no hint, use
 * engine_authenticate. */
bool engine_caller_hinted(const struct engine *e, struct caller *c);

typedef void engine_job_fn(void *arg, const struct job *job, const struct job_event *events,
			   size_t n_events, const struct cbq_error *err);

/* Validates, then stores the job queued. With an idempotency key already
 * used by the team: the original job when the request is the same
 * (request_sha256 over the canonical spec), CBQ_ERR_CONFLICT otherwise. */
void engine_submit(struct engine *e, const struct caller *c, const struct job_spec *spec,
		   const char *idempotency_key, const uint8_t request_sha256[32],
		   engine_job_fn *done, void *arg);
/* Another team's job is CBQ_ERR_NOT_FOUND, as if it did not exist. */
void engine_get_job(struct engine *e, const struct caller *c, int64_t id, engine_job_fn *done,
		    void *arg);
/* queued → cancelled; a job that has ended is CBQ_ERR_CONFLICT. */
void engine_cancel_job(struct engine *e, const struct caller *c, int64_t id, engine_job_fn *done,
		       void *arg);

struct job_filter {
	const char *state; /* NULL or a job state name */
	const char *kind;
	const char *team;  /* NULL = the caller's team */
	int page_size;     /* 0 = default */
	int64_t before_id; /* from a page token; 0 = first page */
};
enum { ENGINE_PAGE_DEFAULT = 100, ENGINE_PAGE_MAX = 1000 };
typedef void engine_jobs_fn(void *arg, const struct job *jobs, size_t n, int64_t next_before_id,
			    const struct cbq_error *err);
void engine_list_jobs(struct engine *e, const struct caller *c, const struct job_filter *f,
		      engine_jobs_fn *done, void *arg);

typedef void engine_blocks_fn(void *arg, const struct block *blocks, size_t n,
			      const struct cbq_error *err);
/* The blocks the caller's team may use; per-account usage only for admins. */
void engine_list_blocks(struct engine *e, const struct caller *c, engine_blocks_fn *done,
			void *arg);

#endif
