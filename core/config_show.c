/* config_show.c - the settings as an operator sees them: --help, the effective
 * values of --check-config (secrets masked), and what SIGHUP may change live.
 * Parsing and checking stay in config.c; see config.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct sv_setting {
    const char *key;
    int live;           /* SIGHUP applies a change */
    const char *dflt;   /* the default as --help says it; NULL: the value itself */
    const char *accept; /* accepted values */
    const char *help;   /* what it does, one line */
} sv_setting;

/* The order of sv_config_keys(); docs/operations.md says the same at length. */
static const sv_setting g_settings[] = {
    {"SUPERVISOR_LISTEN", 0, NULL, "ADDRESS:PORT (IPv4, [IPv6] or localhost; port 0 = any)",
     "where the HTTP API listens"},
    {"SUPERVISOR_INTERNAL_KEY", 0, "unset (the API is open)",
     "KEY, or ID:KEY[@WS[+WS]][,...] (docs/operations.md)",
     "keys callers send as Authorization: Bearer KEY; all but /healthz need one"},
    {"GATEWAY_BASE_URL", 0, NULL, "http(s)://host[:port][/prefix]",
     "the router: tool calls go to {GATEWAY_BASE_URL}/v1/tools/execute"},
    {"SUPERVISOR_API_KEY", 0, "unset (no Authorization header)", "printable ASCII, no spaces",
     "sent to the router as Authorization: Bearer KEY; never logged"},
    {"REDIS_URL", 0, "unset (embedded in-memory store)",
     "redis://[:password@]host:port[/db] or unix:///path", "the shared, durable run store"},
    {"RUN_TTL_SEC", 0, NULL, "1..315360000", "how long a run is kept after its last change"},
    {"PLUGIN_DIR", 0, NULL, "an existing, readable directory",
     "where graph .so files are loaded from and watched"},
    {"WORKER_THREADS", 0, "online CPU cores, at most 256", "1..1024",
     "threads that execute node code at once"},
    {"WORKER_THREADS_MAX", 0, NULL, "1..16384",
     "threads in all, those waiting on the router or the store included"},
    {"RUN_DEFAULT_TIMEOUT_SEC", 0, NULL, "1..31536000",
     "deadline of a run whose graph declares none, in seconds from its creation"},
    {"MAX_NODES_PER_RUN", 0, NULL, "1..1000000000",
     "nodes one run may execute; past it the run fails with node_limit"},
    {"LOG_LEVEL", 1, NULL, "debug, info, warn, error", "the lowest level logged"},
    {"GATEWAY_TIMEOUT_SEC", 0, NULL, "1..3600", "time limit of one attempt of a tool call"},
    {"GATEWAY_MAX_ATTEMPTS", 0, NULL, "1..20", "attempts per tool call, the first included"},
    {"GATEWAY_BACKOFF_MS", 0, NULL, "1..60000", "base of the backoff between attempts"},
    {"MAX_BODY_BYTES", 0, NULL, "1024..67108864", "largest request body accepted (else 413)"},
    {"SHUTDOWN_GRACE_SEC", 1, NULL, "0..600",
     "how long a stop waits for executing nodes before aborting their tool calls"},
    {"PLUGIN_SCAN_MS", 1, NULL, "100..60000", "how often PLUGIN_DIR is looked at"},
    {"PLUGIN_CACHE_DIR", 0, "$STATE_DIRECTORY (systemd), else ${TMPDIR:-/tmp}/sofiia-plugins-UID",
     "an absolute path, not on a noexec mount",
     "where private copies of plugins are loaded from; created if missing"},
    {"CANCEL_GRACE_SEC", 0, NULL, "1..600", "time limit of each tool call of a cancel hook"},
    {"SUPERVISOR_NODE_ID", 0, "unset (random n_XXXXXXXXXXXX at each start)",
     "0-64 of [A-Za-z0-9_.:-]", "with Redis: this instance's name, unique and stable"},
    {"NODE_TTL_SEC", 0, NULL, "1..3600",
     "with Redis: an instance silent this long is dead and its runs are resumed"},
    {"MAX_CONNECTIONS", 0, NULL, "16..1000000",
     "HTTP connections open at once; RLIMIT_NOFILE is raised to fit them"},
    {"CONNECTION_TIMEOUT_SEC", 0, NULL, "1..3600",
     "an HTTP connection idle this long is closed (not a waiting request)"},
    {"MAX_RUNS_ACTIVE", 0, NULL, "1..10000000",
     "runs accepted and not yet finished here; past it, starts get 429"},
    {"MAX_RESUMES", 0, NULL, "1..1000",
     "with Redis: a run resumed after this many recorded crashes fails (resume_limit)"},
    {"QUARANTINE_CRASHES", 0, NULL, "0..1000",
     "with Redis: a graph version that crashed this often is refused (0: never)"},
    {"UI_DIR", 0, NULL, "an absolute path",
     "the run console's static files, served at /ui/ (docs/ui.md)"},
    {"SSE_HEARTBEAT_SEC", 0, NULL, "1..3600",
     "an idle event stream sends a comment line this often (keeps proxies from cutting it)"},
    {"METRICS_LISTEN", 0, "unset (no metrics listener)",
     "ADDRESS:PORT (IPv4, [IPv6] or localhost), or empty",
     "a second listener with only GET /metrics and /healthz, open without a key: a private "
     "interface only"},
    {"RUN_RETAIN_MAX_SEC", 0, NULL, "1..315360000",
     "longest ttl_sec POST /v1/runs/{id}/retain accepts (keeps a run past RUN_TTL_SEC)"},
};

