/*
 * A Postgres array literal being built, {"a","b"}, for statements that take
 * a whole batch as one text[] parameter each (submits, caller lookups).
 * Every element is quoted with " and \ escaped, so any text goes in.
 */
#ifndef CBQ_DB_PGARRAY_H
#define CBQ_DB_PGARRAY_H

#include <stddef.h>
#include <stdint.h>

/* Zero-initialise; p is malloc'd (free it) and NUL-terminated once used. */
struct db_arr {
	char *p;
	size_t len, cap;
};

/* Raw text, no quoting (the caller's braces and commas). */
void db_arr_put(struct db_arr *a, const char *s, size_t n);
/* One element: s[0..n), quoted and escaped. */
void db_arr_add(struct db_arr *a, const char *s, size_t n);
/* One element from a string (NULL: ""). */
void db_arr_add_str(struct db_arr *a, const char *s);
/* One element: b[0..n) as lower-case hex (for decode(..., 'hex')). */
void db_arr_add_hex(struct db_arr *a, const uint8_t *b, size_t n);
/* Closes the literal ({} when empty). */
void db_arr_end(struct db_arr *a);

#endif
