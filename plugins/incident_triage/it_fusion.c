/*
 * it_fusion.c - evidence fusion: what every source the graph fetched says
 * about each cause, as one score per cause.  Each source gives a cause a
 * part, capped, so no single source can drown the others (thirty timeout
 * lines do not outvote a pool alert, a failing pool check and a pool at 100%
 * of its size); then the sum grows by IT_AGREEMENT for every further source
 * that agrees, because independent sources agreeing is what makes a cause
 * likely.  docs/graphs.md walks through an example.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

const char *const it_src_names[IT_SRC_COUNT] = {"logs",    "alerts",   "health",
                                                "metrics", "runbooks", "symptom"};

int it_acc_init(it_acc *acc)
{
    int rc = 0;
    memset(acc, 0, sizeof *acc * IT_CAUSE_COUNT);
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        acc[id].logs = json_object_new_array();
        acc[id].other = json_object_new_array();
        if (!acc[id].logs || !acc[id].other)
            rc = SV_ENOMEM;
        for (int s = 0; s < IT_SRC_COUNT; s++)
            if (!(acc[id].by[s] = json_object_new_array()))
                rc = SV_ENOMEM;
    }
    return rc;
}

void it_acc_free(it_acc *acc)
{
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        json_object_put(acc[id].logs);
        json_object_put(acc[id].other);
        for (int s = 0; s < IT_SRC_COUNT; s++)
            json_object_put(acc[id].by[s]);
    }
    memset(acc, 0, sizeof *acc * IT_CAUSE_COUNT);
}

/* ---- evidence lines ------------------------------------------------------------ */

static void it_add_line(json_object *arr, const char *s, const char *rule)
{
    char line[IT_EVIDENCE_LINE_LEN + 80];
    it_buf b = {0};
    it_text_line(s, line, sizeof line);
    it_buf_cat(&b, line);
    if (rule)
        it_buf_printf(&b, " (matched: %s)", rule);
    json_object_array_add(arr, json_object_new_string(it_buf_str(&b)));
    it_buf_free(&b);
}

void it_ev_log(json_object *arr, long count, const char *sample, const char *rule)
{
    char line[IT_EVIDENCE_LINE_LEN];
    char buf[IT_EVIDENCE_LINE_LEN + 32];
    it_text_line(sample, line, sizeof line);
    snprintf(buf, sizeof buf, "%ld\xc3\x97 %s", count, line);
    it_add_line(arr, buf, rule);
}

void it_ev_alert(json_object *arr, json_object *a, const char *rule)
{
    it_buf b = {0};
    const char *sev = it_json_str(a, "severity"), *since = it_json_str(a, "since");
    it_buf_printf(&b, "alert %s", it_or(it_json_str(a, "name"), "?"));
    if (sev && *sev)
        it_buf_printf(&b, " (%s)", sev);
    it_buf_cat(&b, " firing");
    if (since && *since)
        it_buf_printf(&b, " since %s", since);
    it_add_line(arr, it_buf_str(&b), rule);
    it_buf_free(&b);
}

void it_ev_check(json_object *arr, json_object *c, const char *rule)
{
    it_buf b = {0};
    const char *detail = it_json_str(c, "detail");
    it_buf_printf(&b, "health check %s: %s", it_or(it_json_str(c, "name"), "?"),
                  it_or(it_json_str(c, "status"), "unknown"));
    if (detail && *detail)
        it_buf_printf(&b, " - %s", detail);
    it_add_line(arr, it_buf_str(&b), rule);
    it_buf_free(&b);
}

/* ---- weights of single items ------------------------------------------------------ */

/* An alert's severity: a page counts fully, a warning 0.7, info 0.4. */
static double it_severity(const char *sev)
{
    static const char *const high[] = {"critical", "crit",  "page",  "p1",        "sev1",
                                       "high",     "error", "major", "emergency", NULL};
    static const char *const low[] = {"info", "informational", "low", "none", "p4", "notice", NULL};
    char s[33];
    it_text_lower(sev, s, sizeof s);
    for (int i = 0; high[i]; i++)
        if (strcmp(s, high[i]) == 0)
            return 1.0;
    for (int i = 0; low[i]; i++)
        if (strcmp(s, low[i]) == 0)
            return 0.4;
    return 0.7;
}

