/* log.c - JSON lines on stderr.  One write(2) per line so lines from several
 * threads never interleave. */
#include "log.h"
#include "util.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static atomic_int g_level = SV_LEVEL_INFO;
static const char *const g_names[] = {"debug", "info", "warn", "error"};
static _Thread_local char tl_trace[33];

void sv_log_set_trace(const char *trace_id)
{
    snprintf(tl_trace, sizeof tl_trace, "%s", trace_id ? trace_id : "");
}

const char *sv_log_trace(void)
{
    return tl_trace;
}

void sv_log_set_level(enum sv_level level)
{
    atomic_store(&g_level, (int)level);
}

int sv_log_parse_level(const char *s, enum sv_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (s && strcmp(s, g_names[i]) == 0) {
            *out = (enum sv_level)i;
            return 0;
        }
    }
    return -22; /* -EINVAL */
}

const char *sv_log_level_name(enum sv_level level)
{
    return (int)level >= 0 && (int)level < 4 ? g_names[level] : "?";
}

int sv_log_enabled(enum sv_level level)
{
    return (int)level >= atomic_load(&g_level);
}

void sv_log(enum sv_level level, const char *msg, json_object *fields)
{
    if (!sv_log_enabled(level) || level > SV_LEVEL_ERROR) {
        json_object_put(fields);
        return;
    }
    char ts[SV_TS_LEN];
    sv_format_ts(sv_now_us(), ts);
    json_object *line = json_object_new_object();
    json_object_object_add(line, "ts", json_object_new_string(ts));
    json_object_object_add(line, "level", json_object_new_string(g_names[level]));
    json_object_object_add(line, "msg", json_object_new_string(msg ? msg : ""));
    if (fields && json_object_is_type(fields, json_type_object)) {
        json_object_object_foreach(fields, k, v)
        {
            json_object_object_add(line, k, json_object_get(v));
        }
    }
    json_object_put(fields);
    if (tl_trace[0] && !json_object_object_get_ex(line, "trace_id", NULL))
        json_object_object_add(line, "trace_id", json_object_new_string(tl_trace));
    size_t len = 0;
    const char *text = json_object_to_json_string_length(
        line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
    char stackbuf[2048];
    char *buf = len + 2 <= sizeof stackbuf ? stackbuf : NULL;
    if (buf) {
        memcpy(buf, text, len);
        buf[len] = '\n';
        ssize_t w = write(STDERR_FILENO, buf, len + 1);
        (void)w;
    } else {
        /* A long line: two writes, still one line per writer in practice. */
        ssize_t w = write(STDERR_FILENO, text, len);
        w = write(STDERR_FILENO, "\n", 1);
        (void)w;
    }
    json_object_put(line);
}

void sv_logf(enum sv_level level, const char *fmt, ...)
{
    if (!sv_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sv_log(level, msg, NULL);
}
