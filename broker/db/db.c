/*
 * The asynchronous Postgres pool (see db.h): pool_size libpq connections in
 * non-blocking mode on the libevent loop, a bounded FIFO of queries waiting
 * for a free connection, reconnection with backoff. It knows nothing of
 * cbq's tables; it never blocks and never uses libpq's synchronous calls.
 */
#include "db/db.h"
#include "util/clock.h"

#include "core/alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "util/log.h"

enum {
	BACKOFF_MIN_MS = 250,
	BACKOFF_MAX_MS = 5000,
	CONNECT_TIMEOUT_MS = 10000,
	/* how long a query waits for a connection while none is up */
	WAIT_UP_MS = 5000,
	/* limits on what one query may carry */
	PARAMS_MAX = 4096,
	PARAM_BYTES_MAX = 64 * 1024 * 1024,
	/* named statements one connection keeps prepared */
	PREPARED_MAX = 32,
};

struct query {
	TAILQ_ENTRY(query) link;
	char *sql;
	const char *name; /* prepared statement name (static), NULL = unnamed */
	int nparams;
	char **values;
	int *lens;
	int *formats;
	db_done_fn *done;
	void *arg;
	int64_t queued_at;	 /* monotonic ms */
	bool background;	 /* db_query_background */
	struct db_error failure; /* for queries failed without a connection */
};
TAILQ_HEAD(query_list, query);

enum conn_state { C_DOWN, C_CONNECTING, C_IDLE, C_BUSY };

struct conn {
	struct db *db;
	int index;
	enum conn_state state;
	PGconn *pg;
	struct event *io; /* on PQsocket; re-created when the socket or the interest changes */
	evutil_socket_t io_fd;
	short io_what;
	struct event *timer; /* backoff while down, connect timeout while connecting */
	int backoff_ms;
	struct query *q; /* in flight while busy */
	PGresult *last;	 /* latest result of q */
	bool flushing;	 /* PQflush said there is more to send */
	bool preparing;	 /* the Prepare of q->name is in flight; q itself is next */
	const char *prepared[PREPARED_MAX]; /* names prepared on this session */
	int n_prepared;
};

struct db {
	struct event_base *base;
	char *conninfo;
	int pool_size, queue_max;
	struct conn *conns;
	int n_up;
	struct query_list waiting; /* FIFO for a free connection */
	int n_waiting;
	int64_t down_since;	  /* monotonic ms when the last connection went down */
	struct event *expire;	  /* fails waiting queries while no connection is up */
	struct query_list failed; /* failures delivered from the loop */
	struct event *deliver;
	bool closing;
	bool outage_logged;
	char last_error[200]; /* why the last connection attempt or connection failed */
};

struct db_result {
	PGresult *res;
	bool *kept; /* conn_finish's: set when db_result_keep takes res */
};

static void conn_connect(struct conn *c);
static void conn_io(evutil_socket_t fd, short what, void *arg);
static void pump(struct db *db);
static void conn_flush(struct conn *c);

/* A network timeout, not domain time: monotonic, so the wall clock (or the
 * simulated clock) can jump without expiring anything. */
static int64_t mono_ms(void)
{
	return cbq_clock_mono_us() / 1000;
}

