/*
 * cbq ls, show and cancel: reading and cancelling jobs. Each asks one
 * route (ls --all follows page tokens) and prints the reply as a table, as
 * "key: value" lines, or as proto3 JSON. Submitting is cmd_submit.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "cbq/v1/cbq.pb-c.h"
#include "core/duration.h"
#include "core/job.h"
#include "print.h"

/* ls --all stops here rather than grow without bound. */
enum { LS_ALL_JOBS_MAX = 100000, LS_ALL_PAGES_MAX = 10000 };

static const char *state_name(int state, char *buf, size_t size)
{
	return cli_enum_name(&cbq__v1__job_state__descriptor, state, "JOB_STATE_", '_', buf, size);
}

/* "/v1/jobs/<escaped id><suffix>" into buf; false when it does not fit or
 * memory runs out. */
static bool job_path(struct cli_http *h, const char *id, const char *suffix, char *buf,
		     size_t size)
{
	char *e = cli_http_escape(h, id);
	bool ok = e && (size_t)snprintf(buf, size, "/v1/jobs/%s%s", e, suffix) < size;

	free(e);
	return ok;
}

/* -------- ls -------- */

static const struct cli_opt ls_opts[] = {
	{ OPT_STATE, "state", 0, "S", "queued, launching, running, expiring, succeeded, failed, ..." },
	{ OPT_KIND, "kind", 0, "K", "only jobs of this kind" },
	{ OPT_TEAM, "team", 0, "T", "only this team's jobs (admins; default: your team)" },
	{ OPT_LIMIT, "limit", 0, "N", "jobs per page, 1..1000 (server default 100)" },
	{ OPT_ALL, "all", 0, NULL, "follow pages until the last" },
};

/* Appends "&name=escaped(value)" (or "?" first) to buf; false if it does
 * not fit. */
static bool add_param(struct cli_http *h, char *buf, size_t size, const char *name,
		      const char *value)
{
	size_t len = strlen(buf);
	char *e;
	bool ok;

	if (!value || !*value)
		return true;
	e = cli_http_escape(h, value);
	ok = e && (size_t)snprintf(buf + len, size - len, "%c%s=%s", strchr(buf, '?') ? '&' : '?',
				   name, e) < size - len;
	free(e);
	return ok;
}

/* Accepts "queued", "QUEUED" and "JOB_STATE_QUEUED"; writes the stored name. */
static bool parse_state(const char *text, const char **name)
{
	char lower[32];
	const char *p;
	size_t n = 0;
	enum job_state s;

	for (; text[n] && n + 1 < sizeof(lower); n++)
		lower[n] = (char)tolower((unsigned char)text[n]);
	if (text[n])
		return false;
	lower[n] = '\0';
	p = strncmp(lower, "job_state_", 10) == 0 ? lower + 10 : lower;
	if (!job_state_parse(p, &s))
		return false;
	*name = job_state_name(s);
	return true;
}

static void print_jobs(const struct cli_ctx *ctx, Cbq__V1__Job *const *jobs, size_t n)
{
	static const char *const headers[] = { "ID",       "NAME",  "KIND",      "TYPE",  "COUNT",
					       "DURATION", "STATE", "SUBMITTED", "REASON" };
	struct cli_table t;

	cli_table_init(&t, 9, headers);
	for (size_t i = 0; i < n; i++) {
		const Cbq__V1__Job *j = jobs[i];
		const Cbq__V1__JobSpec *s = j->spec;
		char count[16] = "", dur[CBQ_DURATION_BUF] = "", state[CLI_NAME_BUF],
		     at[CLI_TIME_BUF];

		if (s) {
			snprintf(count, sizeof(count), "%d", (int)s->count);
			cbq_duration_format(s->duration_seconds, dur, sizeof(dur));
		}
		const char *row[] = { j->id,
				      s ? s->name : NULL,
				      s ? s->kind : NULL,
				      s ? s->instance_type : NULL,
				      count,
				      dur,
				      state_name(j->state, state, sizeof(state)),
				      cli_time(j->submitted_at_ms, at, sizeof(at)),
				      j->reason };
		cli_table_add(&t, row);
	}
	cli_table_print(&t, stdout, ctx->tty_width);
	cli_table_free(&t);
}

