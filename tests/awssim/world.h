/*
 * The run-time model of cbq-awssim: the scenario plus what happened since
 * (issued sessions, instances, reservations, IMDS tokens, faults, call
 * counts). Time is an argument everywhere: states are computed from `now`
 * lazily (scheduled -> active at start, instances ended at end - 30 min,
 * expired at end, outside launches at their times), so there are no timers.
 * No I/O, no logging, no clock; one world per process, owned by main.c.
 */
#ifndef CBQ_AWSSIM_WORLD_H
#define CBQ_AWSSIM_WORLD_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/job.h"
#include "fault.h"
#include "scenario.h"
#include "simutil.h"

enum {
	SIM_MAX_INSTANCES = 100000,
	SIM_MAX_SESSIONS = 10000,
	SIM_MAX_IMDS_TOKENS = 64,
	SIM_MAX_CALL_NAMES = 64,
	SIM_MAX_EVENTS = 200,
	SIM_TOKEN_LEN = 180, /* session token characters */
	SIM_CLIENT_TOKEN_LEN = 64,
	SIM_CUTOFF_MS = 30 * 60 * 1000, /* EC2 ends instances 30 min before a block ends */
};

/* Who signed a request. */
struct sim_identity {
	char account[SIM_ACCOUNT_LEN + 1];
	char arn[SIM_ARN_LEN + 1];
	char user_id[SIM_NAME_LEN + 32];
	char role_arn[SIM_ARN_LEN + 1]; /* arn:aws:iam::ACCT:role/NAME for role sessions */
	bool session;			/* temporary (ASIA…) credentials */
};

struct sim_session {
	char access_key[21]; /* ASIA + 16 */
	char secret[41];
	char token[SIM_TOKEN_LEN + 1];
	struct sim_identity who;
	cbq_ms issued, expires;
};

enum sim_istate { SIM_PENDING, SIM_RUNNING, SIM_SHUTTING_DOWN, SIM_TERMINATED };
enum sim_end_reason { SIM_END_NONE, SIM_END_USER, SIM_END_CUTOFF };

struct sim_instance {
	char id[24];
	size_t resv; /* index into reservations */
	char account[SIM_ACCOUNT_LEN + 1];
	size_t block;
	int launch_index;
	char image_id[SIM_NAME_LEN + 1];
	char subnet[SIM_ID_LEN + 1];
	char private_ip[16];
	cbq_ms launch;
	cbq_ms end; /* when it was (or will be) told to end; -1 none yet */
	enum sim_end_reason reason;
	bool outside; /* launched outside cbq (scenario or /_sim/steal) */
	struct sim_tag *tags;
	size_t n_tags;
};

struct sim_reservation {
	char id[24];
	char account[SIM_ACCOUNT_LEN + 1];
	char client_token[SIM_CLIENT_TOKEN_LEN + 1]; /* "" when none */
	unsigned char fingerprint[32];		     /* of the RunInstances parameters */
	size_t first, n;			     /* instances [first, first + n) */
};

struct sim_imds_token {
	char token[57];
	cbq_ms expires;
};

struct sim_world {
	struct sim_scenario *sc; /* owned */
	struct sim_rng rng;
	uint64_t salt, next_instance, next_reservation;
	struct sim_session *sessions;
	size_t n_sessions;
	struct sim_instance *inst;
	size_t n_inst, cap_inst;
	struct sim_reservation *resv;
	size_t n_resv, cap_resv;
	struct {
		size_t *inst; /* indexes of the block's instances */
		size_t n, cap;
		bool cut_applied; /* cutoff frozen into its instances */
	} * blk;
	bool *outside_done; /* per scenario outside launch */
	struct sim_imds_token imds[SIM_MAX_IMDS_TOKENS];
	size_t n_imds;
	long imds_session; /* index of the instance-profile session, -1 none */
	struct sim_faults faults;
	struct {
		char name[48];
		unsigned long n;
	} calls[SIM_MAX_CALL_NAMES];
	size_t n_calls;
	struct {
		cbq_ms at;
		char text[160];
	} events[SIM_MAX_EVENTS];
	size_t n_events, next_event;
	/* Every secret the sim hands out (session secrets and tokens), one per
	 * line, when CBQ_AWSSIM_SECRETS_DIR is set: tests/secrets-grep looks for
	 * them in what cbq wrote. NULL otherwise. */
	FILE *secrets_out;
};

