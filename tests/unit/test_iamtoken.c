/*
 * IAM identity tokens (broker/auth/iamtoken): minting against AWS.md §2.5's
 * Vault golden vector with cbq's header, parsing (one row per malformed
 * input, limits included) and checking (one row per verdict).
 *
 * The expected signatures were computed independently of cbq, once, with
 * Python's hmac/hashlib following AWS.md §3.1 (a 20-line script that first
 * reproduced the Vault vector df234c45...) and confirmed with botocore 1.43's
 * SigV4Auth under a frozen clock (botocore.auth.get_current_datetime patched
 * to 2015-08-30 12:36:00): same key, date, host sts.amazonaws.com, region
 * us-east-1, body and Content-Type as the Vault vector, with header
 * X-Cbq-Server-Id instead of X-Vault-AWS-IAM-Server-ID.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/iamtoken.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define T0 INT64_C(1440938160) /* 20150830T123600Z */

#define SIG_VAULT_ID "497f1fccccd34e6d50495e50332589bc5b6a6071e2a288c2e19cd28b0d208538"
#define SIG_WITH_TOKEN "08a6a4364d650a37db5fc0a25a3d3790c9983e0303aa302f2a84b75037babf08"
#define AUTHZ(names, sig)                                                               \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, " \
	"SignedHeaders=" names ", Signature=" sig
#define GOOD_AUTHZ AUTHZ("content-type;host;x-amz-date;x-cbq-server-id", SIG_VAULT_ID)

/* An independent base64url (no padding) encoder for hand-made tokens. */
static char *b64url(const char *in, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 8);
	size_t o = 0;

	cr_assert(out);
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (unsigned char)in[i + 1] << 8;
		if (left > 2)
			v |= (unsigned char)in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		if (left > 1)
			out[o++] = tab[v >> 6 & 63];
		if (left > 2)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return out;
}

/* A token whose members are given (NULL: left out), in this order. */
static char *token_of(const char *host, const char *date, const char *sess, const char *id,
		      const char *authz)
{
	char json[20000];
	size_t n = 0;

	n += (size_t)snprintf(json + n, sizeof(json) - n, "{");
	if (host)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "\"host\":\"%s\",", host);
	if (date)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "\"x-amz-date\":\"%s\",", date);
	if (sess)
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      "\"x-amz-security-token\":\"%s\",", sess);
	if (id)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "\"x-cbq-server-id\":\"%s\",",
				      id);
	if (authz)
		n += (size_t)snprintf(json + n, sizeof(json) - n, "\"authorization\":\"%s\",",
				      authz);
	json[n - 1] = '}';
	return b64url(json, n);
}

static char *good_token(void)
{
	return token_of("sts.amazonaws.com", "20150830T123600Z", NULL, "vault.example.com",
			GOOD_AUTHZ);
}

static char *mint(const char *session_token, const char *server_id)
{
	struct aws_credentials cred = { AKID, SECRET, session_token };
	struct auth_iam_mint_req r = { &cred, "sts.amazonaws.com", "us-east-1", server_id };
	struct cbq_error err = { 0 };
	char *tok = NULL;

	cr_assert_eq(auth_iam_token_mint(&r, T0, &tok, &err), CBQ_OK, "%s", err.msg);
	return tok;
}

static void parse_ok(const char *text, struct auth_iam_token *t)
{
	struct cbq_error err = { 0 };

	cr_assert_eq(auth_iam_token_parse(text, strlen(text), t, &err), CBQ_OK, "%s", err.msg);
}

/* ---- mint ----------------------------------------------------------------------- */

Test(iamtoken, mint_matches_the_golden_vector)
{
	char *tok = mint(NULL, "vault.example.com");
	struct auth_iam_token t;

	parse_ok(tok, &t);
	cr_assert_str_eq(t.authorization, GOOD_AUTHZ);
	cr_assert_str_eq(t.host, "sts.amazonaws.com");
	cr_assert_str_eq(t.amz_date, "20150830T123600Z");
	cr_assert_str_eq(t.server_id, "vault.example.com");
	cr_assert_str_eq(t.security_token, "");
	cr_assert_eq(t.signed_at, T0);
	/* the exact wire form: members in order, no padding */
	char *want = good_token();
	cr_assert_str_eq(tok, want);
	cr_assert_null(strchr(tok, '='));
	free(want);
	free(tok);
}

