/*
 * The set of queued jobs the leader keeps between cycles
 * (broker/core/queued_set.h): puts replace by id, drops keep every other
 * job reachable (removal from open addressing moves entries back), strings
 * are the set's own, and clearing empties it. Checked against a plain
 * array through a long run of random puts and drops.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/queued_set.h"

static struct queued_job job(int64_t id, int32_t count)
{
	return (struct queued_job){ .id = id,
				    .account = "111111111111",
				    .kind = "training",
				    .type = "p5.48xlarge",
				    .count = count,
				    .duration_s = 3600 };
}

Test(queued_set, put_replaces_and_drop_removes)
{
	struct queued_set *s = queued_set_new();
	size_t n;

	struct queued_job first = job(1, 8), a = job(1, 2), b = job(2, 4);
	queued_set_put(s, &first);
	cr_assert_null(queued_set_get(s, 2));
	queued_set_put(s, &a);
	queued_set_put(s, &b);
	queued_set_all(s, &n);
	cr_assert_eq(n, 2, "the second put of id 1 replaced the first");
	cr_assert_eq(queued_set_get(s, 1)->count, 2);
	queued_set_drop(s, 1);
	queued_set_drop(s, 99); /* not there: nothing happens */
	queued_set_all(s, &n);
	cr_assert_eq(n, 1);
	cr_assert_null(queued_set_get(s, 1));
	cr_assert_eq(queued_set_get(s, 2)->count, 4);
	queued_set_clear(s);
	queued_set_all(s, &n);
	cr_assert_eq(n, 0);
	cr_assert_null(queued_set_get(s, 2));
	queued_set_drop(s, 2);
	queued_set_put(s, &b); /* and it fills again */
	queued_set_all(s, &n);
	cr_assert_eq(n, 1);
	cr_assert_eq(queued_set_get(s, 2)->count, 4);
	queued_set_free(s);
}

Test(queued_set, strings_are_the_sets_own)
{
	struct queued_set *s = queued_set_new();
	char account[] = "222222222222", kind[] = "inference", type[] = "g6.12xlarge";
	struct queued_job j = { .id = 5, .account = account, .kind = kind, .type = type };

	queued_set_put(s, &j);
	memset(account, 'x', sizeof(account) - 1);
	memset(kind, 'x', sizeof(kind) - 1);
	memset(type, 'x', sizeof(type) - 1);
	const struct queued_job *got = queued_set_get(s, 5);
	cr_assert_str_eq(got->account, "222222222222");
	cr_assert_str_eq(got->kind, "inference");
	cr_assert_str_eq(got->type, "g6.12xlarge");
	queued_set_free(s);
}

/* Random puts and drops over a small id range (long probe runs, many
 * removals from the middle of them) agree with an array indexed by id. */
Test(queued_set, random_puts_and_drops_agree_with_an_array)
{
	enum { IDS = 5000, STEPS = 400000 };
	struct queued_set *s = queued_set_new();
	int32_t *want = calloc(IDS, sizeof(*want)); /* count, 0 = absent */
	size_t present = 0, n;
	unsigned seed = 12345;

	for (int step = 0; step < STEPS; step++) {
		int64_t id = rand_r(&seed) % IDS;
		if (rand_r(&seed) % 3 == 0) {
			present -= want[id] != 0;
			want[id] = 0;
			queued_set_drop(s, id);
		} else {
			struct queued_job j = job(id, 1 + rand_r(&seed) % 64);
			present += want[id] == 0;
			want[id] = j.count;
			queued_set_put(s, &j);
		}
		if (step % 50000 == 0 || step == STEPS - 1) {
			for (int64_t k = 0; k < IDS; k++) {
				const struct queued_job *got = queued_set_get(s, k);
				if (want[k])
					cr_assert(got && got->count == want[k], "step %d: job %lld",
						  step, (long long)k);
				else
					cr_assert_null(got, "step %d: job %lld dropped", step,
						       (long long)k);
			}
		}
	}
	const struct queued_job *all = queued_set_all(s, &n);
	cr_assert_eq(n, present);
	for (size_t k = 0; k < n; k++)
		cr_assert_eq(want[all[k].id], all[k].count, "the array holds job %lld as it is",
			     (long long)all[k].id);
	free(want);
	queued_set_free(s);
}
