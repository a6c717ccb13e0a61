/*
 * The credential provider and the shared-file loader; see creds.h. One
 * refresh at a time per provider, shared by every wait; results reach the
 * waits through a zero-delay event so nothing completes inside a call. It
 * does not sign, retry AWS calls or cache consumer roles.
 */
#include "aws/creds.h"

#include "core/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws/http.h"
#include "aws/xml.h" /* aws_parse_time */
#include "util/log.h"

enum {
	IMDS_TOKEN_TTL_S = 21600,
	IMDS_MAX_TOKEN = 4096, /* IMDS tokens are ~60 bytes */
	IMDS_MAX_ROLE = 128,   /* instance profile role names are <= 64 */
	IMDS_MAX_DOC = 64 * 1024,
	IMDS_STALE_MS = 15 * 60 * 1000, /* AWS.md §10.4: short-lived docs get now + 15 min + jitter
					 */
	BACKGROUND_RETRY_MS = 30 * 1000, /* after a failed background refresh */
};

enum imds_step { IMDS_PUT_TOKEN, IMDS_GET_ROLE, IMDS_GET_CREDS };

struct aws_creds_wait {
	struct aws_creds_provider *p;
	aws_creds_done_fn done;
	void *arg;
	bool delivering; /* in p->delivery, not p->waits */
	struct aws_creds_wait *prev, *next;
};

/* The done_arg of an assume hook call; outlives the provider if it must. */
struct ticket {
	struct aws_creds_provider *p; /* NULL once the provider is gone */
};

struct aws_creds_provider {
	struct event_base *base;
	struct aws_http *http;
	struct aws_creds_plan plan;
	aws_assume_fn assume;
	void *hook_arg;
	struct aws_creds_provider *source; /* ASSUME_ROLE: the credentials to assume with */
	struct event *kick;

	/* the cache */
	bool have;
	char *key_id, *secret, *token;
	cbq_ms expires; /* 0: never */
	struct aws_credentials creds;

	/* the refresh in progress */
	bool busy;
	cbq_ms now;		    /* the now it started with */
	cbq_ms quiet_until;	    /* no background refresh before (after a failure) */
	struct cbq_error result;    /* code CBQ_OK: the cache is the answer */
	struct aws_http_call *call; /* IMDS request in flight */
	enum imds_step step;
	int attempt;
	bool v1;
	char imds_token[IMDS_MAX_TOKEN + 1];
	char role[IMDS_MAX_ROLE + 1];
	long last_status; /* for messages: the last IMDS reply */
	enum aws_http_fail last_fail;
	struct aws_creds_wait *source_wait;
	struct ticket *ticket;

	struct aws_creds_wait *waits, *delivery;
	bool delivering, dead;
};

/* ---- waits */

static void link_wait(struct aws_creds_wait **head, struct aws_creds_wait *w)
{
	w->prev = NULL;
	w->next = *head;
	if (*head)
		(*head)->prev = w;
	*head = w;
}

static void unlink_wait(struct aws_creds_wait **head, struct aws_creds_wait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		*head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
}

void aws_creds_wait_cancel(struct aws_creds_wait *w)
{
	if (!w)
		return;
	unlink_wait(w->delivering ? &w->p->delivery : &w->p->waits, w);
	free(w);
}

/* ---- the cache */

static void cache_clear(struct aws_creds_provider *p)
{
	cbq_wipe_free(p->key_id);
	cbq_wipe_free(p->secret);
	cbq_wipe_free(p->token);
	p->key_id = p->secret = p->token = NULL;
	p->have = false;
	p->expires = 0;
	memset(&p->creds, 0, sizeof(p->creds));
}

static void cache_set(struct aws_creds_provider *p, const char *id, const char *secret,
		      const char *token, cbq_ms expires)
{
	cache_clear(p);
	p->key_id = cbq_xstrndup(id, strlen(id));
	p->secret = cbq_xstrndup(secret, strlen(secret));
	p->token = token && *token ? cbq_xstrndup(token, strlen(token)) : NULL;
	p->creds = (struct aws_credentials){
		.access_key_id = p->key_id,
		.secret_access_key = p->secret,
		.session_token = p->token,
	};
	p->expires = expires;
	p->have = true;
}

static bool valid_past(const struct aws_creds_provider *p, cbq_ms t)
{
	return p->have && (p->expires == 0 || p->expires > t);
}

