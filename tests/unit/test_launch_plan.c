/*
 * The launch plan: ClientTokens (data/launch_tokens.tsv), what an attempt's
 * outcome means (data/launch_outcomes.tsv), the RunInstances pacer
 * (data/launch_pacer.tsv) and the tags. Not the request itself (aws/ec2.h)
 * nor the engine that sends it.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/text.h"
#include "launcher/plan.h"
#include "test_inv_tsv.h"

static const char *null_dash(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

Test(launch_plan, client_tokens_from_table)
{
	struct tsv t;
	int rows = 0;

	tsv_open(&t, "launch_tokens.tsv");
	while (tsv_next(&t)) {
		const char *op = tsv_at(&t, 0), *in = tsv_at(&t, 1);
		rows++;
		if (strcmp(op, "make") == 0) {
			char tok[LAUNCH_CLIENT_TOKEN_BUF] = "untouched";
			struct cbq_error err = { 0 };
			const char *want = tsv_at(&t, 3);
			enum cbq_err rc =
				launch_client_token(strtoll(in, NULL, 10),
						    (int32_t)strtol(tsv_at(&t, 2), NULL, 10), tok,
						    &err);
			if (want[0] == '!') {
				cr_expect_eq(rc, CBQ_ERR_INVALID, "%s", tsv_where(&t));
				cr_expect_str_eq(err.field, want + 1, "%s", tsv_where(&t));
				cr_expect_str_eq(tok, "untouched", "%s", tsv_where(&t));
			} else {
				cr_expect_eq(rc, CBQ_OK, "%s: %s", tsv_where(&t), err.msg);
				cr_expect_str_eq(tok, want, "%s", tsv_where(&t));
				cr_expect_leq(strlen(tok), 64, "EC2 takes at most 64 characters");
			}
		} else if (strcmp(op, "parse") == 0) {
			int64_t job = -7;
			int32_t att = -7;
			bool ok = launch_client_token_parse(strcmp(in, "<empty>") == 0 ? "" : in,
							    &job, &att);
			if (tsv_at(&t, 2)[0] == '!') {
				cr_expect(!ok, "%s: %s parsed", tsv_where(&t), in);
				cr_expect(job == -7 && att == -7, "%s: outputs written",
					  tsv_where(&t));
			} else {
				cr_expect(ok, "%s: %s refused", tsv_where(&t), in);
				cr_expect_eq(job, strtoll(tsv_at(&t, 2), NULL, 10), "%s",
					     tsv_where(&t));
				cr_expect_eq(att, strtol(tsv_at(&t, 3), NULL, 10), "%s",
					     tsv_where(&t));
			}
		} else {
			cr_assert_fail("%s: unknown op %s", tsv_where(&t), op);
		}
	}
	tsv_close(&t);
	cr_expect_gt(rows, 25, "the table looks truncated");
}

Test(launch_plan, token_round_trips_and_differs_per_attempt)
{
	char a[LAUNCH_CLIENT_TOKEN_BUF], b[LAUNCH_CLIENT_TOKEN_BUF];
	int64_t job;
	int32_t att;

	cr_assert_eq(launch_client_token(123456789, 3, a, NULL), CBQ_OK);
	cr_assert_eq(launch_client_token(123456789, 3, b, NULL), CBQ_OK);
	cr_expect_str_eq(a, b, "the same job and attempt give the same token");
	cr_assert_eq(launch_client_token(123456789, 4, b, NULL), CBQ_OK);
	cr_expect_str_neq(a, b);
	cr_assert(launch_client_token_parse(a, &job, &att));
	cr_expect(job == 123456789 && att == 3);
	/* job 1 attempt 23 and job 12 attempt 3 must not collide */
	cr_assert_eq(launch_client_token(1, 23, a, NULL), CBQ_OK);
	cr_assert_eq(launch_client_token(12, 3, b, NULL), CBQ_OK);
	cr_expect_str_neq(a, b);
}

static enum launch_result result(const struct tsv *t, const char *name)
{
	for (int r = 0; r < LAUNCH_RESULT_COUNT; r++)
		if (strcmp(launch_result_name((enum launch_result)r), name) == 0)
			return (enum launch_result)r;
	cr_assert_fail("%s: unknown result %s", tsv_where(t), name);
	return LAUNCH_FAIL;
}

