/*
 * api_runs.c - the run endpoints that are about keeping and finding runs
 * rather than executing them: GET /v1/runs in pages (a cursor), POST
 * /v1/runs/{id}/retain, and a run view's "expires_at" (docs/api.md).
 *
 * A cursor is the listing position of the last run a page examined (its
 * created_us and id, store.h sv_run_pos), as hex of "CREATED_US.RUN_ID"
 * followed by 8 hex digits of an FNV-1a checksum of that text.  Opaque to
 * callers; the checksum catches a cut or altered one (a 400, not a page from
 * somewhere else), it is no secret: a forged cursor only starts a listing
 * elsewhere, and the filters and the key's workspaces apply all the same.
 */
#include "api_internal.h"
#include "auth.h"
#include "json_strict.h"
#include "json_text.h"
#include "log.h"
#include "run.h"
#include "run_fsm.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_LIST_DEFAULT 50
#define SV_LIST_MAX 1000
#define SV_LIST_SCAN 10000 /* runs a filtered page examines at most (summaries parsed) */
#define SV_CURSOR_MAX (2 * (20 + 1 + SV_RUN_POS_ID_MAX) + 8)

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static void cursor_make(const sv_run_pos *p, char out[SV_CURSOR_MAX + 1])
{
    char plain[24 + SV_RUN_POS_ID_MAX + 1];
    int n = snprintf(plain, sizeof plain, "%" PRId64 ".%s", p->created_us, p->id);
    size_t o = 0;
    for (int i = 0; i < n && o + 2 <= SV_CURSOR_MAX - 8; i++, o += 2)
        snprintf(out + o, 3, "%02x", (unsigned char)plain[i]);
    snprintf(out + o, 9, "%08" PRIx32, fnv1a(plain, (size_t)n));
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* 0 and *p, or -EINVAL for anything cursor_make could not have made. */
static int cursor_parse(const char *s, sv_run_pos *p)
{
    char plain[24 + SV_RUN_POS_ID_MAX + 1], *end = NULL;
    size_t len = strlen(s);
    if (len < 8 + 4 || len > SV_CURSOR_MAX || (len - 8) % 2)
        return -EINVAL;
    size_t n = (len - 8) / 2;
    if (n >= sizeof plain)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return -EINVAL;
        plain[i] = (char)(hi << 4 | lo);
    }
    plain[n] = '\0';
    uint32_t sum = 0;
    for (size_t i = len - 8; i < len; i++) {
        int v = hexval(s[i]);
        if (v < 0)
            return -EINVAL;
        sum = sum << 4 | (uint32_t)v;
    }
    if (sum != fnv1a(plain, n) || plain[0] < '0' || plain[0] > '9')
        return -EINVAL;
    errno = 0;
    long long us = strtoll(plain, &end, 10);
    if (errno || *end != '.' || us < 0 || !sv_run_id_valid(end + 1) ||
        strlen(end + 1) > SV_RUN_POS_ID_MAX)
        return -EINVAL;
    p->created_us = us;
    snprintf(p->id, sizeof p->id, "%s", end + 1);
    return 0;
}

typedef struct list_filter {
    const char *graph, *status, *workspace_id; /* NULL: any */
    const sv_auth_key *key;                    /* only its workspaces' runs */
    long limit;
} list_filter;

static int list_match(const list_filter *f, json_object *s)
{
    return s && json_object_is_type(s, json_type_object) &&
           (!f->graph || strcmp(sv_api_str(s, "graph"), f->graph) == 0) &&
           (!f->status || strcmp(sv_api_str(s, "status"), f->status) == 0) &&
           (!f->workspace_id || strcmp(sv_api_str(s, "workspace_id"), f->workspace_id) == 0) &&
           sv_auth_allows(f->key, sv_api_str(s, "workspace_id"));
}

/*
 * One page: the store's summaries below `after`, `want` at most, into arr
 * while they match and arr is short of the limit.  *next gets the position
 * to go on from, or stays unset (*more 0) when the store has nothing past
 * what was examined.
 */
static int list_page(sv_api *api, const sv_run_pos *after, size_t want, const list_filter *f,
                     json_object *arr, sv_run_pos *next, int *more)
{
    sv_strvec sums = {0};
    sv_run_pos *pos = NULL;
    size_t i = 0;
    *more = 0;
    int rc = api->store->ops->run_summaries_after(api->store, after, want, &sums, &pos);
    for (; rc == 0 && i < sums.n; i++) {
        json_object *s = json_tokener_parse(sums.v[i]);
        if (list_match(f, s)) {
            json_object_array_add(arr, s);
            s = NULL;
        }
        json_object_put(s);
        if ((long)json_object_array_length(arr) == f->limit)
            break;
    }
    if (rc == 0 && sums.n > 0) {
        /* Full with runs left examined, or the store's window spent: there
         * may be more. */
        size_t last = i < sums.n ? i : sums.n - 1;
        if (last + 1 < sums.n || sums.n == want) {
            *next = pos[last];
            *more = 1;
        }
    }
    sv_strvec_free(&sums);
    free(pos);
    return rc;
}

