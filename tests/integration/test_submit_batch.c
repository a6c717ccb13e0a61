/*
 * Group commit on the submit path, end to end: bursts of concurrent submits
 * (one connection each, libcurl multi) that cbqd stores together must answer
 * exactly as one-by-one submits would (idempotency keys repeated within the
 * burst, a bad account, an unknown kind), and every 201 must be committed,
 * also when cbqd is killed with -9 in the middle of a burst.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cbq/v1/cbq.pb-c.h"
#include "harness.h"

#define ALPHA "111111111111"
#define BETA "222222222222"

enum { REPLY_MAX = 64 * 1024 };

static const char *db;
static struct h_cbqd *d;

static void start(void)
{
	/* debug: the log says how many submits each statement carried */
	const char *args[] = { "--rate-per-team", "0", "--log-level", "debug", NULL };

	db = h_db_create();
	h_seed_teams(db);
	d = h_cbqd_start(db, args);
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(submit_batch, .init = start, .fini = stop, .timeout = 120);

/* One request of a burst and what came back. */
struct req {
	CURL *easy;
	struct curl_slist *headers;
	uint8_t *body;
	size_t len;
	unsigned char reply[REPLY_MAX];
	size_t reply_len;
	long status;
	char id[32];	 /* 201: the job's id */
	int32_t count;	 /* 201: the job's instance count */
	char field[64];	 /* error: the field named */
	bool done;
};

static size_t on_reply(char *p, size_t size, size_t n, void *arg)
{
	struct req *r = arg;

	if (r->reply_len + size * n > sizeof(r->reply))
		return 0;
	memcpy(r->reply + r->reply_len, p, size * n);
	r->reply_len += size * n;
	return size * n;
}

/* A valid training spec, with count, account and kind as given. */
static void req_init(struct req *r, const char *account, const char *kind, int32_t count,
		     const char *key)
{
	Cbq__V1__SubmitJobRequest sr = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	Cbq__V1__JobSpec s = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__LaunchSpec l = CBQ__V1__LAUNCH_SPEC__INIT;
	char url[128];

	memset(r, 0, sizeof(*r));
	s.account_id = (char *)(uintptr_t)account;
	s.kind = (char *)(uintptr_t)kind;
	s.instance_type = "p5.48xlarge";
	s.count = count;
	s.duration_seconds = 3600;
	s.launch = &l;
	sr.spec = &s;
	sr.idempotency_key = (char *)(uintptr_t)(key ? key : "");
	r->len = cbq__v1__submit_job_request__get_packed_size(&sr);
	r->body = malloc(r->len + 1);
	cr_assert(r->body);
	cbq__v1__submit_job_request__pack(&sr, r->body);

	r->easy = curl_easy_init();
	cr_assert(r->easy);
	snprintf(url, sizeof(url), "%s/v1/jobs", d->url);
	r->headers = curl_slist_append(NULL, "Content-Type: application/x-protobuf");
	r->headers = curl_slist_append(r->headers, "X-Cbq-Account: " ALPHA);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_CAINFO, h_cert("ca.pem"));
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->body);
	curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE, (long)r->len);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	/* each request its own connection: they arrive together */
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
}

/* The transfer ended with result. A reply cut off (cbqd killed between
 * writing a 201's head and its body) acknowledged nothing: status 0. */
static void req_finish(struct req *r, CURLcode result)
{
	r->done = true;
	if (result != CURLE_OK) {
		r->status = 0;
		return;
	}
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->status == 201) {
		Cbq__V1__Job *job = cbq__v1__job__unpack(NULL, r->reply_len, r->reply);

		cr_assert(job, "201 without a Job");
		snprintf(r->id, sizeof(r->id), "%s", job->id);
		r->count = job->spec ? job->spec->count : 0;
		cbq__v1__job__free_unpacked(job, NULL);
	} else if (r->status >= 400) {
		Cbq__V1__Error *e = cbq__v1__error__unpack(NULL, r->reply_len, r->reply);

		if (e) {
			snprintf(r->field, sizeof(r->field), "%s", e->field ? e->field : "");
			cbq__v1__error__free_unpacked(e, NULL);
		}
	}
}

