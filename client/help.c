/*
 * The CLI's command table and help text, generated from the same flag
 * tables the parser uses so they cannot disagree. No parsing here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "help.h"

const struct cli_command *const cli_commands[] = {
	&cli_cmd_submit, &cli_cmd_ls,  &cli_cmd_show,   &cli_cmd_cancel, &cli_cmd_wait,
	&cli_cmd_why,    &cli_cmd_top, &cli_cmd_blocks, &cli_cmd_whoami,
};
const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (strcmp(cli_commands[i]->name, name) == 0)
			return cli_commands[i];
	return NULL;
}

static void print_opts(FILE *f, const struct cli_opt *opts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char left[64];

		if (opts[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].short_name, opts[i].name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-30s %s\n", left, opts[i].help);
	}
}

void cli_help(FILE *f, const struct cli_command *cmd)
{
	if (cmd) {
		fprintf(f, "usage: cbq %s%s%s [flags]\n\n%s\n", cmd->name, *cmd->args ? " " : "",
			cmd->args, cmd->summary);
		if (cmd->n_opts) {
			fprintf(f, "\nflags:\n");
			print_opts(f, cmd->opts, cmd->n_opts);
		}
		fprintf(f, "\nglobal flags (see cbq help):\n");
		print_opts(f, cli_global_opts, cli_n_global_opts);
		if (cmd->details)
			fprintf(f, "\n%s\n", cmd->details);
		return;
	}
	fprintf(f, "usage: cbq [global flags] COMMAND [flags]\n\n"
		   "cbq queues jobs on EC2 Capacity Blocks shared through cbqd.\n\n"
		   "commands:\n");
	for (size_t i = 0; i < cli_n_commands; i++) {
		char left[32];

		snprintf(left, sizeof(left), "%s%s%s", cli_commands[i]->name,
			 *cli_commands[i]->args ? " " : "", cli_commands[i]->args);
		fprintf(f, "  %-12s %s\n", left, cli_commands[i]->summary);
	}
	fprintf(f, "  %-12s %s\n", "help [CMD]", "this text, or a command's flags");
	fprintf(f, "\nglobal flags (before or after the command):\n");
	print_opts(f, cli_global_opts, cli_n_global_opts);
	fprintf(f,
		"\nSettings come from flags, then the environment (CBQ_SERVER, CBQ_CA, CBQ_CERT,\n"
		"CBQ_KEY, CBQ_ACCOUNT, CBQ_SERVER_ID), then ~/.config/cbq/config (\"key = value\"\n"
		"lines; keys server, ca, cert, key, account, server-id, output; '#' starts a\n"
		"comment line).\n"
		"Who you are: without --cert or --account, cbq proves your AWS identity (IAM):\n"
		"it signs an sts:GetCallerIdentity request with your AWS credentials (the\n"
		"standard chain: AWS_ACCESS_KEY_ID..., AWS_PROFILE, ~/.aws, instance metadata)\n"
		"for cbqd to check with AWS STS, bound to the server id (default: the host\n"
		"name of --server). With --cert: mTLS. With --account and no --cert: the\n"
		"X-Cbq-Account dev header (servers with dev auth, loopback only).\n"
		"\nexit codes: 0 ok, 1 the server refused, 2 usage, 3 cannot reach the server;\n"
		"cbq wait and submit --wait: 0 the job runs (or succeeded), 4 it failed,\n"
		"5 cancelled, 6 timed out, 7 expired at its block's cutoff, 8 --timeout passed,\n"
		"130 Ctrl-C (the job is not cancelled)\n");
}

enum cli_exit cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("cbq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "\n(cbq %s --help shows its flags)\n", cmd->name);
	else
		fputs("\n(cbq help lists the commands)\n", stderr);
	return CLI_EXIT_USAGE;
}
