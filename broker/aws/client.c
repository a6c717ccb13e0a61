/*
 * One AWS call from credentials to outcome; see client.h. A call moves
 * through: kick (a zero timer, so nothing completes inside aws_call_start)
 * → credentials (cached, fetched, or an AssumeRole shared by every call
 * waiting for that role) → signed HTTP attempt → success, retry after a
 * backoff timer, re-assume once, or failure. Every step runs from its own
 * loop event, so a callback may cancel any other call.
 */
#include "aws/client.h"

#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws/creds.h"
#include "aws/form.h"
#include "aws/http.h"
#include "aws/retry.h"
#include "aws/rolecache.h"
#include "aws/sigv4.h"
#include "aws/sts.h"
#include "util/log.h"

#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

struct assume;

struct aws_client {
	struct event_base *base;
	struct aws_http *http;
	struct aws_config cfg; /* endpoints and region only; no secrets */
	struct aws_creds_provider *own;
	const struct cbq_clock *clock;
	long connect_timeout_ms, timeout_ms;
	int assume_duration_s;
	char *ca_file;
	struct aws_retry_quota quota;
	struct aws_rolecache roles;
	struct aws_call *calls; /* every call in flight, AssumeRoles included */
	size_t n_calls;
	struct assume *assumes;
	aws_call_observer observe; /* or NULL */
	void *observe_arg;
};

/* The credential provider's AssumeRole: whom to tell. */
struct hook {
	aws_creds_done_fn done;
	void *arg;
};

/* An AssumeRole in flight and the calls waiting for its answer. */
struct assume {
	struct aws_client *c;
	struct assume *next;
	char *role_arn, *external_id;
	struct aws_call *sts;	  /* the STS call itself */
	struct aws_call *waiters; /* linked through aws_call.next_waiter */
};

struct aws_call {
	struct aws_client *c;
	struct aws_call *prev, *next;
	/* the request, copied */
	enum aws_service service;
	char *role_arn, *external_id, *session_name;
	char *what, *path, *content_type, *target, *body;
	size_t body_len;
	aws_call_fn done;
	void *arg;
	cbq_ms started; /* real ms, for the observer */
	/* where it is: at most one of these is live */
	struct event *timer;
	struct aws_http_call *http;
	struct aws_creds_wait *creds_wait;
	struct assume *waiting;
	struct aws_call *next_waiter;
	/* progress */
	struct aws_retry_state retry;
	/* explicit credentials (the provider's hook), owned copies, or NULL */
	char *src_key, *src_secret, *src_token;
	struct hook *hook;	     /* set for the provider's AssumeRoles */
	bool reassumed;
	bool failed; /* the kick delivers fail instead of trying */
	struct cbq_error fail;
	enum aws_err_class fail_cls;
};

/* "ec2:RunInstances as arn:aws:iam::1:role/x" or "... as the broker" */
static void describe(const struct aws_call *call, char *buf, size_t size)
{
	snprintf(buf, size, "%s as %s", call->what,
		 call->role_arn ? call->role_arn : "the broker's own identity");
}

/* ---- call lifetime ------------------------------------------------------- */

static void detach_waiter(struct aws_call *call)
{
	struct assume *a = call->waiting;

	if (!a)
		return;
	for (struct aws_call **p = &a->waiters; *p; p = &(*p)->next_waiter)
		if (*p == call) {
			*p = call->next_waiter;
			break;
		}
	call->waiting = NULL;
	call->next_waiter = NULL;
}

/* Stops whatever the call is doing, unlinks and frees it. */
static void call_free(struct aws_call *call)
{
	struct aws_client *c = call->c;

	if (call->http)
		aws_http_cancel(call->http);
	if (call->creds_wait)
		aws_creds_wait_cancel(call->creds_wait);
	detach_waiter(call);
	event_free(call->timer);
	if (call->prev)
		call->prev->next = call->next;
	else
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	c->n_calls--;
	free(call->role_arn);
	free(call->external_id);
	free(call->session_name);
	free(call->what);
	free(call->path);
	free(call->content_type);
	free(call->target);
	free(call->body);
	cbq_wipe_free(call->src_key);
	cbq_wipe_free(call->src_secret);
	cbq_wipe_free(call->src_token);
	free(call->hook);
	free(call);
}

