/*
 * it_signature.c - log messages to signatures, and signatures to ranked
 * groups.  Two messages that differ only in ids, addresses, numbers or quoted
 * values are the same error; grouping them is what lets the report say
 * "37x connection pool exhausted" instead of quoting 37 lines.
 */
#include "it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Words after which a 3-digit number is an HTTP status worth keeping: "504"
 * says "gateway timeout", "<n>" says nothing. */
static const char *const it_status_words[] = {
    "http",     "status",   "code",      "status_code", "statuscode",
    "returned", "response", "responded", "got",         NULL,
};

typedef struct it_out {
    char *s;
    size_t len, o;
} it_out;

static void it_put(it_out *w, const char *p, size_t n)
{
    if (w->o + n > w->len - 1)
        return;
    memcpy(w->s + w->o, p, n);
    w->o += n;
}

static void it_puts(it_out *w, const char *p)
{
    it_put(w, p, strlen(p));
}

static int it_lc_alpha(char c)
{
    return c >= 'a' && c <= 'z';
}

static int it_dig(char c)
{
    return c >= '0' && c <= '9';
}

static int it_alnum(char c)
{
    return it_lc_alpha(c) || it_dig(c);
}

static int it_hexc(char c)
{
    return it_dig(c) || (c >= 'a' && c <= 'f');
}

/* 8-4-4-4-12 hex digits. */
static size_t it_match_uuid(const char *s)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    size_t i = 0;
    for (int g = 0; g < 5; g++) {
        for (int k = 0; k < groups[g]; k++, i++)
            if (!it_hexc(s[i]))
                return 0;
        if (g < 4 && s[i++] != '-')
            return 0;
    }
    return it_alnum(s[i]) ? 0 : i;
}

/* a.b.c.d with each part <= 255, and an optional :port. */
static size_t it_match_ipv4(const char *s)
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        int v = 0, n = 0;
        while (it_dig(s[i]) && n < 4) {
            v = v * 10 + (s[i++] - '0');
            n++;
        }
        if (n == 0 || n > 3 || v > 255)
            return 0;
        if (part < 3 && s[i++] != '.')
            return 0;
    }
    /* 1.2.3.4.5 is a version, not an address. */
    if (it_alnum(s[i]) || (s[i] == '.' && it_dig(s[i + 1])))
        return 0;
    if (s[i] == ':' && it_dig(s[i + 1])) {
        size_t j = i + 1;
        while (it_dig(s[j]) && j - i <= 5)
            j++;
        if (!it_alnum(s[j]))
            i = j;
    }
    return i;
}

/* Hex groups and colons with "::" or all 8 groups (so 10:00:00 is a time). */
static size_t it_match_ipv6(const char *s)
{
    size_t i = 0;
    int colons = 0, hexd = 0, dbl = 0;
    while ((it_hexc(s[i]) || s[i] == ':') && i < 45) {
        if (s[i] == ':') {
            colons++;
            dbl |= s[i + 1] == ':';
        } else {
            hexd++;
        }
        i++;
    }
    if (it_alnum(s[i]) || s[i] == '_' || colons < 2 || hexd == 0)
        return 0;
    return (dbl || colons == 7) ? i : 0;
}

/* 0x followed by hex digits. */
static size_t it_match_0x(const char *s)
{
    size_t i = 2;
    if (s[0] != '0' || s[1] != 'x' || !it_hexc(s[2]))
        return 0;
    while (it_hexc(s[i]))
        i++;
    return it_alnum(s[i]) ? 0 : i;
}

/* A quoted value: the closing quote must end a word too ("can't" is no quote). */
static size_t it_match_quoted(const char *s)
{
    char q = s[0];
    for (size_t i = 1; s[i] && i < 512; i++)
        if (s[i] == q)
            return it_alnum(s[i + 1]) ? 0 : i + 1;
    return 0;
}

/* Is the word before position i (skipping " =:(#[") a status word? */
static int it_status_context(const char *s, size_t i)
{
    size_t end = i, start;
    char w[16];
    while (end > 0 && strchr(" =:(#[\"'", s[end - 1]))
        end--;
    start = end;
    while (start > 0 && (it_lc_alpha(s[start - 1]) || s[start - 1] == '_'))
        start--;
    if (end == start || end - start >= sizeof w)
        return 0;
    memcpy(w, s + start, end - start);
    w[end - start] = '\0';
    for (int k = 0; it_status_words[k]; k++)
        if (strcmp(w, it_status_words[k]) == 0)
            return 1;
    return 0;
}

