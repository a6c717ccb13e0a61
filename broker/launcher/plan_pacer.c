/*
 * The per-account RunInstances pacer: a model of EC2's two token buckets
 * per account (AWS.md §11.5), in integer millionths of a token so that
 * refill is exact and the same inputs always give the same waits. It says
 * when a launch may go; it does not sleep, retry or decide what to launch.
 */
#include "launcher/plan.h"

#include <string.h>

#define MICRO ((int64_t)1000000)

void launch_pacer_settings_default(struct launch_pacer_settings *s)
{
	*s = (struct launch_pacer_settings){
		.requests = { .max = 5, .refill_milli = 2000 },
		.instances = { .max = 1000, .refill_milli = 2000 },
	};
}

static enum cbq_err check_spec(const struct launch_bucket_spec *b, const char *field,
			       struct cbq_error *err)
{
	if (b->max < 1 || b->max > 1000000)
		return cbq_fail(err, CBQ_ERR_INVALID, field,
				"bucket size %lld is outside 1..1000000", (long long)b->max);
	if (b->refill_milli < 1 || b->refill_milli > 1000000000)
		return cbq_fail(err, CBQ_ERR_INVALID, field,
				"refill of %lld thousandths of a token per second is outside 1..1e9",
				(long long)b->refill_milli);
	return CBQ_OK;
}

enum cbq_err launch_pacer_init(struct launch_pacer *p, const struct launch_pacer_settings *s,
			       struct cbq_error *err)
{
	enum cbq_err rc;

	if ((rc = check_spec(&s->requests, "pacer.requests", err)) ||
	    (rc = check_spec(&s->instances, "pacer.instances", err)))
		return rc;
	p->set = *s;
	p->n = 0;
	return CBQ_OK;
}

/* A rate of refill_milli thousandths of a token per second is exactly
 * refill_milli millionths per millisecond. */
static int64_t ceil_div(int64_t a, int64_t b)
{
	return a <= 0 ? 0 : (a + b - 1) / b;
}

static void refill(struct launch_bucket *b, const struct launch_bucket_spec *s, cbq_ms now)
{
	int64_t cap = s->max * MICRO;

	if (now > b->at) {
		int64_t need = cap - b->micro;
		cbq_ms elapsed = now - b->at;
		/* compare before multiplying, so a long idle time cannot overflow */
		if (elapsed >= ceil_div(need, s->refill_milli))
			b->micro = cap;
		else
			b->micro += elapsed * s->refill_milli;
	}
	b->at = now;
}

/* How long until b holds tokens (b refilled to now). */
static cbq_ms wait_for(const struct launch_bucket *b, const struct launch_bucket_spec *s,
		       int64_t tokens)
{
	return ceil_div(tokens * MICRO - b->micro, s->refill_milli);
}

/* When both buckets of slot will be full again. */
static cbq_ms full_at(const struct launch_pacer_slot *slot, const struct launch_pacer_settings *s)
{
	cbq_ms r = slot->requests.at + wait_for(&slot->requests, &s->requests, s->requests.max);
	cbq_ms i = slot->instances.at + wait_for(&slot->instances, &s->instances, s->instances.max);
	return r > i ? r : i;
}

static struct launch_pacer_slot *find(struct launch_pacer *p, const char *account)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->slots[i].account, account) == 0)
			return &p->slots[i];
	return NULL;
}

/* The account's slot, made (full) when it has none. */
static struct launch_pacer_slot *slot_for(struct launch_pacer *p, const char *account, cbq_ms now)
{
	struct launch_pacer_slot *slot = find(p, account);

	if (slot)
		return slot;
	if (p->n < LAUNCH_PACER_ACCOUNTS) {
		slot = &p->slots[p->n++];
	} else {
		slot = &p->slots[0];
		for (size_t i = 1; i < p->n; i++)
			if (full_at(&p->slots[i], &p->set) < full_at(slot, &p->set))
				slot = &p->slots[i];
	}
	memcpy(slot->account, account, 13);
	slot->requests = (struct launch_bucket){ .micro = p->set.requests.max * MICRO, .at = now };
	slot->instances =
		(struct launch_bucket){ .micro = p->set.instances.max * MICRO, .at = now };
	return slot;
}

bool launch_pacer_take(struct launch_pacer *p, const char *account, int32_t count, cbq_ms now,
		       cbq_ms *wait_ms)
{
	if (!account || !cbq_is_account_id(account) || count < 1 || count > p->set.instances.max) {
		*wait_ms = LAUNCH_PACER_NEVER;
		return false;
	}

	struct launch_pacer_slot *slot = slot_for(p, account, now);
	refill(&slot->requests, &p->set.requests, now);
	refill(&slot->instances, &p->set.instances, now);
	cbq_ms wr = wait_for(&slot->requests, &p->set.requests, 1);
	cbq_ms wi = wait_for(&slot->instances, &p->set.instances, count);
	if (wr > 0 || wi > 0) {
		*wait_ms = wr > wi ? wr : wi;
		return false;
	}
	slot->requests.micro -= MICRO;
	slot->instances.micro -= (int64_t)count * MICRO;
	*wait_ms = 0;
	return true;
}

void launch_pacer_throttled(struct launch_pacer *p, const char *account, cbq_ms now)
{
	if (!account || !cbq_is_account_id(account))
		return;

	struct launch_pacer_slot *slot = slot_for(p, account, now);
	refill(&slot->requests, &p->set.requests, now);
	slot->requests.micro = 0;
}
