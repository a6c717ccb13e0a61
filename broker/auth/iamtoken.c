/*
 * CBQ-AWS-IAM-V1 tokens; see iamtoken.h. base64url and a strict parser for
 * the one flat JSON object the token holds (strings only, five known
 * members), written here so that every size is bounded before anything is
 * copied. Signing is aws_sigv4_sign(). No clock, no I/O, no logging.
 */
#include "auth/iamtoken.h"
#include "core/duration.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "core/alloc.h"

/* Decoded JSON is at most 3/4 of the token. */
enum { MAX_JSON = AUTH_IAM_MAX_TOKEN / 4 * 3 + 3, MAX_KEY = 32 };

/* ---- base64url (RFC 4648 §5), no padding */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
		out[o++] = B64[v >> 6 & 63];
		out[o++] = B64[v & 63];
	}
	if (n - i == 1) {
		unsigned v = (unsigned)in[i] << 16;
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
	} else if (n - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		out[o++] = B64[v >> 18 & 63];
		out[o++] = B64[v >> 12 & 63];
		out[o++] = B64[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Decodes n characters into out (room for n / 4 * 3 + 2 bytes); false on a
 * character outside the alphabet, a length of 1 mod 4 or non-zero pad bits
 * (so that one JSON text has exactly one token). */
static bool b64_decode(const char *in, size_t n, unsigned char *out, size_t *out_len)
{
	size_t o = 0;
	unsigned acc = 0;
	int bits = 0;

	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(in[i]);
		if (v < 0)
			return false;
		acc = (acc << 6 | (unsigned)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (bits && (acc & ((1u << bits) - 1)))
		return false;
	*out_len = o;
	return true;
}

/* ---- character classes and the time */

/* 1..max bytes of 0x21..0x7e. */
static bool visible(const char *s, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f || n >= max)
			return false;
	return n > 0;
}

static bool only(const char *s, const char *set, size_t min, size_t max)
{
	size_t n = strlen(s);

	return n >= min && n <= max && strspn(s, set) == n;
}

static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* "YYYYMMDDTHHMMSSZ" → Unix seconds; false unless exactly that and valid. */
static bool amz_date(const char *s, int64_t *out)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' || strspn(s, "0123456789") != 8 ||
	    strspn(s + 9, "0123456789") != 6)
		return false;
	int y = digits(s, 4), mo = digits(s + 4, 2), d = digits(s + 6, 2);
	int h = digits(s + 9, 2), mi = digits(s + 11, 2), se = digits(s + 13, 2);
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 59)
		return false;
	*out = cbq_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return true;
}

static enum cbq_err malformed(struct cbq_error *err, const char *what)
{
	return cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			"malformed IAM token: %s; run cbq again to mint a new one", what);
}

/* ---- mint */

/* Appends "name":"value" with JSON escapes (values are visible ASCII, so
 * only '"' and '\\' need them). */
static void json_member(char *buf, size_t *n, const char *name, const char *value, bool first)
{
	*n += (size_t)sprintf(buf + *n, "%s\"%s\":\"", first ? "" : ",", name);
	for (const char *p = value; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf[(*n)++] = '\\';
		buf[(*n)++] = *p;
	}
	buf[(*n)++] = '"';
	buf[*n] = '\0';
}

enum cbq_err auth_iam_token_mint(const struct auth_iam_mint_req *r, int64_t now_s, char **out,
				 struct cbq_error *err)
{
	struct aws_header hdrs[] = {
		{ "Content-Type", AUTH_IAM_CONTENT_TYPE },
		{ AUTH_IAM_SERVER_ID_HEADER, r->server_id },
	};
	struct aws_signed sig;
	char *json = NULL, *text = NULL;
	size_t n = 0;
	enum cbq_err rc;

	if (!r->server_id || !visible(r->server_id, AUTH_IAM_MAX_SERVER_ID))
		return cbq_fail(err, CBQ_ERR_INVALID, "server_id",
				"the server id must be 1-%d visible ASCII characters, no spaces",
				AUTH_IAM_MAX_SERVER_ID);
	if (!r->host || !only(r->host,
			      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "0123456789.-:[]",
			      1, AUTH_IAM_MAX_HOST))
		return cbq_fail(err, CBQ_ERR_INVALID, "sts_host",
				"the STS host must be a host name with an optional :port");
	if (r->cred && r->cred->session_token && r->cred->session_token[0] &&
	    !visible(r->cred->session_token, AUTH_IAM_MAX_SESSION_TOKEN))
		return cbq_fail(err, CBQ_ERR_INVALID, "session_token",
				"the AWS session token must be 1-%d visible ASCII characters",
				AUTH_IAM_MAX_SESSION_TOKEN);