Test(launch_plan, outcomes_from_table)
{
	struct tsv t;
	int rows = 0;

	tsv_open(&t, "launch_outcomes.tsv");
	while (tsv_next(&t)) {
		struct launch_attempt a = {
			.job_id = 42,
			.result = result(&t, tsv_at(&t, 0)),
			.code = null_dash(tsv_at(&t, 1)),
			.action = null_dash(tsv_at(&t, 2)),
			.role_arn = null_dash(tsv_at(&t, 3)),
			.block_id = null_dash(tsv_at(&t, 4)),
			.attempt = (int32_t)strtol(tsv_at(&t, 5), NULL, 10),
			.retries = (int32_t)strtol(tsv_at(&t, 6), NULL, 10),
			.message = null_dash(tsv_at(&t, 7)),
		};
		struct launch_next next;
		struct cbq_error err = { 0 };
		enum job_state want;
		char *pieces[8];

		rows++;
		cr_assert(job_state_parse(tsv_at(&t, 8), &want), "%s", tsv_where(&t));
		cr_assert_eq(launch_outcome(&a, 5000, &next, &err), CBQ_OK, "%s: %s", tsv_where(&t),
			     err.msg);
		cr_expect_eq(next.to_state, want, "%s: to %s", tsv_where(&t),
			     job_state_name(next.to_state));
		cr_expect_eq(next.new_attempt, strtol(tsv_at(&t, 9), NULL, 10), "%s: attempt %d",
			     tsv_where(&t), next.new_attempt);
		cr_expect_eq(next.retry_after_ms, strtoll(tsv_at(&t, 10), NULL, 10),
			     "%s: retry after %" PRId64, tsv_where(&t), next.retry_after_ms);
		size_t n = tsv_split(tsv_at(&t, 11), '|', pieces, 8);
		for (size_t i = 0; i < n; i++)
			cr_expect(strstr(next.reason, pieces[i]), "%s: reason \"%s\" lacks \"%s\"",
				  tsv_where(&t), next.reason, pieces[i]);
		cr_expect(inv_text_is_clean(next.reason), "%s", tsv_where(&t));
		cr_expect(!strstr(next.reason, "): ;") && !strstr(next.reason, ": ;"),
			  "%s: dangling colon in \"%s\"", tsv_where(&t), next.reason);
		/* the state changes through jobfsm, from launching */
		cr_expect_eq(next.has_transition, want != JOB_LAUNCHING, "%s", tsv_where(&t));
		if (next.has_transition) {
			cr_expect_eq(next.transition.from, JOB_LAUNCHING);
			cr_expect_eq(next.transition.to, want);
			cr_expect_eq(next.transition.at, 5000);
			cr_expect_eq(next.transition.job_id, 42);
			cr_expect_eq(next.transition.new_attempt, next.new_attempt);
			cr_expect_str_eq(next.transition.reason, next.reason);
		}
	}
	tsv_close(&t);
	cr_expect_gt(rows, 15, "the table looks truncated");
}

Test(launch_plan, outcome_refuses_bad_input_and_leaves_output_alone)
{
	struct launch_attempt a = { .job_id = 42, .attempt = 1, .result = LAUNCH_OK };
	struct launch_next next = { .retry_after_ms = -99 };
	struct cbq_error err = { 0 };

	a.attempt = 0;
	cr_expect_eq(launch_outcome(&a, 0, &next, &err), CBQ_ERR_INVALID);
	a.attempt = 1;
	a.job_id = 0;
	cr_expect_eq(launch_outcome(&a, 0, &next, &err), CBQ_ERR_INVALID);
	a.job_id = 42;
	a.retries = -1;
	cr_expect_eq(launch_outcome(&a, 0, &next, &err), CBQ_ERR_INVALID);
	a.retries = 0;
	a.result = LAUNCH_RESULT_COUNT;
	cr_expect_eq(launch_outcome(&a, 0, &next, &err), CBQ_ERR_INVALID);
	/* a requeue needs attempt + 1, which INT32_MAX cannot give */
	a.result = LAUNCH_CAPACITY;
	a.attempt = INT32_MAX;
	cr_expect_eq(launch_outcome(&a, 0, &next, &err), CBQ_ERR_INVALID);
	cr_expect_eq(next.retry_after_ms, -99, "output written on failure");
}

Test(launch_plan, long_aws_messages_are_cut_to_clean_utf8)
{
	static char msg[5000];
	struct launch_attempt a = { .job_id = 42,
				    .attempt = 1,
				    .result = LAUNCH_FAIL,
				    .code = "UnauthorizedOperation",
				    .message = msg,
				    .role_arn = "arn:aws:iam::111122223333:role/x" };
	struct launch_next next;

	for (size_t i = 0; i + 2 < sizeof(msg); i += 2)
		memcpy(msg + i, "\xc3\xa9", 2); /* é, so any cut may split one */
	cr_assert_eq(launch_outcome(&a, 0, &next, NULL), CBQ_OK);
	cr_expect(inv_text_is_clean(next.reason));
	cr_expect_eq(strlen(next.reason), INV_REASON_MAX - 1);
}

