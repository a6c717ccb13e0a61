/*
 * Identity by AWS IAM end to end: the real cbq signs sts:GetCallerIdentity
 * with AWS credentials from its environment, the real cbqd checks the token
 * and replays it to an AWS peer that checks signatures — cbq-awssim (on the
 * real clock) and moto_server with signature checking on (skipped, saying
 * so, when it is not installed). Refusals (another server id, an old date,
 * a wrong secret, an unknown key) are 401 naming which; answers are cached;
 * assumed-role sessions show their assumed-role ARN.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/iamtoken.h"
#include "aws/sigv4.h"
#include "awscall.h"
#include "awspeer.h"
#include "cbq/v1/cbq.pb-c.h"

#define SERVER_ID "cbq-test"
#define ALICE_ACCT "111100000001"
#define ALICE_KEY "AKIACBQALICE00000001"
#define ALICE_SECRET "cbqAliceSecretKey0000000000000000000000001"
#define ALICE_ARN "arn:aws:iam::" ALICE_ACCT ":user/alice"
#define BROKER_KEY "AKIACBQBROKER0000001"
#define BROKER_SECRET "cbqBrokerSecretKey000000000000000000000001"
#define LAUNCHER "arn:aws:iam::" ALICE_ACCT ":role/cbq-launcher"

static struct h_proc *peer; /* cbq-awssim or moto */
static struct h_cbqd *d;
static const char *db;
static char host[64]; /* the peer's host:port, as cbq signs it */
static char env_url[128];

/* ---- a signed query-protocol call, as a client outside cbq makes it ---------------- */

static const char *peer_call(const char *service, const struct aws_credentials *cred,
			     const char *account, const char *body, long *status)
{
	return t_signed_post(host, service, cred, account, body, status);
}

static const char *peer_ok(const char *service, const struct aws_credentials *cred,
			   const char *account, const char *body)
{
	long status = 0;
	const char *r = peer_call(service, cred, account, body, &status);

	cr_assert_eq(status, 200, "%s: HTTP %ld: %.400s", body, status, r);
	return r;
}

/* Session credentials of an AssumeRole (strings in static buffers). */
struct session {
	char key[64], secret[128], token[8200], env[3][8300];
};

static void assume(const struct aws_credentials *as, const char *account, const char *role_arn,
		   const char *external_id, const char *session_name, struct session *s)
{
	char body[1024], arn[512];

	aws_uri_encode(role_arn, strlen(role_arn), true, arn, sizeof(arn));
	snprintf(body, sizeof(body),
		 "Action=AssumeRole&Version=2011-06-15&RoleArn=%s&RoleSessionName=%s%s%s", arn,
		 session_name, external_id ? "&ExternalId=" : "", external_id ? external_id : "");
	const char *xml = peer_ok("sts", as, account, body);
	t_xml_element(xml, "AccessKeyId", s->key, sizeof(s->key));
	t_xml_element(xml, "SecretAccessKey", s->secret, sizeof(s->secret));
	t_xml_element(xml, "SessionToken", s->token, sizeof(s->token));
	h_secret_note(s->secret);
	h_secret_note(s->token);
	snprintf(s->env[0], sizeof(s->env[0]), "AWS_ACCESS_KEY_ID=%s", s->key);
	snprintf(s->env[1], sizeof(s->env[1]), "AWS_SECRET_ACCESS_KEY=%s", s->secret);
	snprintf(s->env[2], sizeof(s->env[2]), "AWS_SESSION_TOKEN=%s", s->token);
}

/* ---- cbq and raw requests ------------------------------------------------------------- */

/* The real cbq against d with AWS credentials from key_env/secret_env
 * (and token_env unless NULL); extra_args then the command (NULL-ended). */