	struct aws_request req = {
		.method = "POST",
		.host = r->host,
		.path = "/",
		.headers = hdrs,
		.n_headers = 2,
		.body = (const uint8_t *)AUTH_IAM_BODY,
		.body_len = strlen(AUTH_IAM_BODY),
		.region = r->region,
		.service = "sts",
	};
	rc = aws_sigv4_sign(&req, r->cred, now_s, &sig, NULL, err);
	if (rc != CBQ_OK)
		return rc;

	/* every value is at most its limit; escapes at most double it */
	size_t cap =
		128 + 2 * (strlen(r->host) + 16 + strlen(r->server_id) + strlen(sig.authorization) +
			   (sig.security_token ? strlen(sig.security_token) : 0));
	json = cbq_xmalloc(cap);
	json_member(json, &n, "host", r->host, true);
	json_member(json, &n, "x-amz-date", sig.amz_date, false);
	if (sig.security_token && sig.security_token[0])
		json_member(json, &n, "x-amz-security-token", sig.security_token, false);
	json_member(json, &n, "x-cbq-server-id", r->server_id, false);
	json_member(json, &n, "authorization", sig.authorization, false);
	memmove(json + 1, json, n + 1);
	json[0] = '{';
	json[n + 1] = '}';
	json[n + 2] = '\0';
	n += 2;

	if ((n + 2) / 3 * 4 > AUTH_IAM_MAX_TOKEN) {
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "session_token",
			      "the IAM token would be longer than %d characters (the AWS session "
			      "token is too long)",
			      AUTH_IAM_MAX_TOKEN);
		goto out;
	}
	text = cbq_xmalloc((n + 2) / 3 * 4 + 1);
	b64_encode((const unsigned char *)json, n, text);
	*out = text;
	rc = CBQ_OK;
out:
	OPENSSL_cleanse(json, cap);
	free(json);
	OPENSSL_cleanse(&sig, sizeof(sig));
	return rc;
}

/* ---- parse */

bool auth_iam_header_token(const char *authorization, const char **token)
{
	size_t n = sizeof(AUTH_IAM_SCHEME) - 1;

	if (!authorization || strncasecmp(authorization, AUTH_IAM_SCHEME, n) != 0 ||
	    authorization[n] != ' ')
		return false;
	authorization += n;
	while (*authorization == ' ')
		authorization++;
	*token = authorization;
	return true;
}

struct cursor {
	const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

/* A JSON string at c into out (at most max bytes and a NUL). ASCII only:
 * a raw byte >= 0x80 or a \u escape above 0x7f is refused. 1: ok, 0: not
 * a string here, -1: malformed, -2: over max. */
static int json_string(struct cursor *c, char *out, size_t max)
{
	size_t n = 0;

	if (c->p >= c->end || *c->p != '"')
		return 0;
	c->p++;
	while (c->p < c->end && *c->p != '"') {
		unsigned char ch = (unsigned char)*c->p++;
		if (ch < 0x20 || ch >= 0x80)
			return -1;
		if (ch == '\\') {
			if (c->p >= c->end)
				return -1;
			switch (*c->p++) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u': {
				int v = 0;
				if (c->end - c->p < 4)
					return -1;
				for (int i = 0; i < 4; i++) {
					int h = cbq_hexval(c->p[i]);
					if (h < 0)
						return -1;
					v = v * 16 + h;
				}
				c->p += 4;
				if (v == 0 || v >= 0x80)
					return -1;
				ch = (unsigned char)v;
				break;
			}
			default: return -1;
			}
		}
		if (n >= max)
			return -2;
		out[n++] = (char)ch;
	}
	if (c->p >= c->end)
		return -1;
	c->p++;
	out[n] = '\0';
	return 1;
}

/* "Credential=...", then ", SignedHeaders=...", then ", Signature=..." */
static const char *field_after(const char *p, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(p, name, n) != 0 || p[n] != '=')
		return NULL;
	return p + n + 1;
}

/* Reads Authorization's parts into t; the message says what is wrong. */
static enum cbq_err parse_authorization(struct auth_iam_token *t, struct cbq_error *err)
{
	static const char alg[] = "AWS4-HMAC-SHA256 ";
	const char *p = t->authorization, *v;
	char cred[AWS_SIGV4_MAX_KEY_ID + 8 + AWS_SIGV4_MAX_SCOPE * 2 + 20];
	char *parts[6], *save = NULL;
	size_t n = 0, len;

