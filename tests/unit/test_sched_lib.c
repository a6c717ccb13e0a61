/* Helpers shared by the scheduler tests; see test_sched_lib.h. */
#include "test_sched_lib.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t tin_find(char (*tab)[T_NAME], size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(tab[i], name) == 0)
			return (uint32_t)i;
	return SCHED_NONE;
}

uint32_t tin_intern(char (*tab)[T_NAME], size_t *n, const char *name)
{
	uint32_t i = tin_find(tab, *n, name);

	if (i != SCHED_NONE)
		return i;
	if (*n == T_MAX)
		return SCHED_NONE;
	snprintf(tab[*n], T_NAME, "%s", name);
	return (uint32_t)(*n)++;
}

void tin_finish(struct tin *t)
{
	for (size_t i = 0; i < t->n_kinds; i++)
		t->kind_p[i] = t->kinds[i];
	for (size_t i = 0; i < t->n_types; i++)
		t->type_p[i] = t->types[i];
	for (size_t i = 0; i < t->n_azs; i++)
		t->az_p[i] = t->azs[i];
	for (size_t i = 0; i < t->n_teams; i++)
		t->teams[i].name = t->team_names[i];
	for (size_t i = 0; i < t->n_accounts; i++)
		t->accounts[i].id = t->account_ids[i];
	for (size_t i = 0; i < t->n_blocks; i++) {
		t->blocks[i].id = t->block_ids[i];
		t->blocks[i].consumers = t->consumers[i];
	}
	t->in = (struct sched_input){
		.now = t->now,
		.settings = t->set,
		.kinds = t->kind_p,
		.n_kinds = t->n_kinds,
		.types = t->type_p,
		.n_types = t->n_types,
		.azs = t->az_p,
		.n_azs = t->n_azs,
		.teams = t->teams,
		.n_teams = t->n_teams,
		.accounts = t->accounts,
		.n_accounts = t->n_accounts,
		.quotas = t->quotas,
		.n_quotas = t->n_quotas,
		.timeline = t->timeline,
		.n_timeline = t->n_timeline,
		.blocks = t->blocks,
		.n_blocks = t->n_blocks,
		.pending = t->pending,
		.n_pending = t->n_pending,
		.running = t->running,
		.n_running = t->n_running,
	};
}

uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int64_t rng_range(uint64_t *state, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rng_next(state) % (uint64_t)(hi - lo + 1));
}

/* perm[new] = old; inv[old] = new */
static void permute(uint64_t *rng, size_t n, uint32_t *perm, uint32_t *inv)
{
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n; i > 1; i--) {
		size_t k = (size_t)(rng_next(rng) % i);
		uint32_t x = perm[i - 1];
		perm[i - 1] = perm[k];
		perm[k] = x;
	}
	for (size_t i = 0; i < n; i++)
		inv[perm[i]] = (uint32_t)i;
}

static uint32_t remap(const uint32_t *inv, uint32_t i)
{
	return i == SCHED_NONE ? SCHED_NONE : inv[i];
}

