/* Duration text ⇄ seconds, table-driven from data/duration_cases.tsv. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"

static FILE *open_cases(void)
{
	char path[1024];
	const char *dir = getenv("CBQ_TESTDATA");
	FILE *f;

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/duration_cases.tsv", dir);
	f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	return f;
}

/* Splits a case line into three tab-separated fields in place. */
static bool split(char *line, char **a, char **b, char **c)
{
	line[strcspn(line, "\n")] = '\0';
	if (line[0] == '#' || line[0] == '\0')
		return false;
	*a = line;
	*b = strchr(*a, '\t');
	cr_assert(*b, "case line without tabs: %s", line);
	*(*b)++ = '\0';
	*c = strchr(*b, '\t');
	cr_assert(*c, "case line without a third field: %s", *a);
	*(*c)++ = '\0';
	return true;
}

Test(duration, cases_from_table)
{
	FILE *f = open_cases();
	char line[512], long_text[66];
	int n = 0;

	memset(long_text, '1', 65);
	long_text[65] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *op, *input, *want;

		if (!split(line, &op, &input, &want))
			continue;
		n++;
		if (strcmp(input, "<empty>") == 0)
			input = "";
		else if (strcmp(input, "<long>") == 0)
			input = long_text;

		if (strcmp(op, "parse") == 0) {
			struct cbq_error err = { 0 };
			int64_t got = -12345;
			enum cbq_err rc = cbq_duration_parse(input, &got, &err);

			if (want[0] == '!') {
				cr_expect_eq(rc, CBQ_ERR_INVALID, "parse \"%s\" should fail", input);
				cr_expect_eq(got, -12345, "parse \"%s\" set the output on failure", input);
				cr_expect_str_eq(err.field, "duration");
				cr_expect(strstr(err.msg, want + 1), "parse \"%s\": message \"%s\" lacks \"%s\"",
					  input, err.msg, want + 1);
			} else {
				cr_expect_eq(rc, CBQ_OK, "parse \"%s\" failed: %s", input, err.msg);
				cr_expect_eq(got, strtoll(want, NULL, 10), "parse \"%s\" = %" PRId64 ", want %s",
					     input, got, want);
			}
		} else if (strcmp(op, "format") == 0) {
			char buf[CBQ_DURATION_BUF];
			int64_t s = strtoll(input, NULL, 10);

			cr_expect_str_eq(cbq_duration_format(s, buf, sizeof(buf)), want, "format %s", input);
		} else {
			cr_assert_fail("unknown op \"%s\" in duration_cases.tsv", op);
		}
	}
	fclose(f);
	cr_assert_gt(n, 40, "the case table looks truncated (%d cases)", n);
}

Test(duration, format_then_parse_round_trips)
{
	static const int64_t samples[] = { 0, 1, 59, 60, 61, 3599, 3600, 5400, 86399, 86400,
					   604800, 1209600, INT64_MAX };

	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char buf[CBQ_DURATION_BUF];
		int64_t back = -1;

		cbq_duration_format(samples[i], buf, sizeof(buf));
		cr_assert_eq(cbq_duration_parse(buf, &back, NULL), CBQ_OK, "%s", buf);
		cr_expect_eq(back, samples[i], "%s", buf);
	}
}

Test(duration, format_truncates_into_small_buffers)
{
	char buf[4] = "zzz";

	cr_expect_str_eq(cbq_duration_format(5400, buf, sizeof(buf)), "1h3");
	cr_expect_eq(cbq_duration_format(5400, buf, 0), buf, "size 0 writes nothing");
	cr_expect_str_eq(buf, "1h3");
}

Test(duration, null_text_is_refused)
{
	int64_t s = 7;
	struct cbq_error err = { 0 };

	cr_expect_eq(cbq_duration_parse(NULL, &s, &err), CBQ_ERR_INVALID);
	cr_expect_eq(s, 7);
}
