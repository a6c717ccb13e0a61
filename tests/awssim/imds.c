/*
 * IMDSv2 for testing a credential chain (AWS.md §10.4): PUT /latest/api/token
 * with a TTL header gives a token; GETs without a valid token get 401 (v2
 * only, no v1 fallback). Credentials are a session acting as the scenario's
 * instance_profile principal. Token TTLs and credential expiry are in sim
 * time. Unsigned; not EC2's instance identity documents.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "call.h"
#include "iam.h"
#include "simutil.h"

static const char CREDS_PATH[] = "/latest/meta-data/iam/security-credentials";

static void not_found(struct sim_reply *r)
{
	sim_reply_text(r, 404,
		       "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n"
		       "<title>404 - Not Found</title>\n");
	snprintf(r->code, sizeof(r->code), "NotFound");
}

static void put_token(struct sim_world *w, const struct sim_http_in *in, cbq_ms now,
		      struct sim_reply *r)
{
	const char *ttl = in->header(in->header_arg, "x-aws-ec2-metadata-token-ttl-seconds");
	char *end;
	long v = ttl && *ttl && strlen(ttl) < 8 ? strtol(ttl, &end, 10) : 0;

	if (in->header(in->header_arg, "x-forwarded-for")) {
		sim_reply_text(r, 403, "Forbidden");
		snprintf(r->code, sizeof(r->code), "Forbidden");
		return;
	}
	if (!ttl || !*ttl || strlen(ttl) >= 8 || *end || v < 1 || v > 21600) {
		sim_reply_text(r, 400, "Bad Request");
		snprintf(r->code, sizeof(r->code), "BadRequest");
		return;
	}
	struct sim_imds_token *t;
	if (w->n_imds < SIM_MAX_IMDS_TOKENS) {
		t = &w->imds[w->n_imds++];
	} else {
		/* Replace the one that expires first. */
		t = &w->imds[0];
		for (size_t i = 1; i < w->n_imds; i++)
			if (w->imds[i].expires < t->expires)
				t = &w->imds[i];
	}
	sim_rng_chars(&w->rng, SIM_SECRET_CHARS, 56, t->token);
	t->expires = now + (cbq_ms)v * 1000;
	sim_reply_text(r, 200, t->token);
	sim_reply_header(r, "X-Aws-Ec2-Metadata-Token-Ttl-Seconds", ttl);
}

static bool token_ok(const struct sim_world *w, const char *token, cbq_ms now)
{
	for (size_t i = 0; token && i < w->n_imds; i++)
		if (strcmp(w->imds[i].token, token) == 0 && now < w->imds[i].expires)
			return true;
	return false;
}

static void credentials(struct sim_world *w, cbq_ms now, struct sim_reply *r)
{
	const struct sim_session *s = sim_iam_imds_session(w, now);
	char updated[SIM_TIME_SIZE], exp[SIM_TIME_SIZE];

	if (!s) {
		not_found(r);
		return;
	}
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Code", "Success",
				"LastUpdated", sim_time_iso(s->issued, updated), "Type", "AWS-HMAC",
				"AccessKeyId", s->access_key, "SecretAccessKey", s->secret, "Token",
				s->token, "Expiration", sim_time_iso(s->expires, exp));
	sim_reply_json(r, SIM_SVC_IMDS, 200, doc);
	snprintf(r->content_type, sizeof(r->content_type), "text/plain");
}

void sim_imds_handle(struct sim_world *w, const struct sim_http_in *in, cbq_ms now,
		     struct sim_reply *r)
{
	const struct sim_scenario *sc = w->sc;
	const char *p = in->path;
	size_t n = strlen(CREDS_PATH);

	if (strcmp(p, "/latest/api/token") == 0) {
		if (strcmp(in->method, "PUT") != 0) {
			sim_reply_text(r, 405, "Method Not Allowed");
			snprintf(r->code, sizeof(r->code), "MethodNotAllowed");
			return;
		}
		put_token(w, in, now, r);
		return;
	}
	if (strcmp(in->method, "GET") != 0) {
		sim_reply_text(r, 405, "Method Not Allowed");
		snprintf(r->code, sizeof(r->code), "MethodNotAllowed");
		return;
	}
	if (!token_ok(w, in->header(in->header_arg, "x-aws-ec2-metadata-token"), now)) {
		sim_reply_text(r, 401, "Unauthorized");
		snprintf(r->code, sizeof(r->code), "Unauthorized");
		return;
	}
	if (strncmp(p, CREDS_PATH, n) == 0 && (p[n] == '\0' || (p[n] == '/' && p[n + 1] == '\0'))) {
		if (!sc->instance_profile.present)
			not_found(r);
		else
			sim_reply_text(r, 200, sc->instance_profile.role);
		return;
	}
	if (strncmp(p, CREDS_PATH, n) == 0 && p[n] == '/') {
		if (!sc->instance_profile.present || strcmp(p + n + 1, sc->instance_profile.role))
			not_found(r);
		else
			credentials(w, now, r);
		return;
	}
	if (strcmp(p, "/latest/meta-data/iam/info") == 0 && sc->instance_profile.present) {
		const struct sim_principal *pr = &sc->principals[sc->instance_profile.principal];
		char updated[SIM_TIME_SIZE], arn[SIM_ARN_LEN + 1];
		snprintf(arn, sizeof(arn), "arn:aws:iam::%s:instance-profile/%s", pr->account,
			 sc->instance_profile.role);
		json_t *doc = json_pack("{s:s, s:s, s:s, s:s}", "Code", "Success", "LastUpdated",
					sim_time_iso(now, updated), "InstanceProfileArn", arn,
					"InstanceProfileId", "AIPAAWSSIMINSTANCEPROF");
		sim_reply_json(r, SIM_SVC_IMDS, 200, doc);
		snprintf(r->content_type, sizeof(r->content_type), "text/plain");
		return;
	}
	if (strcmp(p, "/latest/meta-data/placement/region") == 0) {
		sim_reply_text(r, 200, sc->region);
		return;
	}
	if (strcmp(p, "/latest/meta-data/placement/availability-zone") == 0) {
		char az[48];
		snprintf(az, sizeof(az), "%sa", sc->region);
		sim_reply_text(r, 200, sc->n_blocks ? sc->blocks[0].az : az);
		return;
	}
	not_found(r);
}
