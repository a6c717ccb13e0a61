/*
 * What the scheduler last wrote for each queued job: a hash of the verdict
 * (reason and ETA) and the job's version (jobs.updated_at, which every
 * transition moves and the verdict write does not). A cycle writes only
 * the verdicts that differ from the memo, or whose job changed since: at
 * 100,000 queued jobs, rewriting every verdict each cycle was most of the
 * cycle's cost in Postgres. Open addressing on the job id; pure.
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

/* Remembers job's verdict hash at version (replacing what was there). */
void verdict_memo_put(struct verdict_memo *m, int64_t job, int64_t version, uint64_t hash);
/* True when m (may be NULL: nothing remembered) holds job at exactly this
 * version and hash: writing it again would change nothing. */
bool verdict_memo_same(const struct verdict_memo *m, int64_t job, int64_t version, uint64_t hash);

/* FNV-1a over the reason's bytes and the ETA. */
uint64_t verdict_memo_hash(const char *reason, int64_t eta);

#endif
