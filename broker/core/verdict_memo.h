/*
 * What the scheduler last wrote for each queued job: a hash of the reason,
 * the ETA and the job's version (jobs.updated_at, which every transition
 * moves and the verdict write does not). A cycle writes only the verdicts
 * whose reason differs from the memo, whose ETA moved by more than a slack,
 * or whose job changed since: at 100,000 queued jobs, rewriting every
 * verdict each cycle was most of the cycle's cost in Postgres, and an ETA
 * that follows the clock (a launch that waits for the launcher) moved each
 * one every cycle. Open addressing on the job id; pure.
 */
#ifndef CBQ_CORE_VERDICT_MEMO_H
#define CBQ_CORE_VERDICT_MEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct verdict_memo;

/* Room for about expect jobs (it grows past that). */
struct verdict_memo *verdict_memo_new(size_t expect);
void verdict_memo_free(struct verdict_memo *m);
size_t verdict_memo_count(const struct verdict_memo *m);

/* Remembers the verdict written for job at version: its reason's hash and
 * its ETA (INT64_MIN for none), replacing what was there. */
void verdict_memo_put(struct verdict_memo *m, int64_t job, int64_t version, uint64_t hash,
		      int64_t eta);
/* True when m (may be NULL: nothing remembered) holds job at exactly this
 * version and reason hash, and an ETA within slack of eta (or none, as
 * eta): writing it again would tell nobody anything new. *written then
 * gets the ETA m holds, the one Postgres has. */
bool verdict_memo_same(const struct verdict_memo *m, int64_t job, int64_t version, uint64_t hash,
		       int64_t eta, int64_t slack, int64_t *written);

/* FNV-1a over the reason's bytes. */
uint64_t verdict_memo_hash(const char *reason);

#endif
