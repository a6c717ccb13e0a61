/*
 * Leader election: one dedicated Postgres session per cbqd that tries a
 * session-level advisory lock. Whoever holds it is the leader and runs the
 * control loops; the session also LISTENs for the channels the leader
 * reacts to. Losing the connection loses leadership at once (Postgres frees
 * the lock when the session ends), and the others take over. It decides
 * nothing else and runs no query but its own; the pool (db.h) does the rest.
 */
#ifndef CBQ_DB_LEADER_H
#define CBQ_DB_LEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct db_leader;

/* cbqd's leadership lock; `cbqd migrate` uses its own (migrate.h). */
#define DB_LEADER_LOCK_KEY ((int64_t)7164293180002)

enum {
	DB_LEADER_MAX_CHANNELS = 8,
	DB_LEADER_TRY_MS = 1000,       /* a standby tries the lock this often */
	DB_LEADER_PING_MS = 2000,      /* the leader checks its session this often */
	DB_LEADER_PING_TIMEOUT_MS = 5000, /* no answer in time: the session is gone */
};

struct db_leader_config {
	const char *conninfo;	     /* "" = libpq defaults and PG* environment */
	int64_t lock_key;	     /* pg_try_advisory_lock(key) */
	const char *const *channels; /* LISTEN while leader (identifiers) */
	size_t n_channels;
	int try_ms; /* 0: DB_LEADER_TRY_MS */
};

/* Leadership gained (true) or lost (false). Called from the loop. */
typedef void db_leader_fn(void *arg, bool leader);
/* A NOTIFY on one of the channels, while leader. payload may be "". */
typedef void db_notify_fn(void *arg, const char *channel, const char *payload);

/* Starts connecting and campaigning in the background. NULL on bad config
 * (too many channels, a channel that is not a plain identifier). */
struct db_leader *db_leader_start(struct event_base *base, const struct db_leader_config *cfg,
				  db_leader_fn *on_change, db_notify_fn *on_notify, void *arg);
/* Closes the session (releasing the lock) without calling back. NULL is fine. */
void db_leader_stop(struct db_leader *l);
bool db_leader_is_leader(const struct db_leader *l);

#endif
