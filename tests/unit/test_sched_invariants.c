/*
 * Scheduler invariants over thousands of random inputs (a seeded PRNG, so a
 * failure names the seed that reproduces it): no block is over-committed,
 * nothing is placed past a cutoff unless checkpointable, nothing on a block
 * the job's account may not use or of the wrong type or AZ, quotas and share
 * caps hold for launches, a job's plan depends only on the jobs ahead of it,
 * and the order of the input never matters.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/block.h"
#include "sched/sched.h"
#include "test_sched_lib.h"

#define MIN_MS ((cbq_ms)60 * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

enum { SEEDS = 3000 };

static const char *const kind_names[] = { "training", "inference", "research" };
static const double shares[] = { 0, 0.25, 0.5, 0.75, 1, 1, 1, 1 };

/* A random but plausible snapshot; sizes small enough to check by brute force. */
static void generate(struct tin *t, uint64_t seed)
{
	uint64_t r = seed * 0x2545f4914f6cdd1dULL + 1;
	char name[T_NAME];

	memset(t, 0, sizeof(*t));
	/* 2026-03-02T10:00Z, plus up to a week */
	t->now = 1772445600000 + rng_range(&r, 0, 7 * DAY_MS);
	sched_settings_default(&t->set);
	t->set.ageing_per_hour = (double)rng_range(&r, 0, 5);
	t->set.fair_share_weight = (double)rng_range(&r, 0, 200);
	t->set.horizon = rng_range(&r, 1, 28) * DAY_MS;
	t->set.expiry_lead = rng_range(&r, 0, 30) * MIN_MS;
	t->set.min_run = rng_range(&r, 1, 120) * MIN_MS;

	for (size_t k = 0; k < 3; k++)
		tin_intern(t->kinds, &t->n_kinds, kind_names[k]);
	int64_t nt = rng_range(&r, 1, 3), nz = rng_range(&r, 1, 3);
	for (int64_t i = 0; i < nt; i++) {
		snprintf(name, sizeof(name), "p%" PRId64 ".48xlarge", i + 4);
		tin_intern(t->types, &t->n_types, name);
	}
	for (int64_t i = 0; i < nz; i++) {
		snprintf(name, sizeof(name), "us-east-1%c", (char)('a' + i));
		tin_intern(t->azs, &t->n_azs, name);
	}

	t->n_teams = (size_t)rng_range(&r, 1, 5);
	for (size_t i = 0; i < t->n_teams; i++) {
		snprintf(t->team_names[i], T_NAME, "team%zu", i);
		t->teams[i] = (struct sched_team){
			.priority = (int32_t)rng_range(&r, -50, 50),
			.usage = (double)rng_range(&r, 0, 100),
			.usage_at = t->now - rng_range(&r, 0, 14 * DAY_MS),
		};
		for (size_t ty = 0; ty < t->n_types; ty++)
			if (rng_range(&r, 0, 3) == 0)
				t->quotas[t->n_quotas++] = (struct sched_quota){
					.team = (uint32_t)i,
					.type = (uint32_t)ty,
					.max = (int32_t)rng_range(&r, 0, 16),
				};
	}
	t->n_accounts = (size_t)rng_range(&r, 1, 8);
	for (size_t i = 0; i < t->n_accounts; i++) {
		snprintf(t->account_ids[i], T_NAME, "%012zu",
			 111111111111 * (i + 1) % 1000000000000);
		t->accounts[i].team = (uint32_t)rng_range(&r, 0, (int64_t)t->n_teams - 1);
	}

	for (size_t k = 0; k < t->n_kinds; k++) {
		cbq_ms at = t->now - rng_range(&r, 0, DAY_MS);
		while (at < t->now + 10 * DAY_MS && t->n_timeline < T_MAX) {
			cbq_ms len = rng_range(&r, 1, 24) * HOUR_MS;
			if (rng_range(&r, 0, 3) > 0)
				t->timeline[t->n_timeline++] = (struct sched_window){
					.start = at,
					.end = at + len,
					.kind = (uint32_t)k,
					.boost = (int32_t)rng_range(&r, -50, 100),
					.max_share = shares[rng_range(&r, 0, 7)],
				};
			at += len;
		}
	}

	t->n_blocks = (size_t)rng_range(&r, 1, 6);
	for (size_t b = 0; b < t->n_blocks; b++) {
		struct sched_block *blk = &t->blocks[b];
		int64_t st = rng_range(&r, 0, 19);
		snprintf(t->block_ids[b], T_NAME, "cr-%08" PRIx64, rng_next(&r) & 0xffffffffu);
		*blk = (struct sched_block){
			.state = st < 12 ? SCHED_BLOCK_ACTIVE :
				 st < 17 ? SCHED_BLOCK_SCHEDULED :
					   SCHED_BLOCK_INACTIVE,
			.type = (uint32_t)rng_range(&r, 0, (int64_t)t->n_types - 1),
			.az = (uint32_t)rng_range(&r, 0, (int64_t)t->n_azs - 1),
			.owner = rng_range(&r, 0, 1) ?
					 SCHED_NONE :
					 (uint32_t)rng_range(&r, 0, (int64_t)t->n_accounts - 1),
			.total = (int32_t)rng_range(&r, 1, 32),
		};
		blk->start = blk->state == SCHED_BLOCK_SCHEDULED ?
				     t->now + rng_range(&r, 0, 5 * DAY_MS) :
				     t->now - rng_range(&r, 0, 3 * DAY_MS);
		blk->end = blk->start + rng_range(&r, 1, 7 * 24) * HOUR_MS;
		blk->used_outside = (int32_t)rng_range(&r, 0, blk->total / 2);
		for (size_t a = 0; a < t->n_accounts; a++)
			if (rng_range(&r, 0, 2) > 0)
				t->consumers[b][blk->n_consumers++] = (uint32_t)a;
		if (blk->n_consumers && rng_range(&r, 0, 4) == 0) /* a repeat */
			t->consumers[b][blk->n_consumers++] = t->consumers[b][0];
	}

	size_t nr = (size_t)rng_range(&r, 0, 10);
	for (size_t i = 0; i < nr; i++) {
		uint32_t b = (uint32_t)rng_range(&r, 0, (int64_t)t->n_blocks - 1);
		struct sched_block *blk = &t->blocks[b];
		if (blk->state == SCHED_BLOCK_SCHEDULED)
			continue;
		cbq_ms started = t->now - rng_range(&r, 0, 2 * DAY_MS);
		t->running[t->n_running++] = (struct sched_running){
			.id = 100000 + (int64_t)i,
			.account = (uint32_t)rng_range(&r, 0, (int64_t)t->n_accounts - 1),
			.kind = (uint32_t)rng_range(&r, 0, 2),
			.block = b,
			.count = (int32_t)rng_range(&r, 1, blk->total),
			.started_at = started,
			.expected_end = started + rng_range(&r, 30, 3 * 24 * 60) * MIN_MS,
			.checkpointable = rng_range(&r, 0, 1),
			.expiring = rng_range(&r, 0, 3) == 0,
		};
	}
	for (size_t b = 0; b < t->n_blocks; b++) {
		struct sched_block *blk = &t->blocks[b];
		int32_t used = blk->used_outside;
		for (size_t i = 0; i < t->n_running; i++)
			if (t->running[i].block == b)
				used += t->running[i].count;
		int32_t avail = blk->total - used;
		blk->available = avail > 0 ? avail : 0;
		if (rng_range(&r, 0, 5) == 0) /* AWS's count disagrees with ours */
			blk->available = (int32_t)rng_range(&r, 0, blk->total);
	}

	t->n_pending = (size_t)rng_range(&r, 0, 40);
	for (size_t i = 0; i < t->n_pending; i++) {
		int64_t big = rng_range(&r, 0, 9);
		t->pending[i] = (struct sched_pending){
			.id = (int64_t)(i * 7 % 41) + 1,
			.account = (uint32_t)rng_range(&r, 0, (int64_t)t->n_accounts - 1),
			.kind = (uint32_t)rng_range(&r, 0, 2),
			.type = (uint32_t)rng_range(&r, 0, (int64_t)t->n_types - 1),
			.az = rng_range(&r, 0, 3) ?
				      SCHED_NONE :
				      (uint32_t)rng_range(&r, 0, (int64_t)t->n_azs - 1),
			.count = (int32_t)(big ? rng_range(&r, 1, 8) : rng_range(&r, 1, 64)),
			.duration = rng_range(&r, 1, big > 2 ? 12 * 60 : 5 * 24 * 60) * MIN_MS,
			.priority = (int32_t)rng_range(&r, -100, 100),
			.checkpointable = rng_range(&r, 0, 2) == 0,
			.submitted_at = t->now - rng_range(&r, 0, 5 * DAY_MS),
		};
	}
	tin_finish(t);
}

