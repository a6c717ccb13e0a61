/*
 * The leader's scheduling cycle through the real binaries: jobs submitted
 * with cbq get a reason with numbers and an ETA that `cbq show` reports,
 * from the blocks in Postgres and the policy tables, and a change in psql
 * reaches the plan within seconds.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define WAIT_MS 10000

static void fini(void)
{
	h_cleanup();
}

TestSuite(sched_cycle, .fini = fini, .timeout = 120);

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Polls the job's reason until it starts with prefix; returns it (malloc'd). */
static char *wait_reason(const char *db, long id, const char *prefix)
{
	char sql[128];
	char *r = NULL;

	snprintf(sql, sizeof(sql), "SELECT reason FROM v_job_history WHERE job_id = %ld", id);
	for (int waited = 0; waited < WAIT_MS; waited += 100) {
		free(r);
		r = h_sql_value(db, sql);
		if (r && strncmp(r, prefix, strlen(prefix)) == 0)
			return r;
		sleep_ms(100);
	}
	cr_assert_fail("job %ld: reason \"%s\" never started with \"%s\"", id, r ? r : "", prefix);
	return NULL;
}

static long submit(const struct h_cbqd *d, const char *account, const char *kind, const char *type,
		   const char *count, const char *duration)
{
	return h_submit(d, account, "--kind", kind, "--instance-type", type, "--count", count,
			"--duration", duration, "--image-id", "ami-0123456789abcdef0", NULL);
}

/* A block that started an hour ago and ends in `hours`, shared with both teams. */
static void add_block(const char *db, const char *id, const char *type, int count, int hours)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
		 "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
		 " available, state, start_at, end_at) VALUES ('%s', '999988887777', 'us-east-1',"
		 " 'us-east-1a', '%s', %d, %d, 'active', now() - interval '1 hour',"
		 " now() + interval '%d hours');"
		 "INSERT INTO block_consumers VALUES ('%s', '111111111111'), ('%s', '222222222222');",
		 id, type, count, count, hours, id, id);
	h_sql(db, sql);
}

/* cbqd over the seeded teams and one 4-instance p5 block for 8 hours,
 * with positions by submission order: no time-of-day boost (the seeded
 * windows would put an inference job ahead from 20:00 UTC). */
static struct h_cbqd *start_with_one_block(const char *db)
{
	h_seed_teams(db);
	h_sql(db, "DELETE FROM policy_windows");
	add_block(db, "cr-0a00000000000001", "p5.48xlarge", 4, 8);
	return h_cbqd_start(db, NULL);
}

Test(sched_cycle, queued_jobs_get_reasons_with_numbers)
{
	const char *db = h_db_create();

	struct h_cbqd *d = start_with_one_block(db);

	long fits = submit(d, "111111111111", "training", "p5.48xlarge", "4", "2h");
	long behind = submit(d, "222222222222", "training", "p5.48xlarge", "2", "1h");
	long too_long = submit(d, "222222222222", "training", "p5.48xlarge", "1", "12h");
	long no_block = submit(d, "111111111111", "inference", "g6.12xlarge", "1", "1h");
	long not_shared = submit(d, "333333333333", "training", "p5.48xlarge", "1", "1h");

	free(wait_reason(db, fits, "NoLauncher (would launch 4 on cr-0a00000000000001"));
	/* the block is free now, but all of it goes to the job ahead */
	char *r = wait_reason(db, behind,
			      "BehindHigherPriority (position 2; room on cr-0a00000000000001");
	free(r);
	char sql[128];
	snprintf(sql, sizeof(sql),
		 "SELECT cbq_ms(eta) - cbq_ms(now()) BETWEEN 6000000 AND 7300000"
		 " FROM job_verdicts WHERE job_id = %ld",
		 behind);
	char *eta = h_sql_value(db, sql);
	cr_assert_str_eq(eta, "t", "it starts when the 2h job ahead ends");
	free(eta);
	r = wait_reason(db, too_long, "ExceedsBlockLifetime");
	cr_assert(strstr(r, "needs 12h"), "%s", r);
	free(r);
	free(wait_reason(db, no_block, "NoEligibleBlock"));
	free(wait_reason(db, not_shared, "NoEligibleBlock"));

	/* the team sees it through the client */
	char *out = NULL;
	cr_assert_eq(h_cbq(d, "222222222222", &out, "show", "3", NULL), 0);
	cr_assert(strstr(out, "ExceedsBlockLifetime"), "%s", out);
	free(out);
}