/* ---- finishing a refresh */

/* Records the outcome and lets the loop deliver it. */
static void complete(struct aws_creds_provider *p, const struct cbq_error *err)
{
	if (err)
		p->result = *err;
	else
		cbq_error_clear(&p->result);
	event_active(p->kick, EV_TIMEOUT, 0);
}

static void complete_fail(struct aws_creds_provider *p, enum cbq_err code, const char *fmt, ...)
	CBQ_PRINTF(3, 4);
static void complete_fail(struct aws_creds_provider *p, enum cbq_err code, const char *fmt, ...)
{
	struct cbq_error e;
	va_list ap;

	va_start(ap, fmt);
	cbq_vfail(&e, code, "aws.credentials", fmt, ap);
	va_end(ap);
	complete(p, &e);
}

static void destroy(struct aws_creds_provider *p);

static void drop_waits(struct aws_creds_wait **head)
{
	while (*head) {
		struct aws_creds_wait *w = *head;
		unlink_wait(head, w);
		free(w);
	}
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct aws_creds_provider *p = arg;
	const struct cbq_error *err = NULL;
	bool ok = p->result.code == CBQ_OK;

	(void)fd;
	(void)what;
	p->busy = false;
	if (!ok) {
		char src[128], msg[300];
		cbq_log(CBQ_LOG_WARN, "aws_creds_refresh_failed", "source=%s error=%s",
			cbq_log_quote(src, sizeof(src), p->plan.source),
			cbq_log_quote(msg, sizeof(msg), p->result.msg));
		p->quiet_until = p->now + BACKGROUND_RETRY_MS;
		err = &p->result;
		/* Static stability: unexpired credentials beat none. */
		if (valid_past(p, p->now))
			err = NULL;
	}
	/* Deliver to the waits present now; later fetches start afresh. */
	p->delivery = p->waits;
	p->waits = NULL;
	for (struct aws_creds_wait *w = p->delivery; w; w = w->next)
		w->delivering = true;
	p->delivering = true;
	while (p->delivery && !p->dead) {
		struct aws_creds_wait *w = p->delivery;
		unlink_wait(&p->delivery, w);
		aws_creds_done_fn done = w->done;
		void *warg = w->arg;
		free(w);
		if (err)
			done(NULL, 0, err, warg);
		else
			done(&p->creds, p->expires, NULL, warg);
	}
	p->delivering = false;
	if (p->dead)
		destroy(p);
}

/* ---- IMDS (AWS.md §10.4) */

static void imds_send(struct aws_creds_provider *p);

static bool printable_token(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return n > 0;
}

/* A role name as IAM allows: [\w+=,.@-]. */
static bool role_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      strchr("_+=,.@-", c)))
			return false;
	}
	return n > 0 && n <= IMDS_MAX_ROLE;
}

static const char *step_path(enum imds_step s)
{
	switch (s) {
	case IMDS_PUT_TOKEN: return "/latest/api/token";
	case IMDS_GET_ROLE: return "/latest/meta-data/iam/security-credentials/";
	case IMDS_GET_CREDS: return "/latest/meta-data/iam/security-credentials/"; /* + role */
	}
	return "?";
}

static const char *fail_name(enum aws_http_fail f)
{
	switch (f) {
	case AWS_HTTP_OK: return "ok";
	case AWS_HTTP_CONNECT: return "cannot connect";
	case AWS_HTTP_TIMEOUT: return "timed out";
	case AWS_HTTP_TOO_LARGE: return "reply too large";
	case AWS_HTTP_IO: return "transport error";
	case AWS_HTTP_CANCELLED: return "cancelled";
	}
	return "?";
}

/* "HTTP 404" or "timed out", for messages. */
static const char *last_outcome(const struct aws_creds_provider *p, char *buf, size_t size)
{
	if (p->last_fail != AWS_HTTP_OK)
		return fail_name(p->last_fail);
	snprintf(buf, size, "HTTP %ld", p->last_status);
	return buf;
}

static void imds_fail(struct aws_creds_provider *p, const char *why)
{
	char o[32];

	complete_fail(p, CBQ_ERR_UNAVAILABLE,
		      "instance metadata %.100s: %s %s%s: %s after %d attempt%s",
		      p->plan.imds_endpoint, p->step == IMDS_PUT_TOKEN ? "PUT" : "GET",
		      step_path(p->step), p->step == IMDS_GET_CREDS ? p->role : "",
		      why ? why : last_outcome(p, o, sizeof(o)), p->attempt,
		      p->attempt == 1 ? "" : "s");
}