static void req_free(struct req *r)
{
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->body);
}

/* Runs the requests at once. With kill_after > 0, kills cbqd with -9 as soon
 * as that many 201s are in and lets the rest fail. */
static void burst(struct req *reqs, size_t n, int kill_after)
{
	CURLM *multi = curl_multi_init();
	int running = 1, created = 0;
	bool killed = false;

	cr_assert(multi);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
	for (size_t i = 0; i < n; i++)
		curl_multi_add_handle(multi, reqs[i].easy);
	while (running) {
		CURLMsg *m;
		int left;

		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left))) {
			struct req *r;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
			req_finish(r, m->data.result);
			created += r->status == 201;
		}
		if (kill_after > 0 && !killed && created >= kill_after) {
			cr_assert(WIFSIGNALED(h_cbqd_stop(d, SIGKILL)));
			killed = true;
		}
		if (running)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < n; i++)
		curl_multi_remove_handle(multi, reqs[i].easy);
	curl_multi_cleanup(multi);
	if (kill_after > 0)
		cr_assert(killed, "only %d submits were acknowledged before the burst ended",
			  created);
}

static long long count_of(const char *sql)
{
	char *v = h_sql_value(db, sql);
	long long n = v ? atoll(v) : -1;

	free(v);
	return n;
}

/* Every 201 names a committed job with its job_events row. */
static void expect_committed(const struct req *reqs, size_t n, size_t *acknowledged)
{
	char *ids = calloc(n, 24);
	size_t len = 0, distinct = 0;

	cr_assert(ids);
	for (size_t i = 0; i < n; i++) {
		if (reqs[i].status != 201)
			continue;
		len += (size_t)snprintf(ids + len, n * 24 - len, "%s%s", len ? "," : "", reqs[i].id);
	}
	for (size_t i = 0; i < n; i++) {
		bool first = reqs[i].status == 201;
		for (size_t j = 0; first && j < i; j++)
			first = !(reqs[j].status == 201 && strcmp(reqs[j].id, reqs[i].id) == 0);
		distinct += first;
	}
	*acknowledged = distinct;
	if (!distinct) {
		free(ids);
		return;
	}
	char *query = malloc(len + 200);
	cr_assert(query);
	snprintf(query, len + 200, "SELECT count(*) FROM jobs WHERE id IN (%s)", ids);
	cr_expect_eq(count_of(query), (long long)distinct, "acknowledged jobs in the database");
	snprintf(query, len + 200,
		 "SELECT count(DISTINCT job_id) FROM job_events WHERE to_state = 'queued'"
		 " AND job_id IN (%s)",
		 ids);
	cr_expect_eq(count_of(query), (long long)distinct, "their first events");
	free(query);
	free(ids);
}

/* cbqd's log shows statements carrying several submits and never the
 * one-by-one fallback (which answers the same, only slower). */
static void expect_batched(void)
{
	FILE *f = fopen(d->log_path, "r");
	char line[4096];
	int most = 0, fallbacks = 0, n;

	cr_assert(f, "cannot read %s", d->log_path);
	while (fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, "event=submit_batch submits=");
		if (p && sscanf(p, "event=submit_batch submits=%d", &n) == 1 && n > most)
			most = n;
		if (strstr(line, "event=submit_batch_fallback"))
			fallbacks++;
	}
	fclose(f);
	cr_expect_eq(fallbacks, 0, "batches fell back to one by one; see %s", d->log_path);
	cr_expect_gt(most, 1, "no statement carried more than one submit");
}

