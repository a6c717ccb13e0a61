/*
 * The second half of the scenario parser: subnets, Capacity Blocks, outside
 * launches, the instance profile, and the accounts that are only referenced
 * (block owners, consumers, launchers, principals' accounts). See scenario.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "scenario_parse.h"
#include "simjson.h"
#include "simutil.h"

enum cbq_err sim_scenario_add_account(struct sim_scenario *s, const char *id,
				      struct sim_account **out, struct cbq_error *err)
{
	if (s->n_accounts >= SIM_MAX_ALL_ACCOUNTS)
		return cbq_fail(err, CBQ_ERR_INVALID, "accounts",
				"accounts: more than %d accounts declared or referenced",
				SIM_MAX_ALL_ACCOUNTS);
	struct sim_account *a = realloc(s->accounts, (s->n_accounts + 1) * sizeof(*a));
	if (!a)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	s->accounts = a;
	a = &s->accounts[s->n_accounts++];
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "%s", id);
	*out = a;
	return CBQ_OK;
}

/* Adds a referenced account unless it is known. */
static enum cbq_err reference(struct sim_scenario *s, const char *id, struct cbq_error *err)
{
	struct sim_account *a;
	enum cbq_err rc;

	if (sim_scenario_account(s, id))
		return CBQ_OK;
	if ((rc = sim_scenario_add_account(s, id, &a, err)))
		return rc;
	a->in_org = s->org.present;
	sim_scenario_account_defaults(s, a);
	return CBQ_OK;
}

static bool az_ok(const struct sim_scenario *s, const char *az)
{
	size_t n = strlen(s->region);

	return strlen(az) == n + 1 && strncmp(az, s->region, n) == 0 &&
	       islower((unsigned char)az[n]);
}

static enum cbq_err parse_subnets(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "id", "az", NULL };
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc = sim_json_array(root, "subnets", "", false, 0, SIM_MAX_SUBNETS, &arr, err);

	if (rc || !arr)
		return rc;
	s->subnets = calloc(json_array_size(arr) + 1, sizeof(*s->subnets));
	if (!s->subnets)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		struct sim_subnet *sn = &s->subnets[i];
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN];
		sim_json_index(p, "subnets", i);
		if ((rc = sim_json_object(v, p, keys, err)) ||
		    (rc = sim_json_string(v, "id", p, true, 8, 40, sn->id, sizeof(sn->id), NULL,
					  err)) ||
		    (rc = sim_json_string(v, "az", p, true, 1, SIM_NAME_LEN, sn->az, sizeof(sn->az),
					  NULL, err)))
			return rc;
		s->n_subnets = i + 1;
		if (strncmp(sn->id, "subnet-", 7) != 0 ||
		    !sim_chars_in(sn->id + 7, "abcdefghijklmnopqrstuvwxyz0123456789", 32))
			return sim_json_fail(err, sim_json_path(f, p, "id"),
					     "must match subnet-[0-9a-z]{1,32}");
		if (!az_ok(s, sn->az))
			return sim_json_fail(err, sim_json_path(f, p, "az"),
					     "must be an AZ of %s such as %sa", s->region,
					     s->region);
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->subnets[j].id, sn->id) == 0)
				return sim_json_fail(err, sim_json_path(f, p, "id"),
						     "duplicate subnet");
	}
	return CBQ_OK;
}

static const char *const BLOCK_STATES[] = { "scheduled", "active",	    "expired",
					    "cancelled", "payment-pending", "payment-failed",
					    NULL };

static enum cbq_err block_state(struct sim_scenario *s, struct sim_block *b, const char *state,
				const char *path, struct cbq_error *err)
{
	char f[SIM_PATH_LEN];
	size_t k;

	sim_json_path(f, path, "state");
	for (k = 0; BLOCK_STATES[k] && strcmp(BLOCK_STATES[k], state) != 0; k++)
		;
	if (!BLOCK_STATES[k])
		return sim_json_fail(err, f,
				     "must be scheduled, active, expired, cancelled, "
				     "payment-pending or payment-failed");
	const enum sim_block_fixed fixed[] = {
		SIM_BLOCK_TIMED,     SIM_BLOCK_TIMED,		SIM_BLOCK_TIMED,
		SIM_BLOCK_CANCELLED, SIM_BLOCK_PAYMENT_PENDING, SIM_BLOCK_PAYMENT_FAILED
	};
	b->fixed = fixed[k];
	/* The time-driven states must agree with start and end at the epoch, so
	 * a typo in a date does not silently make an "active" block scheduled. */
	if (k == 0 && !(s->epoch < b->start))
		return sim_json_fail(err, f, "\"scheduled\" but start is not after the epoch");
	if (k == 1 && !(b->start <= s->epoch && s->epoch < b->end))
		return sim_json_fail(err, f, "\"active\" but the epoch is not within start..end");
	if (k == 2 && !(b->end <= s->epoch))
		return sim_json_fail(err, f, "\"expired\" but end is after the epoch");
	return CBQ_OK;
}

