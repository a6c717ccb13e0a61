/*
 * What the EC2 handlers share: EC2-style list parameters (Name.N), filters
 * (Filter.N.Name / Filter.N.Value.M, with * and ? wildcards), MaxResults and
 * NextToken paging, DryRun. Each helper that can fail writes the EC2 error
 * into the reply and returns false. Internal to ec2.c and ec2_instances.c.
 */
#ifndef CBQ_AWSSIM_EC2_COMMON_H
#define CBQ_AWSSIM_EC2_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "call.h"

enum {
	SIM_MAX_FILTERS = 50,
	SIM_MAX_FILTER_VALUES = 200,
	SIM_MAX_LIST = 1000, /* InstanceId.N, CapacityReservationId.N */
};

struct sim_filter {
	const char *name;
	const char *values[SIM_MAX_FILTER_VALUES];
	size_t n;
};

struct sim_filters {
	struct sim_filter v[SIM_MAX_FILTERS];
	size_t n;
};

/* Reads Filter.N.*; names not in allowed (NULL-terminated; an entry ending
 * in ':' allows that prefix, as "tag:") give InvalidParameterValue. */
bool sim_ec2_filters(const struct sim_params *p, const char *const *allowed, struct sim_filters *f,
		     struct sim_reply *r);
/* Whether value matches one of the filter's values (EC2 wildcards). */
bool sim_filter_match(const struct sim_filter *f, const char *value);

/* Reads prefix.1, prefix.2, … into out (at most SIM_MAX_LIST); returns the
 * count or -1 after writing an error (too many). */
long sim_ec2_list(const struct sim_params *p, const char *prefix, const char **out,
		  struct sim_reply *r);

/* MaxResults in lo..hi (default hi when absent) and NextToken made by
 * sim_ec2_token for kind (offset 0 when absent). */
bool sim_ec2_paging(const struct sim_params *p, const char *kind, long lo, long hi,
		    long *max_results, size_t *offset, struct sim_reply *r);
void sim_ec2_token(const char *kind, size_t offset, char *out, size_t size);

/* DryRun=true: writes DryRunOperation (412) and returns true. */
bool sim_ec2_dry_run(const struct sim_params *p, struct sim_reply *r);

/* A positive integer parameter; false (with InvalidParameterValue) when
 * malformed or out of lo..hi. */
bool sim_ec2_int(const char *name, const char *v, long lo, long hi, long *out, struct sim_reply *r);

/* <tag><code/><name/></tag> for an instance state. */
void sim_ec2_state_xml(struct sim_reply *r, const char *tag, enum sim_istate s);
/* <reservationId/><ownerId/><groupSet/><instancesSet>…; mask (NULL for all)
 * selects the reservation's instances to show, by position. */
void sim_ec2_render_reservation(const struct sim_world *w, size_t rv, const bool *mask, cbq_ms now,
				struct sim_reply *r);

#endif
