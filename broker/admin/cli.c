/*
 * Shared plumbing of the admin commands (see cli.h): options, connection,
 * error sentences, tables. Blocking libpq is fine here: these commands run
 * on a terminal, never in the daemon.
 */
#include "admin/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void vsay(const struct admin_ctx *ctx, const char *fmt, va_list ap) CBQ_PRINTF(2, 0);

static void vsay(const struct admin_ctx *ctx, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", ctx->prog ? ctx->prog : "cbqd admin");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int admin_usage_error(const struct admin_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(ctx, fmt, ap);
	va_end(ap);
	if (ctx->usage)
		fputs(ctx->usage, stderr);
	return ADMIN_USAGE;
}

int admin_fail(const struct admin_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(ctx, fmt, ap);
	va_end(ap);
	return ADMIN_FAILED;
}

static struct admin_flag *find_flag(struct admin_flag *flags, size_t nflags, const char *name,
				    size_t len)
{
	for (size_t i = 0; i < nflags; i++)
		if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
			return &flags[i];
	return NULL;
}

int admin_parse(struct admin_ctx *ctx, int argc, char **argv, struct admin_flag *flags,
		size_t nflags, const char **pos, int max_pos, int *npos)
{
	bool only_pos = false;
	bool db_seen = false;

	*npos = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq, *value;
		struct admin_flag *f;
		size_t len;

		if (strlen(a) > ADMIN_ARG_MAX)
			return admin_usage_error(ctx, "argument %d is longer than %d bytes", i + 1,
						 ADMIN_ARG_MAX);
		if (only_pos || a[0] != '-' || a[1] == '\0') {
			if (*npos >= max_pos)
				return admin_usage_error(ctx, "unexpected argument %.80s", a);
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(ctx->usage ? ctx->usage : "", stdout);
			return ADMIN_HELP;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		if (len == 4 && strncmp(a, "--db", 4) == 0) {
			f = NULL;
		} else {
			f = find_flag(flags, nflags, a, len);
			if (!f)
				return admin_usage_error(ctx, "unknown option %.*s",
							 (int)(len > 80 ? 80 : len), a);
		}
		if (eq) {
			value = eq + 1;
		} else {
			if (i + 1 >= argc)
				return admin_usage_error(ctx, "%.*s needs a value", (int)len, a);
			value = argv[++i];
			if (strlen(value) > ADMIN_ARG_MAX)
				return admin_usage_error(ctx, "%.*s is longer than %d bytes",
							 (int)len, a, ADMIN_ARG_MAX);
		}
		if (!f) {
			if (db_seen)
				return admin_usage_error(ctx, "--db given twice");
			db_seen = true;
			ctx->conninfo = value;
			continue;
		}
		if (f->value)
			return admin_usage_error(ctx, "%s given twice", f->name);
		f->value = value;
	}
	return ADMIN_OK;
}

const char *admin_flag(const struct admin_flag *flags, size_t nflags, const char *name)
{
	for (size_t i = 0; i < nflags; i++)
		if (strcmp(flags[i].name, name) == 0)
			return flags[i].value;
	return NULL;
}

/* ---- Postgres ------------------------------------------------------------ */

static void first_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	for (; src && *src && *src != '\n' && n + 1 < size; src++)
		dst[n++] = *src == '\t' ? ' ' : *src;
	dst[n] = '\0';
}

static void quiet_notices(void *arg, const char *message)
{
}

bool admin_connect(struct admin_ctx *ctx)
{
	const char *keys[] = { "fallback_application_name", "dbname", NULL };
	const char *vals[] = { "cbqd-admin", ctx->conninfo ? ctx->conninfo : "", NULL };
	char msg[300];

	ctx->pg = PQconnectdbParams(keys, vals, 1);
	if (!ctx->pg)
		abort();
	if (PQstatus(ctx->pg) != CONNECTION_OK) {
		/* libpq's message names host and port, never the password */
		first_line(msg, sizeof(msg), PQerrorMessage(ctx->pg));
		admin_fail(ctx, "cannot connect to Postgres: %s", msg);
		admin_disconnect(ctx);
		return false;
	}
	PQsetNoticeProcessor(ctx->pg, quiet_notices, NULL);
	return true;
}

void admin_disconnect(struct admin_ctx *ctx)
{
	PQfinish(ctx->pg);
	ctx->pg = NULL;
}

/* The rule a CHECK constraint states, read from the catalog so that the
 * message stays right when a migration changes the rule. */
