/*
 * SigV4 signer against the classic AWS test suite in data/sigv4 (every case
 * folder, compared byte for byte), the AWS.md §2.5/§3.2 golden vectors for
 * our own STS and EC2 requests, one presign vector, and the input limits.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "aws/sigv4.h"

#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TIME INT64_C(1440938160) /* 20150830T123600Z */
#define MAX_CASES 64
#define SUITE_CASES 34

static char *slurp(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc((size_t)n + 1);
	cr_assert(p);
	cr_assert_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	p[n] = '\0';
	fclose(f);
	if (len_out)
		*len_out = (size_t)n;
	return p;
}

/* One .req file taken apart. Strings point into text (cut in place) or vals. */
struct parsed {
	char *text;
	struct aws_request req;
	struct aws_header h[AWS_SIGV4_MAX_HEADERS + 2];
	char vals[AWS_SIGV4_MAX_HEADERS + 2][1024];
	char host[256], amz_date[32], token[1024];
};

/* Request line (target may hold a space), headers with obs-fold continuation
 * lines unfolded to one space, then an optional blank line and body. */
static void parse_req(struct parsed *p, const char *path)
{
	size_t len;
	char *s = p->text = slurp(path, &len), *body = strstr(s, "\n\n"), *line, *next;
	size_t n = 0;

	cr_assert(s, "cannot read %s", path);
	if (body) {
		*body = '\0';
		p->req.body = (const uint8_t *)(body + 2);
		p->req.body_len = len - (size_t)(body + 2 - s);
	}
	next = strchr(s, '\n');
	if (next)
		*next++ = '\0';
	char *sp = strchr(s, ' '), *proto = strrchr(s, ' ');
	cr_assert(sp && proto && sp < proto, "bad request line in %s", path);
	*sp = *proto = '\0';
	p->req.method = s;
	p->req.path = sp + 1;
	char *q = strchr(sp + 1, '?');
	if (q) {
		*q = '\0';
		p->req.query = q + 1;
	}
	for (line = next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (*line == ' ' || *line == '\t') {
			cr_assert(n > 0, "continuation line first in %s", path);
			size_t used = strlen(p->vals[n - 1]);
			snprintf(p->vals[n - 1] + used, sizeof(p->vals[0]) - used, " %s", line);
			continue;
		}
		char *colon = strchr(line, ':');
		cr_assert(colon, "header without ':' in %s", path);
		*colon = '\0';
		cr_assert(n < AWS_SIGV4_MAX_HEADERS + 2);
		p->h[n].name = line;
		snprintf(p->vals[n], sizeof(p->vals[0]), "%s", colon + 1);
		n++;
	}
	/* Host, X-Amz-Date and the token are the signer's to add. */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		const char *v = p->vals[i] + strspn(p->vals[i], " ");
		if (strcasecmp(p->h[i].name, "host") == 0) {
			snprintf(p->host, sizeof(p->host), "%s", v);
		} else if (strcasecmp(p->h[i].name, "x-amz-date") == 0) {
			snprintf(p->amz_date, sizeof(p->amz_date), "%s", v);
		} else if (strcasecmp(p->h[i].name, "x-amz-security-token") == 0) {
			snprintf(p->token, sizeof(p->token), "%s", v);
		} else {
			p->h[kept].name = p->h[i].name;
			memmove(p->vals[kept], p->vals[i], sizeof(p->vals[0]));
			p->h[kept].value = p->vals[kept];
			kept++;
		}
	}
	p->req.host = p->host;
	p->req.headers = p->h;
	p->req.n_headers = kept;
	p->req.region = "us-east-1";
	p->req.service = "service";
}

/* "" when equal, else a short description of the first difference. */
static bool same_file(const char *want_path, const char *got, const char *what, char *why,
		      size_t why_size)
{
	char *want = slurp(want_path, NULL);
	bool ok = want && strcmp(want, got) == 0;

	if (!ok)
		snprintf(why, why_size, "%s differs:\n--- want\n%s\n--- got\n%s", what,
			 want ? want : "(missing)", got);
	free(want);
	return ok;
}

