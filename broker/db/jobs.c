/*
 * SQL for the API's reads and writes of jobs, blocks and callers, and the
 * decoding of their rows into core values (see jobs.h). Values handed to
 * callbacks point into the result and a per-call scratch list freed after
 * the callback returns.
 */
#include "db/jobs.h"
#include "db/pgarray.h"
#include "core/duration.h"

#include "core/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/arena.h"

/* Everything decoded from one result, freed after the callback. */
struct scratch {
	struct cbq_arena mem;
	json_t **json;
	size_t n_json, cap_json;
};

static void *scratch_alloc(struct scratch *s, size_t n, size_t size)
{
	return cbq_arena_alloc(&s->mem, n, size);
}

/* Parses text as JSON kept alive until scratch_free; NULL for NULL/invalid. */
static json_t *scratch_json(struct scratch *s, const char *text)
{
	json_t *j;

	if (!text || !*text)
		return NULL;
	j = json_loads(text, JSON_DECODE_ANY, NULL);
	if (!j)
		return NULL;
	if (s->n_json == s->cap_json) {
		s->cap_json = s->cap_json ? s->cap_json * 2 : 8;
		s->json = realloc(s->json, s->cap_json * sizeof(*s->json));
		if (!s->json)
			abort();
	}
	s->json[s->n_json++] = j;
	return j;
}

static void scratch_free(struct scratch *s)
{
	cbq_arena_free(&s->mem);
	for (size_t i = 0; i < s->n_json; i++)
		json_decref(s->json[i]);
	free(s->json);
}

static int64_t get_i64(const struct db_result *r, int row, int col)
{
	return db_is_null(r, row, col) ? 0 : strtoll(db_get(r, row, col), NULL, 10);
}

static bool get_bool(const struct db_result *r, int row, int col)
{
	return db_get(r, row, col)[0] == 't';
}

/* A JSON array of strings → const char *[] */
static const char *const *json_strings(struct scratch *s, const char *text, size_t *n)
{
	json_t *arr = scratch_json(s, text), *v;
	const char **out;
	size_t i;

	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return NULL;
	out = scratch_alloc(s, json_array_size(arr), sizeof(*out));
	json_array_foreach(arr, i, v) out[(*n)++] = json_is_string(v) ? json_string_value(v) : "";
	return out;
}

/* A queued job's verdict (0013): its ETA ('infinity' for none, or when not
 * planned yet) and its reason (NULL when not planned yet), for row alias j. */
#define VERDICT_ETA                                                                               \
	"coalesce((SELECT v.eta FROM job_verdicts v WHERE v.job_id = j.id AND j.state = 'queued')," \
	" 'infinity')"
#define VERDICT_REASON                                                                            \
	"(SELECT v.reason FROM job_verdicts v WHERE v.job_id = j.id AND j.state = 'queued')"

/* The job columns, in the order decode_job reads them, for a row alias j;
 * user_data is the SQL that yields the user data in hex. */
#define JOB_COLS_WITH(user_data)                                                                  \
	"j.id, j.team, j.account_id, j.name, j.kind, j.instance_type, j.instance_count, "         \
	"j.duration_s, j.priority, j.checkpointable, j.image_id, j.subnet_id, "                    \
	"to_json(j.security_group_ids)::text, j.key_name, " user_data ", "                          \
	"j.instance_profile, j.tags::text, j.state, coalesce(" VERDICT_REASON ", j.reason), "     \
	"cbq_ms(nullif(" VERDICT_ETA ", 'infinity')), "                                           \
	"coalesce(j.block_id, ''), j.attempt, cbq_ms(j.submitted_at), cbq_ms(j.started_at), "     \
	"cbq_ms(j.ended_at), cbq_ms(j.updated_at), j.submitted_by, "                              \
	"coalesce(j.idempotency_key, ''), "                                                        \
	"(SELECT json_agg(i.instance_id ORDER BY i.instance_id) FROM job_instances i "            \
	"WHERE i.job_id = j.id)::text"
#define JOB_COLS JOB_COLS_WITH("encode(j.user_data, 'hex')")
/* Lists leave user data out: up to 16 KiB a job, and only `show` needs it. */
#define JOB_COLS_NO_USER_DATA JOB_COLS_WITH("''")
enum { JOB_NCOLS = 29 };

/* Decodes JOB_COLS starting at column c0 of row into *job. */
static void decode_job(struct scratch *s, const struct db_result *r, int row, int c0,
		       struct job *job)
{
	int c = c0;
	const char *hex;
	size_t hexlen;
	json_t *tags, *t;
	size_t i;

