/*
 * The AWS INI reader; see ini.h. It follows CPython's RawConfigParser._read
 * line by line (comments, continuation by indentation, empty lines kept in
 * multi-line values, strict duplicates) and botocore's _parse_nested. It
 * does not know profiles, files or the environment: config.c does.
 */
#include "aws/ini.h"

#include "core/alloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* What Python's str.strip() and the \S indent test treat as whitespace,
 * restricted to ASCII (\r and \n never reach here: they end lines). */
static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1f);
}

static void kv_free(struct aws_ini_kv *kv)
{
	cbq_wipe_free(kv->key);
	cbq_wipe_free(kv->value);
	for (size_t i = 0; i < kv->n_sub; i++)
		kv_free(&kv->sub[i]);
	free(kv->sub);
}

static void section_free(struct aws_ini_section *s)
{
	if (!s)
		return;
	free(s->name);
	for (size_t i = 0; i < s->n_kv; i++)
		kv_free(&s->kv[i]);
	free(s->kv);
}

void aws_ini_free(struct aws_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->n_sections; i++)
		section_free(&ini->sections[i]);
	free(ini->sections);
	section_free(ini->defaults);
	free(ini->defaults);
	memset(ini, 0, sizeof(*ini));
}

/* One physical line's contribution to the value being read. */
struct seg {
	const char *p;
	size_t n;
	int line;
};

struct parser {
	const char *name, *field;
	struct cbq_error *err;
	struct aws_ini ini;
	struct aws_ini_section *cur; /* section being filled, or NULL */
	struct aws_ini_kv *opt;	     /* option whose value is being read, or NULL */
	struct seg *segs;
	size_t n_segs, cap_segs, value_len;
};

static enum cbq_err fail(struct parser *ps, enum cbq_err code, int line, const char *what)
{
	return cbq_fail(ps->err, code, ps->field, "%s line %d: %s", ps->name, line, what);
}

static enum cbq_err add_seg(struct parser *ps, const char *p, size_t n, int line)
{
	size_t grown = ps->value_len + (ps->n_segs ? 1 : 0) + n;

	if (grown > AWS_INI_MAX_VALUE)
		return fail(ps, CBQ_ERR_TOO_LARGE, line, "value longer than 8192 bytes");
	if (ps->n_segs == ps->cap_segs) {
		ps->cap_segs = ps->cap_segs ? ps->cap_segs * 2 : 16;
		ps->segs = cbq_xrealloc(ps->segs, ps->cap_segs, sizeof(*ps->segs));
	}
	ps->segs[ps->n_segs++] = (struct seg){ .p = p, .n = n, .line = line };
	ps->value_len = grown;
	return CBQ_OK;
}

/* botocore's _parse_nested: every non-empty line after the first is
 * "name = value", split at the first '='. */
static enum cbq_err parse_nested(struct parser *ps, struct aws_ini_kv *kv)
{
	for (size_t i = 1; i < ps->n_segs; i++) {
		const struct seg *g = &ps->segs[i];
		if (g->n == 0)
			continue;
		const char *eq = memchr(g->p, '=', g->n);
		if (!eq)
			return fail(ps, CBQ_ERR_INVALID, g->line,
				    "a nested value needs \"name = value\" on every indented line");
		const char *k = g->p, *ke = eq, *v = eq + 1, *ve = g->p + g->n;
		while (ke > k && ws(ke[-1]))
			ke--;
		while (v < ve && ws(*v))
			v++;
		if ((size_t)(ke - k) > AWS_INI_MAX_KEY)
			return fail(ps, CBQ_ERR_TOO_LARGE, g->line,
				    "nested name longer than 128 bytes");
		kv->sub = cbq_xrealloc(kv->sub, kv->n_sub + 1, sizeof(*kv->sub));
		kv->sub[kv->n_sub++] = (struct aws_ini_kv){
			.key = cbq_xstrndup(k, (size_t)(ke - k)),
			.value = cbq_xstrndup(v, (size_t)(ve - v)),
			.line = g->line,
		};
	}
	return CBQ_OK;
}

