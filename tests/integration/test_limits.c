/*
 * test_limits.c - what keeps the daemon up, through the real daemon: a
 * long-poll whose client hangs up is released at once; idle connections are
 * closed after CONNECTION_TIMEOUT_SEC, waiting requests are not; past
 * MAX_RUNS_ACTIVE starts get 429 with Retry-After; a cancel or a stop held
 * up by a node that blocks in plugin code is named in the log and in
 * /metrics; reaching MAX_CONNECTIONS is said once a second at most, and so is
 * every complaint of libmicrohttpd, with a count of those held back; the
 * soft RLIMIT_NOFILE is raised to fit MAX_CONNECTIONS, or a line says why not.
 * (The 10,000-connection test is tests/stress/test_connections, a CI step of
 * its own.)
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

#define START_BODY "{\"workspace_id\":\"ws1\",\"user_id\":\"u1\",\"agent_id\":\"a1\",\"input\":%s}"
/* A run of test_wait that waits ten minutes after its first tool call. */
#define PARKED "{\"waits\":1,\"delay_ms\":600000}"

static th_proc g_sim, g_d;

static int suite_init(void)
{
    const char *plugins[] = {"test_wait", "test_block", NULL};
    const char *env[] = {"WORKER_THREADS=2", "MAX_RUNS_ACTIVE=5", "CONNECTION_TIMEOUT_SEC=2", NULL};
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    /* Started with a soft limit of 1024 (the usual default): the daemon
     * must raise its own (test_nofile_raised). */
    struct rlimit rl, low;
    getrlimit(RLIMIT_NOFILE, &rl);
    low = rl;
    if (low.rlim_cur > 1024)
        low.rlim_cur = 1024;
    setrlimit(RLIMIT_NOFILE, &low);
    int rc = th_daemon_start(plugins, env, &g_sim, &g_d);
    setrlimit(RLIMIT_NOFILE, &rl);
    return rc;
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 20000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

/* A sample of GET /metrics ("name" or "name{labels}"); -1 when absent. */
static double metric(int port, const char *sample)
{
    th_resp r;
    double v = -1;
    char needle[256];
    snprintf(needle, sizeof needle, "\n%s ", sample);
    if (th_http("GET", port, "/metrics", NULL, NULL, &r) == 0 && r.status == 200 && r.body) {
        const char *p = strstr(r.body, needle);
        if (p)
            v = strtod(p + strlen(needle), NULL);
    }
    th_resp_free(&r);
    return v;
}

/* Poll a metric until it has the value; 1, or 0 at the deadline. */
static int metric_becomes(int port, const char *sample, double want, int timeout_ms)
{
    long long until = th_mono_ms() + timeout_ms;
    while (metric(port, sample) != want && th_mono_ms() < until)
        th_poll_pause();
    return metric(port, sample) == want;
}

/* A TCP connection to 127.0.0.1:port; -1 on failure. */
static int tcp_connect(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static int send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Read until the server closes fd or timeout_ms pass: what came (up to
 * len - 1 bytes) in buf; 1 when it closed, 0 at the deadline. */
static int read_until_closed(int fd, char *buf, size_t len, int timeout_ms)
{
    size_t got = 0;
    long long until = th_mono_ms() + timeout_ms;
    buf[0] = '\0';
    while (th_mono_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        char tmp[4096];
        ssize_t n = recv(fd, tmp, sizeof tmp, 0);
        if (n <= 0)
            return 1; /* closed (or reset) */
        size_t keep = (size_t)n < len - 1 - got ? (size_t)n : len - 1 - got;
        memcpy(buf + got, tmp, keep);
        got += keep;
        buf[got] = '\0';
    }
    return 0;
}

/* Is there a log line holding both a and b? */
static int log_line_with(const th_proc *d, const char *a, const char *b, int timeout_ms)
{
    long long until = th_mono_ms() + timeout_ms;
    do {
        char *log = th_read_file(d->log_path, NULL);
        int found = 0;
        for (char *line = log, *nl; line && *line && !found; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            found = strstr(line, a) && strstr(line, b);
        }
        free(log);
        if (found)
            return 1;
        th_poll_pause();
    } while (th_mono_ms() < until);
    return 0;
}

static long cancel(int port, const char *id)
{
    char path[128];
    th_resp r;
    snprintf(path, sizeof path, "/v1/runs/%s/cancel", id);
    th_http("POST", port, path, NULL, NULL, &r);
    long st = r.status;
    th_resp_free(&r);
    return st;
}

/* Wait until the run's view has a node_start event: its node executes. */
static int node_started(int port, const char *id, int timeout_ms)
{
    char path[128];
    long long until = th_mono_ms() + timeout_ms;
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    do {
        th_resp r;
        int n = th_http("GET", port, path, NULL, NULL, &r) == 0
                    ? th_count_events(r.json, "node_start")
                    : 0;
        th_resp_free(&r);
        if (n > 0)
            return 1;
        th_poll_pause();
    } while (th_mono_ms() < until);
    return 0;
}

/* A long-poll whose client closes its connection stops waiting at once
 * (sofiia_waiting_requests back to 0), long before its wait would end,
 * while the run goes on waiting. */
static void test_hangup_releases_longpoll(void)
{
    char id[64], req[256];
    CU_ASSERT_EQUAL_FATAL(th_start_run(g_d.port, "test_wait", PARKED, id), 202);
    CU_ASSERT_EQUAL(th_wait_status(g_d.port, id, "running", 10000), 0);
    int fd = tcp_connect(g_d.port);
    CU_ASSERT_FATAL(fd >= 0);
    snprintf(req, sizeof req, "GET /v1/runs/%s?wait=60 HTTP/1.1\r\nHost: t\r\n\r\n", id);
    CU_ASSERT_EQUAL(send_all(fd, req), 0);
    CU_ASSERT(metric_becomes(g_d.port, "sofiia_waiting_requests", 1, 10000));
    close(fd);
    /* The wait was for 60 s: the hang-up, not the deadline, ends it. */
    long long t0 = th_mono_ms();
    CU_ASSERT(metric_becomes(g_d.port, "sofiia_waiting_requests", 0, 20000));
    CU_ASSERT(th_mono_ms() - t0 < 50000);
    th_resp r;
    char path[128];
    snprintf(path, sizeof path, "/v1/runs/%s", id);
    CU_ASSERT_EQUAL(th_http("GET", g_d.port, path, NULL, NULL, &r), 0);
    TH_STR_EQ(th_get_str(r.json, "status"), "running");
    th_resp_free(&r);
    /* A request parked again and again by the same client: still one. */
    fd = tcp_connect(g_d.port);
    snprintf(req, sizeof req, "GET /v1/runs/%s?wait=60&since=0 HTTP/1.1\r\nHost: t\r\n\r\n", id);
    send_all(fd, req);
    char buf[8192];
    read_until_closed(fd, buf, sizeof buf, 200); /* since=0: answered at once, kept open */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "HTTP/1.1 200"));
    close(fd);
    CU_ASSERT(metric_becomes(g_d.port, "sofiia_waiting_requests", 0, 10000));
    CU_ASSERT_EQUAL(cancel(g_d.port, id), 202);
    CU_ASSERT_EQUAL(th_wait_status(g_d.port, id, "cancelled", 20000), 0);
}

