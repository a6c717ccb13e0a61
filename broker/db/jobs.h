/*
 * The API's queries on jobs, blocks and callers: SQL text, parameters and
 * turning rows into core values. Each function runs one statement (its own
 * transaction) and calls back once. No decisions here: the engine decides
 * who may do what; these only read and write what they are told.
 */
#ifndef CBQ_DB_JOBS_H
#define CBQ_DB_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/block.h"
#include "core/job.h"
#include "db/db.h"

/* Who is calling, once the account is looked up. */
struct db_caller {
	const char *team;
	bool admin;
};
/* caller is NULL (and err NULL) when the account is not registered; the
 * lookups are batched in db/caller_batch.h. */
typedef void db_caller_fn(void *arg, const struct db_caller *caller, const struct db_error *err);

enum db_submit_outcome {
	DB_SUBMIT_CREATED,
	DB_SUBMIT_EXISTING,  /* same idempotency key, same request */
	DB_SUBMIT_MISMATCH,  /* same idempotency key, different request */
	DB_SUBMIT_RACED,     /* a concurrent submit with the key is in flight; retry */
	DB_SUBMIT_CALLER_STALE, /* caller_account is not of team (any more): nothing stored */
};
typedef void db_job_fn(void *arg, const struct job *job, const struct job_event *events,
		       size_t n_events, const struct db_error *err);
typedef void db_submit_fn(void *arg, enum db_submit_outcome outcome, const struct job *job,
			  const struct db_error *err);

struct db_submit {
	const char *team;
	/* NULL when team was looked up for this request; otherwise the caller's
	 * account, which the statement checks is still of team (a team from a
	 * teamhint) and answers DB_SUBMIT_CALLER_STALE when not */
	const char *caller_account;
	const char *submitted_by;
	const struct job_spec *spec;
	const char *idempotency_key;       /* NULL or "" for none */
	const uint8_t *request_sha256;     /* 32 bytes */
	cbq_ms now;
	/* NOTIFY cbq_jobs with the COMMIT of a new job: the submitting cbqd is
	 * not the leader, which must hear of it (a leader just replans) */
	bool notify;
};
/* Inserts the job and its first job_events row in one statement; s's team
 * must have been looked up (caller_account NULL). */
void db_job_submit(struct db *db, const struct db_submit *s, db_submit_fn *done, void *arg);

/* One submit's answer within db_job_submit_many. */
struct db_submit_row {
	enum db_submit_outcome outcome;
	const struct job *job; /* NULL when refused or raced */
	/* This row alone refused, as db_job_submit would have failed it: code
	 * CBQ_ERR_INVALID, sqlstate 23503, constraint jobs_kind_known or
	 * jobs_account_of_team. NULL otherwise. */
	const struct db_error *err;
};
typedef void db_submit_many_fn(void *arg, const struct db_submit_row *rows, size_t n,
			       const struct db_error *err);
enum {
	DB_SUBMIT_MANY_MAX = 1024,		  /* submits in one statement */
	DB_SUBMIT_MANY_BYTES_MAX = 8 * 1024 * 1024, /* their parameter text */
};
/*
 * Inserts n jobs (1..DB_SUBMIT_MANY_MAX) and their first job_events rows in
 * ONE statement, so in one transaction with one COMMIT. rows[i] answers
 * in[i], with db_job_submit's outcomes: a row whose account is not its
 * team's or whose kind is unknown is refused alone (checked in the
 * statement, before the insert), the others go in. No two of in[] may share
 * a non-empty (team, idempotency key): the caller sends such a submit in a
 * later call, so it sees the first as committed (DB_SUBMIT_EXISTING or
 * MISMATCH), as if the two had come one after the other. On err (rows
 * NULL) nothing was stored; CBQ_ERR_UNAVAILABLE when Postgres could not be
 * reached, possibly after the COMMIT (as for db_query). db_submit_many_bytes
 * bounds what a submit adds to the parameter text, for the caller to keep a
 * call under DB_SUBMIT_MANY_BYTES_MAX; a call over it or over the count
 * stores nothing and gets CBQ_ERR_INTERNAL. in[] is copied before the call
 * returns; done runs from the loop, never inside this call.
 */
void db_job_submit_many(struct db *db, const struct db_submit *in, size_t n,
			db_submit_many_fn *done, void *arg);
size_t db_submit_many_bytes(const struct db_submit *s);

/* team NULL = any team (admins). job NULL (and err NULL) when not found. */
void db_job_get(struct db *db, int64_t id, const char *team, db_job_fn *done, void *arg);

/* Moves a queued job to cancelled with its event. On success job is the
 * cancelled job; when the job is in another state, cancelled is false and
 * job is the job as it stands; job NULL when not found. */
typedef void db_cancel_fn(void *arg, bool cancelled, const struct job *job,
			  const struct db_error *err);
void db_job_cancel(struct db *db, int64_t id, const char *team, const char *actor,
		   cbq_ms now, db_cancel_fn *done, void *arg);

struct db_job_filter {
	const char *team;   /* NULL = all */
	const char *state;  /* NULL = all */
	const char *kind;   /* NULL = all */
	int64_t before_id;  /* 0 = from the newest */
	int limit;
};
typedef void db_jobs_fn(void *arg, const struct job *jobs, size_t n, const struct db_error *err);
/* Newest first, at most limit + 1 rows (so the caller can tell if more exist). */
void db_job_list(struct db *db, const struct db_job_filter *f, db_jobs_fn *done, void *arg);

typedef void db_blocks_fn(void *arg, const struct block *blocks, size_t n,
			  const struct db_error *err);
/* Blocks any account of team may use (all when team is NULL); with
 * with_usage, each block's per-account usage. */
void db_block_list(struct db *db, const char *team, bool with_usage, db_blocks_fn *done,
		   void *arg);

typedef void db_text_fn(void *arg, const char *text, const struct db_error *err);
/* "inference, research, training" */
void db_kind_names(struct db *db, db_text_fn *done, void *arg);

#endif
