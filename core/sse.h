/*
 * sse.h - event streams (docs/api.md, "Event streams"): a run's events as
 * Server-Sent Events or as JSON pages (sse.c), and every run's start and end
 * for dashboards (sse_runs.c).  Streams hold no thread while they wait: they
 * are sv_streams (http.h) parked on the watch (watch.h).
 */
#ifndef SV_SSE_H
#define SV_SSE_H

#include "api.h"

/* GET /v1/runs/{id}/events: SSE with Accept: text/event-stream, else a
 * JSON page. */
void sv_sse_run_events(sv_api *api, const sv_req *req, const char *id, sv_resp *resp);

/* GET /v1/events: SSE of runs' starts, status changes and ends. */
void sv_sse_runs(sv_api *api, const sv_req *req, sv_resp *resp);

/* Does the request ask for Server-Sent Events (Accept: text/event-stream)? */
int sv_sse_wanted(const sv_req *req);

/* Write one SSE event: "id:" when id >= 0, "event:" when type, then data
 * (its lines as "data:" lines) and the blank line.  0 or -ENOMEM. */
int sv_sse_write_event(sv_stream *s, int64_t id, const char *type, const char *data);

/* The stream's callback for the watch: wakes s, closing it on a hang-up. */
void sv_sse_woke(void *stream, int why);

#endif