static bool may_use(const struct sched_input *in, uint32_t b, uint32_t account)
{
	const struct sched_block *blk = &in->blocks[b];

	if (blk->owner == account)
		return true;
	for (size_t c = 0; c < blk->n_consumers; c++)
		if (blk->consumers[c] == account)
			return true;
	return false;
}

static cbq_ms cutoff_of(const struct sched_block *b)
{
	return b->end - BLOCK_CUTOFF_LEAD_MS;
}

/* Where a placement may go: the rules DESIGN.md §5 states, checked directly. */
static void check_placement(uint64_t seed, const struct sched_input *in, size_t j,
			    const struct sched_verdict *v)
{
	const struct sched_pending *job = &in->pending[j];
	const struct sched_block *b = &in->blocks[v->block];
	cbq_ms cutoff = cutoff_of(b), s = v->eta;
	cbq_ms need = job->checkpointable && in->settings.min_run < job->duration ?
			      in->settings.min_run :
			      job->duration;

	cr_assert(b->state == SCHED_BLOCK_ACTIVE || b->state == SCHED_BLOCK_SCHEDULED,
		  "seed %" PRIu64 ": job %" PRId64 " on an inactive block", seed, job->id);
	cr_assert(may_use(in, v->block, job->account),
		  "seed %" PRIu64 ": job %" PRId64 " on %s, which its account may not use", seed,
		  job->id, b->id);
	cr_assert_eq(b->type, job->type, "seed %" PRIu64 ": job %" PRId64 " type mismatch", seed,
		     job->id);
	cr_assert(job->az == SCHED_NONE || job->az == b->az,
		  "seed %" PRIu64 ": job %" PRId64 " AZ mismatch", seed, job->id);
	cr_assert(s >= in->now && s >= b->start && s <= in->now + in->settings.horizon,
		  "seed %" PRIu64 ": job %" PRId64 " starts outside [now, horizon] or before %s",
		  seed, job->id, b->id);
	cr_assert(s + need <= cutoff,
		  "seed %" PRIu64 ": job %" PRId64 " placed with too little time before the cutoff",
		  seed, job->id);
	cr_assert(job->checkpointable || s + job->duration <= cutoff,
		  "seed %" PRIu64 ": job %" PRId64 " placed past the cutoff of %s and not "
		  "checkpointable",
		  seed, job->id, b->id);
	if (v->place == SCHED_PLACE_LAUNCH)
		cr_assert(b->state == SCHED_BLOCK_ACTIVE && b->start <= in->now && s == in->now,
			  "seed %" PRIu64 ": job %" PRId64 " launched on a block not started", seed,
			  job->id);
}

