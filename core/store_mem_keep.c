/*
 * store_mem_keep.c - the embedded store's listing pages and retain (see
 * store.h run_summaries_after, run_retain, run_expiry).  Expiry here is on
 * the store's monotonic clock; what callers get is wall-clock ms, now plus
 * what is left.
 */
#include "store_mem_internal.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The wall-clock time of an expiry on the store's clock: by the offset read
 * when the store was made, so the same expiry always reads the same. */
static int64_t wall_of(const struct mem *m, int64_t expires_ms)
{
    int64_t off = m->wall_offset_ms;
    return off > 0 && expires_ms > INT64_MAX - off ? INT64_MAX : expires_ms + off;
}

/* The newest run older than `after` on runs_ord, or the sentinel.  The run
 * at `after` is usually still there (it was on the previous page): found
 * by id in O(1); else a walk from the newest end. */
static struct sv_link *start_of(struct mem *m, const sv_run_pos *after, int64_t now,
                                struct reap *rp)
{
    if (!after)
        return m->runs_ord.prev;
    struct run *r = sv_mem_run_find(m, after->id, now, rp);
    if (r && r->created_us == after->created_us)
        return r->ord.prev;
    struct sv_link *pos = m->runs_ord.prev;
    while (pos != &m->runs_ord) {
        struct run *o = SV_CONTAINER_OF(pos, struct run, ord);
        if (sv_mem_pos_cmp(o->created_us, o->h.key, after->created_us, after->id) < 0)
            break;
        pos = pos->prev;
    }
    return pos;
}

int sv_mem_run_summaries_after(sv_store *st, const sv_run_pos *after, size_t max,
                               sv_strvec *summaries, sv_run_pos **pos)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    char **v = NULL;
    sv_run_pos *p = NULL;
    size_t n = 0;
    int rc = 0;

    if (!st || !summaries)
        return -EINVAL;
    summaries->v = NULL;
    summaries->n = 0;
    if (pos)
        *pos = NULL;

    int64_t now = sv_mem_enter(m, &rp);
    size_t want = max < m->runs.n ? max : m->runs.n;
    if (want == 0)
        goto out;
    v = malloc(want * sizeof *v);
    p = pos ? malloc(want * sizeof *p) : NULL;
    if (!v || (pos && !p)) {
        rc = -ENOMEM;
        goto out;
    }
    struct sv_link *at = start_of(m, after, now, &rp);
    while (at != &m->runs_ord && n < want) {
        struct run *r = SV_CONTAINER_OF(at, struct run, ord);
        at = at->prev;
        /* Expiry follows the last write, not creation: expired runs can sit
         * anywhere in this order, and this walk is as good a time as any to
         * reclaim them. */
        if (now >= r->expires_ms) {
            sv_mem_run_unlink(m, r, &rp);
            continue;
        }
        v[n] = strdup(r->summary);
        if (!v[n]) {
            rc = -ENOMEM;
            goto out;
        }
        if (p) {
            p[n].created_us = r->created_us;
            snprintf(p[n].id, sizeof p[n].id, "%s", r->h.key);
        }
        n++;
    }
out:
    sv_mem_leave(m, &rp);
    if (rc < 0 || n == 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        free(p);
    } else {
        summaries->v = v;
        summaries->n = n;
        if (pos)
            *pos = p;
    }
    return rc;
}

int sv_mem_run_retain(sv_store *st, const char *run_id, int64_t ttl_sec, int64_t *expires_ms)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    int rc = 0;

    if (!st || !run_id || ttl_sec <= 0)
        return -EINVAL;
    int64_t ttl_ms = ttl_sec > INT64_MAX / 1000 ? INT64_MAX : ttl_sec * 1000;

    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = sv_mem_run_find(m, run_id, now, &rp);
    if (!r) {
        rc = -ENOENT;
        goto out;
    }
    int64_t until = now > INT64_MAX - ttl_ms ? INT64_MAX : now + ttl_ms;
    if (until > r->expires_ms) {
        /* Never shortened: a second, shorter retain changes nothing. */
        r->expires_ms = until;
        sv_mem_keep_insert(m, r);
    }
    if (expires_ms)
        *expires_ms = wall_of(m, r->expires_ms);
out:
    sv_mem_leave(m, &rp);
    return rc;
}

int sv_mem_run_expiry(sv_store *st, const char *run_id, int64_t *expires_ms)
{
    struct mem *m = (struct mem *)st;
    struct reap rp = {0};
    int rc = 0;

    if (!st || !run_id || !expires_ms)
        return -EINVAL;
    int64_t now = sv_mem_enter(m, &rp);
    struct run *r = sv_mem_run_find(m, run_id, now, &rp);
    if (r)
        *expires_ms = wall_of(m, r->expires_ms);
    else
        rc = -ENOENT;
    sv_mem_leave(m, &rp);
    return rc;
}
