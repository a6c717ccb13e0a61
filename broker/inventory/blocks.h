/*
 * The block mirror: how a Capacity Block stored in Postgres should change
 * to match what EC2 says now (DescribeCapacityReservations, and for the
 * owner GetCapacityReservationUsage). One block at a time: stored and seen
 * in, one update (or none) out, with the event text a user reads ("extended
 * from … to …"). Pure: the engine pairs stored rows with EC2's items by id,
 * calls this and writes the update. It never touches jobs; an extension
 * moves the block's end and cutoff and the scheduler replans from there.
 *
 * The mirror follows EC2: EC2 owns the block's state, so every state it
 * reports is taken, and inv_block_edge_ok only says whether the edge is one
 * EC2 documents (an unexpected one is applied, flagged and named in the
 * event, because refusing EC2's truth would launch into a dead block or
 * ignore a live one).
 */
#ifndef CBQ_INVENTORY_BLOCKS_H
#define CBQ_INVENTORY_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/block.h"
#include "core/err.h"
#include "core/job.h"
#include "inventory/jobfsm.h"

enum {
	INV_BLOCK_TOTAL_MAX = 1000000, /* instances in one block (EC2: 64) */
	INV_USAGE_MAX = 1000,	       /* per-account usage rows of one block */
	INV_BLOCK_ID_MAX = 64,
};

/*
 * The states a Capacity Block mirror may hold (those of the blocks table):
 * payment-pending, scheduled, active, then one of the final payment-failed,
 * expired, cancelled, failed. The canonical string for name, or NULL when
 * name is none of them (assessing, delayed, … belong to other reservations).
 */
const char *inv_block_state(const char *name);

/* Documented edges: from a non-final state to any later one (payment-pending
 * → scheduled → active → final). Unknown names are never legal. */
bool inv_block_edge_ok(const char *from, const char *to);

struct inv_block_sync {
	cbq_ms now;
	/* The row in Postgres, NULL when EC2 shows a block cbq does not have. */
	const struct block *stored;
	/* EC2's item, NULL when the block is missing from EC2's complete answer
	 * (the engine must not call this for a page that failed, nor for blocks
	 * configured statically). Read: id, instance_type, az, state, total,
	 * available, start, end; usage when seen_usage. */
	const struct block *seen;
	bool seen_usage;     /* seen->usage is GetCapacityReservationUsage's answer */
	int32_t used_by_cbq; /* cbq's jobs' instances on the block, not final; ≥ 0 */
};

enum inv_block_op {
	INV_BLOCK_NONE,	  /* nothing to write */
	INV_BLOCK_INSERT, /* a block cbq did not have */
	INV_BLOCK_UPDATE, /* write the fields below */
};

struct inv_block_update {
	enum inv_block_op op;
	const char *id;	   /* borrowed from the input */
	const char *state; /* canonical (static) */
	bool state_changed, unexpected_edge;
	bool times_changed, counts_changed, usage_changed;
	cbq_ms start, end, cutoff;
	int32_t total, available;
	int32_t used_by_cbq;
	/* total − available − used_by_cbq, never negative, and 0 unless the
	 * block is active (before a block starts EC2 says 0 available). It is
	 * derived, so it alone never makes an update. */
	int32_t used_outside_cbq;
	/* What a user should hear about (a new block, a state, start or end that
	 * moved): the text of a block event. "" when nothing of that changed,
	 * so counts and usage, which move with every launch, make no event. */
	char event[INV_REASON_MAX];
};

/*
 * Diffs one block. Missing from EC2: a final stored state stays; a
 * payment-pending block becomes payment-failed; any other becomes expired
 * once its end has passed, else cancelled. The counts of a missing block
 * are kept and used_outside_cbq is 0. Refuses (CBQ_ERR_INVALID naming the
 * field) both NULL, ids that differ or are not cr-…, a state outside
 * inv_block_state, total outside 1..INV_BLOCK_TOTAL_MAX, available outside
 * 0..total, end ≤ start, times outside 0..year 9999, used_by_cbq < 0, more
 * than INV_USAGE_MAX usage rows (CBQ_ERR_TOO_LARGE), a usage row that is
 * not 12 digits, negative or listed twice; and for an insert an instance
 * type or AZ that is not well formed. *out is written only on success.
 */
enum cbq_err inv_block_diff(const struct inv_block_sync *in, struct inv_block_update *out,
			    struct cbq_error *err) CBQ_MUST_CHECK;

#endif
