/*
 * The inventory sync's reads from AWS, as one owner's read role:
 * DescribeCapacityReservations (every page), then per block
 * GetCapacityReservationUsage and RAM ListPrincipals, and when a block is
 * shared with an OU or the organization, Organizations DescribeOrganization
 * and ListParents of each registered account (cached for the round). Any
 * failure ends the owner's round with nothing written (engine_inventory.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/client.h"
#include "aws/ec2.h"
#include "core/alloc.h"
#include "engine.h"
#include "engine_internal.h"
#include "engine_inventory.h"
#include "inventory/blocks.h"
#include "inventory/principals.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- Organizations --------------------------------------------------------- */

static const struct parent *cached(const struct owner *o, const char *child)
{
	for (size_t k = 0; k < o->n_parents; k++)
		if (strcmp(o->parents[k].child, child) == 0)
			return &o->parents[k];
	return NULL;
}

static void cache(struct owner *o, const char *child, const char *id, bool root)
{
	if (o->n_parents == o->cap_parents) {
		o->cap_parents = o->cap_parents ? o->cap_parents * 2 : 32;
		o->parents = cbq_xrealloc(o->parents, o->cap_parents, sizeof(*o->parents));
	}
	o->parents[o->n_parents++] =
		(struct parent){ cbq_arena_strdup(&o->arena, child), cbq_arena_strdup(&o->arena, id), root };
}

static void list_parents(struct owner *o);

static bool org_id_ok(const char *s)
{
	return s && strlen(s) < SYNC_ORG_IDS_MAX &&
	       (strncmp(s, "ou-", 3) == 0 || strncmp(s, "r-", 2) == 0) &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s);
}

static void on_parents(const struct aws_call_result *r, void *arg)
{
	struct owner *o = arg;

	if (r->code != CBQ_OK && r->reply &&
	    (strcmp(r->reply->code, "ChildNotFoundException") == 0 ||
	     strcmp(r->reply->code, "AccountNotFoundException") == 0) &&
	    o->depth == 0) {
		cache(o, o->node, NOT_IN_ORG, true); /* not a member */
		list_parents(o);
		return;
	}
	if (sync_call_failed(o, r))
		return;
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *p = json_array_get(json_object_get(doc, "Parents"), 0);
	const char *id = json_string_value(json_object_get(p, "Id"));
	const char *type = json_string_value(json_object_get(p, "Type"));
	if (!org_id_ok(id) || !type) {
		json_decref(doc);
		sync_owner_end(o, "organizations:ListParents: a reply without a parent Id and Type");
		return;
	}
	cache(o, o->node, id, strcmp(type, "ROOT") == 0);
	json_decref(doc);
	list_parents(o);
}

/* Walks each registered account's chain up to the root, asking only for
 * links not yet cached (accounts in one OU share all but the first). */
static void list_parents(struct owner *o)
{
	while (o->acct < o->n_accounts) {
		if (!o->node) {
			o->node = o->accounts[o->acct];
			o->depth = 0;
		}
		const struct parent *p = cached(o, o->node);
		if (!p) {
			if (o->n_parents >= SYNC_CACHE_MAX) {
				sync_owner_end(o, "too many Organizations parents to cache");
				return;
			}
			json_t *body = json_pack("{s:s}", "ChildId", o->node);
			char *text = json_dumps(body, JSON_COMPACT);
			sync_call(o, AWS_SVC_ORGANIZATIONS, "organizations:ListParents", "/", ORG_TYPE,
			     ORG_TARGET "ListParents", text, strlen(text), on_parents);
			free(text);
			json_decref(body);
			return;
		}
		if (p->root || strcmp(p->id, NOT_IN_ORG) == 0 || ++o->depth >= INV_PARENTS_MAX) {
			o->acct++;
			o->node = NULL;
		} else {
			o->node = p->id;
		}
	}
	sync_read_stored(o);
}

static void on_organization(const struct aws_call_result *r, void *arg)
{
	struct owner *o = arg;

	if (r->code != CBQ_OK && r->reply &&
	    strcmp(r->reply->code, "AWSOrganizationsNotInUseException") == 0) {
		/* no organization: OU and organization principals cover nobody */
		sync_read_stored(o);
		return;
	}
	if (sync_call_failed(o, r))
		return;
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
	const char *id =
		json_string_value(json_object_get(json_object_get(doc, "Organization"), "Id"));
	if (!id || strncmp(id, "o-", 2) != 0 || strlen(id) >= SYNC_ORG_IDS_MAX) {
		json_decref(doc);
		sync_owner_end(o, "organizations:DescribeOrganization: a reply without Organization.Id");
		return;
	}
	o->org_id = cbq_arena_strdup(&o->arena, id);
	json_decref(doc);
	o->acct = 0;
	o->node = NULL;
	list_parents(o);
}

