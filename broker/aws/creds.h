/*
 * The broker's own AWS credentials: a provider that carries out an
 * aws_creds_plan (config.h) on the event loop. Static keys as given; IMDSv2
 * over aws_http exactly as botocore (AWS.md §10.4); assumed roles through a
 * hook the STS client supplies, with the source chain underneath. It caches
 * and refreshes before expiry, always against the `now` it is given (the
 * broker's clock, maybe scaled), never the system clock. Also the startup
 * helpers that read the shared files. Not the per-consumer AssumeRole
 * cache (rolecache.h) and not signing (sigv4.h).
 */
#ifndef CBQ_AWS_CREDS_H
#define CBQ_AWS_CREDS_H

#include <stddef.h>

#include "aws/config.h"
#include "aws/sigv4.h" /* struct aws_credentials */
#include "core/err.h"
#include "core/job.h" /* cbq_ms */

struct event_base;
struct aws_http;
struct aws_creds_provider;
struct aws_creds_wait;

enum {
	AWS_CREDS_REFRESH_MS = 5 * 60 * 1000,	/* peek wants credentials valid this long */
	AWS_CREDS_ADVISORY_MS = 15 * 60 * 1000, /* peek refreshes in the background inside this */
	AWS_CREDS_MAX_FILE = 1024 * 1024,	/* = AWS_INI_MAX_FILE */
};

/*
 * Credentials, or NULL with err saying why. c is valid only during the
 * call: copy what you keep. expires is Unix ms by the broker's clock, 0 for
 * keys that do not expire.
 */
typedef void (*aws_creds_done_fn)(const struct aws_credentials *c, cbq_ms expires,
				  const struct cbq_error *err, void *arg);

/*
 * The STS hook for ASSUME_ROLE plans: AssumeRole role->role_arn with
 * role->external_id, role->session_name (never "" here: the provider picks
 * "cbqd-<unix seconds>" when the profile named none) and
 * role->duration_seconds (0: STS's default), signed with src, then call
 * done(creds or NULL, expires, err, done_arg) exactly once, later, from the
 * loop. src and role are valid only during the hook call.
 */
typedef void (*aws_assume_fn)(void *hook_arg, const struct aws_credentials *src,
			      const struct aws_creds_plan *role, cbq_ms now, aws_creds_done_fn done,
			      void *done_arg);

/*
 * A provider for plan (deep-copied) on base, fetching through http (both
 * borrowed: free the provider first). assume may be NULL unless the plan
 * or its source chain assumes a role. NULL with *err for a plan of kind
 * NONE or a role without a hook.
 */
struct aws_creds_provider *aws_creds_provider_new(struct event_base *base, struct aws_http *http,
						  const struct aws_creds_plan *plan,
						  aws_assume_fn assume, void *hook_arg,
						  struct cbq_error *err);

/* Abandons every wait (their done never runs) and fetch in flight, wipes
 * the cached secrets and frees. NULL is fine; so is calling it from a done
 * callback (the provider goes once that callback returns). */
void aws_creds_provider_free(struct aws_creds_provider *p);

/*
 * Cached credentials valid past now + AWS_CREDS_REFRESH_MS, or NULL: then
 * call aws_creds_provider_fetch(). Inside AWS_CREDS_ADVISORY_MS of expiry
 * it still returns them and starts a background refresh. Never calls back.
 * The pointer is valid until control returns to the loop.
 */
const struct aws_credentials *aws_creds_provider_peek(struct aws_creds_provider *p, cbq_ms now);

/*
 * Credentials for a caller that found peek() empty: done runs exactly once,
 * later, from the loop (never inside this call), unless the wait is
 * cancelled. Concurrent fetches share one refresh. When a refresh fails
 * but the cached credentials have not expired yet at now, done gets those
 * (and the failure is logged). Never returns NULL.
 */
struct aws_creds_wait *aws_creds_provider_fetch(struct aws_creds_provider *p, cbq_ms now,
						aws_creds_done_fn done, void *arg);
/* done will not run. Not for a wait whose done has already run. NULL is fine. */
void aws_creds_wait_cancel(struct aws_creds_wait *w);

/* The plan's source label ("env", "imds", ...), for logs. */
const char *aws_creds_provider_source(const struct aws_creds_provider *p);

/* ---- startup: the process environment and the shared files */

/* getenv() as an aws_env lookup: struct aws_env e = { aws_env_getenv, NULL }. */
const char *aws_env_getenv(void *arg, const char *name);

/*
 * Reads the file at path into a malloc'd NUL-terminated *out (*len bytes)
 * for aws_file_free(). A path that is "", missing, or not a regular file
 * is *out = NULL and CBQ_OK (botocore reads such a file as absent). Over
 * max bytes is CBQ_ERR_TOO_LARGE, a NUL byte CBQ_ERR_INVALID, any other
 * failure (permissions) CBQ_ERR_INVALID naming path; field goes to err.
 * Blocking: for startup and reload only.
 */
enum cbq_err aws_file_read(const char *path, size_t max, const char *field, char **out, size_t *len,
			   struct cbq_error *err) CBQ_MUST_CHECK;
/* Wipes (the text may hold keys) and frees. NULL is fine. */
void aws_file_free(char *text);

/*
 * aws_config_files(), both files read with aws_file_read() (1 MiB cap),
 * aws_config_resolve(), the texts wiped: the whole of startup. On success
 * *out is filled (free with aws_config_free()); on failure it is untouched.
 */
enum cbq_err aws_config_load(const struct aws_env *env, struct aws_config *out,
			     struct cbq_error *err) CBQ_MUST_CHECK;

#endif
