/*
 * Scenario JSON -> struct sim_scenario, validated; see scenario.h and the
 * README for the format. This file holds the top level, principals, the
 * organisation and accounts; scenario_blocks.c holds blocks, outside launches,
 * subnets and the cross-references. Not the run-time model (world.c).
 */
#include "scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_parse.h"
#include "simjson.h"
#include "simutil.h"

static const char NAME_EXTRA[] = "_+=,.@-";

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

void sim_scenario_derived_id(const char *prefix, const char *from, char *out, size_t size)
{
	struct sim_rng r = { .state = fnv1a(from) };
	char tail[18];

	sim_rng_chars(&r, SIM_UPPER_ALNUM, 17, tail);
	snprintf(out, size, "%s%s", prefix, tail);
}

bool sim_scenario_ou_id_ok(const char *s)
{
	/* ^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$ */
	const char *set = "abcdefghijklmnopqrstuvwxyz0123456789";
	if (strncmp(s, "ou-", 3) != 0)
		return false;
	const char *a = s + 3, *dash = strchr(a, '-');
	if (!dash)
		return false;
	size_t la = (size_t)(dash - a), lb = strlen(dash + 1);
	return la >= 4 && la <= 32 && strspn(a, set) == la && lb >= 8 && lb <= 32 &&
	       strspn(dash + 1, set) == lb;
}

static bool prefixed_id_ok(const char *s, const char *prefix, size_t min, size_t max)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 &&
	       sim_chars_in(s + n, "abcdefghijklmnopqrstuvwxyz0123456789", max) &&
	       strlen(s + n) >= min;
}

struct sim_account *sim_scenario_account(const struct sim_scenario *s, const char *id)
{
	for (size_t i = 0; i < s->n_accounts; i++)
		if (strcmp(s->accounts[i].id, id) == 0)
			return &s->accounts[i];
	return NULL;
}

const struct sim_ou *sim_scenario_ou(const struct sim_scenario *s, const char *id)
{
	for (size_t i = 0; i < s->org.n_ous; i++)
		if (strcmp(s->org.ous[i].id, id) == 0)
			return &s->org.ous[i];
	return NULL;
}

long sim_scenario_block(const struct sim_scenario *s, const char *id)
{
	for (size_t i = 0; i < s->n_blocks; i++)
		if (strcmp(s->blocks[i].id, id) == 0)
			return (long)i;
	return -1;
}

/* arn:aws:iam::123456789012:user/NAME -> account; false when not that shape. */
static bool user_arn(const char *arn, char account[SIM_ACCOUNT_LEN + 1])
{
	static const char pre[] = "arn:aws:iam::";

	if (strncmp(arn, pre, sizeof(pre) - 1) != 0)
		return false;
	const char *p = arn + sizeof(pre) - 1;
	char acct[SIM_ACCOUNT_LEN + 1];
	snprintf(acct, sizeof(acct), "%.12s", p);
	if (!sim_is_digits(acct, 12) || strncmp(p + 12, ":user/", 6) != 0)
		return false;
	if (!sim_word_chars(p + 18, NAME_EXTRA, 1, SIM_NAME_LEN))
		return false;
	memcpy(account, acct, sizeof(acct));
	return true;
}