	memset(job, 0, sizeof(*job));
	job->id = get_i64(r, row, c++);
	job->team = db_get(r, row, c++);
	job->spec.account_id = db_get(r, row, c++);
	job->spec.name = db_get(r, row, c++);
	job->spec.kind = db_get(r, row, c++);
	job->spec.instance_type = db_get(r, row, c++);
	job->spec.count = (int32_t)get_i64(r, row, c++);
	job->spec.duration_s = get_i64(r, row, c++);
	job->spec.priority = (int32_t)get_i64(r, row, c++);
	job->spec.checkpointable = get_bool(r, row, c++);
	job->spec.launch.image_id = db_get(r, row, c++);
	job->spec.launch.subnet_id = db_get(r, row, c++);
	job->spec.launch.security_group_ids =
		json_strings(s, db_get(r, row, c++), &job->spec.launch.n_security_group_ids);
	job->spec.launch.key_name = db_get(r, row, c++);

	hex = db_get(r, row, c++);
	hexlen = strlen(hex);
	if (hexlen >= 2) {
		uint8_t *ud = scratch_alloc(s, hexlen / 2, 1);
		for (i = 0; i < hexlen / 2; i++)
			ud[i] = (uint8_t)(cbq_hexval(hex[2 * i]) << 4 | cbq_hexval(hex[2 * i + 1]));
		job->spec.launch.user_data = ud;
		job->spec.launch.user_data_len = hexlen / 2;
	}
	job->spec.launch.instance_profile = db_get(r, row, c++);

	tags = scratch_json(s, db_get(r, row, c++));
	if (json_is_array(tags) && json_array_size(tags) > 0) {
		struct job_tag *jt = scratch_alloc(s, json_array_size(tags), sizeof(*jt));
		json_array_foreach(tags, i, t) {
			const char *k = json_string_value(json_object_get(t, "key"));
			const char *v = json_string_value(json_object_get(t, "value"));
			jt[i].key = k ? k : "";
			jt[i].value = v ? v : "";
		}
		job->spec.launch.tags = jt;
		job->spec.launch.n_tags = json_array_size(tags);
	}

	if (!job_state_parse(db_get(r, row, c++), &job->state))
		job->state = JOB_FAILED; /* the CHECK constraint makes this unreachable */
	job->reason = db_get(r, row, c++);
	job->eta = get_i64(r, row, c++);
	job->block_id = db_get(r, row, c++);
	job->attempt = (int32_t)get_i64(r, row, c++);
	job->submitted_at = get_i64(r, row, c++);
	job->started_at = get_i64(r, row, c++);
	job->ended_at = get_i64(r, row, c++);
	job->updated_at = get_i64(r, row, c++);
	job->submitted_by = db_get(r, row, c++);
	job->idempotency_key = db_get(r, row, c++);
	job->instance_ids = json_strings(s, db_get(r, row, c++), &job->n_instance_ids);
}

/* ---- submit ------------------------------------------------------------ */

struct submit_call {
	db_submit_fn *done;
	void *arg;
};

static void submit_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct submit_call *sc = arg;
	struct scratch s = { 0 };
	struct job job;

	if (err) {
		sc->done(sc->arg, DB_SUBMIT_CREATED, NULL, err);
	} else if (db_rows(r) == 0) {
		sc->done(sc->arg, DB_SUBMIT_RACED, NULL, NULL);
	} else {
		enum db_submit_outcome o = DB_SUBMIT_CREATED;
		if (!get_bool(r, 0, 0))
			o = get_bool(r, 0, 1) ? DB_SUBMIT_EXISTING : DB_SUBMIT_MISMATCH;
		decode_job(&s, r, 0, 2, &job);
		sc->done(sc->arg, o, &job, NULL);
	}
	scratch_free(&s);
	free(sc);
}

/*
 * The SELECT of a submit's CTE n that wakes the leader: NOTIFY cbq_jobs
 * when flag (a boolean parameter) is true and the query rows finds a new
 * job. A cbqd that is not the leader sets it (struct db_submit's notify).
 * Not a trigger: a NOTIFY holds a cluster-wide lock from before its COMMIT
 * until after, so every COMMIT that notifies waits for the one before it,
 * WAL flush included (pgbench -c 32 here: 1,450 INSERTs/s with one, 5,700
 * without); the leader's own submits, most of them, skip it. The outer
 * query joins n so that it runs.
 */
#define NOTIFY_IF(flag, rows)                                                                     \
	"SELECT pg_notify('cbq_jobs', 'jobs') WHERE " flag " AND EXISTS (" rows ")"

