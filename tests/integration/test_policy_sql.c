/*
 * Scheduling policy in Postgres (migration 0002) against a real server:
 * cbq_policy_timeline() case by case from data/policy_timeline.tsv (DST
 * weekends, midnight, overlaps, the seed, the horizon bound, what the tables
 * refuse), decayed team usage, the cbq_policy notification, and the admin
 * commands `policy timezone|ls` and `quota set|rm|ls`. Not the scheduler:
 * how boosts and shares are used is broker/sched's and its unit tests'.
 */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sched/sched.h"


/* Limits of the TSV reader: longer lines or more records fail the test. */
enum { TSV_LINE_MAX = 1024, FIELDS_MAX = 10, WINDOWS_MAX = 32, EXPECTS_MAX = 64, ATS_MAX = 32 };
enum { ROWS_MAX = 512, TEXT_MAX = 96 };

static const char *db;

static void start(void)
{
	db = h_db_create();
}

static void stop(void)
{
	h_cleanup();
}

TestSuite(policy_sql, .init = start, .fini = stop, .timeout = 120);

/* ---- helpers ------------------------------------------------------------------------ */

static PGconn *connect_db(void)
{
	PGconn *c = PQconnectdb(db);

	cr_assert(c && PQstatus(c) == CONNECTION_OK, "connect %s: %s", db,
		  c ? PQerrorMessage(c) : "out of memory");
	return c;
}

/* Runs sql with text parameters; NULL result and *msg set when it fails. */
static PGresult *try_exec(PGconn *c, const char *sql, int n, const char *const *vals, char *msg,
			  size_t size)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, vals, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	snprintf(msg, size, "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
	PQclear(r);
	return NULL;
}

static void must_exec(PGconn *c, const char *sql)
{
	char msg[512];
	PGresult *r = try_exec(c, sql, 0, NULL, msg, sizeof(msg));

	cr_assert(r, "%s: %s", sql, msg);
	PQclear(r);
}

static char *value(const char *sql)
{
	char *v = h_sql_value(db, sql);

	cr_assert(v, "no value from %s", sql);
	return v;
}

static void expect_value(const char *sql, const char *want)
{
	char *v = value(sql);

	cr_expect_str_eq(v, want, "%s", sql);
	free(v);
}

/* ---- the timeline cases ---------------------------------------------------------------- */

struct tl_window {
	int line;
	char kind[TEXT_MAX], days[TEXT_MAX], start[TEXT_MAX], end[TEXT_MAX];
	char boost[TEXT_MAX], share[TEXT_MAX], zone[TEXT_MAX]; /* zone "" = NULL */
};

/* An expected or actual row; for an `at` check, start is the instant. */
struct tl_row {
	int line;
	char kind[TEXT_MAX], start[TEXT_MAX], end[TEXT_MAX];
	long boost;
	double share;
};

struct tl_case {
	int line;
	char name[TEXT_MAX], zone[TEXT_MAX], now[TEXT_MAX], horizon[TEXT_MAX];
	bool seed;
	char error[TSV_LINE_MAX]; /* "" = must succeed */
	struct tl_window windows[WINDOWS_MAX];
	struct tl_row expects[EXPECTS_MAX], ats[ATS_MAX];
	int n_windows, n_expects, n_ats;
};

static void copy_field(char *dst, const char *src, int line)
{
	cr_assert(strlen(src) < TEXT_MAX, "policy_timeline.tsv:%d: field %.40s... is too long",
		  line, src);
	strcpy(dst, src);
}

/* 2026-03-04T10:00Z → 2026-03-04T10:00:00Z, as the query formats times. */
static void copy_time(char *dst, const char *src, int line)
{
	size_t n = strlen(src);

	cr_assert((n == 17 || n == 20) && src[10] == 'T' && src[n - 1] == 'Z',
		  "policy_timeline.tsv:%d: time %s is not YYYY-MM-DDTHH:MM[:SS]Z", line, src);
	if (n == 17)
		snprintf(dst, TEXT_MAX, "%.16s:00Z", src);
	else
		copy_field(dst, src, line);
}

static long parse_long(const char *s, int line)
{
	char *end;
	long v = strtol(s, &end, 10);

	cr_assert(*s && !*end, "policy_timeline.tsv:%d: %s is not an integer", line, s);
	return v;
}

static double parse_double(const char *s, int line)
{
	char *end;
	double v = strtod(s, &end);

	cr_assert(*s && !*end, "policy_timeline.tsv:%d: %s is not a number", line, s);
	return v;
}

/* Splits line at TABs in place; returns the number of fields. */
static int split(char *line, char **f)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (char *p = line;; p++) {
		if (n == FIELDS_MAX)
			return n + 1; /* too many: the caller's arity check fails */
		f[n++] = p;
		p = strchr(p, '\t');
		if (!p)
			return n;
		*p = '\0';
	}
}

static void parse_row(struct tl_row *r, char **f, int nf, bool at, int line)
{
	cr_assert(nf == (at ? 5 : 6), "policy_timeline.tsv:%d: %s needs %d fields", line, f[0],
		  at ? 5 : 6);
	r->line = line;
	copy_field(r->kind, f[1], line);
	copy_time(r->start, f[2], line);
	if (!at)
		copy_time(r->end, f[3], line);
	r->boost = parse_long(f[at ? 3 : 4], line);
	r->share = parse_double(f[at ? 4 : 5], line);
}

