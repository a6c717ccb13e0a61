/*
 * Asynchronous Postgres for the daemon: a small pool of libpq connections in
 * non-blocking mode, driven by the libevent loop. Callers hand in SQL and
 * text parameters and get one callback with the rows or an error. Nothing
 * above this module sees a PGconn or a PGresult. Never blocks.
 */
#ifndef CBQ_DB_DB_H
#define CBQ_DB_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct event_base;
struct db;
struct db_result;

struct db_config {
	const char *conninfo;  /* "" = libpq defaults and PG* environment */
	int pool_size;         /* connections, >= 1 */
	int queue_max;         /* queries waiting for a connection before CBQ_ERR_UNAVAILABLE */
};

/* A failed query: code is CBQ_ERR_UNAVAILABLE when Postgres cannot be reached
 * (connection lost, not connected yet, queue full), CBQ_ERR_CONFLICT for a
 * unique violation (23505), CBQ_ERR_INVALID for other integrity violations
 * (class 23) and bad input values (class 22), CBQ_ERR_INTERNAL otherwise.
 * err.msg is Postgres's primary message; constraint is set for class 23. */
struct db_error {
	struct cbq_error err;
	char sqlstate[6];
	char constraint[64];
};

/*
 * Called exactly once per query, always from the event loop and never from
 * inside db_query itself. On success err is NULL and res holds the rows of
 * the last statement; res and everything read from it are valid only during
 * the callback.
 */
typedef void db_done_fn(void *arg, const struct db_result *res,
			const struct db_error *err);

/* Starts connecting in the background and reconnects with backoff when a
 * connection drops. Returns NULL only on allocation failure or bad config. */
struct db *db_open(struct event_base *base, const struct db_config *cfg);
/* Cancels queued queries (their callbacks get CBQ_ERR_UNAVAILABLE) and
 * closes the connections. Accepts NULL. */
void db_close(struct db *db);
/* At least one connection is up. */
bool db_ready(const struct db *db);

/*
 * Runs sql (one statement; $1.. placeholders) with nparams text parameters;
 * a NULL value is SQL NULL. Parameters are copied; the caller may free them
 * on return. Values in lens (may be NULL) give lengths for binary-safe bytea
 * parameters: when lens[i] >= 0 the parameter is sent in binary format.
 * A statement on its own is its own transaction: when the callback sees
 * success, the change is committed.
 */
void db_query(struct db *db, const char *sql, int nparams,
	      const char *const *values, const int *lens, db_done_fn *done,
	      void *arg);

/*
 * db_query for a hot statement: each connection prepares sql under name the
 * first time it runs it (one extra round trip), then only binds and
 * executes, with no parse or plan. name must outlive db (a string literal)
 * and stand for one sql text; a new connection prepares again.
 */
void db_query_prepared(struct db *db, const char *name, const char *sql, int nparams,
		       const char *const *values, const int *lens, db_done_fn *done,
		       void *arg);

/*
 * db_query that takes the next free connection, ahead of every query
 * waiting for one: for a read that stands between a decision and its effect
 * (the launcher's outbox), which a burst of single-row writes (one launch
 * outcome per RunInstances reply) would otherwise hold up for hundreds of
 * milliseconds. It may run before queries submitted earlier, so it must not
 * depend on seeing their writes; the caller keeps at most one in line, so
 * nothing else waits more than one such query for it.
 */
void db_query_first(struct db *db, const char *sql, int nparams, const char *const *values,
		    const int *lens, db_done_fn *done, void *arg);

/*
 * db_query for the leader's background work (the scheduling cycle's
 * snapshot and verdicts): it waits behind every other query and never takes
 * more than pool_size - DB_FOREGROUND_RESERVE connections (at least one),
 * so a cycle reading 100,000 queued jobs never makes a submit wait for a
 * connection.
 */
enum { DB_FOREGROUND_RESERVE = 2 };
void db_query_background(struct db *db, const char *sql, int nparams,
			 const char *const *values, const int *lens, db_done_fn *done,
			 void *arg);

/* Keeps res past its callback, for reading on any thread (an answered
 * result is read-only and apart from its connection) without copying it;
 * the caller frees the copy with db_result_free. */
struct db_result *db_result_keep(const struct db_result *res);
void db_result_free(struct db_result *res);

int db_rows(const struct db_result *res);
int db_cols(const struct db_result *res);
/* Column index by name, -1 when absent. */
int db_col(const struct db_result *res, const char *name);
/* Text value ("" for NULL); bytea columns come back in Postgres's hex text form
 * unless selected with encode(). */
const char *db_get(const struct db_result *res, int row, int col);
int db_len(const struct db_result *res, int row, int col);
bool db_is_null(const struct db_result *res, int row, int col);

/* A libpq message as one line for logs and replies: without its "ERROR:  "
 * or "FATAL:  " prefix, cut at the first newline, tabs as spaces. */
void db_message_line(char *dst, size_t size, const char *src);

#endif