static void imds_next(struct aws_creds_provider *p, enum imds_step s)
{
	p->step = s;
	p->attempt = 0;
	imds_send(p);
}

/* The token PUT failed in a way botocore answers with IMDSv1. */
static void imds_fallback(struct aws_creds_provider *p)
{
	char o[32];

	if (p->plan.imds_v1_disabled) {
		complete_fail(p, CBQ_ERR_UNAVAILABLE,
			      "instance metadata %.100s: no IMDSv2 token (PUT /latest/api/token: %s) "
			      "and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED)",
			      p->plan.imds_endpoint, last_outcome(p, o, sizeof(o)));
		return;
	}
	p->v1 = true;
	imds_next(p, IMDS_GET_ROLE);
}

static void imds_token(struct aws_creds_provider *p, const struct aws_http_reply *r)
{
	if (r->fail == AWS_HTTP_OK && r->status == 200 && r->body_len <= IMDS_MAX_TOKEN &&
	    printable_token(r->body, r->body_len)) {
		memcpy(p->imds_token, r->body, r->body_len);
		p->imds_token[r->body_len] = '\0';
		p->v1 = false;
		imds_next(p, IMDS_GET_ROLE);
	} else if (r->fail == AWS_HTTP_OK &&
		   (r->status == 403 || r->status == 404 || r->status == 405)) {
		imds_fallback(p);
	} else if (r->fail == AWS_HTTP_TIMEOUT) {
		imds_fallback(p);
	} else if (r->fail == AWS_HTTP_OK && r->status == 400) {
		imds_fail(p, "HTTP 400 (bad request, not retried)");
	} else if (p->attempt < p->plan.imds_attempts) {
		imds_send(p);
	} else {
		imds_fallback(p); /* botocore: attempts used up means "no token" */
	}
}

/* A GET that did not give what it should: try again while attempts are
 * left, else fail with why (NULL: the last HTTP status or transport error). */
static void imds_retry(struct aws_creds_provider *p, const char *why)
{
	if (p->attempt < p->plan.imds_attempts)
		imds_send(p);
	else
		imds_fail(p, why);
}

static void imds_role(struct aws_creds_provider *p, const struct aws_http_reply *r)
{
	if (r->fail != AWS_HTTP_OK || r->status != 200 || r->body_len == 0) {
		imds_retry(p, r->fail == AWS_HTTP_OK && r->status == 404 ?
				      "HTTP 404: the instance has no IAM role" :
				      NULL);
		return;
	}
	/* One role per instance profile; take the first line. */
	size_t n = strcspn(r->body, "\r\n");
	while (n > 0 && (r->body[n - 1] == ' ' || r->body[n - 1] == '\t'))
		n--;
	if (!role_name_ok(r->body, n)) {
		imds_fail(p, "the reply is not an IAM role name");
		return;
	}
	memcpy(p->role, r->body, n);
	p->role[n] = '\0';
	imds_next(p, IMDS_GET_CREDS);
}

static const char *jstr(json_t *doc, const char *name)
{
	return json_string_value(json_object_get(doc, name));
}

