/*
 * HTTPS server (see server.h and call.h). evhttp parses HTTP/1.1 and keeps
 * connections alive; each connection is an OpenSSL bufferevent. A request
 * becomes a struct api_call that lives until its one reply, even when the
 * client goes away first (the connection's close callback marks it dead).
 */
#include "api/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "api/call.h"
#include "api/codec.h"
#include "api/listen.h"
#include "api/ratelimit.h"
#include "auth/iamtoken.h"
#include "auth/iamverify.h"
#include "core/alloc.h"
#include "core/job.h"
#include "engine.h"
#include "util/clock.h"
#include "util/log.h"

struct api_server {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *listener;
	SSL_CTX *tls; /* for new connections; open ones hold their own reference */
	struct engine *engine;
	struct api_ratelimit *rate;
	unsigned rate_per_team, rate_burst;
	bool dev_auth;
	struct auth_iam_verifier *iam; /* NULL: IAM identity off */
	int inflight;
	/* connections: counted from the bevcb to the SSL's ex_data free */
	int conn_index; /* SSL ex_data index of a connection's struct conn */
	int conns, max_conns;
	bool paused;    /* the listener is off: conns reached max_conns */
	int request_timeout_s;
};

/* One accepted connection, owned by its SSL object (ex_data): freed when
 * evhttp frees the bufferevent, whatever the reason. */
struct conn {
	struct api_server *srv;
	struct bufferevent *bev;
	struct evbuffer_cb_entry *on_input;
	struct event *deadline; /* the request (or handshake) must be in by then */
	bool busy;              /* a request is being handled: no deadline */
};

struct api_call {
	struct api_server *srv;
	struct evhttp_request *req; /* NULL once the client is gone */
	struct evhttp_connection *evcon;
	struct caller caller;
	api_handler_fn *handler;
	char path_id[32];
	struct evkeyvalq query;
	uint8_t *body;
	size_t body_len;
	const char *method_name;
	char path[128];
	bool admin_only; /* an R_OPS route reached from elsewhere than loopback */
	bool team_hint;	 /* the route's team_hint */
};

/* ---- connections --------------------------------------------------------------
 *
 * libevent 2.1 has no connection cap and no request deadline: evhttp's read
 * timeout starts again with every byte, so a client sending one byte a
 * second would hold a connection for ever. Each connection gets a struct
 * conn, made in the bevcb and hung on its SSL object so that OpenSSL frees
 * it (ex_data) whenever evhttp frees the bufferevent. The count of them
 * turns the listener off at max_conns: further clients wait in the listen
 * backlog (their TLS handshake starts when one closes). The deadline runs
 * from accept (handshake and first request) and from the first byte of
 * each later request until the request is complete.
 */

static struct conn *conn_of(const struct api_server *srv, struct evhttp_connection *evcon)
{
	struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

	return ssl ? SSL_get_ex_data(ssl, srv->conn_index) : NULL;
}

static void conn_arm(struct conn *c)
{
	struct timeval tv = { .tv_sec = c->srv->request_timeout_s };

	evtimer_add(c->deadline, &tv);
}

/* The request is in; handling it takes as long as it takes. */
static void conn_busy(struct conn *c)
{
	if (!c)
		return;
	c->busy = true;
	evtimer_del(c->deadline);
}

/* Replied: the next request's clock starts with its first byte, which may
 * be here already (pipelining). */
static void conn_idle(struct conn *c)
{
	if (!c)
		return;
	c->busy = false;
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		conn_arm(c);
}

static void conn_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;

	if (info->n_added > 0 && !c->busy && !evtimer_pending(c->deadline, NULL))
		conn_arm(c);
}

static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	evutil_socket_t sock = bufferevent_getfd(c->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(c->bev);

	cbq_log(CBQ_LOG_INFO, "slow_client_closed", "stage=%s request_timeout_s=%d",
		ssl && SSL_is_init_finished(ssl) ? "request" : "tls_handshake",
		c->srv->request_timeout_s);
	/* evhttp reads end-of-file next and frees the connection itself;
	 * freeing it from here could pull it from under one of its callbacks */
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

/* The listener on or off (a drained server has none). */
static void conn_pause(struct api_server *srv, bool pause)
{
	struct evconnlistener *l =
		srv->listener ? evhttp_bound_socket_get_listener(srv->listener) : NULL;

	if (pause == srv->paused)
		return;
	srv->paused = pause;
	if (l && pause)
		evconnlistener_disable(l);
	else if (l)
		evconnlistener_enable(l);
	/* once per episode */
	cbq_log(pause ? CBQ_LOG_WARN : CBQ_LOG_INFO,
		pause ? "connection_cap_reached" : "connection_cap_cleared",
		"connections=%d max_connections=%d", srv->conns, srv->max_conns);
}

/* OpenSSL's ex_data free callback: the SSL object, and so the connection, is gone. */
static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
		      void *argp)
{
	struct conn *c = ptr;
	struct api_server *srv;

	if (!c)
		return;
	srv = c->srv;
	/* the bufferevent frees its buffers right after its SSL */
	evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->on_input);
	event_free(c->deadline);
	free(c);
	srv->conns--;
	if (srv->paused && srv->conns < srv->max_conns)
		conn_pause(srv, false);
}

