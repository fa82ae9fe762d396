/*
 * run_fsm.h - a run's life in one place: its states, what moves it from one
 * to another, and what a caller is told about it.  Every status change of a
 * run goes through sv_run_move (the executor's, a cancel's, a deadline's,
 * recovery's), and the API learns a stored run's status through
 * sv_run_lookup, so the table in run_fsm.c is the whole state machine and
 * docs/architecture.md shows it.
 */
#ifndef SV_RUN_FSM_H
#define SV_RUN_FSM_H

#include <stddef.h>

#include "run.h"

/* What happens to a run. */
typedef enum sv_run_input {
    SV_RI_START,   /* a worker begins its first node */
    SV_RI_SUCCEED, /* its last node returned without a next one */
    SV_RI_FAIL,    /* a node failed, its deadline passed, or it cannot be resumed */
    SV_RI_CANCEL,  /* a caller asked it to stop */
    SV_RI_STOPPED, /* it stopped after a cancel (its on_cancel done) */
} sv_run_input;

/* The state the input leads to from `from`: 0, or -EINVAL when the table
 * has no such move (a final state never moves). */
int sv_run_fsm_next(sv_run_status from, sv_run_input in, sv_run_status *to);

/*
 * Move a live run (its lock held): the status, and the times that go with
 * it (started_at with running, finished_at with a final state).  0, or
 * -EINVAL when the move is not in the table (nothing changes).
 */
int sv_run_move(sv_run *r, sv_run_input in);

/* What POST /v1/runs/{id}/cancel answers for a run in state s. */
typedef enum sv_run_cancel_answer {
    SV_CANCEL_DONE,     /* 200 cancelled: it was queued (or cancelled already) */
    SV_CANCEL_STOPPING, /* 202 cancelling: it stops between nodes */
    SV_CANCEL_FINISHED, /* 409 run_finished: it succeeded or failed */
} sv_run_cancel_answer;
sv_run_cancel_answer sv_run_fsm_cancel_answer(sv_run_status s);

/*
 * A stored run's status and workspace, read from its record without parsing
 * it (json_text.h): what the API needs to answer a cancel or check a key's
 * workspaces.  0, -ENOENT, -EIO.
 */
int sv_run_lookup(sv_store *st, const char *run_id, sv_run_status *status, char *workspace,
                  size_t wslen);

#endif
