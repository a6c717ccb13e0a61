/*
 * cbqd with inventory_source = ec2 against cbq-awssim (data/inventory.json):
 * the leader mirrors the owner's Capacity Blocks into Postgres as the
 * owner's read role — state, counts, times, per-account usage and the
 * consumers of each block's RAM share, with OU and organisation principals
 * expanded to the registered accounts in them; an extension moves end_at;
 * capacity taken outside cbq lowers available and makes a job that needed
 * it wait saying so. Each test has its own emulator and database.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awspeer.h"
#include "harness.h"

#define EPOCH "2026-11-23T10:00:00Z"
#define ACTIVE "cr-0b00000000000001"
#define LATER "cr-0b00000000000002"
#define ORG "cr-0b00000000000003"
#define ROLE "arn:aws:iam::777700000000:role/cbq-inventory"
#define WAIT_MS 20000

/* A simulated minute per real second: signatures stay fresh for 15 s. */
#define FACTOR "60"

static struct h_proc *sim;
static char clock_arg[128];

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void fini(void)
{
	h_cleanup();
}

TestSuite(inventory, .fini = fini, .timeout = 60);

/* The emulator, the AWS settings cbqd inherits, a database with the usual
 * teams (111111111111, 333333333333: alpha; 222222222222: beta) and no
 * blocks, and cbqd syncing from EC2 every 5 s. */
static struct h_cbqd *broker(const char **db_out)
{
	const char *args[] = { "--clock",
			       clock_arg,
			       "--inventory-source",
			       "ec2",
			       "--inventory-roles",
			       ROLE,
			       "--inventory-external-id",
			       "inv-ext-1",
			       "--inventory-interval-s",
			       "5",
			       NULL };

	snprintf(clock_arg, sizeof(clock_arg), "scaled:" FACTOR ",epoch=" EPOCH ",origin=%lld",
		 (long long)time(NULL));
	sim = h_awssim_start(h_test_file("integration/data/inventory.json"), clock_arg);
	setenv("AWS_ENDPOINT_URL", sim->url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER777", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fleetBrokerSecretForTestsOnly00000000000", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	const char *db = h_db_create();
	h_seed_teams(db);
	*db_out = db;
	return h_cbqd_start(db, args);
}

/* Polls until SQL on db returns want. */
static void wait_value(const struct h_cbqd *d, const char *sql, const char *want)
{
	char *v = NULL;

	for (int waited = 0; waited < WAIT_MS; waited += 200) {
		free(v);
		v = h_sql_value(d->conninfo, sql);
		if (v && strcmp(v, want) == 0) {
			free(v);
			return;
		}
		sleep_ms(200);
	}
	char *log = h_file_tail(d->log_path, 4000);
	cr_assert_fail("%s: got \"%s\", want \"%s\"\ncbqd log:\n%s", sql, v ? v : "(null)", want,
		       log);
}

static void consumers_are(const struct h_cbqd *d, const char *block, const char *want)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT COALESCE(string_agg(account_id, ',' ORDER BY account_id), '')"
		 " FROM block_consumers WHERE block_id = '%s'",
		 block);
	wait_value(d, sql, want);
}

static void sim_post(const char *path, const char *body)
{
	char url[160];
	long status;

	snprintf(url, sizeof(url), "%s%s", sim->url, path);
	json_decref(h_json("POST", url, body, &status));
	cr_assert_eq(status, 200, "POST %s %s: HTTP %ld", path, body, status);
}

Test(inventory, blocks_consumers_and_usage_come_from_ec2)
{
	const char *db;
	struct h_cbqd *d = broker(&db);

	wait_value(d,
		   "SELECT string_agg(id || ' ' || state || ' ' || total || ' ' || available"
		   " || ' ' || source || ' ' || region, ',' ORDER BY id) FROM blocks",
		   ACTIVE " active 4 3 ec2 us-east-1," LATER " scheduled 2 0 ec2 us-east-1," ORG
			  " active 2 2 ec2 us-east-1");
	wait_value(d,
		   "SELECT start_at = '2026-11-24T11:30:00Z' AND end_at = '2026-11-25T11:30:00Z'"
		   " AND instance_type = 'p5.48xlarge' AND az = 'us-east-1b'"
		   " AND owner_account_id = '777700000000' FROM blocks WHERE id = '" LATER "'",
		   "t");
	/* an account; an OU with a nested OU; the organisation — registered accounts only */
	consumers_are(d, ACTIVE, "111111111111");
	consumers_are(d, LATER, "222222222222,333333333333");
	consumers_are(d, ORG, "111111111111,222222222222,333333333333");
	wait_value(d,
		   "SELECT string_agg(account_id || '=' || used, ',') FROM block_usage"
		   " WHERE block_id = '" ACTIVE "'",
		   "555555555555=1");
	/* what a team sees: the blocks its accounts may use */
	char *out = NULL;
	cr_assert_eq(h_cbq(d, "222222222222", &out, "blocks", NULL), 0, "%s", out);
	cr_expect(strstr(out, LATER) && strstr(out, ORG) && !strstr(out, ACTIVE), "%s", out);
	free(out);
}

