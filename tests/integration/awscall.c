/* The AWS client driven synchronously for tests; see awscall.h. */
#include "awscall.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <event2/event.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/creds.h"
#include "aws/http.h"
#include "aws/sigv4.h"

struct env_table {
	const char *const *entries;
};

static const char *table_get(void *arg, const char *name)
{
	const struct env_table *table = arg;
	const char *const *env = table->entries;
	size_t n = strlen(name);

	for (; env && *env; env++)
		if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

void t_aws_open(struct t_aws *t, const char *const *env, const char *clock, long timeout_ms)
{
	t_aws_open_files(t, env, NULL, NULL, clock, timeout_ms);
}

void t_aws_open_files(struct t_aws *t, const char *const *env, const char *config_text,
		      const char *credentials_text, const char *clock, long timeout_ms)
{
	struct env_table table = { env };
	struct aws_env e = { table_get, &table };
	struct cbq_error err = { 0 };

	memset(t, 0, sizeof(*t));
	cr_assert_eq(cbq_clock_parse(clock, cbq_clock_real_ms(), &t->clock, &err), CBQ_OK, "%s",
		     err.msg);
	cr_assert_eq(aws_config_files(&e, &t->cfg, &err), CBQ_OK, "%s", err.msg);
	cr_assert_eq(aws_config_resolve(&e, config_text, credentials_text, &t->cfg, &err), CBQ_OK,
		     "%s", err.msg);
	t->base = event_base_new();
	cr_assert(t->base);
	t->http = aws_http_new(t->base, &err);
	cr_assert(t->http, "%s", err.msg);
	struct aws_client_settings s = {
		.config = &t->cfg,
		.clock = &t->clock,
		.timeout_ms = timeout_ms,
		.connect_timeout_ms = 2000,
	};
	t->client = aws_client_new(t->base, t->http, &s, &err);
	cr_assert(t->client, "%s", err.msg);
	/* as cbqd does it: the provider may need the client for a profile role */
	t->own = aws_creds_provider_new(t->base, t->http, &t->cfg.creds, aws_client_assume_hook,
					t->client, &err);
	cr_assert(t->own, "%s", err.msg);
	aws_client_set_own(t->client, t->own);
}

void t_aws_close(struct t_aws *t)
{
	aws_client_free(t->client);
	aws_creds_provider_free(t->own);
	aws_http_free(t->http);
	event_base_free(t->base);
	aws_config_free(&t->cfg);
	memset(t, 0, sizeof(*t));
}

struct waiter {
	struct t_outcome o;
	bool done, timed_out;
	struct event_base *base;
};

static void on_limit(evutil_socket_t fd, short what, void *arg)
{
	struct waiter *w = arg;

	(void)fd;
	(void)what;
	w->timed_out = true;
}

static void on_done(const struct aws_call_result *r, void *arg)
{
	struct waiter *w = arg;

	w->done = true;
	w->o.code = r->code;
	w->o.cls = r->cls;
	w->o.status = r->http_status;
	w->o.attempts = r->attempts;
	if (r->err)
		snprintf(w->o.msg, sizeof(w->o.msg), "%s", r->err->msg);
	if (r->reply)
		snprintf(w->o.aws_code, sizeof(w->o.aws_code), "%s", r->reply->code);
	if (r->code == CBQ_OK) {
		w->o.body = malloc(r->body_len + 1);
		memcpy(w->o.body, r->body, r->body_len + 1);
		w->o.len = r->body_len;
	}
	event_base_loopbreak(w->base);
}

struct t_outcome t_call(struct t_aws *t, enum aws_service svc, const char *role_arn,
			const char *external_id, const char *what, const struct aws_form *form)
{
	struct waiter w = { .base = t->base };
	struct aws_call_req req = {
		.service = svc,
		.role = { role_arn, external_id, "cbq-test" },
		.what = what,
		.path = "/",
		.body = aws_form_body(form),
		.body_len = aws_form_len(form),
	};
	struct timeval limit = { 60, 0 };

	struct event *timer = evtimer_new(t->base, on_limit, &w);
	struct aws_call *call = aws_call_start(t->client, &req, on_done, &w);

	evtimer_add(timer, &limit);
	while (!w.done && !w.timed_out && event_base_loop(t->base, EVLOOP_ONCE) == 0)
		;
	event_free(timer);
	if (!w.done)
		aws_call_cancel(call);
	cr_assert(w.done, "%s did not finish within 60 s", what);
	return w.o;
}

void t_outcome_free(struct t_outcome *o)
{
	free(o->body);
	o->body = NULL;
}

/* ---- calls from outside cbq ------------------------------------------------------ */

struct sink {
	char buf[65536];
	size_t n;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;

	if (add > sizeof(s->buf) - 1 - s->n)
		add = sizeof(s->buf) - 1 - s->n;
	memcpy(s->buf + s->n, p, add);
	s->n += add;
	s->buf[s->n] = '\0';
	return size * n;
}

const char *t_signed_post(const char *host, const char *service,
			  const struct aws_credentials *cred, const char *account, const char *body,
			  long *status)
{
	static struct sink s;
	static const char ctype[] = "application/x-www-form-urlencoded; charset=utf-8";
	struct aws_header hdr = { "Content-Type", ctype };
	char url[96], h_host[96], h_date[64], h_auth[1600], h_acct[64], h_tok[8300], h_ct[96];
	struct aws_signed sig;
	struct cbq_error err = { 0 };
	struct curl_slist *hl = NULL;
	CURL *e;

	snprintf(url, sizeof(url), "http://%s/", host);
	struct aws_request req = { .method = "POST",
				   .host = host,
				   .path = "/",
				   .headers = &hdr,
				   .n_headers = 1,
				   .body = (const uint8_t *)body,
				   .body_len = strlen(body),
				   .region = "us-east-1",
				   .service = service };
	cr_assert_eq(aws_sigv4_sign(&req, cred, time(NULL), &sig, NULL, &err), CBQ_OK, "%s",
		     err.msg);
	snprintf(h_host, sizeof(h_host), "Host: %s", host);
	snprintf(h_ct, sizeof(h_ct), "Content-Type: %s", ctype);
	snprintf(h_date, sizeof(h_date), "X-Amz-Date: %s", sig.amz_date);
	snprintf(h_auth, sizeof(h_auth), "Authorization: %s", sig.authorization);
	hl = curl_slist_append(hl, h_host);
	hl = curl_slist_append(hl, h_ct);
	hl = curl_slist_append(hl, h_date);
	hl = curl_slist_append(hl, h_auth);
	if (sig.security_token) {
		snprintf(h_tok, sizeof(h_tok), "X-Amz-Security-Token: %s", sig.security_token);
		hl = curl_slist_append(hl, h_tok);
	}
	if (account) {
		snprintf(h_acct, sizeof(h_acct), "x-moto-account-id: %s", account);
		hl = curl_slist_append(hl, h_acct);
	}
	e = curl_easy_init();
	s.n = 0;
	s.buf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
	cr_assert_eq(curl_easy_perform(e), CURLE_OK, "call to the AWS peer at %s failed", host);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	return s.buf;
}

void t_xml_element(const char *xml, const char *name, char *out, size_t size)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	a = strstr(xml, open);
	cr_assert(a, "no <%s> in %.300s", name, xml);
	a += strlen(open);
	b = strstr(a, close);
	cr_assert(b && (size_t)(b - a) < size, "no </%s> or too long in %.300s", name, xml);
	memcpy(out, a, (size_t)(b - a));
	out[b - a] = '\0';
}
