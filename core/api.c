/* api.c - see api.h.  Handlers run on the HTTP thread and never block: every
 * store call is a memory access or one Redis round trip, and a request that
 * waits (?wait=) is parked, not held. */
#include "sv_build.h" /* PACKAGE_VERSION */

#include "api_internal.h"
#include "crash.h"
#include "auth.h"
#include "json_strict.h"
#include "json_text.h"
#include "log.h"
#include "metrics.h"
#include "run.h"
#include "run_fsm.h"
#include "schema.h"
#include "sse.h"
#include "ui.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SV_WAIT_MAX_SEC 60 /* longest ?wait= (proxies cut idle requests at about that) */

int sv_api_valid_id(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > SV_ID_MAX)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '.' || *s == ':' || *s == '-'))
            return 0;
    return 1;
}

static void reply(sv_resp *resp, int status, json_object *body)
{
    json_object_put(resp->body);
    resp->status = status;
    resp->body = body;
}

static void store_down(sv_resp *resp, int rc)
{
    char msg[160];
    if (rc == -ENOSPC) {
        sv_resp_error(resp, 503, "store_full",
                      "the run store is full (Redis refuses writes at its maxmemory); free "
                      "memory there or raise maxmemory, then try again",
                      NULL);
        return;
    }
    snprintf(msg, sizeof msg, "the run store is not answering (%s); try again", strerror(-rc));
    sv_resp_error(resp, 503, "store_unavailable", msg, NULL);
}

static void method_not_allowed(sv_resp *resp, const char *allow)
{
    char msg[96];
    snprintf(msg, sizeof msg, "this path accepts %s only", allow);
    sv_resp_error(resp, 405, "method_not_allowed", msg, NULL);
    snprintf(resp->allow, sizeof resp->allow, "%s", allow);
}

static void get_readyz(sv_api *api, sv_resp *resp)
{
    int rc = api->store->ops->ping(api->store);
    if (rc < 0) {
        store_down(resp, rc);
        return;
    }
    json_object *list = sv_registry_list(api->reg);
    json_object *graphs = json_object_object_get(list, "graphs");
    size_t n = json_object_array_length(graphs);
    json_object_put(list);
    if (!sv_registry_ready(api->reg) || n == 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "no graph is loaded from PLUGIN_DIR=%s", api->cfg->plugin_dir);
        sv_resp_error(resp, 503, "not_ready", msg, NULL);
        return;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ready"));
    json_object_object_add(o, "store", json_object_new_string(api->store->ops->name));
    json_object_object_add(o, "graphs", json_object_new_int((int)n));
    reply(resp, 200, o);
}

static void get_metrics(sv_api *api, sv_resp *resp)
{
    sv_metrics_src src = {.version = PACKAGE_VERSION,
                          .store = api->store,
                          .exec = api->exec,
                          .gw = api->gw,
                          .reg = api->reg,
                          .watch = api->watch,
                          .streams = (size_t)atomic_load(&api->streams)};
    src.runs_limit = api->cfg->max_runs_active;
    src.runs_refused = atomic_load(&api->runs_refused);
    if (sv_metrics_render(&src, &resp->text) < 0) {
        sv_resp_error(resp, 500, "internal", "out of memory", NULL);
        return;
    }
    resp->status = 200;
}

/* Parse a request body: any Content-Type, a JSON object, bounded nesting. */
static json_object *parse_body(const sv_req *req, sv_resp *resp)
{
    if (req->body_len == 0) {
        sv_resp_error(resp, 400, "invalid_json",
                      "the request body is empty: send a JSON object with workspace_id, "
                      "user_id, agent_id and input",
                      NULL);
        return NULL;
    }
    /* Strict JSON (CONTRACT §7): no duplicate keys, NaN, single quotes,
     * "\u0000", lone surrogates or invalid UTF-8 (json_strict.h). */
    json_object *o = NULL;
    char why[320], field[160], msg[400];
    int rc =
        sv_json_parse_strict(req->body, req->body_len, &o, why, sizeof why, field, sizeof field);
    if (rc == -ENOMEM) {
        sv_resp_error(resp, 500, "internal", "out of memory", NULL);
        return NULL;
    }
    if (rc < 0) {
        snprintf(msg, sizeof msg, "the body is not valid JSON (%s)", why);
        sv_resp_error(resp, 400, "invalid_json", msg, field[0] ? field : NULL);
        return NULL;
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        sv_resp_error(resp, 400, "invalid_json", "the body must be a JSON object", NULL);
        return NULL;
    }
    return o;
}

