/*
 * api.h - the HTTP API of docs/api.md (CONTRACT §2): routes, validation of
 * start requests, run views, listing and cancel.
 */
#ifndef SV_API_H
#define SV_API_H

#include <stdatomic.h>

#include "config.h"
#include "executor.h"
#include "gateway.h"
#include "http.h"
#include "registry.h"
#include "store.h"
#include "watch.h"

typedef struct sv_api {
    const sv_config *cfg;
    sv_store *store;
    sv_registry *reg;
    sv_exec *exec;
    const sv_host *host;
    sv_watch *watch;            /* requests waiting on runs (?wait=) */
    sv_gateway *gw;             /* for /metrics */
    atomic_int stopping;        /* shutting down: no new runs, no new waits */
    atomic_long admitting;      /* starts admitted and not yet submitted (MAX_RUNS_ACTIVE) */
    atomic_ullong runs_refused; /* starts answered 429 too_many_runs */
    atomic_int streams;         /* event streams open now (sse.c), for /metrics */
} sv_api;

/* The sv_http_handler: app is an sv_api. */
void sv_api_handle(void *app, const sv_req *req, sv_resp *resp);
/* The handler of the METRICS_LISTEN listener: GET /metrics and /healthz
 * only (405 for other methods there), 404 for every other path. */
void sv_api_handle_metrics(void *app, const sv_req *req, sv_resp *resp);

/* Check a caller id (workspace_id, user_id, agent_id): 1-128 chars of
 * [A-Za-z0-9_.:-].  Exposed for tests. */
int sv_api_valid_id(const char *s);

#endif
