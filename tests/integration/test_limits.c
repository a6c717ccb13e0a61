/*
 * cbqd's API limits over real TLS: the per-team request rate (429 with
 * Retry-After, other teams unaffected, the CLI waiting it out), the
 * connection cap, header and body caps, the slow-client deadline and the
 * idle keep-alive timeout. Each test starts its own cbqd with low limits.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cbq/v1/cbq.pb-c.h"
#include "harness.h"
#include "tlsraw.h"

#define ALPHA "111111111111"
#define ALPHA2 "333333333333"
#define BETA "222222222222"

static void stop(void)
{
	h_cleanup();
}

TestSuite(limits, .fini = stop, .timeout = 60);

static struct h_cbqd *start(const char *const *args)
{
	const char *db = h_db_create();

	h_seed_teams(db);
	return h_cbqd_start(db, args);
}

static long get_status(const struct h_cbqd *d, const char *account)
{
	struct t_tls *t = t_tls_connect(d->port, NULL);
	struct t_reply r;
	long status;

	t_tls_get(t, "/v1/whoami", account, NULL, &r);
	status = r.status;
	t_reply_free(&r);
	t_tls_close(t);
	return status;
}

Test(limits, team_over_its_rate_gets_429_with_retry_after)
{
	static const char *const args[] = { "--rate-per-team", "1", "--rate-burst-per-team", "3",
					    NULL };
	struct h_cbqd *d = start(args);
	struct t_tls *t = t_tls_connect(d->port, NULL);
	struct t_reply r;
	Cbq__V1__Error *e;
	const char *retry;

	/* the burst, on one keep-alive connection */
	for (int i = 0; i < 3; i++) {
		t_tls_get(t, "/v1/whoami", ALPHA, NULL, &r);
		cr_assert_eq(r.status, 200, "request %d: %s", i, r.head);
		t_reply_free(&r);
	}
	t_tls_get(t, "/v1/whoami", ALPHA, NULL, &r);
	cr_assert_eq(r.status, 429, "%s", r.head);
	retry = t_reply_header(&r, "Retry-After");
	cr_assert(retry, "no Retry-After in %s", r.head);
	cr_expect_eq(atoi(retry), 1, "Retry-After: %s", retry);
	e = cbq__v1__error__unpack(NULL, r.len, r.body);
	cr_assert(e, "429 body is not a cbq.v1.Error");
	cr_expect_eq(e->code, CBQ__V1__ERROR_CODE__ERROR_CODE_RATE_LIMITED);
	cr_expect(strstr(e->message, "team alpha") && strstr(e->message, "1 requests/s") &&
			  strstr(e->message, "burst 3"),
		  "message: %s", e->message);
	cbq__v1__error__free_unpacked(e, NULL);
	t_reply_free(&r);

	/* the limit is the team's: alpha's other account shares it, beta has its own */
	cr_expect_eq(get_status(d, ALPHA2), 429);
	cr_expect_eq(get_status(d, BETA), 200);
	/* public routes are not counted */
	t_tls_get(t, "/healthz", NULL, NULL, &r);
	cr_expect_eq(r.status, 200);
	t_reply_free(&r);

	/* a second later one more fits, on the same connection */
	h_sleep_ms(1100);
	t_tls_get(t, "/v1/whoami", ALPHA, NULL, &r);
	cr_expect_eq(r.status, 200, "%s", r.head);
	t_reply_free(&r);
	t_tls_close(t);
}

Test(limits, cli_waits_out_a_429)
{
	static const char *const args[] = { "--rate-per-team", "1", "--rate-burst-per-team", "1",
					    NULL };
	struct h_cbqd *d = start(args);
	char *out = NULL;
	long long t0;
	int rc;

	cr_assert_eq(get_status(d, ALPHA), 200);
	cr_assert_eq(get_status(d, ALPHA), 429);
	t0 = t_now_ms();
	rc = h_cbq(d, ALPHA, &out, "ls", NULL);
	cr_expect_eq(rc, 0, "cbq ls: %s", out);
	cr_expect_geq(t_now_ms() - t0, 500, "cbq did not wait for Retry-After");
	cr_expect(strstr(out, "rate limit"), "cbq says nothing about the wait: %s", out);
	free(out);
}