static int cbq_iam(const char *key_env, const char *secret_env, const char *token_env,
		   const char *server_id, char **out, const char *const *cmd)
{
	const char *argv[32] = { "cbq", "--server", d->url, "--ca", NULL };
	const char *env[] = { "AWS_REGION=us-east-1",
			      env_url,
			      "AWS_EC2_METADATA_DISABLED=true",
			      key_env,
			      secret_env,
			      token_env,
			      NULL };
	char ca[512];
	size_t n = 4;
	char *o = NULL, *e = NULL;

	snprintf(ca, sizeof(ca), "%s", h_cert("ca.pem"));
	argv[n++] = ca;
	if (server_id) {
		argv[n++] = "--server-id";
		argv[n++] = server_id;
	}
	for (size_t i = 0; cmd[i] && n < 31; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	int rc = h_run(argv, env, &o, &e);
	size_t lo = strlen(o), le = strlen(e);
	*out = malloc(lo + le + 1);
	memcpy(*out, o, lo);
	memcpy(*out + lo, e, le + 1);
	free(o);
	free(e);
	return rc;
}

static char *mint(const char *key, const char *secret, const char *token, const char *server_id,
		  int64_t at)
{
	struct aws_credentials cred = { key, secret, token };
	struct auth_iam_mint_req r = { &cred, host, "us-east-1", server_id };
	struct cbq_error err = { 0 };
	char *tok = NULL;

	cr_assert_eq(auth_iam_token_mint(&r, at, &tok, &err), CBQ_OK, "%s", err.msg);
	return tok;
}

/* GET /v1/whoami with token; *msg gets the Error message (malloc'd, "" on 2xx). */
static long whoami_raw(const char *token, char **msg, char *principal, size_t psize)
{
	char header[20000];

	snprintf(header, sizeof(header), "Authorization: " AUTH_IAM_SCHEME " %s", token);
	const char *headers[] = { header, NULL };
	struct h_http_reply r = h_http(d, "GET", "/v1/whoami", headers, NULL, NULL, 0);
	long status = r.status;
	*msg = strdup("");
	if (status == 200 && principal) {
		Cbq__V1__WhoAmIReply *w = cbq__v1__who_am_ireply__unpack(NULL, r.len, r.body);
		cr_assert(w);
		snprintf(principal, psize, "%s %s %s", w->account_id, w->principal, w->auth_method);
		cbq__v1__who_am_ireply__free_unpacked(w, NULL);
	} else if (status != 200) {
		Cbq__V1__Error *e = cbq__v1__error__unpack(NULL, r.len, r.body);
		if (e) {
			free(*msg);
			*msg = strdup(e->message ? e->message : "");
			cbq__v1__error__free_unpacked(e, NULL);
		}
	}
	h_http_reply_free(&r);
	return status;
}

static void expect_refused(const char *token, long want_status, const char *f1, const char *f2)
{
	char *msg = NULL;
	long status = whoami_raw(token, &msg, NULL, 0);

	cr_assert_eq(status, want_status, "HTTP %ld: %s", status, msg);
	cr_assert(strstr(msg, f1), "%s", msg);
	if (f2)
		cr_assert(strstr(msg, f2), "%s", msg);
	free(msg);
}

static long gci_calls(void)
{
	json_t *st = h_awssim_state(peer);
	json_t *n = json_object_get(json_object_get(st, "calls"), "GetCallerIdentity");
	long v = n ? (long)json_integer_value(n) : 0;

	json_decref(st);
	return v;
}

/* ---- cbq-awssim ------------------------------------------------------------------------ */

static void start_cbqd(void)
{
	const char *args[] = { "--iam-server-id", SERVER_ID, "--iam-sts-endpoint", peer->url,
			       NULL };

	d = h_cbqd_start(db, args);
}

static void setup_sim(void)
{
	/* STS checks X-Amz-Date against real time, and so does cbqd */
	peer = h_awssim_start(h_test_file("awssim/scenarios/basic.json"), "real");
	snprintf(host, sizeof(host), "127.0.0.1:%d", peer->port);
	snprintf(env_url, sizeof(env_url), "AWS_ENDPOINT_URL_STS=%s", peer->url);
	db = h_db_create();
	h_sql(db, "INSERT INTO teams (name) VALUES ('alpha');"
		  "INSERT INTO accounts (account_id, team, role_arn) VALUES"
		  " ('" ALICE_ACCT "', 'alpha', '" LAUNCHER "');"
		  "INSERT INTO blocks (id, owner_account_id, az, instance_type, total, available,"
		  " state, start_at, end_at) VALUES ('cr-0123456789abcdef0', '444444444444',"
		  " 'us-east-1a', 'p5.48xlarge', 8, 6, 'active', now(), now() + interval '3 days');"
		  "INSERT INTO block_consumers VALUES ('cr-0123456789abcdef0', '" ALICE_ACCT "')");
	start_cbqd();
}

TestSuite(iam_awssim, .init = setup_sim, .fini = h_cleanup, .timeout = 120);

Test(iam_awssim, cbq_proves_its_aws_identity_for_whoami_and_submit)
{
	char *out = NULL;

	int rc = cbq_iam("AWS_ACCESS_KEY_ID=" ALICE_KEY, "AWS_SECRET_ACCESS_KEY=" ALICE_SECRET,
			 NULL, SERVER_ID, &out, (const char *const[]){ "whoami", NULL });
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, ALICE_ACCT) && strstr(out, ALICE_ARN) && strstr(out, "iam"), "%s",
		  out);
	cr_assert(strstr(out, "alpha"), "%s", out);
	free(out);

	/* no --account: the job runs in the caller's own account */
	rc = cbq_iam("AWS_ACCESS_KEY_ID=" ALICE_KEY, "AWS_SECRET_ACCESS_KEY=" ALICE_SECRET, NULL,
		     SERVER_ID, &out,
		     (const char *const[]){ "submit", "--kind", "training", "--instance-type",
					    "p5.48xlarge", "--count", "1", "--duration", "1h",
					    NULL });
	cr_assert_eq(rc, 0, "%s", out);
	free(out);
	char *acct = h_sql_value(db, "SELECT account_id FROM jobs");
	cr_assert_str_eq(acct, ALICE_ACCT);
	free(acct);

	/* CBQ_SERVER_ID is not set and --server's host is 127.0.0.1: refused, naming both */
	rc = cbq_iam("AWS_ACCESS_KEY_ID=" ALICE_KEY, "AWS_SECRET_ACCESS_KEY=" ALICE_SECRET, NULL,
		     NULL, &out, (const char *const[]){ "whoami", NULL });
	cr_assert_eq(rc, 1, "%s", out);
	cr_assert(strstr(out, "'127.0.0.1'") && strstr(out, "'" SERVER_ID "'") &&
			  strstr(out, "--server-id " SERVER_ID),
		  "%s", out);
	free(out);
}

