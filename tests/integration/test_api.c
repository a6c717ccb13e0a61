/*
 * Every route of cbqd over real TLS against a real Postgres: submits that
 * survive kill -9, bad input refused with the field named, team isolation,
 * idempotency, cancel, listing, blocks, identity.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cbq/v1/cbq.pb-c.h"
#include "harness.h"

#define ALPHA "111111111111"
#define ALPHA2 "333333333333"
#define BETA "222222222222"

static const char *db;
static struct h_cbqd *d;

static void start(void)
{
	db = h_db_create();
	h_seed_teams(db);
	d = h_cbqd_start(db, NULL);
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(api, .init = start, .fini = stop, .timeout = 60);

/* A valid spec for account; callers change what they test. */
static void spec_init(Cbq__V1__JobSpec *s, Cbq__V1__LaunchSpec *l, const char *account)
{
	cbq__v1__job_spec__init(s);
	cbq__v1__launch_spec__init(l);
	s->account_id = (char *)(uintptr_t)account;
	s->kind = "training";
	s->instance_type = "p5.48xlarge";
	s->count = 2;
	s->duration_seconds = 4 * 3600;
	s->launch = l;
}

static struct h_http_reply post_spec(const char *caller, Cbq__V1__JobSpec *spec, const char *key)
{
	Cbq__V1__SubmitJobRequest req = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	uint8_t *buf;
	size_t len;
	struct h_http_reply r;

	req.spec = spec;
	req.idempotency_key = (char *)(uintptr_t)(key ? key : "");
	len = cbq__v1__submit_job_request__get_packed_size(&req);
	buf = malloc(len + 1);
	cbq__v1__submit_job_request__pack(&req, buf);
	r = h_http(d, "POST", "/v1/jobs", NULL, caller, buf, len);
	free(buf);
	return r;
}

static Cbq__V1__Error *error_of(const struct h_http_reply *r)
{
	Cbq__V1__Error *e = cbq__v1__error__unpack(NULL, r->len, r->body);

	cr_assert(e, "status %ld: reply is not a cbq.v1.Error", r->status);
	return e;
}

/* Asserts status and field, and that cbqd still answers afterwards. */
static void expect_refused(struct h_http_reply r, long status, const char *field)
{
	struct h_http_reply health;

	cr_expect_eq(r.status, status, "expected %ld, got %ld", status, r.status);
	if (field) {
		Cbq__V1__Error *e = error_of(&r);
		cr_expect_str_eq(e->field, field, "message: %s", e->message);
		cr_expect_gt(strlen(e->message), 10);
		cbq__v1__error__free_unpacked(e, NULL);
	}
	h_http_reply_free(&r);
	health = h_http(d, "GET", "/healthz", NULL, NULL, NULL, 0);
	cr_expect_eq(health.status, 200, "cbqd still serving");
	h_http_reply_free(&health);
}

static void expect_job_count(const char *n)
{
	char *count = h_sql_value(db, "SELECT count(*) FROM jobs");

	cr_expect_str_eq(count, n);
	free(count);
}

static char *submit_ok(const char *caller, Cbq__V1__JobSpec *spec, const char *key)
{
	struct h_http_reply r = post_spec(caller, spec, key);
	Cbq__V1__Job *job;
	char *id;

	cr_assert_eq(r.status, 201, "submit: status %ld", r.status);
	job = cbq__v1__job__unpack(NULL, r.len, r.body);
	cr_assert(job);
	cr_expect_eq(job->state, CBQ__V1__JOB_STATE__JOB_STATE_QUEUED);
	id = strdup(job->id);
	cbq__v1__job__free_unpacked(job, NULL);
	h_http_reply_free(&r);
	return id;
}

static Cbq__V1__Job *get_job(const char *caller, const char *id, long *status)
{
	char path[64];
	struct h_http_reply r;
	Cbq__V1__Job *job = NULL;

	snprintf(path, sizeof(path), "/v1/jobs/%s", id);
	r = h_http(d, "GET", path, NULL, caller, NULL, 0);
	*status = r.status;
	if (r.status == 200)
		job = cbq__v1__job__unpack(NULL, r.len, r.body);
	h_http_reply_free(&r);
	return job;
}

/* ---- durability ---------------------------------------------------------------- */

