/*
 * The launcher: the scheduler's launch decisions are committed first
 * (queued → launching, with the block: the outbox), then carried out from
 * the outbox — AssumeRole into the job's account, RunInstances on the block
 * with the ClientToken of (job, attempt), paced per account — and the
 * outcome is committed (running with its instances, back to the queue after
 * a lost capacity race, failed with the role and permission named). A new
 * leader finds the same outbox and repeats the same tokens, so nothing
 * launches twice. Decisions are launcher/plan's; this file only wires.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/ec2.h"
#include "aws/http.h"
#include "core/alloc.h"
#include "db/fleet.h"
#include "engine.h"
#include "engine_internal.h"
#include "util/clock.h"
#include "util/log.h"

#define OUTBOX_POLL_MS ((cbq_ms)1000)

/* ---- launches by job ------------------------------------------------------ */

static struct launch_slot *slot_find(struct engine *e, int64_t id)
{
	for (size_t i = 0; i < e->n_slots; i++)
		if (e->slots[i].job_id == id)
			return &e->slots[i];
	return NULL;
}

static struct launch_slot *slot_add(struct engine *e, int64_t id)
{
	if (e->n_slots == ENGINE_LAUNCH_IN_FLIGHT)
		return NULL;
	if (!e->slots)
		e->slots = cbq_xcalloc(ENGINE_LAUNCH_IN_FLIGHT, sizeof(*e->slots));
	e->slots[e->n_slots] = (struct launch_slot){ .job_id = id };
	return &e->slots[e->n_slots++];
}

static void slot_remove(struct engine *e, int64_t id)
{
	struct launch_slot *s = slot_find(e, id);

	if (s)
		*s = e->slots[--e->n_slots];
}

/* ---- committing the scheduler's decisions --------------------------------- */

static void outbox_kick(struct engine *e);

static void launches_committed(void *arg, const int64_t *applied, size_t n,
			       const struct db_error *err)
{
	struct engine *e = arg;
	cbq_ms real = cbq_clock_real_ms();

	if (err) {
		cbq_log(CBQ_LOG_WARN, "launch_commit_failed", "error=%s", cbq_log_q(err->err.msg));
		return;
	}
	/* the decisions are durable: hold them, and start on them now rather
	 * than at the next tick */
	for (size_t i = 0; i < n; i++) {
		struct launch_slot *s = slot_find(e, applied[i]);
		if (!s)
			s = slot_add(e, applied[i]);
		if (!s)
			break; /* full: the outbox hands over the rest later */
		s->decided_at = real;
	}
	if (n)
		outbox_kick(e);
}

void engine_launch_commit(struct engine *e, const struct sched_input *in,
			  const struct sched_plan *plan)
{
	cbq_ms now = cbq_clock_now(e->clock);
	enum { REASON_MAX = 96 };

	if (!e->aws || !plan->n_launches)
		return;
	/* one statement for the cycle's decisions: one commit, one NOTIFY,
	 * and the outbox read right behind it instead of behind a queue of
	 * single-job transactions */
	struct db_launch_decision *d = cbq_xcalloc(plan->n_launches, sizeof(*d));
	char *reasons = cbq_xcalloc(plan->n_launches, REASON_MAX);
	size_t n = 0;
	for (size_t i = 0; i < plan->n_launches; i++) {
		const struct sched_launch *l = &plan->launches[i];
		const struct sched_pending *p = &in->pending[l->job];
		const char *block = in->blocks[l->block].id;
		char *reason = reasons + n * REASON_MAX;

		if (!engine_launches_on(e, block))
			continue; /* its verdict says why it waits */
		snprintf(reason, REASON_MAX, "launching %d on %s", p->count, block);
		d[n++] = (struct db_launch_decision){ l->job_id, block, reason };
	}
	if (n)
		db_jobs_launching(e->db, d, n, now, launches_committed, e);
	free(d);
	free(reasons);
}

/* ---- one RunInstances ------------------------------------------------------ */

struct launch_ctx {
	struct engine *e;
	int64_t job_id;
	int32_t attempt, count;
	char account[13];
	char role_arn[2049];
	char block[64];
	char token[LAUNCH_CLIENT_TOKEN_BUF];
};

