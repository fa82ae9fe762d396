/* registry.c - loading, checking, watching and swapping graph plugins. */
#include "registry.h"
#include "plugin_file.h"
#include "graph_rules.h"
#include "graph_settings.h"
#include "log.h"
#include "util.h"
#include "reason.h"

#include <dirent.h>
#include <stddef.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A file seen in PLUGIN_DIR and what came of it. */
typedef struct sv_file {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    char graph[65]; /* the graph it provides, "" when refused */
    int seen;       /* in the current scan */
    int pending;    /* new or changed: to be loaded in this scan */
    /* Its last load attempt was refused: why (GET /v1/graphs "refused") */
    int refused;        /* sv_refusal + 1; 0 = not refused */
    char detail[512];   /* the one-line reason, as logged */
    int64_t refused_us; /* when */
} sv_file;

struct sv_registry {
    char *dir;
    char copy_dir[256];
    const sv_host *host;
    pthread_mutex_t lock; /* graphs[] */
    sv_graph_ent **graphs;
    size_t n_graphs;
    pthread_mutex_t scan_lock; /* files[], one scan at a time */
    sv_file *files;
    size_t n_files;
    atomic_int ready;
    /* For GET /v1/graphs and /metrics, under lock: the refusals of files
     * still in PLUGIN_DIR (rebuilt after each scan), and counts. */
    json_object *refused;
    size_t refused_now[SV_REFUSAL_COUNT];
    atomic_uint_fast64_t n_refusals[SV_REFUSAL_COUNT], n_loads;
    char fatal[512]; /* a bad graph setting in the first scan: start-up stops */
    /* watcher */
    pthread_t watcher;
    int watching;
    pthread_mutex_t stop_lock;
    pthread_cond_t stop_cond;
    int stop;
    long interval_ms;
};

static const char *const refusal_names[SV_REFUSAL_COUNT] = {
    "copy_failed",  "bad_mode",           "not_elf",     "dlopen_failed", "no_descriptor",
    "abi_mismatch", "invalid_descriptor", "bad_setting", "init_failed",   "duplicate_name"};

const char *sv_refusal_name(sv_refusal r)
{
    return (unsigned)r < SV_REFUSAL_COUNT ? refusal_names[r] : "?";
}

const sv_node *sv_graph_ent_node(const sv_graph_ent *e, const char *name)
{
    if (!name)
        return NULL;
    for (uint32_t i = 0; i < e->desc->n_nodes; i++)
        if (strcmp(e->desc->nodes[i].name, name) == 0)
            return &e->desc->nodes[i];
    return NULL;
}

static json_object *build_info(const sv_graph_ent *e, json_object *schema)
{
    const sv_graph *g = e->desc;
    json_object *info = json_object_new_object();
    json_object *nodes = json_object_new_array();
    for (uint32_t i = 0; i < g->n_nodes; i++)
        json_object_array_add(nodes, json_object_new_string(g->nodes[i].name));
    json_object_object_add(info, "name", json_object_new_string(g->name));
    json_object_object_add(info, "version", json_object_new_string(g->version));
    json_object_object_add(info, "description",
                           json_object_new_string(g->description ? g->description : ""));
    json_object_object_add(info, "nodes", nodes);
    json_object_object_add(info, "entry", json_object_new_string(g->entry));
    json_object_object_add(info, "input_schema", json_object_get(schema));
    char abi[32];
    snprintf(abi, sizeof abi, "%u.%u", g->abi_major, g->abi_minor);
    json_object_object_add(info, "abi", json_object_new_string(abi));
    json_object_object_add(info, "sha256", json_object_new_string(e->sha256));
    json_object_object_add(info, "settings", json_object_get(e->settings_info));
    json_object_object_add(info, "deadline", sv_gset_deadline_info(g));
    return info;
}

static void ent_destroy(sv_graph_ent *e)
{
    if (e->desc && e->desc->fini && e->info) /* info is set only after init succeeded */
        e->desc->fini();
    json_object_put(e->schema);
    json_object_put(e->info);
    json_object_put(e->settings);
    json_object_put(e->settings_info);
    if (e->dl)
        dlclose(e->dl);
    if (e->copy) {
        unlink(e->copy);
        free(e->copy);
    }
    free(e->path);
    free(e);
}

