/*
 * The inventory sync (inventory_source = ec2): every interval, and right
 * after gaining leadership, the leader reads each owner account's Capacity
 * Blocks as that owner's read role (DescribeCapacityReservations, then per
 * block GetCapacityReservationUsage and RAM ListPrincipals, and when a block
 * is shared with an OU or the organization, Organizations
 * DescribeOrganization and ListParents of each registered account, cached
 * for the round), lets inventory/ decide (inv_block_diff,
 * inv_block_consumers) and writes through db/blocks_sync.h. An owner whose
 * any call failed is left untouched this round: a failed page is never
 * "missing". It does not plan or launch; the writes NOTIFY the scheduler.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws/client.h"
#include "aws/ec2.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "db/blocks_sync.h"
#include "engine.h"
#include "engine_internal.h"
#include "inventory/blocks.h"
#include "inventory/principals.h"
#include "util/clock.h"
#include "util/log.h"

enum {
	SYNC_BLOCKS_MAX = 1000,	 /* blocks of one owner */
	SYNC_ORG_IDS_MAX = 100,	 /* bytes of an o-…, ou-… or r-… id */
	SYNC_CACHE_MAX = 200000, /* ListParents answers kept in one round */
};

#define ORG_TARGET "AWSOrganizationsV20161128."
#define ORG_TYPE "application/x-amz-json-1.1"
#define NOT_IN_ORG "-" /* cached parent of an account Organizations does not know */

/* A block as EC2 shows it, with its usage and its shares' principals. */
struct seen {
	char *id, *arn, *az, *type, *state;
	int32_t total, available;
	cbq_ms start, end;
	struct block_usage *usage;
	size_t n_usage, cap_usage;
	const char **principals;
	size_t n_principals, cap_principals;
};

/* A ListParents answer: child → parent (NOT_IN_ORG when unknown). */
struct parent {
	char *child, *id;
	bool root;
};

/* One write of the round, run in order (a block's row before its rows). */
enum write_kind { W_UPSERT, W_CONSUMERS, W_USAGE };
struct write {
	enum write_kind kind;
	struct db_block_write row; /* W_UPSERT; row.id for all */
	const char **ids;	   /* W_CONSUMERS */
	size_t n_ids;
	struct block_usage *usage; /* W_USAGE */
	size_t n_usage;
};

/* One owner's round. Everything lives in the arena until owner_end. */
struct owner {
	struct engine *e;
	struct cbq_arena arena;
	char account[13];
	const char *role_arn;
	cbq_ms began;	       /* real ms */
	const char **accounts; /* registered, sorted */
	size_t n_accounts;
	struct seen *seen;
	size_t n_seen;
	size_t cur;  /* the block being read */
	char *token; /* the next page, NULL on the first */
	bool need_org;
	char *org_id; /* NULL: no organization */
	struct parent *parents;
	size_t n_parents, cap_parents;
	size_t acct;	  /* the account whose chain is being walked */
	const char *node; /* the id whose parent is asked */
	int depth;
	struct write *writes;
	size_t n_writes, cap_writes, next_write;
	int events;
};

static char *keep(struct cbq_arena *a, const char *s)
{
	size_t n = strlen(s ? s : "");
	char *d = cbq_arena_alloc(a, n + 1, 1);

	memcpy(d, s ? s : "", n);
	return d;
}

/* ---- configuration ------------------------------------------------------- */

void engine_inventory_free(struct engine *e)
{
	for (size_t i = 0; i < e->n_inv_roles; i++)
		free(e->inv_roles[i]);
	free(e->inv_roles);
	free(e->inv_external_id);
	e->inv_roles = NULL;
	e->n_inv_roles = 0;
	e->inv_external_id = NULL;
}

