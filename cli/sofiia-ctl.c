/*
 * sofiia-ctl - the supervisor's HTTP API from a shell: list graphs, start a
 * run (and wait for it), show, wait for, cancel, retain and list runs.  Answers are
 * the API's JSON on stdout, so they pipe into jq; errors are one line on
 * stderr and an exit status a script can branch on (docs/cli.md).
 */
#include "sv_build.h" /* PACKAGE_VERSION */

#include "ctl_events.h"
#include "ctl_http.h"
#include "ctl_new_graph.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    SV_CTL_OK = 0,         /* done; a waited run succeeded */
    SV_CTL_RUN_FAILED = 1, /* a waited run failed or was cancelled */
    SV_CTL_USAGE = 2,      /* bad command line */
    SV_CTL_API = 3,        /* the API answered with an error */
    SV_CTL_NO_ANSWER = 4,  /* no answer: not running, wrong URL, timeout */
    SV_CTL_WAIT_TIMEOUT = 5,
};

typedef struct opts {
    const char *graph, *status, *workspace, *limit, *cursor;
    int all; /* list: follow "next" to the last page */
    const char *input, *user, *agent;
    double wait_sec; /* 0 = do not wait; <0 = wait forever */
} opts;

static void usage(FILE *f)
{
    fprintf(f, "usage: sofiia-ctl [-u URL] [-k KEY] COMMAND [ARGS]   (sofiia-ctl --help)\n");
}

/* --help: every option, command and environment variable (sofiia-ctl(1)). */
static void help(void)
{
    printf("usage: sofiia-ctl [-u URL] [-k KEY] COMMAND [ARGS]\n"
           "       sofiia-ctl --help | --version\n"
           "The sofiia-supervisor HTTP API from a shell: answers are JSON on stdout.\n"
           "\nOptions (before the command):\n"
           "  -u, --url URL        the daemon (default: $SUPERVISOR_URL, else\n"
           "                       http://127.0.0.1:8080)\n"
           "  -k, --key KEY        API key sent as Authorization: Bearer KEY (default:\n"
           "                       $SUPERVISOR_INTERNAL_KEY; prefer it: ps shows arguments)\n"
           "  -h, --help           this text\n"
           "  --version            the version\n"
           "\nCommands:\n"
           "  graphs                          the graphs and their input schemas\n"
           "  start GRAPH [-i JSON|@FILE|@-] [-w WORKSPACE] [--user ID] [--agent ID]\n"
           "              [--idempotency-key K] [--wait [SEC]]\n"
           "  get RUN_ID                      the run view\n"
           "  wait RUN_ID [--timeout SEC]     until the run ends; exit 0 if it succeeded\n"
           "  cancel RUN_ID\n"
           "  retain RUN_ID TTL_SEC           keep the run at least TTL_SEC more (never less\n"
           "                                  than it had; at most RUN_RETAIN_MAX_SEC)\n"
           "  list [--graph G] [--status S] [--workspace W] [--limit N]\n"
           "       [--cursor C | --all]       a page (newest first; \"next\" goes on), or\n"
           "                                  every page as one {\"runs\": [...]}\n"
           "  events RUN_ID [--follow] [--since N]\n"
           "                                  the run's events as JSON lines; --follow: live,\n"
           "                                  until the run ends (exit 0 if it succeeded)\n"
           "  new-graph NAME [DIR]            write a graph to start from (Makefile, unit\n"
           "                                  test on the SDK's test kit, router-sim scenario)\n"
           "\nstart's options: -i, --input JSON|@FILE|@- (default {}); -w, --workspace ID\n"
           "(default cli); --user ID (default $USER); --agent ID (default sofiia-ctl);\n"
           "--idempotency-key K; --wait [SEC] (print the final view; give up after SEC).\n"
           "\nEnvironment: SUPERVISOR_URL, SUPERVISOR_INTERNAL_KEY, USER.\n"
           "Exit status: 0 ok (a waited run succeeded), 1 a waited run failed or was\n"
           "cancelled, 2 bad command line, 3 the API answered with an error, 4 no answer,\n"
           "5 the wait timed out.  See sofiia-ctl(1) and docs/cli.md.\n");
}

