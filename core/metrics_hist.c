/* metrics_hist.c - see metrics_hist.h. */
#include "metrics_hist.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Twice the series cap, so that probes stay short. */
#define SV_MFAM_SLOTS 1024

typedef struct series {
    uint32_t hash;
    const char *vals[SV_MFAM_MAX_LABELS]; /* into the same allocation */
    atomic_uint_fast64_t sum_us;
    atomic_uint_fast64_t n[]; /* per bucket (not cumulative), +Inf last; a counter: n[0] */
} series;

struct sv_mfam {
    const char *name, *help;
    int nlabels;
    const char *labels[SV_MFAM_MAX_LABELS];
    const int64_t *bounds_us; /* NULL: a counter */
    int nbounds;
    pthread_mutex_t lock; /* creating a series */
    size_t nseries;       /* under lock */
    _Atomic(series *) slot[SV_MFAM_SLOTS];
    _Atomic(series *) overflow;
};

/* Seconds, as microseconds: integer adds on the hot path. */
static const int64_t run_bounds[] = {5000,     10000,    25000,    50000,     100000,
                                     250000,   500000,   1000000,  2500000,   5000000,
                                     10000000, 30000000, 60000000, 120000000, 300000000};
static const int64_t call_bounds[] = {1000,    2500,    5000,     10000,    25000,
                                      50000,   100000,  250000,   500000,   1000000,
                                      2500000, 5000000, 10000000, 30000000, 60000000};
#define NB(a) ((int)(sizeof a / sizeof a[0]))

sv_mfam sv_mfam_run_duration = {
    .name = "sofiia_run_duration_seconds",
    .help = "Runs that ended here, from creation to end, by graph and final status.",
    .nlabels = 2,
    .labels = {"graph", "status"},
    .bounds_us = run_bounds,
    .nbounds = NB(run_bounds),
    .lock = PTHREAD_MUTEX_INITIALIZER};
sv_mfam sv_mfam_node_duration = {
    .name = "sofiia_node_duration_seconds",
    .help = "Node functions executed, by graph and node (tool calls inside included).",
    .nlabels = 2,
    .labels = {"graph", "node"},
    .bounds_us = call_bounds,
    .nbounds = NB(call_bounds),
    .lock = PTHREAD_MUTEX_INITIALIZER};
sv_mfam sv_mfam_tool_call_duration = {
    .name = "sofiia_tool_call_duration_seconds",
    .help = "Logical tool calls (every attempt and backoff of one call), by tool, action and "
            "outcome.",
    .nlabels = 3,
    .labels = {"tool", "action", "outcome"},
    .bounds_us = call_bounds,
    .nbounds = NB(call_bounds),
    .lock = PTHREAD_MUTEX_INITIALIZER};
sv_mfam sv_mfam_tool_call_retries = {.name = "sofiia_tool_call_retries_total",
                                     .help = "Tool call attempts after the first, by tool and "
                                             "action.",
                                     .nlabels = 2,
                                     .labels = {"tool", "action"},
                                     .lock = PTHREAD_MUTEX_INITIALIZER};

static sv_mfam *const all[] = {&sv_mfam_run_duration, &sv_mfam_node_duration,
                               &sv_mfam_tool_call_duration, &sv_mfam_tool_call_retries};

static uint32_t hash_of(const sv_mfam *f, const char *const *v)
{
    uint32_t h = 2166136261u; /* FNV-1a, values separated by a 0 byte */
    for (int i = 0; i < f->nlabels; i++) {
        for (const unsigned char *p = (const unsigned char *)v[i]; *p; p++)
            h = (h ^ *p) * 16777619u;
        h = (h ^ 0xff) * 16777619u;
    }
    return h;
}

static int same(const sv_mfam *f, const series *s, uint32_t h, const char *const *v)
{
    if (s->hash != h)
        return 0;
    for (int i = 0; i < f->nlabels; i++)
        if (strcmp(s->vals[i], v[i]) != 0)
            return 0;
    return 1;
}

