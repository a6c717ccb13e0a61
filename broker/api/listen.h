/*
 * The listener's pieces that know nothing of requests: the TLS context and
 * address checks (listen.c). Used by server.c only.
 */
#ifndef CBQ_API_LISTEN_H
#define CBQ_API_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

#include "api/server.h"
#include "core/err.h"

struct evhttp_connection;

/* A server context from cfg's tls_cert, tls_key and client_ca: TLS 1.2+, no
 * renegotiation; a client certificate is asked for when client_ca is set,
 * never required. NULL with err naming the option and file on failure. */
SSL_CTX *api_tls_context(const struct api_config *cfg, struct cbq_error *err);
/* Splits HOST:PORT ([v6]:PORT too) into host (hsize bytes) and port. */
enum cbq_err api_split_listen(const char *listen, char *host, size_t hsize, int *port,
			      struct cbq_error *err);
/* Every address host resolves to is loopback. */
bool api_host_is_loopback(const char *host);
/* The connection's peer is a loopback address. */
bool api_peer_is_loopback(struct evhttp_connection *evcon);

#endif