static const char *const g_start_keys[] = {"workspace_id", "user_id", "agent_id", "input", NULL};

/* The three caller ids; 0, or an error already in resp. */
static int check_start_body(json_object *body, sv_resp *resp)
{
    json_object_object_foreach(body, key, val)
    {
        (void)val;
        int known = 0;
        for (const char *const *k = g_start_keys; *k; k++)
            known |= strcmp(*k, key) == 0;
        if (!known) {
            char msg[256];
            snprintf(msg, sizeof msg,
                     "unknown field \"%.64s\"; allowed: workspace_id, user_id, agent_id, input",
                     key);
            sv_resp_error(resp, 400, "invalid_request", msg, key);
            return -EINVAL;
        }
    }
    for (int i = 0; i < 3; i++) {
        json_object *v = NULL;
        const char *k = g_start_keys[i];
        char msg[192];
        if (!json_object_object_get_ex(body, k, &v) || !v) {
            snprintf(msg, sizeof msg, "\"%s\" is required", k);
            sv_resp_error(resp, 400, "invalid_request", msg, k);
            return -EINVAL;
        }
        if (!json_object_is_type(v, json_type_string) ||
            !sv_api_valid_id(json_object_get_string(v))) {
            snprintf(msg, sizeof msg, "\"%s\" must be a string of 1-128 chars of [A-Za-z0-9_.:-]",
                     k);
            sv_resp_error(resp, 400, "invalid_request", msg, k);
            return -EINVAL;
        }
    }
    return 0;
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

/* An Idempotency-Key already used: answer with the first run, or a 409 when
 * the key came with a different request. */
/* Answer a start whose Idempotency-Key is claimed: the run it started, or
 * 409.  Returns 1, answering nothing, when the claim names a run that was
 * never stored (the store write of that start timed out, or its instance
 * died between the claim and the run): the caller may take the claim over. */
static int replay(sv_api *api, const char *claim, const char *fingerprint, const char *key,
                  sv_resp *resp)
{
    char run_id[SV_RUN_ID_LEN];
    const char *sp = strchr(claim, ' ');
    if (!sp || (size_t)(sp - claim) != SV_RUN_ID_LEN - 1 || strcmp(sp + 1, fingerprint) != 0) {
        char msg[384];
        snprintf(msg, sizeof msg,
                 "Idempotency-Key \"%.200s\" was already used with a different request in this "
                 "workspace",
                 key);
        sv_resp_error(resp, 409, "idempotency_key_reused", msg, NULL);
        return 0;
    }
    memcpy(run_id, claim, SV_RUN_ID_LEN - 1);
    run_id[SV_RUN_ID_LEN - 1] = '\0';
    json_object *view = NULL;
    int rc = sv_run_view(api->store, run_id, &view);
    if (rc == -ENOENT && api->store->ops->idem_swap)
        return 1;
    if (rc < 0) {
        if (rc == -ENOENT)
            sv_resp_error(resp, 409, "idempotency_key_reused",
                          "the run this Idempotency-Key started has expired", NULL);
        else
            store_down(resp, rc);
        return 0;
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "run_id", json_object_new_string(run_id));
    json_object_object_add(o, "status", json_object_get(json_object_object_get(view, "status")));
    json_object_object_add(o, "result", json_object_get(json_object_object_get(view, "result")));
    json_object_object_add(o, "trace_id",
                           json_object_get(json_object_object_get(view, "trace_id")));
    json_object_put(view);
    reply(resp, 202, o);
    snprintf(resp->extra_name, sizeof resp->extra_name, "Idempotent-Replayed");
    snprintf(resp->extra_value, sizeof resp->extra_value, "true");
    return 0;
}

static int valid_idem_key(const char *k)
{
    size_t n = strlen(k);
    if (n < 1 || n > 255)
        return 0;
    for (; *k; k++)
        if ((unsigned char)*k < 0x20 || (unsigned char)*k > 0x7e)
            return 0;
    return 1;
}

/* A 429's Retry-After: runs end at their own pace, so a guess that spreads
 * retries out rather than one that promises a place. */
#define SV_RETRY_AFTER_SEC 5

/*
 * Count a start against MAX_RUNS_ACTIVE (runs live here: queued, running or
 * waiting; and starts under way): 1 with a place held (api->admitting, given
 * back by the caller once the run is submitted or refused), or 0 with a 429
 * in resp.
 */
static int admit(sv_api *api, sv_resp *resp)
{
    long max = api->cfg->max_runs_active;
    long ahead = atomic_fetch_add(&api->admitting, 1);
    long live = (long)sv_exec_live(api->exec);
    if (max <= 0 || live + ahead < max)
        return 1;
    atomic_fetch_sub(&api->admitting, 1);
    atomic_fetch_add(&api->runs_refused, 1);
    char msg[256];
    snprintf(msg, sizeof msg,
             "this instance has %ld runs accepted and not yet finished (MAX_RUNS_ACTIVE=%ld); "
             "retry after %d s, or start the run on another instance",
             live, max, SV_RETRY_AFTER_SEC);
    sv_resp_error(resp, 429, "too_many_runs", msg, NULL);
    snprintf(resp->extra_name, sizeof resp->extra_name, "Retry-After");
    snprintf(resp->extra_value, sizeof resp->extra_value, "%d", SV_RETRY_AFTER_SEC);
    return 0;
}

static void post_run(sv_api *api, const sv_req *req, const char *name, sv_resp *resp)
{
    sv_graph_ent *e = NULL;
    json_object *body = NULL, *input = NULL;
    sv_run *r = NULL;
    char idem[512] = "";
    char fingerprint[65 + 160];
    int rc, admitted = 0;
    if (atomic_load(&api->stopping)) {
        /* a keep-alive connection may still bring a start while the daemon
         * drains: say so rather than accept a run that would never start */
        sv_resp_error(resp, 503, "shutting_down",
                      "the daemon is shutting down; start the run on another instance or retry",
                      NULL);
        goto out;
    }
    /* Full: refused before any work.  A start with an Idempotency-Key is
     * looked at first (below): a retry of an accepted start gets its run. */
    if (!sv_req_header(req, "Idempotency-Key") && !(admitted = admit(api, resp)))
        goto out;
    e = sv_registry_get(api->reg, name);
    if (!e) {
        char msg[256];
        snprintf(msg, sizeof msg, "no graph named \"%.64s\"; GET /v1/graphs lists them", name);
        sv_resp_error(resp, 404, "graph_not_found", msg, NULL);
        goto out;
    }
    long crashes = 0;
    if (sv_crash_quarantined(e->desc->name, e->desc->version, &crashes)) {
        char msg[320];
        snprintf(msg, sizeof msg,
                 "graph %.64s %.32s is quarantined: it crashed the daemon %ld times "
                 "(QUARANTINE_CRASHES); load another version",
                 e->desc->name, e->desc->version, crashes);
        sv_resp_error(resp, 503, "graph_quarantined", msg, NULL);
        goto out;
    }
    body = parse_body(req, resp);
    if (!body || check_start_body(body, resp) < 0)
        goto out;
    if (!sv_auth_allows(req->key, str_of(body, "workspace_id"))) {
        char msg[320];
        snprintf(msg, sizeof msg, "the key \"%s\" may not start runs in workspace \"%s\"",
                 req->key->id, str_of(body, "workspace_id"));
        sv_resp_error(resp, 403, "forbidden_workspace", msg, "workspace_id");
        goto out;
    }
    json_object *in = NULL;
    if (!json_object_object_get_ex(body, "input", &in) || !in) {
        input = json_object_new_object();
    } else if (!json_object_is_type(in, json_type_object)) {
        sv_resp_error(resp, 400, "invalid_input", "\"input\" must be a JSON object", "input");
        goto out;
    } else {
        /* Detach it from the body: the run owns it alone from here, and
         * json-c's reference counts are not atomic across threads. */
        input = json_object_get(in);
        json_object_object_del(body, "input");
    }
    sv_error err;
    memset(&err, 0, sizeof err);
    if (sv_schema_validate(e->schema, input, &err) < 0 ||
        (e->desc->prepare_input && e->desc->prepare_input(&e->host, input, &err) != SV_OK)) {
        sv_resp_error(resp, 400, err.code[0] ? err.code : "invalid_input",
                      err.message[0] ? err.message : "the input was refused by the graph",
                      err.field[0] ? err.field : "input");
        goto out;
    }
    const char *workspace = str_of(body, "workspace_id");
    const char *key = sv_req_header(req, "Idempotency-Key");
    if (key) {
        if (!valid_idem_key(key)) {
            sv_resp_error(resp, 400, "invalid_request",
                          "Idempotency-Key must be 1-255 printable ASCII characters", NULL);
            goto out;
        }
        /* The same key with the same request (the same bytes: a client's
         * retry resends them) is a retry; anything else is a client bug
         * worth a 409. */
        char hash[65];
        sv_sha256_hex(req->body, req->body_len, hash);
        snprintf(fingerprint, sizeof fingerprint, "%s:%s", name, hash);
        snprintf(idem, sizeof idem, "idem:%s:%s", workspace, key);
    }
    rc = sv_run_new(api->store, e, workspace, str_of(body, "user_id"), str_of(body, "agent_id"),
                    input, &r);
    input = NULL;
    if (rc < 0) {
        sv_resp_error(resp, 500, "internal", "cannot create the run", NULL);
        goto out;
    }
    /* The caller's W3C trace, when it sent a valid one (never an error). */
    sv_run_join_trace(r, sv_req_header(req, "traceparent"));
    if (idem[0]) {
        char value[SV_RUN_ID_LEN + sizeof fingerprint];
        char *existing = NULL;
        snprintf(value, sizeof value, "%s %s", r->id, fingerprint);
        rc = api->store->ops->idem_claim(api->store, idem, value, &existing);
        if (rc == -EEXIST && replay(api, existing, fingerprint, key, resp) == 1) {
            /* The claim's run was never stored: this start takes it over
             * (the same request, by its fingerprint), unless another did. */
            rc = api->store->ops->idem_swap(api->store, idem, existing, value);
            if (rc == -EEXIST || rc == -ENOENT || rc == -EBUSY) {
                sv_resp_error(resp, 503, "idempotency_key_busy",
                              "a start with this Idempotency-Key is being stored or its outcome "
                              "is not known yet; try again in a few seconds",
                              NULL);
                snprintf(resp->extra_name, sizeof resp->extra_name, "Retry-After");
                snprintf(resp->extra_value, sizeof resp->extra_value, "3");
                free(existing);
                goto out;
            }
        } else if (rc == -EEXIST) {
            free(existing);
            goto out;
        }
        free(existing);
        if (rc < 0) {
            store_down(resp, rc);
            goto out;
        }
    }
    if (!admitted && !(admitted = admit(api, resp))) {
        if (idem[0])
            api->store->ops->idem_release(api->store, idem);
        goto out;
    }
    rc = sv_exec_own(api->exec, r->id, 1);
    if (rc == 0) {
        rc = sv_run_store_create(r);
        if (rc < 0)
            sv_exec_own(api->exec, r->id, 0);
    }
    if (rc < 0) {
        if (idem[0])
            api->store->ops->idem_release(api->store, idem);
        store_down(resp, rc);
        goto out;
    }
    sv_exec_submit(api->exec, r);
    /* event streams of every run (GET /v1/events) hear of it now */
    sv_watch_notify(api->watch, r->id, 0);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "run_id", json_object_new_string(r->id));
    json_object_object_add(o, "status", json_object_new_string("queued"));
    json_object_object_add(o, "result", NULL);
    json_object_object_add(o, "trace_id", json_object_new_string(r->trace_id));
    reply(resp, 202, o);
out:
    if (admitted) /* submitted (counted live from now) or refused */
        atomic_fetch_sub(&api->admitting, 1);
    sv_run_unref(r);
    json_object_put(input);
    json_object_put(body);
    sv_graph_ent_unref(e);
}