static void print_json(json_object *o)
{
    puts(json_object_to_json_string_ext(o,
                                        JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* One request; prints the answer on success.  An exit status. */
static int call(const sv_ctl *c, const char *method, const char *path, const char *body,
                json_object **keep)
{
    sv_ctl_resp r;
    char why[1024];
    if (sv_ctl_request(c, method, path, body, &r) < 0) {
        fprintf(stderr, "sofiia-ctl: no answer from %s\n", r.error);
        return SV_CTL_NO_ANSWER;
    }
    if (r.status >= 400 || !r.json) {
        sv_ctl_describe(&r, why, sizeof why);
        fprintf(stderr, "sofiia-ctl: %s\n", why);
        sv_ctl_resp_free(&r);
        return SV_CTL_API;
    }
    if (keep)
        *keep = json_object_get(r.json);
    else
        print_json(r.json);
    sv_ctl_resp_free(&r);
    return SV_CTL_OK;
}

static const char *str_at(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait for the run to end with long-polls (?wait=, at most 30 s each: no
 * polling interval, the answer comes when the run ends); prints the final
 * view.  timeout_sec < 0: no limit. */
static int wait_run(const sv_ctl *c, const char *id, double timeout_sec)
{
    char path[256];
    double start = now_sec();
    sv_ctl lp = *c;
    for (;;) {
        double left = timeout_sec < 0 ? 30 : timeout_sec - (now_sec() - start);
        long w = left >= 30 ? 30 : left >= 1 ? (long)left : 0;
        snprintf(path, sizeof path, "/v1/runs/%s?wait=%ld", id, w);
        lp.timeout_ms = c->timeout_ms + w * 1000; /* the wait is not a slow answer */
        json_object *v = NULL;
        int rc = call(&lp, "GET", path, NULL, &v);
        if (rc != SV_CTL_OK)
            return rc;
        char st[32];
        snprintf(st, sizeof st, "%s", str_at(v, "status") ? str_at(v, "status") : "?");
        if (strcmp(st, "succeeded") == 0 || strcmp(st, "failed") == 0 ||
            strcmp(st, "cancelled") == 0) {
            print_json(v);
            rc = strcmp(st, "succeeded") == 0 ? SV_CTL_OK : SV_CTL_RUN_FAILED;
            json_object_put(v);
            return rc;
        }
        json_object_put(v); /* st is a copy: it outlives the view */
        if (timeout_sec >= 0 && now_sec() - start >= timeout_sec) {
            fprintf(stderr, "sofiia-ctl: run %s still %s after %g s\n", id, st, timeout_sec);
            return SV_CTL_WAIT_TIMEOUT;
        }
        if (w == 0) { /* under a second left: look again shortly */
            struct timespec ts = {0, 100 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
}

/* -i: inline JSON, @FILE, or @- for stdin. */
static char *read_input(const char *arg)
{
    if (arg[0] != '@')
        return strdup(arg);
    FILE *f = strcmp(arg, "@-") == 0 ? stdin : fopen(arg + 1, "r");
    if (!f) {
        fprintf(stderr, "sofiia-ctl: -i %s: cannot open it\n", arg);
        return NULL;
    }
    size_t n = 0, cap = 4096, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *p = realloc(buf, cap * 2);
            if (!p)
                free(buf);
            buf = p;
            cap *= 2;
        }
    }
    if (buf)
        buf[n] = '\0';
    if (f != stdin)
        fclose(f);
    return buf;
}

static int cmd_start(const sv_ctl *c, const opts *o)
{
    int rc = SV_CTL_USAGE;
    char path[300];
    char *text = o->input ? read_input(o->input) : strdup("{}");
    json_object *input = text ? json_tokener_parse(text) : NULL, *body = NULL, *ans = NULL;
    if (!input || !json_object_is_type(input, json_type_object)) {
        fprintf(stderr, "sofiia-ctl: -i: the input must be a JSON object\n");
        goto out;
    }
    const char *user = o->user ? o->user : getenv("USER");
    body = json_object_new_object();
    json_object_object_add(body, "workspace_id",
                           json_object_new_string(o->workspace ? o->workspace : "cli"));
    json_object_object_add(body, "user_id", json_object_new_string(user && *user ? user : "cli"));
    json_object_object_add(body, "agent_id",
                           json_object_new_string(o->agent ? o->agent : "sofiia-ctl"));
    json_object_object_add(body, "input", json_object_get(input));
    snprintf(path, sizeof path, "/v1/graphs/%s/runs", o->graph);
    rc = call(c, "POST", path, json_object_to_json_string(body), o->wait_sec != 0 ? &ans : NULL);
    if (rc == SV_CTL_OK && ans) {
        const char *id = str_at(ans, "run_id");
        rc = id ? wait_run(c, id, o->wait_sec) : SV_CTL_API;
    }
out:
    json_object_put(ans);
    json_object_put(body);
    json_object_put(input);
    free(text);
    return rc;
}

/* Append "&name=value" (escaped) to q when value is set. */
static void add_query(CURL *h, char *q, size_t len, const char *name, const char *value)
{
    if (!value)
        return;
    char *e = curl_easy_escape(h, value, 0);
    size_t used = strlen(q);
    snprintf(q + used, len - used, "%s%s=%s", used ? "&" : "?", name, e ? e : "");
    curl_free(e);
}

/* GET /v1/runs with the list options, from cursor (NULL: the newest). */
static int list_page(const sv_ctl *c, const opts *o, const char *cursor, json_object **page)
{
    char q[2048] = "", path[2100];
    CURL *h = curl_easy_init();
    if (!h)
        return SV_CTL_NO_ANSWER;
    add_query(h, q, sizeof q, "graph", o->graph);
    add_query(h, q, sizeof q, "status", o->status);
    add_query(h, q, sizeof q, "workspace_id", o->workspace);
    add_query(h, q, sizeof q, "limit", o->limit);
    add_query(h, q, sizeof q, "cursor", cursor);
    curl_easy_cleanup(h);
    snprintf(path, sizeof path, "/v1/runs%s", q);
    return call(c, "GET", path, NULL, page);
}

/* list, or with --all every page's runs in one answer. */
static int cmd_list(const sv_ctl *c, const opts *o)
{
    if (!o->all)
        return list_page(c, o, o->cursor, NULL);
    json_object *all = json_object_new_array(), *page = NULL;
    char *cursor = NULL;
    int rc;
    do {
        json_object *runs = NULL, *next = NULL;
        rc = list_page(c, o, cursor, &page);
        free(cursor);
        cursor = NULL;
        if (rc != SV_CTL_OK)
            break;
        if (json_object_object_get_ex(page, "runs", &runs))
            for (size_t i = 0; i < json_object_array_length(runs); i++)
                json_object_array_add(all, json_object_get(json_object_array_get_idx(runs, i)));
        if (json_object_object_get_ex(page, "next", &next) &&
            json_object_is_type(next, json_type_string))
            cursor = strdup(json_object_get_string(next));
        json_object_put(page);
        page = NULL;
    } while (cursor);
    if (rc == SV_CTL_OK) {
        json_object *o2 = json_object_new_object();
        json_object_object_add(o2, "runs", json_object_get(all));
        json_object_object_add(o2, "next", NULL);
        print_json(o2);
        json_object_put(o2);
    }
    json_object_put(all);
    return rc;
}

/* retain RUN_ID TTL_SEC: the seconds as the API takes them, a whole number. */
static int cmd_retain(const sv_ctl *c, const char *id, const char *ttl)
{
    char body[64], path[256];
    if (!*ttl || strspn(ttl, "0123456789") != strlen(ttl) || strlen(ttl) > 12) {
        fprintf(stderr, "sofiia-ctl: retain: \"%s\" is not a whole number of seconds\n", ttl);
        return SV_CTL_USAGE;
    }
    snprintf(body, sizeof body, "{\"ttl_sec\":%s}", ttl);
    snprintf(path, sizeof path, "/v1/runs/%s/retain", id);
    return call(c, "POST", path, body, NULL);
}

/* A run id is put in a path: refuse what is not one before it goes out. */
static int check_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 35 && strncmp(id, "gr_", 3) == 0 && strspn(id + 3, "0123456789abcdef") == 32)
        return 0;
    fprintf(stderr, "sofiia-ctl: \"%s\" is not a run id (gr_ and 32 lowercase hex digits)\n", id);
    return -1;
}

static int parse_sec(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!*s || *end || v <= 0 || v > 1e7) {
        fprintf(stderr, "sofiia-ctl: \"%s\": expected a number of seconds > 0\n", s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Options after the command; positional arguments into pos. */
static int parse_opts(int argc, char **argv, sv_ctl *c, opts *o, const char **pos, int max_pos)
{
    int n = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = strcmp(a, "--graph") == 0                               ? &o->graph
                            : strcmp(a, "--status") == 0                            ? &o->status
                            : strcmp(a, "-w") == 0 || strcmp(a, "--workspace") == 0 ? &o->workspace
                            : strcmp(a, "--limit") == 0                             ? &o->limit
                            : strcmp(a, "--cursor") == 0                            ? &o->cursor
                            : strcmp(a, "-i") == 0 || strcmp(a, "--input") == 0     ? &o->input
                            : strcmp(a, "--user") == 0                              ? &o->user
                            : strcmp(a, "--agent") == 0                             ? &o->agent
                            : strcmp(a, "--idempotency-key") == 0                   ? &c->idem_key
                                                                                    : NULL;
        if (slot) {
            if (!v) {
                fprintf(stderr, "sofiia-ctl: %s needs a value\n", a);
                return -1;
            }
            *slot = v;
            i++;
        } else if (strcmp(a, "--all") == 0) {
            o->all = 1;
        } else if (strcmp(a, "--wait") == 0 || strcmp(a, "--timeout") == 0) {
            o->wait_sec = -1;
            if (v && (v[0] >= '0' && v[0] <= '9')) {
                if (parse_sec(v, &o->wait_sec) < 0)
                    return -1;
                i++;
            } else if (strcmp(a, "--timeout") == 0) {
                fprintf(stderr, "sofiia-ctl: --timeout needs a number of seconds\n");
                return -1;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "sofiia-ctl: unknown option %s\n", a);
            return -1;
        } else if (n < max_pos) {
            pos[n++] = a;
        } else {
            fprintf(stderr, "sofiia-ctl: unexpected argument \"%s\"\n", a);
            return -1;
        }
    }
    return n;
}

static int run_command(sv_ctl *c, const char *cmd, int argc, char **argv)
{
    opts o = {0};
    const char *pos[2] = {NULL, NULL};
    char path[256];
    int n = parse_opts(argc, argv, c, &o, pos, 2);
    if (n < 0)
        return SV_CTL_USAGE;
    int want = strcmp(cmd, "graphs") == 0 || strcmp(cmd, "list") == 0 ? 0
               : strcmp(cmd, "retain") == 0                           ? 2
                                                                      : 1;
    if (n != want) {
        fprintf(stderr, "sofiia-ctl: %s takes %s\n", cmd,
                want == 2 ? "two arguments (RUN_ID TTL_SEC)"
                : want    ? "one argument"
                          : "no positional argument");
        return SV_CTL_USAGE;
    }
    if (o.all && o.cursor) {
        fprintf(stderr, "sofiia-ctl: list: --all starts from the newest run; leave --cursor out\n");
        return SV_CTL_USAGE;
    }
    if (strcmp(cmd, "graphs") == 0)
        return call(c, "GET", "/v1/graphs", NULL, NULL);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(c, &o);
    if (strcmp(cmd, "start") == 0) {
        o.graph = pos[0];
        return cmd_start(c, &o);
    }
    if (check_id(pos[0]) < 0)
        return SV_CTL_USAGE;
    snprintf(path, sizeof path, "/v1/runs/%s", pos[0]);
    if (strcmp(cmd, "get") == 0)
        return call(c, "GET", path, NULL, NULL);
    if (strcmp(cmd, "wait") == 0)
        return wait_run(c, pos[0], o.wait_sec == 0 ? -1 : o.wait_sec);
    if (strcmp(cmd, "cancel") == 0) {
        snprintf(path, sizeof path, "/v1/runs/%s/cancel", pos[0]);
        return call(c, "POST", path, "", NULL);
    }
    if (strcmp(cmd, "retain") == 0)
        return cmd_retain(c, pos[0], pos[1]);
    fprintf(stderr, "sofiia-ctl: unknown command \"%s\"\n", cmd);
    usage(stderr);
    return SV_CTL_USAGE;
}

int main(int argc, char **argv)
{
    sv_ctl c = {.timeout_ms = 30000};
    const char *url = getenv("SUPERVISOR_URL");
    c.key = getenv("SUPERVISOR_INTERNAL_KEY");
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if ((strcmp(argv[i], "-u") == 0 || strcmp(argv[i], "--url") == 0) && i + 1 < argc) {
            url = argv[++i];
        } else if ((strcmp(argv[i], "-k") == 0 || strcmp(argv[i], "--key") == 0) && i + 1 < argc) {
            c.key = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            help();
            return SV_CTL_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("sofiia-ctl %s\n", PACKAGE_VERSION);
            return SV_CTL_OK;
        } else {
            fprintf(stderr, "sofiia-ctl: unknown option %s\n", argv[i]);
            usage(stderr);
            return SV_CTL_USAGE;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return SV_CTL_USAGE;
    }
    if (strcmp(argv[i], "new-graph") == 0) /* files only: no daemon, no curl */
        return sv_ctl_new_graph(argc - i - 1, argv + i + 1);
    snprintf(c.base, sizeof c.base, "%s", url && *url ? url : "http://127.0.0.1:8080");
    for (size_t n = strlen(c.base); n > 0 && c.base[n - 1] == '/';)
        c.base[--n] = '\0';
    if (c.key && !*c.key)
        c.key = NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = strcmp(argv[i], "events") == 0 ? sv_ctl_events(&c, argc - i - 1, argv + i + 1)
                                            : run_command(&c, argv[i], argc - i - 1, argv + i + 1);
    curl_global_cleanup();
    return rc;
}
