/*
 * The daemon's AWS settings: region, endpoint per service, retry settings
 * and the plan for getting its own credentials, resolved the way botocore
 * does from environment variables and the shared config and credentials
 * files (AWS.md §10.1-10.4, §11.1-11.2). Pure: the environment comes through
 * a lookup function and the files as texts; nothing is read, fetched or
 * logged here. Getting the credentials a plan describes is creds.h's job.
 */
#ifndef CBQ_AWS_CONFIG_H
#define CBQ_AWS_CONFIG_H

#include <stdbool.h>

#include "core/err.h"
#include "core/job.h" /* cbq_ms */

enum {
	AWS_CONFIG_MAX_PATH = 1023,   /* bytes in an expanded file path */
	AWS_CONFIG_MAX_URL = 511,     /* bytes in an endpoint URL override */
	AWS_CONFIG_MAX_PROFILE = 128, /* bytes in a profile name */
	AWS_CONFIG_MAX_CHAIN = 4,     /* roles in a source_profile chain */
	AWS_CONFIG_MAX_KEY = 128,     /* access key id, secret access key */
	AWS_CONFIG_MAX_TOKEN = 8192,  /* session token (= AWS_SIGV4_MAX_VALUE) */
	AWS_CONFIG_DEFAULT_ATTEMPTS = 3,
	AWS_CONFIG_MAX_ATTEMPTS = 20,
};

/* The process environment, or a table in tests. get returns NULL when name
 * is unset; the returned string must stay valid during the call using it. */
struct aws_env {
	const char *(*get)(void *arg, const char *name);
	void *arg;
};
/* e->get(name), but NULL when e, e->get or the value is NULL or "". */
const char *aws_env_get(const struct aws_env *e, const char *name);

enum aws_service { AWS_SVC_EC2, AWS_SVC_STS, AWS_SVC_RAM, AWS_SVC_ORGANIZATIONS, AWS_SVC_COUNT };
/* The SigV4 signing name: "ec2", "sts", "ram", "organizations". */
const char *aws_service_name(enum aws_service s);

struct aws_endpoint {
	char url[512];		 /* "https://ec2.us-east-1.amazonaws.com", no trailing '/' */
	char host[256];		 /* Host header: host[:port], port only when not the default */
	char signing_region[32]; /* the region, or us-east-1 for global Organizations */
	bool custom;		 /* from AWS_ENDPOINT_URL* or the profile, not the default */
};

enum aws_creds_kind { AWS_CREDS_NONE, AWS_CREDS_STATIC, AWS_CREDS_ASSUME_ROLE, AWS_CREDS_IMDS };
/* "none", "static", "assume_role", "imds", for logs. */
const char *aws_creds_kind_name(enum aws_creds_kind k);

/*
 * How the broker gets its own credentials. Holds secrets: copy it only with
 * aws_creds_plan_copy() and free it with aws_creds_plan_free(), which wipe.
 */
struct aws_creds_plan {
	enum aws_creds_kind kind;
	/* "env", "profile prod (credentials file)", "profile prod (assume role)",
	 * "imds": for logs and messages, never secret. */
	char source[96];

	/* STATIC */
	char access_key_id[AWS_CONFIG_MAX_KEY + 1];
	char secret_access_key[AWS_CONFIG_MAX_KEY + 1];
	char *session_token; /* malloc'd, or NULL for long-term keys */
	cbq_ms expires;	     /* AWS_CREDENTIAL_EXPIRATION, or 0: does not expire */

	/* ASSUME_ROLE: STS AssumeRole with these, using source_plan's credentials. */
	char role_arn[2049];
	char external_id[1225]; /* "" for none */
	char session_name[65];	/* "" for none: the provider picks "cbqd-<unix seconds>" */
	int duration_seconds;	/* 0 for STS's default, else 900..43200 */
	/* malloc'd; a chain of at most AWS_CONFIG_MAX_CHAIN roles */
	struct aws_creds_plan *source_plan;