static enum cbq_err parse_principals(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "arn", "access_key", "secret_key", NULL };
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc =
		sim_json_array(root, "principals", "", true, 1, SIM_MAX_PRINCIPALS, &arr, err);

	if (rc)
		return rc;
	s->principals = calloc(json_array_size(arr), sizeof(*s->principals));
	if (!s->principals)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		struct sim_principal *p = &s->principals[i];
		char path[SIM_PATH_LEN], f[SIM_PATH_LEN];
		sim_json_index(path, "principals", i);
		if ((rc = sim_json_object(v, path, keys, err)) ||
		    (rc = sim_json_string(v, "arn", path, true, 1, SIM_ARN_LEN, p->arn,
					  sizeof(p->arn), NULL, err)) ||
		    (rc = sim_json_string(v, "access_key", path, true, 16, SIM_KEY_LEN,
					  p->access_key, sizeof(p->access_key), NULL, err)) ||
		    (rc = sim_json_string(v, "secret_key", path, true, 1, SIM_KEY_LEN,
					  p->secret_key, sizeof(p->secret_key), NULL, err)))
			return rc;
		s->n_principals = i + 1;
		if (!user_arn(p->arn, p->account))
			return sim_json_fail(err, sim_json_path(f, path, "arn"),
					     "must look like arn:aws:iam::123456789012:user/NAME");
		if (!sim_chars_in(p->access_key, SIM_UPPER_ALNUM, SIM_KEY_LEN) ||
		    strncmp(p->access_key, "ASIA", 4) == 0)
			return sim_json_fail(err, sim_json_path(f, path, "access_key"),
					     "must be 16..128 of A-Z 0-9 and not start with ASIA "
					     "(kept for issued session keys)");
		for (const char *c = p->secret_key; *c; c++)
			if (*c <= ' ' || *c > '~')
				return sim_json_fail(err, sim_json_path(f, path, "secret_key"),
						     "must be visible ASCII without spaces");
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->principals[j].arn, p->arn) == 0)
				return sim_json_fail(err, sim_json_path(f, path, "arn"),
						     "duplicate of principals[%zu]", j);
			if (strcmp(s->principals[j].access_key, p->access_key) == 0)
				return sim_json_fail(err, sim_json_path(f, path, "access_key"),
						     "duplicate of principals[%zu]", j);
		}
		sim_scenario_derived_id("AIDA", p->arn, p->user_id, sizeof(p->user_id));
	}
	return CBQ_OK;
}

static enum cbq_err parse_org(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "id", "management_account", "root", "ous", NULL };
	static const char *const ou_keys[] = { "id", "parent", "name", NULL };
	struct sim_org *o = &s->org;
	json_t *org = json_object_get(root, "organization"), *arr, *v;
	char f[SIM_PATH_LEN];
	bool have_root = false;
	size_t i;
	enum cbq_err rc;

	if (!org || json_is_null(org))
		return CBQ_OK;
	if ((rc = sim_json_object(org, "organization", keys, err)) ||
	    (rc = sim_json_string(org, "id", "organization", true, 12, 34, o->id, sizeof(o->id),
				  NULL, err)) ||
	    (rc = sim_json_string(org, "management_account", "organization", true, 12, 12,
				  o->management, sizeof(o->management), NULL, err)) ||
	    (rc = sim_json_string(org, "root", "organization", false, 6, 34, o->root,
				  sizeof(o->root), &have_root, err)) ||
	    (rc = sim_json_array(org, "ous", "organization", false, 0, SIM_MAX_OUS, &arr, err)))
		return rc;
	o->present = true;
	if (!prefixed_id_ok(o->id, "o-", 10, 32))
		return sim_json_fail(err, "organization.id", "must match o-[a-z0-9]{10,32}");
	if (!sim_is_digits(o->management, 12))
		return sim_json_fail(err, "organization.management_account",
				     "must be a 12-digit account id");
	if (!have_root)
		snprintf(o->root, sizeof(o->root), "r-%.4s", o->id + 2);
	else if (!prefixed_id_ok(o->root, "r-", 4, 32))
		return sim_json_fail(err, "organization.root", "must match r-[0-9a-z]{4,32}");
	if (!arr)
		return CBQ_OK;
	o->ous = calloc(json_array_size(arr) + 1, sizeof(*o->ous));
	if (!o->ous)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		struct sim_ou *ou = &o->ous[i];
		char path[SIM_PATH_LEN];
		sim_json_index(path, "organization.ous", i);
		if ((rc = sim_json_object(v, path, ou_keys, err)) ||
		    (rc = sim_json_string(v, "id", path, true, 1, SIM_ID_LEN, ou->id,
					  sizeof(ou->id), NULL, err)) ||
		    (rc = sim_json_string(v, "parent", path, false, 1, SIM_ID_LEN, ou->parent,
					  sizeof(ou->parent), NULL, err)) ||
		    (rc = sim_json_string(v, "name", path, false, 1, SIM_NAME_LEN, ou->name,
					  sizeof(ou->name), NULL, err)))
			return rc;
		o->n_ous = i + 1;
		if (!sim_scenario_ou_id_ok(ou->id))
			return sim_json_fail(err, sim_json_path(f, path, "id"),
					     "must match ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}");
		if (!ou->parent[0])
			snprintf(ou->parent, sizeof(ou->parent), "%s", o->root);
		if (!ou->name[0])
			snprintf(ou->name, sizeof(ou->name), "%.64s", ou->id);
		for (size_t j = 0; j < i; j++)
			if (strcmp(o->ous[j].id, ou->id) == 0)
				return sim_json_fail(err, sim_json_path(f, path, "id"),
						     "duplicate of organization.ous[%zu]", j);
	}
	/* Parents exist and every chain reaches the root (no cycles). */
	for (i = 0; i < o->n_ous; i++) {
		char path[SIM_PATH_LEN];
		const char *p = o->ous[i].parent;
		size_t steps = 0;
		sim_json_index(path, "organization.ous", i);
		while (strcmp(p, o->root) != 0) {
			const struct sim_ou *up = sim_scenario_ou(s, p);
			if (!up)
				return sim_json_fail(err, sim_json_path(f, path, "parent"),
						     "\"%s\" is neither the root %s nor a declared "
						     "OU",
						     p, o->root);
			if (++steps > o->n_ous)
				return sim_json_fail(err, sim_json_path(f, path, "parent"),
						     "OU parents form a cycle");
			p = up->parent;
		}
	}
	return CBQ_OK;
}