static const char submit_sql[] =
	"WITH ins AS ("
	" INSERT INTO jobs (team, account_id, name, kind, instance_type, instance_count,"
	"  duration_s, priority, checkpointable, image_id, subnet_id, security_group_ids,"
	"  key_name, user_data, instance_profile, tags, submitted_at, updated_at,"
	"  submitted_by, idempotency_key, request_sha256)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
	"  ARRAY(SELECT jsonb_array_elements_text($12::jsonb)), $13, $14, $15, $16::jsonb,"
	"  to_timestamp($17::bigint / 1000.0), to_timestamp($17::bigint / 1000.0),"
	"  $18, NULLIF($19, ''), $20)"
	/* a key already used: the no-op update returns the job committed under
	 * it (see submit_many_sql); xmax = 0 tells a row this INSERT made */
	" ON CONFLICT ON CONSTRAINT jobs_idempotency"
	" DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key"
	" RETURNING *, xmax = 0 AS inserted"
	"), ev AS ("
	" INSERT INTO job_events (job_id, at, from_state, to_state, actor, reason)"
	" SELECT id, submitted_at, NULL, 'queued', submitted_by, 'submitted' FROM ins"
	" WHERE inserted"
	"), n AS (" NOTIFY_IF("$21", "SELECT 1 FROM ins WHERE inserted") ")"
	" SELECT j.inserted, j.inserted OR j.request_sha256 = $20, " JOB_COLS
	" FROM ins j LEFT JOIN n ON true";

static char *json_of_strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	char *out;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

static char *json_of_tags(const struct job_tag *t, size_t n)
{
	json_t *a = json_array();
	char *out;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "key", t[i].key, "value",
						   t[i].value));
	out = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return out;
}

void db_job_submit(struct db *db, const struct db_submit *in, db_submit_fn *done, void *arg)
{
	const struct job_spec *sp = in->spec;
	const struct launch_spec *l = &sp->launch;
	struct submit_call *sc = cbq_xcalloc(1, sizeof(*sc));
	char count[16], duration[24], priority[16], now[24];
	char *sgs = json_of_strings(l->security_group_ids, l->n_security_group_ids);
	char *tags = json_of_tags(l->tags, l->n_tags);
	const char *params[21];
	int lens[21];

	snprintf(count, sizeof(count), "%d", (int)sp->count);
	snprintf(duration, sizeof(duration), "%" PRId64, sp->duration_s);
	snprintf(priority, sizeof(priority), "%d", (int)sp->priority);
	snprintf(now, sizeof(now), "%" PRId64, in->now);
	for (int i = 0; i < 21; i++)
		lens[i] = -1;
#define S(x) ((x) ? (x) : "")
	params[0] = in->team;
	params[1] = sp->account_id;
	params[2] = S(sp->name);
	params[3] = sp->kind;
	params[4] = sp->instance_type;
	params[5] = count;
	params[6] = duration;
	params[7] = priority;
	params[8] = sp->checkpointable ? "true" : "false";
	params[9] = S(l->image_id);
	params[10] = S(l->subnet_id);
	params[11] = sgs;
	params[12] = S(l->key_name);
	params[13] = (const char *)l->user_data;
	lens[13] = (int)l->user_data_len;
	params[14] = S(l->instance_profile);
	params[15] = tags;
	params[16] = now;
	params[17] = in->submitted_by;
	params[18] = S(in->idempotency_key);
	params[19] = (const char *)in->request_sha256;
	lens[19] = 32;
	params[20] = in->notify ? "true" : "false";
#undef S
	if (!params[13])
		params[13] = "";
	sc->done = done;
	sc->arg = arg;
	db_query_prepared(db, "cbq_submit_one", submit_sql, 21, params, lens, submit_done, sc);
	free(sgs);
	free(tags);
}

/* ---- submit, many at once --------------------------------------------------- */

/*
 * The batch statement takes one array per column, so its text is the same
 * whatever the batch size (one plan shape; ready for a prepared statement).
 * `input` checks each row's account and kind against the tables, so a bad
 * row is refused alone instead of failing the statement; ids are taken from
 * the identity sequence in submission order so that each inserted row can
 * be matched to its input row (a row without an idempotency key has no
 * other natural key). A key already used conflicts, and the no-op DO UPDATE
 * returns the job committed under it, so every answer comes from the
 * INSERT's own RETURNING rows: the statement never looks jobs up by team,
 * which a generic plan made on an empty table would do by walking the
 * team's jobs (jobs_team_id) for every row. One NOTIFY (NOTIFY_IF) wakes
 * the leader for the whole batch when any of its submits asks for it.
 */
