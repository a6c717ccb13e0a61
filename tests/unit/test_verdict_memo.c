/*
 * The verdict memo (broker/core/verdict_memo.h): a verdict is "the same"
 * only for the very job, version and reason remembered, with an ETA within
 * the slack of the one written (or none as it had none), and the memo says
 * which ETA it holds; growth keeps every entry; the hash tells reasons
 * apart.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/verdict_memo.h"

enum { SLACK = 60000, NONE = 0 };

Test(verdict_memo, same_only_for_job_version_and_reason)
{
	struct verdict_memo *m = verdict_memo_new(4);
	uint64_t h = verdict_memo_hash("NoCapacity (no block of p5.48xlarge)");
	int64_t written = 0;

	cr_assert_not(verdict_memo_same(NULL, 7, 100, h, 5000, SLACK, &written),
		      "no memo: always write");
	cr_assert_not(verdict_memo_same(m, 7, 100, h, 5000, SLACK, &written));
	verdict_memo_put(m, 7, 100, h, 5000);
	cr_assert(verdict_memo_same(m, 7, 100, h, 5000, SLACK, &written));
	cr_assert_eq(written, 5000);
	cr_assert_not(verdict_memo_same(m, 7, 101, h, 5000, SLACK, &written),
		      "the job moved since");
	cr_assert_not(verdict_memo_same(m, 7, 100, h + 1, 5000, SLACK, &written), "another reason");
	cr_assert_not(verdict_memo_same(m, 8, 100, h, 5000, SLACK, &written), "another job");
	verdict_memo_put(m, 7, 101, h, 5000);
	cr_assert(verdict_memo_same(m, 7, 101, h, 5000, SLACK, &written));
	cr_assert_eq(verdict_memo_count(m), 1);
	verdict_memo_put(m, 0, 1, h, 5000); /* not a job id: never remembered */
	cr_assert_not(verdict_memo_same(m, 0, 1, h, 5000, SLACK, &written));
	cr_assert_eq(verdict_memo_count(m), 1);
	verdict_memo_free(m);
}

/* An ETA that drifts with the clock is rewritten once it is a slack away
 * from the one written, not every cycle; gaining or losing an ETA always
 * is a change. */
Test(verdict_memo, an_eta_within_the_slack_is_the_same)
{
	struct verdict_memo *m = verdict_memo_new(4);
	uint64_t h = verdict_memo_hash("NoLauncher (would launch 2 on cr-0a00000000000001)");
	int64_t written = 0;

	verdict_memo_put(m, 7, 100, h, 1000000);
	cr_assert(verdict_memo_same(m, 7, 100, h, 1000000 + SLACK, SLACK, &written));
	cr_assert_eq(written, 1000000, "the ETA Postgres has, not the new one");
	cr_assert(verdict_memo_same(m, 7, 100, h, 1000000 - SLACK, SLACK, &written));
	cr_assert_not(verdict_memo_same(m, 7, 100, h, 1000000 + SLACK + 1, SLACK, &written));
	cr_assert_not(verdict_memo_same(m, 7, 100, h, 1000000 - SLACK - 1, SLACK, &written));
	cr_assert_not(verdict_memo_same(m, 7, 100, h, INT64_MIN, SLACK, &written), "lost its ETA");
	verdict_memo_put(m, 8, 100, h, INT64_MIN);
	cr_assert(verdict_memo_same(m, 8, 100, h, INT64_MIN, SLACK, &written));
	cr_assert_eq(written, INT64_MIN);
	cr_assert_not(verdict_memo_same(m, 8, 100, h, 0, SLACK, &written), "gained one");
	cr_assert_not(verdict_memo_same(m, 8, 100, h, INT64_MIN + 1, SLACK, &written));
	verdict_memo_free(m);
}

Test(verdict_memo, growing_keeps_every_entry)
{
	struct verdict_memo *m = verdict_memo_new(1);
	enum { N = 100000 };
	int64_t written;

	for (int64_t j = 1; j <= N; j++)
		verdict_memo_put(m, j * 7919, j, (uint64_t)j * 31, j);
	cr_assert_eq(verdict_memo_count(m), N);
	for (int64_t j = 1; j <= N; j++) {
		cr_assert(verdict_memo_same(m, j * 7919, j, (uint64_t)j * 31, j, NONE, &written),
			  "job %lld", (long long)(j * 7919));
		cr_assert_not(
			verdict_memo_same(m, j * 7919 + 1, j, (uint64_t)j * 31, j, NONE, &written));
	}
	verdict_memo_free(m);
}

Test(verdict_memo, hash_separates_reasons)
{
	cr_assert_neq(verdict_memo_hash("a"), verdict_memo_hash("b"));
	cr_assert_neq(verdict_memo_hash(""), verdict_memo_hash(" "));
	cr_assert_eq(verdict_memo_hash("x"), verdict_memo_hash("x"));
}
