/*
 * metrics_hist.h - labelled metric families for /metrics: histograms and
 * counters keyed by a tuple of label values (docs/operations.md, "Metrics").
 *
 * Recording is on the executor's hot path (thousands of nodes a second), so
 * a series is found without a lock (an open-addressed table of atomic
 * pointers, series never freed while the process lives) and counted with
 * relaxed atomic adds; the family's mutex is taken only to create a series.
 *
 * Label values come from plugins, so each family holds at most
 * SV_MFAM_MAX_SERIES series: past that, and for a value that is longer than
 * SV_MFAM_MAX_VALUE bytes or not valid UTF-8, the observation is counted in
 * one series whose every label is SV_MFAM_OVERFLOW.
 *
 * The families are process-wide (like the HTTP connection count): there is
 * one executor, one gateway and one store per daemon.
 */
#ifndef SV_METRICS_HIST_H
#define SV_METRICS_HIST_H

#include <stddef.h>
#include <stdint.h>

#define SV_MFAM_MAX_SERIES 500
#define SV_MFAM_MAX_LABELS 3
#define SV_MFAM_MAX_VALUE 128
#define SV_MFAM_OVERFLOW "_overflow"

typedef struct sv_mfam sv_mfam;

/* sofiia_run_duration_seconds{graph,status}: creation to end of a run. */
extern sv_mfam sv_mfam_run_duration;
/* sofiia_node_duration_seconds{graph,node}: one node function's call. */
extern sv_mfam sv_mfam_node_duration;
/* sofiia_tool_call_duration_seconds{tool,action,outcome}: one logical call,
 * its retries and backoff included. */
extern sv_mfam sv_mfam_tool_call_duration;
/* sofiia_tool_call_retries_total{tool,action}: attempts after the first. */
extern sv_mfam sv_mfam_tool_call_retries;

/* Count one observation of us microseconds (histograms). labels has as many
 * values as the family has labels. */
void sv_mfam_observe(sv_mfam *f, const char *const *labels, int64_t us);
/* Add n (counters). */
void sv_mfam_add(sv_mfam *f, const char *const *labels, uint64_t n);

/* Growing text for the exposition; failed is set when memory ran out. */
typedef struct sv_mtext {
    char *p;
    size_t n, cap;
    int failed;
} sv_mtext;
void sv_mtext_put(sv_mtext *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A label value escaped as the exposition format wants (\\, \", \n). */
void sv_mtext_value(sv_mtext *t, const char *v);

/* HELP, TYPE and every series of the family. */
void sv_mfam_render(sv_mfam *f, sv_mtext *t);

/* The count and sum (us) of one histogram series, or of one counter series
 * (count only); 0 when the series does not exist.  For tests. */
uint64_t sv_mfam_count(sv_mfam *f, const char *const *labels, uint64_t *sum_us);

/* Free every family's series (tests; the daemon's exit). */
void sv_mfam_reset_all(void);

#endif