static void outcome_stored(void *arg, bool applied, const struct db_error *err)
{
	struct launch_ctx *c = arg;
	struct engine *e = c->e;

	if (err)
		cbq_log(CBQ_LOG_WARN, "launch_store_failed", "job=%" PRId64 " error=%s", c->job_id,
			cbq_log_q(err->err.msg));
	else if (!applied)
		cbq_log(CBQ_LOG_INFO, "launch_superseded", "job=%" PRId64, c->job_id);
	/* the job left launching (or someone else moved it): replan around it */
	slot_remove(e, c->job_id);
	e->dirty = true;
	free(c);
}

/* Another account took the capacity cbq planned on: EC2 knows better than
 * the last sync. Read it again now, and until then (or for a minute of the
 * engine's clock) launch nothing more there, rather than losing the same
 * race every cycle. */
static void race_lost(struct engine *e, const char *block)
{
	struct lost_race *slot = &e->races[0];
	cbq_ms real = cbq_clock_real_ms();

	for (size_t i = 0; i < ENGINE_RACES_MAX; i++) {
		if (strcmp(e->races[i].block, block) == 0) {
			slot = &e->races[i];
			break;
		}
		if (e->races[i].until < slot->until)
			slot = &e->races[i];
	}
	snprintf(slot->block, sizeof(slot->block), "%s", block);
	slot->until = real + engine_real_span(e, 60 * 1000, 2000);
	e->next_inventory = 0;
}

static bool block_raced(const struct engine *e, const char *block)
{
	cbq_ms real = cbq_clock_real_ms();

	for (size_t i = 0; i < ENGINE_RACES_MAX; i++)
		if (e->races[i].until > real && strcmp(e->races[i].block, block) == 0)
			return true;
	return false;
}

bool engine_launches_on(const struct engine *e, const char *block)
{
	return e->aws && !block_raced(e, block);
}

static enum launch_result result_of(enum aws_err_class cls)
{
	switch (cls) {
	case AWS_ERRCLASS_RETRY:
		return LAUNCH_RETRY_EXHAUSTED;
	case AWS_ERRCLASS_CAPACITY:
		return LAUNCH_CAPACITY;
	case AWS_ERRCLASS_AUTH:
		return LAUNCH_AUTH;
	case AWS_ERRCLASS_NEW_TOKEN:
		return LAUNCH_NEW_TOKEN;
	default:
		return LAUNCH_FAIL;
	}
}

static void launched(struct launch_ctx *c, const struct aws_call_result *r)
{
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };
	const char *ids[JOB_COUNT_MAX];
	size_t n = 0;

	if (aws_ec2_parse_run_instances(r->body, r->body_len, &v, &err) != CBQ_OK) {
		/* launched or not, the same token makes a resend safe */
		struct launch_slot *s = slot_find(c->e, c->job_id);
		cbq_log(CBQ_LOG_WARN, "launch_reply_unreadable", "job=%" PRId64 " error=%s",
			c->job_id, cbq_log_q(err.msg));
		if (s)
			s->not_before = cbq_clock_now(c->e->clock) + LAUNCH_RETRY_BASE_MS;
		if (s)
			s->in_flight = false;
		free(c);
		return;
	}
	for (size_t i = 0; i < v.n && n < JOB_COUNT_MAX; i++)
		ids[n++] = v.items[i].id;
	cbq_log(CBQ_LOG_INFO, "launched", "job=%" PRId64 " attempt=%d block=%s account=%s instances=%zu",
		c->job_id, c->attempt, c->block, c->account, n);
	db_job_launched(c->e->db, c->job_id, c->attempt, ids, n, cbq_clock_now(c->e->clock),
			outcome_stored, c);
	aws_ec2_instances_free(&v);
}