/* sv_registry_load_file, saying with *code which refusal a failure is. */
static int load_file(const char *path, const char *copy_dir, const sv_host *host,
                     sv_graph_ent **out, char *why, size_t len, sv_refusal *code)
{
    int rc = 0;
    *out = NULL;
    *code = SV_REFUSAL_COPY_FAILED;
    sv_graph_ent *e = calloc(1, sizeof *e);
    if (!e || !(e->path = strdup(path))) {
        rc = -ENOMEM;
        sv_reason(why, len, "out of memory");
        goto out;
    }
    atomic_init(&e->refs, 1);
    rc = sv_plugin_copy(path, copy_dir, &e->copy, why, len, code);
    if (rc < 0)
        goto out;
    *code = SV_REFUSAL_DLOPEN_FAILED;
    dlerror();
    e->dl = dlopen(e->copy, RTLD_NOW | RTLD_LOCAL);
    if (!e->dl) {
        const char *d = dlerror();
        rc = sv_reason(why, len, "dlopen failed: %s", d ? d : "unknown error");
        goto out;
    }
    const sv_graph *g = dlsym(e->dl, SV_GRAPH_SYMBOL);
    *code = SV_REFUSAL_NO_DESCRIPTOR;
    if (!g) {
        rc = sv_reason(why, len, "no %s symbol: not a sofiia graph plugin", SV_GRAPH_SYMBOL);
        goto out;
    }
    /* The version fields come first and are read before anything else: a
     * plugin of another ABI may lay out the rest differently.  The rules
     * are graph_rules.c's, which the SDK's test kit applies too. */
    *code = SV_REFUSAL_ABI_MISMATCH;
    if ((rc = sv_rule_abi(g, why, len)) < 0)
        goto out;
    *code = SV_REFUSAL_INVALID_DESCRIPTOR;
    if ((rc = sv_rule_descriptor(g, why, len)) < 0)
        goto out;
    e->desc = g;
    if ((rc = sv_rule_schema(g, &e->schema, why, len)) < 0)
        goto out;
    /* -ERANGE: the operator's value is bad, not the plugin (registry.h) */
    if ((rc = sv_gset_resolve(g, &e->settings, &e->settings_info, why, len)) < 0) {
        if (rc == -ERANGE)
            *code = SV_REFUSAL_BAD_SETTING;
        goto out;
    }
    *code = SV_REFUSAL_INIT_FAILED;
    sv_plugin_hash(e->copy, e->sha256);
    /* This graph's own table: host->setting() knows from it who asks. */
    e->host = *host;
    if (g->init) {
        int irc = g->init(&e->host);
        if (irc != 0) {
            rc = sv_reason(why, len, "graph %s: init() returned %d", g->name, irc);
            goto out;
        }
    }
    e->info = build_info(e, e->schema);
out:
    if (rc < 0 && e) {
        ent_destroy(e);
        e = NULL;
    }
    *out = e;
    return rc;
}

int sv_registry_load_file(const char *path, const char *copy_dir, const sv_host *host,
                          sv_graph_ent **out, char *why, size_t len)
{
    sv_refusal code;
    return load_file(path, copy_dir, host, out, why, len, &code);
}

void sv_graph_ent_ref(sv_graph_ent *e)
{
    atomic_fetch_add(&e->refs, 1);
}

void sv_graph_ent_unref(sv_graph_ent *e)
{
    if (!e || atomic_fetch_sub(&e->refs, 1) != 1)
        return;
    /* Only a version that served: a refused duplicate was never loaded as
     * far as anyone could see, and its refusal has been logged. */
    if (e->installed)
        sv_logf(SV_LEVEL_INFO, "graph %s %s unloaded", e->desc->name, e->desc->version);
    ent_destroy(e);
}

