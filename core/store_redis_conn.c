/*
 * store_redis_conn.c - the Redis store's connections: REDIS_URL, the pool,
 * and one round trip per call.
 *
 * Connections come from a small pool, made lazily: any thread may call in, and
 * a hiredis context is one thread's at a time.  A connection that failed is
 * closed together with the idle ones (a restarted server left them all dead),
 * so after an outage one call fails with -EIO and the next connects afresh.
 * Each call is one round trip.  SIGPIPE must be ignored (main.c does).
 */
#include "store_redis_conn.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sv_redis_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    va_list ap;
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- REDIS_URL ---- */

/* Digits at *s, at least one, at most max; *s moves past them. */
static int parse_num(const char **s, long max, int *out)
{
    long v = 0;
    const char *p = *s;
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        v = v * 10 + (*p - '0');
        if (v > max)
            return -EINVAL;
    }
    *s = p;
    *out = (int)v;
    return 0;
}

int sv_redis_url_parse(struct sv_redis *rs, const char *url, char *err, size_t errlen)
{
    static const char form[] = "expected redis://[:password@]host[:port][/db] or "
                               "unix:///path (%s)";
    if (strncmp(url, "unix://", 7) == 0) {
        if (url[7] != '/')
            return sv_redis_fail(err, errlen, -EINVAL, form, "a socket path must be absolute");
        rs->path = strdup(url + 7);
        snprintf(rs->where, sizeof rs->where, "%s", url + 7);
        return rs->path ? 0 : -ENOMEM;
    }
    if (strncmp(url, "redis://", 8) != 0)
        return sv_redis_fail(err, errlen, -EINVAL, form, "unknown scheme");
    const char *p = url + 8, *at = strrchr(p, '@'), *end;
    if (at) {
        /* Up to the last '@', taken literally: a password may hold '@', ':' or '/'. */
        p += *p == ':';
        if (at > p && !(rs->password = strndup(p, (size_t)(at - p))))
            return -ENOMEM;
        p = at + 1;
    }
    if (*p == '[') { /* [v6 address] */
        end = strchr(++p, ']');
        if (!end)
            return sv_redis_fail(err, errlen, -EINVAL, form, "unclosed '['");
    } else {
        end = p + strcspn(p, ":/");
    }
    if (end == p)
        return sv_redis_fail(err, errlen, -EINVAL, form, "no host");
    rs->host = strndup(p, (size_t)(end - p));
    if (!rs->host)
        return -ENOMEM;
    p = *end == ']' ? end + 1 : end;
    rs->port = SV_REDIS_DEFAULT_PORT;
    if (*p == ':' && (p++, parse_num(&p, 65535, &rs->port) < 0 || rs->port == 0))
        return sv_redis_fail(err, errlen, -EINVAL, form, "the port must be 1-65535");
    if (*p == '/' && *++p && parse_num(&p, 1000000, &rs->db) < 0)
        return sv_redis_fail(err, errlen, -EINVAL, form, "the database must be a number");
    if (*p)
        return sv_redis_fail(err, errlen, -EINVAL, form, "unexpected text after the address");
    snprintf(rs->where, sizeof rs->where, strchr(rs->host, ':') ? "[%s]:%d" : "%s:%d", rs->host,
             rs->port);
    return 0;
}

/* ---- connections ---- */

/* Connect, log in, pick the database and see that it answers; NULL with a
 * one-line reason in err if any of that fails. */
