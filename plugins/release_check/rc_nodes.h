/*
 * rc_nodes.h - the nodes of release_check: start_job -> poll_job (loop) ->
 * finalize -> END, and the cancel hook.  They talk to the host only; the
 * decisions about odd job answers live in rc_logic.
 *
 * Everything a later node needs is kept in the run's state object under the
 * RC_ST_* keys below (the host checkpoints it after every node).
 */
#ifndef RC_NODES_H
#define RC_NODES_H

#include <sofiia/graph.h>

#define RC_NODE_START_JOB "start_job"
#define RC_NODE_POLL_JOB "poll_job"
#define RC_NODE_FINALIZE "finalize"

/* State keys. */
#define RC_ST_JOB_ID "job_id"           /* string, "" never stored */
#define RC_ST_JOB_STATUS "job_status"   /* the job's last status string */
#define RC_ST_STARTED_MS "started_ms"   /* host->now_ms() before start_task */
#define RC_ST_POLLS "polls"             /* get_job calls made */
#define RC_ST_POLL_ERRORS "poll_errors" /* consecutive transient get_job failures */
#define RC_ST_CANCEL_SENT "cancel_sent" /* true once cancel_job was sent */
#define RC_ST_JOB_RESULT "job_result"   /* the finished job's "result", as given */
#define RC_ST_JOB_ERROR "job_error"     /* the finished job's "error", as given */

/* Ask the orchestrator to start the job; finished already -> finalize. */
int rc_node_start_job(sv_ctx *ctx, const sv_host *host, sv_step *step);

/* Ask for the job once; loop on itself with a parked delay until it ends. */
int rc_node_poll_job(sv_ctx *ctx, const sv_host *host, sv_step *step);

/* Turn the finished job into the run's result, or fail with its error. */
int rc_node_finalize(sv_ctx *ctx, const sv_host *host, sv_step *step);

/* Cancel the remote job, once, when the run is cancelled or times out. */
void rc_on_cancel(sv_ctx *ctx, const sv_host *host, int reason);

#endif
