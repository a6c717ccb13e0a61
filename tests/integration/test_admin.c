/*
 * `cbqd migrate` and `cbqd admin` against a real Postgres: migrations apply
 * once and fail whole, every add lands and lists, bad input is refused with
 * the flag named before the database is touched, Postgres's refusals become
 * sentences, and `cbqd serve` refuses a schema that is behind or ahead.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define BLOCK "cr-0123456789abcdef0"

static const char *db;

static void start(void)
{
	db = h_db_create();
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(admin, .init = start, .fini = stop, .timeout = 60);

static int sql_int(const char *sql)
{
	char *v = h_sql_value(db, sql);
	int n = v ? atoi(v) : -1;

	free(v);
	return n;
}

static void add_team(const char *name)
{
	char *out, *err;
	int rc = h_admin(db, &out, &err, "team", "add", name, NULL);

	cr_assert_eq(rc, 0, "team add %s: exit %d: %s", name, rc, err);
	free(out);
	free(err);
}

static void add_account(const char *id, const char *team)
{
	char arn[80], *out, *err;
	int rc;

	snprintf(arn, sizeof(arn), "arn:aws:iam::%s:role/cbq-launcher", id);
	rc = h_admin(db, &out, &err, "account", "add", id, "--team", team, "--role-arn", arn, NULL);
	cr_assert_eq(rc, 0, "account add %s: exit %d: %s", id, rc, err);
	free(out);
	free(err);
}

/* ---- migrate --------------------------------------------------------------------- */

Test(admin, migrate_twice_applies_nothing_the_second_time)
{
	const char *argv[] = { "cbqd", "migrate", "--db", db, NULL };
	char *out, *err;
	int rc, latest = sql_int("SELECT max(version) FROM schema_migrations");

	cr_assert_geq(latest, 1);
	rc = h_run(argv, NULL, &out, &err);
	cr_assert_eq(rc, 0, "second migrate: exit %d: %s", rc, err);
	cr_assert(strstr(out, "(applied 0)"), "stdout: %s", out);
	cr_assert_eq(sql_int("SELECT count(*) FROM schema_migrations"), latest);
	free(out);
	free(err);
}

Test(admin, failed_migration_names_the_file_and_leaves_nothing_recorded)
{
	const char *argv[] = { "cbqd", "migrate", "--db", db, NULL };
	char *out, *err;
	int rc;

	/* forget 0001 while its tables exist: applying it again must fail whole */
	h_sql(db, "DELETE FROM schema_migrations WHERE version = 1");
	rc = h_run(argv, NULL, &out, &err);
	cr_assert_eq(rc, 1, "exit %d: %s", rc, err);
	cr_assert(strstr(err, "0001_foundation.sql"), "stderr: %s", err);
	cr_assert(strstr(err, "already exists"), "Postgres's message missing: %s", err);
	cr_assert_eq(sql_int("SELECT count(*) FROM schema_migrations WHERE version = 1"), 0);
	free(out);
	free(err);
}

Test(admin, migrate_without_a_server_says_so)
{
	const char *argv[] = { "cbqd", "migrate", "--db",
			       "host=/nonexistent-cbq-dir dbname=x password=s3cret-pw", NULL };
	char *out, *err;
	int rc = h_run(argv, NULL, &out, &err);

	cr_assert_eq(rc, 1);
	cr_assert(strstr(err, "cannot connect to Postgres"), "stderr: %s", err);
	cr_assert_null(strstr(err, "s3cret-pw"), "password leaked: %s", err);
	free(out);
	free(err);
}

/* ---- teams, accounts, admins ----------------------------------------------------- */

