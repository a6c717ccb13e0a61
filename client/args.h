/*
 * The CLI's settings and flags: where they come from (flags > environment >
 * ~/.config/cbq/config > defaults) and how argv is split into flags and
 * positional arguments. No I/O except reading the config file and the
 * environment; nothing here talks to the server.
 */
#ifndef CBQ_CLIENT_ARGS_H
#define CBQ_CLIENT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define CLI_DEFAULT_SERVER "https://127.0.0.1:8443"

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON };

/* Strings are malloc'd and owned; NULL when unset. */
struct cli_settings {
	char *server;
	char *ca;
	char *cert;
	char *key;
	char *account;
	char *server_id; /* IAM identity: the cbqd a token is for; NULL: --server's host */
	enum cli_output output;
};

/* Limits on what the user controls. */
enum {
	CLI_CONFIG_MAX = 64 * 1024,  /* config file size */
	CLI_CONFIG_LINE_MAX = 4096,  /* one config line */
	CLI_SETTING_MAX = 4096,      /* one setting's value */
	CLI_ARGS_MAX = 256,          /* flags on one command line */
	CLI_POSITIONAL_MAX = 8,
};

void cli_settings_free(struct cli_settings *s);

/*
 * Sets one setting by its config-file name (server, ca, cert, key,
 * account, server-id, output), replacing any earlier value. Fails with
 * CBQ_ERR_INVALID for an unknown name, an empty or over-long value, or an
 * output other than table or json; err->field is the name.
 */
enum cbq_err cli_settings_set(struct cli_settings *s, const char *name,
			      const char *value, struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * Applies `key = value` lines from text (len bytes, from file path, used
 * only in messages). Blank lines and lines starting with '#' are skipped;
 * surrounding spaces are trimmed. Anything else fails with CBQ_ERR_INVALID
 * and a message "path:line: ...". Settings already applied stay applied.
 */
enum cbq_err cli_config_parse(struct cli_settings *s, const char *path,
			      const char *text, size_t len,
			      struct cbq_error *err) CBQ_MUST_CHECK;

/* Reads and applies path; a missing file is not an error. Over
 * CLI_CONFIG_MAX or unreadable fails with CBQ_ERR_INVALID. */
enum cbq_err cli_config_load(struct cli_settings *s, const char *path,
			     struct cbq_error *err) CBQ_MUST_CHECK;

/* Applies CBQ_SERVER, CBQ_CA, CBQ_CERT, CBQ_KEY, CBQ_ACCOUNT, CBQ_SERVER_ID
 * when set and non-empty. */
enum cbq_err cli_settings_from_env(struct cli_settings *s, struct cbq_error *err) CBQ_MUST_CHECK;

/* Every flag the CLI knows; commands switch on these. */
enum cli_opt_id {
	OPT_HELP,
	/* global: settings */
	OPT_SERVER, OPT_CA, OPT_CERT, OPT_KEY, OPT_ACCOUNT, OPT_SERVER_ID, OPT_OUTPUT,
	/* submit */
	OPT_KIND, OPT_INSTANCE_TYPE, OPT_COUNT, OPT_DURATION, OPT_PRIORITY, OPT_NAME,
	OPT_CHECKPOINTABLE, OPT_IMAGE_ID, OPT_SUBNET_ID, OPT_SECURITY_GROUP_ID,
	OPT_KEY_NAME, OPT_USER_DATA, OPT_INSTANCE_PROFILE, OPT_TAG, OPT_IDEMPOTENCY_KEY,
	/* ls */
	OPT_STATE, OPT_TEAM, OPT_LIMIT, OPT_ALL,
	/* live views: submit --wait, wait, top */
	OPT_WAIT, OPT_UNTIL, OPT_TIMEOUT, OPT_INTERVAL, OPT_ONCE,
};

struct cli_opt {
	enum cli_opt_id id;
	const char *name;   /* long name without "--" */
	char short_name;    /* 0 when none */
	const char *arg;    /* placeholder for the value; NULL for a switch */
	const char *help;
};

struct cli_arg {
	const struct cli_opt *opt;
	char *value;        /* points into argv; NULL for a switch */
};

struct cli_args {
	struct cli_arg flags[CLI_ARGS_MAX];
	size_t n_flags;
	char *positional[CLI_POSITIONAL_MAX];
	size_t n_positional;
};

/* The flags every command takes, before or after the command name. */
extern const struct cli_opt cli_global_opts[];
extern const size_t cli_n_global_opts;

/*
 * Splits argv[0..argc) into flags from the given tables (looked up in
 * order) and positional arguments, appending to out. Accepts --name value,
 * --name=value, -x value and "--" (everything after it is positional).
 * With stop_at_positional, stops at the first positional argument and sets
 * *used to its index (argc when there is none). Fails with CBQ_ERR_INVALID
 * for an unknown flag, a missing value, a value given to a switch, or more
 * than the CLI_*_MAX limits.
 */
enum cbq_err cli_args_parse(int argc, char *const *argv,
			    const struct cli_opt *const *tables, const size_t *n_opts,
			    size_t n_tables, bool stop_at_positional, int *used,
			    struct cli_args *out, struct cbq_error *err) CBQ_MUST_CHECK;

/* Applies the global flags in args to s (later flags win). */
enum cbq_err cli_settings_from_args(struct cli_settings *s, const struct cli_args *args,
				    struct cbq_error *err) CBQ_MUST_CHECK;

/* Whether args holds opt id, and its last value. */
bool cli_args_has(const struct cli_args *args, enum cli_opt_id id);
char *cli_args_last(const struct cli_args *args, enum cli_opt_id id);

/* Parses a decimal int32 in [min, max] for flag name; CBQ_ERR_INVALID with
 * a message naming --name otherwise. */
enum cbq_err cli_parse_int(const char *name, const char *text, int32_t min,
			   int32_t max, int32_t *out, struct cbq_error *err) CBQ_MUST_CHECK;

#endif
