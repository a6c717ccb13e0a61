/* Reasons and ETAs of queued jobs, as three Postgres arrays; see verdicts.h. */
#include "db/verdicts.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* A growing text buffer for one array literal. */
struct text {
	char *p;
	size_t len, cap;
};

struct db_verdicts {
	struct text ids, reasons, etas;
	size_t n;
};

struct store {
	db_verdicts_fn *done;
	void *arg;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 1024;
		while (cap < t->len + n + 1)
			cap *= 2;
		t->p = cbq_xrealloc(t->p, cap, 1);
		t->cap = cap;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void puts_(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

struct db_verdicts *db_verdicts_new(size_t expect)
{
	struct db_verdicts *v = cbq_xcalloc(1, sizeof(*v));

	(void)expect;
	puts_(&v->ids, "{");
	puts_(&v->reasons, "{");
	puts_(&v->etas, "{");
	return v;
}

void db_verdicts_add(struct db_verdicts *v, int64_t job_id, const char *reason, cbq_ms eta)
{
	char num[32];

	if (v->n) {
		puts_(&v->ids, ",");
		puts_(&v->reasons, ",");
		puts_(&v->etas, ",");
	}
	snprintf(num, sizeof(num), "%" PRId64, job_id);
	puts_(&v->ids, num);
	/* an element of a text[] literal: quoted, with " and \ escaped */
	puts_(&v->reasons, "\"");
	for (const char *s = reason; *s; s++) {
		if (*s == '"' || *s == '\\')
			put(&v->reasons, "\\", 1);
		put(&v->reasons, s, 1);
	}
	puts_(&v->reasons, "\"");
	if (eta == INT64_MIN)
		puts_(&v->etas, "NULL");
	else {
		snprintf(num, sizeof(num), "%" PRId64, eta);
		puts_(&v->etas, num);
	}
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
	free(v->ids.p);
	free(v->reasons.p);
	free(v->etas.p);
	free(v);
}

static void on_stored(void *arg, const struct db_result *res, const struct db_error *err)
{
	struct store *s = arg;

	s->done(s->arg, err ? 0 : strtol(db_get(res, 0, 0), NULL, 10), err);
	free(s);
}

void db_verdicts_store(struct db *db, struct db_verdicts *v, db_verdicts_fn *done, void *arg)
{
	/* Only jobs still queued get a verdict, and they stay queued until this
	 * commits (FOR SHARE, taken in id order): a job that leaves queued
	 * meanwhile loses its row through jobs_verdict_drop (0013), so rows are
	 * never left for jobs that are not queued. Unchanged verdicts are not
	 * rewritten. No ETA is 'infinity', last in the queue's order. A row
	 * that exists is updated and one that does not is inserted, in two
	 * statements rather than one INSERT ... ON CONFLICT, whose speculative
	 * insertion cost a third more for a burst of new jobs; only the leader
	 * inserts, so no other insert can come between (if a deposed leader's
	 * last write did, the unique key fails this write, and the next cycle
	 * writes every verdict again). */
	static const char sql[] =
		"WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])"
		" AS r(id, reason, eta_ms)),"
		" q AS (SELECT r.id, r.reason, CASE WHEN r.eta_ms IS NULL THEN 'infinity'"
		" ELSE to_timestamp(r.eta_ms / 1000.0) END AS eta"
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
	struct store *s = cbq_xcalloc(1, sizeof(*s));
	const char *params[3];

	puts_(&v->ids, "}");
	puts_(&v->reasons, "}");
	puts_(&v->etas, "}");
	params[0] = v->ids.p;
	params[1] = v->reasons.p;
	params[2] = v->etas.p;
	s->done = done;
	s->arg = arg;
	db_query_background(db, sql, 3, params, NULL, on_stored, s);
	db_verdicts_free(v);
}
