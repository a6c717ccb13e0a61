/*
 * cbq-bench-submit: how many submits cbqd acknowledges per second. N
 * keep-alive HTTPS connections, each sending a valid SubmitJobRequest with a
 * unique idempotency key as soon as the last one was answered, for S seconds;
 * prints one line with the rate, p50/p99 latency of every request and the
 * non-201 count. A benchmark, not a test: it asserts nothing.
 *
 * Hand-rolled on OpenSSL and one edge-triggered epoll loop, not libcurl: it
 * shares the machine with cbqd and Postgres, so it spends as little CPU per
 * request as it can (one SSL_write, a read or two, a share of an epoll_wait)
 * and the benchmark measures cbqd rather than its load generator. It speaks
 * only the HTTP/1.1 cbqd speaks: Content-Length replies, one request in flight
 * per connection, no Expect (so no interim replies), no chunked bodies.
 */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "bench_http.h"
#include "cbq/v1/cbq.pb-c.h"

#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))

enum {
	CONNECTIONS_MAX = 1024,
	SECONDS_MAX = 3600,
	ACCOUNT_MAX = 48,    /* --dev-account: one header line */
	BODY_MAX = 1024,     /* a SubmitJobRequest */
	HEAD_MAX = 8 * 1024, /* a reply's status line and headers */
	TIMEOUT_S = 30,	     /* to connect and shake hands, or for one request */
	RETRY_MS_MIN = 100,  /* a failed connection waits, doubling ... */
	RETRY_MS_MAX = 2000, /* ... up to this, until a reply comes through */
	SWEEP_MS = 100,	     /* how often timeouts and retries are looked at */
	EVENTS_MAX = 256,
};

/* Request line and fixed headers: POST, the path and Host (each at most
 * BENCH_SERVER_MAX), three short headers and X-Cbq-Account. */
enum { PREFIX_MAX = 3 * BENCH_SERVER_MAX + ACCOUNT_MAX + 256 };
enum { REQUEST_MAX = PREFIX_MAX + 32 + BODY_MAX };

struct opts {
	const char *server, *ca, *cert, *key, *dev_account, *account;
	int connections, seconds;
};

/* A connection's states; conn_set_state() is the only way between them. */
enum conn_state {
	C_IDLE,	      /* nothing to do: the run is over (maybe still connected) */
	C_RETRY,      /* closed after a failure; reconnect at deadline */
	C_CONNECTING, /* TCP connect in progress */
	C_HANDSHAKE,  /* TLS handshake in progress */
	C_SENDING,    /* the request is being written */
	C_READING,    /* the reply is being read */
};

struct conn {
	enum conn_state state;
	int fd;
	SSL *ssl;
	const struct addrinfo *ai; /* the server's address in use; NULL: the first */
	double deadline;	   /* give up (or, in C_RETRY, reconnect) then; monotonic s */
	int retry_ms;
	double started; /* first byte of the request written; monotonic s */
	char req[REQUEST_MAX];
	size_t req_len;
	/* the reply: headers gather in `in`; body bytes are counted, not kept */
	char in[HEAD_MAX];
	size_t in_len;
	bool head_done;
	int status;
	bool close_after;
	size_t body_left;
};

struct samples {
	double *ms;
	size_t n, cap;
};

struct bench {
	struct opts o;
	struct target t;
	struct addrinfo *addr;
	SSL_CTX *tls;
	int epfd;
	struct conn *conns;
	char prefix[PREFIX_MAX]; /* request line and headers up to Content-Length */
	size_t prefix_len;
	char key_prefix[64]; /* idempotency keys: this + a sequence number */
	uint64_t seq, ok, errors;
	int inflight; /* connections in C_SENDING or C_READING */
	double end;
	struct samples lat;
	long first_error_status;
	char first_error[512];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- command line --------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: cbq-bench-submit --server URL [--ca FILE] [--cert FILE --key FILE | "
		"--dev-account ID]\n"
		"                        [--account ID] --connections N --seconds S\n");
	exit(2);
}

