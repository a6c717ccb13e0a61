/*
 * A private Postgres cluster for one integration test, for what the suite's
 * shared cluster must never go through (other tests run on it in parallel):
 * being stopped and started again under a running cbqd. Built on
 * deploy/pgtmp (unix socket only, trust); restarts keep the socket path and
 * port, so a conninfo stays valid. Not a harness replacement: cbqd, cbq and
 * SQL still go through harness.h. Test code: blocks freely.
 */
#ifndef CBQ_TESTS_PGOWN_H
#define CBQ_TESTS_PGOWN_H

#include <stdbool.h>

enum {
	PGOWN_DIR_MAX = 96,	  /* the socket path (dir + "/.s.PGSQL.NNNNN") must fit sun_path */
	PGOWN_CONNINFO_MAX = 256, /* struct h_cbqd keeps conninfo in 256 bytes */
	PGOWN_MAX_DBS = 4,
};

struct pgown {
	char dir[PGOWN_DIR_MAX]; /* "" until started: mkdtemp under TMPDIR */
	int port;		 /* names the socket file; kept across restarts */
	bool running;
	int n_dbs;
	char conninfo[PGOWN_MAX_DBS][PGOWN_CONNINFO_MAX];
};

/* First call: a temp dir under TMPDIR, initdb and start (deploy/pgtmp
 * start). Later calls, after pgown_stop: starts the same cluster again on
 * the same socket, after crash recovery if it was stopped "immediate".
 * Returns once it accepts connections; fails the current test otherwise. */
void pgown_start(struct pgown *pg);

/* pg_ctl stop -m mode ("smart", "fast" or "immediate") and waits until the
 * postmaster is gone. Fails the current test when it cannot stop it. */
void pgown_stop(struct pgown *pg, const char *mode);

/* CREATE DATABASE name on the running cluster and `cbqd migrate` on it;
 * returns its conninfo (owned by pg, valid until pgown_destroy). Fails the
 * current test on error. name: a plain lower-case identifier. */
const char *pgown_db_create(struct pgown *pg, const char *name);

/* Stops the cluster if it runs (immediate) and removes its directory. Safe
 * on a pgown that was never started, and outside a test (it fails nothing):
 * for a Criterion .fini. */
void pgown_destroy(struct pgown *pg);

#endif
