/*
 * The credential provider (broker/aws/creds.h) on a real libevent loop:
 * IMDSv2 against a tiny evhttp fake on 127.0.0.1 (token PUT, role GET,
 * credentials GET, the v1 fallback, retries, refusals), static and
 * assumed-role plans through a test hook, shared refreshes, cancel, free
 * from a callback, and the startup file loader. The lead's integration test
 * runs the same provider against cbq-awssim.
 */
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aws/creds.h"
#include "aws/http.h"

/* ---- the fake IMDS */

#define MAX_SEEN 16

struct seen {
	char method[8];
	char uri[256];
	char token[128]; /* x-aws-ec2-metadata-token, or "" */
	char ttl[16];	 /* x-aws-ec2-metadata-token-ttl-seconds, or "" */
};

struct fake {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int token_status;     /* 200, or 403/404/405/400; 0: never answer */
	int role_fail_first;  /* answer the role GET with 500 this many times */
	int creds_fail_first; /* answer the creds GET with 500 this many times */
	const char *role;
	const char *doc; /* the credentials JSON */
	struct seen seen[MAX_SEEN];
	int n_seen;
};

static const char *method_name(enum evhttp_cmd_type t)
{
	return t == EVHTTP_REQ_PUT ? "PUT" : t == EVHTTP_REQ_GET ? "GET" : "OTHER";
}

static void reply(struct evhttp_request *req, int status, const char *body)
{
	struct evbuffer *b = evbuffer_new();

	evbuffer_add(b, body, strlen(body));
	evhttp_send_reply(req, status, status == 200 ? "OK" : "No", b);
	evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *uri = evhttp_request_get_uri(req);
	const char *tok = evhttp_find_header(h, "x-aws-ec2-metadata-token");
	const char *ttl = evhttp_find_header(h, "x-aws-ec2-metadata-token-ttl-seconds");

	if (f->n_seen < MAX_SEEN) {
		struct seen *s = &f->seen[f->n_seen++];
		snprintf(s->method, sizeof(s->method), "%s",
			 method_name(evhttp_request_get_command(req)));
		snprintf(s->uri, sizeof(s->uri), "%s", uri);
		snprintf(s->token, sizeof(s->token), "%s", tok ? tok : "");
		snprintf(s->ttl, sizeof(s->ttl), "%s", ttl ? ttl : "");
	}
	if (strcmp(uri, "/latest/api/token") == 0) {
		if (f->token_status == 0)
			return; /* hold it: the client times out */
		reply(req, f->token_status, f->token_status == 200 ? "TOKEN-abc" : "");
		return;
	}
	if (tok && strcmp(tok, "TOKEN-abc") != 0) {
		reply(req, 401, "");
		return;
	}
	const char *prefix = "/latest/meta-data/iam/security-credentials/";
	if (strcmp(uri, prefix) == 0) {
		if (f->role_fail_first > 0) {
			f->role_fail_first--;
			reply(req, 500, "");
		} else {
			reply(req, 200, f->role);
		}
		return;
	}
	if (strncmp(uri, prefix, strlen(prefix)) == 0 &&
	    strcmp(uri + strlen(prefix), f->role) == 0) {
		if (f->creds_fail_first > 0) {
			f->creds_fail_first--;
			reply(req, 500, "");
		} else {
			reply(req, 200, f->doc);
		}
		return;
	}
	reply(req, 404, "");
}

#define DOC_FMT                                                                                 \
	"{\"Code\":\"Success\",\"LastUpdated\":\"2026-05-16T17:00:00Z\",\"Type\":\"AWS-HMAC\"," \
	"\"AccessKeyId\":\"ASIAIMDSEXAMPLE\",\"SecretAccessKey\":\"imdss3cr3t\","               \
	"\"Token\":\"imdstokens3cr3t\",\"Expiration\":\"%s\"}"

/* 2026-05-16T23:00:20Z */
#define EXPIRY_S 1778972420LL
static char doc_ok[512];

