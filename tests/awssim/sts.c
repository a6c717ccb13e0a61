/*
 * STS over the query protocol: AssumeRole (trust list, external id and
 * duration enforced in iam.c) and GetCallerIdentity, for users and assumed
 * roles. Replies in the shapes of AWS.md §2.2 / §2.4.
 */
#include <stdio.h>
#include <string.h>

#include "call.h"
#include "iam.h"

static void assume_role(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	const struct sim_params *p = c->params;
	struct sim_assume a = {
		.role_arn = sim_params_get(p, "RoleArn"),
		.session_name = sim_params_get(p, "RoleSessionName"),
		.external_id = sim_params_get(p, "ExternalId"),
		.source_identity = sim_params_get(p, "SourceIdentity"),
		.duration = sim_params_get(p, "DurationSeconds"),
	};
	const struct sim_session *s;
	struct sim_awserr e;
	char exp[SIM_TIME_SIZE];

	if (sim_iam_assume_role(w, &c->who, &a, c->now, &s, &e) != CBQ_OK) {
		sim_sts_error(r, e.status, e.code, "%s", e.message);
		return;
	}
	sim_sts_begin(r, "AssumeRole");
	sim_xml_open(r, "Credentials");
	sim_xml_text(r, "AccessKeyId", s->access_key);
	sim_xml_text(r, "SecretAccessKey", s->secret);
	sim_xml_text(r, "SessionToken", s->token);
	sim_xml_text(r, "Expiration", sim_time_iso(s->expires, exp));
	sim_xml_close(r, "Credentials");
	sim_xml_open(r, "AssumedRoleUser");
	sim_xml_text(r, "AssumedRoleId", s->who.user_id);
	sim_xml_text(r, "Arn", s->who.arn);
	sim_xml_close(r, "AssumedRoleUser");
	if (a.source_identity)
		sim_xml_text(r, "SourceIdentity", a.source_identity);
	sim_sts_end(r, "AssumeRole");
}

static void caller_identity(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	sim_sts_begin(r, "GetCallerIdentity");
	sim_xml_text(r, "UserId", c->who.user_id);
	sim_xml_text(r, "Account", c->who.account);
	sim_xml_text(r, "Arn", c->who.arn);
	sim_sts_end(r, "GetCallerIdentity");
}

bool sim_sts_known(const char *action)
{
	return strcmp(action, "AssumeRole") == 0 || strcmp(action, "GetCallerIdentity") == 0;
}

void sim_sts_handle(struct sim_world *w, const struct sim_call *c, struct sim_reply *r)
{
	if (strcmp(c->action, "AssumeRole") == 0)
		assume_role(w, c, r);
	else if (strcmp(c->action, "GetCallerIdentity") == 0)
		caller_identity(w, c, r);
	else
		sim_sts_error(r, 400, "InvalidAction",
			      "Could not find operation %.64s for version 2011-06-15", c->action);
}
