/* harness.c - see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TH_READY_MS 20000

long long th_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The pause between two looks at a condition polled against a deadline. */
void th_poll_pause(void)
{
    struct timespec ts = {0, 10 * 1000000};
    nanosleep(&ts, NULL);
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

const char *th_src(const char *rel, char *buf, size_t len)
{
    if (rel[0] == '/')
        snprintf(buf, len, "%s", rel);
    else
        snprintf(buf, len, "%s/%s", env_or("SV_SRCDIR", "."), rel);
    return buf;
}

const char *th_plugin_path(const char *name, char *buf, size_t len)
{
    const char *b = env_or("SV_BUILDDIR", ".");
    snprintf(buf, len, "%s/plugins/%s/.libs/%s.so", b, name, name);
    if (access(buf, R_OK) != 0)
        snprintf(buf, len, "%s/tests/plugins/.libs/%s.so", b, name);
    return buf;
}

char *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, 4096, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

static int copy_file(const char *src, const char *dst)
{
    size_t len = 0;
    char *data = th_read_file(src, &len);
    if (!data)
        return -1;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s.tmp", dst);
    FILE *f = fopen(tmp, "wb");
    int rc = -1;
    if (f) {
        rc = fwrite(data, 1, len, f) == len ? 0 : -1;
        fclose(f);
        if (rc == 0)
            rc = rename(tmp, dst);
    }
    free(data);
    return rc;
}

/* The private dirs this test program made: removed when it exits (a CI
 * run makes a thousand of them, with plugin copies), unless SV_TEST_KEEP is
 * set to look at the logs afterwards. */
static char **g_dirs;
static size_t g_n_dirs;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void remove_dirs(void)
{
    const char *keep = getenv("SV_TEST_KEEP");
    for (size_t i = 0; i < g_n_dirs; i++) {
        if (!keep || !*keep)
            nftw(g_dirs[i], rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(g_dirs[i]);
    }
    free(g_dirs);
    g_dirs = NULL;
    g_n_dirs = 0;
}

static void note_dir(const char *dir)
{
    char **v = realloc(g_dirs, (g_n_dirs + 1) * sizeof *v);
    if (!v)
        return;
    g_dirs = v;
    if ((g_dirs[g_n_dirs] = strdup(dir)) == NULL)
        return;
    if (g_n_dirs++ == 0)
        atexit(remove_dirs);
}

static int make_dir(th_proc *p, const char *tag)
{
    memset(p, 0, sizeof *p);
    p->pid = -1;
    snprintf(p->dir, sizeof p->dir, "%s/sv-%s.XXXXXX", env_or("TMPDIR", "/tmp"), tag);
    if (!mkdtemp(p->dir))
        return -1;
    note_dir(p->dir);
    return 0;
}

/* Fork and exec argv with envp, stdout+stderr to log_path. */
static pid_t spawn(char *const argv[], char *const envp[], const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
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
    execvpe(argv[0], argv, envp); /* the wrapper (valgrind) is found on PATH */
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int th_proc_alive(th_proc *p)
{
    if (p->pid <= 0)
        return 0;
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r == p->pid) {
        p->pid = -status - 1000; /* remember that it is gone */
        return 0;
    }
    return r == 0;
}

static int proc_stop(th_proc *p, int timeout_ms)
{
    if (p->pid < -999) {
        int status = -(p->pid + 1000);
        p->pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    long long deadline = th_mono_ms() + timeout_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid)
            break;
        if (th_mono_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        th_poll_pause();
    }
    p->pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int th_proc_stop(th_proc *p, int timeout_ms)
{
    int rc = proc_stop(p, timeout_ms);
    if (p->store) {
        /* after the daemon: it must not see its store go first */
        proc_stop(p->store, 5000);
        free(p->store);
        p->store = NULL;
    }
    return rc;
}

/* argv from a space-separated wrapper (e.g. valgrind and its flags) + rest. */
static int build_argv(char **argv, int max, char *wrapper, char *const *rest)
{
    int n = 0;
    for (char *tok = wrapper ? strtok(wrapper, " ") : NULL; tok && n < max - 1;
         tok = strtok(NULL, " "))
        argv[n++] = tok;
    for (; rest && *rest && n < max - 1; rest++)
        argv[n++] = *rest;
    argv[n] = NULL;
    return n;
}

static int wait_http_ok(th_proc *p, int port, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        if (!th_proc_alive(p))
            return -1;
        th_resp r;
        if (th_http("GET", port, "/healthz", NULL, NULL, &r) == 0 && r.status == 200) {
            th_resp_free(&r);
            return 0;
        }
        th_resp_free(&r);
        th_poll_pause();
    }
    return -1;
}

static void dump_log(const th_proc *p, const char *what)
{
    char *log = th_read_file(p->log_path, NULL);
    fprintf(stderr, "--- %s failed to start; its output:\n%s\n---\n", what, log ? log : "");
    free(log);
}

int th_sim_start(const char *scenario, const char *const *extra_args, th_proc *sim)
{
    char bin[512], scen[512], portfile[300], listen[] = "127.0.0.1:0";
    if (make_dir(sim, "sim") < 0)
        return -1;
    snprintf(bin, sizeof bin, "%s/router-sim", env_or("SV_BUILDDIR", "."));
    th_src(scenario, scen, sizeof scen);
    snprintf(sim->log_path, sizeof sim->log_path, "%s/sim.log", sim->dir);
    snprintf(sim->aux_path, sizeof sim->aux_path, "%s/requests.jsonl", sim->dir);
    snprintf(portfile, sizeof portfile, "%s/port", sim->dir);
    char *argv[32];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--scenario";
    argv[n++] = scen;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--port-file";
    argv[n++] = portfile;
    argv[n++] = "--record";
    argv[n++] = sim->aux_path;
    for (; extra_args && *extra_args && n < 31; extra_args++)
        argv[n++] = (char *)*extra_args;
    argv[n] = NULL;
    char *envp[] = {NULL};
    sim->pid = spawn(argv, envp, sim->log_path);
    if (sim->pid < 0)
        return -1;
    long long deadline = th_mono_ms() + TH_READY_MS;
    while (th_mono_ms() < deadline) {
        char *text = th_read_file(portfile, NULL);
        if (text) {
            sim->port = atoi(text);
            free(text);
            if (sim->port > 0 && wait_http_ok(sim, sim->port, TH_READY_MS) == 0)
                return 0;
            break;
        }
        if (!th_proc_alive(sim))
            break;
        th_poll_pause();
    }
    dump_log(sim, "router-sim");
    th_proc_stop(sim, 2000);
    return -1;
}

/* A loopback port nobody listens on right now (the kernel's pick). */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Does a Redis server answer PING on 127.0.0.1:port?  "-NOAUTH" counts: it
 * is up and only wants a password. */
static int redis_answers(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {1, 0};
    char buf[64] = {0};
    int ok = 0, fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "PING\r\n", 6) == 6 &&
        read(fd, buf, sizeof buf - 1) > 0)
        ok = strncmp(buf, "+PONG", 5) == 0 || strncmp(buf, "-NOAUTH", 7) == 0;
    close(fd);
    return ok;
}

