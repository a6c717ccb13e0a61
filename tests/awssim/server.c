/*
 * Routing, authentication, faults and sending; see server.h. Handlers get a
 * decoded call and fill a reply; only this file touches evhttp. A reply that
 * a fault delays (or drops) waits on a timer; if the client goes away first
 * the connection's close callback cancels it, so nothing is sent on a freed
 * request.
 */
#include "server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include "auth.h"
#include "call.h"
#include "fault.h"
#include "params.h"
#include "reply.h"
#include "util/log.h"

struct req_ctx {
	struct sim_server *s;
	struct evhttp_request *req;
	const char *method, *path, *query;
	const char *body;
	size_t body_len;
	struct aws_header headers[SIM_MAX_REQUEST_HEADERS];
	size_t n_headers;
	char *body_owned, *path_owned, *query_owned; /* the request may go before x */
	char target[128];			     /* X-Amz-Target, "" when absent */
	cbq_ms now;
	/* state kept across a deferred second pass */
	bool authed, fault_taken;
	struct sim_identity who;
	enum sim_service auth_svc;
	int defer_ms;
	char rid[37];
	/* for the log line */
	enum sim_service svc;
	char action[64];
	char account[SIM_ACCOUNT_LEN + 1];
	char fault[16];
};

/* A reply waiting on a timer, or (ctx set) a request whose processing a
 * delay fault put off. */
struct pending {
	struct sim_server *srv;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct event *timer;
	struct sim_reply reply;
	struct req_ctx *ctx;
	bool drop;
	struct pending *next;
};

struct sim_server {
	struct event_base *base;
	struct evhttp *http;
	struct sim_world *w;
	const struct cbq_clock *clock;
	struct pending *pending;
};

static const char *const SERVICE_NAMES[] = {
	"ec2", "sts", "ram", "organizations", "imds", "control"
};

static void send_reply(struct sim_server *s, struct evhttp_request *req, struct sim_reply *r)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	time_t now = (time_t)(cbq_clock_now(s->clock) / 1000);
	struct tm tm;
	char date[64];

	/* In sim time, like everything else the emulator says. */
	if (gmtime_r(&now, &tm) && strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm))
		evhttp_add_header(out, "Date", date);

	if (r->content_type[0])
		evhttp_add_header(out, "Content-Type", r->content_type);
	evhttp_add_header(out, "x-amzn-RequestId", r->request_id);
	if (r->error_type_header && r->code[0])
		evhttp_add_header(out, "x-amzn-ErrorType", r->code);
	for (size_t i = 0; i < r->n_extra; i++)
		evhttp_add_header(out, r->extra[i].name, r->extra[i].value);
	evhttp_add_header(out, "Server", "cbq-awssim");
	evhttp_send_reply(req, r->status, NULL, r->body);
}

static void unlink_pending(struct sim_server *s, struct pending *p)
{
	for (struct pending **pp = &s->pending; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			return;
		}
	}
}

static void ctx_free(struct req_ctx *x);

static void pending_free(struct pending *p)
{
	if (p->timer)
		event_free(p->timer);
	sim_reply_free(&p->reply);
	ctx_free(p->ctx);
	free(p);
}

/* The client went away while its reply waited: forget the request. */
static void on_close(struct evhttp_connection *conn, void *arg)
{
	struct pending *p = arg;

	evhttp_connection_set_closecb(conn, NULL, NULL);
	if (p->ctx) {
		/* A deferred call still happens, as on AWS; only its reply has
		 * nowhere to go. */
		p->ctx->req = NULL;
		p->req = NULL;
		p->conn = NULL;
		return;
	}
	unlink_pending(p->srv, p);
	pending_free(p);
}

static void process(struct req_ctx *x);

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;

	if (p->conn)
		evhttp_connection_set_closecb(p->conn, NULL, NULL);
	unlink_pending(p->srv, p);
	if (p->ctx) {
		struct req_ctx *x = p->ctx;
		p->ctx = NULL;
		pending_free(p);
		x->now = cbq_clock_now(x->s->clock);
		process(x); /* now, at the later time; takes x */
		return;
	}
	if (p->drop)
		evhttp_connection_free(p->conn); /* no reply at all: a lost response */
	else
		send_reply(p->srv, p->req, &p->reply);
	pending_free(p);
}

