/* auth.c - see auth.h. */
#include "auth.h"
#include "log.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && len)
        vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return -EINVAL;
}

static int all_of(const char *s, size_t n, const char *alphabet)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(alphabet, s[i]))
            return 0;
    return 1;
}

#define SV_AUTH_ID_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
/* the caller-id alphabet of api.c (sv_api_valid_id) */
#define SV_AUTH_WS_CHARS SV_AUTH_ID_CHARS ":"

void sv_auth_free(sv_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++) {
        for (size_t j = 0; j < a->keys[i].n_workspaces; j++)
            free(a->keys[i].workspaces[j]);
        free(a->keys[i].workspaces);
    }
    /* digests only, but a digest is as good as a key to a dictionary */
    if (a->keys)
        explicit_bzero(a->keys, a->n * sizeof *a->keys);
    free(a->keys);
    free(a);
}

/* "ws_a+ws_b" (not NUL-terminated, n bytes) into k's workspace list. */
static int parse_workspaces(sv_auth_key *k, const char *s, size_t n, char *err, size_t len)
{
    size_t count = 1;
    for (size_t i = 0; i < n; i++)
        count += s[i] == '+';
    if (!(k->workspaces = calloc(count, sizeof *k->workspaces)))
        return -ENOMEM;
    for (const char *p = s, *end = s + n; p <= end;) {
        const char *plus = memchr(p, '+', (size_t)(end - p));
        size_t wl = (size_t)((plus ? plus : end) - p);
        if (wl == 0)
            return fail(err, len, "key \"%s\": an empty workspace in the list after '@'", k->id);
        if (wl > 128 || !all_of(p, wl, SV_AUTH_WS_CHARS))
            return fail(err, len,
                        "key \"%s\": \"%.*s\" is not a workspace id (1-128 characters of "
                        "[A-Za-z0-9_.:-])",
                        k->id, (int)(wl > 128 ? 128 : wl), p);
        if (!(k->workspaces[k->n_workspaces] = strndup(p, wl)))
            return -ENOMEM;
        k->n_workspaces++;
        p += wl + 1;
    }
    return 0;
}

/* One "ID:SECRET[@WS+...]" entry (n bytes at s, the n-th of the list). */
static int parse_entry(sv_auth_key *k, size_t nth, const char *s, size_t n, char *err, size_t len)
{
    if (n == 0)
        return fail(err, len, "entry %zu is empty (a ',' too many?)", nth);
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return fail(err, len,
                    "entry %zu has no id: write ID:SECRET[@WORKSPACE+...] (a single key with "
                    "none of ':' ',' '@' needs no id)",
                    nth);
    size_t il = (size_t)(colon - s);
    /* an id that is not one may be a secret written in the wrong place:
     * it is not shown */
    if (il == 0 || il > SV_AUTH_ID_MAX || !all_of(s, il, SV_AUTH_ID_CHARS))
        return fail(err, len,
                    "entry %zu: the id before ':' must be 1-%d characters of [A-Za-z0-9_.-]", nth,
                    SV_AUTH_ID_MAX);
    memcpy(k->id, s, il);
    k->id[il] = '\0';
    const char *secret = colon + 1, *end = s + n;
    const char *at = memchr(secret, '@', (size_t)(end - secret));
    size_t sl = (size_t)((at ? at : end) - secret);
    if (sl < SV_AUTH_SECRET_MIN || sl > SV_AUTH_SECRET_MAX)
        return fail(err, len, "key \"%s\": the secret must be %d-%d characters", k->id,
                    SV_AUTH_SECRET_MIN, SV_AUTH_SECRET_MAX);
    sv_sha256_hex(secret, sl, k->digest);
    if (at)
        return parse_workspaces(k, at + 1, (size_t)(end - at - 1), err, len);
    return 0;
}

