/*
 * SigV4 signer; see sigv4.h. Builds the canonical request in one bounded
 * buffer, hashes it and HMACs the string to sign with OpenSSL. It does not
 * send, log, read the clock or keep state; temporaries live in one arena.
 */
#include "aws/sigv4.h"
#include "core/duration.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/arena.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TERMINATOR "aws4_request"
/* Latest time gmtime can write as a four-digit year: 9999-12-31T23:59:59Z. */
#define MAX_UNIX_SECONDS INT64_C(253402300799)

/* The headers the signer may add on top of the caller's. */
enum { OWN_HEADERS = 4, MAX_ALL_HEADERS = AWS_SIGV4_MAX_HEADERS + OWN_HEADERS };
/* X-Amz-* parameters a presign adds to the query. */
enum { PRESIGN_PARAMS = 6 };

/* Credential scope "yyyymmdd/region/service/aws4_request". */
enum { SCOPE_SIZE = 8 + 1 + AWS_SIGV4_MAX_SCOPE + 1 + AWS_SIGV4_MAX_SCOPE + 1 + 12 + 1 };
static_assert(sizeof(ALGORITHM "\n") - 1 + 16 + 1 + SCOPE_SIZE + 64 < AWS_SIGV4_STS_SIZE,
	      "string to sign fits");
static_assert(sizeof(ALGORITHM " Credential=/, SignedHeaders=, Signature=") + AWS_SIGV4_MAX_KEY_ID +
			      SCOPE_SIZE + AWS_SIGV4_MAX_SIGNED_NAMES + 64 <
		      AWS_SIGV4_AUTHZ_SIZE,
	      "Authorization fits");

/* A growable string that refuses to pass max bytes (curl's dynbuf). */
struct buf {
	char *p;
	size_t len, cap, max;
	bool too_large;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->too_large)
		return;
	if (n > b->max - b->len) {
		b->too_large = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > b->max + 1)
			cap = b->max + 1;
		char *p = realloc(b->p, cap);
		if (!p)
			abort();
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

size_t aws_uri_encode(const char *in, size_t len, bool encode_slash, char *out, size_t out_size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t need = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		need += unreserved(c) || (c == '/' && !encode_slash) ? 1 : 3;
	}
	if (need >= out_size) {
		if (out_size > 0)
			out[0] = '\0';
		return need;
	}
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (unreserved(c) || (c == '/' && !encode_slash)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/* Encoded copy of in[0..len) in the arena. */
static char *encode_dup(struct cbq_arena *a, const char *in, size_t len, bool encode_slash)
{
	size_t need = aws_uri_encode(in, len, encode_slash, NULL, 0);
	char *out = cbq_arena_alloc(a, need + 1, 1);

	aws_uri_encode(in, len, encode_slash, out, need + 1);
	return out;
}

static void hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static bool sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(len ? data : "", len, md, &n, EVP_sha256(), NULL) || n != 32)
		return false;
	hex_encode(md, 32, out);
	return true;
}

static bool hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
	unsigned int n = 0;

	return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out,
		    &n) &&
	       n == 32;
}

/* Bytes a header value may hold: visible ASCII, space, tab, UTF-8. */
static bool value_ok(const char *v, size_t max)
{
	size_t n = 0;

	for (; v[n]; n++) {
		unsigned char c = (unsigned char)v[n];
		if ((c < 0x20 && c != '\t') || c == 0x7f || n >= max)
			return false;
	}
	return true;
}

/* 1..max bytes: letters, digits and extra when alnum_only, else visible ASCII. */
static bool chars_ok(const char *s, size_t max, const char *extra, bool alnum_only)
{
	size_t n = 0;

	if (!s || !s[0])
		return false;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (n >= max)
			return false;
		if (alnum_only ? !alnum && !strchr(extra, c) : c <= 0x20 || c >= 0x7f)
			return false;
	}
	return true;
}

/* RFC 7230 token characters (header names). */
static const char TCHAR[] = "!#$%&'*+-.^_`|~";

