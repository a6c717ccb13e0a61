/*
 * The reconciler: every few seconds the leader reads the jobs that hold
 * instances, asks each account (as its role) for the instances tagged with
 * those jobs, lets inventory/reconcile decide per job, and carries the
 * decision out: a state change (succeeded, timed_out, expired, requeued,
 * expiring, ...) or a TerminateInstances of that job's own instances. It
 * never touches an instance cbq did not launch; the pure module decides.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/ec2.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "db/fleet.h"
#include "engine.h"
#include "engine_internal.h"
#include "inventory/reconcile.h"
#include "util/clock.h"
#include "util/log.h"

#define RECONCILE_EVERY_MS ((cbq_ms)5000) /* by the engine's clock */
#define HELD_MAX 5000
#define JOBS_PER_CALL 100 /* filter values in one DescribeInstances */

/* One account's share of a pass: its jobs and what EC2 says about them. */
struct sweep {
	struct engine *e;
	struct cbq_arena arena;
	struct db_held *jobs;
	size_t n_jobs;
	char account[13];
	char role_arn[2049];
	char external_id[1225];
	struct inv_instance *inst;
	int64_t *inst_job; /* the cbq:job of each instance */
	size_t n_inst, cap_inst;
	char *next_token;
};

static void sweep_done(struct sweep *sw)
{
	struct engine *e = sw->e;

	free(sw->inst);
	free(sw->inst_job);
	cbq_arena_free(&sw->arena);
	free(sw);
	if (--e->sweeps == 0)
		e->reconciling = false;
}

static void transitioned(void *arg, bool applied, const struct db_error *err)
{
	struct engine *e = arg;

	if (err)
		cbq_log(CBQ_LOG_WARN, "reconcile_store_failed", "error=%s", cbq_log_q(err->err.msg));
	if (applied)
		e->dirty = true;
}

static void terminated(const struct aws_call_result *r, void *arg)
{
	(void)arg;
	if (r->code != CBQ_OK)
		cbq_log(CBQ_LOG_WARN, "terminate_failed", "error=%s", cbq_log_q(r->err->msg));
}

static void terminate(struct sweep *sw, const struct db_held *h, const char *const *ids, size_t n)
{
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };
	char what[64];

	if (aws_ec2_terminate_form(ids, n, &form, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_WARN, "terminate_refused", "job=%" PRId64 " error=%s", h->id,
			cbq_log_q(err.msg));
		return;
	}
	snprintf(what, sizeof(what), "ec2:TerminateInstances for job %" PRId64, h->id);
	struct aws_call_req call = {
		.service = AWS_SVC_EC2,
		.role = { sw->role_arn, sw->external_id[0] ? sw->external_id : NULL, "cbq-reconcile" },
		.what = what,
		.path = "/",
		.body = aws_form_body(&form),
		.body_len = aws_form_len(&form),
	};
	cbq_log(CBQ_LOG_INFO, "terminating", "job=%" PRId64 " instances=%zu", h->id, n);
	aws_call_start(sw->e->aws, &call, terminated, NULL);
	aws_form_free(&form);
}

