/*
 * The engine (see engine.h). For now it serves the API: it validates with
 * the pure core, decides what a caller may see and do, and asks db/ to read
 * and write. It holds no SQL and does no HTTP.
 */
#include "engine.h"
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "core/teamhint.h"
#include "db/db.h"
#include "db/jobs.h"
#include "db/pending.h"
#include "db/snapshot.h"
#include "db/caller_batch.h"
#include "db/submit_batch.h"
#include "db/verdicts.h"
#include "sched/sched.h"
#include "util/clock.h"
#include "util/log.h"

/* One API operation in flight. */
struct op {
	struct engine *e;
	struct caller caller;
	void *arg;
	union {
		engine_caller_fn *caller_done;
		engine_job_fn *job_done;
		engine_jobs_fn *jobs_done;
		engine_blocks_fn *blocks_done;
	};
	/* submit: everything needed to retry once after a key race */
	struct job_spec spec;
	char key[JOB_IDEMPOTENCY_KEY_MAX + 1];
	uint8_t sha[32];
	bool retried;
	int page_size;
	int64_t job_id; /* get, cancel: for the not-found message */
	char kind[JOB_KIND_MAX + 1];
};

static struct op *op_new(struct engine *e, const struct caller *c, void *arg)
{
	struct op *op = calloc(1, sizeof(*op));

	if (!op)
		abort();
	op->e = e;
	if (c)
		op->caller = *c;
	op->arg = arg;
	return op;
}

struct engine *engine_new(struct db *db, const struct cbq_clock *clock)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		abort();
	e->db = db;
	e->clock = clock;
	sched_settings_default(&e->settings);
	e->plan_next = SCHED_NO_ETA;
	e->reconcile_at = INT64_MAX;
	e->submit_batch_max = DB_SUBMIT_BATCH_DEFAULT;
	e->hints = teamhints_new();
	e->timeline = db_timeline_new();
	e->pending = db_pending_new();
	struct launch_pacer_settings ps;
	launch_pacer_settings_default(&ps);
	if (launch_pacer_init(&e->pacer, &ps, NULL) != CBQ_OK)
		abort(); /* the defaults are constants */
	return e;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	free(e->slots);
	db_submit_batch_free(e->submits);
	db_caller_batch_free(e->callers);
	engine_cycle_free(e);
	teamhints_free(e->hints);
	db_timeline_free(e->timeline);
	db_pending_free(e->pending);
	engine_inventory_free(e);
	engine_metrics_free(e);
	free(e);
}

void engine_set_aws(struct engine *e, struct aws_client *aws)
{
	e->aws = aws;
	if (aws)
		aws_client_set_observer(aws, engine_aws_seen, e);
}

bool engine_ready(const struct engine *e)
{
	return e->schema_ok && db_ready(e->db);
}

void engine_set_leader(struct engine *e, bool leader)
{
	e->leader = leader;
	e->dirty = leader;
	if (leader) {
		e->next_inventory = 0; /* sync right after gaining leadership */
		/* notifications may have been missed, and verdicts written by
		 * another leader, while this one was not leading: the next cycle
		 * rewrites every verdict and reads every queued job again */
		db_timeline_forget(e->timeline);
		e->verdicts_rewrite_at = 0;
	}
}

bool engine_is_leader(const struct engine *e)
{
	return e->leader;
}

cbq_ms engine_now(const struct engine *e)
{
	return cbq_clock_now(e->clock);
}

void engine_notified(struct engine *e, const char *channel, const char *payload)
{
	cbq_log(CBQ_LOG_DEBUG, "notified", "channel=%s payload_bytes=%zu", channel,
		strlen(payload));
	e->dirty = true;
	if (strcmp(channel, "cbq_policy") == 0) {
		db_timeline_forget(e->timeline);
		e->policy_dirty = true;
	}
}

void engine_tick(struct engine *e)
{
	cbq_ms real = cbq_clock_real_ms();

	if (!e->leader || !e->schema_ok)
		return;
	engine_launch_tick(e);
	engine_reconcile_tick(e);
	engine_inventory_tick(e);
	if (e->cycle)
		return;
	/* a burst of submits wakes the leader on every COMMIT: replan at most
	 * once per gap for them, not back to back; a policy change within the
	 * minimum gap, whatever the queue's size */
	cbq_ms gap = e->last_cycle_pending >= ENGINE_CYCLE_SPACED_QUEUE ?
			     ENGINE_CYCLE_GAP_FACTOR * e->last_cycle_ms :
			     0;
	gap = gap < ENGINE_CYCLE_MIN_GAP_MS ? ENGINE_CYCLE_MIN_GAP_MS :
	      gap > ENGINE_CYCLE_MAX_GAP_MS ? ENGINE_CYCLE_MAX_GAP_MS :
					      gap;
	if ((e->policy_dirty && real >= e->last_cycle_began + ENGINE_CYCLE_MIN_GAP_MS) ||
	    (e->dirty && real >= e->last_cycle_began + gap) || real >= e->next_cycle ||
	    (e->plan_next != SCHED_NO_ETA && cbq_clock_now(e->clock) >= e->plan_next))
		engine_cycle_start(e);
}

