/*
 * Handlers for /v1/jobs: decode, call the engine, encode. No SQL and no
 * decisions here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "api/call.h"
#include "api/codec.h"

/* What a job handler keeps while the engine works. */
struct job_req {
	struct api_call *call;
	Cbq__V1__SubmitJobRequest *submit;
	struct job_tag *tags;
	int status; /* on success */
};

static void job_req_free(struct job_req *jr)
{
	if (jr->submit)
		cbq__v1__submit_job_request__free_unpacked(jr->submit, NULL);
	free(jr->tags);
	free(jr);
}

static void reply_job(void *arg, const struct job *job, const struct job_event *events,
		      size_t n_events, const struct cbq_error *err)
{
	struct job_req *jr = arg;
	struct cbq_arena mem = { 0 };
	Cbq__V1__Job pb;

	if (err) {
		api_reply_error(jr->call, err);
	} else {
		api_job_to_pb(job, events, n_events, &pb, &mem);
		api_reply_pb(jr->call, jr->status, &pb.base);
		cbq_arena_free(&mem);
	}
	job_req_free(jr);
}

static struct job_req *job_req_new(struct api_call *call, int status)
{
	struct job_req *jr = calloc(1, sizeof(*jr));

	if (!jr)
		abort();
	jr->call = call;
	jr->status = status;
	return jr;
}

void api_jobs_submit(struct api_call *call)
{
	struct cbq_error err = { 0 };
	struct job_spec spec;
	struct job_req *jr;
	uint8_t sha[32], *canon;
	const uint8_t *body;
	size_t len, clen;

	body = api_call_body(call, &len);
	jr = job_req_new(call, 201);
	jr->submit = cbq__v1__submit_job_request__unpack(NULL, len, body);
	if (!jr->submit) {
		cbq_fail(&err, CBQ_ERR_INVALID, "body",
			 "body is not a valid cbq.v1.SubmitJobRequest protobuf");
		goto fail;
	}
	if (!jr->submit->spec) {
		cbq_fail(&err, CBQ_ERR_INVALID, "spec", "spec is required");
		goto fail;
	}
	api_spec_from_pb(jr->submit->spec, &spec, &jr->tags);

	/* the idempotency fingerprint: the spec as protobuf-c packs it, which is
	 * canonical (field order, no unknown fields) for equal specs */
	clen = cbq__v1__job_spec__get_packed_size(jr->submit->spec);
	canon = malloc(clen ? clen : 1);
	if (!canon)
		abort();
	cbq__v1__job_spec__pack(jr->submit->spec, canon);
	SHA256(canon, clen, sha);
	free(canon);

	engine_submit(api_call_engine(call), api_call_caller(call), &spec,
		      jr->submit->idempotency_key, sha, reply_job, jr);
	return;
fail:
	api_reply_error(call, &err);
	job_req_free(jr);
}

/* Job ids are positive decimal integers; anything else names no job. */
static bool parse_id(const char *text, int64_t *id)
{
	char *end;
	long long v;

	if (!*text || strlen(text) > 19 || text[0] == '0' || text[0] == '-' || text[0] == '+')
		return false;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || *end || v <= 0)
		return false;
	*id = v;
	return true;
}

static void job_by_id(struct api_call *call,
		      void (*op)(struct engine *, const struct caller *, int64_t, engine_job_fn *,
				 void *))
{
	const char *text = api_call_path_id(call);
	struct cbq_error err;
	int64_t id;

	if (!parse_id(text, &id)) {
		cbq_fail(&err, CBQ_ERR_NOT_FOUND, NULL, "no job %s: job ids are numbers", text);
		api_reply_error(call, &err);
		return;
	}
	op(api_call_engine(call), api_call_caller(call), id, reply_job, job_req_new(call, 200));
}

void api_jobs_get(struct api_call *call)
{
	job_by_id(call, engine_get_job);
}

void api_jobs_cancel(struct api_call *call)
{
	job_by_id(call, engine_cancel_job);
}

/* ---- list -------------------------------------------------------------------- */

static void reply_list(void *arg, const struct job *jobs, size_t n, int64_t next_before_id,
		       const struct cbq_error *err)
{
	struct api_call *call = arg;
	struct cbq_arena mem = { 0 };
	Cbq__V1__ListJobsReply reply = CBQ__V1__LIST_JOBS_REPLY__INIT;
	Cbq__V1__Job *pbs, **ptrs;
	char token[24];

	if (err) {
		api_reply_error(call, err);
		return;
	}
	pbs = cbq_arena_alloc(&mem, n, sizeof(*pbs));
	ptrs = cbq_arena_alloc(&mem, n, sizeof(*ptrs));
	for (size_t i = 0; i < n; i++) {
		api_job_to_pb(&jobs[i], NULL, 0, &pbs[i], &mem);
		ptrs[i] = &pbs[i];
	}
	reply.jobs = ptrs;
	reply.n_jobs = n;
	token[0] = '\0';
	if (next_before_id)
		snprintf(token, sizeof(token), "%lld", (long long)next_before_id);
	reply.next_page_token = token;
	api_reply_pb(call, 200, &reply.base);
	cbq_arena_free(&mem);
}

void api_jobs_list(struct api_call *call)
{
	struct job_filter f = { 0 };
	struct cbq_error err;
	const char *state = api_call_query(call, "state");
	const char *size = api_call_query(call, "page_size");
	const char *token = api_call_query(call, "page_token");
	enum job_state st;
	char *end;

	if (state && *state) {
		if (!api_job_state_from_text(state, &st)) {
			cbq_fail(&err, CBQ_ERR_INVALID, "state",
				 "state %.40s is not a job state: use queued, launching, running, "
				 "expiring, succeeded, failed, timed_out, expired or cancelled",
				 state);
			goto fail;
		}
		f.state = job_state_name(st);
	}
	f.kind = api_call_query(call, "kind");
	f.team = api_call_query(call, "team");
	if (f.kind && !*f.kind)
		f.kind = NULL;
	if (f.team && !*f.team)
		f.team = NULL;
	if (size && *size) {
		long v = strtol(size, &end, 10);
		if (*end || v < 1 || v > ENGINE_PAGE_MAX) {
			cbq_fail(&err, CBQ_ERR_INVALID, "page_size", "page_size must be 1..%d",
				 ENGINE_PAGE_MAX);
			goto fail;
		}
		f.page_size = (int)v;
	}
	if (token && *token && !parse_id(token, &f.before_id)) {
		cbq_fail(&err, CBQ_ERR_INVALID, "page_token",
			 "page_token is not one this server handed out; start without it");
		goto fail;
	}
	engine_list_jobs(api_call_engine(call), api_call_caller(call), &f, reply_list, call);
	return;
fail:
	api_reply_error(call, &err);
}