static enum cbq_err check_inputs(const struct aws_request *req, const struct aws_credentials *cred,
				 int64_t t, struct cbq_error *err)
{
	if (!req || !cred)
		return cbq_fail(err, CBQ_ERR_INVALID, "sigv4", "no request or no credentials");
	if (!chars_ok(cred->access_key_id, AWS_SIGV4_MAX_KEY_ID, "_", true))
		return cbq_fail(err, CBQ_ERR_INVALID, "access_key_id",
				"access key id must be 1-%d letters, digits or '_'",
				AWS_SIGV4_MAX_KEY_ID);
	if (!chars_ok(cred->secret_access_key, AWS_SIGV4_MAX_KEY_ID, "", false))
		return cbq_fail(err, CBQ_ERR_INVALID, "secret_access_key",
				"secret access key must be 1-%d visible ASCII characters",
				AWS_SIGV4_MAX_KEY_ID);
	if (cred->session_token && cred->session_token[0] &&
	    !chars_ok(cred->session_token, AWS_SIGV4_MAX_VALUE, "", false))
		return cbq_fail(err, CBQ_ERR_INVALID, "session_token",
				"session token must be at most %d visible ASCII characters",
				AWS_SIGV4_MAX_VALUE);
	if (!chars_ok(req->method, AWS_SIGV4_MAX_METHOD, "", true) ||
	    strspn(req->method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != strlen(req->method))
		return cbq_fail(err, CBQ_ERR_INVALID, "method",
				"method must be 1-%d upper-case letters", AWS_SIGV4_MAX_METHOD);
	if (!chars_ok(req->host, AWS_SIGV4_MAX_HOST, "", false))
		return cbq_fail(err, CBQ_ERR_INVALID, "host",
				"host must be 1-%d visible ASCII characters", AWS_SIGV4_MAX_HOST);
	if (!chars_ok(req->region, AWS_SIGV4_MAX_SCOPE, "-", true) ||
	    !chars_ok(req->service, AWS_SIGV4_MAX_SCOPE, "-", true))
		return cbq_fail(err, CBQ_ERR_INVALID, "region",
				"region and service must be 1-%d letters, digits or '-'",
				AWS_SIGV4_MAX_SCOPE);
	if (!req->path || req->path[0] != '/' || !value_ok(req->path, AWS_SIGV4_MAX_PATH) ||
	    strpbrk(req->path, "?#\t"))
		return cbq_fail(err, CBQ_ERR_INVALID, "path",
				"path must start with '/', be at most %d bytes and hold no "
				"'?', '#' or control characters",
				AWS_SIGV4_MAX_PATH);
	if (req->query &&
	    (!value_ok(req->query, AWS_SIGV4_MAX_QUERY) || strpbrk(req->query, "# \t+")))
		return cbq_fail(err, CBQ_ERR_INVALID, "query",
				"query must be at most %d bytes of %%XX-encoded text; a '+' is "
				"ambiguous: send %%20 for a space or %%2B for a plus",
				AWS_SIGV4_MAX_QUERY);
	if (!req->body && req->body_len)
		return cbq_fail(err, CBQ_ERR_INVALID, "body", "body_len is set but body is NULL");
	if (req->n_headers > AWS_SIGV4_MAX_HEADERS || (req->n_headers && !req->headers))
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "headers",
				"at most %d headers can be signed", AWS_SIGV4_MAX_HEADERS);
	if (t < 0 || t > MAX_UNIX_SECONDS)
		return cbq_fail(err, CBQ_ERR_INVALID, "time",
				"signing time %lld is outside 1970-9999", (long long)t);
	return CBQ_OK;
}

struct hdr {
	char name[AWS_SIGV4_MAX_NAME + 1]; /* lower case */
	const char *value;
};

static bool has_token(const struct aws_credentials *cred)
{
	return cred->session_token && cred->session_token[0];
}