Test(iam_awssim, a_token_for_another_server_id_is_refused_naming_both)
{
	char *tok = mint(ALICE_KEY, ALICE_SECRET, NULL, "other-cbqd", time(NULL));

	expect_refused(tok, 401, "'other-cbqd'", "this cbqd is '" SERVER_ID "'");
	free(tok);
	cr_assert_eq(gci_calls(), 0, "refused before asking STS");
}

Test(iam_awssim, a_token_dated_20_minutes_ago_is_refused_naming_the_date)
{
	char *tok = mint(ALICE_KEY, ALICE_SECRET, NULL, SERVER_ID, time(NULL) - 20 * 60);

	expect_refused(tok, 401, "X-Amz-Date", "is 20 min");
	expect_refused(tok, 401, "behind cbqd's clock; the limit is 15 min", NULL);
	free(tok);
	cr_assert_eq(gci_calls(), 0, "refused before asking STS");
}

Test(iam_awssim, a_wrong_secret_or_unknown_key_is_refused_saying_which)
{
	char *tok = mint(ALICE_KEY, "not-the-secret", NULL, SERVER_ID, time(NULL));

	expect_refused(tok, 401, "SignatureDoesNotMatch", "signature");
	free(tok);
	tok = mint("AKIAUNKNOWNKEY000001", ALICE_SECRET, NULL, SERVER_ID, time(NULL));
	expect_refused(tok, 401, "InvalidClientTokenId", NULL);
	free(tok);
	/* and a token that is not one */
	expect_refused("bm90IGEgdG9rZW4", 401, "malformed IAM token", NULL);
}

