/*
 * AWS Signature Version 4 (AWS4-HMAC-SHA256): canonical request, string to
 * sign, Authorization header and presigned query. Pure: the caller passes the
 * time, nothing is sent, logged or kept between calls. Not for S3 (paths are
 * normalised and encoded the way every other service expects) and no chunked
 * or unsigned payloads. See AWS.md §3.
 */
#ifndef CBQ_AWS_SIGV4_H
#define CBQ_AWS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Limits on everything the caller controls. Over a limit is CBQ_ERR_INVALID
 * (a single field too long or malformed) or CBQ_ERR_TOO_LARGE (the request as
 * a whole); output is never truncated. */
enum {
	AWS_SIGV4_MAX_HEADERS = 32, /* caller headers in one request */
	AWS_SIGV4_MAX_NAME = 128,   /* bytes in a header name */
	AWS_SIGV4_MAX_VALUE = 8192, /* bytes in a header value or session token */
	AWS_SIGV4_MAX_KEY_ID = 128, /* access key id, and secret access key */
	AWS_SIGV4_MAX_SCOPE = 32,   /* region or service name */
	AWS_SIGV4_MAX_HOST = 255,
	AWS_SIGV4_MAX_METHOD = 16,
	AWS_SIGV4_MAX_PATH = 2048,	   /* raw path as sent */
	AWS_SIGV4_MAX_QUERY = 8192,	   /* raw query as sent */
	AWS_SIGV4_MAX_PARAMS = 128,	   /* query parameters */
	AWS_SIGV4_MAX_CANONICAL = 65536,   /* canonical request, and presigned query */
	AWS_SIGV4_MAX_SIGNED_NAMES = 1024, /* the "host;x-amz-date;..." list */
	AWS_SIGV4_MAX_EXPIRES = 604800,	   /* presign: 7 days, the AWS maximum */
	AWS_SIGV4_AUTHZ_SIZE = 1536,	   /* fits every Authorization the limits allow */
	AWS_SIGV4_STS_SIZE = 256,	   /* fits every string to sign */
};

struct aws_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "" for long-term keys */
};

struct aws_header {
	const char *name;  /* an HTTP token, any case */
	const char *value; /* no CR, LF or other control bytes but tab */
};

/* What is signed. Every pointer is borrowed for the duration of the call. */
struct aws_request {
	const char *method; /* "POST", "GET" */
	const char *host;   /* as sent in Host: (with :port when not the default) */
	const char *path;   /* raw path as sent, starting with '/': "/" or "/a/../b" */
	const char *query;  /* raw query without '?', %XX-encoded; NULL or "" for none */
	/* Extra headers to sign, in the order they are sent; repeated names are
	 * joined with ',' in that order. A Host header equal to host is allowed
	 * (it is the same header); Authorization, X-Amz-Date and the headers the
	 * signer adds are not. */
	const struct aws_header *headers;
	size_t n_headers;
	const uint8_t *body; /* may be NULL when body_len is 0 */
	size_t body_len;
	const char *region;  /* "us-east-1" */
	const char *service; /* "ec2", "sts" */
	/* Also sign and return X-Amz-Content-Sha256 (services that ask for it). */
	bool content_sha256_header;
};

/* Headers to add to the request as sent, next to the caller's own. */
struct aws_signed {
	char authorization[AWS_SIGV4_AUTHZ_SIZE]; /* value of Authorization: */
	char amz_date[17];			  /* value of X-Amz-Date: 20150830T123600Z */
	/* Value of X-Amz-Security-Token: (signed), or NULL when there is no token.
	 * Points at cred->session_token: valid as long as that string is. */
	const char *security_token;
	/* Value of X-Amz-Content-Sha256: when content_sha256_header, else "". */
	char content_sha256[65];
};

/* The intermediate strings, for tests and for debugging a
 * SignatureDoesNotMatch. Free with aws_sigv4_debug_free(). */
struct aws_sigv4_debug {
	char *canonical_request; /* malloc'd */
	char string_to_sign[AWS_SIGV4_STS_SIZE];
};

/*
 * Signs req with cred at unix_seconds (UTC) for the Authorization-header
 * form. On success fills *out and, when dbg is not NULL, *dbg (which the
 * caller then frees). On failure returns the code, fills *err (may be NULL)
 * and leaves *out and *dbg untouched. Never calls back.
 */
enum cbq_err aws_sigv4_sign(const struct aws_request *req, const struct aws_credentials *cred,
			    int64_t unix_seconds, struct aws_signed *out,
			    struct aws_sigv4_debug *dbg, struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * Presigns req (query-string form) valid for expires seconds (1..7 days).
 * The X-Amz-* parameters, with X-Amz-Security-Token when cred has a token,
 * are added to req->query (which must not hold X-Amz-* keys itself); only
 * host and req->headers are signed; the payload hash is that of the body
 * (empty for a GET), as STS wants, not UNSIGNED-PAYLOAD. On success
 * *query_out is a malloc'd query string without '?' that the caller frees
 * and sends instead of req->query, with req->headers. Failure as for
 * aws_sigv4_sign(), *query_out untouched.
 */
enum cbq_err aws_sigv4_presign(const struct aws_request *req, const struct aws_credentials *cred,
			       int64_t unix_seconds, int expires, char **query_out,
			       struct aws_sigv4_debug *dbg, struct cbq_error *err) CBQ_MUST_CHECK;

/* Frees what *dbg holds (dbg may be NULL) and zeroes it. */
void aws_sigv4_debug_free(struct aws_sigv4_debug *dbg);

/*
 * RFC 3986 percent-encoding of in[0..len): A-Z a-z 0-9 - _ . ~ stay, '/'
 * stays unless encode_slash, every other byte is %XX in uppercase hex.
 * Returns the encoded length (without the NUL). Writes out (NUL-terminated)
 * only when that length is < out_size; otherwise writes "" when out_size > 0
 * and nothing at all when it is 0, so out may be NULL to measure.
 */
size_t aws_uri_encode(const char *in, size_t len, bool encode_slash, char *out, size_t out_size);

#endif
