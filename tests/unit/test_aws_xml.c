/*
 * AWS XML replies (broker/aws/xml.h, ec2.h, sts.h): success shapes from
 * AWS.md and moto, error bodies from EC2, STS and moto (data/aws/errors.tsv),
 * non-XML bodies, limits, and the error classifier (data/aws/classify.tsv).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/sts.h"
#include "aws/xml.h"

static FILE *open_data(const char *name)
{
	char path[1024];
	const char *dir = getenv("CBQ_TESTDATA");

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/aws/%s", dir, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "cannot open %s", path);
	return f;
}

/* The fixture's bytes, NOT NUL-terminated in the length (parsers get len). */
static char *slurp(const char *name, size_t *len)
{
	FILE *f = open_data(name);
	char *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

/* ---- EC2 */

Test(aws_ec2_reply, describe_instances_moto_shape_flattens_reservations)
{
	size_t len;
	char *body = slurp("ec2_describe_instances_moto.xml", &len);
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 3);
	const struct aws_ec2_instance *a = &v.items[0];
	cr_assert_str_eq(a->id, "i-4f00ec38af8dd822d");
	cr_assert_str_eq(a->reservation_id, "r-514c48386e35cc91f");
	cr_assert_str_eq(a->owner_id, "222233334444");
	cr_assert_str_eq(a->client_token, "lease-42-attempt-1");
	cr_assert_str_eq(a->lifecycle, "spot");
	cr_assert_str_eq(a->instance_type, "p5.48xlarge");
	cr_assert_str_eq(a->az, "us-east-1a");
	cr_assert_eq(a->state_code, 48);
	cr_assert_str_eq(a->state_name, "terminated");
	cr_assert_str_eq(a->state_reason, "Client.UserInitiatedShutdown: User initiated shutdown");
	cr_assert_eq(a->launch_time, 1795434139); /* 2026-11-23T11:42:19Z */
	cr_assert_eq(a->tags.n, 2);
	cr_assert_str_eq(a->tags.items[0].key, "broker:lease");
	cr_assert_str_eq(a->tags.items[0].value, "42");
	cr_assert_str_eq(a->tags.items[1].value, "");
	cr_assert_null(a->capacity_reservation_id);
	cr_assert_str_eq(v.items[1].reservation_id, "r-2");
	cr_assert_eq(v.items[1].state_code, 16);
	cr_assert_eq(v.items[1].tags.n, 0);
	cr_assert_eq(v.items[2].state_code, 0, "high byte masked: 256 & 0xFF");
	cr_assert_str_eq(v.next_token, "page-2");
	cr_assert_str_eq(v.request_id, "request-id");
	aws_ec2_instances_free(&v);
	aws_ec2_instances_free(&v);
	free(body);
}

Test(aws_ec2_reply, describe_instances_empty_next_token_ends_paging)
{
	size_t len;
	char *body = slurp("ec2_describe_instances_last_page.xml", &len);
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 0);
	cr_assert_null(v.next_token);
	cr_assert_str_eq(v.request_id, "8f7724cf-496f-496e-8fe3-example");
	aws_ec2_instances_free(&v);
	free(body);
}

Test(aws_ec2_reply, run_instances_real_ec2_shape)
{
	size_t len;
	char *body = slurp("ec2_run_instances.xml", &len);
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_parse_run_instances(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.items[0].id, "i-0aaaaaaaaaaaaaaa1");
	cr_assert_str_eq(v.items[0].reservation_id, "r-0a1b2c3d4e5f60718");
	cr_assert_str_eq(v.items[0].owner_id, "111100000001");
	cr_assert_str_eq(v.items[0].lifecycle, "capacity-block");
	cr_assert_str_eq(v.items[0].capacity_reservation_id, "cr-0a0000000000000001");
	cr_assert_str_eq(v.items[0].client_token, "cbq-42-1");
	cr_assert_str_eq(v.items[0].subnet_id, "subnet-1");
	cr_assert_str_eq(v.items[0].private_ip, "10.0.0.12");
	cr_assert_str_eq(v.items[0].state_name, "pending");
	cr_assert_eq(v.items[0].tags.n, 2);
	cr_assert_str_eq(v.items[0].tags.items[1].key, "cbq:team");
	cr_assert_str_eq(v.items[1].id, "i-0aaaaaaaaaaaaaaa2");
	cr_assert_str_eq(v.items[1].reservation_id, "r-0a1b2c3d4e5f60718");
	cr_assert_null(v.next_token);
	cr_assert_str_eq(v.request_id, "5e3a8f1c-run-example");
	aws_ec2_instances_free(&v);

	/* the wrong parser for the reply is an error, not garbage */
	cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_ERR_INVALID);
	cr_assert(strstr(err.msg, "RunInstancesResponse"), "%s", err.msg);
	cr_assert_null(v.items);
	free(body);
}

