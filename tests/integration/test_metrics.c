/*
 * GET /metrics through real cbqd with a launch against cbq-awssim: the body
 * parses as Prometheus text (prometheus_client's own parser, in
 * check-metrics) and the numbers say what happened: one launch, the AWS
 * calls it took, the leader, the running job, the block's capacity.
 */
#define _GNU_SOURCE /* memmem */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "awspeer.h"
#include "harness.h"

#define BLOCK "cr-0a00000000000001"

static struct h_proc *sim;
static char clock_arg[128];

static void start(void)
{
	snprintf(clock_arg, sizeof(clock_arg),
		 "scaled:600,epoch=2026-11-23T10:00:00Z,origin=%lld", (long long)time(NULL));
	sim = h_awssim_start(h_test_file("integration/data/fleet.json"), clock_arg);
	setenv("AWS_ENDPOINT_URL", sim->url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEBROKER777", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fleetBrokerSecretForTestsOnly00000000000", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(metrics, .init = start, .fini = stop, .timeout = 120);

/* Writes the reply to a file and runs check-metrics on it with conds. */
static void check(const struct h_http_reply *r, const char *const *conds)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *argv[32] = { "/usr/bin/python3", h_test_file("integration/check-metrics") };
	char path[256], *out = NULL;
	size_t n = 2;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/metrics-%d.txt", tmp, (int)getpid());
	f = fopen(path, "w");
	cr_assert(f);
	fwrite(r->body, 1, r->len, f);
	fclose(f);
	argv[n++] = path;
	for (size_t i = 0; conds[i] && n < 31; i++)
		argv[n++] = conds[i];
	argv[n] = NULL;
	rc = h_run(argv, NULL, &out, NULL);
	cr_expect_eq(rc, 0, "%s\n--- /metrics:\n%.*s", out, (int)r->len, r->body);
	free(out);
	remove(path);
}

Test(metrics, tell_what_happened_in_prometheus_text)
{
	const char *db = h_db_create();
	const char *args[] = { "--clock", clock_arg, NULL };
	struct h_cbqd *d;
	struct h_http_reply r;
	char *out = NULL;

	h_seed_teams(db);
	h_sql(db, "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
		  " available, state, start_at, end_at) VALUES ('" BLOCK "', '999988887777',"
		  " 'us-east-1', 'us-east-1a', 'p5.48xlarge', 4, 4, 'active',"
		  " '2026-11-23T09:00:00Z', '2026-11-24T10:00:00Z');"
		  "INSERT INTO block_consumers VALUES ('" BLOCK "', '111111111111');"
		  "INSERT INTO block_usage VALUES ('" BLOCK "', '555566667777', 1, now());");
	d = h_cbqd_start(db, args);
	cr_assert_eq(h_cbq(d, "111111111111", &out, "submit", "--kind", "training",
			   "--instance-type", "p5.48xlarge", "--count", "2", "--duration", "10h",
			   "--image-id", "ami-0123456789abcdef0", NULL),
		     0, "%s", out);
	free(out);
	h_cbq(d, "111111111111", &out, "submit", "--kind", "inference", "--instance-type",
	      "p4d.24xlarge", "--count", "1", "--duration", "1h", NULL);
	free(out);
	h_sql_wait(db, "SELECT count(*) FROM jobs WHERE state = 'running'", "1", 20000);
	h_sleep_ms(5200); /* the gauges Postgres knows are read at most every 5 s */

	r = h_http(d, "GET", "/metrics", NULL, NULL, NULL, 0);
	cr_assert_eq(r.status, 200, "loopback scrapes need no credentials");
	cr_expect(strncmp(r.content_type, "text/plain; version=0.0.4", 25) == 0, "%s",
		  r.content_type);
	check(&r, (const char *const[]){
			  "cbq_leader == 1",
			  "cbq_launches_total{outcome=\"launched\"} == 1",
			  "cbq_aws_call_seconds_count{call=\"ec2:RunInstances\"} >= 1",
			  "cbq_aws_call_seconds_count{call=\"sts:AssumeRole\"} >= 1",
			  "cbq_scheduler_cycle_seconds_count >= 1",
			  "cbq_event_loop_lag_seconds_count >= 1",
			  "cbq_launch_pipeline_seconds_count == 1",
			  "cbq_jobs{state=\"running\"} == 1",
			  "cbq_jobs{state=\"queued\"} == 1",
			  "cbq_queue_depth{kind=\"inference\",team=\"alpha\"} == 1",
			  "cbq_block_instances{block=\"" BLOCK "\",what=\"total\"} == 4",
			  "cbq_block_instances{block=\"" BLOCK "\",what=\"used_outside\"} == 1",
			  NULL });
	cr_expect(!memmem(r.body, r.len, "111111111111", 12), "no account ids in /metrics");
	h_http_reply_free(&r);
}
