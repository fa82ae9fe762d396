/* crash.c - see crash.h.  Everything the handler calls is async-signal-safe:
 * it copies bytes into buffers of its own and calls write(2), raise(3). */
#include "crash.h"
#include "log.h"
#include "store.h"

#include <pthread.h>
#include <stdio.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the crashing thread was doing: copied in by sv_crash_enter, so the
 * handler never follows a pointer into a plugin's memory. */
typedef struct crash_ctx {
    int active;
    char run_id[64], graph[65], version[33], node[65];
} crash_ctx;

static _Thread_local crash_ctx tl_ctx;
static _Thread_local void *tl_altstack;
static int g_redis_fd = -1;

/* Records one crash: the run's count (only while the run exists) and its
 * graph version's. */
static const char g_script[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], '" SV_CRASH_FIELD
    "', 1) end\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[1], 1)\n"
    "return 1\n";

static void copy(char *dst, size_t len, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i + 1 < len; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

void sv_crash_enter(const char *run_id, const char *graph, const char *version, const char *node)
{
    copy(tl_ctx.run_id, sizeof tl_ctx.run_id, run_id);
    copy(tl_ctx.graph, sizeof tl_ctx.graph, graph);
    copy(tl_ctx.version, sizeof tl_ctx.version, version);
    copy(tl_ctx.node, sizeof tl_ctx.node, node);
    tl_ctx.active = 1;
}

void sv_crash_leave(void)
{
    tl_ctx.active = 0;
}

/* A growing buffer of fixed size, filled without libc's formatting. */
typedef struct sbuf {
    char b[2048];
    size_t n;
} sbuf;

static void put(sbuf *s, const char *p, size_t len)
{
    for (size_t i = 0; i < len && s->n < sizeof s->b; i++)
        s->b[s->n++] = p[i];
}

static void puts_(sbuf *s, const char *p)
{
    put(s, p, strlen(p));
}

/* A JSON string of names the daemon checked (no quotes or controls in
 * them); anything else is dropped rather than escaped. */
static void put_jstr(sbuf *s, const char *p)
{
    puts_(s, "\"");
    for (; *p; p++)
        if ((unsigned char)*p >= 0x20 && *p != '"' && *p != '\\')
            put(s, p, 1);
    puts_(s, "\"");
}

static void put_num(sbuf *s, unsigned long v)
{
    char d[24];
    int i = 0;
    do {
        d[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && i < 24);
    while (i > 0)
        put(s, &d[--i], 1);
}

/* A RESP bulk string. */
static void put_bulk(sbuf *s, const char *p, size_t len)
{
    puts_(s, "$");
    put_num(s, (unsigned long)len);
    puts_(s, "\r\n");
    put(s, p, len);
    puts_(s, "\r\n");
}

static const char *signame(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    default:
        return "signal";
    }
}

static void on_fatal(int sig)
{
    int saved = errno;
    sbuf line = {.n = 0};
    puts_(&line, "{\"level\":\"fatal\",\"msg\":\"crashed\",\"signal\":");
    put_jstr(&line, signame(sig));
    if (tl_ctx.active) {
        puts_(&line, ",\"run_id\":");
        put_jstr(&line, tl_ctx.run_id);
        puts_(&line, ",\"graph\":");
        put_jstr(&line, tl_ctx.graph);
        puts_(&line, ",\"graph_version\":");
        put_jstr(&line, tl_ctx.version);
        puts_(&line, ",\"node\":");
        put_jstr(&line, tl_ctx.node);
        /* the run's trace, set by the executor around the step (log.h) */
        if (sv_log_trace()[0]) {
            puts_(&line, ",\"trace_id\":");
            put_jstr(&line, sv_log_trace());
        }
    } else {
        puts_(&line, ",\"where\":\"outside any node\"");
    }
    puts_(&line, "}\n");
    ssize_t w = write(STDERR_FILENO, line.b, line.n);
    (void)w;
    if (g_redis_fd >= 0 && tl_ctx.active) {
        static sbuf cmd; /* static: the handler's stack may be small */
        char key[96], field[128];
        sbuf k = {.n = 0}, f = {.n = 0};
        puts_(&k, "sv:{");
        puts_(&k, tl_ctx.run_id);
        puts_(&k, "}");
        puts_(&f, tl_ctx.graph);
        puts_(&f, "@");
        puts_(&f, tl_ctx.version);
        memcpy(key, k.b, k.n < sizeof key ? k.n : sizeof key - 1);
        memcpy(field, f.b, f.n < sizeof field ? f.n : sizeof field - 1);
        cmd.n = 0;
        puts_(&cmd, "*6\r\n");
        put_bulk(&cmd, "EVAL", 4);
        put_bulk(&cmd, g_script, sizeof g_script - 1);
        put_bulk(&cmd, "2", 1);
        put_bulk(&cmd, key, k.n < sizeof key ? k.n : sizeof key - 1);
        put_bulk(&cmd, SV_CRASH_KEY, sizeof SV_CRASH_KEY - 1);
        put_bulk(&cmd, field, f.n < sizeof field ? f.n : sizeof field - 1);
        /* Redis acts on it once it arrives; the process need not wait. */
        w = write(g_redis_fd, cmd.b, cmd.n);
        (void)w;
    }
    errno = saved;
    /* SA_RESETHAND put the default action back: die of the same signal. */
    raise(sig);
}

void sv_crash_thread_init(void)
{
    if (tl_altstack)
        return;
    stack_t ss = {.ss_size = 64 * 1024, .ss_flags = 0};
    ss.ss_sp = malloc(ss.ss_size);
    if (ss.ss_sp && sigaltstack(&ss, NULL) == 0)
        tl_altstack = ss.ss_sp;
    else
        free(ss.ss_sp);
    /* The stack is the thread's until it exits; a pool thread that exits
     * leaves 64 KiB behind, a few times at most per idle period. */
}

void sv_crash_thread_fini(void)
{
    if (!tl_altstack)
        return;
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(tl_altstack);
    tl_altstack = NULL;
}

/* The quarantined versions: few, read by every start. */
static pthread_mutex_t g_qlock = PTHREAD_MUTEX_INITIALIZER;
static sv_strvec g_quarantined; /* "graph@version", count, ... */

void sv_crash_quarantine_set(const sv_strvec *pairs, int threshold)
{
    sv_strvec q = {0};
    size_t n = 0;
    for (size_t i = 0; threshold > 0 && i + 1 < pairs->n; i += 2)
        n += atol(pairs->v[i + 1]) >= threshold;
    if (n && (q.v = calloc(2 * n, sizeof *q.v))) {
        for (size_t i = 0; i + 1 < pairs->n; i += 2) {
            if (atol(pairs->v[i + 1]) < threshold)
                continue;
            q.v[q.n] = strdup(pairs->v[i]);
            q.v[q.n + 1] = strdup(pairs->v[i + 1]);
            if (!q.v[q.n] || !q.v[q.n + 1]) {
                free(q.v[q.n]);
                free(q.v[q.n + 1]);
                break;
            }
            q.n += 2;
        }
    }
    pthread_mutex_lock(&g_qlock);
    for (size_t i = 0; i < q.n; i += 2) {
        int known = 0;
        for (size_t j = 0; j < g_quarantined.n && !known; j += 2)
            known = strcmp(g_quarantined.v[j], q.v[i]) == 0;
        if (!known)
            sv_logf(SV_LEVEL_ERROR,
                    "graph quarantined: %s crashed the daemon %s times (QUARANTINE_CRASHES=%d); "
                    "starts are refused until another version is loaded",
                    q.v[i], q.v[i + 1], threshold);
    }
    sv_strvec old = g_quarantined;
    g_quarantined = q;
    pthread_mutex_unlock(&g_qlock);
    sv_strvec_free(&old);
}

int sv_crash_quarantined(const char *graph, const char *version, long *count)
{
    char key[160];
    int found = 0;
    snprintf(key, sizeof key, "%s@%s", graph, version);
    pthread_mutex_lock(&g_qlock);
    for (size_t i = 0; i + 1 < g_quarantined.n && !found; i += 2) {
        if (strcmp(g_quarantined.v[i], key) == 0) {
            found = 1;
            *count = atol(g_quarantined.v[i + 1]);
        }
    }
    pthread_mutex_unlock(&g_qlock);
    return found;
}

int sv_crash_install(int redis_fd)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sa.sa_flags = SA_ONSTACK | SA_RESETHAND | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    g_redis_fd = redis_fd;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) < 0)
            return -errno;
    sv_crash_thread_init();
    return 0;
}