	if (strncmp(p, alg, sizeof(alg) - 1) != 0)
		return malformed(err, "authorization is not an AWS4-HMAC-SHA256 signature");
	p += sizeof(alg) - 1;
	while (*p == ' ')
		p++;
	if (!(v = field_after(p, "Credential")))
		return malformed(err, "authorization has no Credential=");
	len = strcspn(v, ", ");
	if (len >= sizeof(cred))
		return malformed(err, "authorization's Credential= is too long");
	memcpy(cred, v, len);
	cred[len] = '\0';
	if (len == 0 || cred[0] == '/' || cred[len - 1] == '/' || strstr(cred, "//"))
		return malformed(err, "authorization's Credential= has an empty part");
	for (char *s = strtok_r(cred, "/", &save); s && n < 6; s = strtok_r(NULL, "/", &save))
		parts[n++] = s;
	/* AKID/DATE/REGION/SERVICE/aws4_request, no empty parts */
	if (n != 5 || strcmp(parts[4], "aws4_request") != 0 ||
	    !only(parts[0], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_", 1,
		  AWS_SIGV4_MAX_KEY_ID) ||
	    !only(parts[1], "0123456789", 8, 8) ||
	    !only(parts[2], "abcdefghijklmnopqrstuvwxyz0123456789-", 1, AUTH_IAM_MAX_REGION) ||
	    !only(parts[3], "abcdefghijklmnopqrstuvwxyz0123456789-", 1, AWS_SIGV4_MAX_SCOPE))
		return malformed(err, "authorization's Credential= is not "
				      "KEY/YYYYMMDD/REGION/SERVICE/aws4_request");
	memcpy(t->scope_date, parts[1], 9);
	snprintf(t->region, sizeof(t->region), "%s", parts[2]);
	snprintf(t->service, sizeof(t->service), "%s", parts[3]);
	OPENSSL_cleanse(cred, sizeof(cred));

	p = v + len;
	while (*p == ',' || *p == ' ')
		p++;
	if (!(v = field_after(p, "SignedHeaders")))
		return malformed(err, "authorization has no SignedHeaders=");
	len = strcspn(v, ", ");
	if (len == 0 || len >= sizeof(t->signed_headers))
		return malformed(err, "authorization's SignedHeaders= is empty or too long");
	memcpy(t->signed_headers, v, len);
	t->signed_headers[len] = '\0';
	if (!only(t->signed_headers, "abcdefghijklmnopqrstuvwxyz0123456789-_.;", 1, len) ||
	    t->signed_headers[0] == ';' || t->signed_headers[len - 1] == ';' ||
	    strstr(t->signed_headers, ";;"))
		return malformed(err, "authorization's SignedHeaders= is not a list of "
				      "lower-case header names");

	p = v + len;
	while (*p == ',' || *p == ' ')
		p++;
	if (!(v = field_after(p, "Signature")))
		return malformed(err, "authorization has no Signature=");
	if (!only(v, "0123456789abcdef", 64, 64))
		return malformed(err, "authorization's Signature= is not 64 lower-case hex digits");
	return CBQ_OK;
}

enum member { M_HOST, M_DATE, M_TOKEN, M_SERVER_ID, M_AUTHZ, M_COUNT };

enum cbq_err auth_iam_token_parse(const char *text, size_t len, struct auth_iam_token *out,
				  struct cbq_error *err)
{
	static const char *const names[M_COUNT] = { "host", "x-amz-date", "x-amz-security-token",
						    "x-cbq-server-id", "authorization" };
	const struct {
		char *buf;
		size_t max;
	} slots[M_COUNT] = {
		{ out->host, AUTH_IAM_MAX_HOST },
		{ out->amz_date, 16 },
		{ out->security_token, AUTH_IAM_MAX_SESSION_TOKEN },
		{ out->server_id, AUTH_IAM_MAX_SERVER_ID },
		{ out->authorization, AUTH_IAM_MAX_AUTHZ },
	};
	unsigned char *json = NULL;
	size_t json_len = 0;
	bool seen[M_COUNT] = { false };
	enum cbq_err rc;
	char what[96];

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return malformed(err, "the token is empty");
	if (len > AUTH_IAM_MAX_TOKEN)
		return malformed(err, "the token is longer than 16384 characters");
	json = cbq_xmalloc(len / 4 * 3 + 3);
	if (!b64_decode(text, len, json, &json_len)) {
		rc = malformed(err, "the token is not base64url without padding");
		goto out;
	}