static char *xmemdup(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (!p)
		abort();
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void query_free(struct query *q)
{
	if (!q)
		return;
	for (int i = 0; i < q->nparams; i++)
		free(q->values[i]);
	free(q->values);
	free(q->lens);
	free(q->formats);
	free(q->sql);
	free(q);
}

/* The first line of libpq's error text without its severity prefix, for
 * logs and messages ("FATAL:  terminating connection ...\nserver closed ..."). */
void db_message_line(char *dst, size_t size, const char *src)
{
	size_t n = 0;

	if (src && strncmp(src, "FATAL:  ", 8) == 0)
		src += 8;
	else if (src && strncmp(src, "ERROR:  ", 8) == 0)
		src += 8;
	for (; src && *src && *src != '\n' && n + 1 < size; src++)
		dst[n++] = (*src == '\t' || *src == '\r') ? ' ' : *src;
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = '\0';
}

/* err.msg = prefix + the first line of msg */
static void fill_error(struct db_error *e, enum cbq_err code, const char *prefix, const char *msg)
{
	char line[200];

	memset(e, 0, sizeof(*e));
	db_message_line(line, sizeof(line), msg);
	cbq_fail(&e->err, code, NULL, "%s%s", prefix, line);
}

/* Sends q to whoever waits for it: failures without a connection go through
 * the deliver event so that no callback runs inside db_query. */
static void fail_later(struct db *db, struct query *q, enum cbq_err code, const char *prefix,
		       const char *msg)
{
	fill_error(&q->failure, code, prefix, msg);
	TAILQ_INSERT_TAIL(&db->failed, q, link);
	if (db->deliver)
		event_active(db->deliver, 0, 0);
}

static void deliver_failed(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	struct query_list batch = TAILQ_HEAD_INITIALIZER(batch);
	struct query *q;

	/* a callback may queue more; those go out on the next round */
	TAILQ_CONCAT(&batch, &db->failed, link);
	while ((q = TAILQ_FIRST(&batch))) {
		TAILQ_REMOVE(&batch, q, link);
		q->done(q->arg, NULL, &q->failure);
		query_free(q);
	}
}

/* ---- connection life --------------------------------------------------- */

static void conn_watch(struct conn *c, short what)
{
	evutil_socket_t fd = PQsocket(c->pg);

	if (c->io && (c->io_fd != fd || c->io_what != what)) {
		event_free(c->io);
		c->io = NULL;
	}
	if (!c->io && fd >= 0) {
		c->io = event_new(c->db->base, fd, what | EV_PERSIST, conn_io, c);
		if (!c->io)
			abort();
		c->io_fd = fd;
		c->io_what = what;
	}
	if (c->io)
		event_add(c->io, NULL);
}

static void conn_unwatch(struct conn *c)
{
	if (c->io) {
		event_free(c->io);
		c->io = NULL;
	}
}

static void timer_set(struct conn *c, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_add(c->timer, &tv);
}

static void schedule_expiry(struct db *db)
{
	struct query *q = TAILQ_FIRST(&db->waiting);
	int64_t from, wait;
	struct timeval tv;

	if (!q || db->n_up > 0 || db->closing)
		return;
	/* queries wait for Postgres up to WAIT_UP_MS from the start of the
	 * outage, not from their own arrival: a long outage answers at once */
	from = db->down_since;
	wait = from + WAIT_UP_MS - mono_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	event_add(db->expire, &tv);
}

static void expire_waiting(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	struct query *q;
	int64_t now = mono_ms();

	if (db->n_up > 0)
		return;
	while ((q = TAILQ_FIRST(&db->waiting))) {
		if (now - db->down_since < WAIT_UP_MS)
			break;
		TAILQ_REMOVE(&db->waiting, q, link);
		db->n_waiting--;
		fail_later(db, q, CBQ_ERR_UNAVAILABLE, "no connection to Postgres for 5 s: ",
			   db->last_error[0] ? db->last_error : "still connecting");
	}
	schedule_expiry(db);
}

static void log_endpoint(struct conn *c, const char *event, enum cbq_log_level level,
			 const char *error)
{
	char host[256], db[128], msg[300];
	const char *h = PQhost(c->pg), *p = PQport(c->pg), *d = PQdb(c->pg);

	cbq_log_quote(host, sizeof(host), h && *h ? h : "default");
	cbq_log_quote(db, sizeof(db), d && *d ? d : "default");
	if (error) {
		char line[240];

		db_message_line(line, sizeof(line), error);
		cbq_log(level, event, "conn=%d host=%s port=%s dbname=%s error=%s", c->index, host,
			p && *p ? p : "default", db, cbq_log_quote(msg, sizeof(msg), line));
	} else {
		cbq_log(level, event, "conn=%d host=%s port=%s dbname=%s", c->index, host,
			p && *p ? p : "default", db);
	}
}

/*
 * Drops the connection: fails its query (from the loop: we are in an event
 * callback or in db_close) and schedules a reconnect with backoff.
 */
static void conn_down(struct conn *c, const char *reason)
{
	struct db *db = c->db;
	struct query *q = c->q;
	bool was_up = c->state == C_IDLE || c->state == C_BUSY;
	struct db_error e;
	char why[200];

	/* reason may point into c->pg, which goes away below */
	db_message_line(why, sizeof(why), reason);
	if (!db->closing)
		snprintf(db->last_error, sizeof(db->last_error), "%s", why);
	conn_unwatch(c);
	event_del(c->timer);
	if (was_up) {
		log_endpoint(c, "db_disconnected", db->closing ? CBQ_LOG_INFO : CBQ_LOG_WARN, why);
		db->n_up--;
		if (db->n_up == 0)
			db->down_since = mono_ms();
	} else if (!db->outage_logged && !db->closing) {
		/* one line per outage, not one per attempt */
		log_endpoint(c, "db_connect_failed", CBQ_LOG_WARN, why);
		db->outage_logged = true;
	}
	PQclear(c->last);
	c->last = NULL;
	c->q = NULL;
	c->flushing = false;
	c->preparing = false;
	c->n_prepared = 0; /* a new session knows no statements */
	PQfinish(c->pg);
	c->pg = NULL;
	c->state = C_DOWN;
	if (!db->closing) {
		timer_set(c, c->backoff_ms);
		c->backoff_ms = c->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
								     c->backoff_ms * 2;
		schedule_expiry(db);
	}
	if (q) {
		fill_error(&e, CBQ_ERR_UNAVAILABLE,
			   db->closing ? "" : "lost connection to Postgres: ", why);
		q->done(q->arg, NULL, &e);
		query_free(q);
	}
}

static void conn_up(struct conn *c)
{
	struct db *db = c->db;

	event_del(c->timer);
	c->state = C_IDLE;
	c->backoff_ms = BACKOFF_MIN_MS;
	db->n_up++;
	db->outage_logged = false;
	log_endpoint(c, "db_connected", CBQ_LOG_INFO, NULL);
	conn_watch(c, EV_READ);
	pump(db);
}

static void conn_poll(struct conn *c)
{
	PostgresPollingStatusType st = PQconnectPoll(c->pg);

	/* libpq may have closed the socket and opened another under the same
	 * number (next host, SSL refused): a kept event would watch the old one */
	conn_unwatch(c);
	switch (st) {
	case PGRES_POLLING_READING: conn_watch(c, EV_READ); return;
	case PGRES_POLLING_WRITING: conn_watch(c, EV_WRITE); return;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) != 0) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		conn_up(c);
		return;
	default: conn_down(c, PQerrorMessage(c->pg)); return;
	}
}