void sv_api_list_runs(sv_api *api, const sv_req *req, sv_resp *resp)
{
    static const char *const allowed[] = {"graph", "status", "workspace_id",
                                          "limit", "cursor", NULL};
    char bad[64];
    if (sv_req_unknown_query(req, allowed, bad, sizeof bad)) {
        char msg[192];
        snprintf(msg, sizeof msg,
                 "unknown query parameter \"%s\"; allowed: graph, status, workspace_id, limit, "
                 "cursor",
                 bad);
        sv_resp_error(resp, 400, "invalid_request", msg, bad);
        return;
    }
    list_filter f = {.graph = sv_req_query(req, "graph"),
                     .status = sv_req_query(req, "status"),
                     .workspace_id = sv_req_query(req, "workspace_id"),
                     .key = req->key,
                     .limit = SV_LIST_DEFAULT};
    const char *lim = sv_req_query(req, "limit"), *cur = sv_req_query(req, "cursor");
    sv_run_pos after, next;
    if (f.status && sv_run_status_parse(f.status) < 0) {
        sv_resp_error(resp, 400, "invalid_request",
                      "status must be one of queued, running, succeeded, failed, cancelled",
                      "status");
        return;
    }
    if (lim) {
        char *end = NULL;
        f.limit = strtol(lim, &end, 10);
        if (!*lim || *end || f.limit < 1 || f.limit > SV_LIST_MAX) {
            sv_resp_error(resp, 400, "invalid_request", "limit must be a whole number 1..1000",
                          "limit");
            return;
        }
    }
    if (cur && cursor_parse(cur, &after) < 0) {
        sv_resp_error(resp, 400, "invalid_request",
                      "cursor is not one this API made: pass the \"next\" of the previous page "
                      "unchanged, or leave cursor out to start from the newest run",
                      "cursor");
        return;
    }
    /* Unfiltered, one more than the limit tells whether there is a next
     * page; filtered, a bounded window is examined per page. */
    int filtered = f.graph || f.status || f.workspace_id || sv_auth_limited(f.key), more = 0;
    size_t want = filtered ? SV_LIST_SCAN : (size_t)f.limit + 1;
    json_object *arr = json_object_new_array();
    int rc = list_page(api, cur ? &after : NULL, want, &f, arr, &next, &more);
    if (rc < 0) {
        json_object_put(arr);
        sv_api_store_down(resp, rc);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "runs", arr);
    char c[SV_CURSOR_MAX + 1];
    if (more)
        cursor_make(&next, c);
    json_object_object_add(o, "next", more ? json_object_new_string(c) : NULL);
    sv_api_reply(resp, 200, o);
}

static void add_expiry(sv_api *api, const char *id, char buf[SV_TS_LEN], int *ok)
{
    int64_t ms = 0;
    *ok = api->store->ops->run_expiry && api->store->ops->run_expiry(api->store, id, &ms) == 0 &&
          ms > 0 && ms < INT64_MAX / 1000;
    if (*ok)
        sv_format_ts(ms * 1000, buf);
}

void sv_api_add_expiry(sv_api *api, const char *id, json_object *view)
{
    char ts[SV_TS_LEN];
    int ok = 0;
    add_expiry(api, id, ts, &ok);
    if (ok)
        json_object_object_add(view, "expires_at", json_object_new_string(ts));
}

void sv_api_add_expiry_text(sv_api *api, const char *id, char **text)
{
    char ts[SV_TS_LEN];
    int ok = 0;
    size_t n = *text ? strlen(*text) : 0;
    if (n < 2 || (*text)[n - 1] != '}')
        return;
    add_expiry(api, id, ts, &ok);
    if (!ok)
        return;
    /* The view's text is an object with members (it has run_id). */
    char *t = realloc(*text, n + sizeof ",\"expires_at\":\"\"" + SV_TS_LEN);
    if (!t)
        return;
    snprintf(t + n - 1, sizeof ",\"expires_at\":\"\"}" + SV_TS_LEN, ",\"expires_at\":\"%s\"}", ts);
    *text = t;
}

