/*
 * cbq top: the blocks, the queue and the running jobs the caller may see,
 * redrawn in place every --interval on the alternate screen until q or
 * Ctrl-C; one plain snapshot when stdout is not a terminal (or --once).
 * Each refresh is five GETs (blocks, and jobs in each of queued,
 * launching, running, expiring); what it shows is what they say, with
 * "in 3h" counted from the local clock. One job's story is cmd_watch.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "cbq/v1/cbq.pb-c.h"
#include "core/duration.h"
#include "http.h"
#include "live.h"
#include "print.h"
#include "term.h"

enum {
	TOP_INTERVAL_DEFAULT_MS = 2000,
	TOP_PAGE = 1000, /* jobs per state asked for (the server's page maximum) */
	TOP_FRAME_MAX = 1 << 20,
};

static const struct cli_opt opts[] = {
	{ OPT_INTERVAL, "interval", 0, "D", "redraw every D, 0.2s..60s (default 2s)" },
	{ OPT_ONCE, "once", 0, NULL, "print one snapshot and exit, even on a terminal" },
	{ OPT_TEAM, "team", 0, "T", "admins: only this team's jobs" },
};

/* The jobs states top shows, in the order it asks for them. */
static const char *const states[] = { "queued", "launching", "running", "expiring" };
enum { N_STATES = 4 };

/* The last good answer to each question, kept when a refresh fails. */
struct snapshot {
	Cbq__V1__WhoAmIReply *who;
	Cbq__V1__ListBlocksReply *blocks;
	Cbq__V1__ListJobsReply *jobs[N_STATES];
	bool more[N_STATES];	   /* the server had more than one page */
	char error[LIVE_TEXT_MAX]; /* the last refresh's failure, "" if none */
};

static void snapshot_free(struct snapshot *s)
{
	if (s->who)
		cbq__v1__who_am_ireply__free_unpacked(s->who, NULL);
	if (s->blocks)
		cbq__v1__list_blocks_reply__free_unpacked(s->blocks, NULL);
	for (int i = 0; i < N_STATES; i++)
		if (s->jobs[i])
			cbq__v1__list_jobs_reply__free_unpacked(s->jobs[i], NULL);
	memset(s, 0, sizeof(*s));
}

/* One GET into *slot (replacing what was there) or, on failure, the
 * message into s->error. */
static enum cli_exit refresh_one(struct cli_ctx *ctx, struct snapshot *s, const char *path,
				 const ProtobufCMessageDescriptor *want, ProtobufCMessage **slot,
				 struct cli_live_error *e)
{
	ProtobufCMessage *reply = NULL;
	enum cli_exit rc = cli_live_get(ctx, path, want, &reply, e);

	if (rc != CLI_EXIT_OK) {
		snprintf(s->error, sizeof(s->error), "%s", e->msg);
		return rc;
	}
	if (*slot)
		protobuf_c_message_free_unpacked(*slot, NULL);
	*slot = reply;
	return CLI_EXIT_OK;
}

static enum cli_exit refresh(struct cli_ctx *ctx, struct snapshot *s, const char *team,
			     struct cli_live_error *e)
{
	enum cli_exit rc;
	char path[512];

	s->error[0] = '\0';
	rc = refresh_one(ctx, s, "/v1/blocks", &cbq__v1__list_blocks_reply__descriptor,
			 (ProtobufCMessage **)&s->blocks, e);
	for (int i = 0; i < N_STATES && rc == CLI_EXIT_OK; i++) {
		char *t = team ? cli_http_escape(ctx->http, team) : NULL;

		snprintf(path, sizeof(path), "/v1/jobs?state=%s&page_size=%d%s%s", states[i],
			 TOP_PAGE, t ? "&team=" : "", t ? t : "");
		free(t);
		rc = refresh_one(ctx, s, path, &cbq__v1__list_jobs_reply__descriptor,
				 (ProtobufCMessage **)&s->jobs[i], e);
		if (rc == CLI_EXIT_OK)
			s->more[i] = s->jobs[i]->next_page_token && *s->jobs[i]->next_page_token;
	}
	return rc;
}

