/*
 * Query-protocol form bodies for EC2 and STS (broker/aws/form.h, ec2.h,
 * sts.h): exact bodies against AWS.md's examples (fixtures under
 * data/aws/, files named *_botocore.txt), RFC 3986 encoding, and the limits.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/form.h"
#include "aws/sts.h"

static char *slurp(const char *name)
{
	char path[1024];
	const char *dir = getenv("CBQ_TESTDATA");

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/aws/%s", dir, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	char *buf = calloc(1, 1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* An independent RFC 3986 encoder for expected bodies. */
static void enc(char *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (strchr("-_.~", c) || (c >= '0' && c <= '9') ||
		    ((c | 32) >= 'a' && (c | 32) <= 'z'))
			out += sprintf(out, "%c", c);
		else
			out += sprintf(out, "%%%02X", c);
	}
	*out = '\0';
}

/* The fixture's name=value lines (comments skipped), each side encoded,
 * joined with '&': what a byte-exact body must be. */
static char *expected_body(const char *fixture)
{
	char *text = slurp(fixture), *out = calloc(1, 1 << 17), *o = out;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *eq = strchr(line, '=');
		cr_assert(eq, "fixture line without '=': %s", line);
		if (o != out)
			*o++ = '&';
		enc(o, line, (size_t)(eq - line));
		o += strlen(o);
		*o++ = '=';
		enc(o, eq + 1, strlen(eq + 1));
		o += strlen(o);
	}
	free(text);
	return out;
}

Test(aws_form, encodes_rfc3986_upper_hex_and_space_as_pct20)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "AZaz09-_.~", "AZaz09-_.~" },
		{ "a b", "a%20b" },
		{ "a+b=c&d", "a%2Bb%3Dc%26d" },
		{ "arn:aws:iam::1:role/x", "arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx" },
		{ "*'()!", "%2A%27%28%29%21" },
		{ "\xc3\xa9\n", "%C3%A9%0A" },
		{ "", "" },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = aws_form_encode(cases[i].in, strlen(cases[i].in), out, sizeof(out));
		cr_assert_str_eq(out, cases[i].out, "case %zu", i);
		cr_assert_eq(n, strlen(cases[i].out));
	}
	cr_assert_eq(aws_form_encode("a b", 3, out, 5), (size_t)-1, "needs 6 bytes with the NUL");
	cr_assert_eq(aws_form_encode("a b", 3, out, 6), 5u);
}

Test(aws_form, keeps_order_skips_null_values)
{
	struct aws_form f;
	struct cbq_error err = { 0 };

	aws_form_init(&f, "X", "1", 0);
	aws_form_add(&f, "B", "2");
	aws_form_add(&f, "Opt", NULL);
	aws_form_add(&f, "A", "a b");
	aws_form_add_i64(&f, "N", -7);
	aws_form_addf(&f, "v", "L.%d.K", 3);
	cr_assert_eq(aws_form_finish(&f, &err), CBQ_OK);
	cr_assert_str_eq(aws_form_body(&f), "Action=X&Version=1&B=2&A=a%20b&N=-7&L.3.K=v");
	cr_assert_eq(aws_form_len(&f), strlen(aws_form_body(&f)));
	aws_form_free(&f);
	aws_form_free(&f); /* twice is fine */
	aws_form_free(NULL);
}

Test(aws_form, over_the_body_cap_is_too_large_and_sticky)
{
	struct aws_form f;
	struct cbq_error err = { 0 };
	char big[101];

	memset(big, ' ', sizeof(big) - 1); /* each space costs 3 bytes: 300 */
	big[sizeof(big) - 1] = '\0';
	aws_form_init(&f, "X", "1", 512);
	cr_assert_eq(aws_form_add(&f, "A", big), CBQ_OK);
	cr_assert_eq(aws_form_add(&f, "B", big), CBQ_ERR_TOO_LARGE);
	cr_assert_eq(aws_form_add(&f, "C", "small"), CBQ_ERR_TOO_LARGE, "errors are sticky");
	cr_assert_eq(aws_form_finish(&f, &err), CBQ_ERR_TOO_LARGE);
	cr_assert_str_eq(aws_form_body(&f), "");
	cr_assert(strstr(err.msg, "512"));
	aws_form_free(&f);
}

