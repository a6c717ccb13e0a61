/*
 * proto3 JSON output, compared byte for byte: cbq.v1 messages for what
 * `cbq -o json` prints, and a hand-made descriptor for the parts of the
 * mapping cbq.proto does not use (oneof, uint64, doubles, optional).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbq/v1/cbq.pb-c.h"
#include "pbjson.h"

static char *read_data(const char *name)
{
	char path[1024];
	const char *dir = getenv("CBQ_TESTDATA");
	FILE *f;
	char *buf = calloc(1, 1 << 16);
	size_t n;

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

/* Compact JSON of msg, for one-line expectations. */
static char *compact(const ProtobufCMessage *msg)
{
	json_t *j = pbjson_encode(msg);
	char *s;

	cr_assert(j, "pbjson_encode failed");
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

Test(pbjson, job_with_every_field_matches_fixture)
{
	static uint8_t ud[] = { '#', '!', 0x00, 0xff, 'x' };
	char *sgs[] = { "sg-1", "sg-2" };
	char *instances[] = { "i-0123456789abcdef0" };
	Cbq__V1__Tag t1 = CBQ__V1__TAG__INIT, t2 = CBQ__V1__TAG__INIT;
	Cbq__V1__Tag *tags[] = { &t1, &t2 };
	Cbq__V1__LaunchSpec launch = CBQ__V1__LAUNCH_SPEC__INIT;
	Cbq__V1__JobSpec spec = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__JobEvent ev = CBQ__V1__JOB_EVENT__INIT;
	Cbq__V1__JobEvent *events[] = { &ev };
	Cbq__V1__Job job = CBQ__V1__JOB__INIT;

	t1.key = "team";
	t1.value = "vision";
	t2.key = "run";
	t2.value = "7";
	launch.image_id = "ami-0123456789abcdef0";
	launch.subnet_id = "subnet-0123456789abcdef0";
	launch.security_group_ids = sgs;
	launch.n_security_group_ids = 2;
	launch.key_name = "k";
	launch.user_data = (ProtobufCBinaryData){ .len = sizeof(ud), .data = ud };
	launch.instance_profile = "prof";
	launch.tags = tags;
	launch.n_tags = 2;
	spec.account_id = "111111111111";
	spec.name = "resnet \xc3\xa9";
	spec.kind = "training";
	spec.instance_type = "p5.48xlarge";
	spec.count = 4;
	spec.duration_seconds = 7200;
	spec.priority = -3;
	spec.checkpointable = true;
	spec.launch = &launch;
	ev.at_ms = 5;
	ev.from_state = CBQ__V1__JOB_STATE__JOB_STATE_QUEUED;
	ev.to_state = CBQ__V1__JOB_STATE__JOB_STATE_RUNNING;
	ev.actor = "cbqd";
	ev.reason = "launched \"now\"\ttab";
	job.id = "42";
	job.team = "alpha";
	job.spec = &spec;
	job.state = CBQ__V1__JOB_STATE__JOB_STATE_RUNNING;
	job.reason = "running on cr-0123456789abcdef0";
	job.eta_ms = 1700000000000;
	job.block_id = "cr-0123456789abcdef0";
	job.instance_ids = instances;
	job.n_instance_ids = 1;
	job.attempt = 2;
	job.submitted_at_ms = 1700000000001;
	job.started_at_ms = 1700000000002;
	job.ended_at_ms = 1700000000004;
	job.updated_at_ms = 1700000000003;
	job.submitted_by = "dev:111111111111";
	job.idempotency_key = "k1";
	job.events = events;
	job.n_events = 1;

	char *want = read_data("pbjson_job.json");
	char *got = pbjson_dumps(&job.base);

	cr_assert(got);
	cr_expect_str_eq(got, want);
	free(got);
	free(want);
}

Test(pbjson, empty_message_is_empty_object)
{
	Cbq__V1__Job job = CBQ__V1__JOB__INIT;
	Cbq__V1__ListJobsReply list = CBQ__V1__LIST_JOBS_REPLY__INIT;
	char *s = pbjson_dumps(&job.base);

	cr_expect_str_eq(s, "{}");
	free(s);
	s = compact(&list.base);
	cr_expect_str_eq(s, "{}", "empty repeated fields are omitted");
	free(s);
}

Test(pbjson, defaults_are_omitted_and_set_fields_kept)
{
	Cbq__V1__JobSpec spec = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__LaunchSpec launch = CBQ__V1__LAUNCH_SPEC__INIT;
	char *s;

	spec.kind = "";      /* empty string: default */
	spec.count = 0;      /* zero: default */
	spec.priority = -1;  /* negative is not default */
	spec.launch = &launch; /* a present message prints even when empty */
	s = compact(&spec.base);
	cr_expect_str_eq(s, "{\"priority\":-1,\"launch\":{}}");
	free(s);
}

Test(pbjson, bytes_are_padded_base64_of_any_bytes)
{
	static struct {
		char *data;
		size_t len;
		const char *want;
	} cases[] = {
		{ "\xff", 1, "{\"userData\":\"/w==\"}" },
		{ "\xff\xfe", 2, "{\"userData\":\"//4=\"}" },
		{ "\xff\xfe\xfd", 3, "{\"userData\":\"//79\"}" },
		{ "\x80\x00\xc3(hi\n", 7, "{\"userData\":\"gADDKGhpCg==\"}" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Cbq__V1__LaunchSpec l = CBQ__V1__LAUNCH_SPEC__INIT;
		char *s;

		l.user_data.data = (uint8_t *)cases[i].data;
		l.user_data.len = cases[i].len;
		s = compact(&l.base);
		cr_expect_str_eq(s, cases[i].want, "case %zu", i);
		free(s);
	}
}

Test(pbjson, invalid_utf8_in_strings_becomes_replacement_characters)
{
	Cbq__V1__Tag t = CBQ__V1__TAG__INIT;
	char *s;

	t.key = "a\xff" "b\xc3";            /* a stray byte and a cut sequence */
	t.value = "\xed\xa0\x80" "ok \xc3\xa9"; /* an encoded surrogate, then valid é */
	s = compact(&t.base);
	cr_expect_str_eq(s, "{\"key\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\","
			    "\"value\":\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "ok \xc3\xa9\"}");
	free(s);
}

Test(pbjson, int64_extremes_are_decimal_strings)
{
	Cbq__V1__Job job = CBQ__V1__JOB__INIT;
	char *s;

	job.eta_ms = INT64_MAX;
	job.submitted_at_ms = INT64_MIN;
	job.started_at_ms = -1;
	job.attempt = INT32_MIN;
	s = compact(&job.base);
	cr_expect_str_eq(s, "{\"etaMs\":\"9223372036854775807\",\"attempt\":-2147483648,"
			    "\"submittedAtMs\":\"-9223372036854775808\",\"startedAtMs\":\"-1\"}");
	free(s);
}

Test(pbjson, unknown_enum_value_is_a_number)
{
	Cbq__V1__JobEvent ev = CBQ__V1__JOB_EVENT__INIT;
	Cbq__V1__Error err = CBQ__V1__ERROR__INIT;
	char *s;

	ev.from_state = (Cbq__V1__JobState)99;
	ev.to_state = CBQ__V1__JOB_STATE__JOB_STATE_CANCELLED;
	s = compact(&ev.base);
	cr_expect_str_eq(s, "{\"fromState\":99,\"toState\":\"JOB_STATE_CANCELLED\"}");
	free(s);
	err.code = (Cbq__V1__ErrorCode)-7;
	s = compact(&err.base);
	cr_expect_str_eq(s, "{\"code\":-7}");
	free(s);
}

Test(pbjson, list_reply_nests_jobs_in_an_array)
{
	Cbq__V1__Job a = CBQ__V1__JOB__INIT, b = CBQ__V1__JOB__INIT;
	Cbq__V1__Job *jobs[] = { &a, &b };
	Cbq__V1__ListJobsReply r = CBQ__V1__LIST_JOBS_REPLY__INIT;
	char *s;

	a.id = "2";
	b.id = "1";
	b.state = CBQ__V1__JOB_STATE__JOB_STATE_TIMED_OUT;
	r.jobs = jobs;
	r.n_jobs = 2;
	r.next_page_token = "t";
	s = compact(&r.base);
	cr_expect_str_eq(s, "{\"jobs\":[{\"id\":\"2\"},{\"id\":\"1\",\"state\":\"JOB_STATE_TIMED_OUT\"}],"
			    "\"nextPageToken\":\"t\"}");
	free(s);
}

Test(pbjson, null_message_is_refused)
{
	cr_expect_null(pbjson_encode(NULL));
	cr_expect_null(pbjson_dumps(NULL));
}

/*
 * A message cbq.proto does not have, described by hand the way protoc-c
 * would: proto3 with uint64, double, float, a proto3 `optional` int32, a
 * oneof { string s; int64 n; }, repeated double, and a snake_case name.
 */
struct probe {
	ProtobufCMessage base;
	uint64_t big;
	double d;
	float f;
	protobuf_c_boolean has_opt;
	int32_t opt;
	uint32_t which;
	union {
		char *s;
		int64_t n;
	};
	size_t n_ds;
	double *ds;
	int32_t snake_case_name_x;
};

static const ProtobufCFieldDescriptor probe_fields[] = {
	{ .name = "big", .id = 1, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_UINT64,
	  .offset = offsetof(struct probe, big) },
	{ .name = "d", .id = 2, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_DOUBLE,
	  .offset = offsetof(struct probe, d) },
	{ .name = "f", .id = 3, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_FLOAT,
	  .offset = offsetof(struct probe, f) },
	{ .name = "opt", .id = 4, .label = PROTOBUF_C_LABEL_OPTIONAL, .type = PROTOBUF_C_TYPE_INT32,
	  .quantifier_offset = offsetof(struct probe, has_opt), .offset = offsetof(struct probe, opt) },
	{ .name = "s", .id = 5, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_STRING,
	  .quantifier_offset = offsetof(struct probe, which), .offset = offsetof(struct probe, s),
	  .flags = PROTOBUF_C_FIELD_FLAG_ONEOF },
	{ .name = "n", .id = 6, .label = PROTOBUF_C_LABEL_NONE, .type = PROTOBUF_C_TYPE_INT64,
	  .quantifier_offset = offsetof(struct probe, which), .offset = offsetof(struct probe, n),
	  .flags = PROTOBUF_C_FIELD_FLAG_ONEOF },
	{ .name = "ds", .id = 7, .label = PROTOBUF_C_LABEL_REPEATED, .type = PROTOBUF_C_TYPE_DOUBLE,
	  .quantifier_offset = offsetof(struct probe, n_ds), .offset = offsetof(struct probe, ds),
	  .flags = PROTOBUF_C_FIELD_FLAG_PACKED },
	{ .name = "snake_case_name_x", .id = 8, .label = PROTOBUF_C_LABEL_NONE,
	  .type = PROTOBUF_C_TYPE_INT32, .offset = offsetof(struct probe, snake_case_name_x) },
};

static const ProtobufCMessageDescriptor probe_descriptor = {
	.magic = PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
	.name = "test.Probe",
	.short_name = "Probe",
	.c_name = "Probe",
	.package_name = "test",
	.sizeof_message = sizeof(struct probe),
	.n_fields = sizeof(probe_fields) / sizeof(probe_fields[0]),
	.fields = probe_fields,
};

static struct probe probe_init(void)
{
	return (struct probe){ .base = PROTOBUF_C_MESSAGE_INIT(&probe_descriptor) };
}

Test(pbjson, probe_at_defaults_is_empty)
{
	struct probe p = probe_init();
	char *s = compact(&p.base);

	cr_expect_str_eq(s, "{}");
	free(s);
}

Test(pbjson, uint64_doubles_and_names)
{
	double ds[] = { NAN, INFINITY, -INFINITY, 0.5 };
	struct probe p = probe_init();
	char *s;

	p.big = UINT64_MAX;
	p.d = 1.5;
	p.f = -2.0f;
	p.ds = ds;
	p.n_ds = 4;
	p.snake_case_name_x = 3;
	s = compact(&p.base);
	cr_expect_str_eq(s, "{\"big\":\"18446744073709551615\",\"d\":1.5,\"f\":-2.0,"
			    "\"ds\":[\"NaN\",\"Infinity\",\"-Infinity\",0.5],\"snakeCaseNameX\":3}");
	free(s);

	p = probe_init();
	p.d = NAN;
	s = compact(&p.base);
	cr_expect_str_eq(s, "{\"d\":\"NaN\"}");
	free(s);
}

Test(pbjson, present_optional_and_set_oneof_print_even_at_default)
{
	struct probe p = probe_init();
	char *s;

	p.has_opt = true;
	p.opt = 0;
	p.which = 6;
	p.n = 0;
	s = compact(&p.base);
	cr_expect_str_eq(s, "{\"opt\":0,\"n\":\"0\"}");
	free(s);

	p = probe_init();
	p.which = 5;
	p.s = "";
	s = compact(&p.base);
	cr_expect_str_eq(s, "{\"s\":\"\"}", "only the set member of the oneof prints");
	free(s);
}
