/*
 * The metrics registry renders the Prometheus text format exactly: HELP and
 * TYPE lines, labels escaped, histograms cumulative with +Inf, _sum and
 * _count, and a full family drops new label sets and counts the drop.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

static char *render(struct metrics *m)
{
	size_t len;
	char *text = metrics_render(m, &len);

	cr_assert_eq(strlen(text), len);
	return text;
}

/* text without the built-in dropped-series family that opens it */
static const char *after_builtin(const char *text)
{
	const char *p = strstr(text, "# TYPE cbq_metrics_series_dropped_total counter\n");

	cr_assert(p);
	return p + strlen("# TYPE cbq_metrics_series_dropped_total counter\n");
}

Test(metrics, counters_gauges_and_escaping)
{
	struct metrics *m = metrics_new();
	static const char *const code[] = { "code", NULL };
	struct metrics_family *errors = metrics_family(m, "cbq_aws_errors_total",
						       "AWS errors by code.\nSecond \\ line.",
						       METRICS_COUNTER, code, NULL, 0);
	struct metrics_family *leader =
		metrics_family(m, "cbq_leader", "1 on the leader.", METRICS_GAUGE, NULL, NULL, 0);
	char *text;

	metrics_inc(errors, (const char *const[]){ "Throttling" }, 1);
	metrics_inc(errors, (const char *const[]){ "Throttling" }, 2);
	metrics_inc(errors, (const char *const[]){ "a\"b\\c\nd" }, 1);
	metrics_set(leader, NULL, 1);
	metrics_set(leader, NULL, 0);
	text = render(m);
	cr_expect_str_eq(after_builtin(text),
			 "# HELP cbq_aws_errors_total AWS errors by code.\\nSecond \\\\ line.\n"
			 "# TYPE cbq_aws_errors_total counter\n"
			 "cbq_aws_errors_total{code=\"Throttling\"} 3\n"
			 "cbq_aws_errors_total{code=\"a\\\"b\\\\c\\nd\"} 1\n"
			 "# HELP cbq_leader 1 on the leader.\n"
			 "# TYPE cbq_leader gauge\n"
			 "cbq_leader 0\n");
	free(text);
	metrics_free(m);
}

Test(metrics, histogram_is_cumulative)
{
	struct metrics *m = metrics_new();
	static const char *const call[] = { "call", NULL };
	static const double b[] = { 0.1, 1 };
	struct metrics_family *h = metrics_family(m, "cbq_call_seconds", "Latency.",
						  METRICS_HISTOGRAM, call, b, 2);
	const char *const run[] = { "RunInstances" };
	char *text;

	metrics_observe(h, run, 0.05);
	metrics_observe(h, run, 0.1); /* le is inclusive */
	metrics_observe(h, run, 0.5);
	metrics_observe(h, run, 7);
	metrics_observe(h, run, NAN); /* ignored */
	text = render(m);
	cr_expect_str_eq(after_builtin(text),
			 "# HELP cbq_call_seconds Latency.\n"
			 "# TYPE cbq_call_seconds histogram\n"
			 "cbq_call_seconds_bucket{call=\"RunInstances\",le=\"0.10000000000000001\"} 2\n"
			 "cbq_call_seconds_bucket{call=\"RunInstances\",le=\"1\"} 3\n"
			 "cbq_call_seconds_bucket{call=\"RunInstances\",le=\"+Inf\"} 4\n"
			 "cbq_call_seconds_sum{call=\"RunInstances\"} 7.6500000000000004\n"
			 "cbq_call_seconds_count{call=\"RunInstances\"} 4\n");
	free(text);
	metrics_free(m);
}

Test(metrics, full_family_drops_and_counts)
{
	struct metrics *m = metrics_new();
	static const char *const team[] = { "team", NULL };
	struct metrics_family *g =
		metrics_family(m, "cbq_queue_depth", "Queued.", METRICS_GAUGE, team, NULL, 0);
	char name[32], *text;

	for (int i = 0; i < METRICS_MAX_SERIES + 5; i++) {
		snprintf(name, sizeof(name), "t%d", i);
		metrics_set(g, (const char *const[]){ name }, i);
	}
	text = render(m);
	cr_expect(strstr(text, "cbq_metrics_series_dropped_total{family=\"cbq_queue_depth\"} 5\n"),
		  "the drop is counted");
	cr_expect(!strstr(text, "team=\"t2000\""));
	cr_expect(strstr(text, "cbq_queue_depth{team=\"t1999\"} 1999\n"));
	free(text);
	/* clearing starts over */
	metrics_clear(g);
	metrics_set(g, (const char *const[]){ "alpha" }, 2);
	text = render(m);
	cr_expect(strstr(text, "cbq_queue_depth{team=\"alpha\"} 2\n"));
	cr_expect(!strstr(text, "team=\"t0\""));
	free(text);
	metrics_free(m);
}

Test(metrics, long_label_values_are_cut)
{
	struct metrics *m = metrics_new();
	static const char *const k[] = { "k", NULL };
	struct metrics_family *c =
		metrics_family(m, "cbq_x_total", "X.", METRICS_COUNTER, k, NULL, 0);
	char v[METRICS_MAX_VALUE + 50], *text;

	memset(v, 'v', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	metrics_inc(c, (const char *const[]){ v }, 1);
	metrics_inc(c, (const char *const[]){ v }, 1); /* the same series after the cut */
	text = render(m);
	v[METRICS_MAX_VALUE] = '\0';
	char want[sizeof(v) + 40];
	snprintf(want, sizeof(want), "cbq_x_total{k=\"%s\"} 2\n", v);
	cr_expect(strstr(text, want), "%s", text);
	free(text);
	metrics_free(m);
}
