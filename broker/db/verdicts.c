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
	static const char sql[] =
		"WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])"
		" AS r(id, reason, eta_ms)),"
		" changed AS (UPDATE jobs j SET reason = r.reason,"
		" eta = CASE WHEN r.eta_ms IS NULL THEN NULL"
		" ELSE to_timestamp(r.eta_ms / 1000.0) END"
		" FROM r WHERE j.id = r.id AND j.state = 'queued'"
		" AND (j.reason IS DISTINCT FROM r.reason OR cbq_ms(j.eta) IS DISTINCT FROM r.eta_ms)"
		" RETURNING 1)"
		" SELECT count(*) FROM changed";
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
