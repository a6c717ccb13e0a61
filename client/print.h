/*
 * How the CLI shows things to people: aligned tables, "key: value" lines,
 * times, state names, and text from the server made safe for a terminal;
 * for -o json it hands the message to pbjson.
 */
#ifndef CBQ_CLIENT_PRINT_H
#define CBQ_CLIENT_PRINT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum {
	CLI_TABLE_COLS_MAX = 16,
	CLI_TIME_BUF = 32,
	CLI_NAME_BUF = 64,
	CLI_TRUNCATE_MIN = 16, /* never cut the last column shorter than this */
};

/* Allocation that cannot fail: prints "cbq: out of memory" and aborts. */
void *cli_xrealloc(void *p, size_t size);
char *cli_xstrdup(const char *s);

/*
 * A copy of s (NULL → "") that a terminal shows as text: control bytes,
 * C1 controls and invalid UTF-8 become '?'. malloc'd; the caller frees.
 */
char *cli_clean(const char *s);

/* Number of terminal columns s takes, counting UTF-8 code points. */
size_t cli_text_width(const char *s);

/* "2026-11-23 14:05Z" for Unix milliseconds; "-" for 0. Returns buf. */
const char *cli_time(int64_t ms, char *buf, size_t size);

/*
 * An enum value's name for people: prefix dropped, lower case, '_' as sep:
 * (JobState, 7, "JOB_STATE_", '_') → "timed_out"; (BlockState, 1,
 * "BLOCK_STATE_", '-') → "payment-pending". Unknown values print as their
 * number. Returns buf.
 */
const char *cli_enum_name(const ProtobufCEnumDescriptor *d, int value, const char *prefix,
			  char sep, char *buf, size_t size);

/* A table of text cells, printed with columns aligned. */
struct cli_table {
	size_t n_cols;
	const char *headers[CLI_TABLE_COLS_MAX];
	char **cells; /* n_rows * n_cols cleaned copies */
	size_t n_rows;
};

/* headers: n_cols strings that outlive the table (literals). */
void cli_table_init(struct cli_table *t, size_t n_cols, const char *const *headers);
/* Copies n_cols cells (NULL or "" print as "-"), cleaned. */
void cli_table_add(struct cli_table *t, const char *const *cells);
/*
 * Prints headers and rows to f, two spaces between columns. With width > 0
 * (stdout is a terminal that wide) the last column is cut with "…" so lines
 * fit, but never below CLI_TRUNCATE_MIN columns; with 0 nothing is cut.
 */
void cli_table_print(const struct cli_table *t, FILE *f, int width);
void cli_table_free(struct cli_table *t);

/* "key:" padded to a common width, then value cleaned; nothing when value
 * is NULL or empty. */
void cli_kv(FILE *f, const char *key, const char *value);

/* -o json: msg as proto3 JSON and a newline on stdout. Returns false (after
 * saying so on stderr) when it cannot be encoded. */
bool cli_print_json(const ProtobufCMessage *msg);

#endif
