/*
 * Settings and argv for the CLI; see args.h. Precedence is the caller's
 * order of calls (config file, then environment, then flags), each
 * replacing what came before. Nothing here prints or exits.
 */
#include "args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cli_opt cli_global_opts[] = {
	{ OPT_SERVER, "server", 0, "URL", "cbqd to talk to (default " CLI_DEFAULT_SERVER ")" },
	{ OPT_CA, "ca", 0, "FILE", "CA certificates that sign the server's certificate" },
	{ OPT_CERT, "cert", 0, "FILE", "client certificate for mTLS (with --key)" },
	{ OPT_KEY, "key", 0, "FILE", "private key of --cert" },
	{ OPT_ACCOUNT, "account", 0, "ID", "AWS account (12 digits) to act as and run jobs in" },
	{ OPT_SERVER_ID, "server-id", 0, "ID",
	  "IAM identity: the server id cbqd expects (default: --server's host name)" },
	{ OPT_OUTPUT, "output", 'o', "table|json", "output format (default table)" },
	{ OPT_HELP, "help", 'h', NULL, "show help" },
};
const size_t cli_n_global_opts = sizeof(cli_global_opts) / sizeof(cli_global_opts[0]);

void cli_settings_free(struct cli_settings *s)
{
	if (!s)
		return;
	free(s->server);
	free(s->ca);
	free(s->cert);
	free(s->key);
	free(s->account);
	free(s->server_id);
	memset(s, 0, sizeof(*s));
}

static enum cbq_err replace(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return CBQ_ERR_INTERNAL;
	free(*slot);
	*slot = copy;
	return CBQ_OK;
}

enum cbq_err cli_settings_set(struct cli_settings *s, const char *name,
			      const char *value, struct cbq_error *err)
{
	char **slot = NULL;

	if (strcmp(name, "server") == 0)
		slot = &s->server;
	else if (strcmp(name, "ca") == 0)
		slot = &s->ca;
	else if (strcmp(name, "cert") == 0)
		slot = &s->cert;
	else if (strcmp(name, "key") == 0)
		slot = &s->key;
	else if (strcmp(name, "account") == 0)
		slot = &s->account;
	else if (strcmp(name, "server-id") == 0)
		slot = &s->server_id;
	else if (strcmp(name, "output") != 0)
		return cbq_fail(err, CBQ_ERR_INVALID, name,
				"unknown setting \"%.64s\" (known: server, ca, cert, key, account, "
				"server-id, output)",
				name);

	if (!*value)
		return cbq_fail(err, CBQ_ERR_INVALID, name, "%s needs a value", name);
	if (strnlen(value, CLI_SETTING_MAX + 1) > CLI_SETTING_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, name, "%s is longer than %d characters",
				name, CLI_SETTING_MAX);
	if (!slot) {
		if (strcmp(value, "table") == 0)
			s->output = CLI_OUTPUT_TABLE;
		else if (strcmp(value, "json") == 0)
			s->output = CLI_OUTPUT_JSON;
		else
			return cbq_fail(err, CBQ_ERR_INVALID, name,
					"output \"%.64s\" is not one of table, json", value);
		return CBQ_OK;
	}
	if (replace(slot, value) != CBQ_OK)
		return cbq_fail(err, CBQ_ERR_INTERNAL, name, "out of memory");
	return CBQ_OK;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trims [*b, *e) of spaces on both ends. */
static void trim(const char **b, const char **e)
{
	while (*b < *e && is_space(**b))
		(*b)++;
	while (*e > *b && is_space((*e)[-1]))
		(*e)--;
}

enum cbq_err cli_config_parse(struct cli_settings *s, const char *path,
			      const char *text, size_t len, struct cbq_error *err)
{
	const char *p = text, *end = text + len;
	int lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *kb = p, *ke, *vb, *ve = le;
		char key[32], value[CLI_SETTING_MAX + 1];
		struct cbq_error inner;

		lineno++;
		p = nl ? nl + 1 : end;
		if ((size_t)(le - kb) > CLI_CONFIG_LINE_MAX)
			return cbq_fail(err, CBQ_ERR_INVALID, "config",
					"%s:%d: line is longer than %d characters", path, lineno,
					CLI_CONFIG_LINE_MAX);
		if (memchr(kb, '\0', (size_t)(le - kb)))
			return cbq_fail(err, CBQ_ERR_INVALID, "config",
					"%s:%d: NUL byte; is this a text file?", path, lineno);
		trim(&kb, &ve);
		if (kb == ve || *kb == '#')
			continue;
		ke = memchr(kb, '=', (size_t)(ve - kb));
		if (!ke)
			return cbq_fail(err, CBQ_ERR_INVALID, "config",
					"%s:%d: expected \"key = value\"", path, lineno);
		vb = ke + 1;
		trim(&kb, &ke);
		trim(&vb, &ve);
		if ((size_t)(ke - kb) >= sizeof(key) || ke == kb)
			return cbq_fail(err, CBQ_ERR_INVALID, "config",
					"%s:%d: unknown key \"%.*s\" (known: server, ca, cert, key, account, "
					"server-id, output)",
					path, lineno, (int)(ke - kb > 64 ? 64 : ke - kb), kb);
		memcpy(key, kb, (size_t)(ke - kb));
		key[ke - kb] = '\0';
		/* the line limit is below CLI_SETTING_MAX, so the value fits */
		memcpy(value, vb, (size_t)(ve - vb));
		value[ve - vb] = '\0';
		if (cli_settings_set(s, key, value, &inner) != CBQ_OK)
			return cbq_fail(err, inner.code, "config", "%s:%d: %s", path, lineno,
					inner.msg);
	}
	return CBQ_OK;
}

