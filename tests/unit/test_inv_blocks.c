/*
 * The block mirror diff, table-driven from data/inv_blocks.tsv, and the
 * checks on what EC2 said. Not the engine that pairs rows with EC2's items
 * nor the SQL that writes the update.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/blocks.h"
#include "inventory/text.h"
#include "test_inv_tsv.h"

#define BLOCK_ID "cr-0123456789abcdef0"

enum { MAX_USAGE = 8 };

struct side {
	struct block b;
	struct block_usage usage[MAX_USAGE];
	bool present, has_usage;
};

/* "state,total,available,start,end" or "-"; usage "acct=n;..." , "-" or "n/a". */
static void decode(const struct tsv *t, char *blk, char *usage, struct side *s)
{
	char *f[5], *u[MAX_USAGE];

	memset(s, 0, sizeof(*s));
	if (strcmp(blk, "-") == 0)
		return;
	cr_assert_eq(tsv_split(blk, ',', f, 5), 5, "%s: block %s", tsv_where(t), blk);
	s->present = true;
	s->b = (struct block){
		.id = BLOCK_ID,
		.instance_type = "p5.48xlarge",
		.az = "us-east-2a",
		.state = f[0],
		.total = atoi(f[1]),
		.available = atoi(f[2]),
		.start = tsv_time(f[3]),
		.end = tsv_time(f[4]),
	};
	s->has_usage = strcmp(usage, "n/a") != 0;
	if (!s->has_usage)
		return;
	size_t n = tsv_split(usage, ';', u, MAX_USAGE);
	for (size_t i = 0; i < n; i++) {
		char *eq = strchr(u[i], '=');
		cr_assert(eq, "%s: usage %s", tsv_where(t), u[i]);
		*eq = '\0';
		s->usage[i] = (struct block_usage){ .account_id = u[i], .used = atoi(eq + 1) };
	}
	s->b.usage = s->usage;
	s->b.n_usage = n;
}

static const char *flags(const struct inv_block_update *u, char *buf)
{
	char *p = buf;

	if (u->state_changed)
		p += sprintf(p, "s,");
	if (u->unexpected_edge)
		p += sprintf(p, "x,");
	if (u->times_changed)
		p += sprintf(p, "t,");
	if (u->counts_changed)
		p += sprintf(p, "c,");
	if (u->usage_changed)
		p += sprintf(p, "u,");
	if (p == buf)
		strcpy(buf, "-");
	else
		p[-1] = '\0';
	return buf;
}

static const char *op_name(enum inv_block_op op)
{
	switch (op) {
	case INV_BLOCK_NONE: return "none";
	case INV_BLOCK_INSERT: return "insert";
	case INV_BLOCK_UPDATE: return "update";
	}
	return "?";
}

Test(inv_blocks, cases_from_table)
{
	struct tsv t;
	int rows = 0;

	tsv_open(&t, "inv_blocks.tsv");
	while (tsv_next(&t)) {
		struct side stored, seen;
		struct inv_block_update u;
		struct cbq_error err = { 0 };
		char fl[32], a[INV_TIME_BUF];
		const char *where = tsv_where(&t);

		rows++;
		decode(&t, tsv_at(&t, 1), tsv_at(&t, 2), &stored);
		decode(&t, tsv_at(&t, 3), tsv_at(&t, 4), &seen);
		struct inv_block_sync in = {
			.now = tsv_time(tsv_at(&t, 6)),
			.stored = stored.present ? &stored.b : NULL,
			.seen = seen.present ? &seen.b : NULL,
			.seen_usage = seen.has_usage,
			.used_by_cbq = atoi(tsv_at(&t, 5)),
		};
		cr_assert_eq(inv_block_diff(&in, &u, &err), CBQ_OK, "%s: %s", where, err.msg);
		cr_expect_str_eq(op_name(u.op), tsv_at(&t, 7), "%s (%s)", where, tsv_at(&t, 0));
		cr_expect_str_eq(u.state, tsv_at(&t, 8), "%s: state", where);
		cr_expect_eq(u.end, tsv_time(tsv_at(&t, 9)), "%s: end %s", where,
			     inv_time_format(u.end, a));
		cr_expect_eq(u.cutoff, u.end - BLOCK_CUTOFF_LEAD_MS, "%s: cutoff", where);
		cr_expect_eq(u.available, atoi(tsv_at(&t, 10)), "%s: available", where);
		cr_expect_eq(u.used_outside_cbq, atoi(tsv_at(&t, 11)), "%s: outside %d", where,
			     u.used_outside_cbq);
		cr_expect_str_eq(flags(&u, fl), tsv_at(&t, 12), "%s: flags", where);
		cr_expect_str_eq(u.id, BLOCK_ID);
		cr_expect(inv_text_is_clean(u.event), "%s", where);
		if (strcmp(tsv_at(&t, 13), "-") == 0) {
			cr_expect_str_empty(u.event, "%s: event \"%s\"", where, u.event);
		} else {
			char *pieces[8];
			size_t n = tsv_split(tsv_at(&t, 13), '|', pieces, 8);
			for (size_t i = 0; i < n; i++)
				cr_expect(strstr(u.event, pieces[i]),
					  "%s: event \"%s\" lacks \"%s\"", where, u.event,
					  pieces[i]);
		}
	}
	tsv_close(&t);
	cr_expect_gt(rows, 20, "the table looks truncated");
}

static struct block good(void)
{
	return (struct block){ .id = BLOCK_ID,
			       .instance_type = "p5.48xlarge",
			       .az = "us-east-2a",
			       .state = "active",
			       .total = 8,
			       .available = 3,
			       .start = TSV_T0_MS,
			       .end = TSV_T0_MS + 86400000 };
}

