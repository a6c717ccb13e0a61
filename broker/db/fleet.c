/* The control loops' statements; see fleet.h. */
#include "db/fleet.h"
#include "core/duration.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/alloc.h"
#include "core/arena.h"

struct fleet_call {
	db_transition_fn *done;
	db_decided_fn *decided_done;
	db_launches_fn *launches_done;
	db_held_fn *held_done;
	void *arg;
};

static void on_transition(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct fleet_call *fc = arg;

	fc->done(fc->arg, !err && db_rows(res) > 0, err);
	free(fc);
}

/* The conditional UPDATE and its event. started_at is set on the way to
 * running, ended_at on the way to a final state; a job back in the queue
 * leaves its block and keeps its submission time (and so its place). */
static const char transition_sql[] =
	"WITH u AS ("
	" UPDATE jobs SET state = $3,"
	"  reason = $5,"
	"  updated_at = to_timestamp($4::bigint / 1000.0),"
	"  block_id = CASE WHEN $3 = 'launching' THEN $7 WHEN $3 = 'queued' THEN NULL"
	"   ELSE block_id END,"
	"  started_at = CASE WHEN $3 = 'running' AND $2 = 'launching'"
	"   THEN to_timestamp($4::bigint / 1000.0) WHEN $3 = 'queued' THEN NULL"
	"   ELSE started_at END,"
	"  ended_at = CASE WHEN $3 IN ('succeeded', 'failed', 'timed_out', 'expired', 'cancelled')"
	"   THEN to_timestamp($4::bigint / 1000.0) ELSE ended_at END,"
	"  attempt = attempt + $8::int"
	" WHERE id = $1 AND state = $2"
	" RETURNING id, updated_at"
	")"
	" INSERT INTO job_events (job_id, at, from_state, to_state, actor, reason)"
	" SELECT id, updated_at, $2, $3, $6, $5 FROM u RETURNING job_id";

void db_job_transition(struct db *db, const struct db_transition *t, db_transition_fn *done,
		       void *arg)
{
	struct fleet_call *fc = cbq_xcalloc(1, sizeof(*fc));
	char id[24], at[24];
	const char *params[8] = {
		id,
		job_state_name(t->from),
		job_state_name(t->to),
		at,
		t->reason ? t->reason : "",
		t->actor,
		t->block_id,
		t->next_attempt ? "1" : "0",
	};

	snprintf(id, sizeof(id), "%" PRId64, t->job_id);
	snprintf(at, sizeof(at), "%" PRId64, t->at);
	fc->done = done;
	fc->arg = arg;
	db_query(db, transition_sql, 8, params, NULL, on_transition, fc);
}

/* ---- the scheduler's launch decisions, together ---------------------------- */

/* A growing string for array literals; sizes are bounded by the callers'
 * counts (DB_LAUNCH_DECISIONS_MAX, DB_OUTBOX_SKIP_MAX). */
struct text {
	char *p;
	size_t len, cap;
};

static void text_putc(struct text *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? 2 * b->cap : 256;
		b->p = cbq_xrealloc(b->p, b->cap, 1);
	}
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

static void text_puts(struct text *b, const char *s)
{
	for (; *s; s++)
		text_putc(b, *s);
}

static const char *text_str(const struct text *b)
{
	return b->p ? b->p : "";
}

static void text_free(struct text *b)
{
	free(b->p);
}

/* Appends s to a Postgres array literal as a quoted element. */
static void array_item(struct text *b, const char *s)
{
	text_putc(b, b->len > 1 ? ',' : '{');
	text_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			text_putc(b, '\\');
		text_putc(b, *s);
	}
	text_putc(b, '"');
}

static void on_decided(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct fleet_call *fc = arg;
	int n = err ? 0 : db_rows(res);
	int64_t *ids = cbq_xcalloc((size_t)n + 1, sizeof(*ids));

	for (int r = 0; r < n; r++)
		ids[r] = strtoll(db_get(res, r, 0), NULL, 10);
	fc->decided_done(fc->arg, ids, (size_t)n, err);
	free(ids);
	free(fc);
}