	/* IMDS (AWS.md §10.4) */
	char imds_endpoint[256]; /* "http://169.254.169.254", no trailing '/' */
	bool imds_v1_disabled;	 /* no IMDSv1 fallback when the token PUT fails */
	long imds_timeout_ms;	 /* per HTTP attempt (connect and total) */
	int imds_attempts;	 /* per request, >= 1 */
};

/* botocore's modes (§11.1); cbq's default is standard (DESIGN.md §6). */
enum aws_retry_mode { AWS_RETRY_STANDARD, AWS_RETRY_LEGACY, AWS_RETRY_ADAPTIVE };

struct aws_config {
	/* Set by aws_config_files(). The paths are expanded ($VAR, ${VAR}, ~ and
	 * ~/ from HOME; ~user is left as written); "" when the default path
	 * needs HOME and HOME is unset: then that file is not read. */
	char profile[AWS_CONFIG_MAX_PROFILE + 1];
	bool profile_set; /* named by AWS_DEFAULT_PROFILE or AWS_PROFILE: it must exist */
	char config_file[AWS_CONFIG_MAX_PATH + 1];
	char credentials_file[AWS_CONFIG_MAX_PATH + 1];

	/* Set by aws_config_resolve(). */
	char region[32];
	struct aws_endpoint endpoints[AWS_SVC_COUNT];
	int max_attempts;		/* AWS_MAX_ATTEMPTS / max_attempts: 1..20, default 3 */
	enum aws_retry_mode retry_mode; /* AWS_RETRY_MODE / retry_mode */
	struct aws_creds_plan creds;
};

/*
 * Step 1: which files to read and which profile to use. Profile:
 * AWS_DEFAULT_PROFILE, then AWS_PROFILE, else "default". Files:
 * AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/config and
 * ~/.aws/credentials. On success *out is zeroed and filled (no secrets yet);
 * on failure (a path over AWS_CONFIG_MAX_PATH, "~" in a variable without
 * HOME, a bad profile name) *out is untouched.
 */
enum cbq_err aws_config_files(const struct aws_env *env, struct aws_config *out,
			      struct cbq_error *err) CBQ_MUST_CHECK;

/*
 * Step 2: everything else, from env and the texts of the two files (NULL
 * when a file does not exist). inout comes from aws_config_files(); a plan
 * it already holds is freed and replaced on success. On failure *inout is
 * untouched and err says what to change, naming the variable, or the
 * profile, file and line; it never holds a key, secret or token.
 *
 * Credentials, first found wins: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY
 * (even with AWS_PROFILE set); the profile's role_arn; web identity; SSO;
 * static keys in the credentials file; credential_process; static keys in
 * the config file; container credentials; IMDS unless
 * AWS_EC2_METADATA_DISABLED=true. Web identity (AWS_WEB_IDENTITY_TOKEN_FILE
 * or web_identity_token_file), SSO, credential_process, container
 * credentials (AWS_CONTAINER_CREDENTIALS_*_URI, credential_source =
 * EcsContainer) are not supported yet: reaching one is an error saying so,
 * never a silent skip. Stricter than botocore, also an error: one static
 * key without the other (env or file), mfa_serial on a role (a daemon
 * cannot type a code). Nothing at all: CBQ_ERR_NOT_FOUND, field
 * "aws.credentials".
 */
enum cbq_err aws_config_resolve(const struct aws_env *env, const char *config_text,
				const char *credentials_text, struct aws_config *inout,
				struct cbq_error *err) CBQ_MUST_CHECK;

/* Frees the plan and wipes the whole struct. NULL is fine. */
void aws_config_free(struct aws_config *c);

/* Deep copy (aborts when memory runs out); free dst with aws_creds_plan_free(). */
void aws_creds_plan_copy(struct aws_creds_plan *dst, const struct aws_creds_plan *src);
/* Frees what p owns, wipes secrets and zeroes *p. NULL is fine. */
void aws_creds_plan_free(struct aws_creds_plan *p);

#endif
