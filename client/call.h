/*
 * One API call from the CLI: send a protobuf request, unpack the expected
 * reply, or turn whatever went wrong into a message on stderr and an exit
 * code. This is the client's edge, where errors become output; the commands
 * above it only decide what to ask and how to print the answer.
 */
#ifndef CBQ_CLIENT_CALL_H
#define CBQ_CLIENT_CALL_H

#include <protobuf-c/protobuf-c.h>

#include "cli.h"
#include "http.h"

/*
 * Sends method path with body packed (NULL: no body) and unpacks a 2xx
 * reply as want into *out (free with protobuf_c_message_free_unpacked).
 * Opens ctx->http on first use. A 429 whose Retry-After is at most 10 s is
 * waited out (up to 3 times, saying so on stderr) and the call sent again.
 * On failure prints "cbq: ..." to stderr,
 * leaves *out alone and returns CLI_EXIT_USAGE (bad settings, nothing
 * sent), CLI_EXIT_UNREACHABLE (no reply) or CLI_EXIT_REFUSED (an error
 * reply, or a reply cbq cannot read).
 */
enum cli_exit cli_call(struct cli_ctx *ctx, const char *method, const char *path,
		       const ProtobufCMessage *body, const ProtobufCMessageDescriptor *want,
		       ProtobufCMessage **out) CBQ_MUST_CHECK;

/* Prints a reply for people (-o table). */
typedef void cli_show_fn(const struct cli_ctx *ctx, const ProtobufCMessage *reply);

/*
 * cli_call without a request body, then prints the reply: proto3 JSON with
 * -o json, else through show. Returns cli_call's exit code, or
 * CLI_EXIT_REFUSED when the JSON cannot be printed.
 */
enum cli_exit cli_call_show(struct cli_ctx *ctx, const char *method, const char *path,
			    const ProtobufCMessageDescriptor *want, cli_show_fn *show) CBQ_MUST_CHECK;

/* Opens ctx->http if needed; on failure prints and returns CLI_EXIT_USAGE. */
enum cli_exit cli_connect(struct cli_ctx *ctx) CBQ_MUST_CHECK;

/* The flag that sets an Error.field ("spec.count" → "count",
 * "spec.launch.tags[2].key" → "tag"), or NULL when none does. */
const char *cli_flag_for_field(const char *field);

/* The line cbq prints for an HTTP error reply (without "cbq: " and
 * newline), written into buf: the Error message with its field and flag,
 * or "server answered HTTP <status>" and a short text body. */
void cli_describe_error(const struct cli_http_reply *r, char *buf, size_t size);

#endif
