/*
 * cbqd configuration (see app.h): defaults, file, flags. Pure parsing; the
 * serve command decides what to do with the result.
 */
#include "app.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

enum key_type { K_STR, K_BOOL, K_INT, K_LONG };

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	size_t size;     /* strings: buffer size */
	long min, max;   /* numbers */
};

#define STR(n) { #n, K_STR, offsetof(struct cbqd_config, n), sizeof(((struct cbqd_config *)0)->n), 0, 0 }
#define NUM(n, t, lo, hi) { #n, t, offsetof(struct cbqd_config, n), 0, lo, hi }

static const struct key keys[] = {
	STR(db),
	STR(listen),
	STR(tls_cert),
	STR(tls_key),
	STR(client_ca),
	{ "insecure_dev_auth", K_BOOL, offsetof(struct cbqd_config, insecure_dev_auth), 0, 0, 0 },
	STR(clock),
	STR(log_level),
	NUM(db_pool_size, K_INT, 1, 64),
	NUM(db_queue_max, K_INT, 1, 1000000),
	NUM(submit_batch_max, K_INT, 1, 1024),
	NUM(max_body_bytes, K_LONG, 1024, 64L * 1024 * 1024),
	NUM(max_header_bytes, K_LONG, 1024, 1024L * 1024),
	NUM(idle_timeout_s, K_INT, 1, 3600),
	NUM(request_timeout_s, K_INT, 1, 3600),
	NUM(max_connections, K_INT, 1, 1000000),
	NUM(rate_per_team, K_INT, 0, 1000000),
	NUM(rate_burst_per_team, K_INT, 1, 1000000),
	NUM(drain_timeout_s, K_INT, 0, 3600),
	STR(inventory_source),
	STR(inventory_roles),
	STR(inventory_external_id),
	NUM(inventory_interval_s, K_INT, 5, 3600),
	STR(iam_server_id),
	STR(iam_sts_endpoint),
	NUM(iam_max_inflight, K_INT, 1, 4096),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

const char *const cbqd_config_keys[] = {
	"db", "listen", "tls_cert", "tls_key", "client_ca", "insecure_dev_auth", "clock",
	"log_level", "db_pool_size", "db_queue_max", "submit_batch_max", "max_body_bytes",
	"max_header_bytes", "idle_timeout_s", "request_timeout_s", "max_connections", "rate_per_team",
	"rate_burst_per_team", "drain_timeout_s", "inventory_source", "inventory_roles",
	"inventory_external_id", "inventory_interval_s", "iam_server_id", "iam_sts_endpoint",
	"iam_max_inflight", NULL,
};
static_assert(sizeof(cbqd_config_keys) / sizeof(cbqd_config_keys[0]) == NKEYS + 1,
	      "every key is listed");

void cbqd_config_defaults(struct cbqd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "127.0.0.1:8443");
	snprintf(cfg->clock, sizeof(cfg->clock), "real");
	snprintf(cfg->log_level, sizeof(cfg->log_level), "info");
	cfg->db_pool_size = 4;
	cfg->db_queue_max = 10000;
	/* as many as arrive while the last group commits, up to this */
	cfg->submit_batch_max = 256;
	cfg->max_body_bytes = 1024 * 1024;
	/* room for an IAM identity header (a signed STS request, ~12 KiB) and more */
	cfg->max_header_bytes = 32 * 1024;
	cfg->idle_timeout_s = 60;
	/* a request is small (1 MiB at most): 10 s is generous on a slow link
	 * and keeps one trickling client from holding a connection long */
	cfg->request_timeout_s = 10;
	/* far above what the CLIs of a few hundred users keep open; each needs
	 * a file descriptor (serve raises or warns about RLIMIT_NOFILE) */
	cfg->max_connections = 1024;
	/* A team's sweep of 10,000 submits goes through in under a minute at
	 * 200/s while the Postgres pool (each submit is one INSERT of ~1-2 ms,
	 * four connections: ~2,000/s for the whole broker) keeps most of its
	 * room for the other teams; the burst lets a script's first few hundred
	 * calls through at once. */
	cfg->rate_per_team = 200;
	cfg->rate_burst_per_team = 400;
	cfg->drain_timeout_s = 20;
	snprintf(cfg->inventory_source, sizeof(cfg->inventory_source), "static");
	cfg->inventory_interval_s = 60;
	cfg->iam_max_inflight = 64;
}

/* An IAM role ARN as accounts.role_arn accepts it. */
static bool is_role_arn(const char *s, size_t n)
{
	static const char acct_chars[] = "0123456789";
	const char *p = s, *end = s + n;

	if (n > 2048 || n < 8 || strncmp(p, "arn:aws", 7) != 0)
		return false;
	p += 7;
	while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '-'))
		p++;
	if (end - p < 6 || strncmp(p, ":iam::", 6) != 0)
		return false;
	p += 6;
	if (end - p < 13 || strspn(p, acct_chars) < 12 || p[12] != ':')
		return false;
	p += 13;
	if (end - p < 6 || strncmp(p, "role/", 5) != 0)
		return false;
	p += 5;
	for (; p < end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("+=,.@_/-", *p)))
			return false;
	return true;
}