Test(admin, team_add_and_ls)
{
	char *out, *err;
	int rc;

	add_team("alpha");
	rc = h_admin(db, &out, &err, "team", "add", "beta", "--priority", "25", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	cr_assert_eq(sql_int("SELECT priority FROM teams WHERE name = 'beta'"), 25);

	rc = h_admin(db, &out, &err, "team", "ls", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_assert(strncmp(out, "TEAM", 4) == 0, "no header: %s", out);
	cr_assert(strstr(out, "\nalpha "), "alpha missing: %s", out);
	cr_assert(strstr(out, "\nbeta "), "beta missing: %s", out);
	cr_assert(strstr(out, " 25 "), "priority missing: %s", out);
	free(out);
	free(err);
}

Test(admin, duplicate_team_is_refused_by_name)
{
	char *out, *err;
	int rc;

	add_team("alpha");
	rc = h_admin(db, &out, &err, "team", "add", "alpha", NULL);
	cr_assert_eq(rc, 1, "exit %d", rc);
	cr_assert(strstr(err, "team alpha already exists"), "stderr: %s", err);
	free(out);
	free(err);
}

Test(admin, bad_team_name_and_priority_are_usage_errors)
{
	char *out, *err;
	int rc;

	rc = h_admin(db, &out, &err, "team", "add", "Not A Name", NULL);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "team name"), "stderr: %s", err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "team", "add", "gamma", "--priority", "5000", NULL);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "--priority"), "stderr: %s", err);
	free(out);
	free(err);
	cr_assert_eq(sql_int("SELECT count(*) FROM teams"), 0);
}

Test(admin, account_add_and_ls)
{
	char *out, *err, *team;
	int rc;

	add_team("alpha");
	add_team("beta");
	add_account("111111111111", "alpha");
	rc = h_admin(db, &out, &err, "account", "add", "222222222222", "--team", "beta", "--role-arn",
		   "arn:aws:iam::222222222222:role/cbq-launcher", "--external-id", "ext-42", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	team = h_sql_value(db, "SELECT team FROM accounts WHERE account_id = '111111111111'");
	cr_assert_str_eq(team, "alpha");
	free(team);

	rc = h_admin(db, &out, &err, "account", "ls", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_assert(strncmp(out, "ACCOUNT", 7) == 0, "no header: %s", out);
	cr_assert(strstr(out, "111111111111  alpha"), "alpha's account missing: %s", out);
	cr_assert(strstr(out, "ext-42"), "external id missing: %s", out);
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "account", "ls", "--team", "beta", NULL);
	cr_assert_eq(rc, 0);
	cr_assert_null(strstr(out, "111111111111"), "filter ignored: %s", out);
	cr_assert(strstr(out, "222222222222"), "beta's account missing: %s", out);
	free(out);
	free(err);
}

Test(admin, account_for_unknown_team_names_it)
{
	char *out, *err;
	int rc = h_admin(db, &out, &err, "account", "add", "111111111111", "--team", "ghost",
		       "--role-arn", "arn:aws:iam::111111111111:role/cbq-launcher", NULL);

	cr_assert_eq(rc, 1, "exit %d", rc);
	cr_assert(strstr(err, "no team named ghost"), "stderr: %s", err);
	cr_assert(strstr(err, "cbqd admin team add ghost"), "no hint: %s", err);
	free(out);
	free(err);
}

Test(admin, bad_account_arguments_name_the_flag)
{
	char *out, *err;
	int rc;

	add_team("alpha");
	rc = h_admin(db, &out, &err, "account", "add", "12345", "--team", "alpha", "--role-arn",
		   "arn:aws:iam::111111111111:role/cbq-launcher", NULL);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "ACCOUNT_ID must be 12 digits"), "stderr: %s", err);
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "account", "add", "111111111111", "--team", "alpha", NULL);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "--role-arn is required"), "stderr: %s", err);
	free(out);
	free(err);

	/* a role in another account would launch the team's jobs somewhere else */
	rc = h_admin(db, &out, &err, "account", "add", "111111111111", "--team", "alpha", "--role-arn",
		   "arn:aws:iam::999999999999:role/cbq-launcher", NULL);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "--role-arn"), "stderr: %s", err);
	free(out);
	free(err);
	cr_assert_eq(sql_int("SELECT count(*) FROM accounts"), 0);
}

