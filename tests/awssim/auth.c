/*
 * SigV4 verification against the scenario's keys and the issued sessions;
 * see auth.h. The canonical request is rebuilt by aws_sigv4_sign() from what
 * was received (method, Host, raw path and query, the signed headers, the
 * body, the time in X-Amz-Date), so the emulator checks the broker's signer
 * with the same code only where the wire agrees — and boto3 checks both.
 */
#include "auth.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "simutil.h"

static const char BAD_SIG[] =
	"The request signature we calculated does not match the signature you provided. "
	"Check your AWS Secret Access Key and signing method. Consult the service "
	"documentation for details.";
static const char BAD_TOKEN[] = "The security token included in the request is invalid.";
static const char EXPIRED_TOKEN[] = "The security token included in the request is expired";
static const char EC2_AUTH[] = "AWS was not able to validate the provided access credentials";

/* What went wrong, before it is put in a service's words. */
enum fail { F_MISSING, F_INCOMPLETE, F_UNKNOWN_KEY, F_BAD_SIG, F_SKEW, F_EXPIRED, F_SCOPE };

static void fail(enum sim_service svc, enum fail f, const char *detail, struct sim_awserr *e)
{
	bool json = svc == SIM_SVC_RAM || svc == SIM_SVC_ORGS;

	switch (f) {
	case F_MISSING:
		if (svc == SIM_SVC_EC2)
			sim_awserr_set(e, 401, "MissingAuthenticationToken",
				       "Request is missing Authentication Token");
		else
			sim_awserr_set(e, 403,
				       json ? "MissingAuthenticationTokenException" :
					      "MissingAuthenticationToken",
				       "Request is missing Authentication Token");
		return;
	case F_INCOMPLETE:
		sim_awserr_set(e, 400,
			       json ? "IncompleteSignatureException" : "IncompleteSignature", "%s",
			       detail);
		return;
	case F_UNKNOWN_KEY:
		if (svc == SIM_SVC_EC2)
			sim_awserr_set(e, 401, "AuthFailure", "%s", EC2_AUTH);
		else
			sim_awserr_set(e, 403,
				       json ? "UnrecognizedClientException" :
					      "InvalidClientTokenId",
				       "%s", BAD_TOKEN);
		return;
	case F_BAD_SIG:
	case F_SCOPE:
		if (svc == SIM_SVC_EC2)
			sim_awserr_set(e, 401, "AuthFailure", "%s",
				       f == F_SCOPE ? detail : EC2_AUTH);
		else
			sim_awserr_set(e, 403,
				       json ? "InvalidSignatureException" : "SignatureDoesNotMatch",
				       "%s", f == F_SCOPE ? detail : BAD_SIG);
		return;
	case F_SKEW:
		if (svc == SIM_SVC_EC2)
			sim_awserr_set(e, 400, "RequestExpired", "Request has expired.");
		else
			sim_awserr_set(e, 403,
				       json ? "InvalidSignatureException" : "SignatureDoesNotMatch",
				       "%s", detail);
		return;
	case F_EXPIRED:
		if (svc == SIM_SVC_EC2)
			sim_awserr_set(e, 400, "RequestExpired", "Request has expired.");
		else if (json)
			sim_awserr_set(e, 403, "ExpiredTokenException", "%s", EXPIRED_TOKEN);
		else
			sim_awserr_set(e, 400, "ExpiredToken", "%s", EXPIRED_TOKEN);
		return;
	}
}

const char *sim_auth_header(const struct sim_auth_in *in, const char *name)
{
	for (size_t i = 0; i < in->n_headers; i++)
		if (strcasecmp(in->headers[i].name, name) == 0)
			return in->headers[i].value;
	return NULL;
}

struct authz {
	char key[SIM_KEY_LEN + 1];
	char date[9], region[33], service[33];
	char signed_headers[AWS_SIGV4_MAX_SIGNED_NAMES + 1];
	char signature[65];
};

/* Copies the value after "name=" up to ',' or the end into out. */
static bool field(const char *h, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	const char *p = h;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == h || p[-1] == ' ' || p[-1] == ',') && p[n] == '=')
			break;
		p += n;
	}
	if (!p)
		return false;
	p += n + 1;
	size_t len = strcspn(p, ", ");
	if (len == 0 || len >= size)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