/* Takes ownership of sc (also on failure). */
enum cbq_err sim_world_new(struct sim_scenario *sc, struct sim_world **out,
			   struct cbq_error *err) CBQ_MUST_CHECK;
void sim_world_free(struct sim_world *w);

/* Applies everything due by now: outside launches, cutoffs. Call once per
 * request before reading the world. */
void sim_world_advance(struct sim_world *w, cbq_ms now);

/* Records a line for /_sim/state (the last SIM_MAX_EVENTS are kept). */
void sim_world_note(struct sim_world *w, cbq_ms at, const char *fmt, ...) CBQ_PRINTF(3, 4);
/* Counts one call of action. */
void sim_world_count(struct sim_world *w, const char *action);

/* Blocks. */
cbq_ms sim_block_cutoff(const struct sim_block *b);
const char *sim_block_state(const struct sim_world *w, size_t b, cbq_ms now);
int sim_block_used(const struct sim_world *w, size_t b, cbq_ms t);
/* What DescribeCapacityReservations shows: 0 unless active and before the
 * cutoff. */
int sim_block_available(const struct sim_world *w, size_t b, cbq_ms now);
/* The owner, or an account the block is shared with (directly, through an
 * OU or its descendants, or through "org"). */
bool sim_block_usable_by(const struct sim_world *w, size_t b, const char *account);
bool sim_ou_contains(const struct sim_world *w, const char *ou, const char *account);

/* Instances. */
cbq_ms sim_instance_end(const struct sim_world *w, const struct sim_instance *in);
enum sim_istate sim_instance_state(const struct sim_world *w, const struct sim_instance *in,
				   cbq_ms now);
enum sim_end_reason sim_instance_reason(const struct sim_world *w, const struct sim_instance *in);
/* Still listed by DescribeInstances (terminated ones stay for a while). */
bool sim_instance_listed(const struct sim_world *w, const struct sim_instance *in, cbq_ms now);
const char *sim_istate_name(enum sim_istate s);
int sim_istate_code(enum sim_istate s);
long sim_world_find_instance(const struct sim_world *w, const char *id);
/* The account's reservation made with client_token, -1 when none. */
long sim_world_find_token(const struct sim_world *w, const char *account, const char *client_token);

struct sim_launch {
	const char *account;
	size_t block;
	int count;
	cbq_ms at;
	cbq_ms until; /* -1: until terminated or the cutoff */
	bool outside;
	const char *image_id, *subnet, *client_token; /* NULL for none */
	const unsigned char *fingerprint;	      /* 32 bytes or NULL */
	const struct sim_tag *tags;
	size_t n_tags;
};
/* Creates a reservation of l->count instances (capacity is the caller's
 * check). *resv_out is its index. CBQ_ERR_TOO_LARGE past SIM_MAX_INSTANCES. */
enum cbq_err sim_world_launch(struct sim_world *w, const struct sim_launch *l, size_t *resv_out,
			      struct cbq_error *err) CBQ_MUST_CHECK;
/* Tells instance i to end at now (no-op when already ending). */
void sim_world_terminate(struct sim_world *w, size_t i, cbq_ms now);

/* /_sim/extend and /_sim/steal; errors are CBQ_ERR_INVALID / CONFLICT. */
enum cbq_err sim_world_extend(struct sim_world *w, size_t b, cbq_ms new_end, cbq_ms now,
			      struct cbq_error *err) CBQ_MUST_CHECK;
enum cbq_err sim_world_steal(struct sim_world *w, const char *account, size_t b, int count,
			     cbq_ms until, cbq_ms now, size_t *resv_out,
			     struct cbq_error *err) CBQ_MUST_CHECK;

#endif
