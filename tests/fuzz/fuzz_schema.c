/*
 * fuzz_schema.c - input-schema checking and validation (core/schema.c,
 * schema_check.c, schema_text.c): a schema, a line "---", then an input.  The
 * schema goes through sv_schema_check as a plugin's does at load; when it
 * passes, the input (strict JSON, as a request body's) through
 * sv_schema_validate.  Invariants: a refusal names a code; an input that
 * passed (defaults filled, clamps applied) passes again unchanged.
 */
#include "fuzz.h"
#include "json_strict.h"
#include "schema.h"

#include <string.h>

int sv_fuzz_schema(const uint8_t *data, size_t size)
{
    static const char sep[] = "\n---\n";
    char *text = malloc(size + 1), *cut, why[512], err_text[256], field[128];
    json_object *schema = NULL, *input = NULL;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (memchr(text, '\0', size) || !(cut = strstr(text, sep)))
        goto out;
    *cut = '\0';
    const char *in = cut + strlen(sep);
    schema = json_tokener_parse(text); /* as the registry reads input_schema */
    if (!schema || sv_schema_check(schema, why, sizeof why) < 0)
        goto out;
    if (sv_json_parse_strict(in, strlen(in), &input, err_text, sizeof err_text, field,
                             sizeof field) < 0 ||
        !json_object_is_type(input, json_type_object))
        goto out;
    sv_error err;
    memset(&err, 0, sizeof err);
    if (sv_schema_validate(schema, input, &err) < 0) {
        SV_FUZZ_CHECK(err.code[0] && err.message[0], "a refused input has a code and a message");
        goto out;
    }
    char *once = strdup(json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN));
    memset(&err, 0, sizeof err);
    int again = sv_schema_validate(schema, input, &err);
    if (again < 0)
        fprintf(stderr, "second validation: %s: %s (%s)\n", err.code, err.message, err.field);
    SV_FUZZ_CHECK(again == 0, "a valid input, filled and clamped, is still valid");
    SV_FUZZ_CHECK(
        once && strcmp(once, json_object_to_json_string_ext(input, JSON_C_TO_STRING_PLAIN)) == 0,
        "validating a valid input again changes nothing");
    free(once);
out:
    json_object_put(input);
    json_object_put(schema);
    free(text);
    return 0;
}

SV_FUZZ_MAIN(sv_fuzz_schema)
