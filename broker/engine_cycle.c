/*
 * The scheduling cycle (leader only): snapshot → sched_plan → decisions to
 * the launcher and verdicts back to Postgres. Planning runs off the loop
 * (util/offload) when the engine has an offload: at 100,000 queued jobs it
 * takes tens of milliseconds that the API would otherwise wait for. Only
 * the verdicts that changed since the last cycle are written (see
 * core/verdict_memo.h), and every ENGINE_VERDICT_REWRITE_MS all of them.
 */
#include "engine_internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "aws/client.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/verdict_memo.h"
#include "db/pending.h"
#include "db/snapshot.h"
#include "db/verdicts.h"
#include "sched/sched.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/offload.h"

struct cycle {
	struct engine *e;
	cbq_ms began;					/* real ms, for the log */
	int64_t read_began_us, read_us, store_began_us; /* monotonic, for the log */
	struct db_snapshot *snap;
	/* filled by plan_work, off the loop */
	struct sched_plan plan;
	struct cbq_error perr;
	enum cbq_err rc;
	const struct verdict_memo *last; /* e->verdicts: read-only while the cycle runs */
	struct verdict_memo *memo;	 /* this cycle's verdicts, the memo once stored */
	struct db_verdicts *v;		 /* the verdicts to write */
	int64_t work_us;
	/* back on the loop */
	int64_t loop_us;
	size_t pending, written, launches, reservations;
	bool read_all;
};

static void cycle_free(struct cycle *c)
{
	if (!c)
		return;
	sched_plan_free(&c->plan);
	db_snapshot_free(c->snap);
	verdict_memo_free(c->memo);
	db_verdicts_free(c->v);
	free(c);
}

static void cycle_end(struct engine *e, struct cycle *c)
{
	cbq_ms real = cbq_clock_real_ms();

	e->cycle = NULL;
	e->last_cycle_ms = real - c->began;
	e->last_cycle_pending = c->pending;
	e->next_cycle = real + ENGINE_CYCLE_MAX_GAP_MS;
	cycle_free(c);
}

static void verdicts_stored(void *arg, long changed, const struct db_error *err)
{
	struct cycle *c = arg;
	struct engine *e = c->e;

	verdict_memo_free(e->verdicts);
	e->verdicts = NULL; /* a failed write: all of them next time */
	if (err) {
		cbq_log(CBQ_LOG_WARN, "sched_store_failed", "error=%s", cbq_log_q(err->err.msg));
	} else {
		e->verdicts = c->memo;
		c->memo = NULL;
		engine_metric_cycle(e, (double)(cbq_clock_real_ms() - c->began) / 1000);
		cbq_log(CBQ_LOG_INFO, "sched_cycle",
			"pending=%zu read=%s launches=%zu reservations=%zu written=%zu changed=%ld"
			" ms=%lld read_ms=%.1f plan_ms=%.1f loop_ms=%.1f write_ms=%.1f",
			c->pending, c->read_all ? "all" : "changes", c->launches, c->reservations,
			c->written, changed, (long long)(cbq_clock_real_ms() - c->began),
			(double)c->read_us / 1000, (double)c->work_us / 1000,
			(double)c->loop_us / 1000,
			(double)(cbq_clock_mono_us() - c->store_began_us) / 1000);
	}
	cycle_end(e, c);
}

/* Job i's verdict goes into this cycle's memo, and to Postgres unless the
 * last cycle wrote the same reason for the job as it stands, with an ETA
 * within ENGINE_VERDICT_ETA_SLACK_MS: the memo then keeps the ETA written. */
static void note_verdict(struct cycle *c, size_t i, const char *reason)
{
	const struct sched_verdict *vd = &c->plan.verdicts[i];
	int64_t id = c->snap->in.pending[i].id, version = c->snap->pending_version[i];
	uint64_t hash = verdict_memo_hash(reason);
	cbq_ms written;

	if (verdict_memo_same(c->last, id, version, hash, vd->eta, ENGINE_VERDICT_ETA_SLACK_MS,
			      &written)) {
		verdict_memo_put(c->memo, id, version, hash, written);
		return;
	}
	verdict_memo_put(c->memo, id, version, hash, vd->eta);
	db_verdicts_add(c->v, id, reason, vd->eta);
}

/* Off the loop: touches only the cycle (its snapshot, plan and arena) and
 * reads the timeline the snapshot was loaded with. */
static void plan_work(void *arg)
{
	struct cycle *c = arg;
	struct db_snapshot *snap = c->snap;
	char reason[SCHED_REASON_BUF];
	int64_t t0 = cbq_clock_mono_us();
	size_t n;

	db_snapshot_assemble(snap);
	n = snap->in.n_pending;
	c->rc = sched_plan(&snap->in, &c->plan, &c->perr);
	if (c->rc == CBQ_OK) {
		c->memo = verdict_memo_new(n);
		c->v = db_verdicts_new(n);
		for (size_t i = 0; i < n; i++) {
			if (c->plan.verdicts[i].place == SCHED_PLACE_LAUNCH)
				continue; /* its words depend on the launcher: plan_done */
			sched_reason_format(&snap->in, &c->plan, i, reason, sizeof(reason));
			note_verdict(c, i, reason);
		}
	}
	c->work_us = cbq_clock_mono_us() - t0;
}

/* A launch verdict's reason, which depends on the launcher; false when the
 * job gets none: engine_launch_commit moves it to launching with a reason
 * of its own, and a verdict written for it as well would lock the same
 * rows from a second statement at the same time. */
