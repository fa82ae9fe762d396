/*
 * it_causes.c - from evidence to ranked causes.  Each signature group, alert
 * and failing health check is given to the first cause (in the order of the
 * table: the most specific first, so "timeout acquiring connection" is the
 * pool, not a timeout) whose keywords it contains.  A cause scores its log
 * lines, IT_W_ALERT per alert, IT_W_CHECK per failing check and IT_W_SYMPTOM
 * when the symptom names it; causes are ranked by score, ties in table order.
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

static const char *const it_kw_pool[] = {
    "pool exhausted",
    "pool is exhausted",
    "pool exhaustion",
    "connection pool",
    "too many connections",
    "too many clients",
    "acquiring connection",
    "acquire connection",
    "acquire a connection",
    "max_connections",
    "pool timeout",
    "remaining connection slots",
    "connection is not available",
    "no available connection*",
    NULL,
};
static const char *const it_kw_memory[] = {
    "oom",
    "oomkill*",
    "oom kill*",
    "out of memory",
    "outofmemory*",
    "cannot allocate",
    "can't allocate",
    "failed to allocate",
    "memory limit*",
    "memory pressure",
    "memory exhausted",
    "memory usage",
    "high memory",
    "memory high",
    "heap",
    "killed process",
    NULL,
};
static const char *const it_kw_timeout[] = {
    "timed out",         "timeout*",    "deadline exceeded",
    "context deadline*", "504",         "gateway timeout",
    "read timeout",      "i/o timeout", NULL,
};
static const char *const it_kw_dep5xx[] = {
    "502",
    "503",
    "bad gateway",
    "service unavailable",
    "upstream error*",
    "upstream unavailable",
    "upstream 5xx",
    "dependency unavailable",
    "dependency error*",
    "circuit breaker open",
    "circuit open",
    NULL,
};
static const char *const it_kw_deploy[] = {
    "deploy*", "rollout*", "rolled out", "rolling update", "release", "new version", "canary", NULL,
};
static const char *const it_kw_none[] = {NULL};

static const char *const it_mit_pool[] = {
    "Increase DB pool size (and the database's max_connections to match)",
    "Kill long-running or idle-in-transaction DB sessions that hold connections",
    "Shed or rate-limit the traffic that opens the most DB connections",
    NULL,
};
static const char *const it_mit_memory[] = {
    "Raise the memory limit or add replicas so pods stop being OOM-killed",
    "Restart the affected pods and look for a leak in the latest version (heap profile)",
    NULL,
};
static const char *const it_mit_timeout[] = {
    "Fail over or scale the slow upstream; lower client timeouts so requests do not pile up",
    "Enable circuit breaking and retries with backoff toward the slow upstream",
    NULL,
};
static const char *const it_mit_dep5xx[] = {
    "Fail over or disable the feature that calls the failing dependency",
    "Enable circuit breaking toward the failing dependency and serve degraded answers",
    NULL,
};
static const char *const it_mit_deploy[] = {
    "Roll back the latest deploy if the errors started with it",
    "Pause further rollouts of the service until the triage ends",
    NULL,
};
static const char *const it_mit_unknown[] = {
    "Inspect the top error signature and the latest changes to the service",
    NULL,
};

static const char *const it_hint_pool[] = {"pool", "conn", "db_", NULL};
static const char *const it_hint_memory[] = {"mem", "oom", "restart", "rss", "heap", NULL};
static const char *const it_hint_timeout[] = {"latency", "timeout", "p95", "p99", NULL};
static const char *const it_hint_dep5xx[] = {"5xx", "upstream", "dependency", NULL};
static const char *const it_hint_deploy[] = {"deploy", "version", "release", NULL};

static const it_cause_info it_cause_table[IT_CAUSE_COUNT + 1] = {
    [IT_CAUSE_POOL] = {"connection_pool", "DB connection-pool exhaustion", it_kw_pool, it_mit_pool,
                       "Check DB active connections against the pool size, and the slowest "
                       "queries holding them",
                       it_hint_pool},
    [IT_CAUSE_MEMORY] = {"memory_pressure", "Memory pressure (OOM kills)", it_kw_memory,
                         it_mit_memory,
                         "Check memory usage, OOMKilled events and restarts of the pods "
                         "(kubectl describe pod)",
                         it_hint_memory},
    [IT_CAUSE_TIMEOUT] = {"upstream_timeouts", "Upstream timeouts", it_kw_timeout, it_mit_timeout,
                          "Check latency and error rate of the upstream dependencies over the "
                          "window",
                          it_hint_timeout},
    [IT_CAUSE_DEP5XX] = {"dependency_5xx", "Dependency 5xx errors", it_kw_dep5xx, it_mit_dep5xx,
                         "Check the health and recent changes of the dependency answering 5xx",
                         it_hint_dep5xx},
    [IT_CAUSE_DEPLOY] = {"recent_deploy", "Recent deploy", it_kw_deploy, it_mit_deploy,
                         "Compare error rate and latency before and after the latest deploy",
                         it_hint_deploy},
    [IT_CAUSE_UNKNOWN] = {"unknown", "Unknown", it_kw_none, it_mit_unknown,
                          "Search the logs around the first occurrence of the top error "
                          "signature",
                          it_kw_none},
};

const it_cause_info *it_cause_get(int id)
{
    if (id < 0 || id > IT_CAUSE_UNKNOWN)
        return NULL;
    return &it_cause_table[id];
}

int it_cause_matches(int id, const char *text)
{
    const it_cause_info *c = it_cause_get(id);
    if (!c || !text)
        return 0;
    for (int i = 0; c->keywords[i]; i++)
        if (it_text_has_keyword(text, c->keywords[i]))
            return 1;
    return 0;
}

int it_cause_classify(const char *text)
{
    for (int id = 0; id < IT_CAUSE_COUNT; id++)
        if (it_cause_matches(id, text))
            return id;
    return IT_CAUSE_NONE;
}

/* The first cause of either text, in table order. */
static int it_classify2(const char *a, const char *b)
{
    for (int id = 0; id < IT_CAUSE_COUNT; id++)
        if (it_cause_matches(id, a) || it_cause_matches(id, b))
            return id;
    return IT_CAUSE_NONE;
}

