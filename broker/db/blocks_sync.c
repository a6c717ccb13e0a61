/* The inventory sync's statements; see blocks_sync.h. */
#include "db/blocks_sync.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"

struct sync_call {
	db_synced_blocks_fn *blocks_done;
	db_account_ids_fn *ids_done;
	db_sync_fn *done;
	void *arg;
	bool too_large; /* refused before writing: say so from the loop */
};

static struct sync_call *call_new(void *arg)
{
	struct sync_call *sc = cbq_xcalloc(1, sizeof(*sc));

	sc->arg = arg;
	return sc;
}

/* ---- reads ---------------------------------------------------------------- */

static const char owner_blocks_sql[] =
	"SELECT b.id, b.instance_type, b.az, b.total, b.available, b.state,"
	" cbq_ms(b.start_at), cbq_ms(b.end_at), b.source = 'ec2',"
	" COALESCE((SELECT string_agg(c.account_id, ',' ORDER BY c.account_id)"
	"  FROM block_consumers c WHERE c.block_id = b.id), ''),"
	" COALESCE((SELECT string_agg(u.account_id || ':' || u.used, ',' ORDER BY u.account_id)"
	"  FROM block_usage u WHERE u.block_id = b.id), ''),"
	" COALESCE((SELECT sum(j.instance_count) FROM jobs j WHERE j.block_id = b.id"
	"  AND j.state IN ('launching', 'running', 'expiring')), 0)"
	" FROM blocks b WHERE b.owner_account_id = $1 ORDER BY b.id LIMIT $2::int";

static void owner_blocks_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct sync_call *sc = arg;
	struct cbq_arena a = { 0 };

	if (err) {
		sc->blocks_done(sc->arg, NULL, 0, err);
		free(sc);
		return;
	}
	size_t n = (size_t)db_rows(r);
	struct db_synced_block *out = cbq_arena_alloc(&a, n + 1, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		int row = (int)i;
		struct db_synced_block *s = &out[i];
		size_t nu = 0;
		s->b.id = cbq_arena_strdup(&a, db_get(r, row, 0));
		s->b.instance_type = cbq_arena_strdup(&a, db_get(r, row, 1));
		s->b.az = cbq_arena_strdup(&a, db_get(r, row, 2));
		s->b.total = (int32_t)strtol(db_get(r, row, 3), NULL, 10);
		s->b.available = (int32_t)strtol(db_get(r, row, 4), NULL, 10);
		s->b.state = cbq_arena_strdup(&a, db_get(r, row, 5));
		s->b.start = strtoll(db_get(r, row, 6), NULL, 10);
		s->b.end = strtoll(db_get(r, row, 7), NULL, 10);
		s->b.cutoff = s->b.end - BLOCK_CUTOFF_LEAD_MS;
		s->ec2 = strcmp(db_get(r, row, 8), "t") == 0;
		s->consumers = cbq_arena_split(&a, db_get(r, row, 9), ',', &s->n_consumers);
		const char **pairs = cbq_arena_split(&a, db_get(r, row, 10), ',', &nu);
		struct block_usage *u = cbq_arena_alloc(&a, nu + 1, sizeof(*u));
		for (size_t k = 0; k < nu; k++) {
			char *colon = strchr(pairs[k], ':');
			if (colon)
				*colon = '\0';
			u[k].account_id = pairs[k];
			u[k].used = colon ? (int32_t)strtol(colon + 1, NULL, 10) : 0;
		}
		s->b.usage = u;
		s->b.n_usage = nu;
		s->used_by_cbq = (int32_t)strtol(db_get(r, row, 11), NULL, 10);
	}
	sc->blocks_done(sc->arg, out, n, NULL);
	cbq_arena_free(&a);
	free(sc);
}

void db_blocks_of_owner(struct db *db, const char *owner, int limit, db_synced_blocks_fn *done,
			void *arg)
{
	struct sync_call *sc = call_new(arg);
	char lim[16];
	const char *params[2] = { owner, lim };

	snprintf(lim, sizeof(lim), "%d", limit);
	sc->blocks_done = done;
	db_query(db, owner_blocks_sql, 2, params, NULL, owner_blocks_done, sc);
}

static void account_ids_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct sync_call *sc = arg;

	if (err) {
		sc->ids_done(sc->arg, NULL, 0, err);
		free(sc);
		return;
	}
	size_t n = (size_t)db_rows(r);
	const char **ids = cbq_xcalloc(n + 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = db_get(r, (int)i, 0);
	sc->ids_done(sc->arg, ids, n, NULL);
	free(ids);
	free(sc);
}

void db_account_ids(struct db *db, int limit, db_account_ids_fn *done, void *arg)
{
	struct sync_call *sc = call_new(arg);
	char lim[16];
	const char *params[1] = { lim };

	snprintf(lim, sizeof(lim), "%d", limit);
	sc->ids_done = done;
	db_query(db, "SELECT account_id FROM accounts ORDER BY account_id LIMIT $1::int", 1, params,
		 NULL, account_ids_done, sc);
}

/* ---- writes --------------------------------------------------------------- */

static void write_done(void *arg, const struct db_result *r, const struct db_error *err)
{
	struct sync_call *sc = arg;

	if (sc->too_large && !err) {
		struct db_error big = { .err = { .code = CBQ_ERR_TOO_LARGE } };
		snprintf(big.err.msg, sizeof(big.err.msg),
			 "too many rows for one block; not written");
		sc->done(sc->arg, false, &big);
	} else {
		sc->done(sc->arg, !err && db_rows(r) > 0, err);
	}
	free(sc);
}

