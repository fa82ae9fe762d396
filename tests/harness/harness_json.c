/*
 * harness_json.c - the harness's small JSON helpers: values at dotted paths
 * of an answer, array lengths that do not abort, event counts, and string
 * comparison that says what differed.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_object *th_get(json_object *o, const char *path)
{
    char key[256];
    const char *p = path;
    while (o && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end = NULL;
            long i = strtol(p + 1, &end, 10);
            if (!end || *end != ']' || !json_object_is_type(o, json_type_array))
                return NULL;
            o = json_object_array_get_idx(o, (size_t)i);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        json_object *v = NULL;
        if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v))
            return NULL;
        o = v;
        p += n;
    }
    return o;
}

const char *th_get_str(json_object *o, const char *path)
{
    json_object *v = th_get(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long th_get_int(json_object *o, const char *path, long long def)
{
    json_object *v = th_get(o, path);
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
               ? json_object_get_int64(v)
               : def;
}

long th_len(json_object *o, const char *path)
{
    json_object *a = th_get(o, path);
    return a && json_object_is_type(a, json_type_array) ? (long)json_object_array_length(a) : -1;
}

int th_count_events(json_object *view, const char *type)
{
    json_object *ev = th_get(view, "events");
    int n = 0;
    for (size_t i = 0; ev && i < json_object_array_length(ev); i++) {
        const char *t = th_get_str(json_object_array_get_idx(ev, i), "type");
        if (t && strcmp(t, type) == 0)
            n++;
    }
    return n;
}

int th_streq(const char *actual, const char *expected)
{
    if (actual && expected && strcmp(actual, expected) == 0)
        return 1;
    fprintf(stderr, "\n    expected \"%s\", got %s%s%s\n", expected ? expected : "(null)",
            actual ? "\"" : "", actual ? actual : "(null)", actual ? "\"" : "");
    return 0;
}
