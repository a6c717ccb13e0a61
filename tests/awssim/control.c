/*
 * The /_sim control endpoints for tests and demos (unsigned JSON): state,
 * extend a block, steal capacity (an outside launch now), inject or clear
 * faults, health. They change the world only the ways the README lists; they
 * never bypass capacity accounting.
 */
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "simjson.h"
#include "simutil.h"

static json_t *time_json(cbq_ms t)
{
	char buf[SIM_TIME_SIZE];

	return json_string(sim_time_iso(t, buf));
}

static json_t *blocks_json(const struct sim_world *w, cbq_ms now)
{
	json_t *arr = json_array();

	for (size_t b = 0; b < w->sc->n_blocks; b++) {
		const struct sim_block *blk = &w->sc->blocks[b];
		json_t *shared = json_array();
		for (size_t i = 0; i < blk->n_shared; i++)
			json_array_append_new(shared, json_string(blk->shared[i]));
		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:o, s:o, s:o, s:o}",
				  "id", blk->id, "owner", blk->owner, "state",
				  sim_block_state(w, b, now), "instance_type", blk->instance_type,
				  "az", blk->az, "total", blk->count, "available",
				  sim_block_available(w, b, now), "used", sim_block_used(w, b, now),
				  "start", time_json(blk->start), "end", time_json(blk->end),
				  "cutoff", time_json(sim_block_cutoff(blk)), "shared_with",
				  shared));
	}
	return arr;
}

static json_t *instances_json(const struct sim_world *w, cbq_ms now)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < w->n_inst; i++) {
		const struct sim_instance *in = &w->inst[i];
		const struct sim_reservation *rv = &w->resv[in->resv];
		enum sim_istate s = sim_instance_state(w, in, now);
		cbq_ms end = sim_instance_end(w, in);
		json_t *tags = json_object();
		for (size_t t = 0; t < in->n_tags; t++)
			json_object_set_new(tags, in->tags[t].key, json_string(in->tags[t].value));
		const char *reason = s == SIM_PENDING || s == SIM_RUNNING	? NULL :
				     sim_instance_reason(w, in) == SIM_END_USER ? "user" :
										  "cutoff";
		json_array_append_new(
			arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:b, s:o}",
				       "id", in->id, "account", in->account, "block",
				       w->sc->blocks[in->block].id, "state", sim_istate_name(s),
				       "reservation", rv->id, "client_token", rv->client_token,
				       "tags", tags, "launch_time", time_json(in->launch),
				       "end_time", time_json(end), "outside", in->outside,
				       "end_reason", reason ? json_string(reason) : json_null()));
	}
	return arr;
}

static void state(struct sim_world *w, cbq_ms now, struct sim_reply *r)
{
	json_t *calls = json_object(), *events = json_array();

	for (size_t i = 0; i < w->n_calls; i++)
		json_object_set_new(calls, w->calls[i].name,
				    json_integer((json_int_t)w->calls[i].n));
	for (size_t k = 0; k < w->n_events; k++) {
		size_t i = (w->next_event + SIM_MAX_EVENTS - w->n_events + k) % SIM_MAX_EVENTS;
		json_array_append_new(events,
				      json_pack("{s:o, s:s}", "at", time_json(w->events[i].at),
						"text", w->events[i].text));
	}
	size_t live = 0;
	for (size_t i = 0; i < w->n_sessions; i++)
		live += w->sessions[i].expires > now;
	json_t *doc = json_pack("{s:o, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "now",
				time_json(now), "now_ms", (json_int_t)now, "region", w->sc->region,
				"epoch", time_json(w->sc->epoch), "blocks", blocks_json(w, now),
				"instances", instances_json(w, now), "calls", calls, "faults",
				sim_faults_json(&w->faults), "sessions", (json_int_t)live, "events",
				events);
	sim_reply_json(r, SIM_SVC_CONTROL, 200, doc);
}

static json_t *parse_body(const struct sim_http_in *in, struct sim_reply *r)
{
	json_error_t jerr;
	json_t *body = in->body_len ? json_loadb(in->body, in->body_len, 0, &jerr) : NULL;

	if (!json_is_object(body)) {
		json_decref(body);
		sim_reply_error(r, SIM_SVC_CONTROL, 400, "BadRequest",
				"the body must be a JSON object");
		return NULL;
	}
	return body;
}

static void fail(struct sim_reply *r, const struct cbq_error *err)
{
	int status = err->code == CBQ_ERR_CONFLICT ? 409 : 400;

	sim_reply_error(r, SIM_SVC_CONTROL, status, status == 409 ? "Conflict" : "BadRequest",
			err->msg);
}

static long block_of(struct sim_world *w, json_t *body, struct cbq_error *err)
{
	char id[SIM_ID_LEN + 1];

	if (sim_json_string(body, "block", "", true, 1, SIM_ID_LEN, id, sizeof(id), NULL, err))
		return -1;
	long b = sim_scenario_block(w->sc, id);
	if (b < 0)
		cbq_fail(err, CBQ_ERR_INVALID, "block", "block: \"%s\" is not one of the blocks",
			 id);
	return b;
}