/* A whole number in [lo, hi] from a query argument; -1 and a 400 if not. */
static int query_num(const sv_req *req, const char *name, long lo, long hi, long *out,
                     sv_resp *resp)
{
    const char *v = sv_req_query(req, name);
    char *end = NULL, msg[160];
    if (!v)
        return 0;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < lo || n > hi) {
        snprintf(msg, sizeof msg, "%s must be a whole number %ld..%ld", name, lo, hi);
        sv_resp_error(resp, 400, "invalid_request", msg, name);
        return -1;
    }
    *out = n;
    return 0;
}

/* Has the view what the waiting caller is waiting for? */
static int wait_over(json_object *view, long since)
{
    int s = sv_run_status_parse(str_of(view, "status"));
    if (s < 0 || sv_run_status_final((sv_run_status)s))
        return 1;
    if (since < 0)
        return 0;
    json_object *ev = NULL, *dropped = NULL;
    json_object_object_get_ex(view, "events", &ev);
    json_object_object_get_ex(view, "events_dropped", &dropped);
    return json_object_get_int64(dropped) + (int64_t)json_object_array_length(ev) > since;
}

/* GET /v1/runs/{id}[?wait=SEC[&since=N]]: with wait, a run not over (and
 * with no event past the first `since`) parks the request until it is, or
 * until SEC pass; each wake reads the view again. */
