/*
 * HTTP for the AWS adapters: libcurl's multi interface driven by one
 * libevent loop (curl's docs/examples/multi-event.c, on our own types).
 * Bounded reply buffers, connect and total timeouts, no redirects. It knows
 * nothing of AWS: no signing, no retries, no XML; aws/client.c does those.
 */
#ifndef CBQ_AWS_HTTP_H
#define CBQ_AWS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct event_base;
struct aws_http;      /* one per event loop */
struct aws_http_call; /* one request in flight */

enum {
	AWS_HTTP_MAX_HEADERS = 16,		 /* request headers the caller adds */
	AWS_HTTP_MAX_REPLY = 8 * 1024 * 1024,	 /* default cap on a reply body */
	AWS_HTTP_CONNECT_TIMEOUT_MS = 5000,	 /* defaults when a request says 0 */
	AWS_HTTP_TIMEOUT_MS = 30000,
};

/* Why no usable reply came back. A reply with any HTTP status is NONE. */
enum aws_http_fail {
	AWS_HTTP_OK = 0,
	AWS_HTTP_CONNECT,   /* could not resolve or connect (nothing was sent) */
	AWS_HTTP_TIMEOUT,   /* connect or total timeout (the request may have been acted on) */
	AWS_HTTP_TOO_LARGE, /* reply body over the request's cap */
	AWS_HTTP_IO,	    /* any other transport failure (reset, TLS, ...) */
	AWS_HTTP_CANCELLED, /* aws_http_free() ran with the call in flight */
};

/* Borrowed for the duration of aws_http_start(): everything is copied. */
struct aws_http_req {
	const char *method; /* "GET", "PUT", "POST" */
	const char *url;
	const char *const *headers; /* "Name: value" lines, at most AWS_HTTP_MAX_HEADERS */
	size_t n_headers;
	const char *body; /* NULL for none */
	size_t body_len;
	long connect_timeout_ms; /* 0: AWS_HTTP_CONNECT_TIMEOUT_MS */
	long timeout_ms;	 /* 0: AWS_HTTP_TIMEOUT_MS */
	size_t max_reply;	 /* 0: AWS_HTTP_MAX_REPLY */
	bool no_proxy;		 /* instance metadata and the like: never via a proxy */
	const char *ca_file;	 /* extra CA bundle for https, or NULL for the system's */
};

/* What came back. Valid only during the done callback; copy what you keep. */
struct aws_http_reply {
	enum aws_http_fail fail;
	long status; /* HTTP status, 0 when fail is not AWS_HTTP_OK */
	const char *body; /* NUL-terminated, body_len bytes (may hold NULs) */
	size_t body_len;
	const char *error_type; /* x-amzn-ErrorType header, or "" */
	const char *request_id; /* x-amzn-RequestId / x-amz-request-id header, or "" */
	const char *detail;	/* transport failure text from curl, or "" */
	long elapsed_ms;
};

/* Called once per started call, always from the event loop and never from
 * inside aws_http_start(). The call object is gone when it returns. */
typedef void (*aws_http_done_fn)(const struct aws_http_reply *reply, void *arg);

/* A client on base. Returns NULL with *err filled when curl cannot start. */
struct aws_http *aws_http_new(struct event_base *base, struct cbq_error *err);

/* Cancels every call in flight (each gets its callback with
 * AWS_HTTP_CANCELLED, from inside this call) and frees the client. NULL is
 * fine. Must not be called from a done callback. */
void aws_http_free(struct aws_http *h);

/* Starts req. On success returns the call; done runs later exactly once.
 * On failure (bad request: too many headers, unknown method) returns NULL,
 * fills *err and never calls done. */
struct aws_http_call *aws_http_start(struct aws_http *h, const struct aws_http_req *req,
				     aws_http_done_fn done, void *arg, struct cbq_error *err);

/* Abandons a call in flight: done is never called for it. Safe to call
 * from any callback, but not for a call whose done has already run. */
void aws_http_cancel(struct aws_http_call *call);

/* Calls in flight, for metrics and tests. */
size_t aws_http_in_flight(const struct aws_http *h);
/* The most calls in flight at once since aws_http_new(). */
size_t aws_http_in_flight_peak(const struct aws_http *h);

/* A measurement hook: runs inside aws_http_start() each time a request has
 * been handed to curl (it goes on the wire from the next loop iteration),
 * with the request as given. It must not start or cancel calls; fn NULL
 * removes it. req is valid only during the call. */
typedef void (*aws_http_sent_fn)(void *arg, const struct aws_http_req *req);
void aws_http_set_sent_hook(struct aws_http *h, aws_http_sent_fn fn, void *arg);

#endif
