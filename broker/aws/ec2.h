/*
 * EC2 Query API (2016-11-15) for Capacity Blocks: form bodies for
 * DescribeCapacityReservations, GetCapacityReservationUsage, RunInstances,
 * DescribeInstances and TerminateInstances (AWS.md §1), and parsers for their
 * XML replies. Pure: no network, no clock, no signing (sigv4.h), no retry
 * decisions (xml.h classifies errors). Error replies go to aws_error_parse().
 */
#ifndef CBQ_AWS_EC2_H
#define CBQ_AWS_EC2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/form.h"
#include "core/arena.h"
#include "core/err.h"

#define AWS_EC2_VERSION "2016-11-15"

enum {
	AWS_EC2_MAX_IDS = 1000,		 /* instance or reservation ids in one request */
	AWS_EC2_MAX_FILTERS = 50,	 /* Filter.N */
	AWS_EC2_MAX_FILTER_VALUES = 200, /* Filter.N.Value.M */
	AWS_EC2_MAX_TAGS = 50,		 /* tags per resource (EC2's own limit) */
	AWS_EC2_MAX_TAG_SPECS = 8,	 /* TagSpecification.N */
	AWS_EC2_MAX_SECURITY_GROUPS = 16,
	AWS_EC2_MAX_COUNT = 1000,      /* MinCount = MaxCount */
	AWS_EC2_MAX_USER_DATA = 16384, /* raw bytes before base64 (EC2's limit) */
	AWS_EC2_MAX_CLIENT_TOKEN = 64, /* ASCII */
	AWS_EC2_MAX_ID_LEN = 128,      /* i-..., cr-..., sg-..., ami-... */
	AWS_EC2_MAX_ITEMS = 5000,      /* list entries accepted in one reply */
	AWS_EC2_MAX_TOKEN_LEN = 4096,  /* NextToken, both ways */
};

struct aws_tag {
	const char *key;   /* 1..128 bytes */
	const char *value; /* 0..256 bytes */
};

struct aws_filter {
	const char *name; /* "state", "tag:cbq:job", "instance-state-name" */
	const char *const *values;
	size_t n_values;
};

/* Request structs borrow every pointer for the duration of the call. On
 * success the builders leave a complete body in *out (free it with
 * aws_form_free()); on failure *out is empty and err says which field. */

struct aws_ec2_describe_crs {
	const char *const *ids; /* CapacityReservationId.N */
	size_t n_ids;
	const struct aws_filter *filters;
	size_t n_filters;
	int max_results;	/* 0: omit; else 1..1000 */
	const char *next_token; /* NULL or "": first page */
};
enum cbq_err aws_ec2_describe_crs_form(const struct aws_ec2_describe_crs *r, struct aws_form *out,
				       struct cbq_error *err) CBQ_MUST_CHECK;

struct aws_ec2_cr_usage_req {
	const char *id; /* required */
	int max_results;
	const char *next_token;
};
enum cbq_err aws_ec2_cr_usage_form(const struct aws_ec2_cr_usage_req *r, struct aws_form *out,
				   struct cbq_error *err) CBQ_MUST_CHECK;

struct aws_ec2_tag_spec {
	const char *resource_type; /* "instance", "volume" */
	const struct aws_tag *tags;
	size_t n_tags;
};

/* Parameters are sent in the order of AWS.md §1.1's botocore example; the
 * ones it lacks slot in beside their kin. NULL/0 fields are omitted. */
struct aws_ec2_run_req {
	const char *image_id;	   /* required */
	const char *instance_type; /* required */
	int count;		   /* MinCount = MaxCount, 1..AWS_EC2_MAX_COUNT */
	const char *client_token;  /* required: 1..64 printable ASCII */
	const char *key_name;
	const char *subnet_id;
	const char *const *security_group_ids; /* SecurityGroupId.N */
	size_t n_security_group_ids;
	const char *iam_profile_name;	     /* IamInstanceProfile.Name; at most one of */
	const char *iam_profile_arn;	     /* IamInstanceProfile.Arn */
	bool capacity_block;		     /* InstanceMarketOptions.MarketType=capacity-block */
	const char *capacity_reservation_id; /* CapacityReservationTarget */
	const char *shutdown_behavior;	     /* "terminate" */
	const struct aws_ec2_tag_spec *tag_specs;
	size_t n_tag_specs;
	const uint8_t *user_data; /* raw; sent base64 */
	size_t user_data_len;
	const char *metadata_http_tokens; /* MetadataOptions.HttpTokens: "required" */
};
enum cbq_err aws_ec2_run_instances_form(const struct aws_ec2_run_req *r, struct aws_form *out,
					struct cbq_error *err) CBQ_MUST_CHECK;