Test(admin, admin_add_and_ls)
{
	const char *arn = "arn:aws:iam::999999999999:role/platform";
	char *out, *err;
	int rc;

	rc = h_admin(db, &out, &err, "admin", "add", arn, NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "admin", "add", arn, NULL);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(err, "already exists"), "stderr: %s", err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "admin", "ls", NULL);
	cr_assert_eq(rc, 0);
	cr_assert(strncmp(out, "PRINCIPAL", 9) == 0, "no header: %s", out);
	cr_assert(strstr(out, arn), "admin missing: %s", out);
	free(out);
	free(err);
}

/* ---- blocks ---------------------------------------------------------------------- */

Test(admin, block_with_shares_lands_in_block_consumers)
{
	char *out, *err, *state;
	int rc;

	/* duplicates and the owner itself are not listed as consumers */
	rc = h_admin(db, &out, &err, "block", "add", BLOCK, "--instance-type", "p5.48xlarge", "--az",
		   "us-east-1a", "--count", "4", "--start", "2020-01-01T00:00:00Z", "--end",
		   "2099-01-01T00:00:00Z", "--owner", "999999999999", "--share",
		   "111111111111,222222222222,111111111111,999999999999", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	cr_assert_eq(sql_int("SELECT count(*) FROM block_consumers WHERE block_id = '" BLOCK "'"),
		     2);
	cr_assert_eq(sql_int("SELECT available FROM blocks WHERE id = '" BLOCK "'"), 4);
	state = h_sql_value(db, "SELECT state || ' ' || region FROM blocks WHERE id = '" BLOCK "'");
	cr_assert_str_eq(state, "active us-east-1");
	free(state);

	rc = h_admin(db, &out, &err, "block", "ls", NULL);
	cr_assert_eq(rc, 0);
	cr_assert(strncmp(out, "BLOCK", 5) == 0, "no header: %s", out);
	cr_assert(strstr(out, BLOCK), "block missing: %s", out);
	cr_assert(strstr(out, "111111111111,222222222222"), "shares missing: %s", out);
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "block", "add", BLOCK, "--instance-type", "p5.48xlarge", "--az",
		   "us-east-1a", "--count", "4", "--start", "2020-01-01T00:00:00Z", "--end",
		   "2099-01-01T00:00:00Z", "--owner", "999999999999", NULL);
	cr_assert_eq(rc, 1);
	cr_assert(strstr(err, "block " BLOCK " already exists"), "stderr: %s", err);
	free(out);
	free(err);
}

Test(admin, block_in_the_future_is_scheduled_with_given_availability)
{
	char *out, *err, *state;
	int rc = h_admin(db, &out, &err, "block", "add", BLOCK, "--instance-type", "p5.48xlarge", "--az",
		       "us-west-2b", "--count", "8", "--start", "2098-01-01T00:00:00Z", "--end",
		       "2098-01-02T00:00:00+02:00", "--owner", "999999999999", "--available", "3",
		       NULL);

	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	state = h_sql_value(db, "SELECT state || ' ' || available || ' ' || "
				"to_char(end_at AT TIME ZONE 'UTC', 'HH24') FROM blocks");
	cr_assert_str_eq(state, "scheduled 3 22");
	free(state);
}

Test(admin, block_with_end_before_start_is_refused)
{
	char *out, *err;
	int rc = h_admin(db, &out, &err, "block", "add", BLOCK, "--instance-type", "p5.48xlarge", "--az",
		       "us-east-1a", "--count", "4", "--start", "2026-11-23T08:00:00Z", "--end",
		       "2026-11-22T08:00:00Z", "--owner", "999999999999", NULL);

	cr_assert_neq(rc, 0);
	cr_assert(strstr(err, "--end"), "stderr: %s", err);
	cr_assert_eq(sql_int("SELECT count(*) FROM blocks"), 0);
	free(out);
	free(err);
}

