/*
 * it_report.c - the triage report: summary, impact, mitigations, next checks
 * and references, written from the digests in the state and the ranked
 * causes.  The seed's shape plus "data_gaps", "confidence" and "coverage".
 */
#include "it.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Lowercase phrase of a cause for the summary's sentence. */
static const char *it_cause_phrase(int id)
{
    const it_cause_info *c = it_cause_get(id);
    return c ? c->phrase : "an unknown cause";
}

static long it_int_of(json_object *obj, const char *key, long def)
{
    json_object *v = it_json_get(obj, key, json_type_int);
    return v ? (long)json_object_get_int64(v) : def;
}

/* The code of a data_gaps "error" ("forbidden: ..." -> "forbidden"). */
static void it_code_of(const char *e, char *buf, size_t len)
{
    size_t n;
    e = it_or(e, "error");
    n = strcspn(e, ":");
    if (n >= len)
        n = len - 1;
    memcpy(buf, e, n);
    buf[n] = '\0';
}

void it_summary(json_object *state, const it_ranking *r, it_buf *b)
{
    char sym[90], sig[90], code[64];
    json_object *p = it_json_get(state, "params", json_type_object);
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *groups = it_json_get(logs, "groups", json_type_array);
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *gaps = it_json_get(state, "data_gaps", json_type_array);
    json_object *wh = it_json_get(p, "window_h", json_type_double);
    long analysed = it_int_of(logs, "analysed", 0);
    long max_h = it_int_of(p, "max_h", IT_DEFAULT_MAX_WINDOW_H);
    const char *hs = it_or(it_json_str(health, "status"), "unknown");

    it_buf_printf(b, "%s (%s), %s to %s", it_or(it_json_str(p, "service"), "?"),
                  it_or(it_json_str(p, "env"), IT_DEFAULT_ENV), it_or(it_json_str(p, "from"), "?"),
                  it_or(it_json_str(p, "to"), "?"));
    /* A longer window was cut to this size at start; say so (see the docs). */
    if (it_json_get(p, "clamped", json_type_boolean) &&
        json_object_get_boolean(it_json_get(p, "clamped", json_type_boolean)))
        it_buf_printf(b, " (clamped to the latest %ldh)", max_h);
    else if (wh && json_object_get_double(wh) >= (double)max_h - 1e-9)
        it_buf_printf(b, " (the %ldh maximum window)", max_h);
    it_buf_cat(b, ": ");
    if (r->n > 0 && r->ids[0] != IT_CAUSE_UNKNOWN) {
        it_buf_printf(b, "most likely %s", it_cause_phrase(r->ids[0]));
        if (r->top_lines > 0)
            it_buf_printf(b, " (%ld of %ld error lines)", r->top_lines, analysed);
        else
            it_buf_cat(b, " (from alerts, health checks and the symptom; no matching log lines)");
        /* Other causes only when more than one source (or most of the
         * logs) shows them: a stray panic line is listed, not announced. */
        for (int i = 1, named = 0; i < r->n && named < 2; i++)
            if (r->level[i] >= IT_CONF_MEDIUM)
                it_buf_printf(b, "%s%s", named++ == 0 ? "; also " : " and ",
                              it_cause_phrase(r->ids[i]));
        it_buf_cat(b, ".");
    } else if (r->n > 0) {
        if (groups && json_object_array_length(groups) > 0) {
            it_text_line(it_json_str(json_object_array_get_idx(groups, 0), "sig"), sig, sizeof sig);
            it_buf_printf(b,
                          "no known cause matched; the top error signature is \"%s\" (%ld of "
                          "%ld error lines).",
                          sig, r->top_lines, analysed);
        } else {
            it_buf_printf(b, "no known cause matched; %ld alert(s) firing, health %s.",
                          it_int_of(ov, "alerts_count", 0), hs);
        }
    } else {
        it_text_line(it_json_str(p, "symptom"), sym, sizeof sym);
        if (logs)
            it_buf_printf(b, "no errors found in the logs, health %s, %ld alert(s) firing", hs,
                          it_int_of(ov, "alerts_count", 0));
        else
            it_buf_cat(b, "no errors or alerts found in the sources that answered");
        it_buf_printf(b, "; no clear cause for \"%s\".", sym);
    }
    size_t ng = gaps ? json_object_array_length(gaps) : 0;
    for (size_t i = 0; i < ng; i++) {
        json_object *g = json_object_array_get_idx(gaps, i);
        it_code_of(it_json_str(g, "error"), code, sizeof code);
        it_buf_printf(b, "%s%s (%s: %s)", i == 0 ? " Data gaps: " : ", ",
                      it_or(it_json_str(g, "node"), "?"), it_or(it_json_str(g, "tool"), "?"), code);
    }
    if (ng)
        it_buf_cat(b, "; the report uses the other sources.");
}