static void fake_start(struct fake *f, struct event_base *base)
{
	memset(f, 0, sizeof(*f));
	f->base = base;
	f->http = evhttp_new(base);
	cr_assert(f->http);
	evhttp_set_allowed_methods(f->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT);
	evhttp_set_gencb(f->http, on_request, f);
	struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", 0);
	cr_assert(s);
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	cr_assert_eq(getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin, &len), 0);
	f->port = ntohs(sin.sin_port);
	f->token_status = 200;
	f->role = "cbq-broker-role";
	snprintf(doc_ok, sizeof(doc_ok), DOC_FMT, "2026-05-16T23:00:20Z");
	f->doc = doc_ok;
}

/* ---- the loop and a test waiter */

struct got {
	bool done;
	bool ok;
	char key_id[64], secret[64], token[64];
	cbq_ms expires;
	struct cbq_error err;
};

static void on_creds(const struct aws_credentials *c, cbq_ms expires, const struct cbq_error *err,
		     void *arg)
{
	struct got *g = arg;

	g->done = true;
	g->ok = c != NULL;
	if (c) {
		snprintf(g->key_id, sizeof(g->key_id), "%s", c->access_key_id);
		snprintf(g->secret, sizeof(g->secret), "%s", c->secret_access_key);
		snprintf(g->token, sizeof(g->token), "%s",
			 c->session_token ? c->session_token : "");
		g->expires = expires;
	} else {
		cr_assert(err);
		g->err = *err;
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Runs the loop until *flag or ms pass; false on timeout. */
static bool run_until(struct event_base *base, const bool *flag, long ms)
{
	bool late = false;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct event *t = evtimer_new(base, on_deadline, &late);

	evtimer_add(t, &tv);
	while (!*flag && !late)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return *flag;
}

struct env {
	struct event_base *base;
	struct aws_http *http;
	struct fake fake;
};

static void env_open(struct env *e)
{
	struct cbq_error err = { 0 };

	/* A proxy that does not exist: IMDS must not use it. */
	setenv("http_proxy", "http://127.0.0.1:9", 1);
	setenv("HTTP_PROXY", "http://127.0.0.1:9", 1);
	e->base = event_base_new();
	cr_assert(e->base);
	e->http = aws_http_new(e->base, &err);
	cr_assert(e->http, "%s", err.msg);
	fake_start(&e->fake, e->base);
}

static void env_close(struct env *e)
{
	aws_http_free(e->http);
	evhttp_free(e->fake.http);
	event_base_free(e->base);
}

static struct aws_creds_plan imds_plan(const struct env *e)
{
	struct aws_creds_plan p = { .kind = AWS_CREDS_IMDS,
				    .imds_timeout_ms = 2000,
				    .imds_attempts = 1 };
	snprintf(p.source, sizeof(p.source), "imds");
	snprintf(p.imds_endpoint, sizeof(p.imds_endpoint), "http://127.0.0.1:%d", e->fake.port);
	return p;
}

static const cbq_ms NOW = (EXPIRY_S - 6 * 3600) * 1000; /* six hours before expiry */

/* A provider for plan on e's loop and HTTP client; the test fails if it is refused. */
static struct aws_creds_provider *provider_new(const struct env *e,
					       const struct aws_creds_plan *plan)
{
	struct cbq_error err = { 0 };
	struct aws_creds_provider *p =
		aws_creds_provider_new(e->base, e->http, plan, NULL, NULL, &err);

	cr_assert(p, "%s", err.msg);
	return p;
}

/* One fetch at now into *g, answered from the loop, never inside the call;
 * the test fails when no answer comes within five seconds. */
static void fetch_wait(struct event_base *base, struct aws_creds_provider *p, cbq_ms now,
		       struct got *g)
{
	cr_assert(aws_creds_provider_fetch(p, now, on_creds, g));
	cr_expect_not(g->done, "done ran inside fetch");
	cr_assert(run_until(base, &g->done, 5000), "no answer");
}

/* A fresh provider for plan, one fetch at now into *g, then it is freed. */
static void fetch_once(const struct env *e, const struct aws_creds_plan *plan, cbq_ms now,
		       struct got *g)
{
	struct aws_creds_provider *p = provider_new(e, plan);

	fetch_wait(e->base, p, now, g);
	aws_creds_provider_free(p);
}

/* ---- IMDS */

Test(aws_creds_imds, v2_token_then_role_then_credentials)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	struct aws_creds_plan plan = imds_plan(&e);
	struct aws_creds_provider *p = provider_new(&e, &plan);
	cr_expect_null(aws_creds_provider_peek(p, NOW));
	fetch_wait(e.base, p, NOW, &g);
	cr_assert(g.ok, "%s", g.err.msg);
	cr_expect_str_eq(g.key_id, "ASIAIMDSEXAMPLE");
	cr_expect_str_eq(g.secret, "imdss3cr3t");
	cr_expect_str_eq(g.token, "imdstokens3cr3t");
	cr_expect_eq(g.expires, EXPIRY_S * 1000);

	struct fake *f = &e.fake;
	cr_assert_eq(f->n_seen, 3);
	cr_expect_str_eq(f->seen[0].method, "PUT");
	cr_expect_str_eq(f->seen[0].uri, "/latest/api/token");
	cr_expect_str_eq(f->seen[0].ttl, "21600");
	cr_expect_str_eq(f->seen[1].method, "GET");
	cr_expect_str_eq(f->seen[1].uri, "/latest/meta-data/iam/security-credentials/");
	cr_expect_str_eq(f->seen[1].token, "TOKEN-abc");
	cr_expect_str_eq(f->seen[2].uri,
			 "/latest/meta-data/iam/security-credentials/cbq-broker-role");
	cr_expect_str_eq(f->seen[2].token, "TOKEN-abc");

	const struct aws_credentials *c = aws_creds_provider_peek(p, NOW);
	cr_assert(c, "cached after the fetch");
	cr_expect_str_eq(c->access_key_id, "ASIAIMDSEXAMPLE");
	cr_expect_null(aws_creds_provider_peek(p, EXPIRY_S * 1000 - 4 * 60 * 1000),
		       "inside five minutes of expiry peek wants a refresh");
	cr_expect_str_eq(aws_creds_provider_source(p), "imds");
	aws_creds_provider_free(p);
	env_close(&e);
}

static void expect_v1(int status)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	e.fake.token_status = status;
	struct aws_creds_plan plan = imds_plan(&e);
	plan.imds_timeout_ms = 300;
	fetch_once(&e, &plan, NOW, &g);
	cr_assert(g.ok, "token %d: %s", status, g.err.msg);
	cr_assert_eq(e.fake.n_seen, 3);
	cr_expect_str_eq(e.fake.seen[1].token, "", "v1: no token header");
	cr_expect_str_eq(e.fake.seen[2].token, "");
	env_close(&e);
}