cbq_ms engine_real_span(const struct engine *e, cbq_ms span, cbq_ms floor)
{
	cbq_ms real = e->clock->factor > 1.0 ? (cbq_ms)((double)span / e->clock->factor) : span;

	return real < floor ? floor : real;
}

void engine_set_schema_ok(struct engine *e)
{
	e->schema_ok = true;
}

/* Errors from Postgres that are not the caller's fault lose their detail
 * at the edge: the log keeps it, the reply says what to do. */
static const struct cbq_error *db_failure(const struct db_error *dberr, struct cbq_error *out,
					  const char *what)
{
	if (dberr->err.code == CBQ_ERR_UNAVAILABLE) {
		cbq_fail(out, CBQ_ERR_UNAVAILABLE, NULL,
			 "the job database is unreachable; try again shortly");
	} else {
		cbq_log(CBQ_LOG_ERROR, "db_error", "op=%s sqlstate=%s constraint=%s", what,
			dberr->sqlstate, dberr->constraint);
		cbq_fail(out, CBQ_ERR_INTERNAL, NULL, "internal error while %s", what);
	}
	return out;
}

/* ---- authenticate -------------------------------------------------------- */

/* A caller lookup's answer into op->caller (and the team hints); NULL when
 * it fails, with err set. */
static const struct caller *caller_found(struct op *op, const struct db_caller *dc,
					 const struct db_error *dberr, struct cbq_error *err)
{
	struct caller *c = &op->caller;

	if (dberr) {
		db_failure(dberr, err, "looking up the caller");
		return NULL;
	}
	if (!dc) {
		teamhints_drop(op->e->hints, c->account_id);
		cbq_fail(err, CBQ_ERR_FORBIDDEN, NULL,
			 "account %s is not registered with cbq; ask the platform team to add it "
			 "(cbqd admin account add %s --team TEAM --role-arn ARN)",
			 c->account_id, c->account_id);
		return NULL;
	}
	snprintf(c->team, sizeof(c->team), "%s", dc->team);
	c->admin = dc->admin;
	c->team_unchecked = false;
	teamhints_put(op->e->hints, c->account_id, c->team);
	return c;
}

static void caller_lookup(struct op *op, db_caller_fn *done)
{
	struct engine *e = op->e;

	if (!e->callers)
		e->callers = db_caller_batch_new(e->db);
	db_caller_batch_add(e->callers, op->caller.account_id, op->caller.principal, done, op);
}

static void authenticate_done(void *arg, const struct db_caller *dc, const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;
	const struct caller *c = caller_found(op, dc, dberr, &err);

	op->caller_done(op->arg, c, c ? NULL : &err);
	free(op);
}

void engine_authenticate(struct engine *e, const struct caller *transport, engine_caller_fn *done,
			 void *arg)
{
	struct op *op = op_new(e, transport, arg);

	op->caller_done = done;
	caller_lookup(op, authenticate_done);
}

bool engine_caller_hinted(const struct engine *e, struct caller *c)
{
	if (!teamhints_get(e->hints, c->account_id, c->team, sizeof(c->team)))
		return false;
	c->admin = false;
	c->team_unchecked = true;
	return true;
}

/* ---- submit ---------------------------------------------------------------- */

void engine_set_submit_batch_max(struct engine *e, int n)
{
	e->submit_batch_max = n;
}

static void submit_stored(void *arg, enum db_submit_outcome outcome, const struct job *job,
			  const struct db_error *dberr);

static void submit_send(struct op *op)
{
	struct db_submit s = {
		.team = op->caller.team,
		.caller_account = op->caller.team_unchecked ? op->caller.account_id : NULL,
		.submitted_by = op->caller.principal,
		.spec = &op->spec,
		.idempotency_key = op->key,
		.request_sha256 = op->sha,
		.now = cbq_clock_now(op->e->clock),
		.notify = !op->e->leader,
	};

	/* s points into op, which lives until submit_stored */
	if (!op->e->submits)
		op->e->submits = db_submit_batch_new(op->e->db, op->e->submit_batch_max);
	db_submit_batch_add(op->e->submits, &s, submit_stored, op);
}

static void unknown_kind(void *arg, const char *kinds, const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;

	cbq_fail(&err, CBQ_ERR_INVALID, "spec.kind", "unknown kind %s; known kinds: %s", op->kind,
		 dberr ? "see the job_kinds table" : kinds);
	op->job_done(op->arg, NULL, NULL, 0, &err);
	free(op);
}

