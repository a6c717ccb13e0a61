/*
 * The launch plan's decisions about one job: its ClientToken, its tags and
 * what a RunInstances attempt's outcome means for it. Pure: the engine
 * sends the request, classifies AWS's reply and persists the step; the
 * pacer (plan_pacer.c) says when a request may go.
 */
#include "launcher/plan.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "inventory/text.h"

/* ---- ClientToken ------------------------------------------------------ */

enum cbq_err launch_client_token(int64_t job_id, int32_t attempt, char out[LAUNCH_CLIENT_TOKEN_BUF],
				 struct cbq_error *err)
{
	if (job_id < 1)
		return cbq_fail(err, CBQ_ERR_INVALID, "job_id",
				"job id %" PRId64 " cannot name a launch", job_id);
	if (attempt < 1)
		return cbq_fail(err, CBQ_ERR_INVALID, "attempt",
				"attempt %" PRId32 " of job %" PRId64 " cannot name a launch",
				attempt, job_id);
	snprintf(out, LAUNCH_CLIENT_TOKEN_BUF, "cbq-%" PRId64 "-%" PRId32, job_id, attempt);
	return CBQ_OK;
}

/* A positive decimal without sign or leading zero, ≤ max; advances *s. */
static bool parse_positive(const char **s, int64_t max, int64_t *out)
{
	const char *p = *s;
	int64_t v = 0;

	if (*p < '1' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		int d = *p - '0';
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*s = p;
	*out = v;
	return true;
}

bool launch_client_token_parse(const char *token, int64_t *job_id, int32_t *attempt)
{
	const char *p = token;
	int64_t job, att;

	if (!token || strncmp(p, "cbq-", 4) != 0)
		return false;
	p += 4;
	if (!parse_positive(&p, INT64_MAX, &job) || *p++ != '-')
		return false;
	if (!parse_positive(&p, INT32_MAX, &att) || *p != '\0')
		return false;
	*job_id = job;
	*attempt = (int32_t)att;
	return true;
}

/* ---- tags --------------------------------------------------------------- */

static bool is_cbq_key(const char *key)
{
	return strcmp(key, LAUNCH_TAG_JOB) == 0 || strcmp(key, LAUNCH_TAG_TEAM) == 0;
}

enum cbq_err launch_tags(int64_t job_id, const char *team, const struct job_tag *tags,
			 size_t n_tags, struct launch_tag_set *out, struct cbq_error *err)
{
	static const char field[] = "spec.launch.tags";
	size_t n = 0;

	if (job_id < 1)
		return cbq_fail(err, CBQ_ERR_INVALID, "job_id",
				"job id %" PRId64 " cannot be tagged", job_id);
	if (!team || !team[0] || strnlen(team, LAUNCH_TAG_VALUE_MAX + 1) > LAUNCH_TAG_VALUE_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "team",
				"the team name must be 1..%d bytes to be a tag value",
				LAUNCH_TAG_VALUE_MAX);
	/* Bounded before anything else is read: n_tags comes from the job. */
	if (n_tags > LAUNCH_TAGS_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, field,
				"%zu tags; EC2 allows %d per instance and cbq adds 2", n_tags,
				LAUNCH_TAGS_MAX);
	for (size_t i = 0; i < n_tags; i++) {
		const struct job_tag *t = &tags[i];
		if (!t->key || !t->key[0] ||
		    strnlen(t->key, LAUNCH_TAG_KEY_MAX + 1) > LAUNCH_TAG_KEY_MAX)
			return cbq_fail(err, CBQ_ERR_INVALID, field,
					"tag %zu: the key must be 1..%d bytes", i + 1,
					LAUNCH_TAG_KEY_MAX);
		if (t->value && strnlen(t->value, LAUNCH_TAG_VALUE_MAX + 1) > LAUNCH_TAG_VALUE_MAX)
			return cbq_fail(err, CBQ_ERR_INVALID, field,
					"tag %zu (%s): the value must be at most %d bytes", i + 1,
					t->key, LAUNCH_TAG_VALUE_MAX);
		for (size_t j = 0; j < i; j++)
			if (strcmp(tags[j].key, t->key) == 0)
				return cbq_fail(err, CBQ_ERR_INVALID, field,
						"tag key %s appears twice", t->key);
		if (!is_cbq_key(t->key))
			n++;
	}
	if (n + 2 > LAUNCH_TAGS_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, field,
				"%zu tags plus cbq:job and cbq:team exceed EC2's %d per instance",
				n, LAUNCH_TAGS_MAX);

	/* out may be big; fill it in place only now that nothing can fail */
	out->n = 0;
	for (size_t i = 0; i < n_tags; i++)
		if (!is_cbq_key(tags[i].key))
			out->tags[out->n++] = (struct job_tag){
				.key = tags[i].key,
				.value = tags[i].value ? tags[i].value : "",
			};
	snprintf(out->job_value, sizeof(out->job_value), "%" PRId64, job_id);
	out->tags[out->n++] = (struct job_tag){ .key = LAUNCH_TAG_JOB, .value = out->job_value };
	out->tags[out->n++] = (struct job_tag){ .key = LAUNCH_TAG_TEAM, .value = team };
	return CBQ_OK;
}

/* ---- outcome ------------------------------------------------------------ */

static const char *const result_names[LAUNCH_RESULT_COUNT] = {
	[LAUNCH_OK] = "ok",
	[LAUNCH_RETRY_EXHAUSTED] = "retry_exhausted",
	[LAUNCH_CAPACITY] = "capacity",
	[LAUNCH_AUTH] = "auth",
	[LAUNCH_NEW_TOKEN] = "new_token",
	[LAUNCH_FAIL] = "fail",
};

const char *launch_result_name(enum launch_result r)
{
	return (unsigned)r < LAUNCH_RESULT_COUNT ? result_names[r] : "unknown";
}

static const char * or (const char *s, const char *fallback)
{
	return s && s[0] ? s : fallback;
}

/* Codes that mean "IAM says no": the reason names the missing permission. */
static bool is_permission_code(const char *code)
{
	static const char *const codes[] = { "UnauthorizedOperation", "AccessDenied",
					     "AccessDeniedException" };

	if (!code)
		return false;
	if (strncmp(code, "Client.", 7) == 0)
		code += 7;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

static cbq_ms backoff(int32_t retries)
{
	cbq_ms ms = LAUNCH_RETRY_BASE_MS;

	for (int32_t i = 0; i < retries && ms < LAUNCH_RETRY_CAP_MS; i++)
		ms *= 2;
	return ms < LAUNCH_RETRY_CAP_MS ? ms : LAUNCH_RETRY_CAP_MS;
}

/* ": <message>" or "" (so a missing message leaves no dangling colon). */
static void message_suffix(const char *message, char *buf, size_t size)
{
	if (message && message[0])
		snprintf(buf, size, ": %s", message);
	else
		buf[0] = '\0';
}

enum cbq_err launch_outcome(const struct launch_attempt *a, cbq_ms now, struct launch_next *out,
			    struct cbq_error *err)
{
	char token[LAUNCH_CLIENT_TOKEN_BUF], msg[INV_REASON_MAX], span[CBQ_DURATION_BUF];
	const char *block = or (a->block_id, "(no block)");
	const char *role = or (a->role_arn, "(no role)");
	const char *action = or (a->action, "ec2:RunInstances");
	const char *code = or (a->code, "no error code");
	struct launch_next next = { .to_state = JOB_LAUNCHING, .new_attempt = a->attempt };
	enum job_state to = JOB_LAUNCHING;
	enum cbq_err rc;

	if ((rc = launch_client_token(a->job_id, a->attempt, token, err)))
		return rc;
	if (a->retries < 0)
		return cbq_fail(err, CBQ_ERR_INVALID, "retries", "retries %" PRId32 " is negative",
				a->retries);
	if ((unsigned)a->result >= LAUNCH_RESULT_COUNT)
		return cbq_fail(err, CBQ_ERR_INVALID, "result", "unknown launch result %d",
				(int)a->result);
	message_suffix(a->message, msg, sizeof(msg));
	/* for the text only; inv_transition_make refuses an attempt that cannot grow */
	int32_t requeued = inv_job_next_attempt(JOB_LAUNCHING, JOB_QUEUED, a->attempt);

	switch (a->result) {
	case LAUNCH_OK:
		to = JOB_RUNNING;
		inv_textf(next.reason, sizeof(next.reason),
			  "RunInstances accepted on %s (token %s)", block, token);
		break;
	case LAUNCH_CAPACITY:
		to = JOB_QUEUED;
		if (a->code && strstr(a->code, "PendingActivation"))
			inv_textf(next.reason, sizeof(next.reason),
				  "block %s is not active yet (%s); requeued as attempt %" PRId32,
				  block, code, requeued);
		else
			inv_textf(next.reason, sizeof(next.reason),
				  "lost the capacity race on %s: %s; requeued as attempt %" PRId32,
				  block, code, requeued);
		break;
	case LAUNCH_NEW_TOKEN:
		to = JOB_QUEUED;
		inv_textf(next.reason, sizeof(next.reason),
			  "the instances of attempt %" PRId32 " (token %s) on %s already ended "
			  "(%s); requeued as attempt %" PRId32,
			  a->attempt, token, block, or (a->code, "IdempotentInstanceTerminated"),
			  requeued);
		break;
	case LAUNCH_AUTH:
		to = JOB_FAILED;
		inv_textf(next.reason, sizeof(next.reason),
			  "role %s: AWS rejected its credentials for %s (%s)%s", role, action, code,
			  msg);
		break;
	case LAUNCH_FAIL:
		to = JOB_FAILED;
		if (is_permission_code(a->code))
			inv_textf(next.reason, sizeof(next.reason), "role %s may not %s (%s)%s",
				  role, action, code, msg);
		else
			inv_textf(next.reason, sizeof(next.reason),
				  "%s as role %s on %s failed (%s)%s", action, role, block, code,
				  msg);
		break;
	case LAUNCH_RETRY_EXHAUSTED:
		next.retry_after_ms = backoff(a->retries);
		inv_textf(next.reason, sizeof(next.reason),
			  "%s on %s did not complete (%s)%s; resending with the same token %s in %s",
			  action, block, code, msg, token,
			  inv_span_format(next.retry_after_ms, span));
		break;
	case LAUNCH_RESULT_COUNT: break;
	}

	if (to != JOB_LAUNCHING) {
		rc = inv_transition_make(&next.transition, a->job_id, JOB_LAUNCHING, to, a->attempt,
					 now, err, "%s", next.reason);
		if (rc)
			return rc;
		next.has_transition = true;
		next.to_state = to;
		next.new_attempt = next.transition.new_attempt;
	}
	*out = next;
	return CBQ_OK;
}