void engine_set_inventory(struct engine *e, const struct engine_inventory_cfg *cfg)
{
	engine_inventory_free(e);
	e->inv_ec2 = cfg->source == ENGINE_INVENTORY_EC2;
	e->inv_every = (cbq_ms)(cfg->interval_s > 0 ? cfg->interval_s : 60) * 1000;
	snprintf(e->inv_region, sizeof(e->inv_region), "%s", cfg->region ? cfg->region : "");
	if (cfg->external_id && cfg->external_id[0])
		e->inv_external_id = cbq_xstrdup(cfg->external_id);
	for (const char *p = cfg->roles ? cfg->roles : ""; *p;) {
		size_t len = strcspn(p, ",");
		if (len) {
			e->inv_roles = cbq_xrealloc(e->inv_roles, e->n_inv_roles + 1,
						    sizeof(*e->inv_roles));
			e->inv_roles[e->n_inv_roles++] = cbq_xstrndup(p, len);
		}
		p += len + (p[len] == ',');
	}
}

/* ---- the end of a round --------------------------------------------------- */

static void owner_end(struct owner *o, const char *failure)
{
	struct engine *e = o->e;

	if (failure)
		/* nothing of this owner was written: the next round tries again */
		cbq_log(CBQ_LOG_WARN, "inventory_sync_failed", "owner=%s role=%s error=\"%s\"",
			o->account, o->role_arn, failure);
	else
		cbq_log(CBQ_LOG_INFO, "inventory_synced",
			"owner=%s blocks=%zu writes=%zu events=%d ms=%lld", o->account, o->n_seen,
			o->n_writes, o->events, (long long)(cbq_clock_real_ms() - o->began));
	for (size_t i = 0; i < o->n_seen; i++) {
		free(o->seen[i].usage);
		free(o->seen[i].principals);
	}
	free(o->seen);
	free(o->parents);
	free(o->writes);
	cbq_arena_free(&o->arena);
	free(o);
	e->inv_owners--;
}

/* Ends the round on a failed call, naming it. */
static bool call_failed(struct owner *o, const struct aws_call_result *r)
{
	if (r->code == CBQ_OK)
		return false;
	owner_end(o, r->err->msg);
	return true;
}

static const char *sync_role_ext(const struct owner *o)
{
	return o->e->inv_external_id;
}

static void call(struct owner *o, enum aws_service svc, const char *what, const char *path,
		 const char *ctype, const char *target, const char *body, size_t len,
		 aws_call_fn done)
{
	struct aws_call_req req = {
		.service = svc,
		.role = { o->role_arn, sync_role_ext(o), "cbq-inventory" },
		.what = what,
		.path = path,
		.content_type = ctype,
		.target = target,
		.body = body,
		.body_len = len,
	};

	aws_call_start(o->e->aws, &req, done, o);
}

/* ---- writing ---------------------------------------------------------------- */

static void write_next(struct owner *o);

static void written(void *arg, bool applied, const struct db_error *err)
{
	struct owner *o = arg;
	const struct write *w = &o->writes[o->next_write - 1];

	(void)applied;
	if (err) {
		/* what is written stays; the rest waits for the next round */
		cbq_log(CBQ_LOG_WARN, "inventory_store_failed", "owner=%s block=%s error=\"%s\"",
			o->account, w->row.id, err->err.msg);
		owner_end(o, NULL);
		return;
	}
	write_next(o);
}

static void write_next(struct owner *o)
{
	if (o->next_write == o->n_writes || !o->e->leader) {
		owner_end(o, NULL);
		return;
	}
	const struct write *w = &o->writes[o->next_write++];
	struct db *db = o->e->db;

	if (w->kind == W_UPSERT)
		db_block_upsert(db, &w->row, written, o);
	else if (w->kind == W_CONSUMERS)
		db_block_consumers_set(db, w->row.id, w->ids, w->n_ids, written, o);
	else
		db_block_usage_set(db, w->row.id, w->usage, w->n_usage, w->row.synced_at, written,
				   o);
}

static struct write *add_write(struct owner *o, enum write_kind kind,
			       const struct db_block_write *row)
{
	if (o->n_writes == o->cap_writes) {
		o->cap_writes = o->cap_writes ? o->cap_writes * 2 : 16;
		o->writes = cbq_xrealloc(o->writes, o->cap_writes, sizeof(*o->writes));
	}
	struct write *w = &o->writes[o->n_writes++];
	*w = (struct write){ .kind = kind, .row = *row };
	return w;
}

