/*
 * rc_test_support.c - JSON readers for the release_check unit tests; see
 * rc_test_support.h.
 */
#include "rc_test_support.h"

#include <stdlib.h>
#include <string.h>

/* The value at a path like "gates[1].name" or "timeouts.overall_sec". */
json_object *rct_jget(json_object *o, const char *path)
{
    char key[128];
    const char *p = path;
    while (o && *p) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *end;
            long idx = strtol(p + 1, &end, 10);
            if (!json_object_is_type(o, json_type_array) || *end != ']')
                return NULL;
            o = json_object_array_get_idx(o, (size_t)idx);
            p = end + 1;
            continue;
        }
        size_t n = strcspn(p, ".[");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (!json_object_object_get_ex(o, key, &o))
            return NULL;
        p += n;
    }
    return o;
}

const char *rct_jstr(json_object *o, const char *path)
{
    json_object *v = rct_jget(o, path);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long rct_jint(json_object *o, const char *path, long long def)
{
    json_object *v = rct_jget(o, path);
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

int rct_jbool(json_object *o, const char *path, int def)
{
    json_object *v = rct_jget(o, path);
    return json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : def;
}

size_t rct_jlen(json_object *o, const char *path)
{
    json_object *v = rct_jget(o, path);
    return json_object_is_type(v, json_type_array) ? json_object_array_length(v) : (size_t)-1;
}

/* Is `o` equal to the JSON text `text`? */
int rct_jeq(json_object *o, const char *text)
{
    json_object *t = json_tokener_parse(text);
    int eq = json_object_equal(o, t);
    json_object_put(t);
    return eq;
}
