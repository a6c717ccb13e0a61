/*
 * TLS on cbqd's API: a TLS 1.1 client is refused, and SIGHUP reloads the
 * server certificate, key and client CA for new connections while open
 * connections keep working; files that do not load leave the old ones in
 * use and say so in the log.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cbq/v1/cbq.pb-c.h"
#include "harness.h"
#include "tlsraw.h"

#define ALPHA "111111111111"

static char dir[64];
static char path_buf[4][256];

static void stop(void)
{
	h_cleanup();
	if (dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

TestSuite(tls_reload, .fini = stop, .timeout = 60);

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	cr_assert_eq(rc, 0, "command failed (%d): %s", rc, cmd);
}

/* dir/name, in one of four rotating buffers */
static const char *in_dir(const char *name)
{
	static int next;
	char *p = path_buf[next++ % 4];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

/*
 * In a fresh directory: server.pem/.key and client-ca.pem that cbqd serves
 * (copies of the test set), and for the swap: new-server.pem/.key (same test
 * CA, so clients still verify it), new-ca.pem with client-new.pem/.key for
 * account ALPHA.
 */
static void make_certs(void)
{
	const char *certs = getenv("CBQ_TEST_CERTS");

	cr_assert(certs, "run through tests/run (CBQ_TEST_CERTS)");
	snprintf(dir, sizeof(dir), "/tmp/cbq-tlsreload-XXXXXX");
	cr_assert(mkdtemp(dir));
	sh("set -e; cd '%s'; C='%s'\n"
	   "cp \"$C/server.pem\" server.pem; cp \"$C/server.key\" server.key\n"
	   "cp \"$C/ca.pem\" client-ca.pem\n"
	   "key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1\" 2>/dev/null; }\n"
	   "key new-server.key\n"
	   "printf '%%s\\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature"
	   " extendedKeyUsage=serverAuth subjectAltName=DNS:localhost,IP:127.0.0.1 >srv.ext\n"
	   "openssl req -new -key new-server.key -subj /CN=localhost 2>/dev/null |"
	   " openssl x509 -req -CA \"$C/ca.pem\" -CAkey \"$C/ca.key\" -CAcreateserial -CAserial ca.srl"
	   " -days 2 -extfile srv.ext -out new-server.pem 2>/dev/null\n"
	   "key new-ca.key\n"
	   "openssl req -x509 -new -key new-ca.key -out new-ca.pem -days 2 -subj '/CN=cbq reload test CA'"
	   " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
	   " 2>/dev/null\n"
	   "key client-new.key\n"
	   "printf '%%s\\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature"
	   " extendedKeyUsage=clientAuth >cli.ext\n"
	   "openssl req -new -key client-new.key -subj /CN=" ALPHA " 2>/dev/null |"
	   " openssl x509 -req -CA new-ca.pem -CAkey new-ca.key -CAcreateserial -CAserial new-ca.srl"
	   " -days 2 -extfile cli.ext -out client-new.pem 2>/dev/null\n",
	   dir, certs);
}

static struct h_cbqd *start(void)
{
	const char *db = h_db_create();
	static char cert[256], key[256], ca[256];
	const char *args[] = { "--tls-cert", cert, "--tls-key", key, "--client-ca", ca, NULL };

	h_seed_teams(db);
	make_certs();
	snprintf(cert, sizeof(cert), "%s", in_dir("server.pem"));
	snprintf(key, sizeof(key), "%s", in_dir("server.key"));
	snprintf(ca, sizeof(ca), "%s", in_dir("client-ca.pem"));
	return h_cbqd_start(db, args);
}

/* Waits until cbqd's log holds what (and returns the log, malloc'd). */
static char *wait_log(const struct h_cbqd *d, const char *what)
{
	long long deadline = t_now_ms() + 5000;

	for (;;) {
		char *log = h_file_tail(d->log_path, 1 << 16);
		if (strstr(log, what))
			return log;
		if (t_now_ms() > deadline)
			cr_assert_fail("no %s in the log of cbqd:\n%s", what, log);
		free(log);
		h_sleep_ms(50);
	}
}

static void sighup(const struct h_cbqd *d)
{
	cr_assert_eq(kill(d->pid, SIGHUP), 0);
}

/* whoami over t: the account, or "" when the call failed (status in *status) */
static void whoami(struct t_tls *t, const char *account, char *out, size_t size, long *status)
{
	struct t_reply r;
	Cbq__V1__WhoAmIReply *w = NULL;

	t_tls_get(t, "/v1/whoami", account, NULL, &r);
	*status = r.status;
	out[0] = '\0';
	if (r.status == 200)
		w = cbq__v1__who_am_ireply__unpack(NULL, r.len, r.body);
	if (w) {
		snprintf(out, size, "%s", w->account_id);
		cbq__v1__who_am_ireply__free_unpacked(w, NULL);
	}
	t_reply_free(&r);
}

Test(tls_reload, tls_1_1_client_is_refused)
{
	struct h_cbqd *d = h_cbqd_start(h_db_create(), NULL);
	struct t_tls *t =
		t_tls_open(d->port, &(struct t_tls_opts){ .max_version = TLS1_1_VERSION });

	cr_assert(t);
	cr_expect_eq(t_tls_handshake(t, 3000), -1, "a TLS 1.1 handshake was not refused");
	t_tls_close(t);
	/* the same client code at 1.2 gets in */
	t = t_tls_open(d->port, &(struct t_tls_opts){ .max_version = TLS1_2_VERSION });
	cr_assert(t);
	cr_expect_eq(t_tls_handshake(t, 3000), 1, "a TLS 1.2 handshake failed");
	t_tls_close(t);
}

Test(tls_reload, sighup_swaps_certificates_for_new_connections_only)
{
	struct h_cbqd *d = start();
	struct t_tls_opts new_client = { .cert = in_dir("client-new.pem"),
					 .key = in_dir("client-new.key") };
	struct t_tls *old_conn, *t;
	char fp_old[65], fp[65], fp_new_file[65], account[32], beta_cert[256], beta_key[256];
	long status;
	char *log;

	old_conn = t_tls_connect(d->port, NULL);
	t_tls_peer_fingerprint(old_conn, fp_old);
	whoami(old_conn, ALPHA, account, sizeof(account), &status);
	cr_assert_eq(status, 200);

	/* before: a client certificate from the new CA is not trusted */
	t = t_tls_open(d->port, &new_client);
	cr_assert(t);
	if (t_tls_handshake(t, 3000) == 1) {
		whoami(t, NULL, account, sizeof(account), &status);
		cr_assert_neq(status, 200, "new CA trusted before the reload");
	}
	t_tls_close(t);

	sh("set -e; cd '%s'; cat new-ca.pem >>client-ca.pem; mv new-server.key server.key;"
	   " mv new-server.pem server.pem",
	   dir);
	t_pem_fingerprint(in_dir("server.pem"), fp_new_file);
	cr_assert_str_neq(fp_new_file, fp_old);
	sighup(d);
	free(wait_log(d, "tls_reloaded"));

	/* the connection open across the reload keeps its session */
	whoami(old_conn, ALPHA, account, sizeof(account), &status);
	cr_expect_eq(status, 200, "keep-alive request after the reload");
	cr_expect_str_eq(account, ALPHA);

	/* a new connection sees the new certificate */
	t = t_tls_connect(d->port, NULL);
	t_tls_peer_fingerprint(t, fp);
	cr_expect_str_eq(fp, fp_new_file, "new connections still get the old certificate");
	t_tls_close(t);

	/* the new client CA is trusted, the old one still is (it is in the bundle) */
	t = t_tls_connect(d->port, &new_client);
	whoami(t, NULL, account, sizeof(account), &status);
	cr_expect_eq(status, 200);
	cr_expect_str_eq(account, ALPHA);
	t_tls_close(t);
	/* h_cert returns one static buffer */
	snprintf(beta_cert, sizeof(beta_cert), "%s", h_cert("client-222222222222.pem"));
	snprintf(beta_key, sizeof(beta_key), "%s", h_cert("client-222222222222.key"));
	t = t_tls_connect(d->port, &(struct t_tls_opts){ .cert = beta_cert, .key = beta_key });
	whoami(t, NULL, account, sizeof(account), &status);
	cr_expect_eq(status, 200);
	cr_expect_str_eq(account, "222222222222");
	t_tls_close(t);
	t_tls_close(old_conn);

	log = h_file_tail(d->log_path, 1 << 16);
	cr_expect(!strstr(log, "tls_reload_failed"), "log: %s", log);
	free(log);
}

Test(tls_reload, files_that_do_not_load_leave_the_old_certificate)
{
	struct h_cbqd *d = start();
	struct t_tls *t = t_tls_connect(d->port, NULL), *t2;
	char fp_old[65], fp[65];
	char *log;
	struct t_reply r;

	t_tls_peer_fingerprint(t, fp_old);

	/* a certificate that is not PEM */
	sh("cd '%s' && echo 'not a certificate' >server.pem", dir);
	sighup(d);
	log = wait_log(d, "tls_reload_failed");
	cr_expect(strstr(log, "setting=tls-cert") && strstr(log, in_dir("server.pem")),
		  "the failure does not name the file: %s", log);
	free(log);
	t2 = t_tls_connect(d->port, NULL);
	t_tls_peer_fingerprint(t2, fp);
	cr_expect_str_eq(fp, fp_old);
	t_tls_close(t2);

	/* a good certificate whose key does not match (a half-done rotation) */
	sh("cd '%s' && cp new-server.pem server.pem", dir);
	sighup(d);
	h_sleep_ms(300);
	log = wait_log(d, "setting=tls-key");
	cr_expect(strstr(log, in_dir("server.key")), "the failure does not name the key: %s", log);
	cr_expect(!strstr(log, "PRIVATE KEY") && !strstr(log, "tls_reloaded"), "log: %s", log);
	free(log);
	t2 = t_tls_connect(d->port, NULL);
	t_tls_peer_fingerprint(t2, fp);
	cr_expect_str_eq(fp, fp_old);
	t_tls_close(t2);

	/* and the connection from before still serves */
	t_tls_get(t, "/healthz", NULL, NULL, &r);
	cr_expect_eq(r.status, 200);
	t_reply_free(&r);
	t_tls_close(t);
}
