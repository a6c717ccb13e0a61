/*
 * Query-protocol parameters: an application/x-www-form-urlencoded body (or
 * a GET query) decoded into name/value pairs ('+' is a space, %XX a byte),
 * bounded in count and size. Lookup by exact name; the first of repeated
 * names wins. Not a URL parser.
 */
#ifndef CBQ_AWSSIM_PARAMS_H
#define CBQ_AWSSIM_PARAMS_H

#include <stddef.h>

#include "core/err.h"

enum {
	SIM_MAX_PARAMS = 2000,
	SIM_MAX_PARAM_NAME = 256,
	SIM_MAX_PARAM_VALUE = 65536,
};

struct sim_param {
	char *name;
	char *value;
};

struct sim_params {
	struct sim_param *v;
	size_t n;
};

/* Decodes text[0..len). On failure *out is empty and err says why. */
enum cbq_err sim_params_parse(const char *text, size_t len, struct sim_params *out,
			      struct cbq_error *err) CBQ_MUST_CHECK;
void sim_params_free(struct sim_params *p);

/* The value of name, NULL when absent. */
const char *sim_params_get(const struct sim_params *p, const char *name);
/* The same with the name from a format: sim_params_getf(p, "InstanceId.%zu", i). */
const char *sim_params_getf(const struct sim_params *p, const char *fmt, ...) CBQ_PRINTF(2, 3);

#endif
