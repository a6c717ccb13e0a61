/*
 * A bag of allocations freed together: what a reply or a decoded result
 * needs for as long as one callback runs. Not a general allocator; sizes
 * that input controls are capped by whoever asks.
 */
#ifndef CBQ_CORE_ARENA_H
#define CBQ_CORE_ARENA_H

#include <stddef.h>

struct cbq_arena {
	void **ptrs;
	size_t n, cap;
};

/* n zeroed elements of size bytes; aborts when memory runs out. */
void *cbq_arena_alloc(struct cbq_arena *a, size_t n, size_t size);
/* A copy of s in the arena ("" for NULL). */
char *cbq_arena_strdup(struct cbq_arena *a, const char *s);
/* Splits "a,b,c" at sep into arena copies (no empty items at the ends: ""
 * gives none); *n gets how many. */
const char **cbq_arena_split(struct cbq_arena *a, const char *s, char sep, size_t *n);
/* Frees everything and leaves the arena empty and reusable. */
void cbq_arena_free(struct cbq_arena *a);

#endif