static void on_run_done(const struct aws_call_result *r, void *arg)
{
	struct launch_ctx *c = arg;
	struct engine *e = c->e;
	struct launch_slot *s = slot_find(e, c->job_id);
	struct launch_next next;
	struct cbq_error err = { 0 };
	cbq_ms now = cbq_clock_now(e->clock);

	if (r->code == CBQ_OK) {
		engine_metric_launch(e, "launched");
		launched(c, r);
		return;
	}
	engine_metric_launch(e, r->cls == AWS_ERRCLASS_CAPACITY ? "lost_race" : "failed");
	if (r->reply && strcmp(r->reply->code, "RequestLimitExceeded") == 0)
		launch_pacer_throttled(&e->pacer, c->account, now);
	if (r->cls == AWS_ERRCLASS_CAPACITY)
		race_lost(e, c->block);
	struct launch_attempt a = {
		.job_id = c->job_id,
		.attempt = c->attempt,
		.retries = s ? s->retries : 0,
		.result = result_of(r->cls),
		.code = r->reply ? r->reply->code : "",
		.message = r->reply ? r->reply->message : r->err->msg,
		.role_arn = c->role_arn,
		.block_id = c->block,
	};
	if (launch_outcome(&a, now, &next, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_ERROR, "launch_outcome_refused", "job=%" PRId64 " error=%s",
			c->job_id, cbq_log_q(err.msg));
		slot_remove(e, c->job_id);
		free(c);
		return;
	}
	cbq_log(CBQ_LOG_INFO, "launch_failed", "job=%" PRId64 " result=%s code=%s next=%s",
		c->job_id, launch_result_name(a.result), a.code, job_state_name(next.to_state));
	if (!next.has_transition) {
		if (s) {
			s->in_flight = false;
			s->retries++;
			s->not_before = now + next.retry_after_ms;
		}
		free(c);
		return;
	}
	struct db_transition t = {
		.job_id = c->job_id,
		.from = JOB_LAUNCHING,
		.to = next.to_state,
		.at = now,
		.actor = "launcher",
		.reason = next.reason,
		.next_attempt = next.new_attempt > c->attempt,
	};
	db_job_transition(e->db, &t, outcome_stored, c);
}

/* Builds and sends RunInstances for l; false when it cannot be built (the
 * job then fails with the reason). */
static void start_launch(struct engine *e, const struct db_launch *l, struct launch_slot *s)
{
	struct launch_ctx *c = cbq_xcalloc(1, sizeof(*c));
	struct launch_tag_set tags;
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };
	char session[32], what[64];

	c->e = e;
	c->job_id = l->id;
	c->attempt = l->attempt;
	c->count = l->count;
	snprintf(c->account, sizeof(c->account), "%s", l->account_id);
	snprintf(c->role_arn, sizeof(c->role_arn), "%s", l->role_arn);
	snprintf(c->block, sizeof(c->block), "%s", l->block_id);
	struct aws_tag atags[LAUNCH_TAGS_MAX];
	if (!l->image_id[0]) {
		cbq_fail(&err, CBQ_ERR_INVALID, "spec.launch.image_id",
			 "the job has no image id to launch; submit it again with --image-id ami-…");
		goto refuse;
	}
	if (launch_client_token(l->id, l->attempt, c->token, &err) != CBQ_OK ||
	    launch_tags(l->id, l->team, l->tags, l->n_tags, &tags, &err) != CBQ_OK)
		goto refuse;
	for (size_t i = 0; i < tags.n; i++)
		atags[i] = (struct aws_tag){ tags.tags[i].key, tags.tags[i].value };
	struct aws_ec2_tag_spec spec = { "instance", atags, tags.n };
	bool profile_arn = strncmp(l->instance_profile, "arn:", 4) == 0;
	struct aws_ec2_run_req req = {
		.image_id = l->image_id,
		.instance_type = l->instance_type,
		.count = l->count,
		.client_token = c->token,
		.key_name = l->key_name[0] ? l->key_name : NULL,
		.subnet_id = l->subnet_id[0] ? l->subnet_id : NULL,
		.security_group_ids = l->security_group_ids,
		.n_security_group_ids = l->n_security_group_ids,
		.iam_profile_name = l->instance_profile[0] && !profile_arn ? l->instance_profile : NULL,
		.iam_profile_arn = profile_arn ? l->instance_profile : NULL,
		.capacity_block = true,
		.capacity_reservation_id = l->block_id,
		.shutdown_behavior = "terminate",
		.tag_specs = &spec,
		.n_tag_specs = 1,
		.user_data = l->user_data_len ? l->user_data : NULL,
		.user_data_len = l->user_data_len,
	};
	if (aws_ec2_run_instances_form(&req, &form, &err) != CBQ_OK)
		goto refuse;
	snprintf(session, sizeof(session), "cbq-%" PRId64, l->id);
	snprintf(what, sizeof(what), "ec2:RunInstances for job %" PRId64, l->id);
	struct aws_call_req call = {
		.service = AWS_SVC_EC2,
		.role = { l->role_arn, l->external_id[0] ? l->external_id : NULL, session },
		.what = what,
		.path = "/",
		.body = aws_form_body(&form),
		.body_len = aws_form_len(&form),
	};
	s->in_flight = true;
	aws_call_start(e->aws, &call, on_run_done, c);
	aws_form_free(&form);
	return;
