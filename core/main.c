/*
 * main.c - sofiia-supervisor: read the settings, wire the store, gateway,
 * registry, executor and HTTP API together, and wait for a signal.
 */
#include "sv_build.h" /* PACKAGE_VERSION, from configure */

#include "api.h"
#include "auth.h"
#include "config.h"
#include "crash.h"
#include "executor.h"
#include "gateway.h"
#include "graph_settings.h"
#include "host.h"
#include "http.h"
#include "log.h"
#include "plugin_cache.h"
#include "pool.h"
#include "recover.h"
#include "registry.h"
#include "stall.h"
#include "store.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static void usage(FILE *f)
{
    fprintf(f, "usage: sofiia-supervisor [-c FILE] [--check-config]\n"
               "       sofiia-supervisor --check-plugin FILE.so | --help | --version\n");
}

/* --help: every option and every setting (sofiia-supervisor(8) at length). */
static void help(void)
{
    usage(stdout);
    printf("\nRuns workflow graphs (.so plugins in PLUGIN_DIR) for the callers of its HTTP API;\n"
           "every tool call of a graph goes through the router (GATEWAY_BASE_URL).\n"
           "\nOptions:\n"
           "  -c, --config FILE       read settings from FILE (KEY=VALUE lines, # comments);\n"
           "                          without -c, from the file SUPERVISOR_CONFIG names, if any\n"
           "  --check-config          check the settings (file, environment, directories) and\n"
           "                          print the effective values, keys masked; exit 0 if they\n"
           "                          are good, 1 if not\n"
           "  --check-plugin FILE.so  load one graph plugin as the daemon would and say whether\n"
           "                          it is accepted; exit 0 or 1\n"
           "  -h, --help              this text\n"
           "  --version               the version and the SDK ABI\n"
           "\nSettings: environment variables; the file may set the same keys, and the\n"
           "environment wins over it.\n");
    sv_config_help(stdout);
    printf("\nGraph settings: each graph declares its own (GET /v1/graphs lists them); set one\n"
           "as GRAPH_<GRAPH>_<SETTING> (e.g. GRAPH_INCIDENT_TRIAGE_MAX_TIME_WINDOW_H), under the\n"
           "variable the graph gives it (INCIDENT_MAX_TIME_WINDOW_H), or in a [graph NAME]\n"
           "section of the file; checked when the graph loads (docs/operations.md).\n");
    printf("\nSignals: SIGTERM and SIGINT stop gracefully.  SIGHUP rescans PLUGIN_DIR and reads\n"
           "the file and environment again: the settings marked above change at once, and one\n"
           "log line names them and those that need a restart.\n"
           "Exit status: 0 stopped by a signal; 1 start-up failed; 2 a bad setting or argument.\n"
           "See sofiia-supervisor(8) and docs/operations.md.\n");
}

static void die_config(const char *why)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "reason", json_object_new_string(why));
    sv_log(SV_LEVEL_ERROR, "bad configuration", f);
}

/* --check-plugin: what the loader would say about one file, for authors. */
static int check_plugin(const char *path)
{
    char why[512], dir[256];
    sv_graph_ent *e = NULL;
    /* Where the daemon would put its copies, if said: /tmp may be noexec. */
    const char *base = getenv("PLUGIN_CACHE_DIR");
    if (!base || base[0] != '/')
        base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%.200s/sofiia-check.XXXXXX", base && base[0] == '/' ? base : "/tmp");
    sv_log_set_level(SV_LEVEL_ERROR); /* the verdict is printed; no JSON chatter */
    if (!mkdtemp(dir)) {
        fprintf(stderr, "cannot create a temporary directory: %s\n", strerror(errno));
        return 2;
    }
    /* the graph's settings as this environment would set them */
    sv_gset_setup(environ, NULL, 3600 * 1000);
    int rc = sv_registry_load_file(path, dir, sv_host_table(), &e, why, sizeof why);
    if (rc < 0) {
        fprintf(stderr, "%s: refused: %s\n", path, why);
    } else {
        printf("%s: graph %s %s, %u nodes, entry %s: OK\n", path, e->desc->name, e->desc->version,
               e->desc->n_nodes, e->desc->entry);
        sv_graph_ent_unref(e);
    }
    rmdir(dir);
    return rc < 0 ? 1 : 0;
}

