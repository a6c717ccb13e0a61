/*
 * Reconcile: what the instances EC2 shows for a job mean for the job. One
 * job, its block and the instances DescribeInstances returned for the tag
 * cbq:job=<id> in the job's account go in; one decision comes out: nothing,
 * terminate some of this attempt's instances, or one state transition
 * (built by jobfsm). Pure: no AWS calls, no Postgres, no clock; the engine
 * asks, carries the decision out and asks again on its next pass.
 *
 * cbq never terminates an instance it did not launch: the terminate list
 * only ever holds instances whose ClientToken is the job's current token
 * (launcher/plan.h, "cbq-<job>-<attempt>"). Instances with the job's tag
 * but another token (an older attempt's, another job's, none) are left
 * alone and reported in `ignored`.
 *
 * The rules, first match wins, for the instances of the current attempt
 * ("ended" = terminated or stopped; "ending" = shutting-down or stopping;
 * "terminable" = anything not shutting-down or terminated):
 *
 * queued:    cancel requested → cancelled; else nothing.
 * final:     any terminable instance → terminate it (a leak: the job is over).
 * launching: (L1) the block reached its cutoff or is gone → queued, attempt
 *            + 1. (L2) cancel requested → terminate what is terminable; then
 *            cancelled once all seen have ended, or none appeared within
 *            the grace. (L3) an instance ended other than by its own
 *            shutdown → terminate the rest; then queued (attempt + 1) when
 *            EC2 named a capacity reason, else failed. (L4) all `count` seen
 *            and none pending → running. (L5) fewer than `count` seen after
 *            launch_sent_at + launch_grace → terminate those seen, then
 *            failed. Else nothing (DescribeInstances is eventually
 *            consistent).
 * running, expiring:
 *            (R1) cancel requested → terminate what is terminable; cancelled
 *            once all have ended. (R2) every instance seen has ended (or none
 *            is seen after started_at + launch_grace: terminated instances
 *            stay listed for about an hour) → the outcome: all ended by
 *            their own shutdown (Client.InstanceInitiatedShutdown) →
 *            succeeded; else whichever came first of the walltime
 *            (started_at + duration: timed_out) and the cutoff
 *            (checkpointable: queued with attempt + 1, else expired), if it
 *            has passed; else an instance ended by EC2 (Server.…) → failed;
 *            else succeeded (ended before the cutoff, none by cbq). (R3) the
 *            walltime passed first → terminate what is terminable (then R2
 *            says timed_out); the cutoff passed first → queued with attempt +
 *            1 if checkpointable, else expired (AWS is terminating them; cbq
 *            does not). (R4) running, the walltime ends after the cutoff, and
 *            now ≥ end − 40 min − expiry_lead → expiring (once). Else nothing.
 *
 * A block that is not active or scheduled (expired, cancelled, …) counts as
 * having reached its cutoff. The cutoff is always end − 30 min (block.h).
 */
#ifndef CBQ_INVENTORY_RECONCILE_H
#define CBQ_INVENTORY_RECONCILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/block.h"
#include "core/err.h"
#include "core/job.h"
#include "inventory/jobfsm.h"

enum {
	INV_INSTANCES_MAX = 1024, /* instances with one job's tag, all attempts */
	INV_IGNORED_MAX = 32,	  /* ignored instances listed by id (all are counted) */
};
/* AWS warns 40 min before a block ends (DESIGN.md §1). */
#define INV_WARNING_LEAD_MS ((cbq_ms)40 * 60 * 1000)
/* Times must lie in [0, INV_TIME_MAX] (year 9999), so sums never overflow. */
#define INV_TIME_MAX ((cbq_ms)253402300799999)
/* Settings are capped so that no sum overflows either. */
#define INV_SETTING_MAX_MS ((cbq_ms)30 * 24 * 3600 * 1000)
/* next_at when nothing is due by time alone. */
#define INV_NEVER INT64_MAX

/* One instance from DescribeInstances; strings are borrowed, may be NULL. */
struct inv_instance {
	const char *id;
	const char *state; /* instanceState/name: pending, running, shutting-down, … */
	cbq_ms launch_time;
	const char *client_token;
	const char *state_reason; /* stateReason/message: "Server.ScheduledStop: …" */
};

/* Both in 0..INV_SETTING_MAX_MS. */
struct inv_reconcile_settings {
	cbq_ms expiry_lead;  /* expiring this long before AWS's 40-minute warning */
	cbq_ms launch_grace; /* how long instances may stay invisible */
};

/* expiry lead 10 min (the scheduler's default), grace 5 min. */
void inv_reconcile_settings_default(struct inv_reconcile_settings *s);

struct inv_reconcile_input {
	cbq_ms now;
	struct inv_reconcile_settings settings;
	/* Read: id, state, spec.account_id, spec.count, spec.duration_s,
	 * spec.checkpointable, attempt, block_id, started_at (required in
	 * running and expiring). */
	const struct job *job;
	bool cancel_requested;
	/* When RunInstances with the current token was last sent (the engine
	 * resends a launching job's launch before trusting the grace). */
	cbq_ms launch_sent_at;
	/* The job's block (id, state, end); NULL only for queued and final jobs. */
	const struct block *block;
	const struct inv_instance *instances;
	size_t n_instances; /* ≤ INV_INSTANCES_MAX */
};

enum inv_action {
	INV_ACTION_NONE,
	INV_ACTION_TERMINATE,  /* TerminateInstances on `terminate`, then ask again */
	INV_ACTION_TRANSITION, /* persist `transition` */
};

/* Pointers are borrowed from the input. */
struct inv_decision {
	enum inv_action action;
	struct inv_transition transition;	  /* INV_ACTION_TRANSITION */
	const char *terminate[INV_INSTANCES_MAX]; /* INV_ACTION_TERMINATE: instance ids */
	size_t n_terminate;
	const char *ignored[INV_IGNORED_MAX]; /* other tokens: never this attempt's */
	size_t n_ignored;		      /* all of them, even past INV_IGNORED_MAX */
	size_t n_current;		      /* instances of the current attempt seen */
	char reason[INV_REASON_MAX];	      /* why, with numbers; also for NONE */
	cbq_ms next_at; /* look again by then even if EC2 shows nothing new; INV_NEVER */
};

/*
 * Decides for one job (rules above). Refuses more than INV_INSTANCES_MAX
 * instances (CBQ_ERR_TOO_LARGE) and, with CBQ_ERR_INVALID naming the field:
 * a missing job, an id or attempt < 1, a count outside 1..JOB_COUNT_MAX or
 * a duration outside 0..JOB_DURATION_MAX_S (launching, running, expiring),
 * a launching, running or expiring job without a block, a running or
 * expiring job without a start, settings outside their ranges, times
 * outside 0..INV_TIME_MAX. *out is written only on success; it is large
 * (~8 KiB).
 */
enum cbq_err inv_reconcile(const struct inv_reconcile_input *in, struct inv_decision *out,
			   struct cbq_error *err) CBQ_MUST_CHECK;

const char *inv_action_name(enum inv_action a);

#endif
