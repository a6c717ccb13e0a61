/*
 * The job state machine: every pair of states from data/inv_job_edges.tsv,
 * and the transition constructor's refusals and text. Not the rules that
 * pick a transition (test_inv_reconcile.c, test_launch_plan.c).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/jobfsm.h"
#include "inventory/text.h"
#include "test_inv_tsv.h"

static enum job_state state(const struct tsv *t, const char *name)
{
	enum job_state s;

	cr_assert(job_state_parse(name, &s), "%s: unknown state %s", tsv_where(t), name);
	return s;
}

Test(inv_jobfsm, every_pair_of_states_matches_the_table)
{
	struct tsv t;
	bool seen[JOB_STATE_COUNT][JOB_STATE_COUNT] = { { false } };
	int rows = 0;

	tsv_open(&t, "inv_job_edges.tsv");
	while (tsv_next(&t)) {
		enum job_state from = state(&t, tsv_at(&t, 0)), to = state(&t, tsv_at(&t, 1));
		bool want = strcmp(tsv_at(&t, 2), "ok") == 0;
		struct inv_transition tr;
		struct cbq_error err = { 0 };

		cr_assert(!seen[from][to], "%s: pair listed twice", tsv_where(&t));
		seen[from][to] = true;
		rows++;
		cr_expect_eq(inv_job_edge_ok(from, to), want, "%s: %s -> %s", tsv_where(&t),
			     job_state_name(from), job_state_name(to));
		enum cbq_err rc = inv_transition_make(&tr, 42, from, to, 3, 1000, &err, "why");
		if (want) {
			cr_expect_eq(rc, CBQ_OK, "%s: %s", tsv_where(&t), err.msg);
			cr_expect_eq(tr.new_attempt, atoi(tsv_at(&t, 3)), "%s: attempt",
				     tsv_where(&t));
			cr_expect_eq(inv_job_next_attempt(from, to, 3), atoi(tsv_at(&t, 3)));
		} else {
			cr_expect_eq(rc, CBQ_ERR_CONFLICT, "%s", tsv_where(&t));
		}
	}
	tsv_close(&t);
	cr_expect_eq(rows, JOB_STATE_COUNT * JOB_STATE_COUNT, "the table must list all 81 pairs");
}

Test(inv_jobfsm, final_states_have_no_exits)
{
	for (int f = 0; f < JOB_STATE_COUNT; f++)
		for (int to = 0; to < JOB_STATE_COUNT; to++)
			if (job_state_is_final((enum job_state)f))
				cr_expect(!inv_job_edge_ok((enum job_state)f, (enum job_state)to),
					  "%s -> %s", job_state_name((enum job_state)f),
					  job_state_name((enum job_state)to));
}

Test(inv_jobfsm, states_outside_the_enum_are_never_legal)
{
	cr_expect(!inv_job_edge_ok(JOB_STATE_COUNT, JOB_QUEUED));
	cr_expect(!inv_job_edge_ok(JOB_QUEUED, JOB_STATE_COUNT));
	cr_expect(!inv_job_edge_ok((enum job_state) - 1, JOB_LAUNCHING));
}

Test(inv_jobfsm, transition_records_edge_time_reason_and_attempt)
{
	struct inv_transition tr;

	cr_assert_eq(inv_transition_make(&tr, 7, JOB_RUNNING, JOB_QUEUED, 2, 123456, NULL,
					 "block %s reached its cutoff", "cr-0123456789abcdef0"),
		     CBQ_OK);
	cr_expect_eq(tr.job_id, 7);
	cr_expect_eq(tr.from, JOB_RUNNING);
	cr_expect_eq(tr.to, JOB_QUEUED);
	cr_expect_eq(tr.at, 123456);
	cr_expect_eq(tr.new_attempt, 3);
	cr_expect_str_eq(tr.reason, "block cr-0123456789abcdef0 reached its cutoff");
}

Test(inv_jobfsm, illegal_edge_is_a_conflict_naming_both_states_and_leaves_output_alone)
{
	struct inv_transition tr = { .job_id = -5 };
	struct cbq_error err = { 0 };

	cr_assert_eq(inv_transition_make(&tr, 42, JOB_SUCCEEDED, JOB_RUNNING, 1, 0, &err, "x"),
		     CBQ_ERR_CONFLICT);
	cr_expect_str_eq(err.field, "state");
	cr_expect(strstr(err.msg, "succeeded") && strstr(err.msg, "running") &&
			  strstr(err.msg, "42"),
		  "message: %s", err.msg);
	cr_expect_eq(tr.job_id, -5, "output written on failure");
}

Test(inv_jobfsm, bad_job_id_or_attempt_is_invalid)
{
	struct inv_transition tr;
	struct cbq_error err = { 0 };

	cr_expect_eq(inv_transition_make(&tr, 0, JOB_QUEUED, JOB_LAUNCHING, 1, 0, &err, "x"),
		     CBQ_ERR_INVALID);
	cr_expect_eq(inv_transition_make(&tr, 1, JOB_QUEUED, JOB_LAUNCHING, 0, 0, &err, "x"),
		     CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "attempt");
	/* INT32_MAX may stay, but cannot grow into the next attempt */
	cr_expect_eq(inv_transition_make(&tr, 1, JOB_QUEUED, JOB_LAUNCHING, INT32_MAX, 0, &err,
					 "x"),
		     CBQ_OK);
	cr_expect_eq(inv_transition_make(&tr, 1, JOB_RUNNING, JOB_QUEUED, INT32_MAX, 0, &err, "x"),
		     CBQ_ERR_INVALID);
}

Test(inv_jobfsm, reason_is_truncated_to_valid_utf8_without_control_characters)
{
	struct inv_transition tr;
	char msg[600];

	/* 254 ASCII bytes then "é" (2 bytes): the cut falls inside the character */
	memset(msg, 'a', 254);
	strcpy(msg + 254, "\xc3\xa9 and more");
	cr_assert_eq(inv_transition_make(&tr, 1, JOB_QUEUED, JOB_CANCELLED, 1, 0, NULL, "%s", msg),
		     CBQ_OK);
	cr_expect_eq(strlen(tr.reason), INV_REASON_MAX - 1);
	cr_expect(inv_text_is_clean(tr.reason), "reason is not clean UTF-8");
	cr_expect_eq(tr.reason[254], '?');

	cr_assert_eq(inv_transition_make(&tr, 1, JOB_QUEUED, JOB_CANCELLED, 1, 0, NULL,
					 "line\nbreak \x01 bad \xff byte, ok \xe2\x80\xa6"),
		     CBQ_OK);
	cr_expect_str_eq(tr.reason, "line?break ? bad ? byte, ok \xe2\x80\xa6");
}

Test(inv_jobfsm, times_format_as_utc_minutes)
{
	char buf[INV_TIME_BUF];

	cr_expect_str_eq(inv_time_format(TSV_T0_MS + 11 * 3600000 + 30 * 60000, buf),
			 "2026-11-23 11:30Z");
	cr_expect_str_eq(inv_time_format(0, buf), "1970-01-01 00:00Z");
	cr_expect_str_eq(inv_time_format(-60000, buf), "1969-12-31 23:59Z");
	cr_expect_str_eq(inv_time_format((cbq_ms)951782400000, buf), "2000-02-29 00:00Z");
	inv_time_format(INT64_MIN, buf);
	inv_time_format(INT64_MAX, buf);
}