/* Lower-cases, checks and collects the headers to sign, sorted by name. */
static enum cbq_err collect_headers(const struct aws_request *req,
				    const struct aws_credentials *cred, bool presign,
				    const char *amz_date, const char *payload_hash, struct hdr *h,
				    size_t *n_out, struct cbq_error *err)
{
	size_t n = 0;

	for (size_t i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name, *value = req->headers[i].value;
		size_t len = name ? strlen(name) : 0;

		if (!chars_ok(name, AWS_SIGV4_MAX_NAME, TCHAR, true))
			return cbq_fail(err, CBQ_ERR_INVALID, "headers",
					"header %zu: name must be 1-%d token characters", i,
					AWS_SIGV4_MAX_NAME);
		if (!value || !value_ok(value, AWS_SIGV4_MAX_VALUE))
			return cbq_fail(err, CBQ_ERR_INVALID, "headers",
					"header %s: value must be at most %d bytes with no CR, LF "
					"or control characters (unfold continuation lines first)",
					name, AWS_SIGV4_MAX_VALUE);
		for (size_t k = 0; k <= len; k++)
			h[n].name[k] =
				(char)((name[k] >= 'A' && name[k] <= 'Z') ? name[k] + 32 : name[k]);
		if (strcmp(h[n].name, "host") == 0) {
			if (strcmp(value, req->host) != 0)
				return cbq_fail(err, CBQ_ERR_INVALID, "headers",
						"Host header %s differs from host %s", value,
						req->host);
			continue; /* the same header as req->host, added below */
		}
		if (strcmp(h[n].name, "authorization") == 0 ||
		    (!presign && strcmp(h[n].name, "x-amz-date") == 0) ||
		    (!presign && has_token(cred) &&
		     strcmp(h[n].name, "x-amz-security-token") == 0) ||
		    (req->content_sha256_header && strcmp(h[n].name, "x-amz-content-sha256") == 0))
			return cbq_fail(err, CBQ_ERR_INVALID, "headers",
					"header %s is added by the signer; do not pass it", name);
		h[n++].value = value;
	}
	const struct hdr own[OWN_HEADERS] = {
		{ "host", req->host },
		{ "x-amz-date", presign ? NULL : amz_date },
		{ "x-amz-security-token",
		  presign || !has_token(cred) ? NULL : cred->session_token },
		{ "x-amz-content-sha256", req->content_sha256_header ? payload_hash : NULL },
	};
	for (size_t i = 0; i < OWN_HEADERS; i++) {
		if (!own[i].value)
			continue;
		h[n++] = own[i];
	}
	/* Insertion sort: stable, so repeated names keep their order; n is small. */
	for (size_t i = 1; i < n; i++) {
		struct hdr x = h[i];
		size_t j = i;
		for (; j > 0 && strcmp(h[j - 1].name, x.name) > 0; j--)
			h[j] = h[j - 1];
		h[j] = x;
	}
	*n_out = n;
	return CBQ_OK;
}

/* Appends v trimmed of spaces and tabs, inner runs collapsed to one space. */
static void add_trimmed(struct buf *b, const char *v)
{
	bool space = false, started = false;

	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = started;
			continue;
		}
		if (space)
			buf_add(b, " ", 1);
		buf_add(b, v, 1);
		space = false;
		started = true;
	}
}

/* Removes dot segments and empty segments (RFC 3986 5.2.4 plus "//" -> "/",
 * as botocore does): "/a/./b/../c//" -> "/a/c/". */
static char *normalize_path(struct cbq_arena *a, const char *path)
{
	size_t n = strlen(path), o = 0;
	char *out = cbq_arena_alloc(a, n + 2, 1);

	for (const char *seg = path; *seg;) {
		size_t len = strcspn(seg, "/");
		if (len == 0 || (len == 1 && seg[0] == '.')) {
			/* nothing */
		} else if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (o > 0 && out[--o] != '/')
				;
		} else {
			out[o++] = '/';
			memcpy(out + o, seg, len);
			o += len;
		}
		seg += len;
		if (*seg == '/')
			seg++;
	}
	if (o == 0 || path[n - 1] == '/')
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

