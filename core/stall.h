/*
 * stall.h - nodes that hold up a stop.  A cancel, a run's deadline or the
 * daemon's stop asks a run to stop, and a node in a tool call, or one that
 * asks the host whether it was cancelled, ends soon after.  Plugin code that
 * sleeps or loops without calling the host cannot be interrupted: it runs on
 * the daemon's own thread.  Such a node is named in the log (run, graph,
 * node, how long) once it has held its stop up for SV_STALL_MS, and counted
 * in /metrics until it returns.
 *
 * The executor marks each node's execution on its run (begin/end: two
 * atomic stores) and says when it asks a run to stop; a thread of its own
 * looks at the runs it was told of, every SV_STALL_TICK_MS.
 */
#ifndef SV_STALL_H
#define SV_STALL_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

#define SV_STALL_MS 1000
#define SV_STALL_TICK_MS 200

/* Start / stop the looking thread (main.c); without it the hooks below only
 * mark the run.  Stop after the executor's threads are joined: it drops its
 * references to the runs it watched. */
int sv_stall_start(void);
void sv_stall_stop(void);

/* The executor, around node->run: node number idx of r's graph begins on
 * this thread / has returned. */
void sv_stall_node_begin(sv_run *r, uint32_t idx);
void sv_stall_node_end(sv_run *r);

/* The executor asked r to stop (why: SV_STOP_USER, _TIMEOUT, _SHUTDOWN),
 * with r->lock held: if a node is executing, it is watched until it
 * returns. */
void sv_stall_stop_asked(sv_run *r, int why);

/* Nodes holding up a stop now (for longer than SV_STALL_MS), and how many
 * did since start. */
void sv_stall_counts(size_t *now, uint64_t *total);

#endif