static void survives_kill(int (*cbq)(const struct h_cbqd *, const char *, char **, ...))
{
	char *out = NULL, *show = NULL;
	int rc;

	rc = cbq(d, ALPHA, &out, "submit", "--account", ALPHA, "--kind", "training",
		 "--instance-type", "p5.48xlarge", "--count", "2", "--duration", "4h", NULL);
	cr_assert_eq(rc, 0, "submit failed: %s", out);
	out[strcspn(out, "\n")] = '\0';
	/* acknowledged: kill -9 at once, nothing can be flushed after this */
	cr_assert(WIFSIGNALED(h_cbqd_stop(d, SIGKILL)));
	h_cbqd_restart(d);
	rc = cbq(d, ALPHA, &show, "show", out, NULL);
	cr_assert_eq(rc, 0, "show after restart failed: %s", show);
	cr_expect(strstr(show, "queued"), "show: %s", show);
	cr_expect(strstr(show, "p5.48xlarge"), "show: %s", show);
	free(out);
	free(show);
}

Test(api, submit_over_dev_auth_survives_kill_9)
{
	survives_kill(h_cbq);
}

Test(api, submit_over_mtls_survives_kill_9)
{
	survives_kill(h_cbq_mtls);
}

/* ---- bad input --------------------------------------------------------------------- */

Test(api, each_bad_field_is_refused_with_its_name)
{
	static const struct {
		const char *what;
		const char *field;
	} cases[] = {
		{ "count0", "spec.count" },
		{ "count65", "spec.count" },
		{ "account", "spec.account_id" },
		{ "other_team_account", "spec.account_id" },
		{ "unregistered_account", "spec.account_id" },
		{ "kind", "spec.kind" },
		{ "instance_type", "spec.instance_type" },
		{ "duration_short", "spec.duration_seconds" },
		{ "duration_long", "spec.duration_seconds" },
		{ "name", "spec.name" },
		{ "user_data", "spec.launch.user_data" },
		{ "tags", "spec.launch.tags" },
		{ "image", "spec.launch.image_id" },
		{ "key", "idempotency_key" },
	};
	static char name[200], key[200];
	static uint8_t ud[16 * 1024 + 1];
	Cbq__V1__Tag tag = CBQ__V1__TAG__INIT, *tags[49];

	memset(name, 'n', 129);
	memset(key, 'k', 129);
	tag.key = "k";
	tag.value = "v";
	for (int i = 0; i < 49; i++)
		tags[i] = &tag;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Cbq__V1__JobSpec s;
		Cbq__V1__LaunchSpec l;
		const char *k = NULL, *w = cases[i].what;

		spec_init(&s, &l, ALPHA);
		if (!strcmp(w, "count0"))
			s.count = 0;
		else if (!strcmp(w, "count65"))
			s.count = 65;
		else if (!strcmp(w, "account"))
			s.account_id = "12345";
		else if (!strcmp(w, "other_team_account"))
			s.account_id = BETA;
		else if (!strcmp(w, "unregistered_account"))
			s.account_id = "999999999999";
		else if (!strcmp(w, "kind"))
			s.kind = "gaming";
		else if (!strcmp(w, "instance_type"))
			s.instance_type = "p5";
		else if (!strcmp(w, "duration_short"))
			s.duration_seconds = 59;
		else if (!strcmp(w, "duration_long"))
			s.duration_seconds = 14 * 86400 + 1;
		else if (!strcmp(w, "name"))
			s.name = name;
		else if (!strcmp(w, "user_data"))
			l.user_data = (ProtobufCBinaryData){ sizeof(ud), ud };
		else if (!strcmp(w, "tags"))
			l.tags = tags, l.n_tags = 49;
		else if (!strcmp(w, "image"))
			l.image_id = "ubuntu";
		else if (!strcmp(w, "key"))
			k = key;
		cr_log_info("case %s", w);
		expect_refused(post_spec(ALPHA, &s, k), 400, cases[i].field);
	}
	/* nothing half-written */
	expect_job_count("0");
}

Test(api, unknown_kind_lists_the_known_ones)
{
	Cbq__V1__JobSpec s;
	Cbq__V1__LaunchSpec l;
	struct h_http_reply r;
	Cbq__V1__Error *e;

	spec_init(&s, &l, ALPHA);
	s.kind = "gaming";
	r = post_spec(ALPHA, &s, NULL);
	cr_assert_eq(r.status, 400);
	e = error_of(&r);
	cr_expect(strstr(e->message, "inference, research, training"), "%s", e->message);
	cbq__v1__error__free_unpacked(e, NULL);
	h_http_reply_free(&r);
}