/* A failing check counts fully, a degraded or warning one 0.6. */
static double it_check_weight(const char *status)
{
    static const char *const hard[] = {"fail",  "failed",    "failing", "down", "critical",
                                       "error", "unhealthy", "dead",    NULL};
    char s[33];
    it_text_lower(status, s, sizeof s);
    for (int i = 0; hard[i]; i++)
        if (strcmp(s, hard[i]) == 0)
            return 1.0;
    return 0.6;
}

/* A group's lines weighed by recency: a line at the window's end counts 1,
 * one at its start 0.5, one without a time 0.75. */
static double it_recent_count(json_object *g, int64_t from, int64_t to)
{
    json_object *v;
    long count = (v = it_json_get(g, "count", json_type_int)) ? (long)json_object_get_int64(v) : 0;
    long n = (v = it_json_get(g, "ts_n", json_type_int)) ? (long)json_object_get_int64(v) : 0;
    int64_t mean = (v = it_json_get(g, "ts_mean", json_type_int)) ? json_object_get_int64(v) : 0;
    if (n > count || n < 0)
        n = 0;
    double w = (double)(count - n) * 0.75;
    if (n > 0) {
        double frac = to > from ? (double)(mean - from) / (double)(to - from) : 1.0;
        frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
        w += (double)n * (0.5 + 0.5 * frac);
    }
    return w;
}

/* The tokens of a name as written and split into words ("High5xxRate" is
 * "high 5xx rate"; "p99" must stay whole). */
static void it_name_match(const char *name, const char *more, it_match *m)
{
    char words[IT_EVIDENCE_LINE_LEN + 80];
    it_buf b = {0};
    it_buf_printf(&b, "%s %s %s", it_or(name, ""), it_text_words(name, words, sizeof words),
                  it_or(more, ""));
    it_match_text(it_buf_str(&b), m);
    it_buf_free(&b);
}

static void it_cap_add(double *part, double add, double cap)
{
    *part = *part + add > cap ? cap : *part + add;
}

/* ---- the sources ------------------------------------------------------------------ */

static void it_from_logs(json_object *state, it_acc *acc)
{
    json_object *p = it_json_get(state, "params", json_type_object);
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *groups = it_json_get(logs, "groups", json_type_array), *v;
    int64_t from = 0, to = 0;
    double total = 0;
    long kept = 0;

    if (it_time_parse(it_json_str(p, "from"), &from) != 0 ||
        it_time_parse(it_json_str(p, "to"), &to) != 0)
        from = to = 0;
    for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        const char *sample = it_json_str(g, "sample");
        long count = (v = it_json_get(g, "count", json_type_int)) ? json_object_get_int64(v) : 0;
        double w = it_recent_count(g, from, to);
        it_match m;
        if (count <= 0)
            continue;
        kept += count;
        total += w;
        it_match_text(sample && *sample ? sample : it_json_str(g, "sig"), &m);
        if (m.cause == IT_CAUSE_NONE)
            continue;
        it_acc *a = &acc[m.cause];
        a->lines += count;
        a->wlines += w * m.strength;
        if (a->n_logs++ < IT_MAX_LOG_EVIDENCE) {
            it_ev_log(a->logs, count, sample, NULL);
            it_ev_log(a->by[IT_SRC_LOGS], count, sample, m.why);
        }
    }
    /* Lines of groups not kept in the digest count as unexplained. */
    v = it_json_get(logs, "analysed", json_type_int);
    if (v && json_object_get_int64(v) > kept)
        total += (double)(json_object_get_int64(v) - kept) * 0.75;
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        it_acc *a = &acc[id];
        double volume =
            a->lines >= IT_LOG_FULL_VOLUME ? 1.0 : (double)a->lines / IT_LOG_FULL_VOLUME;
        if (a->wlines > 0 && total > 0)
            a->part[IT_SRC_LOGS] = IT_W_LOGS * (a->wlines / total) * volume;
    }
    /* A deploy announced at info level: no error line, but evidence. */
    if ((v = it_json_get(logs, "deploy_lines", json_type_int)) && json_object_get_int64(v) > 0) {
        it_acc *a = &acc[IT_CAUSE_DEPLOY];
        long n = (long)json_object_get_int64(v);
        a->lines += n;
        a->part[IT_SRC_LOGS] += IT_W_DEPLOY_LOG;
        it_ev_log(a->logs, n, it_json_str(logs, "deploy_sample"), NULL);
        it_ev_log(a->by[IT_SRC_LOGS], n, it_json_str(logs, "deploy_sample"), "info-level deploy");
    }
}

