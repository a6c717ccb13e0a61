/* Checked jansson reads with JSON-path errors; see simjson.h. */
#include "simjson.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "simutil.h"

enum cbq_err sim_json_fail(struct cbq_error *err, const char *path, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cbq_fail(err, CBQ_ERR_INVALID, path, "%s: %s", path, msg);
}

const char *sim_json_path(char *out, const char *parent, const char *key)
{
	if (!parent || !*parent)
		snprintf(out, SIM_PATH_LEN, "%s", key);
	else
		snprintf(out, SIM_PATH_LEN, "%s.%s", parent, key);
	return out;
}

const char *sim_json_index(char *out, const char *parent, size_t i)
{
	snprintf(out, SIM_PATH_LEN, "%s[%zu]", parent, i);
	return out;
}

enum cbq_err sim_json_object(json_t *obj, const char *path, const char *const *allowed,
			     struct cbq_error *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return sim_json_fail(err, path[0] ? path : "(top)", "must be an object");
	json_object_foreach(obj, key, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || strcmp(key, allowed[i]) == 0;
		if (!ok) {
			char p[SIM_PATH_LEN], shown[48];
			snprintf(shown, sizeof(shown), "%.40s", key);
			return sim_json_fail(err, sim_json_path(p, path, shown),
					     "unknown key (allowed keys are listed in "
					     "tests/awssim/README.md)");
		}
	}
	return CBQ_OK;
}

enum cbq_err sim_json_string(json_t *obj, const char *key, const char *path, bool required,
			     size_t min, size_t max, char *out, size_t size, bool *present,
			     struct cbq_error *err)
{
	char p[SIM_PATH_LEN];
	json_t *v = json_object_get(obj, key);

	sim_json_path(p, path, key);
	if (present)
		*present = false;
	if (!v || json_is_null(v)) {
		if (required)
			return sim_json_fail(err, p, "missing");
		return CBQ_OK;
	}
	if (!json_is_string(v))
		return sim_json_fail(err, p, "must be a string");
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (len < min || len > max || len >= size)
		return sim_json_fail(err, p, "must be %zu..%zu characters", min, max);
	if (strlen(s) != len)
		return sim_json_fail(err, p, "must not contain NUL");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return sim_json_fail(err, p, "must not contain control characters");
	memcpy(out, s, len + 1);
	if (present)
		*present = true;
	return CBQ_OK;
}

enum cbq_err sim_json_int(json_t *obj, const char *key, const char *path, bool required,
			  long long lo, long long hi, long long *out, struct cbq_error *err)
{
	char p[SIM_PATH_LEN];
	json_t *v = json_object_get(obj, key);

	sim_json_path(p, path, key);
	if (!v || json_is_null(v)) {
		if (required)
			return sim_json_fail(err, p, "missing");
		return CBQ_OK;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return sim_json_fail(err, p, "must be an integer %lld..%lld", lo, hi);
	*out = json_integer_value(v);
	return CBQ_OK;
}

enum cbq_err sim_json_time(json_t *obj, const char *key, const char *path, bool required,
			   cbq_ms *out, bool *present, struct cbq_error *err)
{
	char p[SIM_PATH_LEN], buf[48];
	bool have = false;
	enum cbq_err rc =
		sim_json_string(obj, key, path, required, 1, 40, buf, sizeof(buf), &have, err);

	if (present)
		*present = false;
	if (rc || !have)
		return rc;
	if (!sim_time_parse(buf, out))
		return sim_json_fail(err, sim_json_path(p, path, key),
				     "must be an ISO-8601 UTC time like 2026-11-23T08:00:00Z");
	if (present)
		*present = true;
	return CBQ_OK;
}

enum cbq_err sim_json_bool(json_t *obj, const char *key, const char *path, bool *out,
			   struct cbq_error *err)
{
	char p[SIM_PATH_LEN];
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return CBQ_OK;
	if (!json_is_boolean(v))
		return sim_json_fail(err, sim_json_path(p, path, key), "must be true or false");
	*out = json_is_true(v);
	return CBQ_OK;
}

enum cbq_err sim_json_array(json_t *obj, const char *key, const char *path, bool required,
			    size_t min, size_t max, json_t **arr, struct cbq_error *err)
{
	char p[SIM_PATH_LEN];
	json_t *v = json_object_get(obj, key);

	sim_json_path(p, path, key);
	*arr = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return sim_json_fail(err, p, "missing");
		return CBQ_OK;
	}
	if (!json_is_array(v))
		return sim_json_fail(err, p, "must be an array");
	if (json_array_size(v) < min || json_array_size(v) > max)
		return sim_json_fail(err, p, "must have %zu..%zu entries", min, max);
	*arr = v;
	return CBQ_OK;
}
