/*
 * What the cbq CLI's parts share: exit codes, the flags every command may
 * take, the command table and the per-run context. The commands themselves
 * are in cmd_*.c; flags and config in args.c; the wire in http.c and call.c.
 * Not a library for other programs: the server side never includes it.
 */
#ifndef CBQ_CLIENT_CLI_H
#define CBQ_CLIENT_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "args.h"

/* The exit codes scripts may rely on. */
enum cli_exit {
	CLI_EXIT_OK = 0,
	CLI_EXIT_REFUSED = 1,     /* the server answered with an error, or nonsense */
	CLI_EXIT_USAGE = 2,       /* bad flags or settings; nothing was sent */
	CLI_EXIT_UNREACHABLE = 3, /* no answer: connect, TLS or timeout failure */
	/* how a waited-for job ended (cbq wait, submit --wait); 0 is running
	 * or succeeded */
	CLI_EXIT_JOB_FAILED = 4,
	CLI_EXIT_JOB_CANCELLED = 5,
	CLI_EXIT_JOB_TIMED_OUT = 6,
	CLI_EXIT_JOB_EXPIRED = 7,   /* its block's cutoff came; not requeued */
	CLI_EXIT_WAIT_TIMEOUT = 8,  /* --timeout passed first; the job goes on */
	CLI_EXIT_INTERRUPTED = 130, /* Ctrl-C; the job goes on */
};

struct cli_http;

/* One run of cbq: settings after config, environment and flags, and the
 * connection, opened on first use and reused (ls --all pages). */
struct cli_ctx {
	struct cli_settings settings;
	struct cli_http *http;
	int tty_width;      /* columns when stdout is a terminal, else 0 */
};

struct cli_command {
	const char *name;
	const char *args;    /* positional arguments for the usage line, e.g. "ID" */
	const char *summary;
	const char *details; /* printed under the flags by COMMAND --help; may be NULL */
	const struct cli_opt *opts;
	size_t n_opts;
	size_t n_positional; /* exactly this many */
	enum cli_exit (*run)(struct cli_ctx *ctx, const struct cli_args *args);
};

extern const struct cli_command cli_cmd_submit;
extern const struct cli_command cli_cmd_ls;
extern const struct cli_command cli_cmd_show;
extern const struct cli_command cli_cmd_cancel;
extern const struct cli_command cli_cmd_blocks;
extern const struct cli_command cli_cmd_whoami;
extern const struct cli_command cli_cmd_wait;
extern const struct cli_command cli_cmd_why;
extern const struct cli_command cli_cmd_top;

/* Prints "cbq: <msg>" and a pointer to the command's help to stderr;
 * returns CLI_EXIT_USAGE. cmd may be NULL. */
enum cli_exit cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	CBQ_PRINTF(2, 3);

#endif