/* The row of update u, with strings kept for the writes. */
static struct db_block_write row_of(struct owner *o, const struct inv_block_update *u,
				    const char *az, const char *type, cbq_ms now)
{
	return (struct db_block_write){
		.id = keep(&o->arena, u->id),
		.owner = o->account,
		.region = o->e->inv_region,
		.az = keep(&o->arena, az),
		.instance_type = keep(&o->arena, type),
		.state = u->state,
		.total = u->total,
		.available = u->available,
		.start = u->start,
		.end = u->end,
		.synced_at = now,
	};
}

static void event(struct owner *o, const char *id, const struct inv_block_update *u)
{
	if (!u->event[0])
		return;
	o->events++;
	cbq_log(u->unexpected_edge ? CBQ_LOG_WARN : CBQ_LOG_INFO, "block_event",
		"block=%s owner=%s state=%s event=\"%s\"", id, o->account, u->state, u->event);
}

/* The registered accounts with their place in the organization. */
static struct inv_org_account *org_accounts(struct owner *o)
{
	struct inv_org_account *acc = cbq_arena_alloc(&o->arena, o->n_accounts + 1, sizeof(*acc));

	for (size_t i = 0; i < o->n_accounts; i++) {
		const char **chain = cbq_arena_alloc(&o->arena, INV_PARENTS_MAX, sizeof(*chain));
		const char *node = o->accounts[i];
		size_t n = 0;
		bool member = o->org_id != NULL;

		acc[i].id = o->accounts[i];
		for (size_t k = 0; member && k < o->n_parents && n < INV_PARENTS_MAX;) {
			const struct parent *p = &o->parents[k];
			if (strcmp(p->child, node) != 0) {
				k++;
				continue;
			}
			if (strcmp(p->id, NOT_IN_ORG) == 0) {
				member = n > 0;
				break;
			}
			chain[n++] = p->id;
			if (p->root)
				break;
			node = p->id;
			k = 0;
		}
		acc[i].org_id = member && n > 0 ? o->org_id : NULL;
		acc[i].parents = chain;
		acc[i].n_parents = member ? n : 0;
	}
	return acc;
}

