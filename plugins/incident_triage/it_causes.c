/*
 * it_causes.c - from weighed evidence (it_fusion.c) to the ranked causes of
 * the report: rank by score, each cause with its evidence list (the seed's
 * strings), its evidence by source, its score and the parts it is made of,
 * and a confidence that says how many sources agree and what was missing.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

const char *it_conf_name(int level)
{
    return level >= IT_CONF_HIGH ? "high" : level == IT_CONF_MEDIUM ? "medium" : "low";
}

/* ---- coverage: which sources answered ------------------------------------------ */

/* The data_gaps entry of a node (and tool), or NULL. */
static json_object *it_gap(json_object *state, const char *node, const char *tool)
{
    json_object *gaps = it_json_get(state, "data_gaps", json_type_array);
    for (size_t i = 0; gaps && i < json_object_array_length(gaps); i++) {
        json_object *g = json_object_array_get_idx(gaps, i);
        if (strcmp(it_or(it_json_str(g, "node"), ""), node) == 0 &&
            (!tool || strcmp(it_or(it_json_str(g, "tool"), ""), tool) == 0))
            return g;
    }
    return NULL;
}

json_object *it_coverage(json_object *state, int *gaps)
{
    static const struct {
        const char *source, *node, *tool, *key;
        int primary;
    } src[] = {
        {IT_ACT_OVERVIEW, "service_overview", IT_TOOL_OBS, "overview", 1},
        {IT_ACT_LOGS, "top_errors_logs", IT_TOOL_OBS, "logs", 1},
        {IT_ACT_HEALTH, "health_and_runbooks", IT_TOOL_ONCALL, "health", 1},
        {IT_ACT_RUNBOOKS, "health_and_runbooks", IT_TOOL_KB, "runbooks", 0},
        {IT_ACT_TRACES, "trace_lookup", IT_TOOL_OBS, "traces", 0},
    };
    char code[64];
    it_buf miss = {0}, effect = {0};
    json_object *cov = json_object_new_object(), *st = json_object_new_object();
    json_object *missing = json_object_new_array();
    int n = 0;

    *gaps = 0;
    if (!cov || !st || !missing) {
        json_object_put(cov);
        json_object_put(st);
        json_object_put(missing);
        return NULL;
    }
    for (size_t i = 0; i < sizeof src / sizeof src[0]; i++) {
        json_object *g = it_gap(state, src[i].node, src[i].tool);
        const char *status = "ok";
        if (g) {
            const char *e = it_or(it_json_str(g, "error"), "error");
            size_t l = strcspn(e, ":");
            snprintf(code, sizeof code, "failed: %.*s", (int)(l < 40 ? l : 40), e);
            status = code;
        } else if (!json_object_object_get_ex(state, src[i].key, NULL)) {
            const char *note = it_json_str(state, "traces_note");
            status = i == 4 && note ? note : "not_collected";
        }
        json_object_object_add(st, src[i].source, json_object_new_string(status));
        if (strcmp(status, "ok") == 0 || (i == 4 && !g))
            continue;
        json_object_array_add(missing, json_object_new_string(src[i].source));
        if (src[i].primary) {
            it_buf_printf(&miss, "%s%s (%s)", n++ ? ", " : "", src[i].source, status);
            (*gaps)++;
        }
    }
    if (n == 0)
        it_buf_cat(&effect, "All primary sources (service_overview, logs_query, service_health) "
                            "answered; no confidence is lowered");
    else
        it_buf_printf(&effect,
                      "Missing %s: every cause's confidence is %d level%s lower, since the "
                      "missing data could have supported or contradicted it",
                      it_buf_str(&miss), n, n == 1 ? "" : "s");
    json_object_object_add(cov, "sources", st);
    json_object_object_add(cov, "missing", missing);
    json_object_object_add(cov, "effect", json_object_new_string(it_buf_str(&effect)));
    it_buf_free(&miss);
    it_buf_free(&effect);
    return cov;
}

/* ---- one cause ------------------------------------------------------------------- */

