/*
 * `cbqd admin block add|ls`: Capacity Blocks registered by hand (source
 * 'static'), for set-ups where inventory sync does not see the owner
 * account. A block and the accounts it is shared with are written in one
 * transaction. Not the inventory sync: nothing here talks to AWS.
 */
#include <stdio.h>
#include <string.h>

#include "admin/cli.h"
#include "admin/groups.h"
#include "core/job.h"

static const char block_usage[] =
	"usage: cbqd admin [--db CONNINFO] block add cr-ID --instance-type T --az AZ --count N\n"
	"           --start TS --end TS --owner ACCOUNT_ID [--share ACCOUNT_ID,...]\n"
	"           [--state S] [--available N]\n"
	"       cbqd admin [--db CONNINFO] block ls\n"
	"  cr-ID: the capacity reservation id (cr- and 8-17 hex digits).\n"
	"  --instance-type p5.48xlarge, --az us-east-1a, --count 1..10000 instances.\n"
	"  TS: ISO 8601 with a time zone, e.g. 2026-11-23T08:00:00Z.\n"
	"  --owner: the account that bought the block; it may always use it.\n"
	"  --share: other accounts the block is shared with (comma-separated).\n"
	"  --state: payment-pending, payment-failed, scheduled, active, expired,\n"
	"           cancelled or failed (default: scheduled before --start, active\n"
	"           until --end, expired after).\n"
	"  --available N: instances free now, 0..count (default: count).\n";

enum { SHARES_MAX = 1000 };

static const char *const states[] = { "payment-pending", "payment-failed", "scheduled", "active",
				      "expired",	 "cancelled",	   "failed" };

static int done(struct admin_ctx *ctx, int rc)
{
	admin_disconnect(ctx);
	return rc == ADMIN_HELP ? ADMIN_OK : rc;
}

static bool is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

/* ^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$, as blocks.az requires: us-east-1a. */
static bool is_az(const char *s)
{
	size_t n = strlen(s);
	const char *p = s + 2;
	int words = 0;

	if (n < 7 || n > 32 || !is_lower(s[0]) || !is_lower(s[1]))
		return false;
	if (!(s[n - 2] >= '0' && s[n - 2] <= '9') || !is_lower(s[n - 1]) || s[n - 3] != '-')
		return false;
	/* the middle, s+2 .. s+n-3, is one or more "-word" */
	while (p < s + n - 3) {
		if (*p != '-' || !is_lower(p[1]))
			return false;
		for (p++; p < s + n - 3 && is_lower(*p); p++)
			;
		words++;
	}
	return words > 0;
}

/* Ends in Z or a numeric offset, so that the time does not depend on the
 * server's TimeZone setting. */
static bool has_zone(const char *s)
{
	size_t n = strlen(s);
	const char *p;

	if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z'))
		return true;
	p = strrchr(s, '+');
	if (!p) {
		p = strrchr(s, '-');
		if (p && p - s < 11) /* the date's own dashes */
			p = NULL;
	}
	return p && p - s >= 11 && admin_chars(p + 1, 2, 5, false, "0123456789:");
}

/* "a,b,c" → "{a,b,c}" without duplicates and without the owner; *n gets the
 * number of accounts. Returns false (having said why) on a bad list. */
static bool parse_shares(struct admin_ctx *ctx, const char *list, const char *owner, char *out,
			 size_t size, int *n, int *rc)
{
	char ids[SHARES_MAX][13];
	const char *p = list;
	size_t o = 0;

	*n = 0;
	out[o++] = '{';
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char id[13];
		bool dup = false;

		if (len != 12) {
			*rc = admin_usage_error(ctx,
						"--share must be 12-digit account ids separated "
						"by commas, got %.*s",
						(int)(len > 40 ? 40 : len), p);
			return false;
		}
		memcpy(id, p, 12);
		id[12] = '\0';
		if (!admin_is_account_id(id)) {
			*rc = admin_usage_error(ctx, "--share: %s is not a 12-digit account id",
						id);
			return false;
		}
		for (int i = 0; i < *n; i++)
			dup = dup || strcmp(ids[i], id) == 0;
		if (!dup && strcmp(id, owner) != 0) {
			if (*n == SHARES_MAX || o + 14 >= size) {
				*rc = admin_usage_error(ctx, "--share lists more than %d accounts",
							SHARES_MAX);
				return false;
			}
			memcpy(ids[(*n)++], id, 13);
			if (o > 1)
				out[o++] = ',';
			memcpy(out + o, id, 12);
			o += 12;
		}
		p += len;
		if (*p == ',' && *++p == '\0') {
			*rc = admin_usage_error(ctx, "--share ends with a comma");
			return false;
		}
	}
	out[o++] = '}';
	out[o] = '\0';
	return true;
}

