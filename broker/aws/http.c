/*
 * libcurl multi on libevent: curl tells us which sockets to watch and when to
 * wake it (socket and timer callbacks); libevent tells curl when they are
 * ready. Completions are collected only from event callbacks, so a done
 * callback never runs inside aws_http_start(). See http.h.
 */
#include "aws/http.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

struct aws_http {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct aws_http_call *calls; /* in flight, doubly linked */
	size_t n_calls, peak_calls;
	aws_http_sent_fn sent; /* or NULL */
	void *sent_arg;
};

struct aws_http_call {
	struct aws_http *h;
	struct aws_http_call *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	size_t body_len;
	char *reply;
	size_t reply_len, reply_cap, max_reply;
	bool too_large;
	char error_type[128];
	char request_id[128];
	char errbuf[CURL_ERROR_SIZE];
	aws_http_done_fn done;
	void *arg;
};

/* The event watching one socket curl asked about. */
struct watch {
	struct event *ev;
};

/* ---- completions --------------------------------------------------------- */

static void unlink_call(struct aws_http_call *c)
{
	struct aws_http *h = c->h;

	if (c->prev)
		c->prev->next = c->next;
	else
		h->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->n_calls--;
}

static void free_call(struct aws_http_call *c)
{
	curl_easy_cleanup(c->easy);
	curl_slist_free_all(c->headers);
	/* request and reply may hold credentials (AssumeRole, IMDS) */
	if (c->body)
		explicit_bzero(c->body, c->body_len);
	if (c->reply)
		explicit_bzero(c->reply, c->reply_cap);
	free(c->body);
	free(c->reply);
	free(c);
}

static enum aws_http_fail fail_of(const struct aws_http_call *c, CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return AWS_HTTP_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return AWS_HTTP_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return AWS_HTTP_TIMEOUT;
	case CURLE_WRITE_ERROR:
		return c->too_large ? AWS_HTTP_TOO_LARGE : AWS_HTTP_IO;
	default:
		return AWS_HTTP_IO;
	}
}

/* Detaches c from the multi handle, runs its callback, frees it. */
static void finish(struct aws_http_call *c, enum aws_http_fail fail)
{
	struct aws_http_reply r = {
		.fail = fail,
		.body = c->reply ? c->reply : "",
		.body_len = c->reply_len,
		.error_type = c->error_type,
		.request_id = c->request_id,
		.detail = fail == AWS_HTTP_OK ? "" : c->errbuf,
	};
	curl_off_t us = 0;

	curl_multi_remove_handle(c->h->multi, c->easy);
	unlink_call(c);
	if (fail == AWS_HTTP_OK)
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r.status);
	if (curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
		r.elapsed_ms = (long)(us / 1000);
	if (fail == AWS_HTTP_TOO_LARGE)
		snprintf(c->errbuf, sizeof(c->errbuf), "reply over %zu bytes", c->max_reply);
	else if (fail == AWS_HTTP_CANCELLED)
		snprintf(c->errbuf, sizeof(c->errbuf), "cancelled at shutdown");
	c->done(&r, c->arg);
	free_call(c);
}

static void collect(struct aws_http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct aws_http_call *c = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
		if (c)
			finish(c, fail_of(c, m->data.result));
	}
}

/* ---- curl <-> libevent ---------------------------------------------------- */

static void on_socket_ready(evutil_socket_t fd, short what, void *arg)
{
	struct aws_http *h = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(h->multi, fd, flags, &running);
	collect(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct aws_http *h = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(h);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct aws_http *h = userp;
	struct watch *w = socketp;
	short events;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			event_free(w->ev);
			free(w);
			curl_multi_assign(h->multi, s, NULL);
		}
		return 0;
	}
	events = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		 (what & CURL_POLL_OUT ? EV_WRITE : 0);
	if (!w) {
		w = cbq_xcalloc(1, sizeof(*w));
		curl_multi_assign(h->multi, s, w);
	} else {
		event_free(w->ev);
	}
	w->ev = event_new(h->base, s, events, on_socket_ready, h);
	if (!w->ev)
		abort();
	event_add(w->ev, NULL);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct aws_http *h = userp;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(h->timer);
	} else {
		/* 0 means "now": still go through the loop so that nothing
		 * completes inside aws_http_start(). */
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
		evtimer_add(h->timer, &tv);
	}
	return 0;
}

/* ---- reply capture ------------------------------------------------------- */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userp)
{
	struct aws_http_call *c = userp;
	size_t n = size * nmemb;

	if (n > c->max_reply - c->reply_len) {
		c->too_large = true;
		return 0; /* CURLE_WRITE_ERROR */
	}
	if (c->reply_len + n + 1 > c->reply_cap) {
		size_t cap = c->reply_cap ? c->reply_cap : 4096;

		while (cap < c->reply_len + n + 1)
			cap *= 2;
		char *p = realloc(c->reply, cap);
		if (!p)
			abort();
		c->reply = p;
		c->reply_cap = cap;
	}
	memcpy(c->reply + c->reply_len, ptr, n);
	c->reply_len += n;
	c->reply[c->reply_len] = '\0';
	return n;
}

