/*
 * store_redis_conn.c - the Redis store's connection: REDIS_URL, and the
 * pipeline every call goes through.
 *
 * One connection, owned by one thread (the pipe).  Callers format their
 * commands (RESP text) and queue them; the pipe takes everything queued,
 * writes it in one go, reads the replies in order and hands each caller its
 * own.  So the writes of every run that reached a checkpoint while the last
 * flush was on the wire share the next flush (group commit), and Redis sees
 * few large writes instead of many small ones.  A caller's commands are
 * contiguous on the wire, so MULTI ... EXEC keeps its meaning.  A caller
 * waiting for its replies gives its CPU slot away (pool.h).  Commands posted
 * without waiting (an event a follower should see at once) are written in
 * the same order as the rest, so a later waited write lands after them.
 *
 * A connection that failed is closed; the calls of that flush fail with
 * -EIO, and the next flush connects afresh.  SIGPIPE must be ignored
 * (main.c does).
 */
#include "store_redis_conn.h"
#include "log.h"
#include "pool.h"
#include "util.h"

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

/* One caller's commands and, when it waits, their replies. */
struct sv_redis_req {
    char *cmd; /* formatted commands, back to back */
    size_t len, n;
    redisReply **replies; /* n of them, when waited for; NULL: posted */
    int rc;
    int done;
    pthread_cond_t *cond; /* the waiter's */
    struct sv_redis_req *next;
};

static void set_down(struct sv_redis *rs, int down, const char *why)
{
    pthread_mutex_lock(&rs->lock);
    int was = rs->down;
    rs->down = down;
    pthread_mutex_unlock(&rs->lock);
    if (down && !was)
        sv_logf(SV_LEVEL_WARN, "%s; store calls fail until it answers", why);
    else if (!down && was)
        sv_logf(SV_LEVEL_INFO, "redis store at %s answers again", rs->where);
}

/* An error reply in the log: at most one line a second, with how many
 * were left out (a full Redis answers every write with one). */
static void sv_log_limited(struct sv_redis *rs, const char *what)
{
    int64_t now = sv_mono_ms();
    if (now - rs->err_logged_ms < 1000) {
        rs->err_suppressed++;
        return;
    }
    if (rs->err_suppressed)
        sv_logf(SV_LEVEL_WARN, "redis store at %s answered: %s (and %llu more errors)", rs->where,
                what, (unsigned long long)rs->err_suppressed);
    else
        sv_logf(SV_LEVEL_WARN, "redis store at %s answered: %s", rs->where, what);
    rs->err_logged_ms = now;
    rs->err_suppressed = 0;
}

/* On the pipe thread: write a batch and read its replies. */
static void flush_batch(struct sv_redis *rs, struct sv_redis_req *batch)
{
    char err[512];
    if (!rs->conn) {
        rs->conn = sv_redis_conn_open(rs, err, sizeof err);
        rs->conn_loaded = 0;
        set_down(rs, !rs->conn, err);
    }
    redisContext *c = rs->conn;
    if (c && !rs->conn_loaded) {
        /* Scripts go by digest (EVALSHA), and a posted write has nobody to
         * resend one the server lacks: load them on every new connection. */
        for (size_t i = 0; i < rs->n_scripts; i++)
            redisAppendCommand(c, "SCRIPT LOAD %s", rs->scripts[i]);
        int ok = 1;
        for (size_t i = 0; i < rs->n_scripts; i++) {
            redisReply *x = NULL;
            if (redisGetReply(c, (void **)&x) != REDIS_OK || !x || x->type != REDIS_REPLY_STRING)
                ok = 0;
            freeReplyObject(x);
            if (c->err)
                break;
        }
        rs->conn_loaded = ok;
    }
    for (struct sv_redis_req *r = batch; c && r; r = r->next)
        if (redisAppendFormattedCommand(c, r->cmd, r->len) != REDIS_OK)
            break;
    rs->flushes++;
    for (struct sv_redis_req *r = batch; r; r = r->next) {
        r->rc = 0;
        for (size_t i = 0; i < r->n; i++) {
            redisReply *x = NULL;
            if (!c || c->err || redisGetReply(c, (void **)&x) != REDIS_OK || !x) {
                r->rc = -EIO;
                sv_store_error_count(SV_STORE_ERR_UNAVAILABLE);
                break;
            }
            if (x->type == REDIS_REPLY_ERROR && r->rc == 0) {
                /* A script missing from the server's cache is the caller's
                 * to handle (it sends the script itself): not worth a line.
                 * A full server (maxmemory) is said as such. */
                int oom = strncmp(x->str, "OOM", 3) == 0 || strstr(x->str, "OOM command") != NULL;
                if (strncmp(x->str, "NOSCRIPT", 8) != 0) {
                    sv_log_limited(rs, x->str);
                    sv_store_error_count(oom ? SV_STORE_ERR_FULL : SV_STORE_ERR_REPLY);
                }
                r->rc = oom ? -ENOSPC : -EIO;
            }
            if (r->replies)
                r->replies[i] = x;
            else
                freeReplyObject(x);
        }
    }
    if (c && c->err) {
        snprintf(err, sizeof err, "redis store at %s: %s", rs->where, c->errstr);
        redisFree(c);
        rs->conn = NULL;
        set_down(rs, 1, err);
    }
}

