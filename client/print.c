/*
 * Output for people; see print.h. Everything the server sends passes
 * through cli_clean before it reaches a terminal, so a job name cannot
 * carry escape sequences. Not used for -o json.
 */
#include "print.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pbjson.h"

void *cli_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);

	if (!q) {
		fputs("cbq: out of memory\n", stderr);
		abort();
	}
	return q;
}

char *cli_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(cli_xrealloc(NULL, n), s, n);
}

/* Length of the UTF-8 sequence at s if it is valid and not a C1 control,
 * else 0. n bytes are left. */
static size_t printable_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x20 || s[0] == 0x7f)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < 0xa0 || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

char *cli_clean(const char *s)
{
	size_t len, o = 0;
	char *out;

	if (!s)
		s = "";
	len = strlen(s);
	out = cli_xrealloc(NULL, len + 1);
	for (size_t i = 0; i < len;) {
		size_t n = printable_seq((const unsigned char *)s + i, len - i);

		if (n == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

size_t cli_text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

const char *cli_time(int64_t ms, char *buf, size_t size)
{
	/* floor division, so times before 1970 still print the right minute */
	time_t t = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;

	if (ms == 0 || !gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%MZ", &tm) == 0)
		snprintf(buf, size, "%s", ms == 0 ? "-" : "?");
	return buf;
}

const char *cli_enum_name(const ProtobufCEnumDescriptor *d, int value, const char *prefix,
			  char sep, char *buf, size_t size)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
	const char *name;
	size_t n = 0, plen = strlen(prefix);

	if (size == 0)
		return buf;
	if (!v) {
		snprintf(buf, size, "%d", value);
		return buf;
	}
	name = v->name;
	if (strncmp(name, prefix, plen) == 0)
		name += plen;
	for (; *name && n + 1 < size; name++) {
		char c = *name;
		if (c == '_')
			c = sep;
		else if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf[n++] = c;
	}
	buf[n] = '\0';
	return buf;
}

void cli_table_init(struct cli_table *t, size_t n_cols, const char *const *headers)
{
	memset(t, 0, sizeof(*t));
	if (n_cols > CLI_TABLE_COLS_MAX)
		n_cols = CLI_TABLE_COLS_MAX;
	t->n_cols = n_cols;
	for (size_t i = 0; i < n_cols; i++)
		t->headers[i] = headers[i];
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	size_t base = t->n_rows * t->n_cols;

	t->cells = cli_xrealloc(t->cells, (base + t->n_cols) * sizeof(*t->cells));
	for (size_t i = 0; i < t->n_cols; i++)
		t->cells[base + i] = cli_clean(cells[i] && *cells[i] ? cells[i] : "-");
	t->n_rows++;
}

/* Writes s cut to at most max columns, ending in "…" when cut. */
static void put_cut(FILE *f, const char *s, size_t max)
{
	size_t w = 0;
	const char *p = s;

	if (cli_text_width(s) <= max) {
		fputs(s, f);
		return;
	}
	for (; *p; p++) {
		if (((unsigned char)*p & 0xc0) != 0x80 && ++w > max - 1)
			break;
	}
	fwrite(s, 1, (size_t)(p - s), f);
	fputs("\xe2\x80\xa6", f);
}

static void put_row(FILE *f, const struct cli_table *t, const char *const *row,
		    const size_t *widths, int width)
{
	size_t used = 0;

	for (size_t c = 0; c < t->n_cols; c++) {
		const char *s = row[c];

		if (c + 1 == t->n_cols) {
			size_t room = width > 0 && (size_t)width > used ? (size_t)width - used : 0;
			if (width > 0 && room < CLI_TRUNCATE_MIN)
				room = CLI_TRUNCATE_MIN;
			if (width > 0)
				put_cut(f, s, room);
			else
				fputs(s, f);
			break;
		}
		fputs(s, f);
		for (size_t pad = cli_text_width(s); pad < widths[c] + 2; pad++)
			fputc(' ', f);
		used += widths[c] + 2;
	}
	fputc('\n', f);
}

void cli_table_print(const struct cli_table *t, FILE *f, int width)
{
	size_t widths[CLI_TABLE_COLS_MAX];

	for (size_t c = 0; c < t->n_cols; c++) {
		widths[c] = cli_text_width(t->headers[c]);
		for (size_t r = 0; r < t->n_rows; r++) {
			size_t w = cli_text_width(t->cells[r * t->n_cols + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	}
	put_row(f, t, t->headers, widths, width);
	for (size_t r = 0; r < t->n_rows; r++)
		put_row(f, t, (const char *const *)&t->cells[r * t->n_cols], widths, width);
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_rows = 0;
}

void cli_kv(FILE *f, const char *key, const char *value)
{
	char label[32];
	char *clean;

	if (!value || !*value)
		return;
	snprintf(label, sizeof(label), "%s:", key);
	clean = cli_clean(value);
	fprintf(f, "%-18s%s\n", label, clean);
	free(clean);
}

bool cli_print_json(const ProtobufCMessage *msg)
{
	char *s = pbjson_dumps(msg);

	if (!s) {
		fputs("cbq: cannot encode the reply as JSON\n", stderr);
		return false;
	}
	puts(s);
	free(s);
	return true;
}