static void notice_to_log(void *arg, const char *message)
{
	char line[240], q[300];

	db_message_line(line, sizeof(line), message);
	cbq_log(CBQ_LOG_DEBUG, "db_notice", "msg=%s", cbq_log_quote(q, sizeof(q), line));
}

static void conn_connect(struct conn *c)
{
	/* The statements db_query_prepared names take arrays and run with
	 * changing sizes: one generic plan, never a plan per call. Only
	 * prepared statements see this setting; conninfo's own options win. */
	const char *keys[] = { "fallback_application_name", "options", "dbname", NULL };
	const char *vals[] = { "cbqd", "-c plan_cache_mode=force_generic_plan",
			       c->db->conninfo, NULL };

	c->pg = PQconnectStartParams(keys, vals, 1);
	if (!c->pg)
		abort();
	PQsetNoticeProcessor(c->pg, notice_to_log, NULL);
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = C_CONNECTING;
	timer_set(c, CONNECT_TIMEOUT_MS);
	/* as if PQconnectPoll had answered PGRES_POLLING_WRITING */
	conn_watch(c, EV_WRITE);
}

static void conn_timer(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == C_DOWN)
		conn_connect(c);
	else if (c->state == C_CONNECTING)
		conn_down(c, "timed out connecting");
}

/* ---- queries ------------------------------------------------------------ */

