/*
 * sv_test.c - the test kit's mock host: loading a graph with the daemon's
 * rules (core/graph_rules.c, core/schema*.c, core/json_strict.c are linked
 * in, not copied), the host table, and a run executed as the daemon's
 * executor does it (core/executor.c step_run), on a simulated clock.
 */
#include "sv_test_internal.h"

#include "graph_rules.h"
#include "json_strict.h"
#include "schema.h"

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-02-23T10:00:00Z, the seed's example date. */
#define SV_TEST_EPOCH_MS 1771840800000LL

json_object *sv_test_json(const char *text, int strict, char *why, size_t len)
{
    char field[128];
    json_object *o = NULL;
    enum json_tokener_error jerr = json_tokener_success;
    char *copy = strdup(text ? text : "null");
    if (!copy) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    if (!strchr(copy, '"'))
        for (char *p = copy; *p; p++)
            if (*p == '\'')
                *p = '"';
    if (!strict) {
        o = json_tokener_parse_verbose(copy, &jerr);
        if (!o && jerr != json_tokener_success)
            snprintf(why, len, "%s", json_tokener_error_desc(jerr));
    } else if (sv_json_parse_strict(copy, strlen(copy), &o, why, len, field, sizeof field) < 0) {
        o = NULL;
    }
    free(copy);
    return o;
}

/* ---- host functions ---------------------------------------------------------- */

static json_object *t_input(sv_ctx *ctx)
{
    return ctx->t->input;
}

static json_object *t_state(sv_ctx *ctx)
{
    return ctx->t->state;
}

static const char *t_run_id(sv_ctx *ctx)
{
    return ctx->t->run_id;
}

static const char *t_node(sv_ctx *ctx)
{
    return ctx->t->node_name;
}

static void call_event(sv_test *t, const char *tool, const char *action, const char *call_id,
                       const char *status, int http, int64_t ms, const char *code)
{
    json_object *d = json_object_new_object();
    json_object_object_add(d, "tool", json_object_new_string(tool));
    json_object_object_add(d, "action", json_object_new_string(action));
    json_object_object_add(d, "call_id", json_object_new_string(call_id));
    json_object_object_add(d, "attempt", json_object_new_int(1));
    json_object_object_add(d, "status", json_object_new_string(status));
    json_object_object_add(d, "http_status", json_object_new_int(http));
    json_object_object_add(d, "duration_ms", json_object_new_int64(ms));
    if (code && *code)
        json_object_object_add(d, "error_code", json_object_new_string(code));
    sv_test_event_add(t, "tool_call", t->node_name, d);
}

static void record_call(sv_test *t, const char *tool, const char *action, const char *call_id,
                        json_object *params, int rc, const char *code)
{
    sv_test_call *c = realloc(t->calls, (t->n_calls + 1) * sizeof *c);
    if (!c)
        return;
    t->calls = c;
    c = &t->calls[t->n_calls++];
    c->tool = strdup(tool);
    c->action = strdup(action);
    c->node = strdup(t->node_name);
    c->call_id = strdup(call_id);
    c->params = NULL;
    if (!params || json_object_deep_copy(params, &c->params, NULL) != 0)
        c->params = json_object_new_object();
    c->rc = rc;
    c->error = strdup(code ? code : "");
}

