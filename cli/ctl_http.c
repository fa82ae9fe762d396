/* ctl_http.c - sofiia-ctl's requests to the API on libcurl. */
#include "ctl_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bodies above this are not the API's (a run view is at most a few MiB). */
#define SV_CTL_MAX_BODY (64L * 1024 * 1024)

typedef struct body {
    char *p;
    size_t n;
    int too_big;
} body;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    body *b = arg;
    size_t n = size * nmemb;
    if (b->n + n > (size_t)SV_CTL_MAX_BODY) {
        b->too_big = 1;
        return 0; /* curl stops the transfer */
    }
    char *p = realloc(b->p, b->n + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->n, ptr, n);
    b->p = p;
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

int sv_ctl_request(const sv_ctl *c, const char *method, const char *path, const char *body_text,
                   sv_ctl_resp *resp)
{
    int rc = 0;
    char url[1024], auth[600], idem[400];
    body b = {0};
    struct curl_slist *hdr = NULL;
    CURL *h = curl_easy_init();
    memset(resp, 0, sizeof *resp);
    if (!h) {
        snprintf(resp->error, sizeof resp->error, "cannot initialise libcurl");
        return -ENOMEM;
    }
    snprintf(url, sizeof url, "%s%s", c->base, path);
    hdr = curl_slist_append(hdr, "Accept: application/json");
    if (c->key) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->key);
        hdr = curl_slist_append(hdr, auth);
    }
    if (body_text) {
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        if (c->idem_key) {
            snprintf(idem, sizeof idem, "Idempotency-Key: %s", c->idem_key);
            hdr = curl_slist_append(hdr, idem);
        }
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body_text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body_text));
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        snprintf(resp->error, sizeof resp->error, "%s: %s", url,
                 b.too_big ? "answer larger than 64 MiB" : curl_easy_strerror(cc));
        rc = -EIO;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->json = b.p ? json_tokener_parse(b.p) : NULL;
out:
    free(b.p);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}

void sv_ctl_resp_free(sv_ctl_resp *resp)
{
    json_object_put(resp->json);
    resp->json = NULL;
}

/* The string at error.<name>, or error.details.<name> with details set. */
static const char *member(json_object *o, int details, const char *name)
{
    json_object *e = NULL, *d = NULL, *v = NULL;
    if (!json_object_object_get_ex(o, "error", &e))
        return NULL;
    if (details && !json_object_object_get_ex(e, "details", &d))
        return NULL;
    if (!json_object_object_get_ex(details ? d : e, name, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

void sv_ctl_describe(const sv_ctl_resp *resp, char *buf, size_t len)
{
    const char *code = member(resp->json, 0, "code");
    const char *msg = member(resp->json, 0, "message");
    const char *field = member(resp->json, 1, "field");
    if (!code) {
        snprintf(buf, len, "HTTP %ld with an answer that is not the API's", resp->status);
        return;
    }
    snprintf(buf, len, "%ld %s: %s%s%s%s", resp->status, code, msg ? msg : "",
             field ? " (field \"" : "", field ? field : "", field ? "\")" : "");
}