Test(aws_creds_imds, falls_back_to_v1_on_403_404_405_and_token_timeout)
{
	expect_v1(403);
	expect_v1(404);
	expect_v1(405);
	expect_v1(0); /* the PUT is never answered */
}

Test(aws_creds_imds, v1_disabled_refuses_the_fallback)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	e.fake.token_status = 403;
	struct aws_creds_plan plan = imds_plan(&e);
	plan.imds_v1_disabled = true;
	fetch_once(&e, &plan, NOW, &g);
	cr_assert_not(g.ok);
	cr_expect(strstr(g.err.msg, "IMDSv1 is disabled"), "%s", g.err.msg);
	cr_expect(strstr(g.err.msg, "HTTP 403"), "%s", g.err.msg);
	cr_expect_eq(e.fake.n_seen, 1);
	env_close(&e);
}

Test(aws_creds_imds, token_400_stops_the_provider)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	e.fake.token_status = 400;
	struct aws_creds_plan plan = imds_plan(&e);
	plan.imds_attempts = 3;
	fetch_once(&e, &plan, NOW, &g);
	cr_assert_not(g.ok);
	cr_expect_eq(g.err.code, CBQ_ERR_UNAVAILABLE);
	cr_expect(strstr(g.err.msg, "HTTP 400"), "%s", g.err.msg);
	cr_expect_eq(e.fake.n_seen, 1);
	env_close(&e);
}

