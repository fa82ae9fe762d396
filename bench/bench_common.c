/* bench_common.c - see bench_common.h. */
#include "bench_common.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SV_BENCH_BUILDDIR
#define SV_BENCH_BUILDDIR "."
#endif
#ifndef SV_BENCH_SRCDIR
#define SV_BENCH_SRCDIR "."
#endif

#define BC_READY_MS 60000 /* valgrind makes the daemon slow to start */
#define BC_MAX_PROCS 8

/* ---- clocks and /proc ---- */

double bc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long bc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bc_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static char *read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

static long status_field(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

int bc_pstat_read(pid_t pid, bc_pstat *out)
{
    char path[64], buf[8192];
    memset(out, 0, sizeof *out);
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (!read_small(path, buf, sizeof buf))
        return -1;
    /* Fields after the command name, which may itself hold spaces and ')'. */
    const char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    out->cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
    out->user_s = (double)ut / (double)sysconf(_SC_CLK_TCK);
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (!read_small(path, buf, sizeof buf))
        return -1;
    out->rss_kib = status_field(buf, "\nVmRSS:");
    out->hwm_kib = status_field(buf, "\nVmHWM:");
    out->threads = (int)status_field(buf, "\nThreads:");
    return 0;
}

double bc_self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- children ---- */

static bc_proc *g_procs[BC_MAX_PROCS];
static volatile sig_atomic_t g_interrupted;

int bc_interrupted(void)
{
    return g_interrupted != 0;
}

static void track(bc_proc *p)
{
    for (int i = 0; i < BC_MAX_PROCS; i++) {
        if (!g_procs[i]) {
            g_procs[i] = p;
            return;
        }
    }
}

static void untrack(bc_proc *p)
{
    for (int i = 0; i < BC_MAX_PROCS; i++)
        if (g_procs[i] == p)
            g_procs[i] = NULL;
}

static void on_signal(int sig)
{
    /* Only async-signal-safe calls: kill the children at once and let the
     * waits see the flag, so the normal path reaps them and removes the
     * temp dirs.  A second signal leaves at once. */
    for (int i = 0; i < BC_MAX_PROCS; i++)
        if (g_procs[i] && g_procs[i]->pid > 0)
            kill(g_procs[i]->pid, SIGKILL);
    if (g_interrupted)
        _exit(128 + sig);
    g_interrupted = sig;
}

static void at_exit(void)
{
    for (int i = 0; i < BC_MAX_PROCS; i++)
        if (g_procs[i])
            bc_proc_stop(g_procs[i], 5000, 0);
}

void bc_init(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(at_exit);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

const char *bc_builddir(void)
{
    return env_or("SV_BUILDDIR", SV_BENCH_BUILDDIR);
}

const char *bc_srcdir(void)
{
    return env_or("SV_SRCDIR", SV_BENCH_SRCDIR);
}

static int make_dir(bc_proc *p, const char *tag)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    snprintf(p->dir, sizeof p->dir, "%s/sv-bench-%s.XXXXXX", env_or("TMPDIR", "/tmp"), tag);
    if (!mkdtemp(p->dir)) {
        fprintf(stderr, "bench: mkdtemp %s: %s\n", p->dir, strerror(errno));
        p->dir[0] = '\0';
        return -1;
    }
    snprintf(p->log_path, sizeof p->log_path, "%s/%s.log", p->dir, tag);
    return 0;
}

/* Fork and exec argv with envp; the child's output goes to p->log_path and it
 * dies with us (PR_SET_PDEATHSIG) whatever happens to this process. */
static int spawn(bc_proc *p, char *const argv[], char *const envp[])
{
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        int fd = open(p->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) {
            dup2(devnull, 0);
            close(devnull);
        }
        execvpe(argv[0], argv, envp);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    track(p);
    return 0;
}

int bc_proc_dir(bc_proc *p, const char *tag)
{
    return make_dir(p, tag);
}

int bc_proc_spawn(bc_proc *p, char *const argv[], char *const envp[])
{
    return spawn(p, argv, envp);
}

static int alive(bc_proc *p)
{
    int status;
    return p->pid > 0 && waitpid(p->pid, &status, WNOHANG) == 0;
}

int bc_proc_alive(bc_proc *p)
{
    return alive(p);
}

static int healthy(int port)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/healthz", port);
    return bc_http("GET", url, NULL, NULL) == 200;
}

static void dump_log(const bc_proc *p, const char *what)
{
    char buf[4096];
    FILE *f = fopen(p->log_path, "r");
    fprintf(stderr, "bench: %s did not start; the end of %s:\n", what, p->log_path);
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, size > 3000 ? size - 3000 : 0, SEEK_SET);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fputs(buf, stderr);
        fclose(f);
    }
}

