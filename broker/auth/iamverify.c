/*
 * IAM token verifier; see iamverify.h. A check is: parse and check the
 * token (pure), look its SHA-256 up in the cache, join a flight (one STS
 * call per distinct token in flight), or start one if under the cap. Waits
 * that finish without STS are delivered from a zero-delay event, so no
 * callback ever runs inside auth_iam_verify.
 */
#include "auth/iamverify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth/iamtoken.h"
#include "aws/http.h"
#include "aws/xml.h"
#include "core/alloc.h"
#include "util/clock.h"
#include "util/log.h"

struct auth_iam_wait;
TAILQ_HEAD(wait_q, auth_iam_wait);

struct flight;

struct auth_iam_wait {
	struct auth_iam_verifier *v;
	struct wait_q *q; /* the queue it is on: a flight's, ready, or a delivery batch */
	TAILQ_ENTRY(auth_iam_wait) link;
	auth_iam_done_fn *done;
	void *arg;
	/* for a ready wait: the outcome */
	bool ok;
	struct auth_iam_identity id;
	struct cbq_error err;
};

struct flight {
	struct auth_iam_verifier *v;
	LIST_ENTRY(flight) link;
	unsigned char key[32];
	cbq_ms date_limit; /* X-Amz-Date + 15 min: no answer is cached past it */
	struct aws_http_call *call;
	struct wait_q waits;
	char url[600];
};

struct entry {
	unsigned char key[32];
	cbq_ms expires;
	char account[13];
	char *arn;
	char *user_id;
};

struct auth_iam_verifier {
	struct event_base *base;
	struct aws_http *http;
	struct event *kick;
	struct wait_q ready;
	LIST_HEAD(, flight) flights;
	size_t inflight;
	char server_id[AUTH_IAM_MAX_SERVER_ID + 1];
	char endpoint_url[512]; /* scheme://host[:port], no trailing '/'; "" for none */
	char endpoint_host[AUTH_IAM_MAX_HOST + 1];
	char *ca_file;
	int max_inflight;
	long timeout_ms;
	struct entry *cache;
	size_t n_cache, max_cache;
	struct auth_iam_stats stats;
};

/* ---- settings */

static bool loopback_host(const char *h)
{
	return strcmp(h, "localhost") == 0 || strncmp(h, "127.", 4) == 0 ||
	       strcmp(h, "[::1]") == 0 || strcmp(h, "::1") == 0;
}

/* iam_sts_endpoint → url and host, as aws/config.c writes an endpoint's. */
static enum cbq_err parse_endpoint(struct auth_iam_verifier *v, const char *in,
				   struct cbq_error *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL, *user = NULL;
	enum cbq_err rc = CBQ_OK;

	if (!u)
		abort();
	if (curl_url_set(u, CURLUPART_URL, in, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "iam_sts_endpoint",
			      "iam_sts_endpoint is not a URL like https://sts.example.com or "
			      "http://127.0.0.1:4566");
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	curl_url_get(u, CURLUPART_USER, &user, 0);
	bool https = strcasecmp(scheme, "https") == 0;
	if (!https && strcasecmp(scheme, "http") != 0) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "iam_sts_endpoint",
			      "iam_sts_endpoint must start with https:// (or http:// on loopback)");
		goto out;
	}
	if ((path && strcmp(path, "/") != 0) || query || user) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "iam_sts_endpoint",
			      "iam_sts_endpoint must be scheme://host[:port] without a path, query "
			      "or user (STS answers on /)");
		goto out;
	}
	for (char *p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!https && !loopback_host(host)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "iam_sts_endpoint",
			      "iam_sts_endpoint may use plain http:// only on a loopback host (a "
			      "test STS); use https://");
		goto out;
	}
	char hostport[AUTH_IAM_MAX_HOST + 16];
	long pn = port ? strtol(port, NULL, 10) : 0;
	if (pn && pn != (https ? 443 : 80))
		snprintf(hostport, sizeof(hostport), "%s:%ld", host, pn);
	else
		snprintf(hostport, sizeof(hostport), "%s", host);
	if (strlen(hostport) > AUTH_IAM_MAX_HOST ||
	    (size_t)snprintf(v->endpoint_url, sizeof(v->endpoint_url), "%s://%s",
			     https ? "https" : "http", hostport) >= sizeof(v->endpoint_url)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "iam_sts_endpoint",
			      "iam_sts_endpoint is too long");
		goto out;
	}
	snprintf(v->endpoint_host, sizeof(v->endpoint_host), "%s", hostport);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

