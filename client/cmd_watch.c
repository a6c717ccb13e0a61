/*
 * cbq wait and cbq why, and the waiting behind submit --wait: following one
 * job until it runs or ends, and explaining in one paragraph why it waits
 * (or what happened to it), with the numbers the API gives. Everything
 * shown comes from GET /v1/jobs/ID and GET /v1/blocks; nothing is
 * computed here that the server did not say, except "in 38m" from the
 * local clock. The whole-queue view is cmd_top.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "util/clock.h"
#include "cbq/v1/cbq.pb-c.h"
#include "core/duration.h"
#include "http.h"
#include "live.h"
#include "print.h"
#include "term.h"

enum {
	WATCH_INTERVAL_DEFAULT_MS = 1000,
	/* a server that stays away this long ends the wait (exit 3 or 1) */
	WATCH_GIVE_UP_MS = 60 * 1000,
};
#define WATCH_TIMEOUT_MAX_MS (30LL * 24 * 3600 * 1000) /* --timeout: 30 days at most */

static const char *job_type(const Cbq__V1__Job *j)
{
	return j->spec && j->spec->instance_type ? j->spec->instance_type : "?";
}

/* -------- the status line -------- */

/*
 * "job 42: queued #3 of 17, ETA 14:05 (in 38m) — WaitingForCapacity (...)"
 * into buf; into key the same without what only the clock changes (the
 * "in 38m" and the queue length), to tell when to print a new line.
 */
static void status_line(const Cbq__V1__Job *j, int64_t now, char *buf, size_t size, char *key,
			size_t key_size)
{
	char state[CLI_NAME_BUF], when[LIVE_WHEN_BUF], clock[32], where[160] = "";
	char *id = cli_clean(j->id), *reason = cli_clean(j->reason),
	     *block = cli_clean(j->block_id);

	cli_live_state(j->state, state, sizeof(state));
	switch (j->state) {
	case CBQ__V1__JOB_STATE__JOB_STATE_QUEUED:
		if (j->queue_position > 0)
			snprintf(where, sizeof(where), " #%d of %d", (int)j->queue_position,
				 (int)(j->queue_length >= j->queue_position ? j->queue_length :
									      j->queue_position));
		if (j->eta_ms)
			snprintf(where + strlen(where), sizeof(where) - strlen(where), ", ETA %s",
				 cli_live_when(j->eta_ms, now, when, sizeof(when)));
		else
			snprintf(where + strlen(where), sizeof(where) - strlen(where),
				 ", no ETA yet");
		snprintf(key, key_size, "%s|%d|%lld|%s", state, (int)j->queue_position,
			 (long long)j->eta_ms, reason);
		break;
	case CBQ__V1__JOB_STATE__JOB_STATE_LAUNCHING:
	case CBQ__V1__JOB_STATE__JOB_STATE_RUNNING:
	case CBQ__V1__JOB_STATE__JOB_STATE_EXPIRING:
		if (*block)
			snprintf(where, sizeof(where), " on %s", block);
		if (j->started_at_ms)
			snprintf(where + strlen(where), sizeof(where) - strlen(where), " since %s",
				 cli_live_clock(j->started_at_ms, now, clock, sizeof(clock)));
		if (j->started_at_ms && j->spec && j->spec->duration_seconds)
			snprintf(where + strlen(where), sizeof(where) - strlen(where),
				 ", walltime ends %s",
				 cli_live_when(j->started_at_ms + j->spec->duration_seconds * 1000,
					       now, when, sizeof(when)));
		snprintf(key, key_size, "%s|%s|%s", state, block, reason);
		break;
	default:
		if (j->ended_at_ms)
			snprintf(where, sizeof(where), " at %s",
				 cli_live_clock(j->ended_at_ms, now, clock, sizeof(clock)));
		snprintf(key, key_size, "%s|%s", state, reason);
		break;
	}
	snprintf(buf, size, "job %s: %s%s%s%s", id, state, where, *reason ? " \xe2\x80\x94 " : "",
		 reason);
	free(id);
	free(reason);
	free(block);
}

/* -------- waiting -------- */

struct watch {
	int64_t interval_ms, timeout_ms; /* timeout 0: none */
	bool until_ended;
};

