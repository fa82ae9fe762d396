/*
 * fuzz_graph.c - one run of a graph with the SDK's test kit
 * (sofiia/graph_test.h: the daemon's own rules on a mock host), with the
 * input and every tool answer from the fuzzer.  Line 1: the input, which
 * goes through strict JSON, the graph's schema and its prepare_input as a
 * start request's would (an input refused there never reaches a node).
 * Each further line scripts the next answer of one tool/action when it
 * begins with "tool/action ", else of every one: an object is a success's
 * data, a string a failure with that code, null a failure "unavailable", a
 * number N cancels the run at its N-th call.  A tool/action's last answer
 * repeats (a job that stays "running" is polled until the run's deadline or
 * MAX_NODES_PER_RUN, here 64); one never scripted fails "not_found".
 * Invariants: a succeeded run has a result, an object; every call's params
 * are an object.
 */
#include "fuzz.h"
#include "json_strict.h"

#include <sofiia/graph_test.h>
#include <string.h>

#define FUZZ_MAX_ANSWERS 32
#define FUZZ_MAX_NODES 64

/* The answer on one line to its pair, or to every pair. */
static void answer(sv_test *t, const char *const *pairs, const char *line, size_t len)
{
    json_object *v = NULL;
    char why[128], field[64];
    const char *only = NULL;
    for (const char *const *p = pairs; *p && !only; p++) {
        size_t pl = strlen(*p);
        if (len > pl && strncmp(line, *p, pl) == 0 && line[pl] == ' ') {
            only = *p;
            line += pl + 1;
            len -= pl + 1;
        }
    }
    if (sv_json_parse_strict(line, len, &v, why, sizeof why, field, sizeof field) < 0)
        return;
    if (json_object_is_type(v, json_type_int)) {
        sv_test_cancel_at_call(t, (int)(json_object_get_int64(v) % 1000));
        json_object_put(v);
        return;
    }
    for (const char *const *p = pairs; *p; p++) {
        if (only && *p != only)
            continue;
        char tool[64];
        const char *slash = strchr(*p, '/');
        snprintf(tool, sizeof tool, "%.*s", (int)(slash - *p), *p);
        if (json_object_is_type(v, json_type_object))
            sv_test_answer(t, tool, slash + 1,
                           json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        else if (json_object_is_type(v, json_type_string))
            sv_test_answer_error(t, tool, slash + 1, json_object_get_string(v), "fuzzed failure");
        else if (!v)
            sv_test_answer_error(t, tool, slash + 1, "unavailable", "fuzzed: no answer");
    }
    json_object_put(v);
}

int sv_fuzz_graph(const sv_graph *g, const char *const *pairs, const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *end = text + size;
    const char *nl = memchr(text, '\n', size);
    size_t first = nl ? (size_t)(nl - text) : size;
    char *input = malloc(first + 1);
    sv_test *t = sv_test_new(g);
    if (!input || !t)
        goto out;
    memcpy(input, text, first);
    input[first] = '\0';
    sv_test_daemon_limits(t, 3600, FUZZ_MAX_NODES);
    int n = 0;
    for (const char *line = nl ? nl + 1 : end; line < end && n < FUZZ_MAX_ANSWERS; n++) {
        const char *e = memchr(line, '\n', (size_t)(end - line));
        size_t len = e ? (size_t)(e - line) : (size_t)(end - line);
        answer(t, pairs, line, len);
        line += len + 1;
    }
    /* A NUL in the input line is a refusal (strict JSON), not a shorter input. */
    if (strlen(input) != first || sv_test_start(t, input) < 0) {
        if (getenv("SV_FUZZ_VERBOSE"))
            fprintf(stderr, "refused: %s %s\n", sv_test_error_code(t), sv_test_error_message(t));
        goto out;
    }
    int status = sv_test_finish(t);
    if (getenv("SV_FUZZ_VERBOSE")) /* what each input got, to see what a corpus covers */
        fprintf(stderr, "%s %s %s\n", sv_test_status_name(t), sv_test_error_code(t),
                sv_test_path(t));
    json_object *result = sv_test_result(t);
    if (status == SV_TEST_SUCCEEDED)
        SV_FUZZ_CHECK(result != NULL, "a succeeded run has a result");
    SV_FUZZ_CHECK(!result || json_object_is_type(result, json_type_object),
                  "a result is a JSON object");
    if (result)
        SV_FUZZ_CHECK(json_object_to_json_string(result) != NULL, "a result can be written");
    for (int i = 0; i < sv_test_calls(t); i++) {
        json_object *p = sv_test_call_at(t, i)->params;
        SV_FUZZ_CHECK(p && json_object_is_type(p, json_type_object),
                      "a tool call's params are an object");
    }
out:
    sv_test_free(t);
    free(input);
    return 0;
}
