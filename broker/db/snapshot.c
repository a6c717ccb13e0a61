/*
 * Loading the scheduler's snapshot; see snapshot.h. Nine queries go to the
 * pool at once; each callback keeps its result as Postgres answered it
 * (db_result_keep: copying 40,000 queued jobs' cells held the loop for
 * 20 ms); when the last one answers, the rows become struct sched_input
 * with every name interned (one hash table per namespace), pointing into
 * the results, which live as long as the snapshot. Queries may see slightly
 * different moments: a job that moves in between is caught by the
 * conditional UPDATEs that act on the plan and by the next cycle.
 */
#include "db/snapshot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/hash.h"
#include "db/db.h"
#include "db/pending.h"

enum q {
	Q_SETTINGS,
	Q_KINDS,
	Q_TEAMS,
	Q_ACCOUNTS,
	Q_QUOTAS,
	Q_TIMELINE,
	Q_BLOCKS,
	Q_PENDING,
	Q_RUNNING,
	Q_COUNT
};

/* $1: now (ms); $2: horizon (ms), for Q_TIMELINE the span it is read for. */
static const char *const sql[Q_COUNT] = {
	[Q_SETTINGS] = "SELECT ageing_per_hour, fair_share_weight,"
		       " (extract(epoch FROM fair_share_half_life) * 1000)::bigint"
		       " FROM policy_settings",
	[Q_KINDS] = "SELECT kind FROM job_kinds ORDER BY kind",
	[Q_TEAMS] = "SELECT t.name, t.priority, COALESCE(u.instance_hours, 0)"
		    " FROM teams t LEFT JOIN cbq_team_usage_decayed("
		    "to_timestamp($1::bigint / 1000.0)) u ON u.team = t.name ORDER BY t.name",
	[Q_ACCOUNTS] = "SELECT account_id, team, role_arn, COALESCE(external_id, '')"
		       " FROM accounts ORDER BY account_id",
	[Q_QUOTAS] = "SELECT team, instance_type, max_instances FROM team_quotas",
	[Q_TIMELINE] = "SELECT cbq_ms(start_at), cbq_ms(end_at), kind, boost, max_share"
		       " FROM cbq_policy_timeline(to_timestamp($1::bigint / 1000.0),"
		       " make_interval(secs => $2::bigint / 1000.0))",
	[Q_BLOCKS] = "SELECT b.id, b.state, b.instance_type, b.az, b.owner_account_id, b.total,"
		     " b.available, cbq_ms(b.start_at), cbq_ms(b.end_at),"
		     " array_to_string(array_agg(c.account_id) FILTER"
		     " (WHERE c.account_id IS NOT NULL), ','),"
		     /* instances of accounts outside cbq, from the owner's usage */
		     " COALESCE((SELECT sum(u.used) FROM block_usage u WHERE u.block_id = b.id"
		     " AND NOT EXISTS (SELECT 1 FROM accounts a"
		     " WHERE a.account_id = u.account_id)), 0)"
		     " FROM blocks b LEFT JOIN block_consumers c ON c.block_id = b.id"
		     " WHERE b.state IN ('active', 'scheduled') GROUP BY b.id",
	[Q_PENDING] = NULL, /* db_pending_read_sql */
	[Q_RUNNING] = "SELECT id, account_id, kind, block_id, instance_count,"
		      " cbq_ms(COALESCE(started_at, updated_at)), duration_s, checkpointable,"
		      " state = 'expiring'"
		      " FROM jobs WHERE state IN ('launching', 'running', 'expiring')"
		      " AND block_id IS NOT NULL",
};

/* A result kept past its callback; rows 0 and res NULL when not read. */
struct table {
	int rows;
	struct db_result *res;
};

struct load {
	struct db_snapshot *snap;
	struct table t[Q_COUNT];
	int waiting; /* queries not answered yet */
	struct cbq_error err;
	db_snapshot_fn *done;
	void *arg;
	cbq_ms now;
	struct db_timeline *tl;
	struct db_pending *pending;
	bool pending_full; /* Q_PENDING read every queued job */
	cbq_ms tl_span;	   /* > 0: Q_TIMELINE was sent, for [now, now + tl_span) */
	bool assembled;
};

