/*
 * The broker's own credential chain for aws_config_resolve() (config.h): env
 * keys, a profile's role_arn chain, static keys in either file, IMDS settings
 * and an error for each source not supported yet; copying and freeing plans.
 * It only describes a plan (creds.c gets credentials); pure like config.c.
 */
#include "aws/config.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/config_internal.h"
#include "aws/ini.h"
#include "aws/xml.h" /* aws_parse_time */

const char *aws_creds_kind_name(enum aws_creds_kind k)
{
	switch (k) {
	case AWS_CREDS_NONE: return "none";
	case AWS_CREDS_STATIC: return "static";
	case AWS_CREDS_ASSUME_ROLE: return "assume_role";
	case AWS_CREDS_IMDS: return "imds";
	}
	return "?";
}

/* ---- small helpers */

/* snprintf that says whether it fitted; a source label may be cut. */
static bool fmt_fits(char *dst, size_t size, const char *fmt, ...) CBQ_PRINTF(3, 4);
static bool fmt_fits(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

/* s is min..max bytes of [A-Za-z0-9_] and the extra characters (STS's
 * patterns for session names and external ids). */
static bool word(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char ch = s[n];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || strchr(extra, ch)))
			return false;
	}
	return n >= min && n <= max;
}

/* ---- the sources */

static enum cbq_err unsupported(const struct aws_cfg_ctx *c, const char *what)
{
	return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
			"%s: cbqd does not support these credentials yet; use environment keys, "
			"a profile with keys or role_arn, or instance metadata",
			what);
}

/* Fills a STATIC plan; names (variables or "profile x key (...)") go into
 * messages, values never do. */
static enum cbq_err set_static(const struct aws_cfg_ctx *c, struct aws_creds_plan *out,
			       const char *id, const char *id_name, const char *secret,
			       const char *secret_name, const char *token, const char *token_name)
{
	const char *bad = NULL;

	if (strlen(id) > AWS_CONFIG_MAX_KEY || !aws_cfg_graphic(id))
		bad = id_name;
	else if (strlen(secret) > AWS_CONFIG_MAX_KEY || !aws_cfg_graphic(secret))
		bad = secret_name;
	else if (token && (strlen(token) > AWS_CONFIG_MAX_TOKEN || !aws_cfg_graphic(token)))
		bad = token_name;
	if (bad)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"%s is too long or holds spaces or control characters", bad);
	out->kind = AWS_CREDS_STATIC;
	aws_cfg_put(out->access_key_id, sizeof(out->access_key_id), id);
	aws_cfg_put(out->secret_access_key, sizeof(out->secret_access_key), secret);
	cbq_wipe_free(out->session_token);
	out->session_token = token ? cbq_xstrdup(token) : NULL;
	return CBQ_OK;
}

/* AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ token, expiration). */
static enum cbq_err env_keys(const struct aws_cfg_ctx *c, struct aws_creds_plan *out, bool *found,
			     const char *source)
{
	const char *id = aws_cfg_getv(c, "AWS_ACCESS_KEY_ID"),
		   *sk = aws_cfg_getv(c, "AWS_SECRET_ACCESS_KEY");
	const char *token_name = "AWS_SECURITY_TOKEN", *token = aws_cfg_getv(c, token_name);
	enum cbq_err rc;

	*found = false;
	if (!id && !sk)
		return CBQ_OK;
	if (!id || !sk)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"%s is set but %s is not: set both, or neither",
				id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
				id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (!token)
		token = aws_cfg_getv(c, token_name = "AWS_SESSION_TOKEN");
	if ((rc = set_static(c, out, id, "AWS_ACCESS_KEY_ID", sk, "AWS_SECRET_ACCESS_KEY", token,
			     token_name)))
		return rc;
	const char *exp = aws_cfg_getv(c, "AWS_CREDENTIAL_EXPIRATION");
	int64_t secs;
	if (exp && !aws_parse_time(exp, &secs))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time like "
				"2026-05-16T23:00:20Z");
	out->expires = exp ? secs * 1000 : 0;
	aws_cfg_put(out->source, sizeof(out->source), source);
	*found = true;
	return CBQ_OK;
}

/* Static keys of one file's section of profile p. */
static enum cbq_err file_keys(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			      bool in_cred, struct aws_creds_plan *out, bool *found)
{
	const struct aws_ini *ini = in_cred ? &c->cred : &c->cfg;
	const struct aws_ini_section *s = in_cred ? p->cred : p->cfg;
	const char *file = in_cred ? "credentials" : "config";
	const struct aws_ini_kv *id = aws_ini_find(ini, s, "aws_access_key_id");
	const struct aws_ini_kv *sk = aws_ini_find(ini, s, "aws_secret_access_key");
	const struct aws_ini_kv *tok = aws_ini_find(ini, s, "aws_security_token");
	char names[3][160];
	enum cbq_err rc;

