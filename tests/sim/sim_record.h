/* sim_record.h - the request log that tests read while the simulator runs: one
 * JSON object per line, appended and flushed as each request arrives. */
#ifndef SIM_RECORD_H
#define SIM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct sim_record;

/* What one record line says about a request. */
struct sim_record_entry {
    int64_t ts_ms; /* arrival, milliseconds since the epoch */
    const char *method;
    const char *path;
    const char *authorization; /* header values; NULL = header absent */
    const char *x_request_id;
    const char *content_type;
    const char *traceparent, *tracestate; /* W3C Trace Context headers */
    json_object *body; /* the parsed body or a stand-in (see sim_server.c); NULL = null */
    long rule;         /* index of the matching rule, -1 for none */
    unsigned int http_status;
    long in_flight; /* tool calls received and not yet answered, this one included */
};

/* Open path for appending; on failure a negative errno. */
int sim_record_open(const char *path, struct sim_record **out);
/* Close the log; safe on NULL. */
void sim_record_close(struct sim_record *r);
/* Append one line and flush it. Thread-safe; safe on a NULL log (no recording). */
int sim_record_write(struct sim_record *r, const struct sim_record_entry *e);

#endif