Test(submit_batch, a_burst_answers_as_one_by_one_would)
{
	enum { SAME = 10, SAME_EACH = 5, DIFF = 10, DIFF_EACH = 3, PLAIN = 118 };
	size_t n = SAME * SAME_EACH + DIFF * DIFF_EACH + 2 + PLAIN, k = 0, acknowledged;
	struct req *reqs = calloc(n, sizeof(*reqs));
	char key[32];

	cr_assert(reqs);
	/* interleaved, so that repeats of a key land in one group commit */
	for (int rep = 0; rep < SAME_EACH; rep++)
		for (int i = 0; i < SAME; i++) {
			snprintf(key, sizeof(key), "same-%d", i);
			req_init(&reqs[k++], ALPHA, "training", 2, key);
		}
	for (int rep = 0; rep < DIFF_EACH; rep++)
		for (int i = 0; i < DIFF; i++) {
			snprintf(key, sizeof(key), "diff-%d", i);
			req_init(&reqs[k++], ALPHA, "training", 1 + rep, key);
		}
	req_init(&reqs[k++], BETA, "training", 1, NULL);	   /* beta's account */
	req_init(&reqs[k++], ALPHA, "no-such-kind", 1, NULL); /* unknown kind */
	for (int i = 0; i < PLAIN; i++)
		req_init(&reqs[k++], ALPHA, "research", 1 + i % 4, NULL);
	cr_assert_eq(k, n);

	burst(reqs, n, 0);

	k = 0;
	for (int rep = 0; rep < SAME_EACH; rep++)
		for (int i = 0; i < SAME; i++, k++) {
			cr_expect_eq(reqs[k].status, 201, "same-%d: %ld (%s)", i, reqs[k].status,
				     reqs[k].field);
			cr_expect_str_eq(reqs[k].id, reqs[i].id, "same-%d: one job", i);
		}
	for (int i = 0; i < DIFF; i++) {
		int created = 0, conflicts = 0;
		const struct req *winner = NULL;

		for (int rep = 0; rep < DIFF_EACH; rep++) {
			const struct req *r = &reqs[SAME * SAME_EACH + (size_t)(rep * DIFF + i)];

			if (r->status == 201) {
				created++;
				winner = r;
			} else if (r->status == 409) {
				conflicts++;
				cr_expect_str_eq(r->field, "idempotency_key");
			}
		}
		cr_expect_eq(created, 1, "diff-%d: one 201", i);
		cr_expect_eq(conflicts, DIFF_EACH - 1, "diff-%d: the later ones 409", i);
		if (winner) {
			char sql[160];

			snprintf(sql, sizeof(sql),
				 "SELECT instance_count FROM jobs WHERE id = %s"
				 " AND idempotency_key = 'diff-%d'",
				 winner->id, i);
			cr_expect_eq(count_of(sql), winner->count, "diff-%d: the 201's spec stored",
				     i);
		}
	}
	k = SAME * SAME_EACH + DIFF * DIFF_EACH;
	cr_expect_eq(reqs[k].status, 400, "bad account: %ld", reqs[k].status);
	cr_expect_str_eq(reqs[k].field, "spec.account_id");
	cr_expect_eq(reqs[k + 1].status, 400, "unknown kind: %ld", reqs[k + 1].status);
	cr_expect_str_eq(reqs[k + 1].field, "spec.kind");
	for (size_t i = k + 2; i < n; i++)
		cr_expect_eq(reqs[i].status, 201, "plain submit %zu: %ld (%s)", i, reqs[i].status,
			     reqs[i].field);

	expect_committed(reqs, n, &acknowledged);
	cr_expect_eq(acknowledged, (size_t)(SAME + DIFF + PLAIN));
	/* the database holds exactly the acknowledged jobs */
	cr_expect_eq(count_of("SELECT count(*) FROM jobs"), (long long)acknowledged);
	cr_expect_eq(count_of("SELECT count(*) FROM job_events"), (long long)acknowledged);
	/* and they went in together, as cbqd's own role may (no one-by-one fallback) */
	expect_batched();
	for (size_t i = 0; i < n; i++)
		req_free(&reqs[i]);
	free(reqs);
}