/* Instances on a block never exceed what is there: at every moment,
 * cbq's placements fit in total − outside − cbq's running jobs, and the
 * launches fit in what AWS says is available. */
static void check_capacity(uint64_t seed, const struct sched_input *in, const struct sched_plan *p)
{
	for (size_t b = 0; b < in->n_blocks; b++) {
		const struct sched_block *blk = &in->blocks[b];
		cbq_ms cutoff = cutoff_of(blk);
		int64_t used = 0, launched = 0;
		for (size_t r = 0; r < in->n_running; r++)
			if (in->running[r].block == b)
				used += in->running[r].count;
		bool launchable = blk->state == SCHED_BLOCK_ACTIVE && blk->start <= in->now;
		int64_t outside = blk->used_outside;
		if (launchable && blk->total - used - blk->available > outside)
			outside = blk->total - used - blk->available;

		/* every moment something starts is where the load can peak */
		cbq_ms times[2 * T_MAX + 2];
		size_t nt = 0;
		times[nt++] = in->now;
		for (size_t i = 0; i < in->n_pending; i++)
			if (p->verdicts[i].block == b)
				times[nt++] = p->verdicts[i].eta;
		for (size_t k = 0; k < nt; k++) {
			cbq_ms t = times[k];
			if (t >= cutoff)
				continue;
			int64_t running = 0, placed = 0;
			for (size_t r = 0; r < in->n_running; r++) {
				const struct sched_running *run = &in->running[r];
				cbq_ms until = run->expected_end > in->now ? run->expected_end :
									     in->now + 1;
				if (run->block == b && t < until)
					running += run->count;
			}
			for (size_t i = 0; i < in->n_pending; i++) {
				const struct sched_verdict *v = &p->verdicts[i];
				if (v->block != b)
					continue;
				cbq_ms end = v->eta + in->pending[i].duration;
				if (v->eta <= t && t < end)
					placed += in->pending[i].count;
			}
			int64_t room = blk->total - outside - running;
			cr_assert(placed == 0 || placed <= room,
				  "seed %" PRIu64 ": %s over-committed at %+" PRId64
				  " min: %" PRId64 " placed, room for %" PRId64,
				  seed, blk->id, (t - in->now) / 60000, placed, room);
		}
		for (size_t i = 0; i < p->n_launches; i++)
			if (p->launches[i].block == b)
				launched += in->pending[p->launches[i].job].count;
		cr_assert(launched <= blk->available,
			  "seed %" PRIu64 ": %" PRId64 " launched on %s, AWS has %d available",
			  seed, launched, blk->id, blk->available);
	}
}