static int t_tool_call(sv_ctx *ctx, const char *tool, const char *action, json_object *params,
                       json_object **data, sv_error *err)
{
    sv_test *t = ctx->t;
    sv_error local;
    char call_id[300];
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (data)
        *data = NULL;
    if (sv_rule_tool_call(tool, action, params, err) != SV_OK)
        return SV_EINVAL;
    if (!t->cleanup && t->stop != SV_TEST_STOP_NONE) {
        snprintf(err->code, sizeof err->code, "cancelled");
        snprintf(err->message, sizeof err->message, "the run is stopping");
        return SV_ECANCELLED;
    }
    if (!t->call_seq && !(t->call_seq = calloc(t->g->n_nodes + 1, sizeof *t->call_seq)))
        return SV_ENOMEM;
    uint32_t slot = t->cleanup || !t->node ? t->g->n_nodes : (uint32_t)(t->node - t->g->nodes);
    snprintf(call_id, sizeof call_id, "%s:%s:%u", t->run_id, t->node_name, ++t->call_seq[slot]);
    const sv_test_ans *a = sv_test_next_answer(t, tool, action);
    int64_t latency = a ? a->latency_ms : 0;
    if (!t->cleanup && ++t->n_calls_made == t->cancel_at_call) {
        t->stop = SV_TEST_STOP_USER; /* cancelled while the call is in flight */
        latency = 0;
    } else if (!t->cleanup && t->now_ms + latency >= t->deadline_ms) {
        latency = t->deadline_ms > t->now_ms ? t->deadline_ms - t->now_ms : 0;
        t->stop = SV_TEST_STOP_TIMEOUT; /* the deadline aborts the call */
    }
    t->now_ms += latency;
    if (!t->cleanup && t->stop != SV_TEST_STOP_NONE) {
        call_event(t, tool, action, call_id, "error", 0, latency, "cancelled");
        record_call(t, tool, action, call_id, params, SV_ECANCELLED, "cancelled");
        snprintf(err->code, sizeof err->code, "cancelled");
        snprintf(err->message, sizeof err->message, "the run is stopping");
        return SV_ECANCELLED;
    }
    if (!a || a->code[0]) {
        const char *code = a ? a->code : "not_found";
        snprintf(err->code, sizeof err->code, "%s", code);
        if (a)
            snprintf(err->message, sizeof err->message, "%s", a->message);
        else
            snprintf(err->message, sizeof err->message,
                     "router answered HTTP 404 (not_found): no answer scripted for %.80s/%.80s",
                     tool, action);
        call_event(t, tool, action, call_id, "failed", a ? 200 : 404, latency, code);
        record_call(t, tool, action, call_id, params, SV_ETOOL, code);
        return SV_ETOOL;
    }
    call_event(t, tool, action, call_id, "succeeded", 200, latency, NULL);
    record_call(t, tool, action, call_id, params, SV_OK, NULL);
    if (data && a->data && json_object_deep_copy(a->data, data, NULL) != 0)
        *data = NULL;
    return SV_OK;
}

static int t_set_result(sv_ctx *ctx, json_object *result)
{
    json_object_put(ctx->t->result);
    ctx->t->result = result;
    return SV_OK;
}

static int t_fail(sv_ctx *ctx, const char *code, const char *message)
{
    sv_test *t = ctx->t;
    snprintf(t->err_code, sizeof t->err_code, "%s", sv_rule_fail_code(code));
    snprintf(t->err_message, sizeof t->err_message, "%s", message ? message : "");
    return SV_OK;
}

static int t_event(sv_ctx *ctx, const char *type, json_object *details)
{
    if (sv_rule_event(type, details) != SV_OK) {
        json_object_put(details);
        return SV_EINVAL;
    }
    sv_test_event_add(ctx->t, type, ctx->t->node_name,
                      details ? details : json_object_new_object());
    return SV_OK;
}

static void t_log(sv_ctx *ctx, int level, const char *message)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    const char *v = getenv("SV_TEST_LOG");
    if (v && *v && strcmp(v, "0") != 0)
        fprintf(stderr, "  [%s] %s%s%s\n",
                names[level < 0   ? 0
                      : level > 3 ? 3
                                  : level],
                ctx ? ctx->t->node_name : "", ctx ? ": " : "", message ? message : "");
}

static int t_cancelled(sv_ctx *ctx)
{
    return ctx->t->stop != SV_TEST_STOP_NONE;
}

/* A kit's table is its first member: the graph hands it back to us. */
static sv_test *of_host(const sv_host *host)
{
    return (sv_test *)(void *)((char *)(uintptr_t)host - offsetof(sv_test, host));
}

static sv_test *g_only; /* for the ctx-less host functions of ABI 1.0 */

static int64_t t_now_ms(sv_ctx *ctx)
{
    sv_test *t = ctx ? ctx->t : g_only;
    return t ? t->now_ms : SV_TEST_EPOCH_MS;
}

static int64_t t_created_ms(sv_ctx *ctx)
{
    return ctx->t->created_ms;
}

