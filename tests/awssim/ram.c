/*
 * AWS RAM over REST-JSON (AWS.md §8): POST /listresources and
 * /listprincipals. Each shared block is one resource share; its principals
 * are the scenario's shared_with entries as RAM spells them (account ids,
 * OU and organisation ARNs). Owners list with SELF, consumers with
 * OTHER-ACCOUNTS. Not the sharing itself (world.c decides who may launch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "call.h"
#include "simutil.h"

enum { RAM_MAX_RESULTS = 500 };

static const char RESOURCE_TYPE[] = "ec2:CapacityReservation";

static void share_arn(const struct sim_world *w, size_t b, char *out, size_t size)
{
	const struct sim_block *blk = &w->sc->blocks[b];
	struct sim_rng rng = { .state = sim_mix64(w->salt ^ (uint64_t)b) };
	char uuid[37];

	sim_rng_uuid(&rng, uuid);
	snprintf(out, size, "arn:aws:ram:%s:%s:resource-share/%s", w->sc->region, blk->owner, uuid);
}

static void block_arn(const struct sim_world *w, size_t b, char *out, size_t size)
{
	snprintf(out, size, "arn:aws:ec2:%s:%s:capacity-reservation/%s", w->sc->region,
		 w->sc->blocks[b].owner, w->sc->blocks[b].id);
}

/* A shared_with entry as a RAM principal id. */
static void principal_id(const struct sim_world *w, const char *entry, char *out, size_t size)
{
	const struct sim_org *o = &w->sc->org;

	if (strcmp(entry, "org") == 0)
		snprintf(out, size, "arn:aws:organizations::%s:organization/%s", o->management,
			 o->id);
	else if (strncmp(entry, "ou-", 3) == 0)
		snprintf(out, size, "arn:aws:organizations::%s:ou/%s/%s", o->management, o->id,
			 entry);
	else
		snprintf(out, size, "%s", entry);
}

/* A string array member as a list of borrowed strings; false on a type error. */
static bool strings(json_t *body, const char *key, const char **out, size_t *n, size_t max)
{
	json_t *arr = json_object_get(body, key), *v;
	size_t i;

	*n = 0;
	if (!arr || json_is_null(arr))
		return true;
	if (!json_is_array(arr) || json_array_size(arr) > max)
		return false;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v))
			return false;
		out[(*n)++] = json_string_value(v);
	}
	return true;
}

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

struct query {
	bool self;
	const char *type, *principal, *resource_arn;
	const char *arns[100], *share_arns[100], *principals[100];
	size_t n_arns, n_share_arns, n_principals;
	size_t offset;
	long long max;
};

static bool read_query(const struct sim_call *c, json_t **body_out, struct query *q,
		       struct sim_reply *r)
{
	json_error_t jerr;
	json_t *body =
		json_loadb(c->body_len ? c->body : "{}", c->body_len ? c->body_len : 2, 0, &jerr);
	const char *owner, *tok;

	*body_out = body;
	if (!json_is_object(body)) {
		sim_json_error(r, SIM_SVC_RAM, 400, "InvalidParameterException",
			       "The request body must be a JSON object.");
		return false;
	}
	owner = json_string_value(json_object_get(body, "resourceOwner"));
	if (!owner) {
		sim_json_error(r, SIM_SVC_RAM, 400, "MissingRequiredParameterException",
			       "The resourceOwner parameter is required.");
		return false;
	}
	if (strcmp(owner, "SELF") != 0 && strcmp(owner, "OTHER-ACCOUNTS") != 0) {
		sim_json_error(r, SIM_SVC_RAM, 400, "InvalidParameterException",
			       "resourceOwner must be SELF or OTHER-ACCOUNTS.");
		return false;
	}
	q->self = strcmp(owner, "SELF") == 0;
	q->type = json_string_value(json_object_get(body, "resourceType"));
	q->principal = json_string_value(json_object_get(body, "principal"));
	q->resource_arn = json_string_value(json_object_get(body, "resourceArn"));
	q->max = RAM_MAX_RESULTS;
	json_t *m = json_object_get(body, "maxResults");
	if (m && !json_is_null(m)) {
		if (!json_is_integer(m) || json_integer_value(m) < 1 ||
		    json_integer_value(m) > RAM_MAX_RESULTS) {
			sim_json_error(r, SIM_SVC_RAM, 400, "InvalidParameterException",
				       "maxResults must be 1..%d.", RAM_MAX_RESULTS);
			return false;
		}
		q->max = json_integer_value(m);
	}
	if (!strings(body, "resourceArns", q->arns, &q->n_arns, 100) ||
	    !strings(body, "resourceShareArns", q->share_arns, &q->n_share_arns, 100) ||
	    !strings(body, "principals", q->principals, &q->n_principals, 100)) {
		sim_json_error(r, SIM_SVC_RAM, 400, "InvalidParameterException",
			       "resourceArns, resourceShareArns and principals must be arrays of at "
			       "most 100 strings.");
		return false;
	}
	tok = json_string_value(json_object_get(body, "nextToken"));
	q->offset = 0;
	if (tok && !sim_page_parse("ram", tok, &q->offset)) {
		sim_json_error(r, SIM_SVC_RAM, 400, "InvalidNextTokenException",
			       "The specified value for nextToken is not valid.");
		return false;
	}
	if (q->resource_arn && strncmp(q->resource_arn, "arn:", 4) != 0) {
		sim_json_error(r, SIM_SVC_RAM, 400, "MalformedArnException",
			       "The format of ARN %.200s is not valid.", q->resource_arn);
		return false;
	}
	return true;
}