static enum cbq_err map_sqlstate(const char *st)
{
	if (strcmp(st, "23505") == 0)
		return CBQ_ERR_CONFLICT;
	if (strncmp(st, "23", 2) == 0 || strncmp(st, "22", 2) == 0)
		return CBQ_ERR_INVALID;
	/* connection exceptions, shutdown, too many connections */
	if (strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 || strcmp(st, "53300") == 0)
		return CBQ_ERR_UNAVAILABLE;
	return CBQ_ERR_INTERNAL;
}

static void result_error(const PGresult *r, struct db_error *e)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	const char *con = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);

	if (!msg)
		msg = PQresultErrorMessage(r);
	fill_error(e, map_sqlstate(st ? st : ""), "", msg && *msg ? msg : "query failed");
	snprintf(e->sqlstate, sizeof(e->sqlstate), "%s", st ? st : "");
	if (con && strncmp(e->sqlstate, "23", 2) == 0)
		snprintf(e->constraint, sizeof(e->constraint), "%s", con);
}

/* The query on c is done (all results read): answer it, hand c the next one. */
static void conn_finish(struct conn *c)
{
	struct db *db = c->db;
	struct query *q = c->q;
	PGresult *r = c->last;
	bool kept = false;
	struct db_result res = { r, &kept };
	struct db_error e;
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (PQstatus(c->pg) == CONNECTION_BAD) {
		char why[200];

		db_message_line(why, sizeof(why),
			 r && PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) ?
				 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) :
				 PQerrorMessage(c->pg));
		conn_down(c, why);
		return;
	}
	if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
		/* COPY is not part of this module's contract; start the connection afresh */
		c->q = NULL;
		fill_error(&e, CBQ_ERR_INTERNAL, "", "COPY is not supported by db_query");
		conn_down(c, "COPY is not supported");
		q->done(q->arg, NULL, &e);
		query_free(q);
		return;
	}
	c->q = NULL;
	c->last = NULL;
	c->state = C_IDLE;
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		/* a query left a transaction open: never hand that to the next caller */
		cbq_log(CBQ_LOG_WARN, "db_conn_reset", "conn=%d reason=left_in_transaction",
			c->index);
		conn_down(c, "a query left a transaction open");
	} else {
		conn_watch(c, EV_READ);
	}
	/* queued queries keep their place ahead of what the callback submits */
	pump(db);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK || st == PGRES_EMPTY_QUERY ||
	    st == PGRES_SINGLE_TUPLE) {
		q->done(q->arg, &res, NULL);
	} else {
		if (r)
			result_error(r, &e);
		else
			fill_error(&e, CBQ_ERR_INTERNAL, "", "no result from Postgres");
		q->done(q->arg, NULL, &e);
	}
	if (!kept)
		PQclear(r);
	query_free(q);
}

struct db_result *db_result_keep(const struct db_result *res)
{
	struct db_result *k = cbq_xcalloc(1, sizeof(*k));

	k->res = res->res;
	if (res->kept)
		*res->kept = true;
	return k;
}

void db_result_free(struct db_result *res)
{
	if (!res)
		return;
	PQclear(res->res);
	free(res);
}