#define SUBMIT_MANY_NCOLS 21
static const char submit_many_sql[] =
	"WITH input AS ("
	" SELECT u.*,"
	"  EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = u.account_id"
	"   AND a.team = u.team) AS account_ok,"
	"  EXISTS (SELECT 1 FROM job_kinds k WHERE k.kind = u.kind) AS kind_ok,"
	"  u.caller = '' OR EXISTS (SELECT 1 FROM accounts a WHERE a.account_id = u.caller"
	"   AND a.team = u.team) AS caller_ok"
	" FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],"
	"  $7::bigint[], $8::int[], $9::bool[], $10::text[], $11::text[], $12::text[],"
	"  $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[],"
	"  $19::text[], $20::text[], $21::text[])"
	" WITH ORDINALITY AS u(team, account_id, name, kind, instance_type, instance_count,"
	"  duration_s, priority, checkpointable, image_id, subnet_id, sgs, key_name, user_data,"
	"  instance_profile, tags, now_ms, submitted_by, idem_key, sha, caller, ord)"
	"), ok AS ("
	" SELECT i.*, nextval(pg_get_serial_sequence('jobs', 'id')) AS new_id"
	" FROM input i WHERE i.account_ok AND i.kind_ok AND i.caller_ok"
	"), ins AS ("
	" INSERT INTO jobs (id, team, account_id, name, kind, instance_type, instance_count,"
	"  duration_s, priority, checkpointable, image_id, subnet_id, security_group_ids,"
	"  key_name, user_data, instance_profile, tags, submitted_at, updated_at,"
	"  submitted_by, idempotency_key, request_sha256)"
	" OVERRIDING SYSTEM VALUE"
	" SELECT new_id, team, account_id, name, kind, instance_type, instance_count,"
	"  duration_s, priority, checkpointable, image_id, subnet_id,"
	"  ARRAY(SELECT jsonb_array_elements_text(sgs::jsonb)), key_name,"
	"  decode(user_data, 'hex'), instance_profile, tags::jsonb,"
	"  to_timestamp(now_ms / 1000.0), to_timestamp(now_ms / 1000.0), submitted_by,"
	"  NULLIF(idem_key, ''), decode(sha, 'hex')"
	" FROM ok ORDER BY ord"
	/* a key already used: the no-op update returns the job committed under
	 * it (waiting for a concurrent first submit of the key to commit) */
	" ON CONFLICT ON CONSTRAINT jobs_idempotency"
	" DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key"
	" RETURNING *"
	"), ev AS ("
	" INSERT INTO job_events (job_id, at, from_state, to_state, actor, reason)"
	" SELECT id, submitted_at, NULL, 'queued', submitted_by, 'submitted' FROM ins"
	" WHERE id IN (SELECT new_id FROM ok) ORDER BY id"
	"), n AS (" NOTIFY_IF("$22", "SELECT 1 FROM ins j JOIN ok ON j.id = ok.new_id") ")"
	" SELECT i.ord, i.account_ok, i.kind_ok, i.caller_ok,"
	"  coalesce(j.id = ok.new_id, false), coalesce(j.request_sha256 = decode(i.sha, 'hex'), false),"
	"  " JOB_COLS
	" FROM input i LEFT JOIN ok ON ok.ord = i.ord"
	" LEFT JOIN ins j ON j.id = ok.new_id"
	"  OR (i.idem_key <> '' AND j.team = i.team AND j.idempotency_key = i.idem_key)"
	" LEFT JOIN n ON true"
	" ORDER BY i.ord";
enum { SUBMIT_MANY_C0 = 6 }; /* where JOB_COLS start */

static size_t str_bytes(const char *s)
{
	/* quoted, every byte possibly escaped; JSON escapes grow 6-fold */
	return s ? 6 * strlen(s) * 2 + 8 : 8;
}

size_t db_submit_many_bytes(const struct db_submit *in)
{
	const struct job_spec *sp = in->spec;
	const struct launch_spec *l = &sp->launch;
	size_t n = 20 * 32; /* numbers, flags, separators */

	n += str_bytes(in->team) + str_bytes(sp->account_id) + str_bytes(sp->name) +
	     str_bytes(sp->kind) + str_bytes(sp->instance_type) + str_bytes(l->image_id) +
	     str_bytes(l->subnet_id) + str_bytes(l->key_name) + str_bytes(l->instance_profile) +
	     str_bytes(in->submitted_by) + str_bytes(in->idempotency_key) +
	     str_bytes(in->caller_account);
	n += 2 * l->user_data_len + 8 + 2 * 32 + 8;
	for (size_t i = 0; i < l->n_security_group_ids; i++)
		n += str_bytes(l->security_group_ids[i]);
	for (size_t i = 0; i < l->n_tags; i++)
		n += str_bytes(l->tags[i].key) + str_bytes(l->tags[i].value) + 32;
	return n;
}

struct submit_many_call {
	db_submit_many_fn *done;
	void *arg;
	size_t n;
};