/* "metric db_pool_in_use=100" for members of obj named like the cause. */
static int it_metric_evidence(json_object *arr, json_object *obj, const char *const *hints,
                              int room)
{
    char num[64], line[160];
    int n = 0;
    if (!obj || !json_object_is_type(obj, json_type_object))
        return 0;
    json_object_object_foreach(obj, key, v)
    {
        int hit = 0;
        for (int i = 0; hints[i] && !hit; i++)
            hit = strstr(key, hints[i]) != NULL;
        if (!hit || n >= room || !v)
            continue;
        if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
            it_text_number(json_object_get_double(v), num, sizeof num);
        else if (json_object_is_type(v, json_type_string))
            it_text_line(json_object_get_string(v), num, sizeof num);
        else
            continue;
        snprintf(line, sizeof line, "metric %s=%s", key, num);
        json_object_array_add(arr, json_object_new_string(line));
        n++;
    }
    return n;
}

/* Is s[0..n) one of the strings of arr? */
static int it_has_line(json_object *arr, const char *s, size_t n)
{
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        const char *o = json_object_get_string(json_object_array_get_idx(arr, i));
        if (strncmp(o, s, n) == 0 && o[n] == '\0')
            return 1;
    }
    return 0;
}

/* The evidence list of a cause: log lines, alerts and checks, metrics named
 * like the cause (then metrics at a limit not named yet), the symptom. */
static json_object *it_evidence(json_object *state, it_acc *a, int id)
{
    char line[IT_EVIDENCE_LINE_LEN + 32], sym[140];
    json_object *ev = json_object_new_array();
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *params = it_json_get(state, "params", json_type_object);
    json_object *found = a->by[IT_SRC_METRICS];
    const it_cause_info *info = it_cause_get(id);
    if (!ev)
        return NULL;
    for (size_t i = 0; i < json_object_array_length(a->logs); i++)
        json_object_array_add(ev, json_object_get(json_object_array_get_idx(a->logs, i)));
    for (size_t i = 0; i < json_object_array_length(a->other); i++)
        if (json_object_array_length(ev) < IT_MAX_EVIDENCE)
            json_object_array_add(ev, json_object_get(json_object_array_get_idx(a->other, i)));
    int room = IT_MAX_EVIDENCE - (int)json_object_array_length(ev);
    room -= it_metric_evidence(ev, it_json_get(ov, "slo", json_type_object), info->metric_hints,
                               room < 3 ? room : 3);
    it_metric_evidence(ev, it_json_get(ov, "metrics", json_type_object), info->metric_hints,
                       room < 2 ? room : 2);
    for (size_t i = 0; i < json_object_array_length(found); i++) {
        /* "metric k=v (why)": quoted as "metric k=v" unless already there. */
        const char *f = json_object_get_string(json_object_array_get_idx(found, i));
        const char *why = strstr(f, " (");
        size_t n = why ? (size_t)(why - f) : strlen(f);
        if (json_object_array_length(ev) >= IT_MAX_EVIDENCE || it_has_line(ev, f, n))
            continue;
        snprintf(line, sizeof line, "%.*s", (int)n, f);
        json_object_array_add(ev, json_object_new_string(line));
    }
    if (a->symptom && json_object_array_length(ev) < IT_MAX_EVIDENCE) {
        it_text_line(it_json_str(params, "symptom"), sym, sizeof sym);
        snprintf(line, sizeof line, "symptom: \"%s\"", sym);
        json_object_array_add(ev, json_object_new_string(line));
    }
    return ev;
}

/* A score rounded to 1 or 2 decimals, written as such (json-c would print
 * 76.700000000000003).  Scores are never negative. */
static json_object *it_number(double v, int decimals)
{
    char buf[48];
    double scale = decimals == 2 ? 100.0 : 10.0;
    double r = (double)(long long)(v * scale + 0.5) / scale;
    snprintf(buf, sizeof buf, "%.*f", decimals, r);
    /* "9.70" -> "9.7"; "12.0" keeps its ".0" */
    size_t n = strlen(buf);
    while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
        buf[--n] = '\0';
    return json_object_new_double_s(r, buf);
}