/* ttl_sec of a retain body: 0, or -EINVAL with the 400 in resp. */
static int retain_body(const sv_req *req, int64_t max, int64_t *ttl, sv_resp *resp)
{
    char why[320], field[160], msg[400];
    json_object *o = NULL, *v = NULL;
    int rc = -EINVAL;
    snprintf(msg, sizeof msg,
             "ttl_sec must be a whole number of seconds 1..%lld (RUN_RETAIN_MAX_SEC)",
             (long long)max);
    if (req->body_len == 0) {
        sv_resp_error(resp, 400, "invalid_json",
                      "the request body is empty: send a JSON object {\"ttl_sec\": N}", NULL);
        return -EINVAL;
    }
    int prc =
        sv_json_parse_strict(req->body, req->body_len, &o, why, sizeof why, field, sizeof field);
    if (prc == -ENOMEM) {
        sv_resp_error(resp, 500, "internal", "out of memory", NULL);
        return prc;
    }
    if (prc < 0) {
        char m[400];
        snprintf(m, sizeof m, "the body is not valid JSON (%s)", why);
        sv_resp_error(resp, 400, "invalid_json", m, field[0] ? field : NULL);
        return -EINVAL;
    }
    if (!json_object_is_type(o, json_type_object)) {
        sv_resp_error(resp, 400, "invalid_json", "the body must be a JSON object {\"ttl_sec\": N}",
                      NULL);
        goto out;
    }
    json_object_object_foreach(o, key, val)
    {
        (void)val;
        if (strcmp(key, "ttl_sec") != 0) {
            char m[192];
            snprintf(m, sizeof m, "unknown field \"%.64s\"; allowed: ttl_sec", key);
            sv_resp_error(resp, 400, "invalid_request", m, key);
            goto out;
        }
    }
    if (!json_object_object_get_ex(o, "ttl_sec", &v) || !v) {
        char m[440];
        snprintf(m, sizeof m, "\"ttl_sec\" is required: %s", msg);
        sv_resp_error(resp, 400, "invalid_request", m, "ttl_sec");
        goto out;
    }
    if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1 ||
        json_object_get_int64(v) > max) {
        sv_resp_error(resp, 400, "invalid_request", msg, "ttl_sec");
        goto out;
    }
    *ttl = json_object_get_int64(v);
    rc = 0;
out:
    json_object_put(o);
    return rc;
}

static void retain_log(const char *id, const sv_req *req, int64_t ttl, const char *until)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "run_id", json_object_new_string(id));
    if (req->key)
        json_object_object_add(f, "key_id", json_object_new_string(req->key->id));
    json_object_object_add(f, "ttl_sec", json_object_new_int64(ttl));
    json_object_object_add(f, "expires_at", json_object_new_string(until));
    sv_log(SV_LEVEL_INFO, "run retained", f);
}

void sv_api_retain(sv_api *api, const sv_req *req, const char *id, sv_resp *resp)
{
    char ws[SV_ID_MAX + 1], msg[192], ts[SV_TS_LEN];
    sv_run_status st = SV_RUN_QUEUED;
    int64_t ttl = 0, until = 0;
    if (retain_body(req, api->cfg->run_retain_max_sec, &ttl, resp) < 0)
        return;
    int rc = sv_run_id_valid(id) ? sv_run_lookup(api->store, id, &st, ws, sizeof ws) : -ENOENT;
    if (rc == 0 && !sv_auth_allows(req->key, ws))
        rc = -ENOENT; /* another workspace's run: answered as if it did not exist */
    if (rc == 0)
        rc = api->store->ops->run_retain ? api->store->ops->run_retain(api->store, id, ttl, &until)
                                         : -ENOTSUP;
    if (rc == -ENOENT) {
        snprintf(msg, sizeof msg, "no run with id \"%.40s\" (runs expire after RUN_TTL_SEC)", id);
        sv_resp_error(resp, 404, "run_not_found", msg, NULL);
        return;
    }
    if (rc < 0) {
        sv_api_store_down(resp, rc);
        return;
    }
    int64_t left_ms = until - sv_now_ms();
    sv_format_ts(until * 1000, ts);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "run_id", json_object_new_string(id));
    json_object_object_add(o, "status", json_object_new_string(sv_run_status_name(st)));
    json_object_object_add(o, "ttl_sec",
                           json_object_new_int64(left_ms > 0 ? (left_ms + 500) / 1000 : 0));
    json_object_object_add(o, "expires_at", json_object_new_string(ts));
    retain_log(id, req, ttl, ts);
    sv_api_reply(resp, 200, o);
}
