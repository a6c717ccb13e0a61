/*
 * Query-protocol form bodies; see form.h. Not a URL library: only the
 * x-www-form-urlencoded body AWS's query APIs take, encoded the RFC 3986 way
 * SigV4 expects.
 */
#include "aws/form.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

size_t aws_form_encode(const char *in, size_t len, char *out, size_t out_size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (unreserved(c)) {
			if (o + 1 >= out_size)
				return (size_t)-1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= out_size)
				return (size_t)-1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xF];
		}
	}
	if (o >= out_size)
		return (size_t)-1;
	out[o] = '\0';
	return o;
}

static size_t encoded_len(const char *in, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += unreserved((unsigned char)in[i]) ? 1 : 3;
	return n;
}

/* Makes room for need more bytes plus a NUL, within f->max. */
static enum cbq_err reserve(struct aws_form *f, size_t need)
{
	if (need > f->max || f->len > f->max - need)
		return cbq_fail(&f->err, CBQ_ERR_TOO_LARGE, "", "request body over %zu bytes",
				f->max);
	if (f->len + need + 1 <= f->cap)
		return CBQ_OK;
	size_t cap = f->cap ? f->cap : 512;
	while (cap < f->len + need + 1)
		cap *= 2;
	char *buf = realloc(f->buf, cap);
	if (!buf)
		abort();
	f->buf = buf;
	f->cap = cap;
	return CBQ_OK;
}

static void append_encoded(struct aws_form *f, const char *s, size_t len)
{
	size_t n = aws_form_encode(s, len, f->buf + f->len, f->cap - f->len);

	/* reserve() made room for encoded_len() + NUL, so this cannot fail. */
	f->len += n;
}

static enum cbq_err add_pair(struct aws_form *f, const char *name, const char *value, bool first)
{
	if (f->err.code)
		return f->err.code;
	if (!value)
		return CBQ_OK;
	size_t nlen = strlen(name), vlen = strlen(value);
	if (nlen == 0 || nlen > AWS_FORM_MAX_NAME)
		return cbq_fail(&f->err, CBQ_ERR_INVALID, "",
				"parameter name is empty or over %d bytes", AWS_FORM_MAX_NAME);
	if (vlen > AWS_FORM_MAX_VALUE)
		return cbq_fail(&f->err, CBQ_ERR_INVALID, name, "%s is over %d bytes", name,
				AWS_FORM_MAX_VALUE);
	size_t need = (first ? 0 : 1) + encoded_len(name, nlen) + 1 + encoded_len(value, vlen);
	if (reserve(f, need))
		return f->err.code;
	if (!first)
		f->buf[f->len++] = '&';
	append_encoded(f, name, nlen);
	f->buf[f->len++] = '=';
	append_encoded(f, value, vlen);
	f->buf[f->len] = '\0';
	return CBQ_OK;
}

void aws_form_init(struct aws_form *f, const char *action, const char *version, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max ? max : AWS_FORM_MAX_BODY;
	if (!action || !*action || !version || !*version) {
		cbq_fail(&f->err, CBQ_ERR_INVALID, "Action", "Action and Version are required");
		return;
	}
	add_pair(f, "Action", action, true);
	add_pair(f, "Version", version, false);
}

enum cbq_err aws_form_add(struct aws_form *f, const char *name, const char *value)
{
	return add_pair(f, name, value, false);
}

enum cbq_err aws_form_addf(struct aws_form *f, const char *value, const char *name_fmt, ...)
{
	char name[AWS_FORM_MAX_NAME + 1];
	va_list ap;
	int n;

	if (f->err.code || !value)
		return f->err.code;
	va_start(ap, name_fmt);
	n = vsnprintf(name, sizeof(name), name_fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(name))
		return cbq_fail(&f->err, CBQ_ERR_INVALID, "", "parameter name over %d bytes",
				AWS_FORM_MAX_NAME);
	return add_pair(f, name, value, false);
}

enum cbq_err aws_form_add_i64(struct aws_form *f, const char *name, int64_t value)
{
	char text[24];

	snprintf(text, sizeof(text), "%" PRId64, value);
	return add_pair(f, name, text, false);
}

enum cbq_err aws_form_finish(const struct aws_form *f, struct cbq_error *err)
{
	if (f->err.code && err)
		*err = f->err;
	return f->err.code;
}

const char *aws_form_body(const struct aws_form *f)
{
	return f->buf && !f->err.code ? f->buf : "";
}

size_t aws_form_len(const struct aws_form *f)
{
	return f->err.code ? 0 : f->len;
}

void aws_form_free(struct aws_form *f)
{
	if (!f)
		return;
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

void aws_form_invalid(struct aws_form *f, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (f->err.code)
		return;
	va_start(ap, fmt);
	cbq_vfail(&f->err, CBQ_ERR_INVALID, field, fmt, ap);
	va_end(ap);
}
