/*
 * The HTTPS server: libevent's evhttp over OpenSSL bufferevents, TLS 1.2+,
 * optional client certificates, HTTP/1.1 keep-alive. It authenticates the
 * transport (mTLS or the dev header), routes, and hands each request to a
 * handler with a struct api_call. It enforces the API's limits (per-team
 * rate, connection cap, header and body caps, idle and request deadlines)
 * and swaps in new TLS files on request. It knows nothing of jobs.
 */
#ifndef CBQ_API_SERVER_H
#define CBQ_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct event_base;
struct engine;
struct api_server;
struct auth_iam_verifier;

struct api_config {
	const char *listen;      /* HOST:PORT */
	const char *tls_cert;    /* PEM chain */
	const char *tls_key;
	const char *client_ca;   /* NULL: no client certificates */
	bool insecure_dev_auth;  /* X-Cbq-Account; loopback listeners only */
	size_t max_body;         /* bytes */
	size_t max_headers;      /* bytes */
	int idle_timeout_s;      /* no byte from the client (keep-alive), or a stalled write */
	int request_timeout_s;   /* accept or first byte → whole request, TLS handshake included */
	int max_connections;     /* more wait in the listen backlog until one closes */
	unsigned rate_per_team;  /* requests/s sustained per team; 0 = no limit */
	unsigned rate_burst_per_team;
	/* checks CBQ-AWS-IAM-V1 tokens (borrowed; free it after the server's last
	 * request, before api_server_free); NULL: IAM identity is off */
	struct auth_iam_verifier *iam;
};

/* Binds and starts accepting. Refuses (CBQ_ERR_INVALID naming the option)
 * dev auth on a listener that is not loopback, and reports unreadable
 * certificates and busy ports. */
struct api_server *api_server_start(struct event_base *base, const struct api_config *cfg,
				    struct engine *engine, struct cbq_error *err);
/* Reads cfg's tls_cert, tls_key and client_ca into a new TLS context for
 * new connections; open connections keep the one they started with. On
 * failure the old context stays and err names the file (CBQ_ERR_INVALID).
 * The other settings of cfg are not looked at. */
enum cbq_err api_server_reload_tls(struct api_server *s, const struct api_config *cfg,
				   struct cbq_error *err) CBQ_MUST_CHECK;
/* Connections open now. */
int api_server_connections(const struct api_server *s);
/* Stops accepting new connections; requests in flight finish. */
void api_server_drain(struct api_server *s);
/* Requests being handled now. */
int api_server_inflight(const struct api_server *s);
void api_server_free(struct api_server *s);

#endif
