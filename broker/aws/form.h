/*
 * A bounded builder for AWS query-protocol form bodies (EC2 and STS):
 * "Action=X&Version=Y&Name=Value&..." with names and values percent-encoded
 * per RFC 3986 (A-Z a-z 0-9 - _ . ~ kept, everything else %XX upper-case,
 * space as %20). Parameters appear in the order they are added. It knows no
 * service's parameter names; ec2.c and sts.c do. Pure: no I/O, no globals.
 */
#ifndef CBQ_AWS_FORM_H
#define CBQ_AWS_FORM_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
	AWS_FORM_MAX_BODY = 256 * 1024, /* encoded body, default cap */
	AWS_FORM_MAX_NAME = 256,	/* raw parameter name */
	AWS_FORM_MAX_VALUE = 64 * 1024, /* raw parameter value */
};

/* Sticky like curl's dynbuf: the first failing add records its error and
 * every later add is a no-op, so a builder adds everything and checks once
 * with aws_form_finish(). Memory is owned by the form until taken. */
struct aws_form {
	char *buf;
	size_t len, cap, max;
	struct cbq_error err; /* err.code != CBQ_OK once an add failed */
};

/* Starts a body "Action=<action>&Version=<version>" capped at max encoded
 * bytes (0 means AWS_FORM_MAX_BODY). Never fails by itself: an oversized or
 * empty action is reported by aws_form_finish(). Aborts when memory runs out. */
void aws_form_init(struct aws_form *f, const char *action, const char *version, size_t max);

/* Appends "&name=value". A NULL value adds nothing (optional parameter).
 * Over AWS_FORM_MAX_NAME/VALUE is CBQ_ERR_INVALID naming the parameter; over
 * the body cap is CBQ_ERR_TOO_LARGE. Returns the form's (sticky) status. */
enum cbq_err aws_form_add(struct aws_form *f, const char *name, const char *value);
/* The same with the name built from a format, e.g. "Filter.%zu.Value.%zu". */
enum cbq_err aws_form_addf(struct aws_form *f, const char *value, const char *name_fmt, ...)
	CBQ_PRINTF(3, 4);
enum cbq_err aws_form_add_i64(struct aws_form *f, const char *name, int64_t value);

/* The first error of any add, copied to *err; CBQ_OK when the body is whole. */
enum cbq_err aws_form_finish(const struct aws_form *f, struct cbq_error *err) CBQ_MUST_CHECK;

/* The body so far (NUL-terminated, "" after a failure) and its length. */
const char *aws_form_body(const struct aws_form *f);
size_t aws_form_len(const struct aws_form *f);

/* Frees the buffer and leaves the form empty; accepts a zeroed form. */
void aws_form_free(struct aws_form *f);

/* Percent-encodes len bytes of in into out (NUL-terminated). Returns the
 * encoded length, or (size_t)-1 if out_size is too small. */
size_t aws_form_encode(const char *in, size_t len, char *out, size_t out_size);

/* Records a validation failure (CBQ_ERR_INVALID naming field) as the form's
 * first error, unless one is already recorded; aws_form_finish reports it. */
void aws_form_invalid(struct aws_form *f, const char *field, const char *fmt, ...)
	CBQ_PRINTF(3, 4);

#endif