void db_jobs_launching(struct db *db, const struct db_launch_decision *d, size_t n, cbq_ms at,
		       db_decided_fn *done, void *arg)
{
	/* the same edge and columns as transition_sql's queued → launching */
	static const char sql[] =
		"WITH d AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])"
		"  AS d(id, block_id, reason)),"
		" u AS ("
		" UPDATE jobs j SET state = 'launching', reason = d.reason,"
		"  updated_at = to_timestamp($4::bigint / 1000.0), block_id = d.block_id"
		" FROM d WHERE j.id = d.id AND j.state = 'queued'"
		" RETURNING j.id, j.updated_at, d.reason"
		")"
		" INSERT INTO job_events (job_id, at, from_state, to_state, actor, reason)"
		" SELECT id, updated_at, 'queued', 'launching', 'scheduler', reason FROM u"
		" RETURNING job_id";
	struct fleet_call *fc = cbq_xcalloc(1, sizeof(*fc));
	struct text ids = { 0 }, blocks = { 0 }, reasons = { 0 };
	char when[24];

	if (n > DB_LAUNCH_DECISIONS_MAX)
		n = DB_LAUNCH_DECISIONS_MAX; /* the rest are decided again next cycle */
	text_putc(&ids, '{');
	for (size_t i = 0; i < n; i++) {
		char id[24];
		snprintf(id, sizeof(id), "%s%" PRId64, i ? "," : "", d[i].job_id);
		text_puts(&ids, id);
		array_item(&blocks, d[i].block_id);
		array_item(&reasons, d[i].reason);
	}
	text_putc(&ids, '}');
	if (!n) {
		text_putc(&blocks, '{');
		text_putc(&reasons, '{');
	}
	text_putc(&blocks, '}');
	text_putc(&reasons, '}');
	snprintf(when, sizeof(when), "%" PRId64, at);
	const char *params[4] = { text_str(&ids), text_str(&blocks), text_str(&reasons), when };
	fc->decided_done = done;
	fc->arg = arg;
	db_query(db, sql, 4, params, NULL, on_decided, fc);
	text_free(&ids);
	text_free(&blocks);
	text_free(&reasons);
}

void db_job_launched(struct db *db, int64_t job_id, int32_t attempt, const char *const *instance_ids,
		     size_t n, cbq_ms at, db_transition_fn *done, void *arg)
{
	static const char sql[] =
		"WITH u AS ("
		" UPDATE jobs SET state = 'running', reason = $5,"
		"  updated_at = to_timestamp($3::bigint / 1000.0),"
		"  started_at = to_timestamp($3::bigint / 1000.0)"
		" WHERE id = $1 AND state = 'launching' AND attempt = $2"
		" RETURNING id, updated_at"
		"), i AS ("
		" INSERT INTO job_instances (job_id, instance_id, attempt, state, launched_at)"
		" SELECT u.id, x, $2, 'pending', u.updated_at FROM u, unnest($4::text[]) AS x"
		" ON CONFLICT DO NOTHING"
		")"
		" INSERT INTO job_events (job_id, at, from_state, to_state, actor, reason)"
		" SELECT id, updated_at, 'launching', 'running', 'launcher', $5 FROM u"
		" RETURNING job_id";
	struct fleet_call *fc = cbq_xcalloc(1, sizeof(*fc));
	char id[24], att[16], when[24], reason[96];
	size_t cap = 3 + n * 24, len = 0;
	char *list = cbq_xmalloc(cap);

	list[len++] = '{';
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(list + len, cap - len, "%s%.20s", k ? "," : "",
					instance_ids[k]);
	snprintf(list + len, cap - len, "}");
	snprintf(id, sizeof(id), "%" PRId64, job_id);
	snprintf(att, sizeof(att), "%d", attempt);
	snprintf(when, sizeof(when), "%" PRId64, at);
	snprintf(reason, sizeof(reason), "launched %zu instance%s", n, n == 1 ? "" : "s");
	const char *params[5] = { id, att, when, list, reason };
	fc->done = done;
	fc->arg = arg;
	db_query(db, sql, 5, params, NULL, on_transition, fc);
	free(list);
}

/* ---- the outbox ----------------------------------------------------------- */

static void read_tags(struct cbq_arena *a, const char *text, struct db_launch *l)
{
	json_t *doc = json_loads(text, 0, NULL), *t;
	size_t i;

	l->n_tags = 0;
	if (!json_is_array(doc)) {
		json_decref(doc);
		return;
	}
	struct job_tag *tags = cbq_arena_alloc(a, json_array_size(doc) + 1, sizeof(*tags));
	json_array_foreach(doc, i, t)
	{
		const char *k = json_string_value(json_object_get(t, "key"));
		const char *v = json_string_value(json_object_get(t, "value"));
		if (!k)
			continue;
		tags[l->n_tags++] =
			(struct job_tag){ cbq_arena_strdup(a, k), cbq_arena_strdup(a, v) };
	}
	l->tags = tags;
	json_decref(doc);
}

static void on_outbox(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct fleet_call *fc = arg;
	struct cbq_arena a = { 0 };
	int n = err ? 0 : db_rows(res);
	struct db_launch *v = cbq_arena_alloc(&a, (size_t)n + 1, sizeof(*v));

	for (int r = 0; r < n; r++) {
		struct db_launch *l = &v[r];
		const char *hex = db_get(res, r, 14);
		size_t hl = strlen(hex) / 2;
		uint8_t *ud = cbq_arena_alloc(&a, hl + 1, 1);

		l->id = strtoll(db_get(res, r, 0), NULL, 10);
		l->team = db_get(res, r, 1);
		l->account_id = db_get(res, r, 2);
		l->role_arn = db_get(res, r, 3);
		l->external_id = db_get(res, r, 4);
		l->instance_type = db_get(res, r, 5);
		l->block_id = db_get(res, r, 6);
		l->count = (int32_t)strtol(db_get(res, r, 7), NULL, 10);
		l->attempt = (int32_t)strtol(db_get(res, r, 8), NULL, 10);
		l->image_id = db_get(res, r, 9);
		l->subnet_id = db_get(res, r, 10);
		l->key_name = db_get(res, r, 11);
		l->instance_profile = db_get(res, r, 12);
		l->security_group_ids =
			cbq_arena_split(&a, db_get(res, r, 13), ',', &l->n_security_group_ids);
		for (size_t k = 0; k < hl; k++)
			ud[k] = (uint8_t)(cbq_hexval(hex[2 * k]) << 4 | cbq_hexval(hex[2 * k + 1]));
		l->user_data = ud;
		l->user_data_len = hl;
		read_tags(&a, db_get(res, r, 15), l);
	}
	fc->launches_done(fc->arg, v, (size_t)n, err);
	cbq_arena_free(&a);
	free(fc);
}

