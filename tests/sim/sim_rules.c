/* sim_rules.c - rule matching and per-run answer sequences.
 *
 * The scenario's json-c objects are shared by every request thread, so this file
 * only ever reads them: json-c reference counts and string caches are not atomic. */
#include "sim_rules.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sim_counter {
    struct sim_counter *next;
    uint64_t hash;
    size_t rule;
    uint64_t count;
    int has_run; /* distinguishes "no run id" from an empty run id */
    char run[];
};

struct sim_counters {
    pthread_mutex_t lock;
    struct sim_counter **buckets;
    size_t n_buckets; /* a power of two */
    size_t n_entries;
};

#define SIM_COUNTERS_INITIAL 256

int sim_counters_new(struct sim_counters **out)
{
    struct sim_counters *c;
    int rc = 0;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (!c) {
        rc = -ENOMEM;
        goto out;
    }
    c->buckets = calloc(SIM_COUNTERS_INITIAL, sizeof(*c->buckets));
    if (!c->buckets) {
        free(c);
        rc = -ENOMEM;
        goto out;
    }
    c->n_buckets = SIM_COUNTERS_INITIAL;
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
out:
    return rc;
}

void sim_counters_free(struct sim_counters *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct sim_counter *e = c->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            free(e);
        }
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* FNV-1a over the rule index and the run id. */
static uint64_t sim_counter_hash(size_t rule, const char *run_id)
{
    uint64_t h = 1469598103934665603ULL;

    for (size_t i = 0; i < sizeof(rule); i++) {
        h ^= (rule >> (8 * i)) & 0xff;
        h *= 1099511628211ULL;
    }
    for (const char *p = run_id ? run_id : ""; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 1099511628211ULL;
    }
    return run_id ? h : ~h;
}

/* Double the table when it gets crowded; a failed resize only costs speed. */
static void sim_counters_grow(struct sim_counters *c)
{
    size_t n = c->n_buckets * 2;
    struct sim_counter **nb = calloc(n, sizeof(*nb));

    if (!nb)
        return;
    for (size_t i = 0; i < c->n_buckets; i++) {
        struct sim_counter *e = c->buckets[i], *next;
        for (; e; e = next) {
            next = e->next;
            e->next = nb[e->hash & (n - 1)];
            nb[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = nb;
    c->n_buckets = n;
}

int sim_counters_next(struct sim_counters *c, size_t rule, const char *run_id, uint64_t *n)
{
    uint64_t h = sim_counter_hash(rule, run_id);
    size_t len = run_id ? strlen(run_id) : 0;
    struct sim_counter *e;
    int rc = 0;

    pthread_mutex_lock(&c->lock);
    for (e = c->buckets[h & (c->n_buckets - 1)]; e; e = e->next)
        if (e->hash == h && e->rule == rule && e->has_run == (run_id != NULL) &&
            (!run_id || strcmp(e->run, run_id) == 0))
            break;
    if (!e) {
        if (c->n_entries >= c->n_buckets)
            sim_counters_grow(c);
        e = calloc(1, sizeof(*e) + len + 1);
        if (!e) {
            rc = -ENOMEM;
            goto out;
        }
        e->hash = h;
        e->rule = rule;
        e->has_run = run_id != NULL;
        memcpy(e->run, run_id ? run_id : "", len + 1);
        e->next = c->buckets[h & (c->n_buckets - 1)];
        c->buckets[h & (c->n_buckets - 1)] = e;
        c->n_entries++;
    }
    *n = e->count;
    /* Saturate instead of wrapping, so "the last answer repeats forever" holds. */
    if (e->count < UINT64_MAX)
        e->count++;
out:
    pthread_mutex_unlock(&c->lock);
    return rc;
}

static int sim_is_number(json_object *v)
{
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static int sim_json_equal(json_object *a, json_object *b);

/* Does got contain every key of want with a matching value? Objects nest as subsets;
 * every other value must be equal. */
static int sim_params_subset(json_object *want, json_object *got)
{
    json_object *g;

    if (!json_object_is_type(got, json_type_object))
        return 0;
    json_object_object_foreach(want, key, w)
    {
        if (!json_object_object_get_ex(got, key, &g))
            return 0;
        if (json_object_is_type(w, json_type_object)) {
            if (!sim_params_subset(w, g))
                return 0;
        } else if (!sim_json_equal(w, g)) {
            return 0;
        }
    }
    return 1;
}

/* Full equality; 1 and 1.0 are equal, as they are to a JSON reader. */
static int sim_json_equal(json_object *a, json_object *b)
{
    json_object *bv;
    size_t n;

    if (sim_is_number(a) && sim_is_number(b)) {
        if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int))
            return json_object_get_int64(a) == json_object_get_int64(b);
        return json_object_get_double(a) == json_object_get_double(b);
    }
    if (json_object_get_type(a) != json_object_get_type(b))
        return 0;
    switch (json_object_get_type(a)) {
    case json_type_null:
        return 1;
    case json_type_boolean:
        return json_object_get_boolean(a) == json_object_get_boolean(b);
    case json_type_string:
        return json_object_get_string_len(a) == json_object_get_string_len(b) &&
               memcmp(json_object_get_string(a), json_object_get_string(b),
                      (size_t)json_object_get_string_len(a)) == 0;
    case json_type_array:
        n = json_object_array_length(a);
        if (n != json_object_array_length(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!sim_json_equal(json_object_array_get_idx(a, i), json_object_array_get_idx(b, i)))
                return 0;
        return 1;
    case json_type_object:
        if (json_object_object_length(a) != json_object_object_length(b))
            return 0;
        json_object_object_foreach(a, key, av)
        {
            if (!json_object_object_get_ex(b, key, &bv) || !sim_json_equal(av, bv))
                return 0;
        }
        return 1;
    default:
        return 0;
    }
}

long sim_rules_find(const struct sim_scenario *sc, const char *tool, const char *action,
                    json_object *params)
{
    for (size_t i = 0; i < sc->n_rules; i++) {
        const struct sim_rule *r = &sc->rules[i];
        if (strcmp(r->tool, tool) != 0)
            continue;
        if (r->action && strcmp(r->action, action) != 0)
            continue;
        if (r->params && !sim_params_subset(r->params, params))
            continue;
        return (long)i;
    }
    return -1;
}

const struct sim_response *sim_rules_response(const struct sim_rule *rule, uint64_t n)
{
    for (size_t i = 0; i + 1 < rule->n_responses; i++) {
        if (n < rule->responses[i].times)
            return &rule->responses[i];
        n -= rule->responses[i].times;
    }
    return &rule->responses[rule->n_responses - 1];
}