int sv_registry_new(const char *dir, const char *copy_dir, const sv_host *host, sv_registry **out)
{
    int rc = 0;
    sv_registry *reg = calloc(1, sizeof *reg);
    if (!reg || !(reg->dir = strdup(dir))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((size_t)snprintf(reg->copy_dir, sizeof reg->copy_dir, "%s", copy_dir) >=
        sizeof reg->copy_dir) {
        rc = -ENAMETOOLONG;
        sv_logf(SV_LEVEL_ERROR, "PLUGIN_CACHE_DIR=\"%s\": path too long", copy_dir);
        goto out;
    }
    reg->host = host;
    pthread_mutex_init(&reg->lock, NULL);
    pthread_mutex_init(&reg->scan_lock, NULL);
    pthread_mutex_init(&reg->stop_lock, NULL);
    pthread_cond_init(&reg->stop_cond, NULL);
out:
    if (rc < 0 && reg) {
        free(reg->dir);
        free(reg);
        reg = NULL;
    }
    *out = reg;
    return rc;
}

/* Put e in place of the current version of its graph (or add it); say
 * which version and file hash it replaced. */
static void install(sv_registry *reg, sv_graph_ent *e, char *old_version, size_t len,
                    char old_sha[65])
{
    sv_graph_ent *old = NULL;
    pthread_mutex_lock(&reg->lock);
    e->installed = 1;
    for (size_t i = 0; i < reg->n_graphs; i++) {
        if (strcmp(reg->graphs[i]->desc->name, e->desc->name) == 0) {
            old = reg->graphs[i];
            reg->graphs[i] = e;
            break;
        }
    }
    if (!old) {
        sv_graph_ent **g = realloc(reg->graphs, (reg->n_graphs + 1) * sizeof *g);
        if (g) {
            reg->graphs = g;
            reg->graphs[reg->n_graphs++] = e;
        } else {
            e->installed = 0;
            old = e; /* cannot register: drop it */
        }
    }
    pthread_mutex_unlock(&reg->lock);
    old_version[0] = old_sha[0] = '\0';
    if (old && old != e) {
        snprintf(old_version, len, "%s", old->desc->version);
        memcpy(old_sha, old->sha256, 65);
    }
    sv_graph_ent_unref(old);
}

static void uninstall(sv_registry *reg, const char *name)
{
    sv_graph_ent *old = NULL;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->n_graphs; i++) {
        if (strcmp(reg->graphs[i]->desc->name, name) == 0) {
            old = reg->graphs[i];
            reg->graphs[i] = reg->graphs[--reg->n_graphs];
            break;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    sv_graph_ent_unref(old);
}

static sv_file *file_find(sv_registry *reg, const char *path)
{
    for (size_t i = 0; i < reg->n_files; i++)
        if (strcmp(reg->files[i].path, path) == 0)
            return &reg->files[i];
    return NULL;
}

/* Which other file still in the directory provides graph `name`? */
static const sv_file *provider(sv_registry *reg, const char *name, const sv_file *self)
{
    for (size_t i = 0; i < reg->n_files; i++)
        if (&reg->files[i] != self && reg->files[i].seen && strcmp(reg->files[i].graph, name) == 0)
            return &reg->files[i];
    return NULL;
}

static void refuse(sv_registry *reg, sv_file *file, sv_refusal code, const char *why)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "file", json_object_new_string(file->path));
    json_object_object_add(f, "reason", json_object_new_string(why));
    json_object_object_add(f, "code", json_object_new_string(sv_refusal_name(code)));
    sv_log(SV_LEVEL_WARN, "plugin refused", f);
    file->refused = (int)code + 1;
    snprintf(file->detail, sizeof file->detail, "%s", why);
    file->refused_us = sv_now_us();
    atomic_fetch_add_explicit(&reg->n_refusals[code], 1, memory_order_relaxed);
}

