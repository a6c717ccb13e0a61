/*
 * The live views in a real terminal: cbq top, submit --wait and wait run
 * in tmux panes (a tmux server of the test's own, on a socket in a temp
 * dir) against cbqd and cbq-awssim playing the demo scenario
 * (deploy/demo/scenario.json, inventory_source = ec2) on a scaled clock.
 * Checked: top draws blocks and the queue on the alternate screen, quits
 * on q with 0 and gives the screen back; submit --wait shows the job
 * queued with its position and ETA and exits 0 once it runs; wait on a
 * job cancelled meanwhile exits 5; top --once without a terminal prints a
 * snapshot; why gives the numbers.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "awspeer.h"
#include "harness.h"

#define BLOCK_C "cr-0c000000000000003" /* p4d, 4 instances, shared with speech and nlp */
#define SPEECH "222200000001"
#define NLP "333300000001"
#define AMI "ami-0a1b2c3d4e5f60718"
#define WAIT_MS 20000

static char tmux_bin[512];
static char tmux_dir[128];
static char tmux_sock[192];
static pid_t tmux_pid;

static void fini(void)
{
	if (tmux_sock[0]) {
		const char *argv[] = { tmux_bin, "-S", tmux_sock, "kill-server", NULL };
		static const char *const windows[] = { "sw", "ttop", "wt" };
		char path[256];

		h_run(argv, NULL, NULL, NULL);
		if (tmux_pid > 0)
			kill(tmux_pid, SIGKILL); /* in case kill-server could not reach it */
		unlink(tmux_sock);
		for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s.rc", tmux_dir, windows[i]);
			unlink(path);
		}
		rmdir(tmux_dir);
	}
	h_cleanup();
}

TestSuite(live, .fini = fini, .timeout = 120);