static enum cbq_err parse_trust(struct sim_role *r, json_t *role, const char *path,
				struct cbq_error *err)
{
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc = sim_json_array(role, "trust", path, true, 1, SIM_MAX_TRUST, &arr, err);

	if (rc)
		return rc;
	r->trust = calloc(json_array_size(arr), sizeof(*r->trust));
	if (!r->trust)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN];
		const char *t = json_string_value(v);
		sim_json_index(p, sim_json_path(f, path, "trust"), i);
		if (!t || json_string_length(v) > SIM_ARN_LEN || strlen(t) != json_string_length(v))
			return sim_json_fail(err, p, "must be a principal ARN or account id");
		r->n_trust = i + 1;
		if (sim_is_digits(t, 12)) {
			snprintf(r->trust[i], sizeof(r->trust[i]), "arn:aws:iam::%s:root", t);
			continue;
		}
		char acct[13] = "";
		bool ok = (strncmp(t, "arn:aws:iam::", 13) == 0 ||
			   strncmp(t, "arn:aws:sts::", 13) == 0) &&
			  strlen(t) > 26 && t[25] == ':';
		if (ok)
			snprintf(acct, sizeof(acct), "%.12s", t + 13);
		if (!ok || !sim_is_digits(acct, 12) || strpbrk(t, " \t\"\\"))
			return sim_json_fail(err, p,
					     "must be arn:aws:iam::ACCOUNT:user/NAME, …:role/NAME, "
					     "…:root, an assumed-role ARN or a 12-digit account id");
		snprintf(r->trust[i], sizeof(r->trust[i]), "%s", t);
	}
	return CBQ_OK;
}

static enum cbq_err parse_roles(struct sim_account *a, json_t *acct, const char *path,
				struct cbq_error *err)
{
	static const char *const keys[] = { "name", "external_id", "trust", "max_session_seconds",
					    NULL };
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc = sim_json_array(acct, "roles", path, false, 0, SIM_MAX_ROLES, &arr, err);

	if (rc || !arr)
		return rc;
	a->roles = calloc(json_array_size(arr) + 1, sizeof(*a->roles));
	if (!a->roles)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	json_array_foreach(arr, i, v)
	{
		struct sim_role *r = &a->roles[i];
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN], ext[SIM_EXTERNAL_ID_LEN + 1];
		bool have_ext = false;
		long long max_s = 43200;
		sim_json_index(p, sim_json_path(f, path, "roles"), i);
		a->n_roles = i + 1;
		if ((rc = sim_json_object(v, p, keys, err)) ||
		    (rc = sim_json_string(v, "name", p, true, 1, SIM_NAME_LEN, r->name,
					  sizeof(r->name), NULL, err)) ||
		    (rc = sim_json_string(v, "external_id", p, false, 2, SIM_EXTERNAL_ID_LEN, ext,
					  sizeof(ext), &have_ext, err)) ||
		    (rc = sim_json_int(v, "max_session_seconds", p, false, 900, 43200, &max_s,
				       err)) ||
		    (rc = parse_trust(r, v, p, err)))
			return rc;
		r->max_session_s = (int)max_s;
		if (!sim_word_chars(r->name, NAME_EXTRA, 1, SIM_NAME_LEN))
			return sim_json_fail(err, sim_json_path(f, p, "name"),
					     "must be letters, digits and _+=,.@-");
		if (have_ext) {
			if (!sim_word_chars(ext, "_+=,.@:/-", 2, SIM_EXTERNAL_ID_LEN))
				return sim_json_fail(err, sim_json_path(f, p, "external_id"),
						     "must be 2..1224 of letters, digits and "
						     "_+=,.@:/-");
			r->external_id = strdup(ext);
			if (!r->external_id)
				return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->roles[j].name, r->name) == 0)
				return sim_json_fail(err, sim_json_path(f, p, "name"),
						     "duplicate role name");
		char from[SIM_ACCOUNT_LEN + SIM_NAME_LEN + 2];
		snprintf(from, sizeof(from), "%s/%s", a->id, r->name);
		sim_scenario_derived_id("AROA", from, r->role_id, sizeof(r->role_id));
	}
	return CBQ_OK;
}

