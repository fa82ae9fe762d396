/*
 * it.h - internal interface of the incident_triage graph.  Nothing here is
 * exported from the plugin (only sv_graph_descriptor is); the unit tests link
 * these files directly and call the pure functions one by one.
 *
 * Every function that reads a router answer takes borrowed json_objects of
 * any type (or NULL) and never crashes on them: a wrong type is "absent".
 */
#ifndef IT_H
#define IT_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include <sofiia/graph.h>

#define IT_GRAPH_NAME "incident_triage"
#define IT_GRAPH_VERSION "1.0.0"

/* The tools and actions this graph calls (docs/CONTRACT.md §4). */
#define IT_TOOL_OBS "observability_tool"
#define IT_TOOL_ONCALL "oncall_tool"
#define IT_TOOL_KB "kb_tool"
#define IT_ACT_OVERVIEW "service_overview"
#define IT_ACT_LOGS "logs_query"
#define IT_ACT_HEALTH "service_health"
#define IT_ACT_RUNBOOKS "runbook_search"
#define IT_ACT_TRACES "traces_query"

/* Input defaults and bounds; the schema declares the same numbers. */
#define IT_DEFAULT_ENV "prod"
#define IT_DEFAULT_QUERY "level:error OR level:fatal"
#define IT_DEFAULT_LOG_LINES 120
#define IT_MAX_LOG_LINES 200
#define IT_DEFAULT_WINDOW_MS (3600LL * 1000)
#define IT_MAX_WINDOW_KEY "INCIDENT_MAX_TIME_WINDOW_H"
#define IT_DEFAULT_MAX_WINDOW_H 24
/* A configured maximum above a year is a typo, not a wish. */
#define IT_MAX_WINDOW_H_LIMIT (24L * 366)
#define IT_MAX_SERVICE_LEN 128
#define IT_MAX_SYMPTOM_LEN 1000
#define IT_RUNBOOK_LIMIT 3
#define IT_MAX_TRACE_IDS 5

/* Bounds on what is kept from router answers, so a huge or hostile answer
 * cannot blow up the run's state (checkpointed after every node) or result. */
#define IT_MSG_SCAN_MAX 4096 /* bytes of one log message that are normalised */
#define IT_SIG_LEN 256       /* a signature, NUL included */
#define IT_SAMPLE_LEN 300    /* a raw log sample as quoted in the report */
#define IT_EVIDENCE_LINE_LEN 200
#define IT_MAX_GROUPS_KEPT 50 /* signature groups stored in the state */
#define IT_MAX_ALERTS 20
#define IT_MAX_CHECKS 20
#define IT_MAX_METRICS 32
#define IT_MAX_TRACE_ID_LEN 128
#define IT_RUNBOOK_TEXT_KEEP 4000
#define IT_SNIPPET_LEN 500
#define IT_MAX_TRACE_BYTES 16384
#define IT_MAX_LOG_EVIDENCE 5
#define IT_MAX_EVIDENCE 10
#define IT_MAX_MITIGATIONS 10
#define IT_MAX_NEXT_CHECKS 12
#define IT_MAX_LOG_SAMPLES 5
#define IT_GAP_ERROR_LEN 200

/* ---- it_time.c: RFC 3339 ------------------------------------------------ */

/* "2026-02-23T09:00:00Z" or with ".123": buf needs IT_TS_LEN bytes. */
#define IT_TS_LEN 32
/* Parse an RFC 3339 date-time (T, t or space; any offset; optional
 * fraction, kept to the millisecond) into ms since the epoch.  0 or SV_EINVAL. */
int it_time_parse(const char *s, int64_t *ms);
/* Format ms since the epoch as RFC 3339 UTC with "Z" (millis only if any). */
void it_time_format(int64_t ms, char buf[IT_TS_LEN]);

/* ---- it_text.c: small string helpers ------------------------------------ */

/* A growable string; `oom` is set on allocation failure and sticks. */
typedef struct it_buf {
    char *s;
    size_t len, cap;
    int oom;
} it_buf;

