/*
 * cbq-bench-sched: times sched_plan() on a realistic random snapshot and
 * prints one line of numbers. Mixed kinds, 1–64 instances, 30 min–7 day
 * walltimes, blocks of 1–14 days (a quarter scheduled for later), 1–20
 * consumer accounts per block, running jobs filling the active blocks, the
 * default day/night policy with share caps, quotas for some teams. It
 * measures; it asserts nothing (the unit tests do). cycle_ms is the CPU time
 * of one sched_plan() call (one thread, so one core); wall_ms beside it
 * differs only when the machine is busy.
 *
 *   cbq-bench-sched [--jobs 100000] [--blocks 1000] [--teams 200] [--seed 1] [--cycles 20]
 *                   [--warmup 2]
 *
 * The first warmup cycles are not counted: a daemon plans every second, and
 * its steady state has the allocator's memory mapped already (first_ms
 * shows what the very first, cold cycle cost).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "core/alloc.h"
#include "core/block.h"
#include "sched/sched.h"

#define MIN_MS ((cbq_ms)60 * 1000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
/* 2026-03-02T10:00Z, a Monday morning */
#define T0 ((cbq_ms)1772445600000)

enum { ID_LEN = 32, CYCLES_MAX = 100000 };

struct opts {
	long jobs, blocks, teams, cycles, warmup;
	uint64_t seed;
};

/* Everything the snapshot points into; freed together. */
struct world {
	struct sched_input in;
	char *team_names, *account_ids, *block_ids;
	struct sched_team *teams;
	struct sched_account *accounts;
	struct sched_quota *quotas;
	struct sched_window *timeline;
	struct sched_block *blocks;
	uint32_t *consumers;
	struct sched_pending *pending;
	struct sched_running *running;
};

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int64_t range(uint64_t *s, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(s) % (uint64_t)(hi - lo + 1));
}

