/* config.c - parsing and checking the settings; see config.h. */
#include "config.h"
#include "plugin_cache.h"
#include "auth.h"
#include "graph_settings.h"
#include "registry.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SV_PLUGIN_DIR
#define SV_PLUGIN_DIR "/usr/local/lib/sofiia/plugins"
#endif
#ifndef SV_UI_DIR
#define SV_UI_DIR "/usr/local/share/sofiia/ui"
#endif

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int replace_str(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(*slot);
    *slot = copy;
    return 0;
}

/* PLUGIN_CACHE_DIR's default: under systemd the unit's StateDirectory (it
 * sets STATE_DIRECTORY; with several, the first), else a directory of this
 * user's under TMPDIR or /tmp. */
static int default_cache_dir(sv_config *cfg)
{
    char buf[4096];
    const char *state = getenv("STATE_DIRECTORY");
    const char *tmp = getenv("TMPDIR");
    if (state && state[0] == '/')
        snprintf(buf, sizeof buf, "%.*s", (int)strcspn(state, ":"), state);
    else
        snprintf(buf, sizeof buf, "%s/sofiia-plugins-%u", tmp && tmp[0] == '/' ? tmp : "/tmp",
                 (unsigned)geteuid());
    return replace_str(&cfg->plugin_cache_dir, buf);
}

int sv_config_defaults(sv_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "0.0.0.0");
    cfg->listen_port = 8080;
    cfg->metrics_port = -1;
    cfg->run_ttl_sec = 86400;
    cfg->run_retain_max_sec = 2592000; /* 30 days */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->worker_threads = cores > 0 ? (int)(cores > 256 ? 256 : cores) : 2;
    cfg->worker_threads_max = 1024;
    cfg->run_default_timeout_sec = 3600;
    cfg->max_nodes_per_run = 10000;
    cfg->log_level = SV_LEVEL_INFO;
    cfg->gateway_timeout_ms = 30000;
    cfg->gateway_max_attempts = 4;
    cfg->gateway_backoff_ms = 200;
    cfg->max_body_bytes = 1048576;
    cfg->shutdown_grace_ms = 5000;
    cfg->plugin_scan_ms = 1000;
    cfg->cancel_grace_ms = 10000;
    cfg->node_ttl_ms = 10000;
    cfg->max_connections = 10000;
    cfg->connection_timeout_sec = 60;
    cfg->max_runs_active = 50000;
    cfg->max_resumes = 3;
    cfg->quarantine_crashes = 3;
    cfg->sse_heartbeat_ms = 15000;
    if (replace_str(&cfg->gateway_base_url, "http://router:8000") < 0 ||
        replace_str(&cfg->plugin_dir, SV_PLUGIN_DIR) < 0 ||
        replace_str(&cfg->ui_dir, SV_UI_DIR) < 0 || default_cache_dir(cfg) < 0) {
        sv_config_free(cfg);
        return -ENOMEM;
    }
    return 0;
}

/* Keys do not outlive their use in freed memory. */
static void free_secret(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

void sv_config_free(sv_config *cfg)
{
    free_secret(cfg->internal_key);
    free_secret(cfg->api_key);
    free(cfg->gateway_base_url);
    free(cfg->redis_url);
    free(cfg->plugin_dir);
    free(cfg->ui_dir);
    cfg->ui_dir = NULL;
    free(cfg->plugin_cache_dir);
    cfg->plugin_cache_dir = NULL;
    sv_gset_file_free(cfg->graph_file);
    cfg->graph_file = NULL;
    cfg->internal_key = cfg->gateway_base_url = cfg->api_key = NULL;
    cfg->redis_url = cfg->plugin_dir = NULL;
}

/* A whole decimal integer in [min, max]; nothing else on the line. */
static int parse_int(const char *key, const char *v, long long min, long long max, long long *out,
                     char *err, size_t len)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || isspace((unsigned char)*v) || errno || *end != '\0')
        return fail(err, len, "%s=\"%s\": not a whole number (expected %lld..%lld)", key, v, min,
                    max);
    if (n < min || n > max)
        return fail(err, len, "%s=\"%s\": out of range (expected %lld..%lld)", key, v, min, max);
    *out = n;
    return 0;
}