int bc_sim_start(const char *scenario, bc_proc *sim)
{
    char bin[512], scen[512], portfile[320];
    if (make_dir(sim, "sim") < 0)
        return -1;
    snprintf(bin, sizeof bin, "%s/router-sim", bc_builddir());
    if (scenario[0] == '/')
        snprintf(scen, sizeof scen, "%s", scenario);
    else
        snprintf(scen, sizeof scen, "%s/%s", bc_srcdir(), scenario);
    snprintf(portfile, sizeof portfile, "%s/port", sim->dir);
    char *argv[] = {bin,           "--scenario",  scen,     "--listen",
                    "127.0.0.1:0", "--port-file", portfile, NULL};
    char *envp[] = {NULL};
    if (spawn(sim, argv, envp) < 0)
        return -1;
    long long deadline = bc_now_ms() + BC_READY_MS;
    while (bc_now_ms() < deadline && alive(sim) && !g_interrupted) {
        char buf[64];
        if (read_small(portfile, buf, sizeof buf)) {
            sim->port = atoi(buf);
            if (sim->port > 0 && healthy(sim->port))
                return 0;
        }
        bc_sleep_ms(10);
    }
    dump_log(sim, "router-sim");
    bc_proc_stop(sim, 2000, 0);
    return -1;
}

static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY), out = -1, rc = -1;
    char buf[65536];
    if (in < 0)
        return -1;
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (out >= 0) {
        ssize_t n;
        rc = 0;
        while ((n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                rc = -1;
        if (n < 0)
            rc = -1;
        close(out);
    }
    close(in);
    return rc;
}

/* The port from the daemon's "listening" log line. */
static int log_port(const char *path)
{
    char buf[16384];
    int port = 0;
    if (read_small(path, buf, sizeof buf)) {
        const char *line = strstr(buf, "\"msg\":\"listening\"");
        const char *p = line ? strstr(line, "\"port\":") : NULL;
        if (p)
            port = atoi(p + 7);
    }
    return port;
}

int bc_daemon_start(const char *const *plugins, const bc_proc *sim, int workers,
                    const char *wrapper, const char *const *extra_env, bc_proc *d)
{
    char bin[512], pdir[320], src[700], dst[700];
    if (make_dir(d, "daemon") < 0)
        return -1;
    snprintf(bin, sizeof bin, "%s/sofiia-supervisor", bc_builddir());
    snprintf(pdir, sizeof pdir, "%s/plugins", d->dir);
    mkdir(pdir, 0755);
    for (; plugins && *plugins; plugins++) {
        snprintf(src, sizeof src, "%s/tests/plugins/.libs/%s.so", bc_builddir(), *plugins);
        if (access(src, R_OK) != 0)
            snprintf(src, sizeof src, "%s/plugins/%s/.libs/%s.so", bc_builddir(), *plugins,
                     *plugins);
        snprintf(dst, sizeof dst, "%s/%s.so", pdir, *plugins);
        if (copy_file(src, dst) < 0) {
            fprintf(stderr, "bench: cannot copy plugin %s (was `make bench` run?)\n", src);
            return -1;
        }
    }
    static char env[40][700];
    char *envp[41];
    int n = 0;
    snprintf(env[n++], sizeof env[0], "SUPERVISOR_LISTEN=127.0.0.1:0");
    snprintf(env[n++], sizeof env[0], "PLUGIN_DIR=%s", pdir);
    snprintf(env[n++], sizeof env[0], "TMPDIR=%s", d->dir);
    snprintf(env[n++], sizeof env[0], "WORKER_THREADS=%d", workers);
    snprintf(env[n++], sizeof env[0], "GATEWAY_BASE_URL=http://127.0.0.1:%d", sim->port);
    snprintf(env[n++], sizeof env[0], "PATH=%s", env_or("PATH", "/usr/bin:/bin"));
    for (; extra_env && *extra_env && n < 40; extra_env++)
        snprintf(env[n++], sizeof env[0], "%s", *extra_env);
    for (int i = 0; i < n; i++)
        envp[i] = env[i];
    envp[n] = NULL;

    static char words[1024];
    char *argv[40];
    int argc = 0;
    snprintf(words, sizeof words, "%s", wrapper ? wrapper : "");
    char *save = NULL;
    for (char *w = strtok_r(words, " ", &save); w && argc < 38; w = strtok_r(NULL, " ", &save))
        argv[argc++] = w;
    argv[argc++] = bin;
    argv[argc] = NULL;
    if (spawn(d, argv, envp) < 0)
        return -1;
    long long deadline = bc_now_ms() + BC_READY_MS;
    while (bc_now_ms() < deadline && alive(d) && !g_interrupted) {
        d->port = log_port(d->log_path);
        if (d->port > 0 && healthy(d->port))
            return 0;
        bc_sleep_ms(10);
    }
    dump_log(d, "sofiia-supervisor");
    bc_proc_stop(d, 2000, 0);
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

int bc_proc_stop(bc_proc *p, int timeout_ms, int keep)
{
    int status = 0, rc = -1;
    untrack(p);
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        long long deadline = bc_now_ms() + timeout_ms;
        for (;;) {
            pid_t r = waitpid(p->pid, &status, WNOHANG);
            if (r == p->pid || r < 0)
                break;
            if (bc_now_ms() > deadline) {
                kill(p->pid, SIGKILL);
                waitpid(p->pid, &status, 0);
                break;
            }
            bc_sleep_ms(10);
        }
        rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        p->pid = -1;
    }
    if (!keep && p->dir[0]) {
        nftw(p->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        p->dir[0] = '\0';
    }
    return rc;
}

/* ---- following a log ---- */

void bc_tail_init(bc_tail *t, const char *path)
{
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
}

void bc_tail_free(bc_tail *t)
{
    free(t->part);
    t->part = NULL;
    t->part_len = 0;
}

long bc_tail_read(bc_tail *t, void (*fn)(void *arg, const char *line, size_t len), void *arg)
{
    int fd = open(t->path, O_RDONLY);
    long lines = 0;
    if (fd < 0)
        return 0;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, (off_t)t->off);
        if (n <= 0)
            break;
        t->off += n;
        size_t start = 0;
        for (size_t i = 0; i < (size_t)n; i++) {
            if (buf[i] != '\n')
                continue;
            if (t->part_len) {
                /* the line began in an earlier read */
                char *line = realloc(t->part, t->part_len + (i - start) + 1);
                if (!line)
                    break;
                memcpy(line + t->part_len, buf + start, i - start);
                line[t->part_len + (i - start)] = '\0';
                fn(arg, line, t->part_len + (i - start));
                free(line);
                t->part = NULL;
                t->part_len = 0;
            } else {
                buf[i] = '\0';
                fn(arg, buf + start, i - start);
            }
            lines++;
            start = i + 1;
        }
        if (start < (size_t)n) {
            char *np = realloc(t->part, t->part_len + ((size_t)n - start) + 1);
            if (np) {
                memcpy(np + t->part_len, buf + start, (size_t)n - start);
                t->part = np;
                t->part_len += (size_t)n - start;
            }
        }
    }
    close(fd);
    return lines;
}

