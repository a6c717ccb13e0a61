/*
 * The broker's AWS layer against moto_server, an independent AWS peer, with
 * its signature checking switched on (AWS.md §5.4): AssumeRole across two
 * accounts, RunInstances with tags, DescribeInstances by tag, Terminate, and
 * a wrong secret mapped to a clear authentication error. Skipped, saying
 * so in one line, when moto_server is not on PATH.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/ec2.h"
#include "aws/sigv4.h"
#include "aws/sts.h"
#include "awscall.h"
#include "awspeer.h"

#define BROKER "123456789012"
#define ACCT_A "222233334444"
#define ACCT_B "333344445555"
#define ROLE_A "arn:aws:iam::" ACCT_A ":role/cbq-launcher"
#define ROLE_B "arn:aws:iam::" ACCT_B ":role/cbq-launcher"

static struct h_proc *moto;
static char env_url[160], key_env[160], secret_env[160];

/* ---- setting moto up while its auth is off ------------------------------------ */

/* A signed query-protocol POST to moto as account (x-moto-account-id);
 * returns the body in a static buffer and fails the test unless 200. */
static const char *moto_query(const char *service, const char *account, const char *body)
{
	struct aws_credentials cred = { "AKIAIOSFODNN7EXAMPLE", "setup-secret", NULL };
	char host[64];
	long status = 0;
	const char *reply;

	snprintf(host, sizeof(host), "127.0.0.1:%d", moto->port);
	reply = t_signed_post(host, service, &cred, account, body, &status);
	cr_assert_eq(status, 200, "moto setup %s: HTTP %ld: %.400s", body, status, reply);
	return reply;
}

#define ALLOW(actions)                                                                        \
	"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow" \
	"%22%2C%22Action%22%3A%5B" actions "%5D%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"
#define TRUST_BROKER                                                                          \
	"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow" \
	"%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A" BROKER              \
	"%3Auser%2Fcbq-broker%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"

static void make_role(const char *account)
{
	moto_query("iam", account,
		   "Action=CreateRole&Version=2010-05-08&RoleName=cbq-launcher"
		   "&AssumeRolePolicyDocument=" TRUST_BROKER);
	moto_query("iam", account,
		   "Action=PutRolePolicy&Version=2010-05-08&RoleName=cbq-launcher&PolicyName=launch"
		   "&PolicyDocument=" ALLOW("%22ec2%3A%2A%22"));
}

static void setup_moto(void)
{
	char key[64], secret[128];
	long status;

	moto = h_moto_start();
	if (!moto)
		return;
	moto_query("iam", BROKER, "Action=CreateUser&Version=2010-05-08&UserName=cbq-broker");
	const char *xml = moto_query("iam", BROKER,
				     "Action=CreateAccessKey&Version=2010-05-08&UserName=cbq-broker");
	t_xml_element(xml, "AccessKeyId", key, sizeof(key));
	t_xml_element(xml, "SecretAccessKey", secret, sizeof(secret));
	h_secret_note(secret);
	moto_query("iam", BROKER,
		   "Action=PutUserPolicy&Version=2010-05-08&UserName=cbq-broker&PolicyName=broker"
		   "&PolicyDocument=" ALLOW("%22sts%3AAssumeRole%22%2C%22ec2%3ADescribeInstances%22"));
	make_role(ACCT_A);
	make_role(ACCT_B);

	char url[160];
	snprintf(url, sizeof(url), "%s/moto-api/reset-auth", moto->url);
	json_decref(h_json("POST", url, "0", &status));
	cr_assert_eq(status, 200, "moto refused to switch signature checking on");
	snprintf(env_url, sizeof(env_url), "AWS_ENDPOINT_URL=%s", moto->url);
	snprintf(key_env, sizeof(key_env), "AWS_ACCESS_KEY_ID=%s", key);
	snprintf(secret_env, sizeof(secret_env), "AWS_SECRET_ACCESS_KEY=%s", secret);
}

static void fini(void)
{
	h_cleanup();
}

TestSuite(aws_moto, .init = setup_moto, .fini = fini, .timeout = 120);

static void open_client(struct t_aws *t, const char *secret_env_override)
{
	const char *env[] = { "AWS_REGION=us-east-1", env_url, key_env,
			      secret_env_override ? secret_env_override : secret_env, NULL };

	t_aws_open(t, env, "real", 0);
}

/* ---- tests ------------------------------------------------------------------ */