/* Joins the current option's lines ('\n'), strips the end, and parses a
 * value whose first line is empty as nested. */
static enum cbq_err finish_option(struct parser *ps)
{
	struct aws_ini_kv *kv = ps->opt;
	enum cbq_err rc = CBQ_OK;

	if (!kv)
		return CBQ_OK;
	char *v = malloc(ps->value_len + 1);
	if (!v)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < ps->n_segs; i++) {
		if (i)
			v[n++] = '\n';
		memcpy(v + n, ps->segs[i].p, ps->segs[i].n);
		n += ps->segs[i].n;
	}
	while (n > 0 && (ws(v[n - 1]) || v[n - 1] == '\n'))
		n--;
	v[n] = '\0';
	kv->value = v;
	if (v[0] == '\n')
		rc = parse_nested(ps, kv);
	ps->opt = NULL;
	ps->n_segs = 0;
	ps->value_len = 0;
	return rc;
}

static struct aws_ini_section *find_section(struct aws_ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n_sections; i++)
		if (strcmp(ini->sections[i].name, name) == 0)
			return &ini->sections[i];
	return NULL;
}

static enum cbq_err open_section(struct parser *ps, const char *p, size_t n, int line)
{
	if (n > AWS_INI_MAX_SECTION)
		return fail(ps, CBQ_ERR_TOO_LARGE, line, "section name longer than 256 bytes");
	char *name = cbq_xstrndup(p, n);
	if (strcmp(name, "DEFAULT") == 0) {
		free(name);
		if (!ps->ini.defaults) {
			ps->ini.defaults = calloc(1, sizeof(*ps->ini.defaults));
			if (!ps->ini.defaults)
				abort();
			ps->ini.defaults->name = cbq_xstrndup("DEFAULT", 7);
			ps->ini.defaults->line = line;
		}
		ps->cur = ps->ini.defaults;
		return CBQ_OK;
	}
	struct aws_ini_section *dup = find_section(&ps->ini, name);
	if (dup) {
		enum cbq_err rc = cbq_fail(ps->err, CBQ_ERR_INVALID, ps->field,
					   "%s line %d: section [%.64s] already began on line %d",
					   ps->name, line, name, dup->line);
		free(name);
		return rc;
	}
	ps->ini.sections =
		cbq_xrealloc(ps->ini.sections, ps->ini.n_sections + 1, sizeof(*ps->ini.sections));
	ps->cur = &ps->ini.sections[ps->ini.n_sections++];
	*ps->cur = (struct aws_ini_section){ .name = name, .line = line };
	return CBQ_OK;
}

static enum cbq_err open_option(struct parser *ps, const char *s, const char *t, int line)
{
	const char *d = s;

