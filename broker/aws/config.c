/*
 * AWS settings resolution; see config.h. botocore's rules, including its
 * surprises (AWS_DEFAULT_PROFILE beats AWS_PROFILE, env keys beat a named
 * profile, the credentials file beats the config file, "[profile x]" only in
 * the config file). Pure: no getenv, no files, no clock, no logging.
 */
#include "aws/config.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/ini.h"
#include "aws/xml.h" /* aws_parse_time */

const char *aws_env_get(const struct aws_env *e, const char *name)
{
	const char *v;

	if (!e || !e->get || !(v = e->get(e->arg, name)) || !*v)
		return NULL;
	return v;
}

const char *aws_service_name(enum aws_service s)
{
	switch (s) {
	case AWS_SVC_EC2: return "ec2";
	case AWS_SVC_STS: return "sts";
	case AWS_SVC_RAM: return "ram";
	case AWS_SVC_ORGANIZATIONS: return "organizations";
	case AWS_SVC_COUNT: break;
	}
	return "?";
}

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

/* AWS_ENDPOINT_URL_<serviceId> and the key in a [services x] section. */
static const char *const svc_env[AWS_SVC_COUNT] = { "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS",
						    "AWS_ENDPOINT_URL_RAM",
						    "AWS_ENDPOINT_URL_ORGANIZATIONS" };

/* ---- small helpers */

/* Copies s (already checked to fit) into dst[size]. */
static void put(char *dst, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

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

/* Printable ASCII without spaces: what keys, ids and URLs may hold. */
static bool graphic(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e)
			return false;
	return true;
}

/* Printable ASCII, spaces allowed: profile names ("[profile \"my team\"]"). */
static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* "true" in any case, as botocore's ensure_boolean and the IMDS switch. */
static bool is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

static bool parse_int(const char *s, int min, int max, int *out)
{
	long v = 0;

	if (!s || !*s || strlen(s) > 9)
		return false;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
	}
	if (v < min || v > max)
		return false;
	*out = (int)v;
	return true;
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

/*
 * Python's shlex.split for section names: whitespace splits, '...' is
 * literal, "..." lets a backslash escape '"' and '\', a bare backslash
 * escapes the next character. Returns the number of words (stopping
 * at 3) and copies the second into second[size] (cut if longer), or -1
 * when the quoting is broken (botocore then skips the section).
 */
static int shlex_words(const char *s, char *second, size_t size)
{
	int n = 0;
	size_t len = 0;

	second[0] = '\0';
	while (*s && n < 3) {
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		if (!*s)
			break;
		n++;
		len = 0;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') {
			char ch;
			if (*s == '\'') {
				const char *e = strchr(s + 1, '\'');
				if (!e)
					return -1;
				for (s++; s < e; s++)
					if (n == 2 && len + 1 < size)
						second[len++] = *s;
				s++;
				continue;
			}
			if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					if (n == 2 && len + 1 < size)
						second[len++] = *s;
				}
				if (!*s)
					return -1;
				s++;
				continue;
			}
			if (*s == '\\') {
				if (!s[1])
					return -1;
				s++;
			}
			ch = *s++;
			if (n == 2 && len + 1 < size)
				second[len++] = ch;
		}
		if (n == 2)
			second[len] = '\0';
	}
	return n;
}

/* ---- the two files and merged profiles */

struct ctx {
	const struct aws_env *env;
	struct aws_ini cfg, cred;
	char cfg_name[AWS_CONFIG_MAX_PATH + 32], cred_name[AWS_CONFIG_MAX_PATH + 32];
	const struct prof *top; /* the profile in use (IMDS settings come from it), or NULL */
	const char *visited[AWS_CONFIG_MAX_CHAIN + 2];
	size_t n_visited;
	struct cbq_error *err;
};

/* A profile: its config-file section merged with its credentials-file
 * section, the credentials file winning (session.py full_config). */
struct prof {
	char name[AWS_CONFIG_MAX_PROFILE + 1];
	const struct aws_ini_section *cfg, *cred;
};

static const char *getv(const struct ctx *c, const char *name)
{
	return aws_env_get(c->env, name);
}

/* Section names of the config file that mean profile (or services) name:
 * "default" is profile default; "profile NAME" (any prefix "profile...",
 * split like a shell) is profile NAME; the last one in the file wins
 * (build_profile_map). */
