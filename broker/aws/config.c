/*
 * AWS settings resolution; see config.h: which files and profile, merged
 * profiles, region, endpoints and retries, by botocore's rules with its
 * surprises (AWS_DEFAULT_PROFILE beats AWS_PROFILE, the credentials file beats
 * the config file, "[profile x]" only in the config file). The credential
 * chain is config_creds.c's. Pure: no getenv, no files, no clock, no logging.
 */
#include "aws/config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aws/config_internal.h"
#include "aws/ini.h"

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

/* AWS_ENDPOINT_URL_<serviceId> and the key in a [services x] section. */
static const char *const svc_env[AWS_SVC_COUNT] = { "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_STS",
						    "AWS_ENDPOINT_URL_RAM",
						    "AWS_ENDPOINT_URL_ORGANIZATIONS" };

/* ---- small helpers */

/* Copies s (already checked to fit) into dst[size]. */
void aws_cfg_put(char *dst, size_t size, const char *s)
{
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Printable ASCII without spaces: what keys, ids and URLs may hold. */
bool aws_cfg_graphic(const char *s)
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
bool aws_cfg_is_true(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

bool aws_cfg_parse_int(const char *s, int min, int max, int *out)
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

const char *aws_cfg_getv(const struct aws_cfg_ctx *c, const char *name)
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

bool aws_cfg_find_profile(const struct aws_cfg_ctx *c, const char *name, struct aws_cfg_prof *p)
{
	if (strlen(name) > AWS_CONFIG_MAX_PROFILE)
		return false;
	aws_cfg_put(p->name, sizeof(p->name), name);
	p->cfg = cfg_section(&c->cfg, "profile", name);
	p->cred = aws_ini_section(&c->cred, name);
	return p->cfg || p->cred;
}

/* A key of a merged profile, credentials file first; *in_cred says which.
 * Empty values count as unset. */
static const struct aws_ini_kv *prof_kv(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
					const char *key, bool *in_cred)
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

const char *aws_cfg_prof_get(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			     const char *key)
{
	const struct aws_ini_kv *kv = prof_kv(c, p, key, NULL);

	return kv ? kv->value : NULL;
}

/* "profile prod key (config file line 7)" into buf, for messages. */
const char *aws_cfg_where(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			  const char *key, char *buf, size_t size)
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
const char *aws_cfg_setting(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			    const char *var, const char *key, char *src, size_t size)
{
	const char *v = aws_cfg_getv(c, var);

	if (v) {
		snprintf(src, size, "%s", var);
		return v;
	}
	if (p && (v = aws_cfg_prof_get(c, p, key))) {
		aws_cfg_where(c, p, key, src, size);
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

static enum cbq_err resolve_region(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				   const char *profile, char out[32])
{
	char src[160];
	const char *v = aws_cfg_getv(c, "AWS_REGION");

	snprintf(src, sizeof(src), "AWS_REGION");
	if (!v)
		v = aws_cfg_setting(c, p, "AWS_DEFAULT_REGION", "region", src, sizeof(src));
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
	aws_cfg_put(out, 32, v);
	return CBQ_OK;
}

/*
 * An endpoint override: http:// or https://, a host name or [IPv6] and an
 * optional port, an optional path (kept, trailing '/' dropped); no
 * user@, query or fragment. Scheme and host are lowercased. The value is
 * never echoed (a user:password@ would be a secret).
 */
enum cbq_err aws_cfg_parse_url(const struct aws_cfg_ctx *c, const char *in, const char *src,
			       const char *field, size_t max, char *url, size_t url_size,
			       char *host, size_t host_size)
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
	if (!why && !aws_cfg_graphic(in))
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
	aws_cfg_put(e->signing_region, sizeof(e->signing_region), r);
	e->custom = false;
}

/* The [services NAME] section the profile points to (config file only). */
static enum cbq_err services_section(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				     const struct aws_ini_section **out)
{
	const char *name = aws_cfg_prof_get(c, p, "services");
	char src[160];

	*out = NULL;
	if (!name)
		return CBQ_OK;
	*out = cfg_section(&c->cfg, "services", name);
	if (!*out)
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.endpoint_url",
				"%s names services section \"%.64s\" but %.300s has no [services "
				"%.64s]",
				aws_cfg_where(c, p, "services", src, sizeof(src)), name,
				c->cfg_name, name);
	return CBQ_OK;
}

static enum cbq_err resolve_endpoints(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				      const char *region, struct aws_endpoint *eps)
{
	char src[160];
	const char *ign = aws_cfg_setting(c, p, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
					  "ignore_configured_endpoint_urls", src, sizeof(src));
	bool ignore = aws_cfg_is_true(ign);
	enum cbq_err rc;

	for (int i = 0; i < AWS_SVC_COUNT; i++) {
		const char *v = NULL;
		struct aws_endpoint *e = &eps[i];

		if (!ignore && (v = aws_cfg_getv(c, svc_env[i])))
			snprintf(src, sizeof(src), "%s", svc_env[i]);
		if (!ignore && !v && (v = aws_cfg_getv(c, "AWS_ENDPOINT_URL")))
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
		if (!ignore && !v && p && (v = aws_cfg_prof_get(c, p, "endpoint_url")))
			aws_cfg_where(c, p, "endpoint_url", src, sizeof(src));
		if (!v) {
			default_endpoint(i, region, e);
			continue;
		}
		if ((rc = aws_cfg_parse_url(c, v, src, "aws.endpoint_url", AWS_CONFIG_MAX_URL,
					    e->url, sizeof(e->url), e->host, sizeof(e->host))))
			return rc;
		aws_cfg_put(e->signing_region, sizeof(e->signing_region), region);
		e->custom = true;
	}
	return CBQ_OK;
}

static enum cbq_err resolve_retry(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				  struct aws_config *out)
{
	char src[160];
	const char *v = aws_cfg_setting(c, p, "AWS_MAX_ATTEMPTS", "max_attempts", src, sizeof(src));

	out->max_attempts = AWS_CONFIG_DEFAULT_ATTEMPTS;
	if (v && !aws_cfg_parse_int(v, 1, AWS_CONFIG_MAX_ATTEMPTS, &out->max_attempts))
		return cbq_fail(c->err, CBQ_ERR_INVALID, "aws.max_attempts",
				"%s must be a whole number from 1 to %d", src,
				AWS_CONFIG_MAX_ATTEMPTS);
	out->retry_mode = AWS_RETRY_STANDARD;
	v = aws_cfg_setting(c, p, "AWS_RETRY_MODE", "retry_mode", src, sizeof(src));
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
	aws_cfg_put(out, size, buf);
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
	aws_cfg_put(c.profile, sizeof(c.profile), prof ? prof : "default");
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
	struct aws_cfg_ctx c = { .env = env, .err = err };
	struct aws_config tmp = *inout;
	struct aws_cfg_prof prof, *p = NULL;
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

	if (aws_cfg_find_profile(&c, inout->profile, &prof)) {
		p = &prof;
	} else if (inout->profile_set && !aws_cfg_getv(&c, "AWS_ACCESS_KEY_ID") &&
		   !aws_cfg_getv(&c, "AWS_SECRET_ACCESS_KEY")) {
		rc = cbq_fail(err, CBQ_ERR_NOT_FOUND, "aws.profile",
			      "profile %.64s (from %s) is in neither %.200s nor %.200s",
			      inout->profile,
			      aws_cfg_getv(&c, "AWS_DEFAULT_PROFILE") ? "AWS_DEFAULT_PROFILE" :
									"AWS_PROFILE",
			      c.cfg_name, c.cred_name);
		goto out;
	}
	c.top = p;
	if ((rc = resolve_region(&c, p, inout->profile, tmp.region)) ||
	    (rc = resolve_endpoints(&c, p, tmp.region, tmp.endpoints)) ||
	    (rc = resolve_retry(&c, p, &tmp)) ||
	    (rc = aws_cfg_resolve_creds(&c, p, inout->profile, &tmp.creds)))
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

void aws_config_free(struct aws_config *c)
{
	if (!c)
		return;
	aws_creds_plan_free(&c->creds);
	explicit_bzero(c, sizeof(*c));
}