/* ---- routes ---------------------------------------------------------------- */

/* R_OPS: loopback clients without credentials (a Prometheus beside cbqd),
 * anyone else only as an authenticated admin: the numbers span every team. */
enum route_kind { R_PUBLIC, R_AUTH, R_OPS };

struct route {
	const char *pattern; /* "/v1/jobs/{id}" style, {id} matches one segment */
	enum evhttp_cmd_type method;
	api_handler_fn *handler;
	enum route_kind kind;
	bool team_hint; /* submits only: the caller's team may come from engine_caller_hinted */
};

static void healthz(struct api_call *call)
{
	api_reply_text(call, 200, "ok\n");
}

static void readyz(struct api_call *call)
{
	if (engine_ready(call->srv->engine))
		api_reply_text(call, 200, "ready\n");
	else
		api_reply_text(call, 503, "not ready: waiting for Postgres\n");
}

static const struct route routes[] = {
	{ "/v1/jobs", EVHTTP_REQ_POST, api_jobs_submit, R_AUTH, true },
	{ "/v1/jobs", EVHTTP_REQ_GET, api_jobs_list, R_AUTH, false },
	{ "/v1/jobs/{id}", EVHTTP_REQ_GET, api_jobs_get, R_AUTH, false },
	{ "/v1/jobs/{id}:cancel", EVHTTP_REQ_POST, api_jobs_cancel, R_AUTH, false },
	{ "/v1/blocks", EVHTTP_REQ_GET, api_blocks_list, R_AUTH, false },
	{ "/v1/whoami", EVHTTP_REQ_GET, api_whoami, R_AUTH, false },
	{ "/healthz", EVHTTP_REQ_GET, healthz, R_PUBLIC, false },
	{ "/readyz", EVHTTP_REQ_GET, readyz, R_PUBLIC, false },
	{ "/metrics", EVHTTP_REQ_GET, api_metrics, R_OPS, false },
};

/* Matches path against pattern; {id} takes one segment up to '/' or ':'. */
static bool route_match(const char *pattern, const char *path, char *id, size_t id_size)
{
	const char *brace = strstr(pattern, "{id}");
	size_t prefix, n;
	const char *rest;

	if (!brace)
		return strcmp(pattern, path) == 0;
	prefix = (size_t)(brace - pattern);
	if (strncmp(pattern, path, prefix) != 0)
		return false;
	rest = path + prefix;
	n = strcspn(rest, "/:");
	if (n == 0 || n >= id_size || strcmp(rest + n, brace + 4) != 0)
		return false;
	memcpy(id, rest, n);
	id[n] = '\0';
	return true;
}

static const char *method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

/* ---- calls ----------------------------------------------------------------- */

static void call_gone(struct evhttp_connection *evcon, void *arg)
{
	struct api_call *call = arg;

	call->req = NULL;
	call->evcon = NULL;
}

static void call_free(struct api_call *call)
{
	if (call->evcon)
		evhttp_connection_set_closecb(call->evcon, NULL, NULL);
	evhttp_clear_headers(&call->query);
	free(call->body);
	call->srv->inflight--;
	free(call);
}

struct engine *api_call_engine(const struct api_call *call)
{
	return call->srv->engine;
}

const struct caller *api_call_caller(const struct api_call *call)
{
	return &call->caller;
}

const uint8_t *api_call_body(const struct api_call *call, size_t *len)
{
	*len = call->body_len;
	return call->body;
}

const char *api_call_path_id(const struct api_call *call)
{
	return call->path_id;
}

const char *api_call_query(const struct api_call *call, const char *name)
{
	return evhttp_find_header(&call->query, name);
}