typedef struct sv_daemon {
    sv_config cfg;
    int bad_setting;         /* start-up stopped on a graph's setting: exit 2 */
    const char *config_file; /* NULL: none; read again on SIGHUP */
    sv_plugin_cache *cache;
    sv_store *store;
    sv_gateway *gw;
    sv_registry *reg;
    sv_exec *exec;
    sv_pool *api_pool; /* with a store that waits: where API handlers run */
    sv_http *http;
    sv_http *metrics_http; /* METRICS_LISTEN; NULL: none */
    sv_recover *recover;
    sv_watch *watch;
    char node_id[65];
    sv_api api;
} sv_daemon;

/* The watch's callbacks: run.h's notify and watch.h's wake. */
static void notify_watch(void *arg, const char *run_id, int final)
{
    sv_watch_notify(arg, run_id, final);
}

static void wake_request(void *arg, void *conn)
{
    (void)arg;
    sv_http_wake(conn);
}

/* A cancel set through another instance (the store's listener thread): the
 * run stops now if it is live here, even while it waits between nodes. */
static void remote_cancel(void *arg, const char *run_id)
{
    sv_exec_cancel_remote(arg, run_id); /* -ENOENT: not ours */
}

/* This instance's name in a shared store: the configured one, which lets a
 * restarted daemon pick its own runs up at once, or a random one. */