struct aws_ec2_describe_instances {
	const char *const *ids; /* InstanceId.N; not with max_results (EC2 refuses) */
	size_t n_ids;
	const struct aws_filter *filters;
	size_t n_filters;
	int max_results; /* 0: omit; else 5..1000 */
	const char *next_token;
};
enum cbq_err aws_ec2_describe_instances_form(const struct aws_ec2_describe_instances *r,
					     struct aws_form *out,
					     struct cbq_error *err) CBQ_MUST_CHECK;

/* InstanceId.N, 1..AWS_EC2_MAX_IDS ids. */
enum cbq_err aws_ec2_terminate_form(const char *const *ids, size_t n_ids, struct aws_form *out,
				    struct cbq_error *err) CBQ_MUST_CHECK;

/* ---- replies. Each parsed value owns its memory in .arena; free it with
 * its *_free(), which accepts a zeroed or NULL value. Parsers fill *out only
 * on success; strings absent from the reply are NULL, times 0. */

struct aws_tag_list {
	struct aws_tag *items; /* key/value point into the owner's arena */
	size_t n;
};

struct aws_ec2_cr {
	char *id, *owner_id, *arn, *az, *az_id, *instance_type, *platform, *tenancy;
	char *state, *end_date_type, *match_criteria, *reservation_type, *capacity_block_id;
	int64_t total, available;
	int64_t start, end, created; /* Unix seconds */
	struct aws_tag_list tags;
};

struct aws_ec2_crs {
	struct aws_ec2_cr *items;
	size_t n;
	char *next_token; /* NULL when this was the last page */
	char *request_id;
	struct cbq_arena arena;
};
enum cbq_err aws_ec2_parse_describe_crs(const char *body, size_t len, struct aws_ec2_crs *out,
					struct cbq_error *err) CBQ_MUST_CHECK;
void aws_ec2_crs_free(struct aws_ec2_crs *v);

struct aws_ec2_account_usage {
	char *account_id;
	int64_t used;
};

struct aws_ec2_cr_usage {
	char *id, *instance_type, *state;
	int64_t total, available;
	struct aws_ec2_account_usage *items;
	size_t n;
	char *next_token;
	char *request_id;
	struct cbq_arena arena;
};
enum cbq_err aws_ec2_parse_cr_usage(const char *body, size_t len, struct aws_ec2_cr_usage *out,
				    struct cbq_error *err) CBQ_MUST_CHECK;
void aws_ec2_cr_usage_free(struct aws_ec2_cr_usage *v);

struct aws_ec2_instance {
	char *id, *reservation_id, *owner_id, *instance_type, *client_token, *lifecycle;
	char *capacity_reservation_id, *az, *subnet_id, *private_ip;
	int state_code;	    /* low byte only: 0 pending, 16 running, 48 terminated, ... */
	char *state_name;   /* "running" */
	char *state_reason; /* stateReason/message, or NULL */
	int64_t launch_time;
	struct aws_tag_list tags;
};

/* RunInstances and DescribeInstances replies: instances of every
 * reservation, flattened, in reply order. */
struct aws_ec2_instances {
	struct aws_ec2_instance *items;
	size_t n;
	char *next_token;
	char *request_id;
	struct cbq_arena arena;
};
enum cbq_err aws_ec2_parse_run_instances(const char *body, size_t len,
					 struct aws_ec2_instances *out,
					 struct cbq_error *err) CBQ_MUST_CHECK;
enum cbq_err aws_ec2_parse_describe_instances(const char *body, size_t len,
					      struct aws_ec2_instances *out,
					      struct cbq_error *err) CBQ_MUST_CHECK;
void aws_ec2_instances_free(struct aws_ec2_instances *v);

struct aws_ec2_state_change {
	char *id;
	int current_code, previous_code; /* low byte */
	char *current_name, *previous_name;
};

struct aws_ec2_terminated {
	struct aws_ec2_state_change *items;
	size_t n;
	char *request_id;
	struct cbq_arena arena;
};
enum cbq_err aws_ec2_parse_terminate(const char *body, size_t len, struct aws_ec2_terminated *out,
				     struct cbq_error *err) CBQ_MUST_CHECK;
void aws_ec2_terminated_free(struct aws_ec2_terminated *v);

#endif
