/*
 * Text for reasons and events: formatting into fixed buffers, made safe to
 * store and log. Decides nothing; the modules that decide say what to write.
 */
#include "inventory/text.h"

#include "core/duration.h"

#include <inttypes.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one.
 * Overlong forms, surrogates and code points past U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

void inv_text_clean(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0 || (n == 1 && is_control(*p))) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

bool inv_text_is_clean(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_len(p);
		if (n == 0 || (n == 1 && is_control(*p)))
			return false;
		p += n;
	}
	return true;
}

char *inv_vtextf(char *buf, size_t size, const char *fmt, va_list ap)
{
	vsnprintf(buf, size, fmt, ap);
	inv_text_clean(buf);
	return buf;
}

char *inv_textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inv_vtextf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

const char *inv_time_format(cbq_ms t, char buf[INV_TIME_BUF])
{
	return cbq_utc_format(t, buf, INV_TIME_BUF);
}

const char *inv_span_format(cbq_ms span, char buf[CBQ_DURATION_BUF])
{
	return cbq_duration_format(span / 1000, buf, CBQ_DURATION_BUF);
}
