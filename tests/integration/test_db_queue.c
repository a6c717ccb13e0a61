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

Test(db_queue, background_queries_leave_room_for_the_rest)
{
	/* three connections, two kept for the rest: one background at a time */
	struct db_config cfg = { .conninfo = h_db_create(), .pool_size = 3, .queue_max = 100 };
	struct db *db;

	cr_assert_eq(DB_FOREGROUND_RESERVE, 2);
	base = event_base_new();
	db = db_open(base, &cfg);
	cr_assert(db);
	db_query_background(db, "SELECT pg_sleep(0.3)", 0, NULL, NULL, on_done, "bg1");
	db_query_background(db, "SELECT pg_sleep(0.3)", 0, NULL, NULL, on_done, "bg2");
	db_query_background(db, "SELECT pg_sleep(0.3)", 0, NULL, NULL, on_done, "bg3");
	db_query(db, "SELECT 1", 0, NULL, NULL, on_done, "api1");
	db_query(db, "SELECT pg_sleep(0.1)", 0, NULL, NULL, on_done, "api2");
	expect = 5;
	event_base_dispatch(base);
	cr_assert_eq(n_order, 5);
	/* the API's queries first, though they came last; the cycle's one by
	 * one, in their own order (FIFO would give bg1 bg2 bg3 api1 api2) */
	cr_expect_str_eq(order[0], "api1");
	cr_expect_str_eq(order[1], "api2");
	cr_expect_str_eq(order[2], "bg1");
	cr_expect_str_eq(order[3], "bg2");
	cr_expect_str_eq(order[4], "bg3");
	db_close(db);
	event_base_free(base);
}

Test(db_queue, a_query_sent_first_goes_ahead_of_those_waiting)
{
	/* one connection, not up yet: all four wait for it */
	struct db_config cfg = { .conninfo = h_db_create(), .pool_size = 1, .queue_max = 100 };
	struct db *db;

	base = event_base_new();
	db = db_open(base, &cfg);
	cr_assert(db);
	db_query(db, "SELECT pg_sleep(0.05)", 0, NULL, NULL, on_done, "outcome1");
	db_query(db, "SELECT 1", 0, NULL, NULL, on_done, "outcome2");
	db_query_background(db, "SELECT 1", 0, NULL, NULL, on_done, "bg");
	db_query_first(db, "SELECT 1", 0, NULL, NULL, on_done, "outbox");
	n_order = 0;
	expect = 4;
	event_base_dispatch(base);
	cr_assert_eq(n_order, 4);
	cr_expect_str_eq(order[0], "outbox");
	cr_expect_str_eq(order[1], "outcome1");
	cr_expect_str_eq(order[2], "outcome2");
	cr_expect_str_eq(order[3], "bg");
	db_close(db);
	event_base_free(base);
}
