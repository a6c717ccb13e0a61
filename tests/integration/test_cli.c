/*
 * The cbq client against a real cbqd, as a team uses it: every command, its
 * exit codes (0 ok, 1 refused, 2 usage, 3 unreachable), the field and flag
 * it names on bad input, and JSON output that parses.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define ALPHA "111111111111"
#define BETA "222222222222"

static struct h_cbqd *d;

static void start(void)
{
	const char *db = h_db_create();

	h_seed_teams(db);
	h_sql(db, "INSERT INTO blocks (id, owner_account_id, az, instance_type, total, available,"
		  " state, start_at, end_at) VALUES ('cr-0123456789abcdef0', '444444444444',"
		  " 'us-east-1a', 'p5.48xlarge', 8, 6, 'active', now(), now() + interval '3 days');"
		  "INSERT INTO block_consumers VALUES ('cr-0123456789abcdef0', '" ALPHA "')");
	d = h_cbqd_start(db, NULL);
}

TestSuite(cli, .init = start, .fini = h_cleanup, .timeout = 60);

static char *submit(const char *account, const char *kind)
{
	char *out = NULL;
	int rc = h_cbq(d, account, &out, "submit", "--kind", kind, "--instance-type",
		       "p5.48xlarge", "--count", "2", "--duration", "1h30m", "--name", "sweep",
		       "--tag", "project=x", "--security-group-id", "sg-0123456789abcdef0", NULL);

	cr_assert_eq(rc, 0, "submit: %s", out);
	out[strcspn(out, "\n")] = '\0';
	return out;
}

Test(cli, submit_ls_show_cancel)
{
	char *id = submit(ALPHA, "training"), *out = NULL;

	cr_assert_eq(h_cbq(d, ALPHA, &out, "ls", NULL), 0, "%s", out);
	cr_expect(strstr(out, "sweep") && strstr(out, "1h30m") && strstr(out, "queued"), "%s", out);
	free(out);
	cr_assert_eq(h_cbq(d, ALPHA, &out, "show", id, NULL), 0, "%s", out);
	cr_expect(strstr(out, "project") && strstr(out, "sg-0123456789abcdef0"), "%s", out);
	free(out);
	cr_assert_eq(h_cbq(d, ALPHA, &out, "cancel", id, NULL), 0, "%s", out);
	free(out);
	cr_assert_eq(h_cbq(d, ALPHA, &out, "ls", "--state", "cancelled", NULL), 0, "%s", out);
	cr_expect(strstr(out, id), "%s", out);
	free(out);
	cr_expect_eq(h_cbq(d, ALPHA, &out, "cancel", id, NULL), 1, "ended job: refused");
	cr_expect(strstr(out, "already ended"), "%s", out);
	free(out);
	free(id);
}

Test(cli, bad_input_names_field_and_flag)
{
	char *out = NULL;

	cr_expect_eq(h_cbq(d, ALPHA, &out, "submit", "--kind", "training", "--instance-type",
			   "p5.48xlarge", "--count", "65", "--duration", "1h", NULL),
		     1);
	cr_expect(strstr(out, "spec.count") && strstr(out, "--count"), "%s", out);
	free(out);
	/* alpha's certificate, beta's account: the job would run in another team's account */
	cr_expect_eq(h_cbq_mtls(d, ALPHA, &out, "submit", "--kind", "training", "--instance-type",
				"p5.48xlarge", "--count", "1", "--duration", "1h", "--account", BETA,
				NULL),
		     1, "an account of another team: %s", out);
	cr_expect(strstr(out, "spec.account_id"), "%s", out);
	free(out);
	cr_expect_eq(h_cbq(d, ALPHA, &out, "submit", "--kind", "training", "--count", "1",
			   "--duration", "4x", NULL),
		     2, "a bad duration is a usage error");
	free(out);
	cr_expect_eq(h_cbq(d, ALPHA, &out, "frobnicate", NULL), 2);
	free(out);
	cr_expect_eq(h_cbq(d, BETA, &out, "show", "999999", NULL), 1);
	cr_expect(strstr(out, "no job"), "%s", out);
	free(out);
}

