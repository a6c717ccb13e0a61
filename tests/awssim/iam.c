/*
 * Key lookup, AssumeRole and issued sessions; see iam.h. The trust rules are
 * a deliberately small subset of IAM's: a role trusts the principal ARNs
 * listed in the scenario (a user, a role — meaning any session of it —, an
 * assumed-role session, or ACCOUNT:root for any principal of that account).
 */
#include "iam.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IMDS_SESSION_S = 6 * 3600, IMDS_RENEW_MS = 5 * 60 * 1000 };

void sim_awserr_set(struct sim_awserr *e, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

bool sim_iam_lookup(const struct sim_world *w, const char *access_key, struct sim_key *out)
{
	const struct sim_scenario *sc = w->sc;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < sc->n_principals; i++) {
		const struct sim_principal *p = &sc->principals[i];
		if (strcmp(p->access_key, access_key) != 0)
			continue;
		out->kind = SIM_KEY_PRINCIPAL;
		out->secret = p->secret_key;
		snprintf(out->who.account, sizeof(out->who.account), "%s", p->account);
		snprintf(out->who.arn, sizeof(out->who.arn), "%s", p->arn);
		snprintf(out->who.user_id, sizeof(out->who.user_id), "%s", p->user_id);
		return true;
	}
	for (size_t i = 0; i < w->n_sessions; i++) {
		const struct sim_session *s = &w->sessions[i];
		if (strcmp(s->access_key, access_key) != 0)
			continue;
		out->kind = SIM_KEY_SESSION;
		out->secret = s->secret;
		out->token = s->token;
		out->expires = s->expires;
		out->who = s->who;
		return true;
	}
	return false;
}

/* Drops expired sessions to make room, keeping imds_session's index right. */
static void compact(struct sim_world *w, cbq_ms now)
{
	size_t o = 0;
	long imds = -1;

	for (size_t i = 0; i < w->n_sessions; i++) {
		if (w->sessions[i].expires <= now)
			continue;
		if ((long)i == w->imds_session)
			imds = (long)o;
		if (o != i)
			w->sessions[o] = w->sessions[i];
		o++;
	}
	w->n_sessions = o;
	w->imds_session = imds;
}

static const struct sim_session *issue(struct sim_world *w, const struct sim_identity *who,
				       int duration_s, cbq_ms now)
{
	if (w->n_sessions == SIM_MAX_SESSIONS)
		compact(w, now);
	if (w->n_sessions == SIM_MAX_SESSIONS)
		return NULL;
	struct sim_session *s = &w->sessions[w->n_sessions++];
	memset(s, 0, sizeof(*s));
	memcpy(s->access_key, "ASIA", 4);
	sim_rng_chars(&w->rng, SIM_UPPER_ALNUM, 16, s->access_key + 4);
	sim_rng_chars(&w->rng, SIM_SECRET_CHARS, 40, s->secret);
	/* Real tokens are long opaque base64; the length is not fixed. */
	memcpy(s->token, "IQoJb3JpZ2luX2Vj", 16);
	sim_rng_chars(&w->rng, SIM_SECRET_CHARS, SIM_TOKEN_LEN - 16, s->token + 16);
	if (w->secrets_out)
		fprintf(w->secrets_out, "%s\n%s\n", s->secret, s->token);
	s->who = *who;
	s->who.session = true;
	s->issued = now;
	s->expires = now + (cbq_ms)duration_s * 1000;
	return s;
}

/* arn:aws:iam::ACCOUNT:role/[path/]NAME -> account and NAME. */
static bool parse_role_arn(const char *arn, char account[SIM_ACCOUNT_LEN + 1],
			   char name[SIM_NAME_LEN + 1])
{
	if (strncmp(arn, "arn:aws:iam::", 13) != 0 || strlen(arn) < 31)
		return false;
	snprintf(account, SIM_ACCOUNT_LEN + 1, "%.12s", arn + 13);
	if (!sim_is_digits(account, 12) || strncmp(arn + 25, ":role/", 6) != 0)
		return false;
	const char *n = strrchr(arn + 31, '/');
	n = n ? n + 1 : arn + 31;
	return sim_word_chars(n, "_+=,.@-", 1, SIM_NAME_LEN) && sim_copy(name, SIM_NAME_LEN + 1, n);
}

static bool trusted(const struct sim_role *r, const struct sim_identity *caller)
{
	char root[64];

	snprintf(root, sizeof(root), "arn:aws:iam::%s:root", caller->account);
	for (size_t i = 0; i < r->n_trust; i++) {
		const char *t = r->trust[i];
		if (strcmp(t, caller->arn) == 0 || strcmp(t, root) == 0 ||
		    (caller->role_arn[0] && strcmp(t, caller->role_arn) == 0))
			return true;
	}
	return false;
}

static bool duration_ok(const char *s, long *out)
{
	char *end;

	if (!s || !*s || strlen(s) > 9)
		return false;
	long v = strtol(s, &end, 10);
	if (*end)
		return false;
	*out = v;
	return true;
}

