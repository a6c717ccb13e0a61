/* HTTP parsing for cbq-bench-submit (see bench_http.h). */
#include "bench_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* https://HOST[:PORT][/PATH] → t; false if it is not that. */
bool bench_http_parse_url(const char *url, struct target *t)
{
	const char *auth, *slash, *host, *host_end, *port = "443";
	size_t auth_len, host_len, path_len;
	char *end;
	struct in6_addr a6;

	memset(t, 0, sizeof(*t));
	if (strncasecmp(url, "https://", 8) != 0)
		return false;
	auth = url + 8;
	slash = strchr(auth, '/');
	auth_len = slash ? (size_t)(slash - auth) : strlen(auth);
	if (auth_len == 0 || strcspn(url, "?#@ \t\r\n") != strlen(url))
		return false;
	host = auth;
	if (*host == '[') { /* [IPv6]:port */
		host_end = memchr(auth, ']', auth_len);
		if (!host_end)
			return false;
		host++;
		if (host_end + 1 < auth + auth_len && host_end[1] != ':')
			return false;
		if (host_end + 1 < auth + auth_len)
			port = host_end + 2;
	} else {
		host_end = memchr(auth, ':', auth_len);
		if (host_end)
			port = host_end + 1;
		else
			host_end = auth + auth_len;
	}
	host_len = (size_t)(host_end - host);
	if (host_len == 0)
		return false;
	memcpy(t->host, host, host_len);
	long p = strtol(port, &end, 10);
	if (end == port || (*end != '\0' && *end != '/') || p < 1 || p > 65535)
		return false;
	snprintf(t->port, sizeof(t->port), "%ld", p);
	memcpy(t->authority, auth, auth_len);
	/* the URL's own path, without trailing slashes, then the resource */
	path_len = slash ? strlen(slash) : 0;
	while (path_len > 0 && slash[path_len - 1] == '/')
		path_len--;
	if (path_len)
		memcpy(t->path, slash, path_len);
	memcpy(t->path + path_len, "/v1/jobs", sizeof("/v1/jobs"));
	t->is_ip = inet_pton(AF_INET, t->host, &a6) == 1 || inet_pton(AF_INET6, t->host, &a6) == 1;
	return true;
}

/* Whether the comma-separated list v[0..n) holds token (any case). */
static bool has_token(const char *v, size_t n, const char *token)
{
	size_t tl = strlen(token);

	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j] != ',')
			j++;
		size_t s = i, e = j;
		while (s < e && (v[s] == ' ' || v[s] == '\t'))
			s++;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

static bool name_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/* One header line (name: value, no CRLF) into h; NULL or what is wrong. */
static const char *parse_header(const char *p, size_t n, struct reply_head *h)
{
	const char *colon = memchr(p, ':', n);
	size_t name_len, vs, ve = n;

	if (!colon || colon == p)
		return "malformed reply header";
	name_len = (size_t)(colon - p);
	vs = name_len + 1;
	while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
		vs++;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	if (name_is(p, name_len, "Content-Length")) {
		size_t len = 0;

		if (h->has_length || vs == ve)
			return "bad Content-Length in reply";
		for (size_t i = vs; i < ve; i++) {
			if (p[i] < '0' || p[i] > '9')
				return "bad Content-Length in reply";
			len = len * 10 + (size_t)(p[i] - '0');
			if (len > BENCH_REPLY_MAX)
				return "reply body over 64 KiB";
		}
		h->has_length = true;
		h->length = len;
	} else if (name_is(p, name_len, "Transfer-Encoding")) {
		return "reply with Transfer-Encoding (cbqd sends Content-Length)";
	} else if (name_is(p, name_len, "Connection")) {
		h->close = h->close || has_token(p + vs, ve - vs, "close");
	}
	return NULL;
}

/* A complete reply head p[0..n), ending in CRLF CRLF, into h; NULL or what
 * is wrong with it. */
const char *bench_http_parse_head(const char *p, size_t n, struct reply_head *h)
{
	const char *line, *end = p + n - 2; /* the final empty line */
	const char *why;

	memset(h, 0, sizeof(*h));
	if (n < 16 || memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9' ||
	    (p[12] != ' ' && p[12] != '\r'))
		return "malformed reply status line";
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	h->close = p[7] == '0'; /* HTTP/1.0: we never ask for its keep-alive */
	line = memchr(p, '\n', n);
	for (line++; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line) + 1);

		if (!nl || nl == line || nl[-1] != '\r')
			return "malformed reply header";
		why = parse_header(line, (size_t)(nl - 1 - line), h);
		if (why)
			return why;
		line = nl + 1;
	}
	if (h->status == 204 || h->status == 304) {
		h->has_length = true;
		h->length = 0;
	}
	if (!h->has_length)
		return "reply without Content-Length";
	return NULL;
}

/* Where the head ends (just past CRLF CRLF) in p[0..n), searching from
 * `from`; 0 if it has not yet. */
size_t bench_http_head_end(const char *p, size_t n, size_t from)
{
	for (size_t i = from; i + 4 <= n; i++) {
		if (p[i] == '\r' && p[i + 1] == '\n' && p[i + 2] == '\r' && p[i + 3] == '\n')
			return i + 4;
	}
	return 0;
}