/* Waits delay_ms, then sends r (takes it), closes the connection (drop) or
 * processes x (takes it). */
static void wait_then(struct sim_server *s, struct evhttp_request *req, struct sim_reply *r,
		      struct req_ctx *x, int delay_ms, bool drop)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->srv = s;
	p->req = req;
	p->conn = evhttp_request_get_connection(req);
	if (r) {
		p->reply = *r;
		r->body = NULL;
	}
	p->ctx = x;
	p->drop = drop;
	p->timer = evtimer_new(s->base, on_timer, p);
	if (!p->timer)
		abort();
	struct timeval tv = { .tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000 };
	evtimer_add(p->timer, &tv);
	evhttp_connection_set_closecb(p->conn, on_close, p);
	p->next = s->pending;
	s->pending = p;
}

/* Sends now, or after delay_ms (or drops) from a timer; takes the reply. */
static void finish(struct sim_server *s, struct evhttp_request *req, struct sim_reply *r,
		   int delay_ms, bool drop)
{
	if (!req) { /* the client left while a deferred call waited */
		sim_reply_free(r);
		return;
	}
	if (delay_ms <= 0 && !drop) {
		send_reply(s, req, r);
		sim_reply_free(r);
		return;
	}
	wait_then(s, req, r, NULL, delay_ms, drop);
}

static const char *default_message(const char *code)
{
	if (strcmp(code, "RequestLimitExceeded") == 0)
		return "Request limit exceeded.";
	if (strcmp(code, "Throttling") == 0 || strcmp(code, "ThrottlingException") == 0 ||
	    strcmp(code, "TooManyRequestsException") == 0)
		return "Rate exceeded";
	if (strcmp(code, "InsufficientInstanceCapacity") == 0)
		return "We currently do not have sufficient capacity in the Availability Zone you "
		       "requested. Our system will be working on provisioning additional capacity.";
	if (strcmp(code, "ReservationCapacityExceeded") == 0)
		return "There is not enough capacity in the Capacity Reservation for the request.";
	if (strcmp(code, "InternalError") == 0 || strcmp(code, "InternalFailure") == 0)
		return "An internal error has occurred";
	return "cbq-awssim injected this fault";
}

/* Replaces the reply with the fault's error (code) or bare status (HTML). */
static void fault_reply(const struct sim_fault *f, enum sim_service svc, struct sim_reply *r)
{
	if (f->code[0])
		sim_reply_error(r, svc, f->status ? f->status : sim_fault_status_for(f->code),
				f->code, f->message[0] ? f->message : default_message(f->code));
	else if (f->status)
		sim_reply_html(r, f->status);
}

static const char *header_of(void *arg, const char *name)
{
	struct req_ctx *x = arg;

	return x->req ? evhttp_find_header(evhttp_request_get_input_headers(x->req), name) : NULL;
}

