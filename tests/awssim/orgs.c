/*
 * AWS Organizations over JSON 1.1 (AWS.md §9): DescribeOrganization for any
 * member; ListParents, ListAccountsForParent, ListRoots,
 * ListOrganizationalUnitsForParent and ListChildren for the management
 * account — enough for a broker to expand an OU or the whole organisation
 * into accounts. The tree is the scenario's; nothing here changes it.
 */
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "scenario.h"
#include "simutil.h"

enum { ORGS_MAX_RESULTS = 20 };

static const char *const OPS[] = { "DescribeOrganization",
				   "ListParents",
				   "ListAccountsForParent",
				   "ListRoots",
				   "ListOrganizationalUnitsForParent",
				   "ListChildren",
				   NULL };

bool sim_orgs_known(const char *action)
{
	for (size_t i = 0; OPS[i]; i++)
		if (strcmp(OPS[i], action) == 0)
			return true;
	return false;
}

static void invalid_input(struct sim_reply *r, const char *reason, const char *msg)
{
	json_t *doc = json_pack("{s:s, s:s, s:s}", "__type", "InvalidInputException", "Message",
				msg, "Reason", reason);

	sim_reply_json(r, SIM_SVC_ORGS, 400, doc);
	snprintf(r->code, sizeof(r->code), "InvalidInputException");
	r->error_type_header = true;
}

static json_t *account_json(const struct sim_world *w, const struct sim_account *a)
{
	const struct sim_org *o = &w->sc->org;
	char arn[SIM_ARN_LEN + 1];

	snprintf(arn, sizeof(arn), "arn:aws:organizations::%s:account/%s/%s", o->management, o->id,
		 a->id);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "Id", a->id, "Arn", arn,
			 "Email", a->email, "Name", a->name, "Status", "ACTIVE", "State", "ACTIVE",
			 "JoinedMethod", strcmp(a->id, o->management) == 0 ? "INVITED" : "CREATED",
			 "JoinedTimestamp", (json_int_t)(w->sc->epoch / 1000 - 365 * 86400));
}

static json_t *ou_json(const struct sim_world *w, const struct sim_ou *ou)
{
	const struct sim_org *o = &w->sc->org;
	char arn[SIM_ARN_LEN + 1];

	snprintf(arn, sizeof(arn), "arn:aws:organizations::%s:ou/%s/%s", o->management, o->id,
		 ou->id);
	return json_pack("{s:s, s:s, s:s}", "Id", ou->id, "Arn", arn, "Name", ou->name);
}

/* Reads MaxResults (1..20) and NextToken; false after an error reply. */
static bool paging(json_t *body, size_t *offset, size_t *max, struct sim_reply *r)
{
	json_t *m = json_object_get(body, "MaxResults");
	const char *t = json_string_value(json_object_get(body, "NextToken"));

	*offset = 0;
	*max = ORGS_MAX_RESULTS;
	if (m && !json_is_null(m)) {
		if (!json_is_integer(m) || json_integer_value(m) < 1 ||
		    json_integer_value(m) > ORGS_MAX_RESULTS) {
			invalid_input(r, "INVALID_INPUT", "MaxResults must be 1..20.");
			return false;
		}
		*max = (size_t)json_integer_value(m);
	}
	if (t && !sim_page_parse("org", t, offset)) {
		invalid_input(r, "INVALID_NEXT_TOKEN", "The specified NextToken is not valid.");
		return false;
	}
	return true;
}

/* Puts the page [offset, offset + max) of all under key, plus NextToken. */
static void page(json_t *doc, const char *key, json_t *all, size_t offset, size_t max,
		 struct sim_reply *r)
{
	json_t *out = json_array();
	size_t n = json_array_size(all);

	for (size_t i = offset; i < n && i < offset + max; i++)
		json_array_append(out, json_array_get(all, i));
	json_object_set_new(doc, key, out);
	if (offset + max < n) {
		char tok[64];
		sim_page_token("org", offset + max, tok, sizeof(tok));
		json_object_set_new(doc, "NextToken", json_string(tok));
	} else {
		json_object_set_new(doc, "NextToken", json_null());
	}
	json_decref(all);
	sim_reply_json(r, SIM_SVC_ORGS, 200, doc);
}

static bool parent_exists(const struct sim_world *w, const char *id)
{
	return strcmp(id, w->sc->org.root) == 0 || sim_scenario_ou(w->sc, id);
}

static void list_parents(struct sim_world *w, json_t *body, struct sim_reply *r)
{
	const char *child = json_string_value(json_object_get(body, "ChildId"));
	const char *parent = NULL;
	size_t offset, max;

	if (!child || (!sim_is_digits(child, 12) && !sim_scenario_ou_id_ok(child))) {
		invalid_input(r, "INVALID_PATTERN",
			      "ChildId must be a 12-digit account id or an OU id.");
		return;
	}
	if (!paging(body, &offset, &max, r))
		return;
	if (sim_is_digits(child, 12)) {
		const struct sim_account *a = sim_scenario_account(w->sc, child);
		if (a && a->in_org)
			parent = a->parent;
	} else {
		const struct sim_ou *ou = sim_scenario_ou(w->sc, child);
		if (ou)
			parent = ou->parent;
	}
	if (!parent) {
		sim_json_error(r, SIM_SVC_ORGS, 400, "ChildNotFoundException",
			       "We can't find an organizational unit (OU) or AWS account with the "
			       "ChildId that you specified.");
		return;
	}
	json_t *all = json_array();
	json_array_append_new(all,
			      json_pack("{s:s, s:s}", "Id", parent, "Type",
					strncmp(parent, "r-", 2) == 0 ? "ROOT" :
									"ORGANIZATIONAL_UNIT"));
	page(json_object(), "Parents", all, offset, max, r);
}