/* Reads what has arrived; finishes the query when its last result is in. */
static void conn_read(struct conn *c)
{
	PGresult *r;
	PGnotify *n;

	if (!PQconsumeInput(c->pg)) {
		conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	while ((n = PQnotifies(c->pg)))
		PQfreemem(n);
	if (c->state != C_BUSY) {
		if (PQstatus(c->pg) == CONNECTION_BAD)
			conn_down(c, PQerrorMessage(c->pg));
		return;
	}
	while (!PQisBusy(c->pg)) {
		r = PQgetResult(c->pg);
		if (!r && c->preparing) {
			/* the Prepare is done: on to the query itself */
			c->preparing = false;
			if (c->last && PQresultStatus(c->last) == PGRES_COMMAND_OK) {
				PQclear(c->last);
				c->last = NULL;
				c->prepared[c->n_prepared++] = c->q->name;
				if (PQsendQueryPrepared(c->pg, c->q->name, c->q->nparams,
							(const char *const *)c->q->values,
							c->q->lens, c->q->formats, 0)) {
					conn_flush(c);
					return;
				}
			}
			/* the Prepare's error, or no result: answers q */
			conn_finish(c);
			return;
		}
		if (!r) {
			conn_finish(c);
			return;
		}
		/* keep the last result, but never let a later one hide an error */
		if (c->last && PQresultStatus(c->last) == PGRES_FATAL_ERROR) {
			PQclear(r);
		} else {
			PQclear(c->last);
			c->last = r;
		}
	}
	if (PQstatus(c->pg) == CONNECTION_BAD)
		conn_down(c, PQerrorMessage(c->pg));
}

static void conn_flush(struct conn *c)
{
	switch (PQflush(c->pg)) {
	case 0:
		c->flushing = false;
		conn_watch(c, EV_READ);
		return;
	case 1:
		c->flushing = true;
		conn_watch(c, EV_READ | EV_WRITE);
		return;
	default: conn_down(c, PQerrorMessage(c->pg)); return;
	}
}

static void conn_io(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == C_CONNECTING) {
		conn_poll(c);
		return;
	}
	if (c->state == C_BUSY && c->flushing) {
		if ((what & EV_READ) && !PQconsumeInput(c->pg)) {
			conn_down(c, PQerrorMessage(c->pg));
			return;
		}
		conn_flush(c);
		if (c->state != C_BUSY || c->flushing)
			return;
	}
	conn_read(c);
}

static bool conn_has_prepared(const struct conn *c, const char *name)
{
	for (int i = 0; i < c->n_prepared; i++)
		if (strcmp(c->prepared[i], name) == 0)
			return true;
	return false;
}

/* Sends q, or first the Prepare of its statement when this session has not
 * prepared it yet (conn_read sends q once the Prepare is done). More names
 * than PREPARED_MAX run unprepared. 0 when libpq refused to send. */
static int conn_send_query(struct conn *c, struct query *q)
{
	if (q->name && conn_has_prepared(c, q->name))
		return PQsendQueryPrepared(c->pg, q->name, q->nparams,
					   (const char *const *)q->values, q->lens, q->formats, 0);
	if (q->name && c->n_prepared < PREPARED_MAX) {
		c->preparing = true;
		return PQsendPrepare(c->pg, q->name, q->sql, q->nparams, NULL);
	}
	return PQsendQueryParams(c->pg, q->sql, q->nparams, NULL, (const char *const *)q->values,
				 q->lens, q->formats, 0);
}

/* Starts q on idle connection c. Failures are delivered from the loop. */
static void conn_send(struct conn *c, struct query *q)
{
	struct db *db = c->db;

	if (!conn_send_query(c, q)) {
		c->preparing = false;
		char why[200];

		db_message_line(why, sizeof(why), PQerrorMessage(c->pg));
		if (PQstatus(c->pg) == CONNECTION_BAD) {
			fail_later(db, q, CBQ_ERR_UNAVAILABLE,
				   "lost connection to Postgres: ", why);
			conn_down(c, why);
		} else {
			fail_later(db, q, CBQ_ERR_INTERNAL, "", why);
		}
		return;
	}
	c->state = C_BUSY;
	switch (PQflush(c->pg)) {
	case 0:
		c->flushing = false;
		conn_watch(c, EV_READ);
		break;
	case 1:
		c->flushing = true;
		conn_watch(c, EV_READ | EV_WRITE);
		break;
	default: {
		/* may run inside db_query: fail q from the loop, not from here */
		char why[200];

		db_message_line(why, sizeof(why), PQerrorMessage(c->pg));
		fail_later(db, q, CBQ_ERR_UNAVAILABLE, "lost connection to Postgres: ", why);
		conn_down(c, why);
		return;
	}
	}
	c->q = q;
}

/* The next query for an idle connection: the first in line that is not
 * background, else the first background one while background queries hold
 * fewer than their share of the pool; NULL when nothing may go. */
static struct query *next_query(struct db *db)
{
	int bg_max = db->pool_size - DB_FOREGROUND_RESERVE, bg_busy = 0;
	struct query *q, *bg = NULL;

