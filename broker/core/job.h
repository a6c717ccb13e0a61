/*
 * Job value types shared by every layer: what a team asks for (struct
 * job_spec), the job as stored (struct job), and the job state names that
 * Postgres, logs and the CLI use. Plain data; no I/O.
 */
#ifndef CBQ_CORE_JOB_H
#define CBQ_CORE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

typedef int64_t cbq_ms; /* Unix time or a span, in milliseconds */

enum job_state {
	JOB_QUEUED,
	JOB_LAUNCHING,
	JOB_RUNNING,
	JOB_EXPIRING,
	JOB_SUCCEEDED,
	JOB_FAILED,
	JOB_TIMED_OUT,
	JOB_EXPIRED,
	JOB_CANCELLED,
	JOB_STATE_COUNT
};

/* "queued", "running", ...: the names stored in jobs.state. */
const char *job_state_name(enum job_state s);
/* Accepts the stored names; false when name is none of them. */
bool job_state_parse(const char *name, enum job_state *out) CBQ_MUST_CHECK;
bool job_state_is_final(enum job_state s);

/* Limits that input controls; validation enforces them, the API documents them. */
enum {
	JOB_COUNT_MAX = 64,
	JOB_NAME_MAX = 128,
	JOB_USER_DATA_MAX = 16 * 1024,
	/* AWS allows 50 tags per instance; cbq adds cbq:job and cbq:team. */
	JOB_TAGS_MAX = 48,
	JOB_TAG_KEY_MAX = 128,
	JOB_TAG_VALUE_MAX = 256,
	JOB_SECURITY_GROUPS_MAX = 16,
	JOB_IDEMPOTENCY_KEY_MAX = 128,
	JOB_KIND_MAX = 32,
	JOB_PRIORITY_MAX = 1000,
};
#define JOB_DURATION_MIN_S ((int64_t)60)
#define JOB_DURATION_MAX_S ((int64_t)14 * 24 * 3600)

struct job_tag {
	const char *key;
	const char *value;
};

/* Borrowed strings: a job_spec points into whatever decoded it. */
struct launch_spec {
	const char *image_id;
	const char *subnet_id;
	const char *const *security_group_ids;
	size_t n_security_group_ids;
	const char *key_name;
	const uint8_t *user_data;
	size_t user_data_len;
	const char *instance_profile;
	const struct job_tag *tags;
	size_t n_tags;
};

struct job_spec {
	const char *account_id;
	const char *name;
	const char *kind;
	const char *instance_type;
	int32_t count;
	int64_t duration_s;
	int32_t priority;
	bool checkpointable;
	struct launch_spec launch;
};

/*
 * Checks everything that can be checked without Postgres: lengths, ranges,
 * formats. Account registration and known kinds are checked where those
 * live. On failure fills err with the offending field (as named in the wire
 * API, e.g. "spec.count") and a message saying what to do.
 */
enum cbq_err job_spec_validate(const struct job_spec *spec,
			       struct cbq_error *err) CBQ_MUST_CHECK;
enum cbq_err job_idempotency_key_validate(const char *key,
					  struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * A job as stored. Strings and arrays are borrowed from whatever produced
 * the value (a database result) and live as long as it does.
 */
struct job {
	int64_t id;
	const char *team;
	struct job_spec spec;
	enum job_state state;
	const char *reason;
	cbq_ms eta;
	const char *block_id;
	const char *const *instance_ids;
	size_t n_instance_ids;
	int32_t attempt;
	cbq_ms submitted_at, started_at, ended_at, updated_at;
	const char *submitted_by;
	const char *idempotency_key;
	/* queued jobs: 1-based rank by expected start (eta, then id; no eta
	 * last) among all queued jobs, and how many are queued; 0 otherwise */
	int32_t queue_position, queue_length;
};

struct job_event {
	cbq_ms at;
	bool has_from;
	enum job_state from, to;
	const char *actor;
	const char *reason;
};

/* Formats: 12 digits; family.size; printable ASCII up to max. */
bool cbq_is_account_id(const char *s);
bool cbq_is_instance_type(const char *s);
bool cbq_is_printable(const char *s, size_t max);

#endif
