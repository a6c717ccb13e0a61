/*
 * Leader election between cbqd processes on one database: one leader, the
 * others standing by; the leader's death, its SIGTERM, or the loss of its
 * Postgres session hands the lock to another within seconds. Observed
 * through each cbqd's log (leader_acquired / leader_standby / leader_lost).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define TAKEOVER_MS 8000

static void fini(void)
{
	h_cleanup();
}

TestSuite(leader, .fini = fini, .timeout = 120);

static int count_in_log(const struct h_cbqd *d, const char *event)
{
	char *log = h_file_tail(d->log_path, 1 << 20);
	char needle[64];
	int n = 0;

	snprintf(needle, sizeof(needle), "event=%s ", event);
	for (const char *p = log; (p = strstr(p, needle)); p++)
		n++;
	free(log);
	return n;
}

/* Waits until d's log has more than `seen` lines of event. */
static void wait_event(const struct h_cbqd *d, const char *event, int seen)
{
	for (int waited = 0; count_in_log(d, event) <= seen; waited += 50) {
		if (waited >= TAKEOVER_MS) {
			char *tail = h_file_tail(d->log_path, 4096);
			cr_assert_fail("no %s from cbqd on %s within %d ms; log:\n%s", event,
				       d->url, TAKEOVER_MS, tail);
		}
		struct timespec ts = { 0, 50 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

Test(leader, one_leads_and_another_takes_over_when_it_dies)
{
	const char *db = h_db_create();
	struct h_cbqd *a = h_cbqd_start(db, NULL);

	wait_event(a, "leader_acquired", 0);
	struct h_cbqd *b = h_cbqd_start(db, NULL);
	wait_event(b, "leader_standby", 0);
	cr_assert_eq(count_in_log(b, "leader_acquired"), 0, "two leaders");

	h_cbqd_stop(a, SIGKILL);
	wait_event(b, "leader_acquired", 0);
}

Test(leader, sigterm_hands_leadership_over_at_once)
{
	const char *db = h_db_create();
	struct h_cbqd *a = h_cbqd_start(db, NULL);

	wait_event(a, "leader_acquired", 0);
	struct h_cbqd *b = h_cbqd_start(db, NULL);
	wait_event(b, "leader_standby", 0);
	kill(a->pid, SIGTERM);
	wait_event(b, "leader_acquired", 0);
	h_cbqd_stop(a, SIGTERM);
}

Test(leader, losing_the_session_loses_leadership)
{
	const char *db = h_db_create();
	struct h_cbqd *a = h_cbqd_start(db, NULL);

	wait_event(a, "leader_acquired", 0);
	/* end the session that holds the lock, as a Postgres restart would */
	char *n = h_sql_value(db, "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
				  "WHERE locktype = 'advisory' AND granted "
				  "AND ((classid::bigint << 32) | objid::bigint) = 7164293180002 "
				  /* tests run in parallel: only this test's database */
				  "AND database = (SELECT oid FROM pg_database "
				  "WHERE datname = current_database())");
	cr_assert_str_eq(n, "1");
	free(n);
	wait_event(a, "leader_lost", 0);
	wait_event(a, "leader_acquired", 1);
}

static long submit(const struct h_cbqd *d)
{
	return h_submit(d, "111111111111", "--kind", "training", "--instance-type", "p5.48xlarge",
			"--count", "1", "--duration", "1h", "--image-id", "ami-0123456789abcdef0",
			NULL);
}

/* A submit wakes the leader: a standby's through NOTIFY cbq_jobs, the
 * leader's own without one (a NOTIFY serialises COMMITs; 0014). The
 * leader's debug log names each notification it gets. */
Test(leader, a_standbys_submit_notifies_the_leader_and_the_leaders_own_does_not)
{
	static const char *const debug[] = { "--log-level", "debug", NULL };
	const char *db = h_db_create();
	char sql[128];

	h_seed_teams(db);
	struct h_cbqd *a = h_cbqd_start(db, debug);
	wait_event(a, "leader_acquired", 0);
	struct h_cbqd *b = h_cbqd_start(db, NULL);
	wait_event(b, "leader_standby", 0);

	int heard = count_in_log(a, "notified");
	long own = submit(a);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_verdicts WHERE job_id = %ld", own);
	h_sql_wait(db, sql, "1", TAKEOVER_MS); /* planned */
	cr_assert_eq(count_in_log(a, "notified"), heard, "the leader's own submit notified");

	long other = submit(b);
	wait_event(a, "notified", heard);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_verdicts WHERE job_id = %ld", other);
	h_sql_wait(db, sql, "1", TAKEOVER_MS);
}
