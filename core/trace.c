/* trace.c - W3C trace ids and the traceparent header. */
#include "trace.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void hex_of(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* n random bytes as hex, drawn again in the (2^-64 or less) case of all
 * zeros, which the spec forbids. */
static int random_hex(size_t n, char *out)
{
    unsigned char b[16];
    for (int tries = 0; tries < 4; tries++) {
        if (sv_random_bytes(b, n) < 0)
            return -EIO;
        for (size_t i = 0; i < n; i++) {
            if (b[i]) {
                hex_of(b, n, out);
                return 0;
            }
        }
    }
    return -EIO;
}

int sv_trace_id_new(char out[SV_TRACE_ID_LEN])
{
    return random_hex(16, out);
}

int sv_trace_span_new(char out[SV_SPAN_ID_LEN])
{
    return random_hex(8, out);
}

/* n lowercase hex digits at s, not all zeros (when nonzero is set). */
static int hex_run(const char *s, size_t n, int nonzero)
{
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
        any |= c != '0';
    }
    return !nonzero || any;
}

int sv_trace_id_valid(const char *s)
{
    return s && strlen(s) == 32 && hex_run(s, 32, 1);
}

static unsigned hex_val(char c)
{
    return c <= '9' ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
}

int sv_traceparent_parse(const char *v, char trace_id[SV_TRACE_ID_LEN], unsigned *flags)
{
    if (!v)
        return -EINVAL;
    /* Leading and trailing blanks are the header's, not the value's. */
    while (*v == ' ' || *v == '\t')
        v++;
    size_t len = strlen(v);
    while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
        len--;
    if (len < 55 || !hex_run(v, 2, 0) || strncmp(v, "ff", 2) == 0 || v[2] != '-' ||
        !hex_run(v + 3, 32, 1) || v[35] != '-' || !hex_run(v + 36, 16, 1) || v[52] != '-' ||
        !hex_run(v + 53, 2, 0))
        return -EINVAL;
    if (strncmp(v, "00", 2) == 0 ? len != 55 : len > 55 && v[55] != '-')
        return -EINVAL;
    memcpy(trace_id, v + 3, 32);
    trace_id[32] = '\0';
    *flags = hex_val(v[53]) << 4 | hex_val(v[54]);
    return 0;
}

void sv_trace_id_derive(const char *run_id, char out[SV_TRACE_ID_LEN])
{
    char buf[256], hash[65];
    int n = snprintf(buf, sizeof buf, "sofiia-trace:%s", run_id ? run_id : "");
    sv_sha256_hex(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : strlen(buf), hash);
    memcpy(out, hash, 32);
    out[32] = '\0';
    if (!sv_trace_id_valid(out))
        out[31] = '1'; /* all zeros: not a valid id */
}
