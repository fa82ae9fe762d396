/*
 * fuzz_request.c - the HTTP API behind the transport: sv_api_handle given a
 * method, a path with its query, headers and a body, without a socket.
 *
 * The input is a request in a simple text form:
 *
 *     METHOD /path?query LF
 *     Name: value LF          (headers, up to 16)
 *     LF
 *     body (any bytes)
 *
 * The query is split and %-decoded as libmicrohttpd does; the request's
 * accessors (sv_req_header, sv_req_query, sv_req_unknown_query in http.c)
 * read it through the libmicrohttpd functions they call, which this file
 * defines in place of the library's (a program's own definition wins over
 * a shared library's), with the one an event stream asks for its socket.  "Authorization: Bearer K"
 * picks one of two API keys (one limited to workspaces ws1 and ws2), as http.c's check would;
 * without it the API is open.
 *
 * Covered: routing, 404/405, strict body parsing (json_strict.c), start
 * validation and the input schemas and prepare_input of the real graphs
 * (loaded from SV_FUZZ_PLUGIN_DIR, or the build tree's plugins under
 * SV_BUILDDIR), Idempotency-Key, MAX_RUNS_ACTIVE (10 here), workspace
 * limits, run views (plain reads; ?wait= is answered at once: no watch),
 * listings, cancels, /metrics, /readyz, the SSE endpoints' first answers
 * (their streams are discarded unsent: the stream's filling needs
 * libmicrohttpd), /ui/.  The runs started are
 * executed by a real executor whose tool calls fail at once (no router), on
 * the embedded store with a 2 s TTL.
 * Not covered here: libmicrohttpd's own parsing and http.c's assembly of
 * bodies (413), the Bearer check's constant-time compare, parking, Redis.
 *
 * Invariants: no request makes a 500 (what goes wrong is the caller's, 4xx,
 * or the store's, 503); an error answer is {"error":{"code","message"}} with
 * a snake_case code.
 */
#include "fuzz.h"

#include "api.h"
#include "auth.h"
#include "config.h"
#include "executor.h"
#include "gateway.h"
#include "graph_settings.h"
#include "host.h"
#include "http.h"
#include "http_internal.h"
#include "log.h"
#include "registry.h"
#include "store.h"

#include <ftw.h>
#include <microhttpd.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_MAX_KV 16

/* What the fake libmicrohttpd connection holds: the decoded request. */
struct fuzz_conn {
    const char *hk[FUZZ_MAX_KV], *hv[FUZZ_MAX_KV];
    const char *qk[FUZZ_MAX_KV], *qv[FUZZ_MAX_KV];
    int nh, nq;
};

/* The library's lookups, on the fake connection (see the top). */
const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    const struct fuzz_conn *c = (const struct fuzz_conn *)connection;
    if (kind == MHD_HEADER_KIND) {
        for (int i = 0; i < c->nh; i++)
            if (strcasecmp(c->hk[i], key) == 0)
                return c->hv[i];
    } else if (kind == MHD_GET_ARGUMENT_KIND) {
        for (int i = 0; i < c->nq; i++)
            if (strcmp(c->qk[i], key) == 0)
                return c->qv[i];
    }
    return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    const struct fuzz_conn *c = (const struct fuzz_conn *)connection;
    int n = 0;
    if (kind == MHD_HEADER_KIND) {
        for (; n < c->nh; n++)
            if (iterator && iterator(iterator_cls, kind, c->hk[n], c->hv[n]) == MHD_NO)
                return n + 1;
    } else if (kind == MHD_GET_ARGUMENT_KIND) {
        for (; n < c->nq; n++)
            if (iterator && iterator(iterator_cls, kind, c->qk[n], c->qv[n]) == MHD_NO)
                return n + 1;
    }
    return n;
}

/* An event stream asks for its client's socket: none here. */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *connection,
                                                        enum MHD_ConnectionInfoType info_type, ...)
{
    (void)connection;
    (void)info_type;
    return NULL;
}

/* The daemon's parts, made once. */
static struct {
    int ready;
    sv_config cfg;
    sv_store *store;
    sv_gateway *gw;
    sv_registry *reg;
    sv_exec *exec;
    sv_auth *auth;
    sv_api api;
    struct sv_http http; /* what an event stream counts itself in; never started */
    char plugins[256], copies[256];
    int own_plugins; /* plugins is a temporary directory of ours */
} g;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void copy_file(const char *from, const char *dir, const char *name)
{
    char to[512], buf[65536];
    snprintf(to, sizeof to, "%s/%s", dir, name);
    FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (out)
        fclose(out);
    if (in)
        fclose(in);
}