/* Short enough and valid UTF-8 (the exposition is UTF-8 text). */
static int value_ok(const char *v)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)v;
    while (p[n]) {
        unsigned char c = p[n];
        size_t k = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (!k || (k == 2 && c < 0xC2))
            return 0;
        for (size_t i = 1; i < k; i++)
            if ((p[n + i] & 0xC0) != 0x80)
                return 0;
        n += k;
        if (n > SV_MFAM_MAX_VALUE)
            return 0;
    }
    return 1;
}

static series *series_new(const sv_mfam *f, uint32_t h, const char *const *v)
{
    size_t nb = f->bounds_us ? (size_t)f->nbounds + 1 : 1, text = 0;
    for (int i = 0; i < f->nlabels; i++)
        text += strlen(v[i]) + 1;
    size_t head = sizeof(series) + nb * sizeof(atomic_uint_fast64_t);
    series *s = malloc(head + text);
    if (!s)
        return NULL;
    s->hash = h;
    atomic_init(&s->sum_us, 0);
    for (size_t i = 0; i < nb; i++)
        atomic_init(&s->n[i], 0);
    char *p = (char *)s + head;
    for (int i = 0; i < f->nlabels; i++) {
        size_t len = strlen(v[i]) + 1;
        memcpy(p, v[i], len);
        s->vals[i] = p;
        p += len;
    }
    return s;
}

/* The slot where v's series is or would go (the first empty one probed). */
static _Atomic(series *) *probe(sv_mfam *f, uint32_t h, const char *const *v, series **found)
{
    for (uint32_t i = 0; i < SV_MFAM_SLOTS; i++) {
        _Atomic(series *) *slot = &f->slot[(h + i) & (SV_MFAM_SLOTS - 1)];
        series *s = atomic_load_explicit(slot, memory_order_acquire);
        if (!s || same(f, s, h, v)) {
            *found = s;
            return slot;
        }
    }
    *found = NULL;
    return NULL; /* cannot happen: at most half the slots are used */
}

static series *overflow_series(sv_mfam *f)
{
    series *s = atomic_load_explicit(&f->overflow, memory_order_acquire);
    if (s)
        return s;
    const char *v[SV_MFAM_MAX_LABELS] = {SV_MFAM_OVERFLOW, SV_MFAM_OVERFLOW, SV_MFAM_OVERFLOW};
    s = series_new(f, 0, v);
    if (s)
        atomic_store_explicit(&f->overflow, s, memory_order_release);
    return s;
}

static series *lookup(sv_mfam *f, const char *const *v)
{
    uint32_t h = hash_of(f, v);
    series *s = NULL;
    probe(f, h, v, &s);
    if (s)
        return s;
    /* A new tuple: under the lock, since another thread may add it now. */
    pthread_mutex_lock(&f->lock);
    _Atomic(series *) *slot = probe(f, h, v, &s);
    if (!s) {
        int ok = slot && f->nseries < SV_MFAM_MAX_SERIES;
        for (int i = 0; ok && i < f->nlabels; i++)
            ok = value_ok(v[i]);
        if (ok && (s = series_new(f, h, v))) {
            f->nseries++;
            atomic_store_explicit(slot, s, memory_order_release);
        } else {
            s = overflow_series(f);
        }
    }
    pthread_mutex_unlock(&f->lock);
    return s;
}