void sim_scenario_account_defaults(const struct sim_scenario *s, struct sim_account *a)
{
	if (!a->name[0])
		snprintf(a->name, sizeof(a->name), "account-%s", a->id);
	if (!a->email[0])
		snprintf(a->email, sizeof(a->email), "aws+%s@example.com", a->id);
	if (s->org.present && a->in_org && !a->parent[0])
		snprintf(a->parent, sizeof(a->parent), "%s", s->org.root);
	if (!a->in_org)
		a->parent[0] = '\0';
}

static enum cbq_err parse_accounts(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "id",     "name",  "email",
					    "parent", "roles", "in_organization",
					    NULL };
	json_t *arr, *v;
	size_t i;
	enum cbq_err rc =
		sim_json_array(root, "accounts", "", false, 0, SIM_MAX_ACCOUNTS, &arr, err);

	if (rc || !arr)
		return rc;
	json_array_foreach(arr, i, v)
	{
		char p[SIM_PATH_LEN], f[SIM_PATH_LEN], id[SIM_ACCOUNT_LEN + 1];
		sim_json_index(p, "accounts", i);
		if ((rc = sim_json_object(v, p, keys, err)) ||
		    (rc = sim_json_string(v, "id", p, true, 12, 12, id, sizeof(id), NULL, err)))
			return rc;
		if (!sim_is_digits(id, 12))
			return sim_json_fail(err, sim_json_path(f, p, "id"),
					     "must be a 12-digit account id");
		if (sim_scenario_account(s, id))
			return sim_json_fail(err, sim_json_path(f, p, "id"), "duplicate account");
		struct sim_account *a = NULL;
		if ((rc = sim_scenario_add_account(s, id, &a, err)))
			return rc;
		a->declared = true;
		a->in_org = s->org.present;
		if ((rc = sim_json_string(v, "name", p, false, 1, SIM_NAME_LEN, a->name,
					  sizeof(a->name), NULL, err)) ||
		    (rc = sim_json_string(v, "email", p, false, 3, 2 * SIM_NAME_LEN, a->email,
					  sizeof(a->email), NULL, err)) ||
		    (rc = sim_json_string(v, "parent", p, false, 1, SIM_ID_LEN, a->parent,
					  sizeof(a->parent), NULL, err)) ||
		    (rc = sim_json_bool(v, "in_organization", p, &a->in_org, err)) ||
		    (rc = parse_roles(a, v, p, err)))
			return rc;
		if (a->in_org && !s->org.present)
			return sim_json_fail(err, sim_json_path(f, p, "in_organization"),
					     "needs a top-level \"organization\"");
		if (a->parent[0]) {
			if (!s->org.present || !a->in_org)
				return sim_json_fail(err, sim_json_path(f, p, "parent"),
						     "needs the account in the \"organization\"");
			if (strcmp(a->parent, s->org.root) != 0 && !sim_scenario_ou(s, a->parent))
				return sim_json_fail(err, sim_json_path(f, p, "parent"),
						     "\"%s\" is neither the root %s nor a declared "
						     "OU",
						     a->parent, s->org.root);
		}
		if (!a->in_org && s->org.present && strcmp(a->id, s->org.management) == 0)
			return sim_json_fail(err, sim_json_path(f, p, "in_organization"),
					     "the management account is in the organization");
		sim_scenario_account_defaults(s, a);
	}
	return CBQ_OK;
}

