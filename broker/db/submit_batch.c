/*
 * Group commit for submits (see submit_batch.h): a FIFO of submits, at most
 * DB_SUBMIT_BATCH_INFLIGHT statements in flight, each carrying up to
 * batch_max of them through db_job_submit_many. No SQL here, no decisions
 * about the jobs themselves; only which submits share a statement.
 */
#include "db/submit_batch.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "util/log.h"

struct pending {
	TAILQ_ENTRY(pending) link;
	struct db_submit s;
	db_submit_fn *done;
	void *arg;
	size_t bytes;	  /* db_submit_many_bytes */
	uint64_t keyhash; /* of team and idempotency key; 0 = no key */
};
TAILQ_HEAD(pending_list, pending);

struct flight {
	LIST_ENTRY(flight) link;
	struct db_submit_batch *b;
	struct pending **items;
	size_t n;
};
LIST_HEAD(flight_list, flight);

struct db_submit_batch {
	struct db *db;
	size_t batch_max;
	struct pending_list queue;
	struct flight_list flights;
	int n_flights;
	bool fallback_logged; /* said once that a batch fell back to one by one */
};

/* FNV-1a over team, a separator and key: a quick filter before strcmp. */
static uint64_t key_hash(const char *team, const char *key)
{
	static const unsigned char separator = 0xff;
	uint64_t h;

	if (!key || !*key)
		return 0;
	h = cbq_fnv1a_str(CBQ_FNV1A_START, team);
	h = cbq_fnv1a(h, &separator, 1);
	h = cbq_fnv1a_str(h, key);
	return h ? h : 1;
}

static bool same_key(const struct pending *a, const struct pending *b)
{
	return a->keyhash == b->keyhash && strcmp(a->s.team, b->s.team) == 0 &&
	       strcmp(a->s.idempotency_key, b->s.idempotency_key) == 0;
}

/* Is p's key in a statement in flight or among the n already chosen? Then
 * p waits: two submits with one key are stored one after the other. */
static bool key_busy(const struct db_submit_batch *b, const struct pending *p,
		     struct pending *const *chosen, size_t n)
{
	const struct flight *f;

	if (!p->keyhash)
		return false;
	for (size_t i = 0; i < n; i++)
		if (same_key(p, chosen[i]))
			return true;
	LIST_FOREACH (f, &b->flights, link)
		for (size_t i = 0; i < f->n; i++)
			if (same_key(p, f->items[i]))
				return true;
	return false;
}

static void flight_done(void *arg, const struct db_submit_row *rows, size_t n,
			const struct db_error *err);

/* Sends what may go now; never calls back (db_job_submit_many answers from
 * the loop). */
static void kick(struct db_submit_batch *b)
{
	while (b->n_flights < DB_SUBMIT_BATCH_INFLIGHT && !TAILQ_EMPTY(&b->queue)) {
		struct flight *f = cbq_xcalloc(1, sizeof(*f));
		struct pending *p, *next;
		struct db_submit *in;
		size_t bytes = 0;

		f->b = b;
		f->items = cbq_xcalloc(b->batch_max, sizeof(*f->items));
		for (p = TAILQ_FIRST(&b->queue); p && f->n < b->batch_max; p = next) {
			next = TAILQ_NEXT(p, link);
			if (f->n > 0 && bytes + p->bytes > DB_SUBMIT_MANY_BYTES_MAX)
				break;
			if (key_busy(b, p, f->items, f->n))
				continue;
			TAILQ_REMOVE(&b->queue, p, link);
			f->items[f->n++] = p;
			bytes += p->bytes;
		}
		if (f->n == 0) {
			/* everything waiting has a key in flight: its answer kicks again */
			free(f->items);
			free(f);
			return;
		}
		in = cbq_xcalloc(f->n, sizeof(*in));
		for (size_t i = 0; i < f->n; i++)
			in[i] = f->items[i]->s;
		LIST_INSERT_HEAD(&b->flights, f, link);
		b->n_flights++;
		cbq_log(CBQ_LOG_DEBUG, "submit_batch", "submits=%zu bytes=%zu", f->n, bytes);
		db_job_submit_many(b->db, in, f->n, flight_done, f);
		free(in);
	}
}

static void flight_done(void *arg, const struct db_submit_row *rows, size_t n,
			const struct db_error *err)
{
	struct flight *f = arg;
	struct db_submit_batch *b = f->b;

	LIST_REMOVE(f, link);
	b->n_flights--;
	/* what waits keeps its place ahead of what the answers submit */
	kick(b);
	if (err && err->err.code != CBQ_ERR_UNAVAILABLE) {
		/* a constraint the statement did not check for, or a bug in it:
		 * nothing was stored; one by one, so only the offending submit fails */
		if (!b->fallback_logged) {
			cbq_log(CBQ_LOG_WARN, "submit_batch_fallback",
				"submits=%zu sqlstate=%s constraint=%s error=%s", f->n,
				err->sqlstate, err->constraint, cbq_log_q(err->err.msg));
			b->fallback_logged = true;
		}
		for (size_t i = 0; i < f->n; i++) {
			struct pending *p = f->items[i];
			/* the one-by-one statement takes a looked-up team only */
			if (p->s.caller_account)
				p->done(p->arg, DB_SUBMIT_CALLER_STALE, NULL, NULL);
			else
				db_job_submit(b->db, &p->s, p->done, p->arg);
		}
	} else {
		for (size_t i = 0; i < f->n; i++) {
			struct pending *p = f->items[i];

			if (err || i >= n)
				p->done(p->arg, DB_SUBMIT_CREATED, NULL, err);
			else if (rows[i].err)
				p->done(p->arg, DB_SUBMIT_CREATED, NULL, rows[i].err);
			else
				p->done(p->arg, rows[i].outcome, rows[i].job, NULL);
		}
	}
	for (size_t i = 0; i < f->n; i++)
		free(f->items[i]);
	free(f->items);
	free(f);
}

struct db_submit_batch *db_submit_batch_new(struct db *db, int batch_max)
{
	struct db_submit_batch *b = cbq_xcalloc(1, sizeof(*b));

	b->db = db;
	if (batch_max < 1)
		batch_max = 1;
	if (batch_max > DB_SUBMIT_MANY_MAX)
		batch_max = DB_SUBMIT_MANY_MAX;
	b->batch_max = (size_t)batch_max;
	TAILQ_INIT(&b->queue);
	LIST_INIT(&b->flights);
	return b;
}

void db_submit_batch_free(struct db_submit_batch *b)
{
	struct pending *p;

	if (!b)
		return;
	/* both are empty once db_close has answered everything */
	while ((p = TAILQ_FIRST(&b->queue))) {
		TAILQ_REMOVE(&b->queue, p, link);
		free(p);
	}
	if (!LIST_EMPTY(&b->flights))
		cbq_log(CBQ_LOG_WARN, "submit_batch_leak", "flights=%d", b->n_flights);
	free(b);
}

void db_submit_batch_add(struct db_submit_batch *b, const struct db_submit *s, db_submit_fn *done,
			 void *arg)
{
	struct pending *p = cbq_xcalloc(1, sizeof(*p));

	p->s = *s;
	if (!p->s.idempotency_key)
		p->s.idempotency_key = "";
	p->done = done;
	p->arg = arg;
	p->bytes = db_submit_many_bytes(s);
	p->keyhash = key_hash(s->team, p->s.idempotency_key);
	TAILQ_INSERT_TAIL(&b->queue, p, link);
	kick(b);
}