/* Keys whose text has a form of its own. */
static enum cbq_err check_text(const char *name, const char *value, struct cbq_error *err)
{
	if (strcmp(name, "inventory_source") == 0 && strcmp(value, "static") != 0 &&
	    strcmp(value, "ec2") != 0)
		return cbq_fail(err, CBQ_ERR_INVALID, name, "%s must be static or ec2", name);
	if (strcmp(name, "inventory_roles") == 0) {
		int n = 0;
		for (const char *p = value; *p;) {
			size_t len = strcspn(p, ",");
			if (!is_role_arn(p, len))
				return cbq_fail(err, CBQ_ERR_INVALID, name,
						"%s: \"%.*s\" is not an IAM role ARN"
						" (arn:aws:iam::ACCOUNT:role/NAME)",
						name, (int)(len > 200 ? 200 : len), p);
			if (++n > CBQD_INVENTORY_ROLES_MAX)
				return cbq_fail(err, CBQ_ERR_INVALID, name, "%s: at most %d roles",
						name, CBQD_INVENTORY_ROLES_MAX);
			p += len + (p[len] == ',');
		}
	}
	if (strcmp(name, "iam_server_id") == 0 && *value) {
		for (const char *p = value; *p; p++)
			if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
				return cbq_fail(err, CBQ_ERR_INVALID, name,
						"%s must be visible ASCII without spaces, e.g. "
						"cbq.example.com",
						name);
	}
	if (strcmp(name, "iam_sts_endpoint") == 0 && *value &&
	    strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0)
		return cbq_fail(err, CBQ_ERR_INVALID, name,
				"%s must be an https:// URL (http:// only on loopback)", name);
	if (strcmp(name, "inventory_external_id") == 0 && *value &&
	    (strlen(value) < 2 ||
	     strspn(value,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+=,.@:/-") !=
		     strlen(value)))
		return cbq_fail(err, CBQ_ERR_INVALID, name,
				"%s must be 2..1224 of letters, digits and +=,.@:/-", name);
	return CBQ_OK;
}

enum cbq_err cbqd_config_check(const struct cbqd_config *cfg, struct cbq_error *err)
{
	if (strcmp(cfg->inventory_source, "ec2") == 0 && !cfg->inventory_roles[0])
		return cbq_fail(err, CBQ_ERR_INVALID, "inventory_roles",
				"inventory_source = ec2 needs inventory_roles: the read role of "
				"each account that owns Capacity Blocks");
	return CBQ_OK;
}

enum cbq_err cbqd_config_set(struct cbqd_config *cfg, const char *name, const char *value,
			     struct cbq_error *err)
{
	const struct key *k = NULL;
	char *base = (char *)cfg, *end;
	long v;

	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0)
			k = &keys[i];
	if (!k)
		return cbq_fail(err, CBQ_ERR_INVALID, name,
				"unknown setting %s; see deploy/cbqd.conf.example", name);
	switch (k->type) {
	case K_STR:
		if (strlen(value) >= k->size)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "%s is longer than %zu bytes",
					name, k->size - 1);
		enum cbq_err rc = check_text(name, value, err);
		if (rc != CBQ_OK)
			return rc;
		memcpy(base + k->offset, value, strlen(value) + 1);
		return CBQ_OK;
	case K_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
			*(bool *)(base + k->offset) = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
			 strcmp(value, "0") == 0)
			*(bool *)(base + k->offset) = false;
		else
			return cbq_fail(err, CBQ_ERR_INVALID, name, "%s must be true or false",
					name);
		return CBQ_OK;
	case K_INT:
	case K_LONG:
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || !*value || *end || v < k->min || v > k->max)
			return cbq_fail(err, CBQ_ERR_INVALID, name, "%s must be a number in %ld..%ld",
					name, k->min, k->max);
		if (k->type == K_INT)
			*(int *)(base + k->offset) = (int)v;
		else
			*(long *)(base + k->offset) = v;
		return CBQ_OK;
	}
	return CBQ_ERR_INTERNAL;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

enum cbq_err cbqd_config_load(struct cbqd_config *cfg, const char *path, struct cbq_error *err)
{
	FILE *f = fopen(path, "r");
	char line[2048];
	int lineno = 0;
	enum cbq_err rc = CBQ_OK;

	if (!f)
		return cbq_fail(err, CBQ_ERR_INVALID, "config", "cannot read config file %s: %s",
				path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq;
		struct cbq_error kerr;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = cbq_fail(err, CBQ_ERR_INVALID, "config", "%s:%d: line too long", path,
				      lineno);
			break;
		}
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			rc = cbq_fail(err, CBQ_ERR_INVALID, "config",
				      "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		if (cbqd_config_set(cfg, trim(s), trim(eq + 1), &kerr)) {
			rc = cbq_fail(err, CBQ_ERR_INVALID, kerr.field, "%s:%d: %s", path, lineno,
				      kerr.msg);
			break;
		}
	}
	fclose(f);
	return rc;
}
