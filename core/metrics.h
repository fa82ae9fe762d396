/*
 * metrics.h - GET /metrics: the daemon's counters and gauges in the
 * Prometheus text format (docs/operations.md, "Metrics").  Everything is
 * read on demand from the parts that keep it; nothing is kept here.
 */
#ifndef SV_METRICS_H
#define SV_METRICS_H

#include "executor.h"
#include "gateway.h"
#include "registry.h"
#include "store.h"
#include "watch.h"

typedef struct sv_metrics_src {
    const char *version;
    sv_store *store;
    sv_exec *exec;
    sv_gateway *gw;
    sv_registry *reg;
    sv_watch *watch;
    long runs_limit;       /* MAX_RUNS_ACTIVE */
    uint64_t runs_refused; /* starts answered 429 */
    size_t streams;        /* event streams open now */
} sv_metrics_src;

/* The exposition text (malloc'd) into *out; 0 or -ENOMEM. */
int sv_metrics_render(const sv_metrics_src *src, char **out);

#endif