void sv_mfam_observe(sv_mfam *f, const char *const *labels, int64_t us)
{
    series *s = lookup(f, labels);
    if (!s)
        return; /* out of memory: this one is not counted */
    if (us < 0)
        us = 0;
    int b = 0;
    while (b < f->nbounds && us > f->bounds_us[b])
        b++;
    atomic_fetch_add_explicit(&s->n[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

void sv_mfam_add(sv_mfam *f, const char *const *labels, uint64_t n)
{
    series *s = lookup(f, labels);
    if (s)
        atomic_fetch_add_explicit(&s->n[0], n, memory_order_relaxed);
}

uint64_t sv_mfam_count(sv_mfam *f, const char *const *labels, uint64_t *sum_us)
{
    series *s = NULL;
    probe(f, hash_of(f, labels), labels, &s);
    uint64_t n = 0;
    int nb = f->bounds_us ? f->nbounds + 1 : 1;
    for (int i = 0; s && i < nb; i++)
        n += atomic_load_explicit(&s->n[i], memory_order_relaxed);
    if (sum_us)
        *sum_us = s ? atomic_load_explicit(&s->sum_us, memory_order_relaxed) : 0;
    return n;
}

void sv_mtext_put(sv_mtext *t, const char *fmt, ...)
{
    va_list ap;
    for (int tries = 0; tries < 2 && !t->failed; tries++) {
        va_start(ap, fmt);
        int need = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        if (need < 0) {
            t->failed = 1;
            return;
        }
        if (t->p && t->n + (size_t)need < t->cap) {
            t->n += (size_t)need;
            return;
        }
        size_t cap = t->cap ? t->cap : 4096;
        while (cap <= t->n + (size_t)need)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->failed = 1;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

void sv_mtext_value(sv_mtext *t, const char *v)
{
    for (const char *p = v; *p; p++) {
        size_t run = strcspn(p, "\\\"\n");
        if (run)
            sv_mtext_put(t, "%.*s", (int)run, p);
        p += run;
        if (!*p)
            break;
        sv_mtext_put(t, "%s", *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : "\\n");
    }
}

/* name{l1="v1",...[,le="x"]} */
static void labels(sv_mtext *t, const sv_mfam *f, const series *s, const char *suffix,
                   const char *le)
{
    sv_mtext_put(t, "%s%s{", f->name, suffix);
    for (int i = 0; i < f->nlabels; i++) {
        sv_mtext_put(t, "%s%s=\"", i ? "," : "", f->labels[i]);
        sv_mtext_value(t, s->vals[i]);
        sv_mtext_put(t, "\"");
    }
    if (le)
        sv_mtext_put(t, ",le=\"%s\"", le);
    sv_mtext_put(t, "} ");
}

static void render_series(sv_mtext *t, const sv_mfam *f, series *s)
{
    if (!f->bounds_us) {
        labels(t, f, s, "", NULL);
        sv_mtext_put(t, "%llu\n",
                     (unsigned long long)atomic_load_explicit(&s->n[0], memory_order_relaxed));
        return;
    }
    /* Buckets are read one by one while others add: the running total
     * makes them cumulative and _count equal to +Inf whatever happens. */
    uint64_t cum = 0;
    char le[32];
    for (int b = 0; b <= f->nbounds; b++) {
        cum += atomic_load_explicit(&s->n[b], memory_order_relaxed);
        if (b < f->nbounds)
            snprintf(le, sizeof le, "%g", (double)f->bounds_us[b] / 1e6);
        else
            snprintf(le, sizeof le, "+Inf");
        labels(t, f, s, "_bucket", le);
        sv_mtext_put(t, "%llu\n", (unsigned long long)cum);
    }
    labels(t, f, s, "_sum", NULL);
    sv_mtext_put(t, "%.6f\n", (double)atomic_load_explicit(&s->sum_us, memory_order_relaxed) / 1e6);
    labels(t, f, s, "_count", NULL);
    sv_mtext_put(t, "%llu\n", (unsigned long long)cum);
}

void sv_mfam_render(sv_mfam *f, sv_mtext *t)
{
    sv_mtext_put(t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                 f->bounds_us ? "histogram" : "counter");
    for (size_t i = 0; i < SV_MFAM_SLOTS; i++) {
        series *s = atomic_load_explicit(&f->slot[i], memory_order_acquire);
        if (s)
            render_series(t, f, s);
    }
    series *o = atomic_load_explicit(&f->overflow, memory_order_acquire);
    if (o)
        render_series(t, f, o);
}

void sv_mfam_reset_all(void)
{
    for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
        sv_mfam *f = all[k];
        pthread_mutex_lock(&f->lock);
        for (size_t i = 0; i < SV_MFAM_SLOTS; i++)
            free(atomic_exchange(&f->slot[i], NULL));
        free(atomic_exchange(&f->overflow, NULL));
        f->nseries = 0;
        pthread_mutex_unlock(&f->lock);
    }
}