struct db_timeline {
	bool valid;
	cbq_ms from, to;	   /* the clock range it was read for */
	struct sched_window *rows; /* kind: an index into kinds */
	size_t n;
	char **kinds;
	size_t n_kinds;
};

struct qarg {
	struct load *l;
	enum q which;
};

static const char *cell(const struct table *t, int row, int col)
{
	return db_get(t->res, row, col);
}

static void load_free(struct load *l)
{
	if (!l)
		return;
	for (int q = 0; q < Q_COUNT; q++)
		db_result_free(l->t[q].res);
	free(l);
}

/* ---- interning: name → index, one table per namespace -------------------- */

struct names {
	const char **list; /* index → name */
	size_t n, cap;
	uint32_t *slots; /* open addressing: index + 1, 0 = empty */
	size_t n_slots;
};

static uint32_t *slot_of(struct names *ns, const char *s)
{
	size_t i = cbq_fnv1a_str(CBQ_FNV1A_START, s) & (ns->n_slots - 1);

	while (ns->slots[i] && strcmp(ns->list[ns->slots[i] - 1], s) != 0)
		i = (i + 1) & (ns->n_slots - 1);
	return &ns->slots[i];
}

static void grow(struct names *ns)
{
	size_t n_slots = ns->n_slots ? ns->n_slots * 2 : 64;

	free(ns->slots);
	ns->slots = cbq_xcalloc(n_slots, sizeof(*ns->slots));
	ns->n_slots = n_slots;
	for (size_t i = 0; i < ns->n; i++)
		*slot_of(ns, ns->list[i]) = (uint32_t)i + 1;
}

/* The index of s (a string that outlives the table), adding it if new. */
static uint32_t intern(struct names *ns, const char *s)
{
	uint32_t *slot;

	if ((ns->n + 1) * 2 > ns->n_slots)
		grow(ns);
	slot = slot_of(ns, s);
	if (!*slot) {
		if (ns->n == ns->cap) {
			ns->cap = ns->cap ? ns->cap * 2 : 16;
			ns->list = cbq_xrealloc(ns->list, ns->cap, sizeof(*ns->list));
		}
		ns->list[ns->n] = s;
		*slot = (uint32_t)++ns->n;
	}
	return *slot - 1;
}

/* The index of s, or SCHED_NONE. */
static uint32_t find(struct names *ns, const char *s)
{
	if (!ns->n_slots)
		return SCHED_NONE;
	uint32_t v = *slot_of(ns, s);
	return v ? v - 1 : SCHED_NONE;
}

/* Moves the names into the arena (the sched_input keeps them) and frees the table. */
static const char *const *names_finish(struct names *ns, struct cbq_arena *a, size_t *n)
{
	const char **out = cbq_arena_alloc(a, ns->n ? ns->n : 1, sizeof(*out));

	if (ns->n)
		memcpy(out, ns->list, ns->n * sizeof(*out));
	*n = ns->n;
	free(ns->list);
	free(ns->slots);
	memset(ns, 0, sizeof(*ns));
	return out;
}

/* ---- the timeline, kept across snapshots ------------------------------------ */

struct db_timeline *db_timeline_new(void)
{
	return cbq_xcalloc(1, sizeof(struct db_timeline));
}

static void timeline_clear(struct db_timeline *tl)
{
	for (size_t i = 0; i < tl->n_kinds; i++)
		free(tl->kinds[i]);
	free(tl->kinds);
	free(tl->rows);
	tl->kinds = NULL;
	tl->rows = NULL;
	tl->n = tl->n_kinds = 0;
	tl->valid = false;
}

void db_timeline_free(struct db_timeline *tl)
{
	if (!tl)
		return;
	timeline_clear(tl);
	free(tl);
}

void db_timeline_forget(struct db_timeline *tl)
{
	tl->valid = false;
}

/* Whether tl answers for [now, now + horizon) without reading it again. */
static bool timeline_covers(const struct db_timeline *tl, cbq_ms now, cbq_ms horizon)
{
	return tl->valid && now >= tl->from && now - tl->from < DB_TIMELINE_MAX_AGE_MS &&
	       now + horizon <= tl->to;
}

static int64_t num(const char *s);

