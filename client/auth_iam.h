/*
 * The CLI's IAM identity: the Authorization header value that proves who
 * the caller is in AWS (a CBQ-AWS-IAM-V1 token, broker/auth/iamtoken.h),
 * signed with the caller's own credentials from the standard chain,
 * resolved and fetched exactly as cbqd does (environment keys, profiles with
 * keys or role_arn, instance metadata) on a private event loop, blocking.
 * A token is minted on first use and again once 10 minutes old. Not the
 * HTTP: http.c adds the header.
 */
#ifndef CBQ_CLIENT_AUTH_IAM_H
#define CBQ_CLIENT_AUTH_IAM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cli_iam;

enum {
	CLI_IAM_REMINT_MS = 10 * 60 * 1000, /* STS accepts a token for 15 minutes */
	CLI_IAM_FETCH_TIMEOUT_MS = 60000,   /* credentials: IMDS, AssumeRole */
};

/*
 * Records what minting needs; no I/O yet. server_id NULL: the host name of
 * server (an https:// URL), without port. CBQ_ERR_INVALID when neither
 * gives a usable server id.
 */
enum cbq_err cli_iam_new(const char *server, const char *server_id, struct cli_iam **out,
			 struct cbq_error *err) CBQ_MUST_CHECK;
/* Wipes the token and frees. NULL is fine. */
void cli_iam_free(struct cli_iam *iam);

/*
 * "CBQ-AWS-IAM-V1 <token>" in *value (owned by iam, valid until the next
 * call or cli_iam_free), minting when there is no token or it is 10 minutes
 * old. Blocks while credentials are fetched. Fails with CBQ_ERR_INVALID
 * when no AWS credentials or settings are found (the message says what to
 * set, or to use --cert) and CBQ_ERR_UNAUTHENTICATED when they cannot be
 * obtained (IMDS, AssumeRole refused).
 */
enum cbq_err cli_iam_authorization(struct cli_iam *iam, const char **value,
				   struct cbq_error *err) CBQ_MUST_CHECK;

/* The server id tokens are minted for. */
const char *cli_iam_server_id(const struct cli_iam *iam);

/* The host of an http(s) URL ("https://cbq.example.com:8443/x" →
 * "cbq.example.com"), lower-cased, into out; false when there is none or
 * it does not fit. */
bool cli_iam_host_of(const char *url, char *out, size_t size);

#endif