Test(sched_cycle, a_change_in_psql_reaches_the_plan)
{
	const char *db = h_db_create();

	h_seed_teams(db);
	struct h_cbqd *d = h_cbqd_start(db, NULL);
	long id = submit(d, "111111111111", "training", "p5.48xlarge", "2", "1h");

	free(wait_reason(db, id, "NoEligibleBlock"));
	add_block(db, "cr-0a00000000000002", "p5.48xlarge", 4, 8);
	free(wait_reason(db, id, "NoLauncher (would launch 2 on cr-0a00000000000002"));
}

/* Whose turn it is on a two-instance block both jobs need whole: the one
 * the plan would launch. */
static char *first_in_line(const char *db)
{
	return h_sql_value(db, "SELECT kind FROM v_queue WHERE state = 'queued'"
			       " AND reason LIKE 'NoLauncher%'");
}

static void wait_first(const char *db, const char *kind, int within_ms)
{
	char *k = NULL;

	for (int waited = 0; waited <= within_ms; waited += 50) {
		free(k);
		k = first_in_line(db);
		if (k && strcmp(k, kind) == 0) {
			free(k);
			return;
		}
		sleep_ms(50);
	}
	cr_assert_fail("%s did not go first within %d ms (first: %s)", kind, within_ms,
		       k ? k : "none");
}

Test(sched_cycle, a_policy_row_changed_in_psql_reorders_the_queue_within_a_second)
{
	const char *db = h_db_create();

	h_seed_teams(db);
	add_block(db, "cr-0a00000000000003", "p5.48xlarge", 2, 48);
	h_sql(db, "DELETE FROM policy_windows;"
		  "INSERT INTO policy_windows (kind, days, start_local, end_local, boost)"
		  " VALUES ('training', '{1,2,3,4,5,6,7}', '00:00', '00:00', 500)");
	struct h_cbqd *d = h_cbqd_start(db, NULL);
	submit(d, "111111111111", "training", "p5.48xlarge", "2", "1h");
	submit(d, "222222222222", "inference", "p5.48xlarge", "2", "1h");
	wait_first(db, "training", WAIT_MS);

	/* the platform team turns the night on: inference is favoured now */
	h_sql(db, "UPDATE policy_windows SET kind = 'inference'");
	wait_first(db, "inference", 1000);
	h_sql(db, "UPDATE policy_windows SET kind = 'training'");
	wait_first(db, "training", 1000);
}

Test(sched_cycle, an_extended_block_moves_the_eta)
{
	const char *db = h_db_create();

	h_seed_teams(db);
	/* the block ends in 3h (cutoff in 2h30m): a 4h job must wait for a later block */
	add_block(db, "cr-0a00000000000004", "p5.48xlarge", 2, 3);
	struct h_cbqd *d = h_cbqd_start(db, NULL);
	long id = submit(d, "111111111111", "training", "p5.48xlarge", "1", "4h");

	free(wait_reason(db, id, "ExceedsBlockLifetime"));
	/* the owner extends it by a day: the job fits now */
	h_sql(db, "UPDATE blocks SET end_at = end_at + interval '1 day'");
	free(wait_reason(db, id, "NoLauncher (would launch 1 on cr-0a00000000000004"));
}

/* The value of field (" written=") in the last sched_cycle line of d's
 * log, -1 without one; with count, how many lines carry field at all. */
static long last_cycle(const struct h_cbqd *d, const char *field, long *count)
{
	FILE *f = fopen(d->log_path, "r");
	char line[2048];
	long n = -1;

	cr_assert(f, "cannot read %s", d->log_path);
	if (count)
		*count = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "event=sched_cycle ");
		if (p && (p = strstr(p, field))) {
			n = strtol(p + strlen(field), NULL, 10);
			if (count)
				++*count;
		}
	}
	fclose(f);
	return n;
}

static long last_written(const struct h_cbqd *d)
{
	return last_cycle(d, " written=", NULL);
}

/* Cycles write only the verdicts that changed: an idle queue's cycle
 * writes none. A job whose row moved since (here by hand, as a transition
 * would: updated_at) gets its verdict again. */