/* A rate or availability: <= 1 is a fraction, above is already a percent. */
static void it_percent(json_object *v, char *buf, size_t len)
{
    char num[48];
    if (json_object_is_type(v, json_type_string)) {
        it_text_line(json_object_get_string(v), buf, len < 33 ? len : 33);
        return;
    }
    double d = json_object_get_double(v);
    it_text_number(d <= 1.0 && d >= -1.0 ? d * 100.0 : d, num, sizeof num);
    snprintf(buf, len, "%s%%", num);
}

static int it_figure(json_object *slo, const char *key, int percent, char *buf, size_t len)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(slo, key, &v) || !v)
        return 0;
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double) &&
        !json_object_is_type(v, json_type_string))
        return 0;
    if (percent)
        it_percent(v, buf, len);
    else if (json_object_is_type(v, json_type_string))
        it_text_line(json_object_get_string(v), buf, len < 33 ? len : 33);
    else
        it_text_number(json_object_get_double(v), buf, len);
    return 1;
}

static const char *it_gap_of(json_object *state, const char *node, const char *tool)
{
    json_object *gaps = it_json_get(state, "data_gaps", json_type_array);
    for (size_t i = 0; gaps && i < json_object_array_length(gaps); i++) {
        json_object *g = json_object_array_get_idx(gaps, i);
        if (strcmp(it_or(it_json_str(g, "node"), ""), node) == 0 &&
            strcmp(it_or(it_json_str(g, "tool"), ""), tool) == 0)
            return it_or(it_json_str(g, "error"), "error");
    }
    return NULL;
}

void it_impact(json_object *state, it_buf *b)
{
    static const struct {
        const char *key;
        int percent;
    } figs[] = {{"error_rate", 1}, {"latency_p95_ms", 0}, {"availability", 1}};
    char val[64], code[64];
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *slo = it_json_get(ov, "slo", json_type_object);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *logs = it_json_get(state, "logs", json_type_object);
    int n = 0;

    it_buf_cat(b, "SLO impact: ");
    if (!ov) {
        it_code_of(it_or(it_gap_of(state, "service_overview", IT_TOOL_OBS), "not collected"), code,
                   sizeof code);
        it_buf_printf(b, "unknown (service_overview data missing: %s)", code);
    } else {
        for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
            if (!slo || !it_figure(slo, figs[i].key, figs[i].percent, val, sizeof val))
                continue;
            it_buf_printf(b, "%s%s=%s", n++ ? ", " : "", figs[i].key, val);
        }
        if (n == 0)
            it_buf_cat(b, "no SLO figures reported");
        long alerts = it_int_of(ov, "alerts_count", 0);
        it_buf_printf(b, "; %ld alert%s firing", alerts, alerts == 1 ? "" : "s");
    }
    if (health)
        it_buf_printf(b, "; health: %s", it_or(it_json_str(health, "status"), "unknown"));
    else
        it_buf_cat(b, "; health: unknown (service_health data missing)");
    if (logs)
        it_buf_printf(b, "; %ld error lines in the window (%ld analysed)",
                      it_int_of(logs, "total", 0), it_int_of(logs, "analysed", 0));
    else
        it_buf_cat(b, "; error logs missing");
    it_buf_cat(b, ".");
}

/* Append a clean line to a list unless it is empty, there already (case and a
 * final period ignored), or the list is full. */