static const sv_setting *setting(const char *key)
{
    for (size_t i = 0; i < sizeof g_settings / sizeof g_settings[0]; i++)
        if (strcmp(g_settings[i].key, key) == 0)
            return &g_settings[i];
    return NULL;
}

int sv_config_is_live(const char *key)
{
    const sv_setting *s = setting(key);
    return s && s->live;
}

/* REDIS_URL with its password (if any) masked. */
static void format_redis(const char *url, int masked, char *buf, size_t len)
{
    const char *at = strncmp(url, "redis://", 8) == 0 ? strrchr(url + 8, '@') : NULL;
    if (!masked || !at) {
        snprintf(buf, len, "%s", url);
        return;
    }
    const char *user = url + 8, *colon = memchr(user, ':', (size_t)(at - user));
    int ulen = (int)((colon ? colon : at) - user);
    snprintf(buf, len, "redis://%.*s:********%s", ulen, user, at);
}

static void format_secret(const char *v, int masked, char *buf, size_t len)
{
    snprintf(buf, len, "%s", !v ? "" : masked ? "********" : v);
}

int sv_config_format(const sv_config *c, const char *key, int masked, char *buf, size_t len)
{
    long long n = 0;
    const char *s = NULL;
    if (strcmp(key, "SUPERVISOR_LISTEN") == 0) {
        int v6 = strchr(c->listen_host, ':') != NULL;
        snprintf(buf, len, "%s%s%s:%d", v6 ? "[" : "", c->listen_host, v6 ? "]" : "",
                 c->listen_port);
        return 0;
    }
    if (strcmp(key, "METRICS_LISTEN") == 0) {
        int v6 = strchr(c->metrics_host, ':') != NULL;
        if (c->metrics_port < 0)
            snprintf(buf, len, "%s", "");
        else
            snprintf(buf, len, "%s%s%s:%d", v6 ? "[" : "", c->metrics_host, v6 ? "]" : "",
                     c->metrics_port);
        return 0;
    }
    if (strcmp(key, "SUPERVISOR_INTERNAL_KEY") == 0) {
        format_secret(c->internal_key, masked, buf, len);
        return 0;
    }
    if (strcmp(key, "SUPERVISOR_API_KEY") == 0) {
        format_secret(c->api_key, masked, buf, len);
        return 0;
    }
    if (strcmp(key, "REDIS_URL") == 0) {
        format_redis(c->redis_url ? c->redis_url : "", masked, buf, len);
        return 0;
    }
    if (strcmp(key, "GATEWAY_BASE_URL") == 0)
        s = c->gateway_base_url;
    else if (strcmp(key, "PLUGIN_DIR") == 0)
        s = c->plugin_dir;
    else if (strcmp(key, "PLUGIN_CACHE_DIR") == 0)
        s = c->plugin_cache_dir;
    else if (strcmp(key, "SUPERVISOR_NODE_ID") == 0)
        s = c->node_id;
    else if (strcmp(key, "UI_DIR") == 0)
        s = c->ui_dir;
    else if (strcmp(key, "LOG_LEVEL") == 0)
        s = sv_log_level_name(c->log_level);
    else if (strcmp(key, "RUN_TTL_SEC") == 0)
        n = c->run_ttl_sec;
    else if (strcmp(key, "RUN_RETAIN_MAX_SEC") == 0)
        n = c->run_retain_max_sec;
    else if (strcmp(key, "WORKER_THREADS") == 0)
        n = c->worker_threads;
    else if (strcmp(key, "WORKER_THREADS_MAX") == 0)
        n = c->worker_threads_max;
    else if (strcmp(key, "RUN_DEFAULT_TIMEOUT_SEC") == 0)
        n = c->run_default_timeout_sec;
    else if (strcmp(key, "MAX_NODES_PER_RUN") == 0)
        n = c->max_nodes_per_run;
    else if (strcmp(key, "GATEWAY_TIMEOUT_SEC") == 0)
        n = c->gateway_timeout_ms / 1000;
    else if (strcmp(key, "GATEWAY_MAX_ATTEMPTS") == 0)
        n = c->gateway_max_attempts;
    else if (strcmp(key, "GATEWAY_BACKOFF_MS") == 0)
        n = c->gateway_backoff_ms;
    else if (strcmp(key, "MAX_BODY_BYTES") == 0)
        n = c->max_body_bytes;
    else if (strcmp(key, "SHUTDOWN_GRACE_SEC") == 0)
        n = c->shutdown_grace_ms / 1000;
    else if (strcmp(key, "PLUGIN_SCAN_MS") == 0)
        n = c->plugin_scan_ms;
    else if (strcmp(key, "CANCEL_GRACE_SEC") == 0)
        n = c->cancel_grace_ms / 1000;
    else if (strcmp(key, "NODE_TTL_SEC") == 0)
        n = c->node_ttl_ms / 1000;
    else if (strcmp(key, "MAX_CONNECTIONS") == 0)
        n = c->max_connections;
    else if (strcmp(key, "CONNECTION_TIMEOUT_SEC") == 0)
        n = c->connection_timeout_sec;
    else if (strcmp(key, "MAX_RESUMES") == 0)
        n = c->max_resumes;
    else if (strcmp(key, "QUARANTINE_CRASHES") == 0)
        n = c->quarantine_crashes;
    else if (strcmp(key, "MAX_RUNS_ACTIVE") == 0)
        n = c->max_runs_active;
    else if (strcmp(key, "SSE_HEARTBEAT_SEC") == 0)
        n = c->sse_heartbeat_ms / 1000;
    else
        return -ENOENT;
    if (s)
        snprintf(buf, len, "%s", s);
    else
        snprintf(buf, len, "%lld", n);
    return 0;
}