refuse:
	/* the stored spec cannot become a request: the job cannot launch */
	aws_form_free(&form);
	cbq_log(CBQ_LOG_WARN, "launch_refused", "job=%" PRId64 " field=%s error=%s", l->id,
		err.field, cbq_log_q(err.msg));
	char reason[sizeof(err.field) + sizeof(err.msg) + 32];
	snprintf(reason, sizeof(reason), "cannot launch: %s: %s", err.field, err.msg);
	struct db_transition t = {
		.job_id = l->id,
		.from = JOB_LAUNCHING,
		.to = JOB_FAILED,
		.at = cbq_clock_now(e->clock),
		.actor = "launcher",
		.reason = reason,
	};
	s->in_flight = true;
	db_job_transition(e->db, &t, outcome_stored, c);
}

/* ---- the outbox ----------------------------------------------------------- */

/* Asks the loop for a tick when the first launch held back (by the pacer
 * or a backoff) may go, so that it goes then and not at the next poll.
 * now and real are the clocks the holds were counted from: the tick is due
 * that long after them, not after the launches this read went on to start
 * (a few hundred RunInstances take tens of milliseconds to build). */
static void wake_for_held(struct engine *e, cbq_ms now, cbq_ms real)
{
	cbq_ms first = INT64_MAX;

	for (size_t i = 0; i < e->n_slots; i++)
		if (!e->slots[i].in_flight && e->slots[i].not_before > now &&
		    e->slots[i].not_before < first)
			first = e->slots[i].not_before;
	if (first == INT64_MAX)
		return;
	/* +1: the tick must find the real-ms clock at or past the moment */
	cbq_ms at = real + engine_real_span(e, first - now, 0) + 1;
	cbq_ms in = at - cbq_clock_real_ms();
	if (in < 0)
		in = 0;
	if (at < e->next_outbox)
		e->next_outbox = at;
	if (e->wake)
		e->wake(e->wake_arg, in);
}

static bool listed(const struct db_launch *rows, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].id == id)
			return true;
	return false;
}

static void outbox_read(void *arg, const struct db_launch *rows, size_t n,
			const struct db_error *err)
{
	struct engine *e = arg;
	cbq_ms now = cbq_clock_now(e->clock);
	cbq_ms real = cbq_clock_real_ms();

	e->reading_outbox = false;
	if (err) {
		cbq_log(CBQ_LOG_WARN, "outbox_read_failed", "error=%s", cbq_log_q(err->err.msg));
		return;
	}
	cbq_log(CBQ_LOG_DEBUG, "outbox_read", "rows=%zu in_hand=%zu ms=%lld", n, e->n_slots,
		(long long)(real - (e->next_outbox - OUTBOX_POLL_MS)));
	if (!e->leader)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct db_launch *l = &rows[i];
		struct launch_slot *s = slot_find(e, l->id);
		cbq_ms wait;

		if (s && (s->in_flight || now < s->not_before))
			continue;
		if (!s && !(s = slot_add(e, l->id)))
			break;
		if (!launch_pacer_take(&e->pacer, l->account_id, l->count, now, &wait)) {
			if (wait == LAUNCH_PACER_NEVER)
				wait = LAUNCH_RETRY_BASE_MS;
			/* held back, not read again until then */
			s->not_before = now + wait;
			s->ready_at = real + engine_real_span(e, wait, 0);
			continue;
		}
		start_launch(e, l, s);
	}
	if (n < ENGINE_LAUNCH_BATCH) {
		/* the outbox held nothing more: forget launches it no longer has
		 * (cancelled, or moved by another leader), once they are old
		 * enough not to be a commit this read did not see yet */
		for (size_t i = 0; i < e->n_slots;) {
			struct launch_slot *s = &e->slots[i];
			if (!s->in_flight && now >= s->not_before && !listed(rows, n, s->job_id) &&
			    real - s->decided_at > 5 * OUTBOX_POLL_MS)
				*s = e->slots[--e->n_slots];
			else
				i++;
		}
	} else if (e->n_slots < ENGINE_LAUNCH_IN_FLIGHT) {
		e->launch_due = true; /* a full batch: there may be more */
	}
	/* launches held back until a moment that passed while this read was
	 * out were left out of it: read again now for them, not at the poll */
	for (size_t i = 0; i < e->n_slots; i++) {
		struct launch_slot *s = &e->slots[i];
		if (!s->in_flight && s->not_before && now >= s->not_before &&
		    !listed(rows, n, s->job_id)) {
			s->not_before = 0;
			e->launch_due = true;
		}
	}
	wake_for_held(e, now, real);
	if (e->launch_due)
		engine_launch_tick(e);
}

