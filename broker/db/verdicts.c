/* Reasons and ETAs of queued jobs, as three Postgres arrays; see verdicts.h. */
#include "db/verdicts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "db/pgarray.h"

/* One statement's worth: three array literals (an ETA of "" is none). */
struct chunk {
	struct db_arr ids, reasons, etas;
	size_t n;
};

struct db_verdicts {
	struct chunk *chunks; /* the last one is being filled */
	size_t n_chunks, n;
};

/* A write in progress: its chunks go one after another, each in its own
 * transaction. */
struct store {
	struct db *db;
	struct db_verdicts *v;
	size_t next;
	long changed;
	db_verdicts_fn *done;
	void *arg;
};

static void chunk_open(struct db_verdicts *v)
{
	v->chunks = cbq_xrealloc(v->chunks, v->n_chunks + 1, sizeof(*v->chunks));
	memset(&v->chunks[v->n_chunks++], 0, sizeof(*v->chunks));
}

struct db_verdicts *db_verdicts_new(size_t expect)
{
	struct db_verdicts *v = cbq_xcalloc(1, sizeof(*v));

	(void)expect;
	chunk_open(v);
	return v;
}

void db_verdicts_add(struct db_verdicts *v, int64_t job_id, const char *reason, cbq_ms eta)
{
	struct chunk *c = &v->chunks[v->n_chunks - 1];
	char num[32];

	if (c->n == DB_VERDICTS_CHUNK) {
		chunk_open(v);
		c = &v->chunks[v->n_chunks - 1];
	}
	snprintf(num, sizeof(num), "%" PRId64, job_id);
	db_arr_add_str(&c->ids, num);
	db_arr_add_str(&c->reasons, reason);
	if (eta == INT64_MIN)
		num[0] = '\0';
	else
		snprintf(num, sizeof(num), "%" PRId64, eta);
	db_arr_add_str(&c->etas, num);
	c->n++;
	v->n++;
}

size_t db_verdicts_count(const struct db_verdicts *v)
{
	return v->n;
}

void db_verdicts_free(struct db_verdicts *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_chunks; i++) {
		free(v->chunks[i].ids.p);
		free(v->chunks[i].reasons.p);
		free(v->chunks[i].etas.p);
	}
	free(v->chunks);
	free(v);
}

/* Only jobs still queued get a verdict, and they stay queued until this
 * commits (FOR SHARE, taken in id order): a job that leaves queued
 * meanwhile loses its row through jobs_verdict_drop (0013), so rows are
 * never left for jobs that are not queued. Unchanged verdicts are not
 * rewritten. No ETA is 'infinity', last in the queue's order. A row that
 * exists is updated and one that does not is inserted, in two statements
 * rather than one INSERT ... ON CONFLICT, whose speculative insertion cost
 * a third more for a burst of new jobs; only the leader inserts, so no
 * other insert can come between (if a deposed leader's last write did, the
 * unique key fails this write, and the next cycle writes every verdict
 * again). */
static const char store_sql[] =
	"WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[])"
	" AS r(id, reason, eta_ms)),"
	" q AS (SELECT r.id, r.reason, CASE WHEN r.eta_ms = '' THEN 'infinity'"
	" ELSE to_timestamp(r.eta_ms::bigint / 1000.0) END AS eta"
	" FROM r JOIN jobs j ON j.id = r.id WHERE j.state = 'queued'"
	" ORDER BY r.id FOR SHARE OF j),"
	" updated AS (UPDATE job_verdicts v SET reason = q.reason, eta = q.eta FROM q"
	" WHERE v.job_id = q.id AND (v.reason, v.eta) IS DISTINCT FROM (q.reason, q.eta)"
	" RETURNING 1),"
	" inserted AS (INSERT INTO job_verdicts (job_id, reason, eta)"
	" SELECT id, reason, eta FROM q"
	" WHERE NOT EXISTS (SELECT 1 FROM job_verdicts v WHERE v.job_id = q.id)"
	" RETURNING 1)"
	" SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted)";

static void store_next(struct store *s);

static void on_stored(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct store *s = arg;

	if (!err) {
		s->changed += strtol(db_get(res, 0, 0), NULL, 10);
		if (s->next < s->v->n_chunks) {
			store_next(s);
			return;
		}
	}
	s->done(s->arg, err ? 0 : s->changed, err);
	db_verdicts_free(s->v);
	free(s);
}

static void store_next(struct store *s)
{
	struct chunk *c = &s->v->chunks[s->next++];
	const char *params[3];

	db_arr_end(&c->ids);
	db_arr_end(&c->reasons);
	db_arr_end(&c->etas);
	params[0] = c->ids.p;
	params[1] = c->reasons.p;
	params[2] = c->etas.p;
	db_query_background(s->db, store_sql, 3, params, NULL, on_stored, s);
}

void db_verdicts_store(struct db *db, struct db_verdicts *v, db_verdicts_fn *done, void *arg)
{
	struct store *s = cbq_xcalloc(1, sizeof(*s));

	s->db = db;
	s->v = v;
	s->done = done;
	s->arg = arg;
	store_next(s);
}
