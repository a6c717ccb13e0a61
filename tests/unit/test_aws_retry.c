/*
 * AWS standard retry mode (broker/aws/retry.h): attempts, full-jitter
 * backoff with its 20 s cap, and the retry quota. Cases are rows of
 * data/aws/retry.tsv; consecutive rows of one case share quota and state.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/retry.h"

Test(aws_retry, follows_the_table)
{
	char path[1024], line[512], cur[128] = "";
	const char *dir = getenv("CBQ_TESTDATA");
	struct aws_retry_quota q;
	struct aws_retry_state st = { 0 };
	int rows = 0;

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/aws/retry.tsv", dir);
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char name[128], event[16], rnd[16], expect[16], delay[16];
		int max_attempts, quota_after;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		cr_assert_eq(sscanf(line, "%127s %d %15s %15s %15s %15s %d", name, &max_attempts,
				    event, rnd, expect, delay, &quota_after),
			     7, "bad row: %s", line);
		if (strcmp(name, cur) != 0) {
			snprintf(cur, sizeof(cur), "%s", name);
			aws_retry_quota_init(&q);
			memset(&st, 0, sizeof(st));
		}
		if (strcmp(event, "ok") == 0) {
			aws_retry_succeeded(&q, &st);
		} else {
			cbq_ms d = -1;
			st.attempt++;
			bool again = aws_retry_next(&q, &st, max_attempts,
						    strcmp(event, "timeout") == 0 ? AWS_RETRY_TIMED_OUT
										  : AWS_RETRY_TRANSIENT,
						    atof(rnd), &d);
			cr_expect_eq(again, strcmp(expect, "retry") == 0, "%s attempt %d", name,
				     st.attempt);
			if (again)
				cr_expect_eq(d, atoll(delay), "%s attempt %d: delay %lld", name,
					     st.attempt, (long long)d);
		}
		cr_expect_eq(q.tokens, quota_after, "%s: quota %d", name, q.tokens);
		rows++;
	}
	fclose(f);
	cr_assert_gt(rows, 15);
}

Test(aws_retry, empty_quota_stops_retries)
{
	struct aws_retry_quota q = { .tokens = AWS_RETRY_COST - 1 };
	struct aws_retry_state st = { .attempt = 1 };
	cbq_ms d;

	cr_assert_not(aws_retry_next(&q, &st, 3, AWS_RETRY_TRANSIENT, 0.5, &d));
	cr_assert_eq(q.tokens, AWS_RETRY_COST - 1);
}