static bool watch_flags(const struct cli_command *cmd, const struct cli_args *args, struct watch *w)
{
	const char *until = cli_args_last(args, OPT_UNTIL);
	const char *interval = cli_args_last(args, OPT_INTERVAL);
	const char *timeout = cli_args_last(args, OPT_TIMEOUT);

	w->interval_ms = WATCH_INTERVAL_DEFAULT_MS;
	w->timeout_ms = 0;
	w->until_ended = false;
	if (until && strcmp(until, "ended") == 0) {
		w->until_ended = true;
	} else if (until && strcmp(until, "running") != 0) {
		cli_usage_error(cmd, "--until \"%.32s\" is neither running nor ended", until);
		return false;
	}
	if (interval && !cli_live_parse_ms(cmd, "interval", interval, LIVE_INTERVAL_MIN_MS,
					   LIVE_INTERVAL_MAX_MS, &w->interval_ms))
		return false;
	if (timeout &&
	    !cli_live_parse_ms(cmd, "timeout", timeout, 1, WATCH_TIMEOUT_MAX_MS, &w->timeout_ms))
		return false;
	return true;
}

bool cli_watch_flags_ok(const struct cli_command *cmd, const struct cli_args *args)
{
	struct watch w;

	return watch_flags(cmd, args, &w);
}

/* Ends the status line (on a terminal) and prints "cbq: msg" on stderr. */
static void say(bool tty, bool *drawn, const char *fmt, ...) CBQ_PRINTF(3, 4);

static void say(bool tty, bool *drawn, const char *fmt, ...)
{
	va_list ap;

	if (tty && *drawn)
		fputc('\n', stderr);
	*drawn = false;
	fputs("cbq: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

enum cli_exit cli_watch_job(struct cli_ctx *ctx, const struct cli_command *cmd,
			    const struct cli_args *args, const char *id)
{
	struct watch w;
	char path[CLI_HTTP_URL_MAX / 2];
	char line[LIVE_TEXT_MAX], key[LIVE_TEXT_MAX], last_key[LIVE_TEXT_MAX] = "";
	char *clean_id = NULL;
	int cols = 0, rows = 0;
	bool tty, drawn = false;
	int64_t start = (cbq_clock_mono_us() / 1000), failing_since = 0;
	Cbq__V1__Job *job = NULL;
	enum cli_exit rc;

	if (!watch_flags(cmd, args, &w))
		return CLI_EXIT_USAGE;
	rc = cli_connect(ctx);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!cli_live_job_path(ctx, id, path, sizeof(path)))
		return cli_usage_error(cmd, "job id is too long");
	clean_id = cli_clean(id);
	tty = term_size(STDERR_FILENO, &cols, &rows);
	term_enter(TERM_SIGNALS);

	for (;;) {
		struct cli_live_error e;
		ProtobufCMessage *reply = NULL;
		int64_t wait = w.interval_ms;

		rc = cli_live_get(ctx, path, &cbq__v1__job__descriptor, &reply, &e);
		if (rc == CLI_EXIT_OK) {
			enum cli_exit outcome;

			if (job)
				cbq__v1__job__free_unpacked(job, NULL);
			job = (Cbq__V1__Job *)reply;
			failing_since = 0;
			status_line(job, cli_http_now_ms(ctx->http), line, sizeof(line), key, sizeof(key));
			if (cli_live_outcome(job->state, w.until_ended, &outcome)) {
				if (tty) {
					term_status(stderr, line, cols);
					fputc('\n', stderr);
				} else {
					fprintf(stderr, "%s\n", line);
				}
				drawn = false;
				rc = outcome;
				break;
			}
			if (tty) {
				term_status(stderr, line, cols);
				drawn = true;
			} else if (strcmp(key, last_key) != 0) {
				fprintf(stderr, "%s\n", line);
				snprintf(last_key, sizeof(last_key), "%s", key);
			}
		} else if (e.transient) {
			/* a rate limit, a restarting cbqd: keep waiting, for a while */
			int64_t now = (cbq_clock_mono_us() / 1000);

			if (!failing_since)
				failing_since = now;
			if (now - failing_since > WATCH_GIVE_UP_MS) {
				say(tty, &drawn, "%s; gave up waiting for job %s", e.msg, clean_id);
				break;
			}
			if (e.retry_ms > wait)
				wait = e.retry_ms;
			snprintf(line, sizeof(line), "job %.64s: (%.900s; trying again)", clean_id,
				 e.msg);
			if (tty) {
				term_status(stderr, line, cols);
				drawn = true;
			} else if (strcmp(e.msg, last_key) != 0) {
				fprintf(stderr, "%s\n", line);
				snprintf(last_key, sizeof(last_key), "%s", e.msg);
			}
		} else {
			say(tty, &drawn, "%s", e.msg);
			break;
		}

		if (w.timeout_ms) {
			int64_t left = w.timeout_ms - ((cbq_clock_mono_us() / 1000) - start);

			if (left <= 0) {
				char d[CBQ_DURATION_BUF];

				cbq_duration_format(w.timeout_ms / 1000, d, sizeof(d));
				say(tty, &drawn, "gave up after --timeout %s; job %s goes on", d,
				    clean_id);
				rc = CLI_EXIT_WAIT_TIMEOUT;
				break;
			}
			if (wait > left)
				wait = left;
		}
		if (term_wait_key((int)wait) < 0 && term_signal()) {
			say(tty, &drawn,
			    "stopped waiting; job %s goes on (cbq cancel %s cancels it)", clean_id,
			    clean_id);
			rc = CLI_EXIT_INTERRUPTED;
			break;
		}
		if (term_resized() && tty)
			term_size(STDERR_FILENO, &cols, &rows);
	}
	term_leave();
	if (job && ctx->settings.output == CLI_OUTPUT_JSON && !cli_print_json(&job->base) &&
	    rc == CLI_EXIT_OK)
		rc = CLI_EXIT_REFUSED;
	if (job)
		cbq__v1__job__free_unpacked(job, NULL);
	free(clean_id);
	return rc;
}

/* -------- cbq wait -------- */

static const struct cli_opt wait_opts[] = { CLI_WATCH_OPTS };

static enum cli_exit wait_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	return cli_watch_job(ctx, &cli_cmd_wait, args, args->positional[0]);
}