/* key=ADDRESS:PORT (IPv4, [IPv6] or localhost) into host and *port_out. */
static int parse_addr(const char *key, const char *v, const char *example, char *host_out,
                      size_t host_len, int *port_out, char *err, size_t len)
{
    const char *colon = strrchr(v, ':');
    char host[256];
    if (!colon || colon == v || (size_t)(colon - v) >= sizeof host)
        return fail(err, len, "%s=\"%s\": expected address:port, e.g. %s", key, v, example);
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = '\0';
    /* "[::1]:8080" -> "::1" */
    if (host[0] == '[') {
        size_t hl = strlen(host);
        if (hl < 3 || host[hl - 1] != ']')
            return fail(err, len, "%s=\"%s\": unbalanced [ ] around the address", key, v);
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    if (strcmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    unsigned char buf[16];
    if (inet_pton(AF_INET, host, buf) != 1 && inet_pton(AF_INET6, host, buf) != 1)
        return fail(err, len, "%s=\"%s\": \"%s\" is not an IPv4/IPv6 address or localhost", key, v,
                    host);
    long long port;
    char perr[256];
    if (parse_int("port", colon + 1, 0, 65535, &port, perr, sizeof perr) < 0)
        return fail(err, len, "%s=\"%s\": the port must be 0..65535", key, v);
    snprintf(host_out, host_len, "%s", host);
    *port_out = (int)port;
    return 0;
}

static int parse_listen(sv_config *cfg, const char *v, char *err, size_t len)
{
    return parse_addr("SUPERVISOR_LISTEN", v, "0.0.0.0:8080", cfg->listen_host,
                      sizeof cfg->listen_host, &cfg->listen_port, err, len);
}

/* Empty: no metrics listener.  An address is required (no ":9100" meaning
 * every interface): the listener is open without a key, so where it
 * listens is said outright (docs/security.md). */
static int parse_metrics_listen(sv_config *cfg, const char *v, char *err, size_t len)
{
    if (!*v) {
        cfg->metrics_host[0] = '\0';
        cfg->metrics_port = -1;
        return 0;
    }
    return parse_addr("METRICS_LISTEN", v, "127.0.0.1:9100", cfg->metrics_host,
                      sizeof cfg->metrics_host, &cfg->metrics_port, err, len);
}

static int parse_url(sv_config *cfg, const char *v, char *err, size_t len)
{
    const char *rest = NULL;
    if (strncmp(v, "http://", 7) == 0)
        rest = v + 7;
    else if (strncmp(v, "https://", 8) == 0)
        rest = v + 8;
    if (!rest || !*rest || *rest == '/' || *rest == ':')
        return fail(err, len, "GATEWAY_BASE_URL=\"%s\": expected http://host[:port][/prefix]", v);
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20)
            return fail(err, len, "GATEWAY_BASE_URL=\"%s\": contains white space", v);
    int rc = replace_str(&cfg->gateway_base_url, v);
    if (rc < 0)
        return rc;
    size_t n = strlen(cfg->gateway_base_url);
    while (n > 0 && cfg->gateway_base_url[n - 1] == '/')
        cfg->gateway_base_url[--n] = '\0';
    return 0;
}

static int parse_redis(sv_config *cfg, const char *v, char *err, size_t len)
{
    if (strncmp(v, "redis://", 8) == 0) {
        const char *hostpart = strrchr(v + 8, '@');
        hostpart = hostpart ? hostpart + 1 : v + 8;
        if (!*hostpart || *hostpart == '/' || *hostpart == ':')
            return fail(err, len,
                        "REDIS_URL=\"%s\": expected redis://[:password@]host:port[/db] or "
                        "unix:///path",
                        v);
    } else if (strncmp(v, "unix://", 7) == 0) {
        if (v[7] != '/')
            return fail(err, len, "REDIS_URL=\"%s\": a unix socket URL needs an absolute path", v);
    } else {
        return fail(err, len,
                    "REDIS_URL=\"%s\": expected redis://[:password@]host:port[/db] or unix:///path",
                    v);
    }
    return replace_str(&cfg->redis_url, v);
}

/* A secret may be empty only by being unset: "" would make auth trivially
 * pass or send "Bearer " to the router. */
static void free_secret(char *s);

static int parse_secret(char **slot, const char *key, const char *v, char *err, size_t len)
{
    if (!*v) {
        free_secret(*slot);
        *slot = NULL;
        return 0;
    }
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return fail(err, len, "%s: contains a space or control character (value not shown)",
                        key);
    char *copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    free_secret(*slot);
    *slot = copy;
    return 0;
}

/* The API keys (auth.h): checked in full now, so a bad list stops start-up
 * with one line; the text is kept and http.c parses it again. */
static int parse_internal_key(sv_config *cfg, const char *v, char *err, size_t len)
{
    sv_auth *a = NULL;
    char why[384];
    int rc = sv_auth_parse(v, &a, why, sizeof why);
    sv_auth_free(a);
    if (rc == -EINVAL)
        return fail(err, len, "SUPERVISOR_INTERNAL_KEY: %s", why);
    if (rc < 0)
        return rc;
    return parse_secret(&cfg->internal_key, "SUPERVISOR_INTERNAL_KEY", v, err, len);
}

/* It names keys in the store and appears in logs: the run id alphabet. */
static int parse_node_id(sv_config *cfg, const char *v, char *err, size_t len)
{
    size_t n = strlen(v);
    if (n >= sizeof cfg->node_id || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                              "0123456789_.:-") != n)
        return fail(err, len,
                    "SUPERVISOR_NODE_ID=\"%.80s\": expected 0-64 characters of [A-Za-z0-9_.:-]", v);
    memcpy(cfg->node_id, v, n + 1);
    return 0;
}