static int int_arg(const char *name, const char *v, int lo, int hi)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end || n < lo || n > hi) {
		fprintf(stderr, "cbq-bench-submit: %s must be %d..%d\n", name, lo, hi);
		exit(2);
	}
	return (int)n;
}

/* A header value we can send as is: short, no control characters. */
static bool header_safe(const char *v)
{
	size_t n = strlen(v);

	if (n > ACCOUNT_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	}
	return true;
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (strcmp(a, "--server") == 0)
			o->server = v;
		else if (strcmp(a, "--ca") == 0)
			o->ca = v;
		else if (strcmp(a, "--cert") == 0)
			o->cert = v;
		else if (strcmp(a, "--key") == 0)
			o->key = v;
		else if (strcmp(a, "--dev-account") == 0)
			o->dev_account = v;
		else if (strcmp(a, "--account") == 0)
			o->account = v;
		else if (strcmp(a, "--connections") == 0)
			o->connections = int_arg(a, v, 1, CONNECTIONS_MAX);
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = int_arg(a, v, 1, SECONDS_MAX);
		else
			usage();
		i++;
	}
	if (!o->server || !o->connections || !o->seconds || (!o->cert != !o->key) ||
	    (!o->cert && !o->dev_account) || strlen(o->server) > BENCH_SERVER_MAX ||
	    (o->dev_account && !header_safe(o->dev_account)))
		usage();
}

/* ---- set-up: everything that can fail before the first connection -------- */

static void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("cbq-bench-submit: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* The first OpenSSL error queued (the cause: "No such file or directory"
 * rather than the "system lib" stacked on it) as text; the queue emptied. */
static const char *tls_error(char *buf, size_t n)
{
	unsigned long e = ERR_peek_error();
	const char *reason = NULL;

	if (e && ERR_SYSTEM_ERROR(e))
		reason = strerror(ERR_GET_REASON(e));
	else if (e)
		reason = ERR_reason_error_string(e);
	if (reason)
		snprintf(buf, n, "%s", reason);
	else if (e)
		ERR_error_string_n(e, buf, n);
	else
		snprintf(buf, n, "unknown TLS error");
	ERR_clear_error();
	return buf;
}

static void tls_setup(struct bench *b)
{
	const struct opts *o = &b->o;
	X509_VERIFY_PARAM *param;
	char err[256];

	b->tls = SSL_CTX_new(TLS_client_method());
	if (!b->tls)
		die("TLS: %s", tls_error(err, sizeof(err)));
	SSL_CTX_set_min_proto_version(b->tls, TLS1_2_VERSION);
	SSL_CTX_set_verify(b->tls, SSL_VERIFY_PEER, NULL);
	/* one read(2) per record rather than two (header, then body) */
	SSL_CTX_set_read_ahead(b->tls, 1);
	if (o->ca ? SSL_CTX_load_verify_file(b->tls, o->ca) != 1 :
		    SSL_CTX_set_default_verify_paths(b->tls) != 1)
		die("--ca %s: %s", o->ca ? o->ca : "(system default)", tls_error(err, sizeof(err)));
	if (o->cert) {
		if (SSL_CTX_use_certificate_chain_file(b->tls, o->cert) != 1)
			die("--cert %s: %s", o->cert, tls_error(err, sizeof(err)));
		if (SSL_CTX_use_PrivateKey_file(b->tls, o->key, SSL_FILETYPE_PEM) != 1)
			die("--key %s: %s", o->key, tls_error(err, sizeof(err)));
		if (SSL_CTX_check_private_key(b->tls) != 1)
			die("--key %s does not match --cert %s", o->key, o->cert);
	}
	/* the server's certificate must name the host of the URL */
	param = SSL_CTX_get0_param(b->tls);
	if ((b->t.is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, b->t.host) :
			  X509_VERIFY_PARAM_set1_host(param, b->t.host, 0)) != 1)
		die("--server host %s: %s", b->t.host, tls_error(err, sizeof(err)));
}

static void resolve(struct bench *b)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	int r = getaddrinfo(b->t.host, b->t.port, &hints, &b->addr);

	if (r != 0)
		die("--server host %s: %s", b->t.host, gai_strerror(r));
}

