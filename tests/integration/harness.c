/*
 * The integration-test harness (harness.h): databases, cbqd processes, cbq
 * runs and raw HTTPS requests for Criterion tests run through tests/run. It
 * blocks freely (libpq sync API, libcurl easy) and is not product code.
 *
 * State is per test process (Criterion runs each test in its own worker), so
 * it lives in one file-static struct: what h_cleanup() must undo. Every wait
 * is bounded; every child is reaped; a child dies with its test process
 * (PR_SET_PDEATHSIG) and h_cleanup() also runs at exit, so a test that fails
 * before its .fini leaves no cbqd behind.
 *
 * Children run with the test's environment plus the additions given, minus
 * the cbq client settings (CBQ_SERVER, CBQ_CA, CBQ_CERT, CBQ_KEY, CBQ_ACCOUNT,
 * CBQ_OUTPUT) and with HOME set to an empty directory, so neither a user's
 * shell nor ~/.config/cbq/config can change what a test sees; tests that
 * exercise those pass them explicitly in env.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <libpq-fe.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

extern char **environ;

#define MAX_DBS 64
#define MAX_CBQDS 32
#define MAX_ARGS 128
#define MAX_ENV 1024
#define RUN_TIMEOUT_MS 60000   /* one cbq / cbqd migrate / cbqd admin run */
#define READY_TIMEOUT_MS 10000 /* cbqd serve until /readyz answers 200 */
#define READY_POLL_MS 20
#define STOP_TIMEOUT_MS 30000	/* h_cbqd_stop: the signal's effect */
#define CLEANUP_TERM_MS 5000	/* h_cleanup: SIGTERM, then SIGKILL */
#define CAPTURE_MAX (16u << 20) /* stdout/stderr of one run, HTTP bodies */
#define LOG_TAIL 4096		/* cbqd log shown in a failure message */

/* A cbqd we started; pub comes first so a struct h_cbqd * converts back. */
struct cbqd_proc {
	struct h_cbqd pub;
	char *extra[MAX_ARGS]; /* copied extra args, for h_cbqd_restart */
	int n_extra;
	char *cert, *key, *ca; /* paths in CBQ_TEST_CERTS */
	char db[512];	       /* pub.conninfo as cbq_broker: what cbqd serve gets */
};

/* A database this process created; conninfo is NULL until it is migrated. */
struct test_db {
	char name[64];
	char *conninfo;
};

static struct {
	bool init;
	bool atexit_done;
	unsigned db_counter;
	unsigned log_counter;
	char dir[256]; /* per-process temp dir: empty HOME, cbqd logs */
	char home[300];
	struct test_db dbs[MAX_DBS];
	int n_dbs;
	struct cbqd_proc *cbqds[MAX_CBQDS];
	int n_cbqds;
	struct h_proc *procs[MAX_CBQDS];
	int n_procs;
	char cert[512];
} h;

/* ---- failing the test ------------------------------------------------------------ */

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	char msg[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cr_assert_fail("%s", msg);
	abort(); /* cr_assert_fail does not return inside a test */
}

static const char *need_env(const char *name)
{
	const char *v = getenv(name);

	if (!v || !*v)
		fail("%s is not set: run integration tests through tests/run", name);
	return v;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* execve() takes char *const[]; it does not write through them. */
static char *unconst(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = { .c = s };

	return u.m;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

/* ---- per-process setup and the temp dir ------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (h.init)
		return;
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if ((size_t)snprintf(h.dir, sizeof(h.dir), "%s/cbq-h.XXXXXX", tmp) >= sizeof(h.dir))
		fail("TMPDIR is too long: %s", tmp);
	if (!mkdtemp(h.dir))
		fail("mkdtemp %s: %s", h.dir, strerror(errno));
	snprintf(h.home, sizeof(h.home), "%s/home", h.dir);
	if (mkdir(h.home, 0700) == -1)
		fail("mkdir %s: %s", h.home, strerror(errno));
	/* a server closing early must fail a request, not kill the test */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fail("curl_global_init failed");
	/* waitpid must see our children whatever the runner did with SIGCHLD */
	signal(SIGCHLD, SIG_DFL);
	h.init = true;
	if (!h.atexit_done)
		atexit(h_cleanup);
	h.atexit_done = true;
}

const char *h_cert(const char *name)
{
	const char *dir = need_env("CBQ_TEST_CERTS");

	if ((size_t)snprintf(h.cert, sizeof(h.cert), "%s/%s", dir, name) >= sizeof(h.cert))
		fail("certificate path too long: %s/%s", dir, name);
	if (access(h.cert, R_OK) == -1)
		fail("%s: %s (tests/run generates the test certificates)", h.cert, strerror(errno));
	return h.cert;
}

/* ---- bounded buffers ------------------------------------------------------------- */

struct buf {
	char *data; /* always NUL-terminated once allocated */
	size_t len;
	bool truncated;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	char *grown;

	if (b->len + n > CAPTURE_MAX) {
		n = CAPTURE_MAX - b->len;
		b->truncated = true;
	}
	grown = realloc(b->data, b->len + n + 1);
	if (!grown)
		abort();
	b->data = grown;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static char *buf_take(struct buf *b)
{
	char *s;

	if (!b->data)
		buf_add(b, "", 0);
	s = b->data;
	b->data = NULL;
	b->len = 0;
	return s;
}

/* The last max bytes of a file, for failure messages (malloc'd). */
char *h_file_tail(const char *path, size_t max)
{
	struct buf b = { 0 };
	char chunk[4096];
	ssize_t n;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1) {
		buf_add(&b, "(no log)", 8);
		return buf_take(&b);
	}
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)max ? size - (off_t)max : 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_take(&b);
}