static void it_from_alerts_and_checks(json_object *state, it_acc *acc)
{
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *alerts = it_json_get(ov, "alerts", json_type_array);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *checks = it_json_get(health, "checks", json_type_array);
    it_match m;

    for (size_t i = 0; alerts && i < json_object_array_length(alerts); i++) {
        json_object *al = json_object_array_get_idx(alerts, i);
        it_name_match(it_json_str(al, "name"), NULL, &m);
        if (m.cause == IT_CAUSE_NONE)
            continue;
        it_acc *a = &acc[m.cause];
        it_cap_add(&a->part[IT_SRC_ALERTS],
                   IT_W_ALERT * it_severity(it_json_str(al, "severity")) * m.strength,
                   IT_CAP_ALERTS);
        it_ev_alert(a->other, al, NULL);
        if (json_object_array_length(a->by[IT_SRC_ALERTS]) < IT_MAX_BY_SOURCE)
            it_ev_alert(a->by[IT_SRC_ALERTS], al, m.why);
    }
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
        json_object *c = json_object_array_get_idx(checks, i);
        if (!it_status_bad(it_json_str(c, "status")))
            continue;
        it_name_match(it_json_str(c, "name"), it_json_str(c, "detail"), &m);
        if (m.cause == IT_CAUSE_NONE)
            continue;
        it_acc *a = &acc[m.cause];
        it_cap_add(&a->part[IT_SRC_HEALTH],
                   IT_W_CHECK * it_check_weight(it_json_str(c, "status")) * m.strength,
                   IT_CAP_HEALTH);
        it_ev_check(a->other, c, NULL);
        if (json_object_array_length(a->by[IT_SRC_HEALTH]) < IT_MAX_BY_SOURCE)
            it_ev_check(a->by[IT_SRC_HEALTH], c, m.why);
    }
}

static void it_from_metrics(json_object *state, it_acc *acc)
{
    it_finding f[IT_MAX_FINDINGS];
    json_object *ov = it_json_get(state, "overview", json_type_object);
    int n = it_metrics_scan(it_json_get(ov, "slo", json_type_object),
                            it_json_get(ov, "metrics", json_type_object), f, IT_MAX_FINDINGS);
    for (int i = 0; i < n; i++) {
        it_acc *a = &acc[f[i].cause];
        it_cap_add(&a->part[IT_SRC_METRICS], IT_W_METRIC * f[i].severity, IT_CAP_METRICS);
        if (json_object_array_length(a->by[IT_SRC_METRICS]) < IT_MAX_BY_SOURCE)
            json_object_array_add(a->by[IT_SRC_METRICS], json_object_new_string(f[i].line));
    }
}

static void it_from_runbooks(json_object *state, it_acc *acc)
{
    json_object *rbs = it_json_get(state, "runbooks", json_type_array);
    it_buf b = {0};
    it_match m;
    for (size_t i = 0; rbs && i < json_object_array_length(rbs); i++) {
        json_object *rb = json_object_array_get_idx(rbs, i);
        const char *title = it_json_str(rb, "title"), *path = it_json_str(rb, "path");
        /* The title says what the runbook is for; without one, its file name. */
        const char *what = title && *title ? title : path;
        const char *base = what && strrchr(what, '/') ? strrchr(what, '/') + 1 : what;
        it_name_match(base, NULL, &m);
        if (m.cause == IT_CAUSE_NONE)
            continue;
        it_acc *a = &acc[m.cause];
        int first = a->part[IT_SRC_RUNBOOKS] == 0;
        it_cap_add(&a->part[IT_SRC_RUNBOOKS], first ? IT_W_RUNBOOK : IT_W_RUNBOOK / 2,
                   IT_CAP_RUNBOOKS);
        it_buf_reset(&b);
        it_buf_printf(&b, "runbook \"%s\" (%s)", it_or(title, ""), it_or(path, ""));
        if (json_object_array_length(a->by[IT_SRC_RUNBOOKS]) < IT_MAX_BY_SOURCE)
            it_add_line(a->by[IT_SRC_RUNBOOKS], it_buf_str(&b), m.why);
    }
    it_buf_free(&b);
}

