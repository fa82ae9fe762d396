/*
 * gateway_http.c - one HTTP attempt of a tool call.  Each thread keeps a curl
 * multi handle and one easy handle, so keep-alive connections to the router
 * are reused across that thread's calls; the transfer is driven with
 * curl_multi_poll in short slices so a cancel or a deadline stops it fast.
 */
#include "gateway_http.h"
#include "pool.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sv_gw_tls {
    CURLM *multi;
    CURL *easy;
};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key;
static int g_init_rc;
/* One connection cache (and DNS cache) for every thread's handles: pool
 * threads come and go with the load (pool.h), and a keep-alive connection
 * to the router must outlive the thread that opened it. */
static CURLSH *g_share;
static pthread_mutex_t g_share_lock[CURL_LOCK_DATA_LAST];

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)h;
    (void)access;
    (void)arg;
    pthread_mutex_lock(&g_share_lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    (void)h;
    (void)arg;
    pthread_mutex_unlock(&g_share_lock[data]);
}
static _Thread_local struct sv_gw_tls *tl;

static void tls_free(void *p)
{
    struct sv_gw_tls *t = p;
    if (!t)
        return;
    if (t->multi && t->easy)
        curl_multi_remove_handle(t->multi, t->easy);
    curl_easy_cleanup(t->easy);
    curl_multi_cleanup(t->multi);
    free(t);
}

static void global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        g_init_rc = -EIO;
        return;
    }
    /* The key's destructor frees the handles of a thread that exits without
     * calling sv_gateway_thread_cleanup(). */
    if (pthread_key_create(&g_key, tls_free) != 0) {
        g_init_rc = -EAGAIN;
        return;
    }
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&g_share_lock[i], NULL);
    g_share = curl_share_init();
    if (!g_share || curl_share_setopt(g_share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
        curl_share_setopt(g_share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
        curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK ||
        curl_share_setopt(g_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK)
        g_init_rc = -ENOMEM;
}

int sv_gw_http_global_init(void)
{
    pthread_once(&g_once, global_init);
    return g_init_rc;
}

void sv_gw_http_thread_cleanup(void)
{
    if (!tl)
        return;
    pthread_setspecific(g_key, NULL);
    tls_free(tl);
    tl = NULL;
}

static struct sv_gw_tls *tls_get(void)
{
    if (tl)
        return tl;
    struct sv_gw_tls *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->multi = curl_multi_init();
    t->easy = curl_easy_init();
    /* The cache is the shared one: its bound is the multi handle's, which
     * by default is 4 connections per handle added, so with one handle per
     * thread every call past the fourth in flight would open and close a
     * connection of its own. */
    if (t->multi)
        curl_multi_setopt(t->multi, CURLMOPT_MAXCONNECTS, (long)SV_GW_MAX_CONNS);
    if (!t->multi || !t->easy || pthread_setspecific(g_key, t) != 0) {
        tls_free(t);
        return NULL;
    }
    tl = t;
    return tl;
}

int sv_gw_http_headers(struct sv_gw_xfer *x, const char *auth, const char *call_id,
                       const char *traceparent)
{
    int rc = -ENOMEM;
    char *rid = NULL;
    struct curl_slist *h = NULL, *n;

    if (!(n = curl_slist_append(h, "Content-Type: application/json")))
        goto out;
    h = n;
    /* curl would otherwise wait for "100 Continue" before a large body. */
    if (!(n = curl_slist_append(h, "Expect:")))
        goto out;
    h = n;
    if (auth) {
        if (!(n = curl_slist_append(h, auth)))
            goto out;
        h = n;
    }
    if (call_id) {
        if (asprintf(&rid, "X-Request-Id: %s", call_id) < 0) {
            rid = NULL;
            goto out;
        }
        if (!(n = curl_slist_append(h, rid)))
            goto out;
        h = n;
    }
    if (traceparent) {
        char tp[128];
        snprintf(tp, sizeof tp, "traceparent: %s", traceparent);
        if (!(n = curl_slist_append(h, tp)))
            goto out;
        h = n;
    }
    x->headers = h;
    h = NULL;
    rc = 0;
out:
    free(rid);
    curl_slist_free_all(h);
    return rc;
}

void sv_gw_http_xfer_free(struct sv_gw_xfer *x)
{
    curl_slist_free_all(x->headers);
    free(x->resp);
    memset(x, 0, sizeof *x);
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct sv_gw_xfer *x = arg;
    size_t len = size * n;
    if (len > SV_GW_MAX_RESPONSE - x->resp_len) {
        x->overflow = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (x->resp_len + len + 1 > x->resp_cap) {
        size_t cap = x->resp_cap ? x->resp_cap : 4096;
        while (cap < x->resp_len + len + 1)
            cap *= 2;
        char *b = realloc(x->resp, cap);
        if (!b)
            return 0;
        x->resp = b;
        x->resp_cap = cap;
    }
    memcpy(x->resp + x->resp_len, p, len);
    x->resp_len += len;
    x->resp[x->resp_len] = '\0';
    return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct sv_gw_xfer *x = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len >= 5 && strncasecmp(p, "HTTP/", 5) == 0) {
        /* A new status line: forget headers of an interim answer. */
        x->retry_after[0] = '\0';
    } else if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        const char *v = p + sizeof name - 1;
        size_t vlen = len - (sizeof name - 1);
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen > 0 && strchr(" \t\r\n", v[vlen - 1]))
            vlen--;
        if (vlen >= sizeof x->retry_after)
            vlen = sizeof x->retry_after - 1;
        memcpy(x->retry_after, v, vlen);
        x->retry_after[vlen] = '\0';
    }
    return len;
}