static void deliver(struct aws_call *call, const struct aws_call_result *r)
{
	struct aws_client *c = call->c;

	if (c->observe) {
		/* the call's name without what follows it ("ec2:RunInstances for job 7") */
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(call->what, " "), call->what);
		struct aws_call_seen seen = {
			.what = name,
			.seconds = (double)(cbq_clock_real_ms() - call->started) / 1000,
			.error_code = r->code == CBQ_OK ? NULL
				      : r->reply && r->reply->code[0] ? r->reply->code
				      : r->reply ? "unknown" : "transport",
		};
		c->observe(c->observe_arg, &seen);
	}
	call->done(r, call->arg);
	call_free(call);
}

static void deliver_fail(struct aws_call *call, enum aws_err_class cls, const struct cbq_error *err)
{
	struct aws_call_result r = {
		.code = err->code ? err->code : CBQ_ERR_INTERNAL,
		.cls = cls,
		.err = err,
		.body = "",
		.attempts = call->retry.attempt,
	};
	deliver(call, &r);
}

/* Runs the call's next step from the loop after delay_ms. */
static void kick(struct aws_call *call, cbq_ms delay_ms)
{
	struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000 };

	evtimer_add(call->timer, &tv);
}

/* Fails the call from the loop (never from inside the caller's frame). */
static void fail_later(struct aws_call *call, enum aws_err_class cls, const struct cbq_error *err)
{
	call->failed = true;
	call->fail = *err;
	call->fail_cls = cls;
	kick(call, 0);
}

/* ---- one signed attempt -------------------------------------------------- */

static void on_http_done(const struct aws_http_reply *hr, void *arg);

static char *line(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *s = malloc(n);

	if (!s)
		abort();
	snprintf(s, n, "%s: %s", name, value);
	return s;
}

/* The path part of an endpoint URL ("" for "https://host"). */
static const char *url_path(const char *url)
{
	const char *p = strstr(url, "://");
	const char *slash = p ? strchr(p + 3, '/') : NULL;

	return slash ? slash : "";
}