/* ---- processes ------------------------------------------------------------------- */

/* Client settings a test must not inherit from the shell that ran tests/run. */
static const char *const scrubbed[] = { "CBQ_SERVER",  "CBQ_CA",     "CBQ_CERT", "CBQ_KEY",
					"CBQ_ACCOUNT", "CBQ_OUTPUT", NULL };

static bool env_has_key(const char *const *list, const char *entry)
{
	size_t klen = strcspn(entry, "=");

	for (; list && *list; list++) {
		size_t l = strcspn(*list, "=");
		if (l == klen && strncmp(*list, entry, klen) == 0)
			return true;
	}
	return false;
}

/* environ minus scrubbed and overridden keys, plus HOME and add (malloc'd array,
 * entries borrowed). */
static char **child_env(const char *const *add)
{
	static char home_entry[320];
	const char *const home[] = { home_entry, NULL };
	char **env = calloc(MAX_ENV + 2, sizeof(*env)); /* + HOME + NULL */
	int n = 0;

	if (!env)
		abort();
	snprintf(home_entry, sizeof(home_entry), "HOME=%s", h.home);
	for (char **e = environ; *e; e++) {
		if (env_has_key(scrubbed, *e) || env_has_key(add, *e) || env_has_key(home, *e))
			continue;
		if (n >= MAX_ENV)
			fail("environment has more than %d entries", MAX_ENV);
		env[n++] = *e;
	}
	if (!env_has_key(add, home_entry))
		env[n++] = home_entry;
	for (; add && *add; add++) {
		if (!strchr(*add, '='))
			fail("env entry \"%s\" is not K=V", *add);
		if (n >= MAX_ENV)
			fail("environment has more than %d entries", MAX_ENV);
		env[n++] = unconst(*add);
	}
	env[n] = NULL;
	return env;
}

/* argv[0] without a slash is a binary in CBQ_BIN. */
static void resolve(const char *name, char *path, size_t size)
{
	if (strchr(name, '/'))
		snprintf(path, size, "%s", name);
	else if ((size_t)snprintf(path, size, "%s/%s", need_env("CBQ_BIN"), name) >= size)
		fail("path too long: %s/%s", getenv("CBQ_BIN"), name);
	if (access(path, X_OK) == -1)
		fail("%s: %s (build first; run through tests/run)", path, strerror(errno));
}

/* In a forked child: the signal state of a fresh process. Ignored signals and
 * the blocked mask survive exec; this process ignores SIGPIPE and a test runner
 * may block others, which would change how cbqd handles its own signals. */
static void reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Forks and execs argv with stdin from /dev/null and stdout/stderr to out_fd and
 * err_fd. The child is killed if this process dies. Returns its pid. */