	*found = false;
	if (id && !*id->value)
		id = NULL;
	if (sk && !*sk->value)
		sk = NULL;
	if (!id && !sk)
		return CBQ_OK;
	if (!id || !sk) {
		const struct aws_ini_kv *has = id ? id : sk;
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"profile %.64s (%s file line %d) has %s but not %s: set both, or "
				"neither",
				p->name, file, has->line,
				id ? "aws_access_key_id" : "aws_secret_access_key",
				id ? "aws_secret_access_key" : "aws_access_key_id");
	}
	if (!tok || !*tok->value)
		tok = aws_ini_find(ini, s, "aws_session_token");
	if (tok && !*tok->value)
		tok = NULL;
	snprintf(names[0], sizeof(names[0]), "profile %.64s aws_access_key_id (%s file line %d)",
		 p->name, file, id->line);
	snprintf(names[1], sizeof(names[1]),
		 "profile %.64s aws_secret_access_key (%s file line %d)", p->name, file, sk->line);
	snprintf(names[2], sizeof(names[2]), "profile %.64s %s (%s file line %d)", p->name,
		 tok ? tok->key : "", file, tok ? tok->line : 0);
	if ((rc = set_static(c, out, id->value, names[0], sk->value, names[1],
			     tok ? tok->value : NULL, names[2])))
		return rc;
	if (!fmt_fits(out->source, sizeof(out->source), "profile %s (%s file)", p->name, file))
		fmt_fits(out->source, sizeof(out->source), "profile %.40s... (%s file)", p->name,
			 file);
	*found = true;
	return CBQ_OK;
}

/* botocore's profile-scoped providers after assume-role, in order: web
 * identity, SSO, credentials file, credential_process, config file. */
static enum cbq_err profile_providers(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				      struct aws_creds_plan *out, bool *found)
{
	char what[200];
	enum cbq_err rc;

	*found = false;
	if (aws_cfg_prof_get(c, p, "web_identity_token_file"))
		return unsupported(c, aws_cfg_where(c, p, "web_identity_token_file", what,
						    sizeof(what)));
	if (aws_cfg_prof_get(c, p, "sso_start_url"))
		return unsupported(c, aws_cfg_where(c, p, "sso_start_url", what, sizeof(what)));
	if (aws_cfg_prof_get(c, p, "sso_session"))
		return unsupported(c, aws_cfg_where(c, p, "sso_session", what, sizeof(what)));
	if (p->cred && ((rc = file_keys(c, p, true, out, found)) || *found))
		return rc;
	if (aws_cfg_prof_get(c, p, "credential_process"))
		return unsupported(c,
				   aws_cfg_where(c, p, "credential_process", what, sizeof(what)));
	if (p->cfg && ((rc = file_keys(c, p, false, out, found)) || *found))
		return rc;
	return CBQ_OK;
}

static enum cbq_err imds_plan(const struct aws_cfg_ctx *c, struct aws_creds_plan *out)
{
	const struct aws_cfg_prof *p = c->top;
	char src[160];
	const char *v;
	int n;
	enum cbq_err rc;

	out->kind = AWS_CREDS_IMDS;
	aws_cfg_put(out->source, sizeof(out->source), "imds");
	v = aws_cfg_setting(c, p, "AWS_EC2_METADATA_SERVICE_ENDPOINT",
			    "ec2_metadata_service_endpoint", src, sizeof(src));
	if (v) {
		char host[256];
		if ((rc = aws_cfg_parse_url(c, v, src, "aws.imds", sizeof(out->imds_endpoint) - 1,
					    out->imds_endpoint, sizeof(out->imds_endpoint), host,
					    sizeof(host))))
			return rc;
	} else {
		v = aws_cfg_setting(c, p, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
				    "ec2_metadata_service_endpoint_mode", src, sizeof(src));
		if (v && strcasecmp(v, "ipv4") != 0 && strcasecmp(v, "ipv6") != 0)
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.imds",
					"%s must be ipv4 or ipv6", src);
		aws_cfg_put(out->imds_endpoint, sizeof(out->imds_endpoint),
			    v && strcasecmp(v, "ipv6") == 0 ? "http://[fd00:ec2::254]" :
							      "http://169.254.169.254");
	}
	out->imds_timeout_ms = 1000;
	v = aws_cfg_setting(c, p, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", src,
			    sizeof(src));
	if (v && !aws_cfg_parse_int(v, 1, 300, &n))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.imds",
				"%s must be whole seconds from 1 to 300", src);
	if (v)
		out->imds_timeout_ms = n * 1000L;
	out->imds_attempts = 1;
	v = aws_cfg_setting(c, p, "AWS_METADATA_SERVICE_NUM_ATTEMPTS",
			    "metadata_service_num_attempts", src, sizeof(src));
	if (v && !aws_cfg_parse_int(v, 1, 10, &out->imds_attempts))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.imds",
				"%s must be a whole number from 1 to 10", src);
	out->imds_v1_disabled =
		aws_cfg_is_true(aws_cfg_setting(c, p, "AWS_EC2_METADATA_V1_DISABLED",
						"ec2_metadata_v1_disabled", src, sizeof(src)));
	return CBQ_OK;
}