Test(api, malformed_bodies_routes_and_methods)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
	Cbq__V1__JobSpec s;
	Cbq__V1__LaunchSpec l;
	Cbq__V1__SubmitJobRequest req = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	uint8_t buf[512];
	size_t len;
	char *big;

	expect_refused(h_http(d, "POST", "/v1/jobs", NULL, ALPHA, garbage, sizeof(garbage)), 400,
		       "body");
	spec_init(&s, &l, ALPHA);
	req.spec = &s;
	len = cbq__v1__submit_job_request__pack(&req, buf);
	expect_refused(h_http(d, "POST", "/v1/jobs", NULL, ALPHA, buf, len - 3), 400, "body");
	expect_refused(h_http(d, "POST", "/v1/jobs", NULL, ALPHA, "", 0), 400, "spec");

	big = calloc(1, 1024 * 1024 + 1);
	expect_refused(h_http(d, "POST", "/v1/jobs", NULL, ALPHA, big, 1024 * 1024 + 1), 413,
		       NULL);
	free(big);

	expect_refused(h_http(d, "GET", "/v1/nothing", NULL, ALPHA, NULL, 0), 404, NULL);
	expect_refused(h_http(d, "DELETE", "/v1/jobs", NULL, ALPHA, NULL, 0), 405, NULL);
	expect_refused(h_http(d, "POST", "/v1/whoami", NULL, ALPHA, NULL, 0), 405, NULL);
	expect_refused(h_http(d, "GET", "/v1/jobs/abc", NULL, ALPHA, NULL, 0), 404, NULL);
	expect_refused(h_http(d, "GET", "/v1/jobs?state=dancing", NULL, ALPHA, NULL, 0), 400,
		       "state");
	expect_refused(h_http(d, "GET", "/v1/jobs?page_size=0", NULL, ALPHA, NULL, 0), 400,
		       "page_size");
	expect_refused(h_http(d, "GET", "/v1/jobs?page_token=xyz", NULL, ALPHA, NULL, 0), 400,
		       "page_token");
}

Test(api, who_may_call)
{
	struct h_http_reply r;
	Cbq__V1__Error *e;

	expect_refused(h_http(d, "GET", "/v1/whoami", NULL, NULL, NULL, 0), 401, NULL);
	expect_refused(h_http(d, "GET", "/v1/whoami", NULL, "12ab", NULL, 0), 401,
		       "X-Cbq-Account");
	r = h_http(d, "GET", "/v1/whoami", NULL, "999999999999", NULL, 0);
	cr_assert_eq(r.status, 403);
	e = error_of(&r);
	cr_expect(strstr(e->message, "999999999999"), "names the account: %s", e->message);
	cbq__v1__error__free_unpacked(e, NULL);
	h_http_reply_free(&r);
}

/* ---- teams, idempotency, cancel --------------------------------------------------- */

Test(api, another_team_sees_and_cancels_nothing)
{
	Cbq__V1__JobSpec s;
	Cbq__V1__LaunchSpec l;
	char *id, path[64];
	Cbq__V1__Job *job;
	long status;

	spec_init(&s, &l, ALPHA);
	id = submit_ok(ALPHA, &s, NULL);
	job = get_job(BETA, id, &status);
	cr_expect_eq(status, 404);
	cr_expect_null(job);
	snprintf(path, sizeof(path), "/v1/jobs/%s:cancel", id);
	expect_refused(h_http(d, "POST", path, NULL, BETA, NULL, 0), 404, NULL);
	/* still queued, and the other account of team alpha sees it */
	job = get_job(ALPHA2, id, &status);
	cr_assert_eq(status, 200);
	cr_expect_eq(job->state, CBQ__V1__JOB_STATE__JOB_STATE_QUEUED);
	cr_expect_str_eq(job->team, "alpha");
	cbq__v1__job__free_unpacked(job, NULL);
	expect_refused(h_http(d, "GET", "/v1/jobs?team=alpha", NULL, BETA, NULL, 0), 403, "team");
	free(id);
}

