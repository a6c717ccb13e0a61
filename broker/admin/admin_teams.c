/*
 * `cbqd admin team|account|admin add|ls`: who may use cbq. Checks arguments
 * before it connects, writes one row per command with parameters (never SQL
 * built from input), and says what to do when Postgres refuses.
 */
#include <stdio.h>
#include <string.h>

#include "admin/cli.h"
#include "admin/groups.h"

static const char team_usage[] =
	"usage: cbqd admin [--db CONNINFO] team add NAME [--priority N]\n"
	"       cbqd admin [--db CONNINFO] team ls\n"
	"  NAME: 1-63 of a-z 0-9 _ -, starting with a letter or digit.\n"
	"  --priority N: -1000..1000 (default 0), added to every job of the team.\n";

static const char account_usage[] =
	"usage: cbqd admin [--db CONNINFO] account add ACCOUNT_ID --team NAME --role-arn ARN\n"
	"                                  [--external-id X]\n"
	"       cbqd admin [--db CONNINFO] account ls [--team NAME]\n"
	"  ACCOUNT_ID: the 12-digit AWS account the team launches into.\n"
	"  --role-arn: arn:aws:iam::ACCOUNT_ID:role/NAME, the role cbqd assumes there.\n"
	"  --external-id: the sts:ExternalId that role's trust policy requires, if any.\n";

static const char admins_usage[] =
	"usage: cbqd admin [--db CONNINFO] admin add PRINCIPAL_ARN\n"
	"       cbqd admin [--db CONNINFO] admin ls\n"
	"  PRINCIPAL_ARN: an IAM ARN (arn:aws:iam::111122223333:user/alice); a role's ARN\n"
	"  (arn:aws:iam::111122223333:role/platform) names every session of that role; a\n"
	"  trailing * makes a prefix (arn:aws:sts::111122223333:assumed-role/ops-*). Admins\n"
	"  see per-account usage and every job, and may cancel any.\n";

static int done(struct admin_ctx *ctx, int rc)
{
	admin_disconnect(ctx);
	return rc == ADMIN_HELP ? ADMIN_OK : rc;
}

static const char team_rule[] = "must be 1-63 of a-z 0-9 _ -, starting with a letter or digit";

/* Runs sql and prints its rows as a table. */
static int list(struct admin_ctx *ctx, const char *sql, int n, const char *const *values)
{
	PGresult *r;

	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	r = admin_exec(ctx, sql, n, values, NULL);
	if (!r)
		return done(ctx, ADMIN_FAILED);
	admin_print_table(r);
	PQclear(r);
	return done(ctx, ADMIN_OK);
}

/* ---- team ---------------------------------------------------------------- */

static int team_add(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_flag f[] = { { "--priority", NULL } };
	const char *pos[1], *name, *prio;
	char unique[160];
	long priority = 0;
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, f, 1, pos, 1, &npos);
	if (rc)
		return done(ctx, rc);
	if (npos != 1)
		return admin_usage_error(ctx, "team add needs the team's NAME");
	name = pos[0];
	if (!admin_is_team_name(name))
		return admin_usage_error(ctx, "team name %.80s %s", name, team_rule);
	prio = admin_flag(f, 1, "--priority");
	if (prio && !admin_parse_int(prio, -1000, 1000, &priority))
		return admin_usage_error(ctx, "--priority must be -1000..1000");
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	snprintf(unique, sizeof(unique), "team %s already exists", name);
	r = admin_exec(ctx, "INSERT INTO teams (name, priority) VALUES ($1, $2::int)", 2,
		       (const char *const[]){ name, prio ? prio : "0" },
		       &(struct admin_hints){ .unique = unique });
	if (!r)
		return done(ctx, ADMIN_FAILED);
	PQclear(r);
	printf("added team %s (priority %ld)\n", name, priority);
	return done(ctx, ADMIN_OK);
}

int admin_team_main(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;

	ctx->usage = team_usage;
	if (argc < 2)
		return admin_usage_error(ctx, "team what? add or ls");
	if (strcmp(argv[1], "add") == 0)
		return team_add(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "ls") == 0) {
		rc = admin_parse(ctx, argc - 2, argv + 2, NULL, 0, pos, 0, &npos);
		if (rc)
			return done(ctx, rc);
		return list(ctx,
			    "SELECT t.name AS team, t.priority, count(a.account_id) AS accounts,"
			    " to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			    " AS created"
			    " FROM teams t LEFT JOIN accounts a ON a.team = t.name"
			    " GROUP BY t.name ORDER BY t.name",
			    0, NULL);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(team_usage, stdout);
		return ADMIN_OK;
	}
	return admin_usage_error(ctx, "unknown team command %.80s (add or ls)", argv[1]);
}

/* ---- account ------------------------------------------------------------- */

/* arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}, as accounts
 * requires; *account gets the role's account. */
static bool is_role_arn(const char *s, char account[13])
{
	const char *p;

	if (strncmp(s, "arn:aws", 7) != 0)
		return false;
	p = s + 7;
	while ((*p >= 'a' && *p <= 'z') || *p == '-')
		p++;
	if (strncmp(p, ":iam::", 6) != 0)
		return false;
	p += 6;
	if (strlen(p) < 12)
		return false;
	memcpy(account, p, 12);
	account[12] = '\0';
	if (!admin_is_account_id(account))
		return false;
	p += 12;
	if (strncmp(p, ":role/", 6) != 0)
		return false;
	return admin_chars(p + 6, 1, 512, true, "+=,.@_/-");
}

