/*
 * Postgres array literals built in C (see pgarray.h): the text form
 * {"a","b"} that a statement takes as one parameter and unnests.
 */
#include "db/pgarray.h"

#include <string.h>

#include "core/alloc.h"

void db_arr_put(struct db_arr *a, const char *s, size_t n)
{
	if (a->len + n + 1 > a->cap) {
		a->cap = (a->len + n + 1) * 2;
		a->p = cbq_xrealloc(a->p, a->cap, 1);
	}
	memcpy(a->p + a->len, s, n);
	a->len += n;
	a->p[a->len] = '\0';
}

/* Appends one element, quoted, with " and \ escaped. */
void db_arr_add(struct db_arr *a, const char *s, size_t n)
{
	db_arr_put(a, a->len ? ",\"" : "{\"", 2);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			db_arr_put(a, "\\", 1);
		db_arr_put(a, &s[i], 1);
	}
	db_arr_put(a, "\"", 1);
}

void db_arr_add_str(struct db_arr *a, const char *s)
{
	db_arr_add(a, s ? s : "", s ? strlen(s) : 0);
}

void db_arr_add_hex(struct db_arr *a, const uint8_t *b, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char pair[2];

	db_arr_put(a, a->len ? ",\"" : "{\"", 2);
	for (size_t i = 0; i < n; i++) {
		pair[0] = digits[b[i] >> 4];
		pair[1] = digits[b[i] & 15];
		db_arr_put(a, pair, 2);
	}
	db_arr_put(a, "\"", 1);
}

void db_arr_end(struct db_arr *a)
{
	if (a->len == 0)
		db_arr_put(a, "{", 1);
	db_arr_put(a, "}", 1);
}
