/* rc_nodes.c - see rc_nodes.h. */
#include "rc_nodes.h"
#include "rc_logic.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Status strings longer than this are kept cut: they are only echoed back in
 * error messages. */
#define RC_MAX_STATUS 64
#define RC_MSG_LEN 256

/* The helpers of sofiia/graph_helpers.h do the plumbing (state by path,
 * tool calls that fail the run with the tool's error, params from a
 * template); what is left here is release_check's own. */

static enum rc_job_phase state_phase(sv_ctx *ctx, const sv_host *host)
{
    return rc_job_phase_from_json(sv_state_at(ctx, host, RC_ST_JOB_STATUS));
}

/* The job id kept in the state, NULL when none. */
static const char *state_job_id(sv_ctx *ctx, const sv_host *host)
{
    const char *id = sv_state_str(ctx, host, RC_ST_JOB_ID, NULL);
    return id && *id ? id : NULL;
}

static int fail_bad_job(sv_ctx *ctx, const sv_host *host, const char *message)
{
    return sv_fail(ctx, host, "bad_job", "%s", message);
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
static int job_record(sv_ctx *ctx, const sv_host *host, json_object *data, enum rc_job_phase *phase)
{
    char id[RC_MAX_JOB_ID + 1];
    json_object *status, *v;
    int rc;

    if (!json_object_is_type(data, json_type_object))
        return SV_EINVAL;
    if (!state_job_id(ctx, host)) {
        rc_job_id_from_json(sv_json_at(data, "job_id"), id, sizeof id);
        if (id[0] && (rc = sv_state_set_str(ctx, host, RC_ST_JOB_ID, id)) < 0)
            return rc;
    }
    status = sv_json_at(data, "status");
    if (json_object_is_type(status, json_type_string))
        rc = sv_state_set(ctx, host, RC_ST_JOB_STATUS,
                          rc_json_string_capped(json_object_get_string(status),
                                                (size_t)json_object_get_string_len(status),
                                                RC_MAX_STATUS));
    else
        rc = sv_state_set_str(ctx, host, RC_ST_JOB_STATUS, "unknown");
    if (rc < 0)
        return rc;
    *phase = rc_job_phase_from_json(status);
    if (*phase == RC_JOB_PENDING)
        return SV_OK;
    /* The answer is ours (a new reference), so its members can be shared
     * with the state instead of copied. */
    if ((v = sv_json_at(data, "result")) &&
        (rc = sv_state_set(ctx, host, RC_ST_JOB_RESULT, json_object_get(v))) < 0)
        return rc;
    if ((v = sv_json_at(data, "error")) &&
        (rc = sv_state_set(ctx, host, RC_ST_JOB_ERROR, json_object_get(v))) < 0)
        return rc;
    return SV_OK;
}

/* Where to go after an answer: finished -> finalize now, else poll again
 * after the interval, parked by the host. */
static void step_after(sv_ctx *ctx, const sv_host *host, enum rc_job_phase phase, sv_step *step)
{
    if (phase == RC_JOB_PENDING) {
        step->next = RC_NODE_POLL_JOB;
        step->delay_ms = rc_input_poll_interval_ms(host->input(ctx));
    } else {
        step->next = RC_NODE_FINALIZE;
        step->delay_ms = 0;
    }
}

/* Keep an answer; a job answer of the wrong shape fails the run with what to
 * check. */
static int keep_answer(sv_ctx *ctx, const sv_host *host, const char *action, json_object *data,
                       enum rc_job_phase *phase)
{
    int rc = job_record(ctx, host, data, phase);
    if (rc == SV_EINVAL)
        return sv_fail(ctx, host, "bad_job",
                       "%s answered without a job object; check the orchestrator%s", action,
                       strcmp(action, "start_task") == 0 ? "'s release_check task" : "");
    return rc < 0 ? sv_oom(ctx, host) : SV_OK;
}

/* ---- nodes ---------------------------------------------------------------- */

int rc_node_start_job(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *params = NULL, *data = NULL;
    enum rc_job_phase phase = RC_JOB_PENDING;
    int rc;

    if (rc_start_params_build(host->input(ctx), &params) < 0)
        return sv_oom(ctx, host);
    /* elapsed_ms counts from the moment the job was asked for. */
    if (sv_state_set_int(ctx, host, RC_ST_STARTED_MS, host->now_ms(ctx)) < 0) {
        json_object_put(params);
        return sv_oom(ctx, host);
    }
    rc = sv_call(ctx, host, RC_TOOL, "start_task", params, &data);
    if (rc != SV_OK)
        goto out;
    if ((rc = keep_answer(ctx, host, "start_task", data, &phase)) < 0)
        goto out;
    if (phase == RC_JOB_PENDING && !state_job_id(ctx, host)) {
        rc = fail_bad_job(ctx, host,
                          "start_task answered an unfinished job without a job_id, "
                          "so it cannot be polled; check the orchestrator");
        goto out;
    }
    step_after(ctx, host, phase, step);
    log_fmt(ctx, host, SV_LOG_INFO, "release_check job started, %s",
            phase == RC_JOB_PENDING ? "polling" : "already finished");
out:
    json_object_put(data);
    return rc;
}

static int is_transient(const char *code)
{
    return strcmp(code, "unavailable") == 0 || strcmp(code, "timeout") == 0;
}

int rc_node_poll_job(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    const char *job_id = state_job_id(ctx, host);
    json_object *data = NULL;
    enum rc_job_phase phase = RC_JOB_PENDING;
    sv_error err;
    int64_t errors;
    int rc;

    if (!job_id)
        return fail_bad_job(ctx, host, "poll_job has no job_id to poll");
    if (sv_state_incr(ctx, host, RC_ST_POLLS) < 0)
        return sv_oom(ctx, host);
    rc = sv_try_call(ctx, host, RC_TOOL, "get_job", sv_params("{'job_id': %s}", job_id), &data,
                     &err);
    if (rc == SV_ECANCELLED)
        goto out;
    if (rc != SV_OK && is_transient(err.code)) {
        /* The host already retried this call; a few more polls ride out a
         * router restart, a longer outage fails the run. */
        if ((errors = sv_state_incr(ctx, host, RC_ST_POLL_ERRORS)) < 0) {
            rc = sv_oom(ctx, host);
            goto out;
        }
        if (errors >= RC_MAX_POLL_ERRORS) {
            sv_fail(ctx, host, err.code, "%s/get_job failed %" PRId64 " times in a row: %s",
                    RC_TOOL, errors, err.message[0] ? err.message : err.code);
            rc = SV_ETOOL;
            goto out;
        }
        log_fmt(ctx, host, SV_LOG_WARN,
                "release_check get_job failed (%s), attempt %" PRId64 " of %d", err.code, errors,
                RC_MAX_POLL_ERRORS);
        step_after(ctx, host, RC_JOB_PENDING, step);
        rc = SV_OK;
        goto out;
    }
    if (rc != SV_OK) {
        sv_fail(ctx, host, err.code[0] ? err.code : "tool_failed", "%s/get_job failed: %s", RC_TOOL,
                err.message[0] ? err.message : "no message");
        goto out;
    }
    if (sv_state_set_int(ctx, host, RC_ST_POLL_ERRORS, 0) < 0) {
        rc = sv_oom(ctx, host);
        goto out;
    }
    if ((rc = keep_answer(ctx, host, "get_job", data, &phase)) < 0)
        goto out;
    step_after(ctx, host, phase, step);
out:
    json_object_put(data);
    return rc;
}

int rc_node_finalize(sv_ctx *ctx, const sv_host *host, sv_step *step)
{
    json_object *result = NULL;
    enum rc_job_phase phase = state_phase(ctx, host);
    char msg[RC_MSG_LEN];
    int rc;

    if (phase == RC_JOB_FAILED) {
        /* One code for every failed job, so callers can tell the job's
         * failure from the supervisor's own ("timeout", "unavailable"); the
         * job's code and message are in the error message. */
        rc_job_error_describe(state_job_id(ctx, host),
                              sv_state_str(ctx, host, RC_ST_JOB_STATUS, NULL),
                              sv_state_at(ctx, host, RC_ST_JOB_ERROR), msg, sizeof msg);
        return sv_fail(ctx, host, "job_failed", "%s", msg);
    }
    if (phase != RC_JOB_SUCCEEDED)
        return fail_bad_job(ctx, host, "finalize ran before the job finished");
    int64_t started = sv_state_int(ctx, host, RC_ST_STARTED_MS, host->created_ms(ctx));
    if (rc_result_build(sv_state_at(ctx, host, RC_ST_JOB_RESULT), host->now_ms(ctx) - started,
                        &result) < 0)
        return sv_oom(ctx, host);
    log_fmt(ctx, host, SV_LOG_INFO,
            "release_check finished: %zu gates, %d failing, %" PRId64 " polls",
            json_object_array_length(sv_json_at(result, "gates")),
            rc_gates_count_failing(sv_json_at(result, "gates")),
            sv_state_int(ctx, host, RC_ST_POLLS, 0));
    /* set_result owns the result even when it fails. */
    rc = host->set_result(ctx, result);
    if (rc < 0)
        return rc;
    step->next = NULL;
    step->delay_ms = 0;
    return SV_OK;
}

void rc_on_cancel(sv_ctx *ctx, const sv_host *host, int reason)
{
    const char *job_id = state_job_id(ctx, host);
    const char *why = reason == SV_CANCEL_TIMEOUT ? "timeout" : "cancel";
    sv_error err;

    if (!job_id) {
        log_fmt(ctx, host, SV_LOG_INFO, "release_check %s: no job was started, nothing to cancel",
                why);
        return;
    }
    /* A finished job needs no cancel, and one cancel is enough. */
    if (state_phase(ctx, host) != RC_JOB_PENDING || sv_state_bool(ctx, host, RC_ST_CANCEL_SENT, 0))
        return;
    /* Marked before sending: a failed cancel is not repeated either. */
    if (sv_state_set_bool(ctx, host, RC_ST_CANCEL_SENT, 1) < 0)
        log_fmt(ctx, host, SV_LOG_WARN, "release_check %s: cannot mark cancel_job as sent", why);
    if (sv_try_call(ctx, host, RC_TOOL, "cancel_job", sv_params("{'job_id': %s}", job_id), NULL,
                    &err) == SV_OK)
        log_fmt(ctx, host, SV_LOG_INFO, "release_check %s: cancel_job sent", why);
    else
        log_fmt(ctx, host, SV_LOG_WARN, "release_check %s: cancel_job failed (%s), ignored", why,
                err.code[0] ? err.code : "cancelled");
}