typedef struct it_acc {
    long score, lines;
    int alerts, checks, symptom, n_logs;
    json_object *logs;  /* evidence from log lines */
    json_object *other; /* alerts, checks, metrics, symptom */
} it_acc;

static void it_add_str(json_object *arr, const char *s)
{
    char line[IT_EVIDENCE_LINE_LEN + 80];
    json_object_array_add(arr, json_object_new_string(it_text_line(s, line, sizeof line)));
}

/* "37× connection pool exhausted ..." */
static void it_log_evidence(json_object *arr, long count, const char *sample)
{
    char line[IT_EVIDENCE_LINE_LEN];
    char buf[IT_EVIDENCE_LINE_LEN + 32];
    it_text_line(sample, line, sizeof line);
    snprintf(buf, sizeof buf, "%ld\xc3\x97 %s", count, line);
    json_object_array_add(arr, json_object_new_string(buf));
}

static void it_alert_evidence(json_object *arr, json_object *a)
{
    it_buf b = {0};
    const char *sev = it_json_str(a, "severity"), *since = it_json_str(a, "since");
    it_buf_printf(&b, "alert %s", it_json_str(a, "name") ? it_json_str(a, "name") : "?");
    if (sev && *sev)
        it_buf_printf(&b, " (%s)", sev);
    it_buf_cat(&b, " firing");
    if (since && *since)
        it_buf_printf(&b, " since %s", since);
    it_add_str(arr, it_buf_str(&b));
    it_buf_free(&b);
}

static void it_check_evidence(json_object *arr, json_object *c)
{
    it_buf b = {0};
    const char *detail = it_json_str(c, "detail");
    it_buf_printf(&b, "health check %s: %s", it_or(it_json_str(c, "name"), "?"),
                  it_or(it_json_str(c, "status"), "unknown"));
    if (detail && *detail)
        it_buf_printf(&b, " - %s", detail);
    it_add_str(arr, it_buf_str(&b));
    it_buf_free(&b);
}

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

/* Is anything wrong at all?  A deploy named only by the symptom is no
 * cause of a healthy service. */
static int it_trouble(json_object *state)
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