/* Adds one record to *k (the case being read). */
static void parse_record(struct tl_case *k, char **f, int nf, int line)
{
	if (strcmp(f[0], "window") == 0) {
		struct tl_window *w = &k->windows[k->n_windows];

		cr_assert(nf == 7 || nf == 8, "policy_timeline.tsv:%d: window needs 7 or 8 fields",
			  line);
		cr_assert(k->n_windows < WINDOWS_MAX, "policy_timeline.tsv:%d: too many windows",
			  line);
		w->line = line;
		copy_field(w->kind, f[1], line);
		copy_field(w->days, f[2], line);
		copy_field(w->start, f[3], line);
		copy_field(w->end, f[4], line);
		copy_field(w->boost, f[5], line);
		copy_field(w->share, f[6], line);
		copy_field(w->zone, nf == 8 && strcmp(f[7], "-") != 0 ? f[7] : "", line);
		k->n_windows++;
	} else if (strcmp(f[0], "expect") == 0) {
		cr_assert(k->n_expects < EXPECTS_MAX, "policy_timeline.tsv:%d: too many expects",
			  line);
		parse_row(&k->expects[k->n_expects++], f, nf, false, line);
	} else if (strcmp(f[0], "at") == 0) {
		cr_assert(k->n_ats < ATS_MAX, "policy_timeline.tsv:%d: too many at lines", line);
		parse_row(&k->ats[k->n_ats++], f, nf, true, line);
	} else if (strcmp(f[0], "error") == 0) {
		cr_assert(nf == 2, "policy_timeline.tsv:%d: error needs 2 fields", line);
		snprintf(k->error, sizeof(k->error), "%s", f[1]);
	} else {
		cr_assert_fail("policy_timeline.tsv:%d: unknown record %s", line, f[0]);
	}
}

static bool share_eq(double a, double b)
{
	double d = a - b;

	return d < 1e-9 && d > -1e-9;
}

/* Sets up k in an open transaction: settings zone and windows. */
static bool setup_case(PGconn *c, const struct tl_case *k, char *msg, size_t size)
{
	PGresult *r;

	r = try_exec(c, "UPDATE policy_settings SET time_zone = $1", 1,
		     (const char *const[]){ k->zone }, msg, size);
	if (!r)
		return false;
	PQclear(r);
	if (!k->seed) {
		r = try_exec(c, "DELETE FROM policy_windows", 0, NULL, msg, size);
		if (!r)
			return false;
		PQclear(r);
	}
	for (int i = 0; i < k->n_windows; i++) {
		const struct tl_window *w = &k->windows[i];

		r = try_exec(c,
			     "INSERT INTO policy_windows (kind, days, start_local, end_local, boost,"
			     " max_share, time_zone)"
			     " VALUES ($1, $2::int[], $3::time, $4::time, $5::int, $6::numeric, $7)",
			     7,
			     (const char *const[]){ w->kind, w->days, w->start, w->end, w->boost,
						    w->share, w->zone[0] ? w->zone : NULL },
			     msg, size);
		if (!r)
			return false;
		PQclear(r);
	}
	return true;
}

#define UTC_TEXT(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

