/*
 * What the engine's files share: engine.c (the API and the scheduling
 * cycle), engine_launch.c (the launcher), engine_reconcile.c (the
 * reconciler), engine_inventory.c (the EC2 inventory sync). Not a
 * contract for anyone else.
 */
#ifndef CBQ_ENGINE_INTERNAL_H
#define CBQ_ENGINE_INTERNAL_H

#include <stdbool.h>

#include "core/job.h"
#include "engine.h"
#include "launcher/plan.h"
#include "sched/sched.h"

struct aws_client;
struct aws_call_seen;
struct engine_metrics;
struct db_submit_batch;
struct db_caller_batch;
struct db_timeline;
struct db_pending;
struct teamhints;
struct cycle;
struct offload;
struct verdict_memo;

enum {
	ENGINE_LAUNCH_BATCH = 1024, /* outbox rows read at once (one cycle's decisions in one read)
				     */
	ENGINE_LAUNCH_IN_FLIGHT = 1024, /* RunInstances in flight at once */
};

/* A block on which a launch just lost the capacity race: until EC2 is read
 * again (or a while passes) nothing more is launched there. */
enum { ENGINE_RACES_MAX = 64 };
struct lost_race {
	char block[64];
	cbq_ms until; /* real ms */
};

/* A launch this cbqd works on, by job: committed and not sent yet, waiting
 * for the pacer, in flight or backing off. */
struct launch_slot {
	int64_t job_id;
	bool in_flight;
	int32_t retries;
	cbq_ms not_before; /* clock ms: backing off (or waiting for the pacer) until then */
	/* the launch pipeline's latency (cbq_launch_pipeline_seconds), real ms */
	cbq_ms decided_at; /* the commit to launching was acknowledged; 0: not by us */
	cbq_ms ready_at;   /* the pacer lets it go (0: at once) */
	bool measured;	   /* its RunInstances went to curl and was counted */
};

struct engine {
	struct db *db;
	const struct cbq_clock *clock;
	bool schema_ok;
	bool leader;
	/* the scheduling cycle (leader only) */
	struct sched_settings settings;
	struct db_timeline *timeline;  /* the policy timeline, kept across cycles */
	struct db_pending *pending;    /* the queued jobs, kept across cycles */
	struct offload *planner;       /* plans off the loop; NULL: on it */
	struct cycle *cycle;	       /* the cycle in flight, or NULL: none */
	struct verdict_memo *verdicts; /* what the last stored cycle wrote; NULL: nothing */
	cbq_ms verdicts_rewrite_at;    /* real ms: the next cycle writes every verdict */
	bool dirty;		       /* something changed since the last cycle began */
	bool policy_dirty;	       /* ... and that was the policy (cbq_policy) */
	cbq_ms last_cycle_began;       /* real ms */
	cbq_ms last_cycle_ms;	       /* how long the last cycle took, real ms */
	size_t last_cycle_pending;     /* and how many queued jobs it planned */
	cbq_ms next_cycle;	       /* real ms: the latest moment for the next one */
	cbq_ms plan_next;	       /* clock ms: when the last plan changes by itself */
	/* the launcher (NULL aws: no AWS settings, nothing launches) */
	struct aws_client *aws;
	struct launch_pacer pacer;
	bool reading_outbox;
	bool launch_due;	   /* the outbox may hold work */
	cbq_ms next_outbox;	   /* real ms */
	struct launch_slot *slots; /* ENGINE_LAUNCH_IN_FLIGHT */
	size_t n_slots;
	struct lost_race races[ENGINE_RACES_MAX];
	engine_wake_fn *wake; /* or NULL: the launcher waits for the tick */
	void *wake_arg;
	/* the reconciler */
	bool reconciling;
	int sweeps;	       /* accounts being looked at */
	cbq_ms next_reconcile; /* real ms */
	cbq_ms reconcile_at;   /* clock ms: a job's next step is due (INV_NEVER: none) */
	/* the inventory sync (source = ec2) */
	bool inv_ec2;
	char **inv_roles; /* owner read-role ARNs */
	size_t n_inv_roles;
	char *inv_external_id; /* NULL: none */
	char inv_region[32];
	cbq_ms inv_every;		/* clock ms between syncs */
	cbq_ms next_inventory;		/* real ms; 0 = now (leadership gained) */
	int inv_owners;			/* owners being synced */
	bool inv_warned;		/* said once that there is no AWS client */
	struct engine_metrics *metrics; /* NULL: nothing counted */
	/* submits: group commit (created at the first submit) */
	struct db_submit_batch *submits;
	struct db_caller_batch *callers; /* caller lookups, batched; made on first use */
	struct teamhints *hints; /* account → team of the last lookup (submits' shortcut) */
	int submit_batch_max;
};

/* engine_cycle.c */
enum { ENGINE_VERDICT_REWRITE_MS = 5 * 60 * 1000 }; /* real ms */
/* A verdict whose reason stands is not rewritten for an ETA that moved by
 * this much or less (clock ms): ETAs are shown to the minute. */
enum { ENGINE_VERDICT_ETA_SLACK_MS = 60 * 1000 };
void engine_cycle_start(struct engine *e);
void engine_cycle_free(struct engine *e);

/* engine_metrics.c: what the loops count (nothing without engine_set_metrics) */
void engine_metric_cycle(struct engine *e, double seconds);
void engine_metric_launch(struct engine *e, const char *outcome); /* launched, lost_race, failed */
/* From the launch decision (or the pacer's go, if later) to RunInstances handed to curl. */
void engine_metric_launch_pipeline(struct engine *e, double seconds);
void engine_aws_seen(void *arg, const struct aws_call_seen *seen); /* an aws_call_observer */
void engine_metrics_free(struct engine *e);

/* engine_inventory.c */
void engine_inventory_tick(struct engine *e);
void engine_inventory_free(struct engine *e);

/* engine_reconcile.c */
void engine_reconcile_tick(struct engine *e);

/* How long to wait in real time for `span` of the engine's clock, which may
 * run faster than real time (demos, tests), but never less than floor. */
cbq_ms engine_real_span(const struct engine *e, cbq_ms span, cbq_ms floor);

/* engine_launch.c */
void engine_launch_tick(struct engine *e);
/* Whether engine_launch_commit launches a decision on block now: there is a
 * launcher, and no launch on block just lost the capacity race (launches
 * there wait until EC2 is read again, or a minute of the engine's clock). */
bool engine_launches_on(const struct engine *e, const char *block);
/* Commits the scheduler's launch decisions (queued → launching). */
void engine_launch_commit(struct engine *e, const struct sched_input *in,
			  const struct sched_plan *plan);

#endif
