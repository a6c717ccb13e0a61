/*
 * Where cbqd listens and how it speaks TLS: the server's SSL_CTX (TLS 1.2+,
 * its certificate chain and key, the client CA asked for but not required),
 * HOST:PORT parsing and the loopback checks dev auth and /metrics rely on.
 * See listen.h.
 */
#include "api/listen.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static enum cbq_err tls_error(struct cbq_error *err, const char *field, const char *what,
			      const char *path)
{
	char detail[160];

	ERR_error_string_n(ERR_get_error(), detail, sizeof(detail));
	return cbq_fail(err, CBQ_ERR_INVALID, field, "cannot load %s %s: %s", what, path, detail);
}

SSL_CTX *api_tls_context(const struct api_config *cfg, struct cbq_error *err)
{
	SSL_CTX *ctx;

	ERR_clear_error(); /* so that tls_error reports this load's failure */
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "cannot create a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		tls_error(err, "tls-cert", "certificate", cfg->tls_cert);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		tls_error(err, "tls-key", "private key", cfg->tls_key);
		goto fail;
	}
	if (cfg->client_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->client_ca);
		if (!names || SSL_CTX_load_verify_locations(ctx, cfg->client_ca, NULL) != 1) {
			sk_X509_NAME_pop_free(names, X509_NAME_free);
			tls_error(err, "client-ca", "client CA", cfg->client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		/* ask for a certificate but do not require one: other ways in exist */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* Splits HOST:PORT ([v6]:PORT too). */
enum cbq_err api_split_listen(const char *listen, char *host, size_t hsize, int *port,
				 struct cbq_error *err)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t hlen;
	char *end;
	long p;

	if (!colon)
		return cbq_fail(err, CBQ_ERR_INVALID, "listen", "listen must be HOST:PORT, got %s",
				listen);
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535 || hlen == 0 || hlen >= hsize)
		return cbq_fail(err, CBQ_ERR_INVALID, "listen", "listen must be HOST:PORT, got %s",
				listen);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (int)p;
	return CBQ_OK;
}

/* Every address host resolves to is loopback. */
bool api_host_is_loopback(const char *host)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	bool all = true;

	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return false;
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			const struct sockaddr_in *a = (const void *)ai->ai_addr;
			all &= (ntohl(a->sin_addr.s_addr) >> 24) == 127;
		} else if (ai->ai_family == AF_INET6) {
			const struct sockaddr_in6 *a = (const void *)ai->ai_addr;
			all &= IN6_IS_ADDR_LOOPBACK(&a->sin6_addr);
		} else {
			all = false;
		}
	}
	freeaddrinfo(res);
	return all;
}

bool api_peer_is_loopback(struct evhttp_connection *evcon)
{
	char *addr = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(evcon, &addr, &port);
	return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
			strncmp(addr, "::ffff:127.", 11) == 0);
}
