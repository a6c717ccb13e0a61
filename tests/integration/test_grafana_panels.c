/*
 * The Grafana dashboard (deploy/grafana/cbq.json) against the views of
 * migration 0006: every panel's SQL, with Grafana's macros expanded, runs
 * without error as cbq_dashboard on a migrated database seeded with two
 * teams, blocks (active, expired, scheduled, cancelled) with usage by an
 * account outside cbq, and jobs in every state over the last days; every
 * panel has SQL and every v_* view has a panel. Then the views' numbers on
 * that data, case by case. Not Grafana itself: how it draws is its business.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* Limits: a panel's SQL after expansion, a conninfo, a message, panels. */
enum { SQL_MAX = 16384, CONNINFO_MAX = 640, MSG_MAX = 1024, PANELS_MAX = 200, MACRO_ARGS = 4 };
enum { ARG_MAX = 128, STAMP_MAX = 40 };

static const char *db;

/*
 * The seed. Times are relative to midnight UTC (pg_temp.at(day, hour)) and
 * to now (pg_temp.ago(hours)); one transaction, so now() is one instant.
 * Jobs go through the transitions cbqd makes, so migration 0006's triggers
 * record their runs. The day-relative part ends the day before yesterday:
 * "5 hours ago" is yesterday when the test runs before 05:00 UTC. Expected
 * numbers below come from here:
 *   block B (cr-0b..2): 4 instances, the whole UTC day three days ago (96
 *   capacity-hours); job j1 (alpha, 111111111111) 2 instances 02:00-05:00 =
 *   6 h; j5 (beta) 1 instance 18:00-22:00 = 4 h, then requeued and run on A
 *   the next day 01:00-03:00; account 444455556666 (outside cbq) 1 instance
 *   10:00-12:00 = 2 h; 111111111111 reported by AWS 02:00-05:00 (a cbq
 *   account: not outside). Idle 84 h.
 *   block A (cr-0a..1): 8 instances, from four days ago to three days
 *   ahead, unused on B's day (192 idle hours to its owner 999988887777,
 *   not a cbq account); five research jobs of beta first started two days
 *   ago 10:00 after 60, 120, 180, 240 and 1200 s.
 */
