/*
 * The run-time model: block states and capacity over time, instances and
 * their lifecycle, outside launches, extension; see world.h. Sessions and
 * AssumeRole are in iam.c. No I/O and no clock: `now` comes in.
 */
#include "world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum cbq_err sim_world_new(struct sim_scenario *sc, struct sim_world **out, struct cbq_error *err)
{
	struct sim_world *w = calloc(1, sizeof(*w));

	if (!w)
		goto oom;
	w->sc = sc;
	sc = NULL;
	w->rng.state = w->sc->seed;
	w->salt = sim_mix64(w->sc->seed ^ 0x5eed5eedULL);
	w->imds_session = -1;
	w->sessions = calloc(SIM_MAX_SESSIONS, sizeof(*w->sessions));
	w->blk = calloc(w->sc->n_blocks + 1, sizeof(*w->blk));
	w->outside_done = calloc(w->sc->n_outside + 1, sizeof(*w->outside_done));
	if (!w->sessions || !w->blk || !w->outside_done)
		goto oom;
	*out = w;
	return CBQ_OK;
oom:
	sim_world_free(w);
	sim_scenario_free(sc);
	return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
}

void sim_world_free(struct sim_world *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_inst; i++)
		free(w->inst[i].tags);
	if (w->blk)
		for (size_t b = 0; b < w->sc->n_blocks; b++)
			free(w->blk[b].inst);
	free(w->blk);
	free(w->inst);
	free(w->resv);
	free(w->sessions);
	free(w->outside_done);
	if (w->secrets_out)
		fclose(w->secrets_out);
	sim_scenario_free(w->sc);
	free(w);
}

void sim_world_note(struct sim_world *w, cbq_ms at, const char *fmt, ...)
{
	va_list ap;
	size_t k = w->next_event;

	w->events[k].at = at;
	va_start(ap, fmt);
	vsnprintf(w->events[k].text, sizeof(w->events[k].text), fmt, ap);
	va_end(ap);
	w->next_event = (k + 1) % SIM_MAX_EVENTS;
	if (w->n_events < SIM_MAX_EVENTS)
		w->n_events++;
}

void sim_world_count(struct sim_world *w, const char *action)
{
	size_t i;

	for (i = 0; i < w->n_calls; i++)
		if (strcmp(w->calls[i].name, action) == 0)
			break;
	if (i == w->n_calls) {
		if (w->n_calls == SIM_MAX_CALL_NAMES)
			return;
		snprintf(w->calls[i].name, sizeof(w->calls[i].name), "%s", action);
		w->calls[i].n = 0;
		w->n_calls++;
	}
	w->calls[i].n++;
}

cbq_ms sim_block_cutoff(const struct sim_block *b)
{
	return b->end - SIM_CUTOFF_MS;
}

const char *sim_block_state(const struct sim_world *w, size_t b, cbq_ms now)
{
	const struct sim_block *blk = &w->sc->blocks[b];

	switch (blk->fixed) {
	case SIM_BLOCK_CANCELLED: return "cancelled";
	case SIM_BLOCK_PAYMENT_PENDING: return "payment-pending";
	case SIM_BLOCK_PAYMENT_FAILED: return "payment-failed";
	case SIM_BLOCK_TIMED: break;
	}
	if (now < blk->start)
		return "scheduled";
	if (now < blk->end)
		return "active";
	return "expired";
}

cbq_ms sim_instance_end(const struct sim_world *w, const struct sim_instance *in)
{
	cbq_ms cut = sim_block_cutoff(&w->sc->blocks[in->block]), e = in->end;

	if (e < 0 || cut < e)
		e = cut < in->launch ? in->launch : cut;
	return e;
}

enum sim_end_reason sim_instance_reason(const struct sim_world *w, const struct sim_instance *in)
{
	cbq_ms cut = sim_block_cutoff(&w->sc->blocks[in->block]);

	if (in->end >= 0 && in->end <= cut)
		return in->reason;
	return SIM_END_CUTOFF;
}

enum sim_istate sim_instance_state(const struct sim_world *w, const struct sim_instance *in,
				   cbq_ms now)
{
	cbq_ms e = sim_instance_end(w, in);

	if (now >= e)
		return now < e + w->sc->timing.shutting_down ? SIM_SHUTTING_DOWN : SIM_TERMINATED;
	if (now < in->launch + w->sc->timing.pending)
		return SIM_PENDING;
	return SIM_RUNNING;
}

bool sim_instance_listed(const struct sim_world *w, const struct sim_instance *in, cbq_ms now)
{
	cbq_ms e = sim_instance_end(w, in);

	return now < e + w->sc->timing.shutting_down + w->sc->timing.visible;
}

const char *sim_istate_name(enum sim_istate s)
{
	static const char *const names[] = { "pending", "running", "shutting-down", "terminated" };
	return names[s];
}

int sim_istate_code(enum sim_istate s)
{
	static const int codes[] = { 0, 16, 32, 48 };
	return codes[s];
}

/* Instances hold their slot from launch until they are terminated (the
 * shutting-down time is EC2's clean-up, during which the slot is not free). */