redisContext *sv_redis_conn_open(struct sv_redis *rs, char *err, size_t errlen)
{
    struct timeval tv = {SV_REDIS_TIMEOUT_SEC, 0};
    redisContext *c = rs->path ? redisConnectUnixWithTimeout(rs->path, tv)
                               : redisConnectWithTimeout(rs->host, rs->port, tv);
    redisReply *r = NULL;
    int ok = 0;

    if (!c || c->err) {
        sv_redis_fail(err, errlen, 0, "cannot connect to %s (%s); start Redis there or fix the URL",
                      rs->where, c ? c->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK) {
        sv_redis_fail(err, errlen, 0, "cannot set timeouts on %s (%s)", rs->where, c->errstr);
        goto out;
    }
    /* One round trip: each reply checked in order. */
    static const char *const steps[] = {"AUTH", "SELECT", "PING"};
    int sent[] = {rs->password != NULL, rs->db != 0, 1};
    if (rs->password)
        redisAppendCommand(c, "AUTH %b", rs->password, strlen(rs->password));
    if (rs->db)
        redisAppendCommand(c, "SELECT %d", rs->db);
    redisAppendCommand(c, "PING");
    for (int i = 0; i < 3; i++) {
        if (!sent[i])
            continue;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            sv_redis_fail(err, errlen, 0, "%s did not answer %s (%s)", rs->where, steps[i],
                          c->errstr);
            goto out;
        }
        if (r->type != REDIS_REPLY_STATUS) {
            const char *why = r->type == REDIS_REPLY_ERROR ? r->str : "an unexpected reply";
            const char *hint = "is it a Redis server?";
            if (i == 1)
                hint = "pick a database the server has";
            else if (i == 0 || strstr(why, "NOAUTH"))
                hint = "check the password: redis://:password@host:port";
            sv_redis_fail(err, errlen, 0, "%s refused %s (%s); %s", rs->where, steps[i], why, hint);
            goto out;
        }
        freeReplyObject(r);
        r = NULL;
    }
    ok = 1;
out:
    freeReplyObject(r);
    if (!ok && c) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

/* A connection of the pool, made if none is idle and there is room. */
int sv_redis_conn_get(struct sv_redis *rs, redisContext **out)
{
    char err[512];
    int was_down;

    pthread_mutex_lock(&rs->lock);
    while (rs->n_idle == 0 && rs->n_open >= SV_REDIS_POOL)
        pthread_cond_wait(&rs->cond, &rs->lock);
    if (rs->n_idle > 0) {
        *out = rs->idle[--rs->n_idle];
        pthread_mutex_unlock(&rs->lock);
        return 0;
    }
    rs->n_open++; /* the slot is ours while we connect without the lock */
    pthread_mutex_unlock(&rs->lock);

    *out = sv_redis_conn_open(rs, err, sizeof err);
    pthread_mutex_lock(&rs->lock);
    was_down = rs->down;
    rs->down = !*out;
    if (!*out) {
        rs->n_open--;
        pthread_cond_signal(&rs->cond);
    }
    pthread_mutex_unlock(&rs->lock);
    if (!*out && !was_down)
        sv_logf(SV_LEVEL_WARN, "%s; store calls fail until it answers", err);
    else if (*out && was_down)
        sv_logf(SV_LEVEL_INFO, "redis store at %s answers again", rs->where);
    return *out ? 0 : -EIO;
}

/* Give a connection back.  One that failed is out of step with its server,
 * and the idle ones probably died with it: all are closed. */
static void sv_redis_conn_put(struct sv_redis *rs, redisContext *c)
{
    redisContext *dead[SV_REDIS_POOL + 1];
    size_t n = 0;
    int was_down;

    pthread_mutex_lock(&rs->lock);
    if (!c->err) {
        rs->idle[rs->n_idle++] = c;
        pthread_cond_signal(&rs->cond);
        pthread_mutex_unlock(&rs->lock);
        return;
    }
    dead[n++] = c;
    while (rs->n_idle > 0)
        dead[n++] = rs->idle[--rs->n_idle];
    rs->n_open -= n;
    was_down = rs->down;
    rs->down = 1;
    pthread_cond_broadcast(&rs->cond);
    pthread_mutex_unlock(&rs->lock);
    if (!was_down)
        sv_logf(SV_LEVEL_WARN, "redis store at %s: %s; store calls fail until it answers",
                rs->where, c->errstr);
    for (size_t i = 0; i < n; i++)
        redisFree(dead[i]);
}

/* Read the replies to the n commands just appended on c, keep the last in
 * *last, and give c back.  -EIO when the connection failed or any reply is an
 * error; all n are read either way, so the stream stays in step. */
int sv_redis_finish(struct sv_redis *rs, redisContext *c, size_t n, redisReply **last)
{
    redisReply *r = NULL;
    int rc = 0;

    *last = NULL;
    for (size_t i = 0; i < n; i++) {
        freeReplyObject(r);
        r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
            rc = -EIO;
            break;
        }
        if (r->type == REDIS_REPLY_ERROR && rc == 0) {
            sv_logf(SV_LEVEL_WARN, "redis store at %s answered: %s", rs->where, r->str);
            rc = -EIO;
        }
    }
    sv_redis_conn_put(rs, c);
    if (rc < 0)
        freeReplyObject(r);
    else
        *last = r;
    return rc;
}

