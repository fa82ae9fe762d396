/* rc_nodes.c - see rc_nodes.h. */
#include "rc_nodes.h"
#include "rc_logic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Status strings longer than this are kept cut: they are only echoed back in
 * error messages. */
#define RC_MAX_STATUS 64
#define RC_MSG_LEN 256

/* ---- state helpers ------------------------------------------------------ */

static int state_put(json_object *state, const char *key, json_object *val)
{
    if (!val)
        return SV_ENOMEM;
    if (json_object_object_add(state, key, val) != 0) {
        json_object_put(val);
        return SV_ENOMEM;
    }
    return SV_OK;
}

static int64_t state_int(json_object *state, const char *key, int64_t def)
{
    json_object *v = rc_json_member(state, key);
    return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : def;
}

static const char *state_str(json_object *state, const char *key)
{
    json_object *v = rc_json_member(state, key);
    if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
        return NULL;
    return json_object_get_string(v);
}

static enum rc_job_phase state_phase(json_object *state)
{
    return rc_job_phase_from_json(rc_json_member(state, RC_ST_JOB_STATUS));
}

/* Format a message that may be cut: the cut is expected (the host keeps 255
 * bytes) and must not split a UTF-8 sequence. */
__attribute__((format(printf, 3, 4))) static void msg_fmt(char *buf, size_t len, const char *fmt,
                                                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    rc_utf8_trim(buf);
}

/* ---- failures ------------------------------------------------------------ */

static int fail_nomem(sv_ctx *ctx, const sv_host *host)
{
    host->fail(ctx, "out_of_memory", "release_check ran out of memory; retry the run");
    return SV_ENOMEM;
}

/* A tool failure fails the run with the tool's own code, so callers see
 * "forbidden" or "unavailable" rather than a generic one. */
static int fail_tool(sv_ctx *ctx, const sv_host *host, const char *action, const sv_error *err)
{
    char msg[RC_MSG_LEN];
    msg_fmt(msg, sizeof msg, "%s/%s failed: %s", RC_TOOL, action,
            err->message[0] ? err->message : "no message");
    host->fail(ctx, err->code[0] ? err->code : "tool_failed", msg);
    return SV_ETOOL;
}

static int fail_bad_job(sv_ctx *ctx, const sv_host *host, const char *message)
{
    host->fail(ctx, "bad_job", message);
    return SV_ERR;
}

