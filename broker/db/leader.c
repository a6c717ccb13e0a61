/*
 * The leader's session; see leader.h. One non-blocking libpq connection and
 * a small state machine: CONNECTING → STANDBY (trying the lock every
 * try_ms) → LEADER (LISTEN, then a ping every DB_LEADER_PING_MS). Any error
 * on the session, or a ping unanswered in time, drops it: leadership ends
 * there and then, and a new session starts after a backoff.
 */
#include "db/leader.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "core/alloc.h"
#include "db/db.h"
#include "util/clock.h"
#include "util/log.h"

enum phase { DOWN, CONNECTING, STANDBY, LEADER };
enum waiting { W_NONE, W_TRY, W_LISTEN, W_PING };

struct db_leader {
	struct event_base *base;
	char *conninfo;
	int64_t key;
	char listen_sql[DB_LEADER_MAX_CHANNELS * 80];
	int try_ms;
	db_leader_fn *on_change;
	db_notify_fn *on_notify;
	void *arg;

	PGconn *conn;
	struct event *io;    /* the session's socket */
	struct event *timer; /* reconnect, next try, next ping */
	enum phase phase;
	enum waiting waiting;
	bool lock_granted;	/* the try's answer */
	bool said_standby;	/* logged once per session */
	bool said_down;		/* logged once per outage */
	cbq_ms sent_at;		/* when the outstanding query went out (real ms) */
	int backoff_ms;
};

static void on_io(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static void arm_timer(struct db_leader *l, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(l->timer, &tv);
}

static void watch(struct db_leader *l, short events)
{
	if (l->io)
		event_free(l->io);
	l->io = event_new(l->base, PQsocket(l->conn), events, on_io, l);
	if (!l->io)
		abort();
	event_add(l->io, NULL);
}

/* Ends the session; leadership (if any) ends with it. */
static void drop(struct db_leader *l, const char *why)
{
	char msg[256];
	bool was_leader = l->phase == LEADER;

	db_message_line(msg, sizeof(msg), l->conn ? PQerrorMessage(l->conn) : "");
	if (l->io) {
		event_free(l->io);
		l->io = NULL;
	}
	if (l->conn) {
		PQfinish(l->conn);
		l->conn = NULL;
	}
	l->phase = DOWN;
	l->waiting = W_NONE;
	l->said_standby = false;
	if (!was_leader && l->said_down) {
		/* still down: say it once per outage, keep trying quietly */
		arm_timer(l, l->backoff_ms);
		l->backoff_ms = l->backoff_ms * 2 > 5000 ? 5000 : l->backoff_ms * 2;
		return;
	}
	l->said_down = true;
	cbq_log(was_leader ? CBQ_LOG_WARN : CBQ_LOG_INFO, was_leader ? "leader_lost" : "leader_session_down",
		"why=%s error=%s retry_ms=%d", why, cbq_log_q(msg), l->backoff_ms);
	arm_timer(l, l->backoff_ms);
	l->backoff_ms = l->backoff_ms * 2 > 5000 ? 5000 : l->backoff_ms * 2;
	if (was_leader)
		l->on_change(l->arg, false);
}

static void send_query(struct db_leader *l, enum waiting w, const char *sql)
{
	if (!PQsendQuery(l->conn, sql)) {
		drop(l, "send");
		return;
	}
	l->waiting = w;
	l->sent_at = cbq_clock_real_ms();
	if (PQflush(l->conn) == -1)
		drop(l, "flush");
}

static void try_lock(struct db_leader *l)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock(%" PRId64 ")", l->key);
	l->lock_granted = false;
	send_query(l, W_TRY, sql);
}

/* A statement of the outstanding query finished with r. */
static bool take_result(struct db_leader *l, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		return false;
	if (l->waiting == W_TRY && PQntuples(r) == 1)
		l->lock_granted = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	return true;
}

/* The outstanding query is complete: next step. */
static void query_done(struct db_leader *l)
{
	enum waiting w = l->waiting;

	l->waiting = W_NONE;
	if (w == W_TRY) {
		if (!l->lock_granted) {
			if (!l->said_standby)
				cbq_log(CBQ_LOG_INFO, "leader_standby", "lock=%" PRId64, l->key);
			l->said_standby = true;
			l->phase = STANDBY;
			arm_timer(l, l->try_ms);
			return;
		}
		if (l->listen_sql[0]) {
			send_query(l, W_LISTEN, l->listen_sql);
			if (l->phase == DOWN)
				return;
		}
		l->phase = LEADER;
		l->backoff_ms = 250;
		cbq_log(CBQ_LOG_INFO, "leader_acquired", "lock=%" PRId64, l->key);
		arm_timer(l, DB_LEADER_PING_MS);
		l->on_change(l->arg, true);
	}
}

