/*
 * The launch plan: what cbq sends to RunInstances and when, as pure
 * decisions. The ClientToken of a job's attempt, the tags its instances get,
 * a per-account pacer that keeps cbq inside EC2's RunInstances token buckets
 * (AWS.md §11.5), and what an attempt's outcome means for the job. It does
 * not build the request (aws/ec2.h), call AWS, sleep or persist anything;
 * the engine does, and it asks the pacer before every RunInstances.
 */
#ifndef CBQ_LAUNCHER_PLAN_H
#define CBQ_LAUNCHER_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/job.h"
#include "inventory/jobfsm.h"

/* ---- ClientToken ------------------------------------------------------ */

/* EC2 takes at most 64 ASCII characters; this holds them plus the NUL. */
enum { LAUNCH_CLIENT_TOKEN_BUF = 65 };

/*
 * "cbq-<job>-<attempt>" in decimal, e.g. "cbq-42-1": the same job and
 * attempt always give the same token, so a repeated launch (a new leader, a
 * lost reply) launches nothing twice, and a new attempt never collides with
 * an old one. At most 34 characters. Refuses job_id < 1 or attempt < 1
 * with CBQ_ERR_INVALID; out is written only on success.
 */
enum cbq_err launch_client_token(int64_t job_id, int32_t attempt, char out[LAUNCH_CLIENT_TOKEN_BUF],
				 struct cbq_error *err) CBQ_MUST_CHECK;

/* The inverse, for tokens read back from DescribeInstances: true only for
 * the exact form launch_client_token writes (no sign, no leading zero, both
 * numbers ≥ 1 and in range); outputs are written only then. */
bool launch_client_token_parse(const char *token, int64_t *job_id, int32_t *attempt);

/* ---- tags --------------------------------------------------------------- */

#define LAUNCH_TAG_JOB "cbq:job"
#define LAUNCH_TAG_TEAM "cbq:team"
enum {
	LAUNCH_TAGS_MAX = 50, /* EC2's limit per resource */
	LAUNCH_TAG_KEY_MAX = 128,
	LAUNCH_TAG_VALUE_MAX = 256,
};

/* The tags of a launch. Points into itself (the cbq:job value) and into the
 * strings launch_tags was given: use it in place, do not copy it. */
struct launch_tag_set {
	struct job_tag tags[LAUNCH_TAGS_MAX];
	size_t n;
	char job_value[24];
};

/*
 * The job's own tags in their order, minus any whose key is cbq:job or
 * cbq:team (cbq's tags win a clash), then cbq:job=<job_id> and
 * cbq:team=<team>. Refuses (CBQ_ERR_INVALID, field "spec.launch.tags" or
 * "team") more than LAUNCH_TAGS_MAX in all, a key used twice, an empty or
 * over-long key, an over-long value, an empty or over-long team, job_id < 1.
 * *out is written only on success.
 */
enum cbq_err launch_tags(int64_t job_id, const char *team, const struct job_tag *tags,
			 size_t n_tags, struct launch_tag_set *out,
			 struct cbq_error *err) CBQ_MUST_CHECK;

/* ---- pacing ------------------------------------------------------------- */

/*
 * EC2 meters RunInstances per account and Region with two token buckets:
 * one token per call (5 max, 2 per second) and one per instance (1000 max,
 * 2 per second). A bucket refills continuously up to its max; a call needs
 * both. The pacer keeps a model of each account's buckets so cbq waits
 * instead of being throttled. It is a model: launches made outside cbq
 * spend the same buckets, so RequestLimitExceeded still happens and the
 * engine reports it with launch_pacer_throttled().
 */
struct launch_bucket_spec {
	int64_t max;	      /* tokens, 1..1000000 */
	int64_t refill_milli; /* thousandths of a token per second, 1..1000000000 */
};

struct launch_pacer_settings {
	struct launch_bucket_spec requests;  /* per RunInstances call */
	struct launch_bucket_spec instances; /* per instance launched */
};

/* EC2's published RunInstances buckets: requests 5 / 2 per s, instances 1000 / 2 per s. */
void launch_pacer_settings_default(struct launch_pacer_settings *s);

/* Accounts the pacer tracks at once; see launch_pacer_take for what happens
 * to the others. */
enum { LAUNCH_PACER_ACCOUNTS = 512 };
/* *wait_ms from launch_pacer_take when the launch can never pass. */
#define LAUNCH_PACER_NEVER ((cbq_ms)-1)

struct launch_bucket {
	int64_t micro; /* millionths of a token, as of `at` */
	cbq_ms at;
};

struct launch_pacer_slot {
	char account[13];
	struct launch_bucket requests, instances;
};

/* A plain value: embed it, zeroing is not enough (use launch_pacer_init). */
struct launch_pacer {
	struct launch_pacer_settings set;
	struct launch_pacer_slot slots[LAUNCH_PACER_ACCOUNTS];
	size_t n;
};