static const struct aws_ini_section *cfg_section(const struct aws_ini *ini, const char *prefix,
						 const char *name)
{
	const struct aws_ini_section *found = NULL;
	char second[AWS_INI_MAX_SECTION + 1];

	for (size_t i = 0; i < ini->n_sections; i++) {
		const struct aws_ini_section *s = &ini->sections[i];
		if (strncmp(s->name, prefix, strlen(prefix)) == 0) {
			if (shlex_words(s->name, second, sizeof(second)) == 2 &&
			    strcmp(second, name) == 0)
				found = s;
		} else if (strcmp(prefix, "profile") == 0 && strcmp(s->name, "default") == 0 &&
			   strcmp(name, "default") == 0) {
			found = s;
		}
	}
	return found;
}

static bool find_profile(const struct ctx *c, const char *name, struct prof *p)
{
	if (strlen(name) > AWS_CONFIG_MAX_PROFILE)
		return false;
	put(p->name, sizeof(p->name), name);
	p->cfg = cfg_section(&c->cfg, "profile", name);
	p->cred = aws_ini_section(&c->cred, name);
	return p->cfg || p->cred;
}

/* A key of a merged profile, credentials file first; *in_cred says which.
 * Empty values count as unset. */
static const struct aws_ini_kv *prof_kv(const struct ctx *c, const struct prof *p, const char *key,
					bool *in_cred)
{
	const struct aws_ini_kv *kv;

	if (!p)
		return NULL;
	if ((kv = aws_ini_find(&c->cred, p->cred, key)) && *kv->value) {
		if (in_cred)
			*in_cred = true;
		return kv;
	}
	if ((kv = aws_ini_find(&c->cfg, p->cfg, key)) && *kv->value) {
		if (in_cred)
			*in_cred = false;
		return kv;
	}
	return NULL;
}

static const char *prof_get(const struct ctx *c, const struct prof *p, const char *key)
{
	const struct aws_ini_kv *kv = prof_kv(c, p, key, NULL);

	return kv ? kv->value : NULL;
}

/* "profile prod key (config file line 7)" into buf, for messages. */
static const char *where(const struct ctx *c, const struct prof *p, const char *key, char *buf,
			 size_t size)
{
	bool in_cred = false;
	const struct aws_ini_kv *kv = prof_kv(c, p, key, &in_cred);

	if (!kv)
		snprintf(buf, size, "profile %.64s %s", p->name, key);
	else
		snprintf(buf, size, "profile %.64s %s (%s file line %d)", p->name, key,
			 in_cred ? "credentials" : "config", kv->line);
	return buf;
}

/* A setting from the environment, else from the profile. *src names it. */
static const char *setting(const struct ctx *c, const struct prof *p, const char *var,
			   const char *key, char *src, size_t size)
{
	const char *v = getv(c, var);

	if (v) {
		snprintf(src, size, "%s", var);
		return v;
	}
	if (p && (v = prof_get(c, p, key))) {
		where(c, p, key, src, size);
		return v;
	}
	return NULL;
}

/* ---- region and endpoints */

static bool region_ok(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > 31 || r[0] < 'a' || r[0] > 'z' || r[n - 1] == '-')
		return false;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return false;
	return true;
}

static enum cbq_err resolve_region(const struct ctx *c, const struct prof *p, const char *profile,
				   char out[32])
{
	char src[160];
	const char *v = getv(c, "AWS_REGION");

	snprintf(src, sizeof(src), "AWS_REGION");
	if (!v)
		v = setting(c, p, "AWS_DEFAULT_REGION", "region", src, sizeof(src));
	if (!v)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.region",
				"no AWS region: set AWS_REGION, AWS_DEFAULT_REGION or region in "
				"profile %.64s%s",
				profile, p ? "" : " (which does not exist)");
	if (!region_ok(v))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.region",
				"%s is not a region name like us-east-1 (lowercase letters, digits "
				"and '-', at most 31)",
				src);
	put(out, 32, v);
	return CBQ_OK;
}

/*
 * An endpoint override: http:// or https://, a host name or [IPv6] and an
 * optional port, an optional path (kept, trailing '/' dropped); no
 * user@, query or fragment. Scheme and host are lowercased. The value is
 * never echoed (a user:password@ would be a secret).
 */
