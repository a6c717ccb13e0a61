/*
 * cbqd running the fleet against cbq-awssim: a submitted job is placed,
 * launched with RunInstances in its own team's account on the block (token
 * cbq-<job>-<attempt>, tags cbq:job and cbq:team) and recorded as running
 * with its instances; a launch that loses the capacity race to an outside
 * account goes back to the queue saying so; an account whose role does not
 * trust the broker fails with the role named.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <signal.h>

#include "awspeer.h"
#include "harness.h"

#define EPOCH "2026-11-23T10:00:00Z"
#define BLOCK "cr-0a00000000000001"
#define SHORT "cr-0b00000000000002"
#define WAIT_MS 20000

static struct h_proc *sim;
static char clock_arg[128];

/* A simulated minute per real tenth of a second: a one-hour job runs for
 * six seconds, and a signature stays fresh (15 simulated minutes) for 1.5 s. */
#define FACTOR "600"

static void start(void)
{
	char url[128];

	snprintf(clock_arg, sizeof(clock_arg), "scaled:" FACTOR ",epoch=" EPOCH ",origin=%lld",
		 (long long)time(NULL));
	sim = h_awssim_start(h_test_file("integration/data/fleet.json"), clock_arg);
	/* cbqd's children inherit these (harness.h: the test's environment) */
	snprintf(url, sizeof(url), "%s", sim->url);
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER777", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fleetBrokerSecretForTestsOnly00000000000", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void fini(void)
{
	h_cleanup();
}

TestSuite(fleet, .init = start, .fini = fini, .timeout = 120);

/* The database with the scenario's block (the static inventory) and teams. */
static struct h_cbqd *broker(const char **db_out)
{
	const char *db = h_db_create();
	const char *args[] = { "--clock", clock_arg, NULL };

	h_seed_teams(db);
	h_sql(db, "INSERT INTO accounts (account_id, team, role_arn) VALUES"
		  " ('444444444444', 'beta', 'arn:aws:iam::444444444444:role/cbq-launcher');"
		  "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
		  " available, state, start_at, end_at) VALUES ('" BLOCK "', '999988887777',"
		  " 'us-east-1', 'us-east-1a', 'p5.48xlarge', 4, 4, 'active',"
		  " '2026-11-23T09:00:00Z', '2026-11-24T10:00:00Z');"
		  "INSERT INTO block_consumers VALUES ('" BLOCK "', '111111111111'),"
		  " ('" BLOCK "', '222222222222'), ('" BLOCK "', '333333333333'),"
		  " ('" BLOCK "', '444444444444');"
		  /* a short block of another type: it ends at 12:00, its cutoff is 11:30 */
		  "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
		  " available, state, start_at, end_at) VALUES ('" SHORT "', '999988887777',"
		  " 'us-east-1', 'us-east-1a', 'p4d.24xlarge', 2, 2, 'active',"
		  " '2026-11-23T09:00:00Z', '2026-11-23T12:00:00Z');"
		  "INSERT INTO block_consumers VALUES ('" SHORT "', '111111111111'),"
		  " ('" SHORT "', '222222222222');");
	*db_out = db;
	return h_cbqd_start(db, args);
}

static long submit_for(const struct h_cbqd *d, const char *account, const char *count,
		       const char *duration)
{
	return h_submit(d, account, "--kind", "training", "--instance-type", "p5.48xlarge",
			"--count", count, "--duration", duration, "--image-id",
			"ami-0123456789abcdef0", "--tag", "project=fleet", "--user-data",
			H_USER_DATA_SECRET, NULL);
}

static long submit(const struct h_cbqd *d, const char *account, const char *count)
{
	return submit_for(d, account, count, "10h");
}

static bool has_tag(json_t *inst, const char *key, const char *value)
{
	json_t *tags = json_object_get(inst, "tags"), *t;
	const char *k;
	size_t i;

	if (json_is_object(tags)) {
		json_object_foreach(tags, k,
				    t) if (strcmp(k, key) == 0 &&
					   strcmp(json_string_value(t), value) == 0) return true;
		return false;
	}
	json_array_foreach(tags, i, t)
	{
		const char *tk = json_string_value(json_object_get(t, "key"));
		const char *tv = json_string_value(json_object_get(t, "value"));
		if (tk && tv && strcmp(tk, key) == 0 && strcmp(tv, value) == 0)
			return true;
	}
	return false;
}

Test(fleet, a_job_launches_in_its_own_account_on_the_block)
{
	const char *db;
	struct h_cbqd *d = broker(&db);
	long id = submit(d, "111111111111", "2");
	char sql[256], token[32], job[24];

	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", id);
	h_sql_wait(db, sql, "running", WAIT_MS);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM job_instances WHERE job_id = %ld", id);
	h_sql_wait(db, sql, "2", WAIT_MS);
	/* the team sees the capacity its job took */
	char *out = NULL;
	cr_assert_eq(h_cbq(d, "111111111111", &out, "-o", "json", "blocks", NULL), 0, "%s", out);
	cr_assert(strstr(out, "\"available\": 2"), "%s", out);
	free(out);

	snprintf(token, sizeof(token), "cbq-%ld-1", id);
	snprintf(job, sizeof(job), "%ld", id);
	json_t *st = h_awssim_state(sim), *inst;
	size_t i;
	int mine = 0;
	json_array_foreach(json_object_get(st, "instances"), i, inst)
	{
		const char *t = json_string_value(json_object_get(inst, "client_token"));
		if (!t || strcmp(t, token) != 0)
			continue;
		mine++;
		cr_assert_str_eq(json_string_value(json_object_get(inst, "account")),
				 "111111111111");
		cr_assert_str_eq(json_string_value(json_object_get(inst, "block")), BLOCK);
		cr_assert(has_tag(inst, "cbq:job", job) && has_tag(inst, "cbq:team", "alpha") &&
				  has_tag(inst, "project", "fleet"),
			  "tags: %s", json_dumps(json_object_get(inst, "tags"), 0));
	}
	json_decref(st);
	cr_assert_eq(mine, 2, "exactly one launch of two instances");

	snprintf(sql, sizeof(sql),
		 "SELECT string_agg(COALESCE(from_state, '') || '>' || to_state, ' ' ORDER BY id)"
		 " FROM job_events"
		 " WHERE job_id = %ld",
		 id);
	h_sql_wait(db, sql, ">queued queued>launching launching>running", WAIT_MS);
}

Test(fleet, a_lost_capacity_race_requeues_the_job_saying_so)
{
	const char *db;
	char url[160], sql[256];
	long status;

	/* an account outside cbq takes three of the four slots */
	snprintf(url, sizeof(url), "%s/_sim/steal", sim->url);
	json_decref(h_json("POST", url,
			   "{\"account\": \"555555555555\", \"block\": \"" BLOCK
			   "\", \"count\": 3}",
			   &status));
	cr_assert_eq(status, 200);
	struct h_cbqd *d = broker(&db);
	long id = submit(d, "222222222222", "2");

	snprintf(sql, sizeof(sql),
		 "SELECT count(*) > 0 FROM job_events WHERE job_id = %ld AND from_state = 'launching'"
		 " AND to_state = 'queued' AND reason LIKE '%%ReservationCapacityExceeded%%'",
		 id);
	h_sql_wait(db, sql, "t", WAIT_MS);
	/* it waits, saying why, instead of losing the same race every cycle */
	snprintf(sql, sizeof(sql),
		 "SELECT reason LIKE 'WaitingForCapacity%%' FROM v_job_history"
		 " WHERE job_id = %ld",
		 id);
	h_sql_wait(db, sql, "t", WAIT_MS);
	h_sleep_ms(1500);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) <= 2 FROM job_events WHERE job_id = %ld"
		 " AND from_state = 'launching' AND to_state = 'queued'",
		 id);
	char *few = h_sql_value(db, sql);
	cr_assert_str_eq(few, "t", "the job kept losing the race");
	free(few);
}

