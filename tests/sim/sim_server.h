/* sim_server.h - the simulator's HTTP side: POST /v1/tools/execute answered from
 * the scenario, GET /healthz, and 404 for anything else. */
#ifndef SIM_SERVER_H
#define SIM_SERVER_H

#include "sim_record.h"
#include "sim_scenario.h"

/* Request bodies larger than this are answered 413, as the real router does. */
#define SIM_BODY_LIMIT (1024 * 1024)

struct sim_server_config {
    const struct sim_scenario *scenario; /* must outlive the server */
    const char *api_key;                 /* NULL = no authentication */
    struct sim_record *record;           /* NULL = no recording */
    int listen_fd;                       /* bound and listening; the server owns it */
};

struct sim_server;

/* Start serving on cfg->listen_fd with a thread per connection, so that an answer
 * delayed by its latency never holds up another request. 0 or a negative errno;
 * on failure listen_fd is closed as well. */
int sim_server_start(const struct sim_server_config *cfg, struct sim_server **out);

/* Cut every pending latency short, wait for the connection threads, free the
 * server. Safe on NULL. */
void sim_server_stop(struct sim_server *s);

#endif