static bool same_ids(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* One seen block against its stored row (or none): the writes it needs. */
static void plan_seen(struct owner *o, const struct seen *s, const struct db_synced_block *st,
		      const struct inv_org_account *acc, cbq_ms now)
{
	struct block seen = {
		.id = s->id,
		.instance_type = s->type,
		.az = s->az,
		.total = s->total,
		.available = s->available,
		.state = s->state,
		.start = s->start,
		.end = s->end,
		.cutoff = s->end - BLOCK_CUTOFF_LEAD_MS,
		.usage = s->usage,
		.n_usage = s->n_usage,
	};
	struct inv_block_sync in = {
		.now = now,
		.stored = st ? &st->b : NULL,
		.seen = &seen,
		.seen_usage = true,
		.used_by_cbq = st ? st->used_by_cbq : 0,
	};
	struct inv_block_update u;
	struct inv_consumers c;
	struct cbq_error err = { 0 };

	if (inv_block_diff(&in, &u, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_WARN, "inventory_block_refused",
			"owner=%s block=%s field=%s error=\"%s\"", o->account, s->id, err.field,
			err.msg);
		return;
	}
	const char **ids = cbq_arena_alloc(&o->arena, o->n_accounts + 1, sizeof(*ids));
	struct inv_share share = {
		.owner = o->account,
		.principals = s->principals,
		.n_principals = s->n_principals,
		.accounts = acc,
		.n_accounts = o->n_accounts,
	};
	if (inv_block_consumers(&share, ids, o->n_accounts + 1, &c, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_WARN, "inventory_share_refused",
			"owner=%s block=%s field=%s error=\"%s\"", o->account, s->id, err.field,
			err.msg);
		return;
	}
	for (size_t k = 0; k < c.n_notes; k++)
		cbq_log(CBQ_LOG_INFO, "inventory_principal_ignored",
			"owner=%s block=%s note=\"%s\"", o->account, s->id, c.notes[k].text);
	/* block_consumers lists the others: the owner may always use its block */
	size_t n = 0;
	for (size_t k = 0; k < c.n; k++)
		if (strcmp(c.ids[k], o->account) != 0)
			ids[n++] = c.ids[k];

	struct db_block_write row = row_of(o, &u, s->az, s->type, now);
	event(o, s->id, &u);
	/* every seen block is written: synced_at says EC2 was read */
	add_write(o, W_UPSERT, &row);
	if (!st || !same_ids(st->consumers, st->n_consumers, ids, n)) {
		struct write *w = add_write(o, W_CONSUMERS, &row);
		w->ids = ids;
		w->n_ids = n;
	}
	if (!st || u.usage_changed) {
		struct write *w = add_write(o, W_USAGE, &row);
		w->usage = cbq_arena_alloc(&o->arena, s->n_usage + 1, sizeof(*w->usage));
		for (size_t k = 0; k < s->n_usage; k++)
			w->usage[k] = s->usage[k];
		w->n_usage = s->n_usage;
	}
}

/* A stored block of the owner that EC2's complete answer no longer lists. */
static void plan_missing(struct owner *o, const struct db_synced_block *st, cbq_ms now)
{
	struct inv_block_sync in = { .now = now, .stored = &st->b, .used_by_cbq = st->used_by_cbq };
	struct inv_block_update u;
	struct cbq_error err = { 0 };

	if (inv_block_diff(&in, &u, &err) != CBQ_OK) {
		cbq_log(CBQ_LOG_WARN, "inventory_block_refused",
			"owner=%s block=%s field=%s error=\"%s\"", o->account, st->b.id, err.field,
			err.msg);
		return;
	}
	if (u.op == INV_BLOCK_NONE)
		return;
	event(o, st->b.id, &u);
	struct db_block_write row = row_of(o, &u, st->b.az, st->b.instance_type, now);
	add_write(o, W_UPSERT, &row);
}

static void stored_read(void *arg, const struct db_synced_block *b, size_t n,
			const struct db_error *err)
{
	struct owner *o = arg;
	cbq_ms now = cbq_clock_now(o->e->clock);

	if (err) {
		owner_end(o, err->err.msg);
		return;
	}
	if (!o->e->leader) {
		owner_end(o, "leadership lost during the sync");
		return;
	}
	struct inv_org_account *acc = org_accounts(o);
	for (size_t i = 0; i < o->n_seen; i++) {
		const struct db_synced_block *st = NULL;
		for (size_t k = 0; k < n && !st; k++)
			if (strcmp(b[k].b.id, o->seen[i].id) == 0)
				st = &b[k];
		if (st && !st->ec2) {
			cbq_log(CBQ_LOG_DEBUG, "inventory_static_kept", "owner=%s block=%s",
				o->account, st->b.id);
			continue;
		}
		plan_seen(o, &o->seen[i], st, acc, now);
	}
	for (size_t k = 0; k < n; k++) {
		bool listed = false;
		for (size_t i = 0; i < o->n_seen && !listed; i++)
			listed = strcmp(b[k].b.id, o->seen[i].id) == 0;
		if (!listed && b[k].ec2)
			plan_missing(o, &b[k], now);
	}
	write_next(o);
}

static void read_stored(struct owner *o)
{
	db_blocks_of_owner(o->e->db, o->account, SYNC_BLOCKS_MAX * 4, stored_read, o);
}

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
		(struct parent){ keep(&o->arena, child), keep(&o->arena, id), root };
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
	if (call_failed(o, r))
		return;
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
	json_t *p = json_array_get(json_object_get(doc, "Parents"), 0);
	const char *id = json_string_value(json_object_get(p, "Id"));
	const char *type = json_string_value(json_object_get(p, "Type"));
	if (!org_id_ok(id) || !type) {
		json_decref(doc);
		owner_end(o, "organizations:ListParents: a reply without a parent Id and Type");
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
				owner_end(o, "too many Organizations parents to cache");
				return;
			}
			json_t *body = json_pack("{s:s}", "ChildId", o->node);
			char *text = json_dumps(body, JSON_COMPACT);
			call(o, AWS_SVC_ORGANIZATIONS, "organizations:ListParents", "/", ORG_TYPE,
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
	read_stored(o);
}

static void on_organization(const struct aws_call_result *r, void *arg)
{
	struct owner *o = arg;

	if (r->code != CBQ_OK && r->reply &&
	    strcmp(r->reply->code, "AWSOrganizationsNotInUseException") == 0) {
		/* no organization: OU and organization principals cover nobody */
		read_stored(o);
		return;
	}
	if (call_failed(o, r))
		return;
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL);
	const char *id =
		json_string_value(json_object_get(json_object_get(doc, "Organization"), "Id"));
	if (!id || strncmp(id, "o-", 2) != 0 || strlen(id) >= SYNC_ORG_IDS_MAX) {
		json_decref(doc);
		owner_end(o, "organizations:DescribeOrganization: a reply without Organization.Id");
		return;
	}
	o->org_id = keep(&o->arena, id);
	json_decref(doc);
	o->acct = 0;
	o->node = NULL;
	list_parents(o);
}