Test(aws_creds_imds, gets_are_retried_within_the_attempts)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	e.fake.role_fail_first = 1;
	e.fake.creds_fail_first = 2;
	struct aws_creds_plan plan = imds_plan(&e);
	plan.imds_attempts = 3;
	fetch_once(&e, &plan, NOW, &g);
	cr_assert(g.ok, "%s", g.err.msg);
	cr_expect_eq(e.fake.n_seen, 1 + 2 + 3);

	/* one attempt: the first 500 is final */
	struct got g2 = { 0 };
	e.fake.n_seen = 0;
	e.fake.creds_fail_first = 1;
	plan.imds_attempts = 1;
	fetch_once(&e, &plan, NOW, &g2);
	cr_assert_not(g2.ok);
	cr_expect(strstr(g2.err.msg, "HTTP 500 after 1 attempt"), "%s", g2.err.msg);
	env_close(&e);
}

Test(aws_creds_imds, a_document_without_all_four_fields_is_no_credentials)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	e.fake.doc = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"Message\":\"no\","
		     "\"AccessKeyId\":\"ASIAIMDSEXAMPLE\",\"SecretAccessKey\":\"imdss3cr3t\"}";
	struct aws_creds_plan plan = imds_plan(&e);
	fetch_once(&e, &plan, NOW, &g);
	cr_assert_not(g.ok);
	cr_expect(strstr(g.err.msg,
			 "no credentials in the reply (Code AssumeRoleUnauthorizedAccess)"),
		  "%s", g.err.msg);
	cr_expect(!strstr(g.err.msg, "s3cr3t"), "%s", g.err.msg);
	env_close(&e);
}

Test(aws_creds_imds, credentials_near_expiry_are_stretched)
{
	struct env e;
	struct got g = { 0 };

	env_open(&e);
	struct aws_creds_plan plan = imds_plan(&e);
	/* the fake's document expires at EXPIRY_S: ten minutes left */
	cbq_ms now = EXPIRY_S * 1000 - 10 * 60 * 1000;
	fetch_once(&e, &plan, now, &g);
	cr_assert(g.ok, "%s", g.err.msg);
	cr_expect_geq(g.expires, now + 15 * 60 * 1000 + 120 * 1000);
	cr_expect_leq(g.expires, now + 15 * 60 * 1000 + 600 * 1000);
	env_close(&e);
}

Test(aws_creds_imds, concurrent_fetches_share_one_refresh_and_cancel_works)
{
	struct env e;
	struct got a = { 0 }, b = { 0 }, c = { 0 };

	env_open(&e);
	struct aws_creds_plan plan = imds_plan(&e);
	struct aws_creds_provider *p = provider_new(&e, &plan);
	aws_creds_provider_fetch(p, NOW, on_creds, &a);
	struct aws_creds_wait *wb = aws_creds_provider_fetch(p, NOW, on_creds, &b);
	aws_creds_provider_fetch(p, NOW, on_creds, &c);
	aws_creds_wait_cancel(wb);
	cr_assert(run_until(e.base, &c.done, 5000));
	cr_assert(run_until(e.base, &a.done, 1000));
	cr_expect(a.ok && c.ok);
	cr_expect_not(b.done, "a cancelled wait was called");
	cr_expect_eq(e.fake.n_seen, 3, "one refresh for all");

	/* fresh in the cache: a fetch answers from the loop without a request */
	struct got d = { 0 };
	fetch_wait(e.base, p, NOW, &d);
	cr_expect_eq(e.fake.n_seen, 3);
	aws_creds_provider_free(p);
	env_close(&e);
}