static enum cbq_err parse_top(struct sim_scenario *s, json_t *root, struct cbq_error *err)
{
	static const char *const keys[] = { "region",	"epoch",
					    "seed",	"principals",
					    "accounts", "organization",
					    "blocks",	"outside_launches",
					    "subnets",	"instance_profile",
					    "timing",	"description",
					    NULL };
	static const char *const timing_keys[] = { "pending_seconds", "shutting_down_seconds",
						   "terminated_visible_seconds", NULL };
	long long seed = 1, pend = 30, shut = 30, vis = 3600;
	json_t *timing;
	enum cbq_err rc;

	if ((rc = sim_json_object(root, "", keys, err)) ||
	    (rc = sim_json_string(root, "region", "", true, 1, 32, s->region, sizeof(s->region),
				  NULL, err)) ||
	    (rc = sim_json_time(root, "epoch", "", true, &s->epoch, NULL, err)) ||
	    (rc = sim_json_int(root, "seed", "", false, 0, INT64_MAX, &seed, err)))
		return rc;
	if (!sim_word_chars(s->region, "-", 1, 32) || !strchr(s->region, '-') ||
	    strspn(s->region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s->region))
		return sim_json_fail(err, "region", "must look like us-east-1");
	s->seed = (uint64_t)seed;
	timing = json_object_get(root, "timing");
	if (timing &&
	    ((rc = sim_json_object(timing, "timing", timing_keys, err)) ||
	     (rc = sim_json_int(timing, "pending_seconds", "timing", false, 0, 3600, &pend, err)) ||
	     (rc = sim_json_int(timing, "shutting_down_seconds", "timing", false, 0, 3600, &shut,
				err)) ||
	     (rc = sim_json_int(timing, "terminated_visible_seconds", "timing", false, 0, 86400,
				&vis, err))))
		return rc;
	s->timing = (struct sim_timing){ .pending = pend * 1000,
					 .shutting_down = shut * 1000,
					 .visible = vis * 1000 };
	return CBQ_OK;
}

enum cbq_err sim_scenario_parse(const char *text, size_t len, struct sim_scenario **out,
				struct cbq_error *err)
{
	struct sim_scenario *s = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	enum cbq_err rc;

	if (len > SIM_MAX_SCENARIO_BYTES) {
		rc = cbq_fail(err, CBQ_ERR_TOO_LARGE, "", "scenario is over %d bytes",
			      SIM_MAX_SCENARIO_BYTES);
		goto out;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "", "not valid JSON: line %d column %d: %s",
			      jerr.line, jerr.column, jerr.text);
		goto out;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
		goto out;
	}
	if ((rc = parse_top(s, root, err)) || (rc = parse_principals(s, root, err)) ||
	    (rc = parse_org(s, root, err)) || (rc = parse_accounts(s, root, err)) ||
	    (rc = sim_scenario_parse_rest(s, root, err)))
		goto out;
	*out = s;
	s = NULL;
out:
	sim_scenario_free(s);
	json_decref(root);
	return rc;
}

enum cbq_err sim_scenario_load(const char *path, struct sim_scenario **out, struct cbq_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	enum cbq_err rc;

	if (!f)
		return cbq_fail(err, CBQ_ERR_INVALID, "scenario", "cannot open %s: %s", path,
				strerror(errno));
	buf = malloc((size_t)SIM_MAX_SCENARIO_BYTES + 1);
	if (!buf) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
		goto out;
	}
	n = fread(buf, 1, (size_t)SIM_MAX_SCENARIO_BYTES + 1, f);
	if (ferror(f)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "scenario", "cannot read %s", path);
		goto out;
	}
	rc = sim_scenario_parse(buf, n, out, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

void sim_scenario_free(struct sim_scenario *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_accounts; i++) {
		for (size_t j = 0; j < s->accounts[i].n_roles; j++) {
			free(s->accounts[i].roles[j].external_id);
			free(s->accounts[i].roles[j].trust);
		}
		free(s->accounts[i].roles);
	}
	for (size_t i = 0; i < s->n_blocks; i++) {
		free(s->blocks[i].shared);
		free(s->blocks[i].tags);
	}
	free(s->principals);
	free(s->accounts);
	free(s->org.ous);
	free(s->blocks);
	free(s->outside);
	free(s->subnets);
	free(s);
}