static enum cbq_err parse_url(const struct ctx *c, const char *in, const char *src,
			      const char *field, size_t max, char *url, size_t url_size, char *host,
			      size_t host_size)
{
	const char *why = NULL, *rest = in;
	bool https = false;
	char lower[AWS_CONFIG_MAX_URL + 1];

	if (strlen(in) > max)
		return cbq_fail(c->err, CBQ_ERR_INVALID, field,
				"%s is not a usable endpoint URL: longer than %zu bytes", src, max);
	if (strncasecmp(in, "http://", 7) == 0)
		rest = in + 7;
	else if (strncasecmp(in, "https://", 8) == 0)
		rest = in + 8, https = true;
	else
		why = "it must start with http:// or https://";
	if (!why && !graphic(in))
		why = "spaces or control characters";
	if (!why && strpbrk(in, "?#"))
		why = "a query (?) or fragment (#) is not allowed";
	size_t alen = why ? 0 : strcspn(rest, "/");
	if (!why && memchr(rest, '@', alen))
		why = "user information (user@) is not allowed";
	/* host, then an optional :port */
	const char *a = rest, *ae = rest + alen, *h = a, *he = NULL;
	if (!why && *a == '[') {
		he = memchr(a, ']', alen);
		if (!he || he == a + 1)
			why = "a bracketed IPv6 address is not closed";
		for (const char *q = a + 1; !why && q < he; q++)
			if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') ||
			      (*q >= 'A' && *q <= 'F') || *q == ':' || *q == '.'))
				why = "the IPv6 address has characters other than hex digits, ':' and '.'";
		if (!why)
			he++;
	} else if (!why) {
		he = a;
		while (he < ae &&
		       ((*he >= '0' && *he <= '9') || (*he >= 'a' && *he <= 'z') ||
			(*he >= 'A' && *he <= 'Z') || *he == '-' || *he == '.' || *he == '_'))
			he++;
		if (he == a)
			why = "the host name is missing";
	}
	long port = 0;
	if (!why && he < ae) {
		if (*he != ':' || he + 1 == ae || ae - he > 6)
			why = "the host must be followed by '/', ':PORT' or nothing";
		for (const char *q = he + 1; !why && q < ae; q++) {
			if (*q < '0' || *q > '9')
				why = "the port is not a number";
			else
				port = port * 10 + (*q - '0');
		}
		if (!why && (port < 1 || port > 65535))
			why = "the port is not 1 to 65535";
	}
	if (why)
		return cbq_fail(c->err, CBQ_ERR_INVALID, field,
				"%s is not a usable endpoint URL: %s", src, why);

	/* url: lowercase scheme and authority, the path as written */
	size_t n = 0;
	for (const char *q = in; q < ae; q++)
		lower[n++] = (*q >= 'A' && *q <= 'Z') ? (char)(*q - 'A' + 'a') : *q;
	size_t plen = strlen(ae);
	while (plen > 0 && ae[plen - 1] == '/')
		plen--;
	memcpy(lower + n, ae, plen);
	n += plen;
	lower[n] = '\0';
	if (n >= url_size || (size_t)(he - h) + 7 > host_size)
		return cbq_fail(c->err, CBQ_ERR_INVALID, field,
				"%s is not a usable endpoint URL: too long", src);
	memcpy(url, lower, n + 1);
	size_t hl = (size_t)(he - h);
	memcpy(host, lower + (h - in), hl);
	host[hl] = '\0';
	if (port && port != (https ? 443 : 80))
		snprintf(host + hl, host_size - hl, ":%ld", port);
	return CBQ_OK;
}

static void default_endpoint(enum aws_service s, const char *region, struct aws_endpoint *e)
{
	bool cn = strncmp(region, "cn-", 3) == 0;
	const char *r = region;

	/* Organizations is global: one endpoint per partition (AWS.md §9.1). */
	if (s == AWS_SVC_ORGANIZATIONS)
		r = cn				       ? "cn-northwest-1" :
		    strncmp(region, "us-gov-", 7) == 0 ? "us-gov-west-1" :
							 "us-east-1";
	snprintf(e->host, sizeof(e->host), "%s.%s.%s", aws_service_name(s), r,
		 cn ? "amazonaws.com.cn" : "amazonaws.com");
	snprintf(e->url, sizeof(e->url), "https://%s", e->host);
	put(e->signing_region, sizeof(e->signing_region), r);
	e->custom = false;
}