struct param {
	const char *key, *value; /* encoded */
};

static int param_cmp(const void *pa, const void *pb)
{
	const struct param *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	return c ? c : strcmp(a->value, b->value);
}

/* Decodes %XX in s[0..len) and re-encodes it canonically; NULL if malformed. */
static const char *recode(struct cbq_arena *a, const char *s, size_t len)
{
	char *dec = cbq_arena_alloc(a, len + 1, 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			dec[o++] = s[i];
			continue;
		}
		if (i + 2 >= len || cbq_hexval(s[i + 1]) < 0 || cbq_hexval(s[i + 2]) < 0)
			return NULL;
		int hi = cbq_hexval(s[i + 1]), lo = cbq_hexval(s[i + 2]);
		dec[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	return encode_dup(a, dec, o, true);
}

/* Canonical query: pairs re-encoded, sorted by key then value, joined by '&'. */
static enum cbq_err canonical_query(struct cbq_arena *a, const char *query,
				    const struct param *extra, size_t n_extra, struct buf *out,
				    struct cbq_error *err)
{
	struct param *p = cbq_arena_alloc(a, AWS_SIGV4_MAX_PARAMS + PRESIGN_PARAMS, sizeof(*p));
	size_t n = 0;

	for (const char *s = query ? query : ""; *s;) {
		size_t len = strcspn(s, "&"), klen = strcspn(s, "=&");
		if (len > 0) {
			if (n == AWS_SIGV4_MAX_PARAMS)
				return cbq_fail(err, CBQ_ERR_TOO_LARGE, "query",
						"at most %d query parameters can be signed",
						AWS_SIGV4_MAX_PARAMS);
			p[n].key = recode(a, s, klen);
			p[n].value = klen < len ? recode(a, s + klen + 1, len - klen - 1) : "";
			if (!p[n].key || !p[n].value)
				return cbq_fail(err, CBQ_ERR_INVALID, "query",
						"query parameter %zu has a bad %%XX escape", n + 1);
			if (n_extra && strncasecmp(p[n].key, "X-Amz-", 6) == 0)
				return cbq_fail(err, CBQ_ERR_INVALID, "query",
						"query parameter %s is added by the presigner; do "
						"not pass it",
						p[n].key);
			n++;
		}
		s += len;
		if (*s == '&')
			s++;
	}
	for (size_t i = 0; i < n_extra; i++)
		p[n++] = extra[i];
	qsort(p, n, sizeof(*p), param_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_add(out, "&", 1);
		buf_str(out, p[i].key);
		buf_add(out, "=", 1);
		buf_str(out, p[i].value);
	}
	return CBQ_OK;
}

/* Everything one signature produces. */
struct signing {
	char amz_date[17];
	char scope[SCOPE_SIZE];
	char signed_names[AWS_SIGV4_MAX_SIGNED_NAMES + 1];
	char payload_hash[65];
	char sts[AWS_SIGV4_STS_SIZE];
	char signature[65];
	struct buf creq;  /* canonical request */
	struct buf query; /* presign: canonical query */
};

/* expires < 0 signs for the Authorization header, otherwise presigns. */
static enum cbq_err sign_core(const struct aws_request *req, const struct aws_credentials *cred,
			      int64_t t, int expires, struct signing *s, struct cbq_error *err)
{
	struct cbq_arena a = { 0 };
	struct hdr h[MAX_ALL_HEADERS];
	size_t n_h = 0;
	bool presign = expires >= 0;
	enum cbq_err rc = check_inputs(req, cred, t, err);

	if (rc)
		goto out;
	if (presign && req->content_sha256_header) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "content_sha256_header",
			      "X-Amz-Content-Sha256 is a header; it cannot be presigned");
		goto out;
	}

	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "time", "cannot convert time %lld",
			      (long long)t);
		goto out;
	}
	strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(s->scope, sizeof(s->scope), "%.8s/%s/%s/" TERMINATOR, s->amz_date, req->region,
		 req->service);
	if (!sha256_hex(req->body, req->body_len, s->payload_hash)) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "sigv4", "OpenSSL SHA-256 failed");
		goto out;
	}

	rc = collect_headers(req, cred, presign, s->amz_date, s->payload_hash, h, &n_h, err);
	if (rc)
		goto out;
	struct buf names = { .max = AWS_SIGV4_MAX_SIGNED_NAMES };
	for (size_t i = 0; i < n_h; i++) {
		if (i > 0 && strcmp(h[i].name, h[i - 1].name) == 0)
			continue;
		if (i > 0)
			buf_add(&names, ";", 1);
		buf_str(&names, h[i].name);
	}
	if (names.too_large) {
		free(names.p);
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "headers",
			      "signed header names exceed %d bytes", AWS_SIGV4_MAX_SIGNED_NAMES);
		goto out;
	}
	snprintf(s->signed_names, sizeof(s->signed_names), "%s", names.p);
	free(names.p);

	struct param extra[PRESIGN_PARAMS];
	size_t n_extra = 0;
	if (presign) {
		char cred_scope[AWS_SIGV4_MAX_KEY_ID + 1 + SCOPE_SIZE], exp[16];
		snprintf(cred_scope, sizeof(cred_scope), "%s/%s", cred->access_key_id, s->scope);
		snprintf(exp, sizeof(exp), "%d", expires);
		const char *kv[PRESIGN_PARAMS][2] = {
			{ "X-Amz-Algorithm", ALGORITHM },
			{ "X-Amz-Credential", cred_scope },
			{ "X-Amz-Date", s->amz_date },
			{ "X-Amz-Expires", exp },
			{ "X-Amz-SignedHeaders", s->signed_names },
			{ "X-Amz-Security-Token", has_token(cred) ? cred->session_token : NULL },
		};
		for (size_t i = 0; i < PRESIGN_PARAMS; i++) {
			if (!kv[i][1])
				continue;
			extra[n_extra].key = kv[i][0];
			extra[n_extra++].value = encode_dup(&a, kv[i][1], strlen(kv[i][1]), true);
		}
	}
	s->query.max = AWS_SIGV4_MAX_CANONICAL;
	rc = canonical_query(&a, req->query, extra, n_extra, &s->query, err);
	if (rc)
		goto out;

	const char *path = normalize_path(&a, req->path);
	s->creq.max = AWS_SIGV4_MAX_CANONICAL;
	buf_str(&s->creq, req->method);
	buf_add(&s->creq, "\n", 1);
	buf_str(&s->creq, encode_dup(&a, path, strlen(path), false));
	buf_add(&s->creq, "\n", 1);
	if (s->query.len)
		buf_add(&s->creq, s->query.p, s->query.len);
	buf_add(&s->creq, "\n", 1);
	for (size_t i = 0; i < n_h; i++) {
		bool same = i > 0 && strcmp(h[i].name, h[i - 1].name) == 0;
		if (same) {
			buf_add(&s->creq, ",", 1);
		} else {
			if (i > 0)
				buf_add(&s->creq, "\n", 1);
			buf_str(&s->creq, h[i].name);
			buf_add(&s->creq, ":", 1);
		}
		add_trimmed(&s->creq, h[i].value);
	}
	buf_add(&s->creq, "\n\n", 2);
	buf_str(&s->creq, s->signed_names);
	buf_add(&s->creq, "\n", 1);
	buf_str(&s->creq, s->payload_hash);
	if (s->creq.too_large || s->query.too_large) {
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "sigv4",
			      "canonical request exceeds %d bytes; sign fewer or shorter "
			      "headers and parameters",
			      AWS_SIGV4_MAX_CANONICAL);
		goto out;
	}

	char creq_hash[65];
	if (!sha256_hex(s->creq.p, s->creq.len, creq_hash)) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "sigv4", "OpenSSL SHA-256 failed");
		goto out;
	}
	snprintf(s->sts, sizeof(s->sts), ALGORITHM "\n%s\n%s\n%s", s->amz_date, s->scope,
		 creq_hash);

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), term) */
	char secret[4 + AWS_SIGV4_MAX_KEY_ID + 1], day[9];
	unsigned char k[32], sig[32];
	snprintf(secret, sizeof(secret), "AWS4%s", cred->secret_access_key);
	snprintf(day, sizeof(day), "%.8s", s->amz_date);
	bool ok = hmac(secret, strlen(secret), day, k) && hmac(k, 32, req->region, k) &&
		  hmac(k, 32, req->service, k) && hmac(k, 32, TERMINATOR, k) &&
		  hmac(k, 32, s->sts, sig);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(k, sizeof(k));
	if (!ok) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "sigv4", "OpenSSL HMAC-SHA256 failed");
		goto out;
	}
	hex_encode(sig, 32, s->signature);
