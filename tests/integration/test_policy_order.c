/*
 * Jobs from three teams on one shared block, in policy order: when the
 * block starts by day, training goes first; by night, inference — whatever
 * the order they were submitted in — and each runs in its own team's
 * account on that block (checked through cbq-awssim's /_sim/state). The
 * blocks come from EC2 (inventory_source = ec2), on a scaled clock.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "awspeer.h"
#include "harness.h"

#define BLOCK "cr-0c00000000000001"
#define WAIT_MS 30000

static struct h_proc *sim;
static char clock_arg[128];

static void fini(void)
{
	h_cleanup();
}

TestSuite(policy_order, .fini = fini, .timeout = 120);

/* cbq-awssim at epoch (a minute of it per real 0.1 s), and cbqd reading its blocks. */
static struct h_cbqd *start(const char *scenario, const char *epoch, const char **db_out)
{
	const char *db = h_db_create();
	const char *args[] = { "--clock", clock_arg, "--inventory-source", "ec2",
			       "--inventory-roles", "arn:aws:iam::999988887777:role/cbq-inventory",
			       "--inventory-interval-s", "60", NULL };

	snprintf(clock_arg, sizeof(clock_arg), "scaled:600,epoch=%s,origin=%lld", epoch,
		 (long long)time(NULL));
	sim = h_awssim_start(h_test_file(scenario), clock_arg);
	setenv("AWS_ENDPOINT_URL", sim->url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER777", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fleetBrokerSecretForTestsOnly00000000000", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	h_seed_teams(db);
	h_sql(db, "INSERT INTO teams (name) VALUES ('gamma');"
		  "INSERT INTO accounts (account_id, team, role_arn) VALUES"
		  " ('444444444444', 'gamma', 'arn:aws:iam::444444444444:role/cbq-launcher');");
	*db_out = db;
	return h_cbqd_start(db, args);
}

static long submit(const struct h_cbqd *d, const char *account, const char *kind)
{
	return h_submit(d, account, "--kind", kind, "--instance-type", "p5.48xlarge", "--count", "2",
			"--duration", "1h", "--image-id", "ami-0123456789abcdef0", NULL);
}

/* The job whose instances AWS saw first, checking each instance is in its
 * job's account on the block. */
static long first_launched(const char *db)
{
	json_t *st = h_awssim_state(sim), *inst;
	size_t i;
	long first = 0;
	const char *first_at = NULL;

	json_array_foreach(json_object_get(st, "instances"), i, inst)
	{
		const char *token = json_string_value(json_object_get(inst, "client_token"));
		const char *at = json_string_value(json_object_get(inst, "launch_time"));
		long job;
		char sql[128];
		if (!token || sscanf(token, "cbq-%ld-", &job) != 1)
			continue;
		snprintf(sql, sizeof(sql), "SELECT account_id FROM jobs WHERE id = %ld", job);
		char *account = h_sql_value(db, sql);
		cr_assert_str_eq(json_string_value(json_object_get(inst, "account")), account,
				 "job %ld's instance is in its own account", job);
		cr_assert_str_eq(json_string_value(json_object_get(inst, "block")), BLOCK);
		free(account);
		if (!first_at || (at && strcmp(at, first_at) < 0)) {
			first_at = at;
			first = job;
		}
	}
	cr_assert(first, "nothing launched");
	long result = first;
	json_decref(st);
	return result;
}

Test(policy_order, by_day_training_goes_first)
{
	const char *db;
	struct h_cbqd *d = start("integration/data/policy_day.json", "2026-11-23T09:00:00Z", &db);
	submit(d, "222222222222", "inference");
	submit(d, "444444444444", "research");
	long training = submit(d, "111111111111", "training");

	/* all three wait: the block starts at 10:00, six real seconds after 09:00 */
	h_sql_wait(db, "SELECT count(*) FROM jobs WHERE state = 'queued'", "3", 1000);
	h_sql_wait(db, "SELECT count(*) > 0 FROM jobs WHERE state = 'running'", "t", WAIT_MS);
	cr_assert_eq(first_launched(db), training, "by day the training job launches first");
}

Test(policy_order, by_night_inference_goes_first)
{
	const char *db;
	struct h_cbqd *d =
		start("integration/data/policy_night.json", "2026-11-23T21:00:00Z", &db);
	submit(d, "111111111111", "training");
	submit(d, "444444444444", "research");
	long inference = submit(d, "222222222222", "inference");

	h_sql_wait(db, "SELECT count(*) FROM jobs WHERE state = 'queued'", "3", 1000);
	h_sql_wait(db, "SELECT count(*) > 0 FROM jobs WHERE state = 'running'", "t", WAIT_MS);
	cr_assert_eq(first_launched(db), inference, "by night the inference job launches first");
}
