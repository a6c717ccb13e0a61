/*
 * cbqd's side of IAM identity: checks a CBQ-AWS-IAM-V1 token (iamtoken.h),
 * replays its signed sts:GetCallerIdentity to STS on the event loop and
 * turns the answer into an account and a principal ARN. Answers are cached
 * (bounded, at most 15 minutes); concurrent checks of one token share one
 * STS call; STS calls in flight are capped. It does not decide what the
 * caller may do (engine_authenticate does) and never logs or returns the
 * token's signature or session token.
 */
#ifndef CBQ_AUTH_IAMVERIFY_H
#define CBQ_AUTH_IAMVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/sts.h" /* AWS_STS_MAX_ARN */
#include "core/err.h"
#include "core/job.h" /* cbq_ms */

struct event_base;
struct auth_iam_verifier;
struct auth_iam_wait;

enum {
	AUTH_IAM_DEFAULT_INFLIGHT = 64, /* STS calls at once */
	AUTH_IAM_CACHE_DEFAULT = 4096,	/* cached answers */
	AUTH_IAM_CACHE_TTL_MS = 15 * 60 * 1000,
	AUTH_IAM_STS_TIMEOUT_MS = 10000, /* per STS call */
	AUTH_IAM_STS_MAX_REPLY = 64 * 1024,
};

struct auth_iam_settings {
	const char *server_id;	  /* this cbqd's iam_server_id; required */
	const char *sts_endpoint; /* iam_sts_endpoint URL, or NULL / "" for AWS STS only */
	int max_inflight;	  /* 0: AUTH_IAM_DEFAULT_INFLIGHT */
	size_t max_cache;	  /* 0: AUTH_IAM_CACHE_DEFAULT */
	long timeout_ms;	  /* 0: AUTH_IAM_STS_TIMEOUT_MS */
	const char *ca_file;	  /* extra CA bundle for https STS, or NULL */
};

/* Who STS says signed the token. */
struct auth_iam_identity {
	char account[13];	       /* 12 digits */
	char arn[AWS_STS_MAX_ARN + 1]; /* arn:aws:iam::1:user/x, arn:aws:sts::1:assumed-role/r/s */
	char user_id[257];
	bool cached; /* answered from the cache, without asking STS */
};

/*
 * The outcome, exactly once, from the event loop (never from inside
 * auth_iam_verify), unless the wait is cancelled. id or err is NULL; both
 * are valid only during the call. err->code: CBQ_ERR_UNAUTHENTICATED (the
 * token is refused: the message says why and what to do),
 * CBQ_ERR_UNAVAILABLE (STS could not answer, too many checks in flight, or
 * cbqd is stopping: retry).
 */
typedef void auth_iam_done_fn(void *arg, const struct auth_iam_identity *id,
			      const struct cbq_error *err);

/*
 * A verifier on base with its own HTTP client. NULL with *err
 * (CBQ_ERR_INVALID naming iam_server_id or iam_sts_endpoint) on bad
 * settings: an endpoint must be http(s)://host[:port] with no path, and
 * plain http only on a loopback host.
 */
struct auth_iam_verifier *auth_iam_verifier_new(struct event_base *base,
						const struct auth_iam_settings *s,
						struct cbq_error *err);

/*
 * Stops: every wait still pending gets its done with CBQ_ERR_UNAVAILABLE
 * ("cbqd is stopping") from inside this call, then everything is freed.
 * NULL is fine. Not from a done callback.
 */
void auth_iam_verifier_free(struct auth_iam_verifier *v);

/*
 * Checks token (the text after the scheme, len bytes) at now_real (real
 * Unix ms, not a scaled clock: X-Amz-Date is real time). Never NULL.
 */
struct auth_iam_wait *auth_iam_verify(struct auth_iam_verifier *v, const char *token, size_t len,
				      cbq_ms now_real, auth_iam_done_fn *done, void *arg);

/* done will not run. Not for a wait whose done has run. NULL is fine. */
void auth_iam_wait_cancel(struct auth_iam_wait *w);

/* host[:port] of the configured endpoint, "" without one. */
const char *auth_iam_endpoint_host(const struct auth_iam_verifier *v);

struct auth_iam_stats {
	size_t cached;	    /* answers in the cache */
	size_t inflight;    /* STS calls in flight */
	uint64_t sts_calls; /* STS calls started */
	uint64_t cache_hits;
	uint64_t shared; /* checks that joined a call already in flight */
};
void auth_iam_verifier_stats(const struct auth_iam_verifier *v, struct auth_iam_stats *out);

#endif