static void get_run(sv_api *api, const sv_req *req, const char *id, sv_resp *resp)
{
    static const char *const allowed[] = {"wait", "since", NULL};
    json_object *view = NULL;
    long wait_sec = 0, since = -1;
    char bad[64], msg[192];
    if (sv_req_unknown_query(req, allowed, bad, sizeof bad)) {
        snprintf(msg, sizeof msg, "unknown query parameter \"%s\"; allowed: wait, since", bad);
        sv_resp_error(resp, 400, "invalid_request", msg, bad);
        return;
    }
    if (query_num(req, "wait", 0, SV_WAIT_MAX_SEC, &wait_sec, resp) < 0 ||
        query_num(req, "since", 0, LONG_MAX, &since, resp) < 0)
        return;
    if (wait_sec == 0) {
        /* A plain read, what pollers send: the view as text, events spliced
         * in as stored (sv_run_view_text). */
        char ws[SV_ID_MAX + 1], *text = NULL;
        int rc =
            sv_run_id_valid(id) ? sv_run_view_text(api->store, id, &text, ws, sizeof ws) : -ENOENT;
        if (rc == 0 && !sv_auth_allows(req->key, ws)) {
            free(text); /* another workspace's run: answered as if it did not exist */
            text = NULL;
            rc = -ENOENT;
        }
        if (rc == -ENOENT) {
            snprintf(msg, sizeof msg, "no run with id \"%.40s\" (runs expire after RUN_TTL_SEC)",
                     id);
            sv_resp_error(resp, 404, "run_not_found", msg, NULL);
        } else if (rc < 0) {
            store_down(resp, rc);
        } else {
            sv_api_add_expiry_text(api, id, &text);
            resp->status = 200;
            resp->json_text = text;
        }
        return;
    }
    /* Read before the view, so a change between the two is not missed; a
     * plain read (no wait) needs none and takes no lock for it. */
    uint64_t mark =
        wait_sec > 0 && api->watch && sv_run_id_valid(id) ? sv_watch_mark(api->watch, id) : 0;
    int rc = sv_run_id_valid(id) ? sv_run_view(api->store, id, &view) : -ENOENT;
    if (rc == 0 && !sv_auth_allows(req->key, str_of(view, "workspace_id"))) {
        /* another workspace's run: answered as if it did not exist */
        json_object_put(view);
        view = NULL;
        rc = -ENOENT;
    }
    if (rc == -ENOENT) {
        snprintf(msg, sizeof msg, "no run with id \"%.40s\" (runs expire after RUN_TTL_SEC)", id);
        sv_resp_error(resp, 404, "run_not_found", msg, NULL);
        return;
    }
    if (rc < 0) {
        store_down(resp, rc);
        return;
    }
    if (wait_sec > 0 && api->watch && !atomic_load(&api->stopping) && !wait_over(view, since)) {
        int64_t now = sv_mono_ms();
        if (*req->park_deadline == 0)
            *req->park_deadline = now + wait_sec * 1000;
        if (now < *req->park_deadline) {
            /* Suspended before it is registered: a wake must find it parked. */
            sv_http_park(req, resp);
            /* With its socket: a client that hangs up is let go at once. */
            rc = sv_watch_add_fd(api->watch, id, req->conn, sv_req_socket(req),
                                 since >= 0 ? SV_WATCH_ANY : SV_WATCH_FINAL, *req->park_deadline,
                                 mark);
            if (rc == -EAGAIN) {
                sv_http_wake(req->conn); /* it changed meanwhile: look again */
            } else if (rc < 0) {
                /* stopping, the client gone, or no memory: answer when called again */
                *req->park_deadline = 1;
                sv_http_wake(req->conn);
            }
            json_object_put(view);
            return;
        }
    }
    sv_api_add_expiry(api, id, view);
    reply(resp, 200, view);
}