Test(iam_awssim, answers_are_cached_and_outlive_an_sts_outage)
{
	char *tok = mint(ALICE_KEY, ALICE_SECRET, NULL, SERVER_ID, time(NULL)), *msg = NULL;
	char who[4096];

	cr_assert_eq(whoami_raw(tok, &msg, who, sizeof(who)), 200, "%s", msg);
	free(msg);
	cr_assert(strstr(who, ALICE_ARN) && strstr(who, "iam"), "%s", who);
	cr_assert_eq(whoami_raw(tok, &msg, who, sizeof(who)), 200, "%s", msg);
	free(msg);
	cr_assert_eq(gci_calls(), 1, "the second request was answered from the cache");

	h_proc_stop(peer);
	cr_assert_eq(whoami_raw(tok, &msg, who, sizeof(who)), 200, "%s", msg);
	free(msg);
	free(tok);

	/* a new token (another date, so never the same text) needs STS, which is
	 * gone: 503, not 401 */
	tok = mint(ALICE_KEY, ALICE_SECRET, NULL, SERVER_ID, time(NULL) - 120);
	expect_refused(tok, 503, "could not be reached", NULL);
	free(tok);
}

Test(iam_awssim, an_assumed_role_session_is_its_assumed_role_arn)
{
	struct aws_credentials broker = { BROKER_KEY, BROKER_SECRET, NULL };
	struct session s;
	char *out = NULL;

	assume(&broker, NULL, LAUNCHER, "ext-1", "alice-laptop", &s);
	int rc = cbq_iam(s.env[0], s.env[1], s.env[2], SERVER_ID, &out,
			 (const char *const[]){ "whoami", NULL });
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "arn:aws:sts::" ALICE_ACCT ":assumed-role/cbq-launcher/alice-laptop"),
		  "%s", out);
	free(out);
}

Test(iam_awssim, a_cbqd_without_iam_server_id_says_iam_is_off)
{
	char *tok = mint(ALICE_KEY, ALICE_SECRET, NULL, SERVER_ID, time(NULL));

	h_cbqd_stop(d, SIGTERM);
	d = h_cbqd_start(db, NULL);
	expect_refused(tok, 401, "IAM identity is not enabled on this cbqd (iam_server_id unset)",
		       NULL);
	free(tok);
}

/* ---- moto_server, signature checking on --------------------------------------------- */

#define MOTO_ACCT "123456789012"
#define MOTO_OTHER "222233334444"
#define TRUST_ANY                                                                               \
	"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow" \
	"%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A" MOTO_ACCT             \
	"%3Aroot%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D"
#define ALLOW_ASSUME                                                                            \
	"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow" \
	"%22%2C%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%2C%22Resource%22%3A%22%2A%22%7D%5D%7D"

static char moto_key[64], moto_secret[128];