/* Launches keep quotas and the share caps in force now. */
static void check_policy_now(uint64_t seed, const struct sched_input *in,
			     const struct sched_plan *p)
{
	for (size_t q = 0; q < in->n_quotas; q++) {
		const struct sched_quota *quota = &in->quotas[q];
		int64_t running = 0, launched = 0;
		for (size_t r = 0; r < in->n_running; r++) {
			const struct sched_running *run = &in->running[r];
			const struct sched_block *b = &in->blocks[run->block];
			if (in->accounts[run->account].team == quota->team &&
			    b->type == quota->type && b->state == SCHED_BLOCK_ACTIVE &&
			    in->now < cutoff_of(b))
				running += run->count;
		}
		for (size_t i = 0; i < p->n_launches; i++) {
			const struct sched_pending *j = &in->pending[p->launches[i].job];
			if (in->accounts[j->account].team == quota->team && j->type == quota->type)
				launched += j->count;
		}
		cr_assert(launched == 0 || running + launched <= quota->max,
			  "seed %" PRIu64 ": team %s over its quota: %" PRId64 " + %" PRId64
			  " > %d",
			  seed, in->teams[quota->team].name, running, launched, quota->max);
	}
	for (size_t k = 0; k < in->n_kinds; k++) {
		double share = 1;
		for (size_t w = 0; w < in->n_timeline; w++)
			if (in->timeline[w].kind == k && in->timeline[w].start <= in->now &&
			    in->now < in->timeline[w].end)
				share = in->timeline[w].max_share;
		if (share >= 1)
			continue;
		for (size_t ty = 0; ty < in->n_types; ty++) {
			int64_t cap = 0, running = 0, launched = 0;
			for (size_t b = 0; b < in->n_blocks; b++) {
				const struct sched_block *blk = &in->blocks[b];
				if (blk->type != ty || blk->state == SCHED_BLOCK_INACTIVE ||
				    blk->start > in->now || in->now >= cutoff_of(blk))
					continue;
				int64_t used = 0, outside = blk->used_outside;
				for (size_t r = 0; r < in->n_running; r++)
					if (in->running[r].block == b)
						used += in->running[r].count;
				if (blk->state == SCHED_BLOCK_ACTIVE &&
				    blk->total - used - blk->available > outside)
					outside = blk->total - used - blk->available;
				cap += blk->total - outside;
				for (size_t r = 0; r < in->n_running; r++)
					if (in->running[r].block == b && in->running[r].kind == k &&
					    blk->state == SCHED_BLOCK_ACTIVE)
						running += in->running[r].count;
			}
			for (size_t i = 0; i < p->n_launches; i++) {
				const struct sched_pending *j = &in->pending[p->launches[i].job];
				if (j->kind == k && j->type == ty)
					launched += j->count;
			}
			int64_t limit = (int64_t)(share * (double)cap + 1e-9);
			cr_assert(launched == 0 || running + launched <= limit,
				  "seed %" PRIu64 ": kind %s over its share on %s: %" PRId64
				  " + %" PRId64 " > %" PRId64,
				  seed, in->kinds[k], in->types[ty], running, launched, limit);
		}
	}
}

