/*
 * cbq's one error type. A code says what kind of failure it is; the message
 * says what went wrong and what to do; field names the input at fault. Only
 * api/ turns this into an HTTP status and a protobuf Error.
 */
#ifndef CBQ_CORE_ERR_H
#define CBQ_CORE_ERR_H

#include <stdarg.h>

enum cbq_err {
	CBQ_OK = 0,
	CBQ_ERR_INVALID,     /* bad input; field says which */
	CBQ_ERR_UNAUTHENTICATED,
	CBQ_ERR_FORBIDDEN,
	CBQ_ERR_NOT_FOUND,
	CBQ_ERR_CONFLICT,    /* state or idempotency conflict */
	CBQ_ERR_TOO_LARGE,
	CBQ_ERR_UNAVAILABLE, /* a dependency (Postgres, AWS) cannot be reached */
	CBQ_ERR_INTERNAL,
};

#define CBQ_MUST_CHECK __attribute__((warn_unused_result))
#define CBQ_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

struct cbq_error {
	enum cbq_err code;
	char field[64];
	char msg[256];
};

/* Fills *err (may be NULL) and returns code, so callers can write
 * `return cbq_fail(err, CBQ_ERR_INVALID, "spec.count", "...", ...);`. */
enum cbq_err cbq_fail(struct cbq_error *err, enum cbq_err code,
		      const char *field, const char *fmt, ...) CBQ_PRINTF(4, 5);
enum cbq_err cbq_vfail(struct cbq_error *err, enum cbq_err code,
		       const char *field, const char *fmt, va_list ap)
	CBQ_PRINTF(4, 0);

void cbq_error_clear(struct cbq_error *err);

/* "invalid", "not_found", ...: stable names for logs. */
const char *cbq_err_name(enum cbq_err code);

#endif