static void read_organization(struct owner *o)
{
	static const char body[] = "{}";

	call(o, AWS_SVC_ORGANIZATIONS, "organizations:DescribeOrganization", "/", ORG_TYPE,
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

	if (call_failed(o, r))
		return;
	json_t *doc = json_loadb(r->body, r->body_len, 0, NULL), *p;
	json_t *list = json_object_get(doc, "principals");
	size_t i;
	if (!json_is_object(doc) || (list && !json_is_array(list))) {
		json_decref(doc);
		owner_end(o, "ram:ListPrincipals: a reply that is not a principals list");
		return;
	}
	json_array_foreach(list, i, p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		if (!id || strlen(id) > INV_PRINCIPAL_LEN_MAX)
			continue;
		if (s->n_principals >= INV_PRINCIPALS_MAX) {
			json_decref(doc);
			owner_end(o,
				  "ram:ListPrincipals: more principals than cbq reads for one block");
			return;
		}
		if (s->n_principals == s->cap_principals) {
			s->cap_principals = s->cap_principals ? s->cap_principals * 2 : 8;
			s->principals = cbq_xrealloc(s->principals, s->cap_principals,
						     sizeof(*s->principals));
		}
		s->principals[s->n_principals++] = keep(&o->arena, id);
		o->need_org |= strncmp(id, "arn:aws", 7) == 0 && strstr(id, ":organizations::");
	}
	/* a page may be empty with more to come: stop only without a token */
	const char *tok = json_string_value(json_object_get(doc, "nextToken"));
	o->token = tok && *tok && strlen(tok) <= AWS_EC2_MAX_TOKEN_LEN ? keep(&o->arena, tok) :
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
	call(o, AWS_SVC_RAM, "ram:ListPrincipals", "/listprincipals", "application/json", NULL,
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

	if (call_failed(o, r))
		return;
	if (aws_ec2_parse_cr_usage(r->body, r->body_len, &v, &err) != CBQ_OK) {
		owner_end(o, err.msg);
		return;
	}
	for (size_t i = 0; i < v.n; i++) {
		if (s->n_usage >= INV_USAGE_MAX) {
			aws_ec2_cr_usage_free(&v);
			owner_end(o,
				  "ec2:GetCapacityReservationUsage: more accounts than cbq reads");
			return;
		}
		if (s->n_usage == s->cap_usage) {
			s->cap_usage = s->cap_usage ? s->cap_usage * 2 : 8;
			s->usage = cbq_xrealloc(s->usage, s->cap_usage, sizeof(*s->usage));
		}
		int64_t used = v.items[i].used;
		s->usage[s->n_usage++] = (struct block_usage){
			.account_id = keep(&o->arena, v.items[i].account_id),
			.used = (int32_t)(used < 0		     ? -1 :
					  used > INV_BLOCK_TOTAL_MAX ? INV_BLOCK_TOTAL_MAX :
								       used),
		};
	}
	o->token = v.next_token ? keep(&o->arena, v.next_token) : NULL;
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
		owner_end(o, err.msg);
		return;
	}
	call(o, AWS_SVC_EC2, "ec2:GetCapacityReservationUsage", "/", NULL, NULL,
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
		read_stored(o);
}

/* ---- the owner's blocks ------------------------------------------------------ */

static void describe_page(struct owner *o);

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

	if (call_failed(o, r))
		return;
	if (aws_ec2_parse_describe_crs(r->body, r->body_len, &v, &err) != CBQ_OK) {
		owner_end(o, err.msg);
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
			owner_end(o, "more Capacity Blocks than cbq reads for one owner");
			return;
		}
		snprintf(arn, sizeof(arn), "arn:aws:ec2:%s:%s:capacity-reservation/%.128s",
			 o->e->inv_region, o->account, cr->id);
		o->seen = cbq_xrealloc(o->seen, o->n_seen + 1, sizeof(*o->seen));
		o->seen[o->n_seen++] = (struct seen){
			.id = keep(&o->arena, cr->id),
			.arn = keep(&o->arena, cr->arn && *cr->arn ? cr->arn : arn),
			.az = keep(&o->arena, cr->az),
			.type = keep(&o->arena, cr->instance_type),
			.state = keep(&o->arena, cr->state),
			.total = (int32_t)(cr->total > INV_BLOCK_TOTAL_MAX ? -1 : cr->total),
			.available =
				(int32_t)(cr->available > INV_BLOCK_TOTAL_MAX ? -1 : cr->available),
			.start = cr->start * 1000,
			.end = cr->end * 1000,
		};
	}
	o->token = v.next_token ? keep(&o->arena, v.next_token) : NULL;
	aws_ec2_crs_free(&v);
	if (o->token) {
		describe_page(o);
		return;
	}
	o->cur = 0;
	next_block(o);
}