/* The rows of the call; false with msg set when it fails. */
static bool fetch(PGconn *c, const struct tl_case *k, struct tl_row *rows, int *n, char *h_end,
		  char *msg, size_t size)
{
	const char *const params[] = { k->now, k->horizon };
	PGresult *r;

	r = try_exec(c,
		     "SELECT " UTC_TEXT("start_at") ", " UTC_TEXT(
			     "end_at") ", kind, boost, max_share"
				       " FROM cbq_policy_timeline($1::timestamptz, $2::interval)",
		     2, params, msg, size);
	if (!r)
		return false;
	cr_assert(PQntuples(r) <= ROWS_MAX, "case %s: %d rows", k->name, PQntuples(r));
	*n = PQntuples(r);
	for (int i = 0; i < *n; i++) {
		snprintf(rows[i].start, TEXT_MAX, "%s", PQgetvalue(r, i, 0));
		snprintf(rows[i].end, TEXT_MAX, "%s", PQgetvalue(r, i, 1));
		snprintf(rows[i].kind, TEXT_MAX, "%s", PQgetvalue(r, i, 2));
		rows[i].boost = strtol(PQgetvalue(r, i, 3), NULL, 10);
		rows[i].share = strtod(PQgetvalue(r, i, 4), NULL);
	}
	PQclear(r);
	/* the horizon's end, an exact number of seconds after now */
	r = try_exec(c,
		     "SELECT " UTC_TEXT(
			     "$1::timestamptz"
			     " + make_interval(secs => extract(epoch FROM $2::interval))"),
		     2, params, msg, size);
	if (!r)
		return false;
	snprintf(h_end, TEXT_MAX, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return true;
}

/* Every kind's rows partition [now, h_end) in order; neighbours differ. */
static void check_partition(const struct tl_case *k, const char *tz, const struct tl_row *rows,
			    int n, const char *const *kinds, int n_kinds, const char *h_end)
{
	char now[TEXT_MAX];

	copy_time(now, k->now, k->line);
	for (int i = 1; i < n; i++) {
		int order = strcmp(rows[i - 1].start, rows[i].start);

		cr_expect(order < 0 || (order == 0 && strcmp(rows[i - 1].kind, rows[i].kind) < 0),
			  "case %s (TimeZone %s): rows not ordered by start_at, kind at row %d",
			  k->name, tz, i + 1);
	}
	for (int j = 0; j < n_kinds; j++) {
		const struct tl_row *prev = NULL;

		for (int i = 0; i < n; i++) {
			const struct tl_row *r = &rows[i];

			if (strcmp(r->kind, kinds[j]) != 0)
				continue;
			cr_expect(strcmp(r->start, r->end) < 0,
				  "case %s (%s): %s row %s-%s is empty", k->name, tz, r->kind,
				  r->start, r->end);
			cr_expect_str_eq(r->start, prev ? prev->end : now,
					 "case %s (TimeZone %s): %s has a gap or overlap at %s",
					 k->name, tz, r->kind, r->start);
			cr_expect(!prev || prev->boost != r->boost ||
					  !share_eq(prev->share, r->share),
				  "case %s (TimeZone %s): %s rows at %s are not merged", k->name,
				  tz, r->kind, r->start);
			prev = r;
		}
		cr_expect(prev, "case %s (TimeZone %s): no rows for kind %s", k->name, tz,
			  kinds[j]);
		if (prev)
			cr_expect_str_eq(prev->end, h_end,
					 "case %s (TimeZone %s): %s ends at %s, not at now + horizon",
					 k->name, tz, kinds[j], prev->end);
	}
}

static void check_expected(const struct tl_case *k, const char *tz, const struct tl_row *rows,
			   int n)
{
	for (int e = 0; e < k->n_expects; e++) {
		const struct tl_row *x = &k->expects[e];
		int want = 0, got = 0;

		/* x is the how-manyth expect of its kind? compare with that actual row */
		for (int i = 0; i < e; i++)
			want += strcmp(k->expects[i].kind, x->kind) == 0;
		for (int i = 0; i < n; i++) {
			if (strcmp(rows[i].kind, x->kind) != 0)
				continue;
			if (got++ != want)
				continue;
			cr_expect(strcmp(rows[i].start, x->start) == 0 &&
					  strcmp(rows[i].end, x->end) == 0 &&
					  rows[i].boost == x->boost &&
					  share_eq(rows[i].share, x->share),
				  "policy_timeline.tsv:%d case %s (TimeZone %s): want %s %s-%s %ld %g, "
				  "got %s-%s %ld %g",
				  x->line, k->name, tz, x->kind, x->start, x->end, x->boost,
				  x->share, rows[i].start, rows[i].end, rows[i].boost,
				  rows[i].share);
		}
		cr_expect(got > want,
			  "policy_timeline.tsv:%d case %s (TimeZone %s): %s has only %d rows",
			  x->line, k->name, tz, x->kind, got);
		/* the last expect of a kind: no further actual rows */
		bool last = true;

		for (int i = e + 1; i < k->n_expects; i++)
			last = last && strcmp(k->expects[i].kind, x->kind) != 0;
		cr_expect(!last || got == want + 1,
			  "policy_timeline.tsv:%d case %s (TimeZone %s): %s has %d rows, want %d",
			  x->line, k->name, tz, x->kind, got, want + 1);
	}
	for (int a = 0; a < k->n_ats; a++) {
		const struct tl_row *x = &k->ats[a];
		const struct tl_row *hit = NULL;

		for (int i = 0; i < n && !hit; i++)
			if (strcmp(rows[i].kind, x->kind) == 0 &&
			    strcmp(rows[i].start, x->start) <= 0 &&
			    strcmp(x->start, rows[i].end) < 0)
				hit = &rows[i];
		cr_expect(hit, "policy_timeline.tsv:%d case %s: no %s row covers %s", x->line,
			  k->name, x->kind, x->start);
		if (hit)
			cr_expect(hit->boost == x->boost && share_eq(hit->share, x->share),
				  "policy_timeline.tsv:%d case %s (TimeZone %s): at %s %s want %ld %g, "
				  "got %ld %g (row %s-%s)",
				  x->line, k->name, tz, x->start, x->kind, x->boost, x->share,
				  hit->boost, hit->share, hit->start, hit->end);
	}
}

/* Runs k in a transaction that is rolled back, with the session in zone tz. */
static void run_case(PGconn *c, const struct tl_case *k, const char *tz, const char *const *kinds,
		     int n_kinds)
{
	static struct tl_row rows[ROWS_MAX];
	char msg[1024], h_end[TEXT_MAX];
	PGresult *r;
	bool ok;
	int n = 0;

	must_exec(c, "BEGIN");
	r = try_exec(c, "SELECT set_config('TimeZone', $1, true)", 1, (const char *const[]){ tz },
		     msg, sizeof(msg));
	cr_assert(r, "SET TimeZone %s: %s", tz, msg);
	PQclear(r);
	ok = setup_case(c, k, msg, sizeof(msg)) && fetch(c, k, rows, &n, h_end, msg, sizeof(msg));
	must_exec(c, "ROLLBACK");
	if (k->error[0]) {
		cr_expect(!ok, "policy_timeline.tsv:%d case %s: succeeded, want error %s", k->line,
			  k->name, k->error);
		if (!ok)
			cr_expect(strstr(msg, k->error),
				  "policy_timeline.tsv:%d case %s: error %s, want it to contain %s",
				  k->line, k->name, msg, k->error);
		return;
	}
	cr_expect(ok, "policy_timeline.tsv:%d case %s (TimeZone %s): %s", k->line, k->name, tz,
		  msg);
	if (!ok)
		return;
	check_partition(k, tz, rows, n, kinds, n_kinds, h_end);
	check_expected(k, tz, rows, n);
}

static FILE *open_data(const char *name)
{
	char path[1024];
	const char *dir = getenv("CBQ_INTEGRATION_DATA");
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;

	/* the data sits next to this source file, which CMake names by absolute path */
	if (dir)
		snprintf(path, sizeof(path), "%s/%s", dir, name);
	else
		snprintf(path, sizeof(path), "%.*s/data/%s", slash ? (int)(slash - __FILE__) : 1,
			 slash ? __FILE__ : ".", name);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s (set CBQ_INTEGRATION_DATA to tests/integration/data)", path);
	return f;
}

Test(policy_sql, timeline_cases_from_tsv)
{
	static const char *const zones[] = { "UTC", "Pacific/Chatham" };
	static const char *const kinds[] = { "inference", "research", "training" };
	static struct tl_case k;
	char line[TSV_LINE_MAX + 2], *f[FIELDS_MAX + 1];
	FILE *in = open_data("policy_timeline.tsv");
	PGconn *c = connect_db();
	int lineno = 0, cases = 0, nf = 0;
	bool in_case = false;

	expect_value("SELECT string_agg(kind, ',' ORDER BY kind) FROM job_kinds",
		     "inference,research,training");
	for (;;) {
		bool eof = !fgets(line, sizeof(line), in);

		if (!eof) {
			lineno++;
			cr_assert(strchr(line, '\n') || feof(in),
				  "policy_timeline.tsv:%d: longer than %d bytes", lineno,
				  TSV_LINE_MAX);
			if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
				continue;
			nf = split(line, f);
			if (strcmp(f[0], "case") != 0) {
				cr_assert(in_case, "policy_timeline.tsv:%d: %s before any case",
					  lineno, f[0]);
				parse_record(&k, f, nf, lineno);
				continue;
			}
		}
		if (in_case) {
			for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++)
				run_case(c, &k, zones[z], kinds, 3);
			cases++;
		}
		if (eof)
			break;
		cr_assert(nf == 6, "policy_timeline.tsv:%d: case needs 6 fields", lineno);
		cr_assert(strcmp(f[5], "seed") == 0 || strcmp(f[5], "listed") == 0,
			  "policy_timeline.tsv:%d: WINDOWS must be seed or listed", lineno);
		memset(&k, 0, sizeof(k));
		k.line = lineno;
		copy_field(k.name, f[1], lineno);
		copy_field(k.zone, f[2], lineno);
		copy_field(k.now, f[3], lineno);
		copy_field(k.horizon, f[4], lineno);
		k.seed = strcmp(f[5], "seed") == 0;
		in_case = true;
	}
	fclose(in);
	PQfinish(c);
	cr_expect_geq(cases, 30, "only %d cases read", cases);
}

