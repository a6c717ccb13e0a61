/* The wire codec: core values ⇄ cbq.v1 protobuf messages. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <string.h>

#include "api/codec.h"

static const char *const sgs[] = { "sg-0123456789abcdef0", "sg-11111111" };
static const struct job_tag tags[] = { { "team", "vision" }, { "run", "7" } };
static const uint8_t ud[] = { '#', '!', 0x00, 0xff, 'x' };
static const char *const instances[] = { "i-0123456789abcdef0" };

static struct job sample_job(void)
{
	return (struct job){
		.id = 42,
		.team = "alpha",
		.spec = {
			.account_id = "111111111111",
			.name = "resnet",
			.kind = "training",
			.instance_type = "p5.48xlarge",
			.count = 4,
			.duration_s = 7200,
			.priority = -3,
			.checkpointable = true,
			.launch = {
				.image_id = "ami-0123456789abcdef0",
				.subnet_id = "subnet-0123456789abcdef0",
				.security_group_ids = sgs,
				.n_security_group_ids = 2,
				.key_name = "k",
				.user_data = ud,
				.user_data_len = sizeof(ud),
				.instance_profile = "prof",
				.tags = tags,
				.n_tags = 2,
			},
		},
		.state = JOB_RUNNING,
		.reason = "running on cr-0123456789abcdef0",
		.eta = 1700000000000,
		.block_id = "cr-0123456789abcdef0",
		.instance_ids = instances,
		.n_instance_ids = 1,
		.attempt = 2,
		.submitted_at = 1700000000001,
		.started_at = 1700000000002,
		.updated_at = 1700000000003,
		.submitted_by = "dev:111111111111",
		.idempotency_key = "k1",
	};
}

Test(codec, job_survives_pack_and_unpack)
{
	struct job job = sample_job();
	struct job_event ev = { .at = 5, .has_from = true, .from = JOB_QUEUED, .to = JOB_RUNNING,
				.actor = "cbqd", .reason = "launched" };
	struct cbq_arena mem = { 0 };
	Cbq__V1__Job pb, *back;
	uint8_t buf[4096];
	size_t len;

	api_job_to_pb(&job, &ev, 1, &pb, &mem);
	len = cbq__v1__job__pack(&pb, buf);
	cbq_arena_free(&mem);
	back = cbq__v1__job__unpack(NULL, len, buf);
	cr_assert(back);
	cr_expect_str_eq(back->id, "42");
	cr_expect_str_eq(back->team, "alpha");
	cr_expect_eq(back->state, CBQ__V1__JOB_STATE__JOB_STATE_RUNNING);
	cr_expect_eq(back->spec->count, 4);
	cr_expect_eq(back->spec->duration_seconds, 7200);
	cr_expect_eq(back->spec->priority, -3);
	cr_expect(back->spec->checkpointable);
	cr_expect_eq(back->spec->launch->n_security_group_ids, 2);
	cr_expect_str_eq(back->spec->launch->security_group_ids[1], "sg-11111111");
	cr_expect_eq(back->spec->launch->user_data.len, sizeof(ud));
	cr_expect_arr_eq(back->spec->launch->user_data.data, ud, sizeof(ud));
	cr_expect_eq(back->spec->launch->n_tags, 2);
	cr_expect_str_eq(back->spec->launch->tags[1]->key, "run");
	cr_expect_str_eq(back->instance_ids[0], "i-0123456789abcdef0");
	cr_expect_eq(back->attempt, 2);
	cr_expect_eq(back->submitted_at_ms, 1700000000001);
	cr_expect_eq(back->eta_ms, 1700000000000);
	cr_expect_eq(back->n_events, 1);
	cr_expect_eq(back->events[0]->from_state, CBQ__V1__JOB_STATE__JOB_STATE_QUEUED);
	cr_expect_str_eq(back->events[0]->reason, "launched");
	cbq__v1__job__free_unpacked(back, NULL);
}

Test(codec, spec_from_pb_borrows_every_field)
{
	struct job job = sample_job();
	struct cbq_arena mem = { 0 };
	struct job_spec spec;
	struct job_tag *t;
	Cbq__V1__Job pb;

	api_job_to_pb(&job, NULL, 0, &pb, &mem);
	api_spec_from_pb(pb.spec, &spec, &t);
	cr_expect_str_eq(spec.account_id, "111111111111");
	cr_expect_str_eq(spec.instance_type, "p5.48xlarge");
	cr_expect_eq(spec.launch.n_tags, 2);
	cr_expect_str_eq(spec.launch.tags[0].value, "vision");
	cr_expect_eq(spec.launch.user_data_len, sizeof(ud));
	cr_expect_str_eq(spec.launch.security_group_ids[0], "sg-0123456789abcdef0");
	free(t);
	cbq_arena_free(&mem);
}

Test(codec, spec_without_launch_is_empty_launch)
{
	Cbq__V1__JobSpec pb = CBQ__V1__JOB_SPEC__INIT;
	struct job_spec spec;
	struct job_tag *t;

	pb.count = 1;
	api_spec_from_pb(&pb, &spec, &t);
	cr_expect_null(t);
	cr_expect_eq(spec.launch.n_tags, 0);
	cr_expect_eq(spec.count, 1);
}

Test(codec, states_map_both_ways)
{
	enum job_state s;

	for (int i = 0; i < JOB_STATE_COUNT; i++) {
		const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
			&cbq__v1__job_state__descriptor, api_job_state_to_pb((enum job_state)i));
		char lower[32];
		size_t k;

		cr_assert(v);
		for (k = 0; v->name[10 + k] && k + 1 < sizeof(lower); k++)
			lower[k] = (char)tolower((unsigned char)v->name[10 + k]); /* after "JOB_STATE_" */
		lower[k] = '\0';
		cr_expect_str_eq(lower, job_state_name((enum job_state)i));
	}
	cr_assert(api_job_state_from_text("timed_out", &s));
	cr_expect_eq(s, JOB_TIMED_OUT);
	cr_assert(api_job_state_from_text("JOB_STATE_CANCELLED", &s));
	cr_expect_eq(s, JOB_CANCELLED);
	cr_expect_not(api_job_state_from_text("JOB_STATE_UNSPECIFIED", &s));
	cr_expect_not(api_job_state_from_text("nope", &s));
	cr_expect_eq(api_block_state_to_pb("active"), CBQ__V1__BLOCK_STATE__BLOCK_STATE_ACTIVE);
	cr_expect_eq(api_block_state_to_pb("payment-pending"),
		     CBQ__V1__BLOCK_STATE__BLOCK_STATE_PAYMENT_PENDING);
}

Test(codec, error_keeps_code_message_and_field)
{
	struct cbq_error err;
	Cbq__V1__Error pb;

	cbq_fail(&err, CBQ_ERR_INVALID, "spec.count", "count must be 1..64");
	api_error_to_pb(&err, &pb);
	cr_expect_eq(pb.code, CBQ__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT);
	cr_expect_str_eq(pb.field, "spec.count");
	cr_expect_str_eq(pb.message, "count must be 1..64");
	cbq_fail(&err, CBQ_ERR_UNAVAILABLE, NULL, "x");
	api_error_to_pb(&err, &pb);
	cr_expect_eq(pb.code, CBQ__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE);
}