	struct cursor c = { (const char *)json, (const char *)json + json_len };
	skip_ws(&c);
	if (c.p >= c.end || *c.p++ != '{') {
		rc = malformed(err, "the token is not a JSON object");
		goto out;
	}
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		rc = malformed(err, "the token's JSON object is empty");
		goto out;
	}
	for (;;) {
		char key[MAX_KEY + 1];
		int m = -1, r;

		skip_ws(&c);
		r = json_string(&c, key, MAX_KEY);
		if (r == 0 || r == -1) {
			rc = malformed(err, "the token's JSON is not an object of strings");
			goto out;
		}
		for (int i = 0; r == 1 && i < M_COUNT; i++)
			if (strcmp(key, names[i]) == 0)
				m = i;
		if (m < 0) {
			rc = malformed(err, "the token has an unknown member");
			goto out;
		}
		if (seen[m]) {
			snprintf(what, sizeof(what), "member \"%s\" appears twice", names[m]);
			rc = malformed(err, what);
			goto out;
		}
		seen[m] = true;
		skip_ws(&c);
		if (c.p >= c.end || *c.p++ != ':') {
			rc = malformed(err, "the token's JSON is not an object of strings");
			goto out;
		}
		skip_ws(&c);
		r = json_string(&c, slots[m].buf, slots[m].max);
		if (r == 0) {
			snprintf(what, sizeof(what), "member \"%s\" is not a string", names[m]);
			rc = malformed(err, what);
			goto out;
		}
		if (r == -2) {
			snprintf(what, sizeof(what), "member \"%s\" is longer than %zu bytes",
				 names[m], slots[m].max);
			rc = malformed(err, what);
			goto out;
		}
		if (r < 0) {
			rc = malformed(err, "the token's JSON is not an object of strings");
			goto out;
		}
		skip_ws(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		rc = malformed(err, "the token's JSON is not an object of strings");
		goto out;
	}
	skip_ws(&c);
	if (c.p != c.end) {
		rc = malformed(err, "the token has bytes after its JSON object");
		goto out;
	}
	for (int i = 0; i < M_COUNT; i++)
		if (!seen[i] && i != M_TOKEN) {
			snprintf(what, sizeof(what), "member \"%s\" is missing", names[i]);
			rc = malformed(err, what);
			goto out;
		}

	if (!only(out->host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]",
		  1, AUTH_IAM_MAX_HOST)) {
		rc = malformed(err, "host is not a host name with an optional :port");
		goto out;
	}
	if (!amz_date(out->amz_date, &out->signed_at)) {
		rc = malformed(err, "x-amz-date is not a time like 20150830T123600Z");
		goto out;
	}
	if (seen[M_TOKEN] && !visible(out->security_token, AUTH_IAM_MAX_SESSION_TOKEN)) {
		rc = malformed(err, "x-amz-security-token is empty or not visible ASCII");
		goto out;
	}
	if (!visible(out->server_id, AUTH_IAM_MAX_SERVER_ID)) {
		rc = malformed(err, "x-cbq-server-id is empty or not visible ASCII without spaces");
		goto out;
	}
	for (const char *p = out->authorization; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
			rc = malformed(err, "authorization holds control characters");
			goto out;
		}
	rc = parse_authorization(out, err);
out:
	if (json) {
		OPENSSL_cleanse(json, len / 4 * 3 + 3);
		free(json);
	}
	return rc;
}

/* ---- check */

const char *auth_iam_verdict_name(enum auth_iam_verdict v)
{
	switch (v) {
	case AUTH_IAM_OK: return "ok";
	case AUTH_IAM_MALFORMED: return "malformed";
	case AUTH_IAM_SERVER_ID_MISMATCH: return "server_id_mismatch";
	case AUTH_IAM_SERVER_ID_UNSIGNED: return "server_id_unsigned";
	case AUTH_IAM_DATE_SKEW: return "date_skew";
	case AUTH_IAM_NOT_STS: return "not_sts";
	case AUTH_IAM_HOST_NOT_ALLOWED: return "host_not_allowed";
	}
	return "?";
}

/* name is one of the ';'-separated names in list. */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p;) {
		size_t len = strcspn(p, ";");
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p += len + (p[len] == ';');
	}
	return false;
}

