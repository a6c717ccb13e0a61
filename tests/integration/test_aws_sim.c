/*
 * The broker's AWS layer against cbq-awssim over the real wire format:
 * AssumeRole into a consumer account and launch into a Capacity Block,
 * describe, terminate; the documented outcome of every fault (throttling,
 * 500, timeout, capacity race, wrong external id, untrusted principal);
 * a lost RunInstances reply retried with the same ClientToken creating
 * nothing twice; the role cache and the one re-assume; IMDSv2 credentials.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/ec2.h"
#include "aws/sts.h"
#include "awscall.h"
#include "awspeer.h"

#define EPOCH "2026-11-23T08:00:00Z"
#define BLOCK "cr-0a0000000000000001"
#define ROLE1 "arn:aws:iam::111100000001:role/cbq-launcher"
#define ROLE2 "arn:aws:iam::111100000002:role/cbq-launcher"
#define ROLE3 "arn:aws:iam::111100000003:role/cbq-launcher"
#define BROKER_KEY "AKIAEXAMPLEBROKER001"
#define BROKER_SECRET "brokerSecretKeyForTestsOnly0000000000000"

static struct h_proc *sim;
static char clock_spec[128];
static char env_url[128];

/* The simulator and the client share one scaled clock (same epoch and
 * origin), so signatures are dated in the simulator's time. */
static void start_sim(void)
{
	char spec[128];

	snprintf(spec, sizeof(spec), "scaled:1,epoch=" EPOCH ",origin=%lld",
		 (long long)time(NULL));
	snprintf(clock_spec, sizeof(clock_spec), "%s", spec);
	sim = h_awssim_start(h_test_file("integration/data/aws_launch.json"), clock_spec);
	snprintf(env_url, sizeof(env_url), "AWS_ENDPOINT_URL=%s", sim->url);
}

static void open_broker(struct t_aws *t, long timeout_ms)
{
	const char *env[] = { "AWS_REGION=us-east-1", env_url, "AWS_ACCESS_KEY_ID=" BROKER_KEY,
			      "AWS_SECRET_ACCESS_KEY=" BROKER_SECRET, "AWS_MAX_ATTEMPTS=3", NULL };

	t_aws_open(t, env, clock_spec, timeout_ms);
}

static void fini(void)
{
	h_cleanup();
}

TestSuite(aws_sim, .init = start_sim, .fini = fini, .timeout = 120);

/* ---- helpers ---------------------------------------------------------------- */

static void run_form(struct aws_form *f, const char *token, int count)
{
	static const struct aws_tag tags[] = { { "cbq:job", "42" }, { "cbq:team", "alpha" } };
	static const struct aws_ec2_tag_spec spec = { "instance", tags, 2 };
	struct aws_ec2_run_req r = {
		.image_id = "ami-0123456789abcdef0",
		.instance_type = "p5.48xlarge",
		.count = count,
		.client_token = token,
		.capacity_block = true,
		.capacity_reservation_id = BLOCK,
		.shutdown_behavior = "terminate",
		.tag_specs = &spec,
		.n_tag_specs = 1,
	};
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_run_instances_form(&r, f, &err), CBQ_OK, "%s", err.msg);
}

static void by_tag_form(struct aws_form *f, const char *job)
{
	const char *values[] = { job };
	struct aws_filter filter = { "tag:cbq:job", values, 1 };
	struct aws_ec2_describe_instances r = { .filters = &filter, .n_filters = 1 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_describe_instances_form(&r, f, &err), CBQ_OK, "%s", err.msg);
}

static json_t *sim_state(void)
{
	char url[160];
	long status;

	snprintf(url, sizeof(url), "%s/_sim/state", sim->url);
	json_t *j = h_json("GET", url, NULL, &status);
	cr_assert_eq(status, 200);
	return j;
}

static void sim_fault(const char *json)
{
	char url[160];
	long status;

	snprintf(url, sizeof(url), "%s/_sim/fault", sim->url);
	json_t *j = h_json("POST", url, json, &status);
	cr_assert(status >= 200 && status < 300, "fault %s refused: HTTP %ld", json, status);
	json_decref(j);
}

