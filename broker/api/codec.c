/* Wire ↔ core conversions (see codec.h). No I/O. */
#include "api/codec.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* protobuf-c's char * fields are never written through when packing. */
static char *str(const char *s)
{
	return (char *)(uintptr_t)(s ? s : "");
}

void api_error_to_pb(const struct cbq_error *err, Cbq__V1__Error *pb)
{
	static const Cbq__V1__ErrorCode codes[] = {
		[CBQ_OK] = CBQ__V1__ERROR_CODE__ERROR_CODE_UNSPECIFIED,
		[CBQ_ERR_INVALID] = CBQ__V1__ERROR_CODE__ERROR_CODE_INVALID_ARGUMENT,
		[CBQ_ERR_UNAUTHENTICATED] = CBQ__V1__ERROR_CODE__ERROR_CODE_UNAUTHENTICATED,
		[CBQ_ERR_FORBIDDEN] = CBQ__V1__ERROR_CODE__ERROR_CODE_PERMISSION_DENIED,
		[CBQ_ERR_NOT_FOUND] = CBQ__V1__ERROR_CODE__ERROR_CODE_NOT_FOUND,
		[CBQ_ERR_CONFLICT] = CBQ__V1__ERROR_CODE__ERROR_CODE_CONFLICT,
		[CBQ_ERR_TOO_LARGE] = CBQ__V1__ERROR_CODE__ERROR_CODE_TOO_LARGE,
		[CBQ_ERR_UNAVAILABLE] = CBQ__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE,
		[CBQ_ERR_INTERNAL] = CBQ__V1__ERROR_CODE__ERROR_CODE_INTERNAL,
	};

	cbq__v1__error__init(pb);
	pb->code = (unsigned)err->code < sizeof(codes) / sizeof(codes[0])
			   ? codes[err->code]
			   : CBQ__V1__ERROR_CODE__ERROR_CODE_INTERNAL;
	pb->message = str(err->msg);
	pb->field = str(err->field);
}

void api_spec_from_pb(const Cbq__V1__JobSpec *pb, struct job_spec *spec, struct job_tag **tags)
{
	const Cbq__V1__LaunchSpec *l = pb->launch;

	memset(spec, 0, sizeof(*spec));
	*tags = NULL;
	spec->account_id = pb->account_id;
	spec->name = pb->name;
	spec->kind = pb->kind;
	spec->instance_type = pb->instance_type;
	spec->count = pb->count;
	spec->duration_s = pb->duration_seconds;
	spec->priority = pb->priority;
	spec->checkpointable = pb->checkpointable;
	if (!l)
		return;
	spec->launch.image_id = l->image_id;
	spec->launch.subnet_id = l->subnet_id;
	spec->launch.security_group_ids = (const char *const *)l->security_group_ids;
	spec->launch.n_security_group_ids = l->n_security_group_ids;
	spec->launch.key_name = l->key_name;
	spec->launch.user_data = l->user_data.data;
	spec->launch.user_data_len = l->user_data.len;
	spec->launch.instance_profile = l->instance_profile;
	if (l->n_tags) {
		*tags = calloc(l->n_tags, sizeof(**tags));
		if (!*tags)
			abort();
		for (size_t i = 0; i < l->n_tags; i++) {
			(*tags)[i].key = l->tags[i]->key;
			(*tags)[i].value = l->tags[i]->value;
		}
		spec->launch.tags = *tags;
		spec->launch.n_tags = l->n_tags;
	}
}

Cbq__V1__JobState api_job_state_to_pb(enum job_state s)
{
	/* the proto enum is the core enum shifted by one (0 = unspecified) */
	return (unsigned)s < JOB_STATE_COUNT ? (Cbq__V1__JobState)(s + 1)
					     : CBQ__V1__JOB_STATE__JOB_STATE_UNSPECIFIED;
}

bool api_job_state_from_text(const char *text, enum job_state *out)
{
	const ProtobufCEnumValue *v;

	if (job_state_parse(text, out))
		return true;
	v = protobuf_c_enum_descriptor_get_value_by_name(&cbq__v1__job_state__descriptor, text);
	if (!v || v->value <= 0 || v->value > JOB_STATE_COUNT)
		return false;
	*out = (enum job_state)(v->value - 1);
	return true;
}

Cbq__V1__BlockState api_block_state_to_pb(const char *s)
{
	static const struct {
		const char *name;
		Cbq__V1__BlockState pb;
	} map[] = {
		{ "payment-pending", CBQ__V1__BLOCK_STATE__BLOCK_STATE_PAYMENT_PENDING },
		{ "payment-failed", CBQ__V1__BLOCK_STATE__BLOCK_STATE_PAYMENT_FAILED },
		{ "scheduled", CBQ__V1__BLOCK_STATE__BLOCK_STATE_SCHEDULED },
		{ "active", CBQ__V1__BLOCK_STATE__BLOCK_STATE_ACTIVE },
		{ "expired", CBQ__V1__BLOCK_STATE__BLOCK_STATE_EXPIRED },
		{ "cancelled", CBQ__V1__BLOCK_STATE__BLOCK_STATE_CANCELLED },
		{ "failed", CBQ__V1__BLOCK_STATE__BLOCK_STATE_FAILED },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].name, s) == 0)
			return map[i].pb;
	return CBQ__V1__BLOCK_STATE__BLOCK_STATE_UNSPECIFIED;
}

