/*
 * EC2 request bodies (AWS.md §1.1, §1.4-§1.8); see ec2.h. Only what cbq
 * sends: no purchase or extension calls, no signing, no transport. Naming
 * follows botocore's EC2 serializer: lists flattened as Name.N from 1, the
 * singular locationName (TagSpecification.1.Tag.1.Key, SecurityGroupId.1).
 */
#include "aws/ec2.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* s must be present (unless optional and NULL) and min..max bytes long. */
static bool check(struct aws_form *f, const char *field, const char *s, bool optional, size_t min,
		  size_t max)
{
	if (!s) {
		if (!optional)
			aws_form_invalid(f, field, "%s is required", field);
		return optional;
	}
	size_t n = strlen(s);
	if (n < min || n > max) {
		aws_form_invalid(f, field, "%s must be %zu to %zu bytes, not %zu", field, min, max, n);
		return false;
	}
	return true;
}

static void add_list(struct aws_form *f, const char *name, const char *const *v, size_t n,
		     size_t max)
{
	if (n > max) {
		aws_form_invalid(f, name, "%s: %zu entries, at most %zu", name, n, max);
		return;
	}
	if (n && !v) {
		aws_form_invalid(f, name, "%s: %zu entries but no list", name, n);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (check(f, name, v[i], false, 1, AWS_EC2_MAX_ID_LEN))
			aws_form_addf(f, v[i], "%s.%zu", name, i + 1);
}

static void add_filters(struct aws_form *f, const struct aws_filter *fl, size_t n)
{
	if (n > AWS_EC2_MAX_FILTERS || (n && !fl)) {
		aws_form_invalid(f, "Filter", "at most %d filters", AWS_EC2_MAX_FILTERS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!check(f, "Filter.Name", fl[i].name, false, 1, 256))
			return;
		if (fl[i].n_values == 0 || fl[i].n_values > AWS_EC2_MAX_FILTER_VALUES ||
		    !fl[i].values) {
			aws_form_invalid(f, "Filter.Value", "filter %s needs 1 to %d values", fl[i].name,
			    AWS_EC2_MAX_FILTER_VALUES);
			return;
		}
		aws_form_addf(f, fl[i].name, "Filter.%zu.Name", i + 1);
		for (size_t j = 0; j < fl[i].n_values; j++)
			if (check(f, "Filter.Value", fl[i].values[j], false, 0, 1024))
				aws_form_addf(f, fl[i].values[j], "Filter.%zu.Value.%zu", i + 1,
					      j + 1);
	}
}

static void add_paging(struct aws_form *f, int max_results, int lo, int hi, const char *token)
{
	if (max_results) {
		if (max_results < lo || max_results > hi)
			aws_form_invalid(f, "MaxResults", "MaxResults must be %d to %d", lo, hi);
		else
			aws_form_add_i64(f, "MaxResults", max_results);
	}
	if (token && *token && check(f, "NextToken", token, false, 1, AWS_EC2_MAX_TOKEN_LEN))
		aws_form_add(f, "NextToken", token);
}

/* Hands the form over on success, frees it on failure. */
static enum cbq_err finish(struct aws_form *f, struct aws_form *out, struct cbq_error *err)
{
	enum cbq_err rc = aws_form_finish(f, err);

	if (rc) {
		aws_form_free(f);
		return rc;
	}
	*out = *f;
	return CBQ_OK;
}

enum cbq_err aws_ec2_describe_crs_form(const struct aws_ec2_describe_crs *r, struct aws_form *out,
				       struct cbq_error *err)
{
	struct aws_form f;

	aws_form_init(&f, "DescribeCapacityReservations", AWS_EC2_VERSION, 0);
	add_list(&f, "CapacityReservationId", r->ids, r->n_ids, AWS_EC2_MAX_IDS);
	add_filters(&f, r->filters, r->n_filters);
	add_paging(&f, r->max_results, 1, 1000, r->next_token);
	return finish(&f, out, err);
}

enum cbq_err aws_ec2_cr_usage_form(const struct aws_ec2_cr_usage_req *r, struct aws_form *out,
				   struct cbq_error *err)
{
	struct aws_form f;

	aws_form_init(&f, "GetCapacityReservationUsage", AWS_EC2_VERSION, 0);
	if (check(&f, "CapacityReservationId", r->id, false, 1, AWS_EC2_MAX_ID_LEN))
		aws_form_add(&f, "CapacityReservationId", r->id);
	add_paging(&f, r->max_results, 1, 1000, r->next_token);
	return finish(&f, out, err);
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

static void add_tag_specs(struct aws_form *f, const struct aws_ec2_tag_spec *ts, size_t n)
{
	if (n > AWS_EC2_MAX_TAG_SPECS || (n && !ts)) {
		aws_form_invalid(f, "TagSpecification", "at most %d tag specifications", AWS_EC2_MAX_TAG_SPECS);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!check(f, "TagSpecification.ResourceType", ts[i].resource_type, false, 1, 64))
			return;
		if (ts[i].n_tags > AWS_EC2_MAX_TAGS || (ts[i].n_tags && !ts[i].tags)) {
			aws_form_invalid(f, "TagSpecification.Tag", "at most %d tags per resource",
			    AWS_EC2_MAX_TAGS);
			return;
		}
		aws_form_addf(f, ts[i].resource_type, "TagSpecification.%zu.ResourceType", i + 1);
		for (size_t j = 0; j < ts[i].n_tags; j++) {
			const struct aws_tag *t = &ts[i].tags[j];
			if (!check(f, "Tag.Key", t->key, false, 1, 128) ||
			    !check(f, "Tag.Value", t->value, false, 0, 256))
				return;
			aws_form_addf(f, t->key, "TagSpecification.%zu.Tag.%zu.Key", i + 1, j + 1);
			aws_form_addf(f, t->value, "TagSpecification.%zu.Tag.%zu.Value", i + 1,
				      j + 1);
		}
	}
}

static void add_user_data(struct aws_form *f, const uint8_t *data, size_t len)
{
	if (!len)
		return;
	if (!data || len > AWS_EC2_MAX_USER_DATA) {
		aws_form_invalid(f, "UserData", "UserData must be 1 to %d bytes", AWS_EC2_MAX_USER_DATA);
		return;
	}
	char *b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (!b64)
		abort();
	EVP_EncodeBlock((unsigned char *)b64, data, (int)len);
	aws_form_add(f, "UserData", b64);
	free(b64);
}

enum cbq_err aws_ec2_run_instances_form(const struct aws_ec2_run_req *r, struct aws_form *out,
					struct cbq_error *err)
{
	struct aws_form f;

	aws_form_init(&f, "RunInstances", AWS_EC2_VERSION, 0);
	if (check(&f, "ImageId", r->image_id, false, 1, AWS_EC2_MAX_ID_LEN))
		aws_form_add(&f, "ImageId", r->image_id);
	if (check(&f, "InstanceType", r->instance_type, false, 1, 64))
		aws_form_add(&f, "InstanceType", r->instance_type);
	if (r->count < 1 || r->count > AWS_EC2_MAX_COUNT)
		aws_form_invalid(&f, "MinCount", "count must be 1 to %d, not %d", AWS_EC2_MAX_COUNT, r->count);
	aws_form_add_i64(&f, "MinCount", r->count);
	aws_form_add_i64(&f, "MaxCount", r->count);
	if (check(&f, "ClientToken", r->client_token, false, 1, AWS_EC2_MAX_CLIENT_TOKEN)) {
		if (!printable_ascii(r->client_token))
			aws_form_invalid(&f, "ClientToken", "ClientToken must be printable ASCII");
		aws_form_add(&f, "ClientToken", r->client_token);
	}
	if (check(&f, "KeyName", r->key_name, true, 1, 255))
		aws_form_add(&f, "KeyName", r->key_name);
	if (check(&f, "SubnetId", r->subnet_id, true, 1, AWS_EC2_MAX_ID_LEN))
		aws_form_add(&f, "SubnetId", r->subnet_id);
	add_list(&f, "SecurityGroupId", r->security_group_ids, r->n_security_group_ids,
		 AWS_EC2_MAX_SECURITY_GROUPS);
	if (r->iam_profile_name && r->iam_profile_arn)
		aws_form_invalid(&f, "IamInstanceProfile",
		    "IamInstanceProfile takes a name or an ARN, not both");
	if (check(&f, "IamInstanceProfile.Name", r->iam_profile_name, true, 1, 128))
		aws_form_add(&f, "IamInstanceProfile.Name", r->iam_profile_name);
	if (check(&f, "IamInstanceProfile.Arn", r->iam_profile_arn, true, 20, 2048))
		aws_form_add(&f, "IamInstanceProfile.Arn", r->iam_profile_arn);
	if (r->capacity_block)
		aws_form_add(&f, "InstanceMarketOptions.MarketType", "capacity-block");
	if (check(&f, "CapacityReservationId", r->capacity_reservation_id, true, 1,
		  AWS_EC2_MAX_ID_LEN))
		aws_form_add(&f,
			     "CapacityReservationSpecification.CapacityReservationTarget."
			     "CapacityReservationId",
			     r->capacity_reservation_id);
	if (check(&f, "InstanceInitiatedShutdownBehavior", r->shutdown_behavior, true, 1, 16))
		aws_form_add(&f, "InstanceInitiatedShutdownBehavior", r->shutdown_behavior);
	add_tag_specs(&f, r->tag_specs, r->n_tag_specs);
	add_user_data(&f, r->user_data, r->user_data_len);
	if (check(&f, "MetadataOptions.HttpTokens", r->metadata_http_tokens, true, 1, 16))
		aws_form_add(&f, "MetadataOptions.HttpTokens", r->metadata_http_tokens);
	return finish(&f, out, err);
}

enum cbq_err aws_ec2_describe_instances_form(const struct aws_ec2_describe_instances *r,
					     struct aws_form *out, struct cbq_error *err)
{
	struct aws_form f;

	aws_form_init(&f, "DescribeInstances", AWS_EC2_VERSION, 0);
	if (r->n_ids && r->max_results)
		aws_form_invalid(&f, "MaxResults", "MaxResults cannot be combined with InstanceId.N");
	add_list(&f, "InstanceId", r->ids, r->n_ids, AWS_EC2_MAX_IDS);
	add_filters(&f, r->filters, r->n_filters);
	add_paging(&f, r->max_results, 5, 1000, r->next_token);
	return finish(&f, out, err);
}

enum cbq_err aws_ec2_terminate_form(const char *const *ids, size_t n_ids, struct aws_form *out,
				    struct cbq_error *err)
{
	struct aws_form f;

	aws_form_init(&f, "TerminateInstances", AWS_EC2_VERSION, 0);
	if (n_ids == 0)
		aws_form_invalid(&f, "InstanceId", "TerminateInstances needs at least one instance id");
	add_list(&f, "InstanceId", ids, n_ids, AWS_EC2_MAX_IDS);
	return finish(&f, out, err);
}