static void it_list_add(json_object *arr, const char *s, size_t cap)
{
    char line[IT_EVIDENCE_LINE_LEN + 40];
    it_text_line(s, line, sizeof line);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '.')
        line[--n] = '\0';
    if (n == 0 || json_object_array_length(arr) >= cap)
        return;
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const char *o = json_object_get_string(json_object_array_get_idx(arr, i));
        size_t on = strlen(o);
        while (on > 0 && o[on - 1] == '.')
            on--;
        if (on == n && strncasecmp(o, line, n) == 0)
            return;
    }
    json_object_array_add(arr, json_object_new_string(line));
}

/* Runbook verbs that make a line a mitigation, or a check. */
static const char *const it_action_verbs[] = {
    "increase", "raise",      "reduce",   "lower",  "restart",   "roll",   "rollback",
    "revert",   "scale",      "drain",    "kill",   "terminate", "fail",   "failover",
    "disable",  "enable",     "flush",    "clear",  "bump",      "add",    "set",
    "throttle", "rate-limit", "shed",     "pause",  "stop",      "block",  "apply",
    "tune",     "cap",        "limit",    "purge",  "evict",     "switch", "move",
    "recycle",  "reboot",     "redeploy", "resize", "expand",    NULL,
};
static const char *const it_check_verbs[] = {
    "check", "verify",  "inspect", "confirm", "compare", "look",
    "watch", "monitor", "review",  "query",   NULL,
};

/* Is the first word of s (letters and '-') one of words? */
static int it_first_word_in(const char *s, const char *const *words)
{
    char w[24];
    size_t n = 0;
    while (n + 1 < sizeof w &&
           ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '-')) {
        w[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
        n++;
    }
    w[n] = '\0';
    if (n == 0 || (s[n] && s[n] != ' ' && s[n] != ':' && s[n] != ','))
        return 0;
    for (int i = 0; words[i]; i++)
        if (strcmp(w, words[i]) == 0)
            return 1;
    return 0;
}

/* Runbook lines (and sentences within them), bullets stripped, that start
 * with one of verbs; added to arr up to `room` of them. */
static void it_runbook_lines(json_object *state, const char *const *verbs, json_object *arr,
                             int room)
{
    char text[IT_RUNBOOK_TEXT_KEEP];
    json_object *rbs = it_json_get(state, "runbooks", json_type_array);
    int added = 0;
    for (size_t i = 0; rbs && i < json_object_array_length(rbs) && added < room; i++) {
        it_text_block(it_json_str(json_object_array_get_idx(rbs, i), "text"), text, sizeof text);
        for (char *line = text; line && *line && added < room;) {
            char *end = strpbrk(line, "\n");
            char *next = NULL;
            char *dot = strstr(line, ". ");
            if (dot && (!end || dot < end)) {
                dot[1] = '\0';
                next = dot + 2;
            } else if (end) {
                *end = '\0';
                next = end + 1;
            }
            /* "- ", "* ", "• ", "1. ", "2) ", "[ ] " */
            while (*line == ' ' || *line == '-' || *line == '*' || *line == '>' ||
                   (*line >= '0' && *line <= '9' &&
                    (line[1] == '.' || line[1] == ')' || (line[1] >= '0' && line[1] <= '9'))) ||
                   *line == '.' || *line == ')')
                line++;
            if (strncmp(line, "\xe2\x80\xa2", 3) == 0)
                line += 3;
            if (strncmp(line, "[ ]", 3) == 0 || strncmp(line, "[x]", 3) == 0)
                line += 3;
            while (*line == ' ')
                line++;
            if (it_first_word_in(line, verbs)) {
                size_t before = json_object_array_length(arr);
                it_list_add(arr, line, json_object_array_length(arr) + 1);
                added += json_object_array_length(arr) > before;
            }
            line = next;
        }
    }
}

json_object *it_mitigations(json_object *state, const it_ranking *r)
{
    json_object *arr = json_object_new_array();
    if (!arr)
        return NULL;
    for (int i = 0; i < r->n; i++) {
        const it_cause_info *c = it_cause_get(r->ids[i]);
        /* All of the top cause's, the first of the others' that more than
         * a weak hint supports: no action on a stray line. */
        if (i > 0 && r->level[i] < IT_CONF_MEDIUM)
            continue;
        for (int k = 0; c && c->mitigations[k] && (i == 0 || k == 0); k++)
            it_list_add(arr, c->mitigations[k], IT_MAX_MITIGATIONS);
    }
    /* The runbooks' own actions, only when something is wrong. */
    if (r->n > 0) {
        int room = IT_MAX_MITIGATIONS - (int)json_object_array_length(arr);
        it_runbook_lines(state, it_action_verbs, arr, room < 5 ? room : 5);
    }
    return arr;
}

