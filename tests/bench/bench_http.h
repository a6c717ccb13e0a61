/*
 * The HTTP that cbq-bench-submit speaks, parsed without I/O: where --server
 * points, and the head of a reply (status, Content-Length, Connection).
 * Only what cbqd sends is accepted: Content-Length bodies, no chunking.
 */
#ifndef CBQ_BENCH_HTTP_H
#define CBQ_BENCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>

enum {
	BENCH_SERVER_MAX = 400,	     /* --server */
	BENCH_REPLY_MAX = 64 * 1024, /* a reply body; more is an error */
};

/* Where --server points. */
struct target {
	char host[BENCH_SERVER_MAX + 1]; /* a name or an address, no brackets */
	char port[6];
	char authority[BENCH_SERVER_MAX + 1]; /* the Host header: as in the URL */
	char path[BENCH_SERVER_MAX + 16];     /* the URL's path + /v1/jobs */
	bool is_ip;
};

bool bench_http_parse_url(const char *url, struct target *t);

/* What a reply's head says. */
struct reply_head {
	int status;
	bool has_length, close;
	size_t length;
};

/* A complete reply head p[0..n), ending in CRLF CRLF, into h; NULL or what
 * is wrong with it. */
const char *bench_http_parse_head(const char *p, size_t n, struct reply_head *h);
/* Where the head ends (just past CRLF CRLF) in p[0..n), searching from
 * `from`; 0 if it has not yet. */
size_t bench_http_head_end(const char *p, size_t n, size_t from);

#endif
