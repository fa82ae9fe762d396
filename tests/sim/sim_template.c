/* sim_template.c - substitution of "{{...}}" markers in answer bodies.
 *
 * Only string values that are exactly a marker are replaced, never object keys or
 * parts of a string: a replaced value keeps its JSON type (a params value may be an
 * object or a number), which string interpolation could not do. */
#include "sim_template.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_json.h"

#define SIM_MARK_RUN_ID "{{run_id}}"
#define SIM_MARK_CALL_ID "{{call_id}}"
#define SIM_MARK_PARAMS "{{params."
#define SIM_MARK_END "}}"

/* Is s a marker? For {{params.NAME}} also points *params_name at NAME (length
 * *name_len); for the others *params_name is NULL. */
static int sim_template_marker(const char *s, const char **params_name, size_t *name_len)
{
    size_t n = strlen(s);
    size_t pre = strlen(SIM_MARK_PARAMS), post = strlen(SIM_MARK_END);

    *params_name = NULL;
    *name_len = 0;
    if (strcmp(s, SIM_MARK_RUN_ID) == 0 || strcmp(s, SIM_MARK_CALL_ID) == 0)
        return 1;
    if (n > pre + post && strncmp(s, SIM_MARK_PARAMS, pre) == 0 &&
        strcmp(s + n - post, SIM_MARK_END) == 0) {
        *params_name = s + pre;
        *name_len = n - pre - post;
        return 1;
    }
    return 0;
}

int sim_template_present(json_object *v)
{
    const char *name;
    size_t len;

    switch (json_object_get_type(v)) {
    case json_type_string:
        return sim_template_marker(json_object_get_string(v), &name, &len);
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++)
            if (sim_template_present(json_object_array_get_idx(v, i)))
                return 1;
        return 0;
    case json_type_object: {
        json_object_object_foreach(v, key, child)
        {
            (void)key;
            if (sim_template_present(child))
                return 1;
        }
        return 0;
    }
    default:
        return 0;
    }
}

/* The request's value at a dotted path below params ("a.b" = params.a.b), or NULL. */
static json_object *sim_template_param(json_object *request, const char *name, size_t len)
{
    json_object *cur = NULL;
    char key[256];
    size_t start = 0;

    if (!json_object_object_get_ex(request, "params", &cur))
        return NULL;
    while (start <= len) {
        size_t end = start;
        while (end < len && name[end] != '.')
            end++;
        if (end - start >= sizeof(key) || json_object_get_type(cur) != json_type_object)
            return NULL;
        memcpy(key, name + start, end - start);
        key[end - start] = '\0';
        if (!json_object_object_get_ex(cur, key, &cur))
            return NULL;
        start = end + 1;
    }
    return cur;
}

/* The value a marker stands for in this request (borrowed; NULL = JSON null). */
static json_object *sim_template_value(const char *marker, json_object *request)
{
    json_object *meta = NULL, *v = NULL;
    const char *name;
    size_t len;

    if (!sim_template_marker(marker, &name, &len))
        return NULL;
    if (name)
        return sim_template_param(request, name, len);
    if (!json_object_object_get_ex(request, "metadata", &meta) ||
        json_object_get_type(meta) != json_type_object)
        return NULL;
    json_object_object_get_ex(
        meta, strcmp(marker, SIM_MARK_RUN_ID) == 0 ? "graph_run_id" : "call_id", &v);
    return v;
}

/* Is v a string marker? Then *repl is the new value (a new reference). */
static int sim_template_replace(json_object *v, json_object *request, json_object **repl)
{
    const char *name;
    size_t len;

    if (json_object_get_type(v) != json_type_string ||
        !sim_template_marker(json_object_get_string(v), &name, &len))
        return 0;
    *repl = json_object_get(sim_template_value(json_object_get_string(v), request));
    return 1;
}

/* Replace markers in the private tree v in place. The request's values are shared by
 * reference: both trees belong to the calling thread only. */
static int sim_template_walk(json_object *v, json_object *request)
{
    json_object *repl;
    int rc = 0;

    if (json_object_get_type(v) == json_type_array) {
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *child = json_object_array_get_idx(v, i);
            if (sim_template_replace(child, request, &repl)) {
                if (json_object_array_put_idx(v, i, repl) < 0) {
                    json_object_put(repl);
                    rc = -ENOMEM;
                    goto out;
                }
            } else if ((rc = sim_template_walk(child, request)) < 0) {
                goto out;
            }
        }
    } else if (json_object_get_type(v) == json_type_object) {
        json_object_object_foreach(v, key, child)
        {
            /* Replacing an existing key only swaps the entry's value, so the
             * iteration stays valid. */
            if (sim_template_replace(child, request, &repl)) {
                if (json_object_object_add(v, key, repl) < 0) {
                    json_object_put(repl);
                    rc = -ENOMEM;
                    goto out;
                }
            } else if ((rc = sim_template_walk(child, request)) < 0) {
                goto out;
            }
        }
    }
out:
    return rc;
}

int sim_template_render(const char *body, size_t len, json_object *request, char **out,
                        size_t *out_len)
{
    json_object *tree = NULL, *repl = NULL;
    int rc;

    *out = NULL;
    /* Lenient parse: the text came from the scenario file through json-c itself. */
    rc = sim_json_parse(body, len, 0, &tree, NULL, 0);
    if (rc < 0)
        goto out;
    if (sim_template_replace(tree, request, &repl)) {
        /* The whole body is one marker. */
        json_object_put(tree);
        tree = repl;
    } else if ((rc = sim_template_walk(tree, request)) < 0) {
        goto out;
    }
    if (!tree) {
        *out = strdup("null");
        if (out_len)
            *out_len = 4;
    } else {
        *out = sim_json_dump(tree, out_len);
    }
    if (!*out)
        rc = -ENOMEM;
out:
    json_object_put(tree);
    return rc;
}
