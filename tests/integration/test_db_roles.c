/*
 * The database roles of migration 0005, by connecting as each of them to a
 * migrated database with data in it: cbq_dashboard reads every v_* view and
 * nothing else (no table, sequence or other view, no function but those the
 * views call), and no view shows a launch spec; cbq_platform reads every
 * table and view and edits policy and teams but not jobs or the schema;
 * cbq_broker edits neither policy nor admins nor the schema. Relations and
 * functions come from the catalog, so what a later migration adds is covered
 * without editing this file. Whether cbqd and `cbqd admin` have all they
 * need is the rest of the suite's job: it runs them as cbq_broker and
 * cbq_platform.
 */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

enum { CONNINFO_MAX = 640, SQL_MAX = 1024, MSG_MAX = 512 };

#define DENIED "42501" /* insufficient_privilege, also "must be owner of" */
#define OK ""
/* in jobs.user_data: no view may show it, in text or in hex */
#define USER_DATA_MARK "cbq-roles-user-data-mark"
#define USER_DATA_MARK_HEX "6362712d726f6c65732d757365722d646174612d6d61726b"

static const char *db;

static void start(void)
{
	db = h_db_create();
	h_seed_teams(db);
	h_sql(db,
	      "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
	      " available, state, start_at, end_at) VALUES ('cr-0123456789abcdef0', '999988887777',"
	      " 'us-east-1', 'us-east-1a', 'p5.48xlarge', 8, 6, 'active', now() - interval '1 day',"
	      " now() + interval '6 days');"
	      "INSERT INTO block_consumers VALUES ('cr-0123456789abcdef0', '111111111111');"
	      "INSERT INTO block_usage (block_id, account_id, used) VALUES"
	      " ('cr-0123456789abcdef0', '111111111111', 2);"
	      "INSERT INTO team_quotas (team, instance_type, max_instances)"
	      " VALUES ('alpha', 'p5.48xlarge', 4);"
	      "INSERT INTO admins (principal) VALUES ('arn:aws:iam::999988887777:role/platform');"
	      "INSERT INTO jobs (team, account_id, name, kind, instance_type, instance_count,"
	      " duration_s, image_id, subnet_id, key_name, user_data, state, block_id,"
	      " submitted_at, started_at, updated_at, submitted_by) VALUES ('alpha',"
	      " '111111111111', 'train', 'training', 'p5.48xlarge', 2, 3600, 'ami-0abc',"
	      " 'subnet-0abc', 'ops-key', convert_to('" USER_DATA_MARK "', 'UTF8'), 'running',"
	      " 'cr-0123456789abcdef0', now() - interval '2 hours', now() - interval '1 hour',"
	      " now() - interval '1 hour', 'dev:111111111111');"
	      "INSERT INTO job_events (job_id, at, from_state, to_state, actor)"
	      " SELECT id, submitted_at, NULL, 'queued', 'dev:111111111111' FROM jobs;"
	      "INSERT INTO job_events (job_id, at, from_state, to_state, actor)"
	      " SELECT id, started_at, 'launching', 'running', 'launcher' FROM jobs;"
	      "INSERT INTO job_instances (job_id, instance_id, attempt, launched_at)"
	      " SELECT id, 'i-0123456789abcdef0', 1, started_at FROM jobs;");
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(db_roles, .init = start, .fini = stop, .timeout = 120);

/* ---- helpers ------------------------------------------------------------------------ */

/* A connection to the test database as role (db's own user when NULL). */
static PGconn *connect_as(const char *role)
{
	char ci[CONNINFO_MAX];
	PGconn *c;

	/* libpq takes a key's last value: user= overrides the harness's */
	cr_assert_lt((size_t)snprintf(ci, sizeof(ci), "%s%s%s", db, role ? " user=" : "",
				      role ? role : ""),
		     sizeof(ci), "conninfo too long");
	c = PQconnectdb(ci);
	cr_assert(c && PQstatus(c) == CONNECTION_OK, "connect as %s: %s", role ? role : "owner",
		  c ? PQerrorMessage(c) : "out of memory");
	return c;
}

/* Runs sql; returns its SQLSTATE ("" when it succeeded) in state and the
 * error text in msg. Rows of a query are discarded. */
static void run(PGconn *c, const char *sql, char state[6], char *msg, size_t size)
{
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	const char *code;

	state[0] = '\0';
	msg[0] = '\0';
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(state, 6, "%s", code ? code : "?????");
		snprintf(msg, size, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	}
	PQclear(r);
}

/* Fails unless sql on c ends with SQLSTATE want ("" = success). */
static void expect_state(PGconn *c, const char *who, const char *sql, const char *want)
{
	char state[6], msg[MSG_MAX];

	run(c, sql, state, msg, sizeof(msg));
	cr_expect_str_eq(state, want, "as %s: %s: want %s, got %s %s", who, sql,
			 *want ? want : "success", *state ? state : "success", msg);
}

/* The first column of every row of a catalog query on c (malloc'd strings,
 * NULL-terminated array; free with free_list). */
static char **list(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	char **v;

	cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQresultErrorMessage(r));
	v = calloc((size_t)PQntuples(r) + 1, sizeof(*v));
	cr_assert(v);
	for (int i = 0; i < PQntuples(r); i++) {
		v[i] = strdup(PQgetvalue(r, i, 0));
		cr_assert(v[i]);
	}
	PQclear(r);
	return v;
}