static int node_id(sv_daemon *d)
{
    unsigned char b[6];
    if (d->cfg.node_id[0]) {
        snprintf(d->node_id, sizeof d->node_id, "%s", d->cfg.node_id);
        return 0;
    }
    if (sv_random_bytes(b, sizeof b) < 0)
        return -EIO;
    snprintf(d->node_id, sizeof d->node_id, "n_%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5]);
    return 0;
}

static int open_store(sv_daemon *d)
{
    char why[384], line[512];
    if (!d->cfg.redis_url)
        return sv_store_mem_new(d->cfg.run_ttl_sec, &d->store);
    int rc = sv_store_redis_new(d->cfg.redis_url, d->cfg.run_ttl_sec, why, sizeof why, &d->store);
    if (rc < 0) {
        /* The URL may carry a password: the reason names host and port only. */
        snprintf(line, sizeof line, "REDIS_URL: %s", why);
        die_config(line);
        return rc;
    }
    return node_id(d);
}

/* METRICS_LISTEN: GET /metrics and /healthz, no key, no API (a scraper on
 * a private interface; docs/security.md).  Handlers run on its own thread:
 * rendering the metrics never waits on the store. */
static int start_metrics(sv_daemon *d)
{
    const sv_config *cfg = &d->cfg;
    char why[384];
    if (cfg->metrics_port < 0)
        return 0;
    sv_http_cfg mcfg = {.host = cfg->metrics_host,
                        .port = cfg->metrics_port,
                        .max_body_bytes = 1024,
                        .handler = sv_api_handle_metrics,
                        .app = &d->api,
                        .max_connections = 64,
                        .idle_timeout_sec = 30,
                        .side = 1};
    int rc = sv_http_start(&mcfg, &d->metrics_http);
    if (rc < 0) {
        int v6 = strchr(cfg->metrics_host, ':') != NULL;
        snprintf(why, sizeof why, "METRICS_LISTEN=%s%s%s:%d: cannot listen there (in use?)",
                 v6 ? "[" : "", cfg->metrics_host, v6 ? "]" : "", cfg->metrics_port);
        die_config(why);
        return rc;
    }
    json_object *f = json_object_new_object();
    json_object_object_add(f, "address", json_object_new_string(cfg->metrics_host));
    json_object_object_add(f, "port", json_object_new_int(sv_http_port(d->metrics_http)));
    sv_log(SV_LEVEL_INFO, "metrics listening (GET /metrics and /healthz, no key)", f);
    return 0;
}

static int start(sv_daemon *d)
{
    int rc;
    char why[384];
    sv_config *cfg = &d->cfg;
    rc = open_store(d);
    if (rc < 0)
        return rc;
    /* A crash names its run and, with Redis, is recorded there (crash.h). */
    sv_crash_install(d->store->ops->durable ? sv_store_redis_crash_fd(d->store) : -1);
    sv_gateway_cfg gcfg = {.base_url = cfg->gateway_base_url,
                           .api_key = cfg->api_key,
                           .timeout_ms = cfg->gateway_timeout_ms,
                           .max_attempts = cfg->gateway_max_attempts,
                           .backoff_base_ms = cfg->gateway_backoff_ms,
                           .backoff_cap_ms = 5000};
    rc = sv_gateway_new(&gcfg, &d->gw);
    if (rc < 0)
        return rc;
    sv_host_env env = {.gateway = d->gw,
                       .cancel_grace_ms = cfg->cancel_grace_ms,
                       .run_default_timeout_ms = cfg->run_default_timeout_sec * 1000};
    sv_host_setup(&env);
    sv_gset_setup(environ, cfg->graph_file, cfg->run_default_timeout_sec * 1000);
    rc = sv_plugin_cache_open(cfg->plugin_cache_dir, &d->cache, why, sizeof why);
    if (rc < 0) {
        die_config(why);
        return rc;
    }
    rc = sv_registry_new(cfg->plugin_dir, sv_plugin_cache_dir(d->cache), sv_host_table(), &d->reg);
    if (rc < 0)
        return rc;
    int n = sv_registry_scan(d->reg, 0);
    /* A graph's setting is checked once its graph is loaded: a bad one
     * stops start-up as any bad setting does. */
    if ((rc = sv_registry_fatal(d->reg, why, sizeof why)) < 0 ||
        (rc = sv_gset_unclaimed(why, sizeof why)) < 0) {
        die_config(why);
        d->bad_setting = 1;
        return rc;
    }
    sv_logf(n > 0 ? SV_LEVEL_INFO : SV_LEVEL_WARN, "%d graph(s) loaded from %s", n,
            cfg->plugin_dir);
    rc = sv_registry_watch(d->reg, cfg->plugin_scan_ms);
    if (rc < 0)
        return rc;
    /* With a shared store, a run may change on another instance: waiting
     * requests then look at the store every second as well. */
    rc = sv_watch_new(wake_request, NULL, d->store->ops->durable ? 1000 : 0, &d->watch);
    if (rc < 0)
        return rc;
    sv_exec_cfg ecfg = {.threads = cfg->worker_threads,
                        .max_threads = cfg->worker_threads_max > cfg->worker_threads
                                           ? cfg->worker_threads_max
                                           : cfg->worker_threads,
                        .store = d->store,
                        .node_id = d->store->ops->durable ? d->node_id : NULL,
                        .notify = notify_watch,
                        .notify_arg = d->watch,
                        .run_default_timeout_ms = cfg->run_default_timeout_sec * 1000,
                        .max_nodes_per_run = cfg->max_nodes_per_run};
    rc = sv_stall_start(); /* names nodes that hold a cancel or a stop up */
    if (rc < 0)
        return rc;
    rc = sv_exec_new(&ecfg, &d->exec);
    if (rc < 0)
        return rc;
    if (d->store->ops->durable) {
        /* Before the API opens: the runs a previous life left are queued
         * ahead of new ones. */
        sv_recover_cfg rcfg = {.store = d->store,
                               .exec = d->exec,
                               .reg = d->reg,
                               .node_id = d->node_id,
                               .node_ttl_ms = cfg->node_ttl_ms,
                               .max_resumes = cfg->max_resumes,
                               .quarantine_crashes = cfg->quarantine_crashes};
        rc = sv_recover_start(&rcfg, &d->recover);
        if (rc == -EEXIST) {
            die_config("SUPERVISOR_NODE_ID: another running instance uses this id; give every "
                       "instance its own id");
            return rc;
        }
        if (rc < 0) {
            die_config("REDIS_URL: the store stopped answering during start-up");
            return rc;
        }
        if (d->store->ops->cancel_listen) {
            rc = d->store->ops->cancel_listen(d->store, remote_cancel, d->exec);
            if (rc < 0)
                return rc;
        }
    }
    if (d->store->ops->durable) {
        /* API handlers wait on Redis: they run on a pool of their own, so
         * no request waits behind another's round trip, nor behind runs
         * that fill the executor's threads with slow tool calls. */
        int most = cfg->worker_threads * 8 < 16 ? 16 : cfg->worker_threads * 8;
        sv_pool_cfg pc = {.slots = cfg->worker_threads,
                          .max_threads = most,
                          .store_wait_threads = most,
                          .idle_ms = 10000,
                          .stack_bytes = 256u << 10};
        rc = sv_pool_new(&pc, &d->api_pool);
        if (rc < 0)
            return rc;
    }
    d->api = (sv_api){.cfg = cfg,
                      .store = d->store,
                      .reg = d->reg,
                      .exec = d->exec,
                      .host = sv_host_table(),
                      .watch = d->watch,
                      .gw = d->gw};
    sv_http_cfg hcfg = {.host = cfg->listen_host,
                        .port = cfg->listen_port,
                        .max_body_bytes = cfg->max_body_bytes,
                        .internal_key = cfg->internal_key,
                        .handler = sv_api_handle,
                        .app = &d->api,
                        /* Redis round trips never on the HTTP thread */
                        .offload = d->api_pool,
                        .max_connections = cfg->max_connections,
                        .idle_timeout_sec = cfg->connection_timeout_sec};
    rc = sv_http_start(&hcfg, &d->http);
    if (rc < 0) {
        snprintf(why, sizeof why, "SUPERVISOR_LISTEN=%s:%d: cannot listen there (in use?)",
                 cfg->listen_host, cfg->listen_port);
        die_config(why);
        return rc;
    }
    json_object *f = json_object_new_object();
    json_object_object_add(f, "address", json_object_new_string(cfg->listen_host));
    json_object_object_add(f, "port", json_object_new_int(sv_http_port(d->http)));
    json_object_object_add(f, "workers", json_object_new_int(cfg->worker_threads));
    json_object_object_add(f, "store", json_object_new_string(d->store->ops->name));
    if (d->store->ops->durable)
        json_object_object_add(f, "node_id", json_object_new_string(d->node_id));
    json_object_object_add(f, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(f, "plugin_cache_dir",
                           json_object_new_string(sv_plugin_cache_dir(d->cache)));
    sv_log(SV_LEVEL_INFO, "listening", f);
    sv_auth_log_startup(cfg->internal_key, cfg->listen_host);
    return start_metrics(d);
}

static void stop(sv_daemon *d)
{
    atomic_store(&d->api.stopping, 1);
    sv_http_stop(d->metrics_http); /* it reads what the rest frees */
    d->metrics_http = NULL;
    sv_http_quiesce(d->http);
    /* Requests waiting on runs are answered now, with the view as it is. */
    sv_watch_wake_all(d->watch);
    sv_http_drain(d->http, 2000);
    if (d->api_pool) { /* drained: it holds no request now */
        sv_pool_stop(d->api_pool, 0);
        sv_pool_join(d->api_pool);
    }
    sv_recover_quiesce(d->recover);
    sv_exec_shutdown(d->exec, d->cfg.shutdown_grace_ms);
    sv_stall_stop(); /* every node has returned */
    /* Runs left unfinished stay owned by this node: ending its heartbeat
     * now lets another instance (or this one, restarted) resume them. */
    sv_recover_stop(d->recover, 1);
    sv_http_stop(d->http);
    sv_watch_free(d->watch);
    if (d->store && d->store->ops->cancel_listen)
        d->store->ops->cancel_listen(d->store, NULL, NULL); /* it calls the executor */
    sv_exec_free(d->exec);
    sv_pool_free(d->api_pool, NULL);
    sv_registry_free(d->reg);
    sv_plugin_cache_close(d->cache); /* after the last copy is unloaded */
    sv_gateway_free(d->gw);
    if (d->store)
        d->store->ops->destroy(d->store);
    sv_config_free(&d->cfg);
}

/* defaults < file < environment, then the checks that need the whole
 * picture.  On failure cfg holds nothing and err says why. */
static int read_config(sv_config *cfg, const char *file, char *err, size_t len)
{
    int rc = sv_config_defaults(cfg);
    if (rc < 0) {
        snprintf(err, len, "out of memory");
        return rc;
    }
    if ((file && *file && (rc = sv_config_load_file(cfg, file, err, len)) < 0) ||
        (rc = sv_config_load_env(cfg, environ, err, len)) < 0 ||
        (rc = sv_config_validate(cfg, err, len)) < 0)
        sv_config_free(cfg);
    return rc;
}

/* --check-config: the graphs' settings, which only their plugins know: they
 * are loaded (copies in a temporary directory) as the daemon would load
 * them.  On failure cfg is freed and err (512 bytes) says why. */
static int check_graph_settings(sv_config *cfg, char *err)
{
    struct stat st;
    const char *tmp = getenv("TMPDIR");
    const char *base = stat(cfg->plugin_cache_dir, &st) == 0 && S_ISDIR(st.st_mode)
                           ? cfg->plugin_cache_dir
                       : tmp && tmp[0] == '/' ? tmp
                                              : "/tmp";
    sv_log_set_level(SV_LEVEL_ERROR); /* the verdict is printed; no JSON chatter */
    sv_gset_setup(environ, cfg->graph_file, cfg->run_default_timeout_sec * 1000);
    int rc = sv_gset_check_plugins(cfg->plugin_dir, base, err, 512);
    sv_gset_setup(environ, NULL, cfg->run_default_timeout_sec * 1000);
    if (rc < 0)
        sv_config_free(cfg);
    return rc;
}

/* --check-config, like nginx -t: the verdict, and the effective settings. */
static int check_config(const char *file)
{
    sv_config cfg;
    char err[512];
    const char *name = file && *file ? file : NULL;
    if (read_config(&cfg, file, err, sizeof err) < 0 || check_graph_settings(&cfg, err) < 0) {
        fprintf(stderr, "sofiia-supervisor: %s\nsofiia-supervisor: configuration test failed\n",
                err);
        return 1;
    }
    printf("# sofiia-supervisor %s: effective settings (configuration file: %s)\n", PACKAGE_VERSION,
           name ? name : "none");
    sv_config_print(&cfg, stdout);
    fflush(stdout);
    fprintf(stderr, "sofiia-supervisor: configuration %s%stest is successful\n", name ? name : "",
            name ? " " : "");
    sv_config_free(&cfg);
    return 0;
}

/* SIGHUP: read the same file and environment again, apply what can change
 * live, and say in one line what changed and what needs a restart. */
static void reload(sv_daemon *d)
{
    sv_config next;
    char err[512];
    json_object *f = json_object_new_object();
    json_object_object_add(f, "file",
                           d->config_file ? json_object_new_string(d->config_file) : NULL);
    if (read_config(&next, d->config_file, err, sizeof err) < 0) {
        json_object_object_add(f, "reason", json_object_new_string(err));
        sv_log(SV_LEVEL_ERROR, "SIGHUP: configuration not reloaded, the running settings stay", f);
        return;
    }
    json_object *changed = json_object_new_array(), *restart = json_object_new_array();
    enum sv_level before = d->cfg.log_level;
    sv_config_reload(&d->cfg, &next, changed, restart);
    sv_config_free(&next);
    int need_restart = json_object_array_length(restart) > 0;
    json_object_object_add(f, "changed", changed);
    json_object_object_add(f, "restart_needed", restart);
    /* At the lower of the old and new levels, so the line shows whichever
     * way LOG_LEVEL moved. */
    sv_log_set_level(before < d->cfg.log_level ? before : d->cfg.log_level);
    sv_log(need_restart ? SV_LEVEL_WARN : SV_LEVEL_INFO, "SIGHUP: configuration reloaded", f);
    sv_log_set_level(d->cfg.log_level);
    sv_registry_set_interval(d->reg, d->cfg.plugin_scan_ms);
}

int main(int argc, char **argv)
{
    sv_daemon d;
    char err[512];
    int check = 0;
    const char *file = getenv("SUPERVISOR_CONFIG");
    memset(&d, 0, sizeof d);
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--check-config") == 0) {
            check = 1;
        } else if (strcmp(argv[i], "--check-plugin") == 0 && i + 1 < argc) {
            return check_plugin(argv[i + 1]);
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("sofiia-supervisor %s (SDK ABI %d.%d)\n", PACKAGE_VERSION, SV_ABI_MAJOR,
                   SV_ABI_MINOR);
            return 0;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help();
            return 0;
        } else {
            int needs = strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0 ||
                        strcmp(argv[i], "--check-plugin") == 0;
            fprintf(stderr, "sofiia-supervisor: %s%s%s\n", needs ? "" : "unknown argument ",
                    argv[i], needs ? " needs a value" : "");
            usage(stderr);
            return 2;
        }
    }
    if (check)
        return check_config(file);
    if (read_config(&d.cfg, file, err, sizeof err) < 0) {
        die_config(err);
        return 2;
    }
    d.config_file = file && *file ? file : NULL;
    sv_log_set_level(d.cfg.log_level);

    /* Signals are taken by sigwait() here; every other thread inherits the
     * mask, so no handler ever runs in the middle of a node. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (start(&d) < 0) {
        stop(&d);
        return d.bad_setting ? 2 : 1;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(&d);
            sv_logf(SV_LEVEL_INFO, "SIGHUP: rescanning %s, retrying refused files",
                    d.cfg.plugin_dir);
            sv_registry_scan(d.reg, 1);
            continue;
        }
        sv_logf(SV_LEVEL_INFO, "%s: stopping (grace %lld ms)",
                sig == SIGTERM ? "SIGTERM" : "SIGINT", (long long)d.cfg.shutdown_grace_ms);
        break;
    }
    stop(&d);
    sv_logf(SV_LEVEL_INFO, "stopped");
    return 0;
}