/* One command in one round trip: its reply in *r (caller frees). */
static int sv_redis_vcall(struct sv_redis *rs, redisReply **r, const char *fmt, va_list ap)
{
    redisContext *c;
    int rc;

    *r = NULL;
    rc = sv_redis_conn_get(rs, &c);
    if (rc < 0)
        return rc;
    redisvAppendCommand(c, fmt, ap); /* a failure sets c->err: the read fails */
    return sv_redis_finish(rs, c, 1, r);
}

int sv_redis_call(struct sv_redis *rs, redisReply **r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sv_redis_vcall(rs, r, fmt, ap);
    va_end(ap);
    return rc;
}

/* A command or script answering a count: 0 if it is positive (done), -ENOENT
 * if it is 0 (nothing there). */
int sv_redis_call01(sv_store *st, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = sv_redis_vcall((struct sv_redis *)st, &r, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = r->type != REDIS_REPLY_INTEGER ? -EIO : r->integer > 0 ? 0 : -ENOENT;
    freeReplyObject(r);
    return rc;
}

int sv_redis_reply_dup(const redisReply *r, char **out)
{
    if (r->type != REDIS_REPLY_STRING)
        return -EIO;
    *out = strndup(r->str, r->len);
    return *out ? 0 : -ENOMEM;
}

/* A command answering a string, or nil for -ENOENT: *out (malloc'd) or NULL. */
int sv_redis_call_str(sv_store *st, char **out, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    *out = NULL;
    va_start(ap, fmt);
    int rc = sv_redis_vcall((struct sv_redis *)st, &r, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = r->type == REDIS_REPLY_NIL ? -ENOENT : sv_redis_reply_dup(r, out);
    freeReplyObject(r);
    return rc;
}

int sv_redis_reply_strvec(const redisReply *r, sv_strvec *out)
{
    sv_strvec v = {NULL, 0};
    int rc = 0;

    if (r->type != REDIS_REPLY_ARRAY)
        return -EIO;
    if (r->elements > 0 && !(v.v = calloc(r->elements, sizeof *v.v)))
        return -ENOMEM;
    while (v.n < r->elements) {
        rc = sv_redis_reply_dup(r->element[v.n], &v.v[v.n]);
        if (rc < 0)
            break;
        v.n++;
    }
    if (rc < 0)
        sv_strvec_free(&v);
    else
        *out = v;
    return rc;
}

/* A command answering an array of strings, into *out (emptied first). */
int sv_redis_call_vec(sv_store *st, sv_strvec *out, const char *fmt, ...)
{
    redisReply *r = NULL;
    va_list ap;
    out->v = NULL;
    out->n = 0;
    va_start(ap, fmt);
    int rc = sv_redis_vcall((struct sv_redis *)st, &r, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = sv_redis_reply_strvec(r, out);
    freeReplyObject(r);
    return rc;
}

/* MULTI, one command per format (each given the key), EXEC: one round trip,
 * and *x (caller frees) holds exactly the k answers. */
int sv_redis_multi(struct sv_redis *rs, const char *key, const char *const *fmts, size_t k,
                   redisReply **x)
{
    redisContext *c;
    int rc = sv_redis_conn_get(rs, &c);

    *x = NULL;
    if (rc < 0)
        return rc;
    redisAppendCommand(c, "MULTI");
    for (size_t i = 0; i < k; i++)
        redisAppendCommand(c, fmts[i], key, strlen(key));
    redisAppendCommand(c, "EXEC");
    rc = sv_redis_finish(rs, c, k + 2, x);
    if (rc == 0 && ((*x)->type != REDIS_REPLY_ARRAY || (*x)->elements != k))
        rc = -EIO;
    if (rc < 0) {
        freeReplyObject(*x);
        *x = NULL;
    }
    return rc;
}