Test(aws_form, oversized_name_or_value_is_invalid)
{
	struct aws_form f;
	struct cbq_error err = { 0 };
	char *v = malloc(AWS_FORM_MAX_VALUE + 2);

	memset(v, 'v', AWS_FORM_MAX_VALUE + 1);
	v[AWS_FORM_MAX_VALUE + 1] = '\0';
	aws_form_init(&f, "X", "1", 1 << 20);
	cr_assert_eq(aws_form_add(&f, "V", v), CBQ_ERR_INVALID);
	cr_assert_eq(aws_form_finish(&f, &err), CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "V");
	aws_form_free(&f);
	v[AWS_FORM_MAX_NAME + 1] = '\0';
	aws_form_init(&f, "X", "1", 0);
	cr_assert_eq(aws_form_add(&f, v, "1"), CBQ_ERR_INVALID);
	aws_form_free(&f);
	aws_form_init(&f, "X", "1", 0);
	cr_assert_eq(aws_form_addf(&f, "1", "%s", v), CBQ_ERR_INVALID);
	aws_form_free(&f);
	aws_form_init(&f, "", "1", 0);
	cr_assert_eq(aws_form_finish(&f, NULL), CBQ_ERR_INVALID);
	aws_form_free(&f);
	free(v);
}

/* ---- EC2 */

static const struct aws_tag instance_tags[] = { { "broker:lease", "42" }, { "Name", "x" } };
static const struct aws_tag volume_tags[] = { { "broker:lease", "42" } };
static const struct aws_ec2_tag_spec botocore_specs[] = {
	{ "instance", instance_tags, 2 },
	{ "volume", volume_tags, 1 },
};
static const char *const sg1[] = { "sg-1" };

static struct aws_ec2_run_req botocore_run(void)
{
	return (struct aws_ec2_run_req){
		.image_id = "ami-0123456789abcdef0",
		.instance_type = "p5.48xlarge",
		.count = 1,
		.client_token = "broker-lease-42-a",
		.subnet_id = "subnet-1",
		.security_group_ids = sg1,
		.n_security_group_ids = 1,
		.capacity_block = true,
		.capacity_reservation_id = "cr-0123456789abcdef0",
		.tag_specs = botocore_specs,
		.n_tag_specs = 2,
		.user_data = (const uint8_t *)"#!/bin/sh\n",
		.user_data_len = 10,
		.metadata_http_tokens = "required",
	};
}

Test(aws_ec2_form, run_instances_matches_botocore_byte_for_byte)
{
	struct aws_ec2_run_req r = botocore_run();
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	char *want = expected_body("run_instances_botocore.txt");

	cr_assert_eq(aws_ec2_run_instances_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f), want);
	/* spot-check the encoding the join above did */
	cr_assert(strstr(aws_form_body(&f), "Tag.1.Key=broker%3Alease&"));
	cr_assert(strstr(aws_form_body(&f), "UserData=IyEvYmluL3NoCg%3D%3D&"));
	aws_form_free(&f);
	free(want);
}

