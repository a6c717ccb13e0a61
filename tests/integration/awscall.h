/*
 * The broker's AWS client, driven synchronously for tests: settings from a
 * table of environment variables (through aws/config.h, as cbqd reads its
 * own), one event loop, and t_call() running it until the call ends.
 */
#ifndef CBQ_TESTS_AWSCALL_H
#define CBQ_TESTS_AWSCALL_H

#include "aws/client.h"
#include "aws/form.h"
#include "util/clock.h"

struct t_aws {
	struct event_base *base;
	struct aws_http *http;
	struct aws_config cfg;
	struct aws_creds_provider *own;
	struct aws_client *client;
	struct cbq_clock clock;
};

/* env: NULL-ended "NAME=value" entries, the only environment the AWS
 * settings see (no files are read: HOME is unset). clock: a util/clock
 * spec. timeout_ms: per attempt, 0 for the default. */
void t_aws_open(struct t_aws *t, const char *const *env, const char *clock, long timeout_ms);
/* The same with the texts of a shared config and credentials file (NULL:
 * no such file). */
void t_aws_open_files(struct t_aws *t, const char *const *env, const char *config_text,
		      const char *credentials_text, const char *clock, long timeout_ms);
void t_aws_close(struct t_aws *t);

struct t_outcome {
	enum cbq_err code;
	enum aws_err_class cls;
	char msg[256];
	char aws_code[128]; /* AWS's error code, or "" */
	long status;
	char *body; /* 2xx body, malloc'd */
	size_t len;
	int attempts;
};

/* One call as role_arn (NULL: the broker) until it ends (60 s at most). */
struct t_outcome t_call(struct t_aws *t, enum aws_service svc, const char *role_arn,
			const char *external_id, const char *what, const struct aws_form *form);
void t_outcome_free(struct t_outcome *o);

/* A query-protocol POST of body to http://host/, signed for service with
 * cred now, as a client outside cbq sends it (moto's x-moto-account-id
 * added unless account is NULL). Returns the reply body (a static buffer,
 * valid until the next call) and its status in *status. */
const char *t_signed_post(const char *host, const char *service,
			  const struct aws_credentials *cred, const char *account, const char *body,
			  long *status);
/* The text of the first <name> in xml into out; fails the test without one. */
void t_xml_element(const char *xml, const char *name, char *out, size_t size);

#endif
