/*
 * Request → reply or a printed error, with the exit code; see call.h.
 * Knows the wire (cbq.v1.Error) and which flag sets which field, nothing
 * about what a particular command asks for.
 */
#include "call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbq/v1/cbq.pb-c.h"
#include "print.h"

enum {
	SHORT_BODY_MAX = 200,
	/* a 429 is waited out this many times, when it asks for at most
	 * RATE_WAIT_MAX_S: a script's burst slows down instead of failing */
	RATE_RETRIES = 3,
	RATE_WAIT_MAX_S = 10,
};

static const struct {
	const char *field, *flag;
} field_flags[] = {
	{ "spec.account_id", "account" },
	{ "spec.name", "name" },
	{ "spec.kind", "kind" },
	{ "spec.instance_type", "instance-type" },
	{ "spec.count", "count" },
	{ "spec.duration_seconds", "duration" },
	{ "spec.priority", "priority" },
	{ "spec.checkpointable", "checkpointable" },
	{ "spec.launch.image_id", "image-id" },
	{ "spec.launch.subnet_id", "subnet-id" },
	{ "spec.launch.security_group_ids", "security-group-id" },
	{ "spec.launch.key_name", "key-name" },
	{ "spec.launch.user_data", "user-data" },
	{ "spec.launch.instance_profile", "instance-profile" },
	{ "spec.launch.tags", "tag" },
	{ "idempotency_key", "idempotency-key" },
	/* ls query parameters */
	{ "state", "state" },
	{ "kind", "kind" },
	{ "team", "team" },
	{ "page_size", "limit" },
	{ "X-Cbq-Account", "account" },
};

const char *cli_flag_for_field(const char *field)
{
	if (!field)
		return NULL;
	for (size_t i = 0; i < sizeof(field_flags) / sizeof(field_flags[0]); i++) {
		size_t n = strlen(field_flags[i].field);

		/* the field itself, or an element or member of it */
		if (strncmp(field, field_flags[i].field, n) == 0 &&
		    (field[n] == '\0' || field[n] == '[' || field[n] == '.'))
			return field_flags[i].flag;
	}
	return NULL;
}

/* Whether body is short text worth showing after the status. */
static bool short_text(const struct cli_http_reply *r)
{
	if (r->len == 0 || r->len > SHORT_BODY_MAX)
		return false;
	if (r->content_type[0] && strncmp(r->content_type, "text/plain", 10) != 0)
		return false;
	for (size_t i = 0; i < r->len; i++)
		if ((r->body[i] < 0x20 && r->body[i] != '\n' && r->body[i] != '\r' &&
		     r->body[i] != '\t') || r->body[i] >= 0x7f)
			return false;
	return true;
}

void cli_describe_error(const struct cli_http_reply *r, char *buf, size_t size)
{
	Cbq__V1__Error *e = NULL;

	if (strcmp(r->content_type, "application/x-protobuf") == 0)
		e = cbq__v1__error__unpack(NULL, r->len, r->body);
	if (e && e->message && *e->message) {
		char *msg = cli_clean(e->message);
		char *field = cli_clean(e->field);
		const char *flag = cli_flag_for_field(e->field);

		if (*field && flag)
			snprintf(buf, size, "%s (field: %s, flag: --%s)", msg, field, flag);
		else if (*field)
			snprintf(buf, size, "%s (field: %s)", msg, field);
		else
			snprintf(buf, size, "%s", msg);
		free(msg);
		free(field);
	} else if (short_text(r)) {
		char text[SHORT_BODY_MAX + 1];
		size_t n = 0;

		/* one line: newlines and tabs become spaces, ends trimmed */
		for (size_t i = 0; i < r->len; i++)
			text[n++] = r->body[i] < 0x20 ? ' ' : (char)r->body[i];
		while (n > 0 && text[n - 1] == ' ')
			n--;
		text[n] = '\0';
		const char *t = text;
		while (*t == ' ')
			t++;
		snprintf(buf, size, "server answered HTTP %ld%s%s", r->status, *t ? ": " : "", t);
	} else {
		snprintf(buf, size, "server answered HTTP %ld", r->status);
	}
	if (e)
		cbq__v1__error__free_unpacked(e, NULL);
}

enum cli_exit cli_connect(struct cli_ctx *ctx)
{
	struct cbq_error err = { 0 };

