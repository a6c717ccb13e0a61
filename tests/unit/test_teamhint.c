/*
 * Team hints (broker/core/teamhint.h): what is put is got back, a drop or a
 * colliding account forgets, and malformed input is never remembered.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/teamhint.h"

static struct teamhints *h;

static void setup(void)
{
	h = teamhints_new();
}

static void teardown(void)
{
	teamhints_free(h);
}

TestSuite(teamhint, .init = setup, .fini = teardown);

Test(teamhint, put_get_replace_drop)
{
	char team[TEAMHINT_TEAM_MAX + 1];

	cr_assert_not(teamhints_get(h, "111111111111", team, sizeof(team)));
	teamhints_put(h, "111111111111", "ml-research");
	cr_assert(teamhints_get(h, "111111111111", team, sizeof(team)));
	cr_assert_str_eq(team, "ml-research");
	teamhints_put(h, "111111111111", "inference");
	cr_assert(teamhints_get(h, "111111111111", team, sizeof(team)));
	cr_assert_str_eq(team, "inference");
	cr_assert_not(teamhints_get(h, "222222222222", team, sizeof(team)));
	teamhints_drop(h, "222222222222"); /* not there: nothing else is lost */
	cr_assert(teamhints_get(h, "111111111111", team, sizeof(team)));
	teamhints_drop(h, "111111111111");
	cr_assert_not(teamhints_get(h, "111111111111", team, sizeof(team)));
}

Test(teamhint, malformed_is_never_remembered)
{
	char team[TEAMHINT_TEAM_MAX + 1], long_team[TEAMHINT_TEAM_MAX + 2];
	const char *bad[] = { "", "11111111111", "1111111111111", "11111111111a", "x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		teamhints_put(h, bad[i], "t");
		cr_assert_not(teamhints_get(h, bad[i], team, sizeof(team)), "%s", bad[i]);
	}
	memset(long_team, 'a', sizeof(long_team) - 1);
	long_team[sizeof(long_team) - 1] = '\0';
	teamhints_put(h, "333333333333", long_team);
	cr_assert_not(teamhints_get(h, "333333333333", team, sizeof(team)));
	teamhints_put(h, "333333333333", "");
	cr_assert_not(teamhints_get(h, "333333333333", team, sizeof(team)));
	long_team[TEAMHINT_TEAM_MAX] = '\0'; /* 63 bytes: fits */
	teamhints_put(h, "333333333333", long_team);
	cr_assert(teamhints_get(h, "333333333333", team, sizeof(team)));
	cr_assert_str_eq(team, long_team);
	cr_assert_not(teamhints_get(h, "333333333333", team, 8), "too small a buffer");
}

/* More accounts than slots: every answer is either none or the account's
 * own team, never another account's. */
Test(teamhint, collisions_forget_but_never_mix_up)
{
	char account[13], team[TEAMHINT_TEAM_MAX + 1], want[32];
	int found = 0;

	for (int i = 0; i < 3 * TEAMHINT_SLOTS; i++) {
		snprintf(account, sizeof(account), "%012d", 100000 + i);
		snprintf(want, sizeof(want), "team-%d", i);
		teamhints_put(h, account, want);
	}
	for (int i = 0; i < 3 * TEAMHINT_SLOTS; i++) {
		snprintf(account, sizeof(account), "%012d", 100000 + i);
		snprintf(want, sizeof(want), "team-%d", i);
		if (teamhints_get(h, account, team, sizeof(team))) {
			cr_assert_str_eq(team, want);
			found++;
		}
	}
	cr_assert(found > TEAMHINT_SLOTS / 2 && found <= TEAMHINT_SLOTS, "found %d", found);
}
