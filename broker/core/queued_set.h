/*
 * Queued jobs by id, as the scheduler reads them: what the leader keeps of
 * the queue between cycles (db/pending.h). Each job's account, kind and
 * instance type are copied into the set, each distinct string once: they
 * repeat across thousands of jobs. Open addressing on the id over a dense
 * array, so that all jobs are one array to walk. Pure.
 */
#ifndef CBQ_CORE_QUEUED_SET_H
#define CBQ_CORE_QUEUED_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

struct queued_job {
	int64_t id;
	const char *account, *kind, *type; /* in the set: the set's own copies */
	int32_t count, priority, attempt;
	bool checkpointable;
	int64_t duration_s;
	cbq_ms submitted, version; /* version: jobs.updated_at */
};

struct queued_set;
struct queued_set *queued_set_new(void);
void queued_set_free(struct queued_set *s);
/* Empties s and gives back its memory; its strings go too. */
void queued_set_clear(struct queued_set *s);

/* Adds job, or replaces the job with its id. */
void queued_set_put(struct queued_set *s, const struct queued_job *job);
/* Removes the job with id, if s has it; the last job takes its place in
 * the array. */
void queued_set_drop(struct queued_set *s, int64_t id);
/* The job with id, or NULL; valid until s next changes. */
const struct queued_job *queued_set_get(const struct queued_set *s, int64_t id);
/* Every job, in no particular order; valid until s next changes. */
const struct queued_job *queued_set_all(const struct queued_set *s, size_t *n);

#endif