Test(sched_cycle, cycles_write_only_changed_verdicts)
{
	const char *db = h_db_create();
	char sql[160];

	h_seed_teams(db);
	struct h_cbqd *d = h_cbqd_start(db, NULL);
	long a = submit(d, "111111111111", "training", "p5.48xlarge", "2", "1h");
	long b = submit(d, "222222222222", "training", "p5.48xlarge", "1", "1h");

	free(wait_reason(db, a, "NoEligibleBlock"));
	free(wait_reason(db, b, "NoEligibleBlock"));
	/* a cycle with nothing new (one comes at least every 5 s) writes nothing */
	int waited = 0;
	while (last_written(d) != 0 && waited < 3 * WAIT_MS) {
		sleep_ms(200);
		waited += 200;
	}
	cr_assert_eq(last_written(d), 0, "no cycle wrote 0 verdicts within %d ms", 3 * WAIT_MS);
	snprintf(sql, sizeof(sql),
		 "UPDATE job_verdicts SET reason = 'moved' WHERE job_id = %ld;"
		 "UPDATE jobs SET updated_at = updated_at + interval '1 ms' WHERE id = %ld",
		 a, a);
	h_sql(db, sql);
	free(wait_reason(db, a, "NoEligibleBlock"));
}

/* Job id's queuePosition and queueLength as `cbq show -o json` reports them. */
static void expect_position(const struct h_cbqd *d, const char *account, long id, int position,
			    int length)
{
	char idbuf[24], want_pos[48], want_len[48];
	char *out = NULL;

	snprintf(idbuf, sizeof(idbuf), "%ld", id);
	cr_assert_eq(h_cbq(d, account, &out, "-o", "json", "show", idbuf, NULL), 0, "%s", out);
	snprintf(want_pos, sizeof(want_pos), "\"queuePosition\": %d,", position);
	snprintf(want_len, sizeof(want_len), "\"queueLength\": %d", length);
	cr_assert(strstr(out, want_pos) && strstr(out, want_len),
		  "job %ld: expected position %d of %d:\n%s", id, position, length, out);
	free(out);
}

/* Verdicts live in job_verdicts while their job is queued (0013): the API's
 * positions rank them by ETA (none last, then by id) as v_queue does, and a
 * job that leaves the queue takes its verdict with it. */
Test(sched_cycle, queue_positions_follow_verdicts_and_leave_with_the_job)
{
	const char *db = h_db_create();
	char sql[256];

	struct h_cbqd *d = start_with_one_block(db);
	long no_block = submit(d, "111111111111", "inference", "g6.12xlarge", "1", "1h");
	long too_long = submit(d, "222222222222", "training", "p5.48xlarge", "1", "12h");
	long fits = submit(d, "111111111111", "training", "p5.48xlarge", "4", "2h");
	long behind = submit(d, "222222222222", "training", "p5.48xlarge", "2", "1h");

	free(wait_reason(db, fits, "NoLauncher (would launch 4 on cr-0a00000000000001"));
	free(wait_reason(db, behind, "BehindHigherPriority"));
	free(wait_reason(db, too_long, "ExceedsBlockLifetime"));
	free(wait_reason(db, no_block, "NoEligibleBlock"));
	/* now, in 2 h, then the two without an ETA by id */
	expect_position(d, "111111111111", fits, 1, 4);
	expect_position(d, "222222222222", behind, 2, 4);
	expect_position(d, "111111111111", no_block, 3, 4);
	expect_position(d, "222222222222", too_long, 4, 4);
	char *agg = h_sql_value(db, "SELECT string_agg(job_id::text, ' ' ORDER BY position)"
				    " FROM v_queue");
	snprintf(sql, sizeof(sql), "%ld %ld %ld %ld", fits, behind, no_block, too_long);
	cr_assert_str_eq(agg, sql, "v_queue's positions differ from the API's");
	free(agg);

	char idbuf[24], *out = NULL;
	snprintf(idbuf, sizeof(idbuf), "%ld", no_block);
	cr_assert_eq(h_cbq(d, "111111111111", &out, "cancel", idbuf, NULL), 0, "%s", out);
	free(out);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_verdicts WHERE job_id = %ld",
		 no_block);
	char *n = h_sql_value(db, sql);
	cr_assert_str_eq(n, "0", "the cancelled job kept its verdict");
	free(n);
	expect_position(d, "222222222222", too_long, 3, 3);
	n = h_sql_value(db, "SELECT count(*) FROM job_verdicts v JOIN jobs j ON j.id = v.job_id"
			    " WHERE j.state <> 'queued'");
	cr_assert_str_eq(n, "0", "verdicts of jobs that are not queued");
	free(n);
}

