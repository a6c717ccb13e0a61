/*
 * Postgres restarted under a running cbqd (issue 5): on a private cluster
 * (pgown.h; the suite's shared one is never stopped) with cbq-awssim, one
 * job runs and two launch slowly when Postgres goes down. Meanwhile cbqd
 * stays up, /readyz and the API answer 503 and cbq says to try again; once
 * Postgres is back, cbqd regains leadership, the submit retried with its
 * idempotency key succeeds, every acknowledged job is there once and each
 * job runs on exactly one launch.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <signal.h>

#include "awspeer.h"
#include "cbq/v1/cbq.pb-c.h"
#include "harness.h"
#include "pgown.h"

#define EPOCH "2026-11-23T10:00:00Z"
#define BLOCK "cr-0c00000000000003"
#define WAIT_MS 20000
/* A simulated minute per real tenth of a second, as in test_fleet.c: a
 * ten-hour job runs for a minute, longer than this test. */
#define FACTOR "600"
/* The two RunInstances in flight when Postgres stops take this long (real
 * ms): their replies arrive while it is down. */
#define SLOW_LAUNCH_MS 2500

static struct pgown pg;
static struct h_proc *sim;
static char clock_arg[128];

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void start(void)
{
	pgown_start(&pg);
	snprintf(clock_arg, sizeof(clock_arg), "scaled:" FACTOR ",epoch=" EPOCH ",origin=%lld",
		 (long long)time(NULL));
	sim = h_awssim_start(h_test_file("integration/data/pg_restart.json"), clock_arg);
	/* cbqd's children inherit these (harness.h: the test's environment) */
	setenv("AWS_ENDPOINT_URL", sim->url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER777", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "pgRestartBrokerSecretForTestsOnly0000000", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void fini(void)
{
	h_cleanup(); /* cbqd first: it must not outlive its cluster's files */
	pgown_destroy(&pg);
}

TestSuite(pg_restart, .init = start, .fini = fini, .timeout = 90);

/* cbq submit as account (with --idempotency-key key when key != NULL);
 * returns cbq's exit code, *out its stdout and stderr. */
static int try_submit(const struct h_cbqd *d, const char *account, const char *key, char **out)
{
	return h_cbq(d, account, out, "submit", "--kind", "training", "--instance-type",
		     "p5.48xlarge", "--count", "1", "--duration", "10h", "--image-id",
		     "ami-0123456789abcdef0", key ? "--idempotency-key" : NULL, key, NULL);
}

/* Acknowledged: cbq exited 0 and printed the job's id. */
static long submit(const struct h_cbqd *d, const char *account)
{
	char *out = NULL;
	int rc = try_submit(d, account, NULL, &out);

	cr_assert_eq(rc, 0, "submit failed: %s", out);
	long id = strtol(out, NULL, 10);
	cr_assert(id > 0, "submit printed no id: %s", out);
	free(out);
	return id;
}

/* GET /readyz until it answers want; returns the ms it took, fails after max_ms. */
static long wait_readyz(const struct h_cbqd *d, long want, long max_ms)
{
	long t0 = now_ms(), last = 0;

	for (;;) {
		struct h_http_reply r = h_http(d, "GET", "/readyz", NULL, NULL, NULL, 0);

		last = r.status;
		h_http_reply_free(&r);
		if (last == want)
			return now_ms() - t0;
		if (now_ms() - t0 > max_ms) {
			char *log = h_file_tail(d->log_path, 4096);
			cr_assert_fail("GET /readyz still answers %ld, not %ld, after %ld ms; log:\n%s",
				       last, want, max_ms, log);
		}
		h_sleep_ms(50);
	}
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

/* The first match of needle in the log, for the test's own report. */
static void show_log_lines(const struct h_cbqd *d, const char *const *needles)
{
	char *log = h_file_tail(d->log_path, 1 << 22);

	for (char *line = strtok(log, "\n"); line; line = strtok(NULL, "\n"))
		for (const char *const *n = needles; *n; n++)
			if (strstr(line, *n)) {
				fprintf(stderr, "pg_restart: cbqd: %s\n", line);
				break;
			}
	free(log);
}

/* Whether an instance of a job in ids[0..n) is still pending in st: EC2
 * (and cbq-awssim) show an instance pending for a while after RunInstances
 * answered, when cbq already counts the job running. */
static bool any_pending(json_t *st, const long *ids, size_t n)
{
	json_t *inst;
	size_t i;

	json_array_foreach(json_object_get(st, "instances"), i, inst)
	{
		const char *t = json_string_value(json_object_get(inst, "client_token"));
		const char *state = json_string_value(json_object_get(inst, "state"));

		for (size_t j = 0; t && state && j < n; j++) {
			char prefix[32];

			snprintf(prefix, sizeof(prefix), "cbq-%ld-", ids[j]);
			if (strncmp(t, prefix, strlen(prefix)) == 0 && strcmp(state, "pending") == 0)
				return true;
		}
	}
	return false;
}

/* Every job in ids[0..n) has exactly one instance, under one client token
 * cbq-<id>-1, in its own account, running once out of pending. */
static void expect_one_launch_each(const long *ids, const char *const *accounts, size_t n)
{
	json_t *st = h_awssim_state(sim), *inst;
	size_t i;

	for (int waited = 0; any_pending(st, ids, n) && waited < WAIT_MS; waited += 100) {
		json_decref(st);
		h_sleep_ms(100);
		st = h_awssim_state(sim);
	}

	for (size_t j = 0; j < n; j++) {
		char prefix[32], token[32];
		int seen = 0;

		snprintf(prefix, sizeof(prefix), "cbq-%ld-", ids[j]);
		snprintf(token, sizeof(token), "cbq-%ld-1", ids[j]);
		json_array_foreach(json_object_get(st, "instances"), i, inst)
		{
			const char *t = json_string_value(json_object_get(inst, "client_token"));
			const char *state = json_string_value(json_object_get(inst, "state"));
			const char *acct = json_string_value(json_object_get(inst, "account"));

			if (!t || strncmp(t, prefix, strlen(prefix)) != 0)
				continue;
			seen++;
			cr_assert_str_eq(t, token, "job %ld was launched again under %s", ids[j],
					 t);
			cr_assert_str_eq(acct, accounts[j], "job %ld", ids[j]);
			cr_assert_str_eq(state, "running", "job %ld's instance is %s", ids[j],
					 state);
		}
		cr_assert_eq(seen, 1, "job %ld has %d instances, not 1", ids[j], seen);
	}
	json_decref(st);
}

Test(pg_restart, postgres_down_means_503_then_everything_continues_and_nothing_is_lost)
{
	const char *db = pgown_db_create(&pg, "cbq_pg_restart");
	const char *args[] = { "--clock", clock_arg, NULL };
	char sql[512], url[160], path[64], *out = NULL;
	long status;

	h_seed_teams(db);
	h_sql(db, "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
		  " available, state, start_at, end_at) VALUES ('" BLOCK "', '999988887777',"
		  " 'us-east-1', 'us-east-1a', 'p5.48xlarge', 8, 8, 'active',"
		  " '2026-11-23T09:00:00Z', '2026-11-24T10:00:00Z');"
		  "INSERT INTO block_consumers VALUES ('" BLOCK "', '111111111111'),"
		  " ('" BLOCK "', '222222222222');");
	struct h_cbqd *d = h_cbqd_start(db, args);

	/* ---- before: one job running, two launching slowly ---- */
	long ids[4];
	const char *accounts[4] = { "111111111111", "222222222222", "111111111111",
				    "222222222222" };
	ids[0] = submit(d, accounts[0]);
	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", ids[0]);
	h_sql_wait(db, sql, "running", WAIT_MS);

	snprintf(url, sizeof(url), "%s/_sim/fault", sim->url);
	char fault[96];
	snprintf(fault, sizeof(fault),
		 "{\"action\": \"RunInstances\", \"delay_ms\": %d, \"times\": 2}", SLOW_LAUNCH_MS);
	json_decref(h_json("POST", url, fault, &status));
	cr_assert_eq(status, 200);
	ids[1] = submit(d, accounts[1]);
	ids[2] = submit(d, accounts[2]);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM jobs WHERE id IN (%ld, %ld) AND state = 'launching'", ids[1],
		 ids[2]);
	h_sql_wait(db, sql, "2", WAIT_MS);

	/* ---- Postgres goes away with the two RunInstances in flight ---- */
	long t_down = now_ms();
	pgown_stop(&pg, "immediate");
	long ms_to_503 = wait_readyz(d, 503, 5000);

	struct h_http_reply r = h_http(d, "GET", "/readyz", NULL, NULL, NULL, 0);
	cr_assert(strstr((const char *)r.body, "Postgres"), "/readyz says: %s", r.body);
	h_http_reply_free(&r);
	r = h_http(d, "GET", "/healthz", NULL, NULL, NULL, 0);
	cr_assert_eq(r.status, 200, "/healthz answers %ld while Postgres is down", r.status);
	h_http_reply_free(&r);

	/* the API: 503 with an Error saying so (after at most the db pool's 5 s wait) */
	long t_req = now_ms();
	snprintf(path, sizeof(path), "/v1/jobs/%ld", ids[0]);
	r = h_http(d, "GET", path, NULL, accounts[0], NULL, 0);
	long ms_get = now_ms() - t_req;
	cr_assert_eq(r.status, 503, "GET %s answered %ld while Postgres is down: %s", path,
		     r.status, r.body);
	cr_assert_str_eq(r.content_type, "application/x-protobuf");
	Cbq__V1__Error *e = cbq__v1__error__unpack(NULL, r.len, r.body);
	cr_assert(e, "the 503 body is not an Error");
	cr_assert_eq(e->code, CBQ__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE);
	fprintf(stderr, "pg_restart: GET %s while down: 503 in %ld ms: %s\n", path, ms_get,
		e->message);
	cbq__v1__error__free_unpacked(e, NULL);
	h_http_reply_free(&r);

	/* cbq: the server answered (exit 1, not 3: "cannot reach the server") and
	 * said to try again; this submit is not acknowledged */
	t_req = now_ms();
	int rc = try_submit(d, accounts[3], "pg-restart-retry", &out);
	long ms_submit = now_ms() - t_req;
	cr_assert_eq(rc, 1, "cbq submit exited %d while Postgres is down: %s", rc, out);
	cr_assert(strstr(out, "unreachable") && strstr(out, "try again"), "cbq said: %s", out);
	fprintf(stderr, "pg_restart: cbq submit while down: exit %d in %ld ms: %s", rc, ms_submit,
		out);
	free(out);
	out = NULL;
	cr_assert(kill(d->pid, 0) == 0, "cbqd exited while Postgres was down");
	/* the slow launches have answered by now, into a broker without Postgres */
	long down_for = now_ms() - t_down;
	if (down_for < SLOW_LAUNCH_MS + 500)
		h_sleep_ms((int)(SLOW_LAUNCH_MS + 500 - down_for));

	/* ---- Postgres is back ---- */
	long t_up = now_ms();
	pgown_start(&pg);
	long ms_pg_start = now_ms() - t_up;
	long ms_ready = wait_readyz(d, 200, 10000);

	/* the refused submit, retried as a user would, with the same key */
	long t_retry = now_ms();
	int tries = 0;
	for (;;) {
		tries++;
		free(out);
		out = NULL;
		rc = try_submit(d, accounts[3], "pg-restart-retry", &out);
		if (rc == 0 || now_ms() - t_retry > 10000)
			break;
		h_sleep_ms(200);
	}
	cr_assert_eq(rc, 0, "cbq submit still fails %ld ms after /readyz said ready: %s",
		     now_ms() - t_retry, out);
	ids[3] = strtol(out, NULL, 10);
	free(out);
	out = NULL;
	fprintf(stderr,
		"pg_restart: down %ld ms; /readyz 503 after %ld ms; pg_ctl start %ld ms; /readyz 200"
		" %ld ms later; submit ok after %d tries, %ld ms\n",
		t_up - t_down, ms_to_503, ms_pg_start, ms_ready, tries, now_ms() - t_retry);

	/* every acknowledged job is there, once; nothing else is */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM jobs WHERE id IN (%ld, %ld, %ld, %ld)",
		 ids[0], ids[1], ids[2], ids[3]);
	h_sql_wait(db, sql, "4", WAIT_MS);
	h_sql_wait(db, "SELECT count(*) FROM jobs", "4", WAIT_MS);
	h_sql_wait(db, "SELECT count(*) FROM jobs WHERE idempotency_key = 'pg-restart-retry'", "1",
		   WAIT_MS);

	/* the queue moves: all four run, each on one launch in its own account */
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM jobs WHERE id IN (%ld, %ld, %ld, %ld) AND state = 'running'"
		 " AND attempt = 1",
		 ids[0], ids[1], ids[2], ids[3]);
	h_sql_wait(db, sql, "4", WAIT_MS);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM job_instances WHERE job_id IN (%ld, %ld, %ld, %ld)", ids[0],
		 ids[1], ids[2], ids[3]);
	h_sql_wait(db, sql, "4", WAIT_MS);
	expect_one_launch_each(ids, accounts, 4);
	/* the job that ran through the outage was left alone */
	snprintf(sql, sizeof(sql),
		 "SELECT string_agg(COALESCE(from_state, '') || '>' || to_state, ' ' ORDER BY id)"
		 " FROM job_events WHERE job_id = %ld",
		 ids[0]);
	h_sql_wait(db, sql, ">queued queued>launching launching>running", WAIT_MS);

	/* leadership went with the session and came back with Postgres */
	const char *const shown[] = { "event=leader_", "event=db_", "event=waiting_for_postgres",
				      "level=error", NULL };
	show_log_lines(d, shown);
	cr_assert_geq(log_count(d, "event=leader_lost "), 1, "cbqd never said it lost leadership");
	cr_assert_geq(log_count(d, "event=leader_acquired "), 2,
		      "cbqd did not take leadership again");
}