/* Refuses from the loop, as every other outcome arrives. */
static void refuse_too_large(struct db *db, struct sync_call *sc)
{
	sc->too_large = true;
	db_query(db, "SELECT 1 WHERE false", 0, NULL, NULL, write_done, sc);
}

static const char upsert_sql[] =
	"INSERT INTO blocks (id, owner_account_id, region, az, instance_type, total, available,"
	" state, start_at, end_at, source, synced_at)"
	" VALUES ($1, $2, $3, $4, $5, $6::int, $7::int, $8, to_timestamp($9::bigint / 1000.0),"
	" to_timestamp($10::bigint / 1000.0), 'ec2', to_timestamp($11::bigint / 1000.0))"
	" ON CONFLICT (id) DO UPDATE SET region = EXCLUDED.region, total = EXCLUDED.total,"
	" available = EXCLUDED.available, state = EXCLUDED.state, start_at = EXCLUDED.start_at,"
	" end_at = EXCLUDED.end_at, synced_at = EXCLUDED.synced_at"
	" WHERE blocks.source = 'ec2' AND blocks.owner_account_id = EXCLUDED.owner_account_id"
	" RETURNING id";

void db_block_upsert(struct db *db, const struct db_block_write *w, db_sync_fn *done, void *arg)
{
	struct sync_call *sc = call_new(arg);
	char total[16], avail[16], start[24], end[24], at[24];
	const char *params[11] = { w->id, w->owner, w->region, w->az, w->instance_type,
				   total, avail,    w->state,  start, end,
				   at };

	snprintf(total, sizeof(total), "%" PRId32, w->total);
	snprintf(avail, sizeof(avail), "%" PRId32, w->available);
	snprintf(start, sizeof(start), "%" PRId64, w->start);
	snprintf(end, sizeof(end), "%" PRId64, w->end);
	snprintf(at, sizeof(at), "%" PRId64, w->synced_at);
	sc->done = done;
	db_query(db, upsert_sql, 11, params, NULL, write_done, sc);
}

/* "{a,b,c}" of 12-digit ids (checked by the table's CHECK; quoted anyway). */
static char *id_array(const char *const *ids, size_t n)
{
	size_t cap = 3 + n * 16, len = 0;
	char *s = cbq_xmalloc(cap);

	s[len++] = '{';
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(s + len, cap - len, "%s\"%.12s\"", k ? "," : "", ids[k]);
	snprintf(s + len, cap - len, "}");
	return s;
}

/* Deletes the consumers not listed and adds the listed ones; "1" rows
 * returned when anything changed. */
static const char consumers_sql[] =
	"WITH b AS (SELECT id FROM blocks WHERE id = $1 AND source = 'ec2'),"
	" d AS (DELETE FROM block_consumers c USING b WHERE c.block_id = b.id"
	"  AND NOT (c.account_id = ANY ($2::text[])) RETURNING 1),"
	" i AS (INSERT INTO block_consumers (block_id, account_id)"
	"  SELECT b.id, x FROM b, unnest($2::text[]) AS x ON CONFLICT DO NOTHING RETURNING 1)"
	" SELECT 1 FROM d UNION ALL SELECT 1 FROM i";

void db_block_consumers_set(struct db *db, const char *block_id, const char *const *ids, size_t n,
			    db_sync_fn *done, void *arg)
{
	struct sync_call *sc = call_new(arg);

	sc->done = done;
	if (n > DB_SYNC_CONSUMERS_MAX) {
		refuse_too_large(db, sc);
		return;
	}
	char *list = id_array(ids, n);
	const char *params[2] = { block_id, list };
	db_query(db, consumers_sql, 2, params, NULL, write_done, sc);
	free(list);
}

static const char usage_sql[] =
	"WITH b AS (SELECT id FROM blocks WHERE id = $1 AND source = 'ec2'),"
	" d AS (DELETE FROM block_usage u USING b WHERE u.block_id = b.id"
	"  AND NOT (u.account_id = ANY ($2::text[])) RETURNING 1),"
	" i AS (INSERT INTO block_usage (block_id, account_id, used, synced_at)"
	"  SELECT b.id, x.a, x.n, to_timestamp($4::bigint / 1000.0)"
	"  FROM b, unnest($2::text[], $3::int[]) AS x (a, n)"
	"  ON CONFLICT (block_id, account_id) DO UPDATE SET used = EXCLUDED.used,"
	"  synced_at = EXCLUDED.synced_at RETURNING 1)"
	" SELECT 1 FROM d UNION ALL SELECT 1 FROM i";

void db_block_usage_set(struct db *db, const char *block_id, const struct block_usage *u, size_t n,
			cbq_ms at, db_sync_fn *done, void *arg)
{
	struct sync_call *sc = call_new(arg);

	sc->done = done;
	if (n > DB_SYNC_USAGE_MAX) {
		refuse_too_large(db, sc);
		return;
	}
	const char **ids = cbq_xcalloc(n + 1, sizeof(*ids));
	size_t cap = 3 + n * 12, len = 0;
	char *used = cbq_xmalloc(cap), when[24];

	used[len++] = '{';
	for (size_t k = 0; k < n; k++) {
		ids[k] = u[k].account_id;
		len += (size_t)snprintf(used + len, cap - len, "%s%" PRId32, k ? "," : "",
					u[k].used);
	}
	snprintf(used + len, cap - len, "}");
	snprintf(when, sizeof(when), "%" PRId64, at);
	char *list = id_array(ids, n);
	const char *params[4] = { block_id, list, used, when };
	db_query(db, usage_sql, 4, params, NULL, write_done, sc);
	free(list);
	free(used);
	free(ids);
}