Test(aws_creds_imds, a_failed_refresh_keeps_unexpired_credentials_and_peek_refreshes_early)
{
	struct env e;
	struct got g = { 0 }, g2 = { 0 };

	env_open(&e);
	struct aws_creds_plan plan = imds_plan(&e);
	struct aws_creds_provider *p = provider_new(&e, &plan);
	fetch_wait(e.base, p, NOW, &g);
	cr_assert(g.ok);

	/* inside the 15-minute advisory window: peek answers and refreshes behind */
	cbq_ms later = EXPIRY_S * 1000 - 12 * 60 * 1000;
	e.fake.n_seen = 0;
	cr_expect(aws_creds_provider_peek(p, later));
	bool never = false;
	run_until(e.base, &never, 300);
	cr_expect_eq(e.fake.n_seen, 3, "background refresh");
	/* that document had 12 minutes left, so it was stretched: learn by how much */
	struct got s = { 0 };
	fetch_wait(e.base, p, later, &s);
	cr_expect_gt(s.expires, EXPIRY_S * 1000);

	/* IMDS goes bad; four minutes left: the old credentials still serve */
	e.fake.token_status = 403;
	e.fake.role_fail_first = 100;
	cbq_ms late = s.expires - 4 * 60 * 1000;
	cr_expect_null(aws_creds_provider_peek(p, late));
	fetch_wait(e.base, p, late, &g2);
	cr_expect(g2.ok, "%s", g2.err.msg);
	cr_expect_str_eq(g2.key_id, "ASIAIMDSEXAMPLE");
	cr_expect_eq(g2.expires, s.expires);

	/* expired: now it is an error */
	struct got g3 = { 0 };
	fetch_wait(e.base, p, s.expires + 1, &g3);
	cr_expect_not(g3.ok);
	cr_expect(strstr(g3.err.msg, "security-credentials/: HTTP 500 after 1 attempt"), "%s",
		  g3.err.msg);
	aws_creds_provider_free(p);
	env_close(&e);
}

/* ---- static plans, freeing from a callback */

static struct aws_creds_plan static_plan(cbq_ms expires)
{
	struct aws_creds_plan p = { .kind = AWS_CREDS_STATIC, .expires = expires };
	snprintf(p.source, sizeof(p.source), "env");
	snprintf(p.access_key_id, sizeof(p.access_key_id), "AKIASTATICEXAMPLE");
	snprintf(p.secret_access_key, sizeof(p.secret_access_key), "statics3cr3t");
	return p;
}

Test(aws_creds_static, peek_answers_and_expiry_is_an_error)
{
	struct event_base *base = event_base_new();
	struct cbq_error err = { 0 };
	struct aws_creds_plan plan = static_plan(0);
	struct aws_creds_provider *p = aws_creds_provider_new(base, NULL, &plan, NULL, NULL, &err);

	cr_assert(p, "%s", err.msg);
	const struct aws_credentials *c = aws_creds_provider_peek(p, NOW);
	cr_assert(c);
	cr_expect_str_eq(c->access_key_id, "AKIASTATICEXAMPLE");
	cr_expect_null(c->session_token);
	struct got g = { 0 };
	fetch_wait(base, p, NOW, &g);
	cr_expect(g.ok);
	aws_creds_provider_free(p);

	plan = static_plan(NOW - 1);
	p = aws_creds_provider_new(base, NULL, &plan, NULL, NULL, &err);
	cr_expect_null(aws_creds_provider_peek(p, NOW));
	struct got g2 = { 0 };
	fetch_wait(base, p, NOW, &g2);
	cr_expect_not(g2.ok);
	cr_expect_eq(g2.err.code, CBQ_ERR_UNAUTHENTICATED);
	cr_expect(strstr(g2.err.msg, "the credentials from env expired at 2026-05-16T17:00:19Z"),
		  "%s", g2.err.msg);
	aws_creds_provider_free(p);
	event_base_free(base);
}

struct freeing {
	struct aws_creds_provider *p;
	int calls;
};

static void free_in_done(const struct aws_credentials *c, cbq_ms expires,
			 const struct cbq_error *err, void *arg)
{
	struct freeing *f = arg;

	(void)c;
	(void)expires;
	(void)err;
	f->calls++;
	aws_creds_provider_free(f->p);
}