static int status_of(enum cbq_err code)
{
	switch (code) {
	case CBQ_OK: return 200;
	case CBQ_ERR_INVALID: return 400;
	case CBQ_ERR_UNAUTHENTICATED: return 401;
	case CBQ_ERR_FORBIDDEN: return 403;
	case CBQ_ERR_NOT_FOUND: return 404;
	case CBQ_ERR_CONFLICT: return 409;
	case CBQ_ERR_TOO_LARGE: return 413;
	case CBQ_ERR_UNAVAILABLE: return 503;
	case CBQ_ERR_INTERNAL: return 500;
	}
	return 500;
}

static void send_reply(struct api_call *call, int status, const char *ctype, const void *data,
		 size_t len)
{
	struct evhttp_request *req = call->req;
	struct evbuffer *buf;
	char who[80];

	if (req) {
		evhttp_connection_set_closecb(call->evcon, NULL, NULL);
		conn_idle(conn_of(call->srv, call->evcon));
		call->evcon = NULL;
		buf = evbuffer_new();
		if (buf && len)
			evbuffer_add(buf, data, len);
		char now[24];
		/* cbqd's clock, so that clients show "in 38m" against it, not their own */
		snprintf(now, sizeof(now), "%lld", (long long)engine_now(call->srv->engine));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
		evhttp_add_header(evhttp_request_get_output_headers(req), "X-Cbq-Now-Ms", now);
		evhttp_send_reply(req, status, NULL, buf);
		if (buf)
			evbuffer_free(buf);
	}
	cbq_log(status >= 500 ? CBQ_LOG_WARN : CBQ_LOG_DEBUG, "http_request",
		"method=%s path=%s status=%d account=%s%s", call->method_name,
		cbq_log_quote(who, sizeof(who), call->path), status,
		call->caller.account_id[0] ? call->caller.account_id : "-",
		req ? "" : " client=gone");
	call_free(call);
}

void api_reply_pb(struct api_call *call, int status, const ProtobufCMessage *msg)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *data = malloc(len ? len : 1);

	if (!data)
		abort();
	protobuf_c_message_pack(msg, data);
	send_reply(call, status, "application/x-protobuf", data, len);
	free(data);
}

void api_reply_error(struct api_call *call, const struct cbq_error *err)
{
	Cbq__V1__Error pb;

	api_error_to_pb(err, &pb);
	api_reply_pb(call, status_of(err->code), &pb.base);
}

void api_reply_text(struct api_call *call, int status, const char *text)
{
	send_reply(call, status, "text/plain; charset=utf-8", text, strlen(text));
}

void api_reply_body(struct api_call *call, int status, const char *content_type,
		    const char *body, size_t len)
{
	send_reply(call, status, content_type, body, len);
}

/* ---- authentication ---------------------------------------------------------- */

/* The account a verified client certificate names: its CN, or a SAN, that
 * is 12 digits. */
static bool cert_account(X509 *cert, char *account, size_t size)
{
	char cn[256];
	GENERAL_NAMES *sans;
	bool found = false;

	if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
				      sizeof(cn)) > 0 &&
	    cbq_is_account_id(cn) && size > 12) {
		memcpy(account, cn, 13); /* 12 digits and the NUL */
		return true;
	}
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && !found; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
		const ASN1_IA5STRING *s = NULL;
		if (gn->type == GEN_DNS)
			s = gn->d.dNSName;
		else if (gn->type == GEN_URI)
			s = gn->d.uniformResourceIdentifier;
		else if (gn->type == GEN_EMAIL)
			s = gn->d.rfc822Name;
		if (s && s->length == 12) {
			char v[13];
			memcpy(v, s->data, 12);
			v[12] = '\0';
			if (cbq_is_account_id(v) && size > 12) {
				memcpy(account, v, 13);
				found = true;
			}
		}
	}
	GENERAL_NAMES_free(sans);
	return found;
}

static void authenticated(void *arg, const struct caller *caller, const struct cbq_error *err);

/* The transport knows the account: its team from a hint (submits), else
 * from a lookup. */
static void identify(struct api_call *call)
{
	struct caller c = call->caller;

	if (call->team_hint && engine_caller_hinted(call->srv->engine, &c)) {
		authenticated(call, &c, NULL);
		return;
	}
	engine_authenticate(call->srv->engine, &call->caller, authenticated, call);
}