/* The hint was wrong: the caller's account is no longer of that team. */
static void submit_relooked(void *arg, const struct db_caller *dc, const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;

	if (!caller_found(op, dc, dberr, &err)) {
		op->job_done(op->arg, NULL, NULL, 0, &err);
		free(op);
		return;
	}
	submit_send(op);
}

static void submit_stored(void *arg, enum db_submit_outcome outcome, const struct job *job,
			  const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;

	if (!dberr && outcome == DB_SUBMIT_CALLER_STALE) {
		teamhints_drop(op->e->hints, op->caller.account_id);
		if (!op->caller.team_unchecked) {
			/* a looked-up team is never checked again: a bug below */
			cbq_fail(&err, CBQ_ERR_INTERNAL, NULL,
				 "internal error while storing the job");
			op->job_done(op->arg, NULL, NULL, 0, &err);
			free(op);
			return;
		}
		caller_lookup(op, submit_relooked);
		return;
	}
	if (dberr && strcmp(dberr->constraint, "jobs_kind_known") == 0) {
		snprintf(op->kind, sizeof(op->kind), "%s", op->spec.kind);
		db_kind_names(op->e->db, unknown_kind, op);
		return;
	}
	if (dberr && strcmp(dberr->constraint, "jobs_account_of_team") == 0) {
		cbq_fail(&err, CBQ_ERR_INVALID, "spec.account_id",
			 "account %s is not registered to team %s; use one of your team's accounts "
			 "or ask the platform team to add it",
			 op->spec.account_id, op->caller.team);
		op->job_done(op->arg, NULL, NULL, 0, &err);
	} else if (dberr) {
		op->job_done(op->arg, NULL, NULL, 0, db_failure(dberr, &err, "storing the job"));
	} else if (outcome == DB_SUBMIT_RACED && !op->retried) {
		/* another submit with this key committed after our snapshot */
		op->retried = true;
		submit_send(op);
		return;
	} else if (outcome == DB_SUBMIT_RACED) {
		cbq_fail(&err, CBQ_ERR_CONFLICT, "idempotency_key",
			 "a submit with this idempotency key is in progress; retry");
		op->job_done(op->arg, NULL, NULL, 0, &err);
	} else if (outcome == DB_SUBMIT_MISMATCH) {
		cbq_fail(&err, CBQ_ERR_CONFLICT, "idempotency_key",
			 "idempotency key %s was used for job %lld with a different request; use a "
			 "new key for a new job",
			 op->key, (long long)job->id);
		op->job_done(op->arg, NULL, NULL, 0, &err);
	} else {
		if (outcome == DB_SUBMIT_CREATED) {
			/* as a leader, it sent no NOTIFY (struct db_submit's notify) */
			op->e->dirty = true;
			cbq_log(CBQ_LOG_INFO, "job_submitted",
				"job=%lld team=%s account=%s kind=%s count=%d", (long long)job->id,
				job->team, job->spec.account_id, job->spec.kind,
				(int)job->spec.count);
		}
		op->job_done(op->arg, job, NULL, 0, NULL);
	}
	free(op);
}

void engine_submit(struct engine *e, const struct caller *c, const struct job_spec *spec,
		   const char *idempotency_key, const uint8_t request_sha256[32],
		   engine_job_fn *done, void *arg)
{
	struct cbq_error err;
	struct op *op;
	struct job_spec s = *spec;
	/* a job runs in the caller's own account unless it names another of its team's */
	bool own = !s.account_id || !*s.account_id;

	if (own)
		s.account_id = c->account_id;
	if (job_spec_validate(&s, &err) || job_idempotency_key_validate(idempotency_key, &err)) {
		done(arg, NULL, NULL, 0, &err);
		return;
	}
	op = op_new(e, c, arg);
	op->job_done = done;
	/* the spec's strings stay valid: the caller keeps them until done */
	op->spec = s;
	if (own)
		op->spec.account_id = op->caller.account_id;
	snprintf(op->key, sizeof(op->key), "%s", idempotency_key ? idempotency_key : "");
	memcpy(op->sha, request_sha256, 32);
	submit_send(op);
}

/* ---- get, cancel ----------------------------------------------------------- */

static const char *team_scope(const struct caller *c)
{
	return c->admin ? NULL : c->team;
}

static void not_found(struct cbq_error *err, int64_t id)
{
	cbq_fail(err, CBQ_ERR_NOT_FOUND, NULL, "no job %lld among the jobs you can see",
		 (long long)id);
}