/* Log lines carry counts and codes only, never job content. */
__attribute__((format(printf, 4, 5))) static void log_fmt(sv_ctx *ctx, const sv_host *host,
                                                          int level, const char *fmt, ...)
{
    char line[RC_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    rc_utf8_trim(line);
    host->log(ctx, level, line);
}

/* ---- the job as the orchestrator describes it ---------------------------- */

/*
 * Keep what a start_task or get_job answer says: the job id (the first one
 * seen wins: a poll answer never renames the job), its status and, once it
 * has finished, its result and error.  SV_EINVAL when the answer is no
 * object at all.
 */
static int job_record(json_object *state, json_object *data, enum rc_job_phase *phase)
{
    char id[RC_MAX_JOB_ID + 1];
    json_object *status, *v;
    int rc;

    if (!json_object_is_type(data, json_type_object))
        return SV_EINVAL;
    if (!state_str(state, RC_ST_JOB_ID)) {
        rc_job_id_from_json(rc_json_member(data, "job_id"), id, sizeof id);
        if (id[0] && (rc = state_put(state, RC_ST_JOB_ID, json_object_new_string(id))) < 0)
            return rc;
    }
    status = rc_json_member(data, "status");
    if (json_object_is_type(status, json_type_string))
        rc = state_put(state, RC_ST_JOB_STATUS,
                       rc_json_string_capped(json_object_get_string(status),
                                             (size_t)json_object_get_string_len(status),
                                             RC_MAX_STATUS));
    else
        rc = state_put(state, RC_ST_JOB_STATUS, json_object_new_string("unknown"));
    if (rc < 0)
        return rc;
    *phase = rc_job_phase_from_json(status);
    if (*phase == RC_JOB_PENDING)
        return SV_OK;
    /* The answer is ours (a new reference), so its members can be shared
     * with the state instead of copied. */
    v = rc_json_member(data, "result");
    if (v && (rc = state_put(state, RC_ST_JOB_RESULT, json_object_get(v))) < 0)
        return rc;
    v = rc_json_member(data, "error");
    if (v && (rc = state_put(state, RC_ST_JOB_ERROR, json_object_get(v))) < 0)
        return rc;
    return SV_OK;
}

static json_object *job_params(const char *job_id)
{
    json_object *params = json_object_new_object();
    if (params && state_put(params, "job_id", json_object_new_string(job_id)) < 0) {
        json_object_put(params);
        params = NULL;
    }
    return params;
}

/* Where to go after an answer: finished -> finalize now, else poll again
 * after the interval, parked by the host. */
static void step_after(const sv_host *host, sv_ctx *ctx, enum rc_job_phase phase, sv_step *step)
{
    if (phase == RC_JOB_PENDING) {
        step->next = RC_NODE_POLL_JOB;
        step->delay_ms = rc_input_poll_interval_ms(host->input(ctx));
    } else {
        step->next = RC_NODE_FINALIZE;
        step->delay_ms = 0;
    }
}

/* ---- nodes ---------------------------------------------------------------- */

int rc_node_start_job(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *state = host->state(ctx), *params = NULL, *data = NULL;
    enum rc_job_phase phase = RC_JOB_PENDING;
    sv_error err;
    int rc;

    memset(&err, 0, sizeof err);
    if (rc_start_params_build(host->input(ctx), &params) < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    /* elapsed_ms counts from the moment the job was asked for. */
    if (state_put(state, RC_ST_STARTED_MS, json_object_new_int64(host->now_ms(ctx))) < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    rc = host->tool_call(ctx, RC_TOOL, "start_task", params, &data, &err);
    if (rc == SV_ECANCELLED)
        goto out;
    if (rc != SV_OK) {
        rc = fail_tool(ctx, host, "start_task", &err);
        goto out;
    }
    rc = job_record(state, data, &phase);
    if (rc == SV_EINVAL) {
        rc = fail_bad_job(ctx, host,
                          "start_task answered without a job object; check the "
                          "orchestrator's release_check task");
        goto out;
    }
    if (rc < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    if (phase == RC_JOB_PENDING && !state_str(state, RC_ST_JOB_ID)) {
        rc = fail_bad_job(ctx, host,
                          "start_task answered an unfinished job without a job_id, "
                          "so it cannot be polled; check the orchestrator");
        goto out;
    }
    step_after(host, ctx, phase, step);
    log_fmt(ctx, host, SV_LOG_INFO, "release_check job started, %s",
            phase == RC_JOB_PENDING ? "polling" : "already finished");
out:
    json_object_put(params);
    json_object_put(data);
    return rc;
}

static int is_transient(const char *code)
{
    return strcmp(code, "unavailable") == 0 || strcmp(code, "timeout") == 0;
}

int rc_node_poll_job(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *state = host->state(ctx), *params = NULL, *data = NULL;
    const char *job_id = state_str(state, RC_ST_JOB_ID);
    enum rc_job_phase phase = RC_JOB_PENDING;
    char msg[RC_MSG_LEN];
    sv_error err;
    int64_t errors;
    int rc;

    memset(&err, 0, sizeof err);
    if (!job_id) {
        rc = fail_bad_job(ctx, host, "poll_job has no job_id to poll");
        goto out;
    }
    params = job_params(job_id);
    if (!params || state_put(state, RC_ST_POLLS,
                             json_object_new_int64(state_int(state, RC_ST_POLLS, 0) + 1)) < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    rc = host->tool_call(ctx, RC_TOOL, "get_job", params, &data, &err);
    if (rc == SV_ECANCELLED)
        goto out;
    if (rc != SV_OK && is_transient(err.code)) {
        /* The host already retried this call; a few more polls ride out a
         * router restart, a longer outage fails the run. */
        errors = state_int(state, RC_ST_POLL_ERRORS, 0) + 1;
        if (state_put(state, RC_ST_POLL_ERRORS, json_object_new_int64(errors)) < 0) {
            rc = fail_nomem(ctx, host);
            goto out;
        }
        if (errors >= RC_MAX_POLL_ERRORS) {
            msg_fmt(msg, sizeof msg, "%s/get_job failed %" PRId64 " times in a row: %s", RC_TOOL,
                    errors, err.message[0] ? err.message : err.code);
            host->fail(ctx, err.code, msg);
            rc = SV_ETOOL;
            goto out;
        }
        log_fmt(ctx, host, SV_LOG_WARN,
                "release_check get_job failed (%s), attempt %" PRId64 " of %d", err.code, errors,
                RC_MAX_POLL_ERRORS);
        step_after(host, ctx, RC_JOB_PENDING, step);
        rc = SV_OK;
        goto out;
    }
    if (rc != SV_OK) {
        rc = fail_tool(ctx, host, "get_job", &err);
        goto out;
    }
    if (state_put(state, RC_ST_POLL_ERRORS, json_object_new_int64(0)) < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    rc = job_record(state, data, &phase);
    if (rc == SV_EINVAL) {
        rc = fail_bad_job(ctx, host,
                          "get_job answered without a job object; check the "
                          "orchestrator");
        goto out;
    }
    if (rc < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    step_after(host, ctx, phase, step);
out:
    json_object_put(params);
    json_object_put(data);
    return rc;
}

int rc_node_finalize(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *state = host->state(ctx), *result = NULL;
    enum rc_job_phase phase = state_phase(state);
    char msg[RC_MSG_LEN];
    int64_t started;
    int rc;

    if (phase == RC_JOB_FAILED) {
        /* One code for every failed job, so callers can tell the job's
         * failure from the supervisor's own ("timeout", "unavailable"); the
         * job's code and message are in the error message. */
        rc_job_error_describe(state_str(state, RC_ST_JOB_ID), state_str(state, RC_ST_JOB_STATUS),
                              rc_json_member(state, RC_ST_JOB_ERROR), msg, sizeof msg);
        host->fail(ctx, "job_failed", msg);
        rc = SV_ERR;
        goto out;
    }
    if (phase != RC_JOB_SUCCEEDED) {
        rc = fail_bad_job(ctx, host, "finalize ran before the job finished");
        goto out;
    }
    started = state_int(state, RC_ST_STARTED_MS, host->created_ms(ctx));
    if (rc_result_build(rc_json_member(state, RC_ST_JOB_RESULT), host->now_ms(ctx) - started,
                        &result) < 0) {
        rc = fail_nomem(ctx, host);
        goto out;
    }
    log_fmt(
        ctx, host, SV_LOG_INFO, "release_check finished: %zu gates, %d failing, %" PRId64 " polls",
        json_object_array_length(rc_json_member(result, "gates")),
        rc_gates_count_failing(rc_json_member(result, "gates")), state_int(state, RC_ST_POLLS, 0));
    /* set_result owns the result even when it fails. */
    rc = host->set_result(ctx, result);
    result = NULL;
    if (rc < 0)
        goto out;
    step->next = NULL;
    step->delay_ms = 0;
out:
    json_object_put(result);
    return rc;
}

void rc_on_cancel(sv_ctx *ctx, const sv_host *host, int reason)
{
    json_object *state = host->state(ctx), *params = NULL, *data = NULL;
    const char *job_id = state_str(state, RC_ST_JOB_ID);
    const char *why = reason == SV_CANCEL_TIMEOUT ? "timeout" : "cancel";
    sv_error err;
    int rc;

    memset(&err, 0, sizeof err);
    if (!job_id) {
        log_fmt(ctx, host, SV_LOG_INFO, "release_check %s: no job was started, nothing to cancel",
                why);
        goto out;
    }
    /* A finished job needs no cancel, and one cancel is enough. */
    if (state_phase(state) != RC_JOB_PENDING ||
        json_object_get_boolean(rc_json_member(state, RC_ST_CANCEL_SENT)))
        goto out;
    /* Marked before sending: a failed cancel is not repeated either. */
    if (state_put(state, RC_ST_CANCEL_SENT, json_object_new_boolean(1)) < 0)
        log_fmt(ctx, host, SV_LOG_WARN, "release_check %s: cannot mark cancel_job as sent", why);
    params = job_params(job_id);
    if (!params) {
        log_fmt(ctx, host, SV_LOG_ERROR, "release_check %s: out of memory, job not cancelled", why);
        goto out;
    }
    rc = host->tool_call(ctx, RC_TOOL, "cancel_job", params, &data, &err);
    if (rc == SV_OK)
        log_fmt(ctx, host, SV_LOG_INFO, "release_check %s: cancel_job sent", why);
    else
        log_fmt(ctx, host, SV_LOG_WARN, "release_check %s: cancel_job failed (%s), ignored", why,
                err.code[0] ? err.code : "cancelled");
out:
    json_object_put(params);
    json_object_put(data);
}
