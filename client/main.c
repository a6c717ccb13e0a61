/*
 * cbq, the command line for cbqd: finds the command, gathers settings
 * (config file < environment < flags) and runs it. Everything else is in
 * the cbq_client library so tests can reach it.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "help.h"
#include "http.h"

/* Columns of the terminal on stdout, or 0 when stdout is not one. */
static int tty_width(void)
{
	struct winsize ws;

	if (!isatty(STDOUT_FILENO))
		return 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static enum cli_exit load_settings(struct cli_settings *s, const struct cli_command *cmd,
				   const struct cli_args *args)
{
	struct cbq_error err = { 0 };
	const char *home = getenv("HOME");

	if (home && *home) {
		char path[4096];

		/* the message names file:line; --help would not help */
		if ((size_t)snprintf(path, sizeof(path), "%s/.config/cbq/config", home) < sizeof(path) &&
		    cli_config_load(s, path, &err) != CBQ_OK) {
			fprintf(stderr, "cbq: %s\n", err.msg);
			return CLI_EXIT_USAGE;
		}
	}
	if (cli_settings_from_env(s, &err) != CBQ_OK || cli_settings_from_args(s, args, &err) != CBQ_OK)
		return cli_usage_error(cmd, "%s", err.msg);
	return CLI_EXIT_OK;
}

static enum cli_exit run(int argc, char **argv, struct cli_ctx *ctx)
{
	struct cli_args args = { 0 };
	const struct cli_opt *tables[2] = { cli_global_opts, NULL };
	size_t n_opts[2] = { cli_n_global_opts, 0 };
	const struct cli_command *cmd;
	struct cbq_error err = { 0 };
	enum cli_exit rc;
	int used = 0;

	/* global flags, up to the command name */
	if (cli_args_parse(argc - 1, argv + 1, tables, n_opts, 1, true, &used, &args, &err) != CBQ_OK)
		return cli_usage_error(NULL, "%s", err.msg);
	if (used == argc - 1) {
		if (cli_args_has(&args, OPT_HELP)) {
			cli_help(stdout, NULL);
			return CLI_EXIT_OK;
		}
		cli_help(stderr, NULL);
		return CLI_EXIT_USAGE;
	}
	const char *name = argv[1 + used];
	if (strcmp(name, "help") == 0) {
		cmd = used + 2 < argc ? cli_command_find(argv[2 + used]) : NULL;
		if (used + 2 < argc && !cmd)
			return cli_usage_error(NULL, "unknown command \"%.32s\"", argv[2 + used]);
		cli_help(stdout, cmd);
		return CLI_EXIT_OK;
	}
	cmd = cli_command_find(name);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command \"%.32s\"", name);

	/* the command's own flags and global flags, in any order */
	tables[1] = cmd->opts;
	n_opts[1] = cmd->n_opts;
	if (cli_args_parse(argc - 2 - used, argv + 2 + used, tables, n_opts, 2, false, NULL, &args,
			   &err) != CBQ_OK)
		return cli_usage_error(cmd, "%s", err.msg);
	if (cli_args_has(&args, OPT_HELP)) {
		cli_help(stdout, cmd);
		return CLI_EXIT_OK;
	}
	if (args.n_positional != cmd->n_positional) {
		if (cmd->n_positional == 0)
			return cli_usage_error(cmd, "%s takes no arguments; \"%.32s\" is one", cmd->name,
					       args.positional[0]);
		return cli_usage_error(cmd, "%s takes one argument: %s", cmd->name, cmd->args);
	}

	rc = load_settings(&ctx->settings, cmd, &args);
	if (rc != CLI_EXIT_OK)
		return rc;
	ctx->tty_width = tty_width();
	return cmd->run(ctx, &args);
}

int main(int argc, char **argv)
{
	struct cli_ctx ctx = { 0 };
	enum cli_exit rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fputs("cbq: cannot initialise libcurl\n", stderr);
		return CLI_EXIT_UNREACHABLE;
	}
	rc = run(argc, argv, &ctx);
	cli_http_free(ctx.http);
	cli_settings_free(&ctx.settings);
	curl_global_cleanup();
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK)
		rc = CLI_EXIT_REFUSED;
	return (int)rc;
}