/* ---- tags --------------------------------------------------------------- */

Test(launch_plan, tags_are_the_jobs_then_cbqs)
{
	struct job_tag in[] = { { "project", "llm" }, { "owner", "ana" }, { "empty", NULL } };
	struct launch_tag_set out;

	cr_assert_eq(launch_tags(42, "ml-research", in, 3, &out, NULL), CBQ_OK);
	cr_assert_eq(out.n, 5);
	cr_expect_str_eq(out.tags[0].key, "project");
	cr_expect_str_eq(out.tags[1].value, "ana");
	cr_expect_str_eq(out.tags[2].value, "", "a NULL value is an empty one");
	cr_expect_str_eq(out.tags[3].key, "cbq:job");
	cr_expect_str_eq(out.tags[3].value, "42");
	cr_expect_str_eq(out.tags[4].key, "cbq:team");
	cr_expect_str_eq(out.tags[4].value, "ml-research");
}

Test(launch_plan, cbq_tags_win_a_clash)
{
	struct job_tag in[] = { { "cbq:team", "someone-else" }, { "a", "1" }, { "cbq:job", "7" } };
	struct launch_tag_set out;

	cr_assert_eq(launch_tags(42, "ml", in, 3, &out, NULL), CBQ_OK);
	cr_assert_eq(out.n, 3);
	cr_expect_str_eq(out.tags[0].key, "a");
	cr_expect_str_eq(out.tags[1].value, "42");
	cr_expect_str_eq(out.tags[2].value, "ml");
}

