/* Case-table reading for the inventory and launch-plan tests; see test_inv_tsv.h. */
#include "test_inv_tsv.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/duration.h"

void tsv_open(struct tsv *t, const char *name)
{
	char path[1024];
	const char *dir = getenv("CBQ_TESTDATA");

	cr_assert(dir, "CBQ_TESTDATA is not set (run through ctest)");
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	t->f = fopen(path, "r");
	cr_assert(t->f, "cannot open %s", path);
}

bool tsv_next(struct tsv *t)
{
	while (fgets(t->line, sizeof(t->line), t->f)) {
		t->lineno++;
		cr_assert(strchr(t->line, '\n') || feof(t->f), "%s: line too long", tsv_where(t));
		t->line[strcspn(t->line, "\r\n")] = '\0';
		if (t->line[0] == '#' || t->line[0] == '\0')
			continue;
		t->n = 0;
		for (char *p = t->line;;) {
			cr_assert(t->n < TSV_FIELDS_MAX, "%s: too many fields", tsv_where(t));
			t->field[t->n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = '\0';
		}
		return true;
	}
	return false;
}

void tsv_close(struct tsv *t)
{
	if (t->f)
		fclose(t->f);
	t->f = NULL;
}

char *tsv_at(struct tsv *t, size_t i)
{
	cr_assert(i < t->n, "%s: %zu fields, field %zu wanted", tsv_where(t), t->n, i + 1);
	return t->field[i];
}

cbq_ms tsv_time(const char *s)
{
	long long days = 0;
	int h = 0, m = 0;
	char tail = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	if (sscanf(s, "%lldd%d:%d%c", &days, &h, &m, &tail) == 3)
		return TSV_T0_MS + (cbq_ms)days * 86400000 + (cbq_ms)h * 3600000 +
		       (cbq_ms)m * 60000;
	char *end;
	long long ms = strtoll(s, &end, 10);
	cr_assert(*s && *end == '\0', "bad time \"%s\"", s);
	return ms;
}

cbq_ms tsv_span(const char *s)
{
	int64_t secs = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	cr_assert_eq(cbq_duration_parse(s, &secs, NULL), CBQ_OK, "bad span \"%s\"", s);
	return secs * 1000;
}

size_t tsv_split(char *s, char sep, char **out, size_t max)
{
	size_t n = 0;

	if (!s[0] || strcmp(s, "-") == 0)
		return 0;
	for (char *p = s;;) {
		cr_assert(n < max, "more than %zu items in \"%s\"", max, s);
		out[n++] = p;
		p = strchr(p, sep);
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

const char *tsv_where(const struct tsv *t)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "%s:%d", t->name, t->lineno);
	return buf;
}