/* ---- delivery */

static void deliver(struct auth_iam_wait *w)
{
	if (w->ok)
		w->done(w->arg, &w->id, NULL);
	else
		w->done(w->arg, NULL, &w->err);
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

/* Delivers every wait on q (emptied first, so callbacks may cancel others
 * on it or start new checks). */
static void deliver_all(struct wait_q *q)
{
	struct wait_q batch = TAILQ_HEAD_INITIALIZER(batch);
	struct auth_iam_wait *w;

	TAILQ_CONCAT(&batch, q, link);
	TAILQ_FOREACH (w, &batch, link)
		w->q = &batch;
	while ((w = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, w, link);
		w->q = NULL;
		deliver(w);
	}
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct auth_iam_verifier *v = arg;

	(void)fd;
	(void)what;
	deliver_all(&v->ready);
}

/* Queues w with its outcome for delivery from the loop. */
static struct auth_iam_wait *ready(struct auth_iam_wait *w)
{
	TAILQ_INSERT_TAIL(&w->v->ready, w, link);
	w->q = &w->v->ready;
	event_active(w->v->kick, EV_TIMEOUT, 0);
	return w;
}

static struct auth_iam_wait *ready_err(struct auth_iam_wait *w, const struct cbq_error *err)
{
	w->ok = false;
	w->err = *err;
	return ready(w);
}

/* ---- cache */

static void entry_clear(struct entry *e)
{
	free(e->arn);
	free(e->user_id);
	memset(e, 0, sizeof(*e));
}

static const struct entry *cache_find(struct auth_iam_verifier *v, const unsigned char key[32],
				      cbq_ms now)
{
	for (size_t i = 0; i < v->n_cache; i++)
		if (v->cache[i].expires > now && memcmp(v->cache[i].key, key, 32) == 0)
			return &v->cache[i];
	return NULL;
}

static void cache_put(struct auth_iam_verifier *v, const unsigned char key[32], cbq_ms expires,
		      const struct auth_iam_identity *id, cbq_ms now)
{
	size_t slot = v->n_cache;

	/* drop what has expired, then if still full the soonest to expire */
	for (size_t i = 0; i < v->n_cache;) {
		if (v->cache[i].expires <= now) {
			entry_clear(&v->cache[i]);
			v->cache[i] = v->cache[--v->n_cache];
			memset(&v->cache[v->n_cache], 0, sizeof(v->cache[0]));
		} else {
			i++;
		}
	}
	slot = v->n_cache;
	if (slot == v->max_cache) {
		slot = 0;
		for (size_t i = 1; i < v->n_cache; i++)
			if (v->cache[i].expires < v->cache[slot].expires)
				slot = i;
		entry_clear(&v->cache[slot]);
	} else {
		v->n_cache++;
	}
	struct entry *e = &v->cache[slot];
	memcpy(e->key, key, 32);
	e->expires = expires;
	memcpy(e->account, id->account, sizeof(e->account));
	e->arn = cbq_xstrdup(id->arn);
	e->user_id = cbq_xstrdup(id->user_id);
}

/* ---- the STS call */

/* At most the first 60 bytes of an AWS error message, cut before anything
 * that may echo the request (some services quote the Authorization header
 * or the canonical request, which holds the session token). */
static const char *safe_excerpt(const char *msg, char *out, size_t size)
{
	static const char *const stops[] = {
		"Authorization", "Canonical", "canonical", "String to sign",
		"StringToSign",	 "'",	      "\n"
	};
	size_t n = strlen(msg);

	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		const char *p = strstr(msg, stops[i]);
		if (p && (size_t)(p - msg) < n)
			n = (size_t)(p - msg);
	}
	if (n > 60)
		n = 60;
	if (n >= size)
		n = size - 1;
	memcpy(out, msg, n);
	out[n] = '\0';
	return out;
}

