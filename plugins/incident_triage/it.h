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
#define IT_GRAPH_VERSION "1.1.0"

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
/* The graph's setting for the longest window (sv_setting in it_graph.c),
 * and the variable operators have always set it with. */
#define IT_SETTING_MAX_WINDOW "max_time_window_h"
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
/* The max_time_window_h setting (INCIDENT_MAX_TIME_WINDOW_H) from the host,
 * sanitised. */
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
    size_t first;   /* order of first appearance, for ties */
    long ts_n;      /* lines with a parseable "ts" */
    int64_t ts_sum; /* their ms since the epoch, summed: the mean says how recent */
} it_group;

typedef struct it_groups {
    it_group *v;
    size_t n, cap;
    long lines; /* messages added */
} it_groups;

/* Add a message to its group (creating it).  0 or SV_ENOMEM. */
int it_groups_add(it_groups *g, const char *message);
/* The same with the line's time (has_ts 0: no usable "ts"). */
int it_groups_add_ts(it_groups *g, const char *message, int64_t ts_ms, int has_ts);
/* Sort by count, descending; ties keep first-seen order. */
void it_groups_rank(it_groups *g);
void it_groups_free(it_groups *g);

/*
 * Digest a logs_query answer: analyse the first `limit` lines (objects with
 * a string "message", or bare strings), group them, keep the top
 * IT_MAX_GROUPS_KEPT groups, the first IT_MAX_TRACE_IDS distinct trace ids.
 * *out = {"total","analysed","groups":[{"sig","count","sample","ts_n",
 * "ts_mean"}], "trace_ids":[...]} (ts_mean: mean ms of the lines with a ts).  0; SV_EINVAL when
 * data has no "lines" array (why says so); SV_ENOMEM.
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

/* ---- it_tokens.c: messages to token sets ---------------------------------- */

#define IT_TOK_MAX 128 /* distinct tokens kept of one text */
#define IT_TOK_LEN 40  /* a token, NUL included; longer words are ids */

/* The distinct words of a text, lower case, with variable parts stripped. */
typedef struct it_tokens {
    char v[IT_TOK_MAX][IT_TOK_LEN];
    int n;
} it_tokens;

/*
 * Tokenise a message: lower case; URLs, paths, IPs, UUIDs, hex, ids and
 * numbers dropped (except 3-digit ones: 503, 429, 137 carry meaning); quoted
 * values that look like names of things (a digit, '.', ':', '/', '@', '-' or
 * '_' inside) dropped, quoted prose kept; snake_case, kebab-case and CamelCase
 * words give the whole word and its parts ("OOMKilled" -> oomkilled, oom,
 * killed).  docs/graphs.md has the table.
 */
void it_tokenize(const char *text, it_tokens *t);
/* Is word (or, with prefix, a word starting with it) among the tokens? */
int it_tokens_has(const it_tokens *t, const char *word, int prefix);

/* ---- it_vocab.c, it_match.c: causes and their vocabularies --------------- */

enum it_cause_id {
    IT_CAUSE_POOL = 0,
    IT_CAUSE_MEMORY,
    IT_CAUSE_TIMEOUT,
    IT_CAUSE_DEP5XX,
    IT_CAUSE_DEPLOY,
    IT_CAUSE_REFUSED,
    IT_CAUSE_DNS,
    IT_CAUSE_TLS,
    IT_CAUSE_DISK,
    IT_CAUSE_RATE,
    IT_CAUSE_LOCK,
    IT_CAUSE_CRASH,
    IT_CAUSE_CONFIG,
    IT_CAUSE_COUNT,
    IT_CAUSE_UNKNOWN = IT_CAUSE_COUNT,
    IT_CAUSE_NONE = -1,
};

/*
 * A rule of a cause's vocabulary: groups joined by " + " must all be among a
 * text's tokens, each group a list of alternatives joined by "|"; a '*' ends
 * a prefix; a group starting with '!' must be absent.  Weight 4 decides,
 * 3 is strong, 2 moderate, 1 a cue that needs a second one.
 */
