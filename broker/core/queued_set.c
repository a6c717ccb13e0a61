/* Queued jobs by id; see queued_set.h. */
#include "core/queued_set.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/hash.h"

/* Owned strings, each kept once. Open addressing. */
struct strings {
	char **slots;
	size_t n, n_slots;
};

struct queued_set {
	struct queued_job *jobs;
	size_t n, cap;
	uint32_t *slots; /* open addressing on the id: index + 1, 0 = empty */
	size_t n_slots;
	struct strings strings;
};

/* ---- strings ---------------------------------------------------------------- */

static char **string_slot(char **slots, size_t n_slots, const char *s)
{
	size_t i = cbq_fnv1a_str(CBQ_FNV1A_START, s) & (n_slots - 1);

	while (slots[i] && strcmp(slots[i], s) != 0)
		i = (i + 1) & (n_slots - 1);
	return &slots[i];
}

static const char *string_keep(struct strings *st, const char *s)
{
	char **slot;

	if ((st->n + 1) * 2 > st->n_slots) {
		size_t n_slots = st->n_slots ? st->n_slots * 2 : 64;
		char **slots = cbq_xcalloc(n_slots, sizeof(*slots));

		for (size_t i = 0; i < st->n_slots; i++)
			if (st->slots[i])
				*string_slot(slots, n_slots, st->slots[i]) = st->slots[i];
		free(st->slots);
		st->slots = slots;
		st->n_slots = n_slots;
	}
	slot = string_slot(st->slots, st->n_slots, s);
	if (!*slot) {
		*slot = cbq_xstrdup(s);
		st->n++;
	}
	return *slot;
}

static void strings_clear(struct strings *st)
{
	for (size_t i = 0; i < st->n_slots; i++)
		free(st->slots[i]);
	free(st->slots);
	memset(st, 0, sizeof(*st));
}

/* ---- jobs by id ----------------------------------------------------------- */

static size_t home(const struct queued_set *s, int64_t id)
{
	return cbq_fnv1a(CBQ_FNV1A_START, &id, sizeof(id)) & (s->n_slots - 1);
}

/* The slot that holds id, or the empty slot where it would go. */
static uint32_t *id_slot(const struct queued_set *s, int64_t id)
{
	size_t i = home(s, id);

	while (s->slots[i] && s->jobs[s->slots[i] - 1].id != id)
		i = (i + 1) & (s->n_slots - 1);
	return &s->slots[i];
}

static void rehash(struct queued_set *s, size_t n_slots)
{
	free(s->slots);
	s->slots = cbq_xcalloc(n_slots, sizeof(*s->slots));
	s->n_slots = n_slots;
	for (size_t k = 0; k < s->n; k++)
		*id_slot(s, s->jobs[k].id) = (uint32_t)k + 1;
}

/* Empties slot i, moving later entries of its run back so that every entry
 * stays reachable from its home (linear probing without tombstones). */
static void slot_clear(struct queued_set *s, size_t i)
{
	size_t mask = s->n_slots - 1;

	for (size_t j = (i + 1) & mask; s->slots[j]; j = (j + 1) & mask) {
		size_t h = home(s, s->jobs[s->slots[j] - 1].id);
		/* the entry at j stays when its home lies cyclically in (i, j] */
		bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);

		if (!stays) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i] = 0;
}

/* ---- the API ------------------------------------------------------------ */

struct queued_set *queued_set_new(void)
{
	return cbq_xcalloc(1, sizeof(struct queued_set));
}

void queued_set_free(struct queued_set *s)
{
	if (!s)
		return;
	strings_clear(&s->strings);
	free(s->jobs);
	free(s->slots);
	free(s);
}

void queued_set_clear(struct queued_set *s)
{
	/* the arrays go too, so that a queue that has shrunk since a burst
	 * holds memory for what it is now, not for its largest */
	free(s->jobs);
	free(s->slots);
	s->jobs = NULL;
	s->slots = NULL;
	s->n = s->cap = s->n_slots = 0;
	strings_clear(&s->strings);
}

void queued_set_put(struct queued_set *s, const struct queued_job *job)
{
	struct queued_job copy = *job;
	uint32_t *slot;

	copy.account = string_keep(&s->strings, job->account);
	copy.kind = string_keep(&s->strings, job->kind);
	copy.type = string_keep(&s->strings, job->type);
	if ((s->n + 1) * 2 > s->n_slots)
		rehash(s, s->n_slots ? s->n_slots * 2 : 1024);
	slot = id_slot(s, job->id);
	if (*slot) {
		s->jobs[*slot - 1] = copy;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->jobs = cbq_xrealloc(s->jobs, s->cap, sizeof(*s->jobs));
	}
	s->jobs[s->n] = copy;
	*slot = (uint32_t)++s->n;
}

void queued_set_drop(struct queued_set *s, int64_t id)
{
	uint32_t *slot;
	size_t k, last;

	if (!s->n)
		return;
	slot = id_slot(s, id);
	if (!*slot)
		return;
	k = *slot - 1;
	last = s->n - 1;
	slot_clear(s, (size_t)(slot - s->slots));
	if (k != last) {
		s->jobs[k] = s->jobs[last];
		*id_slot(s, s->jobs[k].id) = (uint32_t)k + 1;
	}
	s->n--;
}

const struct queued_job *queued_set_get(const struct queued_set *s, int64_t id)
{
	uint32_t v;

	if (!s->n)
		return NULL;
	v = *id_slot(s, id);
	return v ? &s->jobs[v - 1] : NULL;
}

const struct queued_job *queued_set_all(const struct queued_set *s, size_t *n)
{
	*n = s->n;
	return s->jobs;
}