static int redis_try_start(int port, const char *const *extra_args, th_proc *r)
{
    char portstr[16], sock[300];
    if (make_dir(r, "redis") < 0)
        return -1;
    r->port = port;
    snprintf(portstr, sizeof portstr, "%d", port);
    snprintf(r->log_path, sizeof r->log_path, "%s/redis.log", r->dir);
    snprintf(sock, sizeof sock, "%s/redis.sock", r->dir);
    /* sun_path holds 108 bytes with the NUL. */
    if (snprintf(r->aux_path, sizeof r->aux_path, "%s", sock) >= 108) {
        fprintf(stderr, "th_redis_start: socket path %s is too long; use a shorter TMPDIR\n", sock);
        return -1;
    }
    char *argv[48];
    int n = 0;
    argv[n++] = "redis-server";
    argv[n++] = "--port";
    argv[n++] = portstr;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1";
    argv[n++] = "--save";
    argv[n++] = "";
    argv[n++] = "--appendonly";
    argv[n++] = "no";
    argv[n++] = "--dir";
    argv[n++] = r->dir;
    argv[n++] = "--unixsocket";
    argv[n++] = r->aux_path;
    argv[n++] = "--unixsocketperm";
    argv[n++] = "700";
    for (; extra_args && *extra_args && n < 47; extra_args++)
        argv[n++] = (char *)*extra_args;
    argv[n] = NULL;
    char *envp[] = {NULL};
    r->pid = spawn(argv, envp, r->log_path);
    if (r->pid < 0)
        return -1;
    long long deadline = th_mono_ms() + TH_READY_MS;
    while (th_mono_ms() < deadline) {
        if (redis_answers(port))
            return 0;
        if (!th_proc_alive(r))
            break;
        th_poll_pause();
    }
    return -1;
}