/* "3 sources agree: logs, alerts, health; also the symptom" and the gaps. */
static void it_reason(const it_acc *a, int gaps, json_object *coverage, it_buf *b)
{
    int observed, k = 0;
    it_acc_sources(a, &observed);
    if (observed == 0)
        it_buf_cat(b, "no observed evidence; named by");
    else if (observed == 1)
        it_buf_cat(b, "only one source shows it:");
    else
        it_buf_printf(b, "%d sources agree:", observed);
    for (int s = IT_SRC_LOGS; s <= IT_SRC_METRICS; s++)
        if (a->part[s] > 0)
            it_buf_printf(b, "%s %s", k++ ? "," : "", it_src_names[s]);
    int weak = 0;
    for (int s = IT_SRC_RUNBOOKS; s < IT_SRC_COUNT; s++)
        if (a->part[s] > 0)
            it_buf_printf(b, "%s %s", weak++ ? " and" : (observed ? "; also the" : " the"),
                          it_src_names[s]);
    if (gaps > 0)
        it_buf_printf(b, "; %d level%s lower: %s", gaps, gaps == 1 ? "" : "s",
                      it_or(it_json_str(coverage, "effect"), "sources missing"));
}

static json_object *it_parts(const it_acc *a)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    for (int s = 0; s < IT_SRC_COUNT; s++)
        json_object_object_add(o, it_src_names[s], it_number(a->part[s], 1));
    json_object_object_add(o, "agreement", it_number(a->agreement, 2));
    return o;
}

static json_object *it_by_source(it_acc *a)
{
    json_object *o = json_object_new_object();
    if (!o)
        return NULL;
    for (int s = 0; s < IT_SRC_COUNT; s++)
        json_object_object_add(o, it_src_names[s], json_object_get(a->by[s]));
    return o;
}

/* The report's entry for a cause (the seed's three fields first). */
static json_object *it_cause_json(int rank, const char *cause, json_object *ev, const char *key,
                                  int level, const char *reason, it_acc *a)
{
    json_object *c = json_object_new_object();
    if (!c) {
        json_object_put(ev);
        return NULL;
    }
    json_object_object_add(c, "rank", json_object_new_int(rank));
    json_object_object_add(c, "cause", json_object_new_string(cause));
    json_object_object_add(c, "evidence", ev);
    json_object_object_add(c, "key", json_object_new_string(key));
    json_object_object_add(c, "confidence", json_object_new_string(it_conf_name(level)));
    json_object_object_add(c, "confidence_reason", json_object_new_string(reason));
    json_object_object_add(c, "score", it_number(a->score, 1));
    json_object_object_add(c, "score_parts", it_parts(a));
    json_object_object_add(c, "evidence_by_source", it_by_source(a));
    return c;
}

/* The "unknown" cause: the top signatures, the unexplained alerts and checks. */
static json_object *it_unknown(json_object *state, long *lines)
{
    char sig[130], words[IT_EVIDENCE_LINE_LEN + 80];
    it_buf b = {0};
    it_acc u;
    json_object *c = NULL, *ev = json_object_new_array(), *v;
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *groups = it_json_get(logs, "groups", json_type_array);
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *alerts = it_json_get(ov, "alerts", json_type_array);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *checks = it_json_get(health, "checks", json_type_array);
    size_t ng = groups ? json_object_array_length(groups) : 0;

    *lines = 0;
    memset(&u, 0, sizeof u);
    int ok = ev != NULL;
    for (int s = 0; s < IT_SRC_COUNT; s++)
        ok &= (u.by[s] = json_object_new_array()) != NULL;
    if (!ok)
        goto out;
    for (size_t i = 0; i < ng && i < IT_MAX_LOG_EVIDENCE; i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        long count = (v = it_json_get(g, "count", json_type_int)) ? json_object_get_int64(v) : 0;
        if (i == 0)
            *lines = count;
        it_ev_log(ev, count, it_json_str(g, "sample"), NULL);
        it_ev_log(u.by[IT_SRC_LOGS], count, it_json_str(g, "sample"), NULL);
    }
    for (size_t i = 0; alerts && i < json_object_array_length(alerts); i++) {
        if (json_object_array_length(ev) < IT_MAX_EVIDENCE)
            it_ev_alert(ev, json_object_array_get_idx(alerts, i), NULL);
        if (json_object_array_length(u.by[IT_SRC_ALERTS]) < IT_MAX_BY_SOURCE)
            it_ev_alert(u.by[IT_SRC_ALERTS], json_object_array_get_idx(alerts, i), NULL);
    }
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
        json_object *ch = json_object_array_get_idx(checks, i);
        if (!it_status_bad(it_json_str(ch, "status")))
            continue;
        if (json_object_array_length(ev) < IT_MAX_EVIDENCE)
            it_ev_check(ev, ch, NULL);
        if (json_object_array_length(u.by[IT_SRC_HEALTH]) < IT_MAX_BY_SOURCE)
            it_ev_check(u.by[IT_SRC_HEALTH], ch, NULL);
    }
    const char *hs = it_or(it_json_str(health, "status"), "unknown");
    if (it_status_bad(hs) && json_object_array_length(ev) < IT_MAX_EVIDENCE) {
        snprintf(words, sizeof words, "health: %s", hs);
        json_object_array_add(ev, json_object_new_string(words));
    }
    if (ng > 0) {
        it_text_line(it_json_str(json_object_array_get_idx(groups, 0), "sig"), sig, sizeof sig);
        it_buf_printf(&b, "Unknown: no known pattern matched; top error signature \"%s\"", sig);
    } else {
        it_buf_cat(&b, "Unknown: no known pattern matched the alerts and health checks");
    }
    u.agreement = 1.0;
    c = it_cause_json(1, it_buf_str(&b), ev, "unknown", IT_CONF_LOW,
                      "no rule of any cause matched the logs, alerts or health checks", &u);
    ev = NULL;