/* Load a new or changed file and register what it provides. */
static void scan_file(sv_registry *reg, sv_file *f)
{
    char why[512];
    sv_graph_ent *e = NULL;
    sv_refusal code;
    int rc = load_file(f->path, reg->copy_dir, reg->host, &e, why, sizeof why, &code);
    if (rc < 0) {
        refuse(reg, f, code, why);
        /* A bad graph setting is the operator's: at start-up it stops the
         * daemon like any bad setting (sv_registry_fatal), later it only
         * refuses the plugin. */
        if (rc == -ERANGE && !atomic_load(&reg->ready) && !reg->fatal[0])
            snprintf(reg->fatal, sizeof reg->fatal, "%s", why);
        if (f->graph[0]) {
            sv_logf(SV_LEVEL_WARN, "graph %s keeps its previous version", f->graph);
        }
        return;
    }
    const sv_file *other = provider(reg, e->desc->name, f);
    if (other) {
        snprintf(why, sizeof why, "duplicate graph name \"%s\": already provided by %s",
                 e->desc->name, other->path);
        refuse(reg, f, SV_REFUSAL_DUPLICATE_NAME, why);
        sv_graph_ent_unref(e);
        return;
    }
    f->refused = 0;
    atomic_fetch_add_explicit(&reg->n_loads, 1, memory_order_relaxed);
    if (f->graph[0] && strcmp(f->graph, e->desc->name) != 0)
        uninstall(reg, f->graph); /* the file now provides another graph */
    snprintf(f->graph, sizeof f->graph, "%s", e->desc->name);
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "graph", json_object_new_string(e->desc->name));
    json_object_object_add(fields, "version", json_object_new_string(e->desc->version));
    json_object_object_add(fields, "file", json_object_new_string(f->path));
    json_object_object_add(fields, "sha256", json_object_new_string(e->sha256));
    char old[64], old_sha[65];
    install(reg, e, old, sizeof old, old_sha);
    if (old[0])
        json_object_object_add(fields, "replaced", json_object_new_string(old));
    sv_log(SV_LEVEL_INFO, old[0] ? "graph replaced" : "graph loaded", fields);
    /* Same version, other code: runs of either would show the same
     * graph_version, so nobody could tell which code a run executed. */
    if (old[0] && strcmp(old, e->desc->version) == 0 && strcmp(old_sha, e->sha256) != 0) {
        json_object *w = json_object_new_object();
        json_object_object_add(w, "graph", json_object_new_string(e->desc->name));
        json_object_object_add(w, "version", json_object_new_string(old));
        json_object_object_add(w, "old_sha256", json_object_new_string(old_sha));
        json_object_object_add(w, "new_sha256", json_object_new_string(e->sha256));
        json_object_object_add(w, "file", json_object_new_string(f->path));
        sv_log(SV_LEVEL_WARN,
               "graph replaced by a file with the same version string but other content: bump "
               "the version with every change",
               w);
    }
}

int sv_registry_fatal(sv_registry *reg, char *why, size_t len)
{
    if (!reg->fatal[0])
        return 0;
    snprintf(why, len, "%s", reg->fatal);
    return -EINVAL;
}

static int ends_with_so(const char *name)
{
    size_t n = strlen(name);
    return n > 3 && name[0] != '.' && strcmp(name + n - 3, ".so") == 0;
}

/* Note one directory entry: a new or changed file is marked pending. */
static void note_entry(sv_registry *reg, const char *name, int force)
{
    char *path = NULL;
    struct stat st;
    if (!ends_with_so(name) || asprintf(&path, "%s/%s", reg->dir, name) < 0)
        return;
    if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        free(path);
        return;
    }
    sv_file *f = file_find(reg, path);
    if (!f) {
        sv_file *nf = realloc(reg->files, (reg->n_files + 1) * sizeof *nf);
        if (!nf) {
            free(path);
            return;
        }
        reg->files = nf;
        f = &reg->files[reg->n_files++];
        memset(f, 0, sizeof *f);
        f->path = path;
        f->pending = 1;
    } else {
        free(path);
        /* A refused file is tried again when it changes, or on demand
         * (SIGHUP): its refusal may have had a passing cause. */
        f->pending =
            !(f->dev == st.st_dev && f->ino == st.st_ino && f->size == st.st_size &&
              f->mtime.tv_sec == st.st_mtim.tv_sec && f->mtime.tv_nsec == st.st_mtim.tv_nsec) ||
            (force && !f->graph[0]);
    }
    f->seen = 1;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtime = st.st_mtim;
}

