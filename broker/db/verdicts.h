/*
 * Writing the scheduler's verdicts back: each queued job's reason and ETA,
 * into job_verdicts (0013), only for jobs still queued and only where
 * something changed. What launches is the launcher's business,
 * not this.
 */
#ifndef CBQ_DB_VERDICTS_H
#define CBQ_DB_VERDICTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/job.h"
#include "db/db.h"

/* Collects verdicts, then stores them. Strings are copied. */
struct db_verdicts;

struct db_verdicts *db_verdicts_new(size_t expect);
/* eta: Unix ms, or INT64_MIN for none. */
void db_verdicts_add(struct db_verdicts *v, int64_t job_id, const char *reason, cbq_ms eta);
size_t db_verdicts_count(const struct db_verdicts *v);
/* Frees v unstored (NULL is fine). */
void db_verdicts_free(struct db_verdicts *v);

/* Stores and frees v, DB_VERDICTS_CHUNK verdicts a statement, one
 * statement after another: each holds a share lock on its jobs until it
 * commits, so a cancel waits for at most one chunk (about 20 ms) instead
 * of a whole rewrite of 100,000 verdicts (a second). done gets the number
 * of jobs changed, or err: the chunks before it are stored, the rest not. */
enum { DB_VERDICTS_CHUNK = 2000 };
typedef void db_verdicts_fn(void *arg, long changed, const struct db_error *err);
void db_verdicts_store(struct db *db, struct db_verdicts *v, db_verdicts_fn *done, void *arg);

#endif
