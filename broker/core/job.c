/*
 * Job states and the checks of a job spec that need nothing but the spec.
 * Pure: no I/O, no clock. Checks that need Postgres (account registered to
 * the caller's team, kind known to the policy tables) live with the data.
 */
#include "core/job.h"

#include <ctype.h>
#include <string.h>

static const char *const state_names[JOB_STATE_COUNT] = {
	[JOB_QUEUED] = "queued",       [JOB_LAUNCHING] = "launching",
	[JOB_RUNNING] = "running",     [JOB_EXPIRING] = "expiring",
	[JOB_SUCCEEDED] = "succeeded", [JOB_FAILED] = "failed",
	[JOB_TIMED_OUT] = "timed_out", [JOB_EXPIRED] = "expired",
	[JOB_CANCELLED] = "cancelled",
};

const char *job_state_name(enum job_state s)
{
	return (unsigned)s < JOB_STATE_COUNT ? state_names[s] : "unknown";
}

bool job_state_parse(const char *name, enum job_state *out)
{
	for (int i = 0; i < JOB_STATE_COUNT; i++) {
		if (strcmp(name, state_names[i]) == 0) {
			*out = (enum job_state)i;
			return true;
		}
	}
	return false;
}

bool job_state_is_final(enum job_state s)
{
	return s >= JOB_SUCCEEDED;
}

bool cbq_is_account_id(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isdigit((unsigned char)s[n]))
			return false;
	return n == 12;
}

/* Lower-case letters and digits, a dot, then letters, digits and dashes:
 * p5.48xlarge, trn1n.32xlarge, u-6tb1.metal. */
bool cbq_is_instance_type(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t len = strlen(s);

	if (!dot || dot == s || !dot[1] || strchr(dot + 1, '.') || len > 64)
		return false;
	if (!islower((unsigned char)s[0]))
		return false;
	for (const char *p = s; *p; p++) {
		if (p == dot)
			continue;
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			return false;
	}
	return true;
}

bool cbq_is_printable(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (n >= max || s[n] < 0x20 || s[n] > 0x7e)
			return false;
	return true;
}

/* prefix followed by 8 or 17 lower-case hex digits (AWS resource ids). */
static bool is_aws_id(const char *s, const char *prefix)
{
	size_t plen = strlen(prefix), n = 0;

	if (strncmp(s, prefix, plen) != 0)
		return false;
	for (s += plen; s[n]; n++)
		if (!isxdigit((unsigned char)s[n]) || isupper((unsigned char)s[n]))
			return false;
	return n == 8 || n == 17;
}

/* As the job_kinds table allows: [a-z][a-z0-9_-]{0,31} */
static bool is_kind(const char *s)
{
	size_t n = 0;

	if (!islower((unsigned char)s[0]))
		return false;
	for (; s[n]; n++)
		if (n >= JOB_KIND_MAX ||
		    !(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) || s[n] == '_' ||
		      s[n] == '-'))
			return false;
	return true;
}

static bool is_empty(const char *s)
{
	return !s || !*s;
}

