/*
 * Group commit for submits: submits that arrive while earlier ones are being
 * stored wait, then go to Postgres together in one statement (one
 * transaction, one COMMIT, one NOTIFY), and each is answered only after that
 * COMMIT. Answers are those of db_job_submit, one by one. It is not a cache
 * and decides nothing about who may submit what.
 */
#ifndef CBQ_DB_SUBMIT_BATCH_H
#define CBQ_DB_SUBMIT_BATCH_H

#include "db/db.h"
#include "db/jobs.h"

struct db_submit_batch;

enum {
	DB_SUBMIT_BATCH_DEFAULT = 256, /* submits per statement */
	/* statements in flight at once: one commits while the next is built */
	DB_SUBMIT_BATCH_INFLIGHT = 2,
};

/* batch_max: most submits in one statement, 1..DB_SUBMIT_MANY_MAX (1 = no
 * grouping). Never fails (allocation failure aborts). */
struct db_submit_batch *db_submit_batch_new(struct db *db, int batch_max);
/* Only once every submit has been answered (after db_close, which fails
 * what is in flight and so drains the queue). Accepts NULL. */
void db_submit_batch_free(struct db_submit_batch *b);

/*
 * Stores s as db_job_submit would and calls done once, from the loop, never
 * inside this call. s and everything it points to must stay valid until
 * done. Submits with the same team and idempotency key are stored one after
 * the other, never in one statement. When the statement fails for a reason
 * that is not Postgres being unreachable (a constraint the statement did not
 * foresee), each of its submits is retried on its own, so a bad row fails
 * alone; when Postgres is unreachable, all of them get CBQ_ERR_UNAVAILABLE.
 */
void db_submit_batch_add(struct db_submit_batch *b, const struct db_submit *s, db_submit_fn *done,
			 void *arg);

#endif