static void submit_many_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct submit_many_call *mc = arg;
	struct scratch s = { 0 };
	struct db_submit_row *rows = NULL;
	struct job *jobs = NULL;
	struct db_error bad_kind = { 0 }, bad_account = { 0 }, shape = { 0 };
	int nrows = err ? 0 : db_rows(r);

	if (err) {
		mc->done(mc->arg, NULL, 0, err);
		goto out;
	}
	if ((size_t)nrows != mc->n) {
		/* one row per input row, always: anything else is a bug here */
		cbq_fail(&shape.err, CBQ_ERR_INTERNAL, NULL,
			 "batch submit answered %d rows for %zu submits", nrows, mc->n);
		mc->done(mc->arg, NULL, 0, &shape);
		goto out;
	}
	cbq_fail(&bad_kind.err, CBQ_ERR_INVALID, NULL, "unknown job kind");
	snprintf(bad_kind.sqlstate, sizeof(bad_kind.sqlstate), "23503");
	snprintf(bad_kind.constraint, sizeof(bad_kind.constraint), "jobs_kind_known");
	cbq_fail(&bad_account.err, CBQ_ERR_INVALID, NULL, "account not of the team");
	snprintf(bad_account.sqlstate, sizeof(bad_account.sqlstate), "23503");
	snprintf(bad_account.constraint, sizeof(bad_account.constraint), "jobs_account_of_team");
	rows = scratch_alloc(&s, mc->n, sizeof(*rows));
	jobs = scratch_alloc(&s, mc->n, sizeof(*jobs));
	for (int i = 0; i < nrows; i++) {
		int64_t ord = get_i64(r, i, 0);
		struct db_submit_row *row;
		bool found = !db_is_null(r, i, SUBMIT_MANY_C0);

		if (ord < 1 || (size_t)ord > mc->n)
			continue; /* unreachable: WITH ORDINALITY counts from 1 */
		row = &rows[ord - 1];
		memset(row, 0, sizeof(*row));
		if (found) {
			decode_job(&s, r, i, SUBMIT_MANY_C0, &jobs[ord - 1]);
			row->job = &jobs[ord - 1];
			if (get_bool(r, i, 4))
				row->outcome = DB_SUBMIT_CREATED;
			else
				row->outcome = get_bool(r, i, 5) ? DB_SUBMIT_EXISTING :
								   DB_SUBMIT_MISMATCH;
		} else if (!get_bool(r, i, 3)) {
			row->outcome = DB_SUBMIT_CALLER_STALE;
		} else if (!get_bool(r, i, 2)) {
			row->err = &bad_kind;
		} else if (!get_bool(r, i, 1)) {
			row->err = &bad_account;
		} else {
			/* the key's first submit committed after our snapshot */
			row->outcome = DB_SUBMIT_RACED;
		}
	}
	mc->done(mc->arg, rows, mc->n, NULL);
out:
	scratch_free(&s);
	free(mc);
}

void db_job_submit_many(struct db *db, const struct db_submit *in, size_t n,
			db_submit_many_fn *done, void *arg)
{
	struct submit_many_call *mc = cbq_xcalloc(1, sizeof(*mc));
	struct db_arr cols[SUBMIT_MANY_NCOLS] = { 0 };
	const char *params[SUBMIT_MANY_NCOLS + 1]; /* the columns, then NOTIFY_IF's flag */
	bool notify = false;
	size_t bytes = 0;
	char num[32];

	mc->done = done;
	mc->arg = arg;
	mc->n = n;
	for (size_t i = 0; i < n; i++)
		bytes += db_submit_many_bytes(&in[i]);
	if (n == 0 || n > DB_SUBMIT_MANY_MAX || bytes > DB_SUBMIT_MANY_BYTES_MAX) {
		/* the caller's bug; db_query refuses it and answers from the loop */
		db_query(db, "", -1, NULL, NULL, submit_many_done, mc);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct db_submit *x = &in[i];
		const struct job_spec *sp = x->spec;
		const struct launch_spec *l = &sp->launch;
		char *sgs = json_of_strings(l->security_group_ids, l->n_security_group_ids);
		char *tags = json_of_tags(l->tags, l->n_tags);

		db_arr_add_str(&cols[0], x->team);
		db_arr_add_str(&cols[1], sp->account_id);
		db_arr_add_str(&cols[2], sp->name);
		db_arr_add_str(&cols[3], sp->kind);
		db_arr_add_str(&cols[4], sp->instance_type);
		snprintf(num, sizeof(num), "%d", (int)sp->count);
		db_arr_add_str(&cols[5], num);
		snprintf(num, sizeof(num), "%" PRId64, sp->duration_s);
		db_arr_add_str(&cols[6], num);
		snprintf(num, sizeof(num), "%d", (int)sp->priority);
		db_arr_add_str(&cols[7], num);
		db_arr_add_str(&cols[8], sp->checkpointable ? "true" : "false");
		db_arr_add_str(&cols[9], l->image_id);
		db_arr_add_str(&cols[10], l->subnet_id);
		db_arr_add_str(&cols[11], sgs);
		db_arr_add_str(&cols[12], l->key_name);
		db_arr_add_hex(&cols[13], l->user_data, l->user_data ? l->user_data_len : 0);
		db_arr_add_str(&cols[14], l->instance_profile);
		db_arr_add_str(&cols[15], tags);
		snprintf(num, sizeof(num), "%" PRId64, x->now);
		db_arr_add_str(&cols[16], num);
		db_arr_add_str(&cols[17], x->submitted_by);
		db_arr_add_str(&cols[18], x->idempotency_key);
		db_arr_add_hex(&cols[19], x->request_sha256, 32);
		db_arr_add_str(&cols[20], x->caller_account ? x->caller_account : "");
		notify |= x->notify;
		free(sgs);
		free(tags);
	}
	for (int c = 0; c < SUBMIT_MANY_NCOLS; c++) {
		db_arr_end(&cols[c]);
		params[c] = cols[c].p;
	}
	params[SUBMIT_MANY_NCOLS] = notify ? "true" : "false";
	db_query_prepared(db, "cbq_submit_many", submit_many_sql, SUBMIT_MANY_NCOLS + 1, params,
			  NULL, submit_many_done, mc);
	for (int c = 0; c < SUBMIT_MANY_NCOLS; c++)
		free(cols[c].p);
}