/* What STS's answer means for the caller. */
static bool sts_outcome(const struct flight *f, const struct aws_http_reply *r,
			struct auth_iam_identity *id, struct cbq_error *err)
{
	if (r->fail == AWS_HTTP_CANCELLED) {
		cbq_fail(err, CBQ_ERR_UNAVAILABLE, NULL, "cbqd is stopping; retry");
		return false;
	}
	if (r->fail != AWS_HTTP_OK) {
		cbq_fail(err, CBQ_ERR_UNAVAILABLE, NULL,
			 "AWS STS (%.120s) could not be reached to check the IAM token: %.80s; "
			 "retry shortly",
			 f->url, r->detail[0] ? r->detail : "no reply");
		return false;
	}
	if (r->status >= 200 && r->status <= 299) {
		struct aws_sts_identity s = { 0 };
		struct cbq_error perr = { 0 };
		if (aws_sts_parse_caller_identity(r->body, r->body_len, &s, &perr) != CBQ_OK) {
			cbq_fail(err, CBQ_ERR_UNAVAILABLE, NULL,
				 "AWS STS answered GetCallerIdentity with a reply cbqd cannot read "
				 "(%.100s); retry",
				 perr.msg);
			return false;
		}
		memset(id, 0, sizeof(*id));
		snprintf(id->account, sizeof(id->account), "%s", s.account);
		snprintf(id->arn, sizeof(id->arn), "%s", s.arn);
		snprintf(id->user_id, sizeof(id->user_id), "%s", s.user_id ? s.user_id : "");
		aws_sts_identity_free(&s);
		return true;
	}

	struct aws_error_reply er;
	char said[64];
	aws_error_parse(r->body, r->body_len, r->status, &er);
	safe_excerpt(er.message, said, sizeof(said));
	if (strcmp(er.code, "SignatureDoesNotMatch") == 0)
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "AWS STS rejected the token's signature (SignatureDoesNotMatch): the AWS "
			 "secret key that signed it is wrong, or the token was altered; check your "
			 "AWS credentials and run cbq again [STS: %s]",
			 said);
	else if (strcmp(er.code, "InvalidClientTokenId") == 0)
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "AWS STS does not know the access key that signed the token "
			 "(InvalidClientTokenId): check AWS_PROFILE / AWS_ACCESS_KEY_ID, or whether "
			 "the key was deleted");
	else if (strcmp(er.code, "ExpiredToken") == 0 ||
		 strcmp(er.code, "ExpiredTokenException") == 0)
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "the AWS session credentials that signed the token have expired "
			 "(ExpiredToken): refresh them (aws sso login, assume the role again) and "
			 "run cbq again");
	else if (!er.code[0] || aws_error_classify(er.code, r->status) == AWS_ERRCLASS_RETRY)
		cbq_fail(err, CBQ_ERR_UNAVAILABLE, NULL,
			 "AWS STS could not check the IAM token (%s, HTTP %ld); retry shortly",
			 er.code[0] ? er.code : "no AWS error code", r->status);
	else
		cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
			 "AWS STS refused the IAM token: %.40s (HTTP %ld): %s", er.code, r->status,
			 said);
	return false;
}

static void flight_done(const struct aws_http_reply *r, void *arg)
{
	struct flight *f = arg;
	struct auth_iam_verifier *v = f->v;
	struct auth_iam_identity id;
	struct cbq_error err = { 0 };
	struct auth_iam_wait *w;
	bool ok = sts_outcome(f, r, &id, &err);
	cbq_ms now = cbq_clock_real_ms();

	f->call = NULL;
	v->inflight--;
	LIST_REMOVE(f, link);
	if (ok) {
		cbq_ms until = now + AUTH_IAM_CACHE_TTL_MS;
		if (f->date_limit < until)
			until = f->date_limit;
		if (until > now)
			cache_put(v, f->key, until, &id, now);
		cbq_log(CBQ_LOG_INFO, "iam_verified", "account=%s principal=%s", id.account,
			cbq_log_q(id.arn));
	} else {
		cbq_log(err.code == CBQ_ERR_UNAVAILABLE ? CBQ_LOG_WARN : CBQ_LOG_INFO,
			"iam_refused", "status=%ld error=%s", r->status, cbq_log_q(err.msg));
	}
	TAILQ_FOREACH (w, &f->waits, link) {
		w->ok = ok;
		if (ok)
			w->id = id;
		else
			w->err = err;
	}
	deliver_all(&f->waits);
	free(f);
}