static double unit(uint64_t *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static const char *const kinds[] = { "training", "inference", "research" };
static const char *const types[] = { "p5.48xlarge",  "p5e.48xlarge",  "p5en.48xlarge",
				     "p4d.24xlarge", "trn1.32xlarge", "trn2.48xlarge" };
static const int type_weight[] = { 40, 15, 10, 15, 10, 10 }; /* percent */
static const char *const azs[] = { "us-east-1a", "us-east-1b", "us-east-1c",
				   "us-east-1d", "us-east-2a", "us-east-2b" };
enum { N_KINDS = 3, N_TYPES = 6, N_AZS = 6 };

static uint32_t pick_type(uint64_t *s)
{
	int64_t x = range(s, 0, 99);
	for (uint32_t t = 0; t < N_TYPES; t++) {
		if (x < type_weight[t])
			return t;
		x -= type_weight[t];
	}
	return 0;
}

/* 1–64, mostly small: how teams actually size jobs */
static int32_t pick_count(uint64_t *s)
{
	int64_t x = range(s, 0, 99);
	return (int32_t)(x < 60 ? range(s, 1, 8) : x < 90 ? range(s, 9, 32) : range(s, 33, 64));
}

/* Log-uniform between 30 minutes and 7 days. */
static cbq_ms pick_duration(uint64_t *s)
{
	double lo = 30.0, hi = 7 * 24 * 60.0, x = unit(s), m = lo;
	/* lo × (hi/lo)^x without libm: repeated squaring is overkill, step in 1% */
	for (int i = 0; i < (int)(x * 100); i++)
		m *= 1.0592; /* (336)^(1/100) */
	if (m > hi)
		m = hi;
	return (cbq_ms)m * MIN_MS;
}

/* The default policy as cbq_policy_timeline() returns it in UTC: training
 * favoured 08:00–20:00 Monday–Friday, inference the rest; each kind capped
 * to half the capacity outside its own window. */
static size_t build_timeline(struct world *w, cbq_ms now, cbq_ms horizon)
{
	cbq_ms day0 = now - now % DAY_MS;
	size_t n = 0;

	for (cbq_ms day = day0; day < now + horizon; day += DAY_MS) {
		int dow = (int)((day / DAY_MS + 3) % 7); /* 0 = Monday; 1970-01-01 was a Thursday */
		bool weekday = dow < 5;
		cbq_ms edges[3] = { day + 8 * HOUR_MS, day + 20 * HOUR_MS, day + DAY_MS };
		cbq_ms from = day;
		for (int e = 0; e < 3; e++) {
			bool training_time = weekday && e == 1;
			struct sched_window tr = { .start = from, .end = edges[e], .kind = 0 };
			struct sched_window inf = { .start = from, .end = edges[e], .kind = 1 };
			tr.boost = training_time ? 100 : 0;
			tr.max_share = training_time ? 1.0 : 0.5;
			inf.boost = training_time ? 0 : 100;
			inf.max_share = training_time ? 0.5 : 1.0;
			w->timeline[n++] = tr;
			w->timeline[n++] = inf;
			from = edges[e];
		}
	}
	return n;
}

static void build(struct world *w, const struct opts *o)
{
	uint64_t s = o->seed * 0x2545f4914f6cdd1dULL + 7;
	size_t nt = (size_t)o->teams, nb = (size_t)o->blocks, nj = (size_t)o->jobs;
	cbq_ms now = T0;
	struct sched_settings set;

	sched_settings_default(&set);
	memset(w, 0, sizeof(*w));

	w->team_names = cbq_xcalloc(nt, ID_LEN);
	w->teams = cbq_xcalloc(nt, sizeof(*w->teams));
	for (size_t i = 0; i < nt; i++) {
		snprintf(w->team_names + i * ID_LEN, ID_LEN, "team-%zu", i);
		w->teams[i] = (struct sched_team){
			.name = w->team_names + i * ID_LEN,
			.priority = (int32_t)range(&s, -50, 50),
			.usage = (double)range(&s, 0, 20000),
			.usage_at = now,
		};
	}
	/* 1–5 accounts per team */
	size_t na = 0, cap_accounts = nt * 5;
	w->account_ids = cbq_xcalloc(cap_accounts, ID_LEN);
	w->accounts = cbq_xcalloc(cap_accounts, sizeof(*w->accounts));
	for (size_t t = 0; t < nt; t++)
		for (int64_t k = range(&s, 1, 5); k > 0; k--, na++) {
			snprintf(w->account_ids + na * ID_LEN, ID_LEN, "%012zu", 100000000000 + na);
			w->accounts[na] =
				(struct sched_account){ .id = w->account_ids + na * ID_LEN,
							.team = (uint32_t)t };
		}
	/* a fifth of the teams have a quota on one or two types */
	size_t nq = 0;
	w->quotas = cbq_xcalloc(nt * 2, sizeof(*w->quotas));
	for (size_t t = 0; t < nt; t++) {
		if (range(&s, 0, 4))
			continue;
		uint32_t a = pick_type(&s), b = (a + 1) % N_TYPES;
		w->quotas[nq++] = (struct sched_quota){ .team = (uint32_t)t,
							.type = a,
							.max = (int32_t)range(&s, 8, 128) };
		if (range(&s, 0, 1))
			w->quotas[nq++] = (struct sched_quota){ .team = (uint32_t)t,
								.type = b,
								.max = (int32_t)range(&s, 8, 128) };
	}
	w->timeline = cbq_xcalloc((size_t)(set.horizon / DAY_MS + 2) * 6, sizeof(*w->timeline));
	size_t nw = build_timeline(w, now, set.horizon);

	/* blocks: 1–14 days, a quarter scheduled, 1–64 instances, 1–20 consumers */
	w->block_ids = cbq_xcalloc(nb, ID_LEN);
	w->blocks = cbq_xcalloc(nb, sizeof(*w->blocks));
	w->consumers = cbq_xcalloc(nb * 20, sizeof(*w->consumers));
	for (size_t b = 0; b < nb; b++) {
		struct sched_block *blk = &w->blocks[b];
		cbq_ms len = range(&s, 1, 14) * DAY_MS;
		bool scheduled = range(&s, 0, 3) == 0;
		snprintf(w->block_ids + b * ID_LEN, ID_LEN, "cr-%017" PRIx64, rnd(&s) >> 4);
		*blk = (struct sched_block){
			.id = w->block_ids + b * ID_LEN,
			.state = scheduled ? SCHED_BLOCK_SCHEDULED : SCHED_BLOCK_ACTIVE,
			.type = pick_type(&s),
			.az = (uint32_t)range(&s, 0, N_AZS - 1),
			.owner = range(&s, 0, 1) ? (uint32_t)range(&s, 0, (int64_t)na - 1) :
						   SCHED_NONE,
			.total = (int32_t)(range(&s, 0, 3) ? range(&s, 1, 16) * 4 :
							     range(&s, 1, 64)),
		};
		if (blk->total > 64)
			blk->total = 64;
		blk->start = scheduled ? now + range(&s, 1, 14 * 24) * HOUR_MS :
					 now - range(&s, 0, len - HOUR_MS);
		blk->end = blk->start + len;
		blk->used_outside = range(&s, 0, 9) < 3 ? (int32_t)range(&s, 0, blk->total / 4) : 0;
		blk->consumers = w->consumers + b * 20;
		for (int64_t c = range(&s, 1, 20); c > 0; c--)
			w->consumers[b * 20 + blk->n_consumers++] =
				(uint32_t)range(&s, 0, (int64_t)na - 1);
	}

	/* running jobs fill the active blocks to 50–90 % */
	size_t cap_running = 0, nr = 0;
	for (size_t b = 0; b < nb; b++)
		cap_running += (size_t)w->blocks[b].total;
	w->running = cbq_xcalloc(cap_running, sizeof(*w->running));
	for (size_t b = 0; b < nb; b++) {
		struct sched_block *blk = &w->blocks[b];
		int32_t room = blk->total - blk->used_outside, used = 0;
		int32_t target = (int32_t)(room * (50 + range(&s, 0, 40)) / 100);
		if (blk->state == SCHED_BLOCK_ACTIVE && blk->end - BLOCK_CUTOFF_LEAD_MS > now)
			while (used < target) {
				int32_t c = pick_count(&s);
				if (c > target - used)
					c = target - used;
				cbq_ms started = now - range(&s, 0, 2 * DAY_MS);
				w->running[nr] = (struct sched_running){
					.id = 10000000 + (int64_t)nr,
					.account = blk->n_consumers ? blk->consumers[0] : 0,
					.kind = (uint32_t)range(&s, 0, N_KINDS - 1),
					.block = (uint32_t)b,
					.count = c,
					.started_at = started,
					.expected_end = now + range(&s, 1, 3 * 24 * 60) * MIN_MS,
					.checkpointable = range(&s, 0, 2) == 0,
				};
				nr++;
				used += c;
			}
		blk->available = room - used;
	}

	w->pending = cbq_xcalloc(nj, sizeof(*w->pending));
	for (size_t i = 0; i < nj; i++) {
		int64_t k = range(&s, 0, 9);
		w->pending[i] = (struct sched_pending){
			.id = (int64_t)i + 1,
			.account = (uint32_t)range(&s, 0, (int64_t)na - 1),
			.kind = k < 5 ? 0 :
				k < 8 ? 1 :
					2,
			.type = pick_type(&s),
			.az = range(&s, 0, 4) ? SCHED_NONE : (uint32_t)range(&s, 0, N_AZS - 1),
			.count = pick_count(&s),
			.duration = pick_duration(&s),
			.priority = (int32_t)(range(&s, 0, 3) ? 0 : range(&s, -100, 100)),
			.checkpointable = range(&s, 0, 9) < 3,
			.submitted_at = now - range(&s, 0, 7 * DAY_MS),
		};
	}

	w->in = (struct sched_input){
		.now = now,
		.settings = set,
		.kinds = kinds,
		.n_kinds = N_KINDS,
		.types = types,
		.n_types = N_TYPES,
		.azs = azs,
		.n_azs = N_AZS,
		.teams = w->teams,
		.n_teams = nt,
		.accounts = w->accounts,
		.n_accounts = na,
		.quotas = w->quotas,
		.n_quotas = nq,
		.timeline = w->timeline,
		.n_timeline = nw,
		.blocks = w->blocks,
		.n_blocks = nb,
		.pending = w->pending,
		.n_pending = nj,
		.running = w->running,
		.n_running = nr,
	};
}

static void world_free(struct world *w)
{
	free(w->team_names);
	free(w->account_ids);
	free(w->block_ids);
	free(w->teams);
	free(w->accounts);
	free(w->quotas);
	free(w->timeline);
	free(w->blocks);
	free(w->consumers);
	free(w->pending);
	free(w->running);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double percentile(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	return v[k ? k - 1 : 0];
}

static int usage(const char *msg)
{
	fprintf(stderr,
		"cbq-bench-sched: %s\n"
		"usage: cbq-bench-sched [--jobs N] [--blocks N] [--teams N] [--seed N] [--cycles N]\n"
		"                       [--warmup N]\n",
		msg);
	return 2;
}

static bool number(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	struct opts o = {
		.jobs = 100000, .blocks = 1000, .teams = 200, .cycles = 20, .warmup = 2, .seed = 1
	};
	struct world w;

	for (int i = 1; i < argc; i++) {
		long v;
		if (i + 1 >= argc)
			return usage("every option takes a value");
		const char *opt = argv[i], *val = argv[++i];
		if (strcmp(opt, "--jobs") == 0 && number(val, 0, SCHED_PENDING_MAX, &v))
			o.jobs = v;
		else if (strcmp(opt, "--blocks") == 0 && number(val, 1, SCHED_BLOCKS_MAX, &v))
			o.blocks = v;
		else if (strcmp(opt, "--teams") == 0 && number(val, 1, SCHED_TEAMS_MAX / 5, &v))
			o.teams = v;
		else if (strcmp(opt, "--cycles") == 0 && number(val, 1, CYCLES_MAX, &v))
			o.cycles = v;
		else if (strcmp(opt, "--warmup") == 0 && number(val, 0, CYCLES_MAX, &v))
			o.warmup = v;
		else if (strcmp(opt, "--seed") == 0 && number(val, 0, 1L << 30, &v))
			o.seed = (uint64_t)v;
		else
			return usage("unknown option or value out of range");
	}

	build(&w, &o);
	/* CPU time of the one thread is what a cycle costs on one core, even
	 * when the machine is shared; wall time is printed beside it */
	double *ms = cbq_xcalloc((size_t)o.cycles, sizeof(*ms));
	double *wall = cbq_xcalloc((size_t)o.cycles, sizeof(*wall)), format_ms = 0, first_ms = 0;
	size_t launches = 0, reservations = 0;
	for (long c = -o.warmup; c < o.cycles; c++) {
		struct sched_plan plan = { 0 };
		struct cbq_error err = { 0 };
		struct timespec c0, c1, w0, w1;

		w.in.now = T0 + (c + o.warmup) * 1000; /* one tick a second, as the engine runs */
		clock_gettime(CLOCK_MONOTONIC, &w0);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		if (sched_plan(&w.in, &plan, &err) != CBQ_OK) {
			fprintf(stderr, "cbq-bench-sched: sched_plan: %s: %s\n", err.field,
				err.msg);
			return 1;
		}
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		clock_gettime(CLOCK_MONOTONIC, &w1);
		if (c == -o.warmup)
			first_ms = ms_between(&c0, &c1);
		if (c >= 0) {
			ms[c] = ms_between(&c0, &c1);
			wall[c] = ms_between(&w0, &w1);
		}
		if (c == 0) {
			/* what the engine pays to turn every reason into text once */
			char buf[SCHED_REASON_BUF];
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
			for (size_t j = 0; j < w.in.n_pending; j++)
				sched_reason_format(&w.in, &plan, j, buf, sizeof(buf));
			clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
			format_ms = ms_between(&c0, &c1);
			launches = plan.n_launches;
			reservations = plan.n_reservations;
		}
		sched_plan_free(&plan);
	}
	qsort(ms, (size_t)o.cycles, sizeof(*ms), cmp_double);
	qsort(wall, (size_t)o.cycles, sizeof(*wall), cmp_double);

	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("jobs=%ld blocks=%ld teams=%ld cycles=%ld cycle_ms_p50=%.1f cycle_ms_p99=%.1f "
	       "peak_rss_mb=%.1f wall_ms_p50=%.1f first_ms=%.1f warmup=%ld running=%zu "
	       "launches=%zu reservations=%zu reasons_ms=%.1f\n",
	       o.jobs, o.blocks, o.teams, o.cycles, percentile(ms, (size_t)o.cycles, 50),
	       percentile(ms, (size_t)o.cycles, 99), (double)ru.ru_maxrss / 1024.0,
	       percentile(wall, (size_t)o.cycles, 50), first_ms, o.warmup, w.in.n_running, launches,
	       reservations, format_ms);
	free(ms);
	free(wall);
	world_free(&w);
	return 0;
}
