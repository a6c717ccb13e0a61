/*
 * What the admin commands share (internal to broker/admin): option parsing,
 * the blocking Postgres connection, turning Postgres errors into sentences a
 * platform engineer can act on, aligned tables, and input checks. Not a
 * general CLI library.
 */
#ifndef CBQ_ADMIN_CLI_H
#define CBQ_ADMIN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <libpq-fe.h>

#include "core/err.h"

/* Exit codes, and ADMIN_HELP: --help was printed, exit 0. */
enum { ADMIN_OK = 0, ADMIN_FAILED = 1, ADMIN_USAGE = 2, ADMIN_HELP = 3 };

/* Longest argument accepted on the command line. */
enum { ADMIN_ARG_MAX = 4096 };

struct admin_ctx {
	const char *prog;     /* "cbqd admin", "cbqd migrate": prefixes every message */
	const char *conninfo; /* --db; "" = libpq defaults and PG* environment */
	const char *usage;    /* of the command being run, printed on usage errors */
	PGconn *pg;
};

struct admin_flag {
	const char *name;  /* "--team" */
	const char *value; /* after parsing: the value, NULL when not given */
};

/*
 * Parses options (each takes a value, as "--x v" or "--x=v") and up to
 * max_pos positional arguments. --db is accepted everywhere and sets
 * ctx->conninfo; --help prints ctx->usage on stdout and returns ADMIN_HELP.
 * Other problems print a message and the usage on stderr: ADMIN_USAGE.
 */
int admin_parse(struct admin_ctx *ctx, int argc, char **argv, struct admin_flag *flags,
		size_t nflags, const char **pos, int max_pos, int *npos);
/* The value of flag name in flags (NULL when absent). */
const char *admin_flag(const struct admin_flag *flags, size_t nflags, const char *name);

/* "cbqd admin: <message>" and the usage on stderr; returns ADMIN_USAGE. */
int admin_usage_error(const struct admin_ctx *ctx, const char *fmt, ...) CBQ_PRINTF(2, 3);
/* "cbqd admin: <message>" on stderr; returns ADMIN_FAILED. */
int admin_fail(const struct admin_ctx *ctx, const char *fmt, ...) CBQ_PRINTF(2, 3);

/* Connects ctx->pg; on failure says why and returns false. */
bool admin_connect(struct admin_ctx *ctx);
void admin_disconnect(struct admin_ctx *ctx);

/* What a failed statement means to the person typing, by SQLSTATE class. */
struct admin_hints {
	const char *unique;  /* 23505: "team alpha already exists" */
	const char *foreign; /* 23503: "no team named x; add it with ..." */
	const char *invalid; /* class 22 (a value Postgres cannot read) */
};

/*
 * Runs one statement with text parameters (NULL = SQL NULL). Returns the
 * result (caller PQclears) on success. On failure rolls back an open
 * transaction, prints the error (hints first, then a rule for CHECK
 * violations, then Postgres's message) and returns NULL.
 */
PGresult *admin_exec(struct admin_ctx *ctx, const char *sql, int n, const char *const *values,
		     const struct admin_hints *hints);

/* Prints r as an aligned table: upper-cased column names, then the rows. */
void admin_print_table(const PGresult *r);

/* Input checks, before anything touches the database. */
bool admin_is_account_id(const char *s);
/* As teams.name requires: 1-63 of a-z 0-9 _ -, starting with a letter or digit. */
bool admin_is_team_name(const char *s);
/* s is a whole decimal number within [min, max]. */
bool admin_parse_int(const char *s, long min, long max, long *out);
/* Every byte of s is in allowed (or an ASCII letter or digit when
 * alnum) and its length is within [min, max]. */
bool admin_chars(const char *s, size_t min, size_t max, bool alnum, const char *allowed);

#endif