/* Gather the evidence of every cause into acc. */
static void it_collect(json_object *state, it_acc *acc)
{
    char low[IT_SAMPLE_LEN], words[IT_EVIDENCE_LINE_LEN + 80];
    char sym[IT_MAX_SYMPTOM_LEN + 1];
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *groups = it_json_get(logs, "groups", json_type_array);
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *alerts = it_json_get(ov, "alerts", json_type_array);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *checks = it_json_get(health, "checks", json_type_array);
    json_object *params = it_json_get(state, "params", json_type_object);
    json_object *v;

    for (size_t i = 0; groups && i < json_object_array_length(groups); i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        const char *sample = it_json_str(g, "sample");
        long count = (v = it_json_get(g, "count", json_type_int)) ? json_object_get_int64(v) : 0;
        it_text_lower(sample, low, sizeof low);
        int id = it_classify2(it_json_str(g, "sig"), low);
        if (id == IT_CAUSE_NONE || count <= 0)
            continue;
        acc[id].lines += count;
        acc[id].score += count;
        if (acc[id].n_logs++ < IT_MAX_LOG_EVIDENCE)
            it_log_evidence(acc[id].logs, count, sample);
    }
    /* Deploys announced at info level in the logs. */
    if ((v = it_json_get(logs, "deploy_lines", json_type_int)) && json_object_get_int64(v) > 0) {
        acc[IT_CAUSE_DEPLOY].lines += json_object_get_int64(v);
        acc[IT_CAUSE_DEPLOY].score += json_object_get_int64(v);
        it_log_evidence(acc[IT_CAUSE_DEPLOY].logs, (long)json_object_get_int64(v),
                        it_json_str(logs, "deploy_sample"));
    }
    for (size_t i = 0; alerts && i < json_object_array_length(alerts); i++) {
        json_object *a = json_object_array_get_idx(alerts, i);
        int id = it_cause_classify(it_text_words(it_json_str(a, "name"), words, sizeof words));
        if (id == IT_CAUSE_NONE)
            continue;
        acc[id].alerts++;
        acc[id].score += IT_W_ALERT;
        it_alert_evidence(acc[id].other, a);
    }
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
        json_object *c = json_object_array_get_idx(checks, i);
        if (!it_status_bad(it_json_str(c, "status")))
            continue;
        it_text_words(it_json_str(c, "name"), words, sizeof words);
        it_text_lower(it_json_str(c, "detail"), low, sizeof low);
        int id = it_classify2(words, low);
        if (id == IT_CAUSE_NONE)
            continue;
        acc[id].checks++;
        acc[id].score += IT_W_CHECK;
        it_check_evidence(acc[id].other, c);
    }
    it_text_lower(it_json_str(params, "symptom"), sym, sizeof sym);
    for (int id = 0; id < IT_CAUSE_COUNT; id++)
        acc[id].symptom = it_cause_matches(id, sym);
}

/* The evidence array of one cause: log lines first, then the rest. */
static json_object *it_evidence(json_object *state, it_acc *a, int id)
{
    char line[IT_EVIDENCE_LINE_LEN + 32], sym[140];
    json_object *ev = json_object_new_array();
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *params = it_json_get(state, "params", json_type_object);
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
    if (a->symptom && json_object_array_length(ev) < IT_MAX_EVIDENCE) {
        it_text_line(it_json_str(params, "symptom"), sym, sizeof sym);
        snprintf(line, sizeof line, "symptom: \"%s\"", sym);
        json_object_array_add(ev, json_object_new_string(line));
    }
    return ev;
}

