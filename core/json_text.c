/* json_text.c - see json_text.h. */
#include "json_text.h"

#include <errno.h>
#include <string.h>

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int sv_json_text_member(const char *t, size_t len, const char *key, size_t *begin, size_t *end,
                        size_t *vbegin, size_t *vend)
{
    size_t klen = strlen(key), member = 0, kstart = 0, vstart = 0;
    int depth = 0, in_str = 0, want_key = 0, key_open = 0, key_done = 0, found = 0;
    size_t i = 0;
    while (i < len && is_space(t[i]))
        i++;
    if (i == len || t[i] != '{')
        return -EINVAL;
    for (; i < len; i++) {
        char c = t[i];
        if (in_str) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_str = 0;
                if (key_open) {
                    key_open = 0;
                    key_done = i - kstart == klen && memcmp(t + kstart, key, klen) == 0 ? 1 : 2;
                }
            }
            continue;
        }
        switch (c) {
        case '"':
            in_str = 1;
            if (depth == 1 && want_key) {
                key_open = 1;
                want_key = 0;
                kstart = i + 1;
            }
            break;
        case ':':
            if (depth == 1 && key_done == 1) {
                found = 1;
                vstart = i + 1;
            }
            key_done = 0;
            break;
        case '{':
        case '[':
            if (++depth == 1) {
                want_key = 1;
                member = i + 1;
            }
            break;
        case '}':
        case ']':
        case ',':
            if (depth == 1 && found) {
                size_t vs = vstart, ve = i;
                while (vs < ve && is_space(t[vs]))
                    vs++;
                while (ve > vs && is_space(t[ve - 1]))
                    ve--;
                *vbegin = vs;
                *vend = ve;
                *begin = member;
                /* the first member takes the comma after it instead */
                *end = t[member] != ',' && c == ',' ? i + 1 : i;
                return 0;
            }
            if (c == ',') {
                if (depth == 1) {
                    want_key = 1;
                    member = i;
                }
            } else if (--depth == 0) {
                return -ENOENT;
            }
            break;
        default:
            break;
        }
    }
    return -EINVAL;
}

int sv_json_text_str(const char *t, size_t len, const char *key, char *out, size_t outlen)
{
    size_t b, e, vb, ve;
    int rc = sv_json_text_member(t, len, key, &b, &e, &vb, &ve);
    if (rc < 0)
        return rc;
    if (ve - vb < 2 || t[vb] != '"' || t[ve - 1] != '"' || ve - vb - 2 >= outlen ||
        memchr(t + vb + 1, '\\', ve - vb - 2))
        return -EINVAL;
    memcpy(out, t + vb + 1, ve - vb - 2);
    out[ve - vb - 2] = '\0';
    return 0;
}
