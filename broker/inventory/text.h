/*
 * Reason and event text for the pure fleet modules (inventory/, the launch
 * plan): printf into a fixed buffer, then make the result safe to store in
 * a Postgres text column and to log (valid UTF-8, no control characters),
 * and UTC times in the form the scheduler's reasons use. No I/O, no clock.
 */
#ifndef CBQ_INVENTORY_TEXT_H
#define CBQ_INVENTORY_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/duration.h"
#include "core/err.h"
#include "core/job.h"

/* Holds inv_time_format's output for any cbq_ms ("-292278994-08-17 07:12Z" at worst). */
enum { INV_TIME_BUF = 32 };

/*
 * vsnprintf into buf (size > 0), then cleans it: every byte that is not part
 * of a valid UTF-8 sequence, and every control character, becomes '?' (so a
 * multi-byte character cut by truncation or a raw byte in an AWS message
 * never reaches Postgres). Always NUL-terminates; returns buf.
 */
char *inv_textf(char *buf, size_t size, const char *fmt, ...) CBQ_PRINTF(3, 4);
char *inv_vtextf(char *buf, size_t size, const char *fmt, va_list ap) CBQ_PRINTF(3, 0);

/* Cleans s in place as inv_textf does. */
void inv_text_clean(char *s);

/* True when s is valid UTF-8 without control characters. */
bool inv_text_is_clean(const char *s);

/* "2026-11-23 11:30Z" (UTC, minutes, like the scheduler's reasons); returns buf. */
const char *inv_time_format(cbq_ms t, char buf[INV_TIME_BUF]);

/* A span as cbq_duration_format writes it ("4h", "1h30m"; milliseconds
 * dropped); returns buf. */
const char *inv_span_format(cbq_ms span, char buf[CBQ_DURATION_BUF]);

#endif
