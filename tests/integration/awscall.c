/* The AWS client driven synchronously for tests; see awscall.h. */
#include "awscall.h"

#include <criterion/criterion.h>
#include <event2/event.h>

#include <stdlib.h>
#include <string.h>

#include "aws/creds.h"
#include "aws/http.h"

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
