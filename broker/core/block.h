/*
 * A Capacity Block as cbq mirrors it. Strings are borrowed from whatever
 * produced the value. The cutoff is when AWS starts terminating instances.
 */
#ifndef CBQ_CORE_BLOCK_H
#define CBQ_CORE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

#define BLOCK_CUTOFF_LEAD_MS ((cbq_ms)30 * 60 * 1000)

struct block_usage {
	const char *account_id;
	int32_t used;
};

struct block {
	const char *id;
	const char *instance_type;
	const char *az;
	int32_t total;
	int32_t available;
	const char *state; /* as EC2 names it: active, scheduled, expired, ... */
	cbq_ms start, end, cutoff;
	const struct block_usage *usage; /* owner's view; admins only */
	size_t n_usage;
};

#endif