int sv_config_set(sv_config *cfg, const char *key, const char *v, int from_file, char *err,
                  size_t len)
{
    long long n = 0;
    int rc = 0;
    if (strcmp(key, "SUPERVISOR_LISTEN") == 0)
        return parse_listen(cfg, v, err, len);
    if (strcmp(key, "METRICS_LISTEN") == 0)
        return parse_metrics_listen(cfg, v, err, len);
    if (strcmp(key, "SUPERVISOR_INTERNAL_KEY") == 0)
        return parse_internal_key(cfg, v, err, len);
    if (strcmp(key, "SUPERVISOR_API_KEY") == 0)
        return parse_secret(&cfg->api_key, key, v, err, len);
    if (strcmp(key, "GATEWAY_BASE_URL") == 0)
        return parse_url(cfg, v, err, len);
    if (strcmp(key, "REDIS_URL") == 0) {
        if (!*v) {
            free(cfg->redis_url);
            cfg->redis_url = NULL;
            return 0;
        }
        return parse_redis(cfg, v, err, len);
    }
    if (strcmp(key, "PLUGIN_DIR") == 0) {
        if (!*v)
            return fail(err, len, "PLUGIN_DIR is empty: give the directory of the graph .so files");
        return replace_str(&cfg->plugin_dir, v);
    }
    if (strcmp(key, "PLUGIN_CACHE_DIR") == 0) {
        if (v[0] != '/' || strlen(v) > 200)
            return fail(err, len,
                        "PLUGIN_CACHE_DIR=\"%.220s\": expected an absolute path of at most 200 "
                        "characters (a directory for the private copies of plugins)",
                        v);
        return replace_str(&cfg->plugin_cache_dir, v);
    }
    if (strcmp(key, "LOG_LEVEL") == 0) {
        if (sv_log_parse_level(v, &cfg->log_level) < 0)
            return fail(err, len, "LOG_LEVEL=\"%s\": expected debug, info, warn or error", v);
        return 0;
    }
    if (strcmp(key, "RUN_TTL_SEC") == 0) {
        rc = parse_int(key, v, 1, 315360000, &n, err, len);
        if (rc == 0)
            cfg->run_ttl_sec = n;
    } else if (strcmp(key, "RUN_RETAIN_MAX_SEC") == 0) {
        rc = parse_int(key, v, 1, 315360000, &n, err, len);
        if (rc == 0)
            cfg->run_retain_max_sec = n;
    } else if (strcmp(key, "WORKER_THREADS") == 0) {
        rc = parse_int(key, v, 1, 1024, &n, err, len);
        if (rc == 0)
            cfg->worker_threads = (int)n;
    } else if (strcmp(key, "WORKER_THREADS_MAX") == 0) {
        rc = parse_int(key, v, 1, 16384, &n, err, len);
        if (rc == 0)
            cfg->worker_threads_max = (int)n;
    } else if (strcmp(key, "RUN_DEFAULT_TIMEOUT_SEC") == 0) {
        rc = parse_int(key, v, 1, 31536000, &n, err, len);
        if (rc == 0)
            cfg->run_default_timeout_sec = n;
    } else if (strcmp(key, "MAX_NODES_PER_RUN") == 0) {
        rc = parse_int(key, v, 1, 1000000000, &n, err, len);
        if (rc == 0)
            cfg->max_nodes_per_run = (int)n;
    } else if (strcmp(key, "GATEWAY_TIMEOUT_SEC") == 0) {
        rc = parse_int(key, v, 1, 3600, &n, err, len);
        if (rc == 0)
            cfg->gateway_timeout_ms = n * 1000;
    } else if (strcmp(key, "GATEWAY_MAX_ATTEMPTS") == 0) {
        rc = parse_int(key, v, 1, 20, &n, err, len);
        if (rc == 0)
            cfg->gateway_max_attempts = (int)n;
    } else if (strcmp(key, "GATEWAY_BACKOFF_MS") == 0) {
        rc = parse_int(key, v, 1, 60000, &n, err, len);
        if (rc == 0)
            cfg->gateway_backoff_ms = n;
    } else if (strcmp(key, "MAX_BODY_BYTES") == 0) {
        rc = parse_int(key, v, 1024, 64LL * 1024 * 1024, &n, err, len);
        if (rc == 0)
            cfg->max_body_bytes = n;
    } else if (strcmp(key, "SHUTDOWN_GRACE_SEC") == 0) {
        rc = parse_int(key, v, 0, 600, &n, err, len);
        if (rc == 0)
            cfg->shutdown_grace_ms = n * 1000;
    } else if (strcmp(key, "PLUGIN_SCAN_MS") == 0) {
        rc = parse_int(key, v, 100, 60000, &n, err, len);
        if (rc == 0)
            cfg->plugin_scan_ms = n;
    } else if (strcmp(key, "CANCEL_GRACE_SEC") == 0) {
        rc = parse_int(key, v, 1, 600, &n, err, len);
        if (rc == 0)
            cfg->cancel_grace_ms = n * 1000;
    } else if (strcmp(key, "NODE_TTL_SEC") == 0) {
        rc = parse_int(key, v, 1, 3600, &n, err, len);
        if (rc == 0)
            cfg->node_ttl_ms = n * 1000;
    } else if (strcmp(key, "MAX_CONNECTIONS") == 0) {
        rc = parse_int(key, v, 16, 1000000, &n, err, len);
        if (rc == 0)
            cfg->max_connections = (unsigned)n;
    } else if (strcmp(key, "CONNECTION_TIMEOUT_SEC") == 0) {
        rc = parse_int(key, v, 1, 3600, &n, err, len);
        if (rc == 0)
            cfg->connection_timeout_sec = (unsigned)n;
    } else if (strcmp(key, "MAX_RESUMES") == 0) {
        rc = parse_int(key, v, 1, 1000, &n, err, len);
        if (rc == 0)
            cfg->max_resumes = (int)n;
    } else if (strcmp(key, "QUARANTINE_CRASHES") == 0) {
        rc = parse_int(key, v, 0, 1000, &n, err, len);
        if (rc == 0)
            cfg->quarantine_crashes = (int)n;
    } else if (strcmp(key, "MAX_RUNS_ACTIVE") == 0) {
        rc = parse_int(key, v, 1, 10000000, &n, err, len);
        if (rc == 0)
            cfg->max_runs_active = (long)n;
    } else if (strcmp(key, "SUPERVISOR_NODE_ID") == 0) {
        rc = parse_node_id(cfg, v, err, len);
    } else if (strcmp(key, "UI_DIR") == 0) {
        /* looked at when the console is asked for: a daemon without it
         * serves the API all the same */
        if (v[0] != '/' || strlen(v) > 1024)
            return fail(err, len,
                        "UI_DIR=\"%.200s\": expected an absolute path of at most 1024 characters "
                        "(the run console's files)",
                        v);
        return replace_str(&cfg->ui_dir, v);
    } else if (strcmp(key, "SSE_HEARTBEAT_SEC") == 0) {
        rc = parse_int(key, v, 1, 3600, &n, err, len);
        if (rc == 0)
            cfg->sse_heartbeat_ms = n * 1000;
    } else if (from_file) {
        rc = fail(err, len, "unknown setting \"%s\" (see docs/operations.md for the list)", key);
    }
    return rc;
}