/* Calls of action the simulator answered so far (its /_sim/state counters). */
static long long calls_of(const char *action)
{
	json_t *st = sim_state();
	long long n = json_integer_value(json_object_get(json_object_get(st, "calls"), action));

	json_decref(st);
	return n;
}

/* Instances in the simulator with this client token. */
static int instances_with_token(const char *token)
{
	json_t *st = sim_state(), *inst;
	size_t i;
	int n = 0;

	json_array_foreach(json_object_get(st, "instances"), i, inst)
	{
		const char *t = json_string_value(json_object_get(inst, "client_token"));
		if (t && strcmp(t, token) == 0)
			n++;
	}
	json_decref(st);
	return n;
}

static struct t_outcome run(struct t_aws *t, const char *role, const char *ext, const char *token,
			    int count)
{
	struct aws_form f = { 0 };

	run_form(&f, token, count);
	struct t_outcome o = t_call(t, AWS_SVC_EC2, role, ext, "ec2:RunInstances", &f);
	aws_form_free(&f);
	return o;
}

static struct t_outcome describe(struct t_aws *t, const char *role, const char *ext, const char *job)
{
	struct aws_form f = { 0 };

	by_tag_form(&f, job);
	struct t_outcome o = t_call(t, AWS_SVC_EC2, role, ext, "ec2:DescribeInstances", &f);
	aws_form_free(&f);
	return o;
}

/* ---- tests ------------------------------------------------------------------ */