static json_object *t_setting(const sv_host *host, const char *name)
{
    json_object *v = NULL;
    if (!host || !name)
        return NULL;
    return json_object_object_get_ex(of_host(host)->settings, name, &v) ? v : NULL;
}

/* As the daemon: the integer value of a variable the graph declares. */
static long t_config_int(const char *key, long def)
{
    sv_test *t = g_only;
    uint32_t n = 0;
    const sv_setting *set = t ? sv_rule_settings(t->g, &n) : NULL;
    for (uint32_t i = 0; key && i < n; i++) {
        char var[200];
        snprintf(var, sizeof var, "GRAPH_%s_%s", t->g->name, set[i].name);
        for (char *p = var; *p; p++)
            *p = (char)toupper((unsigned char)*p);
        json_object *v = NULL;
        if ((strcmp(var, key) == 0 || (set[i].env && strcmp(set[i].env, key) == 0)) &&
            json_object_object_get_ex(t->settings, set[i].name, &v) &&
            json_object_is_type(v, json_type_int))
            return (long)json_object_get_int64(v);
    }
    return def;
}

static int64_t t_deadline_ms(sv_ctx *ctx)
{
    return ctx->t->deadline_ms;
}

/* ---- the graph ------------------------------------------------------------------ */

static sv_test *kit_new(void)
{
    sv_test *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->host = (sv_host){
        .abi_major = SV_ABI_MAJOR,
        .abi_minor = SV_ABI_MINOR,
        .size = sizeof(sv_host),
        .input = t_input,
        .state = t_state,
        .run_id = t_run_id,
        .node = t_node,
        .tool_call = t_tool_call,
        .set_result = t_set_result,
        .fail = t_fail,
        .event = t_event,
        .log = t_log,
        .cancelled = t_cancelled,
        .now_ms = t_now_ms,
        .created_ms = t_created_ms,
        .config_int = t_config_int,
        .setting = t_setting,
        .deadline_ms = t_deadline_ms,
    };
    t->ctx.t = t;
    t->node_name = "";
    t->default_timeout_ms = 3600 * 1000;
    t->max_nodes = 10000;
    t->now_ms = SV_TEST_EPOCH_MS;
    t->events = json_object_new_array();
    t->state = json_object_new_object();
    snprintf(t->run_id, sizeof t->run_id, "gr_%032x", 1u);
    g_only = t;
    return t;
}

sv_test *sv_test_new(const sv_graph *g)
{
    sv_test *t = kit_new();
    if (t)
        t->g = g;
    return t;
}

sv_test *sv_test_open(const char *so_path)
{
    sv_test *t = kit_new();
    if (!t)
        return NULL;
    dlerror();
    t->dl = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!t->dl) {
        const char *d = dlerror();
        snprintf(t->why, sizeof t->why, "dlopen failed: %s", d ? d : "unknown error");
        t->load_failed = 1;
    } else if (!(t->g = dlsym(t->dl, SV_GRAPH_SYMBOL))) {
        snprintf(t->why, sizeof t->why, "no %s symbol: not a sofiia graph plugin", SV_GRAPH_SYMBOL);
        t->load_failed = 1;
    }
    return t;
}

void sv_test_free(sv_test *t)
{
    if (!t)
        return;
    if (t->inited && t->g->fini)
        t->g->fini();
    for (size_t i = 0; i < t->n_answers; i++) {
        free(t->answers[i].tool);
        free(t->answers[i].action);
        json_object_put(t->answers[i].data);
    }
    free(t->answers);
    for (size_t i = 0; i < t->n_scripts; i++) {
        free(t->scripts[i].tool);
        free(t->scripts[i].action);
    }
    free(t->scripts);
    for (size_t i = 0; i < t->n_set; i++) {
        free(t->set[i].name);
        free(t->set[i].value);
    }
    free(t->set);
    for (size_t i = 0; i < t->n_calls; i++) {
        sv_test_call *c = &t->calls[i];
        free((char *)c->tool);
        free((char *)c->action);
        free((char *)c->node);
        free((char *)c->call_id);
        free((char *)c->error);
        json_object_put(c->params);
    }
    free(t->calls);
    json_object_put(t->schema);
    json_object_put(t->settings);
    json_object_put(t->input);
    json_object_put(t->state);
    json_object_put(t->result);
    json_object_put(t->events);
    free(t->call_seq);
    free(t->path);
    if (t->dl)
        dlclose(t->dl);
    if (g_only == t)
        g_only = NULL;
    free(t);
}

