/*
 * IAM identity for the CLI; see auth_iam.h. Credentials come from cbqd's
 * own AWS modules (aws_config_load, aws_creds_provider with the AWS client
 * for role_arn profiles) run on a private libevent loop until they answer;
 * the CLI may block. The token is minted inside the callback, so the
 * credentials are never copied out of the provider.
 */
#include "auth_iam.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "auth/iamtoken.h"
#include "aws/client.h"
#include "aws/config.h"
#include "aws/creds.h"
#include "aws/http.h"
#include "util/clock.h"

struct cli_iam {
	char server_id[AUTH_IAM_MAX_SERVER_ID + 1];
	char *value; /* "CBQ-AWS-IAM-V1 <token>", or NULL */
	cbq_ms minted_at;
};

bool cli_iam_host_of(const char *url, char *out, size_t size)
{
	CURLU *u = curl_url();
	char *host = NULL;
	bool ok = false;

	if (!u)
		return false;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] &&
	    strlen(host) < size) {
		for (size_t i = 0; host[i]; i++)
			out[i] = (host[i] >= 'A' && host[i] <= 'Z') ? (char)(host[i] - 'A' + 'a') :
								      host[i];
		out[strlen(host)] = '\0';
		ok = true;
	}
	curl_free(host);
	curl_url_cleanup(u);
	return ok;
}

enum cbq_err cli_iam_new(const char *server, const char *server_id, struct cli_iam **out,
			 struct cbq_error *err)
{
	struct cli_iam *iam = calloc(1, sizeof(*iam));

	if (!iam)
		return cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
	if (server_id) {
		if (strlen(server_id) > AUTH_IAM_MAX_SERVER_ID ||
		    strspn(server_id,
			   "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~") != strlen(server_id)) {
			free(iam);
			return cbq_fail(err, CBQ_ERR_INVALID, "server-id",
					"--server-id must be 1-%d visible characters without spaces",
					AUTH_IAM_MAX_SERVER_ID);
		}
		snprintf(iam->server_id, sizeof(iam->server_id), "%s", server_id);
	} else if (!cli_iam_host_of(server, iam->server_id, sizeof(iam->server_id))) {
		free(iam);
		return cbq_fail(err, CBQ_ERR_INVALID, "server-id",
				"cannot take a server id from the server URL: give --server-id "
				"(CBQ_SERVER_ID)");
	}
	*out = iam;
	return CBQ_OK;
}

void cli_iam_free(struct cli_iam *iam)
{
	if (!iam)
		return;
	if (iam->value)
		OPENSSL_cleanse(iam->value, strlen(iam->value));
	free(iam->value);
	free(iam);
}

const char *cli_iam_server_id(const struct cli_iam *iam)
{
	return iam->server_id;
}

/* ---- one mint: credentials on a private loop */

struct mint {
	struct cli_iam *iam;
	const struct aws_endpoint *sts;
	struct event_base *base;
	bool done;
	char *token;	      /* the minted token, or NULL */
	struct cbq_error err; /* when token is NULL */
};

static void mint_with(struct mint *m, const struct aws_credentials *c)
{
	struct auth_iam_mint_req r = {
		.cred = c,
		.host = m->sts->host,
		.region = m->sts->signing_region,
		.server_id = m->iam->server_id,
	};

	if (auth_iam_token_mint(&r, cbq_clock_real_ms() / 1000, &m->token, &m->err) != CBQ_OK)
		m->token = NULL;
}

static void got_creds(const struct aws_credentials *c, cbq_ms expires, const struct cbq_error *err,
		      void *arg)
{
	struct mint *m = arg;

	(void)expires;
	m->done = true;
	if (c)
		mint_with(m, c);
	else
		cbq_fail(&m->err, CBQ_ERR_UNAUTHENTICATED, "aws.credentials",
			 "cannot get your AWS credentials: %.150s; or use --cert", err->msg);
	event_base_loopbreak(m->base);
}

static void fetch_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct mint *m = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(m->base);
}

/* AWS_REGION for a caller who set none: STS is global, us-east-1 signs it. */
static const char *env_default_region(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "AWS_REGION") == 0)
		return "us-east-1";
	return aws_env_getenv(NULL, name);
}

static enum cbq_err load_config(struct aws_config *cfg, struct cbq_error *err)
{
	struct aws_env env = { aws_env_getenv, NULL };
	struct cbq_error lerr = { 0 };
	enum cbq_err rc = aws_config_load(&env, cfg, &lerr);

