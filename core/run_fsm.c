/* run_fsm.c - see run_fsm.h. */
#include "run_fsm.h"
#include "json_text.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * The whole state machine.  queued and running are live; succeeded, failed
 * and cancelled are final and never move.  A cancel of a running run does
 * not change its status: it asks the run to stop, and the run moves to
 * cancelled when it has (SV_RI_STOPPED), after its graph's on_cancel.
 */
static const struct {
    sv_run_status from;
    sv_run_input in;
    sv_run_status to;
} g_moves[] = {
    {SV_RUN_QUEUED, SV_RI_START, SV_RUN_RUNNING},
    {SV_RUN_QUEUED, SV_RI_FAIL, SV_RUN_FAILED},      /* deadline while queued */
    {SV_RUN_QUEUED, SV_RI_CANCEL, SV_RUN_CANCELLED}, /* no node ran: at once */
    {SV_RUN_RUNNING, SV_RI_SUCCEED, SV_RUN_SUCCEEDED},
    {SV_RUN_RUNNING, SV_RI_FAIL, SV_RUN_FAILED},
    {SV_RUN_RUNNING, SV_RI_CANCEL, SV_RUN_RUNNING}, /* asked to stop */
    {SV_RUN_RUNNING, SV_RI_STOPPED, SV_RUN_CANCELLED},
};

int sv_run_fsm_next(sv_run_status from, sv_run_input in, sv_run_status *to)
{
    for (size_t i = 0; i < sizeof g_moves / sizeof g_moves[0]; i++) {
        if (g_moves[i].from == from && g_moves[i].in == in) {
            *to = g_moves[i].to;
            return 0;
        }
    }
    return -EINVAL;
}

int sv_run_move(sv_run *r, sv_run_input in)
{
    sv_run_status to;
    int rc = sv_run_fsm_next(r->status, in, &to);
    if (rc < 0)
        return rc;
    if (to == SV_RUN_RUNNING && r->status == SV_RUN_QUEUED)
        r->started_us = sv_now_us();
    if (sv_run_status_final(to)) {
        r->finished_us = sv_now_us();
        r->where = SV_WHERE_DONE;
    }
    r->status = to;
    return 0;
}

sv_run_cancel_answer sv_run_fsm_cancel_answer(sv_run_status s)
{
    if (s == SV_RUN_QUEUED || s == SV_RUN_CANCELLED)
        return SV_CANCEL_DONE;
    if (s == SV_RUN_RUNNING)
        return SV_CANCEL_STOPPING;
    return SV_CANCEL_FINISHED;
}

int sv_run_lookup(sv_store *st, const char *run_id, sv_run_status *status, char *workspace,
                  size_t wslen)
{
    char *text = NULL, word[16];
    int rc = st->ops->run_get(st, run_id, &text);
    if (rc < 0)
        return rc;
    size_t len = strlen(text);
    int s = -1;
    if (sv_json_text_str(text, len, "status", word, sizeof word) == 0)
        s = sv_run_status_parse(word);
    if (s < 0 || sv_json_text_str(text, len, "workspace_id", workspace, wslen) < 0)
        rc = -EIO;
    else
        *status = (sv_run_status)s;
    free(text);
    return rc;
}