Test(submit_batch, every_201_survives_kill_9_mid_burst)
{
	enum { N = 400 };
	struct req *reqs = calloc(N, sizeof(*reqs));
	size_t acknowledged, failed = 0;

	cr_assert(reqs);
	for (int i = 0; i < N; i++)
		req_init(&reqs[i], ALPHA, "training", 1, NULL);
	burst(reqs, N, 50);
	for (int i = 0; i < N; i++)
		failed += reqs[i].status != 201;
	expect_committed(reqs, N, &acknowledged);
	cr_expect_geq(acknowledged, 50);
	cr_log_info("acknowledged %zu, cut off %zu", acknowledged, failed);
	/* a job may be committed without its 201 arriving; never the reverse */
	cr_expect_geq(count_of("SELECT count(*) FROM jobs"), (long long)acknowledged);
	h_cbqd_restart(d);
	for (int i = 0; i < N; i++)
		req_free(&reqs[i]);
	free(reqs);
}

/* ---- caller lookups, batched too ---------------------------------------------------- */

/* GET /v1/whoami as account, on its own connection. */
static void whoami_init(struct req *r, const char *account)
{
	char url[128], hdr[64];

	memset(r, 0, sizeof(*r));
	r->easy = curl_easy_init();
	cr_assert(r->easy);
	snprintf(url, sizeof(url), "%s/v1/whoami", d->url);
	snprintf(hdr, sizeof(hdr), "X-Cbq-Account: %s", account);
	r->headers = curl_slist_append(NULL, hdr);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_CAINFO, h_cert("ca.pem"));
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_reply);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_FORBID_REUSE, 1L);
}

/* Lookups that share a statement each get their own account's answer: the
 * team, the admin flag, or 403 for an account cbq does not know. */
Test(submit_batch, concurrent_callers_each_get_their_own_answer)
{
	static const struct {
		const char *account, *team;
		bool admin;
	} who[] = {
		{ "111111111111", "alpha", false },
		{ "333333333333", "alpha", true },
		{ "222222222222", "beta", false },
		{ "555555555555", NULL, false },
	};
	enum { N = 160 };
	static struct req reqs[N];

	h_sql(db, "INSERT INTO admins (principal) VALUES ('dev:333333333333')");
	for (size_t i = 0; i < N; i++)
		whoami_init(&reqs[i], who[i % 4].account);
	burst(reqs, N, 0);
	for (size_t i = 0; i < N; i++) {
		const struct req *r = &reqs[i];
		if (!who[i % 4].team) {
			cr_expect_eq(r->status, 403, "request %zu (%s): %ld", i, who[i % 4].account,
				     r->status);
			continue;
		}
		cr_assert_eq(r->status, 200, "request %zu (%s): %ld", i, who[i % 4].account,
			     r->status);
		Cbq__V1__WhoAmIReply *w =
			cbq__v1__who_am_ireply__unpack(NULL, r->reply_len, r->reply);
		cr_assert(w);
		cr_expect_str_eq(w->account_id, who[i % 4].account);
		cr_expect_str_eq(w->team, who[i % 4].team, "request %zu", i);
		cr_expect_eq(w->admin, who[i % 4].admin, "request %zu (%s)", i, who[i % 4].account);
		cbq__v1__who_am_ireply__free_unpacked(w, NULL);
	}
	for (size_t i = 0; i < N; i++)
		req_free(&reqs[i]);
}

/* One submit in the caller's own account; *team gets the stored job's team
 * (or the error's message). Returns the status. */
static long submit_in(const char *caller, const char *account, char *team, size_t size)
{
	struct req r;
	struct h_http_reply reply;
	long status;

	req_init(&r, account, "training", 1, NULL);
	reply = h_http(d, "POST", "/v1/jobs", NULL, caller, r.body, r.len);
	status = reply.status;
	team[0] = '\0';
	if (status == 201) {
		Cbq__V1__Job *job = cbq__v1__job__unpack(NULL, reply.len, reply.body);
		cr_assert(job);
		snprintf(team, size, "%s", job->team);
		cbq__v1__job__free_unpacked(job, NULL);
	} else {
		Cbq__V1__Error *e = cbq__v1__error__unpack(NULL, reply.len, reply.body);
		if (e) {
			snprintf(team, size, "%s", e->message);
			cbq__v1__error__free_unpacked(e, NULL);
		}
	}
	h_http_reply_free(&reply);
	req_free(&r);
	return status;
}