static enum cbq_err parse_shared(struct sim_scenario *s, struct sim_block *b, json_t *v,
				 const char *path, struct cbq_error *err)
{
	json_t *arr, *e;
	size_t i;
	enum cbq_err rc =
		sim_json_array(v, "shared_with", path, false, 0, SIM_MAX_SHARES, &arr, err);

	if (rc || !arr)
		return rc;
	b->shared = calloc(json_array_size(arr) + 1, sizeof(*b->shared));
	if (!b->shared)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, e)
	{
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN];
		const char *t = json_string_value(e);
		sim_json_index(p, sim_json_path(f, path, "shared_with"), i);
		if (!t || json_string_length(e) > SIM_ID_LEN || strlen(t) != json_string_length(e))
			return sim_json_fail(err, p,
					     "must be an account id, an ou-… id or \"org\"");
		if (strcmp(t, "org") == 0 || (s->org.present && strcmp(t, s->org.id) == 0)) {
			if (!s->org.present)
				return sim_json_fail(err, p,
						     "\"org\" needs a top-level "
						     "\"organization\"");
			t = "org";
		} else if (strncmp(t, "ou-", 3) == 0) {
			if (!s->org.present || !sim_scenario_ou(s, t))
				return sim_json_fail(err, p, "\"%s\" is not a declared OU", t);
		} else if (!sim_is_digits(t, 12)) {
			return sim_json_fail(err, p,
					     "must be an account id, an ou-… id or \"org\"");
		} else if (strcmp(t, b->owner) == 0) {
			return sim_json_fail(err, p, "the owner cannot share with itself");
		}
		for (size_t j = 0; j < b->n_shared; j++)
			if (strcmp(b->shared[j], t) == 0)
				return sim_json_fail(err, p, "duplicate entry");
		snprintf(b->shared[b->n_shared++], sizeof(b->shared[0]), "%s", t);
	}
	return CBQ_OK;
}

static enum cbq_err parse_tags(struct sim_block *b, json_t *v, const char *path,
			       struct cbq_error *err)
{
	char p[SIM_PATH_LEN];
	json_t *tags = json_object_get(v, "tags"), *val;
	const char *key;

	sim_json_path(p, path, "tags");
	if (!tags || json_is_null(tags))
		return CBQ_OK;
	if (!json_is_object(tags) || json_object_size(tags) > SIM_MAX_TAGS)
		return sim_json_fail(err, p, "must be an object of at most %d string values",
				     SIM_MAX_TAGS);
	b->tags = calloc(json_object_size(tags) + 1, sizeof(*b->tags));
	if (!b->tags)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_object_foreach(tags, key, val)
	{
		const char *s = json_string_value(val);
		if (!s || strlen(key) < 1 || strlen(key) > SIM_TAG_KEY_LEN ||
		    strlen(s) > SIM_TAG_VALUE_LEN)
			return sim_json_fail(err, p,
					     "keys must be 1..128 characters and values strings "
					     "of at most 256");
		struct sim_tag *t = &b->tags[b->n_tags++];
		snprintf(t->key, sizeof(t->key), "%s", key);
		snprintf(t->value, sizeof(t->value), "%s", s);
	}
	return CBQ_OK;
}