out:
	cbq_arena_free(&a);
	return rc;
}

static void signing_free(struct signing *s)
{
	free(s->creq.p);
	free(s->query.p);
}

/* Hands the canonical request over to dbg (it leaves s). */
static void fill_debug(struct signing *s, struct aws_sigv4_debug *dbg)
{
	if (!dbg)
		return;
	dbg->canonical_request = s->creq.p;
	s->creq.p = NULL;
	memcpy(dbg->string_to_sign, s->sts, sizeof(dbg->string_to_sign));
}

enum cbq_err aws_sigv4_sign(const struct aws_request *req, const struct aws_credentials *cred,
			    int64_t unix_seconds, struct aws_signed *out,
			    struct aws_sigv4_debug *dbg, struct cbq_error *err)
{
	struct signing s = { 0 };
	enum cbq_err rc = sign_core(req, cred, unix_seconds, -1, &s, err);

	if (rc)
		goto out;
	struct aws_signed o = { .security_token = has_token(cred) ? cred->session_token : NULL };
	snprintf(o.authorization, sizeof(o.authorization),
		 ALGORITHM " Credential=%s/%s, SignedHeaders=%s, Signature=%s", cred->access_key_id,
		 s.scope, s.signed_names, s.signature);
	memcpy(o.amz_date, s.amz_date, sizeof(o.amz_date));
	if (req->content_sha256_header)
		memcpy(o.content_sha256, s.payload_hash, sizeof(o.content_sha256));
	*out = o;
	fill_debug(&s, dbg);
out:
	signing_free(&s);
	return rc;
}