static long submit_as(const char *caller, char *team, size_t size)
{
	return submit_in(caller, "", team, size);
}

/* A submit takes its team from what cbqd last looked up for the account
 * (no lookup of its own); the INSERT checks it. Whatever changed since (an
 * account moved to another team, removed, its team renamed), the submit
 * lands where the tables say now, or is refused as a lookup would. */
Test(submit_batch, a_submit_follows_account_changes_at_once)
{
	char team[512];
	char *stored;

	h_sql(db, "INSERT INTO teams (name) VALUES ('gamma');"
		  "INSERT INTO accounts (account_id, team, role_arn) VALUES"
		  " ('444444444444', 'alpha', 'arn:aws:iam::444444444444:role/r'),"
		  " ('666666666666', 'alpha', 'arn:aws:iam::666666666666:role/r'),"
		  " ('777777777777', 'gamma', 'arn:aws:iam::777777777777:role/r')");

	/* moved: the first submit looks up (alpha); the second would use it */
	cr_assert_eq(submit_as("444444444444", team, sizeof(team)), 201, "%s", team);
	cr_assert_str_eq(team, "alpha");
	h_sql(db, "DELETE FROM job_events WHERE job_id IN"
		  " (SELECT id FROM jobs WHERE account_id = '444444444444');"
		  "DELETE FROM jobs WHERE account_id = '444444444444';"
		  "UPDATE accounts SET team = 'beta' WHERE account_id = '444444444444'");
	cr_assert_eq(submit_as("444444444444", team, sizeof(team)), 201, "%s", team);
	cr_expect_str_eq(team, "beta");
	stored = h_sql_value(db, "SELECT string_agg(team, ',') FROM jobs"
				 " WHERE account_id = '444444444444'");
	cr_expect_str_eq(stored, "beta");
	free(stored);

	/* moved while its old team's accounts stay: it may no longer name them */
	h_sql(db, "UPDATE accounts SET team = 'alpha' WHERE account_id = '444444444444'");
	cr_assert_eq(submit_in("444444444444", "", team, sizeof(team)), 201, "%s", team);
	cr_assert_str_eq(team, "alpha");
	cr_assert_eq(submit_in("444444444444", "111111111111", team, sizeof(team)), 201, "%s",
		     team);
	h_sql(db, "DELETE FROM job_events WHERE job_id IN"
		  " (SELECT id FROM jobs WHERE account_id = '444444444444');"
		  "DELETE FROM jobs WHERE account_id = '444444444444';"
		  "UPDATE accounts SET team = 'beta' WHERE account_id = '444444444444'");
	cr_assert_eq(submit_in("444444444444", "111111111111", team, sizeof(team)), 400, "%s",
		     team);
	cr_expect(strstr(team, "not registered to team beta"), "%s", team);

	/* removed after a lookup: refused as an unregistered account, nothing stored */
	cr_assert_eq(submit_as("666666666666", team, sizeof(team)), 201, "%s", team);
	h_sql(db, "DELETE FROM job_events WHERE job_id IN"
		  " (SELECT id FROM jobs WHERE account_id = '666666666666');"
		  "DELETE FROM jobs WHERE account_id = '666666666666';"
		  "DELETE FROM accounts WHERE account_id = '666666666666'");
	cr_assert_eq(submit_as("666666666666", team, sizeof(team)), 403, "%s", team);
	cr_expect(strstr(team, "account 666666666666 is not registered"), "%s", team);
	cr_expect_eq(count_of("SELECT count(*) FROM jobs WHERE account_id = '666666666666'"), 0);

	/* the team renamed under its jobs */
	cr_assert_eq(submit_as("777777777777", team, sizeof(team)), 201, "%s", team);
	cr_assert_str_eq(team, "gamma");
	h_sql(db, "UPDATE teams SET name = 'delta' WHERE name = 'gamma'");
	cr_assert_eq(submit_as("777777777777", team, sizeof(team)), 201, "%s", team);
	cr_expect_str_eq(team, "delta");
	cr_expect_eq(count_of("SELECT count(*) FROM jobs WHERE team = 'delta'"), 2);
}