static const char *const g_keys[] = {"SUPERVISOR_LISTEN",   "SUPERVISOR_INTERNAL_KEY",
                                     "GATEWAY_BASE_URL",    "SUPERVISOR_API_KEY",
                                     "REDIS_URL",           "RUN_TTL_SEC",
                                     "PLUGIN_DIR",          "WORKER_THREADS",
                                     "WORKER_THREADS_MAX",  "RUN_DEFAULT_TIMEOUT_SEC",
                                     "MAX_NODES_PER_RUN",   "LOG_LEVEL",
                                     "GATEWAY_TIMEOUT_SEC", "GATEWAY_MAX_ATTEMPTS",
                                     "GATEWAY_BACKOFF_MS",  "MAX_BODY_BYTES",
                                     "SHUTDOWN_GRACE_SEC",  "PLUGIN_SCAN_MS",
                                     "PLUGIN_CACHE_DIR",    "CANCEL_GRACE_SEC",
                                     "SUPERVISOR_NODE_ID",  "NODE_TTL_SEC",
                                     "MAX_CONNECTIONS",     "CONNECTION_TIMEOUT_SEC",
                                     "MAX_RUNS_ACTIVE",     "MAX_RESUMES",
                                     "QUARANTINE_CRASHES",  "UI_DIR",
                                     "SSE_HEARTBEAT_SEC",   "METRICS_LISTEN",
                                     "RUN_RETAIN_MAX_SEC",  NULL};

