/*
 * ctl_events.c - see ctl_events.h.
 *
 * Each event is printed as one line of JSON, its sequence number first
 * ({"seq":N,"ts",...}), flushed at once so a pipe sees it live.  --follow
 * reads the stream and, when the connection drops before the run's end,
 * reconnects with Last-Event-ID as a browser would: nothing is printed
 * twice, nothing is skipped.  The run's end is a last line
 * {"end":{"run_id","status","result","error",...}}.
 */
#include "ctl_events.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EV_OK = 0, EV_RUN_FAILED = 1, EV_USAGE = 2, EV_API = 3, EV_NO_ANSWER = 4 };

#define SV_CTL_RECONNECT_MAX 30 /* tries in a row without an answer */

typedef struct follow {
    char *line; /* the event being read */
    size_t len, cap;
    char id[32], type[64];
    char *data;
    size_t dlen;
    long long last; /* id of the last event printed; -1 none */
    int ended;      /* "end" seen: the final status in status */
    char status[32];
    int oom;
} follow;

/* Print one event's data as a JSON line with its sequence number. */
static void print_event(long long seq, const char *data)
{
    if (seq >= 0 && data[0] == '{')
        printf("{\"seq\":%lld%s%s\n", seq, data[1] == '}' ? "" : ",", data + 1);
    else
        printf("%s\n", data);
    fflush(stdout);
}

static void dispatch(follow *f)
{
    if (!f->data) {
        f->id[0] = f->type[0] = '\0';
        return;
    }
    long long id = f->id[0] ? atoll(f->id) : -1;
    if (strcmp(f->type, "end") == 0) {
        json_object *o = json_tokener_parse(f->data);
        json_object *st = NULL;
        if (o && json_object_object_get_ex(o, "status", &st))
            snprintf(f->status, sizeof f->status, "%s", json_object_get_string(st));
        printf("{\"end\":%s}\n", f->data);
        fflush(stdout);
        json_object_put(o);
        f->ended = 1;
    } else if (strcmp(f->type, "error") == 0 || strcmp(f->type, "dropped") == 0) {
        printf("{\"%s\":%s}\n", f->type, f->data);
        fflush(stdout);
    } else {
        print_event(id, f->data);
    }
    if (id >= 0)
        f->last = id;
    free(f->data);
    f->data = NULL;
    f->dlen = 0;
    f->id[0] = f->type[0] = '\0';
}

/* One line of the stream (without its end of line). */
static void on_line(follow *f, const char *l, size_t n)
{
    if (n == 0) {
        dispatch(f);
        return;
    }
    if (l[0] == ':')
        return; /* a comment: the heartbeat */
    const char *colon = memchr(l, ':', n);
    size_t fl = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    if (v < l + n && *v == ' ')
        v++;
    size_t vl = (size_t)(l + n - v);
    if (fl == 2 && !memcmp(l, "id", 2)) {
        snprintf(f->id, sizeof f->id, "%.*s", (int)vl, v);
    } else if (fl == 5 && !memcmp(l, "event", 5)) {
        snprintf(f->type, sizeof f->type, "%.*s", (int)vl, v);
    } else if (fl == 4 && !memcmp(l, "data", 4)) {
        char *d = realloc(f->data, f->dlen + vl + 2);
        if (!d) {
            f->oom = 1;
            return;
        }
        if (f->dlen)
            d[f->dlen++] = '\n';
        memcpy(d + f->dlen, v, vl);
        f->dlen += vl;
        d[f->dlen] = '\0';
        f->data = d;
    }
}

static size_t on_stream(char *ptr, size_t size, size_t nmemb, void *arg)
{
    follow *f = arg;
    size_t n = size * nmemb;
    for (size_t i = 0; i < n; i++) {
        char ch = ptr[i];
        if (ch == '\n') {
            size_t len = f->len && f->line[f->len - 1] == '\r' ? f->len - 1 : f->len;
            on_line(f, f->line ? f->line : "", len);
            f->len = 0;
            continue;
        }
        if (f->len + 1 >= f->cap) {
            size_t cap = f->cap ? f->cap * 2 : 4096;
            char *p = realloc(f->line, cap);
            if (!p)
                return 0;
            f->line = p;
            f->cap = cap;
        }
        f->line[f->len++] = ch;
    }
    return f->oom ? 0 : n;
}