static size_t count(char **v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

/* For messages: the first string of a list, "" when it is empty. */
static const char *first(char **v)
{
	return v[0] ? v[0] : "";
}

static void free_list(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Relations of cbq's schema as quoted names: the views a dashboard reads,
 * and everything else it must not (tables, sequences, other views, ...). */
static const char dashboard_views_sql[] =
	"SELECT format('%I', c.relname) FROM pg_class c"
	" WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'v'"
	" AND c.relname LIKE 'v\\_%' ORDER BY 1";
static const char other_relations_sql[] =
	"SELECT format('%I', c.relname) FROM pg_class c"
	" WHERE c.relnamespace = current_schema()::regnamespace"
	" AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')"
	" AND NOT (c.relkind = 'v' AND c.relname LIKE 'v\\_%') ORDER BY 1";
static const char readable_relations_sql[] =
	"SELECT format('%I', c.relname) FROM pg_class c"
	" WHERE c.relnamespace = current_schema()::regnamespace"
	" AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1";

/* ---- cbq_dashboard ------------------------------------------------------------------- */

Test(db_roles, dashboard_reads_every_v_view)
{
	PGconn *owner = connect_as(NULL), *dash = connect_as("cbq_dashboard");
	char **views = list(owner, dashboard_views_sql);
	char sql[SQL_MAX];

	/* 0002's two at least: the enumeration itself must find something */
	cr_assert_geq(count(views), 2, "no v_* views found");
	for (size_t i = 0; views[i]; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s", views[i]);
		expect_state(dash, "cbq_dashboard", sql, OK);
		/* reading is all: a simple view would otherwise be writable */
		snprintf(sql, sizeof(sql),
			 "SELECT p FROM unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',"
			 " 'REFERENCES', 'TRIGGER']) AS p WHERE has_table_privilege('%s', p)",
			 views[i]);
		char **extra = list(dash, sql);
		cr_expect_eq(count(extra), 0, "cbq_dashboard may %s on %s", first(extra), views[i]);
		free_list(extra);
	}
	/* the usage view has a row per team, computed from tables it cannot read */
	char **teams = list(dash, "SELECT team FROM v_team_usage_decayed ORDER BY team");
	cr_expect_eq(count(teams), 2);
	free_list(teams);
	free_list(views);
	PQfinish(dash);
	PQfinish(owner);
}

Test(db_roles, dashboard_reads_no_table_sequence_or_other_view)
{
	PGconn *owner = connect_as(NULL), *dash = connect_as("cbq_dashboard");
	char **rels = list(owner, other_relations_sql);
	char sql[SQL_MAX];

	cr_assert_geq(count(rels), 10, "too few tables found");
	for (size_t i = 0; rels[i]; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s LIMIT 1", rels[i]);
		expect_state(dash, "cbq_dashboard", sql, DENIED);
		snprintf(sql, sizeof(sql),
			 "SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE',"
			 " 'TRUNCATE', 'REFERENCES', 'TRIGGER']) AS p"
			 " WHERE has_table_privilege('%s', p)"
			 "  OR (p = 'SELECT' AND has_any_column_privilege('%s', 'SELECT'))"
			 " UNION ALL SELECT 'USAGE' FROM pg_class c WHERE c.oid = '%s'::regclass"
			 "  AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'USAGE')"
			 "  ELSE false END",
			 rels[i], rels[i], rels[i]);
		char **held = list(dash, sql);
		cr_expect_eq(count(held), 0, "cbq_dashboard holds %s on %s", first(held), rels[i]);
		free_list(held);
	}
	free_list(rels);
	PQfinish(dash);
	PQfinish(owner);
}

/* Every function of cbq's schema the dashboard may call is one a v_* view
 * calls; every other one refuses it (called with NULL arguments: the
 * privilege check comes before anything the function does). */
Test(db_roles, dashboard_calls_only_functions_the_views_call)
{
	PGconn *dash = connect_as("cbq_dashboard");
	char **callable =
		list(dash,
		     "SELECT p.oid::regprocedure::text FROM pg_proc p"
		     " WHERE p.pronamespace = current_schema()::regnamespace"
		     " AND has_function_privilege(p.oid, 'EXECUTE')"
		     " AND NOT EXISTS (SELECT 1 FROM pg_depend d"
		     "  JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class"
		     "  WHERE d.classid = 'pg_rewrite'::regclass"
		     "  AND d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid"
		     "  AND v.relkind = 'v' AND v.relname LIKE 'v\\_%'"
		     "  AND v.relnamespace = p.pronamespace)"
		     " ORDER BY 1");
	char **calls =
		list(dash,
		     "SELECT format('SELECT %s(%s)', p.oid::regproc,"
		     "  (SELECT coalesce(string_agg(format('NULL::%s', t::regtype), ', '"
		     "   ORDER BY n), '') FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a (t, n)))"
		     " FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace"
		     " AND p.prokind = 'f' AND NOT has_function_privilege(p.oid, 'EXECUTE')"
		     " ORDER BY 1");

	for (size_t i = 0; callable[i]; i++)
		cr_expect_fail("cbq_dashboard may call %s, which no v_* view calls", callable[i]);
	cr_expect_geq(count(calls), 5, "too few functions found");
	for (size_t i = 0; calls[i]; i++)
		expect_state(dash, "cbq_dashboard", calls[i], DENIED);
	free_list(calls);
	free_list(callable);
	PQfinish(dash);
}

/* The launch spec a team submits (user data may hold secrets, the rest
 * names its network and keys) stays out of every v_* view: no view column
 * comes from it, and no view shows the user data of the job in the fixture
 * (which also covers views that read jobs through a function). */
static const char *const launch_spec_columns[] = {
	"user_data", "image_id",	 "subnet_id", "security_group_ids",
	"key_name",  "instance_profile", "tags",
};

Test(db_roles, no_view_shows_a_launch_spec)
{
	PGconn *owner = connect_as(NULL), *dash = connect_as("cbq_dashboard");
	char **views = list(owner, dashboard_views_sql);
	char sql[SQL_MAX];

	for (size_t k = 0; k < sizeof(launch_spec_columns) / sizeof(launch_spec_columns[0]); k++) {
		snprintf(sql, sizeof(sql),
			 "SELECT DISTINCT v.relname FROM pg_depend d"
			 " JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class"
			 " JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
			 " WHERE d.classid = 'pg_rewrite'::regclass"
			 " AND d.refobjid = 'jobs'::regclass AND a.attname = '%s'"
			 " AND v.relkind = 'v' AND v.relname LIKE 'v\\_%%'",
			 launch_spec_columns[k]);
		char **users = list(owner, sql);
		cr_expect_eq(count(users), 0, "view %s shows jobs.%s", first(users),
			     launch_spec_columns[k]);
		free_list(users);
	}
	for (size_t i = 0; views[i]; i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT x::text FROM %s AS x WHERE strpos(x::text, '" USER_DATA_MARK
			 "') > 0"
			 " OR strpos(x::text, '" USER_DATA_MARK_HEX "') > 0",
			 views[i]);
		char **rows = list(dash, sql);
		cr_expect_eq(count(rows), 0, "%s shows a job's user data: %s", views[i],
			     first(rows));
		free_list(rows);
	}
	free_list(views);
	PQfinish(dash);
	PQfinish(owner);
}

/* ---- cbq_platform ------------------------------------------------------------------- */

Test(db_roles, platform_reads_every_table_and_view)
{
	PGconn *owner = connect_as(NULL), *plat = connect_as("cbq_platform");
	char **rels = list(owner, readable_relations_sql);
	char sql[SQL_MAX];

	cr_assert_geq(count(rels), 12, "too few relations found");
	for (size_t i = 0; rels[i]; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s LIMIT 1", rels[i]);
		expect_state(plat, "cbq_platform", sql, OK);
	}
	free_list(rels);
	PQfinish(plat);
	PQfinish(owner);
}

/* ---- what each role may do ------------------------------------------------------------ */

struct role_case {
	const char *role;
	const char *sql;
	const char *want; /* SQLSTATE, OK = succeeds */
};

/* Each runs in its own transaction, rolled back. */
static const struct role_case role_cases[] = {
	/* cbqd: jobs and the EC2 mirror, not policy, admins or the schema */
	{ "cbq_broker", "SELECT count(*) FROM jobs", OK },
	{ "cbq_broker", "UPDATE jobs SET reason = 'x' WHERE state = 'queued'", OK },
	{ "cbq_broker", "SELECT * FROM cbq_policy_timeline(now(), interval '1 day')", OK },
	{ "cbq_broker", "INSERT INTO policy_settings (id) VALUES (true) ON CONFLICT DO NOTHING",
	  DENIED },
	{ "cbq_broker", "UPDATE policy_settings SET time_zone = 'Europe/Berlin'", DENIED },
	{ "cbq_broker", "DELETE FROM policy_windows", DENIED },
	{ "cbq_broker", "INSERT INTO admins (principal) VALUES ('dev:111111111111')", DENIED },
	{ "cbq_broker", "DELETE FROM admins", DENIED },
	{ "cbq_broker", "UPDATE teams SET priority = 1000", DENIED },
	{ "cbq_broker",
	  "INSERT INTO team_quotas (team, instance_type, max_instances)"
	  " VALUES ('beta', 'p5.48xlarge', 100)",
	  DENIED },
	{ "cbq_broker", "UPDATE accounts SET role_arn = role_arn", DENIED },
	{ "cbq_broker", "DELETE FROM jobs", DENIED },
	{ "cbq_broker", "DELETE FROM job_events", DENIED },
	{ "cbq_broker", "UPDATE job_events SET reason = 'rewritten'", DENIED },
	{ "cbq_broker", "TRUNCATE jobs CASCADE", DENIED },
	{ "cbq_broker", "CREATE TABLE cbq_roles_probe (a int)", DENIED },
	{ "cbq_broker", "CREATE TEMP TABLE cbq_roles_probe (a int)", DENIED },
	{ "cbq_broker", "DROP TABLE job_events", DENIED },
	{ "cbq_broker", "ALTER TABLE jobs ADD COLUMN probe int", DENIED },
	{ "cbq_broker", "SELECT * FROM v_policy_now", DENIED },
	/* people and `cbqd admin`: policy, teams, inventory; not jobs or the schema */
	{ "cbq_platform", "UPDATE policy_settings SET time_zone = 'Europe/Berlin'", OK },
	{ "cbq_platform", "INSERT INTO teams (name) VALUES ('gamma')", OK },
	{ "cbq_platform",
	  "INSERT INTO policy_windows (kind, days, start_local, end_local)"
	  " VALUES ('research', '{6,7}', '00:00', '00:00')",
	  OK },
	{ "cbq_platform", "DELETE FROM team_quotas", OK },
	{ "cbq_platform", "INSERT INTO admins (principal) VALUES ('dev:222222222222')", OK },
	{ "cbq_platform", "SELECT user_data FROM jobs", OK },
	{ "cbq_platform", "SELECT * FROM v_policy_now", OK },
	{ "cbq_platform", "DELETE FROM policy_settings", DENIED },
	{ "cbq_platform", "UPDATE jobs SET state = 'cancelled'", DENIED },
	{ "cbq_platform",
	  "INSERT INTO job_events (job_id, at, to_state, actor)"
	  " SELECT id, now(), 'failed', 'x' FROM jobs",
	  DENIED },
	{ "cbq_platform", "DELETE FROM block_usage", DENIED },
	{ "cbq_platform", "TRUNCATE team_quotas", DENIED },
	{ "cbq_platform", "DROP TABLE jobs", DENIED },
	{ "cbq_platform", "CREATE TABLE cbq_roles_probe (a int)", DENIED },
	{ "cbq_platform", "CREATE TEMP TABLE cbq_roles_probe (a int)", DENIED },
	{ "cbq_platform", "ALTER TABLE teams ADD COLUMN probe int", DENIED },
	{ "cbq_platform", "DROP VIEW v_policy_now", DENIED },
	/* dashboards */
	{ "cbq_dashboard", "CREATE TABLE cbq_roles_probe (a int)", DENIED },
	{ "cbq_dashboard", "CREATE TEMP TABLE cbq_roles_probe (a int)", DENIED },
	{ "cbq_dashboard", "SELECT * FROM cbq_policy_timeline(now(), interval '1 day')", OK },
};

Test(db_roles, each_role_may_do_what_it_needs_and_no_more)
{
	for (size_t i = 0; i < sizeof(role_cases) / sizeof(role_cases[0]); i++) {
		const struct role_case *rc = &role_cases[i];
		PGconn *c = connect_as(rc->role);
		char state[6], msg[MSG_MAX];

		run(c, "BEGIN", state, msg, sizeof(msg));
		cr_assert_str_eq(state, "", "BEGIN: %s", msg);
		expect_state(c, rc->role, rc->sql, rc->want);
		run(c, "ROLLBACK", state, msg, sizeof(msg));
		PQfinish(c);
	}
}

/* The rest of the suite proves cbqd's grants only if the harness really
 * starts cbqd as cbq_broker. */
Test(db_roles, harness_runs_cbqd_as_cbq_broker)
{
	h_cbqd_start(db, NULL);
	h_sql_wait(db,
		   "SELECT string_agg(DISTINCT usename, ',') FROM pg_stat_activity"
		   " WHERE datname = current_database() AND pid <> pg_backend_pid()",
		   "cbq_broker", 10000);
}

/* The roles can log in and do nothing else on the cluster. */
Test(db_roles, roles_are_plain_logins)
{
	char *v = h_sql_value(db, "SELECT string_agg(format('%s %s%s%s%s%s%s', rolname,"
				  " rolcanlogin::int, rolsuper::int, rolcreatedb::int,"
				  " rolcreaterole::int, rolreplication::int, rolbypassrls::int),"
				  " ', ' ORDER BY rolname)"
				  " FROM pg_roles WHERE rolname IN"
				  " ('cbq_broker', 'cbq_platform', 'cbq_dashboard')");

	cr_assert_not_null(v);
	/* login, then superuser, createdb, createrole, replication, bypassrls */
	cr_expect_str_eq(v, "cbq_broker 100000, cbq_dashboard 100000, cbq_platform 100000");
	free(v);
}