/* Signs one case folder; returns false and says why on a mismatch. */
static bool run_case(const char *dir, const char *name, char *why, size_t why_size)
{
	char base[1024], path[1100];
	struct parsed p = { 0 };
	struct aws_credentials cred = { AKID, SECRET, NULL };
	struct aws_signed out;
	struct aws_sigv4_debug dbg = { 0 };
	struct cbq_error err = { 0 };
	bool ok = false;

	snprintf(base, sizeof(base), "%s/%s", dir, name);
	snprintf(path, sizeof(path), "%s.req", base);
	parse_req(&p, path);
	if (strcmp(p.amz_date, "20150830T123600Z") != 0) {
		snprintf(why, why_size, "unexpected X-Amz-Date %s", p.amz_date);
		goto out;
	}
	/* post-sts-header-before signs the token from .req; after does not sign it
	 * (added once signed); get-vanilla-with-session-token has it only in .creq,
	 * which is where botocore's harness takes it from too. */
	if (strcmp(name, "post-sts-header-before") == 0)
		cred.session_token = p.token;
	if (strcmp(name, "get-vanilla-with-session-token") == 0) {
		snprintf(path, sizeof(path), "%s.creq", base);
		char *creq = slurp(path, NULL),
		     *t = creq ? strstr(creq, "\nx-amz-security-token:") : NULL;
		static char token[256];
		cr_assert(t, "no token line in %s", path);
		t += strlen("\nx-amz-security-token:");
		snprintf(token, sizeof(token), "%.*s", (int)strcspn(t, "\n"), t);
		cred.session_token = token;
		free(creq);
	}
	if (aws_sigv4_sign(&p.req, &cred, SUITE_TIME, &out, &dbg, &err) != CBQ_OK) {
		snprintf(why, why_size, "sign failed: %s: %s", err.field, err.msg);
		goto out;
	}
	snprintf(path, sizeof(path), "%s.creq", base);
	if (!same_file(path, dbg.canonical_request, "canonical request", why, why_size))
		goto out;
	snprintf(path, sizeof(path), "%s.sts", base);
	if (!same_file(path, dbg.string_to_sign, "string to sign", why, why_size))
		goto out;
	snprintf(path, sizeof(path), "%s.authz", base);
	if (!same_file(path, out.authorization, "Authorization", why, why_size))
		goto out;
	ok = strcmp(out.amz_date, p.amz_date) == 0;
	if (!ok)
		snprintf(why, why_size, "X-Amz-Date %s", out.amz_date);
out:
	aws_sigv4_debug_free(&dbg);
	free(p.text);
	return ok;
}

struct tally {
	int total, failed;
};

/* A case is any folder that holds <folder>.req; some are nested. */
static void walk(const char *dir, struct tally *t)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char sub[1024], req[1400];
	struct stat st;

	cr_assert(d, "cannot open %s", dir);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(req, sizeof(req), "%s/%s.req", sub, e->d_name);
		if (stat(req, &st) == 0) {
			static char why[16384];
			t->total++;
			if (!run_case(sub, e->d_name, why, sizeof(why))) {
				t->failed++;
				cr_log_error("sigv4 case %s FAILED: %s", sub, why);
			}
		}
		walk(sub, t);
	}
	closedir(d);
}

