/*
 * `cbqd migrate` and `cbqd admin`: parse the global options and dispatch to
 * the command groups (admin_teams.c: teams, accounts, admins;
 * admin_blocks.c: blocks; admin_policy.c: policy and quotas). Blocking
 * libpq; never part of `cbqd serve`.
 */
#include "admin/admin.h"

#include <stdio.h>
#include <string.h>

#include "admin/cli.h"
#include "admin/groups.h"
#include "db/migrate.h"

static const char migrate_usage[] =
	"usage: cbqd migrate [--db CONNINFO]\n"
	"  Applies the schema migrations this cbqd carries that the database lacks,\n"
	"  each in its own transaction; safe to run again and from several hosts.\n"
	"  CONNINFO is a libpq connection string or URI; without --db, libpq's\n"
	"  defaults and the PG* environment (PGHOST, PGDATABASE, ...) apply.\n";

static const char admin_usage[] =
	"usage: cbqd admin [--db CONNINFO] COMMAND\n"
	"commands:\n"
	"  team add NAME [--priority N]      register a team (priority -1000..1000, default 0)\n"
	"  team ls\n"
	"  account add ACCOUNT_ID --team NAME --role-arn ARN [--external-id X]\n"
	"                                    register an AWS account of a team and the role\n"
	"                                    cbqd assumes there to launch\n"
	"  account ls [--team NAME]\n"
	"  admin add PRINCIPAL_ARN           let an IAM principal see and cancel everything\n"
	"  admin ls\n"
	"  block add cr-ID --instance-type T --az AZ --count N --start TS --end TS\n"
	"            --owner ACCOUNT_ID [--share ACCOUNT_ID,...] [--state S] [--available N]\n"
	"                                    register a Capacity Block by hand\n"
	"  block ls\n"
	"  policy timezone [ZONE]            the IANA zone of policy windows without their\n"
	"                                    own (default UTC); without ZONE, print it\n"
	"  policy ls                         settings, windows and what is in force now\n"
	"  quota set TEAM INSTANCE_TYPE N    at most N instances of the type at once\n"
	"  quota rm TEAM INSTANCE_TYPE\n"
	"  quota ls [--team NAME]\n"
	"Run `cbqd admin COMMAND --help` for details. CONNINFO is a libpq connection\n"
	"string or URI; without --db, libpq's defaults and the PG* environment apply.\n";

int cbqd_migrate_main(int argc, char **argv)
{
	struct admin_ctx ctx = { .prog = "cbqd migrate", .conninfo = "", .usage = migrate_usage };
	struct cbq_error err = { 0 };
	const char *pos[1];
	int npos, applied = 0, rc;

	rc = admin_parse(&ctx, argc - 1, argv + 1, NULL, 0, pos, 0, &npos);
	if (rc == ADMIN_HELP)
		return ADMIN_OK;
	if (rc)
		return rc;
	if (db_migrate(ctx.conninfo, &applied, &err)) {
		fprintf(stderr, "cbqd migrate: %s\n", err.msg);
		return ADMIN_FAILED;
	}
	printf("schema at version %d (applied %d)\n", db_migration_latest(), applied);
	return ADMIN_OK;
}

static const struct {
	const char *name;
	int (*run)(struct admin_ctx *ctx, int argc, char **argv);
} groups[] = {
	{ "team", admin_team_main },	 { "account", admin_account_main },
	{ "admin", admin_admin_main },	 { "block", admin_block_main },
	{ "policy", admin_policy_main }, { "quota", admin_quota_main },
};

int cbqd_admin_main(int argc, char **argv)
{
	struct admin_ctx ctx = { .prog = "cbqd admin", .conninfo = "", .usage = admin_usage };
	int i = 1;

	/* global options come before the command; --db may also follow it */
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(admin_usage, stdout);
			return ADMIN_OK;
		}
		if (strcmp(argv[i], "--db") == 0 && i + 1 >= argc)
			return admin_usage_error(&ctx, "--db needs a value");
		if (strcmp(argv[i], "--db") == 0) {
			ctx.conninfo = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--db=", 5) == 0) {
			ctx.conninfo = argv[i] + 5;
			i++;
		} else {
			return admin_usage_error(&ctx, "unknown option %.80s", argv[i]);
		}
	}
	if (i >= argc)
		return admin_usage_error(&ctx, "which command?");
	if (strcmp(argv[i], "help") == 0) {
		fputs(admin_usage, stdout);
		return ADMIN_OK;
	}
	for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++)
		if (strcmp(argv[i], groups[g].name) == 0)
			return groups[g].run(&ctx, argc - i, argv + i);
	return admin_usage_error(&ctx, "unknown command %.80s", argv[i]);
}