static bool launch_reason(const struct engine *e, const struct sched_input *in,
			  const struct sched_plan *plan, size_t i, char *out, size_t size)
{
	const struct sched_verdict *vd = &plan->verdicts[i];
	const char *block = in->blocks[vd->block].id;

	if (engine_launches_on(e, block))
		return false;
	if (!e->aws)
		snprintf(out, size, "NoLauncher (would launch %d on %s; cbqd has no AWS settings)",
			 vd->need, block);
	else
		snprintf(out, size,
			 "WaitingForCapacity (another account took the capacity on %s first;"
			 " cbq tries again once it has read EC2)",
			 block);
	return true;
}

/* The roles this cycle's launches will run as start assuming now, while
 * the decisions commit and the outbox is read: a launch into an account
 * whose credentials have expired then waits less for them. */
static void warm_roles(struct engine *e, const struct cycle *c)
{
	const struct sched_input *in = &c->snap->in;
	bool *seen;

	if (!e->aws || !c->plan.n_launches)
		return;
	seen = cbq_xcalloc(in->n_accounts + 1, sizeof(*seen));
	for (size_t k = 0; k < c->plan.n_launches; k++) {
		uint32_t acc = in->pending[c->plan.launches[k].job].account;
		const struct db_snapshot_role *r = &c->snap->account_roles[acc];

		if (seen[acc])
			continue;
		seen[acc] = true;
		aws_client_warm_role(e->aws, &(struct aws_role){ r->role_arn, r->external_id,
								 "cbq-launcher" });
	}
	free(seen);
}

/* Back on the loop: decisions to the launcher, changed verdicts to Postgres. */
static void plan_done(void *arg)
{
	struct cycle *c = arg;
	struct engine *e = c->e;
	const struct sched_input *in = &c->snap->in;
	char reason[SCHED_REASON_BUF];
	int64_t t0 = cbq_clock_mono_us();
	struct db_verdicts *v;

	if (c->rc != CBQ_OK) {
		/* the snapshot broke the scheduler's contract: a bug or a bad row */
		cbq_log(CBQ_LOG_ERROR, "sched_input_refused", "field=%s error=%s", c->perr.field,
			cbq_log_q(c->perr.msg));
		cycle_end(e, c);
		return;
	}
	for (size_t i = 0; i < in->n_pending; i++) {
		if (c->plan.verdicts[i].place == SCHED_PLACE_LAUNCH &&
		    launch_reason(e, in, &c->plan, i, reason, sizeof(reason)))
			note_verdict(c, i, reason);
	}
	warm_roles(e, c);
	engine_launch_commit(e, in, &c->plan);
	c->pending = in->n_pending;
	c->read_all = c->snap->read_all;
	c->written = db_verdicts_count(c->v);
	c->launches = c->plan.n_launches;
	c->reservations = c->plan.n_reservations;
	e->plan_next = c->plan.next_at;
	/* the plan and snapshot are done with; the memo waits for the write */
	sched_plan_free(&c->plan);
	db_snapshot_free(c->snap);
	c->snap = NULL;
	c->store_began_us = cbq_clock_mono_us();
	c->loop_us = c->store_began_us - t0;
	v = c->v;
	c->v = NULL; /* db_verdicts_store frees it */
	db_verdicts_store(e->db, v, verdicts_stored, c);
}

static void snapshot_loaded(void *arg, struct db_snapshot *snap, const struct cbq_error *err)
{
	struct cycle *c = arg;
	struct engine *e = c->e;

	if (!snap) {
		cbq_log(CBQ_LOG_WARN, "sched_snapshot_failed", "error=%s", cbq_log_q(err->msg));
		cycle_end(e, c);
		return;
	}
	c->read_us = cbq_clock_mono_us() - c->read_began_us;
	c->snap = snap;
	c->last = e->verdicts; /* replaced only when a cycle's write ends */
	if (e->planner && offload_run(e->planner, plan_work, plan_done, c))
		return;
	plan_work(c);
	plan_done(c);
}

void engine_cycle_start(struct engine *e)
{
	struct cycle *c = calloc(1, sizeof(*c));
	cbq_ms real = cbq_clock_real_ms();

	if (!c)
		abort();
	c->e = e;
	c->began = real;
	e->last_cycle_began = real;
	e->cycle = c;
	e->dirty = false;
	e->policy_dirty = false;
	c->read_began_us = cbq_clock_mono_us();
	if (real >= e->verdicts_rewrite_at) {
		/* now and then every verdict, whatever the memo says */
		verdict_memo_free(e->verdicts);
		e->verdicts = NULL;
		e->verdicts_rewrite_at = real + ENGINE_VERDICT_REWRITE_MS;
		db_pending_forget(e->pending); /* and every queued job read again */
	}
	db_snapshot_load(e->db, cbq_clock_now(e->clock), &e->settings, e->timeline, e->pending,
			 snapshot_loaded, c);
}

void engine_set_offload(struct engine *e, struct offload *planner)
{
	offload_free(e->planner);
	e->planner = planner;
}

void engine_cycle_free(struct engine *e)
{
	/* a plan still being made: wait for it, then drop it (db_close has
	 * answered every query, so nothing else holds the cycle) */
	bool planning = e->planner && offload_busy(e->planner);

	offload_free(e->planner);
	e->planner = NULL;
	if (planning)
		cycle_free(e->cycle);
	e->cycle = NULL;
	verdict_memo_free(e->verdicts);
	e->verdicts = NULL;
}
