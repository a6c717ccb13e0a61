/*
 * Shared parts of the live views; see live.h. The GET here differs from
 * cli_call only in that it reports instead of printing: a live view owns
 * its screen, and a 429 or a restarting cbqd is a reason to wait, not to
 * quit.
 */
#include "live.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "call.h"
#include "cbq/v1/cbq.pb-c.h"
#include "core/duration.h"
#include "print.h"

static void set_msg(struct cli_live_error *e, const char *text)
{
	char *clean = cli_clean(text);

	snprintf(e->msg, sizeof(e->msg), "%s", clean);
	free(clean);
}

enum cli_exit cli_live_get(struct cli_ctx *ctx, const char *path,
			   const ProtobufCMessageDescriptor *want, ProtobufCMessage **out,
			   struct cli_live_error *e)
{
	struct cli_http_reply reply = { 0 };
	struct cbq_error err = { 0 };
	ProtobufCMessage *msg;
	enum cli_exit rc;

	memset(e, 0, sizeof(*e));
	if (!ctx->http && cli_http_new(&ctx->settings, &ctx->http, &err) != CBQ_OK) {
		set_msg(e, err.msg);
		return CLI_EXIT_USAGE;
	}
	switch (cli_http_request(ctx->http, "GET", path, NULL, 0, &reply, &err)) {
	case CBQ_OK: break;
	case CBQ_ERR_UNAVAILABLE:
		e->transient = true;
		set_msg(e, err.msg);
		return CLI_EXIT_UNREACHABLE;
	case CBQ_ERR_INVALID: set_msg(e, err.msg); return CLI_EXIT_USAGE;
	default: set_msg(e, err.msg); return CLI_EXIT_REFUSED;
	}
	if (reply.status < 200 || reply.status > 299) {
		cli_describe_error(&reply, e->msg, sizeof(e->msg));
		e->transient = reply.status == 429 || reply.status == 503;
		if (e->transient && reply.retry_after_s > 0)
			e->retry_ms = reply.retry_after_s > LIVE_RETRY_AFTER_MAX_MS / 1000 ?
					      LIVE_RETRY_AFTER_MAX_MS :
					      reply.retry_after_s * 1000;
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	if (strcmp(reply.content_type, "application/x-protobuf") != 0) {
		snprintf(e->msg, sizeof(e->msg),
			 "GET %s answered HTTP %ld without protobuf; is %s a cbqd?", path,
			 reply.status, cli_http_server(ctx->http));
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	msg = protobuf_c_message_unpack(want, NULL, reply.len, reply.body);
	if (!msg) {
		snprintf(e->msg, sizeof(e->msg), "cannot read the reply to GET %s: not a %s", path,
			 want->name);
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	*out = msg;
	rc = CLI_EXIT_OK;
out:
	cli_http_reply_free(&reply);
	return rc;
}

bool cli_live_job_path(struct cli_ctx *ctx, const char *id, char *buf, size_t size)
{
	char *e;
	bool ok;

	if (!ctx->http) {
		struct cbq_error err = { 0 };

		if (cli_http_new(&ctx->settings, &ctx->http, &err) != CBQ_OK)
			return false;
	}
	e = cli_http_escape(ctx->http, id);
	ok = e && (size_t)snprintf(buf, size, "/v1/jobs/%s", e) < size;
	free(e);
	return ok;
}

bool cli_live_parse_ms(const struct cli_command *cmd, const char *flag, const char *text,
		       int64_t min_ms, int64_t max_ms, int64_t *out)
{
	size_t len = strlen(text);
	struct cbq_error err = { 0 };
	int64_t ms;

	if (len > 2 && strcmp(text + len - 2, "ms") == 0) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno || end != text + len - 2 || text[0] < '0' || text[0] > '9') {
			cli_usage_error(cmd, "--%s \"%.32s\" is not a duration", flag, text);
			return false;
		}
		ms = v;
	} else if (strchr(text, '.')) {
		char *end;
		double s;

		errno = 0;
		s = strtod(text, &end);
		if (*end == 's') /* "0.5s" as well as "0.5" */
			end++;
		if (errno || *end || text[0] < '0' || text[0] > '9' || !isfinite(s) || s > 1e9) {
			cli_usage_error(cmd, "--%s \"%.32s\" is not a duration", flag, text);
			return false;
		}
		ms = (int64_t)(s * 1000.0 + 0.5);
	} else {
		int64_t s;

		if (cbq_duration_parse(text, &s, &err) != CBQ_OK) {
			cli_usage_error(cmd, "--%s: %s", flag, err.msg);
			return false;
		}
		if (s > INT64_MAX / 1000) {
			cli_usage_error(cmd, "--%s \"%.32s\" is too long", flag, text);
			return false;
		}
		ms = s * 1000;
	}
	if (ms < min_ms || ms > max_ms) {
		char lo[CBQ_DURATION_BUF], hi[CBQ_DURATION_BUF];

		if (min_ms % 1000)
			snprintf(lo, sizeof(lo), "%lldms", (long long)min_ms);
		else
			cbq_duration_format(min_ms / 1000, lo, sizeof(lo));
		cbq_duration_format(max_ms / 1000, hi, sizeof(hi));
		cli_usage_error(cmd, "--%s %.32s is out of range %s..%s", flag, text, lo, hi);
		return false;
	}
	*out = ms;
	return true;
}

const char *cli_live_clock(int64_t t, int64_t now, char *buf, size_t size)
{
	time_t tt = (time_t)(t / 1000), tn = (time_t)(now / 1000);
	struct tm tm, tmn;
	size_t n;

	if (t == 0 || !localtime_r(&tt, &tm) || !localtime_r(&tn, &tmn)) {
		snprintf(buf, size, "-");
		return buf;
	}
	if (tm.tm_year == tmn.tm_year && tm.tm_yday == tmn.tm_yday)
		n = strftime(buf, size, "%H:%M", &tm);
	else if (llabs((long long)(t - now)) < 6LL * 24 * 3600 * 1000)
		n = strftime(buf, size, "%a %H:%M", &tm);
	else
		n = strftime(buf, size, "%Y-%m-%d %H:%M", &tm);
	if (n == 0)
		snprintf(buf, size, "?");
	return buf;
}

const char *cli_live_in(int64_t t, int64_t now, char *buf, size_t size)
{
	char d[CBQ_DURATION_BUF];
	int64_t s = (t - now) / 1000;

	if (t == 0)
		snprintf(buf, size, "%s", "");
	else if (s > -60 && s < 60)
		snprintf(buf, size, "now");
	else if (s > 0)
		snprintf(buf, size, "in %s", cbq_duration_format(s / 60 * 60, d, sizeof(d)));
	else
		snprintf(buf, size, "%s ago", cbq_duration_format(-s / 60 * 60, d, sizeof(d)));
	return buf;
}

const char *cli_live_when(int64_t t, int64_t now, char *buf, size_t size)
{
	char clock[32], in[CBQ_DURATION_BUF + 8];

	if (t == 0) {
		snprintf(buf, size, "-");
		return buf;
	}
	snprintf(buf, size, "%s (%s)", cli_live_clock(t, now, clock, sizeof(clock)),
		 cli_live_in(t, now, in, sizeof(in)));
	return buf;
}

const char *cli_live_state(int state, char *buf, size_t size)
{
	return cli_enum_name(&cbq__v1__job_state__descriptor, state, "JOB_STATE_", '_', buf, size);
}

bool cli_live_outcome(int state, bool until_ended, enum cli_exit *rc)
{
	switch (state) {
	case CBQ__V1__JOB_STATE__JOB_STATE_RUNNING:
	case CBQ__V1__JOB_STATE__JOB_STATE_EXPIRING: *rc = CLI_EXIT_OK; return !until_ended;
	case CBQ__V1__JOB_STATE__JOB_STATE_SUCCEEDED: *rc = CLI_EXIT_OK; return true;
	case CBQ__V1__JOB_STATE__JOB_STATE_FAILED: *rc = CLI_EXIT_JOB_FAILED; return true;
	case CBQ__V1__JOB_STATE__JOB_STATE_CANCELLED: *rc = CLI_EXIT_JOB_CANCELLED; return true;
	case CBQ__V1__JOB_STATE__JOB_STATE_TIMED_OUT: *rc = CLI_EXIT_JOB_TIMED_OUT; return true;
	case CBQ__V1__JOB_STATE__JOB_STATE_EXPIRED: *rc = CLI_EXIT_JOB_EXPIRED; return true;
	default: /* queued, launching, or a state this cbq does not know yet */ return false;
	}
}
