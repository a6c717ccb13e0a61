/*
 * The block mirror diff: stored row and EC2's view in, the update out. It
 * validates what EC2 said (a reply is input like any other) before anything
 * is compared. No I/O and no opinion about jobs on the block.
 */
#include "inventory/blocks.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "inventory/text.h"

/* In lifecycle order; rank 3 is final. */
static const struct {
	const char *name;
	int rank;
} states[] = {
	{ "payment-pending", 0 }, { "scheduled", 1 }, { "active", 2 }, { "payment-failed", 3 },
	{ "expired", 3 },	  { "cancelled", 3 }, { "failed", 3 },
};
enum { FINAL_RANK = 3 };

static int rank_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(name, states[i].name) == 0)
			return states[i].rank;
	return -1;
}

const char *inv_block_state(const char *name)
{
	for (size_t i = 0; name && i < sizeof(states) / sizeof(states[0]); i++)
		if (strcmp(name, states[i].name) == 0)
			return states[i].name;
	return NULL;
}

bool inv_block_edge_ok(const char *from, const char *to)
{
	int f = rank_of(from), t = rank_of(to);

	return f >= 0 && t >= 0 && f < FINAL_RANK && t > f;
}

/* ---- validation --------------------------------------------------------- */

/* cr- then 8..17 lower-case hex digits (the blocks table's rule). */
static bool is_block_id(const char *s)
{
	size_t n = 0;

	if (!s || strncmp(s, "cr-", 3) != 0)
		return false;
	for (s += 3; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n >= 8 && n <= 17;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* us-east-2a, ap-northeast-1c: [a-z]{2}(-[a-z]+)+-[0-9][a-z] (the blocks table's rule). */
static bool is_az(const char *s)
{
	size_t len = s ? strnlen(s, 65) : 0;
	size_t words = 0;

	if (len < 7 || len > 64 || !is_lower(s[0]) || !is_lower(s[1]) || s[2] != '-')
		return false;
	if (!(s[len - 2] >= '0' && s[len - 2] <= '9') || !is_lower(s[len - 1]) || s[len - 3] != '-')
		return false;
	/* between the prefix and "-Nx": one or more "-word" */
	for (size_t i = 2; i < len - 3;) {
		if (s[i] != '-' || !is_lower(s[i + 1]))
			return false;
		for (i++; i < len - 3 && is_lower(s[i]); i++)
			;
		words++;
	}
	return words >= 1;
}

#define TIME_MAX ((cbq_ms)253402300799999)

static enum cbq_err check_block(const struct block *b, const char *which, struct cbq_error *err)
{
	if (!is_block_id(b->id))
		return cbq_fail(err, CBQ_ERR_INVALID, "id", "%s block id \"%.*s\" is not cr-<hex>",
				which, INV_BLOCK_ID_MAX, b->id ? b->id : "");
	if (!inv_block_state(b->state))
		return cbq_fail(err, CBQ_ERR_INVALID, "state",
				"%s block %s has state \"%.32s\", which a Capacity Block never has",
				which, b->id, b->state ? b->state : "");
	if (b->total < 1 || b->total > INV_BLOCK_TOTAL_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "total",
				"%s block %s: total %" PRId32 " is outside 1..%d", which, b->id,
				b->total, INV_BLOCK_TOTAL_MAX);
	if (b->available < 0 || b->available > b->total)
		return cbq_fail(err, CBQ_ERR_INVALID, "available",
				"%s block %s: available %" PRId32 " is outside 0..%" PRId32, which,
				b->id, b->available, b->total);
	if (b->start < 0 || b->end > TIME_MAX || b->end <= b->start)
		return cbq_fail(err, CBQ_ERR_INVALID, "end",
				"%s block %s: it must end after it starts, by year 9999", which,
				b->id);
	return CBQ_OK;
}

static enum cbq_err check_usage(const struct block *b, struct cbq_error *err)
{
	if (b->n_usage > INV_USAGE_MAX)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, "usage",
				"block %s: %zu usage rows; at most %d are read", b->id, b->n_usage,
				INV_USAGE_MAX);
	if (b->n_usage > 0 && !b->usage)
		return cbq_fail(err, CBQ_ERR_INVALID, "usage", "block %s: usage missing", b->id);
	for (size_t i = 0; i < b->n_usage; i++) {
		const struct block_usage *u = &b->usage[i];
		if (!u->account_id || !cbq_is_account_id(u->account_id) || u->used < 0)
			return cbq_fail(err, CBQ_ERR_INVALID, "usage",
					"block %s: usage row %zu is not a 12-digit account with a "
					"count ≥ 0",
					b->id, i + 1);
		for (size_t k = 0; k < i; k++)
			if (strcmp(b->usage[k].account_id, u->account_id) == 0)
				return cbq_fail(err, CBQ_ERR_INVALID, "usage",
						"block %s: account %s is listed twice", b->id,
						u->account_id);
	}
	return CBQ_OK;
}

/* Same (account, used) set, whatever the order (rows are unique per account). */
static bool same_usage(const struct block *a, const struct block *b)
{
	if (a->n_usage != b->n_usage)
		return false;
	for (size_t i = 0; i < a->n_usage; i++) {
		bool found = false;
		for (size_t k = 0; k < b->n_usage && !found; k++)
			found = strcmp(a->usage[i].account_id, b->usage[k].account_id) == 0 &&
				a->usage[i].used == b->usage[k].used;
		if (!found)
			return false;
	}
	return true;
}

/* ---- event text ------------------------------------------------------- */

struct text {
	char *buf;
	size_t size, len;
};

static void add(struct text *t, const char *fmt, ...) CBQ_PRINTF(2, 3);
static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->len + 1 >= t->size)
		return;
	if (t->len > 0) {
		inv_textf(t->buf + t->len, t->size - t->len, "; ");
		t->len += strlen(t->buf + t->len);
	}
	va_start(ap, fmt);
	inv_vtextf(t->buf + t->len, t->size - t->len, fmt, ap);
	va_end(ap);
	t->len += strlen(t->buf + t->len);
}

