/*
 * schema_internal.h - what the validator (schema.c), the schema check
 * (schema_check.c) and their shared helpers (schema_text.c) have in common.
 * Not for use outside those three files: the contract is schema.h.
 *
 * Every error is one line that names where the problem is (a schema path for
 * plugin authors, an input field path for API callers) and what is allowed.
 * Text that comes from outside (field names, string values) is escaped and
 * cut to a few dozen characters, and every buffer is cut on a UTF-8 character
 * boundary, so an error message is always valid UTF-8 and fits.
 */
#ifndef SV_SCHEMA_INTERNAL_H
#define SV_SCHEMA_INTERNAL_H

#include "schema.h"

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Deeper schemas are refused: recursion stays bounded whatever a plugin ships
 * (the json-c parser stops at 32 levels anyway; each schema level takes at
 * least two). */
#define SV_SCHEMA_MAX_DEPTH 32
/* At most this many characters of a caller's string are quoted back. */
#define SV_SCHEMA_QUOTE_MAX_CP 40
/* Room for such a quote: an escape takes up to 6 bytes, plus quotes and "...". */
#define SV_SCHEMA_QUOTE_BUF (6 * SV_SCHEMA_QUOTE_MAX_CP + 8)

enum sv_schema_type {
    SV_SCHEMA_NONE = 0,
    SV_SCHEMA_STRING,
    SV_SCHEMA_BOOLEAN,
    SV_SCHEMA_INTEGER,
    SV_SCHEMA_NUMBER,
    SV_SCHEMA_ARRAY,
    SV_SCHEMA_OBJECT
};

/* Indexed by enum sv_schema_type: the keyword's spelling and the noun with its
 * article, for messages. */
struct sv_schema_type_name {
    const char *name;
    const char *article;
};
extern const struct sv_schema_type_name sv_schema_type_names[SV_SCHEMA_OBJECT + 1];

/* ---- bounded, UTF-8-safe text ---------------------------------------- */

/* A message being built in a caller's fixed buffer. */
struct sv_schema_sbuf {
    char *p;
    size_t cap; /* including the NUL */
    size_t len;
    bool full;
};

/* Start an empty message in p[0..cap-1]; cap > 0. */
void sv_schema_sb_init(struct sv_schema_sbuf *b, char *p, size_t cap);
/* Append s (valid UTF-8) as far as it fits, never splitting a character. */
void sv_schema_sb_put(struct sv_schema_sbuf *b, const char *s, size_t n);
/* sv_schema_sb_put() of a C string. */
void sv_schema_sb_puts(struct sv_schema_sbuf *b, const char *s);
/* Formats here print only ASCII (numbers, type names). */
__attribute__((format(printf, 2, 3))) void sv_schema_sb_printf(struct sv_schema_sbuf *b,
                                                               const char *fmt, ...);
/* Length of the UTF-8 sequence at s (1-4), or 0 when it is not valid UTF-8. */
size_t sv_schema_utf8_seq(const unsigned char *s, size_t n);
/* Append text from outside, escaped so it reads unambiguously on one line,
 * cut after max_cp characters, optionally in double quotes. */
void sv_schema_sb_text(struct sv_schema_sbuf *b, const char *s, size_t n, size_t max_cp,
                       bool quote);
/* Append a JSON number: an integer in full, a double with 15 significant digits. */
void sv_schema_sb_num(struct sv_schema_sbuf *b, json_object *v);

/* ---- JSON helpers ---------------------------------------------------- */

/* The type a "type" keyword names, or SV_SCHEMA_NONE. */
enum sv_schema_type sv_schema_type_from_name(const char *s);
/* The schema's "type", or SV_SCHEMA_NONE when missing or unknown. */
enum sv_schema_type sv_schema_type_of(json_object *schema);
/* The value of keyword `name` in schema, or NULL. */
json_object *sv_schema_kw(json_object *schema, const char *name);
/* What a value is, in JSON Schema words ("integer", "null"...). */
const char *sv_schema_value_label(json_object *v);
/* A JSON int or double. */
bool sv_schema_is_number(json_object *v);
/* A number's value; exact for every int64 and uint64. */
long double sv_schema_num_value(json_object *v);
/* A JSON int, or a double with an integral value an int64 holds. */
bool sv_schema_is_integral(json_object *v);

/* ---- from the validator, for the check ------------------------------- */

/*
 * Validate `v` against the sub-schema `schema` the way a default must pass:
 * in place, with "x-clamp" ignored (out of range is an error).  *repl as in
 * the validator: a new value to put in v's place, or NULL.  0 or a negative
 * errno with err filled.
 */
int sv_schema_validate_default(json_object *schema, json_object *v, sv_error *err,
                               json_object **repl);

#endif
