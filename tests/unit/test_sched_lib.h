/*
 * What the scheduler tests share: an owning builder for struct sched_input
 * (small fixed tables), a shuffle that permutes every table and remaps the
 * indices, a canonical text of a plan (by ids, never by input position)
 * and a seeded PRNG. Test code only; not a fixture of any other module.
 */
#ifndef CBQ_TESTS_UNIT_TEST_SCHED_LIB_H
#define CBQ_TESTS_UNIT_TEST_SCHED_LIB_H

#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

enum { T_MAX = 256, T_NAME = 48 };

struct tin {
	cbq_ms now;
	struct sched_settings set;
	char kinds[T_MAX][T_NAME], types[T_MAX][T_NAME], azs[T_MAX][T_NAME];
	size_t n_kinds, n_types, n_azs;
	char team_names[T_MAX][T_NAME];
	struct sched_team teams[T_MAX];
	size_t n_teams;
	char account_ids[T_MAX][T_NAME];
	struct sched_account accounts[T_MAX];
	size_t n_accounts;
	struct sched_quota quotas[T_MAX];
	size_t n_quotas;
	struct sched_window timeline[T_MAX];
	size_t n_timeline;
	char block_ids[T_MAX][T_NAME];
	struct sched_block blocks[T_MAX];
	uint32_t consumers[T_MAX][T_MAX];
	size_t n_blocks;
	struct sched_pending pending[T_MAX];
	size_t n_pending;
	struct sched_running running[T_MAX];
	size_t n_running;
	/* filled by tin_finish */
	const char *kind_p[T_MAX], *type_p[T_MAX], *az_p[T_MAX];
	struct sched_input in;
};

/* Index of name in tab, appending it when new (or SCHED_NONE when full). */
uint32_t tin_intern(char (*tab)[T_NAME], size_t *n, const char *name);
/* Index of name in tab, or SCHED_NONE. */
uint32_t tin_find(char (*tab)[T_NAME], size_t n, const char *name);
/* Points t->in at the tables. Call after the last change. */
void tin_finish(struct tin *t);
/* dst = src with every table (and each block's consumers) in a seeded random order. */
void tin_shuffle(const struct tin *src, struct tin *dst, uint64_t seed);

/* The plan as text, one line per job by id, then expiries: equal texts mean
 * equal plans whatever the order of the input. Caller frees. */
char *plan_dump(const struct sched_input *in, const struct sched_plan *plan);

/* splitmix64 */
uint64_t rng_next(uint64_t *state);
/* Uniform in [lo, hi]. */
int64_t rng_range(uint64_t *state, int64_t lo, int64_t hi);

/* "2026-03-02T10:00" (UTC) → ms since the epoch; false if malformed. */
bool parse_utc(const char *s, cbq_ms *out);

#endif