Test(iamtoken, mint_with_a_session_token_signs_it)
{
	char *tok = mint("EXAMPLETOKEN", "cbq.example.com");
	struct auth_iam_token t;

	parse_ok(tok, &t);
	cr_assert_str_eq(t.authorization,
			 AUTHZ("content-type;host;x-amz-date;x-amz-security-token;x-cbq-server-id",
			       SIG_WITH_TOKEN));
	cr_assert_str_eq(t.security_token, "EXAMPLETOKEN");
	struct auth_iam_policy p = { "cbq.example.com", NULL };
	struct cbq_error err = { 0 };
	cr_assert_eq(auth_iam_token_check(&t, &p, T0, &err), AUTH_IAM_OK, "%s", err.msg);
	free(tok);
}

Test(iamtoken, server_ids_with_json_specials_round_trip)
{
	char *tok = mint(NULL, "a\"b\\c");
	struct auth_iam_token t;

	parse_ok(tok, &t);
	cr_assert_str_eq(t.server_id, "a\"b\\c");
	free(tok);
}

Test(iamtoken, mint_refuses_bad_input)
{
	struct aws_credentials cred = { AKID, SECRET, NULL };
	struct auth_iam_mint_req r = { &cred, "sts.amazonaws.com", "us-east-1", "has space" };
	struct cbq_error err = { 0 };
	char *tok = NULL;

	cr_assert_eq(auth_iam_token_mint(&r, T0, &tok, &err), CBQ_ERR_INVALID);
	cr_assert_null(tok);
	r.server_id = "ok";
	r.host = "sts.amazonaws.com/evil";
	cr_assert_eq(auth_iam_token_mint(&r, T0, &tok, &err), CBQ_ERR_INVALID);
	/* a session token that cannot fit the token is refused, not cut */
	char *big = malloc(AUTH_IAM_MAX_SESSION_TOKEN + 1);
	memset(big, 'A', AUTH_IAM_MAX_SESSION_TOKEN);
	big[AUTH_IAM_MAX_SESSION_TOKEN] = '\0';
	cred.session_token = big;
	r.host = "sts.amazonaws.com";
	enum cbq_err rc = auth_iam_token_mint(&r, T0, &tok, &err);
	if (rc == CBQ_OK) {
		/* 8 KiB of token fits in 16 KiB of base64 */
		cr_assert_leq(strlen(tok), AUTH_IAM_MAX_TOKEN);
		free(tok);
	}
	free(big);
	/* the secret never shows in a message */
	cred = (struct aws_credentials){ AKID, "has space secret", NULL };
	cr_assert_neq(auth_iam_token_mint(&r, T0, &tok, &err), CBQ_OK);
	cr_assert_null(strstr(err.msg, "space secret"), "%s", err.msg);
}

Test(iamtoken, header_scheme)
{
	const char *tok = NULL;

	cr_assert(auth_iam_header_token("CBQ-AWS-IAM-V1 abc", &tok));
	cr_assert_str_eq(tok, "abc");
	cr_assert(auth_iam_header_token("cbq-aws-iam-v1   abc", &tok));
	cr_assert_str_eq(tok, "abc");
	cr_assert_not(auth_iam_header_token("CBQ-AWS-IAM-V1abc", &tok));
	cr_assert_not(auth_iam_header_token("Bearer abc", &tok));
	cr_assert_not(auth_iam_header_token("AWS4-HMAC-SHA256 Credential=x", &tok));
	cr_assert_not(auth_iam_header_token(NULL, &tok));
}

/* ---- parse: every malformed input is refused, saying what ------------------------- */

struct parse_case {
	const char *name;
	char *(*make)(void);
	const char *fragment; /* in the message */
};

static char *raw(const char *text)
{
	return b64url(text, strlen(text));
}