void tin_shuffle(const struct tin *src, struct tin *dst, uint64_t seed)
{
	uint64_t rng = seed;
	uint32_t p[T_MAX], ik[T_MAX], it[T_MAX], iz[T_MAX], iteam[T_MAX], iacc[T_MAX], iblk[T_MAX],
		x[T_MAX];

	*dst = *src;
	permute(&rng, src->n_kinds, p, ik);
	for (size_t i = 0; i < src->n_kinds; i++)
		memcpy(dst->kinds[i], src->kinds[p[i]], T_NAME);
	permute(&rng, src->n_types, p, it);
	for (size_t i = 0; i < src->n_types; i++)
		memcpy(dst->types[i], src->types[p[i]], T_NAME);
	permute(&rng, src->n_azs, p, iz);
	for (size_t i = 0; i < src->n_azs; i++)
		memcpy(dst->azs[i], src->azs[p[i]], T_NAME);
	permute(&rng, src->n_teams, p, iteam);
	for (size_t i = 0; i < src->n_teams; i++) {
		memcpy(dst->team_names[i], src->team_names[p[i]], T_NAME);
		dst->teams[i] = src->teams[p[i]];
	}
	permute(&rng, src->n_accounts, p, iacc);
	for (size_t i = 0; i < src->n_accounts; i++) {
		memcpy(dst->account_ids[i], src->account_ids[p[i]], T_NAME);
		dst->accounts[i] = src->accounts[p[i]];
		dst->accounts[i].team = iteam[dst->accounts[i].team];
	}
	permute(&rng, src->n_quotas, p, x);
	for (size_t i = 0; i < src->n_quotas; i++) {
		dst->quotas[i] = src->quotas[p[i]];
		dst->quotas[i].team = iteam[dst->quotas[i].team];
		dst->quotas[i].type = it[dst->quotas[i].type];
	}
	permute(&rng, src->n_timeline, p, x);
	for (size_t i = 0; i < src->n_timeline; i++) {
		dst->timeline[i] = src->timeline[p[i]];
		dst->timeline[i].kind = ik[dst->timeline[i].kind];
	}
	permute(&rng, src->n_blocks, p, iblk);
	for (size_t i = 0; i < src->n_blocks; i++) {
		const struct sched_block *b = &src->blocks[p[i]];
		uint32_t cp[T_MAX], ci[T_MAX];
		memcpy(dst->block_ids[i], src->block_ids[p[i]], T_NAME);
		dst->blocks[i] = *b;
		dst->blocks[i].type = it[b->type];
		dst->blocks[i].az = iz[b->az];
		dst->blocks[i].owner = remap(iacc, b->owner);
		permute(&rng, b->n_consumers, cp, ci);
		for (size_t c = 0; c < b->n_consumers; c++)
			dst->consumers[i][c] = iacc[src->consumers[p[i]][cp[c]]];
	}
	permute(&rng, src->n_pending, p, x);
	for (size_t i = 0; i < src->n_pending; i++) {
		struct sched_pending *j = &dst->pending[i];
		*j = src->pending[p[i]];
		j->account = iacc[j->account];
		j->kind = ik[j->kind];
		j->type = it[j->type];
		j->az = remap(iz, j->az);
	}
	permute(&rng, src->n_running, p, x);
	for (size_t i = 0; i < src->n_running; i++) {
		struct sched_running *r = &dst->running[i];
		*r = src->running[p[i]];
		r->account = iacc[r->account];
		r->kind = ik[r->kind];
		r->block = iblk[r->block];
	}
	tin_finish(dst);
}

struct by_id {
	int64_t id;
	size_t i;
};

static int cmp_by_id(const void *a, const void *b)
{
	const struct by_id *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static const char *place_name(enum sched_place p)
{
	return p == SCHED_PLACE_LAUNCH ? "launch" : p == SCHED_PLACE_RESERVE ? "reserve" : "none";
}

char *plan_dump(const struct sched_input *in, const struct sched_plan *plan)
{
	size_t cap = 256 + (in->n_pending + plan->n_expiries) * (SCHED_REASON_BUF + 128), len = 0;
	char *out = malloc(cap);
	struct by_id *ids = calloc(in->n_pending ? in->n_pending : 1, sizeof(*ids));

	for (size_t i = 0; i < in->n_pending; i++)
		ids[i] = (struct by_id){ in->pending[i].id, i };
	qsort(ids, in->n_pending, sizeof(*ids), cmp_by_id);
	for (size_t k = 0; k < in->n_pending; k++) {
		const struct sched_verdict *v = &plan->verdicts[ids[k].i];
		char reason[SCHED_REASON_BUF];
		sched_reason_format(in, plan, ids[k].i, reason, sizeof(reason));
		len += (size_t)snprintf(out + len, cap - len,
					"job %" PRId64 " pos %u %s %s eta %" PRId64 " | %s\n",
					ids[k].id, v->position, place_name(v->place),
					v->block == SCHED_NONE ? "-" : in->blocks[v->block].id,
					v->eta, reason);
	}
	for (size_t k = 0; k < plan->n_expiries; k++) {
		const struct sched_expiry *e = &plan->expiries[k];
		len += (size_t)snprintf(out + len, cap - len,
					"expiry %" PRId64 " %s at %" PRId64 "\n", e->job_id,
					sched_expiry_name(e->action), e->at);
	}
	snprintf(out + len, cap - len, "next %" PRId64 "\n", plan->next_at);
	free(ids);
	return out;
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

bool parse_utc(const char *s, cbq_ms *out)
{
	int y, mo, d, h, mi, n = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5)
		return false;
	if (s[n] == 'Z')
		n++;
	if (s[n] || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
		return false;
	*out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000;
	return true;
}