/* CONNECTION_TIMEOUT_SEC=2: a connection that sends nothing, or half a
 * request, is closed; a request waiting longer than that is answered. */
static void test_idle_timeout(void)
{
    char buf[8192];
    int idle = tcp_connect(g_d.port), half = tcp_connect(g_d.port);
    CU_ASSERT_FATAL(idle >= 0 && half >= 0);
    CU_ASSERT_EQUAL(send_all(half, "GET /healthz HTTP/1.1\r\nHost: t\r\n"), 0);
    CU_ASSERT(read_until_closed(idle, buf, sizeof buf, 30000));
    CU_ASSERT(read_until_closed(half, buf, sizeof buf, 30000));
    close(idle);
    close(half);

    char id[64], req[256];
    CU_ASSERT_EQUAL_FATAL(th_start_run(g_d.port, "test_wait", PARKED, id), 202);
    int fd = tcp_connect(g_d.port);
    snprintf(req, sizeof req,
             "GET /v1/runs/%s?wait=4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", id);
    CU_ASSERT_EQUAL(send_all(fd, req), 0);
    /* Parked for 4 s, twice the idle timeout: answered at its deadline. */
    CU_ASSERT(read_until_closed(fd, buf, sizeof buf, 30000));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "HTTP/1.1 200"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"status\":\"running\""));
    close(fd);
    CU_ASSERT_EQUAL(cancel(g_d.port, id), 202);
    CU_ASSERT_EQUAL(th_wait_status(g_d.port, id, "cancelled", 20000), 0);
}

static long start_with(const char *input, const char *idem_key, th_resp *r)
{
    char body[512], hdr[128];
    const char *hdrs[] = {"Content-Type: application/json", hdr, NULL};
    snprintf(body, sizeof body, START_BODY, input);
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem_key ? idem_key : "");
    if (!idem_key)
        hdrs[1] = NULL;
    th_http("POST", g_d.port, "/v1/graphs/test_wait/runs", body, hdrs, r);
    return r->status;
}