/* The [services NAME] section the profile points to (config file only). */
static enum cbq_err services_section(const struct ctx *c, const struct prof *p,
				     const struct aws_ini_section **out)
{
	const char *name = prof_get(c, p, "services");
	char src[160];

	*out = NULL;
	if (!name)
		return CBQ_OK;
	*out = cfg_section(&c->cfg, "services", name);
	if (!*out)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.endpoint_url",
				"%s names services section \"%.64s\" but %.300s has no [services "
				"%.64s]",
				where(c, p, "services", src, sizeof(src)), name, c->cfg_name, name);
	return CBQ_OK;
}

static enum cbq_err resolve_endpoints(const struct ctx *c, const struct prof *p, const char *region,
				      struct aws_endpoint *eps)
{
	char src[160];
	const char *ign = setting(c, p, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
				  "ignore_configured_endpoint_urls", src, sizeof(src));
	bool ignore = is_true(ign);
	enum cbq_err rc;

	for (int i = 0; i < AWS_SVC_COUNT; i++) {
		const char *v = NULL;
		struct aws_endpoint *e = &eps[i];

		if (!ignore && (v = getv(c, svc_env[i])))
			snprintf(src, sizeof(src), "%s", svc_env[i]);
		if (!ignore && !v && (v = getv(c, "AWS_ENDPOINT_URL")))
			snprintf(src, sizeof(src), "AWS_ENDPOINT_URL");
		if (!ignore && !v && p) {
			const struct aws_ini_section *svc;
			if ((rc = services_section(c, p, &svc)))
				return rc;
			const struct aws_ini_kv *kv =
				svc ? aws_ini_find(&c->cfg, svc, aws_service_name(i)) : NULL;
			if (kv && !kv->n_sub && *kv->value)
				return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.endpoint_url",
						"[%.64s] %s (config file line %d) must be a nested "
						"section: \"%s =\" then an indented \"endpoint_url = "
						"...\"",
						svc->name, aws_service_name(i), kv->line,
						aws_service_name(i));
			const struct aws_ini_kv *sub = kv ? aws_ini_sub(kv, "endpoint_url") : NULL;
			if (sub && *sub->value) {
				v = sub->value;
				snprintf(src, sizeof(src),
					 "[%.64s] %s endpoint_url (config file line %d)", svc->name,
					 aws_service_name(i), sub->line);
			}
		}
		if (!ignore && !v && p && (v = prof_get(c, p, "endpoint_url")))
			where(c, p, "endpoint_url", src, sizeof(src));
		if (!v) {
			default_endpoint(i, region, e);
			continue;
		}
		if ((rc = parse_url(c, v, src, "aws.endpoint_url", AWS_CONFIG_MAX_URL, e->url,
				    sizeof(e->url), e->host, sizeof(e->host))))
			return rc;
		put(e->signing_region, sizeof(e->signing_region), region);
		e->custom = true;
	}
	return CBQ_OK;
}

static enum cbq_err resolve_retry(const struct ctx *c, const struct prof *p, struct aws_config *out)
{
	char src[160];
	const char *v = setting(c, p, "AWS_MAX_ATTEMPTS", "max_attempts", src, sizeof(src));

	out->max_attempts = AWS_CONFIG_DEFAULT_ATTEMPTS;
	if (v && !parse_int(v, 1, AWS_CONFIG_MAX_ATTEMPTS, &out->max_attempts))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.max_attempts",
				"%s must be a whole number from 1 to %d", src,
				AWS_CONFIG_MAX_ATTEMPTS);
	out->retry_mode = AWS_RETRY_STANDARD;
	v = setting(c, p, "AWS_RETRY_MODE", "retry_mode", src, sizeof(src));
	if (!v || strcmp(v, "standard") == 0)
		return CBQ_OK;
	if (strcmp(v, "legacy") == 0)
		out->retry_mode = AWS_RETRY_LEGACY;
	else if (strcmp(v, "adaptive") == 0)
		out->retry_mode = AWS_RETRY_ADAPTIVE;
	else
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.retry_mode",
				"%s must be standard, legacy or adaptive", src);
	return CBQ_OK;
}

/* ---- credentials */

static enum cbq_err unsupported(const struct ctx *c, const char *what)
{
	return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
			"%s: cbqd does not support these credentials yet; use environment keys, "
			"a profile with keys or role_arn, or instance metadata",
			what);
}

/* Fills a STATIC plan; names (variables or "profile x key (...)") go into
 * messages, values never do. */