/* Cycles after the first read only the jobs that changed since the last
 * (0015): a change made in psql still reaches the plan, and a job DELETEd
 * in psql, which leaves nothing to read, makes the leader read every
 * queued job again instead of planning the one that is gone. */
Test(sched_cycle, cycles_read_changes_and_notice_a_deleted_job)
{
	const char *db = h_db_create();
	char sql[256];
	long full_reads, full_reads_after;

	struct h_cbqd *d = start_with_one_block(db);
	long whole = submit(d, "111111111111", "training", "p5.48xlarge", "4", "2h");
	long half = submit(d, "222222222222", "training", "p5.48xlarge", "2", "1h");

	free(wait_reason(db, whole, "NoLauncher (would launch 4 on cr-0a00000000000001"));
	free(wait_reason(db, half, "BehindHigherPriority"));
	/* a cycle that read changes only (one comes at least every 5 s) */
	for (int waited = 0; last_cycle(d, " read=changes", NULL) < 0; waited += 200) {
		cr_assert_lt(waited, 3 * WAIT_MS, "no cycle read changes only");
		sleep_ms(200);
	}
	last_cycle(d, " read=all", &full_reads);

	/* the platform team raises the second job by hand: it goes first */
	snprintf(sql, sizeof(sql), "UPDATE jobs SET priority = 1000 WHERE id = %ld", half);
	h_sql(db, sql);
	free(wait_reason(db, half, "NoLauncher (would launch 2 on cr-0a00000000000001"));
	free(wait_reason(db, whole, "BehindHigherPriority"));
	last_cycle(d, " read=all", &full_reads_after);
	cr_assert_eq(full_reads_after, full_reads, "the change came through a read of everything");

	/* and deletes it by hand: the first job has the block to itself again */
	snprintf(sql, sizeof(sql), "DELETE FROM jobs WHERE id = %ld", half);
	h_sql(db, sql);
	free(wait_reason(db, whole, "NoLauncher (would launch 4 on cr-0a00000000000001"));
	last_cycle(d, " read=all", &full_reads_after);
	cr_assert_gt(full_reads_after, full_reads, "no read of everything after the DELETE");
}

/* More new verdicts than one statement takes (DB_VERDICTS_CHUNK): the
 * cycle writes them chunk after chunk and counts every one. The jobs are
 * INSERTed in psql, so the periodic cycle (within 5 s) plans them. */
Test(sched_cycle, a_cycle_writes_more_verdicts_than_one_statement_takes)
{
	const char *db = h_db_create();

	h_seed_teams(db);
	struct h_cbqd *d = h_cbqd_start(db, NULL);
	h_sql(db, "INSERT INTO jobs (team, account_id, name, kind, instance_type, instance_count,"
		  " duration_s, image_id, submitted_at, updated_at, submitted_by)"
		  " SELECT 'alpha', '111111111111', 'sweep-' || g, 'training', 'p5.48xlarge', 1,"
		  " 3600, 'ami-0123456789abcdef0', now(), now(), 'psql'"
		  " FROM generate_series(1, 4500) g");
	for (int waited = 0; last_written(d) != 4500; waited += 200) {
		cr_assert_lt(waited, 3 * WAIT_MS,
			     "no cycle wrote the 4,500 verdicts (last wrote %ld)", last_written(d));
		sleep_ms(200);
	}
	cr_assert_eq(last_cycle(d, " changed=", NULL), 4500, "the count of one chunk only");
	char *n = h_sql_value(db, "SELECT count(*) FROM job_verdicts v JOIN jobs j"
				  " ON j.id = v.job_id AND j.state = 'queued'"
				  " WHERE v.reason LIKE 'NoEligibleBlock%'");
	cr_assert_str_eq(n, "4500");
	free(n);
}