/* Auth, fault before, handler, fault after; fills r, returns delay/drop. */
static void serve_aws(struct req_ctx *x, enum sim_service fixed, bool query_protocol,
		      const struct sim_params *params, const char *action, struct sim_reply *r,
		      int *delay_ms, bool *drop)
{
	struct sim_world *w = x->s->w;
	enum sim_service hint = SIM_SVC_EC2, svc;
	struct sim_identity who;
	struct sim_awserr e;
	const char *version = params ? sim_params_get(params, "Version") : NULL;

	if (query_protocol && version && strcmp(version, "2011-06-15") == 0)
		hint = SIM_SVC_STS;
	struct sim_auth_in in = {
		.method = x->method,
		.path = x->path,
		.query = x->query,
		.headers = x->headers,
		.n_headers = x->n_headers,
		.body = (const uint8_t *)x->body,
		.body_len = x->body_len,
	};
	if (x->authed) {
		who = x->who; /* a deferred pass: the signature was checked on arrival */
		svc = x->auth_svc;
	} else if (!sim_auth_verify(w, &in, fixed, query_protocol, hint, x->now, &who, &svc, &e)) {
		x->svc = svc;
		sim_reply_error(r, svc, e.status, e.code, e.message);
		sim_world_count(w, "(auth failure)");
		return;
	}
	x->authed = true;
	x->who = who;
	x->auth_svc = svc;
	x->svc = svc;
	snprintf(x->account, sizeof(x->account), "%s", who.account);
	if (query_protocol) {
		const char *want = svc == SIM_SVC_STS ? "2011-06-15" : "2016-11-15";
		bool known = svc == SIM_SVC_STS ? sim_sts_known(action ? action : "") :
						  sim_ec2_known(action ? action : "");
		if (!action || !*action) {
			sim_reply_error(r, svc, 400, "MissingAction",
					"The request must contain the parameter Action");
			return;
		}
		if (!version || strcmp(version, want) != 0) {
			char msg[200];
			snprintf(msg, sizeof(msg),
				 "The requested version (%.20s) of service %s does not exist; use %s",
				 version ? version : "none",
				 svc == SIM_SVC_STS ? "AWSSecurityTokenService" : "AmazonEC2",
				 want);
			sim_reply_error(r, svc, 400,
					svc == SIM_SVC_STS ? "InvalidAction" : "NoSuchVersion",
					msg);
			return;
		}
		if (!known) {
			char msg[200];
			if (svc == SIM_SVC_STS)
				snprintf(msg, sizeof(msg),
					 "Could not find operation %.64s for version 2011-06-15",
					 action);
			else
				snprintf(msg, sizeof(msg),
					 "The action %.64s is not valid for this web service.",
					 action);
			sim_reply_error(r, svc, 400, "InvalidAction", msg);
			sim_world_count(w, "(unknown action)");
			return;
		}
	} else if (svc == SIM_SVC_ORGS && !sim_orgs_known(action)) {
		sim_reply_error(r, svc, 400, "UnknownOperationException",
				"cbq-awssim does not implement this Organizations operation");
		sim_world_count(w, "(unknown action)");
		return;
	}
	struct sim_fault f;
	bool faulted = false;
	if (!x->fault_taken) {
		x->fault_taken = true;
		sim_world_count(w, action);
		faulted = sim_faults_take(&w->faults, action, who.account, &f);
	}
	if (faulted) {
		snprintf(x->fault, sizeof(x->fault), "%s", f.after ? "after" : "before");
		if (!f.after && !f.code[0] && !f.status) {
			/* A slow service: the call happens only after the delay. */
			x->defer_ms = f.delay_ms;
			return;
		}
		*delay_ms = f.delay_ms;
		if (!f.after) {
			fault_reply(&f, svc, r);
			return;
		}
	}
	struct sim_call c = { .service = svc,
			      .action = action,
			      .params = params,
			      .body = x->body,
			      .body_len = x->body_len,
			      .who = who,
			      .now = x->now };
	switch (svc) {
	case SIM_SVC_EC2: sim_ec2_handle(w, &c, r); break;
	case SIM_SVC_STS: sim_sts_handle(w, &c, r); break;
	case SIM_SVC_RAM: sim_ram_handle(w, &c, r); break;
	case SIM_SVC_ORGS: sim_orgs_handle(w, &c, r); break;
	case SIM_SVC_IMDS:
	case SIM_SVC_CONTROL: break;
	}
	if (faulted && f.after) {
		*drop = f.drop;
		if (f.code[0] || f.status)
			fault_reply(&f, svc, r);
	}
}