/* seen alone (an insert) must be refused with code and field. */
static void expect_refused(struct block seen, enum cbq_err code, const char *field)
{
	struct inv_block_sync in = { .now = TSV_T0_MS, .seen = &seen, .seen_usage = true };
	struct inv_block_update u = { .op = 99 };
	struct cbq_error err = { 0 };

	cr_expect_eq(inv_block_diff(&in, &u, &err), code, "%s: %s", field, err.msg);
	cr_expect_str_eq(err.field, field);
	cr_expect_eq((int)u.op, 99, "output written on failure");
}

Test(inv_blocks, ec2_answers_that_cannot_be_a_block_are_refused)
{
	struct block b;
	static struct block_usage many[INV_USAGE_MAX + 1];
	struct block_usage dup[] = { { "111122223333", 1 }, { "111122223333", 2 } };
	struct block_usage bad[] = { { "1111", 1 } };
	struct block_usage neg[] = { { "111122223333", -1 } };

	b = good(), b.state = "delayed";
	expect_refused(b, CBQ_ERR_INVALID, "state");
	b = good(), b.state = NULL;
	expect_refused(b, CBQ_ERR_INVALID, "state");
	b = good(), b.total = 0;
	expect_refused(b, CBQ_ERR_INVALID, "total");
	b = good(), b.total = INV_BLOCK_TOTAL_MAX + 1;
	expect_refused(b, CBQ_ERR_INVALID, "total");
	b = good(), b.available = 9;
	expect_refused(b, CBQ_ERR_INVALID, "available");
	b = good(), b.available = -1;
	expect_refused(b, CBQ_ERR_INVALID, "available");
	b = good(), b.end = b.start;
	expect_refused(b, CBQ_ERR_INVALID, "end");
	b = good(), b.id = "cr-XYZ";
	expect_refused(b, CBQ_ERR_INVALID, "id");
	b = good(), b.id = "cr-0123456";
	expect_refused(b, CBQ_ERR_INVALID, "id");
	b = good(), b.id = NULL;
	expect_refused(b, CBQ_ERR_INVALID, "id");
	b = good(), b.instance_type = "P5";
	expect_refused(b, CBQ_ERR_INVALID, "instance_type");
	b = good(), b.az = "us-east-2";
	expect_refused(b, CBQ_ERR_INVALID, "az");
	b = good(), b.az = "US-east-2a";
	expect_refused(b, CBQ_ERR_INVALID, "az");
	b = good(), b.usage = dup, b.n_usage = 2;
	expect_refused(b, CBQ_ERR_INVALID, "usage");
	b = good(), b.usage = bad, b.n_usage = 1;
	expect_refused(b, CBQ_ERR_INVALID, "usage");
	b = good(), b.usage = neg, b.n_usage = 1;
	expect_refused(b, CBQ_ERR_INVALID, "usage");
	b = good(), b.usage = many, b.n_usage = INV_USAGE_MAX + 1;
	expect_refused(b, CBQ_ERR_TOO_LARGE, "usage");
}

Test(inv_blocks, azs_of_every_shape_are_accepted)
{
	static const char *const azs[] = { "us-east-2a", "ap-northeast-1c", "us-gov-west-1a",
					   "eu-central-2b", "xx-y-1a" };

	for (size_t i = 0; i < sizeof(azs) / sizeof(azs[0]); i++) {
		struct block b = good();
		struct inv_block_sync in = { .now = TSV_T0_MS, .seen = &b };
		struct inv_block_update u;
		struct cbq_error err = { 0 };

		b.az = azs[i];
		cr_expect_eq(inv_block_diff(&in, &u, &err), CBQ_OK, "%s: %s", azs[i], err.msg);
	}
}

Test(inv_blocks, pairs_that_do_not_match_are_refused)
{
	struct block s = good(), e = good();
	struct inv_block_sync in = { .now = TSV_T0_MS, .stored = &s, .seen = &e };
	struct inv_block_update u;
	struct cbq_error err = { 0 };

	e.id = "cr-0123456789abcdef1";
	cr_expect_eq(inv_block_diff(&in, &u, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "id");
	in.stored = in.seen = NULL;
	cr_expect_eq(inv_block_diff(&in, &u, &err), CBQ_ERR_INVALID);
	in.seen = &s;
	in.used_by_cbq = -1;
	cr_expect_eq(inv_block_diff(&in, &u, &err), CBQ_ERR_INVALID);
	cr_expect_str_eq(err.field, "used_by_cbq");
}

Test(inv_blocks, documented_block_edges_move_forward_only)
{
	cr_expect(inv_block_edge_ok("payment-pending", "scheduled"));
	cr_expect(inv_block_edge_ok("payment-pending", "payment-failed"));
	cr_expect(inv_block_edge_ok("scheduled", "active"));
	cr_expect(inv_block_edge_ok("scheduled", "expired"));
	cr_expect(inv_block_edge_ok("active", "expired"));
	cr_expect(inv_block_edge_ok("active", "cancelled"));
	cr_expect(!inv_block_edge_ok("active", "scheduled"));
	cr_expect(!inv_block_edge_ok("active", "active"));
	cr_expect(!inv_block_edge_ok("expired", "active"));
	cr_expect(!inv_block_edge_ok("cancelled", "expired"));
	cr_expect(!inv_block_edge_ok("delayed", "active"));
	cr_expect(!inv_block_edge_ok(NULL, "active"));
	cr_expect_null(inv_block_state("assessing"));
	cr_expect_str_eq(inv_block_state("failed"), "failed");
}