static pid_t spawn(const char *const *argv, const char *const *env_add, int out_fd, int err_fd)
{
	char path[1024], *args[MAX_ARGS + 32];
	char **env;
	pid_t parent = getpid(), pid;
	int null_fd, n = 0;

	setup();
	resolve(argv[0], path, sizeof(path));
	for (; argv[n]; n++) {
		if (n == MAX_ARGS + 31)
			fail("%s: more than %d arguments", argv[0], MAX_ARGS + 31);
		args[n] = unconst(argv[n]);
	}
	args[n] = NULL;
	env = child_env(env_add);
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null_fd == -1)
		fail("open /dev/null: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == -1)
		fail("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		reset_signals();
		if (dup2(null_fd, 0) == -1 || dup2(out_fd, 1) == -1 || dup2(err_fd, 2) == -1)
			_exit(127);
		closefrom(3);
		execve(path, args, env);
		dprintf(2, "harness: exec %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	close(null_fd);
	free(env);
	return pid;
}

/* waitpid without EINTR; with block false returns 0 while the child runs. */
static pid_t reap(pid_t pid, int *status, bool block)
{
	pid_t r;

	do
		r = waitpid(pid, status, block ? 0 : WNOHANG);
	while (r == -1 && errno == EINTR);
	return r;
}

/* Waits up to ms for pid to end; true and *status when it did. */
static bool wait_for(pid_t pid, int ms, int *status)
{
	int64_t deadline = now_ms() + ms;

	for (;;) {
		pid_t r = reap(pid, status, false);
		if (r == pid)
			return true;
		if (r == -1) {
			*status = 0;
			return true; /* not our child any more: nothing left to wait for */
		}
		if (now_ms() >= deadline)
			return false;
		sleep_ms(10);
	}
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

static void make_pipe(int fds[2])
{
	if (pipe(fds) == -1)
		fail("pipe: %s", strerror(errno));
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
}

int h_run(const char *const *argv, const char *const *env, char **out, char **err)
{
	struct buf bufs[2] = { { 0 } };
	int out_pipe[2], err_pipe[2], status;
	struct pollfd pfd[2];
	int64_t deadline;
	int open_fds = 2;
	pid_t pid;

	if (!argv || !argv[0])
		fail("h_run: empty argv");
	make_pipe(out_pipe);
	make_pipe(err_pipe);
	pid = spawn(argv, env, out_pipe[1], err_pipe[1]);
	close(out_pipe[1]);
	close(err_pipe[1]);
	pfd[0] = (struct pollfd){ .fd = out_pipe[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err_pipe[0], .events = POLLIN };
	deadline = now_ms() + RUN_TIMEOUT_MS;
	while (open_fds > 0) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0) {
			kill(pid, SIGKILL);
			reap(pid, &status, true);
			close(out_pipe[0]);
			close(err_pipe[0]);
			fail("%s did not finish within %d s; stderr so far:\n%s", argv[0],
			     RUN_TIMEOUT_MS / 1000, bufs[1].data ? bufs[1].data : "");
		}
		r = poll(pfd, 2, (int)left);
		if (r == -1 && errno != EINTR)
			fail("poll: %s", strerror(errno));
		for (int i = 0; r > 0 && i < 2; i++) {
			char chunk[16384];
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, chunk, sizeof(chunk));
			if (n > 0) {
				buf_add(&bufs[i], chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	/* both pipes closed: the child has exited or closed them; bound the rest too */
	if (!wait_for(pid, RUN_TIMEOUT_MS, &status)) {
		kill(pid, SIGKILL);
		reap(pid, &status, true);
		fail("%s closed its output but did not exit within %d s", argv[0],
		     RUN_TIMEOUT_MS / 1000);
	}
	if (out)
		*out = buf_take(&bufs[0]);
	if (err)
		*err = buf_take(&bufs[1]);
	free(bufs[0].data);
	free(bufs[1].data);
	return exit_code(status);
}

/* ---- Postgres -------------------------------------------------------------------- */

/* Appends " key=value" to a conninfo, quoting the value when it needs it. */
static void conninfo_add(char *ci, size_t size, const char *key, const char *value)
{
	size_t o = strlen(ci);
	bool quote = !*value || strpbrk(value, " '\\\t\n") != NULL;

	o += (size_t)snprintf(ci + o, o < size ? size - o : 0, "%s%s=%s", o ? " " : "", key,
			      quote ? "'" : "");
	for (const char *p = value; *p && o + 3 < size; p++) {
		if (*p == '\'' || *p == '\\')
			ci[o++] = '\\';
		ci[o++] = *p;
	}
	if (o + 2 >= size)
		fail("conninfo too long for %s=%s", key, value);
	if (quote)
		ci[o++] = '\'';
	ci[o] = '\0';
}

/* conninfo (key=value form) with user replaced: libpq takes a key's last
 * value. cbqd serve runs as cbq_broker and `cbqd admin` as cbq_platform, the
 * roles of migration 0005, so a missing grant fails the tests; setup SQL
 * keeps the test's own (the migrating, owning) user. */
static void conninfo_as(char *ci, size_t size, const char *conninfo, const char *user)
{
	if (strstr(conninfo, "://"))
		fail("the harness needs a key=value conninfo, not a URI: %s", conninfo);
	if ((size_t)snprintf(ci, size, "%s", conninfo) >= size)
		fail("conninfo longer than %zu bytes: %s", size - 1, conninfo);
	conninfo_add(ci, size, "user", user);
}

static void conninfo_for(char *ci, size_t size, const char *dbname)
{
	ci[0] = '\0';
	conninfo_add(ci, size, "host", need_env("PGHOST"));
	conninfo_add(ci, size, "port", need_env("PGPORT"));
	conninfo_add(ci, size, "user", need_env("PGUSER"));
	conninfo_add(ci, size, "dbname", dbname);
}

static PGconn *connect_to(const char *conninfo)
{
	const char *keys[] = { "dbname", "connect_timeout", NULL };
	const char *values[] = { conninfo, "10", NULL };
	/* expand_dbname: conninfo's own keys win, connect_timeout is a default */
	PGconn *c = PQconnectdbParams(keys, values, 1);

	if (PQstatus(c) != CONNECTION_OK) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(c));
		PQfinish(c);
		fail("cannot connect to Postgres (%s): %s", conninfo, msg);
	}
	return c;
}

/* Runs sql on c; returns the result when its status is ok, else fails (and
 * closes c). */
static PGresult *exec_ok(PGconn *c, const char *sql, ExecStatusType ok)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != ok) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		fail("SQL failed: %s\n  in: %.400s", msg, sql);
	}
	return r;
}

