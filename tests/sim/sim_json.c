/* sim_json.c - bounded JSON parsing of buffers and files, UTF-8 safe strings and
 * error bodies. */
#include "sim_json.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Line and column (both from 1) of byte offset off in buf, for error messages. */
static void sim_json_position(const char *buf, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int sim_json_parse(const char *buf, size_t len, int strict, json_object **out, char *err,
                   size_t errlen)
{
    int rc = 0;
    json_object *obj = NULL;
    json_tokener *tok = NULL;
    enum json_tokener_error jerr;
    size_t line, col, off;

    *out = NULL;
    if (!buf)
        buf = "";
    /* json-c takes an int length; anything that large is not a test fixture. */
    if (len > INT_MAX) {
        if (err)
            snprintf(err, errlen, "input too large (%zu bytes)", len);
        rc = -EINVAL;
        goto out;
    }
    tok = json_tokener_new();
    if (!tok) {
        rc = -ENOMEM;
        goto out;
    }
    json_tokener_set_flags(tok, (strict ? JSON_TOKENER_STRICT : 0) | JSON_TOKENER_VALIDATE_UTF8);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    off = json_tokener_get_parse_end(tok);
    if (jerr == json_tokener_continue) {
        /* The tokener cannot know that a top-level number or a truncated text is
         * complete; a NUL byte tells it the input has ended. */
        obj = json_tokener_parse_ex(tok, "", 1);
        jerr = json_tokener_get_error(tok);
        off = len;
    }
    if (jerr != json_tokener_success) {
        if (err) {
            sim_json_position(buf, off, &line, &col);
            snprintf(err, errlen, "%s at line %zu column %zu", json_tokener_error_desc(jerr), line,
                     col);
        }
        rc = -EINVAL;
        goto out;
    }
    /* One value per text: "{} {}" or "{}x" is not a JSON document. */
    while (off < len && buf[off] != '\0' && strchr(" \t\r\n", buf[off]))
        off++;
    if (off < len) {
        if (err) {
            sim_json_position(buf, off, &line, &col);
            snprintf(err, errlen, "unexpected data after the JSON value at line %zu column %zu",
                     line, col);
        }
        rc = -EINVAL;
        goto out;
    }
    *out = obj;
    obj = NULL;
out:
    json_object_put(obj);
    if (tok)
        json_tokener_free(tok);
    return rc;
}

/* Read the whole file into a NUL-terminated buffer. */
static int sim_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                         size_t errlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    int rc = 0;

    f = fopen(path, "rb");
    if (!f) {
        rc = -errno;
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        goto out;
    }
    errno = 0;
    do {
        if (cap - n < 4096) {
            char *nb;
            if (cap >= max) {
                rc = -EFBIG;
                snprintf(err, errlen, "file larger than %zu bytes", max);
                goto out;
            }
            cap = cap ? cap * 2 : 65536;
            nb = realloc(buf, cap + 1);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        /* fopen succeeds on a directory; the read is where that shows. */
        rc = -EIO;
        snprintf(err, errlen, "cannot read: %s", errno ? strerror(errno) : "I/O error");
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

int sim_json_load_file(const char *path, size_t max, json_object **out, char *err, size_t errlen)
{
    char jerr[160];
    char *text = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if ((rc = sim_read_file(path, max, &text, &len, err, errlen)) < 0)
        goto out;
    rc = sim_json_parse(text, len, 0, out, jerr, sizeof(jerr));
    if (rc < 0)
        snprintf(err, errlen, "invalid JSON: %s", jerr);
out:
    free(text);
    return rc;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when invalid. */
static size_t sim_utf8_seq(const unsigned char *s, size_t n)
{
    size_t need;
    unsigned int cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
        cp = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        cp = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (size_t i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    /* Reject overlong forms, surrogates and code points past U+10FFFF. */
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need;
}

json_object *sim_json_string_utf8(const char *s, size_t len)
{
    static const char repl[] = "\xEF\xBF\xBD";
    json_object *obj = NULL;
    char *clean = NULL;
    size_t o = 0, n;

    /* Worst case every byte becomes a 3-byte replacement character. */
    if (len > (INT_MAX - 1) / 3)
        goto out;
    clean = malloc(len * 3 + 1);
    if (!clean)
        goto out;
    for (size_t i = 0; i < len; i += n ? n : 1) {
        n = sim_utf8_seq((const unsigned char *)s + i, len - i);
        if (n) {
            memcpy(clean + o, s + i, n);
            o += n;
        } else {
            memcpy(clean + o, repl, 3);
            o += 3;
        }
    }
    obj = json_object_new_string_len(clean, (int)o);
out:
    free(clean);
    return obj;
}

char *sim_json_dump(json_object *obj, size_t *len)
{
    size_t n = 0;
    const char *s;
    char *copy;

    s = json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    if (!s)
        return NULL;
    copy = malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n + 1);
    if (len)
        *len = n;
    return copy;
}

char *sim_json_error_body(const char *code, const char *message, size_t *len)
{
    json_object *root = json_object_new_object();
    json_object *error = json_object_new_object();
    char *out = NULL;

    if (!root || !error)
        goto out;
    json_object_object_add(error, "code", json_object_new_string(code));
    json_object_object_add(error, "message", sim_json_string_utf8(message, strlen(message)));
    json_object_object_add(root, "status", json_object_new_string("failed"));
    json_object_object_add(root, "error", error);
    error = NULL;
    out = sim_json_dump(root, len);
out:
    json_object_put(error);
    json_object_put(root);
    return out;
}

int sim_json_is_string(json_object *v, const char *s)
{
    return v && json_object_get_type(v) == json_type_string &&
           strcmp(json_object_get_string(v), s) == 0;
}
