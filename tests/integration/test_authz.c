/*
 * Who may do what (DESIGN.md §7), as one table: every caller (two accounts
 * of team alpha, one of beta, an admin in team ops, an account cbq does not
 * know) against every action of the API, through real cbqd over TLS. Each
 * cell says the status and, where the call succeeds, exactly what the caller
 * sees: which jobs, which blocks, whether per-account usage is shown. Also
 * the rules of `admins` rows (cbq_principal_matches) as a table over SQL.
 */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbq/v1/cbq.pb-c.h"
#include "harness.h"

enum actor { A1, A2, B1, ADM, UNK, N_ACTORS };

static const char *const account[N_ACTORS] = {
	[A1] = "111111111111",	/* alpha */
	[A2] = "333333333333",	/* alpha, its second account */
	[B1] = "222222222222",	/* beta */
	[ADM] = "444444444444", /* ops, and listed in admins */
	[UNK] = "555555555555", /* registered nowhere */
};
static const char *const actor_name[N_ACTORS] = { "A1", "A2", "B1", "ADM", "UNK" };

static const char *db;
static struct h_cbqd *d;

static void start(void)
{
	db = h_db_create();
	h_seed_teams(db);
	h_sql(db, "INSERT INTO teams (name) VALUES ('ops');"
		  "INSERT INTO accounts (account_id, team, role_arn) VALUES"
		  " ('444444444444', 'ops', 'arn:aws:iam::444444444444:role/cbq-launcher');"
		  "INSERT INTO admins (principal) VALUES ('dev:444444444444');"
		  /* blocks: a for alpha's first account, b for beta, ab for alpha's
		   * second account and beta, none shared with anyone */
		  "INSERT INTO blocks (id, owner_account_id, az, instance_type, total, available,"
		  " state, start_at, end_at) SELECT id, '999999999999', 'us-east-1a', 'p5.48xlarge',"
		  " 8, 8, 'active', now() - interval '1 hour', now() + interval '2 days'"
		  " FROM unnest(ARRAY['cr-000000000000000a0', 'cr-000000000000000b0',"
		  "  'cr-00000000000000ab0', 'cr-00000000000000ff0']) AS id;"
		  "INSERT INTO block_consumers VALUES ('cr-000000000000000a0', '111111111111'),"
		  " ('cr-000000000000000b0', '222222222222'), ('cr-00000000000000ab0', '333333333333'),"
		  " ('cr-00000000000000ab0', '222222222222');"
		  "INSERT INTO block_usage VALUES ('cr-00000000000000ab0', '222222222222', 2, now());");
	d = h_cbqd_start(db, NULL);
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(authz, .init = start, .fini = stop, .timeout = 120);

/* ---- calls ------------------------------------------------------------------------ */

/* Submits a valid job into job_account as who; returns the status, and the
 * job id in id (when 201). */
static long submit(enum actor who, const char *job_account, char *id, size_t id_size)
{
	Cbq__V1__SubmitJobRequest req = CBQ__V1__SUBMIT_JOB_REQUEST__INIT;
	Cbq__V1__JobSpec s = CBQ__V1__JOB_SPEC__INIT;
	Cbq__V1__LaunchSpec l = CBQ__V1__LAUNCH_SPEC__INIT;
	struct h_http_reply r;
	uint8_t buf[512];
	size_t len;
	long status;

	s.account_id = (char *)(uintptr_t)job_account;
	s.kind = "training";
	s.instance_type = "p5.48xlarge";
	s.count = 1;
	s.duration_seconds = 3600;
	l.image_id = "ami-0123456789abcdef0";
	s.launch = &l;
	req.spec = &s;
	len = cbq__v1__submit_job_request__get_packed_size(&req);
	cr_assert_leq(len, sizeof(buf));
	cbq__v1__submit_job_request__pack(&req, buf);
	r = h_http(d, "POST", "/v1/jobs", NULL, account[who], buf, len);
	status = r.status;
	if (id && r.status == 201) {
		Cbq__V1__Job *job = cbq__v1__job__unpack(NULL, r.len, r.body);
		cr_assert(job);
		snprintf(id, id_size, "%s", job->id);
		cbq__v1__job__free_unpacked(job, NULL);
	}
	h_http_reply_free(&r);
	return status;
}

/* A fresh queued job of the given account, submitted by that account. */
static void fresh_job(enum actor owner, char *id, size_t id_size)
{
	cr_assert_eq(submit(owner, account[owner], id, id_size), 201);
}

/* ids of the jobs a list reply holds, as " 12 15 " (sorted as listed). */
static void job_ids(const struct h_http_reply *r, char *out, size_t size)
{
	Cbq__V1__ListJobsReply *l = cbq__v1__list_jobs_reply__unpack(NULL, r->len, r->body);

	cr_assert(l, "a ListJobsReply");
	snprintf(out, size, " ");
	for (size_t i = 0; i < l->n_jobs; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s ", l->jobs[i]->id);
	cbq__v1__list_jobs_reply__free_unpacked(l, NULL);
}

/* ---- the matrix --------------------------------------------------------------------- */

enum action {
	WHOAMI,
	SUBMIT_OWN,	  /* into the caller's own account */
	SUBMIT_ALPHA,	  /* into alpha's first account */
	GET_ALPHA_JOB,
	GET_BETA_JOB,
	LIST_MINE,	  /* no team filter */
	LIST_BETA,	  /* ?team=beta */
	CANCEL_ALPHA_JOB, /* a fresh queued job of alpha */
	CANCEL_BETA_JOB,
	BLOCKS,
	N_ACTIONS
};
static const char *const action_name[N_ACTIONS] = {
	"whoami", "submit own", "submit into alpha", "get alpha's job", "get beta's job",
	"list", "list team beta", "cancel alpha's job", "cancel beta's job", "blocks",
};

struct cell {
	long status;
	/* LIST_*: which of the fixture jobs appear ("ja jb jo": alpha's, beta's, ops'). */
	const char *sees;
	/* BLOCKS: ids' distinguishing letters, sorted ("a ab b ff"), and usage shown */
	bool usage;
	/* WHOAMI: team and admin flag */
	const char *team;
	bool admin;
};

static const struct cell matrix[N_ACTORS][N_ACTIONS] = {
	[A1] = {
		[WHOAMI] = { 200, .team = "alpha" },
		[SUBMIT_OWN] = { 201 },
		[SUBMIT_ALPHA] = { 201 },
		[GET_ALPHA_JOB] = { 200 },
		[GET_BETA_JOB] = { 404 },
		[LIST_MINE] = { 200, .sees = "ja" },
		[LIST_BETA] = { 403 },
		[CANCEL_ALPHA_JOB] = { 200 },
		[CANCEL_BETA_JOB] = { 404 },
		[BLOCKS] = { 200, .sees = "a ab" },
	},
	[A2] = {
		[WHOAMI] = { 200, .team = "alpha" },
		[SUBMIT_OWN] = { 201 },
		[SUBMIT_ALPHA] = { 201 }, /* the same team's other account */
		[GET_ALPHA_JOB] = { 200 },
		[GET_BETA_JOB] = { 404 },
		[LIST_MINE] = { 200, .sees = "ja" },
		[LIST_BETA] = { 403 },
		[CANCEL_ALPHA_JOB] = { 200 },
		[CANCEL_BETA_JOB] = { 404 },
		[BLOCKS] = { 200, .sees = "a ab" }, /* the team's blocks, through either account */
	},
	[B1] = {
		[WHOAMI] = { 200, .team = "beta" },
		[SUBMIT_OWN] = { 201 },
		[SUBMIT_ALPHA] = { 400 }, /* spec.account_id is not the team's */
		[GET_ALPHA_JOB] = { 404 },
		[GET_BETA_JOB] = { 200 },
		[LIST_MINE] = { 200, .sees = "jb" },
		[LIST_BETA] = { 200, .sees = "jb" },
		[CANCEL_ALPHA_JOB] = { 404 },
		[CANCEL_BETA_JOB] = { 200 },
		[BLOCKS] = { 200, .sees = "ab b" },
	},
	[ADM] = {
		[WHOAMI] = { 200, .team = "ops", .admin = true },
		[SUBMIT_OWN] = { 201 },
		[SUBMIT_ALPHA] = { 400 }, /* admins see and cancel; they do not launch as others */
		[GET_ALPHA_JOB] = { 200 },
		[GET_BETA_JOB] = { 200 },
		[LIST_MINE] = { 200, .sees = "ja jb jo" },
		[LIST_BETA] = { 200, .sees = "jb" },
		[CANCEL_ALPHA_JOB] = { 200 },
		[CANCEL_BETA_JOB] = { 200 },
		[BLOCKS] = { 200, .sees = "a ab b ff", .usage = true },
	},
	[UNK] = {
		[WHOAMI] = { 403 },
		[SUBMIT_OWN] = { 403 },
		[SUBMIT_ALPHA] = { 403 },
		[GET_ALPHA_JOB] = { 403 },
		[GET_BETA_JOB] = { 403 },
		[LIST_MINE] = { 403 },
		[LIST_BETA] = { 403 },
		[CANCEL_ALPHA_JOB] = { 403 },
		[CANCEL_BETA_JOB] = { 403 },
		[BLOCKS] = { 403 },
	},
};

/* The fixture jobs every LIST cell is judged against; created once, never
 * cancelled (cancel cells use fresh jobs). */
static char ja[32], jb[32], jo[32];

/* "ja jb" → " <ja's id> <jb's id> " in the newest-first order lists use. */
static void expected_ids(const char *sees, char *out, size_t size)
{
	const char *order[] = { jo, jb, ja }; /* created ja, jb, jo: newest first */
	const char *names[] = { "jo", "jb", "ja" };

	snprintf(out, size, " ");
	for (int i = 0; i < 3; i++)
		if (strstr(sees, names[i]))
			snprintf(out + strlen(out), size - strlen(out), "%s ", order[i]);
}

static size_t words(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += (*s != ' ' && (s[1] == ' ' || s[1] == '\0'));
	return n;
}

/* Block ids shortened to their distinguishing letters, sorted: "a ab b ff". */
static void block_letters(const Cbq__V1__ListBlocksReply *b, char *out, size_t size,
			  bool *usage)
{
	const char *all[] = { "cr-000000000000000a0", "cr-00000000000000ab0",
			      "cr-000000000000000b0", "cr-00000000000000ff0" };
	const char *letters[] = { "a", "ab", "b", "ff" };

	out[0] = '\0';
	*usage = false;
	for (int k = 0; k < 4; k++)
		for (size_t i = 0; i < b->n_blocks; i++) {
			if (strcmp(b->blocks[i]->id, all[k]) != 0)
				continue;
			snprintf(out + strlen(out), size - strlen(out), "%s%s", out[0] ? " " : "",
				 letters[k]);
			*usage |= b->blocks[i]->n_usage > 0;
			cr_expect_eq(b->blocks[i]->total, 8);
		}
}

static void run_cell(enum actor who, enum action what, const struct cell *want)
{
	const char *me = account[who];
	char path[96], id[32], got[256], exp[256];
	struct h_http_reply r = { 0 };
	long status;

	switch (what) {
	case WHOAMI:
		r = h_http(d, "GET", "/v1/whoami", NULL, me, NULL, 0);
		break;
	case SUBMIT_OWN:
	case SUBMIT_ALPHA:
		status = submit(who, what == SUBMIT_OWN ? me : account[A1], NULL, 0);
		cr_expect_eq(status, want->status, "%s %s: status %ld, want %ld", actor_name[who],
			     action_name[what], status, want->status);
		return;
	case GET_ALPHA_JOB:
	case GET_BETA_JOB:
		snprintf(path, sizeof(path), "/v1/jobs/%s", what == GET_ALPHA_JOB ? ja : jb);
		r = h_http(d, "GET", path, NULL, me, NULL, 0);
		break;
	case LIST_MINE:
		r = h_http(d, "GET", "/v1/jobs?state=queued", NULL, me, NULL, 0);
		break;
	case LIST_BETA:
		r = h_http(d, "GET", "/v1/jobs?state=queued&team=beta", NULL, me, NULL, 0);
		break;
	case CANCEL_ALPHA_JOB:
	case CANCEL_BETA_JOB:
		fresh_job(what == CANCEL_ALPHA_JOB ? A1 : B1, id, sizeof(id));
		snprintf(path, sizeof(path), "/v1/jobs/%s:cancel", id);
		r = h_http(d, "POST", path, NULL, me, NULL, 0);
		break;
	case BLOCKS:
		r = h_http(d, "GET", "/v1/blocks", NULL, me, NULL, 0);
		break;
	case N_ACTIONS:
		cr_assert_fail();
	}
	cr_expect_eq(r.status, want->status, "%s %s: status %ld, want %ld", actor_name[who],
		     action_name[what], r.status, want->status);
	if (r.status != want->status || r.status >= 300) {
		if (r.status >= 400) {
			Cbq__V1__Error *e = cbq__v1__error__unpack(NULL, r.len, r.body);
			cr_expect(e && strlen(e->message) > 10, "%s %s: an Error with a message",
				  actor_name[who], action_name[what]);
			if (e)
				cbq__v1__error__free_unpacked(e, NULL);
		}
		h_http_reply_free(&r);
		return;
	}
	if (what == WHOAMI) {
		Cbq__V1__WhoAmIReply *w = cbq__v1__who_am_ireply__unpack(NULL, r.len, r.body);
		cr_assert(w);
		cr_expect_str_eq(w->team, want->team, "%s whoami team", actor_name[who]);
		cr_expect_eq(w->admin, want->admin, "%s whoami admin", actor_name[who]);
		cr_expect_str_eq(w->account_id, me);
		cbq__v1__who_am_ireply__free_unpacked(w, NULL);
	} else if (what == LIST_MINE || what == LIST_BETA) {
		job_ids(&r, got, sizeof(got));
		expected_ids(want->sees, exp, sizeof(exp));
		cr_expect_str_eq(got, exp, "%s %s: sees jobs [%s], want [%s] (%s)", actor_name[who],
				 action_name[what], got, exp, want->sees);
	} else if (what == BLOCKS) {
		Cbq__V1__ListBlocksReply *b =
			cbq__v1__list_blocks_reply__unpack(NULL, r.len, r.body);
		bool usage;
		cr_assert(b);
		block_letters(b, got, sizeof(got), &usage);
		cr_expect_str_eq(got, want->sees, "%s blocks: sees [%s], want [%s]",
				 actor_name[who], got, want->sees);
		cr_expect_eq(usage, want->usage, "%s blocks: per-account usage %s",
			     actor_name[who], usage ? "shown" : "hidden");
		cr_expect_eq(b->n_blocks, words(got), "%s blocks: no block beyond [%s]",
			     actor_name[who], got);
		cbq__v1__list_blocks_reply__free_unpacked(b, NULL);
	}
	h_http_reply_free(&r);
}

Test(authz, every_caller_against_every_action)
{
	/* fixture jobs, created in the order expected_ids assumes */
	fresh_job(A1, ja, sizeof(ja));
	fresh_job(B1, jb, sizeof(jb));
	fresh_job(ADM, jo, sizeof(jo));
	/* the submit cells create more queued jobs: list only the fixtures by
	 * running the list cells first */
	for (enum action what = 0; what < N_ACTIONS; what++) {
		if (what == LIST_MINE || what == LIST_BETA)
			for (enum actor who = 0; who < N_ACTORS; who++)
				run_cell(who, what, &matrix[who][what]);
	}
	for (enum action what = 0; what < N_ACTIONS; what++) {
		if (what == LIST_MINE || what == LIST_BETA)
			continue;
		for (enum actor who = 0; who < N_ACTORS; who++)
			run_cell(who, what, &matrix[who][what]);
	}
}

/* ---- admins rows ---------------------------------------------------------------------- */

static const struct {
	const char *pattern, *principal;
	bool matches;
} principal_cases[] = {
	{ "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alice", true },
	{ "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/alicia", false },
	{ "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/ALICE", false },
	/* a role names its sessions */
	{ "arn:aws:iam::111122223333:role/platform",
	  "arn:aws:sts::111122223333:assumed-role/platform/alice", true },
	{ "arn:aws:iam::111122223333:role/ops/platform",
	  "arn:aws:sts::111122223333:assumed-role/platform/bob", true },
	{ "arn:aws:iam::111122223333:role/platform",
	  "arn:aws:sts::999988887777:assumed-role/platform/alice", false },
	{ "arn:aws:iam::111122223333:role/platform",
	  "arn:aws-cn:sts::111122223333:assumed-role/platform/alice", false },
	{ "arn:aws:iam::111122223333:role/platform",
	  "arn:aws:sts::111122223333:assumed-role/platform-dev/alice", false },
	{ "arn:aws:iam::111122223333:role/platform",
	  "arn:aws:iam::111122223333:user/platform", false },
	{ "arn:aws:iam::111122223333:user/platform",
	  "arn:aws:sts::111122223333:assumed-role/platform/alice", false },
	/* prefixes */
	{ "arn:aws:sts::111122223333:assumed-role/ops-*",
	  "arn:aws:sts::111122223333:assumed-role/ops-oncall/carol", true },
	{ "arn:aws:sts::111122223333:assumed-role/ops-*",
	  "arn:aws:sts::111122223333:assumed-role/dev/carol", false },
	{ "arn:aws:sts::111122223333:assumed-role/ops-*", "arn:aws:sts::111122223333:assumed", false },
	/* the other ways in */
	{ "dev:444444444444", "dev:444444444444", true },
	{ "dev:444444444444", "dev:444444444445", false },
	/* LIKE's and regex's special characters are plain text */
	{ "arn:aws:iam::111122223333:user/a_b", "arn:aws:iam::111122223333:user/axb", false },
	{ "arn:aws:iam::111122223333:user/a%b", "arn:aws:iam::111122223333:user/aXYZb", false },
};

Test(authz, admins_rows_name_principals)
{
	char sql[512];

	for (size_t i = 0; i < sizeof(principal_cases) / sizeof(principal_cases[0]); i++) {
		char *v;
		snprintf(sql, sizeof(sql), "SELECT cbq_principal_matches('%s', '%s')",
			 principal_cases[i].pattern, principal_cases[i].principal);
		v = h_sql_value(db, sql);
		cr_expect_str_eq(v, principal_cases[i].matches ? "t" : "f", "%s vs %s",
				 principal_cases[i].pattern, principal_cases[i].principal);
		free(v);
	}
}

Test(authz, admins_rows_cannot_name_everyone)
{
	static const char *const refused[] = { "*", "arn:*", "arn:aws:iam::*", "a*b*",
					       "arn:aws:sts::1*:assumed-role/x" };
	char sql[256];

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		char *v;
		snprintf(sql, sizeof(sql),
			 "DO $$ BEGIN INSERT INTO admins (principal) VALUES ('%s');"
			 " RAISE EXCEPTION 'accepted'; EXCEPTION WHEN check_violation THEN NULL;"
			 " END $$; SELECT 'refused'",
			 refused[i]);
		v = h_sql_value(db, sql);
		cr_expect_str_eq(v, "refused", "%s", refused[i]);
		free(v);
	}
}
