/* The error value every module returns through; see err.h. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

enum cbq_err cbq_vfail(struct cbq_error *err, enum cbq_err code,
		       const char *field, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

enum cbq_err cbq_fail(struct cbq_error *err, enum cbq_err code,
		      const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cbq_vfail(err, code, field, fmt, ap);
	va_end(ap);
	return code;
}

void cbq_error_clear(struct cbq_error *err)
{
	memset(err, 0, sizeof(*err));
}

const char *cbq_err_name(enum cbq_err code)
{
	switch (code) {
	case CBQ_OK: return "ok";
	case CBQ_ERR_INVALID: return "invalid";
	case CBQ_ERR_UNAUTHENTICATED: return "unauthenticated";
	case CBQ_ERR_FORBIDDEN: return "forbidden";
	case CBQ_ERR_NOT_FOUND: return "not_found";
	case CBQ_ERR_CONFLICT: return "conflict";
	case CBQ_ERR_TOO_LARGE: return "too_large";
	case CBQ_ERR_UNAVAILABLE: return "unavailable";
	case CBQ_ERR_INTERNAL: return "internal";
	}
	return "unknown";
}