int th_redis_start_args(int port, const char *const *extra_args, th_proc *r)
{
    /* A port picked here can be taken before redis-server binds it: then
     * it exits at once, and another pick is tried. */
    for (int attempt = 0; attempt < 3; attempt++) {
        int p = port > 0 ? port : free_port();
        if (p > 0 && redis_try_start(p, extra_args, r) == 0)
            return 0;
        if (r->dir[0])
            dump_log(r, "redis-server");
        /* 127: not found on PATH, which another try will not change. */
        if (th_proc_stop(r, 2000) == 127 || port > 0)
            break;
    }
    fprintf(stderr, "th_redis_start: redis-server did not answer; is it installed and on PATH "
                    "(Debian: apt-get install redis-server)?\n");
    return -1;
}

int th_redis_start(th_proc *r)
{
    return th_redis_start_args(0, NULL, r);
}

int th_redis_start_port(int port, th_proc *r)
{
    return th_redis_start_args(port, NULL, r);
}

int th_redis_stop(th_proc *r)
{
    return th_proc_stop(r, 5000);
}

const char *th_plugin_dir(const th_proc *d, char *buf, size_t len)
{
    snprintf(buf, len, "%s/plugins", d->dir);
    return buf;
}

/* The port from the daemon's "listening" log line. */
static int read_port(const th_proc *d)
{
    char *log = th_read_file(d->log_path, NULL);
    int port = 0;
    for (char *line = log ? strstr(log, "\"msg\":\"listening\"") : NULL; line;) {
        char *p = strstr(line, "\"port\":");
        if (p)
            port = atoi(p + 7);
        break;
    }
    free(log);
    return port;
}

/* Under SV_TEST_STORE=redis, a redis-server for a daemon whose env does not
 * name one; its REDIS_URL into buf. */
static int store_for(th_proc *d, const char *const *env, char *buf, size_t len)
{
    const char *want = getenv("SV_TEST_STORE");
    if (!want || strcmp(want, "redis") != 0)
        return 0;
    for (const char *const *e = env; e && *e; e++)
        if (strncmp(*e, "REDIS_URL=", 10) == 0)
            return 0;
    d->store = calloc(1, sizeof *d->store);
    if (!d->store || th_redis_start(d->store) < 0) {
        free(d->store);
        d->store = NULL;
        return -1;
    }
    snprintf(buf, len, "REDIS_URL=redis://127.0.0.1:%d/0", d->store->port);
    return 0;
}