static enum cli_exit ls_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	const char *state = NULL;
	const char *raw_state = cli_args_last(args, OPT_STATE);
	const char *limit = cli_args_last(args, OPT_LIMIT);
	bool all = cli_args_has(args, OPT_ALL);
	ProtobufCMessage **pages = NULL;
	size_t n_pages = 0;
	Cbq__V1__Job **jobs = NULL;
	size_t n_jobs = 0;
	Cbq__V1__ListJobsReply merged = CBQ__V1__LIST_JOBS_REPLY__INIT;
	const char *token = NULL;
	struct cbq_error err = { 0 };
	int32_t page_size = 0;
	char path[CLI_HTTP_URL_MAX / 2];
	enum cli_exit rc;

	if (raw_state && !parse_state(raw_state, &state))
		return cli_usage_error(&cli_cmd_ls,
				       "--state \"%.32s\" is not a job state: queued, launching, running, expiring, succeeded, failed, timed_out, expired, cancelled",
				       raw_state);
	if (limit && cli_parse_int("limit", limit, 1, INT32_MAX, &page_size, &err) != CBQ_OK)
		return cli_usage_error(&cli_cmd_ls, "%s", err.msg);
	rc = cli_connect(ctx);
	if (rc != CLI_EXIT_OK)
		return rc;

	for (;;) {
		Cbq__V1__ListJobsReply *page;
		ProtobufCMessage *reply = NULL;
		char size_text[16] = "";

		if (page_size)
			snprintf(size_text, sizeof(size_text), "%d", (int)page_size);
		snprintf(path, sizeof(path), "/v1/jobs");
		if (!add_param(ctx->http, path, sizeof(path), "state", state) ||
		    !add_param(ctx->http, path, sizeof(path), "kind", cli_args_last(args, OPT_KIND)) ||
		    !add_param(ctx->http, path, sizeof(path), "team", cli_args_last(args, OPT_TEAM)) ||
		    !add_param(ctx->http, path, sizeof(path), "page_size", size_text) ||
		    !add_param(ctx->http, path, sizeof(path), "page_token", token)) {
			rc = cli_usage_error(&cli_cmd_ls, "the filters are too long for one request");
			goto out;
		}
		rc = cli_call(ctx, "GET", path, NULL, &cbq__v1__list_jobs_reply__descriptor, &reply);
		if (rc != CLI_EXIT_OK)
			goto out;
		pages = cli_xrealloc(pages, (n_pages + 1) * sizeof(*pages));
		pages[n_pages++] = reply;
		page = (Cbq__V1__ListJobsReply *)reply;

		if (page->n_jobs > LS_ALL_JOBS_MAX - n_jobs || n_pages > LS_ALL_PAGES_MAX) {
			fprintf(stderr, "cbq: more than %d jobs or %d pages; narrow the list with --state, --kind or --team\n",
				LS_ALL_JOBS_MAX, LS_ALL_PAGES_MAX);
			rc = CLI_EXIT_REFUSED;
			goto out;
		}
		if (page->n_jobs) { /* an empty page has no array (memcpy from NULL is undefined) */
			jobs = cli_xrealloc(jobs, (n_jobs + page->n_jobs) * sizeof(*jobs));
			memcpy(jobs + n_jobs, page->jobs, page->n_jobs * sizeof(*jobs));
			n_jobs += page->n_jobs;
		}
		token = page->next_page_token;
		if (!all || !token || !*token)
			break;
	}

	merged.jobs = jobs;
	merged.n_jobs = n_jobs;
	/* with --all the merged reply is complete; otherwise say where to go on */
	merged.next_page_token = all ? "" : ((Cbq__V1__ListJobsReply *)pages[0])->next_page_token;
	if (ctx->settings.output == CLI_OUTPUT_JSON) {
		if (!cli_print_json(&merged.base))
			rc = CLI_EXIT_REFUSED;
	} else {
		print_jobs(ctx, jobs, n_jobs);
		if (!all && token && *token)
			fprintf(stderr, "(more jobs: add --all to list them all)\n");
	}
out:
	for (size_t i = 0; i < n_pages; i++)
		protobuf_c_message_free_unpacked(pages[i], NULL);
	free(pages);
	free(jobs);
	return rc;
}

const struct cli_command cli_cmd_ls = {
	.name = "ls",
	.args = "",
	.summary = "list your team's jobs, newest first",
	.opts = ls_opts,
	.n_opts = sizeof(ls_opts) / sizeof(ls_opts[0]),
	.run = ls_run,
};

/* -------- show -------- */

