/* mock_host.c - see mock_host.h. */
#include "mock_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOCK_MAX_CONFIG 16

struct sv_ctx {
    mock_host *m;
};

struct mock_host {
    sv_host host;
    struct sv_ctx ctx;
    json_object *input;
    json_object *state;
    json_object *result;
    json_object *events;
    char fail_code[64];
    char fail_msg[256];
    char node[64];
    mock_call calls[MOCK_MAX_CALLS];
    int n_calls;
    mock_answer answers[MOCK_MAX_ANSWERS];
    int n_answers;
    int64_t now_ms;
    int64_t created_ms;
    int64_t total_delay_ms;
    int cancel_at;
    int cancelled;
    int on_cancel_calls;
    struct {
        char key[64];
        long value;
    } config[MOCK_MAX_CONFIG];
    int n_config;
    char path[MOCK_MAX_PATH];
};

/* config_int has no ctx, so the mock in use is remembered here: tests are
 * single-threaded. */
static mock_host *g_current;

static json_object *m_input(sv_ctx *ctx)
{
    return ctx->m->input;
}

static json_object *m_state(sv_ctx *ctx)
{
    return ctx->m->state;
}

static const char *m_run_id(sv_ctx *ctx)
{
    (void)ctx;
    return "gr_00000000000000000000000000000000";
}

static const char *m_node(sv_ctx *ctx)
{
    return ctx->m->node;
}

static int m_tool_call(sv_ctx *ctx, const char *tool, const char *action, json_object *params,
                       json_object **data, sv_error *err)
{
    mock_host *m = ctx->m;
    if (data)
        *data = NULL;
    if (err)
        memset(err, 0, sizeof *err);
    if (m->n_calls < MOCK_MAX_CALLS) {
        mock_call *c = &m->calls[m->n_calls];
        snprintf(c->tool, sizeof c->tool, "%s", tool);
        snprintf(c->action, sizeof c->action, "%s", action);
        snprintf(c->node, sizeof c->node, "%s", m->node);
        c->params = NULL;
        if (params)
            json_object_deep_copy(params, &c->params, NULL);
    }
    m->n_calls++;
    if (m->cancel_at > 0 && m->n_calls >= m->cancel_at && !m->cancelled) {
        m->cancelled = 1;
        return SV_ECANCELLED;
    }
    if (m->cancelled && m->on_cancel_calls == 0)
        return SV_ECANCELLED;
    for (int i = 0; i < m->n_answers; i++) {
        mock_answer *a = &m->answers[i];
        if (a->used || strcmp(a->tool, tool) != 0 || strcmp(a->action, action) != 0)
            continue;
        a->used = 1;
        if (a->rc == SV_OK) {
            if (data)
                *data = a->data ? json_object_get(a->data) : NULL;
        } else if (err) {
            snprintf(err->code, sizeof err->code, "%s", a->err_code);
            snprintf(err->message, sizeof err->message, "mock error %s", a->err_code);
        }
        return a->rc;
    }
    if (err) {
        snprintf(err->code, sizeof err->code, "no_mock_answer");
        snprintf(err->message, sizeof err->message, "no answer queued for %s/%s", tool, action);
    }
    return SV_ETOOL;
}

static int m_set_result(sv_ctx *ctx, json_object *result)
{
    json_object_put(ctx->m->result);
    ctx->m->result = result;
    return SV_OK;
}

static int m_fail(sv_ctx *ctx, const char *code, const char *message)
{
    snprintf(ctx->m->fail_code, sizeof ctx->m->fail_code, "%s", code ? code : "");
    snprintf(ctx->m->fail_msg, sizeof ctx->m->fail_msg, "%s", message ? message : "");
    return SV_OK;
}

static int m_event(sv_ctx *ctx, const char *type, json_object *details)
{
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "type", json_object_new_string(type));
    json_object_object_add(ev, "details", details);
    json_object_array_add(ctx->m->events, ev);
    return SV_OK;
}

static void m_log(sv_ctx *ctx, int level, const char *message)
{
    (void)ctx;
    (void)level;
    (void)message;
}

static int m_cancelled(sv_ctx *ctx)
{
    return ctx->m->cancelled;
}

static int64_t m_now_ms(sv_ctx *ctx)
{
    return ctx ? ctx->m->now_ms : (g_current ? g_current->now_ms : 0);
}

static int64_t m_created_ms(sv_ctx *ctx)
{
    return ctx->m->created_ms;
}

static long m_config_int(const char *key, long def)
{
    if (!g_current)
        return def;
    for (int i = 0; i < g_current->n_config; i++)
        if (strcmp(g_current->config[i].key, key) == 0)
            return g_current->config[i].value;
    return def;
}

mock_host *mock_host_new(const char *input_json)
{
    mock_host *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->input = json_tokener_parse(input_json ? input_json : "{}");
    if (!m->input) {
        free(m);
        return NULL;
    }
    m->state = json_object_new_object();
    m->events = json_object_new_array();
    m->now_ms = 1771840800000LL;
    m->created_ms = m->now_ms;
    m->ctx.m = m;
    m->host = (sv_host){
        .abi_major = SV_ABI_MAJOR,
        .abi_minor = SV_ABI_MINOR,
        .size = sizeof(sv_host),
        .input = m_input,
        .state = m_state,
        .run_id = m_run_id,
        .node = m_node,
        .tool_call = m_tool_call,
        .set_result = m_set_result,
        .fail = m_fail,
        .event = m_event,
        .log = m_log,
        .cancelled = m_cancelled,
        .now_ms = m_now_ms,
        .created_ms = m_created_ms,
        .config_int = m_config_int,
    };
    g_current = m;
    return m;
}

