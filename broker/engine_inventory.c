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
 * This file runs the round and writes; engine_inventory_aws.c reads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/client.h"
#include "aws/ec2.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "db/blocks_sync.h"
#include "engine.h"
#include "engine_internal.h"
#include "engine_inventory.h"
#include "inventory/blocks.h"
#include "inventory/principals.h"
#include "util/clock.h"
#include "util/log.h"

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

void sync_owner_end(struct owner *o, const char *failure)
{
	struct engine *e = o->e;

	if (failure) {
		/* nothing of this owner was written: the next round tries again */
		cbq_log(CBQ_LOG_WARN, "inventory_sync_failed", "owner=%s role=%s error=%s",
			o->account, o->role_arn, cbq_log_q(failure));
	} else {
		cbq_log(CBQ_LOG_INFO, "inventory_synced",
			"owner=%s blocks=%zu writes=%zu events=%d ms=%lld", o->account, o->n_seen,
			o->n_writes, o->events, (long long)(cbq_clock_real_ms() - o->began));
		/* EC2's counts are in Postgres now: lost races need no more waiting */
		memset(e->races, 0, sizeof(e->races));
	}
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
bool sync_call_failed(struct owner *o, const struct aws_call_result *r)
{
	if (r->code == CBQ_OK)
		return false;
	sync_owner_end(o, r->err->msg);
	return true;
}

static const char *sync_role_ext(const struct owner *o)
{
	return o->e->inv_external_id;
}

void sync_call(struct owner *o, enum aws_service svc, const char *what, const char *path,
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
		cbq_log(CBQ_LOG_WARN, "inventory_store_failed", "owner=%s block=%s error=%s",
			o->account, w->row.id, cbq_log_q(err->err.msg));
		sync_owner_end(o, NULL);
		return;
	}
	write_next(o);
}

static void write_next(struct owner *o)
{
	if (o->next_write == o->n_writes || !o->e->leader) {
		sync_owner_end(o, NULL);
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
		.id = cbq_arena_strdup(&o->arena, u->id),
		.owner = o->account,
		.region = o->e->inv_region,
		.az = cbq_arena_strdup(&o->arena, az),
		.instance_type = cbq_arena_strdup(&o->arena, type),
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
			"owner=%s block=%s field=%s error=%s", o->account, s->id, err.field,
			cbq_log_q(err.msg));
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
			"owner=%s block=%s field=%s error=%s", o->account, s->id, err.field,
			cbq_log_q(err.msg));
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
			"owner=%s block=%s field=%s error=%s", o->account, st->b.id, err.field,
			cbq_log_q(err.msg));
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
		sync_owner_end(o, err->err.msg);
		return;
	}
	if (!o->e->leader) {
		sync_owner_end(o, "leadership lost during the sync");
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

void sync_read_stored(struct owner *o)
{
	db_blocks_of_owner(o->e->db, o->account, SYNC_BLOCKS_MAX * 4, stored_read, o);
}

static void accounts_read(void *arg, const char *const *ids, size_t n, const struct db_error *err)
{
	struct owner *o = arg;

	if (err) {
		sync_owner_end(o, err->err.msg);
		return;
	}
	o->accounts = cbq_arena_alloc(&o->arena, n + 1, sizeof(*o->accounts));
	for (size_t i = 0; i < n; i++)
		o->accounts[i] = cbq_arena_strdup(&o->arena, ids[i]);
	o->n_accounts = n;
	sync_describe_page(o);
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
	e->next_inventory = real + engine_real_span(e, e->inv_every, 1000);
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