Test(api, idempotency_key_returns_the_original_or_conflicts)
{
	Cbq__V1__JobSpec s;
	Cbq__V1__LaunchSpec l;
	char *a, *b, *c;

	spec_init(&s, &l, ALPHA);
	a = submit_ok(ALPHA, &s, "sweep-1");
	b = submit_ok(ALPHA2, &s, "sweep-1");
	cr_expect_str_eq(a, b, "same key, same request: the original job");
	/* another team may use the same key for its own job */
	spec_init(&s, &l, BETA);
	c = submit_ok(BETA, &s, "sweep-1");
	cr_expect_str_neq(a, c);
	spec_init(&s, &l, ALPHA);
	s.count = 3;
	expect_refused(post_spec(ALPHA, &s, "sweep-1"), 409, "idempotency_key");
	expect_job_count("2");
	free(a);
	free(b);
	free(c);
}

Test(api, cancel_queued_then_conflict)
{
	Cbq__V1__JobSpec s;
	Cbq__V1__LaunchSpec l;
	char *id, path[64];
	struct h_http_reply r;
	Cbq__V1__Job *job;
	long status;

	spec_init(&s, &l, ALPHA);
	id = submit_ok(ALPHA, &s, NULL);
	snprintf(path, sizeof(path), "/v1/jobs/%s:cancel", id);
	r = h_http(d, "POST", path, NULL, ALPHA, NULL, 0);
	cr_assert_eq(r.status, 200);
	job = cbq__v1__job__unpack(NULL, r.len, r.body);
	cr_expect_eq(job->state, CBQ__V1__JOB_STATE__JOB_STATE_CANCELLED);
	cr_expect_gt(job->ended_at_ms, 0);
	cbq__v1__job__free_unpacked(job, NULL);
	h_http_reply_free(&r);
	expect_refused(h_http(d, "POST", path, NULL, ALPHA, NULL, 0), 409, NULL);

	job = get_job(ALPHA, id, &status);
	cr_assert_eq(status, 200);
	cr_assert_eq(job->n_events, 2, "submitted and cancelled events");
	cr_expect_eq(job->events[1]->from_state, CBQ__V1__JOB_STATE__JOB_STATE_QUEUED);
	cr_expect_eq(job->events[1]->to_state, CBQ__V1__JOB_STATE__JOB_STATE_CANCELLED);
	cr_expect_str_eq(job->events[1]->actor, "dev:" ALPHA);
	cbq__v1__job__free_unpacked(job, NULL);
	free(id);
}

/* ---- list, blocks, whoami -------------------------------------------------------- */

Test(api, list_filters_and_pages)
{
	Cbq__V1__JobSpec s;
	Cbq__V1__LaunchSpec l;
	struct h_http_reply r;
	Cbq__V1__ListJobsReply *page;
	Cbq__V1__Job *job;
	char path[128], *inference;
	long status;
	int seen = 0;

	spec_init(&s, &l, ALPHA);
	for (int i = 0; i < 5; i++)
		free(submit_ok(ALPHA, &s, NULL));
	s.kind = "inference";
	l.user_data = (ProtobufCBinaryData){ strlen(H_USER_DATA_SECRET),
					     (uint8_t *)H_USER_DATA_SECRET };
	inference = submit_ok(ALPHA, &s, NULL);
	spec_init(&s, &l, BETA);
	free(submit_ok(BETA, &s, NULL));

	r = h_http(d, "GET", "/v1/jobs?kind=inference", NULL, ALPHA, NULL, 0);
	cr_assert_eq(r.status, 200);
	page = cbq__v1__list_jobs_reply__unpack(NULL, r.len, r.body);
	cr_assert_eq(page->n_jobs, 1);
	cr_expect_eq(page->jobs[0]->spec->launch->user_data.len, 0, "lists leave user data out");
	cbq__v1__list_jobs_reply__free_unpacked(page, NULL);
	h_http_reply_free(&r);
	job = get_job(ALPHA, inference, &status);
	cr_assert_eq(status, 200);
	cr_expect_eq(job->spec->launch->user_data.len, strlen(H_USER_DATA_SECRET), "show has it");
	cbq__v1__job__free_unpacked(job, NULL);
	free(inference);

	snprintf(path, sizeof(path), "/v1/jobs?page_size=2&state=queued");
	for (int pages = 0; pages < 10; pages++) {
		r = h_http(d, "GET", path, NULL, ALPHA, NULL, 0);
		cr_assert_eq(r.status, 200);
		page = cbq__v1__list_jobs_reply__unpack(NULL, r.len, r.body);
		cr_assert(page);
		cr_assert_leq(page->n_jobs, 2);
		for (size_t i = 0; i < page->n_jobs; i++)
			cr_expect_str_eq(page->jobs[i]->team, "alpha");
		seen += (int)page->n_jobs;
		if (!page->next_page_token[0]) {
			cbq__v1__list_jobs_reply__free_unpacked(page, NULL);
			h_http_reply_free(&r);
			break;
		}
		snprintf(path, sizeof(path), "/v1/jobs?page_size=2&state=queued&page_token=%s",
			 page->next_page_token);
		cbq__v1__list_jobs_reply__free_unpacked(page, NULL);
		h_http_reply_free(&r);
	}
	cr_expect_eq(seen, 6, "every alpha job once, none of beta's");
}