Test(fleet, a_role_that_does_not_trust_the_broker_fails_the_job_naming_it)
{
	const char *db;
	char sql[256];
	struct h_cbqd *d = broker(&db);
	long id = submit(d, "333333333333", "1");

	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", id);
	h_sql_wait(db, sql, "failed", WAIT_MS);
	snprintf(sql, sizeof(sql),
		 "SELECT reason LIKE '%%arn:aws:iam::333333333333:role/cbq-launcher%%'"
		 " AND reason LIKE '%%AccessDenied%%' FROM jobs WHERE id = %ld",
		 id);
	h_sql_wait(db, sql, "t", WAIT_MS);
}

Test(fleet, a_job_past_its_walltime_is_terminated_and_timed_out)
{
	const char *db;
	char sql[256], token[32];
	struct h_cbqd *d = broker(&db);
	long id = submit_for(d, "222222222222", "1", "1h");

	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", id);
	h_sql_wait(db, sql, "timed_out", WAIT_MS);
	/* its own instance, and only it, was terminated by cbq */
	snprintf(token, sizeof(token), "cbq-%ld-1", id);
	json_t *st = h_awssim_state(sim), *inst;
	size_t i;
	int ended = 0;
	json_array_foreach(json_object_get(st, "instances"), i, inst)
	{
		const char *t = json_string_value(json_object_get(inst, "client_token"));
		const char *state = json_string_value(json_object_get(inst, "state"));
		if (t && strcmp(t, token) == 0)
			ended += strcmp(state, "terminated") == 0 ||
				 strcmp(state, "shutting-down") == 0;
	}
	json_decref(st);
	cr_assert_eq(ended, 1);
}