static void setup_moto(void)
{
	struct aws_credentials setup = { "AKIAIOSFODNN7EXAMPLE", "setup-secret", NULL };
	long status = 0;
	char url[160];

	peer = h_moto_start();
	if (!peer)
		return;
	snprintf(host, sizeof(host), "127.0.0.1:%d", peer->port);
	snprintf(env_url, sizeof(env_url), "AWS_ENDPOINT_URL_STS=%s", peer->url);
	peer_ok("iam", &setup, MOTO_ACCT, "Action=CreateUser&Version=2010-05-08&UserName=alice");
	const char *xml = peer_ok("iam", &setup, MOTO_ACCT,
				  "Action=CreateAccessKey&Version=2010-05-08&UserName=alice");
	t_xml_element(xml, "AccessKeyId", moto_key, sizeof(moto_key));
	t_xml_element(xml, "SecretAccessKey", moto_secret, sizeof(moto_secret));
	h_secret_note(moto_secret);
	peer_ok("iam", &setup, MOTO_ACCT,
		"Action=PutUserPolicy&Version=2010-05-08&UserName=alice&PolicyName=assume"
		"&PolicyDocument=" ALLOW_ASSUME);
	peer_ok("iam", &setup, MOTO_OTHER,
		"Action=CreateRole&Version=2010-05-08&RoleName=cbq-user"
		"&AssumeRolePolicyDocument=" TRUST_ANY);
	snprintf(url, sizeof(url), "%s/moto-api/reset-auth", peer->url);
	json_decref(h_json("POST", url, "0", &status));
	cr_assert_eq(status, 200, "moto refused to switch signature checking on");

	db = h_db_create();
	h_sql(db, "INSERT INTO teams (name) VALUES ('alpha');"
		  "INSERT INTO accounts (account_id, team, role_arn) VALUES"
		  " ('" MOTO_ACCT "', 'alpha', 'arn:aws:iam::" MOTO_ACCT ":role/cbq-launcher'),"
		  " ('" MOTO_OTHER "', 'alpha', 'arn:aws:iam::" MOTO_OTHER ":role/cbq-launcher');"
		  "INSERT INTO blocks (id, owner_account_id, az, instance_type, total, available,"
		  " state, start_at, end_at) VALUES ('cr-0123456789abcdef0', '444444444444',"
		  " 'us-east-1a', 'p5.48xlarge', 8, 6, 'active', now(), now() + interval '3 days');"
		  "INSERT INTO block_consumers VALUES ('cr-0123456789abcdef0', '" MOTO_ACCT "')");
	start_cbqd();
}

TestSuite(iam_moto, .init = setup_moto, .fini = h_cleanup, .timeout = 120);

Test(iam_moto, whoami_with_a_users_keys)
{
	char key_env[128], secret_env[192], *out = NULL;

	if (!peer)
		return;
	snprintf(key_env, sizeof(key_env), "AWS_ACCESS_KEY_ID=%s", moto_key);
	snprintf(secret_env, sizeof(secret_env), "AWS_SECRET_ACCESS_KEY=%s", moto_secret);
	int rc = cbq_iam(key_env, secret_env, NULL, SERVER_ID, &out,
			 (const char *const[]){ "whoami", NULL });
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "arn:aws:iam::" MOTO_ACCT ":user/alice") && strstr(out, "iam"), "%s",
		  out);
	free(out);
}

Test(iam_moto, a_wrong_secret_is_signature_does_not_match)
{
	char *tok;

	if (!peer)
		return;
	tok = mint(moto_key, "not-the-secret", NULL, SERVER_ID, time(NULL));
	expect_refused(tok, 401, "SignatureDoesNotMatch", NULL);
	free(tok);
}

Test(iam_moto, an_assumed_role_session_is_its_assumed_role_arn)
{
	struct aws_credentials alice = { moto_key, moto_secret, NULL };
	struct session s;
	char *out = NULL;

	if (!peer)
		return;
	assume(&alice, NULL, "arn:aws:iam::" MOTO_OTHER ":role/cbq-user", NULL, "alice-ci", &s);
	int rc = cbq_iam(s.env[0], s.env[1], s.env[2], SERVER_ID, &out,
			 (const char *const[]){ "whoami", NULL });
	cr_assert_eq(rc, 0, "%s", out);
	cr_assert(strstr(out, "arn:aws:sts::" MOTO_OTHER ":assumed-role/cbq-user/alice-ci"), "%s",
		  out);
	free(out);
}
