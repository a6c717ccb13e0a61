/*
 * libFuzzer target for the duration parser (core/duration.h). Checks that
 * parse never crashes, that what it accepts formats and parses back to the
 * same value, and that format and cbq_utc_format take any int64. Not a test
 * of which texts are accepted; tests/unit/test_duration.c is.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cbq_error err = { 0 };
	char buf[CBQ_DURATION_BUF], utc[CBQ_UTC_BUF];
	int64_t seconds = 0, again = 0, raw = 0;
	char *text;

	if (size > 4 * CBQ_DURATION_TEXT_MAX)
		return 0;
	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';

	if (cbq_duration_parse(text, &seconds, &err) == CBQ_OK) {
		if (seconds < 0)
			abort();
		cbq_duration_format(seconds, buf, sizeof(buf));
		if (cbq_duration_parse(buf, &again, &err) != CBQ_OK || again != seconds)
			abort(); /* format's output must parse back to the same value */
	}

	/* the first 8 bytes as any int64, INT64_MIN included */
	memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
	cbq_duration_format(raw, buf, sizeof(buf));
	/* and into a buffer too small, which must stay NUL-terminated */
	cbq_duration_format(raw, buf, size ? 1 + data[0] % sizeof(buf) : 1);
	if (!memchr(buf, '\0', size ? 1 + data[0] % sizeof(buf) : 1))
		abort();
	cbq_utc_format(raw, utc, sizeof(utc));
	free(text);
	return 0;
}
