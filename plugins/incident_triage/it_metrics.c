/*
 * it_metrics.c - metrics that say a cause is happening now.  A metric named
 * like a cause proves nothing ("db_pool_size=100" on a quiet service); one at
 * or near its limit does: a pool whose in-use count reaches its size, memory
 * at 90% of its limit, a p99 three times the p95, a count of OOM kills,
 * restarts or 429s.  Names are read by their words, so "db_pool_in_use" pairs
 * with "db_pool_size" and "heapUsedBytes" with "heapMaxBytes".
 */
#include "it.h"

#include <stdio.h>
#include <string.h>

#define IT_MPARTS 8
#define IT_MPART_LEN 24
#define IT_MVALS 48

/* One numeric or boolean metric, its name cut into lowercase words. */
typedef struct it_mval {
    const char *key;
    double v;
    int is_bool;
    char parts[IT_MPARTS][IT_MPART_LEN];
    int n;
} it_mval;

static const char *const it_w_used[] = {"active", "used",  "busy",      "usage",    "current",
                                        "open",   "inuse", "allocated", "utilized", NULL};
static const char *const it_w_limit[] = {"max",   "size",    "limit", "capacity",
                                         "total", "maximum", "quota", NULL};
static const char *const it_w_ratio[] = {
    "util", "utilization", "utilisation", "usage", "used",     "saturation", "ratio",
    "pct",  "percent",     "fraction",    "fill",  "utilized", NULL};
static const char *const it_w_pct[] = {"pct",         "percent", "usage",      "util",
                                       "utilization", "used",    "saturation", NULL};
static const char *const it_w_free[] = {"free", "avail", "available", "remaining",
                                        "left", "idle",  NULL};
static const char *const it_w_event[] = {
    "kills",     "killed",   "kill",     "restarts",    "restart", "timeouts",  "errors",
    "error",     "failures", "failed",   "failure",     "refused", "throttled", "rejected",
    "deadlocks", "deadlock", "panics",   "panic",       "crashes", "crash",     "evictions",
    "evicted",   "nxdomain", "servfail", "429",         "5xx",     "502",       "503",
    "504",       "oom",      "expired",  "unreachable", NULL,
};
static const char *const it_w_state[] = {"expired",     "full",      "limited",      "throttled",
                                         "killed",      "oomkilled", "crashlooping", "down",
                                         "unreachable", "locked",    "deadlocked",   NULL};
static const char *const it_w_certdays[] = {"days",  "expiry", "expires",   "expiration",
                                            "until", "left",   "remaining", NULL};

static int it_in(const char *w, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(w, set[i]) == 0)
            return 1;
    return 0;
}

/* The index of the first part in set, or -1. */
static int it_part_in(const it_mval *m, const char *const *set)
{
    for (int i = 0; i < m->n; i++)
        if (it_in(m->parts[i], set))
            return i;
    return -1;
}

static int it_has_part(const it_mval *m, const char *w)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->parts[i], w) == 0)
            return 1;
    return 0;
}

/* Cut a name at '_', '.', '-', ' ' and CamelCase boundaries. */
static void it_mval_split(it_mval *m)
{
    size_t len = 0;
    m->n = 0;
    for (const char *k = m->key; *k; k++) {
        char c = *k;
        int upper = c >= 'A' && c <= 'Z';
        int alnum = upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum || (upper && k > m->key && k[-1] >= 'a' && k[-1] <= 'z'))
            len = 0; /* the current part ends here */
        if (!alnum)
            continue;
        if (len == 0) {
            if (m->n == IT_MPARTS)
                break;
            m->n++;
        }
        if (len + 1 < IT_MPART_LEN) {
            m->parts[m->n - 1][len++] = upper ? (char)(c - 'A' + 'a') : c;
            m->parts[m->n - 1][len] = '\0';
        }
    }
}

/* The name without `width` parts from `skip`, joined by '_'. */
static void it_rest(const it_mval *m, int skip, int width, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < m->n; i++) {
        if (i >= skip && i < skip + width)
            continue;
        int w = snprintf(out + o, len - o, "%s%s", o ? "_" : "", m->parts[i]);
        if (w < 0 || (size_t)w >= len - o)
            break;
        o += (size_t)w;
    }
}

