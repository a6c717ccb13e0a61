/*
 * The queued jobs as the leader last read them, kept across snapshots so
 * that each cycle reads only what changed (see migration 0015): the first
 * read takes every queued job and the snapshot it was read in; each later
 * read takes the jobs whose last writer that snapshot had not seen commit,
 * in any state, and the new snapshot. A job read in another state leaves;
 * a queued one enters or replaces its entry. Each read also counts the
 * queued jobs: when the count differs from what the cache then holds (a
 * job DELETEd, which leaves no row to read), the next read takes everything
 * again, as it does after db_pending_forget.
 *
 * Adapter state only: the reading is db/snapshot.c's, one read at a time.
 * db_pending_read_sql runs on the loop when a read is sent; db_pending_apply
 * on whichever thread assembles the snapshot; the jobs and their strings
 * stay valid until the next db_pending_apply.
 */
#ifndef CBQ_DB_PENDING_H
#define CBQ_DB_PENDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/queued_set.h"

struct db_result;

struct db_pending;
struct db_pending *db_pending_new(void);
void db_pending_free(struct db_pending *p);

/* The next read takes every queued job. Any thread. */
void db_pending_forget(struct db_pending *p);

/* The statement for the next read and its one parameter (NULL for none, a
 * full read); *full says which. The text stays valid until the next
 * db_pending_apply. */
const char *db_pending_read_sql(struct db_pending *p, const char **param, bool *full);

/* A read's rows, sent as db_pending_read_sql said (full or not), into the
 * cache. */
void db_pending_apply(struct db_pending *p, const struct db_result *rows, bool full);

const struct queued_job *db_pending_jobs(const struct db_pending *p, size_t *n);

#endif
