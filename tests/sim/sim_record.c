/* sim_record.c - append-only JSON-lines log of the requests received. */
#include "sim_record.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_json.h"

struct sim_record {
    pthread_mutex_t lock; /* one line at a time, never interleaved */
    FILE *f;
};

int sim_record_open(const char *path, struct sim_record **out)
{
    struct sim_record *r = NULL;
    int rc = 0;

    *out = NULL;
    r = calloc(1, sizeof(*r));
    if (!r) {
        rc = -ENOMEM;
        goto out;
    }
    /* Append, so a test can point several simulators or restarts at one log. */
    r->f = fopen(path, "a");
    if (!r->f) {
        rc = -errno;
        free(r);
        goto out;
    }
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
out:
    return rc;
}

void sim_record_close(struct sim_record *r)
{
    if (!r)
        return;
    fclose(r->f);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

/* A header value as JSON: a UTF-8 safe string, or null when absent. */
static json_object *sim_record_header(const char *v)
{
    return v ? sim_json_string_utf8(v, strlen(v)) : NULL;
}

int sim_record_write(struct sim_record *r, const struct sim_record_entry *e)
{
    json_object *line = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = 0;

    if (!r)
        goto out;
    line = json_object_new_object();
    if (!line) {
        rc = -ENOMEM;
        goto out;
    }
    json_object_object_add(line, "ts_ms", json_object_new_int64(e->ts_ms));
    json_object_object_add(line, "in_flight", json_object_new_int64(e->in_flight));
    json_object_object_add(line, "method", sim_record_header(e->method));
    json_object_object_add(line, "path", sim_record_header(e->path));
    json_object_object_add(line, "authorization", sim_record_header(e->authorization));
    json_object_object_add(line, "x_request_id", sim_record_header(e->x_request_id));
    json_object_object_add(line, "content_type", sim_record_header(e->content_type));
    json_object_object_add(line, "traceparent", sim_record_header(e->traceparent));
    json_object_object_add(line, "tracestate", sim_record_header(e->tracestate));
    /* The body belongs to the caller's request; the line takes its own reference. */
    json_object_object_add(line, "body", json_object_get(e->body));
    json_object_object_add(line, "rule", json_object_new_int64(e->rule));
    json_object_object_add(line, "http_status", json_object_new_int((int)e->http_status));
    text = sim_json_dump(line, &len);
    if (!text) {
        rc = -ENOMEM;
        goto out;
    }
    pthread_mutex_lock(&r->lock);
    /* Flushed at once: tests read the file while requests are still being served. */
    if (fwrite(text, 1, len, r->f) != len || fputc('\n', r->f) == EOF || fflush(r->f) != 0)
        rc = -EIO;
    pthread_mutex_unlock(&r->lock);
out:
    free(text);
    json_object_put(line);
    return rc;
}