#define T(...) token_of(__VA_ARGS__)
static char *c_empty(void)
{
	return strdup("");
}
static char *c_not_b64(void)
{
	return strdup("eyJob3N0Ijoi!!!");
}
static char *c_padded(void)
{
	return strdup("eyJ9fQ==");
}
static char *c_len_1_mod_4(void)
{
	return strdup("eyJob");
}
static char *c_array(void)
{
	return raw("[\"host\"]");
}
static char *c_empty_obj(void)
{
	return raw(" { } ");
}
static char *c_number(void)
{
	return raw("{\"host\":1}");
}
static char *c_null(void)
{
	return raw("{\"host\":null}");
}
static char *c_nested(void)
{
	return raw("{\"host\":{\"a\":\"b\"}}");
}
static char *c_unknown(void)
{
	return raw("{\"host\":\"sts.amazonaws.com\",\"x-amz-target\":\"x\"}");
}
static char *c_dup(void)
{
	return raw("{\"host\":\"sts.amazonaws.com\",\"host\":\"sts.amazonaws.com\"}");
}
static char *c_missing_authz(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s", NULL);
}
static char *c_missing_id(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, NULL, GOOD_AUTHZ);
}
static char *c_trailing(void)
{
	return raw("{\"host\":\"sts.amazonaws.com\"} x");
}
static char *c_unterminated(void)
{
	return raw("{\"host\":\"sts.amazonaws.com");
}
static char *c_no_colon(void)
{
	return raw("{\"host\" \"x\"}");
}
static char *c_trailing_comma(void)
{
	return raw("{\"host\":\"x\",}");
}
static char *c_bad_escape(void)
{
	return raw("{\"host\":\"a\\qb\"}");
}
static char *c_unicode_escape(void)
{
	return raw("{\"host\":\"caf\\u00e9\"}");
}
static char *c_nul_escape(void)
{
	return raw("{\"host\":\"a\\u0000b\"}");
}
static char *c_raw_utf8(void)
{
	return raw("{\"host\":\"caf\xc3\xa9\"}");
}
static char *c_control(void)
{
	return raw("{\"host\":\"a\tb\"}");
}
static char *c_host_path(void)
{
	return T("sts.amazonaws.com/x", "20150830T123600Z", NULL, "s", GOOD_AUTHZ);
}
static char *c_host_empty(void)
{
	return T("", "20150830T123600Z", NULL, "s", GOOD_AUTHZ);
}
static char *c_date(void)
{
	return T("sts.amazonaws.com", "20151330T123600Z", NULL, "s", GOOD_AUTHZ);
}
static char *c_date_feb30(void)
{
	return T("sts.amazonaws.com", "20150230T123600Z", NULL, "s", GOOD_AUTHZ);
}
static char *c_date_form(void)
{
	return T("sts.amazonaws.com", "2015-08-30T12:36:00Z", NULL, "s", GOOD_AUTHZ);
}
static char *c_sess_empty(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", "", "s", GOOD_AUTHZ);
}
static char *c_id_space(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "a b", GOOD_AUTHZ);
}
static char *c_id_long(void)
{
	char id[300];
	memset(id, 'x', 256);
	id[256] = '\0';
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, id, GOOD_AUTHZ);
}
static char *c_sess_long(void)
{
	static char s[AUTH_IAM_MAX_SESSION_TOKEN + 2];
	memset(s, 'A', AUTH_IAM_MAX_SESSION_TOKEN + 1);
	s[AUTH_IAM_MAX_SESSION_TOKEN + 1] = '\0';
	return T("sts.amazonaws.com", "20150830T123600Z", s, "s", GOOD_AUTHZ);
}
static char *c_too_long(void)
{
	char *t = malloc(AUTH_IAM_MAX_TOKEN + 2);
	memset(t, 'A', AUTH_IAM_MAX_TOKEN + 1);
	t[AUTH_IAM_MAX_TOKEN + 1] = '\0';
	return t;
}
static char *c_authz_alg(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s",
		 "AWS4-HMAC-SHA1 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
		 "SignedHeaders=host, Signature=" SIG_VAULT_ID);
}
static char *c_authz_cred(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s",
		 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts, "
		 "SignedHeaders=host, Signature=" SIG_VAULT_ID);
}
static char *c_authz_cred_empty_part(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s",
		 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE//20150830/us-east-1/sts/aws4_request, "
		 "SignedHeaders=host, Signature=" SIG_VAULT_ID);
}
static char *c_authz_sig(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s",
		 AUTHZ("content-type;host;x-amz-date;x-cbq-server-id", "XYZ"));
}
static char *c_authz_names(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s",
		 AUTHZ("Host;;x-amz-date", SIG_VAULT_ID));
}
static char *c_authz_no_signed(void)
{
	return T("sts.amazonaws.com", "20150830T123600Z", NULL, "s",
		 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/aws4_request, "
		 "Signature=" SIG_VAULT_ID);
}

