/*
 * The scenario cbq-awssim plays: region, epoch, principals with their keys,
 * accounts with assumable roles, an optional organisation with OUs, Capacity
 * Blocks and launches by accounts outside cbq. Parsed from JSON (jansson) and
 * validated strictly; every error names the JSON path at fault. This is the
 * static description only; what changes at run time lives in world.h.
 */
#ifndef CBQ_AWSSIM_SCENARIO_H
#define CBQ_AWSSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/job.h"

enum {
	SIM_MAX_SCENARIO_BYTES = 4 * 1024 * 1024,
	SIM_MAX_PRINCIPALS = 64,
	SIM_MAX_ACCOUNTS = 1000,     /* declared in "accounts" */
	SIM_MAX_ALL_ACCOUNTS = 5000, /* declared plus those only referenced */
	SIM_MAX_ROLES = 16,	     /* per account */
	SIM_MAX_TRUST = 16,	     /* per role */
	SIM_MAX_BLOCKS = 1000,
	SIM_MAX_BLOCK_COUNT = 1000, /* instances in one block */
	SIM_MAX_SHARES = 100,	    /* shared_with entries per block */
	SIM_MAX_OUTSIDE = 1000,
	SIM_MAX_OUS = 200,
	SIM_MAX_SUBNETS = 256,
	SIM_MAX_TAGS = 50,

	SIM_ARN_LEN = 256,
	SIM_KEY_LEN = 128, /* access key id and secret key */
	SIM_NAME_LEN = 64,
	SIM_ID_LEN = 80, /* cr-…, ou-…, o-…, r-…, subnet-… */
	SIM_EXTERNAL_ID_LEN = 1224,
	SIM_TAG_KEY_LEN = 128,
	SIM_TAG_VALUE_LEN = 256,
	SIM_ACCOUNT_LEN = 12,
};

struct sim_tag {
	char key[SIM_TAG_KEY_LEN + 1];
	char value[SIM_TAG_VALUE_LEN + 1];
};

/* An IAM user with long-term keys. */
struct sim_principal {
	char arn[SIM_ARN_LEN + 1]; /* arn:aws:iam::ACCOUNT:user/NAME */
	char account[SIM_ACCOUNT_LEN + 1];
	char access_key[SIM_KEY_LEN + 1];
	char secret_key[SIM_KEY_LEN + 1];
	char user_id[24]; /* AIDA…, derived from the ARN */
};

struct sim_role {
	char name[SIM_NAME_LEN + 1];
	char *external_id; /* malloc'd; NULL when the role asks for none */
	char (*trust)[SIM_ARN_LEN + 1];
	size_t n_trust;
	int max_session_s;
	char role_id[24]; /* AROA…, derived from account and name */
};

struct sim_account {
	char id[SIM_ACCOUNT_LEN + 1];
	char name[SIM_NAME_LEN + 1];
	char email[2 * SIM_NAME_LEN + 1];
	char parent[SIM_ID_LEN + 1]; /* r-… or ou-…; "" when not in the organisation */
	bool in_org;
	bool declared; /* listed under "accounts" (else only referenced) */
	struct sim_role *roles;
	size_t n_roles;
};

struct sim_ou {
	char id[SIM_ID_LEN + 1];
	char parent[SIM_ID_LEN + 1];
	char name[SIM_NAME_LEN + 1];
};

struct sim_org {
	bool present;
	char id[SIM_ID_LEN + 1];
	char root[SIM_ID_LEN + 1];
	char management[SIM_ACCOUNT_LEN + 1];
	struct sim_ou *ous;
	size_t n_ous;
};

/* Only the Capacity Block states a scenario may start in. scheduled, active
 * and expired follow the clock (start, end); the others stay as they are. */
enum sim_block_fixed {
	SIM_BLOCK_TIMED,
	SIM_BLOCK_CANCELLED,
	SIM_BLOCK_PAYMENT_PENDING,
	SIM_BLOCK_PAYMENT_FAILED
};

struct sim_block {
	char id[SIM_ID_LEN + 1];
	char owner[SIM_ACCOUNT_LEN + 1];
	char instance_type[SIM_NAME_LEN + 1];
	char az[SIM_NAME_LEN + 1];
	char platform[SIM_NAME_LEN + 1];
	int count;
	cbq_ms start, end, created; /* end moves with /_sim/extend */
	enum sim_block_fixed fixed;
	char (*shared)[SIM_ID_LEN + 1]; /* account ids, ou-… ids or "org" */
	size_t n_shared;
	struct sim_tag *tags;
	size_t n_tags;
};

struct sim_outside {
	char account[SIM_ACCOUNT_LEN + 1];
	size_t block; /* index into blocks */
	int count;
	cbq_ms at, until;
};

struct sim_subnet {
	char id[SIM_ID_LEN + 1];
	char az[SIM_NAME_LEN + 1];
};

struct sim_timing {
	cbq_ms pending;	      /* pending -> running */
	cbq_ms shutting_down; /* shutting-down -> terminated (slot freed) */
	cbq_ms visible;	      /* a terminated instance stays listed this long */
};

struct sim_scenario {
	char region[33];
	cbq_ms epoch;
	uint64_t seed;
	struct sim_principal *principals;
	size_t n_principals;
	struct sim_account *accounts; /* declared first, then referenced ones */
	size_t n_accounts;
	struct sim_org org;
	struct sim_block *blocks;
	size_t n_blocks;
	struct sim_outside *outside;
	size_t n_outside;
	struct sim_subnet *subnets;
	size_t n_subnets;
	struct {
		bool present;
		char role[SIM_NAME_LEN + 1];
		size_t principal; /* index into principals */
	} instance_profile;
	struct sim_timing timing;
};

/*
 * Parses and validates a scenario. On success *out is a new scenario the
 * caller frees with sim_scenario_free(). On failure *out is untouched and
 * err->msg reads "PATH: what is wrong" (err->field holds PATH).
 */
enum cbq_err sim_scenario_parse(const char *text, size_t len, struct sim_scenario **out,
				struct cbq_error *err) CBQ_MUST_CHECK;
/* Reads the file (at most SIM_MAX_SCENARIO_BYTES) and parses it. */
enum cbq_err sim_scenario_load(const char *path, struct sim_scenario **out,
			       struct cbq_error *err) CBQ_MUST_CHECK;
void sim_scenario_free(struct sim_scenario *s);

/* Lookups; NULL or -1 when absent. */
struct sim_account *sim_scenario_account(const struct sim_scenario *s, const char *id);
const struct sim_ou *sim_scenario_ou(const struct sim_scenario *s, const char *id);
long sim_scenario_block(const struct sim_scenario *s, const char *id);
/* Whether s has the form of an OU id, ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}. */
bool sim_scenario_ou_id_ok(const char *s);

#endif
