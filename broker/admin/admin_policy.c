/*
 * `cbqd admin policy timezone|ls` and `cbqd admin quota set|rm|ls`: the
 * platform team's view of and hand on scheduling policy (tables of
 * migration 0002). Every change is one statement whose COMMIT notifies the
 * broker (NOTIFY cbq_policy). Windows themselves are edited with SQL; this
 * file does not interpret the policy, it only shows what
 * cbq_policy_timeline() says is in force.
 */
#include <stdio.h>
#include <string.h>

#include "admin/cli.h"
#include "admin/groups.h"
#include "core/job.h"

static const char policy_usage[] =
	"usage: cbqd admin [--db CONNINFO] policy timezone [ZONE]\n"
	"       cbqd admin [--db CONNINFO] policy ls\n"
	"  timezone ZONE: the IANA zone (Europe/Berlin, America/New_York, UTC) of every\n"
	"                 policy window without its own zone; without ZONE, prints it.\n"
	"  ls: the settings, the windows (local times), and what is in force now.\n"
	"  Windows are rows of policy_windows; change them with SQL, e.g.\n"
	"    UPDATE policy_windows SET boost = 200 WHERE kind = 'training';\n";

static const char quota_usage[] =
	"usage: cbqd admin [--db CONNINFO] quota set TEAM INSTANCE_TYPE N\n"
	"       cbqd admin [--db CONNINFO] quota rm TEAM INSTANCE_TYPE\n"
	"       cbqd admin [--db CONNINFO] quota ls [--team NAME]\n"
	"  set: TEAM's jobs may hold at most N (0..100000) instances of INSTANCE_TYPE\n"
	"       at once, across all blocks; 0 forbids the type. Replaces an existing quota.\n"
	"  rm:  removes the quota (no limit).\n";

/* Longest zone name accepted (policy_settings.time_zone allows 64). */
enum { ZONE_MAX = 64 };

#define ISO_UTC(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static int done(struct admin_ctx *ctx, int rc)
{
	admin_disconnect(ctx);
	return rc == ADMIN_HELP ? ADMIN_OK : rc;
}

/* Runs sql and prints its rows as a table; the connection stays open. */
static bool print_query(struct admin_ctx *ctx, const char *sql, int n, const char *const *values)
{
	PGresult *r = admin_exec(ctx, sql, n, values, NULL);

	if (!r)
		return false;
	admin_print_table(r);
	PQclear(r);
	return true;
}

/* ---- policy timezone ------------------------------------------------------- */

/* Letters, digits and / _ + -, as in the names of pg_timezone_names. */
static bool is_zone_name(const char *s)
{
	return admin_chars(s, 1, ZONE_MAX, true, "/_+-");
}

/* Copies into hint the zone of pg_timezone_names spelled like zone but for
 * case; false when there is none. */
static bool zone_suggestion(struct admin_ctx *ctx, const char *zone, char hint[ZONE_MAX + 1])
{
	PGresult *r = admin_exec(ctx,
				 "SELECT name FROM pg_timezone_names WHERE lower(name) = lower($1)"
				 " ORDER BY name LIMIT 1",
				 1, (const char *const[]){ zone }, NULL);
	bool found = r && PQntuples(r) == 1;

	if (found)
		snprintf(hint, ZONE_MAX + 1, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return found;
}

static int policy_timezone(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[1], *zone;
	char old[ZONE_MAX + 1], hint[ZONE_MAX + 1];
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, NULL, 0, pos, 1, &npos);
	if (rc)
		return done(ctx, rc);
	zone = npos == 1 ? pos[0] : NULL;
	if (zone && !is_zone_name(zone))
		return admin_usage_error(ctx,
					 "timezone: %.80s is not a zone name; use an IANA name such "
					 "as Europe/Berlin (1-%d of A-Z a-z 0-9 / _ + -)",
					 zone, ZONE_MAX);
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	/* the zone before (UTC when someone TRUNCATEd the row, which the upsert
	 * below restores) for the message, and whether the new one exists */
	r = admin_exec(ctx,
		       "SELECT coalesce((SELECT time_zone FROM policy_settings), 'UTC'),"
		       " $1::text IS NULL"
		       "  OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)",
		       1, (const char *const[]){ zone }, NULL);
	if (!r)
		return done(ctx, ADMIN_FAILED);
	snprintf(old, sizeof(old), "%s", PQgetvalue(r, 0, 0));
	rc = strcmp(PQgetvalue(r, 0, 1), "t") == 0 ? ADMIN_OK : ADMIN_FAILED;
	PQclear(r);
	if (!zone) {
		printf("%s\n", old);
		return done(ctx, ADMIN_OK);
	}
	if (rc) {
		if (zone_suggestion(ctx, zone, hint))
			admin_fail(ctx,
				   "timezone: unknown zone '%s'; see pg_timezone_names (did you "
				   "mean %s?)",
				   zone, hint);
		else
			admin_fail(ctx, "timezone: unknown zone '%s'; see pg_timezone_names", zone);
		return done(ctx, ADMIN_FAILED);
	}
	r = admin_exec(ctx,
		       "INSERT INTO policy_settings (id, time_zone) VALUES (true, $1)"
		       " ON CONFLICT (id) DO UPDATE SET time_zone = EXCLUDED.time_zone",
		       1, (const char *const[]){ zone }, NULL);
	if (!r)
		return done(ctx, ADMIN_FAILED);
	PQclear(r);
	if (strcmp(old, zone) == 0)
		printf("policy time zone is already %s\n", zone);
	else
		printf("policy time zone: %s -> %s (windows without their own zone now follow "
		       "%s)\n",
		       old, zone, zone);
	return done(ctx, ADMIN_OK);
}