Test(aws_ec2_form, run_instances_as_cbq_sends_it)
{
	static const struct aws_tag tags[] = { { "cbq:job", "42" }, { "cbq:team", "vision" } };
	static const struct aws_ec2_tag_spec specs[] = { { "instance", tags, 2 } };
	static const char *const sgs[] = { "sg-1", "sg-2" };
	struct aws_ec2_run_req r = {
		.image_id = "ami-1",
		.instance_type = "p5.48xlarge",
		.count = 4,
		.client_token = "cbq-42-1",
		.key_name = "ops key",
		.subnet_id = "subnet-1",
		.security_group_ids = sgs,
		.n_security_group_ids = 2,
		.iam_profile_arn = "arn:aws:iam::111100000001:instance-profile/gpu",
		.capacity_block = true,
		.capacity_reservation_id = "cr-0a0000000000000001",
		.shutdown_behavior = "terminate",
		.tag_specs = specs,
		.n_tag_specs = 1,
	};
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_run_instances_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(
		aws_form_body(&f),
		"Action=RunInstances&Version=2016-11-15&ImageId=ami-1&InstanceType=p5.48xlarge"
		"&MinCount=4&MaxCount=4&ClientToken=cbq-42-1&KeyName=ops%20key&SubnetId=subnet-1"
		"&SecurityGroupId.1=sg-1&SecurityGroupId.2=sg-2"
		"&IamInstanceProfile.Arn=arn%3Aaws%3Aiam%3A%3A111100000001%3Ainstance-profile%2Fgpu"
		"&InstanceMarketOptions.MarketType=capacity-block"
		"&CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId="
		"cr-0a0000000000000001"
		"&InstanceInitiatedShutdownBehavior=terminate"
		"&TagSpecification.1.ResourceType=instance"
		"&TagSpecification.1.Tag.1.Key=cbq%3Ajob&TagSpecification.1.Tag.1.Value=42"
		"&TagSpecification.1.Tag.2.Key=cbq%3Ateam&TagSpecification.1.Tag.2.Value=vision");
	aws_form_free(&f);

	r.iam_profile_arn = NULL;
	r.iam_profile_name = "gpu";
	cr_assert_eq(aws_ec2_run_instances_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert(strstr(aws_form_body(&f), "&IamInstanceProfile.Name=gpu&"));
	aws_form_free(&f);
}

Test(aws_ec2_form, run_instances_rejects_bad_input_naming_the_field)
{
	struct {
		struct aws_ec2_run_req r;
		const char *field;
	} t[12];
	size_t n = 0;
	char token65[66], ud[AWS_EC2_MAX_USER_DATA + 1];
	static const struct aws_tag many[AWS_EC2_MAX_TAGS + 1];
	static const struct aws_ec2_tag_spec too_many[] = { { "instance", many,
							      AWS_EC2_MAX_TAGS + 1 } };

	memset(token65, 'a', 65);
	token65[65] = '\0';
	memset(ud, 'u', sizeof(ud));
	for (size_t i = 0; i < 12; i++)
		t[i].r = botocore_run();
	t[n].r.count = 0, t[n++].field = "MinCount";
	t[n].r.count = AWS_EC2_MAX_COUNT + 1, t[n++].field = "MinCount";
	t[n].r.client_token = NULL, t[n++].field = "ClientToken";
	t[n].r.client_token = token65, t[n++].field = "ClientToken";
	t[n].r.client_token = "has space", t[n++].field = "ClientToken";
	t[n].r.image_id = NULL, t[n++].field = "ImageId";
	t[n].r.instance_type = "", t[n++].field = "InstanceType";
	t[n].r.iam_profile_name = "a", t[n].r.iam_profile_arn = "arn:aws:iam::1:instance-profile/a",
	t[n++].field = "IamInstanceProfile";
	t[n].r.tag_specs = too_many, t[n].r.n_tag_specs = 1, t[n++].field = "TagSpecification.Tag";
	t[n].r.user_data = (const uint8_t *)ud, t[n].r.user_data_len = sizeof(ud),
	t[n++].field = "UserData";
	t[n].r.n_security_group_ids = AWS_EC2_MAX_SECURITY_GROUPS + 1,
	t[n++].field = "SecurityGroupId";
	for (size_t i = 0; i < n; i++) {
		struct aws_form f = { 0 };
		struct cbq_error err = { 0 };
		cr_assert_eq(aws_ec2_run_instances_form(&t[i].r, &f, &err), CBQ_ERR_INVALID,
			     "case %zu (%s)", i, t[i].field);
		cr_assert_str_eq(err.field, t[i].field, "case %zu: %s", i, err.msg);
		cr_assert_null(f.buf, "no body on failure");
	}
}

Test(aws_ec2_form, describe_capacity_reservations_matches_aws_md)
{
	static const char *const ids[] = { "cr-1", "cr-2" };
	static const char *const states[] = { "active", "scheduled" };
	static const struct aws_filter filters[] = { { "state", states, 2 } };
	struct aws_ec2_describe_crs r = { .ids = ids,
					  .n_ids = 2,
					  .filters = filters,
					  .n_filters = 1,
					  .max_results = 100,
					  .next_token = "abc" };
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	char *want = expected_body("describe_crs_botocore.txt");

	cr_assert_eq(aws_ec2_describe_crs_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f), want);
	aws_form_free(&f);
	free(want);

	struct aws_ec2_describe_crs first = { 0 };
	cr_assert_eq(aws_ec2_describe_crs_form(&first, &f, &err), CBQ_OK);
	cr_assert_str_eq(aws_form_body(&f),
			 "Action=DescribeCapacityReservations&Version=2016-11-15");
	aws_form_free(&f);

	r.max_results = 1001;
	cr_assert_eq(aws_ec2_describe_crs_form(&r, &f, &err), CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "MaxResults");
}