static void check_plan(uint64_t seed, const struct sched_input *in, const struct sched_plan *p)
{
	bool seen[T_MAX] = { false };
	size_t launches = 0, reservations = 0;

	for (size_t i = 0; i < in->n_pending; i++) {
		const struct sched_verdict *v = &p->verdicts[i];
		cr_assert(v->position >= 1 && v->position <= in->n_pending &&
				  !seen[v->position - 1],
			  "seed %" PRIu64 ": positions are not a permutation", seed);
		seen[v->position - 1] = true;
		cr_assert_eq(p->order[v->position - 1], i, "seed %" PRIu64 ": order ≠ positions",
			     seed);
		cr_assert((unsigned)v->reason < SCHED_REASON_COUNT, "seed %" PRIu64, seed);
		cr_assert_eq(v->reason == SCHED_REASON_LAUNCHING, v->place == SCHED_PLACE_LAUNCH,
			     "seed %" PRIu64 ": job %" PRId64 " reason %s with place %d", seed,
			     in->pending[i].id, sched_reason_name(v->reason), v->place);
		if (v->place == SCHED_PLACE_NONE) {
			cr_assert(v->eta == SCHED_NO_ETA && v->block == SCHED_NONE,
				  "seed %" PRIu64 ": unplaced job with an ETA", seed);
			continue;
		}
		launches += v->place == SCHED_PLACE_LAUNCH;
		reservations += v->place == SCHED_PLACE_RESERVE;
		check_placement(seed, in, i, v);
		char text[SCHED_REASON_BUF];
		cr_assert_gt(sched_reason_format(in, p, i, text, sizeof(text)), 0);
	}
	cr_assert_eq(launches, p->n_launches, "seed %" PRIu64, seed);
	cr_assert_eq(reservations, p->n_reservations, "seed %" PRIu64, seed);
	check_capacity(seed, in, p);
	check_policy_now(seed, in, p);
}

Test(sched_invariants, random_plans_keep_capacity_cutoff_and_consumer_rules)
{
	struct tin *t = malloc(sizeof(*t));
	size_t launched = 0, reserved = 0, waiting = 0;

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct sched_plan p = { 0 };
		struct cbq_error err = { 0 };
		generate(t, seed);
		cr_assert_eq(sched_plan(&t->in, &p, &err), CBQ_OK, "seed %" PRIu64 ": %s: %s", seed,
			     err.field, err.msg);
		check_plan(seed, &t->in, &p);
		launched += p.n_launches;
		reserved += p.n_reservations;
		waiting += t->in.n_pending - p.n_launches - p.n_reservations;
		sched_plan_free(&p);
	}
	/* the generator must exercise every outcome, or the checks prove little */
	cr_expect_gt(launched, SEEDS, "only %zu launches (%zu reserved, %zu unplaced)", launched,
		     reserved, waiting);
	cr_expect_gt(reserved, SEEDS, "only %zu reservations", reserved);
	cr_expect_gt(waiting, SEEDS, "only %zu unplaced", waiting);
	free(t);
}

Test(sched_invariants, a_jobs_plan_depends_only_on_the_jobs_ahead_of_it)
{
	struct tin *t = malloc(sizeof(*t)), *top = malloc(sizeof(*top));

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct sched_plan p = { 0 }, q = { 0 };
		generate(t, seed);
		cr_assert_eq(sched_plan(&t->in, &p, NULL), CBQ_OK);
		/* keep only the first k jobs of the queue */
		uint64_t r = seed;
		size_t k = t->n_pending ? (size_t)rng_range(&r, 0, (int64_t)t->n_pending) : 0;
		*top = *t;
		top->n_pending = 0;
		for (size_t i = 0; i < t->n_pending; i++)
			if (p.verdicts[i].position <= k)
				top->pending[top->n_pending++] = t->pending[i];
		tin_finish(top);
		cr_assert_eq(sched_plan(&top->in, &q, NULL), CBQ_OK);
		for (size_t i = 0; i < top->n_pending; i++) {
			size_t orig = 0;
			while (t->pending[orig].id != top->pending[i].id)
				orig++;
			const struct sched_verdict *a = &p.verdicts[orig], *b = &q.verdicts[i];
			char ta[SCHED_REASON_BUF], tb[SCHED_REASON_BUF];
			sched_reason_format(&t->in, &p, orig, ta, sizeof(ta));
			sched_reason_format(&top->in, &q, i, tb, sizeof(tb));
			cr_assert(a->place == b->place && a->block == b->block &&
					  a->eta == b->eta && a->position == b->position &&
					  strcmp(ta, tb) == 0,
				  "seed %" PRIu64 ": job %" PRId64 " changed when jobs behind it "
				  "were removed:\n  all: %d %" PRId64 " %s\n  top %zu: %d %" PRId64
				  " %s",
				  seed, t->pending[orig].id, a->place, a->eta, ta, k, b->place,
				  b->eta, tb);
		}
		sched_plan_free(&p);
		sched_plan_free(&q);
	}
	free(top);
	free(t);
}