	if (rc != CBQ_OK && strcmp(lerr.field, "aws.region") == 0) {
		struct aws_env with_region = { env_default_region, NULL };
		rc = aws_config_load(&with_region, cfg, &lerr);
	}
	if (rc == CBQ_ERR_NOT_FOUND && strcmp(lerr.field, "aws.credentials") == 0)
		return cbq_fail(err, CBQ_ERR_INVALID, "aws.credentials",
				"no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID "
				"and AWS_SECRET_ACCESS_KEY, or use --cert");
	if (rc != CBQ_OK)
		return cbq_fail(err, CBQ_ERR_INVALID, lerr.field,
				"AWS settings for IAM identity: %.180s; or use --cert", lerr.msg);
	return CBQ_OK;
}

/* Mints a new token into iam->value. */
static enum cbq_err mint(struct cli_iam *iam, struct cbq_error *err)
{
	struct aws_config cfg = { 0 };
	struct mint m = { .iam = iam };
	struct aws_http *http = NULL;
	struct aws_client *client = NULL;
	struct aws_creds_provider *prov = NULL;
	struct aws_creds_wait *wait = NULL;
	struct event *timer = NULL;
	struct cbq_clock clock;
	enum cbq_err rc;

	rc = load_config(&cfg, err);
	if (rc != CBQ_OK)
		return rc;
	m.sts = &cfg.endpoints[AWS_SVC_STS];
	rc = cbq_clock_parse("real", cbq_clock_real_ms(), &clock, err);
	if (rc != CBQ_OK)
		goto out;
	m.base = event_base_new();
	if (!m.base) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "cannot create an event loop");
		goto out;
	}
	struct aws_client_settings cs = { .config = &cfg, .clock = &clock };
	if (!(http = aws_http_new(m.base, err)) ||
	    !(client = aws_client_new(m.base, http, &cs, err)) ||
	    !(prov = aws_creds_provider_new(m.base, http, &cfg.creds, aws_client_assume_hook,
					    client, err))) {
		rc = err->code ? err->code : CBQ_ERR_INTERNAL;
		goto out;
	}
	aws_client_set_own(client, prov);

	const struct aws_credentials *c = aws_creds_provider_peek(prov, cbq_clock_real_ms());
	if (c) {
		mint_with(&m, c);
		m.done = true;
	} else {
		struct timeval tv = { CLI_IAM_FETCH_TIMEOUT_MS / 1000, 0 };
		timer = evtimer_new(m.base, fetch_timeout, &m);
		if (!timer) {
			rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "cannot create a timer");
			goto out;
		}
		evtimer_add(timer, &tv);
		wait = aws_creds_provider_fetch(prov, cbq_clock_real_ms(), got_creds, &m);
		while (!m.done && event_base_loop(m.base, EVLOOP_ONCE) == 0 &&
		       evtimer_pending(timer, NULL))
			;
		if (!m.done) {
			aws_creds_wait_cancel(wait);
			rc = cbq_fail(err, CBQ_ERR_UNAUTHENTICATED, "aws.credentials",
				      "no AWS credentials after %d s (%s): set AWS_PROFILE or "
				      "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --cert",
				      CLI_IAM_FETCH_TIMEOUT_MS / 1000,
				      aws_creds_provider_source(prov));
			goto out;
		}
	}
	if (!m.token) {
		*err = m.err;
		rc = m.err.code ? m.err.code : CBQ_ERR_INTERNAL;
		goto out;
	}
	size_t n = sizeof(AUTH_IAM_SCHEME) + 1 + strlen(m.token);
	char *value = malloc(n);
	if (!value) {
		rc = cbq_fail(err, CBQ_ERR_INTERNAL, "", "out of memory");
		goto out;
	}
	snprintf(value, n, AUTH_IAM_SCHEME " %s", m.token);
	if (iam->value)
		OPENSSL_cleanse(iam->value, strlen(iam->value));
	free(iam->value);
	iam->value = value;
	iam->minted_at = cbq_clock_real_ms();
	rc = CBQ_OK;
out:
	if (m.token) {
		OPENSSL_cleanse(m.token, strlen(m.token));
		free(m.token);
	}
	if (timer)
		event_free(timer);
	aws_client_free(client);
	aws_creds_provider_free(prov);
	aws_http_free(http);
	if (m.base)
		event_base_free(m.base);
	aws_config_free(&cfg);
	return rc;
}

enum cbq_err cli_iam_authorization(struct cli_iam *iam, const char **value, struct cbq_error *err)
{
	if (!iam->value || cbq_clock_real_ms() - iam->minted_at >= CLI_IAM_REMINT_MS) {
		enum cbq_err rc = mint(iam, err);
		if (rc != CBQ_OK)
			return rc;
	}
	*value = iam->value;
	return CBQ_OK;
}