Test(aws_creds_static, free_from_inside_done_drops_the_other_waits)
{
	struct event_base *base = event_base_new();
	struct cbq_error err = { 0 };
	struct aws_creds_plan plan = static_plan(0);
	struct freeing f = { 0 };

	f.p = aws_creds_provider_new(base, NULL, &plan, NULL, NULL, &err);
	aws_creds_provider_fetch(f.p, NOW, free_in_done, &f);
	aws_creds_provider_fetch(f.p, NOW, free_in_done, &f);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_expect_eq(f.calls, 1, "the second wait went with the provider");
	event_base_free(base); /* ASan: nothing leaked, nothing used after free */
}

Test(aws_creds_static, plans_without_credentials_are_refused)
{
	struct event_base *base = event_base_new();
	struct cbq_error err = { 0 };
	struct aws_creds_plan none = { 0 };
	struct aws_creds_plan role = { .kind = AWS_CREDS_ASSUME_ROLE };
	struct aws_creds_plan src = static_plan(0);

	role.source_plan = &src;
	cr_expect_null(aws_creds_provider_new(base, NULL, &none, NULL, NULL, &err));
	cr_expect_null(aws_creds_provider_new(base, NULL, &role, NULL, NULL, &err));
	cr_expect(strstr(err.msg, "needs the STS hook"), "%s", err.msg);
	event_base_free(base);
}

/* ---- assumed roles through a hook */

struct hook {
	struct event_base *base;
	int calls;
	char src_key[64], role_arn[128], session_name[65], external_id[64];
	int duration;
	cbq_ms now;
	aws_creds_done_fn done;
	void *done_arg;
	bool fail;
};

static void hook_answer(evutil_socket_t fd, short what, void *arg)
{
	struct hook *h = arg;
	(void)fd;
	(void)what;
	if (h->fail) {
		struct cbq_error e = { .code = CBQ_ERR_FORBIDDEN };
		snprintf(e.msg, sizeof(e.msg), "AccessDenied");
		h->done(NULL, 0, &e, h->done_arg);
		return;
	}
	struct aws_credentials c = { "ASIAROLEEXAMPLE", "roles3cr3t", "roletoken" };
	h->done(&c, h->now + 3600 * 1000, NULL, h->done_arg);
}

static void hook(void *hook_arg, const struct aws_credentials *src,
		 const struct aws_creds_plan *role, cbq_ms now, aws_creds_done_fn done,
		 void *done_arg)
{
	struct hook *h = hook_arg;

	h->calls++;
	snprintf(h->src_key, sizeof(h->src_key), "%s", src->access_key_id);
	snprintf(h->role_arn, sizeof(h->role_arn), "%.127s", role->role_arn);
	snprintf(h->session_name, sizeof(h->session_name), "%s", role->session_name);
	snprintf(h->external_id, sizeof(h->external_id), "%.63s", role->external_id);
	h->duration = role->duration_seconds;
	h->now = now;
	h->done = done;
	h->done_arg = done_arg;
	event_base_once(h->base, -1, EV_TIMEOUT, hook_answer, h, NULL);
}

