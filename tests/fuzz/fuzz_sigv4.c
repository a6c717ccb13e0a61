/*
 * libFuzzer target for SigV4 canonicalisation (aws/sigv4.h). The input is
 * text, one field a line: method, host, path, query, region, service, then
 * "name:value" header lines up to an empty line, then the body. Each input is
 * signed (Authorization form) and presigned (query form, with a session
 * token); both must succeed or refuse with a message, never overrun. Not a
 * check of signature values; tests/unit/test_sigv4.c runs the AWS suite.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { FUZZ_FIELDS = 6, FUZZ_MAX_HEADERS = AWS_SIGV4_MAX_HEADERS + 4 };

/* Cuts the next line off *p (the '\n' becomes NUL); NULL at the end. */
static char *next_line(char **p, char *end)
{
	char *line = *p, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl)
		nl = end;
	*nl = '\0';
	*p = nl + 1;
	return line;
}

static void check(enum cbq_err rc, const struct cbq_error *err)
{
	if (rc != CBQ_OK && !err->msg[0])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct aws_credentials plain = {
		.access_key_id = "AKIDEXAMPLE",
		.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	};
	static const struct aws_credentials token = {
		.access_key_id = "ASIAEXAMPLE",
		.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		.session_token = "IQoJb3JpZ2luX2VjEXAMPLE=",
	};
	struct aws_header headers[FUZZ_MAX_HEADERS];
	struct aws_request req = { 0 };
	struct aws_sigv4_debug dbg = { 0 };
	struct cbq_error err = { 0 };
	struct aws_signed out;
	const char *field[FUZZ_FIELDS];
	char *buf, *p, *end, *line, *colon, *query = NULL;
	enum cbq_err rc;
	size_t n = 0;

	if (size > 64 * 1024)
		return 0;
	buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	end = buf + size;

	for (size_t i = 0; i < FUZZ_FIELDS; i++) {
		field[i] = next_line(&p, end);
		if (!field[i])
			field[i] = "";
	}
	while (n < FUZZ_MAX_HEADERS && (line = next_line(&p, end)) && *line) {
		colon = strchr(line, ':');
		if (colon)
			*colon++ = '\0';
		headers[n].name = line;
		headers[n].value = colon ? colon : "";
		n++;
	}
	req.method = field[0];
	req.host = field[1];
	req.path = field[2];
	req.query = field[3];
	req.region = field[4];
	req.service = field[5];
	req.headers = headers;
	req.n_headers = n;
	req.body = p < end ? (const uint8_t *)p : NULL;
	req.body_len = p < end ? (size_t)(end - p) : 0;
	req.content_sha256_header = size % 2;

	rc = aws_sigv4_sign(&req, &plain, 1440938160, &out, &dbg, &err);
	check(rc, &err);
	if (rc == CBQ_OK) {
		if (!memchr(out.authorization, '\0', sizeof(out.authorization)))
			abort();
		aws_sigv4_debug_free(&dbg);
	}
	rc = aws_sigv4_presign(&req, &token, 1440938160, 3600, &query, &dbg, &err);
	check(rc, &err);
	if (rc == CBQ_OK) {
		free(query);
		aws_sigv4_debug_free(&dbg);
	}

	/* the encoder: measure, then write into exactly that much */
	size_t need = aws_uri_encode((const char *)data, size, size % 3 == 0, NULL, 0);
	char *enc = malloc(need + 1);
	if (!enc)
		abort();
	if (aws_uri_encode((const char *)data, size, size % 3 == 0, enc, need + 1) != need ||
	    strlen(enc) != need)
		abort();
	free(enc);
	free(buf);
	return 0;
}