/* Reads a data file whole (at most 64 KiB). */
static char *read_data(const char *name)
{
	FILE *f = open_data(name);
	char *text = malloc(65536);
	size_t n;

	cr_assert(text);
	n = fread(text, 1, 65535, f);
	cr_assert(feof(f), "%s is longer than 64 KiB", name);
	fclose(f);
	text[n] = '\0';
	return text;
}

Test(policy_sql, timeline_agrees_with_local_time_at_random_instants)
{
	char *sql = read_data("policy_timeline_oracle.sql");
	PGconn *c = connect_db();
	PGresult *r;

	must_exec(c, "BEGIN");
	r = PQexec(c, sql);
	cr_expect_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
	PQclear(r);
	must_exec(c, "ROLLBACK");
	PQfinish(c);
	free(sql);
}

/* The timeline as sched_windows; kinds indexed in names[] (alphabetical, as seeded). */
static size_t read_windows(PGconn *c, long long now_ms, long long span_ms, struct sched_window *out,
			   size_t cap)
{
	static const char *const names[] = { "inference", "research", "training" };
	char now_s[24], span_s[24], msg[512];
	const char *vals[2] = { now_s, span_s };
	PGresult *r;
	size_t n;

	snprintf(now_s, sizeof(now_s), "%lld", now_ms);
	snprintf(span_s, sizeof(span_s), "%lld", span_ms);
	r = try_exec(c,
		     "SELECT cbq_ms(start_at), cbq_ms(end_at), kind, boost, max_share"
		     " FROM cbq_policy_timeline(to_timestamp($1::bigint / 1000.0),"
		     " make_interval(secs => $2::bigint / 1000.0))",
		     2, vals, msg, sizeof(msg));
	cr_assert(r, "%s", msg);
	n = (size_t)PQntuples(r);
	cr_assert(n <= cap, "%zu rows", n);
	for (size_t i = 0; i < n; i++) {
		uint32_t k = 0;
		while (k < 3 && strcmp(names[k], PQgetvalue(r, (int)i, 2)) != 0)
			k++;
		cr_assert(k < 3, "kind %s", PQgetvalue(r, (int)i, 2));
		out[i] = (struct sched_window){ .start = atoll(PQgetvalue(r, (int)i, 0)),
						.end = atoll(PQgetvalue(r, (int)i, 1)),
						.kind = k,
						.boost = atoi(PQgetvalue(r, (int)i, 3)),
						.max_share = strtod(PQgetvalue(r, (int)i, 4), NULL) };
	}
	PQclear(r);
	return n;
}