static bool parse_authz(const char *h, struct authz *a)
{
	static const char alg[] = "AWS4-HMAC-SHA256 ";
	char cred[SIM_KEY_LEN + 128];

	if (strncmp(h, alg, sizeof(alg) - 1) != 0 || strlen(h) > 4096)
		return false;
	h += sizeof(alg) - 1;
	if (!field(h, "Credential", cred, sizeof(cred)) ||
	    !field(h, "SignedHeaders", a->signed_headers, sizeof(a->signed_headers)) ||
	    !field(h, "Signature", a->signature, sizeof(a->signature)))
		return false;
	/* AKID/DATE/REGION/SERVICE/aws4_request */
	char *parts[5], *save = NULL;
	size_t n = 0;
	for (char *t = strtok_r(cred, "/", &save); t && n < 5; t = strtok_r(NULL, "/", &save))
		parts[n++] = t;
	if (n != 5 || strtok_r(NULL, "/", &save) || strcmp(parts[4], "aws4_request") != 0)
		return false;
	if (!sim_copy(a->key, sizeof(a->key), parts[0]) || strlen(parts[1]) != 8 ||
	    !sim_copy(a->date, sizeof(a->date), parts[1]) ||
	    !sim_copy(a->region, sizeof(a->region), parts[2]) ||
	    !sim_copy(a->service, sizeof(a->service), parts[3]))
		return false;
	return strlen(a->signature) == 64 && strspn(a->signature, "0123456789abcdef") == 64 &&
	       strspn(a->signed_headers, "abcdefghijklmnopqrstuvwxyz0123456789-;_.") ==
		       strlen(a->signed_headers);
}

/* name is one of the ';'-separated names in list. */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *semi = strchr(p, ';');
		size_t len = semi ? (size_t)(semi - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = semi ? semi + 1 : NULL;
	}
	return false;
}

static void lower(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] && i + 1 < size; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

bool sim_auth_verify(const struct sim_world *w, const struct sim_auth_in *in,
		     enum sim_service fixed, bool query_protocol, enum sim_service hint, cbq_ms now,
		     struct sim_identity *who, enum sim_service *svc, struct sim_awserr *e)
{
	const char *h = sim_auth_header(in, "authorization");
	struct authz a = { 0 };
	char msg[300];

	*svc = query_protocol ? hint : fixed;
	if (!h) {
		fail(*svc, F_MISSING, NULL, e);
		return false;
	}
	if (!parse_authz(h, &a)) {
		fail(*svc, F_INCOMPLETE,
		     "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
		     "parameters and the AWS4-HMAC-SHA256 algorithm",
		     e);
		return false;
	}
	if (query_protocol) {
		if (strcmp(a.service, "ec2") == 0) {
			*svc = SIM_SVC_EC2;
		} else if (strcmp(a.service, "sts") == 0) {
			*svc = SIM_SVC_STS;
		} else {
			snprintf(msg, sizeof(msg),
				 "Credential should be scoped to correct service: '%s'.",
				 hint == SIM_SVC_STS ? "sts" : "ec2");
			fail(*svc, F_SCOPE, msg, e);
			return false;
		}
	} else {
		const char *want = fixed == SIM_SVC_RAM ? "ram" : "organizations";
		if (strcmp(a.service, want) != 0) {
			snprintf(msg, sizeof(msg),
				 "Credential should be scoped to correct service: '%s'.", want);
			fail(*svc, F_SCOPE, msg, e);
			return false;
		}
	}
	/* Organizations is a global service that botocore signs for us-east-1. */
	if (strcmp(a.region, w->sc->region) != 0 &&
	    !(*svc == SIM_SVC_ORGS && strcmp(a.region, "us-east-1") == 0)) {
		snprintf(msg, sizeof(msg),
			 "Credential should be scoped to a valid region, not '%.32s'. ", a.region);
		fail(*svc, F_SCOPE, msg, e);
		return false;
	}