Test(admin, bad_block_arguments_name_the_flag)
{
	static const struct {
		const char *flag, *value, *expect;
	} cases[] = {
		{ "--count", "0", "--count must be 1..10000" },
		{ "--count", "10001", "--count must be 1..10000" },
		{ "--az", "useast1a", "--az" },
		{ "--instance-type", "p5", "--instance-type" },
		{ "--owner", "12", "--owner" },
		{ "--share", "111111111111,42", "--share" },
		{ "--state", "gone", "--state" },
		{ "--available", "5", "--available" },
		{ "--start", "2026-11-23 08:00", "--start" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *f[] = { "--instance-type",
				    "p5.48xlarge",
				    "--az",
				    "us-east-1a",
				    "--count",
				    "4",
				    "--start",
				    "2026-11-23T08:00:00Z",
				    "--end",
				    "2026-11-30T08:00:00Z",
				    "--owner",
				    "999999999999" };
		const char *v[12];
		char *out, *err;
		int rc;
		bool replaced = false;

		for (int k = 0; k < 12; k += 2) {
			v[k] = f[k];
			v[k + 1] = f[k + 1];
			if (strcmp(f[k], cases[i].flag) == 0) {
				v[k + 1] = cases[i].value;
				replaced = true;
			}
		}
		if (replaced)
			rc = h_admin(db, &out, &err, "block", "add", BLOCK, v[0], v[1], v[2], v[3], v[4],
				   v[5], v[6], v[7], v[8], v[9], v[10], v[11], NULL);
		else
			rc = h_admin(db, &out, &err, "block", "add", BLOCK, v[0], v[1], v[2], v[3], v[4],
				   v[5], v[6], v[7], v[8], v[9], v[10], v[11], cases[i].flag,
				   cases[i].value, NULL);
		cr_expect_eq(rc, 2, "%s %s: exit %d: %s", cases[i].flag, cases[i].value, rc, err);
		cr_expect(strstr(err, cases[i].expect), "%s %s: stderr: %s", cases[i].flag,
			  cases[i].value, err);
		free(out);
		free(err);
	}
	cr_assert_eq(sql_int("SELECT count(*) FROM blocks"), 0);
}

/* ---- usage ----------------------------------------------------------------------- */

Test(admin, usage_and_help)
{
	const char *none[] = { "cbqd", "admin", NULL };
	const char *help[] = { "cbqd", "admin", "block", "add", "--help", NULL };
	char *out, *err;
	int rc;

	rc = h_run(none, NULL, &out, &err);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "usage:"), "stderr: %s", err);
	free(out);
	free(err);
	rc = h_run(help, NULL, &out, &err);
	cr_assert_eq(rc, 0);
	cr_assert(strstr(out, "usage:") && strstr(out, "--share"), "stdout: %s", out);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "team", "frobnicate", NULL);
	cr_assert_eq(rc, 2);
	cr_assert(strstr(err, "frobnicate"), "stderr: %s", err);
	free(out);
	free(err);
}

/* ---- serve's schema check ---------------------------------------------------------- */

Test(admin, serve_refuses_a_schema_that_is_behind)
{
	char *name, *log = NULL, sql[128];
	int rc, latest = sql_int("SELECT max(version) FROM schema_migrations");

	name = h_sql_value(db, "SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1");
	cr_assert_not_null(name);
	snprintf(sql, sizeof(sql), "DELETE FROM schema_migrations WHERE version = %d", latest);
	h_sql(db, sql);

	rc = h_cbqd_expect_exit(db, NULL, 15000, &log);
	cr_assert_neq(rc, -1, "cbqd kept running on a schema that is behind; log:\n%s", log);
	cr_assert_neq(rc, 0, "log:\n%s", log);
	cr_assert(strstr(log, name), "log does not name %s:\n%s", name, log);
	cr_assert(strstr(log, "cbqd migrate"), "log does not say what to do:\n%s", log);
	free(name);
	free(log);
}

Test(admin, serve_refuses_a_schema_newer_than_itself)
{
	char *log = NULL;
	int rc;

	h_sql(db, "INSERT INTO schema_migrations (version, name)"
		  " SELECT max(version) + 1, 'from_the_future.sql' FROM schema_migrations");
	rc = h_cbqd_expect_exit(db, NULL, 15000, &log);
	cr_assert_neq(rc, -1, "cbqd kept running on a newer schema; log:\n%s", log);
	cr_assert_neq(rc, 0, "log:\n%s", log);
	cr_assert(strstr(log, "newer"), "log:\n%s", log);
	free(log);
}
