/*
 * cbqd's configuration: one struct built from defaults, then the config
 * file, then flags, validated as a whole. Every key of the file is also a
 * flag (`tls_cert = x` ⇔ `--tls-cert x`); deploy/cbqd.conf.example documents
 * them all.
 */
#ifndef CBQ_APP_H
#define CBQ_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct cbqd_config {
	char db[1024];          /* libpq conninfo; "" = PG* environment */
	char listen[256];
	char tls_cert[512];
	char tls_key[512];
	char client_ca[512];    /* "" = no client certificates */
	bool insecure_dev_auth;
	char clock[128];
	char log_level[16];
	int db_pool_size;
	int db_queue_max;
	int submit_batch_max;   /* submits stored in one statement (group commit) */
	long max_body_bytes;
	long max_header_bytes;
	int idle_timeout_s;     /* keep-alive with no request; a stalled write */
	int request_timeout_s;  /* a request's headers and body, TLS handshake included */
	int max_connections;
	int rate_per_team;      /* requests/s sustained per team; 0 = off */
	int rate_burst_per_team;
	int drain_timeout_s;
	/* where blocks come from: "static" (cbqd admin block add) or "ec2" */
	char inventory_source[8];
	char inventory_roles[8192];	   /* comma-separated owner read-role ARNs */
	char inventory_external_id[1225]; /* for those roles; "" = none */
	int inventory_interval_s;
	/* IAM identity (cbq signs sts:GetCallerIdentity): "" = off */
	char iam_server_id[256];
	char iam_sts_endpoint[512]; /* "" = real AWS STS hosts only */
	int iam_max_inflight;	    /* STS calls at once; over it 503 */
};

enum { CBQD_INVENTORY_ROLES_MAX = 32 };

void cbqd_config_defaults(struct cbqd_config *cfg);
/* Sets one key from text; CBQ_ERR_INVALID naming the key when unknown or bad. */
enum cbq_err cbqd_config_set(struct cbqd_config *cfg, const char *key, const char *value,
			     struct cbq_error *err) CBQ_MUST_CHECK;
/* Checks what no single key can: inventory_source = ec2 needs
 * inventory_roles. CBQ_ERR_INVALID naming the key. */
enum cbq_err cbqd_config_check(const struct cbqd_config *cfg, struct cbq_error *err) CBQ_MUST_CHECK;
/* Reads `key = value` lines (# comments); errors name file:line. */
enum cbq_err cbqd_config_load(struct cbqd_config *cfg, const char *path,
			      struct cbq_error *err) CBQ_MUST_CHECK;
/* Every key, in documentation order (NULL-terminated). */
extern const char *const cbqd_config_keys[];

/* `cbqd serve`: returns the process exit code. */
int cbqd_serve_main(int argc, char **argv);

#endif