Test(aws_creds_role, chain_assumes_with_the_source_and_caches)
{
	struct event_base *base = event_base_new();
	struct cbq_error err = { 0 };
	struct aws_creds_plan base_keys = static_plan(0);
	struct aws_creds_plan mid = { .kind = AWS_CREDS_ASSUME_ROLE,
				      .source_plan = &base_keys,
				      .duration_seconds = 900 };
	snprintf(mid.role_arn, sizeof(mid.role_arn), "arn:aws:iam::444455556666:role/mid");
	snprintf(mid.session_name, sizeof(mid.session_name), "mid-session");
	struct aws_creds_plan top = { .kind = AWS_CREDS_ASSUME_ROLE, .source_plan = &mid };
	snprintf(top.role_arn, sizeof(top.role_arn), "arn:aws:iam::111122223333:role/top");
	snprintf(top.external_id, sizeof(top.external_id), "ext-1");
	snprintf(top.source, sizeof(top.source), "profile prod (assume role)");
	struct hook h = { .base = base };
	struct got g = { 0 };

	struct aws_creds_provider *p = aws_creds_provider_new(base, NULL, &top, hook, &h, &err);
	cr_assert(p, "%s", err.msg);
	aws_creds_provider_fetch(p, NOW, on_creds, &g);
	cr_expect_eq(h.calls, 1, "mid is assumed first, with the static keys");
	cr_expect_str_eq(h.src_key, "AKIASTATICEXAMPLE");
	cr_expect_str_eq(h.role_arn, "arn:aws:iam::444455556666:role/mid");
	cr_expect_str_eq(h.session_name, "mid-session");
	cr_expect_eq(h.duration, 900);
	cr_assert(run_until(base, &g.done, 2000));
	cr_assert(g.ok, "%s", g.err.msg);
	cr_expect_eq(h.calls, 2);
	cr_expect_str_eq(h.src_key, "ASIAROLEEXAMPLE", "top is assumed with mid's credentials");
	cr_expect_str_eq(h.role_arn, "arn:aws:iam::111122223333:role/top");
	cr_expect_str_eq(h.external_id, "ext-1");
	char want[32];
	snprintf(want, sizeof(want), "cbqd-%lld", (long long)(NOW / 1000));
	cr_expect_str_eq(h.session_name, want, "a session name is picked when none is given");
	cr_expect_str_eq(g.key_id, "ASIAROLEEXAMPLE");
	cr_expect_str_eq(g.token, "roletoken");
	cr_expect_eq(g.expires, NOW + 3600 * 1000);
	cr_expect(aws_creds_provider_peek(p, NOW + 1000));
	cr_expect_eq(h.calls, 2, "cached");
	aws_creds_provider_free(p);
	event_base_free(base);
}

Test(aws_creds_role, a_refused_assume_names_the_role_and_a_freed_provider_ignores_late_answers)
{
	struct event_base *base = event_base_new();
	struct cbq_error err = { 0 };
	struct aws_creds_plan keys = static_plan(0);
	struct aws_creds_plan role = { .kind = AWS_CREDS_ASSUME_ROLE, .source_plan = &keys };
	snprintf(role.role_arn, sizeof(role.role_arn), "arn:aws:iam::111122223333:role/top");
	struct hook h = { .base = base, .fail = true };
	struct got g = { 0 };

	struct aws_creds_provider *p = aws_creds_provider_new(base, NULL, &role, hook, &h, &err);
	fetch_wait(base, p, NOW, &g);
	cr_assert_not(g.ok);
	cr_expect_eq(g.err.code, CBQ_ERR_FORBIDDEN);
	cr_expect(strstr(g.err.msg, "assume role arn:aws:iam::111122223333:role/top: AccessDenied"),
		  "%s", g.err.msg);

	/* freed while the hook still works: its answer goes nowhere */
	struct got g2 = { 0 };
	h.fail = false;
	aws_creds_provider_fetch(p, NOW, on_creds, &g2);
	aws_creds_provider_free(p);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_expect_not(g2.done);
	event_base_free(base);
}

/* ---- the file loader and the whole startup */

static char *tmpdir(void)
{
	char *d = strdup("/tmp/cbq-awscfg-XXXXXX");
	cr_assert(mkdtemp(d));
	return d;
}

/* Removes d and the files in it, then frees d. */
static void tmpdir_remove(char *d)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	cr_expect_eq(system(cmd), 0);
	free(d);
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	cr_assert(f);
	fwrite(text, 1, len, f);
	fclose(f);
}

