/*
 * fuzz_gateway.c - the router's answers into the gateway client: a first
 * line "STATUS [Retry-After value]", then the body, judged as one attempt's
 * answer (sv_gateway_judge: JSON parsing, status and error shapes,
 * Retry-After).  Invariants: a failure has a code and a message without
 * control characters (they go into events and logs); only 429 and 5xx are
 * retried; a Retry-After is -1 or a delay of at most 10^9 s.
 */
#include "fuzz.h"
#include "gateway.h"

#include <errno.h>
#include <string.h>

static int printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

int sv_fuzz_gateway(const uint8_t *data, size_t size)
{
    const char *nl = memchr(data, '\n', size);
    char head[128], retry[80] = "";
    if (!nl || (size_t)((const uint8_t *)nl - data) >= sizeof head)
        return 0;
    size_t hl = (size_t)((const uint8_t *)nl - data);
    memcpy(head, data, hl);
    head[hl] = '\0';
    long status = strtol(head, NULL, 10);
    const char *sp = strchr(head, ' ');
    if (sp)
        snprintf(retry, sizeof retry, "%s", sp + 1);
    size_t len = size - hl - 1;
    char *body = malloc(len + 1); /* the client keeps the body NUL-terminated */
    if (!body)
        return 0;
    memcpy(body, nl + 1, len);
    body[len] = '\0';
    json_object *got = NULL;
    sv_error err;
    int64_t after = 0;
    memset(&err, 0, sizeof err);
    int rc = sv_gateway_judge(status, body, len, sp ? retry : NULL, &got, &err, &after);
    SV_FUZZ_CHECK(after >= -1 && after <= 1000000000LL * 1000, "Retry-After is -1 or a delay");
    if (rc == SV_OK) {
        SV_FUZZ_CHECK(status == 200, "success is a 200");
    } else if (rc == -EAGAIN) {
        SV_FUZZ_CHECK(status == 429 || status == 500 || status == 502 || status == 503 ||
                          status == 504,
                      "only 429 and 5xx are retried");
    } else {
        SV_FUZZ_CHECK(rc == SV_ETOOL, "an answer is a success, a retry or a failure");
        SV_FUZZ_CHECK(err.code[0] && err.message[0], "a failure has a code and a message");
        SV_FUZZ_CHECK(printable(err.code) && printable(err.message),
                      "codes and messages hold no control characters");
    }
    json_object_put(got);
    free(body);
    return 0;
}

SV_FUZZ_MAIN(sv_fuzz_gateway)