/* ---- roles: role_arn and its source, a chain of at most AWS_CONFIG_MAX_CHAIN */

static bool has_static(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p)
{
	return aws_cfg_prof_get(c, p, "aws_access_key_id") ||
	       aws_cfg_prof_get(c, p, "aws_secret_access_key");
}

static bool visited(const struct aws_cfg_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n_visited; i++)
		if (strcmp(c->visited[i], name) == 0)
			return true;
	return false;
}

static enum cbq_err assume_role(struct aws_cfg_ctx *c, const struct aws_cfg_prof *p, int depth,
				struct aws_creds_plan *out);

/* The credentials a role is assumed with (credential_source or
 * source_profile), into a new *src. */
static enum cbq_err role_source(struct aws_cfg_ctx *c, const struct aws_cfg_prof *p, int depth,
				const char *cs, const char *sp, struct aws_creds_plan *src)
{
	char what[200];
	bool found;
	enum cbq_err rc;

	if (cs) {
		aws_cfg_where(c, p, "credential_source", what, sizeof(what));
		if (strcmp(cs, "Environment") == 0) {
			if ((rc = env_keys(c, src, &found, "env (credential_source)")))
				return rc;
			if (!found)
				return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
						"%s is Environment but AWS_ACCESS_KEY_ID and "
						"AWS_SECRET_ACCESS_KEY are not set",
						what);
			return CBQ_OK;
		}
		if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
			if (aws_cfg_is_true(aws_cfg_getv(c, "AWS_EC2_METADATA_DISABLED")))
				return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
						"%s is Ec2InstanceMetadata but "
						"AWS_EC2_METADATA_DISABLED is true",
						what);
			return imds_plan(c, src);
		}
		if (strcmp(cs, "EcsContainer") == 0)
			return unsupported(c, what);
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"%s must be Environment, Ec2InstanceMetadata or EcsContainer",
				what);
	}

	struct aws_cfg_prof sprof;
	aws_cfg_where(c, p, "source_profile", what, sizeof(what));
	if (!aws_cfg_find_profile(c, sp, &sprof))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s names profile %.64s, which does not exist", what, sp);
	/* A profile may name itself only to use its own static keys. */
	if (visited(c, sp) && (strcmp(sp, p->name) != 0 || !has_static(c, &sprof)))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s makes a loop of source profiles", what);
	if (c->n_visited < sizeof(c->visited) / sizeof(c->visited[0]))
		c->visited[c->n_visited++] = sp;
	if (has_static(c, &sprof) || !aws_cfg_prof_get(c, &sprof, "role_arn") ||
	    aws_cfg_prof_get(c, &sprof, "web_identity_token_file")) {
		if ((rc = profile_providers(c, &sprof, src, &found)))
			return rc;
		if (!found)
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
					"%s: source profile %.64s has no credentials", what, sp);
		return CBQ_OK;
	}
	return assume_role(c, &sprof, depth + 1, src);
}

static enum cbq_err assume_role(struct aws_cfg_ctx *c, const struct aws_cfg_prof *p, int depth,
				struct aws_creds_plan *out)
{
	char what[200];
	const char *role = aws_cfg_prof_get(c, p, "role_arn");
	const char *cs = aws_cfg_prof_get(c, p, "credential_source");
	const char *sp = aws_cfg_prof_get(c, p, "source_profile");
	const char *v;
	enum cbq_err rc;