Test(aws_ec2_form, capacity_reservation_usage)
{
	struct aws_ec2_cr_usage_req r = { .id = "cr-1", .max_results = 10, .next_token = "n/1" };
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_cr_usage_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f), "Action=GetCapacityReservationUsage&Version=2016-11-15"
					    "&CapacityReservationId=cr-1&MaxResults=10"
					    "&NextToken=n%2F1");
	aws_form_free(&f);
	r.id = NULL;
	cr_assert_eq(aws_ec2_cr_usage_form(&r, &f, &err), CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "CapacityReservationId");
}

Test(aws_ec2_form, describe_instances_matches_aws_md)
{
	static const char *const lease[] = { "42" };
	static const char *const states[] = { "pending", "running" };
	static const struct aws_filter filters[] = { { "tag:broker:lease", lease, 1 },
						     { "instance-state-name", states, 2 } };
	struct aws_ec2_describe_instances r = {
		.filters = filters, .n_filters = 2, .max_results = 5, .next_token = "t"
	};
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	char *want = expected_body("describe_instances_botocore.txt");

	cr_assert_eq(aws_ec2_describe_instances_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f), want);
	aws_form_free(&f);
	free(want);

	static const char *const ids[] = { "i-1", "i-2" };
	struct aws_ec2_describe_instances by_id = { .ids = ids, .n_ids = 2 };
	cr_assert_eq(aws_ec2_describe_instances_form(&by_id, &f, &err), CBQ_OK);
	cr_assert_str_eq(
		aws_form_body(&f),
		"Action=DescribeInstances&Version=2016-11-15&InstanceId.1=i-1&InstanceId.2=i-2");
	aws_form_free(&f);

	by_id.max_results = 5;
	cr_assert_eq(aws_ec2_describe_instances_form(&by_id, &f, &err), CBQ_ERR_INVALID,
		     "EC2 refuses MaxResults with InstanceId.N");
	r.max_results = 4;
	cr_assert_eq(aws_ec2_describe_instances_form(&r, &f, &err), CBQ_ERR_INVALID);

	struct aws_filter empty[] = { { "instance-state-name", states, 0 } };
	struct aws_ec2_describe_instances no_values = { .filters = empty, .n_filters = 1 };
	cr_assert_eq(aws_ec2_describe_instances_form(&no_values, &f, &err), CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "Filter.Value");
}

Test(aws_ec2_form, terminate_instances_matches_aws_md)
{
	static const char *const ids[] = { "i-1", "i-2" };
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	char *want = expected_body("terminate_instances_botocore.txt");

	cr_assert_eq(aws_ec2_terminate_form(ids, 2, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f), want);
	aws_form_free(&f);
	free(want);
	cr_assert_eq(aws_ec2_terminate_form(ids, 0, &f, &err), CBQ_ERR_INVALID);
	cr_assert_eq(aws_ec2_terminate_form(ids, AWS_EC2_MAX_IDS + 1, &f, &err), CBQ_ERR_INVALID);
	static const char *const bad[] = { "i-1", NULL };
	cr_assert_eq(aws_ec2_terminate_form(bad, 2, &f, &err), CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "InstanceId");
}