static void it_from_symptom(json_object *state, it_acc *acc)
{
    char sym[IT_MAX_SYMPTOM_LEN + 1], line[140];
    json_object *p = it_json_get(state, "params", json_type_object);
    it_tokens t;
    it_buf b = {0};
    it_tokenize(it_text_line(it_json_str(p, "symptom"), sym, sizeof sym), &t);
    /* The symptom may name several causes ("slow and OOM after the deploy"). */
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        char rule[IT_WHY_LEN];
        int w = it_match_cause(&t, id, rule, sizeof rule);
        if (w < 2)
            continue;
        acc[id].symptom = 1;
        acc[id].part[IT_SRC_SYMPTOM] = IT_W_SYMPTOM * (w >= 3 ? 1.0 : 0.7);
        it_buf_reset(&b);
        it_buf_printf(&b, "symptom: \"%s\"", it_text_line(sym, line, sizeof line));
        it_add_line(acc[id].by[IT_SRC_SYMPTOM], it_buf_str(&b), rule);
    }
    it_buf_free(&b);
}

int it_trouble(json_object *state)
{
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *checks = it_json_get(health, "checks", json_type_array);
    json_object *v;

    if ((v = it_json_get(logs, "analysed", json_type_int)) && json_object_get_int64(v) > 0)
        return 1;
    if ((v = it_json_get(ov, "alerts_count", json_type_int)) && json_object_get_int64(v) > 0)
        return 1;
    if (it_status_bad(it_json_str(health, "status")))
        return 1;
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++)
        if (it_status_bad(it_json_str(json_object_array_get_idx(checks, i), "status")))
            return 1;
    return 0;
}

double it_acc_sources(const it_acc *a, int *observed)
{
    int n = 0;
    for (int s = IT_SRC_LOGS; s <= IT_SRC_METRICS; s++)
        n += a->part[s] > 0;
    if (observed)
        *observed = n;
    return n + 0.5 * (a->part[IT_SRC_RUNBOOKS] > 0) + 0.5 * (a->part[IT_SRC_SYMPTOM] > 0);
}

/* Score, level and listing of every cause from its parts. */
static void it_weigh(json_object *state, it_acc *acc)
{
    int trouble = it_trouble(state);
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        it_acc *a = &acc[id];
        int observed;
        double n = it_acc_sources(a, &observed), sum = 0;
        for (int s = 0; s < IT_SRC_COUNT; s++)
            sum += a->part[s];
        a->agreement = n >= 1 ? 1.0 + IT_AGREEMENT * (n - 1) : 1.0;
        a->score = sum * a->agreement;
        a->level = n >= 3                                     ? IT_CONF_HIGH
                   : n >= 1.5 || (observed && a->score >= 20) ? IT_CONF_MEDIUM
                                                              : IT_CONF_LOW;
        /* Observed evidence, and only when something is wrong: a metric near
         * its limit on a healthy service is a warning, not a cause.  A deploy
         * the reporter mentions counts as evidence of one. */
        a->listed = trouble && (observed > 0 || (id == IT_CAUSE_DEPLOY && a->symptom));
    }
    /* "Configuration error after a change": the change makes it likelier. */
    it_acc *cfg = &acc[IT_CAUSE_CONFIG];
    if (cfg->listed && (acc[IT_CAUSE_DEPLOY].score > 0 || cfg->symptom))
        cfg->score *= IT_AFTER_CHANGE;
    /* Restarts are what an OOM kill or a bad config look like from outside:
     * a crash loop seen only in restart counts and alerts is not a cause of
     * its own when one of those explains it better. */
    it_acc *crash = &acc[IT_CAUSE_CRASH];
    if (crash->listed && crash->part[IT_SRC_LOGS] == 0 && crash->part[IT_SRC_HEALTH] == 0)
        for (int id = 0; id < IT_CAUSE_COUNT; id++)
            if ((id == IT_CAUSE_MEMORY || id == IT_CAUSE_CONFIG) && acc[id].listed &&
                acc[id].score > crash->score)
                crash->listed = 0;
}

void it_fusion_collect(json_object *state, it_acc *acc)
{
    it_from_logs(state, acc);
    it_from_alerts_and_checks(state, acc);
    it_from_metrics(state, acc);
    it_from_runbooks(state, acc);
    it_from_symptom(state, acc);
    it_weigh(state, acc);
}