enum cbq_err cli_config_load(struct cli_settings *s, const char *path, struct cbq_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len;
	enum cbq_err rc;

	if (!f) {
		if (errno == ENOENT)
			return CBQ_OK;
		return cbq_fail(err, CBQ_ERR_INVALID, "config", "cannot read %s: %s", path,
				strerror(errno));
	}
	buf = malloc(CLI_CONFIG_MAX + 1);
	if (!buf) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "config", "out of memory");
		goto out;
	}
	len = fread(buf, 1, CLI_CONFIG_MAX + 1, f);
	if (ferror(f)) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "config", "cannot read %s: %s", path,
			      strerror(errno));
		goto out;
	}
	if (len > CLI_CONFIG_MAX) {
		rc = cbq_fail(err, CBQ_ERR_INVALID, "config", "%s is larger than %d KiB", path,
			      CLI_CONFIG_MAX / 1024);
		goto out;
	}
	rc = cli_config_parse(s, path, buf, len, err);
out:
	free(buf);
	fclose(f);
	return rc;
}

enum cbq_err cli_settings_from_env(struct cli_settings *s, struct cbq_error *err)
{
	static const struct {
		const char *env, *name;
	} vars[] = {
		{ "CBQ_SERVER", "server" }, { "CBQ_CA", "ca" },           { "CBQ_CERT", "cert" },
		{ "CBQ_KEY", "key" },       { "CBQ_ACCOUNT", "account" },
		{ "CBQ_SERVER_ID", "server-id" },
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i].env);
		struct cbq_error inner;

		if (!v || !*v)
			continue;
		if (cli_settings_set(s, vars[i].name, v, &inner) != CBQ_OK)
			return cbq_fail(err, inner.code, vars[i].env, "%s: %s", vars[i].env,
					inner.msg);
	}
	return CBQ_OK;
}

static const struct cli_opt *find_long(const struct cli_opt *const *tables, const size_t *n_opts,
				       size_t n_tables, const char *name, size_t len)
{
	for (size_t t = 0; t < n_tables; t++)
		for (size_t i = 0; i < n_opts[t]; i++)
			if (strlen(tables[t][i].name) == len &&
			    strncmp(tables[t][i].name, name, len) == 0)
				return &tables[t][i];
	return NULL;
}

static const struct cli_opt *find_short(const struct cli_opt *const *tables, const size_t *n_opts,
					size_t n_tables, char c)
{
	for (size_t t = 0; t < n_tables; t++)
		for (size_t i = 0; i < n_opts[t]; i++)
			if (tables[t][i].short_name && tables[t][i].short_name == c)
				return &tables[t][i];
	return NULL;
}