static const struct parse_case parse_cases[] = {
	{ "empty", c_empty, "empty" },
	{ "not base64url", c_not_b64, "base64url" },
	{ "padding", c_padded, "base64url" },
	{ "length 1 mod 4", c_len_1_mod_4, "base64url" },
	{ "array", c_array, "not a JSON object" },
	{ "empty object", c_empty_obj, "empty" },
	{ "number value", c_number, "\"host\" is not a string" },
	{ "null value", c_null, "\"host\" is not a string" },
	{ "object value", c_nested, "\"host\" is not a string" },
	{ "unknown member", c_unknown, "unknown member" },
	{ "duplicate member", c_dup, "\"host\" appears twice" },
	{ "missing authorization", c_missing_authz, "\"authorization\" is missing" },
	{ "missing server id", c_missing_id, "\"x-cbq-server-id\" is missing" },
	{ "bytes after the object", c_trailing, "after its JSON object" },
	{ "unterminated string", c_unterminated, "object of strings" },
	{ "no colon", c_no_colon, "object of strings" },
	{ "trailing comma", c_trailing_comma, "object of strings" },
	{ "bad escape", c_bad_escape, "object of strings" },
	{ "non-ASCII escape", c_unicode_escape, "object of strings" },
	{ "NUL escape", c_nul_escape, "object of strings" },
	{ "raw UTF-8", c_raw_utf8, "object of strings" },
	{ "control byte", c_control, "object of strings" },
	{ "host with a path", c_host_path, "host is not a host name" },
	{ "empty host", c_host_empty, "host is not a host name" },
	{ "month 13", c_date, "x-amz-date" },
	{ "30 February", c_date_feb30, "x-amz-date" },
	{ "ISO-8601 with dashes", c_date_form, "x-amz-date" },
	{ "empty session token", c_sess_empty, "x-amz-security-token" },
	{ "server id with a space", c_id_space, "x-cbq-server-id" },
	{ "server id over 255", c_id_long, "\"x-cbq-server-id\" is longer than 255" },
	{ "session token over 8192", c_sess_long, "\"x-amz-security-token\" is longer than 8192" },
	{ "token over 16 KiB", c_too_long, "longer than 16384" },
	{ "other algorithm", c_authz_alg, "AWS4-HMAC-SHA256" },
	{ "short credential", c_authz_cred, "Credential=" },
	{ "credential with an empty part", c_authz_cred_empty_part, "empty part" },
	{ "signature not hex", c_authz_sig, "Signature=" },
	{ "signed headers not lower-case names", c_authz_names, "SignedHeaders=" },
	{ "no signed headers", c_authz_no_signed, "SignedHeaders=" },
};

Test(iamtoken, malformed_tokens_are_refused_saying_what)
{
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		const struct parse_case *c = &parse_cases[i];
		char *text = c->make();
		struct auth_iam_token *t = malloc(sizeof(*t));
		struct cbq_error err = { 0 };

		cr_assert_eq(auth_iam_token_parse(text, strlen(text), t, &err),
			     CBQ_ERR_UNAUTHENTICATED, "%s: accepted", c->name);
		cr_assert(strstr(err.msg, "malformed IAM token: "), "%s: %s", c->name, err.msg);
		cr_assert(strstr(err.msg, c->fragment), "%s: %s", c->name, err.msg);
		auth_iam_token_wipe(t);
		free(t);
		free(text);
	}
}