void it_buf_free(it_buf *b);
/* Empty the text, keeping the memory. */
void it_buf_reset(it_buf *b);
void it_buf_cat(it_buf *b, const char *s);
void it_buf_printf(it_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far ("" when empty); valid until the next change. */
const char *it_buf_str(const it_buf *b);

/* Copy src into dst (len bytes) as one clean line: control characters become
 * spaces, runs of blanks collapse, invalid UTF-8 becomes '?', and a cut text
 * ends with "..." on a complete character.  Returns dst. */
char *it_text_line(const char *src, char *dst, size_t len);
/* Length of the valid UTF-8 sequence starting at p, or 0 when invalid. */
size_t it_utf8_seq(const unsigned char *p);
/* Like it_text_line but keeps newlines (for runbook text cut into lines). */
char *it_text_block(const char *src, char *dst, size_t len);
/* Lowercase ASCII copy of src, bounded like it_text_line. */
char *it_text_lower(const char *src, char *dst, size_t len);
/* Split an identifier into lowercase words ("DBPoolExhausted" -> "db pool
 * exhausted", "High5xxRate" -> "high 5xx rate", "oom_killed" -> "oom killed"). */
char *it_text_words(const char *src, char *dst, size_t len);
/*
 * Does text contain the keyword as words?  A keyword matches only where it
 * starts at a word boundary and, unless it ends with '*', ends at one
 * ("oom" is not in "room"; "deploy*" is in "deployment").
 */
int it_text_has_keyword(const char *text, const char *kw);
/* Format a number compactly: no exponent, at most a few decimals. */
void it_text_number(double v, char *buf, size_t len);

/* s, or def when s is NULL. */
static inline const char *it_or(const char *s, const char *def)
{
    return s ? s : def;
}
/* The string of member `key` of obj when it is a string, else NULL. */
const char *it_json_str(json_object *obj, const char *key);
/* Member `key` of obj when it has JSON type t, else NULL (borrowed). */
json_object *it_json_get(json_object *obj, const char *key, json_type t);

/* ---- it_input.c: schema and input normalisation ------------------------- */

extern const char it_input_schema[];

/* The time window of a run after defaults and the clamp. */
typedef struct it_window {
    int64_t from_ms, to_ms;
    long max_h;  /* INCIDENT_MAX_TIME_WINDOW_H in force */
    int clamped; /* the requested window was longer and was cut to max_h */
} it_window;

/*
 * Resolve a time_range value (absent, or an object with optional from/to
 * strings) against now_ms and max_h.  0, or SV_EINVAL with err->field
 * ("time_range", "time_range.from", "time_range.to") and a message.
 */
int it_window_resolve(json_object *time_range, int64_t now_ms, long max_h, it_window *w,
                      sv_error *err);
/* INCIDENT_MAX_TIME_WINDOW_H from the host, sanitised. */
long it_max_window_h(const sv_host *host);
/* max_log_lines of an input clamped to 1..200 (default 120 when absent). */
int it_log_lines(json_object *input);
/* The descriptor's prepare_input: defaults, window rules, clamps. */
int it_prepare_input(const sv_host *host, json_object *input, sv_error *err);
/*
 * The normalised parameters every node reads, as a new object
 * {service, env, symptom, from, to, window_h, max_h, clamped, limit, query,
 * include_traces}.  Applies the same rules as prepare_input (so a bare
 * input works too).  0, or SV_EINVAL with err filled, or SV_ENOMEM.
 */
int it_params_build(json_object *input, int64_t now_ms, long max_h, json_object **out,
                    sv_error *err);

/* ---- it_signature.c: log signatures and groups --------------------------- */

/*
 * The signature of a log message: lowercase, blanks collapsed, and variable
 * parts replaced: UUIDs <uuid>; IPv4 (with port) and IPv6 <ip>; 0x..., hex
 * runs of 6+ with a letter and a digit, digit runs of 8+ and digits ending a
 * dashed name (req-123456) <hex>; other numbers <n> (a unit such as "ms"
 * kept; an HTTP status after "status", "code", "http", "returned"... kept);
 * quoted strings <str>; key=value ids, long letter-digit words and the pod
 * part of k8s pod names <id>.  Writes at most len bytes (a complete
 * UTF-8 text).  docs/graphs.md has the table.
 */
void it_signature(const char *msg, char *out, size_t len);

typedef struct it_group {
    char sig[IT_SIG_LEN];
    char sample[IT_SAMPLE_LEN];
    long count;
    size_t first; /* order of first appearance, for ties */
} it_group;

typedef struct it_groups {
    it_group *v;
    size_t n, cap;
    long lines; /* messages added */
} it_groups;

/* Add a message to its group (creating it).  0 or SV_ENOMEM. */
int it_groups_add(it_groups *g, const char *message);
/* Sort by count, descending; ties keep first-seen order. */
void it_groups_rank(it_groups *g);
void it_groups_free(it_groups *g);

/*
 * Digest a logs_query answer: analyse the first `limit` lines (objects with
 * a string "message", or bare strings), group them, keep the top
 * IT_MAX_GROUPS_KEPT groups, the first IT_MAX_TRACE_IDS distinct trace ids.
 * *out = {"total","analysed","groups":[{"sig","count","sample"}],
 * "trace_ids":[...]}.  0; SV_EINVAL when data has no "lines" array (why
 * says so); SV_ENOMEM.
 */
int it_logs_digest(json_object *data, int limit, json_object **out, char *why, size_t why_len);

/* ---- it_sources.c: digests of the other answers --------------------------- */

/* service_overview -> {"slo":{numbers},"alerts":[{name,severity,since}],
 * "alerts_count","metrics":{scalars}}.  0, SV_EINVAL (why), SV_ENOMEM. */
int it_overview_digest(json_object *data, json_object **out, char *why, size_t why_len);
/* service_health -> {"status","checks":[{name,status,detail}]}. */
int it_health_digest(json_object *data, json_object **out, char *why, size_t why_len);
/* runbook_search -> [{"path","title","text"}] (at most IT_RUNBOOK_LIMIT). */
int it_runbooks_digest(json_object *data, json_object **out, char *why, size_t why_len);
/* traces_query -> {"traces":[...]} (at most IT_MAX_TRACE_IDS, each bounded). */
int it_traces_digest(json_object *data, json_object **out, char *why, size_t why_len);
/* The runbook query: the symptom and the words of the top signature. */
void it_runbook_query(const char *symptom, const char *top_sig, char *out, size_t len);
/* Is a health status or check status a good one ("ok", "pass", "healthy"...)? */
int it_status_ok(const char *status);
/* Does a status say something is wrong (not good, not empty or "unknown")? */
int it_status_bad(const char *status);

/* ---- it_causes.c: mapping evidence to causes ----------------------------- */

enum it_cause_id {
    IT_CAUSE_POOL = 0,
    IT_CAUSE_MEMORY,
    IT_CAUSE_TIMEOUT,
    IT_CAUSE_DEP5XX,
    IT_CAUSE_DEPLOY,
    IT_CAUSE_COUNT,
    IT_CAUSE_UNKNOWN = IT_CAUSE_COUNT,
    IT_CAUSE_NONE = -1,
};

/* Score weights: a log line counts 1. */
#define IT_W_ALERT 10
#define IT_W_CHECK 5
#define IT_W_SYMPTOM 3

/* What the report needs to know about one cause. */
typedef struct it_cause_info {
    const char *key;   /* "connection_pool", ... */
    const char *title; /* "DB connection-pool exhaustion" */
    const char *const *keywords;
    const char *const *mitigations;
    const char *next_check;
    const char *const *metric_hints; /* substrings of metric names */
} it_cause_info;

const it_cause_info *it_cause_get(int id);
/* Does text (lowercase) hold one of the keywords of cause id? */
int it_cause_matches(int id, const char *text);
/* The first cause (in priority order pool, memory, timeout, 5xx, deploy)
 * whose keywords occur in text, or IT_CAUSE_NONE. */
int it_cause_classify(const char *text);

/* The order of the causes found, for the parts of the report that follow
 * them (summary, mitigations, next checks). */
typedef struct it_ranking {
    int ids[IT_CAUSE_COUNT + 1]; /* by rank; IT_CAUSE_UNKNOWN only alone */
    int n;
    long top_lines; /* error lines behind the first cause */
} it_ranking;

/*
 * Rank the causes supported by the digests in state (see it_nodes.c) into a
 * new array [{"rank","cause","evidence":[...]}] and *r.  Nothing wrong and no
 * errors = an empty array; errors or trouble that no rule explains = one
 * "Unknown: ..." cause quoting the top signature.  0 or SV_ENOMEM.
 */
int it_causes_rank(json_object *state, json_object **out, it_ranking *r);

/* ---- it_report.c: the result ---------------------------------------------- */

/* The one- or two-sentence summary. */
void it_summary(json_object *state, const it_ranking *r, it_buf *b);
/* "SLO impact: error_rate=2.1%, latency_p95_ms=850, ...". */
void it_impact(json_object *state, it_buf *b);
/* Mitigations of the causes (by rank) and the runbooks' action lines. */
json_object *it_mitigations(json_object *state, const it_ranking *r);
/* Checks to make next: failing health checks, per cause, traces, gaps. */
json_object *it_next_checks(json_object *state, const it_ranking *r);
/* Did every source that was tried fail?  why lists them. */
int it_all_sources_failed(json_object *state, char *why, size_t why_len);
/*
 * The whole result: summary, suspected_root_causes, impact_assessment,
 * mitigations_now, next_checks, references, data_gaps.  0, SV_ENOMEM, or
 * SV_ERR when every source that was tried failed (why says which).
 */
int it_report_build(json_object *state, json_object **out, char *why, size_t why_len);

/* ---- it_nodes.c ------------------------------------------------------------ */

int it_node_validate_input(sv_ctx *ctx, const sv_host *host, sv_step *step);
int it_node_service_overview(sv_ctx *ctx, const sv_host *host, sv_step *step);
int it_node_top_errors_logs(sv_ctx *ctx, const sv_host *host, sv_step *step);
int it_node_health_and_runbooks(sv_ctx *ctx, const sv_host *host, sv_step *step);
int it_node_trace_lookup(sv_ctx *ctx, const sv_host *host, sv_step *step);
int it_node_build_triage_report(sv_ctx *ctx, const sv_host *host, sv_step *step);

#endif