static const char seed_sql[] =
	"CREATE FUNCTION pg_temp.at(day_offset integer, hours double precision)"
	" RETURNS timestamptz LANGUAGE sql STABLE"
	" RETURN ((now() AT TIME ZONE 'UTC')::date + day_offset)::timestamp AT TIME ZONE 'UTC'"
	"  + make_interval(secs => hours * 3600);"
	"CREATE FUNCTION pg_temp.ago(hours double precision) RETURNS timestamptz"
	" LANGUAGE sql STABLE RETURN now() - make_interval(secs => hours * 3600);"
	"INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total, available,"
	" state, start_at, end_at, source, synced_at) VALUES"
	" ('cr-0aaaaaaaaaaaaaaa1', '999988887777', 'us-east-1', 'us-east-1a', 'p5.48xlarge', 8, 1,"
	"  'active', pg_temp.at(-4, 0), pg_temp.at(3, 0), 'ec2', pg_temp.ago(0.01)),"
	" ('cr-0bbbbbbbbbbbbbbb2', '999988887777', 'us-east-1', 'us-east-1a', 'p5.48xlarge', 4, 4,"
	"  'expired', pg_temp.at(-3, 0), pg_temp.at(-2, 0), 'ec2', pg_temp.at(-2, 0)),"
	" ('cr-0ccccccccccccccc3', '999988887777', 'us-east-1', 'us-east-1b', 'p4d.24xlarge', 2, 2,"
	"  'scheduled', pg_temp.at(2, 0), pg_temp.at(4, 0), 'ec2', pg_temp.ago(0.01)),"
	" ('cr-0ddddddddddddddd4', '999988887777', 'us-east-1', 'us-east-1b', 'p4d.24xlarge', 2, 2,"
	"  'cancelled', pg_temp.at(-3, 0), pg_temp.at(-2, 0), 'static', pg_temp.ago(0.01));"
	"INSERT INTO block_consumers VALUES ('cr-0aaaaaaaaaaaaaaa1', '111111111111'),"
	" ('cr-0aaaaaaaaaaaaaaa1', '222222222222'), ('cr-0aaaaaaaaaaaaaaa1', '333333333333'),"
	" ('cr-0bbbbbbbbbbbbbbb2', '111111111111'), ('cr-0bbbbbbbbbbbbbbb2', '222222222222');"
	/* usage syncs of B, as the inventory sync upserts and deletes them */
	"INSERT INTO block_usage (block_id, account_id, used, synced_at) VALUES"
	" ('cr-0bbbbbbbbbbbbbbb2', '111111111111', 2, pg_temp.at(-3, 2));"
	"UPDATE block_usage SET used = 0, synced_at = pg_temp.at(-3, 5)"
	" WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2' AND account_id = '111111111111';"
	"INSERT INTO block_usage (block_id, account_id, used, synced_at) VALUES"
	" ('cr-0bbbbbbbbbbbbbbb2', '444455556666', 1, pg_temp.at(-3, 10));"
	"UPDATE block_usage SET synced_at = pg_temp.at(-3, 11)"
	" WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2';"
	"UPDATE block_usage SET used = 0, synced_at = pg_temp.at(-3, 12)"
	" WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2' AND account_id = '444455556666';"
	"DELETE FROM block_usage WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2';"
	/* A now: beta's 4 (a cbq account) and 2 outside cbq for two hours */
	"INSERT INTO block_usage (block_id, account_id, used, synced_at) VALUES"
	" ('cr-0aaaaaaaaaaaaaaa1', '222222222222', 4, pg_temp.ago(2)),"
	" ('cr-0aaaaaaaaaaaaaaa1', '444455556666', 2, pg_temp.ago(2));"
	"UPDATE block_usage SET synced_at = pg_temp.ago(0.01)"
	" WHERE block_id = 'cr-0aaaaaaaaaaaaaaa1';"
	/* jobs, and the leader's verdicts on the queued ones (0013) */
	"WITH v (team, account, name, kind, n, prio, ckpt, state, reason, eta, block, sub, started)"
	" AS (VALUES"
	"  ('alpha', '111111111111', 'j1-two-for-three-hours', 'training', 2, 0, false, 'running',"
	"   'launched 2 instances', NULL::timestamptz, 'cr-0bbbbbbbbbbbbbbb2',"
	"   pg_temp.at(-3, 1.5), pg_temp.at(-3, 2)),"
	"  ('beta', '222222222222', 'j5-requeued', 'training', 1, 0, true, 'running',"
	"   'launched 1 instance', NULL, 'cr-0bbbbbbbbbbbbbbb2', pg_temp.at(-3, 17), pg_temp.at(-3, 18)),"
	"  ('beta', '222222222222', 'j3-running-now', 'inference', 4, 0, false, 'running',"
	"   'launched 4 instances', NULL, 'cr-0aaaaaaaaaaaaaaa1', pg_temp.ago(3), pg_temp.ago(2)),"
	"  ('alpha', '333333333333', 'j6-expiring-now', 'training', 1, 0, true, 'running',"
	"   'launched 1 instance', NULL, 'cr-0aaaaaaaaaaaaaaa1', pg_temp.ago(5), pg_temp.ago(1)),"
	"  ('alpha', '111111111111', 'j4-launching', 'training', 1, 0, false, 'launching',"
	"   'launching 1 on cr-0aaaaaaaaaaaaaaa1', NULL, 'cr-0aaaaaaaaaaaaaaa1', pg_temp.ago(0.5), NULL),"
	/* the queue, one kind so the window boost is the same for all: 1..4 */
	"  ('beta', '222222222222', 'q1-high', 'research', 1, 500, false, 'queued',"
	"   'WaitingForCapacity (needs 1, 0 free on cr-0aaaaaaaaaaaaaaa1; 2 used outside cbq)',"
	"   pg_temp.ago(-1), NULL, pg_temp.ago(1), NULL),"
	"  ('alpha', '111111111111', 'q2-older', 'research', 2, 0, false, 'queued',"
	"   'BehindHigherPriority (position 1)', pg_temp.ago(-2), NULL, pg_temp.ago(3), NULL),"
	"  ('alpha', '333333333333', 'q3-newer', 'research', 2, 0, false, 'queued',"
	"   'BehindHigherPriority (position 2)', NULL, NULL, pg_temp.ago(2), NULL),"
	"  ('beta', '222222222222', 'q4-low', 'research', 1, -500, false, 'queued',"
	"   'BehindHigherPriority (position 3)', NULL, NULL, pg_temp.ago(4), NULL),"
	"  ('beta', '222222222222', 'cancelled-queued', 'inference', 1, 0, false, 'queued', '',"
	"   NULL, NULL, pg_temp.at(-2, 3), NULL)"
	" ), ins AS ("
	" INSERT INTO jobs (team, account_id, name, kind, instance_type, instance_count, duration_s,"
	" priority, checkpointable, user_data, state, reason, block_id, attempt,"
	" submitted_at, started_at, updated_at, submitted_by)"
	" SELECT v.team, v.account, v.name, v.kind, 'p5.48xlarge', v.n, 36000, v.prio, v.ckpt,"
	"  convert_to('cbq-grafana-user-data-mark', 'UTF8'), v.state, v.reason, v.block, 1,"
	"  v.sub, v.started, coalesce(v.started, v.sub), 'dev:' || v.account"
	" FROM v RETURNING id, name)"
	" INSERT INTO job_verdicts (job_id, reason, eta)"
	" SELECT ins.id, v.reason, coalesce(v.eta, 'infinity') FROM ins JOIN v ON v.name = ins.name"
	" WHERE v.state = 'queued' AND v.reason <> '';"
	"INSERT INTO jobs (team, account_id, name, kind, instance_type, instance_count, duration_s,"
	" state, block_id, submitted_at, started_at, updated_at, submitted_by)"
	" SELECT 'beta', '222222222222', 'wait-' || w, 'research', 'p5.48xlarge', 1, 3600, 'running',"
	"  'cr-0aaaaaaaaaaaaaaa1', pg_temp.at(-2, 10) - make_interval(secs => w),"
	"  pg_temp.at(-2, 10), pg_temp.at(-2, 10), 'dev:222222222222'"
	" FROM unnest(ARRAY[60, 120, 180, 240, 1200]) AS w;"
	/* transitions, as cbqd's conditional UPDATEs make them */
	"UPDATE jobs SET state = 'succeeded', reason = 'done', ended_at = pg_temp.at(-3, 5),"
	" updated_at = pg_temp.at(-3, 5) WHERE name = 'j1-two-for-three-hours';"
	"UPDATE jobs SET state = 'expiring', updated_at = pg_temp.at(-3, 21.5)"
	" WHERE name = 'j5-requeued';"
	"UPDATE jobs SET state = 'queued', block_id = NULL, started_at = NULL, attempt = 2,"
	" updated_at = pg_temp.at(-3, 22) WHERE name = 'j5-requeued';"
	"UPDATE jobs SET state = 'launching', block_id = 'cr-0aaaaaaaaaaaaaaa1',"
	" updated_at = pg_temp.at(-2, 0.9) WHERE name = 'j5-requeued';"
	"UPDATE jobs SET state = 'running', started_at = pg_temp.at(-2, 1),"
	" updated_at = pg_temp.at(-2, 1) WHERE name = 'j5-requeued';"
	"UPDATE jobs SET state = 'succeeded', ended_at = pg_temp.at(-2, 3),"
	" updated_at = pg_temp.at(-2, 3) WHERE name = 'j5-requeued';"
	"UPDATE jobs SET state = 'expiring', updated_at = pg_temp.ago(0.5)"
	" WHERE name = 'j6-expiring-now';"
	"UPDATE jobs SET state = 'cancelled', ended_at = pg_temp.at(-2, 4),"
	" updated_at = pg_temp.at(-2, 4) WHERE name = 'cancelled-queued';"
	"UPDATE jobs SET state = CASE name WHEN 'wait-60' THEN 'succeeded'"
	"  WHEN 'wait-120' THEN 'failed' WHEN 'wait-180' THEN 'timed_out'"
	"  WHEN 'wait-240' THEN 'expired' ELSE 'cancelled' END,"
	" ended_at = pg_temp.at(-2, 11), updated_at = pg_temp.at(-2, 11) WHERE name LIKE 'wait-%';"
	/* the events cbqd writes with them (the fair-share usage reads these) */
	"INSERT INTO job_events (job_id, at, from_state, to_state, actor)"
	" SELECT id, submitted_at, NULL, 'queued', submitted_by FROM jobs;"
	"INSERT INTO job_events (job_id, at, from_state, to_state, actor)"
	" SELECT r.job_id, r.started_at, 'launching', 'running', 'launcher' FROM job_runs r;"
	"INSERT INTO job_events (job_id, at, from_state, to_state, actor)"
	" SELECT r.job_id, r.ended_at, 'running', j.state, 'reconciler'"
	" FROM job_runs r JOIN jobs j ON j.id = r.job_id WHERE r.ended_at IS NOT NULL;";

