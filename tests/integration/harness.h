/*
 * What integration tests stand on: the Postgres cluster, certificates and
 * binaries that tests/run provides (through the environment below), a fresh
 * migrated database per test, a real cbqd on a free loopback port, the real
 * cbq client, and raw HTTPS requests for what the client cannot send.
 *
 * Environment set by tests/run:
 *   PGHOST, PGPORT, PGUSER     the throwaway cluster (unix socket, trust)
 *   CBQ_BIN                    build/bin (cbqd, cbq)
 *   CBQ_TEST_CERTS             ca.pem, server.pem, server.key and, per test
 *                              account, client-<account>.pem/.key (accounts
 *                              111111111111, 222222222222, 333333333333),
 *                              and other-ca.pem with client-untrusted.pem/.key
 *                              signed by a CA cbqd does not trust
 * A harness function that cannot do its job fails the current Criterion test
 * with a message saying what is missing (e.g. "run through tests/run").
 */
#ifndef CBQ_TESTS_HARNESS_H
#define CBQ_TESTS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

/* Creates a fresh database, runs `cbqd migrate` on it and returns its libpq
 * conninfo ("host=... port=... dbname=..."), owned by the harness until
 * h_cleanup(). The database is dropped by h_cleanup(). */
const char *h_db_create(void);

/* Runs one SQL script on conninfo with psql semantics (several statements
 * allowed); fails the test on error. */
void h_sql(const char *conninfo, const char *sql);
/* Runs one query and returns the first column of the first row (malloc'd,
 * NULL when no rows or SQL NULL); fails the test on error. */
char *h_sql_value(const char *conninfo, const char *sql);

struct h_cbqd {
	pid_t pid;
	int port;
	char url[64];	    /* https://127.0.0.1:PORT */
	char log_path[256]; /* cbqd's stderr */
	char conninfo[256];
};

/* Starts `cbqd serve --db conninfo --listen 127.0.0.1:PORT --tls-cert ...
 * --tls-key ... --client-ca ... --insecure-dev-auth` plus extra_args (a
 * NULL-terminated list, may be NULL) and waits until GET /readyz answers 200
 * (fails the test after 10 s, showing the log). */
struct h_cbqd *h_cbqd_start(const char *conninfo, const char *const *extra_args);
/* Like h_cbqd_start but does not wait for readiness and returns the exit
 * status if cbqd exits within wait_ms (-1 if still running; then it is
 * killed). For tests of refused start-ups. Log text goes to *log (malloc'd). */
int h_cbqd_expect_exit(const char *conninfo, const char *const *args, int wait_ms, char **log);
/* Sends sig and waits for the process to end; returns its wait status. */
int h_cbqd_stop(struct h_cbqd *d, int sig);
/* Starts it again on the same port and database and waits for readiness. */
void h_cbqd_restart(struct h_cbqd *d);

/* Runs argv[0] from CBQ_BIN (e.g. "cbq") with the rest of argv (NULL-ended),
 * with env entries "K=V" added (NULL-ended, may be NULL), stdin from
 * /dev/null. Returns the exit code; *out gets stdout and *err stderr
 * (malloc'd, NUL-terminated) when non-NULL. */
int h_run(const char *const *argv, const char *const *env, char **out, char **err);

/* Children start with default signal dispositions, HOME set to an empty
 * directory and no CBQ_* settings from the test's environment (env entries
 * override); each run is limited to 60 s. */

/* `cbqd admin --db conninfo ARGS...` (NULL-ended), as h_run runs it. */
int h_admin(const char *conninfo, char **out, char **err, ...);

/* Convenience: cbq against d with dev auth as account, e.g.
 * h_cbq(d, "111111111111", &out, "submit", "--kind", "training", NULL). */
int h_cbq(const struct h_cbqd *d, const char *account, char **out, ...);
/* *out gets stdout followed by stderr, so a failure shows its message; a
 * NULL account sends no --account. Same with mTLS using client-<account>.pem/.key: */
int h_cbq_mtls(const struct h_cbqd *d, const char *account, char **out, ...);
/* `cbq submit ARGS...` (NULL-ended) as h_cbq runs it: the new job's id;
 * fails the test when cbq fails or prints none. */
long h_submit(const struct h_cbqd *d, const char *account, ...);

struct h_http_reply {
	long status;
	unsigned char *body; /* malloc'd */
	size_t len;
	char content_type[128];
};

/* One HTTPS request to d (verifying ca.pem). headers is a NULL-ended list of
 * "Name: value" lines (may be NULL); body may be NULL. With account != NULL
 * sends X-Cbq-Account: account. Returns the reply; status 0 when no reply. */
struct h_http_reply h_http(const struct h_cbqd *d, const char *method, const char *path,
			   const char *const *headers, const char *account, const void *body,
			   size_t len);
void h_http_reply_free(struct h_http_reply *r);

/* Path of a file in CBQ_TEST_CERTS (static buffer, valid until next call). */
const char *h_cert(const char *name);

/* Polls SQL on conninfo every 100 ms until its value is want (NULL: SQL
 * NULL or no row), failing the test with the last value after timeout_ms. */
void h_sql_wait(const char *conninfo, const char *sql, const char *want, int timeout_ms);
void h_sleep_ms(int ms);

/* User data the tests send with jobs: it must never appear in anything cbq
 * writes besides jobs.user_data (tests/secrets-grep checks, also base64). */
#define H_USER_DATA_SECRET "cbq-test-user-data-5d1e7a0c-never-logged"
/* Records a secret (an access key, secret key or session token a test made)
 * for tests/secrets-grep, when tests/run set CBQ_TEST_SECRETS. */
void h_secret_note(const char *secret);

/* Registers the usual fixtures on conninfo: teams alpha (accounts
 * 111111111111, 333333333333) and beta (account 222222222222), each with
 * role arn:aws:iam::<account>:role/cbq-launcher. */
void h_seed_teams(const char *conninfo);

/* Any other server a test needs (cbq-awssim, moto_server): argv[0] from
 * CBQ_BIN, or a path with '/'. It runs in the background with stdout and
 * stderr in log_path, with the child environment described above plus env
 * (NULL-ended, may be NULL), until h_proc_stop() or h_cleanup(). */
struct h_proc {
	pid_t pid;
	int port;     /* what the caller chose (h_free_port), for its own use */
	char url[64]; /* http://127.0.0.1:PORT */
	char log_path[256];
};
struct h_proc *h_proc_start(const char *const *argv, const char *const *env, int port);
/* SIGTERM, then SIGKILL after 5 s; returns the exit code (128+signal). */
int h_proc_stop(struct h_proc *p);
/* Fails the test unless p is still running, showing its log. */
void h_proc_check(const struct h_proc *p, const char *what);
/* A loopback port nothing listens on right now. */
int h_free_port(void);
/* The last max bytes of a file (malloc'd), "(no log)" when missing. */
char *h_file_tail(const char *path, size_t max);

/* Stops every cbqd this process started and drops its databases. Call from
 * a Criterion .fini or at the end of each test. */
void h_cleanup(void);

#endif
