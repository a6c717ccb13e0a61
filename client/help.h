/*
 * The command table and the help text built from it. Commands define
 * themselves in cmd_*.c; this only lists and describes them.
 */
#ifndef CBQ_CLIENT_HELP_H
#define CBQ_CLIENT_HELP_H

#include <stdio.h>

#include "cli.h"

extern const struct cli_command *const cli_commands[];
extern const size_t cli_n_commands;

/* The command called name, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* Help for cmd, or the overview when cmd is NULL. */
void cli_help(FILE *f, const struct cli_command *cmd);

#endif