/* --follow: the stream, again from the last id after a drop. */
static int follow_run(const sv_ctl *c, const char *run_id, long long since)
{
    char url[1024], auth[600], last[64];
    follow f = {.last = since - 1};
    int rc = EV_OK, fails = 0;
    long status = 0;
    snprintf(url, sizeof url, "%s/v1/runs/%s/events", c->base, run_id);
    while (!f.ended) {
        CURL *h = curl_easy_init();
        struct curl_slist *hdr = curl_slist_append(NULL, "Accept: text/event-stream");
        if (c->key) {
            snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->key);
            hdr = curl_slist_append(hdr, auth);
        }
        if (f.last >= 0) {
            snprintf(last, sizeof last, "Last-Event-ID: %lld", f.last);
            hdr = curl_slist_append(hdr, last);
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_stream);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
        /* heartbeats come every SSE_HEARTBEAT_SEC: a minute of silence is
         * a dead connection */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        f.len = 0;
        CURLcode cc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(h);
        free(f.data); /* an event cut short comes again after the reconnect */
        f.data = NULL;
        f.dlen = 0;
        f.id[0] = f.type[0] = '\0';
        if (status >= 400) {
            /* the error body was read as stream text: ask again for its JSON */
            sv_ctl_resp r;
            char path[256], why[1600];
            snprintf(path, sizeof path, "/v1/runs/%s/events?limit=1", run_id);
            if (sv_ctl_request(c, "GET", path, NULL, &r) == 0 && r.status >= 400) {
                sv_ctl_describe(&r, why, sizeof why);
            } else {
                snprintf(why, sizeof why, "HTTP %ld", status);
            }
            sv_ctl_resp_free(&r);
            fprintf(stderr, "sofiia-ctl: %s\n", why);
            rc = EV_API;
            break;
        }
        if (f.ended)
            break;
        if (cc != CURLE_OK && status == 0 && ++fails >= SV_CTL_RECONNECT_MAX) {
            fprintf(stderr, "sofiia-ctl: %s: %s\n", url, curl_easy_strerror(cc));
            rc = EV_NO_ANSWER;
            break;
        }
        if (status != 0)
            fails = 0;
        struct timespec ts = {1, 0}; /* as the stream's retry: asks */
        nanosleep(&ts, NULL);
    }
    if (f.ended && strcmp(f.status, "succeeded") != 0)
        rc = EV_RUN_FAILED;
    free(f.line);
    free(f.data);
    return rc;
}

/* Without --follow: every page from since on, then exit. */
static int list_events(const sv_ctl *c, const char *run_id, long long since)
{
    char path[256], why[1600];
    for (;;) {
        sv_ctl_resp r;
        snprintf(path, sizeof path, "/v1/runs/%s/events?since=%lld", run_id, since);
        if (sv_ctl_request(c, "GET", path, NULL, &r) < 0) {
            fprintf(stderr, "sofiia-ctl: %s\n", r.error);
            sv_ctl_resp_free(&r);
            return EV_NO_ANSWER;
        }
        if (r.status != 200) {
            sv_ctl_describe(&r, why, sizeof why);
            fprintf(stderr, "sofiia-ctl: %s\n", why);
            sv_ctl_resp_free(&r);
            return EV_API;
        }
        json_object *ev = NULL, *next = NULL, *missed = NULL;
        json_object_object_get_ex(r.json, "events", &ev);
        json_object_object_get_ex(r.json, "next", &next);
        json_object_object_get_ex(r.json, "missed", &missed);
        if (json_object_get_int64(missed) > 0)
            printf("{\"dropped\":{\"missed\":%lld}}\n", (long long)json_object_get_int64(missed));
        size_t n = json_object_is_type(ev, json_type_array) ? json_object_array_length(ev) : 0;
        for (size_t i = 0; i < n; i++)
            printf("%s\n", json_object_to_json_string_ext(json_object_array_get_idx(ev, i),
                                                          JSON_C_TO_STRING_PLAIN |
                                                              JSON_C_TO_STRING_NOSLASHESCAPE));
        long long nx = json_object_get_int64(next);
        sv_ctl_resp_free(&r);
        if (n == 0 || nx <= since)
            break;
        since = nx;
    }
    fflush(stdout);
    return EV_OK;
}

int sv_ctl_events(const sv_ctl *c, int argc, char **argv)
{
    const char *run_id = NULL;
    int follow_it = 0;
    long long since = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--follow") == 0) {
            follow_it = 1;
        } else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc) {
            char *end = NULL;
            since = strtoll(argv[++i], &end, 10);
            if (!*argv[i] || *end || since < 0) {
                fprintf(stderr, "sofiia-ctl: --since takes a whole number >= 0\n");
                return EV_USAGE;
            }
        } else if (argv[i][0] != '-' && !run_id) {
            run_id = argv[i];
        } else {
            fprintf(stderr, "sofiia-ctl: events: unexpected argument \"%s\"\n", argv[i]);
            return EV_USAGE;
        }
    }
    if (!run_id || strlen(run_id) > 128 ||
        strspn(run_id, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(run_id)) {
        fprintf(stderr, "sofiia-ctl: events takes a run id (gr_...) [--follow] [--since N]\n");
        return EV_USAGE;
    }
    return follow_it ? follow_run(c, run_id, since) : list_events(c, run_id, since);
}
