/*
 * One request in flight, as handlers see it: the authenticated caller, the
 * body, path and query, and the reply functions. A call whose client went
 * away is still replied to (the reply is dropped) so handlers have one path.
 */
#ifndef CBQ_API_CALL_H
#define CBQ_API_CALL_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "engine.h"

struct api_call;

struct engine *api_call_engine(const struct api_call *call);
const struct caller *api_call_caller(const struct api_call *call);
/* The body, NUL-free binary; len 0 for none. Valid until the reply. */
const uint8_t *api_call_body(const struct api_call *call, size_t *len);
/* The {id} of /v1/jobs/{id} routes. */
const char *api_call_path_id(const struct api_call *call);
/* A decoded query parameter, NULL when absent. */
const char *api_call_query(const struct api_call *call, const char *name);

/* Replies (each ends the call; exactly one per call). */
void api_reply_pb(struct api_call *call, int status, const ProtobufCMessage *msg);
void api_reply_error(struct api_call *call, const struct cbq_error *err);
void api_reply_text(struct api_call *call, int status, const char *text);

typedef void api_handler_fn(struct api_call *call);

/* Handlers, one file per resource. */
void api_jobs_submit(struct api_call *call);
void api_jobs_list(struct api_call *call);
void api_jobs_get(struct api_call *call);
void api_jobs_cancel(struct api_call *call);
void api_blocks_list(struct api_call *call);
void api_whoami(struct api_call *call);
void api_metrics(struct api_call *call); /* metrics.c: Prometheus text */

/* A reply with any body (Prometheus text and the like). */
void api_reply_body(struct api_call *call, int status, const char *content_type,
		    const char *body, size_t len);

#endif