static void send_attempt(struct aws_call *call, const struct aws_credentials *cred)
{
	struct aws_client *c = call->c;
	const struct aws_endpoint *ep = &c->cfg.endpoints[call->service];
	const char *ctype = call->content_type ? call->content_type : FORM_TYPE;
	struct aws_header hdrs[2] = { { "Content-Type", ctype } };
	size_t n_hdrs = 1;
	char path[1024], url[2048];
	struct aws_signed sig;
	struct cbq_error err = { 0 };
	char *lines[AWS_HTTP_MAX_HEADERS];
	size_t n_lines = 0;

	if (call->target)
		hdrs[n_hdrs++] = (struct aws_header){ "X-Amz-Target", call->target };
	snprintf(path, sizeof(path), "%s%s", url_path(ep->url), call->path);
	snprintf(url, sizeof(url), "%.*s%s", (int)(strlen(ep->url) - strlen(url_path(ep->url))),
		 ep->url, path);
	struct aws_request req = {
		.method = "POST",
		.host = ep->host,
		.path = path,
		.headers = hdrs,
		.n_headers = n_hdrs,
		.body = (const uint8_t *)call->body,
		.body_len = call->body_len,
		.region = ep->signing_region,
		.service = aws_service_name(call->service),
	};
	if (aws_sigv4_sign(&req, cred, cbq_clock_now(c->clock) / 1000, &sig, NULL, &err)) {
		char what[512];
		describe(call, what, sizeof(what));
		struct cbq_error e;
		cbq_fail(&e, err.code, err.field, "%s: cannot sign the request: %s", what, err.msg);
		fail_later(call, AWS_ERRCLASS_FAIL, &e);
		return;
	}
	lines[n_lines++] = line("Host", ep->host);
	lines[n_lines++] = line("Content-Type", ctype);
	if (call->target)
		lines[n_lines++] = line("X-Amz-Target", call->target);
	lines[n_lines++] = line("X-Amz-Date", sig.amz_date);
	if (sig.security_token)
		lines[n_lines++] = line("X-Amz-Security-Token", sig.security_token);
	lines[n_lines++] = line("Authorization", sig.authorization);

	struct aws_http_req hreq = {
		.method = "POST",
		.url = url,
		.headers = (const char *const *)lines,
		.n_headers = n_lines,
		.body = call->body,
		.body_len = call->body_len,
		.connect_timeout_ms = c->connect_timeout_ms,
		.timeout_ms = c->timeout_ms,
		.ca_file = c->ca_file,
	};
	call->retry.attempt++;
	call->http = aws_http_start(c->http, &hreq, on_http_done, call, &err);
	for (size_t i = 0; i < n_lines; i++) {
		if (strncmp(lines[i], "X-Amz-Security-Token", 20) == 0 ||
		    strncmp(lines[i], "Authorization", 13) == 0)
			explicit_bzero(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	if (!call->http)
		fail_later(call, AWS_ERRCLASS_FAIL, &err);
}

/* ---- credentials --------------------------------------------------------- */

static void assume_start(struct aws_call *call);

static void on_own_creds(const struct aws_credentials *cred, cbq_ms expires,
			 const struct cbq_error *err, void *arg)
{
	struct aws_call *call = arg;

	(void)expires;
	call->creds_wait = NULL;
	if (!cred) {
		char what[512];
		struct cbq_error e;
		describe(call, what, sizeof(what));
		cbq_fail(&e, CBQ_ERR_UNAUTHENTICATED, "aws.credentials",
			 "%s: no credentials for the broker: %s", what, err ? err->msg : "unknown");
		fail_later(call, AWS_ERRCLASS_AUTH, &e);
		return;
	}
	send_attempt(call, cred);
}

/* The call's next step: find credentials, then send. */
static void call_go(struct aws_call *call)
{
	struct aws_client *c = call->c;
	cbq_ms now = cbq_clock_now(c->clock);

	if (call->src_key) {
		struct aws_credentials src = { call->src_key, call->src_secret, call->src_token };
		send_attempt(call, &src);
		return;
	}
	if (!call->role_arn) {
		const struct aws_credentials *own = c->own ? aws_creds_provider_peek(c->own, now) : NULL;
		if (!c->own) {
			struct cbq_error e;
			cbq_fail(&e, CBQ_ERR_INTERNAL, "aws", "%s: the client has no credentials",
				 call->what);
			fail_later(call, AWS_ERRCLASS_FAIL, &e);
			return;
		}
		if (own)
			send_attempt(call, own);
		else
			call->creds_wait = aws_creds_provider_fetch(c->own, now, on_own_creds, call);
		return;
	}
	const struct aws_sts_credentials *sc =
		aws_rolecache_get(&c->roles, call->role_arn, call->external_id, now);
	if (!sc) {
		assume_start(call);
		return;
	}
	struct aws_credentials cred = {
		.access_key_id = sc->access_key_id,
		.secret_access_key = sc->secret_access_key,
		.session_token = sc->session_token,
	};
	send_attempt(call, &cred);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct aws_call *call = arg;

	(void)fd;
	(void)what;
	if (call->failed)
		deliver_fail(call, call->fail_cls, &call->fail);
	else
		call_go(call);
}

/* ---- AssumeRole, shared by every call waiting for one role --------------- */

static void assume_free(struct assume *a)
{
	struct aws_client *c = a->c;

	for (struct assume **p = &c->assumes; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	free(a->role_arn);
	free(a->external_id);
	free(a);
}

static bool same(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static void on_assumed(const struct aws_call_result *r, void *arg)
{
	struct assume *a = arg;
	struct aws_client *c = a->c;
	struct aws_sts_credentials creds = { 0 };
	struct cbq_error perr = { 0 }, e = { 0 };
	enum aws_err_class cls = r->cls;
	bool ok = false;

	a->sts = NULL;
	if (r->code == CBQ_OK) {
		if (aws_sts_parse_assume_role(r->body, r->body_len, &creds, &perr) == CBQ_OK) {
			aws_rolecache_put(&c->roles, a->role_arn, a->external_id, &creds,
					  cbq_clock_now(c->clock));
			ok = true;
		} else {
			cbq_fail(&e, CBQ_ERR_UNAVAILABLE, "aws.sts",
				 "sts:AssumeRole of %s: unreadable reply: %s", a->role_arn, perr.msg);
			cls = AWS_ERRCLASS_RETRY;
		}
	} else {
		e = *r->err;
	}
	cbq_log(ok ? CBQ_LOG_INFO : CBQ_LOG_WARN, "aws_assume_role", "role=%s ok=%s%s%s", a->role_arn,
		ok ? "yes" : "no", ok ? "" : " code=", ok ? "" : cbq_err_name(e.code));
	/* Each waiter continues from its own loop event. */
	while (a->waiters) {
		struct aws_call *w = a->waiters;
		a->waiters = w->next_waiter;
		w->next_waiter = NULL;
		w->waiting = NULL;
		if (ok)
			kick(w, 0);
		else
			fail_later(w, cls, &e);
	}
	assume_free(a);
}

/* An STS query-protocol call of form, as the broker. */
static struct aws_call_req sts_request(const char *what, const struct aws_form *form)
{
	return (struct aws_call_req){
		.service = AWS_SVC_STS,
		.what = what,
		.path = "/",
		.body = aws_form_body(form),
		.body_len = aws_form_len(form),
	};
}

/* The AssumeRole of role_arn (with external_id, may be NULL) in flight, or
 * a new one; NULL with *err when its request cannot be formed. */
static struct assume *assume_of(struct aws_client *c, const char *role_arn,
				const char *external_id, const char *session_name,
				struct cbq_error *err)
{
	struct assume *a;
	struct aws_form form = { 0 };
	struct cbq_error ferr = { 0 };

	for (a = c->assumes; a; a = a->next)
		if (same(a->role_arn, role_arn) && same(a->external_id, external_id))
			return a;
	struct aws_sts_assume_role_req req = {
		.role_arn = role_arn,
		.session_name = session_name ? session_name : "cbq",
		.external_id = external_id,
		.duration_seconds = c->assume_duration_s,
	};
	if (aws_sts_assume_role_form(&req, &form, &ferr)) {
		cbq_fail(err, ferr.code, ferr.field, "sts:AssumeRole of %s: %s", role_arn, ferr.msg);
		return NULL;
	}
	char what[2200];
	snprintf(what, sizeof(what), "sts:AssumeRole of %s", role_arn);
	a = cbq_xcalloc(1, sizeof(*a));
	a->c = c;
	a->role_arn = cbq_xstrdup(role_arn);
	a->external_id = cbq_xstrdup(external_id);
	a->next = c->assumes;
	c->assumes = a;
	struct aws_call_req sreq = sts_request(what, &form);
	a->sts = aws_call_start(c, &sreq, on_assumed, a);
	aws_form_free(&form);
	return a;
}

static void assume_start(struct aws_call *call)
{
	struct cbq_error err = { 0 };
	struct assume *a =
		assume_of(call->c, call->role_arn, call->external_id, call->session_name, &err);

	if (!a) {
		fail_later(call, AWS_ERRCLASS_FAIL, &err);
		return;
	}
	call->waiting = a;
	call->next_waiter = a->waiters;
	a->waiters = call;
}

void aws_client_warm_role(struct aws_client *c, const struct aws_role *role)
{
	const char *ext = role->external_id && role->external_id[0] ? role->external_id : NULL;
	struct cbq_error err = { 0 };

	if (!role->role_arn || !role->role_arn[0] ||
	    aws_rolecache_get(&c->roles, role->role_arn, ext, cbq_clock_now(c->clock)))
		return;
	if (!assume_of(c, role->role_arn, ext, role->session_name, &err))
		cbq_log(CBQ_LOG_WARN, "aws_warm_role_refused", "role=%s error=%s", role->role_arn,
			cbq_log_q(err.msg));
}

/* ---- outcomes ------------------------------------------------------------ */

/* RAM and Organizations answer errors in JSON (AWS.md §8.4); an auth refusal
 * may still be XML. */
static void parse_json_error(const struct aws_http_reply *hr, struct aws_error_reply *out)
{
	json_t *doc = json_loadb(hr->body, hr->body_len, JSON_DISABLE_EOF_CHECK, NULL);
	const char *code = hr->error_type[0] ? hr->error_type : NULL, *msg = NULL;

	memset(out, 0, sizeof(*out));
	out->http_status = hr->status;
	if (json_is_object(doc)) {
		if (!code)
			code = json_string_value(json_object_get(doc, "__type"));
		if (!code)
			code = json_string_value(json_object_get(doc, "code"));
		if (!code)
			code = json_string_value(json_object_get(doc, "Code"));
		msg = json_string_value(json_object_get(doc, "message"));
		if (!msg)
			msg = json_string_value(json_object_get(doc, "Message"));
	}
	if (code) {
		const char *hash = strrchr(code, '#');
		size_t n;
		if (hash)
			code = hash + 1;
		n = strcspn(code, ":");
		if (n >= sizeof(out->code))
			n = sizeof(out->code) - 1;
		memcpy(out->code, code, n);
		out->xml = true; /* a coded AWS error, whatever the encoding */
	}
	if (msg)
		snprintf(out->message, sizeof(out->message), "%s", msg);
	snprintf(out->request_id, sizeof(out->request_id), "%s", hr->request_id);
	json_decref(doc);
	if (!code) /* not JSON we understand: take what the XML reader makes of it */
		aws_error_parse(hr->body, hr->body_len, hr->status, out);
}

static void read_error(const struct aws_call *call, const struct aws_http_reply *hr,
		       struct aws_error_reply *out)
{
	bool json = call->service == AWS_SVC_RAM || call->service == AWS_SVC_ORGANIZATIONS;

	if (json && !(hr->body_len && hr->body[0] == '<'))
		parse_json_error(hr, out);
	else
		aws_error_parse(hr->body, hr->body_len, hr->status, out);
}

/* Schedules another attempt if the retry policy allows; false if not. */
static bool retry_later(struct aws_call *call, enum aws_retry_cause cause, const char *why)
{
	struct aws_client *c = call->c;
	cbq_ms delay;
	double r = (double)arc4random() / 4294967296.0;

	if (!aws_retry_next(&c->quota, &call->retry, c->cfg.max_attempts, cause, r, &delay))
		return false;
	cbq_log(CBQ_LOG_INFO, "aws_retry", "call=%s attempt=%d why=%s delay_ms=%lld", call->what,
		call->retry.attempt, why, (long long)delay);
	kick(call, delay);
	return true;
}

static const char *fail_name(enum aws_http_fail f)
{
	switch (f) {
	case AWS_HTTP_CONNECT:
		return "connect";
	case AWS_HTTP_TIMEOUT:
		return "timeout";
	case AWS_HTTP_TOO_LARGE:
		return "reply_too_large";
	case AWS_HTTP_CANCELLED:
		return "cancelled";
	default:
		return "io";
	}
}

static void on_transport_failure(struct aws_call *call, const struct aws_http_reply *hr)
{
	char what[512];
	struct cbq_error e;

	if (hr->fail != AWS_HTTP_TOO_LARGE && hr->fail != AWS_HTTP_CANCELLED &&
	    retry_later(call, hr->fail == AWS_HTTP_TIMEOUT ? AWS_RETRY_TIMED_OUT : AWS_RETRY_TRANSIENT,
			fail_name(hr->fail)))
		return;
	describe(call, what, sizeof(what));
	cbq_fail(&e, CBQ_ERR_UNAVAILABLE, "aws", "%s: no answer after %d attempt%s: %s%s%s", what,
		 call->retry.attempt, call->retry.attempt == 1 ? "" : "s", fail_name(hr->fail),
		 hr->detail[0] ? ": " : "", hr->detail);
	deliver_fail(call, hr->fail == AWS_HTTP_TOO_LARGE ? AWS_ERRCLASS_FAIL : AWS_ERRCLASS_RETRY,
		     &e);
}

static void on_http_done(const struct aws_http_reply *hr, void *arg)
{
	struct aws_call *call = arg;
	struct aws_client *c = call->c;
	struct aws_error_reply er;
	enum aws_err_class cls;

	call->http = NULL;
	if (hr->fail != AWS_HTTP_OK) {
		on_transport_failure(call, hr);
		return;
	}
	if (hr->status >= 200 && hr->status < 300) {
		struct aws_call_result r = {
			.code = CBQ_OK,
			.http_status = hr->status,
			.body = hr->body,
			.body_len = hr->body_len,
			.attempts = call->retry.attempt,
		};
		aws_retry_succeeded(&c->quota, &call->retry);
		deliver(call, &r);
		return;
	}
	read_error(call, hr, &er);
	cls = aws_error_classify(er.code, hr->status);
	if (cls == AWS_ERRCLASS_RETRY && retry_later(call, AWS_RETRY_TRANSIENT,
						     er.code[0] ? er.code : "http_5xx"))
		return;
	if (cls == AWS_ERRCLASS_AUTH && call->role_arn && !call->reassumed) {
		/* The cached session may have been revoked or expired early. */
		cbq_log(CBQ_LOG_INFO, "aws_reassume", "call=%s role=%s code=%s", call->what,
			call->role_arn, er.code);
		aws_rolecache_drop(&c->roles, call->role_arn, call->external_id);
		call->reassumed = true;
		kick(call, 0);
		return;
	}
	char what[512];
	struct cbq_error e = { 0 };
	describe(call, what, sizeof(what));
	aws_error_to_cbq(&er, what, &e);
	struct aws_call_result r = {
		.code = e.code ? e.code : CBQ_ERR_INTERNAL,
		.cls = cls,
		.err = &e,
		.reply = &er,
		.http_status = hr->status,
		.body = "",
		.attempts = call->retry.attempt,
	};
	deliver(call, &r);
}

/* ---- public -------------------------------------------------------------- */

void aws_client_set_observer(struct aws_client *c, aws_call_observer fn, void *arg)
{
	c->observe = fn;
	c->observe_arg = arg;
}

struct aws_client *aws_client_new(struct event_base *base, struct aws_http *http,
				  const struct aws_client_settings *s, struct cbq_error *err)
{
	struct aws_client *c;

	if (!s->config || !s->clock) {
		cbq_fail(err, CBQ_ERR_INVALID, "aws", "AWS client needs a config, credentials and a clock");
		return NULL;
	}
	if (s->assume_duration_s && (s->assume_duration_s < 900 || s->assume_duration_s > 43200)) {
		cbq_fail(err, CBQ_ERR_INVALID, "aws.assume_duration",
			 "AssumeRole duration must be 900..43200 seconds");
		return NULL;
	}
	c = cbq_xcalloc(1, sizeof(*c));
	c->base = base;
	c->http = http;
	memcpy(c->cfg.region, s->config->region, sizeof(c->cfg.region));
	memcpy(c->cfg.endpoints, s->config->endpoints, sizeof(c->cfg.endpoints));
	c->cfg.max_attempts = s->config->max_attempts > 0 ? s->config->max_attempts
							  : AWS_RETRY_DEFAULT_ATTEMPTS;
	c->own = s->own;
	c->clock = s->clock;
	c->connect_timeout_ms = s->connect_timeout_ms;
	c->timeout_ms = s->timeout_ms;
	c->assume_duration_s = s->assume_duration_s;
	c->ca_file = cbq_xstrdup(s->ca_file);
	aws_retry_quota_init(&c->quota);
	aws_rolecache_init(&c->roles, 0);
	return c;
}

void aws_client_free(struct aws_client *c)
{
	if (!c)
		return;
	while (c->calls) {
		struct aws_call *call = c->calls;
		if (call->hook) {
			struct cbq_error e;
			cbq_fail(&e, CBQ_ERR_UNAVAILABLE, "aws", "AssumeRole cancelled at shutdown");
			call->hook->done(NULL, 0, &e, call->hook->arg);
		}
		call_free(call);
	}
	while (c->assumes)
		assume_free(c->assumes);
	aws_rolecache_free(&c->roles);
	free(c->ca_file);
	free(c);
}

struct aws_call *aws_call_start(struct aws_client *c, const struct aws_call_req *req,
				aws_call_fn done, void *arg)
{
	struct aws_call *call = cbq_xcalloc(1, sizeof(*call));

	call->c = c;
	call->service = req->service;
	call->role_arn = req->role.role_arn && req->role.role_arn[0] ? cbq_xstrdup(req->role.role_arn)
								     : NULL;
	call->external_id = req->role.external_id && req->role.external_id[0]
				    ? cbq_xstrdup(req->role.external_id)
				    : NULL;
	call->session_name = cbq_xstrdup(req->role.session_name);
	call->what = cbq_xstrdup(req->what ? req->what : "aws");
	call->path = cbq_xstrdup(req->path ? req->path : "/");
	call->content_type = cbq_xstrdup(req->content_type);
	call->target = cbq_xstrdup(req->target);
	call->body = malloc(req->body_len + 1);
	if (!call->body)
		abort();
	if (req->body_len)
		memcpy(call->body, req->body, req->body_len);
	call->body[req->body_len] = '\0';
	call->body_len = req->body_len;
	call->done = done;
	call->arg = arg;
	call->started = cbq_clock_real_ms();
	call->timer = evtimer_new(c->base, on_kick, call);
	if (!call->timer)
		abort();
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	c->n_calls++;
	if ((unsigned)req->service >= AWS_SVC_COUNT) {
		struct cbq_error e;
		cbq_fail(&e, CBQ_ERR_INVALID, "service", "unknown AWS service");
		fail_later(call, AWS_ERRCLASS_FAIL, &e);
		return call;
	}
	kick(call, 0);
	return call;
}

void aws_call_cancel(struct aws_call *call)
{
	if (call)
		call_free(call);
}

void aws_client_set_own(struct aws_client *c, struct aws_creds_provider *own)
{
	c->own = own;
}

static void on_hook_assumed(const struct aws_call_result *r, void *arg)
{
	struct aws_call *call = arg;
	struct hook *h = call->hook;
	struct aws_sts_credentials sc = { 0 };
	struct cbq_error e = { 0 };

	if (r->code == CBQ_OK &&
	    aws_sts_parse_assume_role(r->body, r->body_len, &sc, &e) == CBQ_OK) {
		struct aws_credentials cred = { sc.access_key_id, sc.secret_access_key,
						sc.session_token };
		h->done(&cred, (cbq_ms)sc.expiration * 1000, NULL, h->arg);
		aws_sts_credentials_free(&sc);
		return;
	}
	if (r->code != CBQ_OK)
		e = *r->err;
	h->done(NULL, 0, &e, h->arg);
}

void aws_client_assume_hook(void *client, const struct aws_credentials *src,
			    const struct aws_creds_plan *role, cbq_ms now, aws_creds_done_fn done,
			    void *done_arg)
{
	struct aws_client *c = client;
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };
	char what[2200];
	struct aws_sts_assume_role_req req = {
		.role_arn = role->role_arn,
		.session_name = role->session_name[0] ? role->session_name : "cbqd",
		.external_id = role->external_id[0] ? role->external_id : NULL,
		.duration_seconds = role->duration_seconds,
	};

	(void)now;
	snprintf(what, sizeof(what), "sts:AssumeRole of %s", role->role_arn);
	if (aws_sts_assume_role_form(&req, &form, &err) != CBQ_OK) {
		/* done must run later: route the failure through a call */
		aws_form_free(&form);
	}
	struct aws_call_req sreq = sts_request(what, &form);
	struct aws_call *call = aws_call_start(c, &sreq, NULL, NULL);
	call->done = on_hook_assumed;
	call->arg = call;
	call->hook = cbq_xcalloc(1, sizeof(*call->hook));
	call->hook->done = done;
	call->hook->arg = done_arg;
	call->src_key = cbq_xstrdup(src->access_key_id);
	call->src_secret = cbq_xstrdup(src->secret_access_key);
	call->src_token = cbq_xstrdup(src->session_token);
	if (err.code != CBQ_OK)
		fail_later(call, AWS_ERRCLASS_FAIL, &err);
	aws_form_free(&form);
}

size_t aws_client_in_flight(const struct aws_client *c)
{
	return c->n_calls;
}