/* MAX_RUNS_ACTIVE=5: with five runs waiting a sixth start is 429 with
 * Retry-After (a retry of an accepted start still gets its run); once one
 * ends, starts are taken again. */
static void test_max_runs_active(void)
{
    char ids[6][64];
    th_resp r;
    CU_ASSERT_EQUAL_FATAL(metric_becomes(g_d.port, "sofiia_runs_live", 0, 20000), 1);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(start_with(PARKED, i == 4 ? "full-1" : NULL, &r), 202);
        snprintf(ids[i], sizeof ids[i], "%s", th_get_str(r.json, "run_id"));
        th_resp_free(&r);
    }
    CU_ASSERT_EQUAL(start_with(PARKED, NULL, &r), 429);
    TH_STR_EQ(th_get_str(r.json, "error.code"), "too_many_runs");
    CU_ASSERT_PTR_NOT_NULL(r.headers ? strcasestr(r.headers, "\nRetry-After: 5") : NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(th_get_str(r.json, "error.message"), "MAX_RUNS_ACTIVE=5"));
    th_resp_free(&r);
    /* a new key is refused too; the key of an accepted start replays it */
    CU_ASSERT_EQUAL(start_with(PARKED, "full-2", &r), 429);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(start_with(PARKED, "full-1", &r), 202);
    TH_STR_EQ(th_get_str(r.json, "run_id"), ids[4]);
    th_resp_free(&r);
    CU_ASSERT(metric(g_d.port, "sofiia_runs_refused_total") >= 2);
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_runs_active_limit"), 5);

    CU_ASSERT_EQUAL(cancel(g_d.port, ids[0]), 202);
    long status = 0;
    long long until = th_mono_ms() + 20000;
    while ((status = start_with(PARKED, NULL, &r)) == 429 && th_mono_ms() < until) {
        th_resp_free(&r);
        th_poll_pause();
    }
    CU_ASSERT_EQUAL(status, 202);
    snprintf(ids[5], sizeof ids[5], "%s",
             th_get_str(r.json, "run_id") ? th_get_str(r.json, "run_id") : "");
    th_resp_free(&r);
    for (int i = 1; i < 6; i++)
        cancel(g_d.port, ids[i]);
    CU_ASSERT(metric_becomes(g_d.port, "sofiia_runs_live", 0, 30000));
}

/* A node that sleeps in plugin code holds its cancel up: one log line names
 * run, graph and node, and /metrics counts it until the node returns. */