/* The rows of Q_TIMELINE, read for [from, from + span), become tl. */
static void timeline_store(struct db_timeline *tl, const struct table *t, cbq_ms from, cbq_ms span)
{
	timeline_clear(tl);
	tl->rows = cbq_xcalloc((size_t)t->rows + 1, sizeof(*tl->rows));
	tl->kinds = cbq_xcalloc((size_t)t->rows + 1, sizeof(*tl->kinds));
	for (int r = 0; r < t->rows; r++) {
		const char *kind = cell(t, r, 2);
		size_t k = 0;

		while (k < tl->n_kinds && strcmp(tl->kinds[k], kind) != 0)
			k++;
		if (k == tl->n_kinds)
			tl->kinds[tl->n_kinds++] = cbq_xstrdup(kind);
		tl->rows[tl->n++] =
			(struct sched_window){ .start = num(cell(t, r, 0)),
					       .end = num(cell(t, r, 1)),
					       .kind = (uint32_t)k,
					       .boost = (int32_t)num(cell(t, r, 3)),
					       .max_share = strtod(cell(t, r, 4), NULL) };
	}
	tl->from = from;
	tl->to = from + span;
	tl->valid = true;
}

/* ---- assembly ------------------------------------------------------------- */

static int64_t num(const char *s)
{
	return strtoll(s, NULL, 10);
}

