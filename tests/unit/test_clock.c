/* The one clock: real, or scaled for demos and tests. */
#include <criterion/criterion.h>

#include "util/clock.h"

Test(clock, real_is_real)
{
	struct cbq_clock c;
	cbq_ms before = cbq_clock_real_ms();

	cr_assert_eq(cbq_clock_parse("real", before, &c, NULL), CBQ_OK);
	cr_expect_geq(cbq_clock_now(&c), before);
	cr_expect_lt(cbq_clock_now(&c) - before, 5000);
}

Test(clock, scaled_runs_from_its_epoch)
{
	struct cbq_clock c;
	struct cbq_error err;
	cbq_ms real = cbq_clock_real_ms();

	cr_assert_eq(cbq_clock_parse("scaled:60,epoch=2026-01-05T08:00:00Z", real, &c, &err),
		     CBQ_OK, "%s", err.msg);
	cr_expect_eq(c.factor, 60.0);
	cr_expect_eq(c.epoch, 1767600000000LL);
	/* 2026-01-05T08:00:00Z plus at most a few simulated seconds */
	cr_expect_geq(cbq_clock_now(&c), 1767600000000LL);
	cr_expect_lt(cbq_clock_now(&c), 1767600000000LL + 60 * 1000);

	cr_assert_eq(cbq_clock_parse("scaled:2,origin=1000", real, &c, &err), CBQ_OK);
	cr_expect_eq(c.origin, 1000000);
	cr_expect_eq(c.epoch, 1000000, "epoch defaults to the origin");
}

Test(clock, bad_specs_are_refused)
{
	static const char *const bad[] = { "", "fast", "scaled:", "scaled:0", "scaled:-1",
					   "scaled:2,epoch=yesterday", "scaled:2,origin=x",
					   "scaled:2,bogus=1" };
	struct cbq_clock c;
	struct cbq_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(cbq_clock_parse(bad[i], 0, &c, &err), CBQ_ERR_INVALID, "%s", bad[i]);
		cr_expect_str_eq(err.field, "clock");
	}
}