static void *pipe_main(void *arg)
{
    struct sv_redis *rs = arg;
    pthread_mutex_lock(&rs->lock);
    for (;;) {
        while (!rs->q_head && !rs->stopping)
            pthread_cond_wait(&rs->q_cond, &rs->lock);
        if (!rs->q_head)
            break; /* stopping, and nothing left to write */
        struct sv_redis_req *batch = rs->q_head;
        rs->q_head = rs->q_tail = NULL;
        pthread_mutex_unlock(&rs->lock);
        flush_batch(rs, batch);
        pthread_mutex_lock(&rs->lock);
        while (batch) {
            struct sv_redis_req *r = batch;
            batch = r->next;
            if (r->cond) {
                r->done = 1;
                pthread_cond_signal(r->cond);
            } else {
                free(r->cmd);
                free(r);
            }
        }
    }
    pthread_mutex_unlock(&rs->lock);
    return NULL;
}

int sv_redis_pipe_start(struct sv_redis *rs)
{
    pthread_cond_init(&rs->q_cond, NULL);
    int rc = -pthread_create(&rs->pipe, NULL, pipe_main, rs);
    if (rc == 0)
        rs->pipe_started = 1;
    return rc;
}

void sv_redis_pipe_stop(struct sv_redis *rs)
{
    if (!rs->pipe_started)
        return;
    pthread_mutex_lock(&rs->lock);
    rs->stopping = 1;
    pthread_cond_signal(&rs->q_cond);
    pthread_mutex_unlock(&rs->lock);
    pthread_join(rs->pipe, NULL);
    rs->pipe_started = 0;
    if (rs->conn)
        redisFree(rs->conn);
    rs->conn = NULL;
    pthread_cond_destroy(&rs->q_cond);
}

static void enqueue(struct sv_redis *rs, struct sv_redis_req *r)
{
    r->next = NULL;
    if (rs->q_tail)
        rs->q_tail->next = r;
    else
        rs->q_head = r;
    rs->q_tail = r;
    pthread_cond_signal(&rs->q_cond);
}

