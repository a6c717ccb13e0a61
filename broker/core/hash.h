/*
 * FNV-1a, 64-bit: the one string hash of cbq's in-memory tables (interned
 * names, team hints, verdict memos, same-key submits). Not for anything
 * stored or sent: values may change between builds. Pure.
 */
#ifndef CBQ_CORE_HASH_H
#define CBQ_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define CBQ_FNV1A_START 1469598103934665603ULL

/* h extended with the n bytes at p. */
static inline uint64_t cbq_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* h extended with the bytes of s up to its NUL. */
static inline uint64_t cbq_fnv1a_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

#endif