static long submit(const struct h_cbqd *d, const char *count, const char *duration)
{
	return h_submit(d, "111111111111", "--kind", "training", "--instance-type", "p5.48xlarge",
			"--count", count, "--duration", duration, "--image-id",
			"ami-0123456789abcdef0", NULL);
}

Test(inventory, an_extension_moves_the_blocks_end_keeps_jobs_running_and_fits_longer_ones)
{
	const char *db;
	struct h_cbqd *d = broker(&db);
	char sql[256];

	wait_value(d, "SELECT end_at = '2026-11-24T11:30:00Z' FROM blocks WHERE id = '" ACTIVE "'",
		   "t");
	long running = submit(d, "1", "10h");
	/* 30 hours do not fit before the block's cutoff (tomorrow 11:00) */
	long longer = submit(d, "1", "30h");
	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", running);
	wait_value(d, sql, "running");
	snprintf(sql, sizeof(sql),
		 "SELECT reason LIKE 'ExceedsBlockLifetime%%' FROM v_job_history WHERE job_id = %ld",
		 longer);
	wait_value(d, sql, "t");

	sim_post("/_sim/extend", "{\"block\": \"" ACTIVE "\", \"end\": \"2026-11-25T11:30:00Z\"}");
	wait_value(d, "SELECT end_at = '2026-11-25T11:30:00Z' FROM blocks WHERE id = '" ACTIVE "'",
		   "t");
	char *log = h_file_tail(d->log_path, 1 << 20);
	cr_expect(strstr(log, "extended from"), "no extension event in the log");
	free(log);
	/* the longer job fits now; the running one was never touched */
	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", longer);
	wait_value(d, sql, "running");
	snprintf(sql, sizeof(sql),
		 "SELECT state || ' ' || attempt || ' ' || (SELECT count(*) FROM job_events"
		 " WHERE job_id = %ld) FROM jobs WHERE id = %ld",
		 running, running);
	char *v = h_sql_value(db, sql);
	cr_assert_str_eq(v, "running 1 3", "submitted, launching, running: nothing else");
	free(v);
}

/* The scheduler takes outside instances to stay, so a job waits for
 * capacity (not "no eligible block") when cbq's own job will free it. */
Test(inventory, capacity_taken_outside_cbq_makes_a_job_wait_saying_so)
{
	const char *db;
	struct h_cbqd *d = broker(&db);
	char sql[320];

	/* 4 slots: 1 outside from the start, then one of cbq's own */
	wait_value(d, "SELECT available FROM blocks WHERE id = '" ACTIVE "'", "3");
	long first = submit(d, "1", "10h");
	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", first);
	wait_value(d, sql, "running");
	wait_value(d, "SELECT available FROM blocks WHERE id = '" ACTIVE "'", "2");

	sim_post("/_sim/steal",
		 "{\"account\": \"555555555555\", \"block\": \"" ACTIVE "\", \"count\": 1}");
	wait_value(d, "SELECT available FROM blocks WHERE id = '" ACTIVE "'", "1");
	wait_value(d,
		   "SELECT used FROM block_usage WHERE block_id = '" ACTIVE "'"
		   " AND account_id = '555555555555'",
		   "2");

	long id = submit(d, "2", "1h");
	snprintf(sql, sizeof(sql),
		 "SELECT CASE WHEN reason LIKE 'WaitingForCapacity%%" ACTIVE
		 "%%2 used outside cbq%%' AND state = 'queued' THEN 't'"
		 " ELSE state || ': ' || reason END FROM v_job_history WHERE job_id = %ld",
		 id);
	wait_value(d, sql, "t");
}

Test(inventory, ec2_without_roles_refuses_to_start)
{
	const char *db = h_db_create();
	const char *args[] = { "--inventory-source", "ec2", NULL };
	char *log = NULL;

	cr_assert_eq(h_cbqd_expect_exit(db, args, 5000, &log), 2, "%s", log);
	cr_expect(strstr(log, "inventory_roles"), "%s", log);
	free(log);
	const char *bad[] = { "--inventory-roles", "arn:aws:iam::7777:role/x", NULL };
	cr_assert_eq(h_cbqd_expect_exit(db, bad, 5000, &log), 2, "%s", log);
	cr_expect(strstr(log, "inventory_roles"), "%s", log);
	free(log);
}