	while (d < t && *d != '=' && *d != ':')
		d++;
	if (d == t)
		return fail(ps, CBQ_ERR_INVALID, line,
			    "expected \"key = value\", a [section] header or a comment");
	const char *ke = d, *v = d + 1;
	while (ke > s && ws(ke[-1]))
		ke--;
	while (v < t && ws(*v))
		v++;
	if (ke == s)
		return fail(ps, CBQ_ERR_INVALID, line, "a key is missing before '=' or ':'");
	if ((size_t)(ke - s) > AWS_INI_MAX_KEY)
		return fail(ps, CBQ_ERR_TOO_LARGE, line, "key longer than 128 bytes");
	char *key = cbq_xstrndup(s, (size_t)(ke - s));
	for (char *c = key; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	struct aws_ini_section *sec = ps->cur;
	for (size_t i = 0; i < sec->n_kv; i++) {
		if (strcmp(sec->kv[i].key, key) == 0) {
			/* The key is not printed: a stray line may be a secret. */
			enum cbq_err rc =
				cbq_fail(ps->err, CBQ_ERR_INVALID, ps->field,
					 "%s line %d: a key of line %d is repeated in [%.64s]",
					 ps->name, line, sec->kv[i].line, sec->name);
			cbq_wipe_free(key);
			return rc;
		}
	}
	sec->kv = cbq_xrealloc(sec->kv, sec->n_kv + 1, sizeof(*sec->kv));
	ps->opt = &sec->kv[sec->n_kv++];
	*ps->opt = (struct aws_ini_kv){ .key = key, .line = line };
	return add_seg(ps, v, (size_t)(t - v), line);
}

static enum cbq_err parse_lines(struct parser *ps, const char *text, size_t len)
{
	size_t pos = 0, indent_level = 0;
	int line = 0;
	enum cbq_err rc;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *b = text + pos, *e = b;
		while (e < text + len && *e != '\n' && *e != '\r')
			e++;
		pos = (size_t)(e - text);
		if (pos < len)
			pos += (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') ? 2 :
											       1;
		if (++line > AWS_INI_MAX_LINES)
			return fail(ps, CBQ_ERR_TOO_LARGE, line, "more than 4096 lines");
		if (memchr(b, '\0', (size_t)(e - b)))
			return fail(ps, CBQ_ERR_INVALID, line, "NUL byte");

		const char *s = b, *t = e;
		while (s < t && ws(*s))
			s++;
		while (t > s && ws(t[-1]))
			t--;
		if (s < t && (*s == '#' || *s == ';'))
			continue; /* whole-line comment, even inside a value */
		if (s == t) {
			/* Empty lines belong to a value being read. */
			if (ps->opt && (rc = add_seg(ps, s, 0, line)))
				return rc;
			continue;
		}
		size_t indent = (size_t)(s - b);
		if (ps->opt && indent > indent_level) {
			if ((rc = add_seg(ps, s, (size_t)(t - s), line)))
				return rc;
			continue;
		}
		indent_level = indent;
		if ((rc = finish_option(ps)))
			return rc;
		if (*s == '[') {
			/* \[(?P<header>.+)\] with .match: the last ']' closes it. */
			const char *r = t;
			while (r > s + 1 && r[-1] != ']')
				r--;
			if (r > s + 2) {
				if ((rc = open_section(ps, s + 1, (size_t)(r - 1 - (s + 1)), line)))
					return rc;
				continue;
			}
		}
		if (!ps->cur)
			return fail(ps, CBQ_ERR_INVALID, line,
				    "a key before the first [section] header");
		if ((rc = open_option(ps, s, t, line)))
			return rc;
	}
	return finish_option(ps);
}

enum cbq_err aws_ini_parse(const char *text, size_t len, const char *name, const char *field,
			   struct aws_ini *out, struct cbq_error *err)
{
	struct parser ps = { .name = name ? name : "file",
			     .field = field ? field : "",
			     .err = err };
	enum cbq_err rc;

	if (len > AWS_INI_MAX_FILE)
		return cbq_fail(err, CBQ_ERR_TOO_LARGE, ps.field,
				"%s is %zu bytes, over the %d limit", ps.name, len,
				AWS_INI_MAX_FILE);
	rc = text ? parse_lines(&ps, text, len) : CBQ_OK;
	free(ps.segs);
	if (rc) {
		aws_ini_free(&ps.ini);
		return rc;
	}
	*out = ps.ini;
	return CBQ_OK;
}

const struct aws_ini_section *aws_ini_section(const struct aws_ini *ini, const char *name)
{
	for (size_t i = 0; i < ini->n_sections; i++)
		if (strcmp(ini->sections[i].name, name) == 0)
			return &ini->sections[i];
	return NULL;
}

static const struct aws_ini_kv *in_section(const struct aws_ini_section *s, const char *key)
{
	for (size_t i = 0; s && i < s->n_kv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return &s->kv[i];
	return NULL;
}

const struct aws_ini_kv *aws_ini_find(const struct aws_ini *ini, const struct aws_ini_section *s,
				      const char *key)
{
	const struct aws_ini_kv *kv;

	if (!s)
		return NULL;
	if ((kv = in_section(s, key)))
		return kv;
	return in_section(ini->defaults, key);
}

const struct aws_ini_kv *aws_ini_sub(const struct aws_ini_kv *kv, const char *name)
{
	for (size_t i = kv->n_sub; i > 0; i--)
		if (strcmp(kv->sub[i - 1].key, name) == 0)
			return &kv->sub[i - 1];
	return NULL;
}
