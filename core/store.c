/* store.c - what every store backend shares. */
#include "store.h"

#include <stdatomic.h>
#include <stdlib.h>

/* Process-wide, as there is one store per daemon. */
static atomic_uint_fast64_t g_errors[SV_STORE_ERR_KINDS];

void sv_store_error_count(sv_store_err_kind kind)
{
    if ((unsigned)kind < SV_STORE_ERR_KINDS)
        atomic_fetch_add_explicit(&g_errors[kind], 1, memory_order_relaxed);
}

uint64_t sv_store_errors(sv_store_err_kind kind)
{
    return (unsigned)kind < SV_STORE_ERR_KINDS
               ? atomic_load_explicit(&g_errors[kind], memory_order_relaxed)
               : 0;
}

const char *sv_store_error_name(sv_store_err_kind kind)
{
    static const char *const names[] = {"unavailable", "error_reply", "full"};
    return (unsigned)kind < SV_STORE_ERR_KINDS ? names[kind] : "?";
}

void sv_strvec_free(sv_strvec *sv)
{
    if (!sv)
        return;
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    /* Leave it empty rather than dangling, so a second free is harmless. */
    sv->v = NULL;
    sv->n = 0;
}

int sv_store_step(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                  size_t cap, const char *json, const char *summary, uint64_t epoch, int *cancelled)
{
    int rc = 0;
    if (st->ops->run_step)
        return st->ops->run_step(st, run_id, events, n_events, cap, json, summary, epoch, 0,
                                 cancelled);
    /* In memory each of these is a lock and a copy: nothing to save by
     * putting them together. */
    for (size_t i = 0; i < n_events && rc == 0; i++)
        rc = st->ops->event_append(st, run_id, events[i], cap);
    if (rc == 0 && json)
        rc = st->ops->run_put(st, run_id, json, summary, cancelled);
    else if (rc == 0 && cancelled)
        rc = st->ops->cancel_get(st, run_id, cancelled);
    return rc;
}

int sv_store_step_post(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                       size_t cap, const char *json, const char *summary, uint64_t epoch)
{
    if (st->ops->run_step_post)
        return st->ops->run_step_post(st, run_id, events, n_events, cap, json, summary, epoch, 0);
    return sv_store_step(st, run_id, events, n_events, cap, json, summary, epoch, NULL);
}

int sv_store_step_seq(sv_store *st, const char *run_id, const char *const *events, size_t n_events,
                      size_t cap, const char *json, const char *summary, uint64_t epoch,
                      uint64_t first_seq, int *cancelled)
{
    if (st->ops->run_step)
        return st->ops->run_step(st, run_id, events, n_events, cap, json, summary, epoch, first_seq,
                                 cancelled);
    return sv_store_step(st, run_id, events, n_events, cap, json, summary, epoch, cancelled);
}

int sv_store_step_post_seq(sv_store *st, const char *run_id, const char *const *events,
                           size_t n_events, size_t cap, const char *json, const char *summary,
                           uint64_t epoch, uint64_t first_seq)
{
    if (st->ops->run_step_post)
        return st->ops->run_step_post(st, run_id, events, n_events, cap, json, summary, epoch,
                                      first_seq);
    return sv_store_step(st, run_id, events, n_events, cap, json, summary, epoch, NULL);
}