/* "a, b, c" of the first n strings of an array. */
static void it_join(json_object *arr, size_t n, it_buf *b)
{
    for (size_t i = 0; arr && i < json_object_array_length(arr) && i < n; i++)
        it_buf_printf(b, "%s%s", i ? ", " : "",
                      json_object_get_string(json_object_array_get_idx(arr, i)));
}

/* Does the largest signature group fit none of the causes? */
static int it_top_unclassified(json_object *state, const char **sig, long *count)
{
    char sample[IT_SAMPLE_LEN];
    json_object *groups =
        it_json_get(it_json_get(state, "logs", json_type_object), "groups", json_type_array);
    json_object *g = groups ? json_object_array_get_idx(groups, 0) : NULL;
    if (!g)
        return 0;
    *sig = it_or(it_json_str(g, "sig"), "");
    *count = it_int_of(g, "count", 0);
    /* The sample as written: CamelCase and quoted names still tell. */
    it_text_line(it_json_str(g, "sample"), sample, sizeof sample);
    return it_cause_classify(*sample ? sample : *sig) == IT_CAUSE_NONE;
}

json_object *it_next_checks(json_object *state, const it_ranking *r)
{
    char code[64], sig[100];
    it_buf b = {0};
    json_object *arr = json_object_new_array();
    json_object *p = it_json_get(state, "params", json_type_object);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *checks = it_json_get(health, "checks", json_type_array);
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *ids = it_json_get(logs, "trace_ids", json_type_array);
    json_object *gaps = it_json_get(state, "data_gaps", json_type_array);
    const char *hs = it_or(it_json_str(health, "status"), "unknown");
    const char *usig = NULL;
    long ucount = 0;
    int failing = 0;

    if (!arr)
        return NULL;
    for (size_t i = 0; checks && i < json_object_array_length(checks) && failing < 5; i++) {
        json_object *c = json_object_array_get_idx(checks, i);
        const char *detail = it_json_str(c, "detail");
        if (!it_status_bad(it_json_str(c, "status")))
            continue;
        failing++;
        it_buf_reset(&b);
        it_buf_printf(&b, "Verify healthz: %s is %s", it_or(it_json_str(c, "name"), "?"),
                      it_or(it_json_str(c, "status"), "unknown"));
        if (detail && *detail)
            it_buf_printf(&b, " (%s)", detail);
        it_list_add(arr, it_buf_str(&b), IT_MAX_NEXT_CHECKS);
    }
    if (health && !failing) {
        it_buf_reset(&b);
        if (it_status_bad(hs))
            it_buf_printf(&b, "Verify healthz: the service health is %s", hs);
        else if (it_status_ok(hs))
            it_buf_cat(&b, "Verify healthz stays ok after any mitigation");
        else
            it_buf_printf(&b, "Verify healthz: service_health reported %s", hs);
        it_list_add(arr, it_buf_str(&b), IT_MAX_NEXT_CHECKS);
    }
    /* The top cause's checks, the first of every other cause's (checking
     * is cheap, so weak causes get theirs too). */
    for (int i = 0; i < r->n; i++) {
        const it_cause_info *c = it_cause_get(r->ids[i]);
        for (int k = 0; c->next_checks[k] && (i == 0 || k == 0); k++)
            it_list_add(arr, c->next_checks[k], IT_MAX_NEXT_CHECKS);
    }
    if (r->n > 0 && r->ids[0] != IT_CAUSE_UNKNOWN && it_top_unclassified(state, &usig, &ucount)) {
        it_buf_reset(&b);
        it_buf_printf(&b, "Look into the largest unexplained error group (%ldx): \"%s\"", ucount,
                      it_text_line(usig, sig, sizeof sig));
        it_list_add(arr, it_buf_str(&b), IT_MAX_NEXT_CHECKS);
    }
    if (r->n > 0)
        it_runbook_lines(state, it_check_verbs, arr, 3);
    if (ids && json_object_array_length(ids) > 0) {
        it_buf_reset(&b);
        if (it_json_get(state, "traces", json_type_object)) {
            it_buf_cat(&b, "Inspect traces ");
            it_join(ids, IT_MAX_TRACE_IDS, &b);
            it_buf_cat(&b, " (references.traces)");
        } else if (it_gap_of(state, "trace_lookup", IT_TOOL_OBS)) {
            it_buf_cat(&b, "Look up traces ");
            it_join(ids, IT_MAX_TRACE_IDS, &b);
            it_buf_cat(&b, " by hand: traces_query failed");
        } else {
            it_buf_cat(&b, "Look up traces ");
            it_join(ids, IT_MAX_TRACE_IDS, &b);
            it_buf_cat(&b, " (run again with include_traces=true)");
        }
        it_list_add(arr, it_buf_str(&b), IT_MAX_NEXT_CHECKS);
    }
    long total = it_int_of(logs, "total", 0);
    long seen = it_int_of(logs, "analysed", 0) + it_int_of(logs, "quiet_lines", 0);
    if (logs && total > seen) {
        it_buf_reset(&b);
        it_buf_printf(&b,
                      "Only %ld of %ld log lines were analysed (max_log_lines=%ld); narrow "
                      "log_query_hint or the window to see the rest",
                      seen, total, it_int_of(p, "limit", IT_DEFAULT_LOG_LINES));
        it_list_add(arr, it_buf_str(&b), IT_MAX_NEXT_CHECKS);
    }
    for (size_t i = 0; gaps && i < json_object_array_length(gaps); i++) {
        json_object *g = json_object_array_get_idx(gaps, i);
        if (strcmp(it_or(it_json_str(g, "node"), ""), "trace_lookup") == 0)
            continue;
        it_code_of(it_json_str(g, "error"), code, sizeof code);
        it_buf_reset(&b);
        it_buf_printf(&b, "Check by hand what %s would have given (%s failed: %s)",
                      it_or(it_json_str(g, "node"), "?"), it_or(it_json_str(g, "tool"), "?"), code);
        it_list_add(arr, it_buf_str(&b), IT_MAX_NEXT_CHECKS);
    }
    if (json_object_array_length(arr) == 0)
        it_list_add(arr, "Keep watching error_rate and latency_p95_ms; nothing abnormal was found",
                    IT_MAX_NEXT_CHECKS);
    it_buf_free(&b);
    return arr;
}