/* The used-part of a name: "active", "used"... or "in" of "in_use". */
static int it_used_at(it_mval *m, int *width)
{
    for (int i = 0; i + 1 < m->n; i++)
        if (strcmp(m->parts[i], "in") == 0 && strcmp(m->parts[i + 1], "use") == 0) {
            *width = 2;
            return i;
        }
    *width = 1;
    return it_part_in(m, it_w_used);
}

static void it_num(double v, char *buf, size_t len)
{
    it_text_number(v, buf, len);
}

static int it_add(it_finding *out, int *n, int max, const it_mval *m, int cause, double sev,
                  const char *why)
{
    char num[48];
    if (*n >= max || cause == IT_CAUSE_NONE)
        return 0;
    for (int i = 0; i < *n; i++)
        if (strcmp(out[i].key, m->key) == 0)
            return 0;
    it_finding *f = &out[(*n)++];
    f->cause = cause;
    f->severity = sev;
    snprintf(f->key, sizeof f->key, "%s", m->key);
    if (m->is_bool)
        snprintf(num, sizeof num, "%s", m->v != 0 ? "true" : "false");
    else
        it_num(m->v, num, sizeof num);
    snprintf(f->line, sizeof f->line, "metric %.60s=%s (%s)", m->key, num, why);
    return 1;
}

/* *_in_use against *_size and the like: the pair's ratio. */
static void it_scan_pairs(it_mval *v, int nv, it_finding *out, int *n, int max)
{
    char ra[IT_MPARTS * IT_MPART_LEN], rb[IT_MPARTS * IT_MPART_LEN], why[160], num[48];
    for (int a = 0; a < nv; a++) {
        int wa, ua = it_used_at(&v[a], &wa);
        if (ua < 0 || v[a].is_bool)
            continue;
        it_rest(&v[a], ua, wa, ra, sizeof ra);
        for (int b = 0; b < nv; b++) {
            int lb = it_part_in(&v[b], it_w_limit);
            if (b == a || lb < 0 || v[b].is_bool || v[b].v <= 0)
                continue;
            it_rest(&v[b], lb, 1, rb, sizeof rb);
            if (strcmp(ra, rb) != 0)
                continue;
            double ratio = v[a].v / v[b].v;
            if (ratio < 0.9)
                continue;
            it_num(ratio * 100.0, num, sizeof num);
            snprintf(why, sizeof why, "%s%% of %.60s=", num, v[b].key);
            it_num(v[b].v, num, sizeof num);
            strncat(why, num, sizeof why - strlen(why) - 1);
            it_add(out, n, max, &v[a], it_metric_cause(v[a].key), ratio >= 0.98 ? 1.0 : 0.8, why);
        }
    }
}

/* p99 three times the p95 of the same thing: a tail of slow calls. */
static void it_scan_tail(it_mval *v, int nv, it_finding *out, int *n, int max)
{
    char ra[IT_MPARTS * IT_MPART_LEN], rb[IT_MPARTS * IT_MPART_LEN], why[128], num[48];
    for (int a = 0; a < nv; a++) {
        int pa = it_part_in(&v[a], (const char *const[]){"p99", NULL});
        if (pa < 0 || v[a].is_bool)
            continue;
        it_rest(&v[a], pa, 1, ra, sizeof ra);
        for (int b = 0; b < nv; b++) {
            int pb = it_part_in(&v[b], (const char *const[]){"p95", NULL});
            if (pb < 0 || v[b].is_bool || v[b].v <= 0)
                continue;
            it_rest(&v[b], pb, 1, rb, sizeof rb);
            if (strcmp(ra, rb) != 0 || v[a].v < 3.0 * v[b].v)
                continue;
            it_num(v[a].v / v[b].v, num, sizeof num);
            snprintf(why, sizeof why, "%sx %.60s", num, v[b].key);
            it_add(out, n, max, &v[a], IT_CAUSE_TIMEOUT, 0.8, why);
        }
    }
}