enum cbq_err sim_iam_assume_role(struct sim_world *w, const struct sim_identity *caller,
				 const struct sim_assume *a, cbq_ms now,
				 const struct sim_session **out, struct sim_awserr *e)
{
	char account[SIM_ACCOUNT_LEN + 1], name[SIM_NAME_LEN + 1];
	long duration = 3600;

	if (!a->role_arn || !a->role_arn[0]) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value null at 'roleArn' failed to "
			       "satisfy constraint: Member must not be null");
		return CBQ_ERR_INVALID;
	}
	if (!a->session_name || !a->session_name[0]) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value null at 'roleSessionName' "
			       "failed to satisfy constraint: Member must not be null");
		return CBQ_ERR_INVALID;
	}
	size_t arn_len = strlen(a->role_arn);
	if (arn_len < 20 || arn_len > 2048) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value at 'roleArn' failed to satisfy "
			       "constraint: Member must have length between 20 and 2048");
		return CBQ_ERR_INVALID;
	}
	if (!sim_word_chars(a->session_name, "_+=,.@-", 2, 64)) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value at 'roleSessionName' failed to "
			       "satisfy constraint: Member must satisfy regular expression pattern: "
			       "[\\w+=,.@-]{2,64}");
		return CBQ_ERR_INVALID;
	}
	if (a->external_id && !sim_word_chars(a->external_id, "_+=,.@:/-", 2, 1224)) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value at 'externalId' failed to "
			       "satisfy constraint: Member must satisfy regular expression pattern: "
			       "[\\w+=,.@:/-]{2,1224}");
		return CBQ_ERR_INVALID;
	}
	if (a->source_identity && !sim_word_chars(a->source_identity, "_+=,.@-", 2, 64)) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value at 'sourceIdentity' failed to "
			       "satisfy constraint: Member must satisfy regular expression pattern: "
			       "[\\w+=,.@-]{2,64}");
		return CBQ_ERR_INVALID;
	}
	if (a->duration &&
	    (!duration_ok(a->duration, &duration) || duration < 900 || duration > 43200)) {
		sim_awserr_set(e, 400, "ValidationError",
			       "1 validation error detected: Value at 'durationSeconds' failed to "
			       "satisfy constraint: Member must have value between 900 and 43200");
		return CBQ_ERR_INVALID;
	}

	const struct sim_account *acct = NULL;
	const struct sim_role *role = NULL;
	if (parse_role_arn(a->role_arn, account, name) &&
	    (acct = sim_scenario_account(w->sc, account)))
		for (size_t i = 0; i < acct->n_roles && !role; i++)
			if (strcmp(acct->roles[i].name, name) == 0)
				role = &acct->roles[i];
	/* AWS says the same for a missing role, an untrusted caller and a
	 * wrong external id, so nothing leaks about which it was. */
	if (!role || !trusted(role, caller) ||
	    (role->external_id && (!a->external_id || strcmp(role->external_id, a->external_id)))) {
		sim_awserr_set(e, 403, "AccessDenied",
			       "User: %s is not authorized to perform: sts:AssumeRole on resource: "
			       "%.300s",
			       caller->arn, a->role_arn);
		return CBQ_ERR_FORBIDDEN;
	}
	if (caller->session && duration > 3600) {
		sim_awserr_set(e, 400, "ValidationError",
			       "The requested DurationSeconds exceeds the 1 hour session limit for "
			       "roles assumed by role chaining.");
		return CBQ_ERR_INVALID;
	}
	if (duration > role->max_session_s) {
		sim_awserr_set(e, 400, "ValidationError",
			       "The requested DurationSeconds exceeds the MaxSessionDuration set "
			       "for this role.");
		return CBQ_ERR_INVALID;
	}

	struct sim_identity who = { .session = true };
	snprintf(who.account, sizeof(who.account), "%s", account);
	snprintf(who.arn, sizeof(who.arn), "arn:aws:sts::%s:assumed-role/%s/%s", account, name,
		 a->session_name);
	snprintf(who.user_id, sizeof(who.user_id), "%s:%s", role->role_id, a->session_name);
	snprintf(who.role_arn, sizeof(who.role_arn), "arn:aws:iam::%s:role/%s", account, name);
	const struct sim_session *s = issue(w, &who, (int)duration, now);
	if (!s) {
		sim_awserr_set(e, 400, "Throttling",
			       "cbq-awssim holds at most %d unexpired sessions; slow down",
			       SIM_MAX_SESSIONS);
		return CBQ_ERR_UNAVAILABLE;
	}
	*out = s;
	return CBQ_OK;
}

const struct sim_session *sim_iam_imds_session(struct sim_world *w, cbq_ms now)
{
	const struct sim_scenario *sc = w->sc;

	if (!sc->instance_profile.present)
		return NULL;
	if (w->imds_session >= 0 && w->sessions[w->imds_session].expires - now > IMDS_RENEW_MS)
		return &w->sessions[w->imds_session];
	const struct sim_principal *p = &sc->principals[sc->instance_profile.principal];
	struct sim_identity who = { .session = true };
	snprintf(who.account, sizeof(who.account), "%s", p->account);
	snprintf(who.arn, sizeof(who.arn), "%s", p->arn);
	snprintf(who.user_id, sizeof(who.user_id), "%s", p->user_id);
	const struct sim_session *s = issue(w, &who, IMDS_SESSION_S, now);
	if (!s)
		return NULL;
	w->imds_session = (long)(s - w->sessions);
	return s;
}