static int log_count(const struct h_cbqd *d, const char *needle)
{
	char *log = h_file_tail(d->log_path, 1 << 22);
	int n = 0;

	for (const char *p = log; (p = strstr(p, needle)); p++)
		n++;
	free(log);
	return n;
}

/* Instances in the simulator per client token of jobs ids[0..n). */
static void expect_one_launch_each(const long *ids, size_t n, int per_job)
{
	json_t *st = h_awssim_state(sim), *inst;
	size_t i;

	for (size_t j = 0; j < n; j++) {
		char prefix[32];
		int seen = 0, tokens = 0;
		snprintf(prefix, sizeof(prefix), "cbq-%ld-", ids[j]);
		char first[40] = "";
		json_array_foreach(json_object_get(st, "instances"), i, inst)
		{
			const char *t = json_string_value(json_object_get(inst, "client_token"));
			if (!t || strncmp(t, prefix, strlen(prefix)) != 0)
				continue;
			seen++;
			if (strcmp(first, t) != 0) {
				tokens++;
				snprintf(first, sizeof(first), "%s", t);
			}
		}
		cr_assert_eq(seen, per_job, "job %ld has %d instances, not %d", ids[j], seen,
			     per_job);
		cr_assert_eq(tokens, 1, "job %ld was launched under %d tokens", ids[j], tokens);
	}
	json_decref(st);
}

Test(fleet, only_the_leader_launches)
{
	const char *db;
	const char *args[] = { "--clock", clock_arg, NULL };
	struct h_cbqd *a = broker(&db);
	struct h_cbqd *b = h_cbqd_start(db, args);
	long ids[4];
	char sql[128];

	for (int i = 0; i < 4; i++)
		ids[i] = submit(a, i % 2 ? "222222222222" : "111111111111", "1");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE state = 'running'");
	h_sql_wait(db, sql, "4", WAIT_MS);
	expect_one_launch_each(ids, 4, 1);
	int la = log_count(a, "event=launched "), lb = log_count(b, "event=launched ");
	cr_assert(la + lb == 4 && (la == 0 || lb == 0), "launches: %d by one, %d by the other", la,
		  lb);
}

Test(fleet, kill_9_mid_launch_loses_nothing_and_launches_nothing_twice)
{
	const char *db;
	const char *args[] = { "--clock", clock_arg, NULL };
	struct h_cbqd *a = broker(&db);
	long ids[4];
	char sql[160];

	/* launches are slow: the leader dies with RunInstances calls in flight */
	char url[160];
	long status;
	snprintf(url, sizeof(url), "%s/_sim/fault", sim->url);
	json_decref(h_json("POST", url,
			   "{\"action\": \"RunInstances\", \"delay_ms\": 1500, \"times\": 4}",
			   &status));
	for (int i = 0; i < 4; i++)
		ids[i] = submit(a, i % 2 ? "222222222222" : "111111111111", "1");
	snprintf(sql, sizeof(sql), "SELECT count(*) > 0 FROM jobs WHERE state = 'launching'");
	h_sql_wait(db, sql, "t", WAIT_MS);
	h_cbqd_stop(a, SIGKILL);

	struct h_cbqd *b = h_cbqd_start(db, args);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE state = 'running'");
	h_sql_wait(db, sql, "4", WAIT_MS);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs");
	h_sql_wait(db, sql, "4", WAIT_MS);
	expect_one_launch_each(ids, 4, 1);
	(void)b;
}

