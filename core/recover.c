/*
 * recover.c - heartbeats and taking over the runs of dead instances.
 *
 * Every node_ttl/5 this instance refreshes its heartbeat (node_ttl long) and
 * asks the store for known nodes whose heartbeat lapsed.  For each, it moves
 * the dead node's runs to its own owned set one at a time; the move is
 * atomic in the store, so when several instances look at once each run is
 * resumed by exactly one.  A dead node with no runs left is forgotten.
 *
 * At start-up the same pass also resumes the runs this node id still owns:
 * they belong to a previous life of this instance (SUPERVISOR_NODE_ID set
 * to a stable name), which is how a restarted daemon picks its runs up at
 * once instead of after node_ttl.
 *
 * A run resumes at the node of its last checkpoint, with the state and call
 * counters saved there: the node that was in flight runs again, and its
 * tool calls get the same call_ids, so the router can tell a repeat.
 */
#include "recover.h"
#include "crash.h"
#include "log.h"
#include "run.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sv_recover {
    sv_recover_cfg cfg;
    char node_id[65];
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int stopping;
    atomic_int quiet; /* beat only */
};

static void log_resume(const char *run_id, const char *trace_id, const char *from,
                       const char *graph, const char *node)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "run_id", json_object_new_string(run_id));
    json_object_object_add(f, "trace_id", json_object_new_string(trace_id));
    json_object_object_add(f, "from_node_id", json_object_new_string(from));
    json_object_object_add(f, "graph", json_object_new_string(graph));
    json_object_object_add(f, "node", json_object_new_string(node));
    sv_log(SV_LEVEL_INFO, "run resumed", f);
}

/* End a run that cannot be resumed here, and say why in the run itself. */
static void give_up_code(sv_recover *rv, const char *run_id, json_object *rec, const char *code,
                         const char *why)
{
    sv_logf(SV_LEVEL_WARN, "run %s cannot be resumed: %s", run_id, why);
    sv_run_fail_record(rv->cfg.store, rec, code, why);
    rv->cfg.store->ops->owned_del(rv->cfg.store, rv->node_id, run_id);
}

static void give_up(sv_recover *rv, const char *run_id, json_object *rec, const char *why)
{
    give_up_code(rv, run_id, rec, "resume_failed", why);
}