static int cmp_by_kind(const void *a, const void *b)
{
	const struct sched_window *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/* cbqd reads the timeline for 31 days and takes each cycle's 28-day cut of
 * it (sched_window_clip) until the policy changes: every cut must be the
 * timeline SQL gives for that moment, here across daylight-saving changes
 * (America/New_York in March and November, Chatham's 45-minute zone). */
Test(policy_sql, a_cut_of_a_longer_timeline_is_the_timeline)
{
	enum { CAP = 4096 };
	const long long day = 86400000LL, horizon = 28 * day, span = 31 * day;
	static const char *const starts[] = { "2026-03-01 05:17:00+00", "2026-10-27 23:59:59+00",
					      "2026-11-23 12:00:00+00" };
	static struct sched_window whole[CAP], cut[CAP], fresh[CAP];
	PGconn *c = connect_db();
	int compared = 0;

	must_exec(c, "BEGIN");
	must_exec(c, "UPDATE policy_settings SET time_zone = 'America/New_York'");
	must_exec(c, "INSERT INTO policy_windows (kind, time_zone, days, start_local, end_local,"
		     " boost, max_share) VALUES"
		     " ('research', 'Pacific/Chatham', '{2,4}', '01:30', '03:15', 7, 0.5),"
		     " ('training', NULL, '{7}', '01:00', '04:00', -20, 0.25)");
	for (size_t s = 0; s < sizeof(starts) / sizeof(starts[0]); s++) {
		char sql[128];
		char *t0s;
		long long t0;
		size_t n_whole;

		snprintf(sql, sizeof(sql), "SELECT cbq_ms('%s')", starts[s]);
		t0s = value(sql);
		t0 = atoll(t0s);
		free(t0s);
		n_whole = read_windows(c, t0, span, whole, CAP);
		for (long long now = t0; now + horizon <= t0 + span; now += 7 * 3600000LL + 1234567) {
			size_t n_cut = sched_window_clip(whole, n_whole, now, now + horizon, cut);
			size_t n_fresh = read_windows(c, now, horizon, fresh, CAP);

			qsort(cut, n_cut, sizeof(*cut), cmp_by_kind);
			qsort(fresh, n_fresh, sizeof(*fresh), cmp_by_kind);
			cr_assert_eq(n_cut, n_fresh, "from %s + %lld ms: %zu rows cut, %zu fresh",
				     starts[s], now - t0, n_cut, n_fresh);
			for (size_t i = 0; i < n_cut; i++) {
				cr_assert(cut[i].start == fresh[i].start && cut[i].end == fresh[i].end &&
						  cut[i].kind == fresh[i].kind &&
						  cut[i].boost == fresh[i].boost &&
						  cut[i].max_share == fresh[i].max_share,
					  "from %s + %lld ms, row %zu: cut [%lld, %lld) kind %u %d %g,"
					  " fresh [%lld, %lld) kind %u %d %g",
					  starts[s], now - t0, i, (long long)cut[i].start,
					  (long long)cut[i].end, cut[i].kind, cut[i].boost,
					  cut[i].max_share, (long long)fresh[i].start,
					  (long long)fresh[i].end, fresh[i].kind, fresh[i].boost,
					  fresh[i].max_share);
			}
			compared++;
		}
	}
	must_exec(c, "ROLLBACK");
	PQfinish(c);
	cr_expect_gt(compared, 20, "only %d moments compared", compared);
}

Test(policy_sql, timeline_refuses_null_arguments_by_name)
{
	PGconn *c = connect_db();
	char msg[512];
	PGresult *r;

	r = try_exec(c, "SELECT * FROM cbq_policy_timeline(NULL, '1 day')", 0, NULL, msg,
		     sizeof(msg));
	cr_expect_null(r);
	cr_expect(strstr(msg, "now must not be NULL"), "%s", msg);
	PQclear(r);
	r = try_exec(c, "SELECT * FROM cbq_policy_timeline(now(), NULL)", 0, NULL, msg,
		     sizeof(msg));
	cr_expect_null(r);
	cr_expect(strstr(msg, "horizon must not be NULL"), "%s", msg);
	PQclear(r);
	PQfinish(c);
}

Test(policy_sql, seed_is_utc_and_documented)
{
	expect_value("SELECT time_zone FROM policy_settings", "UTC");
	expect_value("SELECT fair_share_half_life::text FROM policy_settings", "7 days");
	expect_value("SELECT string_agg(kind || ' ' || cbq_iso_days_text(days) || ' '"
		     " || to_char(start_local, 'HH24:MI') || '-' || to_char(end_local, 'HH24:MI'),"
		     " '; ' ORDER BY id) FROM policy_windows",
		     "training Mon-Fri 08:00-20:00; inference Mon-Sun 20:00-08:00; "
		     "inference Sat,Sun 00:00-00:00");
	/* every table, column and function of 0002 says what it is */
	expect_value("SELECT count(*) FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid"
		     " WHERE c.relname IN ('policy_settings', 'policy_windows', 'team_quotas',"
		     " 'v_policy_now', 'v_team_usage_decayed')"
		     " AND a.attnum > 0 AND NOT a.attisdropped"
		     " AND col_description(c.oid, a.attnum) IS NULL",
		     "0");
	expect_value("SELECT count(*) FROM pg_class c WHERE c.relname IN ('policy_settings',"
		     " 'policy_windows', 'team_quotas', 'v_policy_now', 'v_team_usage_decayed')"
		     " AND obj_description(c.oid, 'pg_class') IS NOT NULL",
		     "5");
	expect_value("SELECT count(*) FROM pg_proc p WHERE p.proname IN ('cbq_check_time_zone',"
		     " 'cbq_iso_days_valid', 'cbq_iso_days_text', 'cbq_policy_settings_check',"
		     " 'cbq_policy_windows_check', 'cbq_policy_timeline', 'cbq_team_usage_decayed',"
		     " 'cbq_policy_notify') AND obj_description(p.oid, 'pg_proc') IS NOT NULL",
		     "8");
	expect_value("SELECT cbq_iso_days_text('{1,3,4,5,7}')", "Mon,Wed-Fri,Sun");
}

Test(policy_sql, settings_row_cannot_be_deleted_and_windows_are_capped)
{
	PGconn *c = connect_db();
	char msg[512];
	PGresult *r;

	r = try_exec(c, "DELETE FROM policy_settings", 0, NULL, msg, sizeof(msg));
	cr_expect_null(r);
	cr_expect(strstr(msg, "cannot be deleted; UPDATE it instead"), "%s", msg);
	PQclear(r);
	r = try_exec(c,
		     "INSERT INTO policy_windows (kind, days, start_local, end_local)"
		     " SELECT 'research', '{1}', '08:00', '09:00' FROM generate_series(1, 120)",
		     0, NULL, msg, sizeof(msg));
	cr_expect_null(r);
	cr_expect(strstr(msg, "at most 100 windows"), "%s", msg);
	PQclear(r);
	PQfinish(c);
	expect_value("SELECT count(*) FROM policy_windows", "3");
}

/* ---- fair share ------------------------------------------------------------------------ */

/* Job id of a job of team/account with n instances, its events at the given
 * UTC times with states (from, to) pairs. */
static void add_job(const char *team, const char *account, int n, const char *state,
		    const char *ended, const char *events)
{
	char sql[2048];

	snprintf(sql, sizeof(sql),
		 "WITH j AS (INSERT INTO jobs (team, account_id, kind, instance_type,"
		 " instance_count, duration_s, state, submitted_at, ended_at, updated_at,"
		 " submitted_by) VALUES ('%s', '%s', 'training', 'p5.48xlarge', %d, 86400, '%s',"
		 " '2026-01-01T00:00Z', %s, now(), 'test') RETURNING id)"
		 " INSERT INTO job_events (job_id, at, from_state, to_state, actor)"
		 " SELECT j.id, e.at::timestamptz, e.f, e.t, 'test' FROM j,"
		 " (VALUES %s) AS e (at, f, t)",
		 team, account, n, state, ended, events);
	h_sql(db, sql);
}

static double usage(const char *team, const char *now)
{
	char sql[256], *v;
	double d;

	snprintf(sql, sizeof(sql),
		 "SELECT instance_hours FROM cbq_team_usage_decayed('%s') WHERE team = '%s'", now,
		 team);
	v = value(sql);
	d = strtod(v, NULL);
	free(v);
	return d;
}

static void expect_near(double got, double want, const char *what)
{
	cr_expect(got - want < 1e-5 && want - got < 1e-5, "%s: got %.9f, want %.9f", what, got,
		  want);
}

Test(policy_sql, usage_decays_with_the_half_life)
{
	h_seed_teams(db);
	h_sql(db, "INSERT INTO teams (name) VALUES ('idle')");
	/* alpha: 10 instances for the hour 09:00-10:00 on 1 March */
	add_job("alpha", "111111111111", 10, "succeeded", "'2026-03-01T10:00Z'",
		"('2026-03-01T08:00Z', NULL, 'queued'), ('2026-03-01T08:59Z', 'queued',"
		" 'launching'), ('2026-03-01T09:00Z', 'launching', 'running'),"
		" ('2026-03-01T10:00Z', 'running', 'succeeded')");
	/* beta: one instance, requeued: 30 min running + 30 min expiring a week
	 * earlier, running again from 08:00 on 1 March */
	add_job("beta", "222222222222", 1, "running", "NULL",
		"('2026-02-22T09:00Z', 'launching', 'running'), ('2026-02-22T09:30Z', 'running',"
		" 'expiring'), ('2026-02-22T10:00Z', 'expiring', 'queued'),"
		" ('2026-03-01T07:59Z', 'queued', 'launching'), ('2026-03-01T08:00Z', 'launching',"
		" 'running')");

	/* n * (H / ln 2) * (2^(-age_end / H) - 2^(-age_start / H)), H = 168 h */
	expect_near(usage("alpha", "2026-03-01T10:00Z"), 9.979398962,
		    "alpha at the end of its hour");
	expect_near(usage("alpha", "2026-03-08T10:00Z"), 4.989699481, "alpha one half-life later");
	expect_near(usage("beta", "2026-03-01T10:00Z"), 2.490740846,
		    "beta: 2 h now + 1 h a week ago (both attempts)");
	expect_near(usage("alpha", "2026-03-01T09:30Z"), 4.994846200, "alpha half-way (clipped)");
	expect_near(usage("alpha", "2026-03-01T09:00Z"), 0, "alpha before it ran");
	expect_near(usage("idle", "2026-03-01T10:00Z"), 0, "a team without jobs");
	expect_value("SELECT count(*) FROM cbq_team_usage_decayed(now())", "3");

	/* a long half-life is plain instance-hours */
	h_sql(db, "UPDATE policy_settings SET fair_share_half_life = '365 days'");
	expect_near(usage("alpha", "2026-03-01T10:00Z"), 9.999604378, "alpha, 365-day half-life");
}

/* ---- NOTIFY cbq_policy ------------------------------------------------------------------- */

/* Waits up to ms for a notification on c; copies its payload into payload. */
static bool wait_notify(PGconn *c, int ms, char *payload, size_t size)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		PGnotify *n;
		long left;

		PQconsumeInput(c);
		n = PQnotifies(c);
		if (n) {
			cr_expect_str_eq(n->relname, "cbq_policy");
			snprintf(payload, size, "%s", n->extra);
			PQfreemem(n);
			return true;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return false;
		poll(&(struct pollfd){ .fd = PQsocket(c), .events = POLLIN }, 1, (int)left);
	}
}