static bool find_tmux(void)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;
	bool found = false;

	if (!path)
		return false;
	copy = strdup(path);
	for (char *dir = strtok_r(copy, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(tmux_bin, sizeof(tmux_bin), "%s/tmux", dir);
		found = access(tmux_bin, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* tmux -S sock ARGS... (NULL-ended); returns its stdout (malloc'd) and
 * fails the test when tmux does. */
static char *tmux(const char *first, ...)
{
	const char *argv[32] = { tmux_bin, "-S", tmux_sock, "-f", "/dev/null" };
	int n = 5, rc;
	char *out = NULL, *err = NULL;
	va_list ap;

	argv[n++] = first;
	va_start(ap, first);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 31;)
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	rc = h_run(argv, NULL, &out, &err);
	cr_assert_eq(rc, 0, "tmux %s failed (%d): %s", first, rc, err);
	free(err);
	return out;
}

/* What window name shows now, with its history: tmux's "Pane is dead"
 * line at the bottom scrolls the top line away. */
static char *capture(const char *name)
{
	return tmux("capture-pane", "-p", "-S", "-", "-t", name, NULL);
}

/* "#{...}" of window name. */
static char *pane_format(const char *name, const char *format)
{
	char *v = tmux("display-message", "-p", "-t", name, format, NULL);
	char *nl = strchr(v, '\n');

	if (nl)
		*nl = '\0';
	return v;
}

/* Waits until the capture of window name holds every NULL-ended needle. */
static char *wait_screen(const char *name, int timeout_ms, ...)
{
	for (int waited = 0;; waited += 100) {
		char *screen = capture(name);
		bool all = true;
		va_list ap;

		va_start(ap, timeout_ms);
		for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
			all = all && strstr(screen, s);
		va_end(ap);
		if (all)
			return screen;
		if (waited >= timeout_ms)
			cr_assert_fail("window %s never showed what was expected; it shows:\n%s",
				       name, screen);
		free(screen);
		h_sleep_ms(100);
	}
}

/* The file in_window's shell writes the exit status of window name to. */
static void rc_path(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s.rc", tmux_dir, strchr(name, ':') + 1);
}

/*
 * Waits for the cbq in window name to exit; returns its exit status. Read
 * from a file the pane's shell writes, not #{pane_dead_status}: tmux 3.3
 * sometimes never learns the status of a pane's process.
 */
static int wait_exit(const char *name, int timeout_ms)
{
	char path[256];

	rc_path(name, path, sizeof(path));
	for (int waited = 0;; waited += 100) {
		FILE *f = fopen(path, "r");
		int status = -1;

		if (f) {
			if (fscanf(f, "%d", &status) != 1)
				status = -1;
			fclose(f);
		}
		if (status >= 0) {
			h_sleep_ms(400); /* the shell lingers 0.3 s; let tmux read the rest */
			return status;
		}
		if (waited >= timeout_ms) {
			char *screen = capture(name);
			cr_assert_fail("window %s did not exit; it shows:\n%s", name, screen);
		}
		h_sleep_ms(100);
	}
}

/* Runs cbq as account with args in a new tmux window called name. */
static void in_window(const struct h_cbqd *d, const char *name, const char *account,
		      const char *args)
{
	char cmd[2048];

	char rc_file[256];

	/* the shell notes cbq's exit status and lingers a moment, so that tmux
	 * reads cbq's last output before the pane is dead */
	rc_path(name, rc_file, sizeof(rc_file));
	snprintf(cmd, sizeof(cmd),
		 "%s/cbq --server %s --ca %s --account %s %s; echo $? >%s.tmp; mv %s.tmp %s; "
		 "sleep 0.3",
		 getenv("CBQ_BIN"), d->url, h_cert("ca.pem"), account, args, rc_file, rc_file,
		 rc_file);
	/* windows are named in the target form "live:NAME" */
	free(tmux("new-window", "-d", "-t", "live:", "-n", strchr(name, ':') + 1, cmd, NULL));
}

static long submit(const struct h_cbqd *d, const char *account, const char *name, const char *count,
		   const char *duration)
{
	return h_submit(d, account, "--name", name, "--kind", "inference", "--instance-type",
			"p4d.24xlarge", "--count", count, "--duration", duration, "--image-id", AMI,
			NULL);
}

static long job_id(const char *db, const char *name)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT id FROM jobs WHERE name = '%s'", name);
	char *v = h_sql_value(db, sql);
	cr_assert(v, "no job %s", name);
	long id = strtol(v, NULL, 10);
	free(v);
	return id;
}

Test(live, top_wait_and_why_in_a_terminal)
{
	char clock[128], sql[256], idtext[24], args[512];
	const char *db = h_db_create();

	if (!find_tmux())
		cr_skip_test("tmux is not installed (deploy/install-deps installs it)");

	/* the demo's AWS, a simulated minute per real second from Monday 06:00 */
	snprintf(clock, sizeof(clock), "scaled:60,epoch=2026-11-23T06:00:00Z,origin=%lld",
		 (long long)time(NULL));
	struct h_proc *sim = h_awssim_start(h_test_file("../deploy/demo/scenario.json"), clock);
	setenv("AWS_ENDPOINT_URL", sim->url, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIADEMOCBQBROKER001", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "demoBrokerSecretKeyNotARealKey0000000001", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	h_sql(db, "INSERT INTO teams (name, priority) VALUES ('vision', 10), ('speech', 0),"
		  " ('nlp', 0);"
		  "INSERT INTO accounts (account_id, team, role_arn, external_id) VALUES"
		  " ('111100000001', 'vision', 'arn:aws:iam::111100000001:role/cbq-launcher',"
		  "  'demo-vision'),"
		  " ('222200000001', 'speech', 'arn:aws:iam::222200000001:role/cbq-launcher',"
		  "  'demo-speech'),"
		  " ('333300000001', 'nlp', 'arn:aws:iam::333300000001:role/cbq-launcher',"
		  "  'demo-nlp');");
	const char *cbqd_args[] = { "--clock",
				    clock,
				    "--inventory-source",
				    "ec2",
				    "--inventory-roles",
				    "arn:aws:iam::999900000000:role/cbq-inventory",
				    "--inventory-external-id",
				    "demo-inventory",
				    "--inventory-interval-s",
				    "30",
				    NULL };
	struct h_cbqd *d = h_cbqd_start(db, cbqd_args);
	h_sql_wait(db, "SELECT count(*) FROM blocks", "3", WAIT_MS);

	/* our own tmux server: 160 x 50, panes stay after their command exits */
	snprintf(tmux_dir, sizeof(tmux_dir), "/tmp/cbq-live.XXXXXX");
	cr_assert(mkdtemp(tmux_dir), "mkdtemp");
	snprintf(tmux_sock, sizeof(tmux_sock), "%s/tmux.sock", tmux_dir);
	free(tmux("new-session", "-d", "-s", "live", "-x", "160", "-y", "50", "sleep 600", NULL));
	free(tmux("set-option", "-g", "remain-on-exit", "on", NULL));
	char *pid = tmux("display-message", "-p", "#{pid}", NULL);
	tmux_pid = (pid_t)atol(pid);
	free(pid);

	/* nlp fills block C; what speech submits next has to wait for it */
	long fill = submit(d, NLP, "fill-c", "4", "4h");
	snprintf(sql, sizeof(sql), "SELECT state FROM jobs WHERE id = %ld", fill);
	h_sql_wait(db, sql, "running", WAIT_MS);
	h_sql_wait(db, "SELECT available FROM blocks WHERE id = '" BLOCK_C "'", "0", WAIT_MS);

	/* submit --wait: queued with a position and an ETA ... */
	snprintf(args, sizeof(args),
		 "submit --wait --interval 0.3s --name waiter --kind inference --instance-type "
		 "p4d.24xlarge --count 2 --duration 1h --image-id %s",
		 AMI);
	in_window(d, "live:sw", SPEECH, args);
	free(wait_screen("live:sw", WAIT_MS, "queued #1 of 1, ETA ", NULL));
	long waiter = job_id(db, "waiter");

	/* why: the numbers */
	snprintf(idtext, sizeof(idtext), "%ld", waiter);
	char *why = NULL;
	cr_assert_eq(h_cbq(d, SPEECH, &why, "why", idtext, NULL), 0, "why: %s", why);
	cr_assert(strstr(why, "is #1 of 1 in the queue"), "why: %s", why);
	cr_assert(strstr(why, "2 \xc3\x97 p4d.24xlarge for 1h"), "why: %s", why);
	cr_assert(strstr(why, "expected to start at"), "why: %s", why);
	/* relative times come from cbqd's (scaled) clock, not this machine's */
	cr_assert(strstr(why, "(in ") && !strstr(why, " ago"), "why: %s", why);
	cr_assert(strstr(why, BLOCK_C " 0 of 4 available until the"), "why: %s", why);
	free(why);

	/* top on a terminal: blocks and the queue on the alternate screen, q quits */
	in_window(d, "live:ttop", SPEECH, "top --interval 0.5s");
	free(wait_screen("live:ttop", WAIT_MS, "BLOCKS (3)", BLOCK_C, "QUEUE", idtext, "RUNNING",
			 NULL));
	char *alt = pane_format("live:ttop", "#{alternate_on}");
	cr_assert_str_eq(alt, "1", "top draws on the alternate screen");
	free(alt);
	free(tmux("send-keys", "-t", "live:ttop", "q", NULL));
	cr_assert_eq(wait_exit("live:ttop", 5000), 0, "top exits 0 on q");
	alt = pane_format("live:ttop", "#{alternate_on}");
	cr_assert_str_eq(alt, "0", "top gives the main screen back");
	free(alt);
	char *after = capture("live:ttop");
	cr_assert(!strstr(after, "BLOCKS"), "nothing of top is left on the main screen:\n%s",
		  after);
	free(after);

	/* top without a terminal: one snapshot */
	char *snap = NULL;
	cr_assert_eq(h_cbq(d, SPEECH, &snap, "top", NULL), 0, "top: %s", snap);
	cr_assert(strstr(snap, "BLOCKS (3)") && strstr(snap, BLOCK_C), "%s", snap);
	cr_assert(strstr(snap, "QUEUE (1 of your team's; 1 queued in all)"), "%s", snap);
	cr_assert(strstr(snap, idtext) && strstr(snap, "RUNNING (0)"), "%s", snap);
	cr_assert(!strstr(snap, "\x1b["), "no escape sequences without a terminal:\n%s", snap);
	free(snap);

	/* wait on a job cancelled meanwhile: exit 5 */
	long doomed = submit(d, SPEECH, "doomed", "4", "1h");
	snprintf(idtext, sizeof(idtext), "%ld", doomed);
	snprintf(args, sizeof(args), "wait --interval 0.3s %ld", doomed);
	in_window(d, "live:wt", SPEECH, args);
	free(wait_screen("live:wt", WAIT_MS, "queued #2 of 2", NULL));
	char *out = NULL;
	cr_assert_eq(h_cbq(d, SPEECH, &out, "cancel", idtext, NULL), 0, "cancel: %s", out);
	free(out);
	cr_assert_eq(wait_exit("live:wt", WAIT_MS), 5, "wait exits 5 for a cancelled job");
	free(wait_screen("live:wt", 0, "cancelled", NULL));

	/* room on block C: the waiter runs and submit --wait exits 0 */
	snprintf(idtext, sizeof(idtext), "%ld", fill);
	cr_assert_eq(h_cbq(d, NLP, &out, "cancel", idtext, NULL), 0, "cancel: %s", out);
	free(out);
	cr_assert_eq(wait_exit("live:sw", 40000), 0, "submit --wait exits 0 once the job runs");
	free(wait_screen("live:sw", 0, "running on " BLOCK_C, NULL));
	(void)sim;
}