static void list_under(struct sim_world *w, const char *op, json_t *body, struct sim_reply *r)
{
	const char *parent = json_string_value(json_object_get(body, "ParentId"));
	const char *type = json_string_value(json_object_get(body, "ChildType"));
	bool accounts = strcmp(op, "ListAccountsForParent") == 0;
	bool ous = strcmp(op, "ListOrganizationalUnitsForParent") == 0;
	size_t offset, max;

	if (!parent) {
		invalid_input(r, "INVALID_INPUT", "ParentId is required.");
		return;
	}
	if (!accounts && !ous) {
		if (!type || (strcmp(type, "ACCOUNT") && strcmp(type, "ORGANIZATIONAL_UNIT"))) {
			invalid_input(r, "INVALID_ENUM",
				      "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.");
			return;
		}
		accounts = strcmp(type, "ACCOUNT") == 0;
	}
	if (!paging(body, &offset, &max, r))
		return;
	if (!parent_exists(w, parent)) {
		sim_json_error(r, SIM_SVC_ORGS, 400, "ParentNotFoundException",
			       "We can't find a root or OU with the ParentId that you specified.");
		return;
	}
	json_t *all = json_array();
	if (accounts) {
		for (size_t i = 0; i < w->sc->n_accounts; i++) {
			const struct sim_account *a = &w->sc->accounts[i];
			if (!a->in_org || strcmp(a->parent, parent) != 0)
				continue;
			json_array_append_new(all, strcmp(op, "ListChildren") != 0 ?
							   account_json(w, a) :
							   json_pack("{s:s, s:s}", "Id", a->id,
								     "Type", "ACCOUNT"));
		}
	} else {
		for (size_t i = 0; i < w->sc->org.n_ous; i++) {
			const struct sim_ou *ou = &w->sc->org.ous[i];
			if (strcmp(ou->parent, parent) != 0)
				continue;
			json_array_append_new(all, ous ? ou_json(w, ou) :
							 json_pack("{s:s, s:s}", "Id", ou->id,
								   "Type", "ORGANIZATIONAL_UNIT"));
		}
	}
	const char *key = strcmp(op, "ListChildren") == 0 ? "Children" :
			  accounts			  ? "Accounts" :
							    "OrganizationalUnits";
	page(json_object(), key, all, offset, max, r);
}

static void describe(struct sim_world *w, struct sim_reply *r)
{
	const struct sim_org *o = &w->sc->org;
	const struct sim_account *m = sim_scenario_account(w->sc, o->management);
	char arn[SIM_ARN_LEN + 1], macc[SIM_ARN_LEN + 1];

	snprintf(arn, sizeof(arn), "arn:aws:organizations::%s:organization/%s", o->management,
		 o->id);
	snprintf(macc, sizeof(macc), "arn:aws:organizations::%s:account/%s/%s", o->management,
		 o->id, o->management);
	json_t *doc = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s}]}}",
				"Organization", "Id", o->id, "Arn", arn, "FeatureSet", "ALL",
				"MasterAccountArn", macc, "MasterAccountId", o->management,
				"MasterAccountEmail", m ? m->email : "", "AvailablePolicyTypes",
				"Type", "SERVICE_CONTROL_POLICY", "Status", "ENABLED");
	sim_reply_json(r, SIM_SVC_ORGS, 200, doc);
}

static void list_roots(struct sim_world *w, json_t *body, struct sim_reply *r)
{
	const struct sim_org *o = &w->sc->org;
	char arn[SIM_ARN_LEN + 1];
	size_t offset, max;

	if (!paging(body, &offset, &max, r))
		return;
	snprintf(arn, sizeof(arn), "arn:aws:organizations::%s:root/%s/%s", o->management, o->id,
		 o->root);
	json_t *all = json_array();
	json_array_append_new(all, json_pack("{s:s, s:s, s:s, s:[]}", "Id", o->root, "Arn", arn,
					     "Name", "Root", "PolicyTypes"));
	page(json_object(), "Roots", all, offset, max, r);
}

void sim_orgs_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	const struct sim_account *me = sim_scenario_account(w->sc, c->who.account);
	json_error_t jerr;
	json_t *body =
		json_loadb(c->body_len ? c->body : "{}", c->body_len ? c->body_len : 2, 0, &jerr);

	if (!json_is_object(body)) {
		sim_json_error(r, SIM_SVC_ORGS, 400, "SerializationException",
			       "The request body must be a JSON object.");
		goto out;
	}
	if (!sim_orgs_known(c->action)) {
		sim_json_error(r, SIM_SVC_ORGS, 400, "UnknownOperationException",
			       "cbq-awssim does not implement Organizations %.64s", c->action);
		goto out;
	}
	if (!w->sc->org.present || !me || !me->in_org) {
		sim_json_error(r, SIM_SVC_ORGS, 400, "AWSOrganizationsNotInUseException",
			       "Your account is not a member of an organization.");
		goto out;
	}
	if (strcmp(c->action, "DescribeOrganization") == 0) {
		describe(w, r);
		goto out;
	}
	if (strcmp(c->who.account, w->sc->org.management) != 0) {
		sim_json_error(r, SIM_SVC_ORGS, 400, "AccessDeniedException",
			       "You don't have permissions to access this resource.");
		goto out;
	}
	if (strcmp(c->action, "ListParents") == 0)
		list_parents(w, body, r);
	else if (strcmp(c->action, "ListRoots") == 0)
		list_roots(w, body, r);
	else
		list_under(w, c->action, body, r);
out:
	json_decref(body);
}