	TAILQ_FOREACH (q, &db->waiting, link) {
		if (!q->background)
			return q;
		if (!bg)
			bg = q;
	}
	if (!bg)
		return NULL;
	for (int i = 0; i < db->pool_size; i++)
		bg_busy += db->conns[i].state == C_BUSY && db->conns[i].q &&
			   db->conns[i].q->background;
	return bg_busy < (bg_max < 1 ? 1 : bg_max) ? bg : NULL;
}

static void pump(struct db *db)
{
	for (int i = 0; i < db->pool_size && !TAILQ_EMPTY(&db->waiting); i++) {
		struct conn *c = &db->conns[i];
		struct query *q;

		if (c->state != C_IDLE)
			continue;
		if (!(q = next_query(db)))
			break;
		TAILQ_REMOVE(&db->waiting, q, link);
		db->n_waiting--;
		conn_send(c, q);
	}
}

/* Where a query joins the line for a connection. */
enum lane { LANE_FOREGROUND, LANE_BACKGROUND, LANE_FIRST };

static void query_submit(struct db *db, const char *name, const char *sql, int nparams,
			 const char *const *values, const int *lens, enum lane lane,
			 db_done_fn *done, void *arg);

void db_query(struct db *db, const char *sql, int nparams, const char *const *values,
	      const int *lens, db_done_fn *done, void *arg)
{
	query_submit(db, NULL, sql, nparams, values, lens, LANE_FOREGROUND, done, arg);
}

void db_query_first(struct db *db, const char *sql, int nparams, const char *const *values,
		    const int *lens, db_done_fn *done, void *arg)
{
	query_submit(db, NULL, sql, nparams, values, lens, LANE_FIRST, done, arg);
}

void db_query_background(struct db *db, const char *sql, int nparams,
			 const char *const *values, const int *lens, db_done_fn *done, void *arg)
{
	query_submit(db, NULL, sql, nparams, values, lens, LANE_BACKGROUND, done, arg);
}

void db_query_prepared(struct db *db, const char *name, const char *sql, int nparams,
		       const char *const *values, const int *lens, db_done_fn *done, void *arg)
{
	query_submit(db, name, sql, nparams, values, lens, LANE_FOREGROUND, done, arg);
}

static void query_submit(struct db *db, const char *name, const char *sql, int nparams,
			 const char *const *values, const int *lens, enum lane lane,
			 db_done_fn *done, void *arg)
{
	struct query *q = cbq_xcalloc(1, sizeof(*q));
	size_t bytes = 0;

	q->name = name;
	q->background = lane == LANE_BACKGROUND;
	q->done = done;
	q->arg = arg;
	q->queued_at = mono_ms();
	q->sql = xmemdup(sql, strlen(sql));
	if (nparams < 0 || nparams > PARAMS_MAX) {
		fail_later(db, q, CBQ_ERR_INTERNAL, "", "too many query parameters");
		return;
	}
	q->nparams = nparams;
	q->values = cbq_xcalloc((size_t)nparams, sizeof(*q->values));
	q->lens = cbq_xcalloc((size_t)nparams, sizeof(*q->lens));
	q->formats = cbq_xcalloc((size_t)nparams, sizeof(*q->formats));
	for (int i = 0; i < nparams; i++) {
		if (!values[i])
			continue;
		bytes += lens && lens[i] >= 0 ? (size_t)lens[i] : strlen(values[i]);
	}
	if (bytes > PARAM_BYTES_MAX) {
		fail_later(db, q, CBQ_ERR_TOO_LARGE, "", "query parameters over 64 MiB");
		return;
	}
	for (int i = 0; i < nparams; i++) {
		if (!values[i])
			continue;
		if (lens && lens[i] >= 0) {
			q->lens[i] = lens[i];
			q->formats[i] = 1;
			q->values[i] = xmemdup(values[i], (size_t)lens[i]);
		} else {
			q->values[i] = xmemdup(values[i], strlen(values[i]));
		}
	}
	if (db->closing) {
		fail_later(db, q, CBQ_ERR_UNAVAILABLE, "", "database closed");
		return;
	}
	if (db->n_waiting >= db->queue_max) {
		fail_later(db, q, CBQ_ERR_UNAVAILABLE, "", "database busy");
		return;
	}
	if (lane == LANE_FIRST)
		TAILQ_INSERT_HEAD(&db->waiting, q, link);
	else
		TAILQ_INSERT_TAIL(&db->waiting, q, link);
	db->n_waiting++;
	pump(db);
	if (db->n_up == 0 && !event_pending(db->expire, EV_TIMEOUT, NULL))
		schedule_expiry(db);
}

