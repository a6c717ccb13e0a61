/*
 * cbq-bench-submit: how many submits cbqd acknowledges per second. N
 * keep-alive HTTPS connections (libcurl multi, one thread), each sending a
 * valid SubmitJobRequest with a unique idempotency key as soon as the last
 * one was answered, for S seconds; prints one line with the rate, p50/p99
 * latency of every request and the non-201 count. A benchmark, not a test:
 * it asserts nothing.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cbq/v1/cbq.pb-c.h"

enum {
	CONNECTIONS_MAX = 1024,
	SECONDS_MAX = 3600,
	REPLY_MAX = 64 * 1024, /* a Job is well under this; more is an error */
};

struct opts {
	const char *server, *ca, *cert, *key, *dev_account, *account;
	int connections, seconds;
};

struct conn {
	CURL *easy;
	struct curl_slist *headers;
	char url[512];
	uint8_t body[1024];
	size_t body_len;
	size_t reply_len;
	bool reply_too_big;
	double started; /* seconds, monotonic */
};

struct samples {
	double *ms;
	size_t n, cap;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: cbq-bench-submit --server URL [--ca FILE] [--cert FILE --key FILE | "
		"--dev-account ID]\n"
		"                        [--account ID] --connections N --seconds S\n");
	exit(2);
}

static int int_arg(const char *name, const char *v, int lo, int hi)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*v == '\0' || *end || n < lo || n > hi) {
		fprintf(stderr, "cbq-bench-submit: %s must be %d..%d\n", name, lo, hi);
		exit(2);
	}
	return (int)n;
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		if (strcmp(a, "--server") == 0)
			o->server = v;
		else if (strcmp(a, "--ca") == 0)
			o->ca = v;
		else if (strcmp(a, "--cert") == 0)
			o->cert = v;
		else if (strcmp(a, "--key") == 0)
			o->key = v;
		else if (strcmp(a, "--dev-account") == 0)
			o->dev_account = v;
		else if (strcmp(a, "--account") == 0)
			o->account = v;
		else if (strcmp(a, "--connections") == 0)
			o->connections = int_arg(a, v, 1, CONNECTIONS_MAX);
		else if (strcmp(a, "--seconds") == 0)
			o->seconds = int_arg(a, v, 1, SECONDS_MAX);
		else
			usage();
		i++;
	}
	if (!o->server || !o->connections || !o->seconds || (!o->cert != !o->key) ||
	    (!o->cert && !o->dev_account) || strlen(o->server) > 400)
		usage();
}

static size_t on_reply(char *data, size_t size, size_t n, void *arg)
{
	struct conn *c = arg;

	(void)data;
	c->reply_len += size * n;
	if (c->reply_len > REPLY_MAX)
		c->reply_too_big = true;
	return size * n;
}

/* A job-sized request: a training job with a launch spec and tags, as a
 * team's sweep would send, under a key no other request uses. */
static void make_body(struct conn *c, const struct opts *o, uint64_t seq)
{
	Cbq__V1__SubmitJobRequest req = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	Cbq__V1__JobSpec spec = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__LaunchSpec launch = CBQ__V1__LAUNCH_SPEC__INIT;
	Cbq__V1__Tag tag = CBQ__V1__TAG__INIT, *tags[] = { &tag };
	char *sgs[] = { "sg-0123456789abcdef0" };
	char key[96], name[64];

	snprintf(key, sizeof(key), "bench-%ld-%ld-%" PRIu64, (long)getpid(), (long)time(NULL), seq);
	snprintf(name, sizeof(name), "bench-sweep-%" PRIu64, seq);
	spec.account_id = (char *)(uintptr_t)(o->account ? o->account : "");
	spec.name = name;
	spec.kind = "training";
	spec.instance_type = "p5.48xlarge";
	spec.count = 2;
	spec.duration_seconds = 4 * 3600;
	spec.launch = &launch;
	launch.image_id = "ami-0123456789abcdef0";
	launch.subnet_id = "subnet-0123456789abcdef0";
	launch.n_security_group_ids = 1;
	launch.security_group_ids = sgs;
	tag.key = "sweep";
	tag.value = "bench";
	launch.n_tags = 1;
	launch.tags = tags;
	req.spec = &spec;
	req.idempotency_key = key;
	c->body_len = cbq__v1__submit_job_request__get_packed_size(&req);
	if (c->body_len > sizeof(c->body)) {
		fprintf(stderr, "cbq-bench-submit: request over %zu bytes\n", sizeof(c->body));
		exit(1);
	}
	cbq__v1__submit_job_request__pack(&req, c->body);
}