const struct cli_command cli_cmd_wait = {
	.name = "wait",
	.args = "ID",
	.summary = "wait until a job runs or ends, showing its place, ETA and reason",
	.details =
		"Shows the job's state, queue position, ETA and reason on stderr: one line kept\n"
		"up to date on a terminal, otherwise a line whenever they change. Exits when\n"
		"the job runs (--until running, the default) or ends (--until ended):\n"
		"  0 running, or succeeded    4 failed      5 cancelled\n"
		"  6 timed out                7 expired (its block's cutoff came; not requeued)\n"
		"  8 --timeout passed first   130 Ctrl-C\n"
		"  1, 2, 3 as for every command (refused, usage, server unreachable)\n"
		"With --until ended, 0 means succeeded. Neither --timeout nor Ctrl-C cancels\n"
		"the job. A rate limit (429) or a cbqd that is briefly away is waited out.\n"
		"With -o json the job as it stands at the end is printed on stdout.",
	.opts = wait_opts,
	.n_opts = sizeof(wait_opts) / sizeof(wait_opts[0]),
	.n_positional = 1,
	.run = wait_run,
};

/* -------- cbq why -------- */

/* A growing paragraph, capped at WHY_TEXT_MAX. */
struct para {
	char *text;
	size_t len, cap;
};

enum { WHY_TEXT_MAX = 64 * 1024, WHY_BLOCKS_SHOWN = 8 };

static void add(struct para *p, const char *fmt, ...) CBQ_PRINTF(2, 3);

static void add(struct para *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->len >= WHY_TEXT_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (p->len + (size_t)n + 1 > p->cap) {
		p->cap = p->len + (size_t)n + 1 + 256;
		p->text = cli_xrealloc(p->text, p->cap);
	}
	va_start(ap, fmt);
	vsnprintf(p->text + p->len, p->cap - p->len, fmt, ap);
	va_end(ap);
	p->len += (size_t)n;
}