/* ---- policy ls ------------------------------------------------------------- */

static int policy_ls(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, NULL, 0, pos, 0, &npos);
	if (rc)
		return done(ctx, rc);
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	r = admin_exec(ctx,
		       "SELECT time_zone, fair_share_half_life::text, trim_scale(fair_share_weight),"
		       " trim_scale(ageing_per_hour) FROM policy_settings",
		       0, NULL, NULL);
	if (!r)
		return done(ctx, ADMIN_FAILED);
	if (PQntuples(r) == 1) {
		printf("time zone: %s (of windows without their own)\n", PQgetvalue(r, 0, 0));
		printf("fair share: half-life %s; a team with all the usage loses %s points\n",
		       PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
		printf("ageing: a queued job gains %s per hour waited\n", PQgetvalue(r, 0, 3));
	} else {
		printf("time zone: UTC (policy_settings is empty; "
		       "`cbqd admin policy timezone ZONE` restores it)\n");
	}
	PQclear(r);
	putchar('\n');
	if (!print_query(ctx,
			 "SELECT w.id, w.kind,"
			 " coalesce(w.time_zone, '(' || coalesce(s.time_zone, 'UTC') || ')') AS zone,"
			 " cbq_iso_days_text(w.days) AS days,"
			 " to_char(w.start_local, 'HH24:MI') AS start,"
			 " to_char(w.end_local, 'HH24:MI') AS end,"
			 " w.boost, w.max_share, w.comment"
			 " FROM policy_windows w LEFT JOIN policy_settings s ON true"
			 " ORDER BY w.kind, w.id",
			 0, NULL))
		return done(ctx, ADMIN_FAILED);
	putchar('\n');
	printf("in force now:\n");
	if (!print_query(ctx,
			 "SELECT kind, boost, max_share,"
			 " coalesce(" ISO_UTC("until") ", 'a week or more') AS until"
						       " FROM v_policy_now ORDER BY kind",
			 0, NULL))
		return done(ctx, ADMIN_FAILED);
	return done(ctx, ADMIN_OK);
}

int admin_policy_main(struct admin_ctx *ctx, int argc, char **argv)
{
	ctx->usage = policy_usage;
	if (argc < 2)
		return admin_usage_error(ctx, "policy what? timezone or ls");
	if (strcmp(argv[1], "timezone") == 0)
		return policy_timezone(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "ls") == 0)
		return policy_ls(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(policy_usage, stdout);
		return ADMIN_OK;
	}
	return admin_usage_error(ctx, "unknown policy command %.80s (timezone or ls)", argv[1]);
}

/* ---- quota ----------------------------------------------------------------- */

/* Checks TEAM and INSTANCE_TYPE (pos[0], pos[1]); ADMIN_OK or a usage error. */
static int check_team_type(struct admin_ctx *ctx, const char *team, const char *type)
{
	if (!admin_is_team_name(team))
		return admin_usage_error(ctx,
					 "TEAM must be 1-63 of a-z 0-9 _ -, starting with a letter "
					 "or digit, got %.80s",
					 team);
	if (!cbq_is_instance_type(type))
		return admin_usage_error(ctx, "INSTANCE_TYPE must look like p5.48xlarge, got %.80s",
					 type);
	return ADMIN_OK;
}

