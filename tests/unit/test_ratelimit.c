/*
 * The per-team token buckets (broker/api/ratelimit.h). Each case is a rate,
 * a burst and a script of takes: "KEY@MS=ok", "KEY@MS=429/S" (limited, with
 * Retry-After S) or "KEY@MS=bad" (key refused). Adding a case is adding a row.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ratelimit.h"

struct rl_case {
	const char *name;
	uint32_t rate, burst;
	const char *script;
};

static const struct rl_case cases[] = {
	{ "burst then limited", 2, 3, "a@0=ok a@0=ok a@0=ok a@0=429/1" },
	{ "refills at the rate", 2, 3,
	  "a@0=ok a@0=ok a@0=ok a@0=429/1 a@499=429/1 a@500=ok a@500=429/1" },
	{ "refill stops at the burst", 2, 2, "a@0=ok a@0=ok a@60000=ok a@60000=ok a@60000=429/1" },
	{ "retry-after rounds up to whole seconds", 1, 1,
	  "a@0=ok a@1=429/1 a@999=429/1 a@1000=ok" },
	{ "a drained burst waits for one refill", 1, 5,
	  "a@0=ok a@0=ok a@0=ok a@0=ok a@0=ok a@0=429/1 a@999=429/1 a@1000=ok" },
	{ "keys are independent", 1, 1, "a@0=ok a@0=429/1 b@0=ok b@0=429/1 a@1000=ok" },
	{ "off when rate is 0", 0, 1, "a@0=ok a@0=ok a@0=ok a@0=ok" },
	{ "a clock stepping back adds nothing", 1, 1,
	  "a@5000=ok a@1000=429/1 a@5999=429/1 a@6000=ok" },
	{ "fast rate", 1000, 1, "a@0=ok a@0=429/1 a@1=ok" },
	{ "empty key refused", 5, 5, "@0=bad" },
	{ "63-byte key is fine", 5, 1,
	  "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc@0=ok "
	  "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abc@0=429/1" },
	{ "64-byte key refused", 5, 1,
	  "abcdefghij0123456789abcdefghij0123456789abcdefghij0123456789abcd@0=bad" },
};

static void run_case(const struct rl_case *c)
{
	struct api_ratelimit *rl = api_ratelimit_new(c->rate, c->burst);
	char *script = strdup(c->script), *save = NULL;
	int step = 0;

	for (char *tok = strtok_r(script, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *at = strrchr(tok, '@'), *eq = strrchr(tok, '=');
		long long ms;
		int retry = -7, want_retry = 0;
		enum api_rate got, want;

		cr_assert(at && eq && eq > at, "%s: bad step %s", c->name, tok);
		*at = '\0';
		ms = strtoll(at + 1, NULL, 10);
		if (strcmp(eq + 1, "ok") == 0) {
			want = API_RATE_ALLOW;
		} else if (strcmp(eq + 1, "bad") == 0) {
			want = API_RATE_BAD_KEY;
		} else {
			cr_assert(sscanf(eq + 1, "429/%d", &want_retry) == 1, "%s: bad step",
				  c->name);
			want = API_RATE_LIMITED;
		}
		got = api_ratelimit_take(rl, tok, (cbq_ms)ms, &retry);
		cr_expect_eq(got, want, "%s: step %d (%s@%lld): got verdict %d, want %d", c->name,
			     step, tok, ms, got, want);
		if (want == API_RATE_LIMITED && got == want)
			cr_expect_eq(retry, want_retry, "%s: step %d: Retry-After %d, want %d",
				     c->name, step, retry, want_retry);
		if (want != API_RATE_LIMITED)
			cr_expect_eq(retry, -7, "%s: step %d: retry_after written when not limited",
				     c->name, step);
		step++;
	}
	free(script);
	api_ratelimit_free(rl);
}

Test(ratelimit, table)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

Test(ratelimit, retry_after_covers_the_deficit)
{
	/* 1 request per second with the bucket drained: the wait shrinks as
	 * time passes, never below one second */
	struct api_ratelimit *rl = api_ratelimit_new(1, 3);
	int retry = 0;

	for (int i = 0; i < 3; i++)
		cr_assert_eq(api_ratelimit_take(rl, "t", 0, &retry), API_RATE_ALLOW);
	cr_assert_eq(api_ratelimit_take(rl, "t", 0, &retry), API_RATE_LIMITED);
	cr_expect_eq(retry, 1);
	api_ratelimit_free(rl);
}