Test(aws_sim, assume_role_launch_describe_terminate)
{
	struct t_aws t;
	struct aws_ec2_instances run_v = { 0 }, desc_v = { 0 };
	struct aws_ec2_terminated term_v = { 0 };
	struct cbq_error err = { 0 };

	open_broker(&t, 0);
	struct t_outcome o = run(&t, ROLE1, "ext-1", "cbq-42-1", 2);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_run_instances(o.body, o.len, &run_v, &err), CBQ_OK, "%s",
		     err.msg);
	cr_assert_eq(run_v.n, 2);
	cr_assert_str_eq(run_v.items[0].instance_type, "p5.48xlarge");
	cr_assert_str_eq(run_v.items[0].client_token, "cbq-42-1");
	cr_assert_str_eq(run_v.items[0].owner_id, "111100000001", "launched in the consumer account");
	t_outcome_free(&o);

	o = describe(&t, ROLE1, "ext-1", "42");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_describe_instances(o.body, o.len, &desc_v, &err), CBQ_OK, "%s",
		     err.msg);
	cr_assert_eq(desc_v.n, 2);
	bool tagged = false;
	for (size_t i = 0; i < desc_v.items[0].tags.n; i++)
		tagged |= strcmp(desc_v.items[0].tags.items[i].key, "cbq:team") == 0 &&
			  strcmp(desc_v.items[0].tags.items[i].value, "alpha") == 0;
	cr_assert(tagged, "tags from TagSpecification are on the instance");
	t_outcome_free(&o);

	/* another account sees none of them */
	o = describe(&t, ROLE2, "ext-2", "42");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	struct aws_ec2_instances other = { 0 };
	cr_assert_eq(aws_ec2_parse_describe_instances(o.body, o.len, &other, &err), CBQ_OK);
	cr_assert_eq(other.n, 0);
	aws_ec2_instances_free(&other);
	t_outcome_free(&o);

	const char *ids[] = { run_v.items[0].id, run_v.items[1].id };
	struct aws_form f = { 0 };
	cr_assert_eq(aws_ec2_terminate_form(ids, 2, &f, &err), CBQ_OK);
	o = t_call(&t, AWS_SVC_EC2, ROLE1, "ext-1", "ec2:TerminateInstances", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_terminate(o.body, o.len, &term_v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(term_v.n, 2);
	cr_assert_str_eq(term_v.items[0].current_name, "shutting-down");
	t_outcome_free(&o);

	/* one AssumeRole per role, then the cache */
	cr_assert_eq(calls_of("AssumeRole"), 2, "ROLE1 once and ROLE2 once");
	aws_ec2_instances_free(&run_v);
	aws_ec2_instances_free(&desc_v);
	aws_ec2_terminated_free(&term_v);
	t_aws_close(&t);
}

/* Warming a role (the scheduler does it for the accounts it is about to
 * launch into) starts its AssumeRole; a call made meanwhile waits for that
 * one instead of assuming again, and a warm role is not assumed again. */
Test(aws_sim, a_warmed_role_is_assumed_once_for_the_calls_that_follow)
{
	struct t_aws t;
	long long before;

	open_broker(&t, 0);
	before = calls_of("AssumeRole");
	aws_client_warm_role(t.client, &(struct aws_role){ ROLE1, "ext-1", "cbq-launcher" });
	cr_assert_eq(aws_client_in_flight(t.client), 1, "the AssumeRole is on its way");
	struct t_outcome o = run(&t, ROLE1, "ext-1", "cbq-43-1", 1);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	t_outcome_free(&o);
	cr_assert_eq(calls_of("AssumeRole"), before + 1, "the launch used the warm-up's AssumeRole");
	aws_client_warm_role(t.client, &(struct aws_role){ ROLE1, "ext-1", "cbq-launcher" });
	cr_assert_eq(aws_client_in_flight(t.client), 0, "cached: nothing to warm");
	/* a role that cannot be assumed: the warm-up fails quietly, the call as usual */
	aws_client_warm_role(t.client, &(struct aws_role){ ROLE2, "wrong", "cbq-launcher" });
	o = run(&t, ROLE2, "wrong", "cbq-44-1", 1);
	cr_assert_neq(o.code, CBQ_OK);
	cr_assert(strstr(o.msg, "sts:AssumeRole of " ROLE2), "%s", o.msg);
	t_outcome_free(&o);
	t_aws_close(&t);
}

Test(aws_sim, broker_identity_and_consumer_view_of_blocks)
{
	struct t_aws t;
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	struct aws_sts_identity id = { 0 };
	struct aws_ec2_crs crs = { 0 };

	open_broker(&t, 0);
	cr_assert_eq(aws_sts_caller_identity_form(&f, &err), CBQ_OK);
	struct t_outcome o = t_call(&t, AWS_SVC_STS, NULL, NULL, "sts:GetCallerIdentity", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_sts_parse_caller_identity(o.body, o.len, &id, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(id.account, "999900000000");
	cr_assert_str_eq(id.arn, "arn:aws:iam::999900000000:user/cbq-broker");
	aws_sts_identity_free(&id);
	t_outcome_free(&o);

	struct aws_ec2_describe_crs req = { 0 };
	cr_assert_eq(aws_ec2_describe_crs_form(&req, &f, &err), CBQ_OK);
	o = t_call(&t, AWS_SVC_EC2, ROLE1, "ext-1", "ec2:DescribeCapacityReservations", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_describe_crs(o.body, o.len, &crs, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(crs.n, 1, "the consumer sees the block shared with it");
	cr_assert_str_eq(crs.items[0].id, BLOCK);
	cr_assert_eq(crs.items[0].total, 4);
	aws_ec2_crs_free(&crs);
	t_outcome_free(&o);
	t_aws_close(&t);
}

Test(aws_sim, throttling_and_500_are_retried_until_the_attempts_run_out)
{
	struct t_aws t;

	open_broker(&t, 0);
	/* warm the role cache so the faults hit DescribeInstances itself */
	struct t_outcome o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	t_outcome_free(&o);

	sim_fault("{\"action\":\"DescribeInstances\",\"code\":\"RequestLimitExceeded\",\"count\":1}");
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(o.attempts, 2, "throttled once, then answered");
	t_outcome_free(&o);

	sim_fault("{\"action\":\"DescribeInstances\",\"status\":500,\"count\":1}");
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(o.attempts, 2, "an HTML 500 once, then answered");
	t_outcome_free(&o);

	sim_fault("{\"action\":\"DescribeInstances\",\"code\":\"RequestLimitExceeded\",\"count\":3}");
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_ERR_UNAVAILABLE);
	cr_assert_eq(o.cls, AWS_ERRCLASS_RETRY);
	cr_assert_eq(o.attempts, 3, "AWS_MAX_ATTEMPTS=3");
	cr_assert_str_eq(o.aws_code, "RequestLimitExceeded");
	cr_assert(strstr(o.msg, "ec2:DescribeInstances as " ROLE1), "%s", o.msg);
	t_outcome_free(&o);
	t_aws_close(&t);
}

Test(aws_sim, lost_launch_reply_is_retried_with_the_same_token_and_creates_nothing_twice)
{
	struct t_aws t;
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };

	open_broker(&t, 1000);
	/* The launch happens, but its reply comes after the client gave up. */
	sim_fault("{\"action\":\"RunInstances\",\"delay_ms\":2500,\"after\":true,\"count\":1}");
	struct t_outcome o = run(&t, ROLE2, "ext-2", "cbq-77-1", 1);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(o.attempts, 2, "timed out once, then the same token again");
	cr_assert_eq(aws_ec2_parse_run_instances(o.body, o.len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 1);
	cr_assert_eq(instances_with_token("cbq-77-1"), 1, "one instance, not two");
	aws_ec2_instances_free(&v);
	t_outcome_free(&o);

	/* the same token with other parameters is a mismatch, not a launch */
	o = run(&t, ROLE2, "ext-2", "cbq-77-1", 2);
	cr_assert_eq(o.cls, AWS_ERRCLASS_FAIL);
	cr_assert_str_eq(o.aws_code, "IdempotentParameterMismatch");
	t_outcome_free(&o);
	cr_assert_eq(instances_with_token("cbq-77-1"), 1);
	t_aws_close(&t);
}

Test(aws_sim, capacity_race_is_a_capacity_outcome_not_a_retry)
{
	struct t_aws t;

	open_broker(&t, 0);
	struct t_outcome o = run(&t, ROLE1, "ext-1", "cbq-90-1", 5);
	cr_assert_eq(o.cls, AWS_ERRCLASS_CAPACITY, "%s", o.msg);
	cr_assert_str_eq(o.aws_code, "ReservationCapacityExceeded");
	cr_assert_eq(o.attempts, 1);
	t_outcome_free(&o);

	sim_fault("{\"action\":\"RunInstances\",\"code\":\"InsufficientInstanceCapacity\",\"count\":1}");
	o = run(&t, ROLE1, "ext-1", "cbq-91-1", 1);
	cr_assert_eq(o.cls, AWS_ERRCLASS_CAPACITY, "%s", o.msg);
	cr_assert_eq(o.attempts, 1);
	t_outcome_free(&o);
	cr_assert_eq(instances_with_token("cbq-90-1") + instances_with_token("cbq-91-1"), 0);
	t_aws_close(&t);
}

Test(aws_sim, wrong_external_id_and_untrusted_principal_fail_naming_the_role)
{
	struct t_aws t;

	open_broker(&t, 0);
	struct t_outcome o = run(&t, ROLE1, "ext-wrong", "cbq-50-1", 1);
	cr_assert_eq(o.cls, AWS_ERRCLASS_FAIL, "%s", o.msg);
	cr_assert_eq(o.code, CBQ_ERR_FORBIDDEN, "%s", o.msg);
	cr_assert(strstr(o.msg, "sts:AssumeRole of " ROLE1), "%s", o.msg);
	cr_assert(strstr(o.msg, "AccessDenied"), "%s", o.msg);
	t_outcome_free(&o);

	o = run(&t, ROLE3, "ext-3", "cbq-51-1", 1);
	cr_assert_eq(o.cls, AWS_ERRCLASS_FAIL, "%s", o.msg);
	cr_assert(strstr(o.msg, ROLE3) && strstr(o.msg, "AccessDenied"), "%s", o.msg);
	t_outcome_free(&o);
	cr_assert_eq(instances_with_token("cbq-50-1") + instances_with_token("cbq-51-1"), 0);
	t_aws_close(&t);
}

Test(aws_sim, rejected_role_credentials_are_assumed_again_once)
{
	struct t_aws t;

	open_broker(&t, 0);
	struct t_outcome o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	t_outcome_free(&o);
	long long before = calls_of("AssumeRole");

	sim_fault("{\"action\":\"DescribeInstances\",\"code\":\"AuthFailure\",\"count\":1}");
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(calls_of("AssumeRole"), before + 1, "re-assumed once");
	t_outcome_free(&o);

	sim_fault("{\"action\":\"DescribeInstances\",\"code\":\"AuthFailure\",\"count\":2}");
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.cls, AWS_ERRCLASS_AUTH, "%s", o.msg);
	cr_assert_eq(o.code, CBQ_ERR_UNAUTHENTICATED, "%s", o.msg);
	cr_assert_eq(calls_of("AssumeRole"), before + 2, "only once more, not in a loop");
	t_outcome_free(&o);
	t_aws_close(&t);
}

Test(aws_sim, broker_credentials_from_instance_metadata)
{
	struct t_aws t;
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	struct aws_sts_identity id = { 0 };
	char imds[160];

	snprintf(imds, sizeof(imds), "AWS_EC2_METADATA_SERVICE_ENDPOINT=%s", sim->url);
	const char *env[] = { "AWS_REGION=us-east-1", env_url, imds, NULL };
	t_aws_open(&t, env, clock_spec, 0);
	cr_assert_eq(t.cfg.creds.kind, AWS_CREDS_IMDS);
	cr_assert_eq(aws_sts_caller_identity_form(&f, &err), CBQ_OK);
	struct t_outcome o = t_call(&t, AWS_SVC_STS, NULL, NULL, "sts:GetCallerIdentity", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_sts_parse_caller_identity(o.body, o.len, &id, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(id.account, "999900000000");
	aws_sts_identity_free(&id);
	t_outcome_free(&o);

	/* and the role chain works on top of them */
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	t_outcome_free(&o);
	t_aws_close(&t);
}

Test(aws_sim, broker_credentials_from_a_profile_role_with_source_profile)
{
	struct t_aws t;
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	struct aws_sts_identity id = { 0 };
	const char *config = "[profile broker]\n"
			     "role_arn = arn:aws:iam::999900000000:role/cbq-broker\n"
			     "external_id = ext-b\n"
			     "source_profile = base\n"
			     "region = us-east-1\n";
	const char *credentials = "[base]\n"
				  "aws_access_key_id = " BROKER_KEY "\n"
				  "aws_secret_access_key = " BROKER_SECRET "\n";
	const char *env[] = { "AWS_PROFILE=broker", env_url, "AWS_EC2_METADATA_DISABLED=true",
			      NULL };

	t_aws_open_files(&t, env, config, credentials, clock_spec, 0);
	cr_assert_eq(t.cfg.creds.kind, AWS_CREDS_ASSUME_ROLE);
	cr_assert_eq(aws_sts_caller_identity_form(&f, &err), CBQ_OK);
	struct t_outcome o = t_call(&t, AWS_SVC_STS, NULL, NULL, "sts:GetCallerIdentity", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_sts_parse_caller_identity(o.body, o.len, &id, &err), CBQ_OK, "%s", err.msg);
	cr_assert(strstr(id.arn, ":assumed-role/cbq-broker/"), "%s", id.arn);
	aws_sts_identity_free(&id);
	t_outcome_free(&o);

	/* the consumer role trusts the broker's role */
	o = describe(&t, ROLE1, "ext-1", "none");
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	t_outcome_free(&o);
	t_aws_close(&t);
}
