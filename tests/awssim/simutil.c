/*
 * Times, pseudo-random ids and character checks for cbq-awssim; see
 * simutil.h. Pure: no clock, no I/O.
 */
#include "simutil.h"
#include "core/duration.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char SIM_UPPER_ALNUM[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const char SIM_SECRET_CHARS[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool valid_date(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59)
		return false;
	if (d > mdays[mo - 1] || (mo == 2 && !leap && d > 28))
		return false;
	return true;
}

bool sim_time_parse(const char *s, cbq_ms *out)
{
	int y, mo, d, h, mi, sec, ms = 0;

	if (!s || strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	const char *p = s + 19;
	if (*p == '.') {
		int scale = 100;
		p++;
		if (!isdigit((unsigned char)*p))
			return false;
		for (int i = 0; isdigit((unsigned char)*p); p++, i++) {
			if (i >= 9)
				return false;
			ms += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return false;
	if (!valid_date(y, mo, d, h, mi, sec))
		return false;
	int64_t days = cbq_days_from_civil(y, mo, d);
	*out = ((days * 86400) + h * 3600 + mi * 60 + sec) * 1000 + ms;
	return true;
}

bool sim_time_parse_amz(const char *s, cbq_ms *out)
{
	int y, mo, d, h, mi, sec;

	if (!s || strlen(s) != 16 || !digits(s, 4, &y) || !digits(s + 4, 2, &mo) ||
	    !digits(s + 6, 2, &d) || s[8] != 'T' || !digits(s + 9, 2, &h) ||
	    !digits(s + 11, 2, &mi) || !digits(s + 13, 2, &sec) || s[15] != 'Z')
		return false;
	if (!valid_date(y, mo, d, h, mi, sec))
		return false;
	*out = ((cbq_days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 +
		sec) *
	       1000;
	return true;
}

static bool to_tm(cbq_ms t, struct tm *tm)
{
	time_t secs = (time_t)((t >= 0 ? t : t - 999) / 1000);

	return gmtime_r(&secs, tm) != NULL;
}

const char *sim_time_ec2(cbq_ms t, char out[SIM_TIME_SIZE])
{
	struct tm tm;
	char base[24];

	if (!to_tm(t, &tm)) {
		snprintf(out, SIM_TIME_SIZE, "1970-01-01T00:00:00.000Z");
		return out;
	}
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, SIM_TIME_SIZE, "%s.%03dZ", base, (int)(((t % 1000) + 1000) % 1000));
	return out;
}

const char *sim_time_iso(cbq_ms t, char out[SIM_TIME_SIZE])
{
	struct tm tm;

	if (!to_tm(t, &tm))
		snprintf(out, SIM_TIME_SIZE, "1970-01-01T00:00:00Z");
	else
		strftime(out, SIM_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

const char *sim_time_amz(cbq_ms t, char out[SIM_TIME_SIZE])
{
	struct tm tm;

	if (!to_tm(t, &tm))
		snprintf(out, SIM_TIME_SIZE, "19700101T000000Z");
	else
		strftime(out, SIM_TIME_SIZE, "%Y%m%dT%H%M%SZ", &tm);
	return out;
}

uint64_t sim_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t sim_rng_next(struct sim_rng *r)
{
	r->state += 0x9e3779b97f4a7c15ULL;
	return sim_mix64(r->state);
}

void sim_rng_chars(struct sim_rng *r, const char *alphabet, size_t n, char *out)
{
	size_t k = strlen(alphabet);

	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[sim_rng_next(r) % k];
	out[n] = '\0';
}

void sim_rng_uuid(struct sim_rng *r, char out[37])
{
	uint64_t a = sim_rng_next(r), b = sim_rng_next(r);

	snprintf(out, 37, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
		 a >> 32, (a >> 16) & 0xffff, a & 0xfff, (uint64_t)0x8000 | ((b >> 48) & 0x3fff),
		 b & (uint64_t)0xffffffffffff);
}

void sim_hex_id(const char *prefix, uint64_t n, uint64_t salt, char *out, size_t size)
{
	snprintf(out, size, "%s0%016" PRIx64, prefix, sim_mix64(n ^ salt));
}

bool sim_is_digits(const char *s, size_t n)
{
	if (!s || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

bool sim_chars_in(const char *s, const char *set, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	return len >= 1 && len <= max && strspn(s, set) == len;
}

bool sim_word_chars(const char *s, const char *extra, size_t min, size_t max)
{
	size_t len = s ? strlen(s) : 0;

	if (len < min || len > max)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && !strchr(extra, c))
			return false;
	}
	return true;
}

bool sim_copy(char *dst, size_t size, const char *src)
{
	int n = snprintf(dst, size, "%s", src ? src : "");

	return n >= 0 && (size_t)n < size;
}

static const uint64_t PAGE_XOR = 0x6362712d73696dULL; /* "cbq-sim" */

void sim_page_token(const char *kind, size_t offset, char *out, size_t size)
{
	snprintf(out, size, "%s%016" PRIx64, kind, (uint64_t)offset ^ PAGE_XOR);
}

bool sim_page_parse(const char *kind, const char *token, size_t *offset)
{
	size_t k = strlen(kind);
	char *end;

	if (!token || strncmp(token, kind, k) != 0 || strlen(token + k) != 16 ||
	    strspn(token + k, "0123456789abcdef") != 16)
		return false;
	uint64_t v = strtoull(token + k, &end, 16) ^ PAGE_XOR;
	if (*end || v > 100000000)
		return false;
	*offset = (size_t)v;
	return true;
}