/* PLUGIN_DIR: SV_FUZZ_PLUGIN_DIR as it is, or a private one with the
 * build tree's graphs (SV_BUILDDIR, as make check sets it). */
static int plugin_dir(void)
{
    const char *dir = getenv("SV_FUZZ_PLUGIN_DIR"), *build = getenv("SV_BUILDDIR");
    const char *tmp = getenv("TMPDIR");
    if (dir && *dir) {
        snprintf(g.plugins, sizeof g.plugins, "%s", dir);
        return 0;
    }
    snprintf(g.plugins, sizeof g.plugins, "%s/sv-fuzz-plugins.XXXXXX",
             tmp && *tmp == '/' ? tmp : "/tmp");
    if (!mkdtemp(g.plugins))
        return -1;
    g.own_plugins = 1;
    static const char *const graphs[] = {"release_check", "incident_triage"};
    for (size_t i = 0; build && i < sizeof graphs / sizeof graphs[0]; i++) {
        char from[512], name[64];
        snprintf(from, sizeof from, "%s/plugins/%s/.libs/%s.so", build, graphs[i], graphs[i]);
        snprintf(name, sizeof name, "%s.so", graphs[i]);
        copy_file(from, g.plugins, name);
    }
    return 0;
}

static int setup(void)
{
    const char *tmp = getenv("TMPDIR");
    if (plugin_dir() < 0 || sv_config_defaults(&g.cfg) < 0)
        return -1;
    /* the runs' tool calls all fail: their lines would drown the fuzzer's */
    sv_log_set_level(getenv("SV_FUZZ_VERBOSE") ? SV_LEVEL_INFO : SV_LEVEL_ERROR);
    g.cfg.max_runs_active = 10;
    free(g.cfg.plugin_dir);
    g.cfg.plugin_dir = strdup(g.plugins);
    snprintf(g.copies, sizeof g.copies, "%s/sv-fuzz-copies.XXXXXX",
             tmp && *tmp == '/' ? tmp : "/tmp");
    sv_gateway_cfg gc = {.base_url = "http://127.0.0.1:9",
                         .timeout_ms = 1000,
                         .max_attempts = 1,
                         .backoff_base_ms = 1,
                         .backoff_cap_ms = 1};
    char why[256];
    if (!mkdtemp(g.copies) || sv_store_mem_new(2, &g.store) < 0 || sv_gateway_new(&gc, &g.gw) < 0 ||
        sv_auth_parse("fz1:fuzz-secret-number-one@ws1+ws2,fz2:fuzz-secret-number-two", &g.auth, why,
                      sizeof why) < 0)
        return -1;
    static char *const no_env[] = {NULL}; /* graphs' settings: their defaults */
    sv_host_env env = {
        .gateway = g.gw, .cancel_grace_ms = 1000, .run_default_timeout_ms = 3600 * 1000};
    sv_host_setup(&env);
    sv_gset_setup(no_env, NULL, 3600 * 1000);
    if (sv_registry_new(g.plugins, g.copies, sv_host_table(), &g.reg) < 0)
        return -1;
    sv_registry_scan(g.reg, 0);
    sv_exec_cfg ec = {.threads = 1, .max_threads = 2, .store = g.store};
    if (sv_exec_new(&ec, &g.exec) < 0)
        return -1;
    g.api = (sv_api){.cfg = &g.cfg,
                     .store = g.store,
                     .reg = g.reg,
                     .exec = g.exec,
                     .host = sv_host_table(),
                     .gw = g.gw};
    g.ready = 1;
    return 0;
}

void sv_fuzz_request_cleanup(void)
{
    if (g.exec) {
        sv_exec_shutdown(g.exec, 0);
        sv_exec_free(g.exec);
    }
    sv_registry_free(g.reg);
    sv_gateway_free(g.gw);
    if (g.store)
        g.store->ops->destroy(g.store);
    sv_auth_free(g.auth);
    if (g.ready || g.cfg.plugin_dir)
        sv_config_free(&g.cfg);
    if (g.copies[0])
        nftw(g.copies, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (g.own_plugins)
        nftw(g.plugins, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    memset(&g, 0, sizeof g);
}

/* %XX and '+' as libmicrohttpd unescapes arguments. */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        unsigned v;
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && s[1] && s[2] && sscanf(s + 1, "%2x", &v) == 1 && v != 0) {
            *o++ = (char)v;
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

static void split_query(char *q, struct fuzz_conn *c)
{
    for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv && c->nq < FUZZ_MAX_KV;
         kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq)
            *eq = '\0';
        unescape(kv);
        c->qk[c->nq] = kv;
        c->qv[c->nq] = eq ? eq + 1 : "";
        if (eq)
            unescape(eq + 1);
        c->nq++;
    }
}