Test(launch_plan, at_most_fifty_tags_in_all)
{
	static struct job_tag in[60];
	static char keys[60][8];
	struct launch_tag_set out = { .n = 999 };
	struct cbq_error err = { 0 };

	for (int i = 0; i < 60; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		in[i] = (struct job_tag){ keys[i], "v" };
	}
	cr_expect_eq(launch_tags(1, "t", in, 48, &out, NULL), CBQ_OK);
	cr_expect_eq(out.n, 50);
	out.n = 999;
	cr_expect_eq(launch_tags(1, "t", in, 49, &out, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "spec.launch.tags");
	cr_expect_eq(out.n, 999, "output written on failure");
	cr_expect_eq(launch_tags(1, "t", in, 60, &out, &err), CBQ_ERR_INVALID);
	/* 48 of the job's own plus its cbq:* ones, which are replaced: still 50 */
	in[48] = (struct job_tag){ "cbq:job", "x" };
	in[49] = (struct job_tag){ "cbq:team", "y" };
	cr_expect_eq(launch_tags(1, "t", in, 50, &out, &err), CBQ_OK, "%s", err.msg);
	cr_expect_eq(out.n, 50);
}

Test(launch_plan, tags_refuse_duplicates_bad_keys_values_and_teams)
{
	static char long_key[200], long_value[300];
	struct launch_tag_set out;
	struct cbq_error err = { 0 };

	memset(long_key, 'k', 129);
	memset(long_value, 'v', 257);
	struct job_tag dup[] = { { "a", "1" }, { "a", "2" } };
	cr_expect_eq(launch_tags(1, "t", dup, 2, &out, &err), CBQ_ERR_INVALID);
	cr_expect(strstr(err.msg, "twice"), "%s", err.msg);
	struct job_tag empty[] = { { "", "1" } };
	cr_expect_eq(launch_tags(1, "t", empty, 1, &out, &err), CBQ_ERR_INVALID);
	struct job_tag nokey[] = { { NULL, "1" } };
	cr_expect_eq(launch_tags(1, "t", nokey, 1, &out, &err), CBQ_ERR_INVALID);
	struct job_tag lk[] = { { long_key, "1" } };
	cr_expect_eq(launch_tags(1, "t", lk, 1, &out, &err), CBQ_ERR_INVALID);
	struct job_tag lv[] = { { "k", long_value } };
	cr_expect_eq(launch_tags(1, "t", lv, 1, &out, &err), CBQ_ERR_INVALID);
	cr_expect_eq(launch_tags(1, "", NULL, 0, &out, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "team");
	cr_expect_eq(launch_tags(1, long_value, NULL, 0, &out, &err), CBQ_ERR_INVALID);
	cr_expect_eq(launch_tags(0, "t", NULL, 0, &out, &err), CBQ_ERR_INVALID);
	cr_expect_eq(launch_tags(1, "t", NULL, 0, &out, &err), CBQ_OK);
	cr_expect_eq(out.n, 2);
}

/* ---- pacer -------------------------------------------------------------- */

static void parse_spec(const struct tsv *t, char *s, struct launch_bucket_spec *b)
{
	char *colon = strchr(s, ':');

	cr_assert(colon, "%s: want MAX:REFILL, got %s", tsv_where(t), s);
	b->max = strtoll(s, NULL, 10);
	b->refill_milli = strtoll(colon + 1, NULL, 10);
}

Test(launch_plan, pacer_steps_from_table)
{
	struct launch_pacer *p = calloc(1, sizeof(*p));
	struct launch_pacer_settings set;
	struct tsv t;
	int takes = 0;

	cr_assert(p);
	launch_pacer_settings_default(&set);
	cr_assert_eq(launch_pacer_init(p, &set, NULL), CBQ_OK);
	tsv_open(&t, "launch_pacer.tsv");
	while (tsv_next(&t)) {
		const char *op = tsv_at(&t, 0);
		if (strcmp(op, "reset") == 0) {
			launch_pacer_settings_default(&set);
			cr_assert_eq(launch_pacer_init(p, &set, NULL), CBQ_OK);
		} else if (strcmp(op, "settings") == 0) {
			parse_spec(&t, tsv_at(&t, 1), &set.requests);
			parse_spec(&t, tsv_at(&t, 2), &set.instances);
			cr_assert_eq(launch_pacer_init(p, &set, NULL), CBQ_OK, "%s", tsv_where(&t));
		} else if (strcmp(op, "throttle") == 0) {
			launch_pacer_throttled(p, tsv_at(&t, 1), strtoll(tsv_at(&t, 3), NULL, 10));
		} else if (strcmp(op, "take") == 0) {
			cbq_ms wait = -12345;
			bool ok = launch_pacer_take(p, null_dash(tsv_at(&t, 1)),
						    (int32_t)strtol(tsv_at(&t, 2), NULL, 10),
						    strtoll(tsv_at(&t, 3), NULL, 10), &wait);
			takes++;
			cr_expect_eq(ok, strcmp(tsv_at(&t, 4), "ok") == 0, "%s: %s", tsv_where(&t),
				     ok ? "taken" : "refused");
			cr_expect_eq(wait, strtoll(tsv_at(&t, 5), NULL, 10), "%s: wait %" PRId64,
				     tsv_where(&t), wait);
		} else {
			cr_assert_fail("%s: unknown op %s", tsv_where(&t), op);
		}
	}
	tsv_close(&t);
	free(p);
	cr_expect_gt(takes, 40, "the table looks truncated");
}

Test(launch_plan, pacer_refuses_bad_settings)
{
	struct launch_pacer *p = calloc(1, sizeof(*p));
	struct launch_pacer_settings set;
	struct cbq_error err = { 0 };

	launch_pacer_settings_default(&set);
	set.requests.refill_milli = 0;
	cr_expect_eq(launch_pacer_init(p, &set, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "pacer.requests");
	launch_pacer_settings_default(&set);
	set.instances.max = 0;
	cr_expect_eq(launch_pacer_init(p, &set, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "pacer.instances");
	set.instances.max = 1000001;
	cr_expect_eq(launch_pacer_init(p, &set, &err), CBQ_ERR_INVALID);
	free(p);
}

/* With every slot taken, the account whose buckets will be full soonest is
 * forgotten; the others keep their state. */
Test(launch_plan, pacer_forgets_the_account_closest_to_full)
{
	struct launch_pacer *p = calloc(1, sizeof(*p));
	struct launch_pacer_settings set;
	char acct[13];
	cbq_ms wait;

	launch_pacer_settings_default(&set);
	cr_assert_eq(launch_pacer_init(p, &set, NULL), CBQ_OK);
	for (int a = 0; a < LAUNCH_PACER_ACCOUNTS; a++) {
		snprintf(acct, sizeof(acct), "%012d", a);
		for (int k = 0; k < (a == 7 ? 1 : 5); k++)
			cr_assert(launch_pacer_take(p, acct, 64, 0, &wait));
	}
	cr_assert_eq(p->n, LAUNCH_PACER_ACCOUNTS);
	cr_expect(launch_pacer_take(p, "999999999999", 1, 0, &wait), "a new account is let in");
	cr_expect_eq(p->n, LAUNCH_PACER_ACCOUNTS, "the table does not grow");
	cr_expect(!launch_pacer_take(p, "000000000000", 1, 0, &wait), "others keep their buckets");
	cr_expect_eq(wait, 500);
	/* account 7 had 4 calls left; forgotten, it comes back with 5 */
	for (int k = 0; k < 5; k++)
		cr_expect(launch_pacer_take(p, "000000000007", 1, 0, &wait), "call %d", k + 1);
	free(p);
}