static json_object *it_copy(json_object *v)
{
    json_object *c = NULL;
    if (!v || json_object_deep_copy(v, &c, NULL) != 0)
        return NULL;
    return c;
}

/* references: {metrics{slo,alerts_count}, log_samples, runbook_snippets,
 * traces}.  0 or SV_ENOMEM. */
static int it_references(json_object *state, json_object **out)
{
    int rc = SV_ENOMEM;
    char snippet[IT_SNIPPET_LEN];
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *groups =
        it_json_get(it_json_get(state, "logs", json_type_object), "groups", json_type_array);
    json_object *rbs = it_json_get(state, "runbooks", json_type_array);
    json_object *ref = json_object_new_object(), *metrics = json_object_new_object();
    json_object *samples = json_object_new_array(), *snips = json_object_new_array();
    json_object *slo = it_copy(it_json_get(ov, "slo", json_type_object));
    json_object *traces = it_copy(it_json_get(state, "traces", json_type_object));

    *out = NULL;
    if (!slo)
        slo = json_object_new_object();
    if (!traces && (traces = json_object_new_object()))
        json_object_object_add(traces, "traces", json_object_new_array());
    if (!ref || !metrics || !samples || !snips || !slo || !traces)
        goto out;
    json_object_object_add(metrics, "slo", slo);
    json_object_object_add(metrics, "alerts_count",
                           json_object_new_int64(it_int_of(ov, "alerts_count", 0)));
    slo = NULL;
    for (size_t i = 0; groups && i < json_object_array_length(groups) && i < IT_MAX_LOG_SAMPLES;
         i++)
        json_object_array_add(
            samples, json_object_new_string(
                         it_or(it_json_str(json_object_array_get_idx(groups, i), "sample"), "")));
    for (size_t i = 0; rbs && i < json_object_array_length(rbs); i++) {
        json_object *rb = json_object_array_get_idx(rbs, i), *s = json_object_new_object();
        if (!s)
            goto out;
        json_object_object_add(s, "path",
                               json_object_new_string(it_or(it_json_str(rb, "path"), "")));
        it_text_block(it_json_str(rb, "text"), snippet, sizeof snippet);
        json_object_object_add(s, "text", json_object_new_string(snippet));
        json_object_array_add(snips, s);
    }
    json_object_object_add(ref, "metrics", metrics);
    json_object_object_add(ref, "log_samples", samples);
    json_object_object_add(ref, "runbook_snippets", snips);
    json_object_object_add(ref, "traces", traces);
    metrics = samples = snips = traces = NULL;
    *out = ref;
    ref = NULL;
    rc = 0;
out:
    json_object_put(ref);
    json_object_put(metrics);
    json_object_put(samples);
    json_object_put(snips);
    json_object_put(slo);
    json_object_put(traces);
    return rc;
}

