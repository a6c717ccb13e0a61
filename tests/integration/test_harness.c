/*
 * The harness itself: a fresh migrated database per call, SQL helpers, child
 * processes with captured output, exit codes and a hermetic environment, and
 * h_http's answer when nothing listens. cbqd serve is covered by test_api.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

TestSuite(harness, .fini = h_cleanup, .timeout = 60);

Test(harness, db_create_gives_a_migrated_database)
{
	const char *db = h_db_create();
	char *kinds = h_sql_value(db, "SELECT count(*) FROM job_kinds");

	cr_assert(kinds);
	cr_expect_str_eq(kinds, "3");
	free(kinds);
}

Test(harness, each_db_create_is_a_new_database)
{
	const char *a = h_db_create();
	const char *b = h_db_create();
	char *name;

	cr_expect_str_neq(a, b);
	h_sql(a, "CREATE TABLE only_here (x int); INSERT INTO only_here VALUES (1)");
	name = h_sql_value(b, "SELECT to_regclass('only_here')::text");
	cr_expect_null(name, "table leaked into the second database: %s", name);
	free(name);
}

Test(harness, seed_teams_registers_the_fixture_accounts)
{
	const char *db = h_db_create();
	char *v;

	h_seed_teams(db);
	v = h_sql_value(db, "SELECT string_agg(account_id || ':' || team, ',' ORDER BY account_id)"
			    " FROM accounts");
	cr_expect_str_eq(v, "111111111111:alpha,222222222222:beta,333333333333:alpha");
	free(v);
	v = h_sql_value(db, "SELECT role_arn FROM accounts WHERE account_id = '222222222222'");
	cr_expect_str_eq(v, "arn:aws:iam::222222222222:role/cbq-launcher");
	free(v);
	v = h_sql_value(db, "SELECT name FROM teams WHERE name = 'nobody'");
	cr_expect_null(v);
}

Test(harness, run_captures_both_streams_without_deadlock)
{
	/* 1 MiB on each stream at once: more than any pipe buffer holds */
	const char *argv[] = { "/bin/sh", "-c",
			       "head -c 1048576 /dev/zero | tr '\\0' o & "
			       "head -c 1048576 /dev/zero | tr '\\0' e >&2; wait; exit 3",
			       NULL };
	char *out = NULL, *err = NULL;

	cr_expect_eq(h_run(argv, NULL, &out, &err), 3);
	cr_expect_eq(strlen(out), 1048576);
	cr_expect_eq(strlen(err), 1048576);
	cr_expect_eq(out[0], 'o');
	cr_expect_eq(err[0], 'e');
	free(out);
	free(err);
}

Test(harness, run_reports_signals_as_128_plus_signal)
{
	const char *argv[] = { "/bin/sh", "-c", "kill -9 $$", NULL };

	cr_expect_eq(h_run(argv, NULL, NULL, NULL), 128 + 9);
}

Test(harness, run_gives_a_hermetic_environment)
{
	const char *argv[] = {
		"/bin/sh", "-c",
		"ls -A \"$HOME\"; echo \"home=$HOME\"; echo \"server=${CBQ_SERVER-unset}\";"
		" echo \"extra=$EXTRA\"; echo \"bin=${CBQ_BIN:+set}\"; cat",
		NULL
	};
	const char *env[] = { "EXTRA=x=y", NULL };
	char *out = NULL;

	setenv("CBQ_SERVER", "https://example.invalid", 1);
	cr_assert_eq(h_run(argv, env, &out, NULL), 0);
	cr_expect(strstr(out, "home=/"), "%s", out);
	cr_expect(!strstr(out, "home=/root\n"), "%s", out);
	cr_expect(strncmp(out, "home=", 5) == 0, "HOME must be empty: %s", out);
	cr_expect(strstr(out, "server=unset\n"), "%s", out);
	cr_expect(strstr(out, "extra=x=y\n"), "%s", out);
	cr_expect(strstr(out, "bin=set\n"), "%s", out);
	free(out);
}

Test(harness, certificates_are_where_tests_run_put_them)
{
	const char *names[] = { "ca.pem",
				"server.pem",
				"server.key",
				"client-111111111111.pem",
				"client-222222222222.key",
				"client-333333333333.pem",
				"other-ca.pem",
				"client-untrusted.pem",
				"client-untrusted.key" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_expect(strstr(h_cert(names[i]), names[i]));
}

Test(harness, http_without_a_server_is_status_0)
{
	struct h_cbqd none = { .port = 1, .url = "https://127.0.0.1:1" };
	struct h_http_reply r = h_http(&none, "GET", "/readyz", NULL, NULL, NULL, 0);

	cr_expect_eq(r.status, 0);
	h_http_reply_free(&r);
}

Test(harness, children_start_with_default_signal_handling)
{
	/* cbqd handles SIGTERM/SIGHUP itself: nothing blocked or ignored may leak in */
	const char *argv[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL };
	char *out = NULL;

	cr_assert_eq(h_run(argv, NULL, &out, NULL), 0);
	cr_expect_str_eq(out, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	free(out);
}