/* Enough descriptors for every connection (the soft limit is often 1024). */
static void raise_fd_limit(int connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)connections + 32;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* The part of every request that does not change. */
static void request_prefix(struct bench *b)
{
	char account[ACCOUNT_MAX + 32] = "";
	int n;

	if (b->o.dev_account)
		snprintf(account, sizeof(account), "X-Cbq-Account: %s\r\n", b->o.dev_account);
	n = snprintf(b->prefix, sizeof(b->prefix),
		     "POST %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Accept: application/x-protobuf\r\n"
		     "Content-Type: application/x-protobuf\r\n"
		     "%s"
		     "Content-Length: ",
		     b->t.path, b->t.authority, account);
	if (n < 0 || (size_t)n >= sizeof(b->prefix))
		abort(); /* PREFIX_MAX covers the longest --server */
	b->prefix_len = (size_t)n;
	/* unique across runs (pid, start) and within one (the sequence) */
	snprintf(b->key_prefix, sizeof(b->key_prefix), "bench-%ld-%ld-", (long)getpid(),
		 (long)time(NULL));
}

/* ---- requests ------------------------------------------------------------- */

/* A job-sized request: a training job with a launch spec and tags, as a
 * team's sweep would send, under a key no other request uses. Written with
 * its headers into c->req, ready for one SSL_write. */
static void make_request(struct bench *b, struct conn *c)
{
	Cbq__V1__SubmitJobRequest req = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	Cbq__V1__JobSpec spec = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__LaunchSpec launch = CBQ__V1__LAUNCH_SPEC__INIT;
	Cbq__V1__Tag tag = CBQ__V1__TAG__INIT, *tags[] = { &tag };
	char *sgs[] = { "sg-0123456789abcdef0" };
	char key[96], name[64];
	uint64_t seq = b->seq++;
	size_t body_len, n;

	snprintf(key, sizeof(key), "%s%" PRIu64, b->key_prefix, seq);
	snprintf(name, sizeof(name), "bench-sweep-%" PRIu64, seq);
	spec.account_id = (char *)(uintptr_t)(b->o.account ? b->o.account : "");
	spec.name = name;
	spec.kind = "training";
	spec.instance_type = "p5.48xlarge";
	spec.count = 2;
	spec.duration_seconds = 4 * 3600;
	spec.launch = &launch;
	launch.image_id = "ami-0123456789abcdef0";
	launch.subnet_id = "subnet-0123456789abcdef0";
	launch.n_security_group_ids = 1;
	launch.security_group_ids = sgs;
	tag.key = "sweep";
	tag.value = "bench";
	launch.n_tags = 1;
	launch.tags = tags;
	req.spec = &spec;
	req.idempotency_key = key;
	body_len = cbq__v1__submit_job_request__get_packed_size(&req);
	if (body_len > BODY_MAX)
		die("request over %d bytes", BODY_MAX);
	memcpy(c->req, b->prefix, b->prefix_len);
	n = b->prefix_len;
	n += (size_t)snprintf(c->req + n, sizeof(c->req) - n, "%zu\r\n\r\n", body_len);
	cbq__v1__submit_job_request__pack(&req, (uint8_t *)c->req + n);
	c->req_len = n + body_len;
}

/* ---- results -------------------------------------------------------------- */

static void sample_add(struct samples *s, double ms)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->ms = realloc(s->ms, s->cap * sizeof(*s->ms));
		if (!s->ms)
			abort();
	}
	s->ms[s->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const struct samples *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->ms[rank - 1];
}