/* -------- drawing -------- */

/* A table printed to a string (for the frame), cut to width (0: no cut). */
static char *table_text(const struct cli_table *t, int width)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	cli_table_print(t, f, width);
	fclose(f);
	return text;
}

/* Appends the first n_rows of table t (all when n_rows >= t->n_rows), and a
 * "… and N more" line when rows were left out, to out. */
static void put_table(FILE *out, struct cli_table *t, size_t n_rows, int width, const char *more)
{
	size_t all = t->n_rows;
	char *text;

	if (n_rows < all)
		t->n_rows = n_rows;
	text = table_text(t, width);
	fputs(text, out);
	free(text);
	t->n_rows = all;
	if (n_rows < all)
		fprintf(out, "\xe2\x80\xa6 and %zu more%s\n", all - n_rows, more);
}

static int by_position(const void *a, const void *b)
{
	const Cbq__V1__Job *x = *(Cbq__V1__Job *const *)a, *y = *(Cbq__V1__Job *const *)b;
	/* unranked (0) last, then by id */
	int32_t px = x->queue_position ? x->queue_position : INT32_MAX;
	int32_t py = y->queue_position ? y->queue_position : INT32_MAX;
	long long ix = strtoll(x->id, NULL, 10), iy = strtoll(y->id, NULL, 10);

	if (px != py)
		return px < py ? -1 : 1;
	return (ix > iy) - (ix < iy);
}

static int by_start(const void *a, const void *b)
{
	const Cbq__V1__Job *x = *(Cbq__V1__Job *const *)a, *y = *(Cbq__V1__Job *const *)b;
	long long ix = strtoll(x->id, NULL, 10), iy = strtoll(y->id, NULL, 10);

	if (x->started_at_ms != y->started_at_ms)
		return x->started_at_ms < y->started_at_ms ? -1 : 1;
	return (ix > iy) - (ix < iy);
}

/* How many rows of each section fit in rows lines (0: no limit). The
 * fixed lines are the header (3) and, per section, a title, the column
 * headers and the blank line after it. */
static void budget(int rows, size_t nb, size_t nq, size_t nr, size_t *bmax, size_t *qmax,
		   size_t *rmax)
{
	long avail, b, r, q;

	*bmax = nb, *qmax = nq, *rmax = nr;
	if (rows <= 0)
		return;
	avail = rows - 3 - 3 * 3;
	if (avail < 3)
		avail = 3;
	if ((long)(nb + nq + nr) <= avail)
		return;
	/* a cut section needs a line for "… and N more" */
	b = (long)nb < avail / 4 ? (long)nb : avail / 4 > 1 ? avail / 4 - 1 : 1;
	r = (long)nr < avail / 3 ? (long)nr : avail / 3 > 1 ? avail / 3 - 1 : 1;
	q = avail - b - r - 1;
	if (q > (long)nq) { /* the queue is short: give the rest back */
		long spare = q - (long)nq;
		q = (long)nq;
		r += spare;
		if (r > (long)nr) {
			b += r - (long)nr;
			r = (long)nr;
		}
	}
	*bmax = b < 0 ? 0 : (size_t)b < nb ? (size_t)b : nb;
	*rmax = r < 0 ? 0 : (size_t)r < nr ? (size_t)r : nr;
	*qmax = q < 1 ? 1 : (size_t)q < nq ? (size_t)q : nq;
}