static enum cbq_err parse_block(struct sim_scenario *s, struct sim_block *b, json_t *v,
				const char *p, struct cbq_error *err)
{
	static const char *const keys[] = { "id",	   "owner", "instance_type", "az",
					    "count",	   "start", "end",	     "state",
					    "shared_with", "tags",  "platform",	     "created",
					    NULL };
	char f[SIM_PATH_LEN], state[24] = "";
	long long count = 0;
	bool have_created = false;
	enum cbq_err rc;

	if ((rc = sim_json_object(v, p, keys, err)) ||
	    (rc = sim_json_string(v, "id", p, true, 1, SIM_ID_LEN, b->id, sizeof(b->id), NULL,
				  err)) ||
	    (rc = sim_json_string(v, "owner", p, true, 12, 12, b->owner, sizeof(b->owner), NULL,
				  err)) ||
	    (rc = sim_json_string(v, "instance_type", p, true, 3, SIM_NAME_LEN, b->instance_type,
				  sizeof(b->instance_type), NULL, err)) ||
	    (rc = sim_json_string(v, "az", p, true, 1, SIM_NAME_LEN, b->az, sizeof(b->az), NULL,
				  err)) ||
	    (rc = sim_json_string(v, "platform", p, false, 1, SIM_NAME_LEN, b->platform,
				  sizeof(b->platform), NULL, err)) ||
	    (rc = sim_json_string(v, "state", p, false, 1, 20, state, sizeof(state), NULL, err)))
		return rc;
	if ((rc = sim_json_int(v, "count", p, true, 1, SIM_MAX_BLOCK_COUNT, &count, err))) {
		if (!json_object_get(v, "count"))
			return rc;
		return sim_json_fail(err, sim_json_path(f, p, "count"), "must be 1..%d",
				     SIM_MAX_BLOCK_COUNT);
	}
	b->count = (int)count;
	if ((rc = sim_json_time(v, "start", p, true, &b->start, NULL, err)) ||
	    (rc = sim_json_time(v, "end", p, true, &b->end, NULL, err)) ||
	    (rc = sim_json_time(v, "created", p, false, &b->created, &have_created, err)))
		return rc;
	if (strncmp(b->id, "cr-", 3) != 0 || !sim_chars_in(b->id + 3, "0123456789abcdef", 32) ||
	    strlen(b->id) < 11)
		return sim_json_fail(err, sim_json_path(f, p, "id"),
				     "must be cr- followed by 8..32 lower-case hex digits");
	if (!sim_is_digits(b->owner, 12))
		return sim_json_fail(err, sim_json_path(f, p, "owner"),
				     "must be a 12-digit account id");
	if (!strchr(b->instance_type, '.') ||
	    !sim_chars_in(b->instance_type, "abcdefghijklmnopqrstuvwxyz0123456789.-", SIM_NAME_LEN))
		return sim_json_fail(err, sim_json_path(f, p, "instance_type"),
				     "must look like p5.48xlarge");
	if (!az_ok(s, b->az))
		return sim_json_fail(err, sim_json_path(f, p, "az"),
				     "must be an AZ of %s such as %sa", s->region, s->region);
	if (!(b->start < b->end))
		return sim_json_fail(err, sim_json_path(f, p, "end"), "must be after start");
	if (!b->platform[0])
		snprintf(b->platform, sizeof(b->platform), "Linux/UNIX");
	if (!have_created)
		b->created = (b->start < s->epoch ? b->start : s->epoch) - 86400000;
	if (state[0] && (rc = block_state(s, b, state, p, err)))
		return rc;
	if ((rc = parse_shared(s, b, v, p, err)) || (rc = parse_tags(b, v, p, err)))
		return rc;
	return CBQ_OK;
}

static enum cbq_err parse_blocks(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc = sim_json_array(root, "blocks", "", false, 0, SIM_MAX_BLOCKS, &arr, err);

	if (rc || !arr)
		return rc;
	s->blocks = calloc(json_array_size(arr) + 1, sizeof(*s->blocks));
	if (!s->blocks)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN];
		sim_json_index(p, "blocks", i);
		s->n_blocks = i + 1;
		if ((rc = parse_block(s, &s->blocks[i], v, p, err)))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->blocks[j].id, s->blocks[i].id) == 0)
				return sim_json_fail(err, sim_json_path(f, p, "id"),
						     "duplicate of blocks[%zu]", j);
	}
	return CBQ_OK;
}

