/*
 * Queue order: effective priority (job + team + window boost now + ageing −
 * fair share), then submission, then id. Not placement: place.c walks the
 * order this file produces.
 */
#include "sched/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double sched_decay(double usage, cbq_ms age, cbq_ms half_life)
{
	if (age <= 0 || usage <= 0)
		return usage > 0 ? usage : 0;
	double x = (double)age / (double)half_life; /* halvings */
	if (x >= 1100)
		return 0;
	int whole = (int)x;
	/* 2^−f = e^(−f ln 2) for f in [0, 1): the series converges fast */
	double y = -(x - whole) * 0.69314718055994530942, term = 1, sum = 1;
	for (int k = 1; k < 24; k++) {
		term *= y / k;
		sum += term;
	}
	while (whole-- > 0)
		sum *= 0.5;
	return usage * sum;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Milli-points each team loses to fair share. Sums in value order, so the
 * order of the teams table cannot change a rounding. */
static int64_t *team_penalties(const struct sched_input *in)
{
	size_t n = in->n_teams;
	double *use = sched_alloc(n, sizeof(*use)), *sorted = sched_alloc(n, sizeof(*sorted));
	int64_t *pen = sched_alloc(n, sizeof(*pen));
	double total = 0;

	for (size_t i = 0; i < n; i++) {
		const struct sched_team *t = &in->teams[i];
		use[i] = sched_decay(t->usage, in->now - t->usage_at, in->settings.half_life);
		sorted[i] = use[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	for (size_t i = 0; i < n; i++)
		total += sorted[i];
	for (size_t i = 0; i < n && total > 0; i++) {
		double p = in->settings.fair_share_weight * (use[i] / total) * 1000.0;
		pen[i] = (int64_t)(p + 0.5);
	}
	free(use);
	free(sorted);
	return pen;
}

/* The queue order: higher effective priority, then earlier submission, then lower id. */
static inline int cmp_key(const struct sched_key *x, const struct sched_key *y)
{
	if (x->eff != y->eff)
		return x->eff > y->eff ? -1 : 1;
	if (x->submitted_at != y->submitted_at)
		return x->submitted_at < y->submitted_at ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
}

/* Bottom-up merge sort: qsort's call per comparison is most of its cost
 * at 100,000 keys. Runs of 16 are sorted by insertion first. */
static void sort_keys(struct sched_key *keys, size_t n)
{
	enum { RUN = 16 };
	struct sched_key *tmp = sched_alloc(n, sizeof(*tmp)), *a = keys, *b = tmp;

	for (size_t lo = 0; lo < n; lo += RUN) {
		size_t hi = lo + RUN < n ? lo + RUN : n;
		for (size_t i = lo + 1; i < hi; i++) {
			struct sched_key k = keys[i];
			size_t j = i;
			for (; j > lo && cmp_key(&k, &keys[j - 1]) < 0; j--)
				keys[j] = keys[j - 1];
			keys[j] = k;
		}
	}
	for (size_t width = RUN; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				b[o++] = cmp_key(&a[j], &a[i]) < 0 ? a[j++] : a[i++];
			while (i < mid)
				b[o++] = a[i++];
			while (j < hi)
				b[o++] = a[j++];
		}
		struct sched_key *x = a;
		a = b;
		b = x;
	}
	if (a != keys)
		memcpy(keys, a, n * sizeof(*keys));
	free(tmp);
}

enum cbq_err sched_order(struct sched_ctx *ctx, struct cbq_error *err)
{
	const struct sched_input *in = ctx->in;
	size_t n = in->n_pending;
	int64_t *pen = team_penalties(in);
	struct sched_key *keys = sched_alloc(n, sizeof(*keys));
	enum cbq_err rc = CBQ_OK;
	double rate = in->settings.ageing_per_hour;

	for (size_t i = 0; i < n; i++) {
		const struct sched_pending *j = &in->pending[i];
		uint32_t team = in->accounts[j->account].team;
		cbq_ms waited = in->now > j->submitted_at ? in->now - j->submitted_at : 0;
		/* points per hour × hours × 1000 = milli-points */
		int64_t ageing = (int64_t)((double)waited * rate / 3600.0);
		keys[i] = (struct sched_key){
			.eff = ((int64_t)j->priority + in->teams[team].priority +
				ctx->boost_now[j->kind]) *
				       1000 +
			       ageing - pen[team],
			.submitted_at = j->submitted_at,
			.id = j->id,
			.job = (uint32_t)i,
		};
	}
	sort_keys(keys, n);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && cmp_key(&keys[i - 1], &keys[i]) == 0) {
			char field[64];
			uint32_t a = keys[i - 1].job, b = keys[i].job;
			if (a > b) {
				uint32_t x = a;
				a = b;
				b = x;
			}
			snprintf(field, sizeof(field), "pending[%u].id", b);
			rc = cbq_fail(
				err, CBQ_ERR_INVALID, field,
				"pending[%u] and pending[%u] are both job %lld: ids must be unique",
				a, b, (long long)keys[i].id);
			goto out;
		}
		ctx->order[i] = keys[i].job;
	}
out:
	free(keys);
	free(pen);
	return rc;
}