struct block_args {
	const char *id, *type, *az, *count, *start, *end, *owner, *share, *state, *available;
	long n, avail;
	char region[32];
	char shares[SHARES_MAX * 13 + 3];
	int n_shares;
};

/* Everything that can be checked without the database. */
static int check_args(struct admin_ctx *ctx, struct block_args *b)
{
	int rc = ADMIN_OK;

	if (strncmp(b->id, "cr-", 3) != 0 ||
	    !admin_chars(b->id + 3, 8, 17, false, "0123456789abcdef"))
		return admin_usage_error(ctx,
					 "block id must be cr- and 8-17 lowercase hex digits "
					 "(cr-0123456789abcdef0), got %.80s",
					 b->id);
	if (!b->type)
		return admin_usage_error(ctx, "--instance-type is required");
	if (!cbq_is_instance_type(b->type))
		return admin_usage_error(ctx,
					 "--instance-type must look like p5.48xlarge, got %.80s",
					 b->type);
	if (!b->az)
		return admin_usage_error(ctx, "--az is required");
	if (!is_az(b->az))
		return admin_usage_error(ctx,
					 "--az must be an availability zone like us-east-1a, "
					 "got %.80s",
					 b->az);
	snprintf(b->region, sizeof(b->region), "%.*s", (int)strlen(b->az) - 1, b->az);
	if (!b->count)
		return admin_usage_error(ctx, "--count is required");
	if (!admin_parse_int(b->count, 1, 10000, &b->n))
		return admin_usage_error(ctx, "--count must be 1..10000");
	if (!b->start)
		return admin_usage_error(ctx, "--start is required");
	if (!has_zone(b->start))
		return admin_usage_error(ctx,
					 "--start must be ISO 8601 with a time zone, e.g. "
					 "2026-11-23T08:00:00Z, got %.80s",
					 b->start);
	if (!b->end)
		return admin_usage_error(ctx, "--end is required");
	if (!has_zone(b->end))
		return admin_usage_error(ctx,
					 "--end must be ISO 8601 with a time zone, e.g. "
					 "2026-11-23T08:00:00Z, got %.80s",
					 b->end);
	if (!b->owner)
		return admin_usage_error(ctx, "--owner is required");
	if (!admin_is_account_id(b->owner))
		return admin_usage_error(ctx, "--owner must be a 12-digit account id, got %.80s",
					 b->owner);
	if (b->state) {
		bool known = false;

		for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++)
			known = known || strcmp(b->state, states[i]) == 0;
		if (!known)
			return admin_usage_error(ctx,
						 "--state must be one of payment-pending, "
						 "payment-failed, scheduled, active, expired, "
						 "cancelled, failed; got %.80s",
						 b->state);
	}
	b->avail = b->n;
	if (b->available && !admin_parse_int(b->available, 0, b->n, &b->avail))
		return admin_usage_error(ctx, "--available must be 0..%ld (the --count)", b->n);
	snprintf(b->shares, sizeof(b->shares), "{}");
	if (b->share &&
	    !parse_shares(ctx, b->share, b->owner, b->shares, sizeof(b->shares), &b->n_shares, &rc))
		return rc;
	return ADMIN_OK;
}