static void cancel_reply(sv_resp *resp, const char *id, int status, const char *s)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "run_id", json_object_new_string(id));
    json_object_object_add(o, "status", json_object_new_string(s));
    reply(resp, status, o);
}

/* The cancel of a run that is not live here (executing on another
 * instance, or waiting to be resumed): its event is written here, where the
 * key that asked is known, and the store's flag stops the run wherever it
 * is (whose executor writes no event of its own). */
static void cancel_elsewhere(sv_api *api, const char *id, const char *key_id)
{
    int flag = 0;
    if (api->store->ops->cancel_get(api->store, id, &flag) == 0 && !flag) {
        json_object *d = json_object_new_object();
        if (key_id)
            json_object_object_add(d, "key_id", json_object_new_string(key_id));
        sv_run_event_to(api->store, id, "cancel_requested", NULL, d);
    }
    api->store->ops->cancel_set(api->store, id);
}

/* Who cancelled what: the key's id, never the key. */
static void log_cancel(sv_api *api, const char *id, const char *key_id, const char *status)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "run_id", json_object_new_string(id));
    if (key_id)
        json_object_object_add(f, "key_id", json_object_new_string(key_id));
    json_object_object_add(f, "status", json_object_new_string(status));
    /* The run's trace, from its record: a cancel is rare enough for a read. */
    char *text = NULL, trace[SV_TRACE_ID_LEN] = "";
    if (api->store->ops->run_get(api->store, id, &text) == 0 &&
        (sv_json_text_str(text, strlen(text), "trace_id", trace, sizeof trace) < 0 ||
         !sv_trace_id_valid(trace)))
        sv_trace_id_derive(id, trace);
    free(text);
    if (trace[0])
        json_object_object_add(f, "trace_id", json_object_new_string(trace));
    sv_log(SV_LEVEL_INFO, "cancel requested", f);
}

