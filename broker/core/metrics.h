/*
 * Prometheus metrics: a registry of counter, gauge and histogram families
 * with labels, rendered in the text exposition format 0.0.4 for /metrics.
 * Pure: no I/O, no clock, no globals; the owner (serve.c) holds one
 * registry and hands families to the modules that count. Label values are
 * the caller's business: never put a secret or user data in one.
 *
 * Every size input can grow is bounded: METRICS_MAX_LABELS names per family,
 * METRICS_MAX_SERIES label sets per family (further sets are dropped and
 * counted in cbq_metrics_series_dropped_total), METRICS_MAX_VALUE bytes per
 * label value (longer values are cut).
 */
#ifndef CBQ_CORE_METRICS_H
#define CBQ_CORE_METRICS_H

#include <stddef.h>

enum {
	METRICS_MAX_LABELS = 4,
	METRICS_MAX_SERIES = 2000,
	METRICS_MAX_VALUE = 128,
	METRICS_MAX_BUCKETS = 24,
};

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

struct metrics;
struct metrics_family;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/*
 * Declares a family. name and help must be static strings (they are kept,
 * not copied); name must be a valid metric name and counters must end in
 * _total (both checked with assert: a bad name is a programming error).
 * labels: NULL-terminated names, or NULL for none. buckets (histograms
 * only): ascending upper bounds without +Inf.
 */
struct metrics_family *metrics_family(struct metrics *m, const char *name, const char *help,
				      enum metrics_type type, const char *const *labels,
				      const double *buckets, size_t n_buckets);

/* values: one per label name, in order (NULL when the family has none). */
void metrics_inc(struct metrics_family *f, const char *const *values, double by);
void metrics_set(struct metrics_family *f, const char *const *values, double v);
void metrics_observe(struct metrics_family *f, const char *const *values, double v);
/* Forgets every series (a gauge refreshed from a new snapshot). */
void metrics_clear(struct metrics_family *f);

/* The whole registry as exposition text; malloc'd, *len without the NUL. */
char *metrics_render(const struct metrics *m, size_t *len);

/* Buckets for durations in seconds, 1 ms .. 60 s. */
extern const double metrics_seconds_buckets[];
extern const size_t metrics_n_seconds_buckets;
/* Finer buckets for short delays in seconds, 0.1 ms .. 1 s (event-loop lag,
 * the launch pipeline), dense around the 10–50 ms targets. */
extern const double metrics_fine_seconds_buckets[];
extern const size_t metrics_n_fine_seconds_buckets;

#endif