/* A run of letters and digits starting at s[i]; returns where it ends. */
static size_t it_word_run(it_out *w, const char *s, size_t i)
{
    size_t k = i, lead = 0, ndig = 0, nalpha = 0;
    int all_hex = 1;
    while (it_alnum(s[k])) {
        ndig += it_dig(s[k]);
        nalpha += it_lc_alpha(s[k]);
        all_hex &= it_hexc(s[k]);
        k++;
    }
    while (it_dig(s[i + lead]))
        lead++;
    size_t len = k - i;
    /* The pod part of a k8s pod name (router-<hex>-x2b4q) varies per pod
     * and may be all letters. */
    if (w->o >= 6 && memcmp(w->s + w->o - 6, "<hex>-", 6) == 0 && len <= 10) {
        it_puts(w, "<id>");
        return k;
    }
    if (ndig == 0) {
        it_put(w, s + i, len);
        return k;
    }
    /* key=value: the value is an id unless it is a small number (user=123);
     * an 8-hex id that happens to be all digits must not split its group. */
    if (i > 0 && s[i - 1] == '=' && (nalpha > 0 || len > 6)) {
        it_puts(w, "<id>");
        return k;
    }
    if (all_hex && len >= 6 && nalpha > 0) {
        it_puts(w, "<hex>");
        return k;
    }
    /* Long digit runs, and digits ending a dashed name (req-123456), are
     * ids: an 8-digit hex id is all digits one time in 40 and must not
     * split its group from the others. */
    if (lead == len && (len >= 8 || (len >= 6 && i >= 2 && (s[i - 1] == '-' || s[i - 1] == '_') &&
                                     it_lc_alpha(s[i - 2])))) {
        it_puts(w, "<hex>");
        return k;
    }
    if (lead == len) {
        size_t j = k;
        if (len == 3 && s[i] >= '1' && s[i] <= '5' && it_status_context(s, i)) {
            it_put(w, s + i, len);
            return k;
        }
        /* 1.5, 1,024 and a unit right after (250ms, 12kb) are one number. */
        while ((s[j] == '.' || s[j] == ',') && it_dig(s[j + 1]))
            for (j++; it_dig(s[j]); j++)
                ;
        it_puts(w, "<n>");
        size_t u = j;
        while (it_lc_alpha(s[u]))
            u++;
        if (u > j && u - j <= 4 && !it_dig(s[u])) {
            it_put(w, s + j, u - j);
            return u;
        }
        return j;
    }
    if (lead > 0 && nalpha == len - lead && len - lead <= 4) {
        /* 5xx and 4xx are classes of statuses, kept; 250ms is a number. */
        if (lead == 1 && len == 3 && s[i + 1] == 'x' && s[i + 2] == 'x') {
            it_put(w, s + i, len);
        } else {
            it_puts(w, "<n>");
            it_put(w, s + i + lead, len - lead);
        }
        return k;
    }
    if ((len >= 5 && ndig >= 2) || len >= 8)
        it_puts(w, "<id>");
    else
        it_put(w, s + i, len); /* p95, http2, ipv4, v2 carry meaning */
    return k;
}