Test(iamtoken, members_in_any_order_with_whitespace_parse)
{
	char *text = raw(" {\n \"authorization\" : \"" GOOD_AUTHZ "\" ,\"x-cbq-server-id\":"
			 "\"vault.example.com\", \"x-amz-date\":\"20150830T123600Z\",\"host\":"
			 "\"sts.amazonaws.com\"\t} ");
	struct auth_iam_token t;
	parse_ok(text, &t);
	cr_assert_str_eq(t.region, "us-east-1");
	cr_assert_str_eq(t.service, "sts");
	cr_assert_str_eq(t.scope_date, "20150830");
	cr_assert_str_eq(t.signed_headers, "content-type;host;x-amz-date;x-cbq-server-id");
	free(text);
}

/* ---- check: one row per verdict ------------------------------------------------- */

struct check_case {
	const char *name;
	const char *host, *sess, *id, *authz;
	const char *server_id, *endpoint_host;
	int64_t now;
	enum auth_iam_verdict want;
	const char *fragment; /* in the message, or NULL for OK */
	const char *fragment2;
};

#define SH_OK "content-type;host;x-amz-date;x-cbq-server-id"
#define EC2_AUTHZ                                                                       \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/aws4_request, " \
	"SignedHeaders=" SH_OK ", Signature=" SIG_VAULT_ID
#define OTHER_DAY_AUTHZ                                                                 \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/sts/aws4_request, " \
	"SignedHeaders=" SH_OK ", Signature=" SIG_VAULT_ID