out:
    json_object_put(ev);
    for (int s = 0; s < IT_SRC_COUNT; s++)
        json_object_put(u.by[s]);
    it_buf_free(&b);
    return c;
}

/* ---- ranking ---------------------------------------------------------------------- */

/* The priority rank of a cause, for ties. */
static int it_prio(int id)
{
    for (int k = 0; k < IT_CAUSE_COUNT; k++)
        if (it_cause_priority[k] == id)
            return k;
    return IT_CAUSE_COUNT;
}

static int it_lower(int level, int gaps)
{
    return level - gaps < IT_CONF_LOW ? IT_CONF_LOW : level - gaps;
}

int it_causes_rank(json_object *state, json_object **out, it_ranking *r)
{
    int rc, order[IT_CAUSE_COUNT], n = 0, gaps = 0;
    it_acc acc[IT_CAUSE_COUNT];
    it_buf reason = {0};
    json_object *arr = json_object_new_array();
    json_object *coverage = it_coverage(state, &gaps);

    *out = NULL;
    memset(r, 0, sizeof *r);
    rc = it_acc_init(acc);
    if (!arr || !coverage || rc < 0) {
        rc = SV_ENOMEM;
        goto out;
    }
    it_fusion_collect(state, acc);
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        if (!acc[id].listed)
            continue;
        /* By score; equal scores by priority (the specific first). */
        int k = n++;
        while (k > 0 && (acc[order[k - 1]].score < acc[id].score ||
                         (acc[order[k - 1]].score == acc[id].score &&
                          it_prio(order[k - 1]) > it_prio(id)))) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = id;
    }
    r->gaps = gaps;
    for (int i = 0; i < n; i++) {
        it_acc *a = &acc[order[i]];
        const it_cause_info *info = it_cause_get(order[i]);
        it_buf_reset(&reason);
        it_reason(a, gaps, coverage, &reason);
        json_object *c = it_cause_json(i + 1, info->title, it_evidence(state, a, order[i]),
                                       info->key, it_lower(a->level, gaps), it_buf_str(&reason), a);
        if (!c || reason.oom) {
            json_object_put(c);
            rc = SV_ENOMEM;
            goto out;
        }
        json_object_array_add(arr, c);
        r->ids[i] = order[i];
        r->level[i] = a->level;
    }
    r->n = n;
    if (n > 0) {
        r->top_lines = acc[order[0]].lines;
        r->confidence = it_lower(acc[order[0]].level, gaps);
    } else {
        json_object *groups =
            it_json_get(it_json_get(state, "logs", json_type_object), "groups", json_type_array);
        /* Nothing found: as sure of that as the sources allow. */
        r->confidence = it_lower(IT_CONF_HIGH, gaps);
        if (it_trouble(state) || (groups && json_object_array_length(groups) > 0)) {
            json_object *c = it_unknown(state, &r->top_lines);
            if (!c) {
                rc = SV_ENOMEM;
                goto out;
            }
            json_object_array_add(arr, c);
            r->ids[0] = IT_CAUSE_UNKNOWN;
            r->level[0] = IT_CONF_LOW;
            r->confidence = IT_CONF_LOW;
            r->n = 1;
        }
    }
    *out = arr;
    arr = NULL;
    rc = 0;
out:
    it_acc_free(acc);
    it_buf_free(&reason);
    json_object_put(coverage);
    json_object_put(arr);
    return rc;
}