int th_daemon_start(const char *const *plugins, const char *const *env, const th_proc *sim,
                    th_proc *d)
{
    char bin[512], pdir[300], so[600], dst[700];
    if (make_dir(d, "daemon") < 0)
        return -1;
    snprintf(bin, sizeof bin, "%s/sofiia-supervisor", env_or("SV_BUILDDIR", "."));
    snprintf(d->log_path, sizeof d->log_path, "%s/daemon.log", d->dir);
    th_plugin_dir(d, pdir, sizeof pdir);
    mkdir(pdir, 0755);
    for (; plugins && *plugins; plugins++) {
        snprintf(dst, sizeof dst, "%s/%s.so", pdir, *plugins);
        if (copy_file(th_plugin_path(*plugins, so, sizeof so), dst) < 0) {
            fprintf(stderr, "cannot copy plugin %s\n", so);
            return -1;
        }
    }
    /* A clean environment: only what the test says, plus the sanitizer
     * settings the build needs. */
    char *envp[64];
    static char bufs[64][700];
    int n = 0;
    snprintf(bufs[n], sizeof bufs[n], "SUPERVISOR_LISTEN=127.0.0.1:0");
    envp[n] = bufs[n], n++;
    snprintf(bufs[n], sizeof bufs[n], "PLUGIN_DIR=%s", pdir);
    envp[n] = bufs[n], n++;
    snprintf(bufs[n], sizeof bufs[n], "TMPDIR=%s", d->dir);
    envp[n] = bufs[n], n++;
    snprintf(bufs[n], sizeof bufs[n], "WORKER_THREADS=2");
    envp[n] = bufs[n], n++;
    snprintf(bufs[n], sizeof bufs[n], "GATEWAY_BACKOFF_MS=20");
    envp[n] = bufs[n], n++;
    if (sim) {
        snprintf(bufs[n], sizeof bufs[n], "GATEWAY_BASE_URL=http://127.0.0.1:%d", sim->port);
        envp[n] = bufs[n], n++;
    }
    static const char *const pass[] = {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "PATH",
                                       NULL};
    for (const char *const *p = pass; *p; p++) {
        const char *v = getenv(*p);
        if (v) {
            snprintf(bufs[n], sizeof bufs[n], "%s=%s", *p, v);
            envp[n] = bufs[n], n++;
        }
    }
    for (const char *const *e = env; e && *e && n < 62; e++) {
        snprintf(bufs[n], sizeof bufs[n], "%s", *e);
        envp[n] = bufs[n], n++;
    }
    if (store_for(d, env, bufs[n], sizeof bufs[n]) < 0)
        return -1;
    if (d->store)
        envp[n] = bufs[n], n++;
    envp[n] = NULL;
    char wrapper[512];
    snprintf(wrapper, sizeof wrapper, "%s", env_or("SV_DAEMON_WRAPPER", ""));
    char *rest[] = {bin, NULL};
    char *argv[40];
    build_argv(argv, 40, wrapper[0] ? wrapper : NULL, rest);
    d->pid = spawn(argv, envp, d->log_path);
    if (d->pid < 0)
        return -1;
    long long deadline = th_mono_ms() + TH_READY_MS * 3; /* valgrind is slow to start */
    while (th_mono_ms() < deadline) {
        d->port = read_port(d);
        if (d->port > 0 && wait_http_ok(d, d->port, TH_READY_MS) == 0)
            return 0;
        if (!th_proc_alive(d))
            break;
        th_poll_pause();
    }
    dump_log(d, "sofiia-supervisor");
    th_proc_stop(d, 2000);
    return -1;
}

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
    buf *b = arg;
    size_t add = size * nmemb;
    char *np = realloc(b->p, b->n + add + 1);
    if (!np)
        return 0;
    memcpy(np + b->n, ptr, add);
    b->p = np;
    b->n += add;
    b->p[b->n] = '\0';
    return add;
}

