/* sv_test_report.c - what a test kit's run did, and the expectations on it;
 * see sofiia/graph_test.h. */
#include "sv_test_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures;

int sv_test_failures(void)
{
    return g_failures;
}

int sv_test_fail(sv_test *t, const char *fmt, ...)
{
    va_list ap;
    g_failures++;
    fprintf(stderr, "sv_test: FAILED: %s%s", t && t->g && t->g->name ? t->g->name : "",
            t && t->g ? ": " : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

void sv_test_event_add(sv_test *t, const char *type, const char *node, json_object *details)
{
    json_object *e = json_object_new_object();
    json_object_object_add(e, "ts_ms", json_object_new_int64(t->now_ms));
    json_object_object_add(e, "type", json_object_new_string(type));
    json_object_object_add(e, "node", node ? json_object_new_string(node) : NULL);
    json_object_object_add(e, "details", details);
    json_object_array_add(t->events, e);
}

int sv_test_status(sv_test *t)
{
    return t->status;
}

const char *sv_test_status_name(sv_test *t)
{
    static const char *const names[] = {"new", "running", "succeeded", "failed", "cancelled"};
    return names[t->status];
}

const char *sv_test_error_code(sv_test *t)
{
    return t->err_code;
}

const char *sv_test_error_message(sv_test *t)
{
    return t->err_message;
}

const char *sv_test_error_field(sv_test *t)
{
    return t->err_field;
}

json_object *sv_test_input(sv_test *t)
{
    return t->input;
}

json_object *sv_test_state(sv_test *t)
{
    return t->state;
}

json_object *sv_test_result(sv_test *t)
{
    return t->result;
}

const char *sv_test_path(sv_test *t)
{
    return t->path ? t->path : "";
}

int64_t sv_test_now_ms(sv_test *t)
{
    return t->now_ms;
}

int64_t sv_test_waited_ms(sv_test *t)
{
    return t->waited_ms;
}

int sv_test_on_cancel_calls(sv_test *t)
{
    return t->on_cancel_calls;
}

int sv_test_calls(sv_test *t)
{
    return (int)t->n_calls;
}

const sv_test_call *sv_test_call_at(sv_test *t, int i)
{
    if (i < 0)
        i += (int)t->n_calls;
    return i >= 0 && (size_t)i < t->n_calls ? &t->calls[i] : NULL;
}

static int matches(const char *want, const char *have)
{
    return !want || (have && strcmp(want, have) == 0);
}

int sv_test_count_calls(sv_test *t, const char *tool, const char *action)
{
    int n = 0;
    for (size_t i = 0; i < t->n_calls; i++)
        n += matches(tool, t->calls[i].tool) && matches(action, t->calls[i].action);
    return n;
}

json_object *sv_test_events(sv_test *t)
{
    return t->events;
}

int sv_test_count_events(sv_test *t, const char *type, const char *node)
{
    int n = 0;
    for (size_t i = 0; i < json_object_array_length(t->events); i++) {
        json_object *e = json_object_array_get_idx(t->events, i), *ty = NULL, *no = NULL;
        json_object_object_get_ex(e, "type", &ty);
        json_object_object_get_ex(e, "node", &no);
        n += matches(type, json_object_get_string(ty)) &&
             matches(node, no ? json_object_get_string(no) : NULL);
    }
    return n;
}

/* ---- expectations ---------------------------------------------------------- */

static const char *text(json_object *o)
{
    return o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "(absent)";
}

int sv_test_expect_status(sv_test *t, const char *status, const char *error_code)
{
    if (strcmp(sv_test_status_name(t), status) == 0 &&
        (!error_code || strcmp(t->err_code, error_code) == 0))
        return 1;
    return sv_test_fail(t, "expected the run %s%s%s, it is %s%s%s%s%s", status,
                        error_code ? " with error " : "", error_code ? error_code : "",
                        sv_test_status_name(t), t->err_code[0] ? " with error " : "", t->err_code,
                        t->err_message[0] ? ": " : "", t->err_message);
}

/* o equal to the JSON text want (' for " when it has no "). */
static int json_equal(sv_test *t, json_object *o, const char *want, const char *what)
{
    char why[256];
    json_object *w = sv_test_json(want, 0, why, sizeof why);
    if (!w && strcmp(want, "null") != 0)
        return sv_test_fail(t, "%s: the expected value is not JSON (%s): %s", what, why, want);
    int eq = json_object_equal(o, w);
    if (!eq)
        sv_test_fail(t, "%s: expected %s, got %s", what, text(w), text(o));
    json_object_put(w);
    return eq;
}

int sv_test_expect_call(sv_test *t, int i, const char *tool, const char *action,
                        const char *params_json)
{
    char what[300];
    const sv_test_call *c = sv_test_call_at(t, i);
    if (!c)
        return sv_test_fail(t, "expected call #%d to be %s/%s: there are only %zu calls", i, tool,
                            action, t->n_calls);
    if (!matches(tool, c->tool) || !matches(action, c->action))
        return sv_test_fail(t, "expected call #%d to be %s/%s, it is %s/%s (node %s)", i,
                            tool ? tool : "*", action ? action : "*", c->tool, c->action, c->node);
    if (!params_json)
        return 1;
    snprintf(what, sizeof what, "call #%d %s/%s params", i, c->tool, c->action);
    return json_equal(t, c->params, params_json, what);
}

int sv_test_expect_calls(sv_test *t, const char *tool, const char *action, int n)
{
    int have = sv_test_count_calls(t, tool, action);
    if (have == n)
        return 1;
    return sv_test_fail(t, "expected %d calls of %s/%s, there were %d", n, tool ? tool : "*",
                        action ? action : "*", have);
}

int sv_test_expect_events(sv_test *t, const char *type, const char *node, int n)
{
    int have = sv_test_count_events(t, type, node);
    if (have == n)
        return 1;
    return sv_test_fail(t, "expected %d %s events%s%s, there were %d", n, type ? type : "*",
                        node ? " at node " : "", node ? node : "", have);
}

int sv_test_expect_path(sv_test *t, const char *path)
{
    if (strcmp(sv_test_path(t), path) == 0)
        return 1;
    return sv_test_fail(t, "expected the nodes %s, they were %s", path, sv_test_path(t));
}

int sv_test_expect_result(sv_test *t, const char *path, const char *json)
{
    char what[300];
    snprintf(what, sizeof what, "result%s%s", path && *path ? "." : "", path ? path : "");
    return json_equal(t, path && *path ? sv_json_at(t->result, path) : t->result, json, what);
}

int sv_test_expect_state(sv_test *t, const char *path, const char *json)
{
    char what[300];
    snprintf(what, sizeof what, "state%s%s", path && *path ? "." : "", path ? path : "");
    return json_equal(t, path && *path ? sv_json_at(t->state, path) : t->state, json, what);
}

int sv_test_expect_refused(sv_test *t, const char *code, const char *field)
{
    if (t->status == SV_TEST_NEW && t->err_code[0] && matches(code, t->err_code) &&
        matches(field, t->err_field))
        return 1;
    if (t->status != SV_TEST_NEW || !t->err_code[0])
        return sv_test_fail(t, "expected the start refused with %s on field %s; it %s",
                            code ? code : "*", field ? field : "*",
                            t->status == SV_TEST_NEW ? "was never started" : "started");
    return sv_test_fail(t,
                        "expected the start refused with %s on field %s; it was refused with %s "
                        "on field %s: %s",
                        code ? code : "*", field ? field : "*", t->err_code, t->err_field,
                        t->err_message);
}