static void count_error(struct bench *b, long status, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* One more error; the first one is kept to be shown at the end. */
static void count_error(struct bench *b, long status, const char *fmt, ...)
{
	va_list ap;

	if (b->errors++ > 0)
		return;
	b->first_error_status = status;
	va_start(ap, fmt);
	vsnprintf(b->first_error, sizeof(b->first_error), fmt, ap);
	va_end(ap);
}

/* ---- connections ---------------------------------------------------------- */

static bool in_flight(enum conn_state s)
{
	return s == C_SENDING || s == C_READING;
}

static void conn_set_state(struct bench *b, struct conn *c, enum conn_state to)
{
	b->inflight += (int)in_flight(to) - (int)in_flight(c->state);
	c->state = to;
}

/* Closes the connection, if any; `polite` sends close_notify first (not
 * allowed after a TLS error). The state is the caller's to set. */
static void conn_close(struct conn *c, bool polite)
{
	if (c->ssl) {
		if (polite)
			SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
		ERR_clear_error();
	}
	if (c->fd >= 0) {
		close(c->fd); /* also leaves the epoll set */
		c->fd = -1;
	}
}

static void conn_fail(struct bench *b, struct conn *c, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* The connection failed: one error (the request in flight, if any, is lost
 * and its time counted as a sample), closed, and tried again after a pause
 * that doubles while failures go on. */
static void conn_fail(struct bench *b, struct conn *c, const char *fmt, ...)
{
	double now = now_s();
	char why[sizeof(b->first_error)];
	va_list ap;

	if (in_flight(c->state))
		sample_add(&b->lat, (now - c->started) * 1000.0);
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	count_error(b, 0, "%s", why);
	conn_close(c, false);
	c->retry_ms = c->retry_ms ? c->retry_ms * 2 : RETRY_MS_MIN;
	if (c->retry_ms > RETRY_MS_MAX)
		c->retry_ms = RETRY_MS_MAX;
	c->deadline = now + c->retry_ms / 1000.0;
	conn_set_state(b, c, now < b->end ? C_RETRY : C_IDLE);
}

/* A failed SSL_connect/SSL_write/SSL_read that returned ret: fails the
 * connection with the reason, unless OpenSSL only wants the socket to be
 * readable or writable (then true: wait for the next event). SSL_get_error
 * needs an empty error queue before each call; every path that leaves
 * something in it (here, tls_error, conn_close) empties it. */
static bool tls_wait_or_fail(struct bench *b, struct conn *c, int ret, const char *doing)
{
	int sys = errno;
	int e = SSL_get_error(c->ssl, ret);
	long verify = SSL_get_verify_result(c->ssl);
	char buf[256];
	const char *why;

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return true;
	if (verify != X509_V_OK && e == SSL_ERROR_SSL) {
		ERR_clear_error();
		conn_fail(b, c,
			  "%s %s: server certificate not trusted: %s (is --ca the CA that "
			  "signed it, and does it name %s?)",
			  doing, b->t.authority, X509_verify_cert_error_string(verify), b->t.host);
		return false;
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		why = "closed by the server";
	else if (e == SSL_ERROR_SYSCALL && !ERR_peek_error())
		why = sys ? strerror(sys) : "closed by the server";
	else
		why = tls_error(buf, sizeof(buf));
	ERR_clear_error();
	conn_fail(b, c, "%s %s: %s", doing, b->t.authority, why);
	return false;
}

static void conn_connect(struct bench *b, struct conn *c);
static void request_start(struct bench *b, struct conn *c);

static void conn_handshake(struct bench *b, struct conn *c)
{
	int r = SSL_connect(c->ssl);

	if (r != 1) {
		tls_wait_or_fail(b, c, r, "TLS handshake with");
		return;
	}
	if (now_s() < b->end) {
		request_start(b, c);
		return;
	}
	conn_set_state(b, c, C_IDLE);
}

/* connect(2) failed with err: the next address the server's name has, or a
 * failure once none is left. */
static void conn_refused(struct bench *b, struct conn *c, int err)
{
	if (c->ai->ai_next) {
		c->ai = c->ai->ai_next;
		conn_close(c, false);
		conn_connect(b, c);
		return;
	}
	c->ai = NULL;
	conn_fail(b, c, "connect to %s: %s", b->t.authority, strerror(err));
}

static void conn_connected(struct bench *b, struct conn *c, uint32_t events)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		return;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		conn_refused(b, c, err);
		return;
	}
	conn_set_state(b, c, C_HANDSHAKE);
	conn_handshake(b, c);
}

/* A new TCP connection and TLS session; both continue in the event loop. */
static void conn_connect(struct bench *b, struct conn *c)
{
	const struct addrinfo *ai = c->ai ? c->ai : b->addr;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c };
	int one = 1;

	c->ai = ai;
	c->deadline = now_s() + TIMEOUT_S;
	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(b, c, "socket: %s", strerror(errno));
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ssl = SSL_new(b->tls);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (!b->t.is_ip && SSL_set_tlsext_host_name(c->ssl, b->t.host) != 1)) {
		char err[256];

		conn_fail(b, c, "TLS: %s", tls_error(err, sizeof(err)));
		return;
	}
	SSL_set_connect_state(c->ssl);
	if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
		conn_fail(b, c, "epoll_ctl: %s", strerror(errno));
		return;
	}
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		conn_set_state(b, c, C_HANDSHAKE);
		conn_handshake(b, c);
	} else if (errno == EINPROGRESS) {
		conn_set_state(b, c, C_CONNECTING);
	} else {
		conn_refused(b, c, errno);
	}
}