/* Validates s (ranges above; CBQ_ERR_INVALID naming the field) and empties
 * the pacer; p is written only on success. */
enum cbq_err launch_pacer_init(struct launch_pacer *p, const struct launch_pacer_settings *s,
			       struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * May cbq send one RunInstances for count instances into account (12
 * digits) at now? True: both buckets are charged and *wait_ms is 0. False:
 * nothing is charged and *wait_ms is how long until both buckets would
 * allow it (assuming no other take), or LAUNCH_PACER_NEVER when count is
 * outside 1..instances.max or account is not 12 digits. An account seen for
 * the first time starts with full buckets. Time that goes backwards refills
 * nothing. When all LAUNCH_PACER_ACCOUNTS slots are in use, the slot whose
 * buckets are (or soonest will be) full again is reused: forgetting a full
 * bucket loses nothing, and a bucket refills completely within
 * max / refill (500 s for EC2's instance bucket).
 */
bool launch_pacer_take(struct launch_pacer *p, const char *account, int32_t count, cbq_ms now,
		       cbq_ms *wait_ms);

/* EC2 said RequestLimitExceeded for account at now: empty its request
 * bucket, so the next take waits for a refill. Ignores invalid accounts. */
void launch_pacer_throttled(struct launch_pacer *p, const char *account, cbq_ms now);

/* ---- what an attempt's outcome means ------------------------------------ */

/* The class of a RunInstances attempt's result, as the aws/ adapter and the
 * engine see it (mirrors aws/xml.h's classes without depending on aws/). */
enum launch_result {
	LAUNCH_OK,		/* RunInstances returned the attempt's instances */
	LAUNCH_RETRY_EXHAUSTED, /* throttled, 5xx or timed out until the retries ran out */
	LAUNCH_CAPACITY,	/* ReservationCapacityExceeded, InsufficientInstanceCapacity, … */
	LAUNCH_AUTH,		/* credentials rejected even after assuming the role again */
	LAUNCH_NEW_TOKEN,	/* IdempotentInstanceTerminated: the attempt's instances ended */
	LAUNCH_FAIL,		/* anything else: permissions, bad request, quota */
	LAUNCH_RESULT_COUNT
};

/* Backoff after LAUNCH_RETRY_EXHAUSTED: 10 s doubling per round, at most 5 min. */
#define LAUNCH_RETRY_BASE_MS ((cbq_ms)10 * 1000)
#define LAUNCH_RETRY_CAP_MS ((cbq_ms)5 * 60 * 1000)

/* Strings are borrowed for the call and may be NULL. */
struct launch_attempt {
	int64_t job_id;	 /* ≥ 1; the job is in launching */
	int32_t attempt; /* ≥ 1: the attempt whose token was sent */
	int32_t retries; /* RETRY_EXHAUSTED rounds before this one, ≥ 0 */
	enum launch_result result;
	const char *code;     /* AWS's error code, e.g. "UnauthorizedOperation" */
	const char *message;  /* AWS's message */
	const char *action;   /* what was refused; NULL means "ec2:RunInstances" */
	const char *role_arn; /* the role cbq acted as in the job's account */
	const char *block_id; /* cr-… targeted */
};

struct launch_next {
	enum job_state to_state;	  /* launching when the job stays put */
	bool has_transition;		  /* to_state != launching */
	struct inv_transition transition; /* from jobfsm, when has_transition */
	char reason[INV_REASON_MAX];	  /* == transition.reason when there is one */
	cbq_ms retry_after_ms;		  /* RETRY_EXHAUSTED: resend (same token) after this */
	int32_t new_attempt;		  /* the attempt after this outcome */
};

/*
 * The job's next step after one RunInstances attempt, at now:
 *   OK              → running
 *   CAPACITY        → queued, attempt + 1, keeping its place (submission time
 *                     and priority are untouched; the scheduler re-places it)
 *   AUTH, FAIL      → failed, the reason naming the role, the action and
 *                     AWS's code and message
 *   RETRY_EXHAUSTED → stays launching with the same token (the decision to
 *                     launch was committed and is never dropped), resend
 *                     after min(LAUNCH_RETRY_BASE_MS · 2^retries, CAP)
 *   NEW_TOKEN       → queued, attempt + 1: the token's instances already
 *                     ended, so the next launch needs the next attempt's
 *                     token (and a fresh placement, the block may have moved on)
 * Refuses bad input (job_id, attempt, retries < 0, result) with
 * CBQ_ERR_INVALID; *out is written only on success.
 */
enum cbq_err launch_outcome(const struct launch_attempt *a, cbq_ms now, struct launch_next *out,
			    struct cbq_error *err) CBQ_MUST_CHECK;

const char *launch_result_name(enum launch_result r);

#endif