/* ---- get --------------------------------------------------------------- */

struct job_call {
	db_job_fn *done;
	db_cancel_fn *cancel_done;
	void *arg;
};

static void get_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct job_call *jc = arg;
	struct scratch s = { 0 };
	struct job job;
	struct job_event *ev = NULL;
	size_t n_ev = 0, i;
	json_t *events, *e;

	if (err || db_rows(r) == 0) {
		jc->done(jc->arg, NULL, NULL, 0, err);
		goto out;
	}
	decode_job(&s, r, 0, 0, &job);
	events = scratch_json(&s, db_get(r, 0, JOB_NCOLS));
	if (json_is_array(events) && json_array_size(events) > 0) {
		ev = scratch_alloc(&s, json_array_size(events), sizeof(*ev));
		json_array_foreach(events, i, e) {
			const char *from = json_string_value(json_array_get(e, 1));
			const char *to = json_string_value(json_array_get(e, 2));
			ev[n_ev].at = json_integer_value(json_array_get(e, 0));
			ev[n_ev].has_from = from && job_state_parse(from, &ev[n_ev].from);
			if (!to || !job_state_parse(to, &ev[n_ev].to))
				continue;
			ev[n_ev].actor = json_string_value(json_array_get(e, 3));
			ev[n_ev].reason = json_string_value(json_array_get(e, 4));
			n_ev++;
		}
	}
	job.queue_position = (int32_t)get_i64(r, 0, JOB_NCOLS + 1);
	job.queue_length = (int32_t)get_i64(r, 0, JOB_NCOLS + 2);
	jc->done(jc->arg, &job, ev, n_ev, NULL);
out:
	scratch_free(&s);
	free(jc);
}

/*
 * A queued job's place in the queue: 1 + the queued jobs expected to start
 * before it (an earlier eta, or the same eta and a smaller id; jobs without
 * an eta, planned or not yet, come after all with one, by id), and how many
 * are queued, for row alias j; 0 and 0 for jobs in other states. Keys are
 * (VERDICT_ETA, id). Verdicts exist only for queued jobs (0013), so the
 * jobs before j are the verdicts before its key, walking job_verdicts_order,
 * and, when j has no ETA, the queued jobs below j.id that have no verdict:
 * all queued below j.id (jobs_pending) less the verdicts below j.id (the
 * primary key). The list query's row_number() orders by the same key.
 */
#define QUEUE_POSITION_COLS                                                                       \
	"CASE WHEN j.state = 'queued' THEN 1"                                                      \
	" + (SELECT count(*) FROM job_verdicts x WHERE (x.eta, x.job_id) < (" VERDICT_ETA ", j.id))" \
	" + CASE WHEN " VERDICT_ETA " = 'infinity'"                                                \
	"   THEN (SELECT count(*) FROM jobs q WHERE q.state = 'queued' AND q.id < j.id)"          \
	"    - (SELECT count(*) FROM job_verdicts x WHERE x.job_id < j.id)"                        \
	"   ELSE 0 END"                                                                            \
	" ELSE 0 END, "                                                                            \
	"CASE WHEN j.state = 'queued' THEN (SELECT count(*) FROM jobs q WHERE q.state = 'queued')" \
	" ELSE 0 END"

void db_job_get(struct db *db, int64_t id, const char *team, db_job_fn *done, void *arg)
{
	struct job_call *jc = cbq_xcalloc(1, sizeof(*jc));
	char idbuf[24];
	const char *params[] = { idbuf, team };

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	jc->done = done;
	jc->arg = arg;
	db_query(db,
		 "SELECT " JOB_COLS ", (SELECT json_agg(json_build_array(cbq_ms(e.at), e.from_state,"
		 " e.to_state, e.actor, e.reason) ORDER BY e.id) FROM job_events e"
		 " WHERE e.job_id = j.id)::text, " QUEUE_POSITION_COLS
		 " FROM jobs j WHERE j.id = $1 AND ($2::text IS NULL OR j.team = $2)",
		 2, params, NULL, get_done, jc);
}

