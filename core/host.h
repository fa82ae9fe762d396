/*
 * host.h - the table of host functions every graph gets (sofiia/graph.h's
 * sv_host), backed by the run, the gateway and the settings.
 */
#ifndef SV_HOST_H
#define SV_HOST_H

#include <sofiia/graph.h>

#include "gateway.h"
#include "run.h"

/* What a node call runs with; lives on the worker's stack. */
struct sv_ctx {
    sv_run *run;
    const char *node_name; /* "on_cancel" during cleanup */
    uint32_t seq_slot;     /* index into run->call_seq */
    int cleanup;           /* in on_cancel: tool calls ignore the stop flag */
};

typedef struct sv_host_env {
    sv_gateway *gateway;
    int64_t cancel_grace_ms;
    int64_t run_default_timeout_ms; /* RUN_DEFAULT_TIMEOUT_SEC, for deadline_ms() */
} sv_host_env;

/* Set what the host functions use (once, before any graph is loaded). */
void sv_host_setup(const sv_host_env *env);
/* The template of the tables handed to graphs: the registry gives each
 * loaded version a copy of its own (sv_graph_ent.host), which is the one
 * nodes, prepare_input and init get. */
const sv_host *sv_host_table(void);

#endif
