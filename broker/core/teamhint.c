/*
 * Team hints (see teamhint.h): one slot per hash of the account id.
 */
#include "core/teamhint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "core/job.h"

enum { ACCOUNT_LEN = 12 };

struct slot {
	char account[ACCOUNT_LEN + 1]; /* "" = empty */
	char team[TEAMHINT_TEAM_MAX + 1];
};

struct teamhints {
	struct slot slots[TEAMHINT_SLOTS];
};

static size_t slot_index(const char *account)
{
	return (size_t)(cbq_fnv1a_str(CBQ_FNV1A_START, account) & (TEAMHINT_SLOTS - 1));
}

struct teamhints *teamhints_new(void)
{
	return cbq_xcalloc(1, sizeof(struct teamhints));
}

void teamhints_free(struct teamhints *h)
{
	free(h);
}

void teamhints_put(struct teamhints *h, const char *account, const char *team)
{
	struct slot *s;
	size_t n = strlen(team);

	if (!cbq_is_account_id(account) || n == 0 || n > TEAMHINT_TEAM_MAX)
		return;
	s = &h->slots[slot_index(account)];
	memcpy(s->account, account, ACCOUNT_LEN + 1);
	memcpy(s->team, team, n + 1);
}

bool teamhints_get(const struct teamhints *h, const char *account, char *team, size_t size)
{
	const struct slot *s;
	size_t n;

	if (!cbq_is_account_id(account))
		return false;
	s = &h->slots[slot_index(account)];
	if (strcmp(s->account, account) != 0)
		return false;
	n = strlen(s->team);
	if (n + 1 > size)
		return false;
	memcpy(team, s->team, n + 1);
	return true;
}

void teamhints_drop(struct teamhints *h, const char *account)
{
	struct slot *s;

	if (!cbq_is_account_id(account))
		return;
	s = &h->slots[slot_index(account)];
	if (strcmp(s->account, account) == 0)
		memset(s, 0, sizeof(*s));
}
