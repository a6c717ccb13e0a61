/*
 * Checked reads from jansson values for the scenario parser and the control
 * endpoints: each failure becomes CBQ_ERR_INVALID with a message that starts
 * with the JSON path ("blocks[0].count: must be 1..1000"). Not a schema
 * language; callers spell the rules out.
 */
#ifndef CBQ_AWSSIM_SIMJSON_H
#define CBQ_AWSSIM_SIMJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"
#include "core/job.h"

enum { SIM_PATH_LEN = 128 };

/* Fails with "PATH: <fmt>". */
enum cbq_err sim_json_fail(struct cbq_error *err, const char *path, const char *fmt, ...)
	CBQ_PRINTF(3, 4);

/* "parent.key" and "parent[i]" into out (SIM_PATH_LEN, truncated quietly). */
const char *sim_json_path(char *out, const char *parent, const char *key);
const char *sim_json_index(char *out, const char *parent, size_t i);

/* obj must be an object whose keys all appear in allowed (NULL-terminated). */
enum cbq_err sim_json_object(json_t *obj, const char *path, const char *const *allowed,
			     struct cbq_error *err) CBQ_MUST_CHECK;

/* A string member of length min..max copied into out (size > max). Absent:
 * error when required, else out is left as it is and *present (may be NULL)
 * is false. */
enum cbq_err sim_json_string(json_t *obj, const char *key, const char *path, bool required,
			     size_t min, size_t max, char *out, size_t size, bool *present,
			     struct cbq_error *err) CBQ_MUST_CHECK;
/* An integer member in lo..hi; absent leaves *out unless required. */
enum cbq_err sim_json_int(json_t *obj, const char *key, const char *path, bool required,
			  long long lo, long long hi, long long *out,
			  struct cbq_error *err) CBQ_MUST_CHECK;
/* An ISO-8601 UTC time member ("2026-11-23T08:00:00Z"). */
enum cbq_err sim_json_time(json_t *obj, const char *key, const char *path, bool required,
			   cbq_ms *out, bool *present, struct cbq_error *err) CBQ_MUST_CHECK;
/* A boolean member. */
enum cbq_err sim_json_bool(json_t *obj, const char *key, const char *path, bool *out,
			   struct cbq_error *err) CBQ_MUST_CHECK;
/* An array member with at most max entries (*arr NULL when absent and not
 * required; then the caller treats it as empty). */
enum cbq_err sim_json_array(json_t *obj, const char *key, const char *path, bool required,
			    size_t min, size_t max, json_t **arr,
			    struct cbq_error *err) CBQ_MUST_CHECK;

#endif
