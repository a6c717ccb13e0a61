/*
 * Metrics registry and text exposition (see metrics.h). Families hold their
 * series in an array searched linearly: families have few series (bounded
 * by METRICS_MAX_SERIES) and are touched at the rate of AWS calls and
 * scheduling cycles, not per byte.
 */
#include "core/metrics.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/err.h" /* CBQ_PRINTF */

const double metrics_seconds_buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					   0.25,  0.5,	  1,	 2.5,  5,     10,   30,	 60 };
const size_t metrics_n_seconds_buckets =
	sizeof(metrics_seconds_buckets) / sizeof(metrics_seconds_buckets[0]);
const double metrics_fine_seconds_buckets[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003,
						0.005,	0.0075,	 0.01,	 0.015, 0.02,  0.03,
						0.05,	0.075,	 0.1,	 0.25,	0.5,   1 };
const size_t metrics_n_fine_seconds_buckets =
	sizeof(metrics_fine_seconds_buckets) / sizeof(metrics_fine_seconds_buckets[0]);

struct series {
	char *values[METRICS_MAX_LABELS];
	double value; /* counter, gauge */
	double sum;   /* histogram */
	uint64_t count;
	uint64_t buckets[METRICS_MAX_BUCKETS]; /* per bucket, not cumulative */
};

struct metrics_family {
	struct metrics *owner;
	const char *name, *help;
	enum metrics_type type;
	const char *labels[METRICS_MAX_LABELS];
	size_t n_labels;
	double bounds[METRICS_MAX_BUCKETS];
	size_t n_bounds;
	struct series *series;
	size_t n, cap;
};

struct metrics {
	struct metrics_family **families;
	size_t n, cap;
	struct metrics_family *dropped;
};

/* Registration checks stay on in release builds: a family declared wrong is
 * a programming error that must not reach /metrics. */
static void must(bool ok)
{
	if (!ok)
		abort();
}

static bool valid_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':')
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

struct metrics *metrics_new(void)
{
	struct metrics *m = cbq_xcalloc(1, sizeof(*m));
	static const char *const family_label[] = { "family", NULL };

	m->dropped = metrics_family(m, "cbq_metrics_series_dropped_total",
				    "Label sets not recorded because a family was full.",
				    METRICS_COUNTER, family_label, NULL, 0);
	return m;
}

static void series_free(struct series *s, size_t n_labels)
{
	for (size_t i = 0; i < n_labels; i++)
		free(s->values[i]);
}

void metrics_clear(struct metrics_family *f)
{
	for (size_t i = 0; i < f->n; i++)
		series_free(&f->series[i], f->n_labels);
	f->n = 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		metrics_clear(m->families[i]);
		free(m->families[i]->series);
		free(m->families[i]);
	}
	free(m->families);
	free(m);
}

struct metrics_family *metrics_family(struct metrics *m, const char *name, const char *help,
				      enum metrics_type type, const char *const *labels,
				      const double *buckets, size_t n_buckets)
{
	struct metrics_family *f = cbq_xcalloc(1, sizeof(*f));

	must(valid_name(name));
	must(type != METRICS_COUNTER || ends_with(name, "_total"));
	must(type == METRICS_HISTOGRAM || n_buckets == 0);
	must(n_buckets <= METRICS_MAX_BUCKETS);
	f->owner = m;
	f->name = name;
	f->help = help;
	f->type = type;
	for (; labels && labels[f->n_labels]; f->n_labels++) {
		must(f->n_labels < METRICS_MAX_LABELS && valid_name(labels[f->n_labels]));
		must(strcmp(labels[f->n_labels], "le") != 0);
		f->labels[f->n_labels] = labels[f->n_labels];
	}
	for (size_t i = 0; i < n_buckets; i++) {
		must(i == 0 || buckets[i] > buckets[i - 1]);
		f->bounds[i] = buckets[i];
	}
	f->n_bounds = n_buckets;
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->families = cbq_xrealloc(m->families, m->cap, sizeof(*m->families));
	}
	m->families[m->n++] = f;
	return f;
}

/* The series for values, created on first use; NULL when the family is full. */
static struct series *series_of(struct metrics_family *f, const char *const *values)
{
	struct series *s;

	for (size_t i = 0; i < f->n; i++) {
		size_t k = 0;
		while (k < f->n_labels &&
		       strncmp(f->series[i].values[k], values[k] ? values[k] : "",
			       METRICS_MAX_VALUE) == 0)
			k++;
		if (k == f->n_labels)
			return &f->series[i];
	}
	if (f->n == METRICS_MAX_SERIES) {
		if (f != f->owner->dropped)
			metrics_inc(f->owner->dropped, (const char *const[]){ f->name }, 1);
		return NULL;
	}
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 8;
		f->series = cbq_xrealloc(f->series, f->cap, sizeof(*f->series));
	}
	s = &f->series[f->n++];
	memset(s, 0, sizeof(*s));
	for (size_t k = 0; k < f->n_labels; k++)
		s->values[k] = cbq_xstrndup(values[k] ? values[k] : "", METRICS_MAX_VALUE);
	return s;
}