static void add_state(struct text *t, const char *from, const char *to)
{
	if (inv_block_edge_ok(from, to))
		add(t, "%s → %s", from, to);
	else
		add(t, "%s → %s (unexpected; following EC2)", from, to);
}

/* ---- diff ----------------------------------------------------------------- */

static void fill_from(struct inv_block_update *u, const struct block *b)
{
	u->id = b->id;
	u->state = inv_block_state(b->state);
	u->start = b->start;
	u->end = b->end;
	u->cutoff = b->end - BLOCK_CUTOFF_LEAD_MS;
	u->total = b->total;
	u->available = b->available;
}

static int32_t outside(const struct inv_block_update *u)
{
	int64_t n = (int64_t)u->total - u->available - u->used_by_cbq;

	if (strcmp(u->state, "active") != 0 || n < 0)
		return 0;
	return (int32_t)n;
}

static void missing(const struct inv_block_sync *in, struct inv_block_update *u, struct text *t)
{
	const struct block *s = in->stored;
	char end[INV_TIME_BUF];
	const char *to;

	fill_from(u, s);
	if (rank_of(s->state) == FINAL_RANK)
		return;
	inv_time_format(s->end, end);
	if (strcmp(s->state, "payment-pending") == 0) {
		to = "payment-failed";
		add(t, "no longer listed by EC2 while payment was pending; payment-failed");
	} else if (in->now >= s->end) {
		to = "expired";
		add(t, "no longer listed by EC2 after its end (%s); expired", end);
	} else {
		to = "cancelled";
		add(t, "no longer listed by EC2 before its end (%s); cancelled (was %s)", end,
		    s->state);
	}
	u->op = INV_BLOCK_UPDATE;
	u->state = inv_block_state(to);
	u->state_changed = true;
}