enum cbq_err aws_sigv4_presign(const struct aws_request *req, const struct aws_credentials *cred,
			       int64_t unix_seconds, int expires, char **query_out,
			       struct aws_sigv4_debug *dbg, struct cbq_error *err)
{
	struct signing s = { 0 };
	enum cbq_err rc;

	if (expires < 1 || expires > AWS_SIGV4_MAX_EXPIRES) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "expires",
			      "expires must be 1-%d seconds, not %d", AWS_SIGV4_MAX_EXPIRES,
			      expires);
		goto out;
	}
	rc = sign_core(req, cred, unix_seconds, expires, &s, err);
	if (rc)
		goto out;
	buf_str(&s.query, "&X-Amz-Signature=");
	buf_str(&s.query, s.signature);
	if (s.query.too_large) {
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "query", "presigned query exceeds %d bytes",
			      AWS_SIGV4_MAX_CANONICAL);
		goto out;
	}
	*query_out = s.query.p;
	s.query.p = NULL;
	fill_debug(&s, dbg);
out:
	signing_free(&s);
	return rc;
}

void aws_sigv4_debug_free(struct aws_sigv4_debug *dbg)
{
	if (!dbg)
		return;
	free(dbg->canonical_request);
	memset(dbg, 0, sizeof(*dbg));
}