bool auth_iam_is_aws_sts_host(const char *host)
{
	static const char *const suffixes[] = { ".amazonaws.com", ".amazonaws.com.cn" };
	char h[AUTH_IAM_MAX_HOST + 1];
	size_t n = strlen(host);

	if (n == 0 || n > AUTH_IAM_MAX_HOST)
		return false;
	for (size_t i = 0; i <= n; i++)
		h[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') : host[i];
	if (strcmp(h, "sts.amazonaws.com") == 0)
		return true;
	if (strncmp(h, "sts.", 4) != 0)
		return false;
	for (size_t s = 0; s < 2; s++) {
		size_t sl = strlen(suffixes[s]);
		if (n <= 4 + sl || strcmp(h + n - sl, suffixes[s]) != 0)
			continue;
		/* the region: one label of lower-case letters, digits and '-' */
		size_t rl = n - 4 - sl;
		if (rl <= AUTH_IAM_MAX_REGION && h[4] >= 'a' && h[4] <= 'z' &&
		    strspn(h + 4, "abcdefghijklmnopqrstuvwxyz0123456789-") == rl)
			return true;
	}
	return false;
}

enum auth_iam_verdict auth_iam_token_check(const struct auth_iam_token *t,
					   const struct auth_iam_policy *p, int64_t now_s,
					   struct cbq_error *err)
{
	static const char *const carried[] = { "content-type", "host", "x-amz-date",
					       "x-amz-security-token", "x-cbq-server-id" };

	if (strcmp(t->server_id, p->server_id) != 0) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "IAM token was minted for server id '%.80s'; this cbqd is '%.80s': run cbq "
			 "with --server-id %.80s or set CBQ_SERVER_ID",
			 t->server_id, p->server_id, p->server_id);
		return AUTH_IAM_SERVER_ID_MISMATCH;
	}
	if (!listed(t->signed_headers, "x-cbq-server-id")) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "IAM token's signature does not cover X-Cbq-Server-Id (not in "
			 "SignedHeaders), so it could be replayed against another server: mint it "
			 "with cbq");
		return AUTH_IAM_SERVER_ID_UNSIGNED;
	}
	/* everything signed must be something the replay sends */
	for (const char *s = t->signed_headers; *s;) {
		size_t len = strcspn(s, ";");
		bool known = false;
		for (size_t i = 0; i < sizeof(carried) / sizeof(carried[0]); i++)
			known |= strlen(carried[i]) == len && strncmp(carried[i], s, len) == 0;
		if (!known) {
			cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
				 "malformed IAM token: it signs header '%.*s', which it does not "
				 "carry; mint it with cbq",
				 (int)(len > 64 ? 64 : len), s);
			return AUTH_IAM_MALFORMED;
		}
		s += len + (s[len] == ';');
	}
	if (!listed(t->signed_headers, "host") || !listed(t->signed_headers, "x-amz-date")) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "malformed IAM token: its signature must cover host and x-amz-date");
		return AUTH_IAM_MALFORMED;
	}
	if (t->security_token[0] && !listed(t->signed_headers, "x-amz-security-token")) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "malformed IAM token: its signature must cover x-amz-security-token");
		return AUTH_IAM_MALFORMED;
	}
	if (strncmp(t->scope_date, t->amz_date, 8) != 0) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "malformed IAM token: the credential scope's date %s is not the day of "
			 "X-Amz-Date %s",
			 t->scope_date, t->amz_date);
		return AUTH_IAM_MALFORMED;
	}
	int64_t skew = t->signed_at - now_s;
	int64_t away = skew < 0 ? -skew : skew;
	if (away > AUTH_IAM_SKEW_S) {
		char secs[24] = "";
		if (away % 60)
			snprintf(secs, sizeof(secs), " %lld s", (long long)(away % 60));
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "IAM token's X-Amz-Date %s is %lld min%s %s cbqd's clock; the limit is %d "
			 "min: mint a new token (run cbq again) or check the clock",
			 t->amz_date, (long long)(away / 60), secs, skew < 0 ? "behind" : "ahead of",
			 AUTH_IAM_SKEW_S / 60);
		return AUTH_IAM_DATE_SKEW;
	}
	if (strcmp(t->service, "sts") != 0) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "IAM token is signed for service '%.32s', not sts: mint it with cbq",
			 t->service);
		return AUTH_IAM_NOT_STS;
	}
	if (!auth_iam_is_aws_sts_host(t->host) && !(p->endpoint_host && p->endpoint_host[0] &&
						    strcasecmp(t->host, p->endpoint_host) == 0)) {
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "IAM token names STS host '%.100s', which is neither an AWS STS endpoint "
			 "nor this cbqd's iam_sts_endpoint%s%.100s: set AWS_ENDPOINT_URL_STS to match",
			 t->host, p->endpoint_host && p->endpoint_host[0] ? " " : "",
			 p->endpoint_host ? p->endpoint_host : "");
		return AUTH_IAM_HOST_NOT_ALLOWED;
	}
	return AUTH_IAM_OK;
}

void auth_iam_token_wipe(struct auth_iam_token *t)
{
	if (t)
		OPENSSL_cleanse(t, sizeof(*t));
}