/* Copies the value of header line "Name: value\r\n" into out when its name is
 * name (any case). */
static void take_header(const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t nl = strlen(name), i, j;

	if (len <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
		return;
	for (i = nl + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (j = len; j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' '); j--)
		;
	if (j - i >= size)
		j = i + size - 1;
	memcpy(out, line + i, j - i);
	out[j - i] = '\0';
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *userp)
{
	struct aws_http_call *c = userp;
	size_t n = size * nmemb;

	if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100) */
		c->error_type[0] = c->request_id[0] = '\0';
		return n;
	}
	take_header(line, n, "x-amzn-ErrorType", c->error_type, sizeof(c->error_type));
	take_header(line, n, "x-amzn-RequestId", c->request_id, sizeof(c->request_id));
	take_header(line, n, "x-amz-request-id", c->request_id, sizeof(c->request_id));
	return n;
}

/* ---- public -------------------------------------------------------------- */

struct aws_http *aws_http_new(struct event_base *base, struct cbq_error *err)
{
	struct aws_http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "libcurl failed to initialise");
		return NULL;
	}
	h = cbq_xcalloc(1, sizeof(*h));
	h->base = base;
	h->multi = curl_multi_init();
	h->timer = evtimer_new(base, on_timer, h);
	if (!h->multi || !h->timer)
		abort();
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	return h;
}

void aws_http_free(struct aws_http *h)
{
	if (!h)
		return;
	while (h->calls)
		finish(h->calls, AWS_HTTP_CANCELLED);
	curl_multi_cleanup(h->multi);
	event_free(h->timer);
	free(h);
}

void aws_http_cancel(struct aws_http_call *c)
{
	if (!c)
		return;
	curl_multi_remove_handle(c->h->multi, c->easy);
	unlink_call(c);
	free_call(c);
}

size_t aws_http_in_flight(const struct aws_http *h)
{
	return h->n_calls;
}

size_t aws_http_in_flight_peak(const struct aws_http *h)
{
	return h->peak_calls;
}

void aws_http_set_sent_hook(struct aws_http *h, aws_http_sent_fn fn, void *arg)
{
	h->sent = fn;
	h->sent_arg = arg;
}

static bool method_ok(const char *m)
{
	return m && (strcmp(m, "GET") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0);
}

struct aws_http_call *aws_http_start(struct aws_http *h, const struct aws_http_req *req,
				     aws_http_done_fn done, void *arg, struct cbq_error *err)
{
	struct aws_http_call *c;
	CURL *e;

	if (!method_ok(req->method)) {
		cbq_fail(err, CBQ_ERR_INVALID, "method", "HTTP method must be GET, PUT or POST");
		return NULL;
	}
	if (req->n_headers > AWS_HTTP_MAX_HEADERS) {
		cbq_fail(err, CBQ_ERR_INVALID, "headers", "at most %d request headers",
			 AWS_HTTP_MAX_HEADERS);
		return NULL;
	}
	if (!req->url || (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0)) {
		cbq_fail(err, CBQ_ERR_INVALID, "url", "URL must start with http:// or https://");
		return NULL;
	}
	e = curl_easy_init();
	if (!e)
		abort();
	c = cbq_xcalloc(1, sizeof(*c));
	c->h = h;
	c->easy = e;
	c->done = done;
	c->arg = arg;
	c->max_reply = req->max_reply ? req->max_reply : AWS_HTTP_MAX_REPLY;

	for (size_t i = 0; i < req->n_headers; i++)
		c->headers = curl_slist_append(c->headers, req->headers[i]);
	/* no "Expect: 100-continue" round trip; no Accept header curl invents */
	c->headers = curl_slist_append(c->headers, "Expect:");
	if (!c->headers)
		abort();

	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms > 0 ? req->connect_timeout_ms
						     : (long)AWS_HTTP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
			 req->timeout_ms > 0 ? req->timeout_ms : (long)AWS_HTTP_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)c);
	if (req->no_proxy)
		curl_easy_setopt(e, CURLOPT_PROXY, "");
	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);

	if (strcmp(req->method, "POST") == 0 || req->body) {
		c->body = cbq_xmalloc(req->body_len + 1);
		if (req->body_len)
			memcpy(c->body, req->body, req->body_len);
		c->body[req->body_len] = '\0';
		c->body_len = req->body_len;
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (strcmp(req->method, "POST") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);

	c->next = h->calls;
	if (h->calls)
		h->calls->prev = c;
	h->calls = c;
	h->n_calls++;
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		unlink_call(c);
		free_call(c);
		cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "libcurl refused the request");
		return NULL;
	}
	if (h->n_calls > h->peak_calls)
		h->peak_calls = h->n_calls;
	if (h->sent)
		h->sent(h->sent_arg, req);
	return c;
}