static void changed(const struct inv_block_sync *in, struct inv_block_update *u, struct text *t)
{
	const struct block *s = in->stored, *e = in->seen;
	char a[INV_TIME_BUF], b[INV_TIME_BUF], c[INV_TIME_BUF];

	fill_from(u, e);
	if (strcmp(s->state, e->state) != 0) {
		u->state_changed = true;
		u->unexpected_edge = !inv_block_edge_ok(s->state, e->state);
		add_state(t, s->state, e->state);
	}
	if (e->end > s->end)
		add(t, "extended from %s to %s (cutoff now %s)", inv_time_format(s->end, a),
		    inv_time_format(e->end, b), inv_time_format(u->cutoff, c));
	else if (e->end < s->end)
		add(t, "end moved earlier, from %s to %s (cutoff now %s)",
		    inv_time_format(s->end, a), inv_time_format(e->end, b),
		    inv_time_format(u->cutoff, c));
	if (e->start != s->start)
		add(t, "start moved from %s to %s", inv_time_format(s->start, a),
		    inv_time_format(e->start, b));
	u->times_changed = e->start != s->start || e->end != s->end;
	u->counts_changed = e->total != s->total || e->available != s->available;
	u->usage_changed = in->seen_usage && !same_usage(s, e);
	if (u->state_changed || u->times_changed || u->counts_changed || u->usage_changed)
		u->op = INV_BLOCK_UPDATE;
}

static void inserted(const struct inv_block_sync *in, struct inv_block_update *u, struct text *t)
{
	const struct block *e = in->seen;
	char a[INV_TIME_BUF], b[INV_TIME_BUF];

	fill_from(u, e);
	u->op = INV_BLOCK_INSERT;
	u->state_changed = u->times_changed = u->counts_changed = true;
	u->usage_changed = in->seen_usage;
	add(t, "new block %s: %" PRId32 " × %s in %s, %s to %s, %s", e->id, e->total,
	    e->instance_type, e->az, inv_time_format(e->start, a), inv_time_format(e->end, b),
	    u->state);
}

enum cbq_err inv_block_diff(const struct inv_block_sync *in, struct inv_block_update *out,
			    struct cbq_error *err)
{
	const struct block *s = in->stored, *e = in->seen;
	struct inv_block_update u = { .op = INV_BLOCK_NONE, .used_by_cbq = in->used_by_cbq };
	struct text t = { .buf = u.event, .size = sizeof(u.event) };
	enum cbq_err rc;

	if (!s && !e)
		return cbq_fail(err, CBQ_ERR_INVALID, "block", "neither a stored nor a seen block");
	if (in->used_by_cbq < 0)
		return cbq_fail(err, CBQ_ERR_INVALID, "used_by_cbq",
				"cbq's usage %" PRId32 " is negative", in->used_by_cbq);
	if (in->now < 0 || in->now > TIME_MAX)
		return cbq_fail(err, CBQ_ERR_INVALID, "now", "now must lie in 0..year 9999");
	if (s && (rc = check_block(s, "stored", err)))
		return rc;
	if (e && (rc = check_block(e, "EC2's", err)))
		return rc;
	if (s && (rc = check_usage(s, err)))
		return rc;
	if (e && in->seen_usage && (rc = check_usage(e, err)))
		return rc;
	if (s && e && strcmp(s->id, e->id) != 0)
		return cbq_fail(err, CBQ_ERR_INVALID, "id",
				"stored block %s compared with EC2's %s", s->id, e->id);
	if (!s && !cbq_is_instance_type(e->instance_type ? e->instance_type : ""))
		return cbq_fail(err, CBQ_ERR_INVALID, "instance_type",
				"EC2's block %s has instance type \"%.64s\"", e->id,
				e->instance_type ? e->instance_type : "");
	if (!s && !is_az(e->az))
		return cbq_fail(err, CBQ_ERR_INVALID, "az", "EC2's block %s has AZ \"%.64s\"",
				e->id, e->az ? e->az : "");

	if (!s)
		inserted(in, &u, &t);
	else if (!e)
		missing(in, &u, &t);
	else
		changed(in, &u, &t);
	u.used_outside_cbq = e ? outside(&u) : 0;
	*out = u;
	return CBQ_OK;
}