static int block_add(struct admin_ctx *ctx, int argc, char **argv)
{
	struct admin_flag f[] = { { "--instance-type", NULL }, { "--az", NULL },
				  { "--count", NULL },	       { "--start", NULL },
				  { "--end", NULL },	       { "--owner", NULL },
				  { "--share", NULL },	       { "--state", NULL },
				  { "--available", NULL } };
	size_t nf = sizeof(f) / sizeof(f[0]);
	struct block_args b;
	const char *pos[1];
	char bad_start[160], bad_end[160], unique[80], count[16], avail[16];
	const char *state;
	int npos, rc;
	PGresult *r = NULL, *t = NULL;

	rc = admin_parse(ctx, argc, argv, f, nf, pos, 1, &npos);
	if (rc)
		return done(ctx, rc);
	if (npos != 1)
		return admin_usage_error(ctx, "block add needs the block's cr-ID");
	memset(&b, 0, sizeof(b));
	b.id = pos[0];
	b.type = admin_flag(f, nf, "--instance-type");
	b.az = admin_flag(f, nf, "--az");
	b.count = admin_flag(f, nf, "--count");
	b.start = admin_flag(f, nf, "--start");
	b.end = admin_flag(f, nf, "--end");
	b.owner = admin_flag(f, nf, "--owner");
	b.share = admin_flag(f, nf, "--share");
	b.state = admin_flag(f, nf, "--state");
	b.available = admin_flag(f, nf, "--available");
	rc = check_args(ctx, &b);
	if (rc)
		return rc;
	if (!admin_connect(ctx))
		return ADMIN_FAILED;

	/* Postgres reads the times; each on its own so the message names the flag */
	snprintf(bad_start, sizeof(bad_start), "--start %.80s is not a time Postgres can read",
		 b.start);
	snprintf(bad_end, sizeof(bad_end), "--end %.80s is not a time Postgres can read", b.end);
	r = admin_exec(ctx, "SELECT $1::timestamptz", 1, (const char *const[]){ b.start },
		       &(struct admin_hints){ .invalid = bad_start });
	if (!r)
		return done(ctx, ADMIN_FAILED);
	PQclear(r);
	r = admin_exec(
		ctx,
		"SELECT $2::timestamptz > $1::timestamptz,"
		" CASE WHEN now() < $1::timestamptz THEN 'scheduled'"
		"  WHEN now() < $2::timestamptz THEN 'active' ELSE 'expired' END,"
		" to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
		" to_char($2::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
		2, (const char *const[]){ b.start, b.end },
		&(struct admin_hints){ .invalid = bad_end });
	if (!r)
		return done(ctx, ADMIN_FAILED);
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		rc = admin_usage_error(ctx, "--end (%s) must be after --start (%s)",
				       PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 2));
		goto out;
	}
	state = b.state ? b.state : PQgetvalue(r, 0, 1);

	snprintf(unique, sizeof(unique), "block %s already exists", b.id);
	snprintf(count, sizeof(count), "%ld", b.n);
	snprintf(avail, sizeof(avail), "%ld", b.avail);
	rc = ADMIN_FAILED;
	t = admin_exec(ctx, "BEGIN", 0, NULL, NULL);
	if (!t)
		goto out;
	PQclear(t);
	t = admin_exec(ctx,
		       "INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total,"
		       " available, state, start_at, end_at, source)"
		       " VALUES ($1, $2, $3, $4, $5, $6::int, $7::int, $8, $9::timestamptz,"
		       " $10::timestamptz, 'static')",
		       10,
		       (const char *const[]){ b.id, b.owner, b.region, b.az, b.type, count, avail,
					      state, b.start, b.end },
		       &(struct admin_hints){ .unique = unique });
	if (!t)
		goto out;
	PQclear(t);
	t = admin_exec(ctx,
		       "INSERT INTO block_consumers (block_id, account_id)"
		       " SELECT $1, unnest($2::text[])",
		       2, (const char *const[]){ b.id, b.shares }, NULL);
	if (!t)
		goto out;
	PQclear(t);
	t = admin_exec(ctx, "COMMIT", 0, NULL, NULL);
	if (!t)
		goto out;
	printf("added block %s (%s x %ld in %s, %s, %s to %s, owner %s, shared with %d "
	       "account%s)\n",
	       b.id, b.type, b.n, b.az, state, PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 3), b.owner,
	       b.n_shares, b.n_shares == 1 ? "" : "s");
	rc = ADMIN_OK;
out:
	PQclear(t);
	PQclear(r);
	return done(ctx, rc);
}

int admin_block_main(struct admin_ctx *ctx, int argc, char **argv)
{
	const char *pos[1];
	int npos, rc;
	PGresult *r;

	ctx->usage = block_usage;
	if (argc < 2)
		return admin_usage_error(ctx, "block what? add or ls");
	if (strcmp(argv[1], "add") == 0)
		return block_add(ctx, argc - 2, argv + 2);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(block_usage, stdout);
		return ADMIN_OK;
	}
	if (strcmp(argv[1], "ls") != 0)
		return admin_usage_error(ctx, "unknown block command %.80s (add or ls)", argv[1]);
	rc = admin_parse(ctx, argc - 2, argv + 2, NULL, 0, pos, 0, &npos);
	if (rc)
		return done(ctx, rc);
	if (!admin_connect(ctx))
		return ADMIN_FAILED;
	r = admin_exec(
		ctx,
		"SELECT b.id AS block, b.instance_type AS type, b.az, b.total,"
		" b.available, b.state,"
		" to_char(b.start_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS start,"
		" to_char(b.end_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') AS end,"
		" b.owner_account_id AS owner, b.source,"
		" coalesce(string_agg(c.account_id, ',' ORDER BY c.account_id), '-')"
		" AS shared_with"
		" FROM blocks b LEFT JOIN block_consumers c ON c.block_id = b.id"
		" GROUP BY b.id ORDER BY b.start_at, b.id",
		0, NULL, NULL);
	if (!r)
		return done(ctx, ADMIN_FAILED);
	admin_print_table(r);
	PQclear(r);
	return done(ctx, ADMIN_OK);
}
