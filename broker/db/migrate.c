/*
 * Schema migrations: the files of sql/migrations embedded at build time, the
 * blocking runner for `cbqd migrate` (libpq's synchronous API, one
 * transaction per file) and serve's asynchronous "is the schema current"
 * check over the pool. It does not write migrations or roll them back:
 * migrations are forward-only.
 */
#include "db/migrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/db.h"
#include "util/log.h"

/* Defined by the file cmake/embed.cmake generates from sql/migrations. */
struct cbq_embedded {
	const char *name;
	const char *text;
};
extern const struct cbq_embedded cbq_migrations[];

/*
 * Serialises concurrent `cbqd migrate` runs (pg_advisory_xact_lock, released
 * at each COMMIT). Any other advisory lock cbq takes (leader election) must
 * use a different key.
 */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(7164293180001)"
#define BEHIND_HINT "run `cbqd migrate --db ...`"

/* "0007_name.sql" → 7; -1 when the name is not NNNN_[a-z0-9_]+.sql. */
static int version_of(const char *name)
{
	size_t len = strlen(name);
	int v = 0;

	if (len < 10 || name[4] != '_' || strcmp(name + len - 4, ".sql") != 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	for (size_t i = 5; i < len - 4; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return -1;
	}
	return v;
}

/* The embedded list must be versions 1..N in order: a gap or a duplicate is a
 * build mistake that would otherwise skip or repeat a schema change. */
static enum cbq_err check_embedded(int *latest, struct cbq_error *err)
{
	int n = 0;

	for (; cbq_migrations[n].name; n++) {
		if (version_of(cbq_migrations[n].name) != n + 1)
			return cbq_fail(err, CBQ_ERR_INTERNAL, NULL,
					"embedded migrations are broken: %s should be numbered %04d "
					"(files must be NNNN_name.sql, numbered 1..N without gaps)",
					cbq_migrations[n].name, n + 1);
	}
	if (n == 0)
		return cbq_fail(err, CBQ_ERR_INTERNAL, NULL, "no migrations embedded in this cbqd");
	*latest = n;
	return CBQ_OK;
}

int db_migration_latest(void)
{
	int latest;

	if (check_embedded(&latest, NULL))
		return -1;
	return latest;
}

const char *db_migration_name(int version)
{
	int latest = db_migration_latest();

	if (version < 1 || version > latest)
		return NULL;
	return cbq_migrations[version - 1].name;
}

/* ---- the blocking runner ------------------------------------------------ */

static void notice_to_log(void *arg, const char *message)
{
	char line[240], q[300];

	db_message_line(line, sizeof(line), message);
	cbq_log(CBQ_LOG_DEBUG, "db_notice", "msg=%s", cbq_log_quote(q, sizeof(q), line));
}

/* Postgres's primary message for a failed result (or the connection's). */
static void pg_message(PGconn *pg, const PGresult *r, char *buf, size_t size)
{
	const char *m = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	db_message_line(buf, size, m ? m : PQerrorMessage(pg));
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
}

/* Runs one bookkeeping statement; *out (may be NULL) gets the result. */
static enum cbq_err run(PGconn *pg, const char *sql, int n, const char *const *vals, PGresult **out,
			struct cbq_error *err)
{
	PGresult *r = PQexecParams(pg, sql, n, NULL, vals, NULL, NULL, 0);
	char msg[200];

	if (!result_ok(r)) {
		pg_message(pg, r, msg, sizeof(msg));
		PQclear(r);
		return cbq_fail(err,
				PQstatus(pg) == CONNECTION_BAD ? CBQ_ERR_UNAVAILABLE :
								 CBQ_ERR_INTERNAL,
				NULL, "migrate: %s", msg);
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return CBQ_OK;
}

static void rollback(PGconn *pg)
{
	if (PQtransactionStatus(pg) != PQTRANS_IDLE)
		PQclear(PQexecParams(pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
}

/* The line of text that the 1-based character position pos falls on. */
static int line_at(const char *text, long pos)
{
	int line = 1;
	long chars = 0;

	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue; /* UTF-8 continuation byte: same character */
		if (++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Applies version v unless it is recorded; *did says whether it ran. */
static enum cbq_err apply_one(PGconn *pg, int v, bool *did, struct cbq_error *err)
{
	const struct cbq_embedded *m = &cbq_migrations[v - 1];
	char vtext[16], msg[200];
	const char *params[2] = { vtext, m->name };
	PGresult *r = NULL;
	enum cbq_err rc;

	*did = false;
	snprintf(vtext, sizeof(vtext), "%d", v);
	rc = run(pg, "BEGIN", 0, NULL, NULL, err);
	if (rc)
		goto out;
	rc = run(pg, MIGRATE_LOCK_SQL, 0, NULL, NULL, err);
	if (rc)
		goto out;
	rc = run(pg, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1, params, &r, err);
	if (rc)
		goto out;
	if (PQntuples(r) > 0) {
		rc = run(pg, "COMMIT", 0, NULL, NULL, err);
		goto out;
	}
	PQclear(r);

	/* the file may hold many statements: the simple-query protocol runs them all */
	r = PQexec(pg, m->text);
	if (!result_ok(r)) {
		const char *pos = r ? PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;

		pg_message(pg, r, msg, sizeof(msg));
		if (pos)
			rc = cbq_fail(err, CBQ_ERR_INTERNAL, NULL,
				      "migration %s failed at line %d: %s; nothing of it was applied",
				      m->name, line_at(m->text, strtol(pos, NULL, 10)), msg);
		else
			rc = cbq_fail(err, CBQ_ERR_INTERNAL, NULL,
				      "migration %s failed: %s; nothing of it was applied", m->name,
				      msg);
		goto out;
	}
	if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, NULL,
			      "migration %s ends the transaction it runs in: remove BEGIN/COMMIT "
			      "from it (cbqd migrate runs each file in one transaction)",
			      m->name);
		goto out;
	}
	rc = run(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2)", 2,
		 params, NULL, err);
	if (rc)
		goto out;
	rc = run(pg, "COMMIT", 0, NULL, NULL, err);
	if (rc)
		goto out;
	*did = true;
	cbq_log(CBQ_LOG_INFO, "migration_applied", "version=%d name=%s", v, m->name);
out:
	PQclear(r);
	if (rc)
		rollback(pg);
	return rc;
}

enum cbq_err db_migrate(const char *conninfo, int *applied, struct cbq_error *err)
{
	const char *keys[] = { "fallback_application_name", "dbname", NULL };
	const char *vals[] = { "cbqd-migrate", conninfo ? conninfo : "", NULL };
	PGconn *pg = NULL;
	PGresult *r = NULL;
	int latest, n = 0, have;
	char msg[200];
	enum cbq_err rc;

	rc = check_embedded(&latest, err);
	if (rc)
		goto out;
	pg = PQconnectdbParams(keys, vals, 1);
	if (!pg)
		abort();
	if (PQstatus(pg) != CONNECTION_OK) {
		db_message_line(msg, sizeof(msg), PQerrorMessage(pg));
		rc = cbq_fail(err, CBQ_ERR_UNAVAILABLE, NULL, "cannot connect to Postgres: %s",
			      msg);
		goto out;
	}
	PQsetNoticeProcessor(pg, notice_to_log, NULL);

	/* under the lock, so that two first runs do not race to create it */
	rc = run(pg, "BEGIN", 0, NULL, NULL, err);
	if (!rc)
		rc = run(pg, MIGRATE_LOCK_SQL, 0, NULL, NULL, err);
	if (!rc)
		rc = run(pg,
			 "CREATE TABLE IF NOT EXISTS schema_migrations ("
			 " version int PRIMARY KEY,"
			 " name text NOT NULL,"
			 " applied_at timestamptz NOT NULL DEFAULT now())",
			 0, NULL, NULL, err);
	if (!rc)
		rc = run(pg, "COMMIT", 0, NULL, NULL, err);
	if (!rc)
		rc = run(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, &r,
			 err);
	if (rc) {
		rollback(pg);
		goto out;
	}
	have = atoi(PQgetvalue(r, 0, 0));
	if (have > latest) {
		rc = cbq_fail(err, CBQ_ERR_CONFLICT, NULL,
			      "database schema is newer (%d) than this cbqd (%d); upgrade cbqd",
			      have, latest);
		goto out;
	}
	for (int v = 1; v <= latest; v++) {
		bool did;

		rc = apply_one(pg, v, &did, err);
		if (rc)
			goto out;
		n += did;
	}
	*applied = n;
out:
	PQclear(r);
	PQfinish(pg);
	return rc;
}

/* ---- serve's check ---------------------------------------------------- */

struct schema_check {
	void (*done)(void *arg, const struct cbq_error *err);
	void *arg;
};

static enum cbq_err compare(const struct db_result *r, struct cbq_error *err)
{
	int latest, newest = 0, rows = db_rows(r);
	bool *seen = NULL;
	enum cbq_err rc;

	rc = check_embedded(&latest, err);
	if (rc)
		return rc;
	seen = calloc((size_t)latest + 1, sizeof(*seen));
	if (!seen)
		abort();
	for (int i = 0; i < rows; i++) {
		int v = atoi(db_get(r, i, 0));
		const char *name = db_get(r, i, 1);

		if (v > newest)
			newest = v;
		if (v < 1 || v > latest)
			continue;
		if (strcmp(name, cbq_migrations[v - 1].name) != 0) {
			rc = cbq_fail(err, CBQ_ERR_CONFLICT, NULL,
				      "database schema differs: migration %d was applied as %.80s, "
				      "this cbqd has %s",
				      v, name, cbq_migrations[v - 1].name);
			goto out;
		}
		seen[v] = true;
	}
	if (newest > latest) {
		rc = cbq_fail(err, CBQ_ERR_CONFLICT, NULL,
			      "database schema is newer (%d) than this cbqd (%d); upgrade cbqd",
			      newest, latest);
		goto out;
	}
	for (int v = 1; v <= latest; v++) {
		if (!seen[v]) {
			rc = cbq_fail(err, CBQ_ERR_CONFLICT, NULL,
				      "database schema is behind: migration %s is not applied; "
				      "%s",
				      cbq_migrations[v - 1].name, BEHIND_HINT);
			goto out;
		}
	}
out:
	free(seen);
	return rc;
}

static void check_done(void *arg, const struct db_result *r, const struct db_error *e)
{
	struct schema_check *sc = arg;
	struct cbq_error err = { 0 };
	enum cbq_err rc;

	if (e && strcmp(e->sqlstate, "42P01") == 0) {
		/* no schema_migrations: nothing was ever migrated here */
		rc = cbq_fail(&err, CBQ_ERR_CONFLICT, NULL,
			      "database schema is behind: table schema_migrations is missing "
			      "(migration %s is not applied); %s",
			      db_migration_name(1) ? db_migration_name(1) : "0001", BEHIND_HINT);
	} else if (e) {
		rc = cbq_fail(&err, e->err.code, NULL, "cannot check the database schema: %s",
			      e->err.msg);
	} else {
		rc = compare(r, &err);
	}
	sc->done(sc->arg, rc ? &err : NULL);
	free(sc);
}

void db_schema_check(struct db *db, void (*done)(void *arg, const struct cbq_error *err), void *arg)
{
	struct schema_check *sc = calloc(1, sizeof(*sc));

	if (!sc)
		abort();
	sc->done = done;
	sc->arg = arg;
	db_query(db, "SELECT version, name FROM schema_migrations ORDER BY version", 0, NULL, NULL,
		 check_done, sc);
}