static void assemble(struct load *l)
{
	struct cbq_arena *a = &l->snap->arena;
	struct sched_input *in = &l->snap->in;
	struct names kinds = { 0 }, types = { 0 }, azs = { 0 }, teams = { 0 }, accounts = { 0 },
		     blocks = { 0 };
	const struct table *t;

	in->now = l->now;
	t = &l->t[Q_SETTINGS];
	if (t->rows == 1) {
		in->settings.ageing_per_hour = strtod(cell(t, 0, 0), NULL);
		in->settings.fair_share_weight = strtod(cell(t, 0, 1), NULL);
		in->settings.half_life = num(cell(t, 0, 2));
	}
	t = &l->t[Q_KINDS];
	for (int r = 0; r < t->rows; r++)
		intern(&kinds, cell(t, r, 0));

	t = &l->t[Q_TEAMS];
	struct sched_team *tv = cbq_arena_alloc(a, (size_t)t->rows + 1, sizeof(*tv));
	for (int r = 0; r < t->rows; r++) {
		uint32_t i = intern(&teams, cell(t, r, 0));
		tv[i] = (struct sched_team){ .name = cell(t, r, 0),
					     .priority = (int32_t)num(cell(t, r, 1)),
					     .usage = strtod(cell(t, r, 2), NULL),
					     .usage_at = l->now };
	}
	in->teams = tv;
	in->n_teams = teams.n;

	t = &l->t[Q_ACCOUNTS];
	struct sched_account *av = cbq_arena_alloc(a, (size_t)t->rows + 1, sizeof(*av));
	struct db_snapshot_role *roles = cbq_arena_alloc(a, (size_t)t->rows + 1, sizeof(*roles));
	size_t n_acc = 0;
	for (int r = 0; r < t->rows; r++) {
		uint32_t team = find(&teams, cell(t, r, 1));
		if (team == SCHED_NONE)
			continue;
		uint32_t i = intern(&accounts, cell(t, r, 0));
		av[i] = (struct sched_account){ .id = cell(t, r, 0), .team = team };
		roles[i] = (struct db_snapshot_role){ cell(t, r, 2), cell(t, r, 3) };
		n_acc = accounts.n;
	}
	l->snap->account_roles = roles;
	in->accounts = av;
	in->n_accounts = n_acc;

	t = &l->t[Q_QUOTAS];
	struct sched_quota *qv = cbq_arena_alloc(a, (size_t)t->rows + 1, sizeof(*qv));
	size_t n_q = 0;
	for (int r = 0; r < t->rows; r++) {
		uint32_t team = find(&teams, cell(t, r, 0));
		if (team != SCHED_NONE)
			qv[n_q++] = (struct sched_quota){ .team = team,
							  .type = intern(&types, cell(t, r, 1)),
							  .max = (int32_t)num(cell(t, r, 2)) };
	}
	in->quotas = qv;
	in->n_quotas = n_q;

	/* this snapshot's cut of the timeline, its kinds in the snapshot's names */
	const struct db_timeline *tl = l->tl;
	struct sched_window *wv = cbq_arena_alloc(a, tl->n + 1, sizeof(*wv));
	uint32_t *kind_of = cbq_arena_alloc(a, tl->n_kinds + 1, sizeof(*kind_of));
	for (size_t k = 0; k < tl->n_kinds; k++)
		kind_of[k] = intern(&kinds, cbq_arena_strdup(a, tl->kinds[k]));
	in->n_timeline =
		sched_window_clip(tl->rows, tl->n, l->now, l->now + in->settings.horizon, wv);
	for (size_t r = 0; r < in->n_timeline; r++)
		wv[r].kind = kind_of[wv[r].kind];
	in->timeline = wv;

	t = &l->t[Q_BLOCKS];
	struct sched_block *bv = cbq_arena_alloc(a, (size_t)t->rows + 1, sizeof(*bv));
	for (int r = 0; r < t->rows; r++) {
		const char *list = cell(t, r, 9);
		size_t n_c = *list ? 1 : 0;
		for (const char *p = list; *p; p++)
			n_c += *p == ',';
		uint32_t *cv = cbq_arena_alloc(a, n_c + 1, sizeof(*cv));
		size_t k = 0;
		char id[16];
		for (const char *p = list; *p;) {
			size_t len = strcspn(p, ",");
			snprintf(id, sizeof(id), "%.*s", (int)(len < 15 ? len : 15), p);
			uint32_t acc = find(&accounts, id);
			if (acc != SCHED_NONE)
				cv[k++] = acc;
			p += len + (p[len] == ',');
		}
		uint32_t i = intern(&blocks, cell(t, r, 0));
		bv[i] = (struct sched_block){
			.id = cell(t, r, 0),
			.state = sched_block_state_from_ec2(cell(t, r, 1)),
			.type = intern(&types, cell(t, r, 2)),
			.az = intern(&azs, cell(t, r, 3)),
			.owner = find(&accounts, cell(t, r, 4)),
			.total = (int32_t)num(cell(t, r, 5)),
			.available = (int32_t)num(cell(t, r, 6)),
			.start = num(cell(t, r, 7)),
			.end = num(cell(t, r, 8)),
			.consumers = cv,
			.n_consumers = k,
		};
		int64_t outside = num(cell(t, r, 10));
		bv[i].used_outside = (int32_t)(outside < 0	     ? 0 :
					       outside > bv[i].total ? bv[i].total :
								       outside);
	}
	in->blocks = bv;
	in->n_blocks = blocks.n;

	/* the cache takes this read's changes; its strings outlive the snapshot */
	size_t n_jobs;
	db_pending_apply(l->pending, l->t[Q_PENDING].res, l->pending_full);
	const struct queued_job *jobs = db_pending_jobs(l->pending, &n_jobs);
	struct sched_pending *pv = cbq_arena_alloc(a, n_jobs + 1, sizeof(*pv));
	cbq_ms *versions = cbq_arena_alloc(a, n_jobs + 1, sizeof(*versions));
	size_t n_p = 0;
	for (size_t k = 0; k < n_jobs; k++) {
		const struct queued_job *j = &jobs[k];
		uint32_t acc = find(&accounts, j->account);
		if (acc == SCHED_NONE)
			continue;
		versions[n_p] = j->version;
		pv[n_p++] = (struct sched_pending){
			.id = j->id,
			.account = acc,
			.kind = intern(&kinds, j->kind),
			.type = intern(&types, j->type),
			.az = SCHED_NONE,
			.count = j->count,
			.duration = j->duration_s * 1000,
			.priority = j->priority,
			.checkpointable = j->checkpointable,
			.submitted_at = j->submitted,
			.attempt = j->attempt,
		};
	}
	in->pending = pv;
	in->n_pending = n_p;
	l->snap->pending_version = versions;
	l->snap->read_all = l->pending_full;

	t = &l->t[Q_RUNNING];
	struct sched_running *rv = cbq_arena_alloc(a, (size_t)t->rows + 1, sizeof(*rv));
	size_t n_r = 0;
	for (int r = 0; r < t->rows; r++) {
		uint32_t acc = find(&accounts, cell(t, r, 1));
		uint32_t blk = find(&blocks, cell(t, r, 3));
		if (acc == SCHED_NONE || blk == SCHED_NONE)
			continue; /* its block no longer takes part in planning */
		cbq_ms start = num(cell(t, r, 5));
		rv[n_r++] = (struct sched_running){
			.id = num(cell(t, r, 0)),
			.account = acc,
			.kind = intern(&kinds, cell(t, r, 2)),
			.block = blk,
			.count = (int32_t)num(cell(t, r, 4)),
			.started_at = start,
			.expected_end = start + num(cell(t, r, 6)) * 1000,
			.checkpointable = cell(t, r, 7)[0] == 't',
			.expiring = cell(t, r, 8)[0] == 't',
		};
	}
	in->running = rv;
	in->n_running = n_r;

	in->kinds = names_finish(&kinds, a, &in->n_kinds);
	in->types = names_finish(&types, a, &in->n_types);
	in->azs = names_finish(&azs, a, &in->n_azs);
	size_t ignored;
	(void)names_finish(&teams, a, &ignored);
	(void)names_finish(&accounts, a, &ignored);
	(void)names_finish(&blocks, a, &ignored);
}