/* ---- the pool ----------------------------------------------------------- */

struct db *db_open(struct event_base *base, const struct db_config *cfg)
{
	struct db *db;
	PQconninfoOption *opts;
	char *errmsg = NULL;
	const char *conninfo = cfg && cfg->conninfo ? cfg->conninfo : "";

	if (!base || !cfg || cfg->pool_size < 1 || cfg->pool_size > 1000 || cfg->queue_max < 0)
		return NULL;
	/* a conninfo libpq cannot parse is bad config, not an outage */
	opts = PQconninfoParse(conninfo, &errmsg);
	if (!opts) {
		char line[200];

		db_message_line(line, sizeof(line), errmsg ? errmsg : "out of memory");
		cbq_log(CBQ_LOG_ERROR, "db_bad_conninfo", "error=%s", cbq_log_q(line));
		PQfreemem(errmsg);
		return NULL;
	}
	PQconninfoFree(opts);

	db = cbq_xcalloc(1, sizeof(*db));
	db->base = base;
	db->conninfo = xmemdup(conninfo, strlen(conninfo));
	db->pool_size = cfg->pool_size;
	db->queue_max = cfg->queue_max;
	db->down_since = mono_ms();
	TAILQ_INIT(&db->waiting);
	TAILQ_INIT(&db->failed);
	db->deliver = event_new(base, -1, 0, deliver_failed, db);
	db->expire = event_new(base, -1, 0, expire_waiting, db);
	if (!db->deliver || !db->expire)
		abort();
	db->conns = cbq_xcalloc((size_t)db->pool_size, sizeof(*db->conns));
	for (int i = 0; i < db->pool_size; i++) {
		struct conn *c = &db->conns[i];

		c->db = db;
		c->index = i;
		c->state = C_DOWN;
		c->backoff_ms = BACKOFF_MIN_MS;
		c->timer = event_new(base, -1, 0, conn_timer, c);
		if (!c->timer)
			abort();
		conn_connect(c);
	}
	return db;
}

void db_close(struct db *db)
{
	struct query *q;

	if (!db)
		return;
	db->closing = true;
	event_del(db->expire);
	for (int i = 0; i < db->pool_size; i++) {
		struct conn *c = &db->conns[i];

		if (c->pg)
			conn_down(c, "database closed");
		event_free(c->timer);
	}
	while ((q = TAILQ_FIRST(&db->waiting))) {
		TAILQ_REMOVE(&db->waiting, q, link);
		db->n_waiting--;
		fail_later(db, q, CBQ_ERR_UNAVAILABLE, "", "database closed");
	}
	/* answer every failure now, including queries callbacks submit meanwhile */
	while (!TAILQ_EMPTY(&db->failed))
		deliver_failed(-1, 0, db);
	event_free(db->deliver);
	event_free(db->expire);
	free(db->conns);
	free(db->conninfo);
	free(db);
}

bool db_ready(const struct db *db)
{
	return db && db->n_up > 0;
}

/* ---- results ------------------------------------------------------------ */

int db_rows(const struct db_result *res)
{
	return PQntuples(res->res);
}

int db_cols(const struct db_result *res)
{
	return PQnfields(res->res);
}

int db_col(const struct db_result *res, const char *name)
{
	return PQfnumber(res->res, name);
}

const char *db_get(const struct db_result *res, int row, int col)
{
	const char *v = PQgetvalue(res->res, row, col);

	return v ? v : "";
}

int db_len(const struct db_result *res, int row, int col)
{
	return PQgetlength(res->res, row, col);
}

bool db_is_null(const struct db_result *res, int row, int col)
{
	return PQgetisnull(res->res, row, col) != 0;
}