/* Everything about the account's jobs is in: decide and act, job by job. */
static void decide(struct sweep *sw)
{
	struct engine *e = sw->e;
	struct inv_reconcile_settings set;
	struct inv_decision *d = cbq_xmalloc(sizeof(*d));
	struct inv_instance *mine = cbq_xcalloc(sw->n_inst + 1, sizeof(*mine));
	cbq_ms now = cbq_clock_now(e->clock);

	inv_reconcile_settings_default(&set);
	for (size_t j = 0; j < sw->n_jobs; j++) {
		const struct db_held *h = &sw->jobs[j];
		struct cbq_error err = { 0 };
		size_t n = 0;

		for (size_t i = 0; i < sw->n_inst; i++)
			if (sw->inst_job[i] == h->id)
				mine[n++] = sw->inst[i];
		struct job job = {
			.id = h->id,
			.team = h->team,
			.spec = { .account_id = h->account_id,
				  .count = h->count,
				  .duration_s = h->duration_s,
				  .checkpointable = h->checkpointable },
			.state = h->state,
			.attempt = h->attempt,
			.block_id = h->block_id,
			.started_at = h->started_at,
		};
		struct block block = {
			.id = h->block_id,
			.state = h->block_state,
			.end = h->block_end,
			.cutoff = h->block_end - BLOCK_CUTOFF_LEAD_MS,
		};
		struct inv_reconcile_input in = {
			.now = now,
			.settings = set,
			.job = &job,
			.cancel_requested = h->cancel_requested,
			.block = &block,
			.instances = mine,
			.n_instances = n,
		};
		if (inv_reconcile(&in, d, &err) == CBQ_OK && d->next_at < e->reconcile_at)
			e->reconcile_at = d->next_at; /* a warning, a walltime, a cutoff */
		if (err.code != CBQ_OK) {
			cbq_log(CBQ_LOG_WARN, "reconcile_refused", "job=%" PRId64 " field=%s error=%s",
				h->id, err.field, cbq_log_q(err.msg));
			continue;
		}
		if (d->action == INV_ACTION_TERMINATE) {
			terminate(sw, h, d->terminate, d->n_terminate);
		} else if (d->action == INV_ACTION_TRANSITION) {
			struct db_transition t = {
				.job_id = h->id,
				.from = d->transition.from,
				.to = d->transition.to,
				.at = now,
				.actor = "reconciler",
				.reason = d->transition.reason,
				.next_attempt = d->transition.new_attempt > h->attempt,
			};
			cbq_log(CBQ_LOG_INFO, "job_reconciled", "job=%" PRId64 " from=%s to=%s", h->id,
				job_state_name(t.from), job_state_name(t.to));
			db_job_transition(e->db, &t, transitioned, e);
		}
	}
	free(mine);
	free(d);
	sweep_done(sw);
}

static void describe_page(struct sweep *sw);

static void on_page(const struct aws_call_result *r, void *arg)
{
	struct sweep *sw = arg;
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };

	if (r->code != CBQ_OK ||
	    aws_ec2_parse_describe_instances(r->body, r->body_len, &v, &err) != CBQ_OK) {
		/* no verdict on missing data: the next pass looks again */
		cbq_log(CBQ_LOG_WARN, "reconcile_describe_failed", "account=%s error=%s",
			sw->account, cbq_log_q(r->code != CBQ_OK ? r->err->msg : err.msg));
		sweep_done(sw);
		return;
	}
	for (size_t i = 0; i < v.n && sw->n_inst < INV_INSTANCES_MAX * 4; i++) {
		const struct aws_ec2_instance *x = &v.items[i];
		int64_t job = 0;
		for (size_t t = 0; t < x->tags.n; t++)
			if (strcmp(x->tags.items[t].key, "cbq:job") == 0)
				job = strtoll(x->tags.items[t].value, NULL, 10);
		if (sw->n_inst == sw->cap_inst) {
			sw->cap_inst = sw->cap_inst ? sw->cap_inst * 2 : 64;
			sw->inst = cbq_xrealloc(sw->inst, sw->cap_inst, sizeof(*sw->inst));
			sw->inst_job = cbq_xrealloc(sw->inst_job, sw->cap_inst, sizeof(*sw->inst_job));
		}
		sw->inst[sw->n_inst] = (struct inv_instance){
			.id = cbq_arena_strdup(&sw->arena, x->id),
			.state = cbq_arena_strdup(&sw->arena, x->state_name),
			.launch_time = x->launch_time * 1000,
			.client_token = cbq_arena_strdup(&sw->arena, x->client_token),
			.state_reason = cbq_arena_strdup(&sw->arena, x->state_reason),
		};
		sw->inst_job[sw->n_inst++] = job;
	}
	sw->next_token = v.next_token ? cbq_arena_strdup(&sw->arena, v.next_token) : NULL;
	aws_ec2_instances_free(&v);
	if (sw->next_token)
		describe_page(sw);
	else
		decide(sw);
}