/* Prints text wrapped at width columns (0: one line), then a newline. */
static void print_wrapped(const char *text, int width)
{
	size_t col = 0;
	const char *p = text;

	if (width <= 20) {
		puts(text);
		return;
	}
	if (width > 100)
		width = 100;
	while (*p) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		char *word = strndup(p, len);
		size_t w;

		if (!word)
			abort();
		w = cli_text_width(word);
		if (col && col + 1 + w > (size_t)width) {
			fputc('\n', stdout);
			col = 0;
		} else if (col) {
			fputc(' ', stdout);
			col++;
		}
		fputs(word, stdout);
		col += w;
		free(word);
		p += len;
		while (*p == ' ')
			p++;
	}
	fputc('\n', stdout);
}

/* "Job 42 (training, 4 × p5.48xlarge for 6h)" */
static void add_job_title(struct para *p, const Cbq__V1__Job *j)
{
	char dur[CBQ_DURATION_BUF];

	add(p, "Job %s", j->id);
	if (j->spec)
		add(p, " (%s, %d \xc3\x97 %s for %s)", j->spec->kind, (int)j->spec->count,
		    job_type(j), cbq_duration_format(j->spec->duration_seconds, dur, sizeof(dur)));
}

static void add_blocks(struct para *p, const Cbq__V1__Job *j, const Cbq__V1__ListBlocksReply *b,
		       int64_t now)
{
	char when[LIVE_WHEN_BUF], clock[32], in[CBQ_DURATION_BUF + 8];
	size_t shown = 0, matching = 0;

	for (size_t i = 0; i < b->n_blocks; i++) {
		const Cbq__V1__Block *k = b->blocks[i];

		if (strcmp(k->instance_type, job_type(j)) != 0 ||
		    (k->state != CBQ__V1__BLOCK_STATE__BLOCK_STATE_ACTIVE &&
		     k->state != CBQ__V1__BLOCK_STATE__BLOCK_STATE_SCHEDULED))
			continue;
		matching++;
		if (shown == WHY_BLOCKS_SHOWN)
			continue;
		if (shown == 0)
			add(p, " Blocks your team may use for %s:", job_type(j));
		add(p, "%s %s", shown ? ";" : "", k->id);
		if (k->state == CBQ__V1__BLOCK_STATE__BLOCK_STATE_ACTIVE)
			add(p, " %d of %d available until the %s cutoff (%s)", (int)k->available,
			    (int)k->total, cli_live_clock(k->cutoff_ms, now, clock, sizeof(clock)),
			    cli_live_in(k->cutoff_ms, now, in, sizeof(in)));
		else
			add(p, " (scheduled) %d instances from %s, until the %s cutoff",
			    (int)k->total, cli_live_when(k->start_ms, now, when, sizeof(when)),
			    cli_live_clock(k->cutoff_ms, now, clock, sizeof(clock)));
		shown++;
	}
	if (matching == 0)
		add(p, " None of the blocks your team may use is for %s right now.", job_type(j));
	else if (matching > shown)
		add(p, "; and %zu more (cbq blocks).", matching - shown);
	else
		add(p, ".");
}