static void read_organization(struct owner *o)
{
	static const char body[] = "{}";

	sync_call(o, AWS_SVC_ORGANIZATIONS, "organizations:DescribeOrganization", "/", ORG_TYPE,
	     ORG_TARGET "DescribeOrganization", body, sizeof(body) - 1, on_organization);
}

/* ---- per block: usage and RAM principals ------------------------------------ */

static void next_block(struct owner *o);
static void usage_page(struct owner *o);
static void principals_page(struct owner *o);

static void on_principals(const struct aws_call_result *r, void *arg)
{
	struct owner *o = arg;
	struct seen *s = &o->seen[o->cur];

	if (sync_call_failed(o, r))
		return;
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL), *p;
	json_t *list = json_object_get(doc, "principals");
	size_t i;
	if (!json_is_object(doc) || (list && !json_is_array(list))) {
		json_decref(doc);
		sync_owner_end(o, "ram:ListPrincipals: a reply that is not a principals list");
		return;
	}
	json_array_foreach(list, i, p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		if (!id || strlen(id) > INV_PRINCIPAL_LEN_MAX)
			continue;
		if (s->n_principals >= INV_PRINCIPALS_MAX) {
			json_decref(doc);
			sync_owner_end(o,
				  "ram:ListPrincipals: more principals than cbq reads for one block");
			return;
		}
		if (s->n_principals == s->cap_principals) {
			s->cap_principals = s->cap_principals ? s->cap_principals * 2 : 8;
			s->principals = cbq_xrealloc(s->principals, s->cap_principals,
						     sizeof(*s->principals));
		}
		s->principals[s->n_principals++] = cbq_arena_strdup(&o->arena, id);
		o->need_org |= strncmp(id, "arn:aws", 7) == 0 && strstr(id, ":organizations::");
	}
	/* a page may be empty with more to come: stop only without a token */
	const char *tok = json_string_value(json_object_get(doc, "nextToken"));
	o->token = tok && *tok && strlen(tok) <= AWS_EC2_MAX_TOKEN_LEN ? cbq_arena_strdup(&o->arena, tok) :
									 NULL;
	json_decref(doc);
	if (o->token) {
		principals_page(o);
		return;
	}
	o->cur++;
	next_block(o);
}

static void principals_page(struct owner *o)
{
	const struct seen *s = &o->seen[o->cur];
	json_t *body = json_pack("{s:s, s:s, s:s}", "resourceOwner", "SELF", "resourceArn", s->arn,
				 "resourceType", "ec2:CapacityReservation");

	if (o->token)
		json_object_set_new(body, "nextToken", json_string(o->token));
	char *text = json_dumps(body, JSON_COMPACT);
	sync_call(o, AWS_SVC_RAM, "ram:ListPrincipals", "/listprincipals", "application/json", NULL,
	     text, strlen(text), on_principals);
	free(text);
	json_decref(body);
}

static void on_usage(const struct aws_call_result *r, void *arg)
{
	struct owner *o = arg;
	struct seen *s = &o->seen[o->cur];
	struct aws_ec2_cr_usage v = { 0 };
	struct cbq_error err = { 0 };

	if (sync_call_failed(o, r))
		return;
	if (aws_ec2_parse_cr_usage(r->body, r->body_len, &v, &err) != CBQ_OK) {
		sync_owner_end(o, err.msg);
		return;
	}
	for (size_t i = 0; i < v.n; i++) {
		if (s->n_usage >= INV_USAGE_MAX) {
			aws_ec2_cr_usage_free(&v);
			sync_owner_end(o,
				  "ec2:GetCapacityReservationUsage: more accounts than cbq reads");
			return;
		}
		if (s->n_usage == s->cap_usage) {
			s->cap_usage = s->cap_usage ? s->cap_usage * 2 : 8;
			s->usage = cbq_xrealloc(s->usage, s->cap_usage, sizeof(*s->usage));
		}
		int64_t used = v.items[i].used;
		s->usage[s->n_usage++] = (struct block_usage){
			.account_id = cbq_arena_strdup(&o->arena, v.items[i].account_id),
			.used = (int32_t)(used < 0		     ? -1 :
					  used > INV_BLOCK_TOTAL_MAX ? INV_BLOCK_TOTAL_MAX :
								       used),
		};
	}
	o->token = v.next_token ? cbq_arena_strdup(&o->arena, v.next_token) : NULL;
	aws_ec2_cr_usage_free(&v);
	if (o->token) {
		usage_page(o);
		return;
	}
	principals_page(o);
}

