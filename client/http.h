/*
 * The CLI's one HTTPS connection to cbqd (libcurl easy, blocking): TLS
 * settings, authentication headers, timeouts and a cap on reply size. It
 * moves bytes; call.c decides what they mean.
 */
#ifndef CBQ_CLIENT_HTTP_H
#define CBQ_CLIENT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "args.h"
#include "core/err.h"

enum {
	CLI_HTTP_CONNECT_TIMEOUT_S = 5,
	CLI_HTTP_TIMEOUT_S = 30,
	CLI_HTTP_REPLY_MAX = 32 * 1024 * 1024,
	CLI_HTTP_URL_MAX = 8192,
};

struct cli_http;

struct cli_http_reply {
	long status;
	char content_type[128]; /* lower-cased, parameters dropped; "" if none */
	uint8_t *body;          /* malloc'd, owned by the reply */
	size_t len;
	long retry_after_s;     /* Retry-After in seconds; -1 when absent */
};

void cli_http_reply_free(struct cli_http_reply *r);

/* Now by cbqd's clock (its X-Cbq-Now-Ms on the last reply; this machine's
 * clock before any reply, or with h NULL), Unix ms. */
struct cli_http;
int64_t cli_http_now_ms(const struct cli_http *h);

/*
 * A connection for settings s (copied as needed; s may go away). Fails with
 * CBQ_ERR_INVALID when the server is not an https:// URL or --cert and
 * --key are not given together.
 */
enum cbq_err cli_http_new(const struct cli_settings *s, struct cli_http **out,
			  struct cbq_error *err) CBQ_MUST_CHECK;
void cli_http_free(struct cli_http *h);

/* The server URL in use, for messages. */
const char *cli_http_server(const struct cli_http *h);

/*
 * Sends method path (path starts with "/", already escaped) with body
 * (may be NULL with len 0; sent as application/x-protobuf for POST) and
 * fills *out with whatever HTTP reply came back, 2xx or not. Fails with
 * CBQ_ERR_UNAVAILABLE when no reply came (connect, TLS, timeout), naming
 * the URL and curl's error; CBQ_ERR_TOO_LARGE when the reply is over
 * CLI_HTTP_REPLY_MAX.
 */
enum cbq_err cli_http_request(struct cli_http *h, const char *method, const char *path,
			      const uint8_t *body, size_t len, struct cli_http_reply *out,
			      struct cbq_error *err) CBQ_MUST_CHECK;

/* curl_easy_escape for one path segment or query value; malloc'd or NULL. */
char *cli_http_escape(struct cli_http *h, const char *s);

#endif
