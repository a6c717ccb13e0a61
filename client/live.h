/*
 * What cbq's live views share (wait, submit --wait, why, top): one GET that
 * reports instead of printing, so a view can keep its screen and try again
 * after a 429, a 503 or a lost connection; times for people in local time
 * ("14:05", "in 38m"); and what a job's state means for `cbq wait`. The
 * views themselves are cmd_watch.c and cmd_top.c; the terminal is term.c.
 */
#ifndef CBQ_CLIENT_LIVE_H
#define CBQ_CLIENT_LIVE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* Limits on the live views' settings. */
enum {
	LIVE_INTERVAL_MIN_MS = 200,
	LIVE_INTERVAL_MAX_MS = 60 * 1000,
	LIVE_RETRY_AFTER_MAX_MS = 5 * 60 * 1000, /* a longer Retry-After is capped */
	LIVE_TEXT_MAX = 1024,			 /* one status or error line */
	LIVE_WHEN_BUF = 48,			 /* cli_live_when's output */
};

struct cli_live_error {
	/* worth trying again: 429, 503, or no reply at all */
	bool transient;
	/* the server's Retry-After in ms, 0 when it named none */
	long retry_ms;
	char msg[LIVE_TEXT_MAX]; /* clean, one line, without "cbq: " */
};

/*
 * GET path (opening ctx->http if needed) and unpack a 2xx reply as want into
 * *out (free with protobuf_c_message_free_unpacked). Prints nothing: on
 * failure leaves *out alone, fills *e and returns CLI_EXIT_USAGE (bad
 * settings), CLI_EXIT_UNREACHABLE (no reply) or CLI_EXIT_REFUSED (an error
 * reply or one cbq cannot read).
 */
enum cli_exit cli_live_get(struct cli_ctx *ctx, const char *path,
			   const ProtobufCMessageDescriptor *want, ProtobufCMessage **out,
			   struct cli_live_error *e) CBQ_MUST_CHECK;

/* "/v1/jobs/<escaped id>" into buf; false when it does not fit. */
bool cli_live_job_path(struct cli_ctx *ctx, const char *id, char *buf, size_t size);

/* Parses --interval / --timeout text ("2s", "500ms", "1m", "0.5s", "0.5":
 * decimals are seconds) into ms
 * in [min_ms, max_ms]; false (after cli_usage_error) otherwise. */
bool cli_live_parse_ms(const struct cli_command *cmd, const char *flag, const char *text,
		       int64_t min_ms, int64_t max_ms, int64_t *out);


/* t in local time for people: "14:05" today, "Tue 14:05" within a week,
 * else "2026-11-23 14:05"; "-" for 0. Returns buf. */
const char *cli_live_clock(int64_t t, int64_t now, char *buf, size_t size);

/* t relative to now: "in 38m", "5m ago", "now" (within a minute); "" for 0.
 * Returns buf. */
const char *cli_live_in(int64_t t, int64_t now, char *buf, size_t size);

/* "14:05 (in 38m)": both of the above; "-" for 0. Returns buf
 * (LIVE_WHEN_BUF is enough). */
const char *cli_live_when(int64_t t, int64_t now, char *buf, size_t size);

/* The job state's name ("queued", "timed_out"). Returns buf. */
const char *cli_live_state(int state, char *buf, size_t size);

/*
 * What state means for cbq wait: true when waiting is over, with *rc the
 * exit code (0 for running or succeeded, CLI_EXIT_JOB_* for the others).
 * With until_ended, running is not over yet.
 */
bool cli_live_outcome(int state, bool until_ended, enum cli_exit *rc);

/*
 * The flags of waiting for a job, as rows of a struct cli_opt table (cbq
 * wait's, and submit's after --wait): --until, --timeout, --interval.
 */
#define CLI_WATCH_OPTS                                                                             \
	{ OPT_UNTIL, "until", 0, "running|ended",                                                  \
	  "wait until the job runs (default) or until it ends" },                                  \
		{ OPT_TIMEOUT, "timeout", 0, "D",                                                  \
		  "give up after D (e.g. 30m) with exit code 8; the job goes on" },                \
	{                                                                                          \
		OPT_INTERVAL, "interval", 0, "D", "ask the server every D, 0.2s..60s (default 1s)" \
	}

/* Checks --until, --timeout and --interval in args before anything is sent;
 * false after cli_usage_error(cmd, ...). Implemented in cmd_watch.c. */
bool cli_watch_flags_ok(const struct cli_command *cmd, const struct cli_args *args);

/*
 * Polls job id until it runs or ends (see cli_live_outcome), showing its
 * state, queue position, ETA and reason on stderr: one line redrawn in
 * place on a terminal, else a line whenever one of them changes. Reads
 * --until, --timeout and --interval from args (usage errors name cmd).
 * Returns the outcome's exit code, CLI_EXIT_WAIT_TIMEOUT, or
 * CLI_EXIT_INTERRUPTED on Ctrl-C; never cancels the job. With -o json the
 * job as it stands at the end goes to stdout. Implemented in cmd_watch.c.
 */
enum cli_exit cli_watch_job(struct cli_ctx *ctx, const struct cli_command *cmd,
			    const struct cli_args *args, const char *id) CBQ_MUST_CHECK;

#endif
