/*
 * Small helpers of cbq-awssim: ISO-8601 times in and out, a seeded
 * pseudo-random generator for ids, keys and request ids (deterministic for a
 * given scenario seed and request order), and id formats. Not a clock: times
 * are passed in; nothing here reads the time or does I/O.
 */
#ifndef CBQ_AWSSIM_SIMUTIL_H
#define CBQ_AWSSIM_SIMUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/job.h"

/* "2026-11-23T08:00:00Z", optionally with ".sss" fractions or "+00:00";
 * false for anything else or a year outside 1970..9999. */
bool sim_time_parse(const char *s, cbq_ms *out);

enum { SIM_TIME_SIZE = 32 };
/* EC2 style "2026-11-23T08:00:00.000Z". */
const char *sim_time_ec2(cbq_ms t, char out[SIM_TIME_SIZE]);
/* Whole seconds "2026-11-23T08:00:00Z" (STS, IMDS, logs). */
const char *sim_time_iso(cbq_ms t, char out[SIM_TIME_SIZE]);
/* SigV4 "20261123T080000Z". */
const char *sim_time_amz(cbq_ms t, char out[SIM_TIME_SIZE]);
/* Parses "20261123T080000Z"; false when malformed. */
bool sim_time_parse_amz(const char *s, cbq_ms *out);

/* splitmix64: tiny, seedable, good enough for ids in a test emulator. */
struct sim_rng {
	uint64_t state;
};
uint64_t sim_rng_next(struct sim_rng *r);
/* The splitmix64 finaliser alone: a bijection, so distinct counters give
 * distinct ids. */
uint64_t sim_mix64(uint64_t x);

/* n random characters from alphabet into out (NUL-terminated, out has n+1). */
void sim_rng_chars(struct sim_rng *r, const char *alphabet, size_t n, char *out);
/* A random-looking UUID, "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx". */
void sim_rng_uuid(struct sim_rng *r, char out[37]);

extern const char SIM_UPPER_ALNUM[];  /* A-Z 0-9 */
extern const char SIM_SECRET_CHARS[]; /* A-Z a-z 0-9 + / */

/* "<prefix>0" + 16 hex digits of sim_mix64(n ^ salt): i-…, r-… (17 hex). */
void sim_hex_id(const char *prefix, uint64_t n, uint64_t salt, char *out, size_t size);

/* True when s is exactly n ASCII digits. */
bool sim_is_digits(const char *s, size_t n);
/* True when every byte of s is in set and 1 <= strlen(s) <= max. */
bool sim_chars_in(const char *s, const char *set, size_t max);
/* Letters, digits and the bytes of extra. */
bool sim_word_chars(const char *s, const char *extra, size_t min, size_t max);

/* Opaque paging tokens: kind + 16 hex digits hiding an offset. */
void sim_page_token(const char *kind, size_t offset, char *out, size_t size);
/* false when token was not made by sim_page_token for kind. */
bool sim_page_parse(const char *kind, const char *token, size_t *offset);

/* snprintf that reports truncation as false. */
bool sim_copy(char *dst, size_t size, const char *src);

#endif