static enum cbq_err set_static(const struct ctx *c, struct aws_creds_plan *out, const char *id,
			       const char *id_name, const char *secret, const char *secret_name,
			       const char *token, const char *token_name)
{
	const char *bad = NULL;

	if (strlen(id) > AWS_CONFIG_MAX_KEY || !graphic(id))
		bad = id_name;
	else if (strlen(secret) > AWS_CONFIG_MAX_KEY || !graphic(secret))
		bad = secret_name;
	else if (token && (strlen(token) > AWS_CONFIG_MAX_TOKEN || !graphic(token)))
		bad = token_name;
	if (bad)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"%s is too long or holds spaces or control characters", bad);
	out->kind = AWS_CREDS_STATIC;
	put(out->access_key_id, sizeof(out->access_key_id), id);
	put(out->secret_access_key, sizeof(out->secret_access_key), secret);
	cbq_wipe_free(out->session_token);
	out->session_token = token ? cbq_xstrdup(token) : NULL;
	return CBQ_OK;
}

/* AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ token, expiration). */
static enum cbq_err env_keys(const struct ctx *c, struct aws_creds_plan *out, bool *found,
			     const char *source)
{
	const char *id = getv(c, "AWS_ACCESS_KEY_ID"), *sk = getv(c, "AWS_SECRET_ACCESS_KEY");
	const char *token_name = "AWS_SECURITY_TOKEN", *token = getv(c, token_name);
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
		token = getv(c, token_name = "AWS_SESSION_TOKEN");
	if ((rc = set_static(c, out, id, "AWS_ACCESS_KEY_ID", sk, "AWS_SECRET_ACCESS_KEY", token,
			     token_name)))
		return rc;
	const char *exp = getv(c, "AWS_CREDENTIAL_EXPIRATION");
	int64_t secs;
	if (exp && !aws_parse_time(exp, &secs))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
				"AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time like "
				"2026-05-16T23:00:20Z");
	out->expires = exp ? secs * 1000 : 0;
	put(out->source, sizeof(out->source), source);
	*found = true;
	return CBQ_OK;
}

/* Static keys of one file's section of profile p. */
static enum cbq_err file_keys(const struct ctx *c, const struct prof *p, bool in_cred,
			      struct aws_creds_plan *out, bool *found)
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
static enum cbq_err profile_providers(const struct ctx *c, const struct prof *p,
				      struct aws_creds_plan *out, bool *found)
{
	char what[200];
	enum cbq_err rc;

	*found = false;
	if (prof_get(c, p, "web_identity_token_file"))
		return unsupported(c, where(c, p, "web_identity_token_file", what, sizeof(what)));
	if (prof_get(c, p, "sso_start_url"))
		return unsupported(c, where(c, p, "sso_start_url", what, sizeof(what)));
	if (prof_get(c, p, "sso_session"))
		return unsupported(c, where(c, p, "sso_session", what, sizeof(what)));
	if (p->cred && ((rc = file_keys(c, p, true, out, found)) || *found))
		return rc;
	if (prof_get(c, p, "credential_process"))
		return unsupported(c, where(c, p, "credential_process", what, sizeof(what)));
	if (p->cfg && ((rc = file_keys(c, p, false, out, found)) || *found))
		return rc;
	return CBQ_OK;
}

static enum cbq_err imds_plan(const struct ctx *c, struct aws_creds_plan *out)
{
	const struct prof *p = c->top;
	char src[160];
	const char *v;
	int n;
	enum cbq_err rc;

	out->kind = AWS_CREDS_IMDS;
	put(out->source, sizeof(out->source), "imds");
	v = setting(c, p, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "ec2_metadata_service_endpoint", src,
		    sizeof(src));
	if (v) {
		char host[256];
		if ((rc = parse_url(c, v, src, "aws.imds", sizeof(out->imds_endpoint) - 1,
				    out->imds_endpoint, sizeof(out->imds_endpoint), host,
				    sizeof(host))))
			return rc;
	} else {
		v = setting(c, p, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
			    "ec2_metadata_service_endpoint_mode", src, sizeof(src));
		if (v && strcasecmp(v, "ipv4") != 0 && strcasecmp(v, "ipv6") != 0)
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.imds",
					"%s must be ipv4 or ipv6", src);
		put(out->imds_endpoint, sizeof(out->imds_endpoint),
		    v && strcasecmp(v, "ipv6") == 0 ? "http://[fd00:ec2::254]" :
						      "http://169.254.169.254");
	}
	out->imds_timeout_ms = 1000;
	v = setting(c, p, "AWS_METADATA_SERVICE_TIMEOUT", "metadata_service_timeout", src,
		    sizeof(src));
	if (v && !parse_int(v, 1, 300, &n))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.imds",
				"%s must be whole seconds from 1 to 300", src);
	if (v)
		out->imds_timeout_ms = n * 1000L;
	out->imds_attempts = 1;
	v = setting(c, p, "AWS_METADATA_SERVICE_NUM_ATTEMPTS", "metadata_service_num_attempts", src,
		    sizeof(src));
	if (v && !parse_int(v, 1, 10, &out->imds_attempts))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.imds",
				"%s must be a whole number from 1 to 10", src);
	out->imds_v1_disabled = is_true(setting(c, p, "AWS_EC2_METADATA_V1_DISABLED",
						"ec2_metadata_v1_disabled", src, sizeof(src)));
	return CBQ_OK;
}

