/*
 * gateway_test_support.h - for test_gateway.c: a scripted router on loopback
 * (a libmicrohttpd daemon inside the test process) that records every
 * request, plus small client-side helpers.  Not part of the daemon.
 */
#ifndef SV_GATEWAY_TEST_SUPPORT_H
#define SV_GATEWAY_TEST_SUPPORT_H

#include "gateway.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define TGW_OK_BODY "{\"status\":\"succeeded\",\"data\":{\"job_id\":\"j1\",\"status\":\"queued\"}}"
#define TGW_MAX_SEEN 16

/* One scripted answer of the server. */
struct tgw_answer {
    int status; /* 0 = drop the connection without answering */
    const char *body;
    size_t body_len; /* 0 = strlen(body) */
    int latency_ms;  /* wait this long before answering (cut short at stop) */
    const char *retry_after;
};

/* One request as the server received it. */
struct tgw_rec {
    char *auth, *request_id, *content_type, *method, *url, *body; /* NULL = header absent */
    size_t body_len;
    int64_t at_ms; /* sv_mono_ms() when the whole body had arrived */
    int client_port;
};

/* Start on 127.0.0.1, a free port, with an empty script and no records
 * (tgw_port() is 0 when it could not start); stop frees the records. */
void tgw_server_start(void);
void tgw_server_stop(void);
int tgw_port(void);
/* Answer the next requests with a[0..n-1]; the last one repeats.  With no
 * script every request gets 200 TGW_OK_BODY. */
void tgw_script(const struct tgw_answer *a, int n);
/* How many requests arrived; request i (valid until tgw_server_stop). */
int tgw_n_recs(void);
const struct tgw_rec *tgw_rec(int i);
/* Request i's body parsed (caller puts), NULL when not JSON. */
json_object *tgw_rec_json(int i);

/* Bounded waits: 0 once the condition holds, -1 after timeout_ms. */
int tgw_wait_recs(int n, int timeout_ms);
int tgw_wait_atomic(atomic_int *v, int n, int timeout_ms);
void tgw_sleep_ms(int ms);

/* What on_attempt reported, with its strings copied. */
struct tgw_seen {
    atomic_int n;
    sv_gw_attempt a[TGW_MAX_SEEN];
    char codes[TGW_MAX_SEEN][64];
};
void tgw_on_attempt(void *arg, const sv_gw_attempt *a);

/* A gateway for the test server (or another port) with a 10..40 ms backoff;
 * fails the current test when it cannot be made. */
sv_gateway *tgw_gateway(const char *key, int64_t timeout_ms, int attempts);
sv_gateway *tgw_gateway_port(int port, const char *key, int64_t timeout_ms, int attempts);
/* A release_check start_job call; seen (may be NULL) collects attempts. */
sv_gw_call tgw_call(json_object *params, struct tgw_seen *seen);

/* body.metadata[key] as an integer; o[obj][key] (obj may be NULL) as a
 * string, "" when absent. */
int64_t tgw_meta_int(json_object *body, const char *key);
const char *tgw_str(json_object *o, const char *obj, const char *key);
/* Is s well-formed UTF-8? */
int tgw_utf8_valid(const char *s);

#endif
