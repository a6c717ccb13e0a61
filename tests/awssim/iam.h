/*
 * Identities of cbq-awssim: access-key lookup (scenario principals and the
 * sessions it issued), STS AssumeRole with the role's trust list, external
 * id and duration rules enforced (which moto does not), and the temporary
 * credentials behind the IMDS instance profile. No I/O; `now` comes in.
 */
#ifndef CBQ_AWSSIM_IAM_H
#define CBQ_AWSSIM_IAM_H

#include <stdbool.h>

#include "world.h"

/* An AWS error as a service would return it: code, message, HTTP status. */
struct sim_awserr {
	int status;
	char code[96];
	char message[512];
};

void sim_awserr_set(struct sim_awserr *e, int status, const char *code, const char *fmt, ...)
	CBQ_PRINTF(4, 5);

enum sim_key_kind { SIM_KEY_UNKNOWN, SIM_KEY_PRINCIPAL, SIM_KEY_SESSION };

struct sim_key {
	enum sim_key_kind kind;
	const char *secret;
	const char *token; /* the session token it must come with; NULL for users */
	cbq_ms expires;	   /* sessions only */
	struct sim_identity who;
};

/* Finds the secret and identity behind an access key id. */
bool sim_iam_lookup(const struct sim_world *w, const char *access_key, struct sim_key *out);

struct sim_assume {
	const char *role_arn;
	const char *session_name;
	const char *external_id;     /* NULL when not sent */
	const char *source_identity; /* NULL when not sent */
	const char *duration;	     /* DurationSeconds as sent, NULL when not sent */
};

/*
 * AssumeRole for caller. On success *out points at the new session (valid
 * until the next session is issued). On failure fills *e with the STS error
 * (ValidationError 400, AccessDenied 403, …) and returns non-OK.
 */
enum cbq_err sim_iam_assume_role(struct sim_world *w, const struct sim_identity *caller,
				 const struct sim_assume *a, cbq_ms now,
				 const struct sim_session **out,
				 struct sim_awserr *e) CBQ_MUST_CHECK;

/* The credentials IMDS hands out for the scenario's instance profile,
 * renewed when less than 5 minutes are left; NULL without a profile or when
 * the session table is full. */
const struct sim_session *sim_iam_imds_session(struct sim_world *w, cbq_ms now);

#endif
