/*
 * The schema migrations compiled into this binary (sql/migrations/NNNN_*.sql),
 * the blocking runner behind `cbqd migrate`, and the asynchronous check
 * `cbqd serve` makes before it listens. Not a general SQL runner: it only
 * applies the embedded files, forward, in order.
 */
#ifndef CBQ_DB_MIGRATE_H
#define CBQ_DB_MIGRATE_H

#include "core/err.h"

struct db;

/* Latest version compiled into this binary (-1 when the embedded files are not
 * numbered 1..N), and the file name of version v ("0001_foundation.sql";
 * NULL when there is no such version). */
int db_migration_latest(void);
const char *db_migration_name(int version);

/*
 * Blocking (libpq's synchronous API): for the `cbqd migrate` command only,
 * never inside serve. Connects with conninfo ("" = libpq defaults and PG*
 * environment), creates schema_migrations if missing and applies each pending
 * migration in its own transaction under an advisory lock, so concurrent runs
 * apply each file once. Idempotent. Logs event=migration_applied per file.
 * On success *applied is the number of files applied by this call. On failure
 * err names the migration file and carries Postgres's message; nothing of
 * that file stays applied (earlier files do).
 */
enum cbq_err db_migrate(const char *conninfo, int *applied, struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * Asynchronous, for serve: compares schema_migrations with the compiled-in
 * list and calls done once, from the loop, with err NULL when they match.
 * Otherwise err says what to do: CBQ_ERR_CONFLICT when the schema is behind
 * (naming the first missing file) or newer than this cbqd, and the query's
 * own code (CBQ_ERR_UNAVAILABLE while Postgres is unreachable) otherwise.
 */
void db_schema_check(struct db *db, void (*done)(void *arg, const struct cbq_error *err),
		     void *arg);

#endif
