/*
 * Step functions of time: free instances on a block, instances of a kind or
 * a team in use. Sorted arrays; changes insert at most two steps and merge
 * equal neighbours, so a block's steps stay about twice the jobs on it. Not
 * a general interval tree: the pass only adds and asks in time order.
 */
#include "sched/internal.h"

#include <stdlib.h>
#include <string.h>

void sched_steps_init(struct sched_steps *p, cbq_ms start, cbq_ms end, int64_t v)
{
	p->cap = 8;
	p->s = sched_alloc(p->cap, sizeof(*p->s));
	p->s[0] = (struct sched_step){ .t = start, .v = v };
	p->n = 1;
	p->end = end;
	p->cmax = NULL;
	p->clean = 0;
	p->cmax_cap = 0;
	p->soonest = NULL;
}

void sched_steps_free(struct sched_steps *p)
{
	if (!p)
		return;
	free(p->s);
	free(p->cmax);
	free(p->soonest);
	memset(p, 0, sizeof(*p));
}

uint32_t sched_steps_find(const struct sched_steps *p, cbq_ms t)
{
	uint32_t lo = 0, hi = p->n; /* s[lo].t <= t < s[hi].t */

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (p->s[mid].t <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

int64_t sched_steps_at(const struct sched_steps *p, cbq_ms t)
{
	if (!p->n || t < p->s[0].t || t >= p->end)
		return 0;
	return p->s[sched_steps_find(p, t)].v;
}

cbq_ms sched_steps_next(const struct sched_steps *p, cbq_ms t)
{
	if (t >= p->end)
		return SCHED_TIME_MAX;
	if (t < p->s[0].t)
		return p->s[0].t;
	uint32_t i = sched_steps_find(p, t);
	return i + 1 < p->n ? p->s[i + 1].t : p->end;
}

/* Chunk maxima from the chunk of step i on are stale. */
static void dirty(struct sched_steps *p, uint32_t i)
{
	if (p->clean > i / SCHED_CHUNK)
		p->clean = i / SCHED_CHUNK;
}

static void insert_at(struct sched_steps *p, uint32_t i, struct sched_step st)
{
	dirty(p, i);
	if (p->n == p->cap) {
		p->cap *= 2;
		p->s = cbq_xrealloc(p->s, p->cap, sizeof(*p->s));
	}
	memmove(p->s + i + 1, p->s + i, (size_t)(p->n - i) * sizeof(*p->s));
	p->s[i] = st;
	p->n++;
}

static void remove_at(struct sched_steps *p, uint32_t i)
{
	dirty(p, i);
	memmove(p->s + i, p->s + i + 1, (size_t)(p->n - i - 1) * sizeof(*p->s));
	p->n--;
}

/* Index of the step starting exactly at t (start ≤ t < end), splitting one. */
static uint32_t split_at(struct sched_steps *p, cbq_ms t)
{
	uint32_t i = sched_steps_find(p, t);

	if (p->s[i].t == t)
		return i;
	insert_at(p, i + 1, (struct sched_step){ .t = t, .v = p->s[i].v });
	return i + 1;
}

void sched_steps_add(struct sched_steps *p, cbq_ms a, cbq_ms b, int64_t delta)
{
	if (a < p->s[0].t)
		a = p->s[0].t;
	if (b > p->end)
		b = p->end;
	if (a >= b || delta == 0)
		return;
	uint32_t ia = split_at(p, a);
	uint32_t ib = b < p->end ? split_at(p, b) : p->n;
	dirty(p, ia);
	if (delta > 0 && p->soonest) {
		free(p->soonest); /* room grew: what was known full may not be */
		p->soonest = NULL;
	}
	for (uint32_t i = ia; i < ib; i++)
		p->s[i].v += delta;
	/* merge at the far edge first so ia stays valid */
	if (ib < p->n && p->s[ib].v == p->s[ib - 1].v)
		remove_at(p, ib);
	if (ia > 0 && p->s[ia].v == p->s[ia - 1].v)
		remove_at(p, ia);
}

/* Makes the maximum of chunk k current (chunks below it are). */
static int64_t chunk_max(struct sched_steps *p, uint32_t k)
{
	uint32_t chunks = (p->n + SCHED_CHUNK - 1) / SCHED_CHUNK;

	if (p->cmax_cap < chunks) {
		p->cmax_cap = chunks * 2;
		p->cmax = cbq_xrealloc(p->cmax, p->cmax_cap, sizeof(*p->cmax));
	}
	while (p->clean <= k) {
		uint32_t from = p->clean * SCHED_CHUNK, to = from + SCHED_CHUNK;
		int64_t m = INT64_MIN;
		if (to > p->n)
			to = p->n;
		for (uint32_t i = from; i < to; i++)
			if (p->s[i].v > m)
				m = p->s[i].v;
		p->cmax[p->clean++] = m;
	}
	return p->cmax[k];
}

uint32_t sched_steps_first_ge(struct sched_steps *p, uint32_t i, int64_t x)
{
	/* a short rest is cheaper to scan than to keep chunk maxima for */
	if (p->n - i <= 2 * SCHED_CHUNK) {
		for (; i < p->n; i++)
			if (p->s[i].v >= x)
				return i;
		return p->n;
	}
	/* the rest of i's chunk one by one, then whole chunks by their maximum */
	for (; i < p->n && i % SCHED_CHUNK; i++)
		if (p->s[i].v >= x)
			return i;
	for (; i < p->n; i += SCHED_CHUNK) {
		if (chunk_max(p, i / SCHED_CHUNK) < x)
			continue;
		for (uint32_t e = i + SCHED_CHUNK < p->n ? i + SCHED_CHUNK : p->n; i < e; i++)
			if (p->s[i].v >= x)
				return i;
		return p->n; /* unreachable: the chunk's maximum is in it */
	}
	return p->n;
}

cbq_ms sched_steps_room(struct sched_steps *p, cbq_ms t, int64_t x)
{
	uint32_t at;
	return sched_steps_room_at(p, t, x, &at);
}

cbq_ms sched_steps_room_at(struct sched_steps *p, cbq_ms t, int64_t x, uint32_t *at)
{
	if (!p->soonest) {
		p->soonest = cbq_xrealloc(NULL, JOB_COUNT_MAX + 1, sizeof(*p->soonest));
		for (int i = 0; i <= JOB_COUNT_MAX; i++)
			p->soonest[i] = p->s[0].t;
	}
	cbq_ms *soon = &p->soonest[x];
	bool from_soonest = t <= *soon;
	if (from_soonest)
		t = *soon;
	if (t >= p->end)
		return SCHED_NO_ETA;
	uint32_t i = t == p->s[0].t ? 0 : sched_steps_find(p, t);
	if (p->s[i].v < x) {
		i = sched_steps_first_ge(p, i + 1, x);
		t = i < p->n ? p->s[i].t : p->end;
		if (from_soonest)
			*soon = t;
		if (i == p->n)
			return SCHED_NO_ETA;
	}
	*at = i;
	return t;
}