int sv_redis_exec(struct sv_redis *rs, const char *cmd, size_t len, size_t n, redisReply **replies)
{
    pthread_cond_t cond;
    struct sv_redis_req r = {.cmd = (char *)cmd, .len = len, .n = n, .replies = replies};
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (!cmd)
        return -ENOMEM;
    pthread_cond_init(&cond, NULL);
    r.cond = &cond;
    /* The round trip holds no CPU slot: other runs execute meanwhile. */
    sv_pool_block_begin(SV_POOL_WAIT_STORE);
    pthread_mutex_lock(&rs->lock);
    if (rs->stopping) {
        r.rc = -EIO;
        r.done = 1;
    } else {
        enqueue(rs, &r);
    }
    while (!r.done)
        pthread_cond_wait(&cond, &rs->lock);
    pthread_mutex_unlock(&rs->lock);
    sv_pool_block_end();
    pthread_cond_destroy(&cond);
    /* After an error reply the caller may look at the replies (NOSCRIPT);
     * after a short read there is nothing worth looking at. */
    if (r.rc < 0 && n > 0 && !replies[n - 1]) {
        for (size_t i = 0; i < n; i++) {
            freeReplyObject(replies[i]);
            replies[i] = NULL;
        }
    }
    return r.rc;
}

int sv_redis_post(struct sv_redis *rs, char *cmd, size_t len, size_t n)
{
    struct sv_redis_req *r = cmd ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        free(cmd);
        return -ENOMEM;
    }
    r->cmd = cmd;
    r->len = len;
    r->n = n;
    pthread_mutex_lock(&rs->lock);
    int stopping = rs->stopping;
    if (!stopping)
        enqueue(rs, r);
    pthread_mutex_unlock(&rs->lock);
    if (stopping) {
        free(cmd);
        free(r);
        return -EIO;
    }
    return 0;
}

int sv_redis_buf_add(struct sv_redis_buf *b, const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = redisvFormatCommand(&cmd, fmt, ap);
    va_end(ap);
    return sv_redis_buf_take(b, cmd, len);
}

int sv_redis_buf_take(struct sv_redis_buf *b, char *cmd, int len)
{
    if (len < 0 || !cmd || b->failed) {
        free(cmd);
        b->failed = 1;
        return -ENOMEM;
    }
    if (b->len + (size_t)len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + (size_t)len + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            free(cmd);
            b->failed = 1;
            return -ENOMEM;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, cmd, (size_t)len);
    b->len += (size_t)len;
    b->s[b->len] = '\0';
    b->n++;
    free(cmd);
    return 0;
}

void sv_redis_buf_free(struct sv_redis_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* Send b's commands and wait; the last reply in *last (caller frees). */
int sv_redis_buf_exec(struct sv_redis *rs, struct sv_redis_buf *b, redisReply **last)
{
    redisReply *one[8], **all = b->n <= 8 ? one : calloc(b->n, sizeof *all);
    int rc = b->failed || !all ? -ENOMEM : sv_redis_exec(rs, b->s, b->len, b->n, all);
    *last = NULL;
    if (rc == 0) {
        for (size_t i = 0; i + 1 < b->n; i++)
            freeReplyObject(all[i]);
        *last = all[b->n - 1];
    } else if (all) {
        for (size_t i = 0; i < b->n; i++)
            freeReplyObject(all[i]);
    }
    if (all != one)
        free(all);
    sv_redis_buf_free(b);
    return rc;
}

/* One command in one round trip: its reply in *r (caller frees). */
static int sv_redis_vcall(struct sv_redis *rs, redisReply **r, const char *fmt, va_list ap)
{
    char *cmd = NULL;
    int len = redisvFormatCommand(&cmd, fmt, ap);
    *r = NULL;
    if (len < 0)
        return -ENOMEM;
    int rc = sv_redis_exec(rs, cmd, (size_t)len, 1, r);
    free(cmd);
    if (rc < 0) {
        freeReplyObject(*r);
        *r = NULL;
    }
    return rc;
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
    struct sv_redis_buf b = {0};
    sv_redis_buf_add(&b, "MULTI");
    for (size_t i = 0; i < k; i++)
        sv_redis_buf_add(&b, fmts[i], key, strlen(key));
    sv_redis_buf_add(&b, "EXEC");
    int rc = sv_redis_buf_exec(rs, &b, x);
    if (rc == 0 && ((*x)->type != REDIS_REPLY_ARRAY || (*x)->elements != k))
        rc = -EIO;
    if (rc < 0) {
        freeReplyObject(*x);
        *x = NULL;
    }
    return rc;
}