static void start(CURLM *multi, struct conn *c, const struct opts *o, uint64_t seq)
{
	make_body(c, o, seq);
	c->reply_len = 0;
	c->reply_too_big = false;
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)c->body_len);
	c->started = now_s();
	if (c->started <= 0)
		c->started = 1e-9;
	curl_multi_add_handle(multi, c->easy);
}

static void conn_init(struct conn *c, const struct opts *o)
{
	char h[64];

	c->easy = curl_easy_init();
	if (!c->easy)
		abort();
	snprintf(c->url, sizeof(c->url), "%s/v1/jobs", o->server);
	c->headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	c->headers = curl_slist_append(c->headers, "Accept: application/x-protobuf");
	c->headers = curl_slist_append(c->headers, "Expect:");
	if (o->dev_account) {
		snprintf(h, sizeof(h), "X-Cbq-Account: %s", o->dev_account);
		c->headers = curl_slist_append(c->headers, h);
	}
	curl_easy_setopt(c->easy, CURLOPT_URL, c->url);
	curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
	curl_easy_setopt(c->easy, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
	/* one connection per handle, kept alive across its requests */
	curl_easy_setopt(c->easy, CURLOPT_MAXCONNECTS, 1L);
	if (o->ca)
		curl_easy_setopt(c->easy, CURLOPT_CAINFO, o->ca);
	if (o->cert) {
		curl_easy_setopt(c->easy, CURLOPT_SSLCERT, o->cert);
		curl_easy_setopt(c->easy, CURLOPT_SSLKEY, o->key);
	}
}

static void sample_add(struct samples *s, double ms)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->ms = realloc(s->ms, s->cap * sizeof(*s->ms));
		if (!s->ms)
			abort();
	}
	s->ms[s->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double percentile(const struct samples *s, double p)
{
	size_t rank;

	if (s->n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return s->ms[rank - 1];
}

int main(int argc, char **argv)
{
	struct opts o;
	struct conn *conns;
	struct samples lat = { 0 };
	CURLM *multi;
	uint64_t seq = 0, ok = 0, errors = 0;
	double t0, end, elapsed;
	int running = 0;
	long first_error_status = -1;
	char first_error[CURL_ERROR_SIZE + 64] = "";

	parse(argc, argv, &o);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	multi = curl_multi_init();
	/* every handle has its own connection; HTTP/1.1, no pipelining */
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)o.connections);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)o.connections);
	conns = calloc((size_t)o.connections, sizeof(*conns));
	if (!conns)
		abort();
	for (int i = 0; i < o.connections; i++)
		conn_init(&conns[i], &o);

	t0 = now_s();
	end = t0 + o.seconds;
	for (int i = 0; i < o.connections; i++)
		start(multi, &conns[i], &o, seq++);
	for (;;) {
		CURLMsg *m;
		int left, active = 0;

		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		while ((m = curl_multi_info_read(multi, &left))) {
			struct conn *c;
			long status = 0;
			double t = now_s();

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			curl_multi_remove_handle(multi, c->easy);
			sample_add(&lat, (t - c->started) * 1000.0);
			c->started = 0;
			if (m->data.result == CURLE_OK && status == 201 && !c->reply_too_big) {
				ok++;
			} else {
				errors++;
				if (first_error_status < 0) {
					first_error_status = status;
					snprintf(first_error, sizeof(first_error), "%s",
						 curl_easy_strerror(m->data.result));
				}
			}
			if (t < end)
				start(multi, c, &o, seq++);
		}
		/* handles in the multi: running ones and ones just (re)started */
		for (int i = 0; i < o.connections; i++)
			active += conns[i].started > 0;
		if (active == 0)
			break;
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	elapsed = now_s() - t0;

	qsort(lat.ms, lat.n, sizeof(*lat.ms), cmp_double);
	printf("connections=%d seconds=%d submits=%" PRIu64 " rate_per_s=%.0f p50_ms=%.2f "
	       "p99_ms=%.2f errors=%" PRIu64 "\n",
	       o.connections, o.seconds, ok, (double)ok / elapsed, percentile(&lat, 50),
	       percentile(&lat, 99), errors);
	if (errors)
		fprintf(stderr, "cbq-bench-submit: first error: status %ld (%s)\n",
			first_error_status, first_error);
	for (int i = 0; i < o.connections; i++) {
		curl_easy_cleanup(conns[i].easy);
		curl_slist_free_all(conns[i].headers);
	}
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	free(conns);
	free(lat.ms);
	return errors ? 1 : 0;
}