static enum cbq_err validate_launch(const struct launch_spec *l, struct cbq_error *err)
{
	if (!is_empty(l->image_id) && !is_aws_id(l->image_id, "ami-"))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.image_id",
				"image id must look like ami-0123456789abcdef0");
	if (!is_empty(l->subnet_id) && !is_aws_id(l->subnet_id, "subnet-"))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.subnet_id",
				"subnet id must look like subnet-0123456789abcdef0");
	if (l->n_security_group_ids > JOB_SECURITY_GROUPS_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.security_group_ids",
				"at most %d security groups", JOB_SECURITY_GROUPS_MAX);
	for (size_t i = 0; i < l->n_security_group_ids; i++)
		if (!is_aws_id(l->security_group_ids[i], "sg-"))
			return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.security_group_ids",
					"security group %zu must look like sg-0123456789abcdef0",
					i + 1);
	if (!is_empty(l->key_name) && !cbq_is_printable(l->key_name, 255))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.key_name",
				"key name must be at most 255 printable ASCII characters");
	if (l->user_data_len > JOB_USER_DATA_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.user_data",
				"user data is %zu bytes; the limit is %d (16 KiB)",
				l->user_data_len, JOB_USER_DATA_MAX);
	if (!is_empty(l->instance_profile) && !cbq_is_printable(l->instance_profile, 2048))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.instance_profile",
				"instance profile must be a name or ARN of printable ASCII, at most 2048 characters");
	if (l->n_tags > JOB_TAGS_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.tags",
				"%zu tags; at most %d (AWS allows 50 per instance and cbq adds cbq:job and cbq:team)",
				l->n_tags, JOB_TAGS_MAX);
	for (size_t i = 0; i < l->n_tags; i++) {
		const struct job_tag *t = &l->tags[i];
		if (is_empty(t->key) || !cbq_is_printable(t->key, JOB_TAG_KEY_MAX))
			return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.tags",
					"tag %zu: key must be 1..%d printable characters", i + 1,
					JOB_TAG_KEY_MAX);
		if (strncmp(t->key, "aws:", 4) == 0 || strncmp(t->key, "cbq:", 4) == 0)
			return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.tags",
					"tag %zu: keys starting with aws: or cbq: are reserved", i + 1);
		if (!t->value || !cbq_is_printable(t->value, JOB_TAG_VALUE_MAX))
			return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.tags",
					"tag %zu: value must be at most %d printable characters", i + 1,
					JOB_TAG_VALUE_MAX);
		for (size_t j = 0; j < i; j++)
			if (strcmp(l->tags[j].key, t->key) == 0)
				return cbq_fail(err, CBQ_ERR_INVALID, "spec.launch.tags",
						"tag key %s appears twice", t->key);
	}
	return CBQ_OK;
}

enum cbq_err job_spec_validate(const struct job_spec *s, struct cbq_error *err)
{
	if (is_empty(s->account_id))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.account_id",
				"account id is required: the 12-digit AWS account the job runs in");
	if (!cbq_is_account_id(s->account_id))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.account_id",
				"account id must be 12 digits");
	if (!is_empty(s->name) && !cbq_is_printable(s->name, JOB_NAME_MAX))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.name",
				"name must be at most %d printable ASCII characters", JOB_NAME_MAX);
	if (is_empty(s->kind))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.kind",
				"kind is required, e.g. training, inference or research");
	if (!is_kind(s->kind))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.kind",
				"kind must be a lower-case name of at most %d characters, such as "
				"training or inference",
				JOB_KIND_MAX);
	if (is_empty(s->instance_type))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.instance_type",
				"instance type is required, e.g. p5.48xlarge");
	if (!cbq_is_instance_type(s->instance_type))
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.instance_type",
				"instance type must look like family.size, e.g. p5.48xlarge");
	if (s->count < 1 || s->count > JOB_COUNT_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.count",
				"count must be 1..%d instances (all in one block); got %d",
				JOB_COUNT_MAX, (int)s->count);
	if (s->duration_s < JOB_DURATION_MIN_S || s->duration_s > JOB_DURATION_MAX_S)
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.duration_seconds",
				"duration must be between 1 minute and 14 days; got %lld seconds",
				(long long)s->duration_s);
	if (s->priority < -JOB_PRIORITY_MAX || s->priority > JOB_PRIORITY_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "spec.priority",
				"priority must be between %d and %d", -JOB_PRIORITY_MAX,
				JOB_PRIORITY_MAX);
	return validate_launch(&s->launch, err);
}

enum cbq_err job_idempotency_key_validate(const char *key, struct cbq_error *err)
{
	if (!is_empty(key) && !cbq_is_printable(key, JOB_IDEMPOTENCY_KEY_MAX))
		return cbq_fail(err, CBQ_ERR_INVALID, "idempotency_key",
				"idempotency key must be at most %d printable ASCII characters",
				JOB_IDEMPOTENCY_KEY_MAX);
	return CBQ_OK;
}