void it_signature(const char *msg, char *out, size_t len)
{
    char s[IT_MSG_SCAN_MAX + 1];
    size_t n = 0, i = 0, m;
    it_out w = {out, len, 0};

    if (!out || len == 0)
        return;
    out[0] = '\0';
    if (!msg)
        return;
    /* Lowercase, and blanks for control characters, in a bounded copy. */
    for (; msg[n] && n < IT_MSG_SCAN_MAX; n++) {
        char c = msg[n];
        s[n] = (c >= 'A' && c <= 'Z')                   ? (char)(c - 'A' + 'a')
               : ((unsigned char)c < 0x20 || c == 0x7f) ? ' '
                                                        : c;
    }
    s[n] = '\0';
    while (s[i] && w.o < len - 1) {
        char c = s[i];
        int boundary = i == 0 || !it_alnum(s[i - 1]);
        if (c == ' ') {
            if (w.o > 0 && out[w.o - 1] != ' ')
                it_put(&w, " ", 1);
            i++;
        } else if ((c == '"' || c == '\'') && boundary && (m = it_match_quoted(s + i))) {
            it_puts(&w, "<str>");
            i += m;
        } else if (it_alnum(c) && boundary && (m = it_match_uuid(s + i))) {
            it_puts(&w, "<uuid>");
            i += m;
        } else if (it_dig(c) && boundary && (m = it_match_ipv4(s + i))) {
            it_puts(&w, "<ip>");
            i += m;
        } else if ((it_hexc(c) || (c == ':' && s[i + 1] == ':')) && boundary &&
                   (i == 0 || s[i - 1] != ':') && (m = it_match_ipv6(s + i))) {
            it_puts(&w, "<ip>");
            i += m;
        } else if (c == '0' && boundary && (m = it_match_0x(s + i))) {
            it_puts(&w, "<hex>");
            i += m;
        } else if (it_alnum(c)) {
            i = it_word_run(&w, s, i);
        } else if ((unsigned char)c >= 0x80) {
            size_t q = it_utf8_seq((const unsigned char *)s + i);
            if (q == 0) {
                it_put(&w, "?", 1);
                i++;
            } else {
                it_put(&w, s + i, q);
                i += q;
            }
        } else {
            it_put(&w, s + i, 1);
            i++;
        }
    }
    while (w.o > 0 && out[w.o - 1] == ' ')
        w.o--;
    out[w.o] = '\0';
}

int it_groups_add(it_groups *g, const char *message)
{
    return it_groups_add_ts(g, message, 0, 0);
}

int it_groups_add_ts(it_groups *g, const char *message, int64_t ts_ms, int has_ts)
{
    char sig[IT_SIG_LEN];

    it_signature(message, sig, sizeof sig);
    g->lines++;
    /* Linear: at most IT_MAX_LOG_LINES messages are ever grouped. */
    for (size_t i = 0; i < g->n; i++) {
        if (strcmp(g->v[i].sig, sig) == 0) {
            g->v[i].count++;
            if (has_ts) {
                g->v[i].ts_n++;
                g->v[i].ts_sum += ts_ms;
            }
            return 0;
        }
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        it_group *v = realloc(g->v, cap * sizeof *v);
        if (!v) {
            g->lines--;
            return SV_ENOMEM;
        }
        g->v = v;
        g->cap = cap;
    }
    it_group *e = &g->v[g->n];
    memcpy(e->sig, sig, sizeof sig);
    it_text_line(message, e->sample, sizeof e->sample);
    e->count = 1;
    e->first = g->n;
    e->ts_n = has_ts ? 1 : 0;
    e->ts_sum = has_ts ? ts_ms : 0;
    g->n++;
    return 0;
}

static int it_group_cmp(const void *a, const void *b)
{
    const it_group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

void it_groups_rank(it_groups *g)
{
    if (g->n > 1)
        qsort(g->v, g->n, sizeof *g->v, it_group_cmp);
}

void it_groups_free(it_groups *g)
{
    free(g->v);
    memset(g, 0, sizeof *g);
}

/* Levels that are not errors: a custom log_query_hint may return them. */
static int it_level_is_error(const char *level)
{
    static const char *const quiet[] = {"debug", "info", "information", "notice", "trace", NULL};
    char l[16];
    if (!level)
        return 1;
    it_text_lower(level, l, sizeof l);
    for (int i = 0; quiet[i]; i++)
        if (strcmp(l, quiet[i]) == 0)
            return 0;
    return 1;
}

/* Keep a trace id that is short printable ASCII and not seen yet. */
static void it_trace_id_add(json_object *ids, const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > IT_MAX_TRACE_ID_LEN || json_object_array_length(ids) >= IT_MAX_TRACE_IDS)
        return;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)id[i] <= 0x20 || (unsigned char)id[i] >= 0x7f)
            return;
    for (size_t i = 0; i < json_object_array_length(ids); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(ids, i)), id) == 0)
            return;
    json_object_array_add(ids, json_object_new_string(id));
}