/* STS answered for the call's IAM token: on to the engine as for mTLS. */
static void iam_verified(void *arg, const struct auth_iam_identity *id,
			 const struct cbq_error *err)
{
	struct api_call *call = arg;
	struct caller *c = &call->caller;

	if (err) {
		api_reply_error(call, err);
		return;
	}
	snprintf(c->account_id, sizeof(c->account_id), "%s", id->account);
	snprintf(c->principal, sizeof(c->principal), "%s", id->arn);
	c->auth_method = "iam";
	identify(call);
}

/* Who is calling, strongest first: a client certificate, an IAM token
 * (*pending: iam_verified carries on later), the dev header. */
static enum cbq_err authenticate_transport(struct api_call *call, bool *pending,
					   struct cbq_error *err)
{
	struct bufferevent *bev = evhttp_connection_get_bufferevent(call->evcon);
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	struct caller *c = &call->caller;
	const char *dev, *token;

	if (cert) {
		char subject[200];
		if (SSL_get_verify_result(ssl) != X509_V_OK)
			return cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, NULL,
					"client certificate not trusted");
		if (!cert_account(cert, c->account_id, sizeof(c->account_id)))
			return cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, NULL,
					"client certificate names no 12-digit account in its CN "
					"or subject alternative names");
		X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
		snprintf(c->principal, sizeof(c->principal), "mtls:%s", subject);
		c->auth_method = "mtls";
		return CBQ_OK;
	}
	if (auth_iam_header_token(evhttp_find_header(evhttp_request_get_input_headers(call->req),
						     "Authorization"),
				  &token)) {
		if (!call->srv->iam)
			return cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "Authorization",
					"IAM identity is not enabled on this cbqd (iam_server_id "
					"unset): use a client certificate (--cert)");
		*pending = true;
		auth_iam_verify(call->srv->iam, token, strlen(token), cbq_clock_real_ms(),
				iam_verified, call);
		return CBQ_OK;
	}
	dev = evhttp_find_header(evhttp_request_get_input_headers(call->req), "X-Cbq-Account");
	if (dev && call->srv->dev_auth) {
		if (!cbq_is_account_id(dev))
			return cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "X-Cbq-Account",
					"X-Cbq-Account must be a 12-digit account id");
		snprintf(c->account_id, sizeof(c->account_id), "%s", dev);
		snprintf(c->principal, sizeof(c->principal), "dev:%s", dev);
		c->auth_method = "dev";
		return CBQ_OK;
	}
	return cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, NULL,
			"no credentials: %spresent a client certificate naming your account%s",
			call->srv->iam ? "run cbq with your AWS credentials (IAM identity), " : "",
			call->srv->dev_auth ? " or send X-Cbq-Account" : "");
}

/* Per-team rate: true when the call may go on; otherwise it was answered
 * 429 with Retry-After. */
static bool rate_ok(struct api_call *call)
{
	struct api_server *srv = call->srv;
	struct cbq_error err = { 0 };
	Cbq__V1__Error pb;
	int retry_after = 1;
	char value[16];

	switch (api_ratelimit_take(srv->rate, call->caller.team, cbq_clock_real_ms(),
				   &retry_after)) {
	case API_RATE_ALLOW:
		return true;
	case API_RATE_BAD_KEY:
		cbq_fail(&err, CBQ_ERR_INTERNAL, NULL, "cannot rate-limit team \"%.80s\"",
			 call->caller.team);
		api_reply_error(call, &err);
		return false;
	case API_RATE_LIMITED:
		break;
	}
	cbq_fail(&err, CBQ_ERR_INVALID, NULL,
		 "team %s is over its rate limit of %u requests/s (burst %u); retry after %d s",
		 call->caller.team, srv->rate_per_team, srv->rate_burst, retry_after);
	api_error_to_pb(&err, &pb);
	pb.code = CBQ__V1__ERROR_CODE__ERROR_CODE_RATE_LIMITED;
	if (call->req) {
		snprintf(value, sizeof(value), "%d", retry_after);
		evhttp_add_header(evhttp_request_get_output_headers(call->req), "Retry-After",
				  value);
	}
	api_reply_pb(call, 429, &pb.base);
	return false;
}

static void authenticated(void *arg, const struct caller *caller, const struct cbq_error *err)
{
	struct api_call *call = arg;

	if (err) {
		api_reply_error(call, err);
		return;
	}
	call->caller = *caller;
	if (call->admin_only && !caller->admin) {
		struct cbq_error e = { 0 };
		cbq_fail(&e, CBQ_ERR_FORBIDDEN, NULL,
			 "%s is served to loopback clients and to admins only; scrape it from the "
			 "cbqd host or as a principal listed in admins",
			 call->path);
		api_reply_error(call, &e);
		return;
	}
	if (!rate_ok(call))
		return;
	call->handler(call);
}