static void test_blocked_node_cancel(void)
{
    char id[64], input[512], release[300];
    snprintf(release, sizeof release, "%s/release-cancel", g_d.dir);
    snprintf(input, sizeof input, "{\"release_file\":\"%s\"}", release);
    CU_ASSERT_EQUAL_FATAL(th_start_run(g_d.port, "test_block", input, id), 202);
    CU_ASSERT_FATAL(node_started(g_d.port, id, 20000));
    CU_ASSERT_EQUAL(cancel(g_d.port, id), 202);
    char run[80];
    snprintf(run, sizeof run, "\"run_id\":\"%s\"", id);
    CU_ASSERT(log_line_with(&g_d, "a stop waits on a node that does not return", run, 20000));
    CU_ASSERT(log_line_with(&g_d, "\"node\":\"block\"", "\"graph\":\"test_block\"", 0));
    CU_ASSERT(log_line_with(&g_d, "\"stop\":\"cancel\"", "\"waited_ms\":", 0));
    CU_ASSERT(metric_becomes(g_d.port, "sofiia_nodes_blocking_stop", 1, 10000));
    CU_ASSERT_EQUAL(metric(g_d.port, "sofiia_nodes_blocking_stop_total"), 1);
    FILE *f = fopen(release, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    CU_ASSERT_EQUAL(th_wait_status(g_d.port, id, "cancelled", 20000), 0);
    CU_ASSERT(metric_becomes(g_d.port, "sofiia_nodes_blocking_stop", 0, 10000));
    CU_ASSERT(log_line_with(&g_d, "the node holding up a stop has returned", run, 10000));
}

/* The soft RLIMIT_NOFILE was 1024 when the daemon started: it raised it to
 * fit MAX_CONNECTIONS (10000) and its reserve, within the hard limit. */
static void test_nofile_raised(void)
{
    char path[64], *limits;
    const char *wrapper = getenv("SV_DAEMON_WRAPPER");
    if (wrapper && *wrapper) {
        /* valgrind keeps the process's limits to itself and emulates them
         * for the daemon: /proc does not show what the daemon set */
        CU_ASSERT(metric(g_d.port, "sofiia_http_connections_limit") >= 16);
        return;
    }
    snprintf(path, sizeof path, "/proc/%d/limits", (int)g_d.pid);
    limits = th_read_file(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(limits);
    const char *line = strstr(limits, "Max open files");
    unsigned long long soft = 0;
    CU_ASSERT_PTR_NOT_NULL(line);
    if (line)
        sscanf(line + strlen("Max open files"), "%llu", &soft);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    unsigned long long want = 10000 + 2048;
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
        want = rl.rlim_max;
    CU_ASSERT(soft + 64 >= want);
    if (soft + 64 < want)
        fprintf(stderr, "\n    soft limit %llu, expected about %llu\n", soft, want);
    free(limits);
}

/* MAX_CONNECTIONS=16: a burst of connections reaches the limit, which one
 * line says (not one per connection); the daemon answers again after. */
static void test_connection_limit_line(void)
{
    const char *env[] = {"MAX_CONNECTIONS=16", NULL};
    const char *plugins[] = {"test_wait", NULL};
    th_proc d;
    int fds[200];
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, NULL, &d) == 0);
    CU_ASSERT_EQUAL(metric(d.port, "sofiia_http_connections_limit"), 16);
    long long t0 = th_mono_ms();
    for (int i = 0; i < 200; i++)
        fds[i] = tcp_connect(d.port); /* past 16, they wait in the backlog */
    CU_ASSERT(th_log_contains(&d, "HTTP connection limit reached", 20000));
    long long secs = (th_mono_ms() - t0) / 1000;
    CU_ASSERT(th_log_count(&d, "HTTP connection limit reached", 1, 0) <= secs + 2);
    for (int i = 0; i < 200; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    th_resp r;
    long long until = th_mono_ms() + 20000;
    while ((th_http("GET", d.port, "/healthz", NULL, NULL, &r) != 0 || r.status != 200) &&
           th_mono_ms() < until) {
        th_resp_free(&r);
        th_poll_pause();
    }
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* The lines of libmicrohttpd's complaints in the log, and in *total how many
 * complaints they stand for (each line one, plus those it says it held
 * back). */
static long mhd_lines(const th_proc *d, long *total)
{
    char *log = th_read_file(d->log_path, NULL);
    long lines = 0;
    *total = 0;
    for (char *line = log, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (!strstr(line, "\"component\":\"libmicrohttpd\""))
            continue;
        const char *s = strstr(line, "\"suppressed\":");
        lines++;
        *total += 1 + (s ? strtol(s + 13, NULL, 10) : 0);
    }
    free(log);
    return lines;
}

static void send_malformed(int port)
{
    static const char bad[] =
        "GET /healthz HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n";
    char buf[4096];
    int fd = tcp_connect(port);
    CU_ASSERT_FATAL(fd >= 0);
    send_all(fd, bad);
    CU_ASSERT(read_until_closed(fd, buf, sizeof buf, 10000)); /* a 400, then closed */
    close(fd);
}

/* libmicrohttpd complains once per malformed request: a flood of them
 * writes one line a second at most, and the lines' counts of held-back
 * complaints add up to every request. */
static void test_mhd_log_rate_limit(void)
{
    const char *plugins[] = {"test_wait", NULL};
    th_proc d;
    long total = 0, sent = 0;
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, NULL, &d) == 0);
    long long t0 = th_mono_ms();
    for (; sent < 300; sent++)
        send_malformed(d.port);
    /* One more each pause until a new line comes (a second has passed): it
     * counts every complaint held back since the one before. */
    long before = mhd_lines(&d, &total);
    long long until = th_mono_ms() + 30000;
    do {
        send_malformed(d.port);
        sent++;
        th_poll_pause();
    } while (mhd_lines(&d, &total) == before && th_mono_ms() < until);
    long long secs = (th_mono_ms() - t0) / 1000;
    long lines = mhd_lines(&d, &total);
    CU_ASSERT(lines >= 2);
    CU_ASSERT(lines <= secs + 2);
    CU_ASSERT_EQUAL(total, sent);
    if (lines > secs + 2 || total != sent)
        fprintf(stderr, "\n    %ld lines in %lld s for %ld complaints (%ld sent)\n", lines, secs,
                total, sent);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* A stop waiting on a node that blocks says so, then exits once the node
 * returns. */
static void test_blocked_node_stop(void)
{
    const char *env[] = {"SHUTDOWN_GRACE_SEC=0", NULL};
    const char *plugins[] = {"test_block", NULL};
    th_proc d;
    char id[64], input[512], release[300];
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, NULL, &d) == 0);
    snprintf(release, sizeof release, "%s/release-stop", d.dir);
    snprintf(input, sizeof input, "{\"release_file\":\"%s\"}", release);
    CU_ASSERT_EQUAL_FATAL(th_start_run(d.port, "test_block", input, id), 202);
    CU_ASSERT_FATAL(node_started(d.port, id, 20000));
    kill(d.pid, SIGTERM);
    char run[80];
    snprintf(run, sizeof run, "\"run_id\":\"%s\"", id);
    CU_ASSERT(log_line_with(&d, "a stop waits on a node that does not return", run, 20000));
    CU_ASSERT(log_line_with(&d, "\"stop\":\"shutdown\"", "\"node\":\"block\"", 0));
    CU_ASSERT(th_proc_alive(&d));
    FILE *f = fopen(release, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 30000), 0);
}