static void quiet(void *arg, const char *message)
{
}

static void admin_exec(const char *sql)
{
	char ci[512];
	PGconn *c;

	conninfo_for(ci, sizeof(ci), "postgres");
	c = connect_to(ci);
	PQsetNoticeProcessor(c, quiet, NULL); /* "does not exist, skipping" */
	PQclear(exec_ok(c, sql, PGRES_COMMAND_OK));
	PQfinish(c);
}

const char *h_db_create(void)
{
	struct test_db *db;
	char sql[256], conninfo[512];
	char *out = NULL, *err = NULL;
	int rc;

	setup();
	if (h.n_dbs == MAX_DBS)
		fail("more than %d databases in one test", MAX_DBS);
	db = &h.dbs[h.n_dbs];
	snprintf(db->name, sizeof(db->name), "cbq_t_%ld_%u", (long)getpid(), ++h.db_counter);
	/* a crashed earlier process with the same pid may have left one behind */
	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
	admin_exec(sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
	admin_exec(sql);
	h.n_dbs++; /* from here h_cleanup drops it */
	conninfo_for(conninfo, sizeof(conninfo), db->name);
	{
		const char *argv[] = { "cbqd", "migrate", "--db", conninfo, NULL };
		rc = h_run(argv, NULL, &out, &err);
	}
	if (rc != 0)
		fail("cbqd migrate --db \"%s\" exited %d:\n%s%s", conninfo, rc, err, out);
	free(out);
	free(err);
	db->conninfo = xstrdup(conninfo);
	return db->conninfo;
}

void h_sql(const char *conninfo, const char *sql)
{
	PGconn *c = connect_to(conninfo);
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", r ? PQresultErrorMessage(r) : PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		fail("SQL failed: %s\n  in: %.400s", msg, sql);
	}
	PQclear(r);
	PQfinish(c);
}

