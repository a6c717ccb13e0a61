/*
 * Caller lookups that arrive together share one statement: every API request
 * asks which team its account belongs to and whether its principal is an
 * admin, and one round trip per request cost more than the answer. At most
 * DB_CALLER_BATCH_INFLIGHT statements are in flight; lookups arriving
 * meanwhile wait and go in the next one. Answers are as fresh as a
 * per-request lookup: nothing is cached.
 */
#ifndef CBQ_DB_CALLER_BATCH_H
#define CBQ_DB_CALLER_BATCH_H

#include "db/db.h"
#include "db/jobs.h"

enum {
	DB_CALLER_BATCH_INFLIGHT = 2,
	DB_CALLER_BATCH_MAX = 512, /* lookups per statement */
};

struct db_caller_batch;

struct db_caller_batch *db_caller_batch_new(struct db *db);
/* Lookups still waiting are answered with an error first. */
void db_caller_batch_free(struct db_caller_batch *b);
/* done gets the caller (db_caller_fn in jobs.h), NULL when the account is
 * not registered, or err; always later, from the loop. */
void db_caller_batch_add(struct db_caller_batch *b, const char *account_id,
			 const char *principal, db_caller_fn *done, void *arg);

#endif
