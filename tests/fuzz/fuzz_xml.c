/*
 * libFuzzer target for the AWS XML parsers (aws/xml.h, ec2.h, sts.h): every
 * input goes to the error-reply parser and to each success-reply parser,
 * which must either refuse it with a message or return a value that frees
 * cleanly; plus the ISO-8601 time parser on the bytes as a string. Not a
 * test of what the parsers extract; tests/unit/test_aws_xml.c is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ec2.h"
#include "aws/sts.h"
#include "aws/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The refused input must say why, without returning anything. */
static void check(enum cbq_err rc, const struct cbq_error *err)
{
	if (rc != CBQ_OK && !err->msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct cbq_error err = { 0 };
	struct aws_error_reply reply;
	struct aws_ec2_crs crs = { 0 };
	struct aws_ec2_cr_usage usage = { 0 };
	struct aws_ec2_instances inst = { 0 };
	struct aws_ec2_terminated term = { 0 };
	struct aws_sts_credentials creds = { 0 };
	struct aws_sts_identity ident = { 0 };
	enum cbq_err rc;
	int64_t t;
	char *text;

	if (size > 256 * 1024)
		return 0; /* the size cap itself is a unit test, not worth fuzzing */

	aws_error_parse(body, size, 400, &reply);
	if (!memchr(reply.code, '\0', sizeof(reply.code)) ||
	    !memchr(reply.message, '\0', sizeof(reply.message)) ||
	    !memchr(reply.excerpt, '\0', sizeof(reply.excerpt)))
		abort();
	aws_error_to_cbq(&reply, "fuzz", &err);
	(void)aws_error_classify(reply.code, reply.http_status);

	rc = aws_ec2_parse_describe_crs(body, size, &crs, &err);
	check(rc, &err);
	aws_ec2_crs_free(&crs);
	rc = aws_ec2_parse_cr_usage(body, size, &usage, &err);
	check(rc, &err);
	aws_ec2_cr_usage_free(&usage);
	rc = aws_ec2_parse_run_instances(body, size, &inst, &err);
	check(rc, &err);
	aws_ec2_instances_free(&inst);
	memset(&inst, 0, sizeof(inst));
	rc = aws_ec2_parse_describe_instances(body, size, &inst, &err);
	check(rc, &err);
	aws_ec2_instances_free(&inst);
	rc = aws_ec2_parse_terminate(body, size, &term, &err);
	check(rc, &err);
	aws_ec2_terminated_free(&term);
	rc = aws_sts_parse_assume_role(body, size, &creds, &err);
	check(rc, &err);
	if (rc == CBQ_OK)
		aws_sts_credentials_free(&creds);
	rc = aws_sts_parse_caller_identity(body, size, &ident, &err);
	check(rc, &err);
	if (rc == CBQ_OK)
		aws_sts_identity_free(&ident);

	if (size <= 64) {
		text = malloc(size + 1);
		if (!text)
			abort();
		memcpy(text, data, size);
		text[size] = '\0';
		(void)aws_parse_time(text, &t);
		free(text);
	}
	return 0;
}