/* ---- dispatch ---------------------------------------------------------------- */

static void on_request(struct evhttp_request *req, void *arg)
{
	struct api_server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const struct route *match = NULL;
	struct api_call *call;
	struct cbq_error err = { 0 };
	char allow[64] = "", id[32];

	call = calloc(1, sizeof(*call));
	if (!call)
		abort();
	srv->inflight++;
	call->srv = srv;
	call->req = req;
	call->evcon = evhttp_request_get_connection(req);
	call->method_name = method_name(method);
	TAILQ_INIT(&call->query);
	snprintf(call->path, sizeof(call->path), "%s", path ? path : "?");
	evhttp_connection_set_closecb(call->evcon, call_gone, call);
	conn_busy(conn_of(srv, call->evcon));

	if (!path) {
		cbq_fail(&err, CBQ_ERR_INVALID, NULL, "malformed request URI");
		api_reply_error(call, &err);
		return;
	}
	if (method == EVHTTP_REQ_HEAD)
		method = EVHTTP_REQ_GET;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(routes[i].pattern, path, id, sizeof(id)))
			continue;
		if (routes[i].method == method) {
			match = &routes[i];
			snprintf(call->path_id, sizeof(call->path_id), "%s",
				 strstr(routes[i].pattern, "{id}") ? id : "");
			break;
		}
		snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			 allow[0] ? ", " : "", method_name(routes[i].method));
	}
	if (!match && allow[0]) {
		Cbq__V1__Error pb;
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
		cbq_fail(&err, CBQ_ERR_INVALID, NULL, "%s is not allowed on %s; use %s",
			 call->method_name, path, allow);
		api_error_to_pb(&err, &pb);
		pb.code = CBQ__V1__ERROR_CODE__ERROR_CODE_METHOD_NOT_ALLOWED;
		api_reply_pb(call, 405, &pb.base);
		return;
	}
	if (!match) {
		cbq_fail(&err, CBQ_ERR_NOT_FOUND, NULL, "no such route %s; see the API in cbq.proto",
			 path);
		api_reply_error(call, &err);
		return;
	}
	if (query && evhttp_parse_query_str(query, &call->query) != 0) {
		cbq_fail(&err, CBQ_ERR_INVALID, NULL, "malformed query string");
		api_reply_error(call, &err);
		return;
	}
	call->body_len = evbuffer_get_length(in);
	if (call->body_len) {
		call->body = malloc(call->body_len);
		if (!call->body)
			abort();
		evbuffer_remove(in, call->body, call->body_len);
	}
	call->handler = match->handler;
	if (match->kind == R_PUBLIC || (match->kind == R_OPS && api_peer_is_loopback(call->evcon))) {
		call->handler(call);
		return;
	}
	call->admin_only = match->kind == R_OPS;
	call->team_hint = match->team_hint;
	bool pending = false;
	if (authenticate_transport(call, &pending, &err)) {
		api_reply_error(call, &err);
		return;
	}
	if (!pending)
		identify(call);
}

/* ---- TLS and listening ----------------------------------------------------------- */

/* evhttp's bevcb, once per accepted connection. Returning NULL would make
 * evhttp fall back to a plain-text socket, so running out of memory here
 * aborts like any small allocation. */
static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
	struct api_server *srv = arg;
	struct conn *c = cbq_xcalloc(1, sizeof(*c));
	SSL *ssl = SSL_new(srv->tls);
	struct bufferevent *bev;

	if (!ssl || SSL_set_ex_data(ssl, srv->conn_index, c) != 1)
		abort();
	c->srv = srv;
	c->deadline = evtimer_new(base, conn_deadline, c);
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!c->deadline || !bev)
		abort();
	c->bev = bev;
	c->on_input = evbuffer_add_cb(bufferevent_get_input(bev), conn_input, c);
	if (!c->on_input)
		abort();
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	conn_arm(c);
	if (++srv->conns >= srv->max_conns)
		conn_pause(srv, true);
	return bev;
}

struct api_server *api_server_start(struct event_base *base, const struct api_config *cfg,
				    struct engine *engine, struct cbq_error *err)
{
	struct api_server *srv = calloc(1, sizeof(*srv));
	char host[256];
	int port = 0;