static void deliver_notifies(struct db_leader *l)
{
	PGnotify *n;

	while (l->conn && (n = PQnotifies(l->conn))) {
		if (l->phase == LEADER && l->on_notify)
			l->on_notify(l->arg, n->relname, n->extra ? n->extra : "");
		PQfreemem(n);
	}
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	struct db_leader *l = arg;

	(void)fd;
	if (l->phase == CONNECTING) {
		PostgresPollingStatusType s = PQconnectPoll(l->conn);
		if (s == PGRES_POLLING_FAILED) {
			drop(l, "connect");
		} else if (s == PGRES_POLLING_OK) {
			if (PQsetnonblocking(l->conn, 1) != 0) {
				drop(l, "nonblocking");
				return;
			}
			watch(l, EV_READ | EV_PERSIST);
			l->phase = STANDBY;
			l->said_down = false;
			try_lock(l);
		} else {
			watch(l, s == PGRES_POLLING_READING ? EV_READ : EV_WRITE);
		}
		return;
	}
	if (!(what & EV_READ))
		return;
	if (!PQconsumeInput(l->conn)) {
		drop(l, "read");
		return;
	}
	while (l->conn && l->waiting != W_NONE && !PQisBusy(l->conn)) {
		PGresult *r = PQgetResult(l->conn);
		if (!r) {
			query_done(l);
			break;
		}
		bool ok = take_result(l, r);
		PQclear(r);
		if (!ok) {
			drop(l, "query");
			return;
		}
	}
	deliver_notifies(l);
	if (l->conn && PQstatus(l->conn) != CONNECTION_OK)
		drop(l, "status");
}

static void connect_now(struct db_leader *l)
{
	l->conn = PQconnectStart(l->conninfo);
	if (!l->conn || PQstatus(l->conn) == CONNECTION_BAD) {
		drop(l, "connect");
		return;
	}
	l->phase = CONNECTING;
	watch(l, EV_WRITE);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct db_leader *l = arg;

	(void)fd;
	(void)what;
	switch (l->phase) {
	case DOWN:
		connect_now(l);
		break;
	case CONNECTING:
		break;
	case STANDBY:
		if (l->waiting == W_NONE)
			try_lock(l);
		break;
	case LEADER:
		if (l->waiting != W_NONE) {
			if (cbq_clock_real_ms() - l->sent_at > DB_LEADER_PING_TIMEOUT_MS) {
				drop(l, "ping_timeout");
				return;
			}
		} else {
			send_query(l, W_PING, "SELECT 1");
		}
		if (l->phase == LEADER)
			arm_timer(l, DB_LEADER_PING_MS);
		break;
	}
}

static bool is_identifier(const char *s)
{
	if (!s || !(isalpha((unsigned char)*s) || *s == '_') || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

struct db_leader *db_leader_start(struct event_base *base, const struct db_leader_config *cfg,
				  db_leader_fn *on_change, db_notify_fn *on_notify, void *arg)
{
	struct db_leader *l;

	if (cfg->n_channels > DB_LEADER_MAX_CHANNELS)
		return NULL;
	for (size_t i = 0; i < cfg->n_channels; i++)
		if (!is_identifier(cfg->channels[i]))
			return NULL;
	l = cbq_xcalloc(1, sizeof(*l));
	l->base = base;
	l->conninfo = cbq_xstrdup(cfg->conninfo ? cfg->conninfo : "");
	l->key = cfg->lock_key;
	l->try_ms = cfg->try_ms > 0 ? cfg->try_ms : DB_LEADER_TRY_MS;
	l->on_change = on_change;
	l->on_notify = on_notify;
	l->arg = arg;
	l->backoff_ms = 250;
	for (size_t i = 0; i < cfg->n_channels; i++) {
		size_t used = strlen(l->listen_sql);
		snprintf(l->listen_sql + used, sizeof(l->listen_sql) - used, "LISTEN %s;",
			 cfg->channels[i]);
	}
	l->timer = evtimer_new(base, on_timer, l);
	if (!l->timer)
		abort();
	l->phase = DOWN;
	arm_timer(l, 0);
	return l;
}

void db_leader_stop(struct db_leader *l)
{
	if (!l)
		return;
	if (l->io)
		event_free(l->io);
	if (l->conn)
		PQfinish(l->conn);
	event_free(l->timer);
	free(l->conninfo);
	free(l);
}

bool db_leader_is_leader(const struct db_leader *l)
{
	return l && l->phase == LEADER;
}