static void extend(struct sim_world *w, json_t *body, cbq_ms now, struct sim_reply *r)
{
	static const char *const keys[] = { "block", "end", NULL };
	struct cbq_error err = { 0 };
	cbq_ms end;
	long b;

	if (sim_json_object(body, "", keys, &err) || (b = block_of(w, body, &err)) < 0 ||
	    sim_json_time(body, "end", "", true, &end, NULL, &err) ||
	    sim_world_extend(w, (size_t)b, end, now, &err)) {
		fail(r, &err);
		return;
	}
	json_t *doc = json_pack("{s:s, s:o, s:o}", "block", w->sc->blocks[b].id, "end",
				time_json(w->sc->blocks[b].end), "cutoff",
				time_json(sim_block_cutoff(&w->sc->blocks[b])));
	sim_reply_json(r, SIM_SVC_CONTROL, 200, doc);
}

static void steal(struct sim_world *w, json_t *body, cbq_ms now, struct sim_reply *r)
{
	static const char *const keys[] = { "account", "block", "count", "until", NULL };
	struct cbq_error err = { 0 };
	char account[SIM_ACCOUNT_LEN + 1];
	long long count = 0;
	cbq_ms until = -1;
	size_t rv;
	long b;

	if (sim_json_object(body, "", keys, &err) ||
	    sim_json_string(body, "account", "", true, 12, 12, account, sizeof(account), NULL,
			    &err) ||
	    (b = block_of(w, body, &err)) < 0 ||
	    sim_json_int(body, "count", "", true, 1, SIM_MAX_BLOCK_COUNT, &count, &err) ||
	    sim_json_time(body, "until", "", false, &until, NULL, &err)) {
		fail(r, &err);
		return;
	}
	if (!sim_is_digits(account, 12)) {
		sim_reply_error(r, SIM_SVC_CONTROL, 400, "BadRequest",
				"account: must be a 12-digit account id");
		return;
	}
	if (until >= 0 && until <= now) {
		sim_reply_error(r, SIM_SVC_CONTROL, 400, "BadRequest", "until: must be after now");
		return;
	}
	if (sim_world_steal(w, account, (size_t)b, (int)count, until, now, &rv, &err)) {
		fail(r, &err);
		return;
	}
	json_t *ids = json_array();
	for (size_t k = 0; k < w->resv[rv].n; k++)
		json_array_append_new(ids, json_string(w->inst[w->resv[rv].first + k].id));
	json_t *doc = json_pack("{s:s, s:o, s:i}", "reservation", w->resv[rv].id, "instances", ids,
				"available", sim_block_available(w, (size_t)b, now));
	sim_reply_json(r, SIM_SVC_CONTROL, 200, doc);
}

static void fault(struct sim_world *w, json_t *body, struct sim_reply *r)
{
	struct cbq_error err = { 0 };

	if (sim_faults_add_json(&w->faults, body, &err)) {
		fail(r, &err);
		return;
	}
	sim_reply_json(r, SIM_SVC_CONTROL, 200,
		       json_pack("{s:o}", "faults", sim_faults_json(&w->faults)));
}

void sim_control_handle(struct sim_world *w, const struct sim_http_in *in, cbq_ms now,
			struct sim_reply *r)
{
	const char *p = in->path;
	bool get = strcmp(in->method, "GET") == 0, post = strcmp(in->method, "POST") == 0;
	json_t *body = NULL;

	if (get && strcmp(p, "/_sim/state") == 0) {
		state(w, now, r);
	} else if (get && strcmp(p, "/_sim/health") == 0) {
		char buf[SIM_TIME_SIZE];
		sim_reply_json(r, SIM_SVC_CONTROL, 200,
			       json_pack("{s:b, s:s}", "ok", 1, "now", sim_time_iso(now, buf)));
	} else if (strcmp(in->method, "DELETE") == 0 && strcmp(p, "/_sim/fault") == 0) {
		sim_faults_clear(&w->faults);
		sim_reply_json(r, SIM_SVC_CONTROL, 200, json_pack("{s:[]}", "faults"));
	} else if (post && (strcmp(p, "/_sim/extend") == 0 || strcmp(p, "/_sim/steal") == 0 ||
			    strcmp(p, "/_sim/fault") == 0)) {
		if (!(body = parse_body(in, r)))
			return;
		if (strcmp(p, "/_sim/extend") == 0)
			extend(w, body, now, r);
		else if (strcmp(p, "/_sim/steal") == 0)
			steal(w, body, now, r);
		else
			fault(w, body, r);
	} else {
		sim_reply_error(r, SIM_SVC_CONTROL, 404, "NotFound",
				"the control endpoints are GET /_sim/state, GET /_sim/health, POST "
				"/_sim/extend, POST /_sim/steal, POST and DELETE /_sim/fault");
	}
	json_decref(body);
}