static void finish(struct load *l)
{
	if (l->err.code) {
		db_snapshot_free(l->snap);
		l->done(l->arg, NULL, &l->err);
		load_free(l);
	} else {
		if (l->tl_span)
			timeline_store(l->tl, &l->t[Q_TIMELINE], l->now, l->tl_span);
		l->snap->rows = l; /* db_snapshot_free frees it */
		l->done(l->arg, l->snap, NULL);
	}
}

void db_snapshot_assemble(struct db_snapshot *snap)
{
	if (!snap->rows || snap->rows->assembled)
		return;
	assemble(snap->rows);
	snap->rows->assembled = true;
}

static void on_rows(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct qarg *qa = arg;
	struct load *l = qa->l;
	struct table *t = &l->t[qa->which];

	if (err) {
		if (!l->err.code)
			l->err = err->err;
	} else if (!l->err.code) {
		t->rows = db_rows(res);
		t->res = db_result_keep(res);
	}
	free(qa);
	if (--l->waiting == 0)
		finish(l);
}

void db_snapshot_load(struct db *db, cbq_ms now, const struct sched_settings *settings,
		      struct db_timeline *tl, struct db_pending *pending, db_snapshot_fn *done,
		      void *arg)
{
	struct load *l = cbq_xcalloc(1, sizeof(*l));
	char now_s[24], span_s[24];
	const char *params[2] = { now_s, span_s };
	const cbq_ms timeline_max = (cbq_ms)31 * 86400 * 1000; /* cbq_policy_timeline's limit */

	l->snap = cbq_xcalloc(1, sizeof(*l->snap));
	l->snap->in.settings = *settings;
	l->done = done;
	l->arg = arg;
	l->now = now;
	l->tl = tl;
	l->pending = pending;
	l->waiting = Q_COUNT;
	if (timeline_covers(tl, now, settings->horizon)) {
		l->waiting--;
	} else {
		l->tl_span = settings->horizon + DB_TIMELINE_SLACK_MS;
		if (l->tl_span > timeline_max)
			l->tl_span = settings->horizon > timeline_max ? settings->horizon :
									timeline_max;
	}
	snprintf(now_s, sizeof(now_s), "%" PRId64, now);
	snprintf(span_s, sizeof(span_s), "%" PRId64, l->tl_span);
	for (int q = 0; q < Q_COUNT; q++) {
		struct qarg *qa;
		int np = q == Q_TIMELINE ? 2 : q == Q_TEAMS ? 1 : 0;
		const char *text = sql[q], *const *values = np ? params : NULL, *since;

		if (q == Q_TIMELINE && !l->tl_span)
			continue;
		if (q == Q_PENDING) {
			text = db_pending_read_sql(pending, &since, &l->pending_full);
			np = since ? 1 : 0;
			values = since ? &since : NULL;
		}
		qa = cbq_xcalloc(1, sizeof(*qa));
		qa->l = l;
		qa->which = (enum q)q;
		db_query_background(db, text, np, values, NULL, on_rows, qa);
	}
}

void db_snapshot_free(struct db_snapshot *snap)
{
	if (!snap)
		return;
	load_free(snap->rows);
	cbq_arena_free(&snap->arena);
	free(snap);
}