Test(aws_creds_files, read_missing_directory_limits_and_nul)
{
	char *d = tmpdir(), path[512], *out = (char *)"untouched";
	size_t len = 7;
	struct cbq_error err = { 0 };

	snprintf(path, sizeof(path), "%s/none", d);
	cr_expect_eq(aws_file_read(path, 100, "f", &out, &len, &err), CBQ_OK);
	cr_expect_null(out);
	snprintf(path, sizeof(path), "%s/none/deeper", d);
	cr_expect_eq(aws_file_read(path, 100, "f", &out, &len, &err), CBQ_OK);
	cr_expect_null(out);
	cr_expect_eq(aws_file_read(d, 100, "f", &out, &len, &err), CBQ_OK, "a directory is absent");
	cr_expect_null(out);
	cr_expect_eq(aws_file_read("", 100, "f", &out, &len, &err), CBQ_OK);

	write_file(d, "ok", "[default]\nregion = x\n", 21);
	snprintf(path, sizeof(path), "%s/ok", d);
	cr_assert_eq(aws_file_read(path, 21, "f", &out, &len, &err), CBQ_OK, "%s", err.msg);
	cr_expect_eq(len, 21);
	cr_expect_str_eq(out, "[default]\nregion = x\n");
	aws_file_free(out);
	cr_expect_eq(aws_file_read(path, 20, "aws.config_file", &out, &len, &err),
		     CBQ_ERR_TOO_LARGE);
	cr_expect_str_eq(err.field, "aws.config_file");

	write_file(d, "nul", "a\0b", 3);
	snprintf(path, sizeof(path), "%s/nul", d);
	cr_expect_eq(aws_file_read(path, 100, "f", &out, &len, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, "NUL byte"), "%s", err.msg);

	if (geteuid() != 0) { /* root reads anything */
		chmod(path, 0);
		cr_expect_eq(aws_file_read(path, 100, "f", &out, &len, &err), CBQ_ERR_INVALID);
	}
	tmpdir_remove(d);
}

static const char *vars_get(void *arg, const char *name)
{
	const char *const *kv = arg;
	for (; kv[0]; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

Test(aws_creds_files, config_load_reads_both_files)
{
	char *d = tmpdir(), cfg[512], cred[512];
	const char *config = "[profile prod]\nregion = eu-west-1\n";
	const char *creds = "[prod]\naws_access_key_id = AKIAFILEEXAMPLE\n"
			    "aws_secret_access_key = files3cr3t\n";

	write_file(d, "config", config, strlen(config));
	write_file(d, "credentials", creds, strlen(creds));
	snprintf(cfg, sizeof(cfg), "%s/config", d);
	snprintf(cred, sizeof(cred), "%s/credentials", d);
	const char *vars[] = { "AWS_CONFIG_FILE",
			       cfg,
			       "AWS_SHARED_CREDENTIALS_FILE",
			       cred,
			       "AWS_PROFILE",
			       "prod",
			       NULL };
	struct aws_env env = { vars_get, vars };
	struct aws_config c;
	struct cbq_error err = { 0 };

	cr_assert_eq(aws_config_load(&env, &c, &err), CBQ_OK, "%s", err.msg);
	cr_expect_str_eq(c.region, "eu-west-1");
	cr_expect_eq(c.creds.kind, AWS_CREDS_STATIC);
	cr_expect_str_eq(c.creds.source, "profile prod (credentials file)");
	aws_config_free(&c);

	write_file(d, "config", "[profile prod]\nbroken line\n", 27);
	cr_expect_eq(aws_config_load(&env, &c, &err), CBQ_ERR_INVALID);
	char want[600];
	snprintf(want, sizeof(want), "config file %s line 2", cfg);
	cr_expect(strstr(err.msg, want), "%s", err.msg);
	tmpdir_remove(d);
}

Test(aws_creds_files, getenv_lookup)
{
	setenv("CBQ_TEST_AWS_VAR", "v", 1);
	struct aws_env env = { aws_env_getenv, NULL };
	cr_expect_str_eq(aws_env_get(&env, "CBQ_TEST_AWS_VAR"), "v");
	setenv("CBQ_TEST_AWS_VAR", "", 1);
	cr_expect_null(aws_env_get(&env, "CBQ_TEST_AWS_VAR"));
}