static void draw(struct cli_ctx *ctx, const struct snapshot *s, bool live, int64_t interval_ms,
		 int cols, int rows, FILE *out)
{
	int64_t now = cli_http_now_ms(ctx->http);
	bool admin = s->who && s->who->admin;
	int width = live ? cols : ctx->tty_width;
	char clock[32], buf[64];
	time_t tt = (time_t)(now / 1000);
	struct tm tm;
	Cbq__V1__Job **queued = NULL, **running = NULL;
	size_t nq = 0, nr = 0, bmax, qmax, rmax;
	int32_t queue_length = 0;
	struct cli_table bt, qt, rt;

	/* header */
	strftime(clock, sizeof(clock), "%H:%M:%S",
		 localtime_r(&tt, &tm) ? &tm : gmtime_r(&tt, &tm));
	{
		char *server = cli_clean(ctx->http ? cli_http_server(ctx->http) : "");
		char *account = cli_clean(s->who ? s->who->account_id : "?");
		char *team = cli_clean(s->who ? s->who->team : "?");

		fprintf(out, "cbq top  %s  account %s (team %s%s)  %s", server, account, team,
			admin ? ", admin" : "", clock);
		if (live)
			fprintf(out, "  every %s, q quits",
				interval_ms % 1000 ?
					(snprintf(buf, sizeof(buf), "%.1fs",
						  (double)interval_ms / 1000.0),
					 buf) :
					cbq_duration_format(interval_ms / 1000, buf, sizeof(buf)));
		fputc('\n', out);
		free(server);
		free(account);
		free(team);
	}
	if (s->error[0])
		fprintf(out, "! %s%s\n", s->error,
			live ? " (showing the last good answers; retrying)" : "");
	else
		fputc('\n', out);
	fputc('\n', out);

	/* gather and order the jobs */
	for (int i = 0; i < N_STATES; i++) {
		const Cbq__V1__ListJobsReply *l = s->jobs[i];

		if (!l)
			continue;
		for (size_t k = 0; k < l->n_jobs; k++) {
			if (i == 0) {
				queued = cli_xrealloc(queued, (nq + 1) * sizeof(*queued));
				queued[nq++] = l->jobs[k];
				if (l->jobs[k]->queue_length > queue_length)
					queue_length = l->jobs[k]->queue_length;
			} else {
				running = cli_xrealloc(running, (nr + 1) * sizeof(*running));
				running[nr++] = l->jobs[k];
			}
		}
	}
	if (nq)
		qsort(queued, nq, sizeof(*queued), by_position);
	if (nr)
		qsort(running, nr, sizeof(*running), by_start);
	budget(live ? rows : 0, s->blocks ? s->blocks->n_blocks : 0, nq, nr, &bmax, &qmax, &rmax);

	/* blocks */
	{
		static const char *const h[] = { "BLOCK", "TYPE",  "AZ",       "TOTAL",
						 "AVAIL", "STATE", "CUTOFF IN" };
		cli_table_init(&bt, 7, h);
		for (size_t i = 0; s->blocks && i < s->blocks->n_blocks; i++) {
			const Cbq__V1__Block *b = s->blocks->blocks[i];
			char total[16], avail[16], state[CLI_NAME_BUF], in[CBQ_DURATION_BUF + 8];

			snprintf(total, sizeof(total), "%d", (int)b->total);
			snprintf(avail, sizeof(avail), "%d", (int)b->available);
			if (b->cutoff_ms && b->cutoff_ms > now)
				cbq_duration_format((b->cutoff_ms - now) / 60000 * 60, in,
						    sizeof(in));
			else
				snprintf(in, sizeof(in), "%s", b->cutoff_ms ? "passed" : "-");
			const char *row[] = { b->id,
					      b->instance_type,
					      b->availability_zone,
					      total,
					      avail,
					      cli_enum_name(&cbq__v1__block_state__descriptor,
							    b->state, "BLOCK_STATE_", '-', state,
							    sizeof(state)),
					      in };
			cli_table_add(&bt, row);
		}
		fprintf(out, "BLOCKS (%zu)\n", bt.n_rows);
		if (bt.n_rows)
			put_table(out, &bt, bmax, width, " (cbq blocks)");
		else
			fprintf(out, "(none your team may use)\n");
		cli_table_free(&bt);
	}
	fputc('\n', out);

	/* the queue */
	{
		static const char *const h_team[] = { "POS",   "JOB",  "TEAM", "KIND",
						      "COUNT", "TYPE", "ETA",  "REASON" };
		static const char *const h[] = { "POS",	 "JOB", "KIND",	 "COUNT",
						 "TYPE", "ETA", "REASON" };
		size_t nc = admin ? 8 : 7;

		cli_table_init(&qt, nc, admin ? h_team : h);
		for (size_t i = 0; i < nq; i++) {
			const Cbq__V1__Job *j = queued[i];
			char pos[16] = "", count[16] = "", when[LIVE_WHEN_BUF];
			const char *cells[8];
			size_t c = 0;

			if (j->queue_position)
				snprintf(pos, sizeof(pos), "%d", (int)j->queue_position);
			if (j->spec)
				snprintf(count, sizeof(count), "%d", (int)j->spec->count);
			cells[c++] = pos;
			cells[c++] = j->id;
			if (admin)
				cells[c++] = j->team;
			cells[c++] = j->spec ? j->spec->kind : NULL;
			cells[c++] = count;
			cells[c++] = j->spec ? j->spec->instance_type : NULL;
			cells[c++] = j->eta_ms ? cli_live_when(j->eta_ms, now, when, sizeof(when)) :
						 "-";
			cells[c++] = j->reason;
			cli_table_add(&qt, cells);
		}
		if (admin || !queue_length)
			fprintf(out, "QUEUE (%zu queued%s)\n", nq,
				s->more[0] ? ", first page" : "");
		else
			fprintf(out, "QUEUE (%zu of your team's; %d queued in all)\n", nq,
				(int)queue_length);
		if (nq)
			put_table(out, &qt, qmax, width, " (cbq ls --state queued)");
		else
			fprintf(out, "(empty)\n");
		cli_table_free(&qt);
	}
	fputc('\n', out);

	/* running */
	{
		static const char *const h[] = { "JOB",	  "KIND",    "COUNT",	  "BLOCK",
						 "STATE", "STARTED", "TIME LEFT", "TEAM" };
		cli_table_init(&rt, admin ? 8 : 7, h);
		for (size_t i = 0; i < nr; i++) {
			const Cbq__V1__Job *j = running[i];
			char count[16] = "", state[CLI_NAME_BUF], started[32],
			     left[CBQ_DURATION_BUF] = "-";

			if (j->spec)
				snprintf(count, sizeof(count), "%d", (int)j->spec->count);
			if (j->started_at_ms && j->spec) {
				int64_t end = j->started_at_ms + j->spec->duration_seconds * 1000;
				if (end > now)
					cbq_duration_format((end - now) / 60000 * 60, left,
							    sizeof(left));
				else
					snprintf(left, sizeof(left), "over");
			}
			const char *row[] = {
				j->id,
				j->spec ? j->spec->kind : NULL,
				count,
				j->block_id,
				cli_live_state(j->state, state, sizeof(state)),
				cli_live_clock(j->started_at_ms, now, started, sizeof(started)),
				left,
				j->team,
			};
			cli_table_add(&rt, row);
		}
		fprintf(out, "RUNNING (%zu)\n", nr);
		if (nr)
			put_table(out, &rt, rmax, width, " (cbq ls --state running)");
		else
			fprintf(out, "(none)\n");
		cli_table_free(&rt);
	}
	free(queued);
	free(running);
}