/* Resume one run now in our owned set; returns 1 when it was resumed. */
static int resume(sv_recover *rv, const char *run_id, const char *from)
{
    sv_store *st = rv->cfg.store;
    char *text = NULL, why[320];
    json_object *rec = NULL;
    sv_graph_ent *e = NULL;
    sv_run *r = NULL;
    int resumed = 0;
    /* A run an older daemon wrote is moved to this key layout first: its
     * writes from now on go to the new keys (store.h run_upgrade). */
    int rc = st->ops->run_upgrade ? st->ops->run_upgrade(st, run_id) : 0;
    if (rc == 0 || rc == -ENOENT)
        rc = st->ops->run_get(st, run_id, &text);
    if (rc == -ENOENT) {
        st->ops->owned_del(st, rv->node_id, run_id); /* expired, or never created */
        goto out;
    }
    if (rc < 0)
        goto out; /* the store is down: the next pass tries again */
    rec = json_tokener_parse(text);
    int status = sv_run_status_parse(rec ? sv_run_record_str(rec, "status") : NULL);
    if (status < 0) {
        st->ops->owned_del(st, rv->node_id, run_id);
        sv_logf(SV_LEVEL_WARN, "run %s: its stored record is unreadable; dropped", run_id);
        goto out;
    }
    if (sv_run_status_final((sv_run_status)status)) {
        st->ops->owned_del(st, rv->node_id, run_id); /* ended just before its node died */
        goto out;
    }
    long crashes = 0;
    if (st->ops->run_crashes && st->ops->run_crashes(st, run_id, &crashes) == 0 &&
        crashes > rv->cfg.max_resumes) {
        /* A poison run: each time it ran, the daemon died under it. */
        snprintf(why, sizeof why,
                 "the daemon crashed %ld times while running it (MAX_RESUMES=%d); not resumed "
                 "again",
                 crashes, rv->cfg.max_resumes);
        give_up_code(rv, run_id, rec, "resume_limit", why);
        goto out;
    }
    const char *graph = sv_run_record_str(rec, "graph"),
               *version = sv_run_record_str(rec, "graph_version");
    e = graph ? sv_registry_get(rv->cfg.reg, graph) : NULL;
    if (!e || !version || strcmp(e->desc->version, version) != 0) {
        /* The checkpoint's state is in that version's format: another
         * version may read it differently, so it is not handed over. */
        snprintf(why, sizeof why, "graph %s %s is not loaded here (%s%s)", graph ? graph : "?",
                 version ? version : "?", e ? "loaded: " : "not loaded", e ? e->desc->version : "");
        give_up(rv, run_id, rec, why);
        goto out;
    }
    if (sv_run_restore(st, e, rec, &r, why, sizeof why) < 0) {
        give_up(rv, run_id, rec, why);
        goto out;
    }
    /* The run's next ownership epoch: from now on the writes of whoever
     * had it before are refused (fencing, store.h run_claim). */
    if (st->ops->run_claim && st->ops->run_claim(st, run_id, &r->epoch, &r->ev_seq) < 0)
        goto out; /* the store went away: the next pass tries again */
    /* No save precedes its first node here: read the flag now. */
    st->ops->cancel_get(st, run_id, &r->cancel_seen);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "from_node_id", json_object_new_string(from));
    json_object_object_add(d, "node_id", json_object_new_string(rv->node_id));
    json_object_object_add(d, "node", json_object_new_string(r->node->name));
    sv_run_event(r, "run_resumed", NULL, d);
    log_resume(run_id, r->trace_id, from, graph, r->node->name);
    sv_exec_resume(rv->cfg.exec, r);
    resumed = 1;
out:
    sv_run_unref(r);
    sv_graph_ent_unref(e);
    json_object_put(rec);
    free(text);
    return resumed;
}

/* Take over what a dead node (or our own previous life) left. */
static int take_over(sv_recover *rv, const char *node)
{
    sv_store *st = rv->cfg.store;
    sv_strvec runs = {0};
    int n = 0, own = strcmp(node, rv->node_id) == 0;
    if (st->ops->owned_list(st, node, &runs) < 0)
        return 0;
    for (size_t i = 0; i < runs.n && !atomic_load(&rv->quiet); i++) {
        if (!own && st->ops->owned_move(st, node, rv->node_id, runs.v[i]) < 0)
            continue; /* another instance took it */
        n += resume(rv, runs.v[i], node);
    }
    sv_strvec_free(&runs);
    if (!own && st->ops->node_forget(st, node) == 0)
        sv_logf(SV_LEVEL_INFO, "node %s is gone; %d of its runs resumed here", node, n);
    return n;
}

int sv_recover_pass(sv_recover *rv)
{
    sv_store *st = rv->cfg.store;
    sv_strvec dead = {0};
    int n = 0;
    if (st->ops->node_beat(st, rv->node_id, rv->cfg.node_ttl_ms) < 0 || atomic_load(&rv->quiet))
        return 0;
    if (st->ops->crash_counts) {
        sv_strvec counts = {0};
        if (st->ops->crash_counts(st, &counts) == 0)
            sv_crash_quarantine_set(&counts, rv->cfg.quarantine_crashes);
        sv_strvec_free(&counts);
    }
    if (st->ops->nodes_dead(st, &dead) < 0)
        return 0;
    for (size_t i = 0; i < dead.n; i++)
        if (strcmp(dead.v[i], rv->node_id) != 0)
            n += take_over(rv, dead.v[i]);
    sv_strvec_free(&dead);
    return n;
}

