/* The queued jobs kept across snapshots; see pending.h. */
#include "db/pending.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/queued_set.h"
#include "db/db.h"

/*
 * One statement answers both kinds of read. Its first row, told apart by
 * its first column not being NULL, carries the snapshot the statement ran
 * in and how many jobs were queued in it; each other row is a job (a
 * changed one in any state: the last column says whether it is queued).
 */
#define READ_SQL(where)                                                                           \
	"SELECT pg_current_snapshot()::text, (SELECT count(*) FROM jobs WHERE state = 'queued')," \
	" NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"                 \
	" UNION ALL"                                                                              \
	" SELECT NULL, NULL, id, account_id, kind, instance_type, instance_count, duration_s,"    \
	" priority, checkpointable, cbq_ms(submitted_at), attempt, cbq_ms(updated_at),"           \
	" state = 'queued'"                                                                       \
	" FROM jobs WHERE " where
enum {
	C_SNAPSHOT,
	C_QUEUED,
	C_ID,
	C_ACCOUNT,
	C_KIND,
	C_TYPE,
	C_COUNT,
	C_DURATION,
	C_PRIORITY,
	C_CHECKPOINTABLE,
	C_SUBMITTED,
	C_ATTEMPT,
	C_VERSION,
	C_IS_QUEUED,
};
static const char full_sql[] = READ_SQL("state = 'queued'");
/* the writers the last read's snapshot ($1) had not seen commit: at or
 * above its xmin (jobs_written_xact) and not visible in it */
static const char changed_sql[] =
	READ_SQL("written_xact >= pg_snapshot_xmin($1::pg_snapshot)"
		 " AND NOT pg_visible_in_snapshot(written_xact, $1::pg_snapshot)");

struct db_pending {
	struct queued_set *jobs;
	char *snapshot; /* the last read's, NULL before the first */
	atomic_bool forget;
};

struct db_pending *db_pending_new(void)
{
	struct db_pending *p = cbq_xcalloc(1, sizeof(*p));

	p->jobs = queued_set_new();
	return p;
}

void db_pending_free(struct db_pending *p)
{
	if (!p)
		return;
	queued_set_free(p->jobs);
	free(p->snapshot);
	free(p);
}

void db_pending_forget(struct db_pending *p)
{
	atomic_store(&p->forget, true);
}

const char *db_pending_read_sql(struct db_pending *p, const char **param, bool *full)
{
	*full = atomic_exchange(&p->forget, false) || !p->snapshot;
	if (*full) {
		free(p->snapshot); /* a later read goes on from the full one's */
		p->snapshot = NULL;
	}
	*param = p->snapshot;
	return *full ? full_sql : changed_sql;
}

static int64_t num(const char *s)
{
	return strtoll(s, NULL, 10);
}

void db_pending_apply(struct db_pending *p, const struct db_result *rows, bool full)
{
	int n = db_rows(rows);
	int64_t queued = -1;
	size_t n_jobs;

	if (full)
		queued_set_clear(p->jobs);
	for (int r = 0; r < n; r++) {
		if (!db_is_null(rows, r, C_SNAPSHOT)) {
			free(p->snapshot);
			p->snapshot = cbq_xstrdup(db_get(rows, r, C_SNAPSHOT));
			queued = num(db_get(rows, r, C_QUEUED));
			continue;
		}
		int64_t id = num(db_get(rows, r, C_ID));
		if (db_get(rows, r, C_IS_QUEUED)[0] != 't') {
			queued_set_drop(p->jobs, id);
			continue;
		}
		queued_set_put(p->jobs,
			       &(struct queued_job){
				       .id = id,
				       .account = db_get(rows, r, C_ACCOUNT),
				       .kind = db_get(rows, r, C_KIND),
				       .type = db_get(rows, r, C_TYPE),
				       .count = (int32_t)num(db_get(rows, r, C_COUNT)),
				       .duration_s = num(db_get(rows, r, C_DURATION)),
				       .priority = (int32_t)num(db_get(rows, r, C_PRIORITY)),
				       .checkpointable = db_get(rows, r, C_CHECKPOINTABLE)[0] ==
							 't',
				       .submitted = num(db_get(rows, r, C_SUBMITTED)),
				       .attempt = (int32_t)num(db_get(rows, r, C_ATTEMPT)),
				       .version = num(db_get(rows, r, C_VERSION)),
			       });
	}
	/* a job that left without a row to say so (DELETEd): start again */
	queued_set_all(p->jobs, &n_jobs);
	if (queued != (int64_t)n_jobs)
		db_pending_forget(p);
}

const struct queued_job *db_pending_jobs(const struct db_pending *p, size_t *n)
{
	return queued_set_all(p->jobs, n);
}
