/*
 * The Postgres pool's lines (broker/db/db.h) against a real Postgres:
 * background queries (the scheduling cycle's) wait behind every other query
 * and never hold more than pool_size - DB_FOREGROUND_RESERVE connections, so
 * an API query never waits for a cycle to give a connection back; a query
 * sent first (the launcher's outbox read) goes ahead of all that wait.
 */
#include <criterion/criterion.h>
#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "harness.h"

static struct event_base *base;
static const char *order[8];
static int n_order, expect;

static void fini(void)
{
	h_cleanup();
}

TestSuite(db_queue, .fini = fini, .timeout = 60);

static void on_done(void *arg, const struct db_result *res, const struct db_error *err)
{
	(void)res;
	cr_assert(!err, "%s: %s", (const char *)arg, err ? err->err.msg : "");
	order[n_order++] = arg;
	if (n_order == expect)
		event_base_loopbreak(base);
}

/* A pool of pool_size connections on a fresh database, not connected yet. */
static struct db *open_pool(int pool_size)
{
	struct db_config cfg = { .conninfo = h_db_create(),
				 .pool_size = pool_size,
				 .queue_max = 100 };
	struct db *db;

	base = event_base_new();
	db = db_open(base, &cfg);
	cr_assert(db);
	n_order = 0;
	return db;
}

/* Runs the loop until the n queries sent have answered, checks they did in
 * the order want names, and closes the pool. */
static void expect_order(struct db *db, const char *const *want, int n)
{
	expect = n;
	event_base_dispatch(base);
	cr_assert_eq(n_order, n);
	for (int i = 0; i < n; i++)
		cr_expect_str_eq(order[i], want[i], "answer %d", i + 1);
	db_close(db);
	event_base_free(base);
}

Test(db_queue, background_queries_leave_room_for_the_rest)
{
	/* three connections, two kept for the rest: one background at a time */
	struct db *db = open_pool(3);

	cr_assert_eq(DB_FOREGROUND_RESERVE, 2);
	db_query_background(db, "SELECT pg_sleep(0.3)", 0, NULL, NULL, on_done, "bg1");
	db_query_background(db, "SELECT pg_sleep(0.3)", 0, NULL, NULL, on_done, "bg2");
	db_query_background(db, "SELECT pg_sleep(0.3)", 0, NULL, NULL, on_done, "bg3");
	db_query(db, "SELECT 1", 0, NULL, NULL, on_done, "api1");
	db_query(db, "SELECT pg_sleep(0.1)", 0, NULL, NULL, on_done, "api2");
	/* the API's queries first, though they came last; the cycle's one by
	 * one, in their own order (FIFO would give bg1 bg2 bg3 api1 api2) */
	expect_order(db, (const char *const[]){ "api1", "api2", "bg1", "bg2", "bg3" }, 5);
}

Test(db_queue, a_query_sent_first_goes_ahead_of_those_waiting)
{
	/* one connection, not up yet: all four wait for it */
	struct db *db = open_pool(1);

	db_query(db, "SELECT pg_sleep(0.05)", 0, NULL, NULL, on_done, "outcome1");
	db_query(db, "SELECT 1", 0, NULL, NULL, on_done, "outcome2");
	db_query_background(db, "SELECT 1", 0, NULL, NULL, on_done, "bg");
	db_query_first(db, "SELECT 1", 0, NULL, NULL, on_done, "outbox");
	expect_order(db, (const char *const[]){ "outbox", "outcome1", "outcome2", "bg" }, 4);
}