static void imds_creds(struct aws_creds_provider *p, const struct aws_http_reply *r)
{
	json_t *doc = NULL;

	if (r->fail == AWS_HTTP_OK && r->status == 200 && r->body_len > 0)
		doc = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		imds_retry(p, r->fail == AWS_HTTP_OK && r->status == 200 ?
				      "the reply is not a JSON object" :
				      NULL);
		return;
	}
	const char *id = jstr(doc, "AccessKeyId"), *sk = jstr(doc, "SecretAccessKey");
	const char *tok = jstr(doc, "Token"), *exp = jstr(doc, "Expiration");
	int64_t exp_s;
	if (!id || !sk || !tok || !exp) {
		const char *code = jstr(doc, "Code");
		char c[64] = "";
		if (code && strlen(code) < 48 && printable_token(code, strlen(code)))
			snprintf(c, sizeof(c), " (Code %s)", code);
		complete_fail(p, CBQ_ERR_UNAUTHENTICATED,
			      "instance metadata %.100s: role %s: no credentials in the reply%s",
			      p->plan.imds_endpoint, p->role, c);
	} else if (strlen(id) > AWS_CONFIG_MAX_KEY || strlen(sk) > AWS_CONFIG_MAX_KEY ||
		   strlen(tok) > AWS_CONFIG_MAX_TOKEN || !printable_token(id, strlen(id)) ||
		   !printable_token(sk, strlen(sk)) || !printable_token(tok, strlen(tok))) {
		complete_fail(p, CBQ_ERR_INVALID,
			      "instance metadata %.100s: role %s: AccessKeyId, SecretAccessKey or "
			      "Token is empty, too long or not printable",
			      p->plan.imds_endpoint, p->role);
	} else if (!aws_parse_time(exp, &exp_s)) {
		complete_fail(p, CBQ_ERR_INVALID,
			      "instance metadata %.100s: role %s: Expiration is not an ISO 8601 time",
			      p->plan.imds_endpoint, p->role);
	} else {
		cbq_ms expires = exp_s * 1000;
		/* Already close to expiry: use them a while longer, as botocore does,
		 * with a jitter (here from the clock, not a random source). */
		if (expires - p->now < IMDS_STALE_MS)
			expires = p->now + IMDS_STALE_MS + (120 + (p->now / 1000) % 481) * 1000;
		cache_set(p, id, sk, tok, expires);
		complete(p, NULL);
	}
	/* jansson keeps its own copies; nothing else here holds the secret */
	json_decref(doc);
}

static void on_imds(const struct aws_http_reply *r, void *arg)
{
	struct aws_creds_provider *p = arg;

	p->call = NULL;
	p->last_fail = r->fail;
	p->last_status = r->status;
	if (r->fail == AWS_HTTP_CANCELLED) {
		imds_fail(p, "cancelled (the HTTP client is shutting down)");
		return;
	}
	switch (p->step) {
	case IMDS_PUT_TOKEN: imds_token(p, r); break;
	case IMDS_GET_ROLE: imds_role(p, r); break;
	case IMDS_GET_CREDS: imds_creds(p, r); break;
	}
}

static void imds_send(struct aws_creds_provider *p)
{
	char url[512], h[IMDS_MAX_TOKEN + 64];
	const char *headers[1];
	size_t n_headers = 0;
	struct cbq_error err = { 0 };

	p->attempt++;
	snprintf(url, sizeof(url), "%s%s%s", p->plan.imds_endpoint, step_path(p->step),
		 p->step == IMDS_GET_CREDS ? p->role : "");
	if (p->step == IMDS_PUT_TOKEN) {
		snprintf(h, sizeof(h), "x-aws-ec2-metadata-token-ttl-seconds: %d",
			 IMDS_TOKEN_TTL_S);
		headers[n_headers++] = h;
	} else if (!p->v1) {
		snprintf(h, sizeof(h), "x-aws-ec2-metadata-token: %s", p->imds_token);
		headers[n_headers++] = h;
	}
	struct aws_http_req req = {
		.method = p->step == IMDS_PUT_TOKEN ? "PUT" : "GET",
		.url = url,
		.headers = headers,
		.n_headers = n_headers,
		.connect_timeout_ms = p->plan.imds_timeout_ms,
		.timeout_ms = p->plan.imds_timeout_ms,
		.max_reply = p->step == IMDS_GET_CREDS ? IMDS_MAX_DOC : IMDS_MAX_TOKEN,
		.no_proxy = true,
	};
	p->call = aws_http_start(p->http, &req, on_imds, p, &err);
	if (!p->call)
		complete_fail(p, err.code ? err.code : CBQ_ERR_INTERNAL, "instance metadata: %s",
			      err.msg);
}

/* ---- assumed roles */

static void on_assumed(const struct aws_credentials *c, cbq_ms expires, const struct cbq_error *err,
		       void *arg)
{
	struct ticket *t = arg;
	struct aws_creds_provider *p = t->p;

	free(t);
	if (!p)
		return; /* the provider went away meanwhile */
	p->ticket = NULL;
	if (!c || !c->access_key_id || !c->secret_access_key) {
		complete_fail(p, err && err->code ? err->code : CBQ_ERR_UNAUTHENTICATED,
			      "assume role %.600s: %s", p->plan.role_arn,
			      err ? err->msg : "no credentials");
		return;
	}
	cache_set(p, c->access_key_id, c->secret_access_key, c->session_token, expires);
	complete(p, NULL);
}