static void spec_to_pb(const struct job_spec *s, Cbq__V1__JobSpec *pb, struct cbq_arena *mem)
{
	const struct launch_spec *l = &s->launch;
	Cbq__V1__LaunchSpec *lp = cbq_arena_alloc(mem, 1, sizeof(*lp));

	cbq__v1__job_spec__init(pb);
	pb->account_id = str(s->account_id);
	pb->name = str(s->name);
	pb->kind = str(s->kind);
	pb->instance_type = str(s->instance_type);
	pb->count = s->count;
	pb->duration_seconds = s->duration_s;
	pb->priority = s->priority;
	pb->checkpointable = s->checkpointable;

	cbq__v1__launch_spec__init(lp);
	lp->image_id = str(l->image_id);
	lp->subnet_id = str(l->subnet_id);
	lp->n_security_group_ids = l->n_security_group_ids;
	if (l->n_security_group_ids) {
		lp->security_group_ids = cbq_arena_alloc(mem, l->n_security_group_ids, sizeof(char *));
		for (size_t i = 0; i < l->n_security_group_ids; i++)
			lp->security_group_ids[i] = str(l->security_group_ids[i]);
	}
	lp->key_name = str(l->key_name);
	lp->user_data.data = (uint8_t *)(uintptr_t)l->user_data;
	lp->user_data.len = l->user_data ? l->user_data_len : 0;
	lp->instance_profile = str(l->instance_profile);
	lp->n_tags = l->n_tags;
	if (l->n_tags) {
		Cbq__V1__Tag *tags = cbq_arena_alloc(mem, l->n_tags, sizeof(*tags));
		lp->tags = cbq_arena_alloc(mem, l->n_tags, sizeof(*lp->tags));
		for (size_t i = 0; i < l->n_tags; i++) {
			cbq__v1__tag__init(&tags[i]);
			tags[i].key = str(l->tags[i].key);
			tags[i].value = str(l->tags[i].value);
			lp->tags[i] = &tags[i];
		}
	}
	pb->launch = lp;
}

void api_job_to_pb(const struct job *job, const struct job_event *events, size_t n_events,
		   Cbq__V1__Job *pb, struct cbq_arena *mem)
{
	char *id = cbq_arena_alloc(mem, 24, 1);
	Cbq__V1__JobSpec *spec = cbq_arena_alloc(mem, 1, sizeof(*spec));

	cbq__v1__job__init(pb);
	snprintf(id, 24, "%lld", (long long)job->id);
	pb->id = id;
	pb->team = str(job->team);
	spec_to_pb(&job->spec, spec, mem);
	pb->spec = spec;
	pb->state = api_job_state_to_pb(job->state);
	pb->reason = str(job->reason);
	pb->eta_ms = job->eta;
	pb->block_id = str(job->block_id);
	pb->n_instance_ids = job->n_instance_ids;
	if (job->n_instance_ids) {
		pb->instance_ids = cbq_arena_alloc(mem, job->n_instance_ids, sizeof(char *));
		for (size_t i = 0; i < job->n_instance_ids; i++)
			pb->instance_ids[i] = str(job->instance_ids[i]);
	}
	pb->attempt = job->attempt;
	pb->submitted_at_ms = job->submitted_at;
	pb->started_at_ms = job->started_at;
	pb->ended_at_ms = job->ended_at;
	pb->updated_at_ms = job->updated_at;
	pb->submitted_by = str(job->submitted_by);
	pb->idempotency_key = str(job->idempotency_key);
	pb->queue_position = job->queue_position;
	pb->queue_length = job->queue_length;
	pb->n_events = n_events;
	if (n_events) {
		Cbq__V1__JobEvent *ev = cbq_arena_alloc(mem, n_events, sizeof(*ev));
		pb->events = cbq_arena_alloc(mem, n_events, sizeof(*pb->events));
		for (size_t i = 0; i < n_events; i++) {
			cbq__v1__job_event__init(&ev[i]);
			ev[i].at_ms = events[i].at;
			ev[i].from_state = events[i].has_from
						   ? api_job_state_to_pb(events[i].from)
						   : CBQ__V1__JOB_STATE__JOB_STATE_UNSPECIFIED;
			ev[i].to_state = api_job_state_to_pb(events[i].to);
			ev[i].actor = str(events[i].actor);
			ev[i].reason = str(events[i].reason);
			pb->events[i] = &ev[i];
		}
	}
}

void api_block_to_pb(const struct block *b, Cbq__V1__Block *pb, struct cbq_arena *mem)
{
	cbq__v1__block__init(pb);
	pb->id = str(b->id);
	pb->instance_type = str(b->instance_type);
	pb->availability_zone = str(b->az);
	pb->total = b->total;
	pb->available = b->available;
	pb->state = api_block_state_to_pb(b->state);
	pb->start_ms = b->start;
	pb->end_ms = b->end;
	pb->cutoff_ms = b->cutoff;
	pb->n_usage = b->n_usage;
	if (b->n_usage) {
		Cbq__V1__AccountUsage *u = cbq_arena_alloc(mem, b->n_usage, sizeof(*u));
		pb->usage = cbq_arena_alloc(mem, b->n_usage, sizeof(*pb->usage));
		for (size_t i = 0; i < b->n_usage; i++) {
			cbq__v1__account_usage__init(&u[i]);
			u[i].account_id = str(b->usage[i].account_id);
			u[i].used = b->usage[i].used;
			pb->usage[i] = &u[i];
		}
	}
}
