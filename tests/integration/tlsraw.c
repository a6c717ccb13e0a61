/* A raw TLS client for the limits and reload tests; see tlsraw.h. */
#define _GNU_SOURCE /* memmem */
#include "tlsraw.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "harness.h"

struct t_tls {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	unsigned char in[65536]; /* read but not yet consumed */
	size_t in_len;
};

long long t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct t_tls *t_tls_open(int port, const struct t_tls_opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct t_tls *t = calloc(1, sizeof(*t));

	cr_assert(t);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	t->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(t->fd >= 0);
	if (connect(t->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(t->fd);
		free(t);
		return NULL;
	}
	fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
	t->ctx = SSL_CTX_new(TLS_client_method());
	cr_assert(t->ctx);
	if (o && o->max_version) {
		/* OpenSSL 3 refuses old versions on its own at level 1: the test
		 * is whether cbqd refuses them */
		SSL_CTX_set_security_level(t->ctx, 0);
		SSL_CTX_set_cipher_list(t->ctx, "DEFAULT:@SECLEVEL=0");
		SSL_CTX_set_min_proto_version(t->ctx, 0);
		SSL_CTX_set_max_proto_version(t->ctx, o->max_version);
	}
	cr_assert_eq(SSL_CTX_load_verify_locations(t->ctx, h_cert("ca.pem"), NULL), 1);
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, NULL);
	if (o && o->cert) {
		cr_assert_eq(SSL_CTX_use_certificate_chain_file(t->ctx, o->cert), 1, "%s", o->cert);
		cr_assert_eq(SSL_CTX_use_PrivateKey_file(t->ctx, o->key, SSL_FILETYPE_PEM), 1, "%s",
			     o->key);
	}
	t->ssl = SSL_new(t->ctx);
	cr_assert(t->ssl);
	SSL_set_fd(t->ssl, t->fd);
	SSL_set_tlsext_host_name(t->ssl, "localhost");
	SSL_set1_host(t->ssl, "localhost");
	return t;
}

/* Waits for what SSL asked for; false at the deadline. */
static bool wait_for(struct t_tls *t, int ssl_err, long long deadline)
{
	struct pollfd p = { .fd = t->fd,
			    .events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
	long long left = deadline - t_now_ms();

	if (left <= 0)
		return false;
	return poll(&p, 1, (int)left) > 0;
}

int t_tls_handshake(struct t_tls *t, int timeout_ms)
{
	long long deadline = t_now_ms() + timeout_ms;

	for (;;) {
		int rc = SSL_connect(t->ssl), e;

		if (rc == 1)
			return 1;
		e = SSL_get_error(t->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			ERR_clear_error();
			return -1;
		}
		if (!wait_for(t, e, deadline))
			return 0;
	}
}

struct t_tls *t_tls_connect(int port, const struct t_tls_opts *o)
{
	struct t_tls *t = t_tls_open(port, o);
	int rc;

	cr_assert(t, "cannot connect to 127.0.0.1:%d", port);
	rc = t_tls_handshake(t, 5000);
	cr_assert_eq(rc, 1, "TLS handshake with 127.0.0.1:%d %s", port,
		     rc == 0 ? "timed out" : "failed");
	return t;
}

void t_tls_close(struct t_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	close(t->fd);
	free(t);
}

int t_tls_send(struct t_tls *t, const void *buf, size_t len, int timeout_ms)
{
	long long deadline = t_now_ms() + timeout_ms;
	size_t done = 0;

	while (done < len) {
		int rc = SSL_write(t->ssl, (const char *)buf + done, (int)(len - done)), e;

		if (rc > 0) {
			done += (size_t)rc;
			continue;
		}
		e = SSL_get_error(t->ssl, rc);
		if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
		    !wait_for(t, e, deadline)) {
			ERR_clear_error();
			return -1;
		}
	}
	return 0;
}

/* Reads more into t->in: 1 got bytes, 0 closed or failed, -1 timed out. */
static int read_more(struct t_tls *t, long long deadline)
{
	for (;;) {
		int rc, e;

		if (t->in_len == sizeof(t->in))
			return 0;
		rc = SSL_read(t->ssl, t->in + t->in_len, (int)(sizeof(t->in) - t->in_len));
		if (rc > 0) {
			t->in_len += (size_t)rc;
			return 1;
		}
		e = SSL_get_error(t->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			ERR_clear_error();
			return 0;
		}
		if (!wait_for(t, e, deadline))
			return -1;
	}
}