	const char *amz = sim_auth_header(in, "x-amz-date");
	cbq_ms t;
	if (!amz || !sim_time_parse_amz(amz, &t)) {
		fail(*svc, F_INCOMPLETE,
		     "Authorization header requires existence of a valid 'X-Amz-Date' header "
		     "(cbq-awssim does not accept 'Date')",
		     e);
		return false;
	}
	if (t > now + SIM_CLOCK_SKEW_MS || t < now - SIM_CLOCK_SKEW_MS) {
		char at[SIM_TIME_SIZE], lim[SIM_TIME_SIZE], cur[SIM_TIME_SIZE];
		bool early = t < now;
		snprintf(msg, sizeof(msg), "Signature %s: %s is %s than %s (%s %s 15 min.)",
			 early ? "expired" : "not yet current", sim_time_amz(t, at),
			 early ? "now earlier" : "still later",
			 sim_time_amz(early ? now - SIM_CLOCK_SKEW_MS : now + SIM_CLOCK_SKEW_MS,
				      lim),
			 sim_time_amz(now, cur), early ? "-" : "+");
		fail(*svc, F_SKEW, msg, e);
		return false;
	}
	if (strncmp(a.date, amz, 8) != 0) {
		snprintf(msg, sizeof(msg),
			 "Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
			 "of date from HTTP: '%s' != '%.8s', from '%s'.",
			 a.date, amz, amz);
		fail(*svc, F_SCOPE, msg, e);
		return false;
	}

	struct sim_key key;
	const char *token = sim_auth_header(in, "x-amz-security-token");
	if (!sim_iam_lookup(w, a.key, &key) ||
	    (key.kind == SIM_KEY_SESSION &&
	     (!token || strlen(token) != strlen(key.token) ||
	      CRYPTO_memcmp(token, key.token, strlen(key.token)) != 0))) {
		fail(*svc, F_UNKNOWN_KEY, NULL, e);
		return false;
	}
	if (key.kind == SIM_KEY_SESSION && key.expires <= now) {
		fail(*svc, F_EXPIRED, NULL, e);
		return false;
	}

	/* Rebuild the request from the signed headers as received. */
	struct aws_header hs[AWS_SIGV4_MAX_HEADERS];
	size_t n = 0;
	const char *host = NULL;
	bool sha_header = listed(a.signed_headers, "x-amz-content-sha256");
	bool token_signed = listed(a.signed_headers, "x-amz-security-token");
	for (size_t i = 0; i < in->n_headers; i++) {
		char name[AWS_SIGV4_MAX_NAME + 1];
		lower(name, sizeof(name), in->headers[i].name);
		if (strcmp(name, "host") == 0 && !host)
			host = in->headers[i].value;
		if (!listed(a.signed_headers, name) || strcmp(name, "host") == 0 ||
		    strcmp(name, "x-amz-date") == 0 || strcmp(name, "x-amz-security-token") == 0 ||
		    (sha_header && strcmp(name, "x-amz-content-sha256") == 0))
			continue;
		if (n == AWS_SIGV4_MAX_HEADERS) {
			fail(*svc, F_BAD_SIG, NULL, e);
			return false;
		}
		hs[n++] = in->headers[i];
	}
	if (!host || !listed(a.signed_headers, "host")) {
		fail(*svc, F_INCOMPLETE, "'Host' must be a signed header", e);
		return false;
	}
	struct aws_request req = {
		.method = in->method,
		.host = host,
		.path = in->path,
		.query = in->query,
		.headers = hs,
		.n_headers = n,
		.body = in->body,
		.body_len = in->body_len,
		.region = a.region,
		.service = a.service,
		.content_sha256_header = sha_header,
	};
	struct aws_credentials cred = {
		.access_key_id = a.key,
		.secret_access_key = key.secret,
		.session_token = token_signed ? token : NULL,
	};
	struct aws_signed out;
	struct cbq_error err;
	if (aws_sigv4_sign(&req, &cred, t / 1000, &out, NULL, &err) != CBQ_OK) {
		fail(*svc, F_BAD_SIG, NULL, e);
		return false;
	}
	/* "… SignedHeaders=<list>, Signature=<hex>" */
	char want_names[AWS_SIGV4_MAX_SIGNED_NAMES + 1], want_sig[65];
	if (!field(out.authorization + 17, "SignedHeaders", want_names, sizeof(want_names)) ||
	    !field(out.authorization + 17, "Signature", want_sig, sizeof(want_sig)) ||
	    strcmp(want_names, a.signed_headers) != 0 ||
	    CRYPTO_memcmp(want_sig, a.signature, 64) != 0) {
		fail(*svc, F_BAD_SIG, NULL, e);
		return false;
	}
	*who = key.who;
	return true;
}
