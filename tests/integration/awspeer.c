/* AWS peers for integration tests; see awspeer.h. */
#include "awspeer.h"

#include <criterion/criterion.h>
#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PEER_READY_MS 20000

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *h_test_file(const char *relpath)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/tests/%s", CBQ_SOURCE_DIR, relpath);
	return path;
}

struct sink {
	char *p;
	size_t n;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;
	char *p = realloc(s->p, s->n + add + 1);

	if (!p)
		abort();
	memcpy(p + s->n, data, add);
	s->p = p;
	s->n += add;
	s->p[s->n] = '\0';
	return add;
}

/* One plain HTTP request; the body (malloc'd) or NULL when nothing answered. */
static char *request(const char *method, const char *url, const char *body, long *status)
{
	CURL *e = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	struct sink s = { 0 };
	CURLcode rc;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
	if (body)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	rc = curl_easy_perform(e);
	*status = 0;
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
	if (rc != CURLE_OK) {
		free(s.p);
		return NULL;
	}
	if (!s.p)
		s.p = calloc(1, 1);
	return s.p;
}

json_t *h_json(const char *method, const char *url, const char *body, long *status)
{
	json_error_t jerr;
	char *text = request(method, url, body, status);
	json_t *j;

	cr_assert(text, "%s %s: no answer", method, url);
	j = json_loads(text, 0, &jerr);
	cr_assert(j, "%s %s: HTTP %ld, not JSON (%s): %.300s", method, url, *status, jerr.text,
		  text);
	free(text);
	return j;
}

/* Polls url until it answers 2xx, failing with the server's log after a while. */
static void wait_answers(struct h_proc *p, const char *path, const char *what)
{
	long long deadline = now_ms() + PEER_READY_MS;
	char url[256];

	snprintf(url, sizeof(url), "%s%s", p->url, path);
	for (;;) {
		long status;
		char *body = request("GET", url, NULL, &status);

		free(body);
		if (body && status >= 200 && status < 300)
			return;
		h_proc_check(p, what);
		if (now_ms() >= deadline) {
			char *tail = h_file_tail(p->log_path, 4096);
			cr_assert_fail("%s did not answer GET %s within %d s; log:\n%s", what, path,
				       PEER_READY_MS / 1000, tail);
		}
		sleep_ms(25);
	}
}

struct h_proc *h_awssim_start(const char *scenario, const char *clock)
{
	char listen[32];
	int port = h_free_port();
	const char *argv[] = { "cbq-awssim", "--listen", listen, "--scenario", scenario,
			       clock ? "--clock" : NULL, clock, NULL };
	struct h_proc *p;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	p = h_proc_start(argv, NULL, port);
	wait_answers(p, "/_sim/state", "cbq-awssim");
	return p;
}

/* moto_server's absolute path from PATH, or false. */
static bool find_on_path(const char *name, char *out, size_t size)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		snprintf(out, size, "%s/%s", dir, name);
		found = access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}

struct h_proc *h_moto_start(void)
{
	char exe[1024], port_s[16];
	int port;
	struct h_proc *p;

	if (!find_on_path("moto_server", exe, sizeof(exe))) {
		printf("moto_server is not on PATH: the moto interoperability tests are skipped\n");
		return NULL;
	}
	port = h_free_port();
	snprintf(port_s, sizeof(port_s), "%d", port);
	const char *argv[] = { exe, "-H", "127.0.0.1", "-p", port_s, NULL };
	p = h_proc_start(argv, NULL, port);
	wait_answers(p, "/moto-api/data.json", "moto_server");
	return p;
}

json_t *h_awssim_state(const struct h_proc *sim)
{
	char url[160];
	long status;
	json_t *j;

	snprintf(url, sizeof(url), "%s/_sim/state", sim->url);
	j = h_json("GET", url, NULL, &status);
	cr_assert_eq(status, 200, "GET /_sim/state: HTTP %ld", status);
	return j;
}