Test(limits, connection_cap_holds_extra_clients_until_one_closes)
{
	static const char *const args[] = { "--max-connections", "3", NULL };
	struct h_cbqd *d = start(args);
	struct t_tls *open[3], *extra;
	struct t_reply r;
	char *log;

	h_sleep_ms(300); /* let the readiness probe's connection close */
	for (int i = 0; i < 3; i++)
		open[i] = t_tls_connect(d->port, NULL);
	/* the kernel completes TCP (backlog), cbqd does not take it */
	extra = t_tls_open(d->port, NULL);
	cr_assert(extra);
	cr_assert_eq(t_tls_handshake(extra, 1000), 0, "a 4th connection was served over the cap");
	/* the connections in were not harmed */
	t_tls_get(open[0], "/healthz", NULL, NULL, &r);
	cr_expect_eq(r.status, 200);
	t_reply_free(&r);

	t_tls_close(open[1]);
	cr_assert_eq(t_tls_handshake(extra, 3000), 1,
		     "the waiting client was not served after a close");
	t_tls_get(extra, "/healthz", NULL, NULL, &r);
	cr_expect_eq(r.status, 200);
	t_reply_free(&r);

	log = h_file_tail(d->log_path, 1 << 16);
	cr_expect(strstr(log, "connection_cap_reached") && strstr(log, "max_connections=3"),
		  "log: %s", log);
	cr_expect(strstr(log, "connection_cap_cleared"), "log: %s", log);
	free(log);
	t_tls_close(extra);
	t_tls_close(open[0]);
	t_tls_close(open[2]);
}

static char *header_of(size_t bytes)
{
	char *h = malloc(bytes + 32);
	size_t n = (size_t)sprintf(h, "X-Big: ");

	cr_assert(h);
	memset(h + n, 'a', bytes);
	strcpy(h + n + bytes, "\r\n");
	return h;
}

Test(limits, default_header_cap_fits_an_iam_token_and_refuses_more)
{
	struct h_cbqd *d = start(NULL);
	char *fits = header_of(20 * 1024), *over = header_of(40 * 1024);
	struct t_tls *t = t_tls_connect(d->port, NULL);
	struct t_reply r;

	t_tls_get(t, "/healthz", NULL, fits, &r);
	cr_expect_eq(r.status, 200, "20 KiB of headers: %s", r.head);
	t_reply_free(&r);
	t_tls_close(t);

	t = t_tls_connect(d->port, NULL);
	t_tls_get(t, "/healthz", NULL, over, &r);
	/* evhttp answers an oversized header block itself: 400, then closes */
	cr_expect_eq(r.status, 400, "40 KiB of headers: %s", r.head);
	t_reply_free(&r);
	cr_expect_geq(t_tls_wait_closed(t, 3000), 0, "connection left open after 400");
	t_tls_close(t);
	free(fits);
	free(over);
}

Test(limits, configured_header_and_body_caps)
{
	static const char *const args[] = { "--max-header-bytes", "4096", "--max-body-bytes",
					    "2048", NULL };
	struct h_cbqd *d = start(args);
	char *over = header_of(6000);
	struct t_tls *t = t_tls_connect(d->port, NULL);
	struct t_reply r;
	struct h_http_reply hr;
	unsigned char body[3000];

	t_tls_get(t, "/healthz", NULL, over, &r);
	cr_expect_eq(r.status, 400, "6000 bytes of headers over 4096: %s", r.head);
	t_reply_free(&r);
	t_tls_close(t);

	memset(body, 0x0a, sizeof(body));
	hr = h_http(d, "POST", "/v1/jobs", NULL, ALPHA, body, sizeof(body));
	cr_expect_eq(hr.status, 413, "3000-byte body over 2048");
	h_http_reply_free(&hr);
	free(over);
}

/* Sends "GET /healthz HTTP/1.1\r\n" and then header bytes one every
 * interval_ms for up to total_ms; returns when the server closed (ms since
 * the first byte) or -1 if it never did. */
