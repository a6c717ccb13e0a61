/* Validation of job specs, table-driven from data/job_spec_cases.tsv. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/job.h"

static char big[20000];
static uint8_t user_data[20000];
static struct job_tag tags[60];
static char tag_keys[60][24];

/* Applies one override to a valid spec; returns the idempotency key to check. */
static const char *apply(struct job_spec *s, const char *setting, char *value)
{
	static const char *sgs[1];
	const char *key = NULL;

	if (strcmp(value, "<empty>") == 0) {
		value[0] = '\0';
	} else if (sscanf(value, "<%d x>", &(int){ 0 }) == 1) {
		int n = atoi(value + 1);
		memset(big, 'x', (size_t)n);
		big[n] = '\0';
		value = big;
	} else if (strcmp(value, "<ctrl>") == 0) {
		value = "a\x01z";
	} else if (strcmp(value, "tab") == 0) {
		value = "a b";
	}
	if (strcmp(setting, "account_id") == 0)
		s->account_id = value;
	else if (strcmp(setting, "kind") == 0)
		s->kind = value;
	else if (strcmp(setting, "instance_type") == 0)
		s->instance_type = value;
	else if (strcmp(setting, "count") == 0)
		s->count = atoi(value);
	else if (strcmp(setting, "duration_s") == 0)
		s->duration_s = atoll(value);
	else if (strcmp(setting, "priority") == 0)
		s->priority = atoi(value);
	else if (strcmp(setting, "name") == 0)
		s->name = value;
	else if (strcmp(setting, "image_id") == 0)
		s->launch.image_id = value;
	else if (strcmp(setting, "subnet_id") == 0)
		s->launch.subnet_id = value;
	else if (strcmp(setting, "key_name") == 0)
		s->launch.key_name = value;
	else if (strcmp(setting, "instance_profile") == 0)
		s->launch.instance_profile = value;
	else if (strcmp(setting, "security_group") == 0) {
		sgs[0] = value;
		s->launch.security_group_ids = sgs;
		s->launch.n_security_group_ids = 1;
	} else if (strcmp(setting, "user_data") == 0) {
		s->launch.user_data = user_data;
		s->launch.user_data_len = (size_t)atoi(value);
	} else if (strcmp(setting, "tags") == 0) {
		size_t n = (size_t)atoi(value);
		for (size_t i = 0; i < n; i++) {
			snprintf(tag_keys[i], sizeof(tag_keys[i]), "k%zu", i);
			tags[i] = (struct job_tag){ tag_keys[i], "v" };
		}
		s->launch.tags = tags;
		s->launch.n_tags = n;
	} else if (strcmp(setting, "tag_key") == 0) {
		tags[0] = (struct job_tag){ value, "v" };
		s->launch.tags = tags;
		s->launch.n_tags = 1;
	} else if (strcmp(setting, "idempotency_key") == 0) {
		key = value;
	} else if (strcmp(setting, "-") != 0) {
		cr_assert_fail("unknown setting %s in the case table", setting);
	}
	return key;
}

Test(job_validate, every_case_in_the_table_names_the_right_field)
{
	char path[512], line[512];
	FILE *f;
	int cases = 0;

	snprintf(path, sizeof(path), "%s/job_spec_cases.tsv", getenv("CBQ_TESTDATA"));
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *setting, *value, *field, *save;
		struct job_spec s = {
			.account_id = "111111111111",
			.kind = "training",
			.instance_type = "p5.48xlarge",
			.count = 2,
			.duration_s = 4 * 3600,
		};
		struct cbq_error err = { 0 };
		const char *key;
		enum cbq_err rc;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		setting = strtok_r(line, "\t", &save);
		value = strtok_r(NULL, "\t", &save);
		field = strtok_r(NULL, "\t", &save);
		cr_assert(setting && value && field, "malformed case line");
		key = apply(&s, setting, value);
		rc = job_spec_validate(&s, &err);
		if (!rc && key)
			rc = job_idempotency_key_validate(key, &err);
		if (strcmp(field, "-") == 0) {
			cr_expect_eq(rc, CBQ_OK, "%s=%.20s should be valid: %s", setting, value,
				     err.msg);
		} else {
			cr_expect_eq(rc, CBQ_ERR_INVALID, "%s=%.20s should be refused", setting,
				     value);
			cr_expect_str_eq(err.field, field, "%s=%.20s", setting, value);
			cr_expect(strlen(err.msg) > 10, "a message says what to do");
		}
		cases++;
	}
	fclose(f);
	cr_assert_gt(cases, 40);
}

Test(job_state, names_round_trip)
{
	for (int i = 0; i < JOB_STATE_COUNT; i++) {
		enum job_state s;
		cr_assert(job_state_parse(job_state_name((enum job_state)i), &s));
		cr_assert_eq((int)s, i);
	}
	cr_assert_not(job_state_parse("Queued", &(enum job_state){ 0 }));
	cr_assert(job_state_is_final(JOB_CANCELLED));
	cr_assert_not(job_state_is_final(JOB_RUNNING));
}
