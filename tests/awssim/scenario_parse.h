/*
 * What scenario.c and scenario_blocks.c share while parsing. Internal to the
 * scenario parser; the rest of cbq-awssim uses scenario.h.
 */
#ifndef CBQ_AWSSIM_SCENARIO_PARSE_H
#define CBQ_AWSSIM_SCENARIO_PARSE_H

#include <jansson.h>
#include <stdbool.h>

#include "scenario.h"

/* Appends an account with this id (not yet present; zeroed otherwise) and
 * points *out at it (valid until the next append). */
enum cbq_err sim_scenario_add_account(struct sim_scenario *s, const char *id,
				      struct sim_account **out,
				      struct cbq_error *err) CBQ_MUST_CHECK;
/* Fills name, email and parent left empty. */
void sim_scenario_account_defaults(const struct sim_scenario *s, struct sim_account *a);
/* prefix + 17 characters of A-Z 0-9 derived from `from` (stable). */
void sim_scenario_derived_id(const char *prefix, const char *from, char *out, size_t size);

/* subnets, blocks, outside_launches, instance_profile, then the accounts
 * that are only referenced. */
enum cbq_err sim_scenario_parse_rest(struct sim_scenario *s, json_t *root,
				     struct cbq_error *err) CBQ_MUST_CHECK;

#endif