	if (depth >= AWS_CONFIG_MAX_CHAIN)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"profile %.64s: more than %d roles in a source_profile chain",
				p->name, AWS_CONFIG_MAX_CHAIN);
	if (aws_cfg_prof_get(c, p, "mfa_serial"))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s: a role that needs an MFA code is not possible for a daemon; "
				"use a role without mfa_serial",
				aws_cfg_where(c, p, "mfa_serial", what, sizeof(what)));
	if (cs && sp)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"profile %.64s has both source_profile and credential_source; "
				"role_arn needs exactly one",
				p->name);
	if (!cs && !sp)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"profile %.64s has role_arn but neither source_profile nor "
				"credential_source",
				p->name);
	if (strlen(role) < 20 || strlen(role) > 2048 || strncmp(role, "arn:", 4) != 0 ||
	    !aws_cfg_graphic(role))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
				aws_cfg_where(c, p, "role_arn", what, sizeof(what)));
	out->kind = AWS_CREDS_ASSUME_ROLE;
	aws_cfg_put(out->role_arn, sizeof(out->role_arn), role);
	if ((v = aws_cfg_prof_get(c, p, "external_id"))) {
		if (!word(v, 2, 1224, "+=,.@:/-"))
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
					"%s must be 2 to 1224 letters, digits and _+=,.@:/-",
					aws_cfg_where(c, p, "external_id", what, sizeof(what)));
		aws_cfg_put(out->external_id, sizeof(out->external_id), v);
	}
	if ((v = aws_cfg_prof_get(c, p, "role_session_name"))) {
		if (!word(v, 2, 64, "+=,.@-"))
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
					"%s must be 2 to 64 letters, digits and _+=,.@-",
					aws_cfg_where(c, p, "role_session_name", what,
						      sizeof(what)));
		aws_cfg_put(out->session_name, sizeof(out->session_name), v);
	}
	if ((v = aws_cfg_prof_get(c, p, "duration_seconds")) &&
	    !aws_cfg_parse_int(v, 900, 43200, &out->duration_seconds))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s must be whole seconds from 900 to 43200",
				aws_cfg_where(c, p, "duration_seconds", what, sizeof(what)));
	if (!fmt_fits(out->source, sizeof(out->source), "profile %s (assume role)", p->name))
		fmt_fits(out->source, sizeof(out->source), "profile %.40s... (assume role)",
			 p->name);

	out->source_plan = calloc(1, sizeof(*out->source_plan));
	if (!out->source_plan)
		abort();
	if ((rc = role_source(c, p, depth, cs, sp, out->source_plan)))
		return rc;
	return CBQ_OK;
}

/* ---- the chain, first found wins */

enum cbq_err aws_cfg_resolve_creds(struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				   const char *profile, struct aws_creds_plan *out)
{
	char what[200];
	bool found;
	enum cbq_err rc;

	/* 1. environment keys, even when a profile is named (AWS.md §10.1) */
	if ((rc = env_keys(c, out, &found, "env")) || found)
		return rc;
	/* 2. the profile's role */
	if (p && aws_cfg_prof_get(c, p, "role_arn") &&
	    !aws_cfg_prof_get(c, p, "web_identity_token_file")) {
		c->visited[c->n_visited++] = p->name;
		return assume_role(c, p, 0, out);
	}
	/* 3. web identity, then the profile's other providers */
	if (aws_cfg_getv(c, "AWS_WEB_IDENTITY_TOKEN_FILE"))
		return unsupported(c, "AWS_WEB_IDENTITY_TOKEN_FILE (web identity)");
	if (p && ((rc = profile_providers(c, p, out, &found)) || found))
		return rc;
	/* 4. container credentials */
	if (aws_cfg_getv(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
		return unsupported(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (container)");
	if (aws_cfg_getv(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return unsupported(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI (container)");
	/* 5. instance metadata */
	if (aws_cfg_is_true(aws_cfg_getv(c, "AWS_EC2_METADATA_DISABLED"))) {
		snprintf(what, sizeof(what), "%s", p ? "" : " (which does not exist)");
		return cbq_fail(c->err, CBQ_ERR_NOT_FOUND, "aws.credentials",
				"no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), "
				"none in profile %.64s%s, and instance metadata is off "
				"(AWS_EC2_METADATA_DISABLED=true)",
				profile, what);
	}
	return imds_plan(c, out);
}

/* ---- plans */

void aws_creds_plan_free(struct aws_creds_plan *p)
{
	if (!p)
		return;
	if (p->source_plan) {
		aws_creds_plan_free(p->source_plan);
		free(p->source_plan);
	}
	cbq_wipe_free(p->session_token);
	explicit_bzero(p, sizeof(*p));
}

void aws_creds_plan_copy(struct aws_creds_plan *dst, const struct aws_creds_plan *src)
{
	*dst = *src;
	dst->session_token = src->session_token ? cbq_xstrdup(src->session_token) : NULL;
	if (src->source_plan) {
		dst->source_plan = malloc(sizeof(*dst->source_plan));
		if (!dst->source_plan)
			abort();
		aws_creds_plan_copy(dst->source_plan, src->source_plan);
	}
}