static void route(struct req_ctx *x, struct sim_reply *r, int *delay_ms, bool *drop)
{
	const char *target = x->target;
	static const char ORGS[] = "AWSOrganizationsV20161128.";
	bool post = strcmp(x->method, "POST") == 0;
	struct sim_http_in in = { .method = x->method,
				  .path = x->path,
				  .body = x->body,
				  .body_len = x->body_len,
				  .header = header_of,
				  .header_arg = x };

	if (strncmp(x->path, "/_sim/", 6) == 0) {
		x->svc = SIM_SVC_CONTROL;
		snprintf(x->action, sizeof(x->action), "%s", x->path + 1);
		sim_control_handle(x->s->w, &in, x->now, r);
		return;
	}
	if (strncmp(x->path, "/latest/", 8) == 0) {
		x->svc = SIM_SVC_IMDS;
		snprintf(x->action, sizeof(x->action), "%s %s", x->method, x->path);
		sim_imds_handle(x->s->w, &in, x->now, r);
		return;
	}
	if (strncmp(target, ORGS, sizeof(ORGS) - 1) == 0) {
		x->svc = SIM_SVC_ORGS;
		snprintf(x->action, sizeof(x->action), "%s", target + sizeof(ORGS) - 1);
		if (!post || strcmp(x->path, "/") != 0) {
			sim_reply_error(r, SIM_SVC_ORGS, 400, "SerializationException",
					"Organizations takes POST / with a JSON body");
			return;
		}
		serve_aws(x, SIM_SVC_ORGS, false, NULL, x->action, r, delay_ms, drop);
		return;
	}
	if (post &&
	    (strcmp(x->path, "/listresources") == 0 || strcmp(x->path, "/listprincipals") == 0)) {
		x->svc = SIM_SVC_RAM;
		snprintf(x->action, sizeof(x->action), "%s",
			 x->path[5] == 'r' ? "ListResources" : "ListPrincipals");
		serve_aws(x, SIM_SVC_RAM, false, NULL, x->action, r, delay_ms, drop);
		return;
	}
	if (strcmp(x->path, "/") == 0 && (post || strcmp(x->method, "GET") == 0)) {
		struct sim_params params = { 0 };
		struct cbq_error err;
		const char *text = post ? x->body : (x->query ? x->query : "");
		size_t len = post ? x->body_len : strlen(text);
		x->svc = SIM_SVC_EC2;
		if (sim_params_parse(text, len, &params, &err)) {
			sim_reply_error(r, SIM_SVC_EC2, 400, "MalformedQueryString", err.msg);
			return;
		}
		const char *action = sim_params_get(&params, "Action");
		snprintf(x->action, sizeof(x->action), "%s", action ? action : "");
		serve_aws(x, SIM_SVC_EC2, true, &params, action, r, delay_ms, drop);
		sim_params_free(&params);
		return;
	}
	x->svc = SIM_SVC_CONTROL;
	sim_reply_error(r, SIM_SVC_CONTROL, 404, "NotFound",
			"cbq-awssim serves EC2 and STS on POST /, RAM on POST /listresources and "
			"/listprincipals, Organizations by X-Amz-Target, IMDS under /latest/ and "
			"control under /_sim/");
}

static const char *method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_HEAD: return "HEAD";
	default: return "OTHER";
	}
}

static void ctx_free(struct req_ctx *x)
{
	if (!x)
		return;
	free(x->body_owned);
	free(x->path_owned);
	free(x->query_owned);
	free(x);
}