static long trickle(struct t_tls *t, int interval_ms, int total_ms)
{
	static const char start_line[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n";
	long long t0 = t_now_ms();

	if (t_tls_send(t, start_line, sizeof(start_line) - 1, 1000) != 0)
		return 0;
	while (t_now_ms() - t0 < total_ms) {
		long closed = t_tls_wait_closed(t, interval_ms);
		if (closed >= 0)
			return (long)(t_now_ms() - t0);
		if (t_tls_send(t, "a", 1, 1000) != 0)
			return (long)(t_now_ms() - t0);
	}
	return -1;
}

Test(limits, idle_timeout_alone_lets_a_trickling_client_stay)
{
	/* what evhttp's own timeout does: it starts again with every byte */
	static const char *const args[] = { "--idle-timeout-s", "1", "--request-timeout-s", "3600",
					    NULL };
	struct h_cbqd *d = start(args);
	struct t_tls *t = t_tls_connect(d->port, NULL);

	cr_expect_eq(trickle(t, 400, 4000), -1, "closed although bytes kept coming");
	t_tls_close(t);
}

Test(limits, trickling_client_is_cut_off_at_request_timeout)
{
	static const char *const args[] = { "--idle-timeout-s", "60", "--request-timeout-s", "2",
					    NULL };
	struct h_cbqd *d = start(args);
	struct t_tls *t = t_tls_connect(d->port, NULL);
	struct t_reply r;
	long ms;
	char *log;

	/* the first request's clock starts at accept */
	ms = trickle(t, 300, 6000);
	cr_expect(ms >= 0 && ms <= 3000, "first request: closed after %ld ms, want <= 3000", ms);
	t_tls_close(t);

	/* a later request on a keep-alive connection: from its first byte */
	t = t_tls_connect(d->port, NULL);
	t_tls_get(t, "/healthz", NULL, NULL, &r);
	cr_assert_eq(r.status, 200);
	t_reply_free(&r);
	h_sleep_ms(2500); /* idle is not slow: the connection stays */
	ms = trickle(t, 300, 6000);
	cr_expect(ms >= 1500 && ms <= 3000, "second request: closed after %ld ms, want ~2000", ms);
	t_tls_close(t);

	/* a client that never finishes its TLS handshake */
	t = t_tls_open(d->port, NULL);
	cr_assert(t);
	ms = t_tls_wait_closed(t, 6000);
	cr_expect(ms >= 0 && ms <= 3000, "silent client: closed after %ld ms", ms);
	t_tls_close(t);

	log = h_file_tail(d->log_path, 1 << 16);
	cr_expect(strstr(log, "slow_client_closed stage=request"), "log: %s", log);
	cr_expect(strstr(log, "slow_client_closed stage=tls_handshake"), "log: %s", log);
	free(log);
}

Test(limits, idle_keepalive_connection_closed_after_idle_timeout)
{
	static const char *const args[] = { "--idle-timeout-s", "2", NULL };
	struct h_cbqd *d = start(args);
	struct t_tls *t = t_tls_connect(d->port, NULL);
	struct t_reply r;
	struct timespec sent, now;
	long ms, since_sent;

	/* idle from cbqd's last read of the request, which is after `sent`: a
	 * reply slow under load does not shorten what is measured from there */
	clock_gettime(CLOCK_MONOTONIC, &sent);
	t_tls_get(t, "/healthz", NULL, NULL, &r);
	cr_assert_eq(r.status, 200);
	t_reply_free(&r);
	ms = t_tls_wait_closed(t, 6000);
	clock_gettime(CLOCK_MONOTONIC, &now);
	since_sent = (now.tv_sec - sent.tv_sec) * 1000 + (now.tv_nsec - sent.tv_nsec) / 1000000;
	cr_expect(ms >= 0 && since_sent >= 1900 && since_sent <= 4000,
		  "idle connection closed %ld ms after the request was sent (%ld after its reply),"
		  " want ~2000",
		  since_sent, ms);
	t_tls_close(t);
}