Test(api, blocks_show_only_what_the_team_may_use)
{
	struct h_http_reply r;
	Cbq__V1__ListBlocksReply *b;

	h_sql(db, "INSERT INTO blocks (id, owner_account_id, az, instance_type, total, available,"
		  " state, start_at, end_at) VALUES"
		  " ('cr-0000000000000000a', '444444444444', 'us-east-1a', 'p5.48xlarge', 8, 5,"
		  "  'active', now() - interval '1 hour', now() + interval '1 day'),"
		  " ('cr-0000000000000000b', '444444444444', 'us-east-1b', 'p4d.24xlarge', 4, 4,"
		  "  'scheduled', now() + interval '1 day', now() + interval '2 days');"
		  "INSERT INTO block_consumers VALUES ('cr-0000000000000000a', '" ALPHA2 "');"
		  "INSERT INTO block_usage VALUES ('cr-0000000000000000a', '" ALPHA2 "', 3, now());");

	r = h_http(d, "GET", "/v1/blocks", NULL, ALPHA, NULL, 0);
	cr_assert_eq(r.status, 200);
	b = cbq__v1__list_blocks_reply__unpack(NULL, r.len, r.body);
	cr_assert_eq(b->n_blocks, 1, "alpha may use only block a (through its other account)");
	cr_expect_str_eq(b->blocks[0]->id, "cr-0000000000000000a");
	cr_expect_eq(b->blocks[0]->total, 8);
	cr_expect_eq(b->blocks[0]->available, 5);
	cr_expect_eq(b->blocks[0]->state, CBQ__V1__BLOCK_STATE__BLOCK_STATE_ACTIVE);
	cr_expect_eq(b->blocks[0]->end_ms - b->blocks[0]->cutoff_ms, 30 * 60 * 1000);
	cr_expect_eq(b->blocks[0]->n_usage, 0, "per-account usage is for admins only");
	cbq__v1__list_blocks_reply__free_unpacked(b, NULL);
	h_http_reply_free(&r);

	r = h_http(d, "GET", "/v1/blocks", NULL, BETA, NULL, 0);
	cr_assert_eq(r.status, 200);
	b = cbq__v1__list_blocks_reply__unpack(NULL, r.len, r.body);
	cr_expect_eq(b->n_blocks, 0);
	cbq__v1__list_blocks_reply__free_unpacked(b, NULL);
	h_http_reply_free(&r);

	h_sql(db, "INSERT INTO admins (principal) VALUES ('dev:" BETA "')");
	r = h_http(d, "GET", "/v1/blocks", NULL, BETA, NULL, 0);
	b = cbq__v1__list_blocks_reply__unpack(NULL, r.len, r.body);
	cr_assert_eq(b->n_blocks, 2, "admins see every block");
	cr_assert_eq(b->blocks[0]->n_usage, 1);
	cr_expect_eq(b->blocks[0]->usage[0]->used, 3);
	cbq__v1__list_blocks_reply__free_unpacked(b, NULL);
	h_http_reply_free(&r);
}

Test(api, whoami_over_mtls_and_dev)
{
	char *out = NULL;

	cr_assert_eq(h_cbq_mtls(d, BETA, &out, "whoami", NULL), 0, "%s", out);
	cr_expect(strstr(out, BETA) && strstr(out, "beta") && strstr(out, "mtls"), "%s", out);
	free(out);
	cr_assert_eq(h_cbq(d, ALPHA, &out, "whoami", NULL), 0, "%s", out);
	cr_expect(strstr(out, "alpha") && strstr(out, "dev"), "%s", out);
	free(out);
}