/* ---- one request at a time on a connection -------------------------------- */

static void request_send(struct bench *b, struct conn *c)
{
	/* all of it or nothing: no SSL_MODE_ENABLE_PARTIAL_WRITE, and a retry
	 * after WANT_* passes the same buffer and length */
	int r = SSL_write(c->ssl, c->req, (int)c->req_len);

	if (r <= 0) {
		tls_wait_or_fail(b, c, r, "sending to");
		return;
	}
	c->in_len = 0;
	c->head_done = false;
	conn_set_state(b, c, C_READING);
}

static void request_start(struct bench *b, struct conn *c)
{
	make_request(b, c);
	c->started = now_s();
	c->deadline = c->started + TIMEOUT_S;
	conn_set_state(b, c, C_SENDING);
	request_send(b, c);
}

/* The whole reply is in: count it, then the next request (on this
 * connection, or on a new one when the server closes it). */
static void reply_done(struct bench *b, struct conn *c)
{
	double now = now_s();

	sample_add(&b->lat, (now - c->started) * 1000.0);
	if (c->status == 201)
		b->ok++;
	else
		count_error(b, c->status, "reply was not 201 Created");
	c->retry_ms = 0;
	conn_set_state(b, c, C_IDLE);
	if (c->close_after)
		conn_close(c, true);
	if (now >= b->end)
		return;
	if (c->fd < 0)
		conn_connect(b, c);
	else
		request_start(b, c);
}

/* The head has arrived (it ends at in[end]): what it says, and whatever
 * body came with it. False if the connection failed. */
static bool reply_head_in(struct bench *b, struct conn *c, size_t end)
{
	struct reply_head h;
	const char *why = bench_http_parse_head(c->in, end, &h);
	size_t extra = c->in_len - end;

	if (why) {
		conn_fail(b, c, "reply from %s: %s", b->t.authority, why);
		return false;
	}
	if (extra > h.length) {
		conn_fail(b, c, "reply from %s: more than its Content-Length", b->t.authority);
		return false;
	}
	c->head_done = true;
	c->status = h.status;
	c->close_after = h.close;
	c->body_left = h.length - extra;
	return true;
}

/* Reads until the reply is complete or the socket is drained: the head into
 * c->in, then the body, counted and dropped (never past its end: there is
 * nothing after it). */
static void reply_read(struct bench *b, struct conn *c)
{
	for (;;) {
		size_t room, from;
		int r;

		if (c->head_done && c->body_left == 0) {
			reply_done(b, c);
			return;
		}
		if (c->head_done)
			room = c->body_left < sizeof(c->in) ? c->body_left : sizeof(c->in);
		else
			room = sizeof(c->in) - c->in_len;
		if (room == 0) {
			conn_fail(b, c, "reply from %s: headers over %d bytes", b->t.authority,
				  HEAD_MAX);
			return;
		}
		r = SSL_read(c->ssl, c->head_done ? c->in : c->in + c->in_len, (int)room);
		if (r <= 0) {
			tls_wait_or_fail(b, c, r, "reading from");
			return;
		}
		if (c->head_done) {
			c->body_left -= (size_t)r;
			continue;
		}
		from = c->in_len >= 3 ? c->in_len - 3 : 0;
		c->in_len += (size_t)r;
		size_t end = bench_http_head_end(c->in, c->in_len, from);
		if (end && !reply_head_in(b, c, end))
			return;
	}
}

