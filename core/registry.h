/*
 * registry.h - the graphs the daemon can run: loads every *.so in PLUGIN_DIR
 * (strictly: ABI checked before anything else is read), watches the directory,
 * and swaps versions under load.  Each loaded file is first copied to a
 * private name, so replacing or deleting the original never touches code in
 * use; a run pins the version it started on and the old version is finalised
 * and unloaded when its last run ends ("pin, swap, reap").
 */
#ifndef SV_REGISTRY_H
#define SV_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/stat.h>
#include <json-c/json.h>
#include <sofiia/graph.h>

/* One loaded version of one graph. */
typedef struct sv_graph_ent {
    atomic_int refs;            /* the registry's own + one per pinned run */
    const sv_graph *desc;       /* inside the loaded copy */
    json_object *schema;        /* parsed input_schema */
    json_object *info;          /* the entry of GET /v1/graphs */
    json_object *settings;      /* {name: value} of its declared settings */
    json_object *settings_info; /* their entries of GET /v1/graphs */
    sv_host host;               /* the table this version is handed (host.c) */
    char sha256[65];            /* of the file as loaded */
    int installed;              /* served (registered) at some point */
    void *dl;                   /* dlopen handle */
    char *path;                 /* the file in PLUGIN_DIR */
    char *copy;                 /* the private copy that was dlopen()ed */
} sv_graph_ent;

typedef struct sv_registry sv_registry;

/* A registry over dir; private copies go into copy_dir (PLUGIN_CACHE_DIR,
 * opened with plugin_cache.h, which outlives the registry).  `host` is
 * handed to every graph's init(). */
int sv_registry_new(const char *dir, const char *copy_dir, const sv_host *host, sv_registry **out);
/* Unload everything (waits for nothing: call when no run is left). */
void sv_registry_free(sv_registry *reg);

/* Look at the directory once: load new or changed files, drop removed ones;
 * with force, also try again the files refused before.  Returns the number
 * of graphs now registered. */
int sv_registry_scan(sv_registry *reg, int force);
/* Has a first scan completed? */
int sv_registry_ready(sv_registry *reg);
/* A bad graph setting met in the first scan (which start-up must stop on,
 * graph_settings.h): -EINVAL with the one-line reason in why, else 0. */
int sv_registry_fatal(sv_registry *reg, char *why, size_t len);

/* Scan every interval_ms on a thread of its own until sv_registry_free. */
int sv_registry_watch(sv_registry *reg, long interval_ms);
/* Change the interval of a watching registry (SIGHUP). */
void sv_registry_set_interval(sv_registry *reg, long interval_ms);

/* The current version of graph `name`, pinned (NULL if none). */
sv_graph_ent *sv_registry_get(sv_registry *reg, const char *name);
/* Pin / unpin a version; the last unpin finalises and unloads it. */
void sv_graph_ent_ref(sv_graph_ent *e);
void sv_graph_ent_unref(sv_graph_ent *e);
/* A node of the version by name, or NULL. */
const sv_node *sv_graph_ent_node(const sv_graph_ent *e, const char *name);

/* {"graphs":[...], "refused":[{"file","reason","detail","at"}]}: graphs by
 * name, then the files of PLUGIN_DIR whose last load attempt was refused,
 * by file name (new reference). */
json_object *sv_registry_list(sv_registry *reg);

/* Why a file was refused: the "reason" of GET /v1/graphs "refused" and the
 * label of /metrics sofiia_plugin_refusals_total (docs/plugin-authoring.md). */
typedef enum sv_refusal {
    SV_REFUSAL_COPY_FAILED = 0,    /* cannot read it or write its private copy */
    SV_REFUSAL_BAD_MODE,           /* writable by others (sv_registry_check_mode) */
    SV_REFUSAL_NOT_ELF,            /* empty, or no ELF header */
    SV_REFUSAL_DLOPEN_FAILED,      /* dlopen() refused it (missing symbol, wrong arch...) */
    SV_REFUSAL_NO_DESCRIPTOR,      /* no sofiia_graph symbol */
    SV_REFUSAL_ABI_MISMATCH,       /* built for an SDK ABI this daemon does not run */
    SV_REFUSAL_INVALID_DESCRIPTOR, /* names, nodes, schema or settings table wrong */
    SV_REFUSAL_BAD_SETTING,        /* the operator's value of one of its settings */
    SV_REFUSAL_INIT_FAILED,        /* its init() returned non-zero */
    SV_REFUSAL_DUPLICATE_NAME,     /* another file provides the same graph name */
    SV_REFUSAL_COUNT
} sv_refusal;
const char *sv_refusal_name(sv_refusal r);

/* For /metrics: files loaded and refusals (by sv_refusal) since start, and
 * files refused now (still in PLUGIN_DIR). */
typedef struct sv_registry_counts {
    uint64_t loads;
    uint64_t refusals[SV_REFUSAL_COUNT];
    size_t refused_now[SV_REFUSAL_COUNT];
} sv_registry_counts;
void sv_registry_counts_get(sv_registry *reg, sv_registry_counts *out);

/*
 * Load one file as the registry would, without registering it: for tests and
 * `sofiia-supervisor --check-plugin`.  0 and a pinned entry, or a negative
 * code with a one-line reason in why: -ERANGE when the plugin is fine but
 * the operator's value of one of its settings is not (graph_settings.h).
 * `host` is copied into the entry: the graph is handed its own table.
 */
int sv_registry_load_file(const char *path, const char *copy_dir, const sv_host *host,
                          sv_graph_ent **out, char *why, size_t why_len);

/*
 * May code be loaded from a file or directory with this mode and group?
 * Whoever can write there can run code as the daemon, so: never writable
 * by every user; writable by its group only when that group is one this
 * process is in (the daemon's own group, or e.g. Kubernetes' fsGroup), whose
 * members are trusted like the daemon's user.  0, or -EPERM with the
 * reason in why.
 */
int sv_registry_check_mode(const struct stat *st, char *why, size_t why_len);

#endif