Test(aws_ec2_reply, terminate_instances_state_changes)
{
	size_t len;
	char *body = slurp("ec2_terminate_instances.xml", &len);
	struct aws_ec2_terminated v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_parse_terminate(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.items[0].id, "i-1");
	cr_assert_eq(v.items[0].current_code, 32);
	cr_assert_str_eq(v.items[0].current_name, "shutting-down");
	cr_assert_eq(v.items[0].previous_code, 16);
	cr_assert_str_eq(v.items[1].previous_name, "terminated");
	cr_assert_eq(v.items[1].current_code, 48);
	cr_assert_str_eq(v.request_id, "59dbff89-35bd-4eac-99ed-be587example");
	aws_ec2_terminated_free(&v);
	free(body);
}

Test(aws_ec2_reply, describe_capacity_reservations)
{
	size_t len;
	char *body = slurp("ec2_describe_crs.xml", &len);
	struct aws_ec2_crs v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_parse_describe_crs(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, 2);
	const struct aws_ec2_cr *c = &v.items[0];
	cr_assert_str_eq(c->id, "cr-0a0000000000000001");
	cr_assert_str_eq(c->owner_id, "999900000000");
	cr_assert_str_eq(c->arn, "arn:aws:ec2:us-east-1:999900000000:capacity-reservation/"
				 "cr-0a0000000000000001");
	cr_assert_str_eq(c->az, "us-east-1a");
	cr_assert_str_eq(c->az_id, "use1-az1");
	cr_assert_str_eq(c->instance_type, "p5.48xlarge");
	cr_assert_str_eq(c->platform, "Linux/UNIX");
	cr_assert_str_eq(c->tenancy, "default");
	cr_assert_eq(c->total, 4);
	cr_assert_eq(c->available, 1);
	cr_assert_str_eq(c->state, "active");
	cr_assert_eq(c->start, 1795433400); /* 2026-11-23T11:30:00Z */
	cr_assert_eq(c->end, 1795433400 + 7 * 86400);
	cr_assert_eq(c->created, 1795162542);
	cr_assert_str_eq(c->end_date_type, "limited");
	cr_assert_str_eq(c->match_criteria, "targeted");
	cr_assert_str_eq(c->reservation_type, "capacity-block");
	cr_assert_str_eq(c->capacity_block_id, "cb-0123456789abcdef0");
	cr_assert_eq(c->tags.n, 1);
	cr_assert_str_eq(c->tags.items[0].value, "platform");
	cr_assert_str_eq(v.items[1].state, "scheduled");
	cr_assert_eq(v.items[1].available, 0);
	cr_assert_null(v.items[1].arn);
	cr_assert_eq(v.items[1].created, 0);
	cr_assert_str_eq(v.next_token, "crs-page-2");
	cr_assert_str_eq(v.request_id, "d1b0a1f0-crs-example");
	aws_ec2_crs_free(&v);
	free(body);
}