/* The rules that read one metric alone. */
static void it_scan_one(it_mval *m, it_finding *out, int *n, int max)
{
    char why[96], num[48];
    int cause = it_metric_cause(m->key);
    int certish = it_has_part(m, "cert") || it_has_part(m, "certificate") ||
                  it_has_part(m, "tls") || it_has_part(m, "ssl") || it_has_part(m, "x509");

    if (cause == IT_CAUSE_NONE)
        return;
    if (m->is_bool) {
        if (m->v != 0 && (it_part_in(m, it_w_state) >= 0 || it_part_in(m, it_w_event) >= 0))
            it_add(out, n, max, m, cause, 1.0, "true");
        return;
    }
    if (certish && it_part_in(m, it_w_certdays) >= 0) {
        if (m->v <= 0)
            it_add(out, n, max, m, IT_CAUSE_TLS, 1.0, "expired");
        else if (m->v <= 7)
            it_add(out, n, max, m, IT_CAUSE_TLS, 0.6, "expires within 7 days");
        return;
    }
    if (it_part_in(m, it_w_free) >= 0) {
        int pct =
            it_part_in(m, (const char *const[]){"pct", "percent", "ratio", "fraction", NULL}) >= 0;
        double frac = m->v <= 1.0 ? m->v : m->v / 100.0;
        if (pct && frac <= 0.05)
            it_add(out, n, max, m, cause, 1.0, "5% or less left");
        else if (m->v == 0)
            it_add(out, n, max, m, cause, 0.8, "none left");
        return;
    }
    if (it_part_in(m, it_w_ratio) >= 0 && it_part_in(m, it_w_event) < 0) {
        double frac = -1;
        if (m->v >= 0 && m->v <= 1.0)
            frac = m->v;
        else if (m->v > 1.0 && m->v <= 100.0 && it_part_in(m, it_w_pct) >= 0)
            frac = m->v / 100.0;
        if (frac >= 0.9) {
            it_num(frac * 100.0, num, sizeof num);
            snprintf(why, sizeof why, "%s%% used", num);
            it_add(out, n, max, m, cause, frac >= 0.98 ? 1.0 : 0.8, why);
        }
        return;
    }
    /* Counts of failure events; the cause's own word may be the event
     * ("upstream_5xx_per_min", "restarts", "oom_kills"). */
    if (it_part_in(m, it_w_event) >= 0 && m->v > 0) {
        int restarts = it_has_part(m, "restarts") || it_has_part(m, "restart");
        if (restarts && m->v < 3)
            it_add(out, n, max, m, cause, 0.5, "a restart or two");
        else
            it_add(out, n, max, m, cause, 1.0,
                   restarts ? "3 or more restarts" : "failure events counted");
        return;
    }
    /* A deploy shortly before: "minutes_since_deploy", "deploy_age_s". */
    if (cause == IT_CAUSE_DEPLOY &&
        it_part_in(m, (const char *const[]){"since", "age", "ago", NULL}) >= 0) {
        double limit =
            it_part_in(m, (const char *const[]){"s", "sec", "secs", "seconds", NULL}) >= 0   ? 3600
            : it_part_in(m, (const char *const[]){"m", "min", "mins", "minutes", NULL}) >= 0 ? 60
            : it_part_in(m, (const char *const[]){"h", "hours", NULL}) >= 0                  ? 1
                                                                                             : -1;
        if (limit > 0 && m->v >= 0 && m->v <= limit)
            it_add(out, n, max, m, IT_CAUSE_DEPLOY, 0.8, "a deploy within the last hour");
    }
}

static int it_collect(json_object *obj, it_mval *v, int nv)
{
    if (!obj || !json_object_is_type(obj, json_type_object))
        return nv;
    json_object_object_foreach(obj, key, val)
    {
        if (nv >= IT_MVALS || !val)
            break;
        int b = json_object_is_type(val, json_type_boolean);
        if (!b && !json_object_is_type(val, json_type_int) &&
            !json_object_is_type(val, json_type_double))
            continue;
        double d = b ? (json_object_get_boolean(val) ? 1 : 0) : json_object_get_double(val);
        /* NaN and infinities (json-c reads them) compare with nothing. */
        if (d != d || d > 1e300 || d < -1e300)
            continue;
        it_mval *m = &v[nv++];
        memset(m, 0, sizeof *m);
        m->key = key;
        m->is_bool = b;
        m->v = d;
        it_mval_split(m);
    }
    return nv;
}

int it_metrics_scan(json_object *slo, json_object *metrics, it_finding *out, int max)
{
    it_mval v[IT_MVALS];
    int nv = 0, n = 0;
    nv = it_collect(slo, v, nv);
    nv = it_collect(metrics, v, nv);
    /* Pairs first: "db_pool_in_use" is best explained against its size. */
    it_scan_pairs(v, nv, out, &n, max);
    it_scan_tail(v, nv, out, &n, max);
    for (int i = 0; i < nv; i++)
        it_scan_one(&v[i], out, &n, max);
    return n;
}