void t_tls_read_reply(struct t_tls *t, int timeout_ms, struct t_reply *r)
{
	long long deadline = t_now_ms() + timeout_ms;
	unsigned char *end = NULL;
	size_t head_len = 0, body_len = 0;
	const char *cl;

	memset(r, 0, sizeof(*r));
	while (!end) {
		end = memmem(t->in, t->in_len, "\r\n\r\n", 4);
		if (!end && read_more(t, deadline) != 1)
			return;
	}
	head_len = (size_t)(end - t->in) + 4;
	cr_assert_lt(head_len, sizeof(r->head), "reply head too long");
	memcpy(r->head, t->in, head_len);
	r->head[head_len] = '\0';
	cl = t_reply_header(r, "Content-Length");
	body_len = cl ? strtoul(cl, NULL, 10) : 0;
	cr_assert_leq(head_len + body_len, sizeof(t->in), "reply too long for the test client");
	while (t->in_len < head_len + body_len)
		if (read_more(t, deadline) != 1)
			return;
	r->body = malloc(body_len + 1);
	cr_assert(r->body);
	memcpy(r->body, t->in + head_len, body_len);
	r->body[body_len] = '\0';
	r->len = body_len;
	memmove(t->in, t->in + head_len + body_len, t->in_len - head_len - body_len);
	t->in_len -= head_len + body_len;
	if (sscanf(r->head, "HTTP/1.%*d %ld", &r->status) != 1)
		r->status = 0;
}

void t_reply_free(struct t_reply *r)
{
	free(r->body);
	r->body = NULL;
}

const char *t_reply_header(const struct t_reply *r, const char *name)
{
	static char value[512];
	size_t n = strlen(name);

	for (const char *line = strstr(r->head, "\r\n"); line && line[2];
	     line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
			const char *v = h + n + 1, *e = strstr(v, "\r\n");
			size_t len;
			while (*v == ' ')
				v++;
			len = e ? (size_t)(e - v) : strlen(v);
			if (len >= sizeof(value))
				len = sizeof(value) - 1;
			memcpy(value, v, len);
			value[len] = '\0';
			return value;
		}
	}
	return NULL;
}

void t_tls_get(struct t_tls *t, const char *path, const char *account, const char *extra,
	       struct t_reply *r)
{
	size_t size = strlen(path) + (extra ? strlen(extra) : 0) + 256;
	char *req = malloc(size);
	int n;

	cr_assert(req);
	n = snprintf(req, size, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s%s\r\n", path,
		     account ? "X-Cbq-Account: " : "", account ? account : "",
		     account ? "\r\n" : "", extra ? extra : "");
	cr_assert(n > 0 && (size_t)n < size);
	memset(r, 0, sizeof(*r));
	if (t_tls_send(t, req, (size_t)n, 5000) == 0)
		t_tls_read_reply(t, 5000, r);
	free(req);
}

/* Before a handshake: the socket itself, sending nothing. */
static long raw_wait_closed(struct t_tls *t, long long start, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = t->fd, .events = POLLIN };
		long long left = deadline - t_now_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		n = recv(t->fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return (long)(t_now_ms() - start);
	}
}

long t_tls_wait_closed(struct t_tls *t, int timeout_ms)
{
	long long start = t_now_ms(), deadline = start + timeout_ms;

	if (!SSL_is_init_finished(t->ssl))
		return raw_wait_closed(t, start, deadline);
	for (;;) {
		int rc = read_more(t, deadline);

		if (rc == 0)
			return (long)(t_now_ms() - start);
		if (rc < 0)
			return -1;
		t->in_len = 0; /* drop what came */
	}
}

static void hex(const unsigned char *md, unsigned n, char out[65])
{
	for (unsigned i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void t_tls_peer_fingerprint(struct t_tls *t, char out[65])
{
	X509 *cert = SSL_get1_peer_certificate(t->ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	cr_assert(cert, "no server certificate");
	X509_digest(cert, EVP_sha256(), md, &n);
	hex(md, n, out);
	X509_free(cert);
}

void t_pem_fingerprint(const char *path, char out[65])
{
	FILE *f = fopen(path, "r");
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	cr_assert(f, "cannot read %s", path);
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	cr_assert(cert, "%s holds no certificate", path);
	X509_digest(cert, EVP_sha256(), md, &n);
	hex(md, n, out);
	X509_free(cert);
}
