/* Allocations freed together; see arena.h. */
#include "core/arena.h"

#include <stdlib.h>
#include <string.h>

void *cbq_arena_alloc(struct cbq_arena *a, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		abort();
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void **ptrs = realloc(a->ptrs, cap * sizeof(*ptrs));
		if (!ptrs)
			abort();
		a->ptrs = ptrs;
		a->cap = cap;
	}
	a->ptrs[a->n++] = p;
	return p;
}

void cbq_arena_free(struct cbq_arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->ptrs[i]);
	free(a->ptrs);
	memset(a, 0, sizeof(*a));
}

char *cbq_arena_strdup(struct cbq_arena *a, const char *s)
{
	size_t n = strlen(s ? s : "");
	char *d = cbq_arena_alloc(a, n + 1, 1);

	memcpy(d, s ? s : "", n);
	return d;
}

const char **cbq_arena_split(struct cbq_arena *a, const char *s, char sep, size_t *n)
{
	size_t count = *s ? 1 : 0, k = 0;
	char seps[2] = { sep, '\0' };

	for (const char *p = s; *p; p++)
		count += *p == sep;
	const char **out = cbq_arena_alloc(a, count + 1, sizeof(*out));
	while (*s) {
		size_t len = strcspn(s, seps);
		char *item = cbq_arena_alloc(a, len + 1, 1);

		memcpy(item, s, len);
		out[k++] = item;
		s += len + (s[len] == sep);
	}
	*n = k;
	return out;
}
