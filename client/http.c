/*
 * HTTPS to cbqd with libcurl's easy interface; see http.h. The CLI may
 * block, so one handle is driven synchronously and reused for keep-alive.
 * Peer and host are always verified; only https:// is spoken.
 */
#include "http.h"
#include "util/clock.h"

#include "auth_iam.h"
#include "core/job.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef CBQ_VERSION
#define CBQ_VERSION "dev"
#endif

struct cli_http {
	CURL *curl;
	char *server;  /* without trailing '/' */
	char *account; /* sent as X-Cbq-Account when there is no client certificate */
	struct cli_iam *iam; /* neither certificate nor account: IAM identity */
	int64_t server_offset_ms; /* cbqd's clock (X-Cbq-Now-Ms) minus ours, 0 until seen */
	int64_t header_now_ms;	  /* X-Cbq-Now-Ms of the reply being read, 0 if none */
	char errbuf[CURL_ERROR_SIZE];
};

/* Picks X-Cbq-Now-Ms out of the reply's header lines. */
static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	struct cli_http *h = arg;
	static const char name[] = "x-cbq-now-ms:";
	size_t len = size * n;

	if (len > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
		char v[24];
		size_t k = len - (sizeof(name) - 1) < sizeof(v) - 1 ? len - (sizeof(name) - 1)
								   : sizeof(v) - 1;
		memcpy(v, line + sizeof(name) - 1, k);
		v[k] = '\0';
		h->header_now_ms = strtoll(v, NULL, 10);
	}
	return len;
}

int64_t cli_http_now_ms(const struct cli_http *h)
{
	return cbq_clock_real_ms() + (h ? h->server_offset_ms : 0);
}

struct sink {
	uint8_t *data;
	size_t len, cap;
	bool too_big;
};

void cli_http_reply_free(struct cli_http_reply *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (n > CLI_HTTP_REPLY_MAX - s->len) {
		s->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 16 * 1024;
		uint8_t *grown;

		while (cap < s->len + n)
			cap *= 2;
		if (cap > CLI_HTTP_REPLY_MAX)
			cap = CLI_HTTP_REPLY_MAX;
		grown = realloc(s->data, cap);
		if (!grown)
			return 0;
		s->data = grown;
		s->cap = cap;
	}
	memcpy(s->data + s->len, ptr, n);
	s->len += n;
	return n;
}

enum cbq_err cli_http_new(const struct cli_settings *s, struct cli_http **out,
			  struct cbq_error *err)
{
	const char *server = s->server ? s->server : CLI_DEFAULT_SERVER;
	struct cli_http *h = NULL;
	size_t len = strlen(server);
	enum cbq_err rc;

	if (strncasecmp(server, "https://", 8) != 0 || len <= 8)
		return cbq_fail(err, CBQ_ERR_INVALID, "server",
				"server \"%.128s\" is not an https:// URL; cbq talks to cbqd over HTTPS only",
				server);
	if (len > CLI_HTTP_URL_MAX / 2)
		return cbq_fail(err, CBQ_ERR_INVALID, "server", "server URL is longer than %d characters",
				CLI_HTTP_URL_MAX / 2);
	if (s->account && !cbq_is_printable(s->account, CLI_SETTING_MAX))
		return cbq_fail(err, CBQ_ERR_INVALID, "account",
				"account must be printable characters, e.g. 111122223333");
	if (!s->cert != !s->key)
		return cbq_fail(err, CBQ_ERR_INVALID, s->cert ? "key" : "cert",
				"--cert and --key go together: give both for mTLS, or neither");

	/* a file curl cannot open is a bad flag, not an unreachable server */
	const struct {
		const char *name, *path;
	} files[] = { { "ca", s->ca }, { "cert", s->cert }, { "key", s->key } };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].path && access(files[i].path, R_OK) != 0)
			return cbq_fail(err, CBQ_ERR_INVALID, files[i].name, "cannot read --%s %.256s: %s",
					files[i].name, files[i].path, strerror(errno));

	h = calloc(1, sizeof(*h));
	if (!h || !(h->server = strdup(server)) ||
	    (s->account && !(h->account = strdup(s->account))) || !(h->curl = curl_easy_init())) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
		goto out;
	}
	while (len > 8 && h->server[len - 1] == '/')
		h->server[--len] = '\0';

	CURL *c = h->curl;
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CLI_HTTP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CLI_HTTP_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cbq/" CBQ_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	if (s->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca);
	if (s->cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, s->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, s->key);
		/* with a certificate the server knows who we are; the account
		 * travels in the JobSpec only */
		free(h->account);
		h->account = NULL;
	}
	if (!s->cert && !s->account) {
		rc = cli_iam_new(h->server, s->server_id, &h->iam, err);
		if (rc != CBQ_OK)
			goto out;
	}
	*out = h;
	h = NULL;
	rc = CBQ_OK;