/* A SQL NULL in the first cell also returns NULL. */
char *h_sql_value(const char *conninfo, const char *sql)
{
	PGconn *c = connect_to(conninfo);
	PGresult *r = exec_ok(c, sql, PGRES_TUPLES_OK);
	char *v = NULL;

	if (PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
		v = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

int h_admin(const char *conninfo, char **out, char **err, ...)
{
	char platform[600]; /* a harness conninfo (< 512) plus user= */
	const char *argv[MAX_ARGS] = { "cbqd", "admin", "--db", platform };
	int n = 4;
	va_list ap;

	conninfo_as(platform, sizeof(platform), conninfo, "cbq_platform");
	va_start(ap, err);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL;) {
		if (n == MAX_ARGS - 1)
			fail("cbqd admin: more than %d arguments", MAX_ARGS - 2);
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return h_run(argv, NULL, out, err);
}

void h_sql_wait(const char *conninfo, const char *sql, const char *want, int timeout_ms)
{
	char *v = NULL;

	for (int waited = 0; waited < timeout_ms; waited += 100) {
		free(v);
		v = h_sql_value(conninfo, sql);
		if (v && want && strcmp(v, want) == 0) {
			free(v);
			return;
		}
		if (!v && !want)
			return;
		sleep_ms(100);
	}
	fail("%s: got \"%s\", want \"%s\" (waited %d ms)", sql, v ? v : "(null)",
	     want ? want : "(null)", timeout_ms);
}

void h_sleep_ms(int ms)
{
	sleep_ms(ms);
}

void h_seed_teams(const char *conninfo)
{
	h_sql(conninfo,
	      "INSERT INTO teams (name) VALUES ('alpha'), ('beta');"
	      "INSERT INTO accounts (account_id, team, role_arn) VALUES"
	      " ('111111111111', 'alpha', 'arn:aws:iam::111111111111:role/cbq-launcher'),"
	      " ('333333333333', 'alpha', 'arn:aws:iam::333333333333:role/cbq-launcher'),"
	      " ('222222222222', 'beta', 'arn:aws:iam::222222222222:role/cbq-launcher');");
}

/* ---- HTTPS ----------------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	buf_add(b, p, size * n);
	return b->truncated ? 0 : size * n; /* over the cap: abort the transfer */
}

/* One request with the given overall timeout; see h_http. */
static struct h_http_reply request(const struct h_cbqd *d, const char *method, const char *path,
				   const char *const *headers, const char *account,
				   const void *body, size_t len, long timeout_ms)
{
	struct h_http_reply reply = { 0 };
	struct curl_slist *hdrs = NULL;
	struct buf b = { 0 };
	char url[512], line[256], *ct = NULL;
	bool has_ct = false;
	CURL *c;

	setup();
	if ((size_t)snprintf(url, sizeof(url), "%s%s", d->url, path) >= sizeof(url))
		fail("h_http: URL too long: %s%s", d->url, path);
	c = curl_easy_init();
	if (!c)
		fail("curl_easy_init failed");
	for (; headers && *headers; headers++) {
		if (strncasecmp(*headers, "Content-Type:", 13) == 0)
			has_ct = true;
		hdrs = curl_slist_append(hdrs, *headers);
	}
	if (account) {
		snprintf(line, sizeof(line), "X-Cbq-Account: %s", account);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (body && !has_ct)
		hdrs = curl_slist_append(hdrs, "Content-Type: application/x-protobuf");
	/* libcurl's default Expect: 100-continue for large bodies stays, as in cbq:
	 * it lets cbqd refuse an oversized body before it is sent */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, h_cert("ca.pem"));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
		   strcmp(method, "PATCH") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
		if (strcmp(method, "POST") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	/* a reply that arrived counts even if sending the rest of the body failed */
	curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
		snprintf(reply.content_type, sizeof(reply.content_type), "%s", ct);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (b.truncated)
		fail("h_http %s %s: reply body over %u bytes", method, path, CAPTURE_MAX);
	reply.len = b.len;
	reply.body = (unsigned char *)buf_take(&b); /* NUL-terminated for convenience */
	return reply;
}

void h_http_reply_free(struct h_http_reply *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

struct h_http_reply h_http(const struct h_cbqd *d, const char *method, const char *path,
			   const char *const *headers, const char *account, const void *body,
			   size_t len)
{
	return request(d, method, path, headers, account, body, len, 30000);
}

/* GET /readyz with a short timeout: the HTTP status, 0 when nothing answered. */
static long readyz(const struct h_cbqd *d)
{
	struct h_http_reply r = request(d, "GET", "/readyz", NULL, NULL, NULL, 0, 2000);

	h_http_reply_free(&r);
	return r.status;
}

/* ---- cbqd ------------------------------------------------------------------------ */

int h_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) == -1)
		fail("cannot find a free loopback port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/* Starts `cbqd serve` for p with its log appended to p->pub.log_path. */
static void launch(struct cbqd_proc *p)
{
	const char *argv[MAX_ARGS + 20];
	char listen[32];
	int n = 0, log_fd;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", p->pub.port);
	argv[n++] = "cbqd";
	argv[n++] = "serve";
	argv[n++] = "--db";
	argv[n++] = p->db;
	argv[n++] = "--listen";
	argv[n++] = listen;
	argv[n++] = "--tls-cert";
	argv[n++] = p->cert;
	argv[n++] = "--tls-key";
	argv[n++] = p->key;
	argv[n++] = "--client-ca";
	argv[n++] = p->ca;
	argv[n++] = "--insecure-dev-auth";
	for (int i = 0; i < p->n_extra; i++)
		argv[n++] = p->extra[i];
	argv[n] = NULL;
	log_fd = open(p->pub.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd == -1)
		fail("open %s: %s", p->pub.log_path, strerror(errno));
	p->pub.pid = spawn(argv, NULL, log_fd, log_fd);
	close(log_fd);
}

static void wait_ready(struct cbqd_proc *p)
{
	int64_t deadline = now_ms() + READY_TIMEOUT_MS;
	int status;

	for (;;) {
		if (reap(p->pub.pid, &status, false) == p->pub.pid) {
			char *tail = h_file_tail(p->pub.log_path, LOG_TAIL);
			p->pub.pid = 0;
			fail("cbqd serve on %s exited with %d before it was ready; log %s:\n%s",
			     p->pub.url, exit_code(status), p->pub.log_path, tail);
		}
		if (readyz(&p->pub) == 200)
			return;
		if (now_ms() >= deadline) {
			char *tail;
			kill(p->pub.pid, SIGKILL);
			reap(p->pub.pid, &status, true);
			p->pub.pid = 0;
			tail = h_file_tail(p->pub.log_path, LOG_TAIL);
			fail("cbqd serve on %s did not answer GET /readyz with 200 within %d s; log %s:\n%s",
			     p->pub.url, READY_TIMEOUT_MS / 1000, p->pub.log_path, tail);
		}
		sleep_ms(READY_POLL_MS);
	}
}

/* A new cbqd record on a free port, registered for h_cleanup (not started). */
static struct cbqd_proc *cbqd_new(const char *conninfo, const char *const *extra)
{
	struct cbqd_proc *p;

	setup();
	if (h.n_cbqds == MAX_CBQDS)
		fail("more than %d cbqd processes in one test", MAX_CBQDS);
	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	if ((size_t)snprintf(p->pub.conninfo, sizeof(p->pub.conninfo), "%s", conninfo) >=
	    sizeof(p->pub.conninfo))
		fail("conninfo longer than %zu bytes: %s", sizeof(p->pub.conninfo) - 1, conninfo);
	conninfo_as(p->db, sizeof(p->db), conninfo, "cbq_broker");
	for (; extra && *extra; extra++) {
		if (p->n_extra == MAX_ARGS)
			fail("more than %d extra cbqd arguments", MAX_ARGS);
		p->extra[p->n_extra++] = xstrdup(*extra);
	}
	p->cert = xstrdup(h_cert("server.pem"));
	p->key = xstrdup(h_cert("server.key"));
	p->ca = xstrdup(h_cert("ca.pem"));
	p->pub.port = h_free_port();
	snprintf(p->pub.url, sizeof(p->pub.url), "https://127.0.0.1:%d", p->pub.port);
	if ((size_t)snprintf(p->pub.log_path, sizeof(p->pub.log_path), "%s/cbqd-%d-%u.log", h.dir,
			     p->pub.port, ++h.log_counter) >= sizeof(p->pub.log_path))
		fail("log path too long under %s", h.dir);
	h.cbqds[h.n_cbqds++] = p;
	return p;
}

struct h_cbqd *h_cbqd_start(const char *conninfo, const char *const *extra_args)
{
	struct cbqd_proc *p = cbqd_new(conninfo, extra_args);

	launch(p);
	wait_ready(p);
	return &p->pub;
}

int h_cbqd_expect_exit(const char *conninfo, const char *const *args, int wait_ms, char **log)
{
	struct cbqd_proc *p = cbqd_new(conninfo, args);
	int status, rc = -1;

	launch(p);
	if (wait_for(p->pub.pid, wait_ms, &status)) {
		rc = exit_code(status);
	} else {
		kill(p->pub.pid, SIGKILL);
		reap(p->pub.pid, &status, true);
	}
	p->pub.pid = 0;
	if (log)
		*log = h_file_tail(p->pub.log_path, CAPTURE_MAX);
	return rc;
}

int h_cbqd_stop(struct h_cbqd *d, int sig)
{
	int status;

	if (d->pid <= 0)
		fail("h_cbqd_stop: cbqd on %s is not running", d->url);
	kill(d->pid, sig);
	if (!wait_for(d->pid, STOP_TIMEOUT_MS, &status)) {
		char *tail;
		kill(d->pid, SIGKILL);
		reap(d->pid, &status, true);
		d->pid = 0;
		tail = h_file_tail(d->log_path, LOG_TAIL);
		fail("cbqd on %s did not exit within %d s of signal %d; log %s:\n%s", d->url,
		     STOP_TIMEOUT_MS / 1000, sig, d->log_path, tail);
	}
	d->pid = 0;
	return status;
}

void h_cbqd_restart(struct h_cbqd *d)
{
	struct cbqd_proc *p = (struct cbqd_proc *)d;

	if (d->pid > 0)
		fail("h_cbqd_restart: cbqd on %s is still running (stop it first)", d->url);
	launch(p);
	wait_ready(p);
}

/* ---- cbq ------------------------------------------------------------------------- */

/* cbq --server URL --ca ca.pem [--cert client-A.pem --key client-A.key]
 * --account A, then the caller's NULL-ended varargs. *out gets stdout followed
 * by stderr, so a failure shows its message. */
static int run_cbq(const struct h_cbqd *d, const char *account, bool mtls, char **out,
		   const char *verb, va_list ap)
{
	const char *argv[MAX_ARGS + 1];
	char ca[512], cert[512], key[512], name[64];
	char *o = NULL, *e = NULL;
	const char *a;
	int n = 0, rc;

	snprintf(ca, sizeof(ca), "%s", h_cert("ca.pem"));
	argv[n++] = "cbq";
	argv[n++] = "--server";
	argv[n++] = d->url;
	argv[n++] = "--ca";
	argv[n++] = ca;
	if (mtls) {
		if (!account)
			fail("h_cbq_mtls needs an account (its certificate names it)");
		snprintf(name, sizeof(name), "client-%s.pem", account);
		snprintf(cert, sizeof(cert), "%s", h_cert(name));
		snprintf(name, sizeof(name), "client-%s.key", account);
		snprintf(key, sizeof(key), "%s", h_cert(name));
		argv[n++] = "--cert";
		argv[n++] = cert;
		argv[n++] = "--key";
		argv[n++] = key;
	}
	if (account) { /* NULL: no identity at all */
		argv[n++] = "--account";
		argv[n++] = account;
	}
	if (verb)
		argv[n++] = verb;
	while ((a = va_arg(ap, const char *)) != NULL) {
		if (n == MAX_ARGS)
			fail("more than %d cbq arguments", MAX_ARGS);
		argv[n++] = a;
	}
	argv[n] = NULL;
	rc = h_run(argv, NULL, &o, &e);
	if (out) {
		struct buf b = { .data = o, .len = strlen(o) };
		buf_add(&b, e, strlen(e));
		*out = buf_take(&b);
	} else {
		free(o);
	}
	free(e);
	return rc;
}

int h_cbq(const struct h_cbqd *d, const char *account, char **out, ...)
{
	va_list ap;
	int rc;

	va_start(ap, out);
	rc = run_cbq(d, account, false, out, NULL, ap);
	va_end(ap);
	return rc;
}

int h_cbq_mtls(const struct h_cbqd *d, const char *account, char **out, ...)
{
	va_list ap;
	int rc;

	va_start(ap, out);
	rc = run_cbq(d, account, true, out, NULL, ap);
	va_end(ap);
	return rc;
}

long h_submit(const struct h_cbqd *d, const char *account, ...)
{
	va_list ap;
	char *out = NULL, *end;
	int rc;
	long id;

	va_start(ap, account);
	rc = run_cbq(d, account, false, &out, "submit", ap);
	va_end(ap);
	if (rc != 0)
		fail("cbq submit as %s exited %d: %s", account, rc, out);
	id = strtol(out, &end, 10);
	if (id <= 0 || end == out)
		fail("cbq submit as %s printed no job id: %s", account, out);
	free(out);
	return id;
}

/* ---- other servers --------------------------------------------------------------- */

struct h_proc *h_proc_start(const char *const *argv, const char *const *env, int port)
{
	struct h_proc *p;
	int log_fd;

	setup();
	if (h.n_procs == MAX_CBQDS)
		fail("more than %d background processes in one test", MAX_CBQDS);
	p = calloc(1, sizeof(*p));
	if (!p)
		abort();
	p->port = port;
	snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%d", port);
	if ((size_t)snprintf(p->log_path, sizeof(p->log_path), "%s/proc-%u.log", h.dir,
			     h.log_counter++) >= sizeof(p->log_path))
		fail("TMPDIR is too long for log paths: %s", h.dir);
	log_fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd == -1)
		fail("open %s: %s", p->log_path, strerror(errno));
	p->pid = spawn(argv, env, log_fd, log_fd);
	close(log_fd);
	h.procs[h.n_procs++] = p;
	return p;
}

int h_proc_stop(struct h_proc *p)
{
	int status = 0;

	if (p->pid <= 0)
		return 0;
	kill(p->pid, SIGTERM);
	if (!wait_for(p->pid, CLEANUP_TERM_MS, &status)) {
		kill(p->pid, SIGKILL);
		reap(p->pid, &status, true);
	}
	p->pid = 0;
	return exit_code(status);
}

void h_proc_check(const struct h_proc *p, const char *what)
{
	int status;

	if (p->pid > 0 && reap(p->pid, &status, false) == p->pid) {
		char *tail = h_file_tail(p->log_path, LOG_TAIL);
		fail("%s exited with %d; log %s:\n%s", what, exit_code(status), p->log_path, tail);
	}
}

/* ---- cleanup --------------------------------------------------------------------- */

/* ---- what the run wrote, kept for tests/secrets-grep ------------------------------- */

/* With CBQ_TEST_WRITTEN set (tests/run sets it), a database is written out
 * as text before it is dropped: every row of every table, except the user
 * data jobs legitimately hold. No fail(): this runs at exit too. */
static void keep_written_db(const struct test_db *db)
{
	const char *dir = getenv("CBQ_TEST_WRITTEN");
	char path[512];
	PGconn *c;
	PGresult *tables;
	FILE *f;

	if (!dir || !*dir || !db->conninfo)
		return;
	snprintf(path, sizeof(path), "%s/db-%s.txt", dir, db->name);
	c = PQconnectdb(db->conninfo);
	f = fopen(path, "w");
	if (!f || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "harness: cannot keep %s: %s", path, PQerrorMessage(c));
		goto out;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	tables =
		PQexec(c,
		       "SELECT format('SELECT %L || '' '' || %s FROM %I t', relname,"
		       " CASE relname WHEN 'jobs' THEN '(to_jsonb(t) - ''user_data'')::text'"
		       " ELSE 't::text' END, relname)"
		       " FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace");
	for (int t = 0; PQresultStatus(tables) == PGRES_TUPLES_OK && t < PQntuples(tables); t++) {
		PGresult *rows = PQexec(c, PQgetvalue(tables, t, 0));
		for (int r = 0; PQresultStatus(rows) == PGRES_TUPLES_OK && r < PQntuples(rows); r++)
			fprintf(f, "%s\n", PQgetvalue(rows, r, 0));
		PQclear(rows);
	}
	PQclear(tables);
out:
	if (f)
		fclose(f);
	PQfinish(c);
}

/* ... and the test's log files (cbqd's, the peers') are moved there. */
static void keep_written_logs(void)
{
	const char *dir = getenv("CBQ_TEST_WRITTEN");
	const char *base = strrchr(h.dir, '/') ? strrchr(h.dir, '/') + 1 : h.dir;
	char from[512], to[512];
	struct dirent *e;
	DIR *d;

	if (!dir || !*dir || !(d = opendir(h.dir)))
		return;
	while ((e = readdir(d))) {
		struct stat st;
		if ((size_t)snprintf(from, sizeof(from), "%s/%s", h.dir, e->d_name) >=
			    sizeof(from) ||
		    lstat(from, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if ((size_t)snprintf(to, sizeof(to), "%s/%s-%s", dir, base, e->d_name) >=
			    sizeof(to) ||
		    rename(from, to) == -1)
			fprintf(stderr, "harness: cannot keep %s: %s\n", from, strerror(errno));
	}
	closedir(d);
}

void h_secret_note(const char *secret)
{
	const char *dir = getenv("CBQ_TEST_SECRETS");
	char path[512];
	FILE *f;

	if (!dir || !*dir || !secret || !*secret)
		return;
	snprintf(path, sizeof(path), "%s/test-%d.txt", dir, (int)getpid());
	f = fopen(path, "a");
	if (!f)
		fail("cannot record a secret in %s: %s", path, strerror(errno));
	fprintf(f, "%s\n", secret);
	fclose(f);
}

void h_cleanup(void)
{
	char sql[256];
	PGconn *c = NULL;

	/* SIGTERM to all first so they drain in parallel, then SIGKILL stragglers */
	for (int i = 0; i < h.n_cbqds; i++)
		if (h.cbqds[i]->pub.pid > 0)
			kill(h.cbqds[i]->pub.pid, SIGTERM);
	for (int i = 0; i < h.n_cbqds; i++) {
		struct cbqd_proc *p = h.cbqds[i];
		int status;

		if (p->pub.pid > 0 && !wait_for(p->pub.pid, CLEANUP_TERM_MS, &status)) {
			kill(p->pub.pid, SIGKILL);
			reap(p->pub.pid, &status, true);
		}
		for (int j = 0; j < p->n_extra; j++)
			free(p->extra[j]);
		free(p->cert);
		free(p->key);
		free(p->ca);
		free(p);
	}
	h.n_cbqds = 0;
	for (int i = 0; i < h.n_procs; i++) {
		h_proc_stop(h.procs[i]);
		free(h.procs[i]);
	}
	h.n_procs = 0;

	/* no fail() here: this also runs at exit, outside any test */
	if (h.n_dbs > 0 && getenv("PGHOST") && getenv("PGPORT") && getenv("PGUSER")) {
		const char *keys[] = { "host", "port", "user", "dbname", "connect_timeout", NULL };
		const char *values[] = {
			getenv("PGHOST"), getenv("PGPORT"), getenv("PGUSER"), "postgres", "10", NULL
		};
		c = PQconnectdbParams(keys, values, 0);
		if (PQstatus(c) != CONNECTION_OK)
			fprintf(stderr, "harness: cannot drop test databases: %s",
				PQerrorMessage(c));
		else
			PQsetNoticeProcessor(c, quiet, NULL);
	}
	for (int i = 0; i < h.n_dbs; i++) {
		keep_written_db(&h.dbs[i]);
		if (c && PQstatus(c) == CONNECTION_OK) {
			/* FORCE terminates the backends still connected to it */
			PGresult *r;
			snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
				 h.dbs[i].name);
			r = PQexec(c, sql);
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				fprintf(stderr, "harness: %s: %s", sql, PQresultErrorMessage(r));
			PQclear(r);
		}
		free(h.dbs[i].conninfo);
		h.dbs[i].conninfo = NULL;
	}
	h.n_dbs = 0;
	PQfinish(c);

	if (h.init) {
		keep_written_logs();
		nftw(h.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		curl_global_cleanup();
		h.init = false;
	}
}