int sv_test_setting(sv_test *t, const char *name, const char *value)
{
    uint32_t n = 0;
    const sv_setting *set = t->g ? sv_rule_settings(t->g, &n) : NULL;
    int known = 0;
    for (uint32_t i = 0; name && i < n; i++)
        known |= strcmp(set[i].name, name) == 0;
    sv_test_setting_val *v = known ? realloc(t->set, (t->n_set + 1) * sizeof *v) : NULL;
    if (!v)
        return -1;
    t->set = v;
    t->set[t->n_set].name = strdup(name);
    t->set[t->n_set].value = strdup(value ? value : "");
    t->n_set++;
    return 0;
}

void sv_test_daemon_limits(sv_test *t, int64_t run_default_timeout_sec, int max_nodes_per_run)
{
    t->default_timeout_ms = run_default_timeout_sec * 1000;
    t->max_nodes = max_nodes_per_run;
}

/* The settings: the test's values (as the operator's) over the defaults. */
static int load_settings(sv_test *t)
{
    uint32_t n = 0;
    const sv_setting *set = sv_rule_settings(t->g, &n);
    char sub[256];
    t->settings = json_object_new_object();
    for (uint32_t i = 0; i < n; i++) {
        const char *text = set[i].def ? set[i].def : "";
        json_object *v = NULL;
        for (size_t k = 0; k < t->n_set; k++)
            if (strcmp(t->set[k].name, set[i].name) == 0)
                text = t->set[k].value;
        if (sv_rule_setting_value(&set[i], text, &v, sub, sizeof sub) < 0) {
            snprintf(t->why, sizeof t->why, "setting %s=\"%.200s\": %s (graph %s)", set[i].name,
                     text, sub, t->g->name);
            return -1;
        }
        json_object_object_add(t->settings, set[i].name, v);
    }
    return 0;
}

int sv_test_load(sv_test *t)
{
    if (t->loaded)
        return 0;
    if (t->load_failed || !t->g) {
        t->load_failed = 1;
        return -1;
    }
    t->load_failed = 1;
    if (sv_rule_abi(t->g, t->why, sizeof t->why) < 0 ||
        sv_rule_descriptor(t->g, t->why, sizeof t->why) < 0 ||
        sv_rule_schema(t->g, &t->schema, t->why, sizeof t->why) < 0 || load_settings(t) < 0)
        return -1;
    if (!t->call_seq)
        t->call_seq = calloc(t->g->n_nodes + 1, sizeof *t->call_seq);
    if (!t->call_seq) {
        snprintf(t->why, sizeof t->why, "out of memory");
        return -1;
    }
    if (t->g->init) {
        int irc = t->g->init(&t->host);
        if (irc != 0) {
            snprintf(t->why, sizeof t->why, "graph %s: init() returned %d", t->g->name, irc);
            return -1;
        }
        t->inited = 1;
    }
    t->load_failed = 0;
    t->loaded = 1;
    return 0;
}

const char *sv_test_why(sv_test *t)
{
    return t->why;
}

/* ---- the run -------------------------------------------------------------------------- */

void sv_test_set_now_ms(sv_test *t, int64_t now_ms)
{
    t->now_ms = now_ms;
}

void sv_test_cancel_at_call(sv_test *t, int n)
{
    t->cancel_at_call = n;
}

void sv_test_cancel_after_node(sv_test *t, int n)
{
    t->cancel_after_node = n;
}