int th_http(const char *method, int port, const char *path, const char *body,
            const char *const *headers, th_resp *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    char url[1024];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    buf b = {0}, h = {0};
    struct curl_slist *hl = NULL;
    int expect = 0;
    for (; headers && *headers; headers++) {
        hl = curl_slist_append(hl, *headers);
        expect |= strncasecmp(*headers, "Expect:", 7) == 0;
    }
    /* No "100 Continue" round trip, unless the test asks for one. */
    if (!expect)
        hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r->body = b.p ? b.p : strdup("");
    r->headers = h.p ? h.p : strdup("");
    r->json = r->body[0] ? json_tokener_parse(r->body) : NULL;
    return cc == CURLE_OK ? 0 : -1;
}

void th_resp_free(th_resp *r)
{
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof *r);
}

long th_start_run(int port, const char *graph, const char *input_json, char run_id[64])
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/v1/graphs/%s/runs", graph);
    if (asprintf(&body,
                 "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\","
                 "\"input\":%s}",
                 input_json ? input_json : "{}") < 0)
        return -1;
    th_resp r;
    const char *hdr[] = {"Content-Type: application/json", NULL};
    run_id[0] = '\0';
    th_http("POST", port, path, body, hdr, &r);
    free(body);
    const char *id = th_get_str(r.json, "run_id");
    if (id)
        snprintf(run_id, 64, "%s", id);
    long status = r.status;
    th_resp_free(&r);
    return status;
}

static json_object *get_view(int port, const char *run_id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", run_id);
    th_resp r;
    json_object *view = NULL;
    if (th_http("GET", port, path, NULL, NULL, &r) == 0 && r.status == 200)
        view = json_object_get(r.json);
    th_resp_free(&r);
    return view;
}

json_object *th_wait_run(int port, const char *run_id, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        json_object *v = get_view(port, run_id);
        const char *s = th_get_str(v, "status");
        if (s && (strcmp(s, "succeeded") == 0 || strcmp(s, "failed") == 0 ||
                  strcmp(s, "cancelled") == 0))
            return v;
        json_object_put(v);
        th_poll_pause();
    }
    return NULL;
}

int th_wait_status(int port, const char *run_id, const char *status, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        json_object *v = get_view(port, run_id);
        const char *s = th_get_str(v, "status");
        int ok = s && strcmp(s, status) == 0;
        json_object_put(v);
        if (ok)
            return 0;
        th_poll_pause();
    }
    return -1;
}

json_object *th_sim_requests(const th_proc *sim)
{
    json_object *arr = json_object_new_array();
    char *text = th_read_file(sim->aux_path, NULL);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_object *o = json_tokener_parse(line);
        const char *path = th_get_str(o, "path");
        /* tool calls only: the harness's own /healthz probes are recorded too */
        if (path && strcmp(path, "/v1/tools/execute") == 0)
            json_object_array_add(arr, o);
        else
            json_object_put(o);
    }
    free(text);
    return arr;
}

int th_sim_wait_requests(const th_proc *sim, int n, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    while (th_mono_ms() < deadline) {
        json_object *a = th_sim_requests(sim);
        int have = (int)json_object_array_length(a);
        json_object_put(a);
        if (have >= n)
            return 0;
        th_poll_pause();
    }
    return -1;
}

int th_log_contains(const th_proc *d, const char *needle, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    do {
        char *log = th_read_file(d->log_path, NULL);
        int found = log && strstr(log, needle) != NULL;
        free(log);
        if (found)
            return 1;
        if (timeout_ms > 0)
            th_poll_pause();
    } while (th_mono_ms() < deadline);
    return 0;
}

int th_log_count(const th_proc *d, const char *needle, int n, int timeout_ms)
{
    long long deadline = th_mono_ms() + timeout_ms;
    int count = 0;
    for (;;) {
        char *log = th_read_file(d->log_path, NULL);
        count = 0;
        for (char *p = log; p && (p = strstr(p, needle)); p++)
            count++;
        free(log);
        if (count >= n || th_mono_ms() >= deadline)
            return count;
        th_poll_pause();
    }
}