static int count_by_tag(struct t_aws *t, const char *role, const char *job, const char *state)
{
	const char *values[] = { job };
	struct aws_filter filter = { "tag:cbq:job", values, 1 };
	struct aws_ec2_describe_instances r = { .filters = &filter, .n_filters = 1 };
	struct aws_form f = { 0 };
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };
	int n = 0;

	cr_assert_eq(aws_ec2_describe_instances_form(&r, &f, &err), CBQ_OK);
	struct t_outcome o = t_call(t, AWS_SVC_EC2, role, "ext-x", "ec2:DescribeInstances", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_describe_instances(o.body, o.len, &v, &err), CBQ_OK, "%s",
		     err.msg);
	for (size_t i = 0; i < v.n; i++)
		n += !state || strcmp(v.items[i].state_name, state) == 0;
	aws_ec2_instances_free(&v);
	t_outcome_free(&o);
	return n;
}

Test(aws_moto, assume_role_across_accounts_launch_describe_terminate)
{
	struct t_aws t;
	struct aws_form f = { 0 };
	struct aws_ec2_instances v = { 0 };
	struct aws_ec2_terminated tv = { 0 };
	struct cbq_error err = { 0 };

	if (!moto)
		return;
	open_client(&t, NULL);
	static const struct aws_tag tags[] = { { "cbq:job", "7" }, { "cbq:team", "alpha" } };
	static const struct aws_ec2_tag_spec spec = { "instance", tags, 2 };
	struct aws_ec2_run_req r = {
		.image_id = "ami-12c6146b",
		.instance_type = "p5.48xlarge",
		.count = 2,
		.client_token = "cbq-7-1",
		.capacity_block = true,
		.capacity_reservation_id = "cr-0123456789abcdef0",
		.shutdown_behavior = "terminate",
		.tag_specs = &spec,
		.n_tag_specs = 1,
	};
	cr_assert_eq(aws_ec2_run_instances_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	struct t_outcome o = t_call(&t, AWS_SVC_EC2, ROLE_A, "ext-x", "ec2:RunInstances", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_run_instances(o.body, o.len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.items[0].owner_id, ACCT_A, "the call ran in the role's account");
	t_outcome_free(&o);

	cr_assert_eq(count_by_tag(&t, ROLE_A, "7", NULL), 2);
	cr_assert_eq(count_by_tag(&t, ROLE_B, "7", NULL), 0, "the other account sees nothing");

	const char *ids[] = { v.items[0].id, v.items[1].id };
	cr_assert_eq(aws_ec2_terminate_form(ids, 2, &f, &err), CBQ_OK);
	o = t_call(&t, AWS_SVC_EC2, ROLE_A, "ext-x", "ec2:TerminateInstances", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_OK, "%s", o.msg);
	cr_assert_eq(aws_ec2_parse_terminate(o.body, o.len, &tv, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(tv.n, 2);
	t_outcome_free(&o);
	cr_assert_eq(count_by_tag(&t, ROLE_A, "7", "running"), 0);
	aws_ec2_instances_free(&v);
	aws_ec2_terminated_free(&tv);
	t_aws_close(&t);
}

Test(aws_moto, wrong_secret_is_a_clear_authentication_error)
{
	struct t_aws t;
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };

	if (!moto)
		return;
	open_client(&t, "AWS_SECRET_ACCESS_KEY=not-the-secret");
	cr_assert_eq(aws_sts_caller_identity_form(&f, &err), CBQ_OK);
	struct t_outcome o = t_call(&t, AWS_SVC_STS, NULL, NULL, "sts:GetCallerIdentity", &f);
	aws_form_free(&f);
	cr_assert_eq(o.code, CBQ_ERR_UNAUTHENTICATED, "%s", o.msg);
	/* a wrong secret is configuration, not an expired session: no re-assume */
	cr_assert_eq(o.cls, AWS_ERRCLASS_FAIL);
	cr_assert_str_eq(o.aws_code, "SignatureDoesNotMatch");
	cr_assert(strstr(o.msg, "sts:GetCallerIdentity") && strstr(o.msg, "SignatureDoesNotMatch"),
		  "%s", o.msg);
	cr_assert_eq(o.attempts, 1, "not retried");
	t_outcome_free(&o);

	/* through a role: the AssumeRole itself is refused */
	struct aws_ec2_describe_instances all = { 0 };
	cr_assert_eq(aws_ec2_describe_instances_form(&all, &f, &err), CBQ_OK);
	o = t_call(&t, AWS_SVC_EC2, ROLE_A, "ext-x", "ec2:DescribeInstances", &f);
	cr_assert_eq(o.code, CBQ_ERR_UNAUTHENTICATED, "%s", o.msg);
	cr_assert(strstr(o.msg, "sts:AssumeRole of " ROLE_A), "%s", o.msg);
	aws_form_free(&f);
	t_outcome_free(&o);
	t_aws_close(&t);
}