/* ---- cancel ------------------------------------------------------------ */

static void cancel_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct job_call *jc = arg;
	struct scratch s = { 0 };
	struct job job;

	if (err || db_rows(r) == 0) {
		jc->cancel_done(jc->arg, false, NULL, err);
	} else {
		decode_job(&s, r, 0, 1, &job);
		jc->cancel_done(jc->arg, get_bool(r, 0, 0), &job, NULL);
	}
	scratch_free(&s);
	free(jc);
}

void db_job_cancel(struct db *db, int64_t id, const char *team, const char *actor, cbq_ms now,
		   db_cancel_fn *done, void *arg)
{
	struct job_call *jc = cbq_xcalloc(1, sizeof(*jc));
	char idbuf[24], nowbuf[24];
	const char *params[] = { idbuf, team, actor, nowbuf };

	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	snprintf(nowbuf, sizeof(nowbuf), "%" PRId64, now);
	jc->cancel_done = done;
	jc->arg = arg;
	db_query(db,
		 "WITH u AS ("
		 " UPDATE jobs SET state = 'cancelled', reason = 'cancelled by ' || $3,"
		 "  ended_at = to_timestamp($4::bigint / 1000.0),"
		 "  updated_at = to_timestamp($4::bigint / 1000.0)"
		 " WHERE id = $1 AND ($2::text IS NULL OR team = $2) AND state = 'queued'"
		 " RETURNING *"
		 "), r AS ("
		 /* holding instances: the reconciler terminates them, then cancels */
		 " UPDATE jobs SET cancel_requested_at ="
		 "  COALESCE(cancel_requested_at, to_timestamp($4::bigint / 1000.0)),"
		 "  reason = 'cancelling: requested by ' || $3"
		 " WHERE id = $1 AND ($2::text IS NULL OR team = $2)"
		 "  AND state IN ('launching', 'running', 'expiring')"
		 " RETURNING *"
		 "), ev AS ("
		 " INSERT INTO job_events (job_id, at, from_state, to_state, actor, reason)"
		 " SELECT id, updated_at, 'queued', 'cancelled', $3, 'cancelled' FROM u"
		 " UNION ALL"
		 " SELECT id, to_timestamp($4::bigint / 1000.0), state, state, $3,"
		 "  'cancel requested: its instances are being terminated' FROM r"
		 ")"
		 " SELECT true, " JOB_COLS " FROM u j"
		 " UNION ALL"
		 " SELECT true, " JOB_COLS " FROM r j"
		 " UNION ALL"
		 " SELECT false, " JOB_COLS " FROM jobs j"
		 "  WHERE j.id = $1 AND ($2::text IS NULL OR j.team = $2)"
		 "  AND NOT EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM r)",
		 4, params, NULL, cancel_done, jc);
}

/* ---- list -------------------------------------------------------------- */

struct list_call {
	db_jobs_fn *done;
	void *arg;
};

static void list_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct list_call *lc = arg;
	struct scratch s = { 0 };
	struct job *jobs = NULL;
	int n = err ? 0 : db_rows(r);

	if (!err) {
		jobs = scratch_alloc(&s, (size_t)n, sizeof(*jobs));
		for (int i = 0; i < n; i++) {
			decode_job(&s, r, i, 0, &jobs[i]);
			jobs[i].queue_position = (int32_t)get_i64(r, i, JOB_NCOLS);
			jobs[i].queue_length = (int32_t)get_i64(r, i, JOB_NCOLS + 1);
		}
	}
	lc->done(lc->arg, jobs, (size_t)n, err);
	scratch_free(&s);
	free(lc);
}

void db_job_list(struct db *db, const struct db_job_filter *f, db_jobs_fn *done, void *arg)
{
	struct list_call *lc = cbq_xcalloc(1, sizeof(*lc));
	char before[24], limit[16];
	const char *params[] = { f->team, f->state, f->kind, before, limit };

	snprintf(before, sizeof(before), "%" PRId64, f->before_id);
	snprintf(limit, sizeof(limit), "%d", f->limit + 1);
	lc->done = done;
	lc->arg = arg;
	/* queue positions as in QUEUE_POSITION_COLS, ranked once for the page
	 * (the verdicts in job_verdicts_order, then the queued jobs not planned
	 * yet) and only when it holds a queued job */
	db_query(db,
		 "WITH page AS ("
		 " SELECT * FROM jobs j"
		 " WHERE ($1::text IS NULL OR j.team = $1)"
		 " AND ($2::text IS NULL OR j.state = $2)"
		 " AND ($3::text IS NULL OR j.kind = $3)"
		 " AND ($4::bigint = 0 OR j.id < $4)"
		 " ORDER BY j.id DESC LIMIT $5"
		 "), qp AS ("
		 " SELECT k.id, row_number() OVER (ORDER BY k.eta, k.id) AS pos,"
		 "  count(*) OVER () AS n"
		 " FROM (SELECT x.job_id AS id, x.eta FROM job_verdicts x"
		 "  UNION ALL SELECT q.id, 'infinity' FROM jobs q WHERE q.state = 'queued'"
		 "  AND NOT EXISTS (SELECT 1 FROM job_verdicts x WHERE x.job_id = q.id)) k"
		 " WHERE EXISTS (SELECT 1 FROM page p WHERE p.state = 'queued')"
		 ")"
		 " SELECT " JOB_COLS_NO_USER_DATA ", coalesce(qp.pos, 0), coalesce(qp.n, 0)"
		 " FROM page j LEFT JOIN qp ON qp.id = j.id"
		 " ORDER BY j.id DESC",
		 5, params, NULL, list_done, lc);
}

