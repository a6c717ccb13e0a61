/*
 * Token buckets keyed by team (see ratelimit.h). Levels are kept in
 * thousandths of a request so that a rate of r requests/s refills exactly r
 * per millisecond with integer arithmetic. The table is open addressing with
 * linear probing, twice as many slots as keys, and backward-shift deletion
 * (no tombstones), so its size is fixed at creation.
 */
#include "api/ratelimit.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

enum {
	MILLI = 1000, /* one request */
	SLOTS = 2 * API_RATELIMIT_KEYS_MAX,
};
static_assert((SLOTS & (SLOTS - 1)) == 0, "SLOTS is a power of two");

struct bucket {
	bool used;
	uint32_t hash;
	char key[API_RATELIMIT_KEY_MAX + 1];
	int64_t level; /* thousandths of a request */
	cbq_ms last;   /* when level was last brought up to date */
};

struct api_ratelimit {
	int64_t rate; /* thousandths per ms = requests per s */
	int64_t cap;  /* burst, in thousandths */
	int n;
	struct bucket slots[SLOTS];
};

struct api_ratelimit *api_ratelimit_new(uint32_t rate_per_s, uint32_t burst)
{
	struct api_ratelimit *rl = cbq_xcalloc(1, sizeof(*rl));

	rl->rate = rate_per_s;
	rl->cap = (int64_t)(burst ? burst : 1) * MILLI;
	return rl;
}

void api_ratelimit_free(struct api_ratelimit *rl)
{
	free(rl);
}

int api_ratelimit_keys(const struct api_ratelimit *rl)
{
	return rl->n;
}

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The level at now, without storing it. */
static int64_t level_at(const struct api_ratelimit *rl, const struct bucket *b, cbq_ms now)
{
	int64_t elapsed = now > b->last ? now - b->last : 0;

	/* compare before multiplying: a long idle gap must not overflow */
	if (elapsed >= (rl->cap - b->level) / rl->rate + 1)
		return rl->cap;
	return b->level + elapsed * rl->rate;
}

/* Empties slot i and moves later members of its probe run back into the hole. */
static void remove_at(struct api_ratelimit *rl, size_t i)
{
	size_t j = i;

	rl->n--;
	for (;;) {
		rl->slots[i].used = false;
		for (;;) {
			size_t home;

			j = (j + 1) & (SLOTS - 1);
			if (!rl->slots[j].used)
				return;
			home = rl->slots[j].hash & (SLOTS - 1);
			/* j stays when its home lies cyclically in (i, j] */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		rl->slots[i] = rl->slots[j];
		i = j;
	}
}

/* Makes room for one key: drops every full bucket, or else the fullest. */
static void evict(struct api_ratelimit *rl, cbq_ms now)
{
	size_t fullest = SLOTS;
	int64_t best = -1;

	for (size_t i = 0; i < SLOTS;) {
		struct bucket *b = &rl->slots[i];
		int64_t level;

		if (!b->used) {
			i++;
			continue;
		}
		level = level_at(rl, b, now);
		if (level >= rl->cap) {
			remove_at(rl, i); /* slot i may now hold another key: look again */
			continue;
		}
		if (level > best) {
			best = level;
			fullest = i;
		}
		i++;
	}
	if (rl->n >= API_RATELIMIT_KEYS_MAX && fullest < SLOTS)
		remove_at(rl, fullest);
}

/* The bucket of key, created full when new. */
static struct bucket *lookup(struct api_ratelimit *rl, const char *key, size_t len, cbq_ms now)
{
	uint32_t h = fnv1a(key, len);
	size_t i = h & (SLOTS - 1);
	struct bucket *b;

	for (;; i = (i + 1) & (SLOTS - 1)) {
		b = &rl->slots[i];
		if (!b->used)
			break;
		if (b->hash == h && strcmp(b->key, key) == 0)
			return b;
	}
	if (rl->n >= API_RATELIMIT_KEYS_MAX) {
		evict(rl, now);
		/* the probe run changed: find the free slot again */
		for (i = h & (SLOTS - 1); rl->slots[i].used; i = (i + 1) & (SLOTS - 1))
			;
		b = &rl->slots[i];
	}
	b->used = true;
	b->hash = h;
	memcpy(b->key, key, len + 1);
	b->level = rl->cap;
	b->last = now;
	rl->n++;
	return b;
}

enum api_rate api_ratelimit_take(struct api_ratelimit *rl, const char *key, cbq_ms now,
				 int *retry_after_s)
{
	size_t len = key ? strnlen(key, API_RATELIMIT_KEY_MAX + 1) : 0;
	struct bucket *b;
	int64_t wait_ms;

	if (len == 0 || len > API_RATELIMIT_KEY_MAX)
		return API_RATE_BAD_KEY;
	if (rl->rate == 0)
		return API_RATE_ALLOW;
	b = lookup(rl, key, len, now);
	b->level = level_at(rl, b, now);
	if (now > b->last)
		b->last = now;
	if (b->level >= MILLI) {
		b->level -= MILLI;
		return API_RATE_ALLOW;
	}
	wait_ms = (MILLI - b->level + rl->rate - 1) / rl->rate;
	*retry_after_s = (int)((wait_ms + 999) / 1000);
	if (*retry_after_s < 1)
		*retry_after_s = 1;
	return API_RATE_LIMITED;
}