Test(sched_invariants, input_order_never_changes_the_plan)
{
	struct tin *t = malloc(sizeof(*t)), *s = malloc(sizeof(*s));

	for (uint64_t seed = 1; seed <= SEEDS; seed++) {
		struct sched_plan p = { 0 }, q = { 0 };
		generate(t, seed);
		tin_shuffle(t, s, seed ^ 0x5eed);
		cr_assert_eq(sched_plan(&t->in, &p, NULL), CBQ_OK);
		cr_assert_eq(sched_plan(&s->in, &q, NULL), CBQ_OK);
		char *a = plan_dump(&t->in, &p), *b = plan_dump(&s->in, &q);
		cr_assert_str_eq(a, b, "seed %" PRIu64 ": shuffled input, different plan", seed);
		free(a);
		free(b);
		sched_plan_free(&p);
		sched_plan_free(&q);
	}
	free(s);
	free(t);
}

/* Big name tables (more accounts × types and teams × types than the
 * scheduler keeps lookup tables for) must plan exactly like small ones:
 * the same input padded with unused accounts, teams and instance types. */
Test(sched_invariants, bisection_past_the_table_limit_plans_like_the_tables)
{
	enum { PAD_ACCOUNTS = 1100, PAD_TYPES = 1000 };
	struct tin *t = malloc(sizeof(*t));
	size_t na = 0, nt = 0, nteams = 0;
	struct sched_account *accounts = calloc(T_MAX + PAD_ACCOUNTS, sizeof(*accounts));
	struct sched_team *teams = calloc(T_MAX + PAD_ACCOUNTS, sizeof(*teams));
	const char **types = calloc(T_MAX + PAD_TYPES, sizeof(*types));
	char(*names)[T_NAME] = calloc(PAD_ACCOUNTS + PAD_TYPES, T_NAME);

	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct sched_plan p = { 0 }, q = { 0 };
		generate(t, seed);
		struct sched_input big = t->in;
		/* the same tables, then unused rows after them */
		nteams = t->n_teams;
		memcpy(teams, t->teams, nteams * sizeof(*teams));
		na = t->n_accounts;
		memcpy(accounts, t->accounts, na * sizeof(*accounts));
		nt = t->n_types;
		for (size_t i = 0; i < nt; i++)
			types[i] = t->types[i];
		for (size_t i = 0; i < PAD_ACCOUNTS; i++) {
			snprintf(names[i], T_NAME, "pad-%zu", i);
			teams[nteams + i] =
				(struct sched_team){ .name = names[i], .usage_at = t->now };
			accounts[na + i] = (struct sched_account){ .id = names[i],
								   .team = (uint32_t)(nteams + i) };
		}
		for (size_t i = 0; i < PAD_TYPES; i++) {
			snprintf(names[PAD_ACCOUNTS + i], T_NAME, "x%zu.large", i);
			types[nt + i] = names[PAD_ACCOUNTS + i];
		}
		big.teams = teams;
		big.n_teams = nteams + PAD_ACCOUNTS;
		big.accounts = accounts;
		big.n_accounts = na + PAD_ACCOUNTS;
		big.types = types;
		big.n_types = nt + PAD_TYPES;
		cr_assert_eq(sched_plan(&t->in, &p, NULL), CBQ_OK);
		cr_assert_eq(sched_plan(&big, &q, NULL), CBQ_OK);
		char *a = plan_dump(&t->in, &p), *b = plan_dump(&big, &q);
		cr_assert_str_eq(a, b, "seed %" PRIu64 ": padded tables, different plan", seed);
		free(a);
		free(b);
		sched_plan_free(&p);
		sched_plan_free(&q);
	}
	free(names);
	free(types);
	free(teams);
	free(accounts);
	free(t);
}