/* ---- HTTP ---- */

typedef struct bc_buf {
    char *p;
    size_t n, cap;
} bc_buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    bc_buf *b = arg;
    size_t add = size * nmemb;
    if (b->n + add + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + add + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->n, ptr, add);
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

typedef struct slot {
    CURL *e;
    size_t idx;
    int busy;
    bc_req req;
    bc_buf resp;
} slot;

static void slot_setup(slot *s, struct curl_slist *hdr)
{
    curl_easy_setopt(s->e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(s->e, CURLOPT_WRITEDATA, &s->resp);
    curl_easy_setopt(s->e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(s->e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(s->e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(s->e, CURLOPT_PRIVATE, s);
}

static int slot_start(CURLM *m, slot *s, size_t i, void (*next)(void *, size_t, bc_req *),
                      void *arg)
{
    memset(&s->req, 0, sizeof s->req);
    s->req.method = "GET";
    next(arg, i, &s->req);
    s->idx = i;
    s->resp.n = 0;
    if (s->resp.p)
        s->resp.p[0] = '\0';
    curl_easy_setopt(s->e, CURLOPT_URL, s->req.url);
    if (strcmp(s->req.method, "POST") == 0) {
        const char *body = s->req.body ? s->req.body : "";
        curl_easy_setopt(s->e, CURLOPT_POST, 1L);
        curl_easy_setopt(s->e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(s->e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else {
        curl_easy_setopt(s->e, CURLOPT_HTTPGET, 1L);
    }
    if (curl_multi_add_handle(m, s->e) != CURLM_OK)
        return -1;
    s->busy = 1;
    return 0;
}

int bc_pool_run(int concurrency, size_t total, void (*next)(void *arg, size_t i, bc_req *req),
                void (*done)(void *arg, size_t i, long status, const char *body, size_t len),
                void *arg, long timeout_ms, bc_pool_result *res)
{
    int rc = 0;
    memset(res, 0, sizeof *res);
    if (concurrency < 1)
        concurrency = 1;
    if ((size_t)concurrency > total)
        concurrency = total > 0 ? (int)total : 1;
    CURLM *m = curl_multi_init();
    slot *slots = calloc((size_t)concurrency, sizeof *slots);
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    if (!m || !slots || !hdr) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    for (int k = 0; k < concurrency; k++) {
        slots[k].e = curl_easy_init();
        slot_setup(&slots[k], hdr);
    }
    double cpu0 = bc_self_cpu(), t0 = bc_now();
    long long deadline = bc_now_ms() + timeout_ms;
    size_t issued = 0, inflight = 0;
    while (issued < total || inflight > 0) {
        for (int k = 0; k < concurrency && issued < total && !g_interrupted; k++) {
            if (slots[k].busy)
                continue;
            if (slot_start(m, &slots[k], issued, next, arg) < 0) {
                fprintf(stderr, "bench: curl_multi_add_handle failed\n");
                exit(1);
            }
            issued++;
            inflight++;
        }
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            if (msg->data.result == CURLE_OK) {
                curl_easy_getinfo(s->e, CURLINFO_RESPONSE_CODE, &status);
                res->done++;
                if (status < 200 || status > 299) {
                    if (!res->non2xx++) {
                        res->first_bad_status = status;
                        snprintf(res->first_error, sizeof res->first_error, "HTTP %ld: %.120s",
                                 status, s->resp.p ? s->resp.p : "");
                    }
                }
            } else {
                if (!res->transport++)
                    snprintf(res->first_error, sizeof res->first_error, "%s",
                             curl_easy_strerror(msg->data.result));
            }
            curl_multi_remove_handle(m, s->e);
            s->busy = 0;
            inflight--;
            done(arg, s->idx, status, s->resp.p ? s->resp.p : "", s->resp.n);
            free(s->req.body);
            s->req.body = NULL;
            /* start the next one at once on the same (kept-alive) handle */
            if (issued < total && !g_interrupted) {
                if (slot_start(m, s, issued, next, arg) < 0) {
                    fprintf(stderr, "bench: curl_multi_add_handle failed\n");
                    exit(1);
                }
                issued++;
                inflight++;
            }
        }
        if (inflight == 0 && issued >= total)
            break;
        if (g_interrupted) {
            rc = -1;
            break;
        }
        if (bc_now_ms() > deadline) {
            fprintf(stderr, "bench: %zu request(s) still open after %ld ms: giving up\n", inflight,
                    timeout_ms);
            rc = -1;
            break;
        }
        curl_multi_poll(m, NULL, 0, 100, NULL);
    }
    res->wall_s = bc_now() - t0;
    res->client_cpu_s = bc_self_cpu() - cpu0;
    for (int k = 0; k < concurrency; k++) {
        if (slots[k].busy)
            curl_multi_remove_handle(m, slots[k].e);
        curl_easy_cleanup(slots[k].e);
        free(slots[k].req.body);
        free(slots[k].resp.p);
    }
    curl_multi_cleanup(m);
    curl_slist_free_all(hdr);
    free(slots);
    return rc;
}

long bc_http(const char *method, const char *url, const char *req_body, char **body)
{
    CURL *e = curl_easy_init();
    bc_buf b = {0};
    long status = 0;
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    hdr = curl_slist_append(hdr, "Expect:");
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    if (req_body || strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req_body ? req_body : "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)(req_body ? strlen(req_body) : 0));
    }
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdr);
    if (body)
        *body = b.p ? b.p : strdup("");
    else
        free(b.p);
    return status;
}

/* ---- Redis ---- */

int bc_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* ---- helpers ---- */

int bc_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bc_median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, bc_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

long bc_opt_long(const char *name, const char *v, long min, long max)
{
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || n < min || n > max) {
        fprintf(stderr, "bench: %s needs a whole number in %ld..%ld\n", name, min, max);
        exit(2);
    }
    return n;
}

void bc_machine(char *buf, size_t len)
{
    char cpu[8192], model[128] = "unknown CPU", load[64] = "?";
    if (read_small("/proc/cpuinfo", cpu, sizeof cpu)) {
        const char *p = strstr(cpu, "model name");
        p = p ? strchr(p, ':') : NULL;
        if (p) {
            p += 2;
            size_t n = strcspn(p, "\n");
            snprintf(model, sizeof model, "%.*s", (int)n, p);
        }
    }
    if (read_small("/proc/loadavg", load, sizeof load))
        load[strcspn(load, " ")] = '\0';
    snprintf(buf, len, "%ld online CPU(s), %s, load average %s", sysconf(_SC_NPROCESSORS_ONLN),
             model, load);
}
