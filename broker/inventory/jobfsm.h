/*
 * The job state machine (DESIGN.md §4, STYLE.md rule 15): which edges are
 * legal, and the one constructor of a transition record (from, to, when,
 * why, the attempt afterwards). Every job state change in cbq is built
 * here; the engine persists it as one conditional UPDATE plus a job_events
 * row. Pure: it neither reads nor writes the job, and knows no clock.
 */
#ifndef CBQ_INVENTORY_JOBFSM_H
#define CBQ_INVENTORY_JOBFSM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/job.h"

enum { INV_REASON_MAX = 256 }; /* bytes, NUL included: reasons and event texts */

/*
 * The legal edges:
 *   queued    → launching | cancelled
 *   launching → running | queued (capacity race lost) | failed | cancelled
 *   running   → expiring | succeeded | failed | timed_out | expired | cancelled
 *               | queued (checkpointable requeue)
 *   expiring  → succeeded | failed | timed_out | expired | cancelled | queued
 * Final states have no exits; no state goes to itself. Values outside
 * enum job_state are never legal.
 */
bool inv_job_edge_ok(enum job_state from, enum job_state to);

/*
 * The attempt a job has after from → to. Going back to queued from
 * launching, running or expiring starts a new attempt (attempt + 1): the
 * next launch may go to another block, so it needs a new ClientToken (the
 * old one with other parameters would get IdempotentParameterMismatch, and
 * one whose instances ended gets IdempotentInstanceTerminated). Every other
 * edge keeps the attempt (and so does INT32_MAX, which inv_transition_make
 * refuses). Meaningful only for legal edges.
 */
int32_t inv_job_next_attempt(enum job_state from, enum job_state to, int32_t attempt);

struct inv_transition {
	int64_t job_id;
	enum job_state from, to;
	cbq_ms at;
	char reason[INV_REASON_MAX]; /* clean UTF-8 (inventory/text.h), maybe truncated */
	int32_t new_attempt;	     /* the job's attempt after the edge */
};

/*
 * Fills *out with the transition of job job_id (now at attempt, ≥ 1) from
 * → to at time at, the reason printed from fmt. Refuses an illegal edge
 * with CBQ_ERR_CONFLICT (field "state", naming both states: "job 42 cannot
 * go from succeeded to running"), and job_id < 1, attempt < 1 or an attempt
 * that would overflow with CBQ_ERR_INVALID. *out is written only on success.
 */
enum cbq_err inv_transition_make(struct inv_transition *out, int64_t job_id, enum job_state from,
				 enum job_state to, int32_t attempt, cbq_ms at,
				 struct cbq_error *err, const char *fmt, ...)
	CBQ_PRINTF(8, 9) CBQ_MUST_CHECK;

#endif