static int by_file(const void *a, const void *b)
{
    return strcmp((*(const sv_file *const *)a)->path, (*(const sv_file *const *)b)->path);
}

/* The "refused" list of GET /v1/graphs from files[] (scan_lock held): files
 * gone from PLUGIN_DIR are no longer in files[], so their refusals go too. */
static void refused_rebuild(sv_registry *reg)
{
    size_t now[SV_REFUSAL_COUNT] = {0}, n = 0;
    const sv_file **list = malloc((reg->n_files + 1) * sizeof *list);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; list && i < reg->n_files; i++)
        if (reg->files[i].refused)
            list[n++] = &reg->files[i];
    /* by path, which is by file name: one directory */
    qsort(list, n, sizeof *list, by_file);
    for (size_t i = 0; i < n; i++) {
        const sv_file *f = list[i];
        const char *base = strrchr(f->path, '/');
        char at[SV_TS_LEN];
        sv_format_ts(f->refused_us, at);
        json_object *o = json_object_new_object();
        json_object_object_add(o, "file", json_object_new_string(base ? base + 1 : f->path));
        json_object_object_add(o, "reason",
                               json_object_new_string(sv_refusal_name(f->refused - 1)));
        json_object_object_add(o, "detail", json_object_new_string(f->detail));
        json_object_object_add(o, "at", json_object_new_string(at));
        json_object_array_add(arr, o);
        now[f->refused - 1]++;
    }
    free(list);
    pthread_mutex_lock(&reg->lock);
    json_object *old = reg->refused;
    reg->refused = arr;
    memcpy(reg->refused_now, now, sizeof now);
    pthread_mutex_unlock(&reg->lock);
    json_object_put(old);
}

int sv_registry_scan(sv_registry *reg, int force)
{
    pthread_mutex_lock(&reg->scan_lock);
    struct dirent **list = NULL;
    int n = scandir(reg->dir, &list, NULL, alphasort);
    if (n < 0)
        sv_logf(SV_LEVEL_ERROR, "cannot read PLUGIN_DIR %s: %s", reg->dir, strerror(errno));
    /* A directory that cannot be read now (descriptors or memory ran out)
     * says nothing of its files: none is taken for gone. */
    for (size_t i = 0; i < reg->n_files; i++) {
        reg->files[i].seen = n < 0;
        reg->files[i].pending = 0;
    }
    for (int i = 0; i < n; i++) {
        note_entry(reg, list[i]->d_name, force);
        free(list[i]);
    }
    free(list);
    /* Load before removing, and let a vanished file not count as a
     * provider: a renamed plugin then swaps in place instead of being
     * refused as a duplicate of its own old name. */
    for (size_t i = 0; i < reg->n_files; i++)
        if (reg->files[i].pending)
            scan_file(reg, &reg->files[i]);
    /* Files gone from the directory take their graphs with them (unless
     * another file now provides the graph); runs already going keep their
     * pinned version. */
    for (size_t i = 0; i < reg->n_files;) {
        sv_file *f = &reg->files[i];
        if (f->seen) {
            i++;
            continue;
        }
        if (f->graph[0] && !provider(reg, f->graph, f)) {
            sv_logf(SV_LEVEL_INFO, "graph %s removed (%s is gone)", f->graph, f->path);
            uninstall(reg, f->graph);
        }
        free(f->path);
        reg->files[i] = reg->files[--reg->n_files];
    }
    refused_rebuild(reg);
    pthread_mutex_lock(&reg->lock);
    int count = (int)reg->n_graphs;
    pthread_mutex_unlock(&reg->lock);
    atomic_store(&reg->ready, 1);
    pthread_mutex_unlock(&reg->scan_lock);
    return count;
}

int sv_registry_ready(sv_registry *reg)
{
    return atomic_load(&reg->ready);
}

static void *watch_main(void *arg)
{
    sv_registry *reg = arg;
    pthread_mutex_lock(&reg->stop_lock);
    while (!reg->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += reg->interval_ms / 1000;
        ts.tv_nsec += (reg->interval_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&reg->stop_cond, &reg->stop_lock, &ts);
        if (reg->stop)
            break;
        pthread_mutex_unlock(&reg->stop_lock);
        sv_registry_scan(reg, 0);
        pthread_mutex_lock(&reg->stop_lock);
    }
    pthread_mutex_unlock(&reg->stop_lock);
    return NULL;
}

