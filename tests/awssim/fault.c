/* Fault storage and matching; see fault.h. */
#include "fault.h"

#include <stdio.h>
#include <string.h>

#include "simjson.h"
#include "simutil.h"

int sim_fault_status_for(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} known[] = {
		{ "RequestLimitExceeded", 503 },
		{ "EC2ThrottledException", 503 },
		{ "ServiceUnavailable", 503 },
		{ "Unavailable", 503 },
		{ "ServiceUnavailableException", 503 },
		{ "InternalError", 500 },
		{ "InternalFailure", 500 },
		{ "ServerInternal", 500 },
		{ "ServiceException", 500 },
		{ "ServerInternalException", 500 },
		{ "InsufficientInstanceCapacity", 500 },
		{ "ThrottlingException", 429 },
		{ "AuthFailure", 401 },
		{ "UnauthorizedOperation", 403 },
		{ "AccessDenied", 403 },
		{ "AccessDeniedException", 403 },
		{ "InvalidClientTokenId", 403 },
		{ "SignatureDoesNotMatch", 403 },
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i].code, code) == 0)
			return known[i].status;
	return 400;
}

enum cbq_err sim_faults_add_json(struct sim_faults *f, json_t *j, struct cbq_error *err)
{
	static const char *const keys[] = { "action", "account",  "code",  "message",
					    "status", "delay_ms", "times", "count",
					    "after",  "drop",	  NULL };
	struct sim_fault x = { .remaining = 1 };
	long long status = 0, delay = 0, times = 1;
	bool have_code = false;
	enum cbq_err rc;

	if (f->n >= SIM_MAX_FAULTS)
		return cbq_fail(err, CBQ_ERR_CONFLICT, "fault", "at most %d faults may be pending",
				SIM_MAX_FAULTS);
	if ((rc = sim_json_object(j, "fault", keys, err)) ||
	    (rc = sim_json_string(j, "action", "fault", true, 1, sizeof(x.action) - 1, x.action,
				  sizeof(x.action), NULL, err)) ||
	    (rc = sim_json_string(j, "account", "fault", false, 12, 12, x.account,
				  sizeof(x.account), NULL, err)) ||
	    (rc = sim_json_string(j, "code", "fault", false, 1, sizeof(x.code) - 1, x.code,
				  sizeof(x.code), &have_code, err)) ||
	    (rc = sim_json_string(j, "message", "fault", false, 0, sizeof(x.message) - 1, x.message,
				  sizeof(x.message), NULL, err)) ||
	    (rc = sim_json_int(j, "status", "fault", false, 400, 599, &status, err)) ||
	    (rc = sim_json_int(j, "delay_ms", "fault", false, 0, SIM_MAX_FAULT_DELAY_MS, &delay,
			       err)) ||
	    (rc = sim_json_int(j, "times", "fault", false, 1, SIM_MAX_FAULT_TIMES, &times, err)) ||
	    (rc = sim_json_int(j, "count", "fault", false, 1, SIM_MAX_FAULT_TIMES, &times, err)) ||
	    (rc = sim_json_bool(j, "after", "fault", &x.after, err)) ||
	    (rc = sim_json_bool(j, "drop", "fault", &x.drop, err)))
		return rc;
	if (strcmp(x.action, "*") != 0 && !sim_word_chars(x.action, "", 1, sizeof(x.action) - 1))
		return sim_json_fail(err, "fault.action", "must be an action name or \"*\"");
	if (x.account[0] && !sim_is_digits(x.account, 12))
		return sim_json_fail(err, "fault.account", "must be a 12-digit account id");
	if (have_code && !sim_word_chars(x.code, ".", 1, sizeof(x.code) - 1))
		return sim_json_fail(err, "fault.code", "must be letters, digits and dots");
	if (x.drop && !x.after)
		return sim_json_fail(err, "fault.drop", "needs \"after\": true");
	if (!have_code && !status && !delay && !x.drop)
		return sim_json_fail(err, "fault",
				     "needs a code, a status, a delay_ms or (with after) drop");
	x.status = (int)status;
	x.delay_ms = (int)delay;
	x.remaining = (int)times;
	f->v[f->n++] = x;
	return CBQ_OK;
}

bool sim_faults_take(struct sim_faults *f, const char *action, const char *account,
		     struct sim_fault *out)
{
	for (size_t i = 0; i < f->n; i++) {
		struct sim_fault *x = &f->v[i];
		if (strcmp(x->action, "*") != 0 && strcmp(x->action, action) != 0)
			continue;
		if (x->account[0] && (!account || strcmp(x->account, account) != 0))
			continue;
		*out = *x;
		if (--x->remaining <= 0) {
			memmove(x, x + 1, (f->n - i - 1) * sizeof(*x));
			f->n--;
		}
		return true;
	}
	return false;
}

void sim_faults_clear(struct sim_faults *f)
{
	f->n = 0;
}

json_t *sim_faults_json(const struct sim_faults *f)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < f->n; i++) {
		const struct sim_fault *x = &f->v[i];
		json_t *o = json_pack("{s:s, s:i, s:b, s:b, s:i, s:i}", "action", x->action,
				      "times_left", x->remaining, "after", x->after, "drop",
				      x->drop, "status", x->status, "delay_ms", x->delay_ms);
		if (x->account[0])
			json_object_set_new(o, "account", json_string(x->account));
		if (x->code[0])
			json_object_set_new(o, "code", json_string(x->code));
		json_array_append_new(arr, o);
	}
	return arr;
}
