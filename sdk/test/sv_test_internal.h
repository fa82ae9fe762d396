/*
 * sv_test_internal.h - the test kit's state, shared by sv_test.c (loading,
 * the host table, the run) and sv_test_report.c (what happened, the
 * expectations).  Not installed.
 */
#ifndef SV_TEST_INTERNAL_H
#define SV_TEST_INTERNAL_H

#include <sofiia/graph_test.h>

#include <stddef.h>
#include <stdint.h>

/* The daemon's values of what a ctx carries (host.h), for the kit. */
struct sv_ctx {
    sv_test *t;
};

/* A scripted answer of tool/action (action NULL: any). */
typedef struct sv_test_ans {
    char *tool, *action;
    json_object *data; /* succeeded: its data (NULL: none) */
    char code[64];     /* failed: its code ("" = succeeded) */
    char message[256];
    int64_t latency_ms;
} sv_test_ans;

/* Per tool/action (as scripted): how many of its answers were taken; the
 * last one repeats. */
typedef struct sv_test_script {
    char *tool, *action;
    size_t taken;
} sv_test_script;

typedef struct sv_test_setting_val {
    char *name, *value;
} sv_test_setting_val;

enum { SV_TEST_STOP_NONE = 0, SV_TEST_STOP_USER = 1, SV_TEST_STOP_TIMEOUT = 2 };

struct sv_test {
    sv_host host; /* first: the graph gets &t->host */
    struct sv_ctx ctx;
    const sv_graph *g;
    void *dl; /* sv_test_open's handle */
    char why[512];
    int loaded, load_failed, inited;
    json_object *schema;
    json_object *settings; /* {name: value} */
    sv_test_setting_val *set;
    size_t n_set;
    int64_t default_timeout_ms;
    int max_nodes;

    /* answers */
    sv_test_ans *answers;
    size_t n_answers;
    sv_test_script *scripts;
    size_t n_scripts;

    /* the run */
    int status;
    char run_id[40];
    json_object *input, *state, *result, *events;
    char err_code[64], err_message[256], err_field[128];
    const sv_node *node; /* next to run */
    const char *node_name;
    uint32_t nodes_started;
    uint32_t *call_seq; /* per node (+1 for on_cancel) */
    int cleanup;        /* in on_cancel */
    int stop;           /* SV_TEST_STOP_* */
    int on_cancel_calls;
    int64_t now_ms, created_ms, deadline_ms, waited_ms;
    int cancel_at_call, cancel_after_node, n_calls_made;
    char *path;
    size_t path_len;

    /* calls */
    sv_test_call *calls;
    size_t n_calls;
};

/* JSON text as the kit reads it (' for " when the text has no "): strict
 * as the API parses a start request, or as json-c parses a router answer
 * (which the gateway does). */
json_object *sv_test_json(const char *text, int strict, char *why, size_t len);
/* The answer to a call of tool/action (NULL: none scripted), taken. */
const sv_test_ans *sv_test_next_answer(sv_test *t, const char *tool, const char *action);
/* Add an event {"type","node","details"} (details consumed). */
void sv_test_event_add(sv_test *t, const char *type, const char *node, json_object *details);
/* Count one failed expectation and say it on stderr. */
int sv_test_fail(sv_test *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