Test(fleet, cancelling_a_running_job_terminates_its_instances)
{
	const char *db;
	char sql[160], id_s[24], token[32], *out = NULL;
	struct h_cbqd *d = broker(&db);
	long id = submit(d, "111111111111", "1");

	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", id);
	h_sql_wait(db, sql, "running", WAIT_MS);
	snprintf(id_s, sizeof(id_s), "%ld", id);
	cr_assert_eq(h_cbq(d, "111111111111", &out, "cancel", id_s, NULL), 0, "%s", out);
	free(out);
	h_sql_wait(db, sql, "cancelled", WAIT_MS);

	snprintf(token, sizeof(token), "cbq-%ld-1", id);
	json_t *st = h_awssim_state(sim), *inst;
	size_t i;
	json_array_foreach(json_object_get(st, "instances"), i, inst)
	{
		const char *t = json_string_value(json_object_get(inst, "client_token"));
		const char *state = json_string_value(json_object_get(inst, "state"));
		if (t && strcmp(t, token) == 0)
			cr_assert(strcmp(state, "terminated") == 0 ||
					  strcmp(state, "shutting-down") == 0,
				  "instance still %s", state);
	}
	json_decref(st);
}

Test(fleet, a_checkpointable_job_is_warned_then_requeued_at_the_cutoff)
{
	const char *db;
	char sql[256], *out = NULL;
	struct h_cbqd *d = broker(&db);
	int rc = h_cbq(d, "111111111111", &out, "submit", "--kind", "training", "--instance-type",
		       "p4d.24xlarge", "--count", "1", "--duration", "10h", "--checkpointable",
		       "--image-id", "ami-0123456789abcdef0", NULL);

	cr_assert_eq(rc, 0, "%s", out);
	long id = strtol(out, NULL, 10);
	free(out);
	/* 10:00 now; the warning is due at 12:00 − 40 min − 10 min, the cutoff at 11:30 */
	snprintf(sql, sizeof(sql),
		 "SELECT string_agg(COALESCE(from_state, '') || '>' || to_state, ' ' ORDER BY id)"
		 " FROM job_events WHERE job_id = %ld",
		 id);
	h_sql_wait(db, sql,
		   ">queued queued>launching launching>running running>expiring expiring>queued",
		   WAIT_MS);
	snprintf(sql, sizeof(sql), "SELECT attempt FROM jobs WHERE id = %ld", id);
	h_sql_wait(db, sql, "2", WAIT_MS);
}

/* kill -9 of cbqd at random moments while jobs are submitted and launched,
 * three times over (the seed is printed, so a failure can be replayed). */
Test(fleet, kill_9_at_random_points_loses_nothing_and_launches_nothing_twice)
{
	const char *db;
	const char *args[] = { "--clock", clock_arg, NULL };
	struct h_cbqd *d = broker(&db);
	long ids[4];
	int n = 0;
	unsigned seed = (unsigned)time(NULL);
	char url[160];
	long status;

	printf("kill_9_at_random_points: seed %u\n", seed);
	srand(seed);
	/* every launch is slow, so kills land before, during and after calls */
	snprintf(url, sizeof(url), "%s/_sim/fault", sim->url);
	json_decref(h_json("POST", url,
			   "{\"action\": \"RunInstances\", \"delay_ms\": 700, \"times\": 20}",
			   &status));
	for (int round = 0; round < 3; round++) {
		/* acknowledged jobs: the submit returned an id */
		while (n < 4 && (n <= round || rand() % 2))
			ids[n] = submit(d, n % 2 ? "222222222222" : "111111111111", "1"), n++;
		h_sleep_ms(100 + rand() % 1500);
		h_cbqd_stop(d, SIGKILL);
		d = h_cbqd_start(db, args);
	}
	while (n < 4)
		ids[n] = submit(d, n % 2 ? "222222222222" : "111111111111", "1"), n++;
	h_sql_wait(db, "SELECT count(*) FROM jobs WHERE state = 'running'", "4", WAIT_MS);
	h_sql_wait(db, "SELECT count(*) FROM jobs", "4", WAIT_MS);
	expect_one_launch_each(ids, 4, 1);
}