int sim_block_used(const struct sim_world *w, size_t b, cbq_ms t)
{
	int used = 0;

	for (size_t k = 0; k < w->blk[b].n; k++) {
		const struct sim_instance *in = &w->inst[w->blk[b].inst[k]];
		if (in->launch <= t && t < sim_instance_end(w, in) + w->sc->timing.shutting_down)
			used++;
	}
	return used;
}

int sim_block_available(const struct sim_world *w, size_t b, cbq_ms now)
{
	const struct sim_block *blk = &w->sc->blocks[b];

	if (strcmp(sim_block_state(w, b, now), "active") != 0 || now >= sim_block_cutoff(blk))
		return 0;
	int free_slots = blk->count - sim_block_used(w, b, now);
	return free_slots > 0 ? free_slots : 0;
}

bool sim_ou_contains(const struct sim_world *w, const char *ou, const char *account)
{
	const struct sim_account *a = sim_scenario_account(w->sc, account);

	if (!a || !a->in_org)
		return false;
	const char *p = a->parent;
	for (size_t steps = 0; steps <= w->sc->org.n_ous && p[0]; steps++) {
		if (strcmp(p, ou) == 0)
			return true;
		const struct sim_ou *up = sim_scenario_ou(w->sc, p);
		if (!up)
			return false;
		p = up->parent;
	}
	return false;
}

bool sim_block_usable_by(const struct sim_world *w, size_t b, const char *account)
{
	const struct sim_block *blk = &w->sc->blocks[b];

	if (strcmp(blk->owner, account) == 0)
		return true;
	for (size_t i = 0; i < blk->n_shared; i++) {
		const char *s = blk->shared[i];
		if (strcmp(s, account) == 0)
			return true;
		if (strcmp(s, "org") == 0) {
			const struct sim_account *a = sim_scenario_account(w->sc, account);
			if (a && a->in_org)
				return true;
		}
		if (strncmp(s, "ou-", 3) == 0 && sim_ou_contains(w, s, account))
			return true;
	}
	return false;
}

long sim_world_find_instance(const struct sim_world *w, const char *id)
{
	for (size_t i = 0; i < w->n_inst; i++)
		if (strcmp(w->inst[i].id, id) == 0)
			return (long)i;
	return -1;
}

long sim_world_find_token(const struct sim_world *w, const char *account, const char *client_token)
{
	for (size_t i = 0; i < w->n_resv; i++)
		if (w->resv[i].client_token[0] &&
		    strcmp(w->resv[i].client_token, client_token) == 0 &&
		    strcmp(w->resv[i].account, account) == 0)
			return (long)i;
	return -1;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

enum cbq_err sim_world_launch(struct sim_world *w, const struct sim_launch *l, size_t *resv_out,
			      struct cbq_error *err)
{
	if (l->count < 1 || w->n_inst + (size_t)l->count > SIM_MAX_INSTANCES)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "count",
				"cbq-awssim holds at most %d instances", SIM_MAX_INSTANCES);
	if (!grow((void **)&w->inst, &w->cap_inst, w->n_inst + (size_t)l->count,
		  sizeof(*w->inst)) ||
	    !grow((void **)&w->resv, &w->cap_resv, w->n_resv + 1, sizeof(*w->resv)) ||
	    !grow((void **)&w->blk[l->block].inst, &w->blk[l->block].cap,
		  w->blk[l->block].n + (size_t)l->count, sizeof(size_t)))
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");

	struct sim_reservation *r = &w->resv[w->n_resv];
	memset(r, 0, sizeof(*r));
	sim_hex_id("r-", w->next_reservation++, w->salt ^ 0x7265736572766eULL, r->id,
		   sizeof(r->id));
	snprintf(r->account, sizeof(r->account), "%s", l->account);
	snprintf(r->client_token, sizeof(r->client_token), "%s",
		 l->client_token ? l->client_token : "");
	if (l->fingerprint)
		memcpy(r->fingerprint, l->fingerprint, sizeof(r->fingerprint));
	r->first = w->n_inst;
	r->n = (size_t)l->count;

	for (int k = 0; k < l->count; k++) {
		struct sim_instance *in = &w->inst[w->n_inst];
		uint64_t n = w->next_instance++;
		memset(in, 0, sizeof(*in));
		sim_hex_id("i-", n, w->salt, in->id, sizeof(in->id));
		in->resv = w->n_resv;
		snprintf(in->account, sizeof(in->account), "%s", l->account);
		in->block = l->block;
		in->launch_index = k;
		snprintf(in->image_id, sizeof(in->image_id), "%s",
			 l->image_id ? l->image_id : "ami-0000000000000000");
		snprintf(in->subnet, sizeof(in->subnet), "%s", l->subnet ? l->subnet : "");
		snprintf(in->private_ip, sizeof(in->private_ip), "10.%u.%u.%u",
			 (unsigned)((n / 62500) % 250), (unsigned)((n / 250) % 250),
			 (unsigned)(n % 250) + 4);
		in->launch = l->at;
		in->end = l->until;
		in->reason = l->until >= 0 ? SIM_END_USER : SIM_END_NONE;
		in->outside = l->outside;
		if (l->n_tags) {
			in->tags = calloc(l->n_tags, sizeof(*in->tags));
			if (!in->tags)
				return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
			memcpy(in->tags, l->tags, l->n_tags * sizeof(*in->tags));
			in->n_tags = l->n_tags;
		}
		w->blk[l->block].inst[w->blk[l->block].n++] = w->n_inst;
		w->n_inst++;
	}
	*resv_out = w->n_resv++;
	return CBQ_OK;
}