static void report_check(struct admin_ctx *ctx, const char *table, const char *constraint,
			 const char *msg)
{
	const char *vals[] = { constraint, table };
	PGresult *r;

	r = PQexecParams(ctx->pg,
			 "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c "
			 "WHERE c.conname = $1 AND c.conrelid = to_regclass($2)",
			 2, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		admin_fail(ctx, "%s value breaks the rule %s (constraint %s)", table,
			   PQgetvalue(r, 0, 0), constraint);
	else
		admin_fail(ctx, "%s", msg);
	PQclear(r);
}

static void report(struct admin_ctx *ctx, const PGresult *r, const struct admin_hints *h)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *con = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	const char *table = PQresultErrorField(r, PG_DIAG_TABLE_NAME);
	const char *column = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
	const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	char msg[300];

	first_line(msg, sizeof(msg), primary ? primary : PQerrorMessage(ctx->pg));
	if (!st)
		st = "";
	if (PQstatus(ctx->pg) == CONNECTION_BAD)
		admin_fail(ctx, "lost connection to Postgres: %s", msg);
	else if (strcmp(st, "23505") == 0 && h && h->unique)
		admin_fail(ctx, "%s", h->unique);
	else if (strcmp(st, "23503") == 0 && h && h->foreign)
		admin_fail(ctx, "%s", h->foreign);
	else if (strncmp(st, "22", 2) == 0 && h && h->invalid)
		admin_fail(ctx, "%s: %s", h->invalid, msg);
	else if (strcmp(st, "23514") == 0 && con && table)
		report_check(ctx, table, con, msg);
	else if (strcmp(st, "23502") == 0 && table && column)
		admin_fail(ctx, "%s.%s must be set", table, column);
	else if (strcmp(st, "42P01") == 0 || strcmp(st, "42883") == 0)
		admin_fail(ctx,
			   "%s: this database has no cbq schema yet or an old one; run "
			   "`cbqd migrate --db ...` first",
			   msg);
	else if (strcmp(st, "42501") == 0)
		admin_fail(ctx, "%s: connect as a role allowed to change cbq's tables", msg);
	else
		admin_fail(ctx, "%s", msg);
}

PGresult *admin_exec(struct admin_ctx *ctx, const char *sql, int n, const char *const *values,
		     const struct admin_hints *hints)
{
	PGresult *r = PQexecParams(ctx->pg, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return r;
	/* an aborted transaction would refuse the catalog lookup in report() */
	if (PQtransactionStatus(ctx->pg) == PQTRANS_INERROR ||
	    PQtransactionStatus(ctx->pg) == PQTRANS_INTRANS)
		PQclear(PQexecParams(ctx->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
	report(ctx, r, hints);
	PQclear(r);
	return NULL;
}

/* Display width: UTF-8 characters, not bytes. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void admin_print_table(const PGresult *r)
{
	int cols = PQnfields(r), rows = PQntuples(r);
	size_t *w = calloc((size_t)(cols ? cols : 1), sizeof(*w));

	if (!w)
		abort();
	for (int c = 0; c < cols; c++) {
		w[c] = width(PQfname(r, c));
		for (int i = 0; i < rows; i++) {
			size_t x = width(PQgetvalue(r, i, c));

			if (x > w[c])
				w[c] = x;
		}
	}
	for (int c = 0; c < cols; c++) {
		const char *name = PQfname(r, c);

		for (const char *p = name; *p; p++)
			putchar(toupper((unsigned char)*p));
		if (c + 1 < cols)
			printf("%*s", (int)(w[c] - width(name) + 2), "");
	}
	putchar('\n');
	for (int i = 0; i < rows; i++) {
		for (int c = 0; c < cols; c++) {
			const char *v = PQgetvalue(r, i, c);

			fputs(v, stdout);
			if (c + 1 < cols)
				printf("%*s", (int)(w[c] - width(v) + 2), "");
		}
		putchar('\n');
	}
	free(w);
}

/* ---- input checks -------------------------------------------------------- */

bool admin_is_team_name(const char *s)
{
	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	return admin_chars(s + 1, 0, 62, false, "abcdefghijklmnopqrstuvwxyz0123456789_-");
}

bool admin_is_account_id(const char *s)
{
	return admin_chars(s, 12, 12, false, "0123456789");
}

bool admin_parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || strlen(s) > 20)
		return false;
	v = strtol(s, &end, 10);
	if (*end || isspace((unsigned char)*s) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool admin_chars(const char *s, size_t min, size_t max, bool alnum, const char *allowed)
{
	size_t n = 0;

	for (; s && *s; s++, n++) {
		unsigned char c = (unsigned char)*s;

		if (alnum && c < 0x80 && isalnum(c))
			continue;
		if (!strchr(allowed, c))
			return false;
	}
	return s && n >= min && n <= max;
}