/* The block is listed for this caller under this query. */
static bool block_listed(const struct sim_world *w, size_t b, const struct sim_call *c,
			 const struct query *q)
{
	const struct sim_block *blk = &w->sc->blocks[b];
	char arn[SIM_ARN_LEN + 1], share[SIM_ARN_LEN + 1];

	if (q->self ? strcmp(blk->owner, c->who.account) != 0 || !blk->n_shared :
		      strcmp(blk->owner, c->who.account) == 0 ||
			      !sim_block_usable_by(w, b, c->who.account))
		return false;
	if (q->type && strcasecmp(q->type, RESOURCE_TYPE) != 0)
		return false;
	block_arn(w, b, arn, sizeof(arn));
	share_arn(w, b, share, sizeof(share));
	if ((q->n_arns && !in_list(arn, q->arns, q->n_arns)) ||
	    (q->resource_arn && strcmp(q->resource_arn, arn) != 0) ||
	    (q->n_share_arns && !in_list(share, q->share_arns, q->n_share_arns)))
		return false;
	return true;
}

static void finish(json_t *doc, const char *list_key, json_t *all, const struct query *q,
		   struct sim_reply *r)
{
	json_t *page = json_array();
	size_t n = json_array_size(all), end = q->offset + (size_t)q->max;

	for (size_t i = q->offset; i < n && i < end; i++)
		json_array_append(page, json_array_get(all, i));
	json_object_set_new(doc, list_key, page);
	if (end < n) {
		char tok[64];
		sim_page_token("ram", end, tok, sizeof(tok));
		json_object_set_new(doc, "nextToken", json_string(tok));
	}
	json_decref(all);
	sim_reply_json(r, SIM_SVC_RAM, 200, doc);
}

static void list_resources(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	struct query q = { 0 };
	json_t *body = NULL, *all = json_array();

	if (!read_query(c, &body, &q, r))
		goto out;
	for (size_t b = 0; b < w->sc->n_blocks; b++) {
		const struct sim_block *blk = &w->sc->blocks[b];
		char arn[SIM_ARN_LEN + 1], share[SIM_ARN_LEN + 1], pid[SIM_ARN_LEN + 1];
		bool principal_ok = !q.principal;
		if (!block_listed(w, b, c, &q))
			continue;
		for (size_t i = 0; i < blk->n_shared && !principal_ok; i++) {
			principal_id(w, blk->shared[i], pid, sizeof(pid));
			principal_ok = strcmp(pid, q.principal) == 0;
		}
		if (!q.self && q.principal)
			principal_ok = strcmp(q.principal, blk->owner) == 0;
		if (!principal_ok)
			continue;
		block_arn(w, b, arn, sizeof(arn));
		share_arn(w, b, share, sizeof(share));
		json_array_append_new(all,
				      json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s}", "arn", arn,
						"type", RESOURCE_TYPE, "resourceShareArn", share,
						"status", "AVAILABLE", "creationTime",
						(double)blk->created / 1000.0, "lastUpdatedTime",
						(double)blk->created / 1000.0,
						"resourceRegionScope", "REGIONAL"));
	}
	finish(json_object(), "resources", all, &q, r);
	all = NULL;
out:
	json_decref(all);
	json_decref(body);
}

static void list_principals(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	struct query q = { 0 };
	json_t *body = NULL, *all = json_array();

	if (!read_query(c, &body, &q, r))
		goto out;
	if (q.self && q.resource_arn) {
		bool known = false;
		for (size_t b = 0; b < w->sc->n_blocks && !known; b++) {
			char arn[SIM_ARN_LEN + 1];
			block_arn(w, b, arn, sizeof(arn));
			known = strcmp(arn, q.resource_arn) == 0 &&
				strcmp(w->sc->blocks[b].owner, c->who.account) == 0;
		}
		if (!known) {
			sim_json_error(r, SIM_SVC_RAM, 400, "UnknownResourceException",
				       "The resource %.200s was not found in your account.",
				       q.resource_arn);
			goto out;
		}
	}
	for (size_t b = 0; b < w->sc->n_blocks; b++) {
		const struct sim_block *blk = &w->sc->blocks[b];
		char share[SIM_ARN_LEN + 1], pid[SIM_ARN_LEN + 1];
		double t = (double)blk->created / 1000.0;
		if (!block_listed(w, b, c, &q))
			continue;
		share_arn(w, b, share, sizeof(share));
		/* OTHER-ACCOUNTS: the principals that shared with the caller. */
		size_t n = q.self ? blk->n_shared : 1;
		for (size_t i = 0; i < n; i++) {
			principal_id(w, q.self ? blk->shared[i] : blk->owner, pid, sizeof(pid));
			if (q.n_principals && !in_list(pid, q.principals, q.n_principals))
				continue;
			json_array_append_new(all, json_pack("{s:s, s:s, s:f, s:f, s:b}", "id", pid,
							     "resourceShareArn", share,
							     "creationTime", t, "lastUpdatedTime",
							     t, "external", false));
		}
	}
	finish(json_object(), "principals", all, &q, r);
	all = NULL;
out:
	json_decref(all);
	json_decref(body);
}

void sim_ram_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	if (strcmp(c->action, "ListResources") == 0)
		list_resources(w, c, r);
	else if (strcmp(c->action, "ListPrincipals") == 0)
		list_principals(w, c, r);
	else
		sim_json_error(r, SIM_SVC_RAM, 404, "UnknownOperationException",
			       "cbq-awssim implements only ListResources and ListPrincipals of RAM");
}