static void describe_page(struct owner *o)
{
	struct aws_ec2_describe_crs req = { .max_results = 1000, .next_token = o->token };
	struct aws_form form = { 0 };
	struct cbq_error err = { 0 };

	if (aws_ec2_describe_crs_form(&req, &form, &err) != CBQ_OK) {
		owner_end(o, err.msg);
		return;
	}
	call(o, AWS_SVC_EC2, "ec2:DescribeCapacityReservations", "/", NULL, NULL,
	     aws_form_body(&form), aws_form_len(&form), on_describe);
	aws_form_free(&form);
}

static void accounts_read(void *arg, const char *const *ids, size_t n, const struct db_error *err)
{
	struct owner *o = arg;

	if (err) {
		owner_end(o, err->err.msg);
		return;
	}
	o->accounts = cbq_arena_alloc(&o->arena, n + 1, sizeof(*o->accounts));
	for (size_t i = 0; i < n; i++)
		o->accounts[i] = keep(&o->arena, ids[i]);
	o->n_accounts = n;
	describe_page(o);
}

static void owner_start(struct engine *e, const char *role_arn)
{
	struct owner *o = cbq_xcalloc(1, sizeof(*o));

	o->e = e;
	o->role_arn = role_arn; /* the engine's copy outlives the round */
	o->began = cbq_clock_real_ms();
	/* arn:aws:iam::ACCOUNT:role/NAME: the account is the ARN's (app.c checked it) */
	const char *acct = strstr(role_arn, ":iam::");
	snprintf(o->account, sizeof(o->account), "%.12s", acct ? acct + 6 : "");
	e->inv_owners++;
	db_account_ids(e->db, INV_ORG_ACCOUNTS_MAX, accounts_read, o);
}

void engine_inventory_tick(struct engine *e)
{
	cbq_ms real = cbq_clock_real_ms();

	if (!e->inv_ec2 || !e->leader || e->inv_owners > 0 || real < e->next_inventory)
		return;
	e->next_inventory = real + e->inv_every;
	if (!e->aws) {
		if (!e->inv_warned)
			cbq_log(CBQ_LOG_WARN, "inventory_disabled",
				"reason=\"inventory_source = ec2 but cbqd has no AWS settings\"");
		e->inv_warned = true;
		return;
	}
	for (size_t i = 0; i < e->n_inv_roles; i++)
		owner_start(e, e->inv_roles[i]);
}
