/*
 * json_strict.h - request bodies as strict JSON (RFC 8259, CONTRACT §7).
 *
 * json-c's own tokener, even in its strict mode, takes single quotes, NaN
 * and Infinity, duplicate keys (the last wins), "\u0000" (which truncates a
 * C string further on) and lone surrogates.  This parser refuses every one of
 * them and builds the same json-c objects the tokener would for what it
 * accepts, so the code after it sees no difference.
 */
#ifndef SV_JSON_STRICT_H
#define SV_JSON_STRICT_H

#include <stddef.h>
#include <json-c/json.h>

/* Arrays and objects nested deeper than this are refused (json-c's own
 * tokener depth, which api.c used before). */
#define SV_JSON_MAX_DEPTH 64
/* A number written with more characters than this is refused. */
#define SV_JSON_MAX_NUMBER 1024

/*
 * Parse buf[0..len) (need not be NUL-terminated; a NUL byte inside is an
 * error) as one JSON value, optionally surrounded by white space.  Accepts
 * only RFC 8259 JSON in UTF-8, and refuses on top of that: duplicate keys in
 * an object, "\u0000", lone surrogates in \u escapes, nesting deeper than
 * SV_JSON_MAX_DEPTH, numbers that overflow a double.
 *
 * 0 and *out (a new reference; NULL for the JSON value null), or -EINVAL with
 * a one-line reason ending "at byte N" in err and, when the fault lies in a
 * member or element, its path from the root in field ("input.label",
 * "items[2]"; "" otherwise; cut on a character boundary to fieldlen), or
 * -ENOMEM.  Numbers: integers in int64 (or uint64) range are json-c
 * integers, others doubles keeping their text.
 */
int sv_json_parse_strict(const char *buf, size_t len, json_object **out, char *err, size_t errlen,
                         char *field, size_t fieldlen);

#endif
