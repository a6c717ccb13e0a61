/* Allocation that aborts on exhaustion; see alloc.h. */
#include "core/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *need(void *p)
{
	if (!p)
		abort();
	return p;
}

void *cbq_xmalloc(size_t n)
{
	return need(malloc(n ? n : 1));
}

void *cbq_xcalloc(size_t n, size_t size)
{
	return need(calloc(n ? n : 1, size ? size : 1));
}

void *cbq_xrealloc(void *p, size_t n, size_t size)
{
	size_t bytes;

	if (size && n > SIZE_MAX / size)
		abort();
	bytes = n * size;
	return need(realloc(p, bytes ? bytes : 1));
}

char *cbq_xstrdup(const char *s)
{
	return s ? need(strdup(s)) : NULL;
}

char *cbq_xstrndup(const char *s, size_t n)
{
	char *d;

	n = strnlen(s, n); /* never read past s's end */
	d = cbq_xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void cbq_wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}