Test(sigv4, classic_suite_all_34_cases_pass)
{
	const char *data = getenv("CBQ_TESTDATA");
	char dir[1024];
	struct tally t = { 0 };

	cr_assert(data, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(dir, sizeof(dir), "%s/sigv4", data);
	walk(dir, &t);
	cr_log_info("sigv4 suite: %d cases, %d failed", t.total, t.failed);
	cr_expect_eq(t.total, SUITE_CASES, "found %d cases, want %d", t.total, SUITE_CASES);
	cr_expect_eq(t.failed, 0, "%d of %d cases failed (names above)", t.failed, t.total);
}

static const struct aws_header form_ct[] = {
	{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	{ "X-Vault-AWS-IAM-Server-ID", "vault.example.com" },
};

static struct aws_request post(const char *host, const char *service, const char *body)
{
	return (struct aws_request){ .method = "POST",
				     .host = host,
				     .path = "/",
				     .headers = form_ct,
				     .n_headers = 1,
				     .body = (const uint8_t *)body,
				     .body_len = strlen(body),
				     .region = "us-east-1",
				     .service = service };
}

static const char *last_line(const char *s)
{
	const char *nl = strrchr(s, '\n');
	return nl ? nl + 1 : s;
}

Test(sigv4, golden_sts_get_caller_identity)
{
	struct aws_request r = post("sts.us-east-1.amazonaws.com", "sts",
				    "Action=GetCallerIdentity&Version=2011-06-15");
	struct aws_credentials c = { AKID, SECRET, NULL };
	struct aws_signed out;
	struct aws_sigv4_debug dbg = { 0 };

	cr_assert_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, &dbg, NULL), CBQ_OK);
	cr_expect_str_eq(last_line(dbg.canonical_request),
			 "ab821ae955788b0e33ebd34c208442ccfc2d406e2edc5e7a39bd6458fbb4f843");
	cr_expect_str_eq(last_line(dbg.string_to_sign),
			 "74f85d64795bc5f30af8b92378344f5c25c0d305498fca44ea38f6a5a1d5860f");
	cr_expect_str_eq(out.authorization,
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/"
			 "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
			 "Signature=52a8540fea00e731072179f763577cbe2a45eac2c5d32fb4d785f3eefac88165");
	cr_expect_str_eq(out.amz_date, "20150830T123600Z");
	cr_expect_null(out.security_token);
	cr_expect_str_eq(out.content_sha256, "");
	aws_sigv4_debug_free(&dbg);
}

Test(sigv4, golden_ec2_with_session_token)
{
	struct aws_request r = post("ec2.us-east-1.amazonaws.com", "ec2",
				    "Action=DescribeCapacityReservations&Version=2016-11-15&"
				    "CapacityReservationId.1=cr-0123456789abcdef0");
	struct aws_credentials c = { AKID, SECRET, "EXAMPLETOKEN" };
	struct aws_signed out;
	struct aws_sigv4_debug dbg = { 0 };

	cr_assert_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, &dbg, NULL), CBQ_OK);
	cr_expect_str_eq(last_line(dbg.canonical_request),
			 "d709d07f36cc106e35e4ce93dba39aa5bdd2c90a903a0dcd041fd5dd77123403");
	cr_expect_str_eq(last_line(dbg.string_to_sign),
			 "ca720c1be1ffd504fcc6f5e4a5e2a5adc6bd7895b0a52abb7e845e08d073c0bf");
	cr_expect_str_eq(out.authorization,
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/ec2/"
			 "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
			 "x-amz-security-token, Signature=210807feb64591c4e0a385372e0adeee2d30796442"
			 "872a5f7da21eee0b81a45a");
	cr_expect_str_eq(out.security_token, "EXAMPLETOKEN");
	aws_sigv4_debug_free(&dbg);
}

/* AWS.md §2.5: the identity proof with an extra signed audience header. */
Test(sigv4, golden_vault_signed_server_id_header)
{
	struct aws_request r =
		post("sts.amazonaws.com", "sts", "Action=GetCallerIdentity&Version=2011-06-15");
	struct aws_credentials c = { AKID, SECRET, NULL };
	struct aws_signed out;

	r.n_headers = 2;
	cr_assert_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, NULL, NULL), CBQ_OK);
	cr_expect_str_eq(out.authorization,
			 "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sts/"
			 "aws4_request, SignedHeaders=content-type;host;x-amz-date;"
			 "x-vault-aws-iam-server-id, Signature=df234c45af42b105eae29dd0035133e7fa"
			 "db800a3000a94bf0f44b08c7b38cbe");
}

