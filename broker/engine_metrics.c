/*
 * What cbqd exports on /metrics: the families, what feeds them, and the
 * gauges read from Postgres when scraped. Counters and histograms are this
 * process's own (every cbqd exports its own; the leader's show the control
 * loops); queue, job and block gauges are the database's, the same on every
 * cbqd, read at most every ENGINE_METRICS_DB_MS however often it is scraped.
 * Labels are kinds, team names, states, block ids, AWS call names and error
 * codes: never an account's secret, a principal or user data.
 */
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "core/alloc.h"
#include "core/metrics.h"
#include "db/db.h"
#include "engine.h"
#include "engine_internal.h"
#include "util/clock.h"
#include "util/log.h"

enum { ENGINE_METRICS_DB_MS = 5000 };

struct engine_metrics {
	struct metrics *reg;
	struct metrics_family *aws_seconds, *aws_errors, *launches, *cycle_seconds, *leader;
	struct metrics_family *launch_pipeline;
	struct metrics_family *queue, *jobs, *block_instances;
	cbq_ms db_read_at; /* real ms of the last gauge refresh, 0: never */
	bool reading;
	struct metrics_wait *waiting; /* scrapes waiting for the refresh */
};

struct metrics_wait {
	struct engine *e;
	engine_text_fn *done;
	void *arg;
	struct metrics_wait *next;
};

static const char *const no_labels[] = { NULL };

void engine_set_metrics(struct engine *e, struct metrics *reg)
{
	static const char *const call_labels[] = { "call", NULL };
	static const char *const error_labels[] = { "call", "code", NULL };
	static const char *const outcome_labels[] = { "outcome", NULL };
	static const char *const queue_labels[] = { "kind", "team", NULL };
	static const char *const state_labels[] = { "state", NULL };
	static const char *const block_labels[] = { "block", "instance_type", "what", NULL };
	struct engine_metrics *m = cbq_xcalloc(1, sizeof(*m));

	m->reg = reg;
	m->aws_seconds = metrics_family(
		reg, "cbq_aws_call_seconds",
		"AWS calls by this cbqd, from start to answer (retries included), by call.",
		METRICS_HISTOGRAM, call_labels, metrics_seconds_buckets, metrics_n_seconds_buckets);
	m->aws_errors = metrics_family(
		reg, "cbq_aws_errors_total",
		"AWS calls that failed, by call and AWS error code (transport: no answer).",
		METRICS_COUNTER, error_labels, NULL, 0);
	m->launches = metrics_family(
		reg, "cbq_launches_total",
		"RunInstances outcomes: launched, lost_race (capacity taken first), failed.",
		METRICS_COUNTER, outcome_labels, NULL, 0);
	m->cycle_seconds = metrics_family(
		reg, "cbq_scheduler_cycle_seconds",
		"Scheduling cycles on the leader: snapshot, plan and verdicts stored.",
		METRICS_HISTOGRAM, no_labels, metrics_seconds_buckets, metrics_n_seconds_buckets);
	m->launch_pipeline = metrics_family(
		reg, "cbq_launch_pipeline_seconds",
		"From the commit of a launch decision (or, when the per-account pacer held it,"
		" the moment the pacer let it go) to its RunInstances handed to the HTTP client.",
		METRICS_HISTOGRAM, no_labels, metrics_fine_seconds_buckets,
		metrics_n_fine_seconds_buckets);
	m->leader = metrics_family(reg, "cbq_leader", "1 while this cbqd is the leader.",
				   METRICS_GAUGE, no_labels, NULL, 0);
	m->queue = metrics_family(reg, "cbq_queue_depth", "Queued jobs by kind and team.",
				  METRICS_GAUGE, queue_labels, NULL, 0);
	m->jobs = metrics_family(reg, "cbq_jobs",
				 "Jobs in each state that is not final (queued, launching, running,"
				 " expiring).",
				 METRICS_GAUGE, state_labels, NULL, 0);
	m->block_instances = metrics_family(
		reg, "cbq_block_instances",
		"Scheduled and active blocks: total, available, used_outside (by accounts cbq"
		" does not manage), in instances.",
		METRICS_GAUGE, block_labels, NULL, 0);
	free(e->metrics);
	e->metrics = m;
}

void engine_metrics_free(struct engine *e)
{
	struct engine_metrics *m = e->metrics;

	if (!m)
		return;
	while (m->waiting) {
		struct metrics_wait *w = m->waiting;
		m->waiting = w->next;
		free(w);
	}
	free(m);
	e->metrics = NULL;
}

/* ---- what the loops count ------------------------------------------------- */

void engine_metric_cycle(struct engine *e, double seconds)
{
	if (e->metrics)
		metrics_observe(e->metrics->cycle_seconds, no_labels, seconds);
}

