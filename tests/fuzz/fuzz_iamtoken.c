/*
 * libFuzzer target for IAM identity tokens (auth/iamtoken.h), the first
 * thing cbqd reads of an unauthenticated request. The first byte picks the
 * form: even, the rest is the token text as sent (base64url); odd, the rest
 * is the JSON inside, encoded here so that mutations reach the JSON parser.
 * Checks that parse and check never crash, that a refusal always has a
 * message, and that an accepted token keeps its limits. Not a test of which
 * tokens are accepted; tests/unit/test_iamtoken.c is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/iamtoken.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *b64url(const uint8_t *in, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *out = malloc(n / 3 * 4 + 8);
	size_t o = 0;

	if (!out)
		abort();
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		size_t left = n - i;
		if (left > 1)
			v |= (unsigned)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		if (left > 1)
			out[o++] = tab[v >> 6 & 63];
		if (left > 2)
			out[o++] = tab[v & 63];
	}
	out[o] = '\0';
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth_iam_token *t;
	struct cbq_error err = { 0 };
	char *text;

	if (size < 1 || size > 3 * AUTH_IAM_MAX_TOKEN)
		return 0;
	if (data[0] & 1) {
		text = b64url(data + 1, size - 1);
	} else {
		text = malloc(size);
		if (!text)
			abort();
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
	}
	t = malloc(sizeof(*t));
	if (!t)
		abort();
	if (auth_iam_token_parse(text, strlen(text), t, &err) != CBQ_OK) {
		if (err.code != CBQ_ERR_UNAUTHENTICATED || !err.msg[0])
			abort(); /* every refusal says what */
	} else {
		if (strlen(t->host) > AUTH_IAM_MAX_HOST || strlen(t->amz_date) != 16 ||
		    strlen(t->server_id) > AUTH_IAM_MAX_SERVER_ID || !t->server_id[0] ||
		    strlen(t->security_token) > AUTH_IAM_MAX_SESSION_TOKEN ||
		    strlen(t->authorization) > AUTH_IAM_MAX_AUTHZ)
			abort();
		/* now near the token's date, and far from it */
		struct auth_iam_policy p = { "cbqd.example.com", "127.0.0.1:4566" };
		int64_t nows[] = { t->signed_at, t->signed_at + 901, 0, INT64_MAX / 2 };
		for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++) {
			memset(&err, 0, sizeof(err));
			if (auth_iam_token_check(t, &p, nows[i], &err) != AUTH_IAM_OK &&
			    (err.code != CBQ_ERR_UNAUTHENTICATED || !err.msg[0]))
				abort();
		}
	}
	auth_iam_is_aws_sts_host(text);
	auth_iam_token_wipe(t);
	free(t);
	free(text);
	return 0;
}