/* AWS.md §2.5: the EKS-style presigned GetCallerIdentity. */
Test(sigv4, golden_presigned_get_caller_identity)
{
	const struct aws_header k8s = { "x-k8s-aws-id", "my-cluster" };
	struct aws_request r = { .method = "GET",
				 .host = "sts.us-east-1.amazonaws.com",
				 .path = "/",
				 .query = "Action=GetCallerIdentity&Version=2011-06-15",
				 .headers = &k8s,
				 .n_headers = 1,
				 .region = "us-east-1",
				 .service = "sts" };
	struct aws_credentials c = { AKID, SECRET, NULL };
	char *q = NULL;

	cr_assert_eq(aws_sigv4_presign(&r, &c, SUITE_TIME, 60, &q, NULL, NULL), CBQ_OK);
	cr_expect_str_eq(q, "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-"
			    "HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%"
			    "2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-"
			    "SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=393dffdcf851beeb373f"
			    "04f933b26ffa1d480490f11385a3dbd509617bb7cb79");
	free(q);

	/* With a token it is one more signed parameter, in sorted place. */
	c.session_token = "TOKEN/+=";
	cr_assert_eq(aws_sigv4_presign(&r, &c, SUITE_TIME, 60, &q, NULL, NULL), CBQ_OK);
	cr_expect(strstr(q, "&X-Amz-Expires=60&X-Amz-Security-Token=TOKEN%2F%2B%3D&X-Amz-Signed"));
	free(q);
}

Test(sigv4, content_sha256_header_only_when_asked)
{
	struct aws_request r = post("ec2.us-east-1.amazonaws.com", "ec2", "");
	struct aws_credentials c = { AKID, SECRET, NULL };
	struct aws_signed out;

	r.content_sha256_header = true;
	cr_assert_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, NULL, NULL), CBQ_OK);
	cr_expect_str_eq(out.content_sha256,
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	cr_expect(strstr(out.authorization, "SignedHeaders=content-type;host;x-amz-content-sha256;"
					    "x-amz-date, "));
}

Test(sigv4, host_header_equal_to_host_is_one_header)
{
	const struct aws_header h[] = { { "HOST", "example.amazonaws.com" } };
	struct aws_request r = { .method = "GET",
				 .host = "example.amazonaws.com",
				 .path = "/",
				 .headers = h,
				 .n_headers = 1,
				 .region = "us-east-1",
				 .service = "service" };
	struct aws_credentials c = { AKID, SECRET, NULL };
	struct aws_signed out;

	cr_assert_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, NULL, NULL), CBQ_OK);
	/* get-vanilla's signature. */
	cr_expect(strstr(out.authorization, "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a"
					    "2260956d9b8aae1d763fbf31"));
}

Test(sigv4, uri_encode)
{
	char out[64];

	cr_expect_eq(aws_uri_encode("a-_.~Z9", 7, true, out, sizeof(out)), 7);
	cr_expect_str_eq(out, "a-_.~Z9");
	cr_expect_eq(aws_uri_encode("/a b+/", 6, true, out, sizeof(out)), 14);
	cr_expect_str_eq(out, "%2Fa%20b%2B%2F");
	cr_expect_eq(aws_uri_encode("/a b+/", 6, false, out, sizeof(out)), 10);
	cr_expect_str_eq(out, "/a%20b%2B/");
	cr_expect_eq(aws_uri_encode("\xe1\x88\xb4", 3, true, out, sizeof(out)), 9);
	cr_expect_str_eq(out, "%E1%88%B4");
	/* Too small: the length it needs, and nothing partial. */
	cr_expect_eq(aws_uri_encode("a b", 3, true, out, 5), 5);
	cr_expect_str_eq(out, "");
	cr_expect_eq(aws_uri_encode("a b", 3, true, NULL, 0), 5);
}

