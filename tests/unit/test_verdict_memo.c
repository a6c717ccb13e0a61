/*
 * The verdict memo (broker/core/verdict_memo.h): a verdict is "the same"
 * only for the very job, version and hash remembered; growth keeps every
 * entry; the hash tells reasons and ETAs apart.
 */
#include <criterion/criterion.h>
#include <stdint.h>

#include "core/verdict_memo.h"

Test(verdict_memo, same_only_for_job_version_and_hash)
{
	struct verdict_memo *m = verdict_memo_new(4);
	uint64_t h = verdict_memo_hash("NoCapacity (no block of p5.48xlarge)", INT64_MIN);

	cr_assert_not(verdict_memo_same(NULL, 7, 100, h), "no memo: always write");
	cr_assert_not(verdict_memo_same(m, 7, 100, h));
	verdict_memo_put(m, 7, 100, h);
	cr_assert(verdict_memo_same(m, 7, 100, h));
	cr_assert_not(verdict_memo_same(m, 7, 101, h), "the job moved since");
	cr_assert_not(verdict_memo_same(m, 7, 100, h + 1), "another verdict");
	cr_assert_not(verdict_memo_same(m, 8, 100, h), "another job");
	verdict_memo_put(m, 7, 101, h);
	cr_assert(verdict_memo_same(m, 7, 101, h));
	cr_assert_eq(verdict_memo_count(m), 1);
	verdict_memo_put(m, 0, 1, h); /* not a job id: never remembered */
	cr_assert_not(verdict_memo_same(m, 0, 1, h));
	cr_assert_eq(verdict_memo_count(m), 1);
	verdict_memo_free(m);
}

Test(verdict_memo, growing_keeps_every_entry)
{
	struct verdict_memo *m = verdict_memo_new(1);
	enum { N = 100000 };

	for (int64_t j = 1; j <= N; j++)
		verdict_memo_put(m, j * 7919, j, (uint64_t)j * 31);
	cr_assert_eq(verdict_memo_count(m), N);
	for (int64_t j = 1; j <= N; j++) {
		cr_assert(verdict_memo_same(m, j * 7919, j, (uint64_t)j * 31), "job %lld",
			  (long long)(j * 7919));
		cr_assert_not(verdict_memo_same(m, j * 7919 + 1, j, (uint64_t)j * 31));
	}
	verdict_memo_free(m);
}

Test(verdict_memo, hash_separates_reason_and_eta)
{
	cr_assert_neq(verdict_memo_hash("a", 1), verdict_memo_hash("a", 2));
	cr_assert_neq(verdict_memo_hash("a", 1), verdict_memo_hash("b", 1));
	cr_assert_neq(verdict_memo_hash("", INT64_MIN), verdict_memo_hash("", 0));
	cr_assert_eq(verdict_memo_hash("x", 5), verdict_memo_hash("x", 5));
}
