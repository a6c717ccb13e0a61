/*
 * A private Postgres cluster for one test (see pgown.h): deploy/pgtmp makes
 * and first starts it; stop and later starts run pg_ctl as the cluster's
 * owner with the options pgtmp uses, so the socket stays where cbqd's
 * conninfo points. It never touches the suite's shared cluster (PG* env).
 */
#include "pgown.h"

#include <criterion/criterion.h>
#include <libpq-fe.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "awspeer.h"
#include "harness.h"

/*
 * pg_ctl ARGS... as the cluster's owner, the way deploy/pgtmp's as_owner
 * does it: as root through runuser to the user pgtmp recorded in DIR/user.
 * $1 is the cluster dir, the rest are pg_ctl's arguments.
 */
static const char pg_ctl_as_owner[] = "dir=$1; shift; bindir=$(pg_config --bindir) || exit 1; "
				      "user=$(cat \"$dir/user\" 2>/dev/null || id -un); "
				      "if [ \"$(id -u)\" = 0 ] && [ \"$user\" != root ]; then "
				      "exec runuser -u \"$user\" -- \"$bindir/pg_ctl\" \"$@\"; fi; "
				      "exec \"$bindir/pg_ctl\" \"$@\"";

static void first_start(struct pgown *pg)
{
	const char *tmp = getenv("TMPDIR");
	char *out = NULL, *err = NULL;
	const char *p;
	int rc;

	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(pg->dir, sizeof(pg->dir), "%s/cbq-pg.XXXXXX", tmp) >= sizeof(pg->dir))
		cr_assert_fail("TMPDIR is too long for a Postgres socket path: %s", tmp);
	if (!mkdtemp(pg->dir)) {
		int e = errno;
		pg->dir[0] = '\0';
		cr_assert_fail("mkdtemp under %s: %s", tmp, strerror(e));
	}
	/* pgtmp hands the directory to the user Postgres runs as and chmods it */
	{
		const char *argv[] = { h_test_file("../deploy/pgtmp"), "start", pg->dir, NULL };
		rc = h_run(argv, NULL, &out, &err);
	}
	cr_assert_eq(rc, 0, "deploy/pgtmp start %s exited %d:\n%s%s", pg->dir, rc, err, out);
	/* "export PGHOST='DIR' PGPORT=NNNNN PGUSER=cbq_admin PGDATABASE=postgres" */
	p = strstr(out, "PGPORT=");
	cr_assert(p, "deploy/pgtmp printed no PGPORT: %s", out);
	pg->port = atoi(p + strlen("PGPORT="));
	cr_assert(pg->port > 0 && pg->port < 65536, "deploy/pgtmp printed a bad port: %s", out);
	free(out);
	free(err);
}

static void pg_ctl(struct pgown *pg, const char *const *args)
{
	const char *argv[24] = { "/bin/sh", "-c", pg_ctl_as_owner, "sh", pg->dir };
	char *out = NULL, *err = NULL, *log;
	size_t n = 5;
	int rc;

	for (; *args; args++) {
		cr_assert(n + 1 < sizeof(argv) / sizeof(argv[0]), "too many pg_ctl arguments");
		argv[n++] = *args;
	}
	argv[n] = NULL;
	rc = h_run(argv, NULL, &out, &err);
	if (rc != 0) {
		char path[PGOWN_DIR_MAX + 16];
		snprintf(path, sizeof(path), "%s/postgres.log", pg->dir);
		log = h_file_tail(path, 2048);
		cr_assert_fail("pg_ctl %s on %s exited %d:\n%s%s\npostgres.log:\n%s", argv[5],
			       pg->dir, rc, err, out, log);
	}
	free(out);
	free(err);
}

void pgown_start(struct pgown *pg)
{
	char data[PGOWN_DIR_MAX + 8], logf[PGOWN_DIR_MAX + 16], opts[PGOWN_DIR_MAX + 160];

	cr_assert(!pg->running, "pgown_start: the cluster in %s is running", pg->dir);
	if (!pg->dir[0]) {
		first_start(pg);
		pg->running = true;
		return;
	}
	/* pgtmp start would pick a new random port: the same options by hand */
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	snprintf(logf, sizeof(logf), "%s/postgres.log", pg->dir);
	snprintf(opts, sizeof(opts),
		 "-c listen_addresses='' -c unix_socket_directories='%s' -p %d"
		 " -c max_connections=200 -c fsync=on",
		 pg->dir, pg->port);
	const char *args[] = { "-D", data, "-l", logf, "-w", "-t", "60", "-o", opts, "start", NULL };
	pg_ctl(pg, args);
	pg->running = true;
}

void pgown_stop(struct pgown *pg, const char *mode)
{
	char data[PGOWN_DIR_MAX + 8];

	cr_assert(pg->running, "pgown_stop: no cluster running in \"%s\"", pg->dir);
	snprintf(data, sizeof(data), "%s/data", pg->dir);
	const char *args[] = { "-D", data, "-m", mode, "-w", "-t", "30", "stop", NULL };
	pg_ctl(pg, args);
	pg->running = false;
}

const char *pgown_db_create(struct pgown *pg, const char *name)
{
	char admin[PGOWN_CONNINFO_MAX], conninfo[PGOWN_CONNINFO_MAX], sql[96];
	char *out = NULL, *err = NULL;
	char *ci;
	int rc;

	cr_assert(pg->running, "pgown_db_create: the cluster is not running");
	cr_assert(pg->n_dbs < PGOWN_MAX_DBS, "more than %d databases", PGOWN_MAX_DBS);
	cr_assert(strlen(name) < 48 &&
			  strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name),
		  "database name \"%s\" is not a plain identifier", name);
	/* the dir is ours (mkdtemp): no quotes or spaces to escape */
	snprintf(admin, sizeof(admin), "host=%s port=%d user=cbq_admin dbname=postgres", pg->dir,
		 pg->port);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	h_sql(admin, sql);
	if ((size_t)snprintf(conninfo, sizeof(conninfo), "host=%s port=%d user=cbq_admin dbname=%s",
			     pg->dir, pg->port, name) >= sizeof(conninfo))
		cr_assert_fail("conninfo too long for %s", pg->dir);
	ci = pg->conninfo[pg->n_dbs++];
	memcpy(ci, conninfo, sizeof(conninfo));
	{
		const char *argv[] = { "cbqd", "migrate", "--db", ci, NULL };
		rc = h_run(argv, NULL, &out, &err);
	}
	cr_assert_eq(rc, 0, "cbqd migrate --db \"%s\" exited %d:\n%s%s", ci, rc, err, out);
	free(out);
	free(err);
	return ci;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void pgown_destroy(struct pgown *pg)
{
	pid_t pid;
	int status;

	if (!pg->dir[0])
		return;
	/* no h_run here: it fails the current test, and this may run outside one */
	if (pg->running) {
		const char *pgtmp = h_test_file("../deploy/pgtmp");

		pid = fork();
		if (pid == 0) {
			execl(pgtmp, pgtmp, "stop", pg->dir, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
				;
		pg->running = false;
	}
	nftw(pg->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	pg->dir[0] = '\0';
	pg->n_dbs = 0;
}