void sv_registry_set_interval(sv_registry *reg, long interval_ms)
{
    pthread_mutex_lock(&reg->stop_lock);
    reg->interval_ms = interval_ms;
    pthread_cond_signal(&reg->stop_cond); /* the next wait is the new one */
    pthread_mutex_unlock(&reg->stop_lock);
}

int sv_registry_watch(sv_registry *reg, long interval_ms)
{
    reg->interval_ms = interval_ms;
    int rc = pthread_create(&reg->watcher, NULL, watch_main, reg);
    if (rc != 0)
        return -rc;
    reg->watching = 1;
    return 0;
}

sv_graph_ent *sv_registry_get(sv_registry *reg, const char *name)
{
    sv_graph_ent *e = NULL;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->n_graphs; i++) {
        if (strcmp(reg->graphs[i]->desc->name, name) == 0) {
            e = reg->graphs[i];
            sv_graph_ent_ref(e);
            break;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    return e;
}

static int by_name(const void *a, const void *b)
{
    const sv_graph_ent *x = *(sv_graph_ent *const *)a, *y = *(sv_graph_ent *const *)b;
    return strcmp(x->desc->name, y->desc->name);
}

json_object *sv_registry_list(sv_registry *reg)
{
    json_object *arr = json_object_new_array();
    pthread_mutex_lock(&reg->lock);
    sv_graph_ent **sorted = malloc((reg->n_graphs + 1) * sizeof *sorted);
    if (sorted && reg->n_graphs > 0) {
        memcpy(sorted, reg->graphs, reg->n_graphs * sizeof *sorted);
        qsort(sorted, reg->n_graphs, sizeof *sorted, by_name);
        /* Copies, not references: json-c's reference counts are not
         * atomic, and a version may be unloaded by a worker thread while
         * this answer is still being sent. */
        for (size_t i = 0; i < reg->n_graphs; i++) {
            json_object *copy = NULL;
            if (json_object_deep_copy(sorted[i]->info, &copy, NULL) == 0)
                json_object_array_add(arr, copy);
        }
    }
    free(sorted);
    json_object *refused = NULL;
    if (!reg->refused || json_object_deep_copy(reg->refused, &refused, NULL) != 0)
        refused = json_object_new_array();
    pthread_mutex_unlock(&reg->lock);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "graphs", arr);
    json_object_object_add(o, "refused", refused);
    return o;
}

void sv_registry_counts_get(sv_registry *reg, sv_registry_counts *out)
{
    out->loads = atomic_load_explicit(&reg->n_loads, memory_order_relaxed);
    for (int i = 0; i < SV_REFUSAL_COUNT; i++)
        out->refusals[i] = atomic_load_explicit(&reg->n_refusals[i], memory_order_relaxed);
    pthread_mutex_lock(&reg->lock);
    memcpy(out->refused_now, reg->refused_now, sizeof out->refused_now);
    pthread_mutex_unlock(&reg->lock);
}

void sv_registry_free(sv_registry *reg)
{
    if (!reg)
        return;
    if (reg->watching) {
        pthread_mutex_lock(&reg->stop_lock);
        reg->stop = 1;
        pthread_cond_signal(&reg->stop_cond);
        pthread_mutex_unlock(&reg->stop_lock);
        pthread_join(reg->watcher, NULL);
    }
    for (size_t i = 0; i < reg->n_graphs; i++)
        sv_graph_ent_unref(reg->graphs[i]);
    free(reg->graphs);
    for (size_t i = 0; i < reg->n_files; i++)
        free(reg->files[i].path);
    free(reg->files);
    json_object_put(reg->refused);
    pthread_mutex_destroy(&reg->lock);
    pthread_mutex_destroy(&reg->scan_lock);
    pthread_mutex_destroy(&reg->stop_lock);
    pthread_cond_destroy(&reg->stop_cond);
    free(reg->dir);
    free(reg);
}