int it_all_sources_failed(json_object *state, char *why, size_t why_len)
{
    char code[64];
    it_buf b = {0};
    json_object *gaps = it_json_get(state, "data_gaps", json_type_array);
    long attempted = it_int_of(state, "attempted", 0), failed = it_int_of(state, "failed", 0);

    if (attempted <= 0 || failed < attempted)
        return 0;
    it_buf_cat(&b, "every data source failed:");
    for (size_t i = 0; gaps && i < json_object_array_length(gaps); i++) {
        json_object *g = json_object_array_get_idx(gaps, i);
        it_code_of(it_json_str(g, "error"), code, sizeof code);
        it_buf_printf(&b, "%s %s (%s)", i ? "," : "", it_or(it_json_str(g, "tool"), "?"), code);
    }
    it_buf_cat(&b, "; check the router and the tools' permissions");
    snprintf(why, why_len, "%s", it_buf_str(&b));
    it_buf_free(&b);
    return 1;
}

int it_report_build(json_object *state, json_object **out, char *why, size_t why_len)
{
    int rc = 0;
    it_ranking r;
    it_buf summary = {0}, impact = {0};
    json_object *res = NULL, *causes = NULL, *mit = NULL, *next = NULL, *ref = NULL;
    json_object *gaps = NULL, *coverage = NULL;
    int missing = 0;

    *out = NULL;
    if (it_all_sources_failed(state, why, why_len)) {
        rc = SV_ERR;
        goto out;
    }
    if ((rc = it_causes_rank(state, &causes, &r)) < 0)
        goto out;
    it_summary(state, &r, &summary);
    it_impact(state, &impact);
    mit = it_mitigations(state, &r);
    next = it_next_checks(state, &r);
    if ((rc = it_references(state, &ref)) < 0)
        goto out;
    gaps = it_copy(it_json_get(state, "data_gaps", json_type_array));
    if (!gaps)
        gaps = json_object_new_array();
    coverage = it_coverage(state, &missing);
    res = json_object_new_object();
    if (!res || !mit || !next || !ref || !gaps || !coverage || summary.oom || impact.oom) {
        rc = SV_ENOMEM;
        goto out;
    }
    json_object_object_add(res, "summary", json_object_new_string(it_buf_str(&summary)));
    json_object_object_add(res, "suspected_root_causes", causes);
    json_object_object_add(res, "impact_assessment", json_object_new_string(it_buf_str(&impact)));
    json_object_object_add(res, "mitigations_now", mit);
    json_object_object_add(res, "next_checks", next);
    json_object_object_add(res, "references", ref);
    json_object_object_add(res, "data_gaps", gaps);
    /* Beside the seed's fields: how sure the report is, and of what. */
    json_object_object_add(res, "confidence", json_object_new_string(it_conf_name(r.confidence)));
    json_object_object_add(res, "coverage", coverage);
    causes = mit = next = ref = gaps = coverage = NULL;
    *out = res;
    res = NULL;
out:
    it_buf_free(&summary);
    it_buf_free(&impact);
    json_object_put(res);
    json_object_put(causes);
    json_object_put(mit);
    json_object_put(next);
    json_object_put(ref);
    json_object_put(gaps);
    json_object_put(coverage);
    return rc;
}