static void key_of(int i, char *buf, size_t size)
{
	snprintf(buf, size, "team-%d", i);
}

Test(ratelimit, full_table_drops_idle_buckets)
{
	struct api_ratelimit *rl = api_ratelimit_new(10, 2);
	char key[32];
	int retry;

	/* every key drained at t=0 */
	for (int i = 0; i < API_RATELIMIT_KEYS_MAX; i++) {
		key_of(i, key, sizeof(key));
		cr_assert_eq(api_ratelimit_take(rl, key, 0, &retry), API_RATE_ALLOW);
		cr_assert_eq(api_ratelimit_take(rl, key, 0, &retry), API_RATE_ALLOW);
	}
	cr_assert_eq(api_ratelimit_keys(rl), API_RATELIMIT_KEYS_MAX);
	/* key 7 stays busy; all others refill to full by t=1000 */
	key_of(7, key, sizeof(key));
	cr_assert_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_ALLOW);
	cr_assert_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_ALLOW);
	cr_assert_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_LIMITED);
	/* a new key evicts the full ones only */
	cr_assert_eq(api_ratelimit_take(rl, "newcomer", 1000, &retry), API_RATE_ALLOW);
	cr_expect_eq(api_ratelimit_keys(rl), 2);
	/* the busy key kept its drained bucket: still limited */
	cr_expect_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_LIMITED);
	/* an evicted key comes back full */
	key_of(8, key, sizeof(key));
	cr_expect_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_ALLOW);
	cr_expect_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_ALLOW);
	cr_expect_eq(api_ratelimit_take(rl, key, 1000, &retry), API_RATE_LIMITED);
	api_ratelimit_free(rl);
}

Test(ratelimit, full_table_of_busy_keys_drops_the_fullest)
{
	struct api_ratelimit *rl = api_ratelimit_new(1, 4);
	char key[32];
	int retry;

	/* key i takes 1 + (i % 3) requests: none is full, keys with i % 3 == 0
	 * are the fullest */
	for (int i = 0; i < API_RATELIMIT_KEYS_MAX; i++) {
		key_of(i, key, sizeof(key));
		for (int k = 0; k <= i % 3; k++)
			cr_assert_eq(api_ratelimit_take(rl, key, 0, &retry), API_RATE_ALLOW);
	}
	cr_assert_eq(api_ratelimit_take(rl, "newcomer", 0, &retry), API_RATE_ALLOW);
	cr_expect_eq(api_ratelimit_keys(rl), API_RATELIMIT_KEYS_MAX);
	/* every key is still found after the backward shifts: drained ones
	 * (i % 3 == 2 took 3 of 4) have one request left, then are limited */
	for (int i = 2; i < API_RATELIMIT_KEYS_MAX; i += 3) {
		key_of(i, key, sizeof(key));
		cr_assert_eq(api_ratelimit_take(rl, key, 0, &retry), API_RATE_ALLOW, "%s", key);
		cr_assert_eq(api_ratelimit_take(rl, key, 0, &retry), API_RATE_LIMITED, "%s", key);
	}
	api_ratelimit_free(rl);
}

Test(ratelimit, many_keys_over_time_stay_bounded)
{
	struct api_ratelimit *rl = api_ratelimit_new(5, 5);
	char key[32];
	int retry;

	for (int i = 0; i < 20 * API_RATELIMIT_KEYS_MAX; i++) {
		key_of(i, key, sizeof(key));
		cr_assert_eq(api_ratelimit_take(rl, key, (cbq_ms)i, &retry), API_RATE_ALLOW);
		cr_assert_leq(api_ratelimit_keys(rl), API_RATELIMIT_KEYS_MAX);
	}
	api_ratelimit_free(rl);
}