void engine_metric_launch(struct engine *e, const char *outcome)
{
	if (e->metrics)
		metrics_inc(e->metrics->launches, (const char *const[]){ outcome }, 1);
}

void engine_metric_launch_pipeline(struct engine *e, double seconds)
{
	if (e->metrics)
		metrics_observe(e->metrics->launch_pipeline, no_labels, seconds);
}

void engine_aws_seen(void *arg, const struct aws_call_seen *seen)
{
	struct engine *e = arg;

	if (!e->metrics)
		return;
	metrics_observe(e->metrics->aws_seconds, (const char *const[]){ seen->what },
			seen->seconds);
	if (seen->error_code)
		metrics_inc(e->metrics->aws_errors,
			    (const char *const[]){ seen->what, seen->error_code }, 1);
}

/* ---- the gauges Postgres knows ---------------------------------------------- */

static const char gauges_sql[] =
	"SELECT 'queue', kind, team, '', count(*) FROM jobs WHERE state = 'queued'"
	" GROUP BY kind, team"
	" UNION ALL SELECT 'jobs', s, '', '', (SELECT count(*) FROM jobs WHERE state = s)"
	" FROM unnest(ARRAY['queued', 'launching', 'running', 'expiring']) AS s"
	" UNION ALL SELECT 'block', b.id, b.instance_type, w.what, w.n"
	" FROM blocks b CROSS JOIN LATERAL (VALUES ('total', b.total),"
	"  ('available', b.available),"
	"  ('used_outside', (SELECT coalesce(sum(u.used), 0) FROM block_usage u"
	"   WHERE u.block_id = b.id AND NOT EXISTS"
	"    (SELECT 1 FROM accounts a WHERE a.account_id = u.account_id)))) AS w(what, n)"
	" WHERE b.state IN ('scheduled', 'active')";

static void render_to(struct engine *e, struct metrics_wait *w, const struct cbq_error *err)
{
	size_t len;
	char *text;

	if (err) {
		w->done(w->arg, NULL, 0, err);
		return;
	}
	metrics_set(e->metrics->leader, no_labels, e->leader ? 1 : 0);
	text = metrics_render(e->metrics->reg, &len);
	w->done(w->arg, text, len, NULL);
	free(text);
}

static void gauges_read(void *arg, const struct db_result *r, const struct db_error *dberr)
{
	struct engine *e = arg;
	struct engine_metrics *m = e->metrics;
	struct metrics_wait *w = m->waiting;
	struct cbq_error err = { 0 };

	m->reading = false;
	m->waiting = NULL;
	if (dberr) {
		cbq_log(CBQ_LOG_WARN, "metrics_read_failed", "error=%s", cbq_log_q(dberr->err.msg));
		cbq_fail(&err, CBQ_ERR_UNAVAILABLE, NULL,
			 "cannot read the queue and block gauges from Postgres; try again shortly");
	} else {
		metrics_clear(m->queue);
		metrics_clear(m->jobs);
		metrics_clear(m->block_instances);
		for (int i = 0; i < db_rows(r); i++) {
			const char *what = db_get(r, i, 0);
			double n = strtod(db_get(r, i, 4), NULL);
			const char *a = db_get(r, i, 1), *b = db_get(r, i, 2), *c = db_get(r, i, 3);
			if (strcmp(what, "queue") == 0)
				metrics_set(m->queue, (const char *const[]){ a, b }, n);
			else if (strcmp(what, "jobs") == 0)
				metrics_set(m->jobs, (const char *const[]){ a }, n);
			else
				metrics_set(m->block_instances, (const char *const[]){ a, b, c }, n);
		}
		m->db_read_at = cbq_clock_real_ms();
	}
	while (w) {
		struct metrics_wait *next = w->next;
		render_to(e, w, dberr ? &err : NULL);
		free(w);
		w = next;
	}
}

void engine_metrics(struct engine *e, engine_text_fn *done, void *arg)
{
	struct engine_metrics *m = e->metrics;
	struct metrics_wait *w;
	struct cbq_error err = { 0 };

	if (!m) {
		cbq_fail(&err, CBQ_ERR_UNAVAILABLE, NULL, "metrics are not set up");
		done(arg, NULL, 0, &err);
		return;
	}
	w = cbq_xcalloc(1, sizeof(*w));
	w->e = e;
	w->done = done;
	w->arg = arg;
	if (m->db_read_at && cbq_clock_real_ms() - m->db_read_at < ENGINE_METRICS_DB_MS &&
	    !m->reading) {
		render_to(e, w, NULL);
		free(w);
		return;
	}
	w->next = m->waiting;
	m->waiting = w;
	if (m->reading)
		return;
	m->reading = true;
	db_query(e->db, gauges_sql, 0, NULL, NULL, gauges_read, e);
}