Test(policy_sql, changes_notify_cbq_policy_at_commit_only)
{
	PGconn *listen = connect_db(), *w = connect_db();
	char payload[64], *out, *err;
	int rc;

	must_exec(listen, "LISTEN cbq_policy");
	must_exec(w, "BEGIN");
	must_exec(w, "UPDATE policy_windows SET boost = 150 WHERE kind = 'training'");
	must_exec(w, "UPDATE policy_windows SET max_share = 0.5 WHERE kind = 'training'");
	cr_expect_not(wait_notify(listen, 300, payload, sizeof(payload)), "notified before COMMIT");
	must_exec(w, "COMMIT");
	cr_assert(wait_notify(listen, 1000, payload, sizeof(payload)), "no NOTIFY within 1 s");
	cr_expect_str_eq(payload, "policy_windows");
	/* two statements, one transaction: one notification */
	cr_expect_not(wait_notify(listen, 200, payload, sizeof(payload)), "second: %s", payload);

	must_exec(w, "BEGIN");
	must_exec(w, "UPDATE policy_settings SET ageing_per_hour = 5");
	must_exec(w, "ROLLBACK");
	cr_expect_not(wait_notify(listen, 300, payload, sizeof(payload)), "rollback notified");

	rc = h_admin(db, &out, &err, "policy", "timezone", "Europe/Berlin", NULL);
	cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	cr_assert(wait_notify(listen, 1000, payload, sizeof(payload)), "timezone: no NOTIFY");
	cr_expect_str_eq(payload, "policy_settings");

	h_sql(db, "INSERT INTO teams (name) VALUES ('gamma')");
	cr_assert(wait_notify(listen, 1000, payload, sizeof(payload)), "teams: no NOTIFY");
	cr_expect_str_eq(payload, "teams");
	rc = h_admin(db, &out, &err, "quota", "set", "gamma", "p5.48xlarge", "4", NULL);
	cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	cr_assert(wait_notify(listen, 1000, payload, sizeof(payload)), "quota: no NOTIFY");
	cr_expect_str_eq(payload, "team_quotas");
	PQfinish(w);
	PQfinish(listen);
}