static void start(void)
{
	db = h_db_create();
	h_seed_teams(db);
	h_sql(db, seed_sql);
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(grafana_panels, .init = start, .fini = stop, .timeout = 120);

/* ---- helpers ------------------------------------------------------------------------ */

static PGconn *connect_dashboard(void)
{
	char ci[CONNINFO_MAX];
	PGconn *c;

	/* libpq takes a key's last value: user= overrides the harness's */
	cr_assert_lt((size_t)snprintf(ci, sizeof(ci), "%s user=cbq_dashboard", db), sizeof(ci),
		     "conninfo too long");
	c = PQconnectdb(ci);
	cr_assert(c && PQstatus(c) == CONNECTION_OK, "connect as cbq_dashboard: %s",
		  c ? PQerrorMessage(c) : "out of memory");
	return c;
}

/* The dashboard, found from this file's path (CMake compiles it by its
 * absolute path): SOURCE/tests/integration/test_grafana_panels.c. */
static json_t *load_dashboard(void)
{
	static const char tail[] = "tests/integration/test_grafana_panels.c";
	const char *f = __FILE__;
	size_t n = strlen(f), t = strlen(tail);
	char path[1024];
	json_error_t err;

	cr_assert(n >= t && strcmp(f + n - t, tail) == 0 && f[0] == '/',
		  "cannot find the source tree from __FILE__ = %s", f);
	cr_assert_lt((size_t)snprintf(path, sizeof(path), "%.*sdeploy/grafana/cbq.json",
				      (int)(n - t), f),
		     sizeof(path));
	json_t *d = json_load_file(path, 0, &err);
	cr_assert(d, "%s:%d: %s", path, err.line, err.text);
	return d;
}

/* A bounded string builder: over SQL_MAX fails the test. */
struct out {
	char s[SQL_MAX];
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	cr_assert_lt(o->len + n, sizeof(o->s), "expanded SQL over %d bytes", SQL_MAX);
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char tmp[SQL_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	cr_assert(n >= 0 && (size_t)n < sizeof(tmp));
	put(o, tmp, (size_t)n);
}

/* Time as Grafana's Go code prints it (time.RFC3339Nano, UTC): trailing
 * zeros of the fraction dropped, no fraction when it is zero. */
static void rfc3339(char out[STAMP_MAX], long long ms)
{
	time_t s = (time_t)(ms / 1000);
	unsigned frac = (unsigned)(ms % 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, STAMP_MAX, "%Y-%m-%dT%H:%M:%S", &tm);
	cr_assert(n > 0 && n + 6 < STAMP_MAX);
	if (frac) {
		out[n++] = '.';
		out[n++] = (char)('0' + frac / 100);
		out[n++] = (char)('0' + frac / 10 % 10);
		out[n++] = (char)('0' + frac % 10);
		while (out[n - 1] == '0')
			n--;
	}
	out[n++] = 'Z';
	out[n] = '\0';
}

/* '1h', '5m', '30s', '1d' (quotes optional) in seconds; 0 when unparsable. */
static long interval_s(const char *arg)
{
	char *end;
	const char *p = arg[0] == '\'' ? arg + 1 : arg;
	long v = strtol(p, &end, 10);

	if (end == p || v <= 0)
		return 0;
	switch (*end) {
	case 's': return v;
	case 'm': return v * 60;
	case 'h': return v * 3600;
	case 'd': return v * 86400;
	default: return 0;
	}
}

/*
 * Grafana's PostgreSQL macros, expanded as its data source does
 * (pkg/tsdb/grafana-postgresql-datasource/macros.go): a macro is
 * $NAME(ARGS) with ARGS up to the first ')', split at commas and trimmed.
 *   $__time(c)             c AS "time"
 *   $__timeEpoch(c)        extract(epoch from c) as "time"
 *   $__timeFilter(c)       c BETWEEN 'FROM' AND 'TO'  (RFC 3339, UTC)
 *   $__timeFrom()          'FROM'        $__timeTo()   'TO'
 *   $__timeGroup(c, '1h')  floor(extract(epoch from c)/3600)*3600; followed
 *                          by ',' (the pre-5.3 form) or as $__timeGroupAlias,
 *                          with AS "time"
 *   $__unixEpochFilter(c)  c >= FROM_S AND c <= TO_S
 * Anything else starting with $ (an unknown macro, a template variable the
 * test does not know) fails the panel: the test cannot vouch for its SQL.
 */
static bool expand(const char *sql, long long from_ms, long long to_ms, struct out *o, char *why,
		   size_t why_size)
{
	char from[STAMP_MAX], to[STAMP_MAX];

	rfc3339(from, from_ms);
	rfc3339(to, to_ms);
	o->len = 0;
	o->s[0] = '\0';
	for (const char *p = sql; *p;) {
		if (*p != '$') {
			put(o, p, 1);
			p++;
			continue;
		}
		const char *name = p + 1, *q = name;
		while (isalnum((unsigned char)*q) || *q == '_')
			q++;
		const char *close = *q == '(' ? strchr(q, ')') : NULL;
		if (q == name || !close) {
			snprintf(why, why_size, "unexpanded $ at \"%.30s\"", p);
			return false;
		}
		char mname[64], args[MACRO_ARGS][ARG_MAX];
		int nargs = 0;
		snprintf(mname, sizeof(mname), "%.*s", (int)(q - name), name);
		for (const char *a = q + 1; a <= close && nargs < MACRO_ARGS;) {
			const char *e = memchr(a, ',', (size_t)(close - a));
			if (!e)
				e = close;
			while (a < e && isspace((unsigned char)*a))
				a++;
			const char *z = e;
			while (z > a && isspace((unsigned char)z[-1]))
				z--;
			snprintf(args[nargs++], ARG_MAX, "%.*s", (int)(z - a), a);
			a = e + 1;
		}
		bool alias = strcmp(mname, "__timeGroupAlias") == 0 ||
			     (strcmp(mname, "__timeGroup") == 0 && close[1] == ',');
		const char *c = args[0];
		if (strcmp(mname, "__time") == 0 && *c)
			putf(o, "%s AS \"time\"", c);
		else if (strcmp(mname, "__timeEpoch") == 0 && *c)
			putf(o, "extract(epoch from %s) as \"time\"", c);
		else if (strcmp(mname, "__timeFilter") == 0 && *c)
			putf(o, "%s BETWEEN '%s' AND '%s'", c, from, to);
		else if (strcmp(mname, "__timeFrom") == 0)
			putf(o, "'%s'", from);
		else if (strcmp(mname, "__timeTo") == 0)
			putf(o, "'%s'", to);
		else if ((strcmp(mname, "__timeGroup") == 0 || alias) && nargs >= 2 &&
			 interval_s(args[1]) > 0)
			putf(o, "floor(extract(epoch from %s)/%ld)*%ld%s", c, interval_s(args[1]),
			     interval_s(args[1]), alias ? " AS \"time\"" : "");
		else if (strcmp(mname, "__unixEpochFilter") == 0 && *c)
			putf(o, "%s >= %lld AND %s <= %lld", c, from_ms / 1000, c, to_ms / 1000);
		else {
			snprintf(why, why_size, "unknown macro or bad arguments: $%.*s",
				 (int)(close + 1 - p), p);
			return false;
		}
		p = close + 1;
	}
	return true;
}

struct panel_sql {
	const char *title;
	const char *format; /* "table" or "time_series" */
	const char *sql;
};

/* Every panel, rows' nested panels included. A panel other than a row
 * without a target with rawSql fails the test. Returns how many. */
static size_t collect(json_t *list, struct panel_sql *out, size_t n, size_t cap)
{
	size_t i;
	json_t *p;

	json_array_foreach(list, i, p)
	{
		const char *type = json_string_value(json_object_get(p, "type"));
		const char *title = json_string_value(json_object_get(p, "title"));
		cr_assert(type && title, "panel %zu has no type or title", i);
		if (strcmp(type, "row") == 0) {
			n = collect(json_object_get(p, "panels"), out, n, cap);
			continue;
		}
		json_t *targets = json_object_get(p, "targets"), *t;
		size_t k, with_sql = 0;
		json_array_foreach(targets, k, t)
		{
			const char *sql = json_string_value(json_object_get(t, "rawSql"));
			if (!sql || !*sql)
				continue;
			cr_assert_lt(n, cap, "more than %zu panel queries", cap);
			const char *fmt = json_string_value(json_object_get(t, "format"));
			out[n++] = (struct panel_sql){ title, fmt ? fmt : "time_series", sql };
			with_sql++;
		}
		cr_expect_gt(with_sql, 0, "panel \"%s\" has no SQL (rawSql)", title);
	}
	return n;
}

/* Whether sql names relation as a whole word. */
static bool mentions(const char *sql, const char *rel)
{
	size_t n = strlen(rel);

	for (const char *p = strstr(sql, rel); p; p = strstr(p + 1, rel)) {
		bool left = p == sql || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
		bool right = !(isalnum((unsigned char)p[n]) || p[n] == '_');
		if (left && right)
			return true;
	}
	return false;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the dashboard ----------------------------------------------------------------- */

Test(grafana_panels, every_panel_query_runs_as_cbq_dashboard)
{
	json_t *d = load_dashboard();
	static struct panel_sql q[PANELS_MAX];
	size_t n = collect(json_object_get(d, "panels"), q, 0, PANELS_MAX);
	PGconn *c = connect_dashboard();
	long long now = now_ms();
	/* the default range (now-7d, with the seeded days), an hour, a year */
	const long long spans[] = { 7LL * 86400000, 3600000, 365LL * 86400000 };
	static struct out sql;
	char why[MSG_MAX];

	cr_assert_geq(n, 7, "too few panel queries: %zu", n);
	for (size_t i = 0; i < n; i++) {
		for (size_t s = 0; s < sizeof(spans) / sizeof(spans[0]); s++) {
			if (!expand(q[i].sql, now - spans[s], now, &sql, why, sizeof(why))) {
				cr_expect_fail("panel \"%s\": %s", q[i].title, why);
				break;
			}
			PGresult *r = PQexec(c, sql.s);
			if (PQresultStatus(r) != PGRES_TUPLES_OK) {
				cr_expect_fail("panel \"%s\": %s\n  SQL: %s", q[i].title,
					       PQresultErrorMessage(r), sql.s);
				PQclear(r);
				break;
			}
			/* a time series needs a time column (Grafana's rule) */
			if (strcmp(q[i].format, "time_series") == 0)
				cr_expect_geq(PQfnumber(r, "time"), 0,
					      "panel \"%s\" is a time series without a \"time\" column",
					      q[i].title);
			/* the seeded week has rows for every panel */
			if (s == 0)
				cr_expect_gt(PQntuples(r), 0,
					     "panel \"%s\" shows nothing on the seed", q[i].title);
			PQclear(r);
		}
	}
	PQfinish(c);
	json_decref(d);
}

Test(grafana_panels, every_v_view_has_a_panel)
{
	json_t *d = load_dashboard();
	static struct panel_sql q[PANELS_MAX];
	size_t n = collect(json_object_get(d, "panels"), q, 0, PANELS_MAX);
	PGconn *c = PQconnectdb(db);
	PGresult *r = PQexec(c, "SELECT c.relname FROM pg_class c"
				" WHERE c.relnamespace = current_schema()::regnamespace"
				" AND c.relkind = 'v' AND c.relname LIKE 'v\\_%' ORDER BY 1");

	cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
	cr_assert_geq(PQntuples(r), 8, "too few v_* views: %d", PQntuples(r));
	for (int v = 0; v < PQntuples(r); v++) {
		const char *view = PQgetvalue(r, v, 0);
		bool used = false;
		for (size_t i = 0; i < n && !used; i++)
			used = mentions(q[i].sql, view);
		cr_expect(used, "no panel of deploy/grafana/cbq.json reads %s", view);
	}
	PQclear(r);
	PQfinish(c);
	json_decref(d);
}

Test(grafana_panels, macros_expand_as_grafana_does)
{
	static struct out o;
	char why[MSG_MAX];
	/* 2017-04-21T05:01:17Z .. 05:06:17.5Z, Grafana's documentation's instant */
	long long from = 1492750877000LL, to = 1492751177500LL;

	cr_assert(expand("WHERE $__timeFilter(t) AND x < $__timeTo()", from, to, &o, why,
			 sizeof(why)),
		  "%s", why);
	cr_expect_str_eq(o.s, "WHERE t BETWEEN '2017-04-21T05:01:17Z' AND '2017-04-21T05:06:17.5Z'"
			      " AND x < '2017-04-21T05:06:17.5Z'");
	cr_assert(expand("SELECT $__timeGroup(t, '5m'), $__time(u) FROM x", from, to, &o, why,
			 sizeof(why)),
		  "%s", why);
	cr_expect_str_eq(o.s,
			 "SELECT floor(extract(epoch from t)/300)*300 AS \"time\", u AS \"time\""
			 " FROM x");
	cr_expect_not(expand("WHERE team = '$team'", from, to, &o, why, sizeof(why)));
	cr_expect_not(expand("WHERE $__schema()", from, to, &o, why, sizeof(why)));
}

/* ---- the numbers on the seed --------------------------------------------------------- */

struct expect {
	const char *what;
	const char *sql; /* one value, as text */
	const char *want;
};

/* Day offsets as in the seed: B's day is three days ago, the waits two days
 * ago; never yesterday, where the jobs running now started when the test
 * runs in the first hours of a UTC day. */
#define DAY(n) "((now() AT TIME ZONE 'UTC')::date + (" #n "))"

static const struct expect expects[] = {
	/* v_block_utilization */
	{ "a 2-instance job for 3 hours is 6 instance-hours",
	  "SELECT sum(cbq_hours) FROM v_block_utilization WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2'"
	  " AND hour >= " DAY(-3) "::timestamp AT TIME ZONE 'UTC' + interval '2 hours'"
				  " AND hour < " DAY(
					  -3) "::timestamp AT TIME ZONE 'UTC' + interval '5 hours'",
	  "6" },
	{ "block B over its day: capacity, cbq, outside, idle",
	  "SELECT sum(capacity_hours) || ' ' || sum(cbq_hours) || ' ' || sum(outside_hours) || ' '"
	  " || sum(idle_hours) || ' ' || count(*) FROM v_block_utilization"
	  " WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2'",
	  "96 10 2 84 24" },
	{ "the hour an outside account used 1 of 4",
	  "SELECT cbq_hours || ' ' || outside_hours || ' ' || idle_hours FROM v_block_utilization"
	  " WHERE block_id = 'cr-0bbbbbbbbbbbbbbb2'"
	  " AND hour = " DAY(-3) "::timestamp AT TIME ZONE 'UTC' + interval '10 hours'",
	  "0 1 3" },
	{ "scheduled and cancelled blocks have no hours yet",
	  "SELECT count(*) FROM v_block_utilization WHERE block_id IN ('cr-0ccccccccccccccc3',"
	  " 'cr-0ddddddddddddddd4')",
	  "0" },
	/* v_team_usage_daily: idle shared in proportion to use; unused block to its owner */
	{ "B's day: used, jobs, idle, attributed, share per account",
	  "SELECT string_agg(coalesce(team, '-') || ':' || account_id || ':' || outside_cbq || ':'"
	  " || round(instance_hours::numeric, 3) || ':' || jobs || ':' || round(idle_hours::numeric, 3)"
	  " || ':' || round(attributed_hours::numeric, 3) || ':' || round(cost_share::numeric, 4),"
	  " ' ' ORDER BY account_id) FROM v_team_usage_daily WHERE day = " DAY(-3),
	  "alpha:111111111111:false:6.000:1:42.000:48.000:0.1667"
	  " beta:222222222222:false:4.000:1:28.000:32.000:0.1111"
	  " -:444455556666:true:2.000:0:14.000:16.000:0.0556"
	  " -:999988887777:true:0.000:0:192.000:192.000:0.6667" },
	{ "a day's cost shares sum to 1",
	  "SELECT string_agg(DISTINCT round(s::numeric, 9)::text, ',') FROM (SELECT day,"
	  " sum(cost_share) AS s FROM v_team_usage_daily GROUP BY day) AS x",
	  "1.000000000" },
	{ "a job is counted once per day whatever its runs",
	  "SELECT jobs FROM v_team_usage_daily WHERE day = " DAY(-2) " AND team = 'beta'", "6" },
	/* v_wait_times: first starts only */
	{ "p50/p95/max of 60, 120, 180, 240, 1200 s",
	  "SELECT jobs || ' ' || round(p50_s::numeric, 3) || ' ' || round(p95_s::numeric, 3) || ' '"
	  " || max_s FROM v_wait_times WHERE day = " DAY(-2) " AND kind = 'research'"
							     " AND team = 'beta'",
	  "5 180.000 1008.000 1200" },
	{ "a requeued job's second start is not a wait",
	  "SELECT count(*) FROM v_wait_times WHERE day = " DAY(-2) " AND kind = 'training'", "0" },
	{ "j1 waited 30 minutes",
	  "SELECT p50_s FROM v_wait_times WHERE day = " DAY(-3) " AND team = 'alpha'", "1800" },
	/* v_queue */
	{ "queue positions: by ETA (none last), then id; launching has none",
	  "SELECT string_agg(coalesce(position::text, '-') || ':' || name, ' '"
	  " ORDER BY position NULLS FIRST) FROM v_queue",
	  "-:j4-launching 1:q1-high 2:q2-older 3:q3-newer 4:q4-low" },
	{ "the scheduler's order: priority first, then age",
	  "SELECT string_agg(coalesce(priority_rank::text, '-') || ':' || name, ' '"
	  " ORDER BY priority_rank NULLS FIRST) FROM v_queue",
	  "-:j4-launching 1:q1-high 2:q2-older 3:q3-newer 4:q4-low" },
	{ "the queue shows the leader's reason and ETA",
	  "SELECT reason || ' ' || (eta > now()) FROM v_queue WHERE position = 1",
	  "WaitingForCapacity (needs 1, 0 free on cr-0aaaaaaaaaaaaaaa1; 2 used outside cbq) true" },
	/* v_blocks */
	{ "block A now: used by cbq (launching, running, expiring), outside, jobs",
	  "SELECT used_by_cbq || ' ' || used_outside_cbq || ' ' || jobs_on_block || ' ' || shared_with"
	  " || ' ' || (cutoff_at = end_at - interval '30 minutes')"
	  " FROM v_blocks WHERE block_id = 'cr-0aaaaaaaaaaaaaaa1'",
	  "6 2 3 3 true" },
	{ "every block is listed", "SELECT count(*) FROM v_blocks", "4" },
	/* v_job_history */
	{ "a requeued job's hours add up over its runs",
	  "SELECT round(instance_hours::numeric, 3) || ' ' || wait_s || ' ' || attempt || ' '"
	  " || block_id FROM v_job_history WHERE name = 'j5-requeued'",
	  "6.000 3600 2 cr-0aaaaaaaaaaaaaaa1" },
	{ "every job, in every state",
	  "SELECT count(*) || ' ' || count(DISTINCT state) FROM v_job_history", "15 9" },
	/* v_policy_now: one row per kind */
	{ "the policy in force has a row per kind", "SELECT count(*) FROM v_policy_now", "3" },
};

Test(grafana_panels, views_compute_the_seeded_numbers)
{
	PGconn *c = connect_dashboard();

	for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
		const struct expect *e = &expects[i];
		PGresult *r = PQexec(c, e->sql);
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
			cr_expect_fail("%s: %s\n  SQL: %s", e->what,
				       PQresultStatus(r) == PGRES_TUPLES_OK ?
					       "not one row" :
					       PQresultErrorMessage(r),
				       e->sql);
		} else {
			const char *got = PQgetisnull(r, 0, 0) ? "(null)" : PQgetvalue(r, 0, 0);
			cr_expect_str_eq(got, e->want, "%s: got %s, want %s", e->what, got,
					 e->want);
		}
		PQclear(r);
	}
	PQfinish(c);
}