static void post_cancel(sv_api *api, const sv_req *req, const char *id, sv_resp *resp)
{
    sv_run_status st = SV_RUN_FAILED;
    char ws[SV_ID_MAX + 1];
    int looked = 0;
    const char *key_id = req->key ? req->key->id : NULL;
    int rc = sv_run_id_valid(id) ? 0 : -ENOENT;
    if (rc == 0 && sv_auth_limited(req->key)) {
        /* A key limited to workspaces learns nothing of other workspaces'
         * runs: whose run it is comes first, and another's is absent. */
        rc = sv_run_lookup(api->store, id, &st, ws, sizeof ws);
        if (rc == 0 && !sv_auth_allows(req->key, ws))
            rc = -ENOENT;
        if (rc < 0)
            goto answer;
        looked = 1;
    }
    if (rc == 0)
        rc = sv_exec_cancel(api->exec, id, key_id, &st);
    if (rc == -ENOENT && sv_run_id_valid(id)) {
        /* Not live here: the store says what it is (finished, or running on
         * another instance, which sees the flag between nodes). */
        rc = looked ? 0 : sv_run_lookup(api->store, id, &st, ws, sizeof ws);
        if (rc == 0 && !sv_run_status_final(st)) {
            cancel_elsewhere(api, id, key_id);
            st = SV_RUN_RUNNING;
        }
    } else if (rc == 0 && !sv_run_status_final(st)) {
        /* Acknowledged only once stored: with Redis, the flag is what stops
         * the run should this instance die before it sees the cancel. */
        int crc = api->store->ops->cancel_set(api->store, id);
        if (crc < 0 && api->store->ops->durable)
            rc = crc;
    }
answer:
    if (rc == -ENOENT) {
        char msg[160];
        snprintf(msg, sizeof msg, "no run with id \"%.40s\"", id);
        sv_resp_error(resp, 404, "run_not_found", msg, NULL);
    } else if (rc < 0) {
        store_down(resp, rc);
    } else if (sv_run_fsm_cancel_answer(st) == SV_CANCEL_DONE) {
        cancel_reply(resp, id, 200, "cancelled");
        log_cancel(api, id, key_id, "cancelled");
    } else if (sv_run_fsm_cancel_answer(st) == SV_CANCEL_STOPPING) {
        cancel_reply(resp, id, 202, "cancelling");
        log_cancel(api, id, key_id, "cancelling");
    } else {
        char msg[160];
        snprintf(msg, sizeof msg, "the run has already %s; nothing to cancel",
                 sv_run_status_name(st));
        sv_resp_error(resp, 409, "run_finished", msg, NULL);
    }
}