int sv_auth_parse(const char *spec, sv_auth **out, char *err, size_t len)
{
    int rc = 0;
    sv_auth *a = NULL;
    *out = NULL;
    if (!spec || !*spec)
        return 0;
    for (const char *p = spec; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return fail(err, len, "contains a space or control character (value not shown)");
    size_t count = 1;
    for (const char *p = spec; *p; p++)
        count += *p == ',';
    if (!(a = calloc(1, sizeof *a)) || !(a->keys = calloc(count, sizeof *a->keys))) {
        rc = -ENOMEM;
        goto out;
    }
    if (!strpbrk(spec, ":,@")) {
        /* The form from before keys had ids: unchanged, any length. */
        snprintf(a->keys[0].id, sizeof a->keys[0].id, "default");
        sv_sha256_hex(spec, strlen(spec), a->keys[0].digest);
        a->n = 1;
        goto out;
    }
    for (const char *p = spec;; a->n++) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        rc = parse_entry(&a->keys[a->n], a->n + 1, p, n, err, len);
        if (rc < 0) {
            a->n++; /* free what it holds */
            goto out;
        }
        for (size_t j = 0; j < a->n; j++) {
            if (strcmp(a->keys[j].id, a->keys[a->n].id) == 0) {
                rc = fail(err, len, "key id \"%s\" is given twice", a->keys[j].id);
            } else if (strcmp(a->keys[j].digest, a->keys[a->n].digest) == 0) {
                rc = fail(err, len, "keys \"%s\" and \"%s\" have the same secret", a->keys[j].id,
                          a->keys[a->n].id);
            }
            if (rc < 0) {
                a->n++;
                goto out;
            }
        }
        if (!comma) {
            a->n++;
            break;
        }
        p = comma + 1;
    }
out:
    if (rc < 0) {
        sv_auth_free(a);
        a = NULL;
    }
    *out = a;
    return rc;
}

const sv_auth_key *sv_auth_match(const sv_auth *a, const char *token)
{
    char d[65];
    size_t hit = 0; /* index + 1 of the key that matched */
    if (!a || !token)
        return NULL;
    sv_sha256_hex(token, strlen(token), d);
    for (size_t i = 0; i < a->n; i++) {
        unsigned diff = 0;
        for (size_t j = 0; j < 64; j++)
            diff |= (unsigned char)(d[j] ^ a->keys[i].digest[j]);
        /* 1 when diff is 0, without a branch on it */
        size_t eq = (size_t)(((diff - 1) >> 8) & 1);
        size_t mask = (size_t)0 - eq;
        hit = (hit & ~mask) | ((i + 1) & mask);
    }
    explicit_bzero(d, sizeof d);
    return hit ? &a->keys[hit - 1] : NULL;
}

int sv_auth_limited(const sv_auth_key *k)
{
    return k && k->n_workspaces > 0;
}

int sv_auth_allows(const sv_auth_key *k, const char *ws)
{
    if (!sv_auth_limited(k))
        return 1;
    for (size_t i = 0; ws && i < k->n_workspaces; i++)
        if (strcmp(k->workspaces[i], ws) == 0)
            return 1;
    return 0;
}

int sv_auth_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

void sv_auth_log_startup(const char *spec, const char *host)
{
    sv_auth *a = NULL;
    char err[256];
    if (sv_auth_parse(spec, &a, err, sizeof err) < 0)
        return; /* config.c refused it already */
    json_object *f = json_object_new_object();
    if (!a) {
        if (sv_auth_loopback(host)) {
            json_object_put(f);
            return;
        }
        json_object_object_add(f, "address", json_object_new_string(host));
        sv_log(SV_LEVEL_WARN,
               "the API is open: SUPERVISOR_INTERNAL_KEY is unset and SUPERVISOR_LISTEN is not a "
               "loopback address, so anyone who reaches the port can start, read and cancel runs",
               f);
        return;
    }
    json_object *keys = json_object_new_array();
    for (size_t i = 0; i < a->n; i++) {
        json_object *k = json_object_new_object();
        json_object_object_add(k, "id", json_object_new_string(a->keys[i].id));
        if (a->keys[i].n_workspaces) {
            json_object *ws = json_object_new_array();
            for (size_t j = 0; j < a->keys[i].n_workspaces; j++)
                json_object_array_add(ws, json_object_new_string(a->keys[i].workspaces[j]));
            json_object_object_add(k, "workspaces", ws);
        }
        json_object_array_add(keys, k);
    }
    json_object_object_add(f, "keys", keys);
    sv_log(SV_LEVEL_INFO, "API keys", f);
    sv_auth_free(a);
}