typedef struct it_rule {
    const char *spec; /* "connection*|conn + not + available" */
    int weight;
} it_rule;

/* What the analysis and the report know about one cause. */
typedef struct it_cause_info {
    const char *key;    /* "connection_pool", ... */
    const char *title;  /* "DB connection-pool exhaustion" */
    const char *phrase; /* for the summary: "DB connection-pool exhaustion" */
    const it_rule *rules;
    const char *const *mitigations;
    const char *const *next_checks;
    const char *const *metric_hints; /* substrings of metric names quoted as evidence */
    const char *const *metric_words; /* metric-name tokens that belong to the cause */
} it_cause_info;

const it_cause_info *it_cause_get(int id);
/* Cause ids by priority: when two causes match a text equally, the earlier
 * (more specific) wins.  IT_CAUSE_COUNT entries. */
extern const int it_cause_priority[IT_CAUSE_COUNT];

#define IT_WHY_LEN 96

/* The best cause of a text and why. */
typedef struct it_match {
    int cause;            /* IT_CAUSE_NONE when no rule is strong enough */
    int weight;           /* of the strongest rule */
    double strength;      /* 1 (weight 3-4), 0.7 (2), 0.5 (two weak cues) */
    char why[IT_WHY_LEN]; /* the tokens that matched it: "pool + exhausted" */
} it_match;

/* Classify a token set / a text. */
void it_match_tokens(const it_tokens *t, it_match *m);
void it_match_text(const char *text, it_match *m);
/* The strongest rule of one cause matching t: its weight (0 = none) and the
 * tokens that matched (why may be NULL). */
int it_match_cause(const it_tokens *t, int id, char *why, size_t why_len);
/* Does text hold a rule of cause id of weight 2 or more? */
int it_cause_matches(int id, const char *text);
/* The cause of a text, or IT_CAUSE_NONE. */
int it_cause_classify(const char *text);
/* The cause a metric name belongs to (its words), or IT_CAUSE_NONE. */
int it_metric_cause(const char *name);

/* ---- it_metrics.c: metrics at or near their limits ----------------------- */

#define IT_MAX_FINDINGS 16
#define IT_FINDING_LEN 160

/* A metric that says a cause is happening, e.g. a pool at 100% of its size. */
typedef struct it_finding {
    int cause;
    double severity; /* 0.5 .. 1 */
    char key[64];
    char line[IT_FINDING_LEN]; /* "metric db_pool_in_use=100 (100% of db_pool_size=100)" */
} it_finding;

/*
 * Scan the overview's slo and metrics (digests, may be NULL) for metrics at
 * or near a limit: an "active"/"in_use" count against its "max"/"size", utilisation >= 0.9
 * (or 90%), free space <= 5%, p99 >= 3x p95, counts of failure events
 * (oom kills, restarts >= 3, 429s, deadlocks...), expiring certificates.
 * Returns how many were written to out (at most max).
 */
int it_metrics_scan(json_object *slo, json_object *metrics, it_finding *out, int max);

/* ---- it_fusion.c: every source's evidence, weighed ------------------------ */

/* The sources of evidence, in the order evidence_by_source lists them. */
enum {
    IT_SRC_LOGS = 0,
    IT_SRC_ALERTS,
    IT_SRC_HEALTH,
    IT_SRC_METRICS,
    IT_SRC_RUNBOOKS,
    IT_SRC_SYMPTOM,
    IT_SRC_COUNT,
};
extern const char *const it_src_names[IT_SRC_COUNT];

/* Score weights (docs/graphs.md "How a cause is scored"): the most each
 * source can give one cause.  Logs give IT_W_LOGS times the cause's share of
 * the error lines; each alert IT_W_ALERT times its severity; each failing
 * check IT_W_CHECK; each metric at a limit IT_W_METRIC; the first matching
 * runbook title IT_W_RUNBOOK (the others half); the symptom IT_W_SYMPTOM. */