static void explain(struct para *p, const Cbq__V1__Job *j, const Cbq__V1__ListBlocksReply *b,
		    int64_t now)
{
	char when[LIVE_WHEN_BUF], state[CLI_NAME_BUF], dur[CBQ_DURATION_BUF];

	add_job_title(p, j);
	switch (j->state) {
	case CBQ__V1__JOB_STATE__JOB_STATE_QUEUED:
		if (j->queue_position > 0)
			add(p, " is #%d of %d in the queue", (int)j->queue_position,
			    (int)(j->queue_length >= j->queue_position ? j->queue_length :
									 j->queue_position));
		else
			add(p, " is queued");
		if (j->eta_ms)
			add(p, " and expected to start at %s.",
			    cli_live_when(j->eta_ms, now, when, sizeof(when)));
		else
			add(p,
			    " and has no expected start yet: no block it may use has room for it in "
			    "the plan.");
		if (*j->reason)
			add(p, " The scheduler says: %s.", j->reason);
		if (j->attempt > 1)
			add(p, " This is attempt %d: it was requeued at a block's cutoff.",
			    (int)j->attempt);
		if (b)
			add_blocks(p, j, b, now);
		break;
	case CBQ__V1__JOB_STATE__JOB_STATE_LAUNCHING:
		add(p, " is being launched on block %s", *j->block_id ? j->block_id : "(none yet)");
		if (j->attempt > 1)
			add(p, " (attempt %d)", (int)j->attempt);
		add(p, ".");
		if (*j->reason)
			add(p, " The scheduler says: %s.", j->reason);
		break;
	case CBQ__V1__JOB_STATE__JOB_STATE_RUNNING:
	case CBQ__V1__JOB_STATE__JOB_STATE_EXPIRING:
		add(p, " has been running on block %s", *j->block_id ? j->block_id : "?");
		if (j->started_at_ms)
			add(p, " since %s",
			    cli_live_when(j->started_at_ms, now, when, sizeof(when)));
		add(p, " on %zu instance%s", j->n_instance_ids, j->n_instance_ids == 1 ? "" : "s");
		if (j->started_at_ms && j->spec)
			add(p, "; its %s walltime ends at %s",
			    cbq_duration_format(j->spec->duration_seconds, dur, sizeof(dur)),
			    cli_live_when(j->started_at_ms + j->spec->duration_seconds * 1000, now,
					  when, sizeof(when)));
		add(p, ".");
		if (j->state == CBQ__V1__JOB_STATE__JOB_STATE_EXPIRING)
			add(p, " Its block ends soon: %s.", *j->reason ? j->reason : "expiring");
		else if (*j->reason)
			add(p, " Last word from the scheduler: %s.", j->reason);
		break;
	default:
		add(p, " ended %s", cli_live_state(j->state, state, sizeof(state)));
		if (j->ended_at_ms)
			add(p, " at %s", cli_live_when(j->ended_at_ms, now, when, sizeof(when)));
		if (j->started_at_ms && j->ended_at_ms)
			add(p, " after %s on block %s",
			    cbq_duration_format((j->ended_at_ms - j->started_at_ms) / 1000, dur,
						sizeof(dur)),
			    *j->block_id ? j->block_id : "?");
		else if (!j->started_at_ms)
			add(p, " before it started");
		if (j->attempt > 1)
			add(p, " (attempt %d)", (int)j->attempt);
		add(p, ".");
		if (*j->reason)
			add(p, " Final reason: %s.", j->reason);
		break;
	}
}

static enum cli_exit why_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	char path[CLI_HTTP_URL_MAX / 2];
	ProtobufCMessage *job = NULL, *blocks = NULL;
	struct para p = { 0 };
	char *clean;
	enum cli_exit rc;

	if (ctx->settings.output == CLI_OUTPUT_JSON)
		return cli_usage_error(&cli_cmd_why,
				       "why prints prose; for the numbers as JSON use cbq show -o json ID "
				       "and cbq blocks -o json");
	rc = cli_connect(ctx);
	if (rc != CLI_EXIT_OK)
		return rc;
	if (!cli_live_job_path(ctx, args->positional[0], path, sizeof(path)))
		return cli_usage_error(&cli_cmd_why, "job id is too long");
	rc = cli_call(ctx, "GET", path, NULL, &cbq__v1__job__descriptor, &job);
	if (rc != CLI_EXIT_OK)
		goto out;
	if (((Cbq__V1__Job *)job)->state == CBQ__V1__JOB_STATE__JOB_STATE_QUEUED) {
		rc = cli_call(ctx, "GET", "/v1/blocks", NULL,
			      &cbq__v1__list_blocks_reply__descriptor, &blocks);
		if (rc != CLI_EXIT_OK)
			goto out;
	}
	explain(&p, (Cbq__V1__Job *)job, (Cbq__V1__ListBlocksReply *)blocks, cli_http_now_ms(ctx->http));
	clean = cli_clean(p.text);
	print_wrapped(clean, ctx->tty_width);
	free(clean);
out:
	free(p.text);
	if (job)
		protobuf_c_message_free_unpacked(job, NULL);
	if (blocks)
		protobuf_c_message_free_unpacked(blocks, NULL);
	return rc;
}

const struct cli_command cli_cmd_why = {
	.name = "why",
	.args = "ID",
	.summary = "explain in one paragraph why a job waits, or what happened to it",
	.details = "For a queued job: its place in the queue, its ETA, the scheduler's reason and\n"
		   "the blocks of its instance type your team may use, with their free capacity\n"
		   "and cutoffs. For a running or ended job: where and when it ran, and how it\n"
		   "ended. Times are local; \"in 38m\" is from this machine's clock.",
	.n_positional = 1,
	.run = why_run,
};