	if (!srv)
		abort();
	srv->base = base;
	srv->engine = engine;
	srv->dev_auth = cfg->insecure_dev_auth;
	srv->iam = cfg->iam;
	srv->conn_index = -1;
	srv->max_conns = cfg->max_connections > 0 ? cfg->max_connections : 1;
	srv->request_timeout_s = cfg->request_timeout_s > 0 ? cfg->request_timeout_s : 1;
	srv->rate_per_team = cfg->rate_per_team;
	srv->rate_burst = cfg->rate_burst_per_team ? cfg->rate_burst_per_team : 1;
	srv->rate = api_ratelimit_new(srv->rate_per_team, srv->rate_burst);
	if (api_split_listen(cfg->listen, host, sizeof(host), &port, err))
		goto fail;
	if (cfg->insecure_dev_auth && !api_host_is_loopback(host)) {
		cbq_fail(err, CBQ_ERR_INVALID, "insecure-dev-auth",
			 "--insecure-dev-auth is refused: listener %s is not loopback-only; "
			 "listen on 127.0.0.1 or use mTLS",
			 cfg->listen);
		goto fail;
	}
	if (!cfg->tls_cert || !cfg->tls_key) {
		cbq_fail(err, CBQ_ERR_INVALID, "tls-cert",
			 "--tls-cert and --tls-key are required: cbqd serves HTTPS only");
		goto fail;
	}
	srv->tls = api_tls_context(cfg, err);
	if (!srv->tls)
		goto fail;
	/* per server, not per process: freed with it */
	srv->conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free);
	if (srv->conn_index < 0) {
		cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "cannot register TLS connection data");
		goto fail;
	}
	srv->http = evhttp_new(base);
	if (!srv->http) {
		cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "cannot create the HTTP server");
		goto fail;
	}
	evhttp_set_bevcb(srv->http, make_tls_bev, srv);
	evhttp_set_gencb(srv->http, on_request, srv);
	evhttp_set_max_body_size(srv->http, (ev_ssize_t)cfg->max_body);
	/* read and drop an oversized body before closing, so that the client
	 * sees the 413 instead of a reset connection */
	evhttp_set_flags(srv->http, EVHTTP_SERVER_LINGERING_CLOSE);
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)cfg->max_headers);
	/* read and write inactivity; the request deadline is conn_deadline's */
	evhttp_set_timeout(srv->http, cfg->idle_timeout_s);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						      EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						      EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	srv->listener = evhttp_bind_socket_with_handle(srv->http, host, (ev_uint16_t)port);
	if (!srv->listener) {
		cbq_fail(err, CBQ_ERR_UNAVAILABLE, "listen",
			 "cannot listen on %s: address in use or not available", cfg->listen);
		goto fail;
	}
	/* Replies go out in more than one TLS record (headers, body): with
	 * Nagle on, the second waits for the client's delayed ACK, ~40 ms per
	 * keep-alive request. Accepted sockets inherit this from the listener. */
	{
		int one = 1;
		if (setsockopt(evhttp_bound_socket_get_fd(srv->listener), IPPROTO_TCP,
			       TCP_NODELAY, &one, sizeof(one)) != 0)
			cbq_log(CBQ_LOG_WARN, "tcp_nodelay_failed", "listen=%s", cfg->listen);
	}
	return srv;
fail:
	api_server_free(srv);
	return NULL;
}

enum cbq_err api_server_reload_tls(struct api_server *srv, const struct api_config *cfg,
				   struct cbq_error *err)
{
	SSL_CTX *fresh = api_tls_context(cfg, err);

	if (!fresh)
		return err->code;
	/* connections open now hold a reference to the old context */
	SSL_CTX_free(srv->tls);
	srv->tls = fresh;
	return CBQ_OK;
}

int api_server_connections(const struct api_server *srv)
{
	return srv->conns;
}

void api_server_drain(struct api_server *srv)
{
	if (srv->listener) {
		evhttp_del_accept_socket(srv->http, srv->listener);
		srv->listener = NULL;
	}
}

int api_server_inflight(const struct api_server *srv)
{
	return srv->inflight;
}

void api_server_free(struct api_server *srv)
{
	if (!srv)
		return;
	/* evhttp_free frees the listener before the connections, whose
	 * conn_free must not turn it back on */
	srv->listener = NULL;
	if (srv->http)
		evhttp_free(srv->http);
	if (srv->conn_index >= 0)
		CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL, srv->conn_index);
	SSL_CTX_free(srv->tls);
	api_ratelimit_free(srv->rate);
	free(srv);
}