#define IT_W_LOGS 30.0
#define IT_W_ALERT 12.0
#define IT_CAP_ALERTS 18.0
#define IT_W_CHECK 9.0
#define IT_CAP_HEALTH 14.0
#define IT_W_METRIC 10.0
#define IT_CAP_METRICS 15.0
#define IT_W_RUNBOOK 4.0
#define IT_CAP_RUNBOOKS 6.0
#define IT_W_SYMPTOM 4.0
#define IT_W_DEPLOY_LOG 6.0  /* a deploy announced in the info lines */
#define IT_LOG_FULL_VOLUME 5 /* error lines from which a cause's share counts fully */
#define IT_AGREEMENT 0.2     /* added per further source that agrees */
#define IT_AFTER_CHANGE 1.3  /* a config error with a change (deploy) seen */
#define IT_MAX_BY_SOURCE 5   /* entries per source in evidence_by_source */

/* What the sources say about one cause. */
typedef struct it_acc {
    double part[IT_SRC_COUNT]; /* each source's score, capped */
    double agreement;          /* 1 + IT_AGREEMENT per further agreeing source */
    double score;              /* sum of the parts times agreement */
    double wlines;             /* error lines weighed by match strength and recency */
    long lines;                /* error lines behind it */
    int n_logs, symptom, listed;
    int level;                     /* evidence level, IT_CONF_* (no data gaps applied) */
    json_object *by[IT_SRC_COUNT]; /* evidence_by_source */
    json_object *logs, *other;     /* the "evidence" list: log lines; alerts and checks */
} it_acc;

/* Allocate the arrays of acc (IT_CAUSE_COUNT of them); 0 or SV_ENOMEM. */
int it_acc_init(it_acc *acc);
void it_acc_free(it_acc *acc);
/* Weigh every source of state into acc: parts, scores, levels, listed. */
void it_fusion_collect(json_object *state, it_acc *acc);
/* Sources that agree on a cause: observed (logs, alerts, health, metrics)
 * count 1, runbooks and the symptom 0.5 each. */
double it_acc_sources(const it_acc *a, int *observed);
/* Is anything wrong at all (error lines, alerts, health or a check bad)? */
int it_trouble(json_object *state);
/* Evidence lines, appended to arr: "37× <sample>", "alert NAME (sev) firing
 * since T", "health check NAME: STATUS - DETAIL"; a rule (may be NULL) is
 * added as " (matched: RULE)". */
void it_ev_log(json_object *arr, long count, const char *sample, const char *rule);
void it_ev_alert(json_object *arr, json_object *alert, const char *rule);
void it_ev_check(json_object *arr, json_object *check, const char *rule);

/* ---- it_causes.c: ranking the causes -------------------------------------- */

/* Confidence levels, low to high. */
enum { IT_CONF_LOW = 0, IT_CONF_MEDIUM, IT_CONF_HIGH };
const char *it_conf_name(int level);

/* The order of the causes found, for the parts of the report that follow
 * them (summary, mitigations, next checks). */
typedef struct it_ranking {
    int ids[IT_CAUSE_COUNT + 1];   /* by rank; IT_CAUSE_UNKNOWN only alone */
    int level[IT_CAUSE_COUNT + 1]; /* evidence level of each (before data gaps) */
    int n;
    long top_lines; /* error lines behind the first cause */
    int confidence; /* of the whole report: the top cause's, data gaps applied */
    int gaps;       /* primary sources (overview, logs, health) missing */
} it_ranking;

/*
 * Rank the causes supported by the digests in state (see it_nodes.c) into a
 * new array [{"rank","cause","evidence":[...],"key","confidence",
 * "confidence_reason","score","score_parts","evidence_by_source"}] and *r.
 * Nothing wrong and no errors = an empty array; errors or trouble that no
 * rule explains = one "Unknown: ..." cause quoting the top signature.
 * docs/graphs.md explains the score.  0 or SV_ENOMEM.
 */
int it_causes_rank(json_object *state, json_object **out, it_ranking *r);
/* {"sources":{name: ok|failed|not_collected|...}, "missing":[...],
 * "effect":"..."} of a state, and the number of primary sources missing. */
json_object *it_coverage(json_object *state, int *gaps);

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
