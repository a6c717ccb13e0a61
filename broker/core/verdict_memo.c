/*
 * The verdict memo (see verdict_memo.h): linear probing, load at most 1/2,
 * no deletion (a memo is built whole for one cycle's queue and replaced).
 */
#include "core/verdict_memo.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"

struct entry {
	int64_t job; /* 0 = empty (job ids start at 1) */
	int64_t version;
	uint64_t hash; /* the reason's */
	int64_t eta;
};

struct verdict_memo {
	struct entry *slots;
	size_t n_slots, n; /* n_slots: a power of two */
};

static size_t index_of(const struct verdict_memo *m, int64_t job)
{
	uint64_t x = (uint64_t)job * 0x9E3779B97F4A7C15ULL;

	return (size_t)(x >> 17) & (m->n_slots - 1);
}

static struct entry *find(const struct verdict_memo *m, int64_t job)
{
	size_t i = index_of(m, job);

	while (m->slots[i].job && m->slots[i].job != job)
		i = (i + 1) & (m->n_slots - 1);
	return &m->slots[i];
}

static void resize(struct verdict_memo *m, size_t n_slots)
{
	struct entry *old = m->slots;
	size_t old_n = m->n_slots;

	m->slots = cbq_xcalloc(n_slots, sizeof(*m->slots));
	m->n_slots = n_slots;
	for (size_t i = 0; i < old_n; i++)
		if (old[i].job)
			*find(m, old[i].job) = old[i];
	free(old);
}

struct verdict_memo *verdict_memo_new(size_t expect)
{
	struct verdict_memo *m = cbq_xcalloc(1, sizeof(*m));
	size_t n_slots = 64;

	while (n_slots < 2 * expect)
		n_slots *= 2;
	resize(m, n_slots);
	return m;
}

void verdict_memo_free(struct verdict_memo *m)
{
	if (!m)
		return;
	free(m->slots);
	free(m);
}

size_t verdict_memo_count(const struct verdict_memo *m)
{
	return m->n;
}

void verdict_memo_put(struct verdict_memo *m, int64_t job, int64_t version, uint64_t hash,
		      int64_t eta)
{
	struct entry *e;

	if (job == 0)
		return; /* not a job id; never remembered, so always written */
	if (2 * (m->n + 1) > m->n_slots)
		resize(m, 2 * m->n_slots);
	e = find(m, job);
	if (!e->job)
		m->n++;
	*e = (struct entry){ .job = job, .version = version, .hash = hash, .eta = eta };
}

bool verdict_memo_same(const struct verdict_memo *m, int64_t job, int64_t version, uint64_t hash,
		       int64_t eta, int64_t slack, int64_t *written)
{
	const struct entry *e;

	if (!m || job == 0)
		return false;
	e = find(m, job);
	if (e->job != job || e->version != version || e->hash != hash)
		return false;
	*written = e->eta;
	if (eta == INT64_MIN || e->eta == INT64_MIN)
		return eta == e->eta;
	return eta >= e->eta - slack && eta <= e->eta + slack;
}

uint64_t verdict_memo_hash(const char *reason)
{
	return cbq_fnv1a_str(CBQ_FNV1A_START, reason);
}