Test(aws_ec2_reply, capacity_reservation_usage)
{
	size_t len;
	char *body = slurp("ec2_cr_usage.xml", &len);
	struct aws_ec2_cr_usage v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_ec2_parse_cr_usage(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(v.id, "cr-0a0000000000000001");
	cr_assert_str_eq(v.instance_type, "p5.48xlarge");
	cr_assert_str_eq(v.state, "active");
	cr_assert_eq(v.total, 4);
	cr_assert_eq(v.available, 1);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.items[0].account_id, "111100000001");
	cr_assert_eq(v.items[0].used, 2);
	cr_assert_str_eq(v.items[1].account_id, "111100000003");
	cr_assert_eq(v.items[1].used, 1);
	cr_assert_null(v.next_token);
	aws_ec2_cr_usage_free(&v);
	free(body);
}

Test(aws_ec2_reply, malformed_values_are_invalid_naming_the_element)
{
	static const struct {
		const char *xml, *field;
	} cases[] = {
		{ "<DescribeCapacityReservationsResponse><capacityReservationSet><item>"
		  "<capacityReservationId>cr-1</capacityReservationId>"
		  "<totalInstanceCount>four</totalInstanceCount></item></capacityReservationSet>"
		  "</DescribeCapacityReservationsResponse>",
		  "totalInstanceCount" },
		{ "<DescribeCapacityReservationsResponse><capacityReservationSet><item>"
		  "<capacityReservationId>cr-1</capacityReservationId>"
		  "<availableInstanceCount>-1</availableInstanceCount></item>"
		  "</capacityReservationSet></DescribeCapacityReservationsResponse>",
		  "availableInstanceCount" },
		{ "<DescribeCapacityReservationsResponse><capacityReservationSet><item>"
		  "<capacityReservationId>cr-1</capacityReservationId>"
		  "<endDate>2026-02-30T11:30:00Z</endDate></item></capacityReservationSet>"
		  "</DescribeCapacityReservationsResponse>",
		  "endDate" },
		{ "<DescribeCapacityReservationsResponse><capacityReservationSet><item>"
		  "<state>active</state></item></capacityReservationSet>"
		  "</DescribeCapacityReservationsResponse>",
		  "capacityReservationId" },
		{ "<DescribeCapacityReservationsResponse><capacityReservationSet><item>"
		  "<capacityReservationId>cr-<x/>1</capacityReservationId><tagSet><item><value>v</value>"
		  "</item></tagSet></item></capacityReservationSet>"
		  "</DescribeCapacityReservationsResponse>",
		  "key" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_ec2_crs v = { 0 };
		struct cbq_error err = { 0 };
		cr_assert_eq(aws_ec2_parse_describe_crs(cases[i].xml, strlen(cases[i].xml), &v,
							&err),
			     CBQ_ERR_INVALID, "case %zu", i);
		cr_assert_str_eq(err.field, cases[i].field, "case %zu: %s", i, err.msg);
		cr_assert_null(v.items, "outputs only on success");
	}
}

/* A reply with n instances, built in memory. */
static char *many_instances(size_t n, size_t *len)
{
	static const char head[] =
		"<DescribeInstancesResponse><reservationSet><item><instancesSet>";
	static const char item[] = "<item><instanceId>i-0123456789abcdef0</instanceId></item>";
	static const char tail[] =
		"</instancesSet></item></reservationSet></DescribeInstancesResponse>";
	char *buf = malloc(sizeof(head) + n * (sizeof(item) - 1) + sizeof(tail));
	char *o = buf;

	o += sprintf(o, "%s", head);
	for (size_t i = 0; i < n; i++)
		o += sprintf(o, "%s", item);
	o += sprintf(o, "%s", tail);
	*len = (size_t)(o - buf);
	return buf;
}

Test(aws_ec2_reply, item_count_and_reply_size_are_bounded)
{
	struct aws_ec2_instances v = { 0 };
	struct cbq_error err = { 0 };
	size_t len;
	char *body = many_instances(AWS_EC2_MAX_ITEMS, &len);

	cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(v.n, AWS_EC2_MAX_ITEMS);
	aws_ec2_instances_free(&v);
	free(body);

	body = many_instances(AWS_EC2_MAX_ITEMS + 1, &len);
	cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_ERR_TOO_LARGE);
	free(body);

	/* a huge body is refused before parsing */
	len = (size_t)AWS_XML_MAX_REPLY + 1;
	body = malloc(len);
	memset(body, ' ', len);
	memcpy(body, "<DescribeInstancesResponse>", 27);
	cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_ERR_TOO_LARGE);
	struct aws_error_reply r;
	aws_error_parse(body, len, 500, &r);
	cr_assert_not(r.xml);
	cr_assert_eq(aws_error_classify(r.code, r.http_status), AWS_ERRCLASS_RETRY);
	free(body);

	/* one overlong element */
	char *text = malloc(AWS_XML_MAX_TEXT + 200);
	int n = sprintf(text, "<RunInstancesResponse><instancesSet><item><instanceId>");
	memset(text + n, 'i', AWS_XML_MAX_TEXT + 1);
	n += AWS_XML_MAX_TEXT + 1;
	n += sprintf(text + n, "</instanceId></item></instancesSet></RunInstancesResponse>");
	cr_assert_eq(aws_ec2_parse_run_instances(text, (size_t)n, &v, &err), CBQ_ERR_TOO_LARGE);
	cr_assert_str_eq(err.field, "instanceId");
	free(text);
}

