/*
 * ctl_http.h - the HTTP side of sofiia-ctl: one request to the supervisor's
 * API, its JSON answer, and the API's error body turned into one line.
 */
#ifndef SV_CTL_HTTP_H
#define SV_CTL_HTTP_H

#include <stddef.h>
#include <json-c/json.h>

typedef struct sv_ctl {
    char base[512];       /* e.g. http://127.0.0.1:8080, no trailing slash */
    const char *key;      /* SUPERVISOR_INTERNAL_KEY, or NULL */
    long timeout_ms;      /* per request */
    const char *idem_key; /* Idempotency-Key of a start, or NULL */
} sv_ctl;

typedef struct sv_ctl_resp {
    long status;       /* HTTP status; 0 when there was no answer */
    json_object *json; /* the parsed body, or NULL */
    char error[1400];  /* no answer: why (curl's words) */
} sv_ctl_resp;

/* method path [body] -> resp.  0 when an answer came (any status), -EIO when
 * none did (resp.error says why). */
int sv_ctl_request(const sv_ctl *c, const char *method, const char *path, const char *body,
                   sv_ctl_resp *resp);
void sv_ctl_resp_free(sv_ctl_resp *resp);

/* "404 run_not_found: no run with id …" from an API error answer. */
void sv_ctl_describe(const sv_ctl_resp *resp, char *buf, size_t len);

#endif
