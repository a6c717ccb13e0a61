/*
 * Between the wire (protobuf-c messages of cbq.proto) and core values.
 * Encoders fill messages whose strings point into the core values and whose
 * arrays come from an arena, freed with cbq_arena_free after packing. Decoders borrow the message's strings.
 */
#ifndef CBQ_API_CODEC_H
#define CBQ_API_CODEC_H

#include "cbq/v1/cbq.pb-c.h"
#include "core/arena.h"
#include "core/block.h"
#include "core/err.h"
#include "core/job.h"


void api_error_to_pb(const struct cbq_error *err, Cbq__V1__Error *pb);

/* spec borrows pb's strings; *tags (free() it) holds the tag pairs. */
void api_spec_from_pb(const Cbq__V1__JobSpec *pb, struct job_spec *spec, struct job_tag **tags);

Cbq__V1__JobState api_job_state_to_pb(enum job_state s);
/* Accepts "queued" and "JOB_STATE_QUEUED"; false for anything else. */
bool api_job_state_from_text(const char *text, enum job_state *out);
Cbq__V1__BlockState api_block_state_to_pb(const char *ec2_state);

void api_job_to_pb(const struct job *job, const struct job_event *events, size_t n_events,
		   Cbq__V1__Job *pb, struct cbq_arena *mem);
void api_block_to_pb(const struct block *b, Cbq__V1__Block *pb, struct cbq_arena *mem);

#endif
