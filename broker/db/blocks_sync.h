/*
 * The inventory sync's reads and writes: the blocks of one owner account as
 * stored (with their consumers, usage and cbq's own instances on them), the
 * registered account ids, and the three writes that mirror EC2 into a block
 * (the row, who may use it, who uses it). Each write is one statement,
 * conditional on the row being an EC2-mirrored one (source = 'ec2'), so a
 * statically configured block is never overwritten and a repeat is harmless.
 * Decides nothing: inventory/blocks.h says what to write.
 */
#ifndef CBQ_DB_BLOCKS_SYNC_H
#define CBQ_DB_BLOCKS_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/block.h"
#include "db/db.h"

enum {
	DB_SYNC_CONSUMERS_MAX = 100000, /* consumers of one block written at once */
	DB_SYNC_USAGE_MAX = 1000,	/* usage rows of one block written at once */
};

/* A stored block of the owner. Strings and arrays live as long as the
 * callback runs. */
struct db_synced_block {
	struct block b;		      /* usage: its block_usage rows */
	bool ec2;		      /* source = 'ec2' (else configured statically) */
	const char *const *consumers; /* block_consumers, sorted */
	size_t n_consumers;
	int32_t used_by_cbq; /* instances of cbq's launching/running/expiring jobs */
};
typedef void db_synced_blocks_fn(void *arg, const struct db_synced_block *b, size_t n,
				 const struct db_error *err);
/* At most limit blocks owned by owner (12 digits), by id. */
void db_blocks_of_owner(struct db *db, const char *owner, int limit, db_synced_blocks_fn *done,
			void *arg);

typedef void db_account_ids_fn(void *arg, const char *const *ids, size_t n,
			       const struct db_error *err);
/* At most limit registered account ids, sorted. */
void db_account_ids(struct db *db, int limit, db_account_ids_fn *done, void *arg);

/* A block as EC2 shows it now (all strings required). */
struct db_block_write {
	const char *id, *owner, *region, *az, *instance_type, *state;
	int32_t total, available;
	cbq_ms start, end, synced_at;
};
/* applied: a row was inserted or updated (false: the id belongs to a
 * static block or another owner, and was left alone). */
typedef void db_sync_fn(void *arg, bool applied, const struct db_error *err);

/* Inserts the block (source 'ec2') or updates its state, counts, times and
 * synced_at. */
void db_block_upsert(struct db *db, const struct db_block_write *w, db_sync_fn *done, void *arg);
/* Makes the block's consumers exactly ids[0..n) (12-digit ids). The caller
 * keeps n ≤ DB_SYNC_CONSUMERS_MAX; more is refused through done
 * (CBQ_ERR_TOO_LARGE) without writing. */
void db_block_consumers_set(struct db *db, const char *block_id, const char *const *ids, size_t n,
			    db_sync_fn *done, void *arg);
/* Makes the block's usage rows exactly u[0..n) (n ≤ DB_SYNC_USAGE_MAX, as
 * above). */
void db_block_usage_set(struct db *db, const char *block_id, const struct block_usage *u, size_t n,
			cbq_ms at, db_sync_fn *done, void *arg);

#endif