	if (ctx->http)
		return CLI_EXIT_OK;
	if (cli_http_new(&ctx->settings, &ctx->http, &err) != CBQ_OK) {
		fprintf(stderr, "cbq: %s\n", err.msg);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* A 429 asking for a short wait: says so on stderr, waits, and returns true
 * to send the call again. cbqd answers 429 before acting on a call, so any
 * call, a submit too, may be sent again. */
static bool wait_out_429(const struct cli_http_reply *r, int attempt)
{
	char line[1024];

	if (r->status != 429 || attempt >= RATE_RETRIES || r->retry_after_s < 1 ||
	    r->retry_after_s > RATE_WAIT_MAX_S)
		return false;
	cli_describe_error(r, line, sizeof(line));
	fprintf(stderr, "cbq: %s; waiting %ld s for the rate limit\n", line, r->retry_after_s);
	sleep((unsigned)r->retry_after_s);
	return true;
}

enum cli_exit cli_call(struct cli_ctx *ctx, const char *method, const char *path,
		       const ProtobufCMessage *body, const ProtobufCMessageDescriptor *want,
		       ProtobufCMessage **out)
{
	struct cli_http_reply reply = { 0 };
	struct cbq_error err = { 0 };
	uint8_t *packed = NULL;
	size_t len = 0;
	ProtobufCMessage *msg;
	enum cli_exit rc = cli_connect(ctx);
	enum cbq_err sent;
	char line[1024];

	if (rc != CLI_EXIT_OK)
		return rc;
	if (body) {
		len = protobuf_c_message_get_packed_size(body);
		packed = cli_xrealloc(NULL, len);
		protobuf_c_message_pack(body, packed);
	}
	for (int attempt = 0;; attempt++) {
		sent = cli_http_request(ctx->http, method, path, packed, len, &reply, &err);
		if (sent != CBQ_OK || !wait_out_429(&reply, attempt))
			break;
		cli_http_reply_free(&reply);
	}
	switch (sent) {
	case CBQ_OK:
		break;
	case CBQ_ERR_UNAVAILABLE:
		fprintf(stderr, "cbq: %s\n", err.msg);
		rc = CLI_EXIT_UNREACHABLE;
		goto out;
	case CBQ_ERR_INVALID:
		fprintf(stderr, "cbq: %s\n", err.msg);
		rc = CLI_EXIT_USAGE;
		goto out;
	default:
		fprintf(stderr, "cbq: %s\n", err.msg);
		rc = CLI_EXIT_REFUSED;
		goto out;
	}

	if (reply.status < 200 || reply.status > 299) {
		cli_describe_error(&reply, line, sizeof(line));
		fprintf(stderr, "cbq: %s\n", line);
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	if (strcmp(reply.content_type, "application/x-protobuf") != 0) {
		char *ct = cli_clean(reply.content_type[0] ? reply.content_type : "none");
		fprintf(stderr, "cbq: %s %s answered HTTP %ld with content-type %s, not protobuf; is %s a cbqd?\n",
			method, path, reply.status, ct, cli_http_server(ctx->http));
		free(ct);
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	msg = protobuf_c_message_unpack(want, NULL, reply.len, reply.body);
	if (!msg) {
		fprintf(stderr, "cbq: cannot read the reply to %s %s: %zu bytes that are not a %s\n",
			method, path, reply.len, want->name);
		rc = CLI_EXIT_REFUSED;
		goto out;
	}
	*out = msg;
	rc = CLI_EXIT_OK;
out:
	free(packed);
	cli_http_reply_free(&reply);
	return rc;
}

enum cli_exit cli_call_show(struct cli_ctx *ctx, const char *method, const char *path,
			    const ProtobufCMessageDescriptor *want, cli_show_fn *show)
{
	ProtobufCMessage *reply = NULL;
	enum cli_exit rc = cli_call(ctx, method, path, NULL, want, &reply);

	if (rc != CLI_EXIT_OK)
		return rc;
	if (ctx->settings.output == CLI_OUTPUT_JSON) {
		if (!cli_print_json(reply))
			rc = CLI_EXIT_REFUSED;
	} else {
		show(ctx, reply);
	}
	protobuf_c_message_free_unpacked(reply, NULL);
	return rc;
}