static enum cbq_err add_positional(struct cli_args *out, char *arg, struct cbq_error *err)
{
	if (out->n_positional >= CLI_POSITIONAL_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "args", "too many arguments");
	out->positional[out->n_positional++] = arg;
	return CBQ_OK;
}

enum cbq_err cli_args_parse(int argc, char *const *argv,
			    const struct cli_opt *const *tables, const size_t *n_opts,
			    size_t n_tables, bool stop_at_positional, int *used,
			    struct cli_args *out, struct cbq_error *err)
{
	bool flags_done = false;
	int i = 0;

	for (; i < argc; i++) {
		char *a = argv[i];
		const struct cli_opt *opt;
		char *value = NULL;
		bool inline_value = false;

		if (flags_done || a[0] != '-' || a[1] == '\0') {
			if (stop_at_positional)
				break;
			if (add_positional(out, a, err) != CBQ_OK)
				return CBQ_ERR_INVALID;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (a[1] == '-') {
			char *eq = strchr(a + 2, '=');
			size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);

			opt = find_long(tables, n_opts, n_tables, a + 2, len);
			if (eq) {
				value = eq + 1;
				inline_value = true;
			}
		} else {
			opt = a[2] == '\0' ? find_short(tables, n_opts, n_tables, a[1]) : NULL;
		}
		if (!opt)
			return cbq_fail(err, CBQ_ERR_INVALID, "args", "unknown flag %.64s", a);
		if (!opt->arg && inline_value)
			return cbq_fail(err, CBQ_ERR_INVALID, opt->name, "--%s takes no value",
					opt->name);
		if (opt->arg && !inline_value) {
			if (i + 1 >= argc)
				return cbq_fail(err, CBQ_ERR_INVALID, opt->name, "--%s needs %s",
						opt->name, opt->arg);
			value = argv[++i];
		}
		if (out->n_flags >= CLI_ARGS_MAX)
			return cbq_fail(err, CBQ_ERR_INVALID, "args", "more than %d flags",
					CLI_ARGS_MAX);
		out->flags[out->n_flags++] = (struct cli_arg){ .opt = opt, .value = value };
	}
	if (used)
		*used = i;
	return CBQ_OK;
}

enum cbq_err cli_settings_from_args(struct cli_settings *s, const struct cli_args *args,
				    struct cbq_error *err)
{
	for (size_t i = 0; i < args->n_flags; i++) {
		const struct cli_opt *o = args->flags[i].opt;
		struct cbq_error inner;

		switch (o->id) {
		case OPT_SERVER:
		case OPT_CA:
		case OPT_CERT:
		case OPT_KEY:
		case OPT_ACCOUNT:
		case OPT_SERVER_ID:
		case OPT_OUTPUT:
			break;
		default:
			continue;
		}
		/* the setting names are the long flag names */
		if (cli_settings_set(s, o->name, args->flags[i].value, &inner) != CBQ_OK)
			return cbq_fail(err, inner.code, o->name, "--%s: %s", o->name, inner.msg);
	}
	return CBQ_OK;
}

bool cli_args_has(const struct cli_args *args, enum cli_opt_id id)
{
	for (size_t i = 0; i < args->n_flags; i++)
		if (args->flags[i].opt->id == id)
			return true;
	return false;
}

char *cli_args_last(const struct cli_args *args, enum cli_opt_id id)
{
	char *v = NULL;

	for (size_t i = 0; i < args->n_flags; i++)
		if (args->flags[i].opt->id == id)
			v = args->flags[i].value;
	return v;
}

enum cbq_err cli_parse_int(const char *name, const char *text, int32_t min, int32_t max,
			   int32_t *out, struct cbq_error *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || text[0] == ' ' || text[0] == '+' ||
	    text[0] == '\t' || v < min || v > max) {
		if (min == INT32_MIN && max == INT32_MAX)
			return cbq_fail(err, CBQ_ERR_INVALID, name,
					"--%s \"%.32s\" is not a whole number", name, text);
		return cbq_fail(err, CBQ_ERR_INVALID, name,
				"--%s \"%.32s\" is not a whole number in %d..%d", name, text,
				(int)min, (int)max);
	}
	*out = (int32_t)v;
	return CBQ_OK;
}