void db_launch_outbox(struct db *db, int limit, const int64_t *skip, size_t n_skip,
		      db_launches_fn *done, void *arg)
{
	static const char sql[] =
		"SELECT j.id, j.team, j.account_id, a.role_arn, COALESCE(a.external_id, ''),"
		" j.instance_type, j.block_id, j.instance_count, j.attempt, j.image_id, j.subnet_id,"
		" j.key_name, j.instance_profile, array_to_string(j.security_group_ids, ','),"
		" encode(j.user_data, 'hex'), j.tags::text"
		" FROM jobs j JOIN accounts a ON a.account_id = j.account_id"
		" WHERE j.state = 'launching' AND j.block_id IS NOT NULL"
		" AND NOT (j.id = ANY ($2::bigint[]))"
		" ORDER BY j.updated_at, j.id LIMIT $1";
	struct fleet_call *fc = cbq_xcalloc(1, sizeof(*fc));
	struct text list = { 0 };
	char lim[16];

	snprintf(lim, sizeof(lim), "%d", limit);
	if (n_skip > DB_OUTBOX_SKIP_MAX)
		n_skip = DB_OUTBOX_SKIP_MAX; /* the rest are read and skipped by the caller */
	text_putc(&list, '{');
	for (size_t i = 0; i < n_skip; i++) {
		char id[24];
		snprintf(id, sizeof(id), "%s%" PRId64, i ? "," : "", skip[i]);
		text_puts(&list, id);
	}
	text_putc(&list, '}');
	const char *params[2] = { lim, text_str(&list) };
	fc->launches_done = done;
	fc->arg = arg;
	db_query_first(db, sql, 2, params, NULL, on_outbox, fc);
	text_free(&list);
}

/* ---- jobs holding instances ----------------------------------------------- */

static void on_held(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct fleet_call *fc = arg;
	int n = err ? 0 : db_rows(res);
	struct db_held *v = cbq_xcalloc((size_t)n + 1, sizeof(*v));
	size_t k = 0;

	for (int r = 0; r < n; r++) {
		struct db_held *h = &v[k];
		if (!job_state_parse(db_get(res, r, 1), &h->state))
			continue;
		h->id = strtoll(db_get(res, r, 0), NULL, 10);
		h->team = db_get(res, r, 2);
		h->account_id = db_get(res, r, 3);
		h->role_arn = db_get(res, r, 4);
		h->external_id = db_get(res, r, 5);
		h->count = (int32_t)strtol(db_get(res, r, 6), NULL, 10);
		h->attempt = (int32_t)strtol(db_get(res, r, 7), NULL, 10);
		h->duration_s = strtoll(db_get(res, r, 8), NULL, 10);
		h->checkpointable = db_get(res, r, 9)[0] == 't';
		h->started_at = strtoll(db_get(res, r, 10), NULL, 10);
		h->block_id = db_get(res, r, 11);
		h->block_state = db_get(res, r, 12);
		h->block_end = strtoll(db_get(res, r, 13), NULL, 10);
		h->cancel_requested = db_get(res, r, 14)[0] == 't';
		k++;
	}
	fc->held_done(fc->arg, v, k, err);
	free(v);
	free(fc);
}

void db_held_jobs(struct db *db, int limit, db_held_fn *done, void *arg)
{
	static const char sql[] =
		"SELECT j.id, j.state, j.team, j.account_id, a.role_arn, COALESCE(a.external_id, ''),"
		" j.instance_count, j.attempt, j.duration_s, j.checkpointable,"
		" cbq_ms(COALESCE(j.started_at, j.updated_at)), j.block_id, COALESCE(b.state, ''),"
		" COALESCE(cbq_ms(b.end_at), 0), j.cancel_requested_at IS NOT NULL"
		" FROM jobs j JOIN accounts a ON a.account_id = j.account_id"
		" LEFT JOIN blocks b ON b.id = j.block_id"
		" WHERE j.state IN ('running', 'expiring')"
		" ORDER BY j.account_id, j.id LIMIT $1";
	struct fleet_call *fc = cbq_xcalloc(1, sizeof(*fc));
	char lim[16];
	const char *params[1] = { lim };

	snprintf(lim, sizeof(lim), "%d", limit);
	fc->held_done = done;
	fc->arg = arg;
	db_query(db, sql, 1, params, NULL, on_held, fc);
}