void sv_api_reply(sv_resp *resp, int status, json_object *body)
{
    reply(resp, status, body);
}

void sv_api_store_down(sv_resp *resp, int rc)
{
    store_down(resp, rc);
}

const char *sv_api_str(json_object *o, const char *key)
{
    return str_of(o, key);
}

/* The process answers: nothing else is asked (load balancers, HEALTHCHECK). */
static void healthz(sv_resp *resp)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("ok"));
    reply(resp, 200, o);
}

void sv_api_handle_metrics(void *app, const sv_req *req, sv_resp *resp)
{
    const char *m = req->method, *p = req->path;
    int get = strcmp(m, "GET") == 0;
    if (strcmp(p, "/healthz") == 0)
        return get ? healthz(resp) : method_not_allowed(resp, "GET");
    if (strcmp(p, "/metrics") == 0)
        return get ? get_metrics(app, resp) : method_not_allowed(resp, "GET");
    char msg[200];
    snprintf(msg, sizeof msg,
             "no such endpoint: %.8s %.100s (METRICS_LISTEN serves only GET /metrics and "
             "/healthz)",
             m, p);
    sv_resp_error(resp, 404, "not_found", msg, NULL);
}

/* "/v1/runs/{id}" -> id; "/v1/runs/{id}/cancel" -> id and the tail. */
static int split2(const char *path, const char *prefix, char *id, size_t idlen, const char **tail)
{
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0)
        return 0;
    const char *p = path + pl;
    const char *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    if (n == 0 || n >= idlen)
        return 0;
    memcpy(id, p, n);
    id[n] = '\0';
    *tail = slash ? slash : "";
    return 1;
}

void sv_api_handle(void *app, const sv_req *req, sv_resp *resp)
{
    sv_api *api = app;
    const char *m = req->method, *p = req->path, *tail = NULL;
    char id[160];
    int get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    if (strcmp(p, "/healthz") == 0)
        return get ? healthz(resp) : method_not_allowed(resp, "GET");
    if (strcmp(p, "/ui") == 0 || strncmp(p, "/ui/", 4) == 0)
        return sv_ui_serve(api->cfg->ui_dir, req, resp);
    if (strcmp(p, "/metrics") == 0)
        return get ? get_metrics(api, resp) : method_not_allowed(resp, "GET");
    if (strcmp(p, "/v1/events") == 0)
        return get ? sv_sse_runs(api, req, resp) : method_not_allowed(resp, "GET");
    if (strcmp(p, "/readyz") == 0)
        return get ? get_readyz(api, resp) : method_not_allowed(resp, "GET");
    if (strcmp(p, "/v1/graphs") == 0)
        return get ? reply(resp, 200, sv_registry_list(api->reg)) : method_not_allowed(resp, "GET");
    if (split2(p, "/v1/graphs/", id, sizeof id, &tail) && strcmp(tail, "/runs") == 0)
        return post ? post_run(api, req, id, resp) : method_not_allowed(resp, "POST");
    if (strcmp(p, "/v1/runs") == 0)
        return get ? sv_api_list_runs(api, req, resp) : method_not_allowed(resp, "GET");
    if (split2(p, "/v1/runs/", id, sizeof id, &tail)) {
        if (!*tail)
            return get ? get_run(api, req, id, resp) : method_not_allowed(resp, "GET");
        if (strcmp(tail, "/cancel") == 0)
            return post ? post_cancel(api, req, id, resp) : method_not_allowed(resp, "POST");
        if (strcmp(tail, "/retain") == 0)
            return post ? sv_api_retain(api, req, id, resp) : method_not_allowed(resp, "POST");
        if (strcmp(tail, "/events") == 0)
            return get ? sv_sse_run_events(api, req, id, resp) : method_not_allowed(resp, "GET");
    }
    char msg[160];
    snprintf(msg, sizeof msg, "no such endpoint: %.8s %.100s (see docs/api.md)", m, p);
    sv_resp_error(resp, 404, "not_found", msg, NULL);
}