/* Each row breaks one rule; the signer must refuse it and leave out alone. */
Test(sigv4, bad_input_is_refused_not_truncated)
{
	static char long_value[AWS_SIGV4_MAX_VALUE + 2], long_path[AWS_SIGV4_MAX_PATH + 2];
	struct aws_header many[AWS_SIGV4_MAX_HEADERS + 1];
	struct aws_header h[1];
	struct aws_credentials c = { AKID, SECRET, NULL };
	struct {
		const char *what;
		enum cbq_err want;
	} rows[] = {
		{ "header value with CRLF", CBQ_ERR_INVALID },
		{ "header name with space", CBQ_ERR_INVALID },
		{ "caller X-Amz-Date", CBQ_ERR_INVALID },
		{ "caller Authorization", CBQ_ERR_INVALID },
		{ "Host header differs", CBQ_ERR_INVALID },
		{ "header value too long", CBQ_ERR_INVALID },
		{ "too many headers", CBQ_ERR_TOO_LARGE },
		{ "path without '/'", CBQ_ERR_INVALID },
		{ "path too long", CBQ_ERR_INVALID },
		{ "bad escape in query", CBQ_ERR_INVALID },
		{ "truncated escape in query", CBQ_ERR_INVALID },
		{ "'+' in query", CBQ_ERR_INVALID },
		{ "body NULL with length", CBQ_ERR_INVALID },
		{ "time before 1970", CBQ_ERR_INVALID },
		{ "bad region", CBQ_ERR_INVALID },
		{ "lower-case method", CBQ_ERR_INVALID },
		{ "no secret", CBQ_ERR_INVALID },
		{ "token with newline", CBQ_ERR_INVALID },
	};

	memset(long_value, 'v', sizeof(long_value) - 1);
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[0] = '/';
	for (size_t i = 0; i < AWS_SIGV4_MAX_HEADERS + 1; i++)
		many[i] = (struct aws_header){ "X-A", "1" };
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct aws_request r = { .method = "GET",
					 .host = "h",
					 .path = "/",
					 .headers = h,
					 .region = "us-east-1",
					 .service = "s" };
		struct aws_credentials cc = c;
		struct aws_signed out;
		struct cbq_error err = { 0 };
		int64_t t = SUITE_TIME;

		h[0] = (struct aws_header){ "X-A", "1" };
		r.n_headers = 1;
		switch (i) {
		case 0: h[0].value = "a\r\nX-Evil: 1"; break;
		case 1: h[0].name = "X A"; break;
		case 2: h[0].name = "x-amz-date"; break;
		case 3: h[0].name = "Authorization"; break;
		case 4: h[0] = (struct aws_header){ "Host", "other" }; break;
		case 5: h[0].value = long_value; break;
		case 6: r.headers = many, r.n_headers = AWS_SIGV4_MAX_HEADERS + 1; break;
		case 7: r.path = "a/b"; break;
		case 8: r.path = long_path; break;
		case 9: r.query = "a=%G1"; break;
		case 10: r.query = "a=%4"; break;
		case 11: r.query = "a=b+c"; break;
		case 12: r.body_len = 1; break;
		case 13: t = -1; break;
		case 14: r.region = "us_east/1"; break;
		case 15: r.method = "get"; break;
		case 16: cc.secret_access_key = ""; break;
		case 17: cc.session_token = "a\nb"; break;
		}
		memset(&out, 0x5a, sizeof(out));
		cr_expect_eq(aws_sigv4_sign(&r, &cc, t, &out, NULL, &err), rows[i].want,
			     "%s: got %s (%s)", rows[i].what, cbq_err_name(err.code), err.msg);
		cr_expect_eq((unsigned char)out.authorization[0], 0x5a, "%s: out was written",
			     rows[i].what);
		cr_expect_neq(err.msg[0], '\0', "%s: no message", rows[i].what);
	}
}