void metrics_inc(struct metrics_family *f, const char *const *values, double by)
{
	struct series *s;

	assert(f->type == METRICS_COUNTER && by >= 0);
	if ((s = series_of(f, values)))
		s->value += by;
}

void metrics_set(struct metrics_family *f, const char *const *values, double v)
{
	struct series *s;

	assert(f->type == METRICS_GAUGE);
	if ((s = series_of(f, values)))
		s->value = v;
}

void metrics_observe(struct metrics_family *f, const char *const *values, double v)
{
	struct series *s;
	size_t b = 0;

	assert(f->type == METRICS_HISTOGRAM);
	if (!(s = series_of(f, values)) || isnan(v))
		return;
	while (b < f->n_bounds && v > f->bounds[b])
		b++;
	if (b < f->n_bounds)
		s->buckets[b]++;
	s->sum += v;
	s->count++;
}

/* ---- rendering ------------------------------------------------------------ */

struct out {
	char *data;
	size_t len, cap;
};

static void put(struct out *o, const char *fmt, ...) CBQ_PRINTF(2, 3);
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->data + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		assert(n >= 0);
		if ((size_t)n < o->cap - o->len)
			break;
		o->cap = 2 * o->cap + (size_t)n;
		o->data = cbq_xrealloc(o->data, o->cap, 1);
	}
	o->len += (size_t)n;
}

/* text with \ and newline escaped, and " too inside label values */
static void put_escaped(struct out *o, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else if (*s == '\n')
			put(o, "\\n");
		else if (*s == '"' && quote)
			put(o, "\\\"");
		else
			put(o, "%c", *s);
	}
}

static void put_number(struct out *o, double v)
{
	if (isnan(v))
		put(o, "NaN");
	else if (isinf(v))
		put(o, v > 0 ? "+Inf" : "-Inf");
	else
		put(o, "%.17g", v);
}

/* {a="x",b="y"} plus an le label when le is not NULL; nothing when empty */
static void put_labels(struct out *o, const struct metrics_family *f, const struct series *s,
		       const char *le)
{
	if (f->n_labels == 0 && !le)
		return;
	put(o, "{");
	for (size_t k = 0; k < f->n_labels; k++) {
		put(o, "%s%s=\"", k ? "," : "", f->labels[k]);
		put_escaped(o, s->values[k], true);
		put(o, "\"");
	}
	if (le)
		put(o, "%sle=\"%s\"", f->n_labels ? "," : "", le);
	put(o, "}");
}

static void put_histogram(struct out *o, const struct metrics_family *f, const struct series *s)
{
	uint64_t cumulative = 0;
	char le[32];

	for (size_t b = 0; b < f->n_bounds; b++) {
		cumulative += s->buckets[b];
		snprintf(le, sizeof(le), "%.17g", f->bounds[b]);
		put(o, "%s_bucket", f->name);
		put_labels(o, f, s, le);
		put(o, " %llu\n", (unsigned long long)cumulative);
	}
	put(o, "%s_bucket", f->name);
	put_labels(o, f, s, "+Inf");
	put(o, " %llu\n%s_sum", (unsigned long long)s->count, f->name);
	put_labels(o, f, s, NULL);
	put(o, " ");
	put_number(o, s->sum);
	put(o, "\n%s_count", f->name);
	put_labels(o, f, s, NULL);
	put(o, " %llu\n", (unsigned long long)s->count);
}

char *metrics_render(const struct metrics *m, size_t *len)
{
	static const char *const type_name[] = { "counter", "gauge", "histogram" };
	struct out o = { .cap = 4096 };

	o.data = cbq_xmalloc(o.cap);
	o.data[0] = '\0';
	for (size_t i = 0; i < m->n; i++) {
		const struct metrics_family *f = m->families[i];

		put(&o, "# HELP %s ", f->name);
		put_escaped(&o, f->help, false);
		put(&o, "\n# TYPE %s %s\n", f->name, type_name[f->type]);
		for (size_t k = 0; k < f->n; k++) {
			if (f->type == METRICS_HISTOGRAM) {
				put_histogram(&o, f, &f->series[k]);
				continue;
			}
			put(&o, "%s", f->name);
			put_labels(&o, f, &f->series[k], NULL);
			put(&o, " ");
			put_number(&o, f->series[k].value);
			put(&o, "\n");
		}
	}
	*len = o.len;
	return o.data;
}