static int snake_case(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

static void check_answer(const sv_resp *resp)
{
    if (resp->stream) /* sent as 200 whatever status says */
        return;
    /* what went wrong is the caller's (4xx) or the store's (503), never the
     * daemon's own (500) */
    int ok = resp->status >= 200 && resp->status < 500 ? 1 : resp->status == 503;
    if (!ok)
        fprintf(stderr, "answer %d: %s\n", resp->status,
                resp->body ? json_object_to_json_string(resp->body) : "(no JSON body)");
    SV_FUZZ_CHECK(ok, "the status is 2xx, 3xx, 4xx or 503, never 500");
    if (resp->status >= 400 && !resp->is_file) {
        json_object *e = NULL, *code = NULL, *msg = NULL;
        SV_FUZZ_CHECK(resp->body && json_object_object_get_ex(resp->body, "error", &e) &&
                          json_object_object_get_ex(e, "code", &code) &&
                          json_object_object_get_ex(e, "message", &msg),
                      "an error answer is {\"error\":{\"code\",\"message\"}}");
        SV_FUZZ_CHECK(snake_case(json_object_get_string(code)), "an error code is snake_case");
    } else if (resp->status < 300) {
        SV_FUZZ_CHECK(resp->body || resp->text || resp->json_text || resp->is_file || resp->stream,
                      "a success has a body");
    }
}

int sv_fuzz_request(const uint8_t *data, size_t size)
{
    struct fuzz_conn conn;
    if (!g.ready)
        SV_FUZZ_CHECK(setup() == 0, "the API can be set up (TMPDIR, SV_BUILDDIR's plugins)");
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    memset(&conn, 0, sizeof conn);
    /* the request line: a NUL inside ends it, as libmicrohttpd would refuse */
    size_t line = strcspn(text, "\n");
    char *method = text, *path = NULL, *body = text + size;
    if (line < size)
        text[line] = '\0';
    if (strlen(text) != line || !(path = strchr(method, ' '))) {
        free(text);
        return 0;
    }
    *path++ = '\0';
    char *query = strchr(path, '?');
    if (query) {
        *query++ = '\0';
        split_query(query, &conn);
    }
    /* headers up to an empty line; the rest is the body */
    char *end = text + size;
    body = end;
    for (char *h = line < size ? text + line + 1 : end; h < end;) {
        char *nl = memchr(h, '\n', (size_t)(end - h)), *stop = nl ? nl : end;
        if (stop == h) {
            body = nl + 1;
            break;
        }
        *stop = '\0';
        char *colon = strchr(h, ':');
        if (colon && conn.nh < FUZZ_MAX_KV) {
            *colon = '\0';
            conn.hk[conn.nh] = h;
            conn.hv[conn.nh++] = colon[1] == ' ' ? colon + 2 : colon + 1;
        }
        h = nl ? nl + 1 : end;
    }
    const char *auth = MHD_lookup_connection_value((struct MHD_Connection *)&conn, MHD_HEADER_KIND,
                                                   "Authorization");
    const sv_auth_key *key = NULL;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0 && !(key = sv_auth_match(g.auth, auth + 7))) {
        free(text); /* http.c answers 401 before any handler */
        return 0;
    }
    int64_t park_deadline = 0;
    sv_req req = {.conn = &conn,
                  .method = method,
                  .path = path,
                  .body = body,
                  .body_len = (size_t)(end - body),
                  .park_deadline = &park_deadline,
                  .http = &g.http,
                  .key = key};
    sv_resp resp = {.status = 500};
    sv_api_handle(&g.api, &req, &resp);
    SV_FUZZ_CHECK(!resp.parked, "nothing parks without a watch");
    if (getenv("SV_FUZZ_VERBOSE")) /* what each input got, to see what a corpus covers */
        fprintf(stderr, "%d %s %s\n", resp.stream ? 200 : resp.status, method, path);
    check_answer(&resp);
    json_object_put(resp.body);
    free(resp.text);
    free(resp.json_text);
    free(resp.raw);
    if (resp.stream)
        sv_stream_discard(resp.stream);
    free(text);
    return 0;
}

#ifdef SV_FUZZ_LIBFUZZER
/* libFuzzer exits without a word to its targets: the temporary
 * directories go with the process. */
static void at_exit(void)
{
    if (g.copies[0])
        nftw(g.copies, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    if (g.own_plugins)
        nftw(g.plugins, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    atexit(at_exit);
    return 0;
}
#endif

SV_FUZZ_MAIN(sv_fuzz_request)