out:
	cli_http_free(h);
	return rc;
}

void cli_http_free(struct cli_http *h)
{
	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	free(h->server);
	free(h->account);
	cli_iam_free(h->iam);
	free(h);
}

const char *cli_http_server(const struct cli_http *h)
{
	return h->server;
}

/* "application/x-protobuf; charset=x" → "application/x-protobuf" */
static void media_type(const char *ct, char *out, size_t size)
{
	size_t n = 0;

	for (; ct && *ct && *ct != ';' && *ct != ' ' && n + 1 < size; ct++)
		out[n++] = (*ct >= 'A' && *ct <= 'Z') ? (char)(*ct - 'A' + 'a') : *ct;
	out[n] = '\0';
}

/* Appends line; on failure frees the whole list and returns false. */
static bool add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *more = curl_slist_append(*list, line);

	if (!more) {
		curl_slist_free_all(*list);
		*list = NULL;
		return false;
	}
	*list = more;
	return true;
}

enum cbq_err cli_http_request(struct cli_http *h, const char *method, const char *path,
			      const uint8_t *body, size_t len, struct cli_http_reply *out,
			      struct cbq_error *err)
{
	struct curl_slist *headers = NULL;
	struct sink sink = { 0 };
	char url[CLI_HTTP_URL_MAX];
	char account_header[CLI_SETTING_MAX + 32];
	bool post = strcmp(method, "POST") == 0;
	CURL *c = h->curl;
	enum cbq_err rc;
	CURLcode res;
	char *ct = NULL;
	long status = 0;

	if ((size_t)snprintf(url, sizeof(url), "%s%s", h->server, path) >= sizeof(url))
		return cbq_fail(err, CBQ_ERR_INVALID, "", "request URL is longer than %d characters",
				CLI_HTTP_URL_MAX);

	if (!add_header(&headers, "Accept: application/x-protobuf") ||
	    (post && !add_header(&headers, "Content-Type: application/x-protobuf")) ||
	    !add_header(&headers, "Expect:"))
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	if (h->account) {
		snprintf(account_header, sizeof(account_header), "X-Cbq-Account: %s", h->account);
		if (!add_header(&headers, account_header))
			return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	}
	if (h->iam) {
		const char *value;
		char *line;

		rc = cli_iam_authorization(h->iam, &value, err);
		if (rc != CBQ_OK) {
			curl_slist_free_all(headers);
			return rc;
		}
		line = malloc(strlen(value) + 16);
		if (line)
			snprintf(line, strlen(value) + 16, "Authorization: %s", value);
		if (!line || !add_header(&headers, line)) {
			free(line);
			return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
		}
		free(line);
	}

	h->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	if (post) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}

	h->header_now_ms = 0;
	res = curl_easy_perform(c);
	if (res == CURLE_OK && h->header_now_ms > 0)
		h->server_offset_ms = h->header_now_ms - cbq_clock_real_ms();
	if (sink.too_big) {
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "", "%s answered with more than %d MiB", url,
			      CLI_HTTP_REPLY_MAX / (1024 * 1024));
		goto out;
	}
	if (res != CURLE_OK) {
		rc = cbq_fail(err, CBQ_ERR_UNAVAILABLE, "server", "cannot reach %s: %s", h->server,
			      h->errbuf[0] ? h->errbuf : curl_easy_strerror(res));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);

	memset(out, 0, sizeof(*out));
	out->status = status;
	/* curl reports 0 for no Retry-After (and for a date in the past) */
	curl_off_t retry_after = 0;
	if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
		retry_after = 0;
	out->retry_after_s = retry_after <= 0 ? -1 : retry_after > 86400 ? 86400 : (long)retry_after;
	media_type(ct, out->content_type, sizeof(out->content_type));
	out->body = sink.data;
	out->len = sink.len;
	sink.data = NULL;
	rc = CBQ_OK;
out:
	/* the handle must not keep pointers into this frame */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, NULL);
	curl_easy_setopt(c, CURLOPT_URL, NULL);
	curl_slist_free_all(headers);
	free(sink.data);
	return rc;
}

char *cli_http_escape(struct cli_http *h, const char *s)
{
	char *e = curl_easy_escape(h->curl, s, 0);
	char *copy;

	if (!e)
		return NULL;
	copy = strdup(e);
	curl_free(e);
	return copy;
}
