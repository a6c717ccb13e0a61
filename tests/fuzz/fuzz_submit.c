/*
 * libFuzzer target for what POST /v1/jobs does with a body before it reaches
 * Postgres (api/jobs.c api_jobs_submit, engine_submit): unpack a
 * cbq.v1.SubmitJobRequest, convert it with api_spec_from_pb, pack the spec for
 * the idempotency fingerprint, and run job_spec_validate and
 * job_idempotency_key_validate. Not the HTTP layer or the database.
 */
#include <stdint.h>
#include <stdlib.h>

#include "api/codec.h"
#include "cbq/v1/cbq.pb-c.h"
#include "core/job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the API accepts as a body at most (the server's cap is lower). */
enum { FUZZ_MAX_BODY = 1024 * 1024 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbq_error err = { 0 };
	Cbq__V1__SubmitJobRequest *req;
	struct job_tag *tags = NULL;
	struct job_spec spec;
	uint8_t *canon;
	size_t clen;

	if (size > FUZZ_MAX_BODY)
		return 0;
	req = cbq__v1__submit_job_request__unpack(NULL, size, data);
	if (!req || !req->spec)
		goto out;
	api_spec_from_pb(req->spec, &spec, &tags);

	clen = cbq__v1__job_spec__get_packed_size(req->spec);
	canon = malloc(clen ? clen : 1);
	if (!canon)
		abort();
	if (cbq__v1__job_spec__pack(req->spec, canon) != clen)
		abort();
	free(canon);

	/* engine_submit fills an empty account with the caller's own */
	if (!spec.account_id || !*spec.account_id)
		spec.account_id = "111111111111";
	if (job_spec_validate(&spec, &err) != CBQ_OK && !err.msg[0])
		abort();
	if (job_idempotency_key_validate(req->idempotency_key, &err) != CBQ_OK && !err.msg[0])
		abort();
out:
	free(tags);
	if (req)
		cbq__v1__submit_job_request__free_unpacked(req, NULL);
	return 0;
}
