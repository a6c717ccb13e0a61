/*
 * SigV4 verification, the point of the emulator: the Authorization header is
 * parsed, the key looked up among the scenario's principals and the sessions
 * cbq-awssim issued, and the signature recomputed with the project's own
 * signer (broker/aws/sigv4.h) over the request as received. Failures come
 * back as the error each service gives (AuthFailure, SignatureDoesNotMatch,
 * InvalidClientTokenId, RequestExpired, ExpiredToken, …); messages never
 * contain a secret. Header-signed requests only (no presigned URLs).
 */
#ifndef CBQ_AWSSIM_AUTH_H
#define CBQ_AWSSIM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/sigv4.h"
#include "iam.h"
#include "reply.h"

enum { SIM_MAX_REQUEST_HEADERS = 100, SIM_CLOCK_SKEW_MS = 15 * 60 * 1000 };

struct sim_auth_in {
	const char *method;
	const char *path;		  /* raw, as sent */
	const char *query;		  /* raw, without '?'; NULL when none */
	const struct aws_header *headers; /* every request header, in order */
	size_t n_headers;
	const uint8_t *body;
	size_t body_len;
};

/*
 * Verifies the request. fixed is the service the route implies (RAM,
 * Organizations), or SIM_SVC_EC2 with query_protocol set, when the
 * credential scope chooses between EC2 and STS (hint decides the error shape
 * when the scope cannot be read). On success fills *who and *svc; on failure
 * fills *svc (the shape to answer in) and *e.
 */
bool sim_auth_verify(const struct sim_world *w, const struct sim_auth_in *in,
		     enum sim_service fixed, bool query_protocol, enum sim_service hint, cbq_ms now,
		     struct sim_identity *who, enum sim_service *svc, struct sim_awserr *e);

/* The first header called name (case-insensitive), NULL when absent. */
const char *sim_auth_header(const struct sim_auth_in *in, const char *name);

#endif