/* The "unknown" cause: the top signature, or the unexplained alerts/checks. */
static json_object *it_unknown(json_object *state, long *lines)
{
    char sig[130], words[IT_EVIDENCE_LINE_LEN + 80];
    it_buf b = {0};
    json_object *c = json_object_new_object(), *ev = json_object_new_array(), *v;
    json_object *logs = it_json_get(state, "logs", json_type_object);
    json_object *groups = it_json_get(logs, "groups", json_type_array);
    json_object *ov = it_json_get(state, "overview", json_type_object);
    json_object *alerts = it_json_get(ov, "alerts", json_type_array);
    json_object *health = it_json_get(state, "health", json_type_object);
    json_object *checks = it_json_get(health, "checks", json_type_array);
    size_t ng = groups ? json_object_array_length(groups) : 0;

    *lines = 0;
    if (!c || !ev) {
        json_object_put(c);
        json_object_put(ev);
        return NULL;
    }
    for (size_t i = 0; i < ng && i < IT_MAX_LOG_EVIDENCE; i++) {
        json_object *g = json_object_array_get_idx(groups, i);
        long count = (v = it_json_get(g, "count", json_type_int)) ? json_object_get_int64(v) : 0;
        if (i == 0)
            *lines = count;
        it_log_evidence(ev, count, it_json_str(g, "sample"));
    }
    for (size_t i = 0; alerts && i < json_object_array_length(alerts); i++)
        if (json_object_array_length(ev) < IT_MAX_EVIDENCE)
            it_alert_evidence(ev, json_object_array_get_idx(alerts, i));
    for (size_t i = 0; checks && i < json_object_array_length(checks); i++) {
        json_object *ch = json_object_array_get_idx(checks, i);
        if (it_status_bad(it_json_str(ch, "status")) &&
            json_object_array_length(ev) < IT_MAX_EVIDENCE)
            it_check_evidence(ev, ch);
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
    json_object_object_add(c, "rank", json_object_new_int(1));
    json_object_object_add(c, "cause", json_object_new_string(it_buf_str(&b)));
    json_object_object_add(c, "evidence", ev);
    it_buf_free(&b);
    return c;
}

int it_causes_rank(json_object *state, json_object **out, it_ranking *r)
{
    int rc = 0, order[IT_CAUSE_COUNT], n = 0;
    it_acc acc[IT_CAUSE_COUNT];
    json_object *arr = json_object_new_array();
    int trouble = it_trouble(state);

    *out = NULL;
    memset(r, 0, sizeof *r);
    memset(acc, 0, sizeof acc);
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        acc[id].logs = json_object_new_array();
        acc[id].other = json_object_new_array();
        if (!acc[id].logs || !acc[id].other)
            rc = SV_ENOMEM;
    }
    if (!arr || rc < 0) {
        rc = SV_ENOMEM;
        goto out;
    }
    it_collect(state, acc);
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        int seen = acc[id].lines > 0 || acc[id].alerts > 0 || acc[id].checks > 0;
        /* A deploy the reporter mentions counts, as long as something is wrong. */
        if (id == IT_CAUSE_DEPLOY && acc[id].symptom && trouble)
            seen = 1;
        if (!seen)
            continue;
        if (acc[id].symptom)
            acc[id].score += IT_W_SYMPTOM;
        /* Insertion by score; equal scores keep table order. */
        int k = n++;
        while (k > 0 && acc[order[k - 1]].score < acc[id].score) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = id;
    }
    for (int i = 0; i < n; i++) {
        json_object *c = json_object_new_object();
        json_object *ev = it_evidence(state, &acc[order[i]], order[i]);
        if (!c || !ev) {
            json_object_put(c);
            json_object_put(ev);
            rc = SV_ENOMEM;
            goto out;
        }
        json_object_object_add(c, "rank", json_object_new_int(i + 1));
        json_object_object_add(c, "cause", json_object_new_string(it_cause_get(order[i])->title));
        json_object_object_add(c, "evidence", ev);
        json_object_array_add(arr, c);
    }
    for (int i = 0; i < n; i++)
        r->ids[i] = order[i];
    r->n = n;
    if (n > 0) {
        r->top_lines = acc[order[0]].lines;
    } else {
        json_object *groups =
            it_json_get(it_json_get(state, "logs", json_type_object), "groups", json_type_array);
        if (trouble || (groups && json_object_array_length(groups) > 0)) {
            json_object *c = it_unknown(state, &r->top_lines);
            if (!c) {
                rc = SV_ENOMEM;
                goto out;
            }
            json_object_array_add(arr, c);
            r->ids[0] = IT_CAUSE_UNKNOWN;
            r->n = 1;
        }
    }
    *out = arr;
    arr = NULL;
out:
    for (int id = 0; id < IT_CAUSE_COUNT; id++) {
        json_object_put(acc[id].logs);
        json_object_put(acc[id].other);
    }
    json_object_put(arr);
    return rc;
}