/* Starts the replay of t; false with *err when aws_http refuses it. */
static bool flight_start(struct auth_iam_verifier *v, struct flight *f,
			 const struct auth_iam_token *t, struct cbq_error *err)
{
	char *lines[6];
	size_t n = 0;
	bool ok;

	if (v->endpoint_host[0] && strcasecmp(t->host, v->endpoint_host) == 0)
		snprintf(f->url, sizeof(f->url), "%s/", v->endpoint_url);
	else
		snprintf(f->url, sizeof(f->url), "https://%s/", t->host);
	lines[n++] = cbq_xmalloc(strlen(t->host) + 8);
	sprintf(lines[n - 1], "Host: %s", t->host);
	lines[n++] = cbq_xstrdup("Content-Type: " AUTH_IAM_CONTENT_TYPE);
	lines[n++] = cbq_xmalloc(32);
	sprintf(lines[n - 1], "X-Amz-Date: %s", t->amz_date);
	if (t->security_token[0]) {
		lines[n++] = cbq_xmalloc(strlen(t->security_token) + 32);
		sprintf(lines[n - 1], "X-Amz-Security-Token: %s", t->security_token);
	}
	lines[n++] = cbq_xmalloc(strlen(v->server_id) + 32);
	sprintf(lines[n - 1], AUTH_IAM_SERVER_ID_HEADER ": %s", v->server_id);
	lines[n++] = cbq_xmalloc(strlen(t->authorization) + 32);
	sprintf(lines[n - 1], "Authorization: %s", t->authorization);

	struct aws_http_req req = {
		.method = "POST",
		.url = f->url,
		.headers = (const char *const *)lines,
		.n_headers = n,
		.body = AUTH_IAM_BODY,
		.body_len = strlen(AUTH_IAM_BODY),
		.timeout_ms = v->timeout_ms,
		.max_reply = AUTH_IAM_STS_MAX_REPLY,
		.ca_file = v->ca_file,
	};
	f->call = aws_http_start(v->http, &req, flight_done, f, err);
	ok = f->call != NULL;
	for (size_t i = 0; i < n; i++)
		cbq_wipe_free(lines[i]);
	return ok;
}

/* ---- the interface */

struct auth_iam_verifier *auth_iam_verifier_new(struct event_base *base,
						const struct auth_iam_settings *s,
						struct cbq_error *err)
{
	struct auth_iam_verifier *v = cbq_xcalloc(1, sizeof(*v));

	v->base = base;
	TAILQ_INIT(&v->ready);
	LIST_INIT(&v->flights);
	v->max_inflight = s->max_inflight > 0 ? s->max_inflight : AUTH_IAM_DEFAULT_INFLIGHT;
	v->max_cache = s->max_cache > 0 ? s->max_cache : AUTH_IAM_CACHE_DEFAULT;
	v->timeout_ms = s->timeout_ms > 0 ? s->timeout_ms : AUTH_IAM_STS_TIMEOUT_MS;
	if (!s->server_id || !s->server_id[0] || strlen(s->server_id) > AUTH_IAM_MAX_SERVER_ID ||
	    strspn(s->server_id, "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") != strlen(s->server_id)) {
		cbq_fail(err, CBQ_ERR_INVALID, "iam_server_id",
			 "iam_server_id must be 1-%d visible ASCII characters without spaces",
			 AUTH_IAM_MAX_SERVER_ID);
		goto fail;
	}
	snprintf(v->server_id, sizeof(v->server_id), "%s", s->server_id);
	if (s->sts_endpoint && s->sts_endpoint[0] && parse_endpoint(v, s->sts_endpoint, err))
		goto fail;
	v->ca_file = s->ca_file ? cbq_xstrdup(s->ca_file) : NULL;
	v->cache = cbq_xcalloc(v->max_cache, sizeof(v->cache[0]));
	v->kick = event_new(base, -1, 0, on_kick, v);
	if (!v->kick) {
		cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "cannot create an event");
		goto fail;
	}
	v->http = aws_http_new(base, err);
	if (!v->http)
		goto fail;
	return v;
fail:
	auth_iam_verifier_free(v);
	return NULL;
}

