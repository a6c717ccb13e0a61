/*
 * Case tables for the inventory and launch-plan tests: tab-separated rows
 * under $CBQ_TESTDATA, '#' comments, times written relative to a fixed day.
 * A test helper only; product code never reads these.
 */
#ifndef CBQ_TEST_INV_TSV_H
#define CBQ_TEST_INV_TSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/job.h"

/* 2026-11-23 00:00Z, the day "0d00:00" names in the tables. */
#define TSV_T0_MS ((cbq_ms)1795392000000)

enum { TSV_FIELDS_MAX = 32, TSV_LINE_MAX = 4096 };

struct tsv {
	FILE *f;
	char name[128];
	int lineno;
	char line[TSV_LINE_MAX];
	char *field[TSV_FIELDS_MAX];
	size_t n;
};

/* Opens $CBQ_TESTDATA/name or fails the test. */
void tsv_open(struct tsv *t, const char *name);
/* The next case row (comments and blank lines skipped), split on tabs; false at the end. */
bool tsv_next(struct tsv *t);
void tsv_close(struct tsv *t);
/* Field i of the row; fails the test when the row is shorter. */
char *tsv_at(struct tsv *t, size_t i);
/* "<days>d<HH>:<MM>" from TSV_T0_MS (e.g. "1d11:30"), a bare integer of ms, or "-" (0). */
cbq_ms tsv_time(const char *s);
/* "4h", "90m", "1h30m" in ms; "-" is 0. */
cbq_ms tsv_span(const char *s);
/* Splits s in place on sep into at most max items; "-" and "" give none. */
size_t tsv_split(char *s, char sep, char **out, size_t max);
/* "file:line" of the current row, for messages. */
const char *tsv_where(const struct tsv *t);

#endif
