/*
 * STS Query API (2011-06-15): form bodies for AssumeRole and
 * GetCallerIdentity and parsers for their replies (AWS.md §2). Pure: no
 * network, no clock, no caching (the credential cache decides when to
 * re-assume), no signing. Error replies go to aws_error_parse().
 */
#ifndef CBQ_AWS_STS_H
#define CBQ_AWS_STS_H

#include <stddef.h>
#include <stdint.h>

#include "aws/ec2.h" /* struct aws_tag */
#include "aws/form.h"
#include "core/arena.h"
#include "core/err.h"

#define AWS_STS_VERSION "2011-06-15"

enum {
	AWS_STS_MAX_TAGS = 50,
	AWS_STS_MAX_TRANSITIVE = 50,
	AWS_STS_MAX_POLICY_ARNS = 10,
	AWS_STS_MAX_KEY_ID = 128,
	AWS_STS_MAX_SECRET = 128,
	/* AWS sets no size for a session token; this matches what the SigV4
	 * signer accepts (AWS_SIGV4_MAX_VALUE). */
	AWS_STS_MAX_SESSION_TOKEN = 8192,
	AWS_STS_MAX_ARN = 2048,
};

/* Borrowed for the call. Sent in AWS.md §2.1's order; NULL/0 omitted. */
struct aws_sts_assume_role_req {
	const char *role_arn;	     /* required, 20..2048 */
	const char *session_name;    /* required, [\w+=,.@-]{2,64} */
	const char *external_id;     /* [\w+=,.@:/-]{2,1224} */
	int duration_seconds;	     /* 0 or 900..43200 */
	const char *source_identity; /* [\w+=,.@-]{2,64} */
	const struct aws_tag *tags;  /* Tags.member.N.Key/Value, key <= 128, value <= 256 */
	size_t n_tags;
	const char *const *transitive_tag_keys; /* TransitiveTagKeys.member.N */
	size_t n_transitive_tag_keys;
	const char *const *policy_arns; /* PolicyArns.member.N.arn */
	size_t n_policy_arns;
};

/* On success *out holds the body (free with aws_form_free()); on failure
 * *out is empty and err names the field. */
enum cbq_err aws_sts_assume_role_form(const struct aws_sts_assume_role_req *r, struct aws_form *out,
				      struct cbq_error *err) CBQ_MUST_CHECK;
enum cbq_err aws_sts_caller_identity_form(struct aws_form *out,
					  struct cbq_error *err) CBQ_MUST_CHECK;

/* Temporary credentials from AssumeRole. The strings are heap copies owned
 * by the struct; aws_sts_credentials_free() wipes the secret and token
 * before freeing. */
struct aws_sts_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token;
	int64_t expiration;    /* Unix seconds */
	char *assumed_role_id; /* "AROA...:cbq-42" */
	char *arn;	       /* "arn:aws:sts::222233334444:assumed-role/role/cbq-42" */
	char *request_id;      /* or NULL */
};

/* Parses an AssumeRole reply. Missing key, secret, token or expiration is
 * CBQ_ERR_INVALID; over the limits above CBQ_ERR_TOO_LARGE. Error messages
 * name elements, never their values. Also wipes the parsed document's copy
 * of the secrets; the caller still owns (and should wipe) body. */
enum cbq_err aws_sts_parse_assume_role(const char *body, size_t len,
				       struct aws_sts_credentials *out,
				       struct cbq_error *err) CBQ_MUST_CHECK;
void aws_sts_credentials_free(struct aws_sts_credentials *c);

struct aws_sts_identity {
	char *account; /* 12 digits */
	char *arn;
	char *user_id;
	char *request_id;
	struct cbq_arena arena;
};
enum cbq_err aws_sts_parse_caller_identity(const char *body, size_t len,
					   struct aws_sts_identity *out,
					   struct cbq_error *err) CBQ_MUST_CHECK;
void aws_sts_identity_free(struct aws_sts_identity *v);

#endif