/* ---- blocks ------------------------------------------------------------ */

struct blocks_call {
	db_blocks_fn *done;
	void *arg;
};

static void blocks_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct blocks_call *bc = arg;
	struct scratch s = { 0 };
	struct block *b = NULL;
	int n = err ? 0 : db_rows(r);

	if (!err)
		b = scratch_alloc(&s, (size_t)n, sizeof(*b));
	for (int i = 0; i < n; i++) {
		json_t *usage, *u;
		size_t k;

		b[i].id = db_get(r, i, 0);
		b[i].instance_type = db_get(r, i, 1);
		b[i].az = db_get(r, i, 2);
		b[i].total = (int32_t)get_i64(r, i, 3);
		b[i].available = (int32_t)get_i64(r, i, 4);
		b[i].state = db_get(r, i, 5);
		b[i].start = get_i64(r, i, 6);
		b[i].end = get_i64(r, i, 7);
		b[i].cutoff = b[i].end - BLOCK_CUTOFF_LEAD_MS;
		usage = scratch_json(&s, db_get(r, i, 8));
		if (json_is_array(usage) && json_array_size(usage) > 0) {
			struct block_usage *bu =
				scratch_alloc(&s, json_array_size(usage), sizeof(*bu));
			json_array_foreach(usage, k, u) {
				bu[k].account_id = json_string_value(json_array_get(u, 0));
				bu[k].used = (int32_t)json_integer_value(json_array_get(u, 1));
				if (!bu[k].account_id)
					bu[k].account_id = "";
			}
			b[i].usage = bu;
			b[i].n_usage = json_array_size(usage);
		}
	}
	bc->done(bc->arg, b, (size_t)n, err);
	scratch_free(&s);
	free(bc);
}

void db_block_list(struct db *db, const char *team, bool with_usage, db_blocks_fn *done,
		   void *arg)
{
	struct blocks_call *bc = cbq_xcalloc(1, sizeof(*bc));
	const char *params[] = { team, with_usage ? "true" : "false" };

	bc->done = done;
	bc->arg = arg;
	db_query(db,
		 /* a static block's stored count does not see cbq's own launches */
		 "SELECT b.id, b.instance_type, b.az, b.total,"
		 " CASE WHEN b.source = 'static' THEN greatest(0, b.available - COALESCE((SELECT"
		 "  sum(j.instance_count) FROM jobs j WHERE j.block_id = b.id"
		 "  AND j.state IN ('launching', 'running', 'expiring')), 0))"
		 " ELSE b.available END, b.state,"
		 " cbq_ms(b.start_at), cbq_ms(b.end_at),"
		 " CASE WHEN $2::bool THEN (SELECT json_agg(json_build_array(u.account_id, u.used)"
		 "  ORDER BY u.account_id) FROM block_usage u WHERE u.block_id = b.id)::text END"
		 " FROM blocks b"
		 " WHERE $1::text IS NULL OR EXISTS (SELECT 1 FROM accounts a WHERE a.team = $1"
		 "  AND (a.account_id = b.owner_account_id OR EXISTS (SELECT 1 FROM block_consumers c"
		 "   WHERE c.block_id = b.id AND c.account_id = a.account_id)))"
		 " ORDER BY b.start_at, b.id",
		 2, params, NULL, blocks_done, bc);
}

/* ---- kinds ------------------------------------------------------------- */

struct text_call {
	db_text_fn *done;
	void *arg;
};

static void text_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct text_call *tc = arg;

	tc->done(tc->arg, err || db_rows(r) == 0 ? "" : db_get(r, 0, 0), err);
	free(tc);
}

void db_kind_names(struct db *db, db_text_fn *done, void *arg)
{
	struct text_call *tc = cbq_xcalloc(1, sizeof(*tc));

	tc->done = done;
	tc->arg = arg;
	db_query(db, "SELECT coalesce(string_agg(kind, ', ' ORDER BY kind), '') FROM job_kinds", 0,
		 NULL, NULL, text_done, tc);
}