static const struct check_case check_cases[] = {
	{ "ok", "sts.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL, T0,
	  AUTH_IAM_OK, NULL, NULL },
	{ "regional host", "sts.eu-west-1.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0, AUTH_IAM_OK, NULL, NULL },
	{ "China host", "sts.cn-north-1.amazonaws.com.cn", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0, AUTH_IAM_OK, NULL, NULL },
	{ "upper-case host", "STS.AMAZONAWS.COM", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1",
	  NULL, T0, AUTH_IAM_OK, NULL, NULL },
	{ "configured endpoint", "127.0.0.1:4566", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1",
	  "127.0.0.1:4566", T0, AUTH_IAM_OK, NULL, NULL },
	{ "15 min behind is fine", "sts.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0 + 900, AUTH_IAM_OK, NULL, NULL },
	{ "15 min ahead is fine", "sts.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1",
	  NULL, T0 - 900, AUTH_IAM_OK, NULL, NULL },
	{ "other server id", "sts.amazonaws.com", NULL, "other-cbqd", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0, AUTH_IAM_SERVER_ID_MISMATCH, "'other-cbqd'",
	  "this cbqd is 's1': run cbq with --server-id s1 or set CBQ_SERVER_ID" },
	{ "server id is case-sensitive", "sts.amazonaws.com", NULL, "S1",
	  AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL, T0, AUTH_IAM_SERVER_ID_MISMATCH, "'S1'", NULL },
	{ "server id not signed", "sts.amazonaws.com", NULL, "s1",
	  AUTHZ("content-type;host;x-amz-date", SIG_VAULT_ID), "s1", NULL, T0,
	  AUTH_IAM_SERVER_ID_UNSIGNED, "X-Cbq-Server-Id", "SignedHeaders" },
	{ "signs a header it does not carry", "sts.amazonaws.com", NULL, "s1",
	  AUTHZ("content-type;host;x-amz-date;x-amz-target;x-cbq-server-id", SIG_VAULT_ID), "s1",
	  NULL, T0, AUTH_IAM_MALFORMED, "'x-amz-target'", NULL },
	{ "host not signed", "sts.amazonaws.com", NULL, "s1",
	  AUTHZ("x-amz-date;x-cbq-server-id", SIG_VAULT_ID), "s1", NULL, T0, AUTH_IAM_MALFORMED,
	  "host and x-amz-date", NULL },
	{ "session token not signed", "sts.amazonaws.com", "TOKEN", "s1",
	  AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL, T0, AUTH_IAM_MALFORMED, "x-amz-security-token",
	  NULL },
	{ "scope date is another day", "sts.amazonaws.com", NULL, "s1", OTHER_DAY_AUTHZ, "s1", NULL,
	  T0, AUTH_IAM_MALFORMED, "20150831", NULL },
	{ "20 min old", "sts.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL,
	  T0 + 20 * 60, AUTH_IAM_DATE_SKEW, "X-Amz-Date 20150830T123600Z is 20 min behind",
	  "the limit is 15 min: mint a new token" },
	{ "one second past the limit", "sts.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0 + 901, AUTH_IAM_DATE_SKEW, "15 min 1 s behind", NULL },
	{ "from the future", "sts.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1",
	  NULL, T0 - 3600, AUTH_IAM_DATE_SKEW, "60 min ahead of cbqd's clock", NULL },
	{ "signed for ec2", "sts.amazonaws.com", NULL, "s1", EC2_AUTHZ, "s1", NULL, T0,
	  AUTH_IAM_NOT_STS, "'ec2', not sts", NULL },
	{ "some other host", "sts.example.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL,
	  T0, AUTH_IAM_HOST_NOT_ALLOWED, "'sts.example.com'", NULL },
	{ "AWS-looking suffix", "sts.amazonaws.com.evil.example", NULL, "s1",
	  AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL, T0, AUTH_IAM_HOST_NOT_ALLOWED, "neither", NULL },
	{ "two labels for a region", "sts.a.b.amazonaws.com", NULL, "s1",
	  AUTHZ(SH_OK, SIG_VAULT_ID), "s1", NULL, T0, AUTH_IAM_HOST_NOT_ALLOWED, "neither", NULL },
	{ "not sts", "ec2.us-east-1.amazonaws.com", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID), "s1",
	  NULL, T0, AUTH_IAM_HOST_NOT_ALLOWED, "neither", NULL },
	{ "AWS host with a port", "sts.amazonaws.com:8443", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0, AUTH_IAM_HOST_NOT_ALLOWED, "neither", NULL },
	{ "endpoint on another port", "127.0.0.1:4567", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", "127.0.0.1:4566", T0, AUTH_IAM_HOST_NOT_ALLOWED, "iam_sts_endpoint 127.0.0.1:4566",
	  NULL },
	{ "loopback without an endpoint", "127.0.0.1:4566", NULL, "s1", AUTHZ(SH_OK, SIG_VAULT_ID),
	  "s1", NULL, T0, AUTH_IAM_HOST_NOT_ALLOWED, "neither", NULL },
};

Test(iamtoken, checks_give_each_verdict_with_its_message)
{
	for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];
		char *text = token_of(c->host, "20150830T123600Z", c->sess, c->id, c->authz);
		struct auth_iam_token t;
		struct auth_iam_policy p = { c->server_id, c->endpoint_host };
		struct cbq_error err = { 0 };

		parse_ok(text, &t);
		enum auth_iam_verdict v = auth_iam_token_check(&t, &p, c->now, &err);
		cr_assert_eq(v, c->want, "%s: got %s (%s)", c->name, auth_iam_verdict_name(v),
			     err.msg);
		if (c->fragment) {
			cr_assert_eq(err.code, CBQ_ERR_UNAUTHENTICATED, "%s", c->name);
			cr_assert(strstr(err.msg, c->fragment), "%s: %s", c->name, err.msg);
		}
		if (c->fragment2)
			cr_assert(strstr(err.msg, c->fragment2), "%s: %s", c->name, err.msg);
		/* never the signature, never the session token */
		cr_assert_null(strstr(err.msg, SIG_VAULT_ID), "%s", c->name);
		cr_assert_null(strstr(err.msg, "TOKEN"), "%s: %s", c->name, err.msg);
		free(text);
	}
}

Test(iamtoken, aws_sts_hosts)
{
	static const char *const yes[] = { "sts.amazonaws.com", "sts.us-east-1.amazonaws.com",
					   "sts.us-gov-west-1.amazonaws.com",
					   "sts.cn-northwest-1.amazonaws.com.cn" };
	static const char *const no[] = { "",
					  "sts.amazonaws.com.",
					  "xsts.amazonaws.com",
					  "sts..amazonaws.com",
					  "sts.-x.amazonaws.com",
					  "sts.amazonaws.com.cn",
					  "sts.us-east-1.amazonaws.co",
					  "iam.amazonaws.com",
					  "sts.us_east_1.amazonaws.com" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		cr_assert(auth_iam_is_aws_sts_host(yes[i]), "%s", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		cr_assert_not(auth_iam_is_aws_sts_host(no[i]), "%s", no[i]);
}