const char *const *sv_config_keys(void)
{
    return g_keys;
}

int sv_config_key_index(const char *key)
{
    for (int i = 0; g_keys[i]; i++)
        if (strcmp(g_keys[i], key) == 0)
            return i;
    return -1;
}

/* Note where a setting came from (for --check-config). */
static void mark(uint64_t *bits, const char *key)
{
    int i = sv_config_key_index(key);
    if (i >= 0 && i < 64)
        *bits |= UINT64_C(1) << i;
}

int sv_config_load_env(sv_config *cfg, char *const *envp, char *err, size_t len)
{
    for (char *const *e = envp; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        for (const char *const *k = g_keys; *k; k++) {
            size_t kl = strlen(*k);
            if ((size_t)(eq - *e) == kl && strncmp(*e, *k, kl) == 0) {
                int rc = sv_config_set(cfg, *k, eq + 1, 0, err, len);
                if (rc < 0)
                    return rc;
                mark(&cfg->from_env, *k);
            }
        }
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int sv_config_load_file(sv_config *cfg, const char *path, char *err, size_t len)
{
    int rc = 0;
    char line[4096], graph[80] = "";
    int lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, len, "config file %s: %s", path, strerror(errno));
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        /* [graph NAME]: the settings a graph declares (graph_settings.h) */
        if (*s == '[') {
            int n = 0;
            if (sscanf(s, "[graph %64[a-z0-9_]]%n", graph, &n) != 1 || s[n] != '\0') {
                rc = fail(err, len,
                          "config file %s line %d: expected a section [graph NAME] (NAME: the "
                          "graph's name, [a-z0-9_])",
                          path, lineno);
                goto out;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = fail(err, len, "config file %s line %d: expected KEY=VALUE", path, lineno);
            goto out;
        }
        *eq = '\0';
        char *key = trim(s);
        char *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        }
        char sub[512];
        /* In a section, or not the daemon's: a graph's, perhaps; checked
         * when the plugins are loaded (sv_gset_unclaimed). */
        if (graph[0] || sv_config_key_index(key) < 0) {
            rc =
                sv_gset_file_add(&cfg->graph_file, graph[0] ? graph : NULL, key, val, path, lineno);
            if (rc < 0)
                goto out;
            continue;
        }
        rc = sv_config_set(cfg, key, val, 1, sub, sizeof sub);
        if (rc < 0) {
            fail(err, len, "config file %s line %d: %s", path, lineno, sub);
            goto out;
        }
        mark(&cfg->from_file, key);
    }
out:
    fclose(f);
    return rc;
}

int sv_config_validate(const sv_config *cfg, char *err, size_t len)
{
    struct stat st;
    if (stat(cfg->plugin_dir, &st) < 0)
        return fail(err, len, "PLUGIN_DIR=\"%s\": %s", cfg->plugin_dir, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return fail(err, len, "PLUGIN_DIR=\"%s\": not a directory", cfg->plugin_dir);
    if (access(cfg->plugin_dir, R_OK | X_OK) < 0)
        return fail(err, len, "PLUGIN_DIR=\"%s\": not readable", cfg->plugin_dir);
    char why[256];
    if (sv_registry_check_mode(&st, why, sizeof why) < 0)
        return fail(err, len, "PLUGIN_DIR=\"%s\": %s", cfg->plugin_dir, why);
    return sv_plugin_cache_check(cfg->plugin_cache_dir, err, len);
}
