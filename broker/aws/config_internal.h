/*
 * What config.c and config_creds.c share while resolving AWS settings: the
 * resolution context, merged profiles and the small helpers both use. Private
 * to those two files; not part of config.h's contract, and nothing else may
 * include it.
 */
#ifndef CBQ_AWS_CONFIG_INTERNAL_H
#define CBQ_AWS_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "aws/config.h"
#include "aws/ini.h"
#include "core/err.h"

/* One aws_config_resolve() call: the environment, both files parsed, and
 * where errors go. Lives on that call's stack. */
struct aws_cfg_ctx {
	const struct aws_env *env;
	struct aws_ini cfg, cred;
	char cfg_name[AWS_CONFIG_MAX_PATH + 32], cred_name[AWS_CONFIG_MAX_PATH + 32];
	const struct aws_cfg_prof *top; /* the profile in use (IMDS settings come from it), or NULL
					 */
	const char *visited[AWS_CONFIG_MAX_CHAIN + 2]; /* profiles on the role chain so far */
	size_t n_visited;
	struct cbq_error *err;
};

/* A profile: its config-file section merged with its credentials-file
 * section, the credentials file winning (session.py full_config). */
struct aws_cfg_prof {
	char name[AWS_CONFIG_MAX_PROFILE + 1];
	const struct aws_ini_section *cfg, *cred;
};

/* ---- in config.c */

/* Copies s (already checked to fit) into dst[size]. */
void aws_cfg_put(char *dst, size_t size, const char *s);
/* Printable ASCII without spaces: what keys, ids and URLs may hold. */
bool aws_cfg_graphic(const char *s);
/* "true" in any case, as botocore's ensure_boolean and the IMDS switch; NULL is false. */
bool aws_cfg_is_true(const char *v);
/* Decimal digits only (at most 9) within min..max into *out; false otherwise. */
bool aws_cfg_parse_int(const char *s, int min, int max, int *out);

/* aws_env_get() on the context's environment. */
const char *aws_cfg_getv(const struct aws_cfg_ctx *c, const char *name);
/* Fills *p with profile name from either file; false when neither has it. */
bool aws_cfg_find_profile(const struct aws_cfg_ctx *c, const char *name, struct aws_cfg_prof *p);
/* A key of a merged profile, credentials file first; NULL when unset or "". */
const char *aws_cfg_prof_get(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			     const char *key);
/* "profile prod key (config file line 7)" into buf, for messages; returns buf. */
const char *aws_cfg_where(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			  const char *key, char *buf, size_t size);
/* A setting from the environment variable var, else from the profile's key
 * (p may be NULL); src[size] names where it came from. NULL when neither. */
const char *aws_cfg_setting(const struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
			    const char *var, const char *key, char *src, size_t size);
/* An endpoint URL override checked and split into url and host (see
 * config.c); src names it in messages, which never echo the value. */
enum cbq_err aws_cfg_parse_url(const struct aws_cfg_ctx *c, const char *in, const char *src,
			       const char *field, size_t max, char *url, size_t url_size,
			       char *host, size_t host_size) CBQ_MUST_CHECK;

/* ---- in config_creds.c */

/*
 * The credential chain (config.h, aws_config_resolve) for profile p (NULL
 * when it does not exist; profile is its name) into *out, which starts
 * zeroed. On failure *out may hold part of a plan: the caller frees it.
 */
enum cbq_err aws_cfg_resolve_creds(struct aws_cfg_ctx *c, const struct aws_cfg_prof *p,
				   const char *profile, struct aws_creds_plan *out) CBQ_MUST_CHECK;

#endif