static void print_job(const struct cli_ctx *ctx, const ProtobufCMessage *reply)
{
	const Cbq__V1__Job *j = (const Cbq__V1__Job *)reply;
	const Cbq__V1__JobSpec *s = j->spec;
	const Cbq__V1__LaunchSpec *l = s ? s->launch : NULL;
	char buf[64], at[CLI_TIME_BUF];

	cli_kv(stdout, "id", j->id);
	if (s)
		cli_kv(stdout, "name", s->name);
	cli_kv(stdout, "state", state_name(j->state, buf, sizeof(buf)));
	cli_kv(stdout, "reason", j->reason);
	cli_kv(stdout, "team", j->team);
	if (s) {
		cli_kv(stdout, "account", s->account_id);
		cli_kv(stdout, "kind", s->kind);
		cli_kv(stdout, "instance type", s->instance_type);
		snprintf(buf, sizeof(buf), "%d", (int)s->count);
		cli_kv(stdout, "count", buf);
		cli_kv(stdout, "duration", cbq_duration_format(s->duration_seconds, buf, sizeof(buf)));
		snprintf(buf, sizeof(buf), "%d", (int)s->priority);
		cli_kv(stdout, "priority", buf);
		cli_kv(stdout, "checkpointable", s->checkpointable ? "yes" : "no");
	}
	if (j->eta_ms)
		cli_kv(stdout, "eta", cli_time(j->eta_ms, at, sizeof(at)));
	cli_kv(stdout, "block", j->block_id);
	if (j->n_instance_ids) {
		size_t len = 1;
		for (size_t i = 0; i < j->n_instance_ids; i++)
			len += strlen(j->instance_ids[i]) + 2;
		char *ids = cli_xrealloc(NULL, len);
		ids[0] = '\0';
		for (size_t i = 0; i < j->n_instance_ids; i++) {
			if (i)
				strcat(ids, ", ");
			strcat(ids, j->instance_ids[i]);
		}
		cli_kv(stdout, "instances", ids);
		free(ids);
	}
	if (j->attempt) {
		snprintf(buf, sizeof(buf), "%d", (int)j->attempt);
		cli_kv(stdout, "attempt", buf);
	}
	if (j->submitted_at_ms)
		cli_kv(stdout, "submitted", cli_time(j->submitted_at_ms, at, sizeof(at)));
	cli_kv(stdout, "submitted by", j->submitted_by);
	if (j->started_at_ms)
		cli_kv(stdout, "started", cli_time(j->started_at_ms, at, sizeof(at)));
	if (j->ended_at_ms)
		cli_kv(stdout, "ended", cli_time(j->ended_at_ms, at, sizeof(at)));
	if (j->updated_at_ms)
		cli_kv(stdout, "updated", cli_time(j->updated_at_ms, at, sizeof(at)));
	cli_kv(stdout, "idempotency key", j->idempotency_key);
	if (l) {
		cli_kv(stdout, "image", l->image_id);
		cli_kv(stdout, "subnet", l->subnet_id);
		for (size_t i = 0; i < l->n_security_group_ids; i++)
			cli_kv(stdout, "security group", l->security_group_ids[i]);
		cli_kv(stdout, "key name", l->key_name);
		if (l->user_data.len) {
			snprintf(buf, sizeof(buf), "%zu bytes", l->user_data.len);
			cli_kv(stdout, "user data", buf);
		}
		cli_kv(stdout, "instance profile", l->instance_profile);
		for (size_t i = 0; i < l->n_tags; i++) {
			const Cbq__V1__Tag *t = l->tags[i];
			size_t len = strlen(t->key) + strlen(t->value) + 2;
			char *kv = cli_xrealloc(NULL, len);
			snprintf(kv, len, "%s=%s", t->key, t->value);
			cli_kv(stdout, "tag", kv);
			free(kv);
		}
	}

	if (j->n_events) {
		static const char *const headers[] = { "AT", "FROM", "TO", "ACTOR", "REASON" };
		struct cli_table t;

		cli_table_init(&t, 5, headers);
		for (size_t i = 0; i < j->n_events; i++) {
			const Cbq__V1__JobEvent *e = j->events[i];
			char from[CLI_NAME_BUF], to[CLI_NAME_BUF];
			const char *row[] = {
				cli_time(e->at_ms, at, sizeof(at)),
				e->from_state ? state_name(e->from_state, from, sizeof(from)) : NULL,
				state_name(e->to_state, to, sizeof(to)),
				e->actor,
				e->reason,
			};
			cli_table_add(&t, row);
		}
		printf("\n");
		cli_table_print(&t, stdout, ctx->tty_width);
		cli_table_free(&t);
	}
}

static enum cli_exit show_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	char path[CLI_HTTP_URL_MAX / 2];
	enum cli_exit rc = cli_connect(ctx);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (!job_path(ctx->http, args->positional[0], "", path, sizeof(path)))
		return cli_usage_error(&cli_cmd_show, "job id is too long");
	return cli_call_show(ctx, "GET", path, &cbq__v1__job__descriptor, print_job);
}

const struct cli_command cli_cmd_show = {
	.name = "show",
	.args = "ID",
	.summary = "show a job: every field, why it waits, and its events",
	.n_positional = 1,
	.run = show_run,
};

/* -------- cancel -------- */

static void print_cancelled(const struct cli_ctx *ctx, const ProtobufCMessage *reply)
{
	char *id = cli_clean(((const Cbq__V1__Job *)reply)->id);

	printf("cancelled %s\n", id);
	free(id);
}

static enum cli_exit cancel_run(struct cli_ctx *ctx, const struct cli_args *args)
{
	char path[CLI_HTTP_URL_MAX / 2];
	enum cli_exit rc = cli_connect(ctx);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (!job_path(ctx->http, args->positional[0], ":cancel", path, sizeof(path)))
		return cli_usage_error(&cli_cmd_cancel, "job id is too long");
	return cli_call_show(ctx, "POST", path, &cbq__v1__job__descriptor, print_cancelled);
}

const struct cli_command cli_cmd_cancel = {
	.name = "cancel",
	.args = "ID",
	.summary = "cancel a job; prints \"cancelled ID\"",
	.n_positional = 1,
	.run = cancel_run,
};