static void assume_with(struct aws_creds_provider *p, const struct aws_credentials *src)
{
	struct aws_creds_plan role = p->plan; /* a view; the hook must not keep it */

	if (!role.session_name[0])
		snprintf(role.session_name, sizeof(role.session_name), "cbqd-%lld",
			 (long long)(p->now / 1000));
	p->ticket = cbq_xcalloc(1, sizeof(*p->ticket));
	p->ticket->p = p;
	p->assume(p->hook_arg, src, &role, p->now, on_assumed, p->ticket);
	explicit_bzero(&role, sizeof(role));
}

static void on_source(const struct aws_credentials *c, cbq_ms expires, const struct cbq_error *err,
		      void *arg)
{
	struct aws_creds_provider *p = arg;

	(void)expires;
	p->source_wait = NULL;
	if (!c) {
		complete_fail(p, err && err->code ? err->code : CBQ_ERR_UNAUTHENTICATED,
			      "role %.600s: its source (%s): %s", p->plan.role_arn,
			      p->source->plan.source, err ? err->msg : "no credentials");
		return;
	}
	assume_with(p, c);
}

/* ---- refresh */

static void start_refresh(struct aws_creds_provider *p, cbq_ms now)
{
	p->busy = true;
	p->now = now;
	switch (p->plan.kind) {
	case AWS_CREDS_STATIC:
		if (valid_past(p, now)) {
			complete(p, NULL);
		} else {
			char when[32] = "?";
			time_t t = (time_t)(p->expires / 1000);
			struct tm tm;
			if (gmtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			complete_fail(p, CBQ_ERR_UNAUTHENTICATED,
				      "the credentials from %s expired at %s: provide fresh ones "
				      "and reload",
				      p->plan.source, when);
		}
		break;
	case AWS_CREDS_IMDS:
		p->v1 = false;
		imds_next(p, IMDS_PUT_TOKEN);
		break;
	case AWS_CREDS_ASSUME_ROLE: {
		const struct aws_credentials *src = aws_creds_provider_peek(p->source, now);
		if (src)
			assume_with(p, src);
		else
			p->source_wait = aws_creds_provider_fetch(p->source, now, on_source, p);
		break;
	}
	case AWS_CREDS_NONE: complete_fail(p, CBQ_ERR_INTERNAL, "no credentials plan"); break;
	}
}

const struct aws_credentials *aws_creds_provider_peek(struct aws_creds_provider *p, cbq_ms now)
{
	if (!valid_past(p, now + AWS_CREDS_REFRESH_MS))
		return NULL;
	if (p->expires && p->expires <= now + AWS_CREDS_ADVISORY_MS &&
	    p->plan.kind != AWS_CREDS_STATIC && !p->busy && now >= p->quiet_until)
		start_refresh(p, now);
	return &p->creds;
}

struct aws_creds_wait *aws_creds_provider_fetch(struct aws_creds_provider *p, cbq_ms now,
						aws_creds_done_fn done, void *arg)
{
	struct aws_creds_wait *w = cbq_xcalloc(1, sizeof(*w));

	w->p = p;
	w->done = done;
	w->arg = arg;
	link_wait(&p->waits, w);
	if (!p->busy) {
		if (valid_past(p, now + AWS_CREDS_REFRESH_MS)) {
			p->busy = true; /* fresh already: just deliver from the loop */
			p->now = now;
			complete(p, NULL);
		} else {
			start_refresh(p, now);
		}
	}
	return w;
}

const char *aws_creds_provider_source(const struct aws_creds_provider *p)
{
	return p->plan.source;
}

/* ---- life cycle */

struct aws_creds_provider *aws_creds_provider_new(struct event_base *base, struct aws_http *http,
						  const struct aws_creds_plan *plan,
						  aws_assume_fn assume, void *hook_arg,
						  struct cbq_error *err)
{
	struct aws_creds_provider *p;

	if (!plan || plan->kind == AWS_CREDS_NONE) {
		cbq_fail(err, CBQ_ERR_INVALID, "aws.credentials", "no credentials plan");
		return NULL;
	}
	if (plan->kind == AWS_CREDS_ASSUME_ROLE && (!assume || !plan->source_plan)) {
		cbq_fail(err, CBQ_ERR_INVALID, "aws.credentials",
			 "%s: assuming role %.600s needs %s", plan->source, plan->role_arn,
			 assume ? "a source of credentials" : "the STS hook");
		return NULL;
	}
	p = cbq_xcalloc(1, sizeof(*p));
	p->base = base;
	p->http = http;
	p->assume = assume;
	p->hook_arg = hook_arg;
	p->kick = event_new(base, -1, 0, on_kick, p);
	if (!p->kick) {
		free(p);
		cbq_fail(err, CBQ_ERR_INTERNAL, "aws.credentials", "cannot create an event");
		return NULL;
	}
	aws_creds_plan_copy(&p->plan, plan);
	if (plan->kind == AWS_CREDS_STATIC)
		cache_set(p, plan->access_key_id, plan->secret_access_key, plan->session_token,
			  plan->expires);
	if (plan->kind == AWS_CREDS_ASSUME_ROLE &&
	    !(p->source = aws_creds_provider_new(base, http, plan->source_plan, assume, hook_arg,
						 err))) {
		destroy(p);
		return NULL;
	}
	return p;
}

static void destroy(struct aws_creds_provider *p)
{
	if (p->call)
		aws_http_cancel(p->call);
	if (p->source_wait)
		aws_creds_wait_cancel(p->source_wait);
	if (p->ticket)
		p->ticket->p = NULL; /* the hook frees it when it answers */
	aws_creds_provider_free(p->source);
	drop_waits(&p->waits);
	drop_waits(&p->delivery);
	event_free(p->kick);
	cache_clear(p);
	aws_creds_plan_free(&p->plan);
	explicit_bzero(p, sizeof(*p));
	free(p);
}

void aws_creds_provider_free(struct aws_creds_provider *p)
{
	if (!p)
		return;
	if (p->delivering) {
		p->dead = true; /* on_kick frees it when the callback returns */
		return;
	}
	destroy(p);
}

/* ---- startup */

const char *aws_env_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

enum cbq_err aws_file_read(const char *path, size_t max, const char *field, char **out, size_t *len,
			   struct cbq_error *err)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	enum cbq_err rc = CBQ_OK;
	int fd;

	if (!path || !*path) {
		*out = NULL;
		*len = 0;
		return CBQ_OK;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*out = NULL;
			*len = 0;
			return CBQ_OK;
		}
		return cbq_fail(err, CBQ_ERR_INVALID, field, "cannot open %.900s: %s", path,
				strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, field, "cannot stat %.900s: %s", path,
			      strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*out = NULL; /* a directory or a FIFO is no file to botocore either */
		*len = 0;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, field, "%.900s is %lld bytes, over %zu", path,
			      (long long)st.st_size, max);
		goto out;
	}
	buf = cbq_xcalloc(1, max + 2);
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = cbq_fail(err, CBQ_ERR_INVALID, field, "cannot read %.900s: %s", path,
				      strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, field, "%.900s is over %zu bytes",
				      path, max);
			goto out;
		}
	}
	if (memchr(buf, '\0', n)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, field, "%.900s holds a NUL byte", path);
		goto out;
	}
	*out = buf;
	*len = n;
	buf = NULL;
out:
	if (buf) {
		explicit_bzero(buf, n);
		free(buf);
	}
	close(fd);
	return rc;
}

void aws_file_free(char *text)
{
	cbq_wipe_free(text);
}

enum cbq_err aws_config_load(const struct aws_env *env, struct aws_config *out,
			     struct cbq_error *err)
{
	struct aws_config c = { 0 };
	char *cfg = NULL, *cred = NULL;
	size_t n;
	enum cbq_err rc;

	if ((rc = aws_config_files(env, &c, err)) ||
	    (rc = aws_file_read(c.config_file, AWS_CREDS_MAX_FILE, "aws.config_file", &cfg, &n,
				err)) ||
	    (rc = aws_file_read(c.credentials_file, AWS_CREDS_MAX_FILE, "aws.credentials_file",
				&cred, &n, err)) ||
	    (rc = aws_config_resolve(env, cfg, cred, &c, err)))
		goto out;
	*out = c;
	memset(&c, 0, sizeof(c)); /* the plan now belongs to *out */
out:
	aws_config_free(&c);
	aws_file_free(cfg);
	aws_file_free(cred);
	return rc;
}