/* ---- admin policy ------------------------------------------------------------------------- */

/* The training boost at an instant (UTC text), from the timeline. */
static char *training_boost_at(const char *at)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
		 "SELECT boost FROM cbq_policy_timeline('%s', '1 hour') WHERE kind = 'training'",
		 at);
	return value(sql);
}

Test(policy_sql, admin_timezone_moves_the_windows)
{
	char *out, *err, *boost;
	int rc;

	/* Wednesday 07:30 UTC is before 08:00 UTC but 08:30 in Berlin (CET) */
	boost = training_boost_at("2026-01-07T07:30Z");
	cr_expect_str_eq(boost, "0");
	free(boost);
	rc = h_admin(db, &out, &err, "policy", "timezone", "Europe/Berlin", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect(strstr(out, "UTC -> Europe/Berlin"), "stdout: %s", out);
	free(out);
	free(err);
	expect_value("SELECT time_zone FROM policy_settings", "Europe/Berlin");
	boost = training_boost_at("2026-01-07T07:30Z");
	cr_expect_str_eq(boost, "100");
	free(boost);

	rc = h_admin(db, &out, &err, "policy", "timezone", NULL);
	cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect_str_eq(out, "Europe/Berlin\n");
	free(out);
	free(err);
}

Test(policy_sql, admin_timezone_refuses_unknown_zones_by_name)
{
	char *out, *err;
	int rc;

	rc = h_admin(db, &out, &err, "policy", "timezone", "Europe/Berln", NULL);
	cr_expect_eq(rc, 1, "exit %d", rc);
	cr_expect_str_eq(err,
			 "cbqd admin: timezone: unknown zone 'Europe/Berln'; see pg_timezone_names\n");
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "policy", "timezone", "europe/berlin", NULL);
	cr_expect_eq(rc, 1, "exit %d", rc);
	cr_expect(strstr(err, "unknown zone 'europe/berlin'"), "stderr: %s", err);
	cr_expect(strstr(err, "did you mean Europe/Berlin?"), "stderr: %s", err);
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "policy", "timezone", "Europe/Berlin'; DROP TABLE jobs; --", NULL);
	cr_expect_eq(rc, 2, "exit %d", rc);
	cr_expect(strstr(err, "is not a zone name"), "stderr: %s", err);
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "policy", "timezone", "UTC", "extra", NULL);
	cr_expect_eq(rc, 2, "exit %d", rc);
	free(out);
	free(err);
	expect_value("SELECT time_zone FROM policy_settings", "UTC");
}

