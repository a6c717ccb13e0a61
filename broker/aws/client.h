/*
 * The AWS client the broker acts through: one signed call to EC2, STS, RAM
 * or Organizations, as the broker itself or as a consumer account's role.
 * It gets credentials (the broker's own chain, or AssumeRole cached until
 * five minutes before expiry), signs with SigV4 at the broker's clock,
 * sends over aws_http, retries in AWS's standard mode (throttling, 5xx,
 * timeouts; the same body, so a RunInstances keeps its ClientToken), and
 * re-assumes a role once when AWS rejects its credentials. It builds no
 * request bodies and parses no success replies (ec2.h, sts.h do).
 */
#ifndef CBQ_AWS_CLIENT_H
#define CBQ_AWS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/config.h"
#include "aws/creds.h"
#include "aws/xml.h"
#include "core/err.h"
#include "util/clock.h"

struct event_base;
struct aws_http;
struct aws_client;
struct aws_call;

struct aws_client_settings {
	const struct aws_config *config;	 /* region, endpoints, max attempts (copied) */
	struct aws_creds_provider *own;		 /* the broker's credentials (borrowed) */
	const struct cbq_clock *clock;		 /* signing time and expiries (borrowed) */
	long connect_timeout_ms, timeout_ms;	 /* per attempt; 0: aws_http's defaults */
	int assume_duration_s;			 /* AssumeRole DurationSeconds; 0: 3600 */
	const char *ca_file;			 /* extra CA bundle for https endpoints, or NULL */
};

/* Starts a client on base over http (both borrowed; free the client first).
 * NULL with *err on bad settings. */
struct aws_client *aws_client_new(struct event_base *base, struct aws_http *http,
				  const struct aws_client_settings *s, struct cbq_error *err);
/* Abandons every call in flight (no callbacks, except that the credential
 * provider's AssumeRoles are told they were cancelled) and frees. NULL is
 * fine. */
void aws_client_free(struct aws_client *c);

/* The broker's own credentials when they come from a profile's role_arn:
 * create the client with own = NULL, then the provider with
 * aws_client_assume_hook and the client as hook_arg, then set it here. */
void aws_client_set_own(struct aws_client *c, struct aws_creds_provider *own);
/* An aws_assume_fn (creds.h): AssumeRole with src through this client. */
void aws_client_assume_hook(void *client, const struct aws_credentials *src,
			    const struct aws_creds_plan *role, cbq_ms now, aws_creds_done_fn done,
			    void *done_arg);

/* Whose credentials a call uses. NULL role_arn: the broker's own. */
struct aws_role {
	const char *role_arn;
	const char *external_id;  /* or NULL */
	const char *session_name; /* RoleSessionName when a new AssumeRole is needed: "cbq-42" */
};

/* One call. Borrowed for the duration of aws_call_start (copied). */
struct aws_call_req {
	enum aws_service service;
	struct aws_role role;
	const char *what;	  /* "ec2:RunInstances": names the call in messages and logs */
	const char *path;	  /* "/" for the query protocol, "/listprincipals" for RAM */
	const char *content_type; /* NULL: the query protocol's form type */
	const char *target;	  /* X-Amz-Target (JSON 1.1 services), or NULL */
	const char *body;
	size_t body_len;
};

/* What became of a call; valid only during the callback. */
struct aws_call_result {
	enum cbq_err code;	   /* CBQ_OK when AWS answered 2xx */
	enum aws_err_class cls;	   /* when code != CBQ_OK: what to do about it */
	const struct cbq_error *err; /* when code != CBQ_OK: message naming the call and role */
	const struct aws_error_reply *reply; /* AWS's error, or NULL (transport failure) */
	long http_status;		     /* 0 when nothing came back */
	const char *body;		     /* the 2xx body, NUL-terminated */
	size_t body_len;
	int attempts; /* HTTP attempts made, re-assume included */
};

typedef void (*aws_call_fn)(const struct aws_call_result *r, void *arg);

/* Every call as it ends, for metrics: what (the call's name, "ec2:RunInstances",
 * without the rest of aws_call_req.what), real
 * seconds from start to answer (retries and re-assumes included), and AWS's
 * error code ("transport" when nothing came back; NULL on success). Valid
 * during the callback; it must not start or cancel calls. */
struct aws_call_seen {
	const char *what;
	double seconds;
	const char *error_code;
};
typedef void (*aws_call_observer)(void *arg, const struct aws_call_seen *seen);
void aws_client_set_observer(struct aws_client *c, aws_call_observer fn, void *arg);

/* Starts a call. done runs exactly once, later, from the loop (never
 * inside this function), unless the call is cancelled. */
struct aws_call *aws_call_start(struct aws_client *c, const struct aws_call_req *req,
				aws_call_fn done, void *arg);
/* Abandons a call: done is never called. Not after done has run. */
void aws_call_cancel(struct aws_call *call);

/* Starts the AssumeRole that calls as role will need, unless its
 * credentials are cached or one is in flight: calls made meanwhile wait for
 * it instead of starting their own. Nothing waits for it or is told of it
 * (a failure is logged; the calls that need the role try again). */
void aws_client_warm_role(struct aws_client *c, const struct aws_role *role);

/* Calls in flight, AssumeRoles included. */
size_t aws_client_in_flight(const struct aws_client *c);

#endif
