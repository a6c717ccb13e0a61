/*
 * The HTTPS server: libevent's evhttp over OpenSSL bufferevents, TLS 1.2+,
 * optional client certificates, HTTP/1.1 keep-alive. It authenticates the
 * transport (mTLS or the dev header), routes, and hands each request to a
 * handler with a struct api_call. It knows nothing of jobs.
 */
#ifndef CBQ_API_SERVER_H
#define CBQ_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct event_base;
struct engine;
struct api_server;

struct api_config {
	const char *listen;      /* HOST:PORT */
	const char *tls_cert;    /* PEM chain */
	const char *tls_key;
	const char *client_ca;   /* NULL: no client certificates */
	bool insecure_dev_auth;  /* X-Cbq-Account; loopback listeners only */
	size_t max_body;         /* bytes */
	size_t max_headers;      /* bytes */
	int timeout_s;           /* read/write timeout per connection */
};

/* Binds and starts accepting. Refuses (CBQ_ERR_INVALID naming the option)
 * dev auth on a listener that is not loopback, and reports unreadable
 * certificates and busy ports. */
struct api_server *api_server_start(struct event_base *base, const struct api_config *cfg,
				    struct engine *engine, struct cbq_error *err);
/* Stops accepting new connections; requests in flight finish. */
void api_server_drain(struct api_server *s);
/* Requests being handled now. */
int api_server_inflight(const struct api_server *s);
void api_server_free(struct api_server *s);

#endif
