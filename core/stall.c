/* stall.c - see stall.h. */
#include "stall.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct watched {
    struct watched *next;
    sv_run *r;        /* a reference of ours */
    int64_t t0_ms;    /* the node's start: another start is another node */
    int64_t asked_ms; /* when the stop was asked */
    int why;
    int reported;
    char graph[64], node[64];
} watched;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    watched *list;
    int running, stopping;
    pthread_t thread;
    size_t blocking;
    uint64_t total;
} g_stall = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *why_name(int why)
{
    return why == SV_STOP_TIMEOUT ? "deadline" : why == SV_STOP_SHUTDOWN ? "shutdown" : "cancel";
}

static void say(const watched *x, const char *msg, enum sv_level level, int64_t now)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "run_id", json_object_new_string(x->r->id));
    json_object_object_add(f, "trace_id", json_object_new_string(x->r->trace_id));
    json_object_object_add(f, "graph", json_object_new_string(x->graph));
    json_object_object_add(f, "node", json_object_new_string(x->node));
    json_object_object_add(f, "stop", json_object_new_string(why_name(x->why)));
    json_object_object_add(f, "waited_ms", json_object_new_int64(now - x->asked_ms));
    json_object_object_add(f, "node_ms", json_object_new_int64(now - x->t0_ms));
    sv_log(level, msg, f);
}

/* One look at every watched run (lock held); those whose node has
 * returned move onto *done. */
static void look(int64_t now, watched **done)
{
    for (watched **pp = &g_stall.list; *pp;) {
        watched *x = *pp;
        int still =
            atomic_load(&x->r->node_running) != 0 && atomic_load(&x->r->node_t0_ms) == x->t0_ms;
        if (!still) {
            *pp = x->next;
            x->next = *done;
            *done = x;
            if (x->reported) {
                g_stall.blocking--;
                say(x, "the node holding up a stop has returned", SV_LEVEL_INFO, now);
            }
            continue;
        }
        if (!x->reported && now - x->asked_ms >= SV_STALL_MS) {
            x->reported = 1;
            g_stall.blocking++;
            g_stall.total++;
            say(x,
                "a stop waits on a node that does not return (plugin code that neither calls "
                "the host nor checks for a cancel): the run ends when it does",
                SV_LEVEL_WARN, now);
        }
        pp = &x->next;
    }
}

static void drop(watched *list)
{
    while (list) {
        watched *x = list;
        list = x->next;
        sv_run_unref(x->r);
        free(x);
    }
}

static void *stall_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_stall.lock);
    while (!g_stall.stopping) {
        sv_cond_wait_until(&g_stall.cond, &g_stall.lock, sv_mono_ms() + SV_STALL_TICK_MS);
        watched *done = NULL;
        look(sv_mono_ms(), &done);
        /* A last reference may unload a graph: not under the lock. */
        pthread_mutex_unlock(&g_stall.lock);
        drop(done);
        pthread_mutex_lock(&g_stall.lock);
    }
    pthread_mutex_unlock(&g_stall.lock);
    return NULL;
}

int sv_stall_start(void)
{
    int rc = sv_cond_init_mono(&g_stall.cond);
    if (rc < 0)
        return rc;
    g_stall.stopping = 0;
    rc = -pthread_create(&g_stall.thread, NULL, stall_main, NULL);
    if (rc < 0) {
        pthread_cond_destroy(&g_stall.cond);
        return rc;
    }
    pthread_mutex_lock(&g_stall.lock);
    g_stall.running = 1;
    pthread_mutex_unlock(&g_stall.lock);
    return 0;
}

void sv_stall_stop(void)
{
    pthread_mutex_lock(&g_stall.lock);
    int was = g_stall.running;
    g_stall.running = 0;
    g_stall.stopping = 1;
    pthread_cond_signal(&g_stall.cond);
    pthread_mutex_unlock(&g_stall.lock);
    if (!was)
        return;
    pthread_join(g_stall.thread, NULL);
    /* The executor's threads are joined: every node has returned. */
    pthread_mutex_lock(&g_stall.lock);
    watched *done = g_stall.list;
    g_stall.list = NULL;
    g_stall.blocking = 0;
    pthread_mutex_unlock(&g_stall.lock);
    drop(done);
    pthread_cond_destroy(&g_stall.cond);
}

void sv_stall_node_begin(sv_run *r, uint32_t idx)
{
    atomic_store(&r->node_t0_ms, sv_mono_ms());
    atomic_store(&r->node_running, idx + 1);
}

void sv_stall_node_end(sv_run *r)
{
    atomic_store(&r->node_running, 0);
}

void sv_stall_stop_asked(sv_run *r, int why)
{
    unsigned idx = atomic_load(&r->node_running);
    /* Not in a node: the run sees the stop before its next one begins.
     * Its status is not final (the caller holds its lock), so its graph
     * is pinned and the names can be read. */
    if (idx == 0 || sv_run_status_final(r->status) || idx > r->graph->desc->n_nodes)
        return;
    pthread_mutex_lock(&g_stall.lock);
    int skip = !g_stall.running;
    for (watched *x = g_stall.list; x && !skip; x = x->next)
        skip = x->r == r; /* asked twice (a cancel, then the deadline) */
    watched *x = skip ? NULL : calloc(1, sizeof *x);
    if (x) {
        sv_run_ref(r);
        x->r = r;
        x->t0_ms = atomic_load(&r->node_t0_ms);
        x->asked_ms = sv_mono_ms();
        x->why = why;
        snprintf(x->graph, sizeof x->graph, "%s", r->graph->desc->name);
        snprintf(x->node, sizeof x->node, "%s", r->graph->desc->nodes[idx - 1].name);
        x->next = g_stall.list;
        g_stall.list = x;
    }
    pthread_mutex_unlock(&g_stall.lock);
}

void sv_stall_counts(size_t *now, uint64_t *total)
{
    pthread_mutex_lock(&g_stall.lock);
    *now = g_stall.blocking;
    *total = g_stall.total;
    pthread_mutex_unlock(&g_stall.lock);
}