/* A run's deadline held up by a node that blocks: the same line, with
 * "stop":"deadline"; the run fails with timeout once the node returns. */
static void test_blocked_node_deadline(void)
{
    const char *env[] = {"RUN_DEFAULT_TIMEOUT_SEC=1", NULL};
    const char *plugins[] = {"test_block", NULL};
    th_proc d;
    char id[64], input[512], release[300], run[80];
    CU_ASSERT_FATAL(th_daemon_start(plugins, env, NULL, &d) == 0);
    snprintf(release, sizeof release, "%s/release-deadline", d.dir);
    snprintf(input, sizeof input, "{\"release_file\":\"%s\"}", release);
    CU_ASSERT_EQUAL_FATAL(th_start_run(d.port, "test_block", input, id), 202);
    snprintf(run, sizeof run, "\"run_id\":\"%s\"", id);
    CU_ASSERT(log_line_with(&d, "a stop waits on a node that does not return", run, 20000));
    CU_ASSERT(log_line_with(&d, "\"stop\":\"deadline\"", "\"node\":\"block\"", 0));
    CU_ASSERT(metric_becomes(d.port, "sofiia_nodes_blocking_stop", 1, 10000));
    FILE *f = fopen(release, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fclose(f);
    json_object *v = th_wait_run(d.port, id, 20000);
    TH_STR_EQ(v ? th_get_str(v, "status") : NULL, "failed");
    TH_STR_EQ(v ? th_get_str(v, "error.code") : NULL, "timeout");
    json_object_put(v);
    CU_ASSERT(metric_becomes(d.port, "sofiia_nodes_blocking_stop", 0, 10000));
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

/* A hard limit below what MAX_CONNECTIONS needs: one line says so, and the
 * daemon takes the connections that fit.  Last: this lowers the test's own
 * hard limit for good. */
static void test_nofile_short(void)
{
    struct rlimit rl = {.rlim_cur = 1024, .rlim_max = 4096};
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &rl), 0);
    const char *plugins[] = {"test_wait", NULL};
    th_proc d;
    CU_ASSERT_FATAL(th_daemon_start(plugins, NULL, NULL, &d) == 0);
    CU_ASSERT(th_log_contains(&d, "RLIMIT_NOFILE is below what MAX_CONNECTIONS needs", 0));
    CU_ASSERT(th_log_contains(&d, "\"max_connections\":10000", 0));
    double limit = metric(d.port, "sofiia_http_connections_limit");
    CU_ASSERT(limit >= 16 && limit < 4096);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"a long-poll whose client hangs up is released", test_hangup_releases_longpoll},
        {"idle connections close, waiting requests do not", test_idle_timeout},
        {"MAX_RUNS_ACTIVE: 429 with Retry-After", test_max_runs_active},
        {"a cancel held up by a blocked node", test_blocked_node_cancel},
        {"the soft RLIMIT_NOFILE is raised", test_nofile_raised},
    };
    static const sv_cu_test own[] = {
        {"the connection limit is one line", test_connection_limit_line},
        {"libmicrohttpd's lines are rate limited", test_mhd_log_rate_limit},
        {"a stop held up by a blocked node", test_blocked_node_stop},
        {"a deadline held up by a blocked node", test_blocked_node_deadline},
        {"RLIMIT_NOFILE too low for MAX_CONNECTIONS", test_nofile_short},
    };
    static const sv_cu_suite suites[] = {
        {.name = "limits", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
        {.name = "limits, a daemon each", SV_CU_TESTS(own)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
