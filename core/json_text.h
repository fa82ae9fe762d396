/*
 * json_text.h - finding a member of a JSON object in its text without
 * parsing it: for the texts the daemon wrote itself (run records), on paths
 * where parsing the whole record would cost more than the answer (a poll of
 * GET /v1/runs/{id}).  Strings and nesting are honoured, so a member of the
 * same name inside a nested value is never taken for the top-level one.
 */
#ifndef SV_JSON_TEXT_H
#define SV_JSON_TEXT_H

#include <stddef.h>

/*
 * The top-level member `key` of the object in text[0..len): *begin..*end is
 * the member with the comma before it (or after it, when it is the first),
 * so that cutting it out leaves a valid object; *vbegin..*vend is its value.
 * 0, or -ENOENT (no such member), -EINVAL (not an object).
 */
int sv_json_text_member(const char *text, size_t len, const char *key, size_t *begin, size_t *end,
                        size_t *vbegin, size_t *vend);

/* The top-level string member `key` copied into out (outlen bytes) when it
 * is a plain string (no escapes): 0, -ENOENT, -EINVAL. */
int sv_json_text_str(const char *text, size_t len, const char *key, char *out, size_t outlen);

#endif