/* Copy what fits (messages are cut, as the daemon cuts them). */
static void copy_str(char *dst, size_t len, const char *src)
{
    size_t n = strlen(src);
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void refuse(sv_test *t, const char *code, const char *message, const char *field)
{
    copy_str(t->err_code, sizeof t->err_code, code);
    copy_str(t->err_message, sizeof t->err_message, message);
    copy_str(t->err_field, sizeof t->err_field, field ? field : "");
}

int sv_test_start(sv_test *t, const char *input_json)
{
    char why[256];
    sv_error err;
    if (sv_test_load(t) < 0) {
        refuse(t, "graph_not_loaded", t->why, NULL);
        return -1;
    }
    if (t->status != SV_TEST_NEW) {
        refuse(t, "already_started", "this kit's run was started already: one run per sv_test",
               NULL);
        return -1;
    }
    json_object_put(t->input);
    t->input = input_json ? sv_test_json(input_json, 1, why, sizeof why) : json_object_new_object();
    if (!t->input) {
        refuse(t, "invalid_json", why, NULL);
        return -1;
    }
    if (!json_object_is_type(t->input, json_type_object)) {
        refuse(t, "invalid_input", "\"input\" must be a JSON object", "input");
        return -1;
    }
    /* What POST /v1/graphs/{name}/runs does with it (core/api.c post_run). */
    memset(&err, 0, sizeof err);
    if (sv_schema_validate(t->schema, t->input, &err) < 0 ||
        (t->g->prepare_input && t->g->prepare_input(&t->host, t->input, &err) != SV_OK)) {
        refuse(t, err.code[0] ? err.code : "invalid_input",
               err.message[0] ? err.message : "the input was refused by the graph",
               err.field[0] ? err.field : "input");
        return -1;
    }
    t->created_ms = t->now_ms;
    t->deadline_ms =
        t->created_ms + sv_rule_deadline_ms(t->g, t->input, t->default_timeout_ms, NULL);
    for (uint32_t i = 0; i < t->g->n_nodes; i++)
        if (strcmp(t->g->nodes[i].name, t->g->entry) == 0)
            t->node = &t->g->nodes[i];
    t->status = SV_TEST_RUNNING;
    json_object *d = json_object_new_object();
    json_object_object_add(d, "graph", json_object_new_string(t->g->name));
    json_object_object_add(d, "graph_version", json_object_new_string(t->g->version));
    sv_test_event_add(t, "run_start", NULL, d);
    return 0;
}

static void path_add(sv_test *t, const char *name)
{
    size_t n = strlen(name), need = t->path_len + n + 2;
    char *p = realloc(t->path, need);
    if (!p)
        return;
    t->path = p;
    if (t->path_len)
        p[t->path_len++] = ',';
    memcpy(p + t->path_len, name, n + 1);
    t->path_len += n;
}

static void end(sv_test *t, int status)
{
    static const char *const names[] = {"", "", "succeeded", "failed", "cancelled"};
    t->status = status;
    json_object *d = json_object_new_object();
    json_object_object_add(d, "status", json_object_new_string(names[status]));
    json_object_object_add(d, "duration_ms", json_object_new_int64(t->now_ms - t->created_ms));
    if (t->err_code[0])
        json_object_object_add(d, "error_code", json_object_new_string(t->err_code));
    sv_test_event_add(t, "run_end", NULL, d);
}

static void fail_run(sv_test *t, const char *code, const char *fmt, const char *arg)
{
    if (!t->err_code[0]) {
        snprintf(t->err_code, sizeof t->err_code, "%s", code);
        snprintf(t->err_message, sizeof t->err_message, fmt, arg);
    }
    end(t, SV_TEST_FAILED);
}

/* A user cancel or the deadline: the graph cleans up, the run ends. */
static void finish_stopped(sv_test *t)
{
    if (t->g->on_cancel && t->nodes_started > 0 && !t->on_cancel_calls) {
        t->on_cancel_calls++;
        t->cleanup = 1;
        t->node_name = "on_cancel";
        t->g->on_cancel(&t->ctx, &t->host,
                        t->stop == SV_TEST_STOP_TIMEOUT ? SV_CANCEL_TIMEOUT : SV_CANCEL_USER);
        t->cleanup = 0;
    }
    if (t->stop == SV_TEST_STOP_TIMEOUT) {
        char msg[64];
        snprintf(msg, sizeof msg, "%g", (double)(t->deadline_ms - t->created_ms) / 1000.0);
        snprintf(t->err_code, sizeof t->err_code, "timeout");
        snprintf(t->err_message, sizeof t->err_message, "the run passed its deadline of %s s", msg);
        end(t, SV_TEST_FAILED);
    } else {
        end(t, SV_TEST_CANCELLED);
    }
}

int sv_test_step(sv_test *t)
{
    if (t->status == SV_TEST_NEW)
        return -1;
    if (t->status != SV_TEST_RUNNING)
        return 0;
    if (t->stop == SV_TEST_STOP_NONE && t->now_ms >= t->deadline_ms)
        t->stop = SV_TEST_STOP_TIMEOUT;
    if (t->stop != SV_TEST_STOP_NONE) {
        finish_stopped(t);
        return 0;
    }
    if (t->max_nodes > 0 && t->nodes_started >= (uint32_t)t->max_nodes) {
        char n[32];
        snprintf(n, sizeof n, "%d", t->max_nodes);
        fail_run(t, "node_limit", "the run reached MAX_NODES_PER_RUN (%s nodes)", n);
        return 0;
    }
    const sv_node *node = t->node;
    t->nodes_started++;
    t->node_name = node->name;
    path_add(t, node->name);
    sv_test_event_add(t, "node_start", node->name, json_object_new_object());
    int64_t t0 = t->now_ms;
    sv_step step = {.next = node->next, .delay_ms = 0};
    int rc = node->run(&t->ctx, &t->host, &step);
    json_object *d = json_object_new_object();
    json_object_object_add(d, "duration_ms", json_object_new_int64(t->now_ms - t0));
    if (rc == SV_OK) {
        json_object_object_add(d, "next", json_object_new_string(step.next ? step.next : "END"));
        sv_test_event_add(t, "node_end", node->name, d);
    } else {
        json_object_object_add(d, "code",
                               json_object_new_string(rc == SV_ECANCELLED ? "cancelled"
                                                      : t->err_code[0]    ? t->err_code
                                                                          : "node_failed"));
        sv_test_event_add(t, "node_error", node->name, d);
    }
    if (t->stop != SV_TEST_STOP_NONE) {
        finish_stopped(t);
    } else if (rc == SV_ECANCELLED) {
        /* the graph says cancelled but nobody asked: its failure */
        fail_run(t, "cancelled", "node %s returned SV_ECANCELLED", node->name);
    } else if (rc != SV_OK) {
        fail_run(t, "node_failed", "node %s failed", node->name);
    } else if (!step.next) {
        end(t, SV_TEST_SUCCEEDED);
    } else {
        const sv_node *next = NULL;
        for (uint32_t i = 0; i < t->g->n_nodes && !next; i++)
            if (strcmp(t->g->nodes[i].name, step.next) == 0)
                next = &t->g->nodes[i];
        if (!next) {
            fail_run(t, "bad_next_node", "the graph asked for an unknown node \"%s\"", step.next);
            return 0;
        }
        t->node = next;
        if (t->cancel_after_node > 0 && t->nodes_started == (uint32_t)t->cancel_after_node)
            t->stop = SV_TEST_STOP_USER;
        /* A wait past the deadline is cut short by it (the daemon's timer). */
        int64_t wait = step.delay_ms;
        if (t->stop == SV_TEST_STOP_NONE) {
            if (t->now_ms + wait > t->deadline_ms)
                wait = t->deadline_ms - t->now_ms;
            t->now_ms += wait;
            t->waited_ms += wait;
        }
    }
    return t->status == SV_TEST_RUNNING;
}

int sv_test_on_cancel(sv_test *t, int reason)
{
    if (sv_test_load(t) < 0)
        return -1;
    if (!t->g->on_cancel)
        return 0;
    /* as finish_stopped() does, but as often as the test asks */
    const char *was = t->node_name;
    t->on_cancel_calls++;
    t->cleanup = 1;
    t->node_name = "on_cancel";
    t->g->on_cancel(&t->ctx, &t->host, reason);
    t->cleanup = 0;
    t->node_name = was;
    return 0;
}

int sv_test_finish(sv_test *t)
{
    while (sv_test_step(t) > 0)
        ;
    return t->status;
}

int sv_test_run(sv_test *t, const char *input_json)
{
    if (sv_test_start(t, input_json) < 0)
        return -1;
    return sv_test_finish(t);
}

sv_ctx *sv_test_ctx(sv_test *t)
{
    return &t->ctx;
}

const sv_host *sv_test_host(sv_test *t)
{
    return &t->host;
}