void sv_config_print(const sv_config *c, FILE *out)
{
    char value[1024], line[1200];
    const char *const *keys = sv_config_keys();
    for (int i = 0; keys[i]; i++) {
        uint64_t bit = i < 64 ? UINT64_C(1) << i : 0;
        const char *from = c->from_env & bit    ? "environment"
                           : c->from_file & bit ? "file"
                                                : "default";
        if (sv_config_format(c, keys[i], 1, value, sizeof value) < 0)
            snprintf(value, sizeof value, "?");
        snprintf(line, sizeof line, "%s=%s", keys[i], value);
        fprintf(out, "%-44s # %s%s%s\n", line, from, value[0] ? "" : ", unset",
                setting(keys[i]) ? "" : ", not described");
    }
}

void sv_config_help(FILE *out)
{
    sv_config d;
    char value[1024];
    int have = sv_config_defaults(&d) == 0;
    const char *const *keys = sv_config_keys();
    for (int i = 0; keys[i]; i++) {
        const sv_setting *s = setting(keys[i]);
        if (!s) {
            fprintf(out, "  %s\n      (see docs/operations.md)\n", keys[i]);
            continue;
        }
        if (s->dflt || !have || sv_config_format(&d, keys[i], 1, value, sizeof value) < 0)
            snprintf(value, sizeof value, "%s", s->dflt ? s->dflt : "?");
        fprintf(out, "  %s%s\n      %s\n      values: %s\n      default: %s\n", keys[i],
                s->live ? "  (SIGHUP applies a change)" : "", s->help, s->accept, value);
    }
    if (have)
        sv_config_free(&d);
}

/* Copy one live setting from next into cur. */
static void apply_live(sv_config *cur, const sv_config *next, const char *key)
{
    if (strcmp(key, "LOG_LEVEL") == 0)
        cur->log_level = next->log_level;
    else if (strcmp(key, "SHUTDOWN_GRACE_SEC") == 0)
        cur->shutdown_grace_ms = next->shutdown_grace_ms;
    else if (strcmp(key, "PLUGIN_SCAN_MS") == 0)
        cur->plugin_scan_ms = next->plugin_scan_ms;
}

int sv_config_reload(sv_config *cur, const sv_config *next, json_object *changed,
                     json_object *restart)
{
    char a[1024], b[1024], shown_a[1024], shown_b[1024], line[2200];
    int n = 0;
    const char *const *keys = sv_config_keys();
    for (int i = 0; keys[i]; i++) {
        if (sv_config_format(cur, keys[i], 0, a, sizeof a) < 0 ||
            sv_config_format(next, keys[i], 0, b, sizeof b) < 0 || strcmp(a, b) == 0)
            continue;
        n++;
        if (!sv_config_is_live(keys[i])) {
            json_object_array_add(restart, json_object_new_string(keys[i]));
            continue;
        }
        sv_config_format(cur, keys[i], 1, shown_a, sizeof shown_a);
        sv_config_format(next, keys[i], 1, shown_b, sizeof shown_b);
        snprintf(line, sizeof line, "%s: %s -> %s", keys[i], shown_a, shown_b);
        json_object_array_add(changed, json_object_new_string(line));
        apply_live(cur, next, keys[i]);
    }
    return n;
}