Test(sigv4, presign_refuses_own_params_and_bad_expiry)
{
	struct aws_request r = { .method = "GET",
				 .host = "h",
				 .path = "/",
				 .query = "X-Amz-Signature=x",
				 .region = "us-east-1",
				 .service = "sts" };
	struct aws_credentials c = { AKID, SECRET, NULL };
	char *q = (char *)"untouched";

	cr_expect_eq(aws_sigv4_presign(&r, &c, SUITE_TIME, 60, &q, NULL, NULL), CBQ_ERR_INVALID);
	r.query = NULL;
	cr_expect_eq(aws_sigv4_presign(&r, &c, SUITE_TIME, 0, &q, NULL, NULL), CBQ_ERR_INVALID);
	cr_expect_eq(aws_sigv4_presign(&r, &c, SUITE_TIME, AWS_SIGV4_MAX_EXPIRES + 1, &q, NULL,
				       NULL),
		     CBQ_ERR_INVALID);
	cr_expect_str_eq(q, "untouched");
}

/* Many long headers pass every per-field limit but not the total one. */
Test(sigv4, oversized_canonical_request_is_too_large)
{
	static char v[AWS_SIGV4_MAX_VALUE];
	struct aws_header h[AWS_SIGV4_MAX_HEADERS];
	struct aws_request r = { .method = "GET",
				 .host = "h",
				 .path = "/",
				 .headers = h,
				 .n_headers = AWS_SIGV4_MAX_HEADERS,
				 .region = "us-east-1",
				 .service = "s" };
	struct aws_credentials c = { AKID, SECRET, NULL };
	struct aws_signed out;

	memset(v, 'v', sizeof(v) - 1);
	for (size_t i = 0; i < AWS_SIGV4_MAX_HEADERS; i++)
		h[i] = (struct aws_header){ "X-A", v };
	cr_expect_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, NULL, NULL), CBQ_ERR_TOO_LARGE);
}

/* Path and query canonicalisation beyond the suite: rows of raw path, raw
 * query, canonical URI, canonical query. */
Test(sigv4, canonical_uri_and_query_edges)
{
	static const char *rows[][4] = {
		{ "/a/b/../c/./d/", NULL, "/a/c/d/", "" },
		{ "/..", "", "/", "" },
		{ "/a/b/..", NULL, "/a", "" },
		{ "/%41", NULL, "/%2541", "" }, /* every service but S3 encodes twice */
		{ "/", "&b=2&&a=1&", "/", "a=1&b=2" },
		{ "/", "flag", "/", "flag=" },
		{ "/", "k=%e1%88%b4&k=%7E&k=a%2Fb", "/", "k=%E1%88%B4&k=a%2Fb&k=~" },
		{ "/", "b=%20&a=x=y", "/", "a=x%3Dy&b=%20" },
	};
	struct aws_credentials c = { AKID, SECRET, NULL };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct aws_request r = { .method = "GET",
					 .host = "h",
					 .path = rows[i][0],
					 .query = rows[i][1],
					 .region = "us-east-1",
					 .service = "s" };
		struct aws_signed out;
		struct aws_sigv4_debug dbg = { 0 };
		char want[256];

		cr_assert_eq(aws_sigv4_sign(&r, &c, SUITE_TIME, &out, &dbg, NULL), CBQ_OK);
		snprintf(want, sizeof(want), "GET\n%s\n%s\nhost:h\n", rows[i][2], rows[i][3]);
		cr_expect_eq(strncmp(dbg.canonical_request, want, strlen(want)), 0,
			     "path %s query %s: got\n%s", rows[i][0], rows[i][1],
			     dbg.canonical_request);
		aws_sigv4_debug_free(&dbg);
	}
}