Test(aws_ec2_reply, non_xml_and_hostile_bodies_are_errors_not_crashes)
{
	static const char *const files[] = { "err_html500.html", "err_empty.txt",
					     "err_truncated.xml", "err_dtd_entities.xml" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		size_t len;
		char *body = slurp(files[i], &len);
		struct aws_ec2_instances v = { 0 };
		struct aws_sts_credentials c = { 0 };
		struct cbq_error err = { 0 };
		cr_assert_eq(aws_ec2_parse_describe_instances(body, len, &v, &err), CBQ_ERR_INVALID,
			     "%s", files[i]);
		cr_assert_eq(aws_sts_parse_assume_role(body, len, &c, &err), CBQ_ERR_INVALID, "%s",
			     files[i]);
		free(body);
	}
	struct aws_ec2_instances v = { 0 };
	cr_assert_eq(aws_ec2_parse_describe_instances(NULL, 0, &v, NULL), CBQ_ERR_INVALID);
}

/* ---- STS */

Test(aws_sts_reply, assume_role_moto_shape)
{
	size_t len;
	char *body = slurp("sts_assume_role_moto.xml", &len);
	struct aws_sts_credentials c = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_sts_parse_assume_role(body, len, &c, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(c.access_key_id, "ASIAQGUPOEXAMPLEKEY1");
	cr_assert_str_eq(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
	cr_assert_str_eq(c.session_token,
			 "FQoGZXIvYXdzEXAMPLE//////////wEaDEXAMPLETOKENzXZTheEndOfTheToken=");
	cr_assert_eq(c.expiration, 1795435050); /* 2026-11-23T11:57:30Z, fraction dropped */
	cr_assert_str_eq(c.assumed_role_id, "AROAQGUPOEXAMPLEROLE:lease-43");
	cr_assert_str_eq(c.arn,
			 "arn:aws:sts::222233334444:assumed-role/capblock-launcher/lease-43");
	cr_assert_str_eq(c.request_id, "c6104cbe-af31-11e0-8154-cbc7ccf896c7");
	aws_sts_credentials_free(&c);
	cr_assert_null(c.secret_access_key);
	aws_sts_credentials_free(NULL);
	free(body);

	body = slurp("sts_assume_role_no_fraction.xml", &len);
	cr_assert_eq(aws_sts_parse_assume_role(body, len, &c, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(c.expiration, 1795435200);
	cr_assert_null(c.request_id);
	aws_sts_credentials_free(&c);
	free(body);
}

Test(aws_sts_reply, assume_role_errors_never_quote_secrets)
{
	static const char *const bad[] = {
		/* no token */
		"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
		"<SecretAccessKey>TOPSECRET</SecretAccessKey><Expiration>2026-11-23T12:00:00Z"
		"</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>",
		/* bad expiration */
		"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
		"<SecretAccessKey>TOPSECRET</SecretAccessKey><SessionToken>TOPSECRET</SessionToken>"
		"<Expiration>TOPSECRET</Expiration></Credentials></AssumeRoleResult>"
		"</AssumeRoleResponse>",
		/* truncated */
		"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
		"<SecretAccessKey>TOPSECRET</Secret",
		/* empty secret */
		"<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId>"
		"<SecretAccessKey/><SessionToken>TOPSECRET</SessionToken>"
		"<Expiration>2026-11-23T12:00:00Z</Expiration></Credentials></AssumeRoleResult>"
		"</AssumeRoleResponse>",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct aws_sts_credentials c = { 0 };
		struct cbq_error err = { 0 };
		cr_assert_eq(aws_sts_parse_assume_role(bad[i], strlen(bad[i]), &c, &err),
			     CBQ_ERR_INVALID, "case %zu", i);
		cr_assert_null(strstr(err.msg, "TOPSECRET"), "case %zu: %s", i, err.msg);
		cr_assert_null(c.access_key_id);
	}
}

Test(aws_sts_reply, session_token_is_bounded)
{
	size_t cap = AWS_STS_MAX_SESSION_TOKEN + 512;
	char *body = malloc(cap);
	int n = sprintf(body, "<AssumeRoleResponse><AssumeRoleResult><Credentials>"
			      "<AccessKeyId>ASIA1</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
			      "<SessionToken>");
	memset(body + n, 't', AWS_STS_MAX_SESSION_TOKEN + 1);
	n += AWS_STS_MAX_SESSION_TOKEN + 1;
	n += sprintf(body + n, "</SessionToken><Expiration>2026-11-23T12:00:00Z</Expiration>"
			       "</Credentials></AssumeRoleResult></AssumeRoleResponse>");
	struct aws_sts_credentials c = { 0 };
	struct cbq_error err = { 0 };
	cr_assert_eq(aws_sts_parse_assume_role(body, (size_t)n, &c, &err), CBQ_ERR_TOO_LARGE);
	cr_assert_str_eq(err.field, "SessionToken");
	free(body);
}

Test(aws_sts_reply, get_caller_identity)
{
	size_t len;
	char *body = slurp("sts_caller_identity.xml", &len);
	struct aws_sts_identity v = { 0 };
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_sts_parse_caller_identity(body, len, &v, &err), CBQ_OK, "%s", err.msg);
	cr_assert_str_eq(v.account, "222233334444");
	cr_assert_str_eq(v.arn,
			 "arn:aws:sts::222233334444:assumed-role/capblock-launcher/lease-42");
	cr_assert_str_eq(v.user_id, "AROAQGUPOEXAMPLEROLE:lease-42");
	cr_assert_str_eq(v.request_id, "01234567-89ab-cdef-0123-456789abcdef");
	aws_sts_identity_free(&v);
	free(body);

	static const char bad[] = "<GetCallerIdentityResponse><GetCallerIdentityResult>"
				  "<Arn>arn:aws:iam::1:user/x</Arn><Account>12ab</Account>"
				  "</GetCallerIdentityResult></GetCallerIdentityResponse>";
	cr_assert_eq(aws_sts_parse_caller_identity(bad, sizeof(bad) - 1, &v, &err),
		     CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "Account");
}

/* ---- errors */

static enum aws_err_class class_named(const char *s)
{
	static const enum aws_err_class all[] = { AWS_ERRCLASS_RETRY,	AWS_ERRCLASS_CAPACITY,
						  AWS_ERRCLASS_AUTH,	AWS_ERRCLASS_NEW_TOKEN,
						  AWS_ERRCLASS_DRY_RUN, AWS_ERRCLASS_FAIL };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(aws_err_class_name(all[i]), s) == 0)
			return all[i];
	cr_assert_fail("unknown class %s", s);
	return AWS_ERRCLASS_FAIL;
}

/* Splits a tab-separated line into at most max fields; returns the count. */
static size_t fields(char *line, char **f, size_t max)
{
	size_t n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return 0;
	for (char *p = line; p && n < max; n++) {
		f[n] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	return n;
}

Test(aws_error, bodies_from_every_wrapper_table)
{
	FILE *f = open_data("errors.tsv");
	char line[1024], *c[7];
	int rows = 0;

	while (fgets(line, sizeof(line), f)) {
		if (fields(line, c, 7) == 0)
			continue;
		size_t len;
		char *body = slurp(c[0], &len);
		struct aws_error_reply r;
		struct cbq_error err = { 0 };
		long status = strtol(c[1], NULL, 10);

		aws_error_parse(body, len, status, &r);
		rows++;
		cr_assert_eq(r.http_status, status);
		cr_assert_str_eq(r.code, strcmp(c[2], "-") ? c[2] : "", "%s", c[0]);
		cr_assert_eq(r.xml, strcmp(c[2], "-") != 0, "%s", c[0]);
		cr_assert_str_eq(aws_err_class_name(aws_error_classify(r.code, r.http_status)),
				 c[3], "%s", c[0]);
		cr_assert_str_eq(r.request_id, strcmp(c[4], "-") ? c[4] : "", "%s", c[0]);
		enum cbq_err code = aws_error_to_cbq(&r, "ec2:RunInstances", &err);
		cr_assert_str_eq(cbq_err_name(code), c[5], "%s: %s", c[0], err.msg);
		cr_assert(strncmp(err.msg, "ec2:RunInstances: ", 18) == 0, "%s", err.msg);
		if (strcmp(c[6], "-") != 0)
			cr_assert(strstr(r.excerpt, c[6]), "%s: excerpt [%s]", c[0], r.excerpt);
		if (r.xml) {
			cr_assert(strstr(err.msg, r.code), "%s", err.msg);
			cr_assert(r.message[0], "%s has a message", c[0]);
		}
		cr_assert_null(strstr(err.msg, "wJalrXUtnFEMI"), "never a secret: %s", err.msg);
		cr_assert_null(strchr(r.excerpt, '<'), "tags dropped: %s", r.excerpt);
		free(body);
	}
	fclose(f);
	cr_assert_gt(rows, 10);
}

Test(aws_error, message_and_excerpt_are_cleaned_and_cut)
{
	char body[4096];
	int n = sprintf(body, "<Response><Errors><Error><Code>InvalidParameterValue</Code>"
			      "<Message>line1\nline2\t");
	memset(body + n, 'm', 2000);
	n += 2000;
	n += sprintf(body + n, "</Message></Error></Errors></Response>");
	struct aws_error_reply r;
	aws_error_parse(body, (size_t)n, 400, &r);
	cr_assert(r.xml);
	cr_assert_eq(strncmp(r.message, "line1 line2 mmm", 15), 0, "%s", r.message);
	cr_assert_eq(strlen(r.message), sizeof(r.message) - 1);

	memset(body, 'x', sizeof(body));
	body[10] = '\x01';
	aws_error_parse(body, sizeof(body), 502, &r);
	cr_assert_not(r.xml);
	cr_assert_eq(strlen(r.excerpt), AWS_XML_EXCERPT);
	cr_assert_null(strchr(r.excerpt, '\x01'));
}

Test(aws_error, classifier_follows_aws_md_table)
{
	FILE *f = open_data("classify.tsv");
	char line[512], *c[3];
	int rows = 0;

	while (fgets(line, sizeof(line), f)) {
		if (fields(line, c, 3) != 3)
			continue;
		const char *code = strcmp(c[0], "-") ? c[0] : NULL;
		long status = strtol(c[1], NULL, 10);
		cr_assert_eq(aws_error_classify(code, status), class_named(c[2]), "%s %ld -> %s",
			     c[0], status, c[2]);
		rows++;
	}
	fclose(f);
	cr_assert_gt(rows, 50);
}

Test(aws_error, dry_run_success_is_not_an_error)
{
	struct aws_error_reply r = { .http_status = 412 };
	struct cbq_error err = { 0 };

	strcpy(r.code, "DryRunOperation");
	r.xml = true;
	cr_assert_eq(aws_error_to_cbq(&r, "ec2:RunInstances", &err), CBQ_OK);
	cr_assert_eq(err.code, CBQ_OK);
}

Test(aws_error, cbq_codes_for_fail_class)
{
	static const struct {
		const char *code;
		enum cbq_err want;
	} cases[] = {
		{ "IdempotentParameterMismatch", CBQ_ERR_CONFLICT },
		{ "IdempotentInstanceTerminated", CBQ_ERR_CONFLICT },
		{ "InvalidCapacityReservationId.NotFound", CBQ_ERR_NOT_FOUND },
		{ "InvalidParameterValue", CBQ_ERR_INVALID },
		{ "ExpiredToken", CBQ_ERR_UNAUTHENTICATED },
		{ "InsufficientInstanceCapacity", CBQ_ERR_UNAVAILABLE },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_error_reply r = { .http_status = 400, .xml = true };
		struct cbq_error err = { 0 };
		snprintf(r.code, sizeof(r.code), "%s", cases[i].code);
		cr_assert_eq(aws_error_to_cbq(&r, NULL, &err), cases[i].want, "%s", cases[i].code);
		cr_assert(strstr(err.msg, "AWS: "), "%s", err.msg);
	}
}

/* ---- time */

Test(aws_xml, iso8601_times)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t want;
	} cases[] = {
		{ "1970-01-01T00:00:00Z", true, 0 },
		{ "2026-11-23T11:42:19.000Z", true, 1795434139 },
		{ "2026-11-23T11:57:30.575812Z", true, 1795435050 },
		{ "2026-11-23T12:57:30+01:00", true, 1795435050 },
		{ "2026-11-23T06:57:30-05:00", true, 1795435050 },
		{ "2024-02-29T00:00:00Z", true, 1709164800 },
		{ "1969-12-31T23:59:59Z", true, -1 },
		{ "2023-02-29T00:00:00Z", false, 0 },
		{ "2026-13-01T00:00:00Z", false, 0 },
		{ "2026-11-23T24:00:00Z", false, 0 },
		{ "2026-11-23T11:42:19", false, 0 },
		{ "2026-11-23T11:42:19.Z", false, 0 },
		{ "2026-11-23 11:42:19Z", false, 0 },
		{ "2026-11-23T11:42:19Zjunk", false, 0 },
		{ "", false, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = 12345;
		cr_assert_eq(aws_parse_time(cases[i].in, &t), cases[i].ok, "%s", cases[i].in);
		if (cases[i].ok)
			cr_assert_eq(t, cases[i].want, "%s -> %lld", cases[i].in, (long long)t);
	}
}

Test(aws_xml, namespaces_are_ignored_and_prefixes_too)
{
	static const char body[] =
		"<ec2:GetCallerIdentityResponse xmlns:ec2=\"urn:x\"><ec2:GetCallerIdentityResult>"
		"<ec2:Account> 222233334444</ec2:Account><Arn><![CDATA[arn:aws:iam::222233334444:"
		"user/a&b]]></Arn></ec2:GetCallerIdentityResult></ec2:GetCallerIdentityResponse>";
	struct aws_sts_identity v = { 0 };
	struct cbq_error err = { 0 };

	/* Account text is kept verbatim, so the leading space makes it invalid. */
	cr_assert_eq(aws_sts_parse_caller_identity(body, sizeof(body) - 1, &v, &err),
		     CBQ_ERR_INVALID);
	cr_assert_str_eq(err.field, "Account");
	static const char ok[] =
		"<ec2:GetCallerIdentityResponse xmlns:ec2=\"urn:x\"><ec2:GetCallerIdentityResult>"
		"<ec2:Account>222233334444</ec2:Account><Arn><![CDATA[arn:aws:iam::222233334444:"
		"user/a&b]]></Arn></ec2:GetCallerIdentityResult></ec2:GetCallerIdentityResponse>";
	cr_assert_eq(aws_sts_parse_caller_identity(ok, sizeof(ok) - 1, &v, &err), CBQ_OK, "%s",
		     err.msg);
	cr_assert_str_eq(v.arn, "arn:aws:iam::222233334444:user/a&b");
	aws_sts_identity_free(&v);
}