Test(cli, json_output_parses_and_blocks_show_capacity)
{
	char *id = submit(ALPHA, "inference"), *out = NULL;
	json_t *j;

	cr_assert_eq(h_cbq(d, ALPHA, &out, "-o", "json", "show", id, NULL), 0, "%s", out);
	j = json_loads(out, 0, NULL);
	cr_assert(j, "not JSON: %s", out);
	cr_expect_str_eq(json_string_value(json_object_get(j, "id")), id);
	cr_expect_str_eq(json_string_value(json_object_get(j, "state")), "JOB_STATE_QUEUED");
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(j, "spec"), "kind")),
			 "inference");
	json_decref(j);
	free(out);
	cr_assert_eq(h_cbq(d, ALPHA, &out, "blocks", NULL), 0, "%s", out);
	cr_expect(strstr(out, "cr-0123456789abcdef0") && strstr(out, "p5.48xlarge"), "%s", out);
	free(out);
	cr_assert_eq(h_cbq(d, BETA, &out, "-o", "json", "blocks", NULL), 0, "%s", out);
	cr_expect_null(strstr(out, "cr-0123456789abcdef0"), "beta may not use the block: %s", out);
	free(out);
	free(id);
}

Test(cli, unreachable_server_is_exit_3)
{
	const char *argv[] = { "cbq", "--server", "https://127.0.0.1:1", "--ca", NULL,
			       "--account", ALPHA, "whoami", NULL };
	char *out = NULL, *err = NULL, ca[512];

	snprintf(ca, sizeof(ca), "%s", h_cert("ca.pem"));
	argv[4] = ca;
	cr_expect_eq(h_run(argv, NULL, &out, &err), 3, "%s", err);
	cr_expect(strstr(err, "127.0.0.1:1"), "names the server: %s", err);
	free(out);
	free(err);
}

Test(cli, settings_from_environment)
{
	char ca[512], server[128], *out = NULL, *err = NULL;
	const char *argv[] = { "cbq", "whoami", NULL };
	const char *env[] = { server, ca, "CBQ_ACCOUNT=" BETA, NULL };

	snprintf(server, sizeof(server), "CBQ_SERVER=%s", d->url);
	snprintf(ca, sizeof(ca), "CBQ_CA=%s", h_cert("ca.pem"));
	cr_assert_eq(h_run(argv, env, &out, &err), 0, "%s", err);
	cr_expect(strstr(out, "beta"), "%s", out);
	free(out);
	free(err);
}

Test(cli, with_a_client_certificate_submit_runs_in_its_account_without_account)
{
	char ca[512], cert[512], key[512], *out = NULL, *err = NULL;

	snprintf(ca, sizeof(ca), "%s", h_cert("ca.pem"));
	snprintf(cert, sizeof(cert), "%s", h_cert("client-" ALPHA ".pem"));
	snprintf(key, sizeof(key), "%s", h_cert("client-" ALPHA ".key"));
	const char *argv[] = { "cbq",	     "--server",      d->url,	   "--ca",
			       ca,	     "--cert",	      cert,	   "--key",
			       key,	     "submit",	      "--kind",	   "training",
			       "--instance-type", "p5.48xlarge", "--count", "1",
			       "--duration", "1h",	      NULL };
	cr_assert_eq(h_run(argv, NULL, &out, &err), 0, "%s%s", out, err);
	out[strcspn(out, "\n")] = '\0';
	char *id = out, *show = NULL;
	cr_assert_eq(h_cbq_mtls(d, ALPHA, &show, "show", id, NULL), 0, "%s", show);
	cr_expect(strstr(show, "account:          " ALPHA), "%s", show);
	free(show);
	free(out);
	free(err);
}