void sim_world_terminate(struct sim_world *w, size_t i, cbq_ms now)
{
	struct sim_instance *in = &w->inst[i];

	if (sim_instance_end(w, in) <= now)
		return;
	in->end = now;
	in->reason = SIM_END_USER;
}

/* Launches an outside reservation at `at` within the capacity free then;
 * returns how many instances it got. */
static int outside_launch(struct sim_world *w, const char *account, size_t b, int count, cbq_ms at,
			  cbq_ms until, size_t *resv_out)
{
	const struct sim_block *blk = &w->sc->blocks[b];
	struct cbq_error err;

	if (blk->fixed != SIM_BLOCK_TIMED || at < blk->start || at >= sim_block_cutoff(blk) ||
	    (until >= 0 && at >= until))
		return 0;
	int free_slots = blk->count - sim_block_used(w, b, at);
	int n = count < free_slots ? count : free_slots;
	if (n <= 0)
		return 0;
	struct sim_launch l = {
		.account = account, .block = b, .count = n, .at = at, .until = until, .outside = true
	};
	size_t r;
	if (sim_world_launch(w, &l, &r, &err))
		return 0;
	if (resv_out)
		*resv_out = r;
	return n;
}

void sim_world_advance(struct sim_world *w, cbq_ms now)
{
	const struct sim_scenario *sc = w->sc;

	/* Outside launches in time order, so first come is first served. */
	for (;;) {
		long best = -1;
		cbq_ms best_at = 0;
		for (size_t i = 0; i < sc->n_outside; i++) {
			const struct sim_outside *o = &sc->outside[i];
			cbq_ms at = o->at > sc->blocks[o->block].start ? o->at :
									 sc->blocks[o->block].start;
			if (w->outside_done[i] || at > now || (best >= 0 && at >= best_at))
				continue;
			best = (long)i;
			best_at = at;
		}
		if (best < 0)
			break;
		const struct sim_outside *o = &sc->outside[best];
		w->outside_done[best] = true;
		int n = outside_launch(w, o->account, o->block, o->count, best_at, o->until, NULL);
		sim_world_note(w, best_at, "outside launch account=%s block=%s asked=%d got=%d",
			       o->account, sc->blocks[o->block].id, o->count, n);
	}
	/* Freeze each passed cutoff into its instances, so a later extension
	 * does not bring terminated instances back. */
	for (size_t b = 0; b < sc->n_blocks; b++) {
		cbq_ms cut = sim_block_cutoff(&sc->blocks[b]);
		if (w->blk[b].cut_applied || now < cut)
			continue;
		for (size_t k = 0; k < w->blk[b].n; k++) {
			struct sim_instance *in = &w->inst[w->blk[b].inst[k]];
			if (in->end < 0 || in->end > cut) {
				in->end = cut < in->launch ? in->launch : cut;
				in->reason = SIM_END_CUTOFF;
			}
		}
		w->blk[b].cut_applied = true;
		sim_world_note(w, cut, "cutoff block=%s: its instances are terminated",
			       sc->blocks[b].id);
	}
}

enum cbq_err sim_world_extend(struct sim_world *w, size_t b, cbq_ms new_end, cbq_ms now,
			      struct cbq_error *err)
{
	struct sim_block *blk = &w->sc->blocks[b];
	const char *state = sim_block_state(w, b, now);

	if (strcmp(state, "active") != 0 && strcmp(state, "scheduled") != 0)
		return cbq_fail(err, CBQ_ERR_CONFLICT, "block",
				"block %s is %s; only active or scheduled blocks are extended",
				blk->id, state);
	if (new_end <= blk->end)
		return cbq_fail(err, CBQ_ERR_INVALID, "end",
				"the new end must be after the current end");
	blk->end = new_end;
	w->blk[b].cut_applied = now >= sim_block_cutoff(blk);
	sim_world_note(w, now, "extend block=%s", blk->id);
	return CBQ_OK;
}

enum cbq_err sim_world_steal(struct sim_world *w, const char *account, size_t b, int count,
			     cbq_ms until, cbq_ms now, size_t *resv_out, struct cbq_error *err)
{
	int avail = sim_block_available(w, b, now);

	if (count > avail)
		return cbq_fail(err, CBQ_ERR_CONFLICT, "count",
				"block %s has %d instances available, not %d", w->sc->blocks[b].id,
				avail, count);
	if (outside_launch(w, account, b, count, now, until, resv_out) != count)
		return cbq_fail(err, CBQ_ERR_CONFLICT, "count", "no capacity at this time");
	sim_world_note(w, now, "steal account=%s block=%s count=%d", account, w->sc->blocks[b].id,
		       count);
	return CBQ_OK;
}