static int setup(CURL *e, const char *url, const char *body, size_t len, struct sv_gw_xfer *x)
{
    /* Reset keeps the connection cache (it lives in the multi handle). */
    curl_easy_reset(e);
    if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POST, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_USERAGENT, "sofiia-supervisor") != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_SHARE, g_share) != CURLE_OK)
        return -EINVAL;
    return 0;
}

static int stop_now(int64_t end_ms, int64_t deadline_ms, atomic_int *cancel,
                    enum sv_gw_xfer_end *why)
{
    int64_t now = sv_mono_ms();
    if ((cancel && atomic_load(cancel)) || (deadline_ms > 0 && now >= deadline_ms))
        *why = SV_GW_XFER_CANCELLED;
    else if (now >= end_ms)
        *why = SV_GW_XFER_TIMEOUT;
    else
        return 0;
    return 1;
}

void sv_gw_http_perform(const char *url, const char *body, size_t len, int64_t end_ms,
                        int64_t deadline_ms, atomic_int *cancel, struct sv_gw_xfer *x)
{
    int64_t start = sv_mono_ms();
    struct sv_gw_tls *t = tls_get();
    int running = 1, added = 0;

    x->resp_len = 0;
    if (x->resp)
        x->resp[0] = '\0';
    x->overflow = 0;
    x->retry_after[0] = '\0';
    x->end = SV_GW_XFER_DONE;
    x->cc = CURLE_OK;
    x->http = 0;
    if (!t) {
        x->cc = CURLE_OUT_OF_MEMORY;
        goto out;
    }
    if (setup(t->easy, url, body, len, x) < 0 || curl_multi_add_handle(t->multi, t->easy)) {
        x->cc = CURLE_FAILED_INIT;
        goto out;
    }
    added = 1;
    /* Waiting on the router holds no CPU slot (pool.h). */
    sv_pool_block_begin(SV_POOL_WAIT_ROUTER);
    for (;;) {
        if (curl_multi_perform(t->multi, &running) != CURLM_OK) {
            x->cc = CURLE_FAILED_INIT;
            goto unblock;
        }
        if (!running)
            break;
        if (stop_now(end_ms, deadline_ms, cancel, &x->end))
            goto unblock;
        int64_t wait = end_ms - sv_mono_ms();
        if (wait > SV_GW_SLICE_MS)
            wait = SV_GW_SLICE_MS;
        if (wait < 1)
            wait = 1;
        if (curl_multi_poll(t->multi, NULL, 0, (int)wait, NULL) != CURLM_OK) {
            x->cc = CURLE_FAILED_INIT;
            goto unblock;
        }
    }
    sv_pool_block_end();
    /* Finished: the result is in the multi handle's message queue. */
    x->cc = CURLE_GOT_NOTHING;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(t->multi, &left)))
        if (m->msg == CURLMSG_DONE && m->easy_handle == t->easy)
            x->cc = m->data.result;
    if (x->cc == CURLE_OK)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &x->http);
    goto out;
unblock:
    sv_pool_block_end();
out:
    /* Removing a handle mid-transfer aborts it and closes its connection. */
    if (added)
        curl_multi_remove_handle(t->multi, t->easy);
    x->duration_ms = sv_mono_ms() - start;
}