static bool has_static(const struct ctx *c, const struct prof *p)
{
	return prof_get(c, p, "aws_access_key_id") || prof_get(c, p, "aws_secret_access_key");
}

static bool visited(const struct ctx *c, const char *name)
{
	for (size_t i = 0; i < c->n_visited; i++)
		if (strcmp(c->visited[i], name) == 0)
			return true;
	return false;
}

static enum cbq_err assume_role(struct ctx *c, const struct prof *p, int depth,
				struct aws_creds_plan *out);

/* The credentials a role is assumed with (credential_source or
 * source_profile), into a new *src. */
static enum cbq_err role_source(struct ctx *c, const struct prof *p, int depth, const char *cs,
				const char *sp, struct aws_creds_plan *src)
{
	char what[200];
	bool found;
	enum cbq_err rc;

	if (cs) {
		where(c, p, "credential_source", what, sizeof(what));
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
			if (is_true(getv(c, "AWS_EC2_METADATA_DISABLED")))
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

	struct prof sprof;
	where(c, p, "source_profile", what, sizeof(what));
	if (!find_profile(c, sp, &sprof))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s names profile %.64s, which does not exist", what, sp);
	/* A profile may name itself only to use its own static keys. */
	if (visited(c, sp) && (strcmp(sp, p->name) != 0 || !has_static(c, &sprof)))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s makes a loop of source profiles", what);
	if (c->n_visited < sizeof(c->visited) / sizeof(c->visited[0]))
		c->visited[c->n_visited++] = sp;
	if (has_static(c, &sprof) || !prof_get(c, &sprof, "role_arn") ||
	    prof_get(c, &sprof, "web_identity_token_file")) {
		if ((rc = profile_providers(c, &sprof, src, &found)))
			return rc;
		if (!found)
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.credentials",
					"%s: source profile %.64s has no credentials", what, sp);
		return CBQ_OK;
	}
	return assume_role(c, &sprof, depth + 1, src);
}

static enum cbq_err assume_role(struct ctx *c, const struct prof *p, int depth,
				struct aws_creds_plan *out)
{
	char what[200];
	const char *role = prof_get(c, p, "role_arn");
	const char *cs = prof_get(c, p, "credential_source");
	const char *sp = prof_get(c, p, "source_profile");
	const char *v;
	enum cbq_err rc;

	if (depth >= AWS_CONFIG_MAX_CHAIN)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"profile %.64s: more than %d roles in a source_profile chain",
				p->name, AWS_CONFIG_MAX_CHAIN);
	if (prof_get(c, p, "mfa_serial"))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s: a role that needs an MFA code is not possible for a daemon; "
				"use a role without mfa_serial",
				where(c, p, "mfa_serial", what, sizeof(what)));
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
	    !graphic(role))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
				where(c, p, "role_arn", what, sizeof(what)));
	out->kind = AWS_CREDS_ASSUME_ROLE;
	put(out->role_arn, sizeof(out->role_arn), role);
	if ((v = prof_get(c, p, "external_id"))) {
		if (!word(v, 2, 1224, "+=,.@:/-"))
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
					"%s must be 2 to 1224 letters, digits and _+=,.@:/-",
					where(c, p, "external_id", what, sizeof(what)));
		put(out->external_id, sizeof(out->external_id), v);
	}
	if ((v = prof_get(c, p, "role_session_name"))) {
		if (!word(v, 2, 64, "+=,.@-"))
			return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
					"%s must be 2 to 64 letters, digits and _+=,.@-",
					where(c, p, "role_session_name", what, sizeof(what)));
		put(out->session_name, sizeof(out->session_name), v);
	}
	if ((v = prof_get(c, p, "duration_seconds")) &&
	    !parse_int(v, 900, 43200, &out->duration_seconds))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.profile",
				"%s must be whole seconds from 900 to 43200",
				where(c, p, "duration_seconds", what, sizeof(what)));
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

