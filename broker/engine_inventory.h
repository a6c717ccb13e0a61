/*
 * What the inventory sync's two files share: engine_inventory.c (the round:
 * configuration, deciding and writing) and engine_inventory_aws.c (reading
 * an owner's blocks, usage, RAM shares and Organizations). Private.
 */
#ifndef CBQ_ENGINE_INVENTORY_H
#define CBQ_ENGINE_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aws/client.h"
#include "core/arena.h"
#include "core/block.h"
#include "db/blocks_sync.h"

struct engine;

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

/* Ends o's round (failure: why nothing was written) and frees it. */
void sync_owner_end(struct owner *o, const char *failure);
/* Ends the round on a failed call, naming it; false when r succeeded. */
bool sync_call_failed(struct owner *o, const struct aws_call_result *r);
/* One call as the owner's read role. */
void sync_call(struct owner *o, enum aws_service svc, const char *what, const char *path,
	       const char *ctype, const char *target, const char *body, size_t len,
	       aws_call_fn done);
/* Everything EC2 said is in: compare with Postgres and write (engine_inventory.c). */
void sync_read_stored(struct owner *o);
/* Reads the owner's blocks, page by page, then each one's usage and shares
 * (engine_inventory_aws.c); ends in sync_read_stored(). */
void sync_describe_page(struct owner *o);

#endif
