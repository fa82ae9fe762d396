/* sv_test_script.c - the test kit's scripted tool answers: per tool and
 * action, in order, the last one repeating (as router-sim hands out a rule's
 * responses); see sofiia/graph_test.h. */
#include "sv_test_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The script of tool/action (exact action first, then the tool's any-action
 * one), and its next answer: the last repeats. */
const sv_test_ans *sv_test_next_answer(sv_test *t, const char *tool, const char *action)
{
    sv_test_script *sc = NULL;
    for (size_t i = 0; i < t->n_scripts && !sc; i++)
        if (strcmp(t->scripts[i].tool, tool) == 0 && t->scripts[i].action &&
            strcmp(t->scripts[i].action, action) == 0)
            sc = &t->scripts[i];
    for (size_t i = 0; i < t->n_scripts && !sc; i++)
        if (strcmp(t->scripts[i].tool, tool) == 0 && !t->scripts[i].action)
            sc = &t->scripts[i];
    if (!sc)
        return NULL;
    const sv_test_ans *last = NULL;
    size_t k = 0;
    for (size_t i = 0; i < t->n_answers; i++) {
        const sv_test_ans *a = &t->answers[i];
        if (strcmp(a->tool, sc->tool) != 0 || (!a->action) != (!sc->action) ||
            (a->action && strcmp(a->action, sc->action) != 0))
            continue;
        last = a;
        if (k++ == sc->taken)
            break;
    }
    sc->taken++;
    return last;
}

/* ---- scripting ------------------------------------------------------------------------ */

static sv_test_ans *answer_add(sv_test *t, const char *tool, const char *action)
{
    int have = 0;
    for (size_t i = 0; i < t->n_scripts && !have; i++)
        have = strcmp(t->scripts[i].tool, tool) == 0 && (!t->scripts[i].action) == (!action) &&
               (!action || strcmp(t->scripts[i].action, action) == 0);
    if (!have) {
        sv_test_script *s = realloc(t->scripts, (t->n_scripts + 1) * sizeof *s);
        if (!s)
            return NULL;
        t->scripts = s;
        s[t->n_scripts].tool = strdup(tool);
        s[t->n_scripts].action = dup_or_null(action);
        s[t->n_scripts++].taken = 0;
    }
    sv_test_ans *a = realloc(t->answers, (t->n_answers + 1) * sizeof *a);
    if (!a)
        return NULL;
    t->answers = a;
    a = &t->answers[t->n_answers++];
    memset(a, 0, sizeof *a);
    a->tool = strdup(tool);
    a->action = dup_or_null(action);
    return a;
}

void sv_test_answer(sv_test *t, const char *tool, const char *action, const char *data_json)
{
    char why[256];
    sv_test_ans *a = answer_add(t, tool, action);
    if (a && data_json && !(a->data = sv_test_json(data_json, 0, why, sizeof why)) &&
        strcmp(data_json, "null") != 0)
        sv_test_fail(t, "sv_test_answer(%s, %s): data is not JSON: %s", tool, action ? action : "*",
                     why);
}

void sv_test_answer_error(sv_test *t, const char *tool, const char *action, const char *code,
                          const char *message)
{
    sv_test_ans *a = answer_add(t, tool, action);
    if (!a)
        return;
    snprintf(a->code, sizeof a->code, "%s", code && *code ? code : "tool_failed");
    snprintf(a->message, sizeof a->message, "%s", message ? message : "");
}

void sv_test_answer_latency(sv_test *t, const char *tool, const char *action, int64_t latency_ms)
{
    for (size_t i = t->n_answers; i-- > 0;) {
        sv_test_ans *a = &t->answers[i];
        if (strcmp(a->tool, tool) == 0 && (!a->action) == (!action) &&
            (!action || strcmp(a->action, action) == 0)) {
            a->latency_ms = latency_ms;
            return;
        }
    }
}