void auth_iam_verifier_free(struct auth_iam_verifier *v)
{
	if (!v)
		return;
	/* cancelled calls answer "cbqd is stopping" to their waits from here */
	aws_http_free(v->http);
	v->http = NULL;
	deliver_all(&v->ready);
	if (v->kick)
		event_free(v->kick);
	for (size_t i = 0; i < v->n_cache; i++)
		entry_clear(&v->cache[i]);
	free(v->cache);
	free(v->ca_file);
	free(v);
}

struct auth_iam_wait *auth_iam_verify(struct auth_iam_verifier *v, const char *token, size_t len,
				      cbq_ms now_real, auth_iam_done_fn *done, void *arg)
{
	struct auth_iam_wait *w = cbq_xcalloc(1, sizeof(*w));
	struct auth_iam_token *t = NULL;
	struct cbq_error err = { 0 };
	unsigned char key[32];
	unsigned int klen = 0;
	struct flight *f;

	w->v = v;
	w->done = done;
	w->arg = arg;

	t = cbq_xmalloc(sizeof(*t));
	struct auth_iam_policy policy = { v->server_id, v->endpoint_host };
	if (auth_iam_token_parse(token, len, t, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_INFO, "iam_refused", "reason=malformed");
		ready_err(w, &err);
		goto out;
	}
	enum auth_iam_verdict verdict = auth_iam_token_check(t, &policy, now_real / 1000, &err);
	if (verdict != AUTH_IAM_OK) {
		cbq_log(CBQ_LOG_INFO, "iam_refused", "reason=%s", auth_iam_verdict_name(verdict));
		ready_err(w, &err);
		goto out;
	}
	if (!EVP_Digest(token, len, key, &klen, EVP_sha256(), NULL) || klen != 32)
		abort();

	const struct entry *e = cache_find(v, key, now_real);
	if (e) {
		v->stats.cache_hits++;
		w->ok = true;
		memcpy(w->id.account, e->account, sizeof(w->id.account));
		snprintf(w->id.arn, sizeof(w->id.arn), "%s", e->arn);
		snprintf(w->id.user_id, sizeof(w->id.user_id), "%s", e->user_id);
		w->id.cached = true;
		ready(w);
		goto out;
	}
	LIST_FOREACH (f, &v->flights, link)
		if (memcmp(f->key, key, 32) == 0)
			break;
	if (f) {
		v->stats.shared++;
		TAILQ_INSERT_TAIL(&f->waits, w, link);
		w->q = &f->waits;
		goto out;
	}
	if (v->inflight >= (size_t)v->max_inflight) {
		cbq_fail(&err, CBQ_ERR_UNAVAILABLE, NULL,
			 "cbqd is already checking %d IAM tokens with AWS STS (iam_max_inflight); "
			 "retry in a second",
			 v->max_inflight);
		cbq_log(CBQ_LOG_WARN, "iam_busy", "inflight=%zu", v->inflight);
		ready_err(w, &err);
		goto out;
	}
	f = cbq_xcalloc(1, sizeof(*f));
	f->v = v;
	memcpy(f->key, key, 32);
	f->date_limit = t->signed_at * 1000 + AUTH_IAM_CACHE_TTL_MS;
	TAILQ_INIT(&f->waits);
	if (!flight_start(v, f, t, &err)) {
		free(f);
		ready_err(w, &err);
		goto out;
	}
	LIST_INSERT_HEAD(&v->flights, f, link);
	v->inflight++;
	v->stats.sts_calls++;
	TAILQ_INSERT_TAIL(&f->waits, w, link);
	w->q = &f->waits;
out:
	auth_iam_token_wipe(t);
	free(t);
	return w;
}

void auth_iam_wait_cancel(struct auth_iam_wait *w)
{
	if (!w)
		return;
	if (w->q)
		TAILQ_REMOVE(w->q, w, link);
	/* a flight left without waits still finishes and fills the cache */
	OPENSSL_cleanse(w, sizeof(*w));
	free(w);
}

const char *auth_iam_endpoint_host(const struct auth_iam_verifier *v)
{
	return v->endpoint_host;
}

void auth_iam_verifier_stats(const struct auth_iam_verifier *v, struct auth_iam_stats *out)
{
	*out = v->stats;
	out->cached = v->n_cache;
	out->inflight = v->inflight;
}
