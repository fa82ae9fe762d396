/*
 * config.h - the daemon's settings (docs/CONTRACT.md §1, docs/operations.md):
 * embedded defaults, then an optional KEY=VALUE file, then the environment.
 * A bad value stops start-up with one line naming the variable and value.
 */
#ifndef SV_CONFIG_H
#define SV_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

typedef struct sv_config {
    char listen_host[256];
    int listen_port;
    /* METRICS_LISTEN: a second listener with GET /metrics and /healthz
     * only, open without a key; metrics_port -1 = none. */
    char metrics_host[256];
    int metrics_port;
    char *internal_key;     /* NULL = API open */
    char *gateway_base_url; /* no trailing slash */
    char *api_key;          /* to the router; NULL = none */
    char *redis_url;        /* NULL = embedded store */
    int64_t run_ttl_sec;
    int64_t run_retain_max_sec; /* longest POST /v1/runs/{id}/retain */
    char *plugin_dir;
    char *plugin_cache_dir; /* private copies of plugins before dlopen */
    int worker_threads;
    int worker_threads_max; /* threads in all, those waiting on the router or store included */
    int64_t run_default_timeout_sec; /* deadline of runs whose graph declares none */
    int max_nodes_per_run;           /* nodes one run may execute */
    enum sv_level log_level;
    /* Beyond the contract's table; documented in docs/operations.md. */
    int64_t gateway_timeout_ms;
    int gateway_max_attempts;
    int64_t gateway_backoff_ms;
    int64_t max_body_bytes;
    int64_t shutdown_grace_ms;
    int64_t plugin_scan_ms;
    int64_t cancel_grace_ms;         /* how long on_cancel's tool calls may take */
    char node_id[65];                /* this instance in a shared store; "" = random */
    int64_t node_ttl_ms;             /* a node silent this long is dead: others resume its runs */
    unsigned max_connections;        /* HTTP connections open at once */
    unsigned connection_timeout_sec; /* an idle connection is closed after this */
    long max_runs_active;            /* runs accepted and not finished here; past it, 429 */
    int max_resumes;                 /* resumed after this many crashes: fails, resume_limit */
    int quarantine_crashes; /* a graph version with this many crashes is refused; 0: never */
    /* The run console's files (/ui/), and how often an idle event stream
     * sends a comment line. */
    char *ui_dir;
    int64_t sse_heartbeat_ms;
    /* Where each setting came from, one bit per sv_config_keys() index:
     * for --check-config. */
    uint64_t from_file, from_env;
    /* The file's lines that are no daemon setting: [graph NAME] sections and
     * keys graphs may declare, matched when plugins load (graph_settings.h). */
    struct sv_gset_file *graph_file;
} sv_config;

/* Fill cfg with the embedded defaults (plugin_dir = SV_PLUGIN_DIR). */
int sv_config_defaults(sv_config *cfg);

/*
 * Apply one setting.  from_file: an unknown key is an error there (a typo in
 * a file must not pass silently); the environment carries much else, so
 * unknown keys are ignored.  0 or -EINVAL with a one-line reason in err.
 */
int sv_config_set(sv_config *cfg, const char *key, const char *value, int from_file, char *err,
                  size_t errlen);

/* Read a KEY=VALUE file ('#' comments, blank lines, optional quotes,
 * [graph NAME] sections).  Keys the daemon does not know are kept for the
 * graphs (graph_file), not refused here. */
int sv_config_load_file(sv_config *cfg, const char *path, char *err, size_t errlen);

/* Apply every known key present in envp ("K=V" strings, NULL-terminated). */
int sv_config_load_env(sv_config *cfg, char *const *envp, char *err, size_t errlen);

/* Checks that need the whole picture (the plugin dir exists, ...). */
int sv_config_validate(const sv_config *cfg, char *err, size_t errlen);

void sv_config_free(sv_config *cfg);

/* Every setting's name, NULL-terminated, in the documented order.  A new
 * setting also goes into config_show.c's table (its help, its display, live
 * or not), etc/sofiia-supervisor.conf.in and man/sofiia-supervisor.8: the
 * deploy tests check all of them against this list. */
const char *const *sv_config_keys(void);

/* Its index in sv_config_keys(), or -1. */
int sv_config_key_index(const char *key);

/*
 * config_show.c: the settings as an operator sees them.
 * sv_config_format writes the effective value of key (masked: keys and the
 * password of REDIS_URL as ********; unset values as ""); 0 or -ENOENT.
 */
int sv_config_format(const sv_config *cfg, const char *key, int masked, char *buf, size_t len);
/* --check-config: one "KEY=VALUE  # source" line per setting. */
void sv_config_print(const sv_config *cfg, FILE *out);
/* --help: every setting with its default and what it does. */
void sv_config_help(FILE *out);
/* Does SIGHUP apply a change of key? */
int sv_config_is_live(const char *key);
/*
 * SIGHUP: compare cur with next (read again from the same file and
 * environment); copy the settings that can change live into cur and add
 * "KEY: old -> new" to `changed`; add the names of the others that differ
 * to `restart` (JSON arrays).  The number of differences.
 */
int sv_config_reload(sv_config *cur, const sv_config *next, json_object *changed,
                     json_object *restart);

#endif