int it_logs_digest(json_object *data, int limit, json_object **out, char *why, size_t why_len)
{
    int rc = 0;
    it_groups g = {0};
    json_object *d = NULL, *ids = NULL, *arr = NULL;
    json_object *lines = it_json_get(data, "lines", json_type_array);
    long deploy_lines = 0, quiet_lines = 0;
    char deploy_sample[IT_SAMPLE_LEN] = "", low[IT_SAMPLE_LEN];

    *out = NULL;
    if (!lines) {
        snprintf(why, why_len, "bad_response: logs_query answer has no \"lines\" array");
        rc = SV_EINVAL;
        goto out;
    }
    size_t n = json_object_array_length(lines);
    d = json_object_new_object();
    ids = json_object_new_array();
    arr = json_object_new_array();
    if (!d || !ids || !arr) {
        rc = SV_ENOMEM;
        goto out;
    }
    /* Only the first `limit` lines are analysed, whatever the router sent. */
    for (size_t i = 0; i < n && i < (size_t)limit; i++) {
        json_object *e = json_object_array_get_idx(lines, i);
        const char *msg = NULL, *level = NULL, *tid = NULL, *ts = NULL;
        int64_t ts_ms = 0;
        if (e && json_object_is_type(e, json_type_string)) {
            msg = json_object_get_string(e);
        } else if (e && json_object_is_type(e, json_type_object)) {
            msg = it_json_str(e, "message");
            level = it_json_str(e, "level");
            tid = it_json_str(e, "trace_id");
            ts = it_json_str(e, "ts");
        }
        /* A line with nothing to say is no error line. */
        if (!msg || msg[strspn(msg, " \t\r\n")] == '\0')
            continue;
        if (!it_level_is_error(level)) {
            /* Not an error, but a deploy announced in the logs is evidence. */
            quiet_lines++;
            it_text_lower(msg, low, sizeof low);
            if (it_cause_matches(IT_CAUSE_DEPLOY, low) && deploy_lines++ == 0)
                it_text_line(msg, deploy_sample, sizeof deploy_sample);
            continue;
        }
        /* The time of a line weighs it by recency (it_fusion.c). */
        int has_ts = ts && it_time_parse(ts, &ts_ms) == 0;
        if ((rc = it_groups_add_ts(&g, msg, ts_ms, has_ts)) < 0)
            goto out;
        it_trace_id_add(ids, tid);
    }
    it_groups_rank(&g);
    for (size_t i = 0; i < g.n && i < IT_MAX_GROUPS_KEPT; i++) {
        json_object *o = json_object_new_object();
        if (!o) {
            rc = SV_ENOMEM;
            goto out;
        }
        json_object_object_add(o, "sig", json_object_new_string(g.v[i].sig));
        json_object_object_add(o, "count", json_object_new_int64(g.v[i].count));
        json_object_object_add(o, "sample", json_object_new_string(g.v[i].sample));
        json_object_object_add(o, "ts_n", json_object_new_int64(g.v[i].ts_n));
        json_object_object_add(
            o, "ts_mean", json_object_new_int64(g.v[i].ts_n ? g.v[i].ts_sum / g.v[i].ts_n : 0));
        json_object_array_add(arr, o);
    }
    json_object *tot = it_json_get(data, "total", json_type_int);
    int64_t total = tot ? json_object_get_int64(tot) : 0;
    if (total < (int64_t)n)
        total = (int64_t)n;
    json_object_object_add(d, "total", json_object_new_int64(total));
    json_object_object_add(d, "analysed", json_object_new_int64(g.lines));
    json_object_object_add(d, "groups_total", json_object_new_int64((int64_t)g.n));
    json_object_object_add(d, "quiet_lines", json_object_new_int64(quiet_lines));
    json_object_object_add(d, "deploy_lines", json_object_new_int64(deploy_lines));
    json_object_object_add(d, "deploy_sample", json_object_new_string(deploy_sample));
    json_object_object_add(d, "groups", arr);
    json_object_object_add(d, "trace_ids", ids);
    arr = ids = NULL;
    *out = d;
    d = NULL;
out:
    it_groups_free(&g);
    json_object_put(arr);
    json_object_put(ids);
    json_object_put(d);
    return rc;
}