static void get_done(void *arg, const struct job *job, const struct job_event *ev, size_t n_ev,
		     const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;

	if (dberr) {
		op->job_done(op->arg, NULL, NULL, 0, db_failure(dberr, &err, "reading the job"));
	} else if (!job) {
		not_found(&err, op->job_id);
		op->job_done(op->arg, NULL, NULL, 0, &err);
	} else {
		op->job_done(op->arg, job, ev, n_ev, NULL);
	}
	free(op);
}

void engine_get_job(struct engine *e, const struct caller *c, int64_t id, engine_job_fn *done,
		    void *arg)
{
	struct op *op = op_new(e, c, arg);

	op->job_done = done;
	op->job_id = id;
	db_job_get(e->db, id, team_scope(c), get_done, op);
}

static void cancel_done(void *arg, bool cancelled, const struct job *job,
			const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;

	if (dberr) {
		op->job_done(op->arg, NULL, NULL, 0, db_failure(dberr, &err, "cancelling the job"));
	} else if (!job) {
		not_found(&err, op->job_id);
		op->job_done(op->arg, NULL, NULL, 0, &err);
	} else if (!cancelled) {
		cbq_fail(&err, CBQ_ERR_CONFLICT, NULL,
			 "job %lld has already ended (%s); nothing to cancel", (long long)job->id,
			 job_state_name(job->state));
		op->job_done(op->arg, NULL, NULL, 0, &err);
	} else {
		cbq_log(CBQ_LOG_INFO,
			job->state == JOB_CANCELLED ? "job_cancelled" : "job_cancel_requested",
			"job=%lld team=%s", (long long)job->id, job->team);
		op->job_done(op->arg, job, NULL, 0, NULL);
	}
	free(op);
}

void engine_cancel_job(struct engine *e, const struct caller *c, int64_t id, engine_job_fn *done,
		       void *arg)
{
	struct op *op = op_new(e, c, arg);

	op->job_done = done;
	op->job_id = id;
	db_job_cancel(e->db, id, team_scope(c), c->principal, cbq_clock_now(e->clock), cancel_done,
		      op);
}

/* ---- list ------------------------------------------------------------------ */

static void list_done(void *arg, const struct job *jobs, size_t n, const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;
	int64_t next = 0;

	if (dberr) {
		op->jobs_done(op->arg, NULL, 0, 0, db_failure(dberr, &err, "listing jobs"));
	} else {
		if (n > (size_t)op->page_size) {
			n = (size_t)op->page_size;
			next = jobs[n - 1].id;
		}
		op->jobs_done(op->arg, jobs, n, next, NULL);
	}
	free(op);
}

void engine_list_jobs(struct engine *e, const struct caller *c, const struct job_filter *f,
		      engine_jobs_fn *done, void *arg)
{
	struct db_job_filter q = { .state = f->state, .kind = f->kind, .before_id = f->before_id };
	enum job_state st;
	struct cbq_error err;
	struct op *op;

	if (f->state && !job_state_parse(f->state, &st)) {
		cbq_fail(&err, CBQ_ERR_INVALID, "state",
			 "state must be one of queued, launching, running, expiring, succeeded, "
			 "failed, timed_out, expired, cancelled");
		done(arg, NULL, 0, 0, &err);
		return;
	}
	if (f->page_size < 0 || f->page_size > ENGINE_PAGE_MAX) {
		cbq_fail(&err, CBQ_ERR_INVALID, "page_size", "page size must be 1..%d",
			 ENGINE_PAGE_MAX);
		done(arg, NULL, 0, 0, &err);
		return;
	}
	if (f->team && strcmp(f->team, c->team) != 0 && !c->admin) {
		cbq_fail(&err, CBQ_ERR_FORBIDDEN, "team",
			 "you may list only your own team's jobs (team %s)", c->team);
		done(arg, NULL, 0, 0, &err);
		return;
	}
	q.team = f->team ? f->team : (c->admin ? NULL : c->team);
	op = op_new(e, c, arg);
	op->jobs_done = done;
	op->page_size = f->page_size ? f->page_size : ENGINE_PAGE_DEFAULT;
	q.limit = op->page_size;
	db_job_list(e->db, &q, list_done, op);
}

/* ---- blocks ---------------------------------------------------------------- */

static void blocks_done(void *arg, const struct block *b, size_t n, const struct db_error *dberr)
{
	struct op *op = arg;
	struct cbq_error err;

	if (dberr)
		op->blocks_done(op->arg, NULL, 0, db_failure(dberr, &err, "listing blocks"));
	else
		op->blocks_done(op->arg, b, n, NULL);
	free(op);
}

void engine_list_blocks(struct engine *e, const struct caller *c, engine_blocks_fn *done, void *arg)
{
	struct op *op = op_new(e, c, arg);

	op->blocks_done = done;
	db_block_list(e->db, c->admin ? NULL : c->team, c->admin, blocks_done, op);
}