/* ---- STS */

Test(aws_sts_form, assume_role_matches_aws_md)
{
	static const struct aws_tag tags[] = { { "lease", "42" } };
	static const char *const transitive[] = { "lease" };
	static const char *const policies[] = { "arn:aws:iam::aws:policy/ReadOnlyAccess" };
	struct aws_sts_assume_role_req r = {
		.role_arn = "arn:aws:iam::111122223333:role/broker",
		.session_name = "lease-42",
		.external_id = "ext-abc",
		.duration_seconds = 3600,
		.source_identity = "broker",
		.tags = tags,
		.n_tags = 1,
		.transitive_tag_keys = transitive,
		.n_transitive_tag_keys = 1,
		.policy_arns = policies,
		.n_policy_arns = 1,
	};
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };
	char *want = slurp("assume_role_body.txt");

	want[strcspn(want, "\n")] = '\0';
	cr_assert_eq(aws_sts_assume_role_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f), want);
	aws_form_free(&f);
	free(want);
}

Test(aws_sts_form, assume_role_as_cbq_sends_it)
{
	static const struct aws_tag tags[] = { { "cbq:job", "42" } };
	struct aws_sts_assume_role_req r = { .role_arn =
						     "arn:aws:iam::111100000001:role/cbq-launcher",
					     .session_name = "cbq-42",
					     .external_id = "ext-1",
					     .tags = tags,
					     .n_tags = 1 };
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_sts_assume_role_form(&r, &f, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(aws_form_body(&f),
			 "Action=AssumeRole&Version=2011-06-15"
			 "&RoleArn=arn%3Aaws%3Aiam%3A%3A111100000001%3Arole%2Fcbq-launcher"
			 "&RoleSessionName=cbq-42&ExternalId=ext-1"
			 "&Tags.member.1.Key=cbq%3Ajob&Tags.member.1.Value=42");
	aws_form_free(&f);
}

Test(aws_sts_form, assume_role_rejects_bad_input)
{
	static const struct aws_tag long_key[] = {
		{ "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
		  "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk",
		  "v" }
	};
	const struct aws_sts_assume_role_req base = {
		.role_arn = "arn:aws:iam::1:role/cbq-launcher", .session_name = "cbq-42"
	};
	struct {
		struct aws_sts_assume_role_req r;
		const char *field;
	} t[8];
	size_t n = 0;

	for (size_t i = 0; i < 8; i++)
		t[i].r = base;
	t[n].r.role_arn = NULL, t[n++].field = "RoleArn";
	t[n].r.role_arn = "arn:short", t[n++].field = "RoleArn";
	t[n].r.session_name = "x", t[n++].field = "RoleSessionName";
	t[n].r.session_name = "has space", t[n++].field = "RoleSessionName";
	t[n].r.external_id = "bad#id", t[n++].field = "ExternalId";
	t[n].r.duration_seconds = 899, t[n++].field = "DurationSeconds";
	t[n].r.duration_seconds = 43201, t[n++].field = "DurationSeconds";
	t[n].r.tags = long_key, t[n].r.n_tags = 1, t[n++].field = "Tags";
	for (size_t i = 0; i < n; i++) {
		struct aws_form f = { 0 };
		struct cbq_error err = { 0 };
		cr_assert_eq(aws_sts_assume_role_form(&t[i].r, &f, &err), CBQ_ERR_INVALID,
			     "case %zu", i);
		cr_assert_str_eq(err.field, t[i].field, "case %zu: %s", i, err.msg);
	}
}

Test(aws_sts_form, get_caller_identity)
{
	struct aws_form f = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_sts_caller_identity_form(&f, &err), CBQ_OK);
	cr_assert_str_eq(aws_form_body(&f), "Action=GetCallerIdentity&Version=2011-06-15");
	aws_form_free(&f);
}