Test(policy_sql, admin_policy_ls_shows_windows_and_what_is_in_force)
{
	char *out, *err;
	int rc = h_admin(db, &out, &err, "policy", "ls", NULL);

	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect(strstr(out, "time zone: UTC"), "stdout: %s", out);
	cr_expect(strstr(out, "half-life 7 days"), "stdout: %s", out);
	cr_expect(strstr(out, "ID  KIND"), "no windows table: %s", out);
	cr_expect(strstr(out, "training   (UTC)  Mon-Fri  08:00  20:00  100"), "stdout: %s", out);
	cr_expect(strstr(out, "inference  (UTC)  Sat,Sun  00:00  00:00  100"), "stdout: %s", out);
	cr_expect(strstr(out, "in force now:\nKIND"), "stdout: %s", out);
	cr_expect(strstr(out, "\nresearch   0      1.000      a week or more"), "stdout: %s", out);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "policy", "frobnicate", NULL);
	cr_expect_eq(rc, 2);
	cr_expect(strstr(err, "unknown policy command frobnicate"), "stderr: %s", err);
	free(out);
	free(err);
}

/* ---- admin quota -------------------------------------------------------------------------- */

Test(policy_sql, admin_quota_set_ls_rm)
{
	char *out, *err;
	int rc;

	h_seed_teams(db);
	rc = h_admin(db, &out, &err, "quota", "set", "alpha", "p5.48xlarge", "8", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect(strstr(out, "at most 8 p5.48xlarge instances"), "stdout: %s", out);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "quota", "set", "alpha", "p5.48xlarge", "6", NULL);
	cr_assert_eq(rc, 0, "replace: exit %d: %s", rc, err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "quota", "set", "beta", "p4d.24xlarge", "0", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect(strstr(out, "may not use p4d.24xlarge"), "stdout: %s", out);
	free(out);
	free(err);
	expect_value("SELECT string_agg(team || ':' || instance_type || '=' || max_instances, ' '"
		     " ORDER BY team) FROM team_quotas",
		     "alpha:p5.48xlarge=6 beta:p4d.24xlarge=0");

	rc = h_admin(db, &out, &err, "quota", "ls", "--team", "alpha", NULL);
	cr_assert_eq(rc, 0, "exit %d: %s", rc, err);
	cr_expect(strncmp(out, "TEAM", 4) == 0, "no header: %s", out);
	cr_expect(strstr(out, "\nalpha  p5.48xlarge  6"), "stdout: %s", out);
	cr_expect_null(strstr(out, "beta"), "filter ignored: %s", out);
	free(out);
	free(err);

	rc = h_admin(db, &out, &err, "quota", "rm", "alpha", "p5.48xlarge", NULL);
	cr_expect_eq(rc, 0, "exit %d: %s", rc, err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "quota", "rm", "alpha", "p5.48xlarge", NULL);
	cr_expect_eq(rc, 1, "exit %d", rc);
	cr_expect(strstr(err, "team alpha has no quota on p5.48xlarge"), "stderr: %s", err);
	free(out);
	free(err);
	expect_value("SELECT count(*) FROM team_quotas", "1");
}

Test(policy_sql, admin_quota_refuses_bad_input_by_name)
{
	char *out, *err;
	int rc;

	rc = h_admin(db, &out, &err, "quota", "set", "ghost", "p5.48xlarge", "1", NULL);
	cr_expect_eq(rc, 1, "exit %d", rc);
	cr_expect(strstr(err, "no team named ghost; add it with `cbqd admin team add ghost`"),
		  "stderr: %s", err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "quota", "set", "alpha", "P5", "1", NULL);
	cr_expect_eq(rc, 2, "exit %d", rc);
	cr_expect(strstr(err, "INSTANCE_TYPE must look like p5.48xlarge, got P5"), "stderr: %s",
		  err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "quota", "set", "alpha", "p5.48xlarge", "100001", NULL);
	cr_expect_eq(rc, 2, "exit %d", rc);
	cr_expect(strstr(err, "N must be 0..100000"), "stderr: %s", err);
	free(out);
	free(err);
	rc = h_admin(db, &out, &err, "quota", "set", "alpha", "p5.48xlarge", NULL);
	cr_expect_eq(rc, 2, "exit %d", rc);
	cr_expect(strstr(err, "quota set needs TEAM INSTANCE_TYPE N"), "stderr: %s", err);
	free(out);
	free(err);
	expect_value("SELECT count(*) FROM team_quotas", "0");
}