static void on_event(struct bench *b, struct conn *c, uint32_t events)
{
	switch (c->state) {
	case C_CONNECTING: conn_connected(b, c, events); break;
	case C_HANDSHAKE: conn_handshake(b, c); break;
	case C_SENDING: request_send(b, c); break;
	case C_READING: reply_read(b, c); break;
	case C_IDLE:
	case C_RETRY: break; /* an idle keep-alive connection, or one just closed */
	}
}

static const char *state_name(enum conn_state s)
{
	switch (s) {
	case C_CONNECTING: return "connecting to";
	case C_HANDSHAKE: return "TLS handshake with";
	case C_SENDING: return "sending to";
	case C_READING: return "waiting for a reply from";
	case C_IDLE:
	case C_RETRY: break;
	}
	return "idle";
}

/* Every SWEEP_MS: connections past their deadline, and retries due. */
static void sweep(struct bench *b, double now)
{
	for (int i = 0; i < b->o.connections; i++) {
		struct conn *c = &b->conns[i];

		if (c->state == C_IDLE || now < c->deadline)
			continue;
		if (c->state != C_RETRY)
			conn_fail(b, c, "%s %s: no progress in %d s", state_name(c->state),
				  b->t.authority, TIMEOUT_S);
		else if (now < b->end)
			conn_connect(b, c);
		else
			conn_set_state(b, c, C_IDLE);
	}
}

/* Requests until the end, then until none is in flight. */
static void run(struct bench *b)
{
	struct epoll_event events[EVENTS_MAX];
	double next_sweep = 0;

	for (int i = 0; i < b->o.connections; i++)
		conn_connect(b, &b->conns[i]);
	for (;;) {
		double now = now_s(), wake;
		int n;

		if (now >= b->end && b->inflight == 0)
			break;
		if (now >= next_sweep) {
			sweep(b, now);
			next_sweep = now + SWEEP_MS / 1000.0;
		}
		wake = now < b->end && b->end < next_sweep ? b->end : next_sweep;
		n = epoll_wait(b->epfd, events, EVENTS_MAX, (int)((wake - now) * 1000.0) + 1);
		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			on_event(b, events[i].data.ptr, events[i].events);
	}
}

int main(int argc, char **argv)
{
	struct bench b = { .epfd = -1, .first_error_status = -1 };
	double t0, elapsed;

	parse(argc, argv, &b.o);
	if (!bench_http_parse_url(b.o.server, &b.t)) {
		fprintf(stderr, "cbq-bench-submit: --server must be https://HOST[:PORT][/PATH]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN); /* a closed connection is an error, not the end */
	raise_fd_limit(b.o.connections);
	tls_setup(&b);
	resolve(&b);
	request_prefix(&b);
	b.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b.epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	b.conns = calloc((size_t)b.o.connections, sizeof(*b.conns));
	if (!b.conns)
		abort();
	for (int i = 0; i < b.o.connections; i++)
		b.conns[i].fd = -1;

	t0 = now_s();
	b.end = t0 + b.o.seconds;
	run(&b);
	elapsed = now_s() - t0;

	qsort(b.lat.ms, b.lat.n, sizeof(*b.lat.ms), cmp_double);
	printf("connections=%d seconds=%d submits=%" PRIu64 " rate_per_s=%.0f p50_ms=%.2f "
	       "p99_ms=%.2f errors=%" PRIu64 "\n",
	       b.o.connections, b.o.seconds, b.ok, (double)b.ok / elapsed, percentile(&b.lat, 50),
	       percentile(&b.lat, 99), b.errors);
	if (b.errors)
		fprintf(stderr, "cbq-bench-submit: first error: status %ld (%s)\n",
			b.first_error_status, b.first_error);
	for (int i = 0; i < b.o.connections; i++)
		conn_close(&b.conns[i], b.conns[i].state == C_IDLE);
	free(b.conns);
	close(b.epfd);
	SSL_CTX_free(b.tls);
	freeaddrinfo(b.addr);
	free(b.lat.ms);
	return b.errors ? 1 : 0;
}