static int quota_set(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[3];
	char foreign[200];
	long n;
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, NULL, 0, pos, 3, &npos);
	if (rc)
		return done(ctx, rc);
	if (npos != 3)
		return admin_usage_error(ctx, "quota set needs TEAM INSTANCE_TYPE N");
	rc = check_team_type(ctx, pos[0], pos[1]);
	if (rc)
		return rc;
	if (!admin_parse_int(pos[2], 0, 100000, &n))
		return admin_usage_error(ctx, "N must be 0..100000 instances, got %.80s", pos[2]);
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	snprintf(foreign, sizeof(foreign), "no team named %s; add it with `cbqd admin team add %s`",
		 pos[0], pos[0]);
	r = admin_exec(ctx,
		       "INSERT INTO team_quotas (team, instance_type, max_instances)"
		       " VALUES ($1, $2, $3::int)"
		       " ON CONFLICT (team, instance_type) DO UPDATE"
		       " SET max_instances = EXCLUDED.max_instances, updated_at = now()",
		       3, (const char *const[]){ pos[0], pos[1], pos[2] },
		       &(struct admin_hints){ .foreign = foreign });
	if (!r)
		return done(ctx, ADMIN_FAILED);
	PQclear(r);
	if (n == 0)
		printf("team %s may not use %s\n", pos[0], pos[1]);
	else
		printf("team %s may hold at most %ld %s instance%s at once\n", pos[0], n, pos[1],
		       n == 1 ? "" : "s");
	return done(ctx, ADMIN_OK);
}

static int quota_rm(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[2];
	int npos, rc;
	PGresult *r;

	rc = admin_parse(ctx, argc, argv, NULL, 0, pos, 2, &npos);
	if (rc)
		return done(ctx, rc);
	if (npos != 2)
		return admin_usage_error(ctx, "quota rm needs TEAM INSTANCE_TYPE");
	rc = check_team_type(ctx, pos[0], pos[1]);
	if (rc)
		return rc;
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	r = admin_exec(ctx, "DELETE FROM team_quotas WHERE team = $1 AND instance_type = $2", 2,
		       (const char *const[]){ pos[0], pos[1] }, NULL);
	if (!r)
		return done(ctx, ADMIN_FAILED);
	rc = strcmp(PQcmdTuples(r), "1") == 0 ? ADMIN_OK : ADMIN_FAILED;
	PQclear(r);
	if (rc) {
		admin_fail(ctx, "team %s has no quota on %s; `cbqd admin quota ls` lists them",
			   pos[0], pos[1]);
		return done(ctx, rc);
	}
	printf("removed the quota of team %s on %s (no limit)\n", pos[0], pos[1]);
	return done(ctx, ADMIN_OK);
}

static int quota_ls(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_flag f[] = { { "--team", NULL } };
	const char *pos[1], *team;
	int npos, rc;

	rc = admin_parse(ctx, argc, argv, f, 1, pos, 0, &npos);
	if (rc)
		return done(ctx, rc);
	team = admin_flag(f, 1, "--team");
	if (team && !admin_is_team_name(team))
		return admin_usage_error(ctx,
					 "--team must be 1-63 of a-z 0-9 _ -, starting with a letter "
					 "or digit");
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	rc = print_query(ctx,
			 "SELECT team, instance_type AS type, max_instances,"
			 " " ISO_UTC(
				 "updated_at") " AS updated"
					       " FROM team_quotas WHERE $1::text IS NULL OR team = $1"
					       " ORDER BY team, instance_type",
			 1, (const char *const[]){ team }) ?
		     ADMIN_OK :
		     ADMIN_FAILED;
	return done(ctx, rc);
}

int admin_quota_main(struct admin_ctx *ctx, int argc, char **argv)
{
	ctx->usage = quota_usage;
	if (argc < 2)
		return admin_usage_error(ctx, "quota what? set, rm or ls");
	if (strcmp(argv[1], "set") == 0)
		return quota_set(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "rm") == 0)
		return quota_rm(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "ls") == 0)
		return quota_ls(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(quota_usage, stdout);
		return ADMIN_OK;
	}
	return admin_usage_error(ctx, "unknown quota command %.80s (set, rm or ls)", argv[1]);
}