static void describe_page(struct sweep *sw)
{
	const char *ids[JOBS_PER_CALL];
	char *idtext = cbq_arena_alloc(&sw->arena, sw->n_jobs * 24 + 1, 1);
	struct aws_filter filter = { "tag:cbq:job", ids, 0 };
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };

	for (size_t j = 0; j < sw->n_jobs; j++) {
		char *p = idtext + j * 24;
		snprintf(p, 24, "%" PRId64, sw->jobs[j].id);
		ids[filter.n_values++] = p;
	}
	struct aws_ec2_describe_instances req = { .filters = &filter,
						  .n_filters = 1,
						  .max_results = 1000,
						  .next_token = sw->next_token };
	if (aws_ec2_describe_instances_form(&req, &form, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_WARN, "reconcile_refused", "account=%s error=%s", sw->account,
			cbq_log_q(err.msg));
		sweep_done(sw);
		return;
	}
	struct aws_call_req call = {
		.service = AWS_SVC_EC2,
		.role = { sw->role_arn, sw->external_id[0] ? sw->external_id : NULL, "cbq-reconcile" },
		.what = "ec2:DescribeInstances",
		.path = "/",
		.body = aws_form_body(&form),
		.body_len = aws_form_len(&form),
	};
	aws_call_start(sw->e->aws, &call, on_page, sw);
	aws_form_free(&form);
}

/* A sweep for h[0..n) (one account), copied out of the database callback. */
static void sweep_start(struct engine *e, const struct db_held *h, size_t n)
{
	struct sweep *sw = cbq_xcalloc(1, sizeof(*sw));

	sw->e = e;
	sw->jobs = cbq_arena_alloc(&sw->arena, n, sizeof(*sw->jobs));
	for (size_t j = 0; j < n; j++) {
		sw->jobs[j] = h[j];
		sw->jobs[j].team = cbq_arena_strdup(&sw->arena, h[j].team);
		sw->jobs[j].account_id = cbq_arena_strdup(&sw->arena, h[j].account_id);
		sw->jobs[j].role_arn = cbq_arena_strdup(&sw->arena, h[j].role_arn);
		sw->jobs[j].external_id = cbq_arena_strdup(&sw->arena, h[j].external_id);
		sw->jobs[j].block_id = cbq_arena_strdup(&sw->arena, h[j].block_id);
		sw->jobs[j].block_state = cbq_arena_strdup(&sw->arena, h[j].block_state);
	}
	sw->n_jobs = n;
	snprintf(sw->account, sizeof(sw->account), "%s", h[0].account_id);
	snprintf(sw->role_arn, sizeof(sw->role_arn), "%s", h[0].role_arn);
	snprintf(sw->external_id, sizeof(sw->external_id), "%s", h[0].external_id);
	e->sweeps++;
	describe_page(sw);
}

static void held_read(void *arg, const struct db_held *h, size_t n, const struct db_error *err)
{
	struct engine *e = arg;
	size_t i = 0;

	if (err || !e->leader || !e->aws || n == 0) {
		if (err)
			cbq_log(CBQ_LOG_WARN, "reconcile_read_failed", "error=%s", cbq_log_q(err->err.msg));
		e->reconciling = false;
		return;
	}
	e->sweeps = 1; /* held until every sweep has started */
	while (i < n) {
		size_t k = i + 1;
		while (k < n && k - i < JOBS_PER_CALL && strcmp(h[k].account_id, h[i].account_id) == 0)
			k++;
		sweep_start(e, h + i, k - i);
		i = k;
	}
	if (--e->sweeps == 0)
		e->reconciling = false;
}

void engine_reconcile_tick(struct engine *e)
{
	cbq_ms real = cbq_clock_real_ms();

	if (!e->aws || !e->leader || e->reconciling)
		return;
	/* every few seconds, and when a job's next step falls due by the
	 * engine's clock (which may run faster than real time) */
	if (real < e->next_reconcile && cbq_clock_now(e->clock) < e->reconcile_at)
		return;
	e->reconciling = true;
	e->next_reconcile = real + engine_real_span(e, RECONCILE_EVERY_MS, 500);
	e->reconcile_at = INV_NEVER;
	db_held_jobs(e->db, HELD_MAX, held_read, e);
}