static void *recover_main(void *arg)
{
    sv_recover *rv = arg;
    int64_t every_ms = rv->cfg.node_ttl_ms / 5 > 0 ? rv->cfg.node_ttl_ms / 5 : 1;
    pthread_mutex_lock(&rv->lock);
    while (!rv->stopping) {
        sv_cond_wait_until(&rv->cond, &rv->lock, sv_mono_ms() + every_ms);
        if (rv->stopping)
            break;
        pthread_mutex_unlock(&rv->lock);
        sv_recover_pass(rv);
        pthread_mutex_lock(&rv->lock);
    }
    pthread_mutex_unlock(&rv->lock);
    return NULL;
}

/*
 * Is another live process beating under this node id?  Its heartbeat then
 * keeps being refreshed: look at how long it has left, wait a beat and a
 * half, look again.  A heartbeat left by this id's previous life (a crash,
 * a kill -9) only runs down, and the start goes on at once after the wait;
 * one refreshed meanwhile means two processes would run every run twice:
 * -EEXIST, and the caller refuses to start.
 */
static int in_use(sv_recover *rv)
{
    sv_store *st = rv->cfg.store;
    int64_t left1 = 0, left2 = 0, every = rv->cfg.node_ttl_ms / 5 > 0 ? rv->cfg.node_ttl_ms / 5 : 1;
    if (!st->ops->node_look || st->ops->node_look(st, rv->node_id, &left1) < 0)
        return 0; /* none, or the store will say at the first beat */
    int64_t t1 = sv_mono_ms();
    pthread_mutex_lock(&rv->lock);
    sv_cond_wait_until(&rv->cond, &rv->lock, t1 + every + every / 2);
    pthread_mutex_unlock(&rv->lock);
    if (st->ops->node_look(st, rv->node_id, &left2) < 0)
        return 0;
    if (left2 > left1 - (sv_mono_ms() - t1) + every / 2) {
        sv_logf(SV_LEVEL_ERROR,
                "SUPERVISOR_NODE_ID=%s: another running instance uses this id (its heartbeat "
                "is being refreshed); give every instance its own id",
                rv->node_id);
        return -EEXIST;
    }
    return 0;
}

int sv_recover_start(const sv_recover_cfg *cfg, sv_recover **out)
{
    int rc = 0;
    sv_recover *rv = calloc(1, sizeof *rv);
    *out = NULL;
    if (!rv)
        return -ENOMEM;
    rv->cfg = *cfg;
    snprintf(rv->node_id, sizeof rv->node_id, "%s", cfg->node_id);
    rv->cfg.node_id = rv->node_id;
    atomic_init(&rv->quiet, 0);
    pthread_mutex_init(&rv->lock, NULL);
    sv_cond_init_mono(&rv->cond);
    rc = in_use(rv);
    if (rc < 0)
        goto out;
    rc = cfg->store->ops->node_beat(cfg->store, rv->node_id, cfg->node_ttl_ms);
    if (rc < 0)
        goto out;
    int mine = take_over(rv, rv->node_id);
    int theirs = sv_recover_pass(rv);
    if (mine + theirs > 0)
        sv_logf(SV_LEVEL_INFO,
                "start-up: %d run(s) resumed (%d of this node id's, %d of dead nodes)",
                mine + theirs, mine, theirs);
    rc = -pthread_create(&rv->thread, NULL, recover_main, rv);
    if (rc < 0)
        goto out;
    rv->started = 1;
out:
    if (rc < 0) {
        sv_recover_stop(rv, 0);
        rv = NULL;
    }
    *out = rv;
    return rc;
}

void sv_recover_quiesce(sv_recover *rv)
{
    if (rv)
        atomic_store(&rv->quiet, 1);
}

void sv_recover_stop(sv_recover *rv, int clean)
{
    if (!rv)
        return;
    pthread_mutex_lock(&rv->lock);
    rv->stopping = 1;
    pthread_cond_signal(&rv->cond);
    pthread_mutex_unlock(&rv->lock);
    if (rv->started)
        pthread_join(rv->thread, NULL);
    if (clean)
        rv->cfg.store->ops->node_beat(rv->cfg.store, rv->node_id, 0);
    pthread_cond_destroy(&rv->cond);
    pthread_mutex_destroy(&rv->lock);
    free(rv);
}