static enum cbq_err parse_outside(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "account", "block", "count", "at", "until", NULL };
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc =
		sim_json_array(root, "outside_launches", "", false, 0, SIM_MAX_OUTSIDE, &arr, err);

	if (rc || !arr)
		return rc;
	s->outside = calloc(json_array_size(arr) + 1, sizeof(*s->outside));
	if (!s->outside)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		struct sim_outside *o = &s->outside[i];
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN], block[SIM_ID_LEN + 1];
		long long count = 0;
		sim_json_index(p, "outside_launches", i);
		if ((rc = sim_json_object(v, p, keys, err)) ||
		    (rc = sim_json_string(v, "account", p, true, 12, 12, o->account,
					  sizeof(o->account), NULL, err)) ||
		    (rc = sim_json_string(v, "block", p, true, 1, SIM_ID_LEN, block, sizeof(block),
					  NULL, err)) ||
		    (rc = sim_json_int(v, "count", p, true, 1, SIM_MAX_BLOCK_COUNT, &count, err)) ||
		    (rc = sim_json_time(v, "at", p, true, &o->at, NULL, err)) ||
		    (rc = sim_json_time(v, "until", p, true, &o->until, NULL, err)))
			return rc;
		s->n_outside = i + 1;
		o->count = (int)count;
		if (!sim_is_digits(o->account, 12))
			return sim_json_fail(err, sim_json_path(f, p, "account"),
					     "must be a 12-digit account id");
		long b = sim_scenario_block(s, block);
		if (b < 0)
			return sim_json_fail(err, sim_json_path(f, p, "block"),
					     "\"%s\" is not one of the blocks", block);
		o->block = (size_t)b;
		if (o->count > s->blocks[b].count)
			return sim_json_fail(err, sim_json_path(f, p, "count"),
					     "must be at most the block's count (%d)",
					     s->blocks[b].count);
		if (!(o->at < o->until))
			return sim_json_fail(err, sim_json_path(f, p, "until"), "must be after at");
	}
	return CBQ_OK;
}

static enum cbq_err parse_profile(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "role", "principal", NULL };
	json_t *v = json_object_get(root, "instance_profile");
	char arn[SIM_ARN_LEN + 1];
	enum cbq_err rc;

	if (!v || json_is_null(v))
		return CBQ_OK;
	if ((rc = sim_json_object(v, "instance_profile", keys, err)) ||
	    (rc = sim_json_string(v, "role", "instance_profile", true, 1, SIM_NAME_LEN,
				  s->instance_profile.role, sizeof(s->instance_profile.role), NULL,
				  err)) ||
	    (rc = sim_json_string(v, "principal", "instance_profile", true, 1, SIM_ARN_LEN, arn,
				  sizeof(arn), NULL, err)))
		return rc;
	if (!sim_word_chars(s->instance_profile.role, "_+=,.@-", 1, SIM_NAME_LEN))
		return sim_json_fail(err, "instance_profile.role",
				     "must be letters, digits and _+=,.@-");
	for (size_t i = 0; i < s->n_principals; i++) {
		if (strcmp(s->principals[i].arn, arn) == 0) {
			s->instance_profile.present = true;
			s->instance_profile.principal = i;
			return CBQ_OK;
		}
	}
	return sim_json_fail(err, "instance_profile.principal",
			     "\"%s\" is not one of the principals", arn);
}

/* Accounts that appear only by reference become accounts too (members of
 * the organisation when there is one, directly under the root). */
static enum cbq_err add_references(struct sim_scenario *s, struct cbq_error *err)
{
	enum cbq_err rc = CBQ_OK;

	if (s->org.present && (rc = reference(s, s->org.management, err)))
		return rc;
	for (size_t i = 0; i < s->n_principals && !rc; i++)
		rc = reference(s, s->principals[i].account, err);
	for (size_t i = 0; i < s->n_blocks && !rc; i++) {
		rc = reference(s, s->blocks[i].owner, err);
		for (size_t j = 0; j < s->blocks[i].n_shared && !rc; j++)
			if (sim_is_digits(s->blocks[i].shared[j], 12))
				rc = reference(s, s->blocks[i].shared[j], err);
	}
	for (size_t i = 0; i < s->n_outside && !rc; i++)
		rc = reference(s, s->outside[i].account, err);
	if (rc)
		return rc;
	/* Capacity Blocks are shared only inside the owner's organisation. */
	for (size_t i = 0; i < s->n_blocks && s->org.present; i++) {
		const struct sim_block *b = &s->blocks[i];
		for (size_t j = 0; j < b->n_shared; j++) {
			const struct sim_account *a = sim_scenario_account(s, b->shared[j]);
			if (a && !a->in_org) {
				char p[SIM_PATH_LEN], f[SIM_PATH_LEN], g[SIM_PATH_LEN];
				sim_json_index(f, "blocks", i);
				sim_json_index(p, sim_json_path(g, f, "shared_with"), j);
				return sim_json_fail(err, p,
						     "account %s is outside the organization; Capacity "
						     "Blocks are shared only inside it",
						     a->id);
			}
		}
	}
	return CBQ_OK;
}

enum cbq_err sim_scenario_parse_rest(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	enum cbq_err rc;

	if ((rc = parse_subnets(s, root, err)) || (rc = parse_blocks(s, root, err)) ||
	    (rc = parse_outside(s, root, err)) || (rc = parse_profile(s, root, err)) ||
	    (rc = add_references(s, err)))
		return rc;
	return CBQ_OK;
}
