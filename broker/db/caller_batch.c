/*
 * Caller lookups in batches (see caller_batch.h): a FIFO, at most
 * DB_CALLER_BATCH_INFLIGHT statements in flight, each answering up to
 * DB_CALLER_BATCH_MAX lookups from two text arrays unnested together.
 */
#include "db/caller_batch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/alloc.h"
#include "db/pgarray.h"

struct lookup {
	TAILQ_ENTRY(lookup) link;
	char account_id[16];
	char *principal;
	db_caller_fn *done;
	void *arg;
};
TAILQ_HEAD(lookup_list, lookup);

struct flight {
	struct db_caller_batch *b;
	struct lookup **items;
	size_t n;
};

struct db_caller_batch {
	struct db *db;
	struct lookup_list queue;
	int n_flights;
	bool freed; /* flights in flight answer, then free b */
};

static const char callers_sql[] =
	"SELECT k.ord, a.team, EXISTS (SELECT 1 FROM admins"
	" WHERE cbq_principal_matches(principal, k.principal))"
	" FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(account_id, principal, ord)"
	" LEFT JOIN accounts a ON a.account_id = k.account_id";

static void lookup_free(struct lookup *l)
{
	free(l->principal);
	free(l);
}

static void send_next(struct db_caller_batch *b);

static void answered(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct flight *f = arg;
	struct db_caller_batch *b = f->b;
	bool *seen = cbq_xcalloc(f->n ? f->n : 1, sizeof(*seen));

	for (int i = 0; !err && i < db_rows(r); i++) {
		long ord = strtol(db_get(r, i, 0), NULL, 10);
		struct lookup *l;
		if (ord < 1 || (size_t)ord > f->n || seen[ord - 1])
			continue; /* unreachable: WITH ORDINALITY counts from 1, accounts by key */
		seen[ord - 1] = true;
		l = f->items[ord - 1];
		if (db_is_null(r, i, 1)) {
			l->done(l->arg, NULL, NULL);
		} else {
			struct db_caller c = { .team = db_get(r, i, 1),
					       .admin = strcmp(db_get(r, i, 2), "t") == 0 };
			l->done(l->arg, &c, NULL);
		}
	}
	for (size_t i = 0; i < f->n; i++) {
		if (!seen[i]) {
			if (err) {
				f->items[i]->done(f->items[i]->arg, NULL, err);
			} else {
				struct db_error e = { 0 };
				cbq_fail(&e.err, CBQ_ERR_INTERNAL, NULL, "caller lookup lost a row");
				f->items[i]->done(f->items[i]->arg, NULL, &e);
			}
		}
		lookup_free(f->items[i]);
	}
	free(seen);
	free(f->items);
	free(f);
	b->n_flights--;
	if (b->freed) {
		if (b->n_flights == 0)
			free(b);
		return;
	}
	send_next(b);
}

static void send_next(struct db_caller_batch *b)
{
	struct db_arr accounts = { 0 }, principals = { 0 };
	struct flight *f;
	struct lookup *l;
	size_t n = 0;

	if (b->n_flights >= DB_CALLER_BATCH_INFLIGHT || TAILQ_EMPTY(&b->queue))
		return;
	f = cbq_xcalloc(1, sizeof(*f));
	f->b = b;
	f->items = cbq_xcalloc(DB_CALLER_BATCH_MAX, sizeof(*f->items));
	while (n < DB_CALLER_BATCH_MAX && (l = TAILQ_FIRST(&b->queue))) {
		TAILQ_REMOVE(&b->queue, l, link);
		f->items[n++] = l;
		db_arr_add_str(&accounts, l->account_id);
		db_arr_add_str(&principals, l->principal);
	}
	f->n = n;
	db_arr_end(&accounts);
	db_arr_end(&principals);
	b->n_flights++;
	db_query_prepared(b->db, "cbq_callers", callers_sql, 2,
			  (const char *const[]){ accounts.p, principals.p }, NULL, answered, f);
	free(accounts.p);
	free(principals.p);
}

struct db_caller_batch *db_caller_batch_new(struct db *db)
{
	struct db_caller_batch *b = cbq_xcalloc(1, sizeof(*b));

	b->db = db;
	TAILQ_INIT(&b->queue);
	return b;
}

void db_caller_batch_add(struct db_caller_batch *b, const char *account_id,
			 const char *principal, db_caller_fn *done, void *arg)
{
	struct lookup *l = cbq_xcalloc(1, sizeof(*l));

	snprintf(l->account_id, sizeof(l->account_id), "%s", account_id);
	l->principal = cbq_xstrdup(principal ? principal : "");
	l->done = done;
	l->arg = arg;
	TAILQ_INSERT_TAIL(&b->queue, l, link);
	send_next(b);
}

void db_caller_batch_free(struct db_caller_batch *b)
{
	struct lookup *l;
	struct db_error e = { 0 };

	if (!b)
		return;
	cbq_fail(&e.err, CBQ_ERR_UNAVAILABLE, NULL, "cbqd is stopping");
	while ((l = TAILQ_FIRST(&b->queue))) {
		TAILQ_REMOVE(&b->queue, l, link);
		l->done(l->arg, NULL, &e);
		lookup_free(l);
	}
	if (b->n_flights == 0)
		free(b);
	else
		b->freed = true;
}
