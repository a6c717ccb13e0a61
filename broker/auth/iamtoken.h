/*
 * IAM identity tokens (scheme CBQ-AWS-IAM-V1): an sts:GetCallerIdentity
 * request that cbq signs with the caller's own AWS credentials but never
 * sends, carried to cbqd in its Authorization header, the way Vault's AWS
 * auth works (AWS.md §2.5). Mint (the client), parse and check (cbqd).
 * Pure: the time is an argument; nothing is sent, logged, cached or read
 * from the environment. Replaying the request to STS is iamverify.h's job.
 *
 * Wire form: "Authorization: CBQ-AWS-IAM-V1 <base64url, no padding, of a
 * JSON object>" whose members are exactly what is needed to rebuild the
 * request: "host", "x-amz-date", "x-amz-security-token" (optional),
 * "x-cbq-server-id", "authorization"; every value a string. The method
 * (POST), path (/), body (AUTH_IAM_BODY) and Content-Type are fixed, so
 * the signature binds them too.
 */
#ifndef CBQ_AUTH_IAMTOKEN_H
#define CBQ_AUTH_IAMTOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/sigv4.h"
#include "core/err.h"

#define AUTH_IAM_SCHEME "CBQ-AWS-IAM-V1"
#define AUTH_IAM_BODY "Action=GetCallerIdentity&Version=2011-06-15"
#define AUTH_IAM_CONTENT_TYPE "application/x-www-form-urlencoded; charset=utf-8"
#define AUTH_IAM_SERVER_ID_HEADER "X-Cbq-Server-Id"

/* Limits on everything a token carries. Over a limit is malformed. */
enum {
	AUTH_IAM_MAX_TOKEN = 16384,	   /* base64url characters after the scheme */
	AUTH_IAM_MAX_HOST = 255,	   /* host[:port] */
	AUTH_IAM_MAX_SERVER_ID = 255,	   /* visible ASCII, no spaces */
	AUTH_IAM_MAX_SESSION_TOKEN = 8192, /* = AWS_SIGV4_MAX_VALUE */
	AUTH_IAM_MAX_AUTHZ = AWS_SIGV4_AUTHZ_SIZE - 1,
	AUTH_IAM_MAX_REGION = AWS_SIGV4_MAX_SCOPE,
	AUTH_IAM_SKEW_S = 15 * 60, /* X-Amz-Date this far either side of now */
};

/* A parsed token: the five members, and what parse read out of the
 * Authorization value. Holds the session token: wipe before freeing
 * (auth_iam_token_wipe). */
struct auth_iam_token {
	char host[AUTH_IAM_MAX_HOST + 1];
	char amz_date[17];				     /* 20150830T123600Z */
	char security_token[AUTH_IAM_MAX_SESSION_TOKEN + 1]; /* "" when none */
	char server_id[AUTH_IAM_MAX_SERVER_ID + 1];
	char authorization[AUTH_IAM_MAX_AUTHZ + 1];
	/* from authorization's Credential= and SignedHeaders= */
	char scope_date[9];
	char region[AUTH_IAM_MAX_REGION + 1];
	char service[AWS_SIGV4_MAX_SCOPE + 1];
	char signed_headers[AWS_SIGV4_MAX_SIGNED_NAMES + 1];
	int64_t signed_at; /* x-amz-date in Unix seconds */
};

/* What a client signs with. All borrowed for the call. */
struct auth_iam_mint_req {
	const struct aws_credentials *cred;
	const char *host;      /* Host of the STS endpoint: "sts.us-east-1.amazonaws.com" */
	const char *region;    /* its signing region: "us-east-1" */
	const char *server_id; /* the cbqd this token is for */
};

/*
 * Signs the GetCallerIdentity request at now_s (Unix seconds, UTC) and
 * returns the token text (base64url, without the scheme) in *out, malloc'd
 * for the caller to free (it holds the session token). On failure *out is
 * untouched and err says what is wrong with the input, never quoting a
 * secret. Never calls back.
 */
enum cbq_err auth_iam_token_mint(const struct auth_iam_mint_req *r, int64_t now_s, char **out,
				 struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * If the Authorization header value uses the CBQ-AWS-IAM-V1 scheme (any
 * case, then one or more spaces), points *token at what follows and returns
 * true; otherwise false.
 */
bool auth_iam_header_token(const char *authorization, const char **token);

/*
 * Decodes and checks the syntax of token text (len bytes): base64url
 * without padding, at most AUTH_IAM_MAX_TOKEN characters, a JSON object with
 * exactly the members above (unknown, duplicate, missing or non-string
 * members are refused), every value within its limit and character set, an
 * Authorization of the AWS4-HMAC-SHA256 Credential=/SignedHeaders=/
 * Signature= form and a valid X-Amz-Date. On failure
 * CBQ_ERR_UNAUTHENTICATED with a message starting "malformed IAM token:"
 * (field "Authorization"), and *out is left partly written: wipe it.
 */
enum cbq_err auth_iam_token_parse(const char *text, size_t len, struct auth_iam_token *out,
				  struct cbq_error *err) CBQ_MUST_CHECK;

/* Why a parsed token is refused before anyone asks STS. */
enum auth_iam_verdict {
	AUTH_IAM_OK = 0,
	AUTH_IAM_MALFORMED,	     /* inconsistent: scope date, unsigned host, ... */
	AUTH_IAM_SERVER_ID_MISMATCH, /* minted for another cbqd */
	AUTH_IAM_SERVER_ID_UNSIGNED, /* x-cbq-server-id not in SignedHeaders */
	AUTH_IAM_DATE_SKEW,	     /* X-Amz-Date more than 15 min from now */
	AUTH_IAM_NOT_STS,	     /* credential scope service is not sts */
	AUTH_IAM_HOST_NOT_ALLOWED,   /* not an AWS STS host nor the configured one */
};
/* "ok", "malformed", "server_id_mismatch", ...: stable names for logs. */
const char *auth_iam_verdict_name(enum auth_iam_verdict v);

struct auth_iam_policy {
	const char *server_id;	   /* this cbqd's iam_server_id */
	const char *endpoint_host; /* host[:port] of iam_sts_endpoint, or NULL / "" */
};

/*
 * Checks a parsed token against policy at now_s (real Unix seconds: STS
 * itself checks X-Amz-Date against real time). Returns AUTH_IAM_OK, or the
 * first failure in the order of the enum with *err filled
 * (CBQ_ERR_UNAUTHENTICATED, a message saying which and what to do).
 */
enum auth_iam_verdict auth_iam_token_check(const struct auth_iam_token *t,
					   const struct auth_iam_policy *p, int64_t now_s,
					   struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * Whether host (host[:port]) is a real AWS STS endpoint: sts.amazonaws.com,
 * sts.REGION.amazonaws.com or sts.REGION.amazonaws.com.cn, any case, no port.
 */
bool auth_iam_is_aws_sts_host(const char *host);

/* Zeroes the whole token (it holds the session token). NULL is fine. */
void auth_iam_token_wipe(struct auth_iam_token *t);

#endif
