/*
 * Which team an account belonged to when cbq last looked: a hint that lets
 * a submit skip its own caller lookup, never an authority. Whoever uses a
 * hint has the write check it (the submit statement refuses a row whose
 * caller's account is no longer of that team) and looks again when it was
 * wrong. Direct-mapped and bounded: an account whose slot another takes
 * is simply looked up again. Pure.
 */
#ifndef CBQ_CORE_TEAMHINT_H
#define CBQ_CORE_TEAMHINT_H

#include <stdbool.h>
#include <stddef.h>

enum {
	TEAMHINT_SLOTS = 4096, /* a power of two */
	TEAMHINT_TEAM_MAX = 63,
};

struct teamhints;

struct teamhints *teamhints_new(void);
void teamhints_free(struct teamhints *h);

/* Remembers account (a 12-digit id) → team; a team longer than
 * TEAMHINT_TEAM_MAX or a malformed account is not remembered. */
void teamhints_put(struct teamhints *h, const char *account, const char *team);
/* Copies the hint for account into team (size >= TEAMHINT_TEAM_MAX + 1);
 * false when there is none. */
bool teamhints_get(const struct teamhints *h, const char *account, char *team, size_t size);
void teamhints_drop(struct teamhints *h, const char *account);

#endif