static void usage_page(struct owner *o)
{
	struct aws_ec2_cr_usage_req req = { .id = o->seen[o->cur].id,
					    .max_results = 1000,
					    .next_token = o->token };
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };

	if (aws_ec2_cr_usage_form(&req, &form, &err) != CBQ_OK) {
		sync_owner_end(o, err.msg);
		return;
	}
	sync_call(o, AWS_SVC_EC2, "ec2:GetCapacityReservationUsage", "/", NULL, NULL,
	     aws_form_body(&form), aws_form_len(&form), on_usage);
	aws_form_free(&form);
}

static void next_block(struct owner *o)
{
	o->token = NULL;
	if (o->cur < o->n_seen) {
		usage_page(o);
		return;
	}
	if (o->need_org && o->n_accounts > 0)
		read_organization(o);
	else
		sync_read_stored(o);
}

/* ---- the owner's blocks ------------------------------------------------------ */

static bool is_capacity_block(const struct owner *o, const struct aws_ec2_cr *cr)
{
	/* reservationType marks a Capacity Block (AWS.md §1.4); without it, take all */
	if (cr->reservation_type && strcmp(cr->reservation_type, "capacity-block") != 0)
		return false;
	/* the owner also sees blocks shared with it: those are their owner's */
	return !cr->owner_id || strcmp(cr->owner_id, o->account) == 0;
}

static void on_describe(const struct aws_call_result *r, void *arg)
{
	struct owner *o = arg;
	struct aws_ec2_crs v = { 0 };
	struct cbq_error err = { 0 };

	if (sync_call_failed(o, r))
		return;
	if (aws_ec2_parse_describe_crs(r->body, r->body_len, &v, &err) != CBQ_OK) {
		sync_owner_end(o, err.msg);
		return;
	}
	for (size_t i = 0; i < v.n; i++) {
		const struct aws_ec2_cr *cr = &v.items[i];
		char arn[512];
		if (!cr->id || !is_capacity_block(o, cr))
			continue;
		if (!cr->state || !inv_block_state(cr->state)) {
			cbq_log(CBQ_LOG_INFO, "inventory_block_skipped",
				"owner=%s block=%s state=%s", o->account, cr->id,
				cr->state ? cr->state : "(none)");
			continue;
		}
		if (o->n_seen >= SYNC_BLOCKS_MAX) {
			aws_ec2_crs_free(&v);
			sync_owner_end(o, "more Capacity Blocks than cbq reads for one owner");
			return;
		}
		snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:capacity-reservation/%.128s",
			 o->e->inv_region, o->account, cr->id);
		o->seen = cbq_xrealloc(o->seen, o->n_seen + 1, sizeof(*o->seen));
		o->seen[o->n_seen++] = (struct seen){
			.id = cbq_arena_strdup(&o->arena, cr->id),
			.arn = cbq_arena_strdup(&o->arena, cr->arn && *cr->arn ? cr->arn : arn),
			.az = cbq_arena_strdup(&o->arena, cr->az),
			.type = cbq_arena_strdup(&o->arena, cr->instance_type),
			.state = cbq_arena_strdup(&o->arena, cr->state),
			.total = (int32_t)(cr->total > INV_BLOCK_TOTAL_MAX ? -1 : cr->total),
			.available =
				(int32_t)(cr->available > INV_BLOCK_TOTAL_MAX ? -1 : cr->available),
			.start = cr->start * 1000,
			.end = cr->end * 1000,
		};
	}
	o->token = v.next_token ? cbq_arena_strdup(&o->arena, v.next_token) : NULL;
	aws_ec2_crs_free(&v);
	if (o->token) {
		sync_describe_page(o);
		return;
	}
	o->cur = 0;
	next_block(o);
}

void sync_describe_page(struct owner *o)
{
	struct aws_ec2_describe_crs req = { .max_results = 1000, .next_token = o->token };
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };

	if (aws_ec2_describe_crs_form(&req, &form, &err) != CBQ_OK) {
		sync_owner_end(o, err.msg);
		return;
	}
	sync_call(o, AWS_SVC_EC2, "ec2:DescribeCapacityReservations", "/", NULL, NULL,
	     aws_form_body(&form), aws_form_len(&form), on_describe);
	aws_form_free(&form);
}