static enum cbq_err resolve_creds(struct ctx *c, const struct prof *p, const char *profile,
				  struct aws_creds_plan *out)
{
	char what[200];
	bool found;
	enum cbq_err rc;

	/* 1. environment keys, even when a profile is named (AWS.md §10.1) */
	if ((rc = env_keys(c, out, &found, "env")) || found)
		return rc;
	/* 2. the profile's role */
	if (p && prof_get(c, p, "role_arn") && !prof_get(c, p, "web_identity_token_file")) {
		c->visited[c->n_visited++] = p->name;
		return assume_role(c, p, 0, out);
	}
	/* 3. web identity, then the profile's other providers */
	if (getv(c, "AWS_WEB_IDENTITY_TOKEN_FILE"))
		return unsupported(c, "AWS_WEB_IDENTITY_TOKEN_FILE (web identity)");
	if (p && ((rc = profile_providers(c, p, out, &found)) || found))
		return rc;
	/* 4. container credentials */
	if (getv(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
		return unsupported(c, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (container)");
	if (getv(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI"))
		return unsupported(c, "AWS_CONTAINER_CREDENTIALS_FULL_URI (container)");
	/* 5. instance metadata */
	if (is_true(getv(c, "AWS_EC2_METADATA_DISABLED"))) {
		snprintf(what, sizeof(what), "%s", p ? "" : " (which does not exist)");
		return cbq_fail(c->err, CBQ_ERR_NOT_FOUND, "aws.credentials",
				"no AWS credentials: none in the environment (AWS_ACCESS_KEY_ID), "
				"none in profile %.64s%s, and instance metadata is off "
				"(AWS_EC2_METADATA_DISABLED=true)",
				profile, what);
	}
	return imds_plan(c, out);
}

/* ---- the two steps */

/* os.path.expandvars: $NAME and ${NAME} from env; unknown ones stay. */
static bool expand_vars(const struct aws_env *e, const char *in, char *out, size_t size)
{
	size_t n = 0;

	while (*in) {
		const char *val = NULL, *next = in + 1;
		if (*in == '$') {
			char name[256];
			size_t k = 0;
			if (in[1] == '{') {
				const char *close = strchr(in + 2, '}');
				if (close && (size_t)(close - in - 2) < sizeof(name)) {
					k = (size_t)(close - in - 2);
					memcpy(name, in + 2, k);
					name[k] = '\0';
					if ((val = aws_env_get(e, name)))
						next = close + 1;
				}
			} else {
				const char *q = in + 1;
				while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
				       (*q >= '0' && *q <= '9') || *q == '_')
					q++;
				k = (size_t)(q - in - 1);
				if (k > 0 && k < sizeof(name)) {
					memcpy(name, in + 1, k);
					name[k] = '\0';
					if ((val = aws_env_get(e, name)))
						next = q;
				}
			}
		}
		if (!val) {
			if (n + 1 >= size)
				return false;
			out[n++] = *in++;
			continue;
		}
		size_t vl = strlen(val);
		if (n + vl >= size)
			return false;
		memcpy(out + n, val, vl);
		n += vl;
		in = next;
	}
	out[n] = '\0';
	return true;
}

/* The path a variable names, or the default under HOME; expandvars then
 * expanduser, as botocore's raw_config_parse. */
static enum cbq_err file_path(const struct aws_env *e, const char *var, const char *dflt,
			      const char *field, char *out, size_t size, struct cbq_error *err)
{
	const char *given = aws_env_get(e, var);
	char buf[AWS_CONFIG_MAX_PATH + 1];

	if (!expand_vars(e, given ? given : dflt, buf, sizeof(buf)))
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, field, "%s expands to more than %d bytes",
				var, AWS_CONFIG_MAX_PATH);
	if (buf[0] == '~' && (buf[1] == '/' || buf[1] == '\0')) {
		const char *home = aws_env_get(e, "HOME");
		if (!home && !given) {
			out[0] = '\0'; /* no HOME: the default file is not read */
			return CBQ_OK;
		}
		if (!home)
			return cbq_fail(err, CBQ_ERR_INVALID, field,
					"%s starts with ~ but HOME is not set", var);
		size_t hl = strlen(home);
		while (hl > 0 && home[hl - 1] == '/')
			hl--;
		if (hl + strlen(buf + 1) + 1 > size)
			return cbq_fail(err, CBQ_ERR_TOO_LARGE, field,
					"%s expands to more than %d bytes", var,
					AWS_CONFIG_MAX_PATH);
		memcpy(out, home, hl);
		strcpy(out + hl, buf + 1);
		if (!out[0])
			strcpy(out, "/");
		return CBQ_OK;
	}
	put(out, size, buf);
	return CBQ_OK;
}

enum cbq_err aws_config_files(const struct aws_env *env, struct aws_config *out,
			      struct cbq_error *err)
{
	struct aws_config c = { 0 };
	const char *var = "AWS_DEFAULT_PROFILE", *prof = aws_env_get(env, var);
	enum cbq_err rc;

	if (!prof)
		prof = aws_env_get(env, var = "AWS_PROFILE");
	if (prof && (strlen(prof) > AWS_CONFIG_MAX_PROFILE || !printable(prof)))
		return cbq_fail(err, CBQ_ERR_INVALID, "aws.profile",
				"%s must be at most %d bytes of printable ASCII", var,
				AWS_CONFIG_MAX_PROFILE);
	put(c.profile, sizeof(c.profile), prof ? prof : "default");
	c.profile_set = prof != NULL;
	if ((rc = file_path(env, "AWS_CONFIG_FILE", "~/.aws/config", "aws.config_file",
			    c.config_file, sizeof(c.config_file), err)) ||
	    (rc = file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials",
			    "aws.credentials_file", c.credentials_file, sizeof(c.credentials_file),
			    err)))
		return rc;
	c.max_attempts = AWS_CONFIG_DEFAULT_ATTEMPTS;
	*out = c;
	return CBQ_OK;
}

enum cbq_err aws_config_resolve(const struct aws_env *env, const char *config_text,
				const char *credentials_text, struct aws_config *inout,
				struct cbq_error *err)
{
	struct ctx c = { .env = env, .err = err };
	struct aws_config tmp = *inout;
	struct prof prof, *p = NULL;
	enum cbq_err rc;

	memset(&tmp.creds, 0, sizeof(tmp.creds));
	snprintf(c.cfg_name, sizeof(c.cfg_name), "config file %s",
		 inout->config_file[0] ? inout->config_file : "(none)");
	snprintf(c.cred_name, sizeof(c.cred_name), "credentials file %s",
		 inout->credentials_file[0] ? inout->credentials_file : "(none)");
	if ((rc = aws_ini_parse(config_text, config_text ? strlen(config_text) : 0, c.cfg_name,
				"aws.config_file", &c.cfg, err)) ||
	    (rc = aws_ini_parse(credentials_text, credentials_text ? strlen(credentials_text) : 0,
				c.cred_name, "aws.credentials_file", &c.cred, err)))
		goto out;

	if (find_profile(&c, inout->profile, &prof)) {
		p = &prof;
	} else if (inout->profile_set && !getv(&c, "AWS_ACCESS_KEY_ID") &&
		   !getv(&c, "AWS_SECRET_ACCESS_KEY")) {
		rc = cbq_fail(err, CBQ_ERR_NOT_FOUND, "aws.profile",
			      "profile %.64s (from %s) is in neither %.200s nor %.200s",
			      inout->profile,
			      getv(&c, "AWS_DEFAULT_PROFILE") ? "AWS_DEFAULT_PROFILE" :
								"AWS_PROFILE",
			      c.cfg_name, c.cred_name);
		goto out;
	}
	c.top = p;
	if ((rc = resolve_region(&c, p, inout->profile, tmp.region)) ||
	    (rc = resolve_endpoints(&c, p, tmp.region, tmp.endpoints)) ||
	    (rc = resolve_retry(&c, p, &tmp)) ||
	    (rc = resolve_creds(&c, p, inout->profile, &tmp.creds)))
		goto out;

	aws_creds_plan_free(&inout->creds);
	*inout = tmp;
	memset(&tmp.creds, 0, sizeof(tmp.creds)); /* now owned by *inout */
out:
	aws_creds_plan_free(&tmp.creds);
	explicit_bzero(&tmp, sizeof(tmp));
	aws_ini_free(&c.cfg);
	aws_ini_free(&c.cred);
	return rc;
}

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

void aws_config_free(struct aws_config *c)
{
	if (!c)
		return;
	aws_creds_plan_free(&c->creds);
	explicit_bzero(c, sizeof(*c));
}
