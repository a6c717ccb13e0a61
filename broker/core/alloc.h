/*
 * Small allocations that cannot fail: running out of memory aborts, in one
 * place (STYLE.md rule 13). Sizes chosen by input are capped before they get
 * here; this is not a place to handle them.
 */
#ifndef CBQ_CORE_ALLOC_H
#define CBQ_CORE_ALLOC_H

#include <stddef.h>

void *cbq_xmalloc(size_t n);
void *cbq_xcalloc(size_t n, size_t size);
/* n * size bytes (at least 1), checked for overflow. */
void *cbq_xrealloc(void *p, size_t n, size_t size);
/* NULL for NULL. */
char *cbq_xstrdup(const char *s);
/* The first n bytes of s (which need not be NUL-terminated) plus a NUL. */
char *cbq_xstrndup(const char *s, size_t n);
/* Zeroes a NUL-terminated secret before freeing it; NULL is fine. */
void cbq_wipe_free(char *s);

#endif