static int account_add(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_flag f[] = { { "--team", NULL },
				  { "--role-arn", NULL },
				  { "--external-id", NULL } };
	const char *pos[1], *id, *team, *arn, *ext;
	char role_account[13], unique[120], foreign[240];
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, f, 3, pos, 1, &npos);
	if (rc)
		return done(ctx, rc);
	if (npos != 1)
		return admin_usage_error(ctx, "account add needs the ACCOUNT_ID");
	id = pos[0];
	team = admin_flag(f, 3, "--team");
	arn = admin_flag(f, 3, "--role-arn");
	ext = admin_flag(f, 3, "--external-id");
	if (!admin_is_account_id(id))
		return admin_usage_error(ctx, "ACCOUNT_ID must be 12 digits, got %.80s", id);
	if (!team)
		return admin_usage_error(ctx, "--team is required");
	if (!admin_is_team_name(team))
		return admin_usage_error(ctx, "--team %s", team_rule);
	if (!arn)
		return admin_usage_error(ctx, "--role-arn is required");
	if (!is_role_arn(arn, role_account))
		return admin_usage_error(ctx,
					 "--role-arn must look like "
					 "arn:aws:iam::%s:role/cbq-launcher, got %.200s",
					 id, arn);
	if (strcmp(role_account, id) != 0)
		return admin_usage_error(ctx,
					 "--role-arn is a role in account %s, but cbqd launches "
					 "account %s's jobs with it: use a role in %s",
					 role_account, id, id);
	if (ext && !admin_chars(ext, 2, 1224, true, "+=,.@:/-"))
		return admin_usage_error(ctx, "--external-id must be 2-1224 of A-Z a-z 0-9 + = , . "
					      "@ : / -");
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	snprintf(unique, sizeof(unique), "account %s is already registered", id);
	snprintf(foreign, sizeof(foreign), "no team named %s; add it with `cbqd admin team add %s`",
		 team, team);
	r = admin_exec(ctx,
		       "INSERT INTO accounts (account_id, team, role_arn, external_id)"
		       " VALUES ($1, $2, $3, $4)",
		       4, (const char *const[]){ id, team, arn, ext },
		       &(struct admin_hints){ .unique = unique, .foreign = foreign });
	if (!r)
		return done(ctx, ADMIN_FAILED);
	PQclear(r);
	printf("added account %s to team %s (role %s%s)\n", id, team, arn,
	       ext ? ", with external id" : "");
	return done(ctx, ADMIN_OK);
}

int admin_account_main(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_flag f[] = { { "--team", NULL } };
	const char *pos[1], *team;
	int npos, rc;

	ctx->usage = account_usage;
	if (argc < 2)
		return admin_usage_error(ctx, "account what? add or ls");
	if (strcmp(argv[1], "add") == 0)
		return account_add(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "ls") == 0) {
		rc = admin_parse(ctx, argc - 2, argv + 2, f, 1, pos, 0, &npos);
		if (rc)
			return done(ctx, rc);
		team = admin_flag(f, 1, "--team");
		if (team && !admin_is_team_name(team))
			return admin_usage_error(ctx, "--team %s", team_rule);
		return list(ctx,
			    "SELECT account_id AS account, team, role_arn,"
			    " coalesce(external_id, '-') AS external_id"
			    " FROM accounts WHERE $1::text IS NULL OR team = $1"
			    " ORDER BY team, account_id",
			    1, (const char *const[]){ team });
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(account_usage, stdout);
		return ADMIN_OK;
	}
	return admin_usage_error(ctx, "unknown account command %.80s (add or ls)", argv[1]);
}

/* ---- admin --------------------------------------------------------------- */

static int admin_add(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[1], *principal;
	char unique[160];
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos);
	if (rc)
		return done(ctx, rc);
	if (npos != 1)
		return admin_usage_error(ctx, "admin add needs the PRINCIPAL_ARN");
	principal = pos[0];
	/* printable ASCII without spaces: an ARN, as the caller's identity reports it */
	if (strncmp(principal, "arn:", 4) != 0 ||
	    !admin_chars(principal, 5, 2048, true, "+=,.@_/:-*"))
		return admin_usage_error(ctx,
					 "PRINCIPAL_ARN must be an IAM ARN like "
					 "arn:aws:iam::111122223333:role/platform (at most 2048 "
					 "characters), got %.120s",
					 principal);
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	snprintf(unique, sizeof(unique), "admin %.120s already exists", principal);
	r = admin_exec(ctx, "INSERT INTO admins (principal) VALUES ($1)", 1,
		       (const char *const[]){ principal },
		       &(struct admin_hints){ .unique = unique });
	if (!r)
		return done(ctx, ADMIN_FAILED);
	PQclear(r);
	printf("added admin %s\n", principal);
	return done(ctx, ADMIN_OK);
}

int admin_admin_main(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;

	ctx->usage = admins_usage;
	if (argc < 2)
		return admin_usage_error(ctx, "admin what? add or ls");
	if (strcmp(argv[1], "add") == 0)
		return admin_add(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "ls") == 0) {
		rc = admin_parse(ctx, argc - 2, argv + 2, NULL, 0, pos, 0, &npos);
		if (rc)
			return done(ctx, rc);
		return list(ctx,
			    "SELECT principal,"
			    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
			    " AS added FROM admins ORDER BY principal",
			    0, NULL);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(admins_usage, stdout);
		return ADMIN_OK;
	}
	return admin_usage_error(ctx, "unknown admin command %.80s (add or ls)", argv[1]);
}