Test(api, readyz_and_sigterm_drain)
{
	struct h_http_reply r = h_http(d, "GET", "/readyz", NULL, NULL, NULL, 0);
	int status;

	cr_expect_eq(r.status, 200);
	h_http_reply_free(&r);
	status = h_cbqd_stop(d, SIGTERM);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "clean exit on SIGTERM");
}

/* ---- refusals at start-up ------------------------------------------------------------ */

Test(startup, dev_auth_refused_on_a_public_listener)
{
	const char *conninfo = h_db_create();
	const char *args[] = { "--listen", "0.0.0.0:18443", NULL };
	char *log = NULL;
	int rc = h_cbqd_expect_exit(conninfo, args, 5000, &log);

	cr_expect_neq(rc, 0);
	cr_expect_neq(rc, -1, "cbqd must exit, not serve");
	cr_expect(strstr(log, "insecure-dev-auth"), "log: %s", log);
	free(log);
	h_cleanup();
}

Test(startup, untrusted_client_certificate_is_refused)
{
	const char *conninfo = h_db_create();
	struct h_cbqd *srv;
	char *out = NULL, *err = NULL, url[96], ca[512], cert[512], key[512];
	int rc;

	h_seed_teams(conninfo);
	srv = h_cbqd_start(conninfo, NULL);
	snprintf(url, sizeof(url), "%s", srv->url);
	snprintf(ca, sizeof(ca), "%s", h_cert("ca.pem"));
	snprintf(cert, sizeof(cert), "%s", h_cert("client-untrusted.pem"));
	snprintf(key, sizeof(key), "%s", h_cert("client-untrusted.key"));
	{
		const char *argv[] = { "cbq", "--server", url, "--ca", ca, "--cert", cert,
				       "--key", key, "--account", ALPHA, "whoami", NULL };
		rc = h_run(argv, NULL, &out, &err);
	}
	cr_expect_eq(rc, 3, "the TLS handshake is refused: %s %s", out, err);
	free(out);
	free(err);
	h_cleanup();
}

/* ---- Postgres going away ------------------------------------------------------------ */

Test(api, postgres_unreachable_is_503_then_recovers, .timeout = 90)
{
	char *name = h_sql_value(db, "SELECT current_database()"), sql[256];
	struct h_http_reply r;
	Cbq__V1__Error *e;
	int tries;

	/* cut cbqd off: no new connections to its database, and drop the ones it has */
	snprintf(sql, sizeof(sql),
		 "ALTER DATABASE %s ALLOW_CONNECTIONS false;"
		 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '%s';",
		 name, name);
	h_sql("dbname=postgres", sql);
	/* pg_terminate_backend only signals: wait until the backends are gone */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'",
		 name);
	for (tries = 0; tries < 100; tries++) {
		char *n = h_sql_value("dbname=postgres", sql);
		bool gone = strcmp(n, "0") == 0;
		free(n);
		if (gone)
			break;
		usleep(50 * 1000);
	}
	cr_assert_lt(tries, 100, "cbqd's connections did not end");

	r = h_http(d, "GET", "/v1/whoami", NULL, ALPHA, NULL, 0);
	cr_expect_eq(r.status, 503, "got %ld", r.status);
	if (r.status == 503) {
		e = error_of(&r);
		cr_expect_eq(e->code, CBQ__V1__ERROR_CODE__ERROR_CODE_UNAVAILABLE);
		cr_expect(strstr(e->message, "try again"), "%s", e->message);
		cbq__v1__error__free_unpacked(e, NULL);
	}
	h_http_reply_free(&r);
	r = h_http(d, "GET", "/readyz", NULL, NULL, NULL, 0);
	cr_expect_eq(r.status, 503, "not ready without Postgres");
	h_http_reply_free(&r);

	snprintf(sql, sizeof(sql), "ALTER DATABASE %s ALLOW_CONNECTIONS true", name);
	h_sql("dbname=postgres", sql);
	for (tries = 0; tries < 40; tries++) {
		r = h_http(d, "GET", "/v1/whoami", NULL, ALPHA, NULL, 0);
		long status = r.status;
		h_http_reply_free(&r);
		if (status == 200)
			break;
		usleep(250 * 1000);
	}
	cr_expect_lt(tries, 40, "cbqd serves again once Postgres is back");
	free(name);
}