/* One pass over a request: route, log, send (or defer); takes x. */
static void process(struct req_ctx *x)
{
	struct sim_server *s = x->s;
	struct sim_reply r;
	char qpath[96], qaction[96];
	int delay_ms = 0;
	bool drop = false;

	sim_world_advance(s->w, x->now);
	sim_reply_init(&r, x->rid);
	if (strcmp(x->method, "OTHER") == 0 || strcmp(x->method, "HEAD") == 0)
		sim_reply_error(&r, SIM_SVC_CONTROL, 405, "MethodNotAllowed",
				"cbq-awssim takes GET, POST, PUT and DELETE");
	else
		route(x, &r, &delay_ms, &drop);
	if (x->defer_ms > 0) {
		int ms = x->defer_ms;
		x->defer_ms = 0;
		cbq_log(CBQ_LOG_DEBUG, "awssim_deferred", "action=%s delay_ms=%d request_id=%s",
			cbq_log_quote(qaction, sizeof(qaction), x->action), ms, x->rid);
		sim_reply_free(&r);
		wait_then(s, x->req, NULL, x, ms, false);
		return;
	}
	cbq_log(r.status >= 500 ? CBQ_LOG_WARN : CBQ_LOG_INFO, "awssim_request",
		"method=%s path=%s service=%s action=%s account=%s status=%d code=%s fault=%s "
		"delay_ms=%d request_id=%s",
		x->method, cbq_log_quote(qpath, sizeof(qpath), x->path), SERVICE_NAMES[x->svc],
		cbq_log_quote(qaction, sizeof(qaction), x->action[0] ? x->action : "-"),
		x->account[0] ? x->account : "-", drop || !x->req ? 0 : r.status,
		r.code[0] ? r.code : "-", x->req ? (x->fault[0] ? x->fault : "-") : "client-gone",
		delay_ms, x->rid);
	finish(s, x->req, &r, delay_ms, drop);
	ctx_free(x);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct sim_server *s = arg;
	struct req_ctx *x = calloc(1, sizeof(*x));

	if (!x)
		abort();
	x->s = s;
	x->req = req;
	x->now = cbq_clock_now(s->clock);
	sim_rng_uuid(&s->w->rng, x->rid);
	x->method = method_name(evhttp_request_get_command(req));
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
	x->path = x->path_owned = strdup(path && *path ? path : "/");
	x->query = x->query_owned = query ? strdup(query) : NULL;
	if (!x->path_owned || (query && !x->query_owned))
		abort();

	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	x->body_owned = malloc(len + 1);
	if (!x->body_owned)
		abort();
	evbuffer_copyout(in, x->body_owned, len);
	x->body_owned[len] = '\0';
	x->body = x->body_owned;
	x->body_len = len;

	const char *target =
		evhttp_find_header(evhttp_request_get_input_headers(req), "X-Amz-Target");
	snprintf(x->target, sizeof(x->target), "%s", target ? target : "");
	struct evkeyval *h;
	TAILQ_FOREACH (h, evhttp_request_get_input_headers(req), next) {
		if (x->n_headers == SIM_MAX_REQUEST_HEADERS)
			break;
		x->headers[x->n_headers].name = h->key;
		x->headers[x->n_headers++].value = h->value;
	}
	process(x);
}

enum cbq_err sim_server_start(struct event_base *base, struct sim_world *w,
			      const struct cbq_clock *clock, const char *host, int port,
			      struct sim_server **out, int *bound_port, struct cbq_error *err)
{
	struct sim_server *s = calloc(1, sizeof(*s));
	struct evhttp_bound_socket *sock;
	enum cbq_err rc;

	if (!s)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	s->base = base;
	s->w = w;
	s->clock = clock;
	s->http = evhttp_new(base);
	if (!s->http) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "evhttp_new failed");
		goto fail;
	}
	evhttp_set_max_body_size(s->http, SIM_MAX_BODY);
	evhttp_set_max_headers_size(s->http, 64 * 1024);
	evhttp_set_timeout(s->http, 120);
	evhttp_set_allowed_methods(s->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						    EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(s->http, on_request, s);
	sock = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
	if (!sock) {
		rc = cbq_fail(err, CBQ_ERR_UNAVAILABLE, "listen", "cannot listen on %s:%d", host,
			      port);
		goto fail;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	evutil_socket_t fd = evconnlistener_get_fd(evhttp_bound_socket_get_listener(sock));
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET)
			*bound_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else if (ss.ss_family == AF_INET6)
			*bound_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		else
			*bound_port = port;
	} else {
		*bound_port = port;
	}
	*out = s;
	return CBQ_OK;
fail:
	sim_server_free(s);
	return rc;
}

void sim_server_free(struct sim_server *s)
{
	if (!s)
		return;
	while (s->pending) {
		struct pending *p = s->pending;
		s->pending = p->next;
		if (p->conn)
			evhttp_connection_set_closecb(p->conn, NULL, NULL);
		pending_free(p);
	}
	if (s->http)
		evhttp_free(s->http);
	free(s);
}
