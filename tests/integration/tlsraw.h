/*
 * A raw TLS client for tests that need what libcurl hides: the protocol
 * version offered, when the handshake completes, bytes trickled one at a
 * time, the server's certificate, several requests on one connection and
 * response headers. Blocking calls with deadlines; not a general HTTP client
 * (replies need Content-Length, which cbqd and evhttp always send).
 */
#ifndef CBQ_TESTS_TLSRAW_H
#define CBQ_TESTS_TLSRAW_H

#include <stddef.h>

struct t_tls;

struct t_tls_opts {
	int max_version;  /* 0 = any; e.g. TLS1_1_VERSION for a refused client */
	const char *cert; /* client certificate and key (PEM), NULL = none;
			   * not h_cert()'s buffer, which t_tls_open reuses */
	const char *key;
};

/* TCP-connects to 127.0.0.1:port (no handshake yet); NULL when refused.
 * The server certificate is verified against CBQ_TEST_CERTS/ca.pem. */
struct t_tls *t_tls_open(int port, const struct t_tls_opts *o);
/* 1 when the handshake completed, 0 when timeout_ms passed first, -1 when
 * it failed (the server refused or closed). */
int t_tls_handshake(struct t_tls *t, int timeout_ms);
/* open + handshake; fails the Criterion test unless it completes. */
struct t_tls *t_tls_connect(int port, const struct t_tls_opts *o);
void t_tls_close(struct t_tls *t);

/* Writes all of buf; 0 on success, -1 when the connection broke. */
int t_tls_send(struct t_tls *t, const void *buf, size_t len, int timeout_ms);

struct t_reply {
	long status;	     /* 0: no complete reply (closed or timed out) */
	char head[8192];     /* status line and headers */
	unsigned char *body; /* malloc'd */
	size_t len;
};
/* Reads one HTTP/1.1 reply. */
void t_tls_read_reply(struct t_tls *t, int timeout_ms, struct t_reply *r);
void t_reply_free(struct t_reply *r);
/* The value of header name in r (static buffer), NULL when absent. */
const char *t_reply_header(const struct t_reply *r, const char *name);

/* GET path with X-Cbq-Account: account (NULL: none) and extra header
 * lines ("Name: value\r\n"..., may be NULL), then the reply. */
void t_tls_get(struct t_tls *t, const char *path, const char *account, const char *extra,
	       struct t_reply *r);

/* Waits for the server to close the connection (reading and dropping
 * anything it sends): milliseconds it took, or -1 if still open after
 * timeout_ms. */
long t_tls_wait_closed(struct t_tls *t, int timeout_ms);

/* SHA-256 of the server's certificate as hex, of a PEM file likewise. */
void t_tls_peer_fingerprint(struct t_tls *t, char out[65]);
void t_pem_fingerprint(const char *path, char out[65]);

/* Monotonic milliseconds. */
long long t_now_ms(void);

#endif
