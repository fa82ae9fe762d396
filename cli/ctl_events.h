/*
 * ctl_events.h - `sofiia-ctl events RUN [--follow] [--since N]`: a run's
 * events as JSON lines, from the JSON pages of GET /v1/runs/{id}/events, or
 * live from its Server-Sent Events (docs/cli.md).
 */
#ifndef SV_CTL_EVENTS_H
#define SV_CTL_EVENTS_H

#include "ctl_http.h"

/* argv: the command's arguments (after "events"); the exit status
 * (sofiia-ctl's: 0, 1 a followed run failed or was cancelled, 2, 3, 4). */
int sv_ctl_events(const sv_ctl *c, int argc, char **argv);

#endif
