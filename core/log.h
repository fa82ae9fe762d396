/* log.h - one JSON object per line on stderr: ts, level, msg, then fields. */
#ifndef SV_LOG_H
#define SV_LOG_H

#include <json-c/json.h>

enum sv_level { SV_LEVEL_DEBUG = 0, SV_LEVEL_INFO, SV_LEVEL_WARN, SV_LEVEL_ERROR };

/* Set the lowest level written (default info). */
void sv_log_set_level(enum sv_level level);
/* Parse "debug|info|warn|error"; 0 or -EINVAL. */
int sv_log_parse_level(const char *s, enum sv_level *out);
/* The name of a level ("info"), "?" for none. */
const char *sv_log_level_name(enum sv_level level);
/* Is `level` written?  Lets callers skip building fields. */
int sv_log_enabled(enum sv_level level);
/*
 * Write one line.  `fields` (may be NULL) is a JSON object whose members are
 * appended after ts/level/msg; ownership passes to the logger.  Never put a
 * payload or a key in fields: hashes and sizes only.
 */
void sv_log(enum sv_level level, const char *msg, json_object *fields);
/*
 * The trace of the run this thread works on (NULL or "" = none): every
 * line the thread writes until it is cleared carries it as "trace_id"
 * (unless the line names one itself).  The executor sets it around a run's
 * step, so the lines of the core, the gateway and a plugin's host->log
 * made on the run's behalf all say which trace they belong to.
 */
void sv_log_set_trace(const char *trace_id);
/* This thread's trace id, "" when none (readable in a signal handler). */
const char *sv_log_trace(void);
/* Convenience: a line with no fields, printf-style message. */
void sv_logf(enum sv_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