void mock_host_free(mock_host *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n_calls && i < MOCK_MAX_CALLS; i++)
        json_object_put(m->calls[i].params);
    for (int i = 0; i < m->n_answers; i++)
        json_object_put(m->answers[i].data);
    json_object_put(m->input);
    json_object_put(m->state);
    json_object_put(m->result);
    json_object_put(m->events);
    if (g_current == m)
        g_current = NULL;
    free(m);
}

const sv_host *mock_host_table(mock_host *m)
{
    return &m->host;
}

sv_ctx *mock_ctx(mock_host *m)
{
    return &m->ctx;
}

void mock_answer_add(mock_host *m, const char *tool, const char *action, int rc,
                     const char *data_json, const char *err_code)
{
    if (m->n_answers >= MOCK_MAX_ANSWERS)
        return;
    mock_answer *a = &m->answers[m->n_answers++];
    snprintf(a->tool, sizeof a->tool, "%s", tool);
    snprintf(a->action, sizeof a->action, "%s", action);
    a->rc = rc;
    a->data = data_json ? json_tokener_parse(data_json) : NULL;
    snprintf(a->err_code, sizeof a->err_code, "%s", err_code ? err_code : "");
    a->used = 0;
}

void mock_set_now_ms(mock_host *m, int64_t now_ms)
{
    m->now_ms = now_ms;
}

void mock_set_created_ms(mock_host *m, int64_t ms)
{
    m->created_ms = ms;
}

void mock_set_config(mock_host *m, const char *key, long value)
{
    if (m->n_config >= MOCK_MAX_CONFIG)
        return;
    snprintf(m->config[m->n_config].key, sizeof m->config[0].key, "%s", key);
    m->config[m->n_config].value = value;
    m->n_config++;
}

void mock_cancel_at_call(mock_host *m, int n)
{
    m->cancel_at = n;
}

int mock_prepare(mock_host *m, const sv_graph *g, sv_error *err)
{
    memset(err, 0, sizeof *err);
    g_current = m;
    return g->prepare_input ? g->prepare_input(&m->host, m->input, err) : 0;
}

static const sv_node *find_node(const sv_graph *g, const char *name)
{
    for (uint32_t i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return &g->nodes[i];
    return NULL;
}

static void path_add(mock_host *m, const char *name)
{
    size_t len = strlen(m->path);
    snprintf(m->path + len, sizeof m->path - len, "%s%s", len ? "," : "", name);
}

int mock_run(mock_host *m, const sv_graph *g, int max_steps, int cancel_reason)
{
    g_current = m;
    const sv_node *node = find_node(g, g->entry);
    int rc = 0;
    for (int steps = 0; node; steps++) {
        if (steps >= max_steps)
            return -ELOOP;
        if (m->cancelled) {
            rc = SV_ECANCELLED;
            break;
        }
        snprintf(m->node, sizeof m->node, "%s", node->name);
        path_add(m, node->name);
        sv_step step = {.next = node->next, .delay_ms = 0};
        rc = node->run(&m->ctx, &m->host, &step);
        if (rc != SV_OK)
            break;
        m->now_ms += step.delay_ms;
        m->total_delay_ms += step.delay_ms;
        if (!step.next)
            return 0;
        node = find_node(g, step.next);
        if (!node)
            return -ENOENT;
    }
    if (rc == SV_ECANCELLED && g->on_cancel && m->on_cancel_calls == 0) {
        m->on_cancel_calls++;
        g->on_cancel(&m->ctx, &m->host, cancel_reason ? cancel_reason : SV_CANCEL_USER);
    }
    return rc;
}

json_object *mock_input(mock_host *m)
{
    return m->input;
}

json_object *mock_state(mock_host *m)
{
    return m->state;
}

json_object *mock_result(mock_host *m)
{
    return m->result;
}

const char *mock_fail_code(mock_host *m)
{
    return m->fail_code;
}

const char *mock_fail_message(mock_host *m)
{
    return m->fail_msg;
}

int mock_n_calls(mock_host *m)
{
    return m->n_calls;
}

const mock_call *mock_get_call(mock_host *m, int i)
{
    return i >= 0 && i < m->n_calls && i < MOCK_MAX_CALLS ? &m->calls[i] : NULL;
}

int mock_count_calls(mock_host *m, const char *tool, const char *action)
{
    int n = 0;
    for (int i = 0; i < m->n_calls && i < MOCK_MAX_CALLS; i++)
        if (strcmp(m->calls[i].tool, tool) == 0 && strcmp(m->calls[i].action, action) == 0)
            n++;
    return n;
}

json_object *mock_events(mock_host *m)
{
    return m->events;
}

const char *mock_path(mock_host *m)
{
    return m->path;
}

int64_t mock_total_delay_ms(mock_host *m)
{
    return m->total_delay_ms;
}

int mock_on_cancel_calls(mock_host *m)
{
    return m->on_cancel_calls;
}