static enum cli_exit top_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	const char *interval_text = cli_args_last(args, OPT_INTERVAL);
	const char *team = cli_args_last(args, OPT_TEAM);
	int64_t interval_ms = TOP_INTERVAL_DEFAULT_MS;
	struct snapshot s = { 0 };
	struct cli_live_error e;
	int cols = 80, rows = 24;
	bool live;
	enum cli_exit rc;

	if (interval_text &&
	    !cli_live_parse_ms(&cli_cmd_top, "interval", interval_text, LIVE_INTERVAL_MIN_MS,
			       LIVE_INTERVAL_MAX_MS, &interval_ms))
		return CLI_EXIT_USAGE;
	if (ctx->settings.output == CLI_OUTPUT_JSON)
		return cli_usage_error(&cli_cmd_top,
				       "top draws for people; for JSON use cbq ls -o json "
				       "and cbq blocks -o json");
	rc = cli_connect(ctx);
	if (rc != CLI_EXIT_OK)
		return rc;
	/* who: once, and before the screen, so a refusal reads like any other */
	rc = refresh_one(ctx, &s, "/v1/whoami", &cbq__v1__who_am_ireply__descriptor,
			 (ProtobufCMessage **)&s.who, &e);
	if (rc == CLI_EXIT_OK)
		rc = refresh(ctx, &s, team, &e);
	live = !cli_args_has(args, OPT_ONCE) && term_size(STDOUT_FILENO, &cols, &rows);
	if (!live || (rc != CLI_EXIT_OK && !e.transient)) {
		if (rc != CLI_EXIT_OK) {
			fprintf(stderr, "cbq: %s\n", e.msg);
		} else {
			char *text = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&text, &len);

			if (!f)
				abort();
			draw(ctx, &s, false, interval_ms, cols, rows, f);
			fclose(f);
			fputs(text, stdout);
			free(text);
		}
		snapshot_free(&s);
		return rc;
	}

	term_enter(TERM_SCREEN | TERM_KEYS);
	for (;;) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		int64_t wait = interval_ms;
		int key;

		if (!f)
			abort();
		draw(ctx, &s, true, interval_ms, cols, rows, f);
		fclose(f);
		if (len > TOP_FRAME_MAX)
			text[TOP_FRAME_MAX] = '\0';
		term_frame(text, cols, rows);
		free(text);

		if (rc != CLI_EXIT_OK && e.retry_ms > wait)
			wait = e.retry_ms;
		key = term_wait_key((int)wait);
		if (key == 'q' || key == 'Q') {
			rc = CLI_EXIT_OK;
			break;
		}
		if (term_signal()) {
			/* Ctrl-C is how people leave a top: not a failure */
			rc = term_signal() == SIGINT ? CLI_EXIT_OK :
						       (enum cli_exit)(128 + term_signal());
			break;
		}
		if (term_resized()) {
			term_size(STDOUT_FILENO, &cols, &rows);
			continue; /* redraw for the new size, without asking again */
		}
		if (key > 0)
			continue; /* another key: the same */
		/* a poll failure (-1 without a signal) just refreshes early */
		rc = refresh(ctx, &s, team, &e);
		if (rc != CLI_EXIT_OK && !e.transient)
			break;
	}
	term_leave();
	if (rc != CLI_EXIT_OK && s.error[0])
		fprintf(stderr, "cbq: %s\n", s.error);
	snapshot_free(&s);
	return rc;
}

const struct cli_command cli_cmd_top = {
	.name = "top",
	.args = "",
	.summary = "watch blocks, the queue and running jobs, redrawn in place",
	.details = "On a terminal it takes the whole screen and redraws every --interval until q\n"
		   "or Ctrl-C (both exit 0), then gives the screen back. Any other key redraws\n"
		   "at once. When stdout is not a terminal, or with --once, it prints one\n"
		   "snapshot and exits. Admins see every team's jobs (a TEAM column; --team T\n"
		   "narrows it). Queue positions rank every team's queued jobs by expected\n"
		   "start; \"in 3h\" and TIME LEFT count from this machine's clock.",
	.opts = opts,
	.n_opts = sizeof(opts) / sizeof(opts[0]),
	.run = top_run,
};