/* Reads the outbox now, or right after the read in progress. */
static void outbox_kick(struct engine *e)
{
	e->launch_due = true;
	engine_launch_tick(e);
}

void engine_launch_tick(struct engine *e)
{
	cbq_ms real = cbq_clock_real_ms();
	cbq_ms now;
	int64_t *skip;
	size_t n = 0;

	if (!e->aws || !e->leader || e->reading_outbox)
		return;
	if (!e->launch_due && real < e->next_outbox)
		return;
	e->reading_outbox = true;
	e->launch_due = false;
	e->next_outbox = real + OUTBOX_POLL_MS;
	/* the launches in hand (in flight, backing off, held by the pacer)
	 * stay out of the read, so that a batch is new work */
	now = cbq_clock_now(e->clock);
	skip = cbq_xcalloc(e->n_slots + 1, sizeof(*skip));
	for (size_t i = 0; i < e->n_slots; i++)
		if (e->slots[i].in_flight || now < e->slots[i].not_before)
			skip[n++] = e->slots[i].job_id;
	db_launch_outbox(e->db, ENGINE_LAUNCH_BATCH, skip, n, outbox_read, e);
	free(skip);
}

void engine_set_wake(struct engine *e, engine_wake_fn *fn, void *arg)
{
	e->wake = fn;
	e->wake_arg = arg;
}

/* ---- the launch pipeline's latency ------------------------------------------ */

/* The value of name=... in a form body, or NULL. */
static const char *form_value(const char *body, size_t len, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl < len; i++) {
		if ((i == 0 || body[i - 1] == '&') && memcmp(body + i, name, nl) == 0 &&
		    body[i + nl] == '=') {
			const char *v = body + i + nl + 1;
			const char *end = memchr(v, '&', len - (size_t)(v - body));
			*vlen = end ? (size_t)(end - v) : len - (size_t)(v - body);
			return v;
		}
	}
	return NULL;
}

void engine_aws_sent(void *engine, const struct aws_http_req *req)
{
	struct engine *e = engine;
	char token[LAUNCH_CLIENT_TOKEN_BUF];
	const char *v;
	size_t vlen;
	int64_t job_id;
	int32_t attempt;

	if (!req->body || !e->n_slots)
		return;
	v = form_value(req->body, req->body_len, "Action", &vlen);
	if (!v || vlen != 12 || memcmp(v, "RunInstances", 12) != 0)
		return;
	v = form_value(req->body, req->body_len, "ClientToken", &vlen);
	if (!v || vlen >= sizeof(token))
		return;
	memcpy(token, v, vlen);
	token[vlen] = '\0';
	if (!launch_client_token_parse(token, &job_id, &attempt))
		return;
	struct launch_slot *s = slot_find(e, job_id);
	if (!s || !s->decided_at || s->measured)
		return; /* decided by another leader, or a resend */
	cbq_ms now = cbq_clock_real_ms();
	cbq_ms from = s->ready_at > s->decided_at ? s->ready_at : s->decided_at;
	cbq_ms ms = now > from ? now - from : 0;
	s->measured = true;
	engine_metric_launch_pipeline(e, (double)ms / 1000);
	cbq_log(CBQ_LOG_DEBUG, "launch_sent",
		"job=%" PRId64 " attempt=%d ms_since_decision=%lld paced_ms=%lld", job_id, attempt,
		(long long)ms, (long long)(from - s->decided_at));
}
