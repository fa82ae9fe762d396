/*
 * test_connections.c - 10,000 idle TCP connections (loopback) do not take
 * the daemon down: it holds them all (epoll, not select), and /healthz, a
 * run start and the run's view are still answered meanwhile.  The daemon is
 * started with a soft RLIMIT_NOFILE of 1024, so it must raise its own.
 *
 * A CI step of its own (test.sh), not part of `make check`: it needs about
 * 10,100 descriptors here (the test raises its own soft limit; it skips,
 * exit 77, when the hard limit is lower) and holds 20,000 sockets for a few
 * seconds.  Bounded: SV_STRESS_CONNECTIONS (default 10000) and an alarm at
 * 300 s.
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

static th_proc g_sim, g_d;
static int g_want = 10000;

/* Descriptors this process needs beyond the connections (curl, the log
 * files, the harness). */
#define OWN_FDS 128

static int suite_init(void)
{
    const char *plugins[] = {"test_wait", NULL};
    /* the connections, and room for the requests made while they are open */
    char max[64];
    snprintf(max, sizeof max, "MAX_CONNECTIONS=%d", g_want + 64);
    const char *env[] = {"WORKER_THREADS=2", max, NULL};
    if (th_sim_start("tests/scenarios/engine_ok.json", NULL, &g_sim) < 0)
        return -1;
    struct rlimit rl, low;
    getrlimit(RLIMIT_NOFILE, &rl);
    low = rl;
    low.rlim_cur = rl.rlim_cur < 1024 ? rl.rlim_cur : 1024;
    setrlimit(RLIMIT_NOFILE, &low); /* what the daemon starts with */
    int rc = th_daemon_start(plugins, env, &g_sim, &g_d);
    rl.rlim_cur = rl.rlim_max; /* and this process: all it may */
    setrlimit(RLIMIT_NOFILE, &rl);
    return rc;
}

static int suite_clean(void)
{
    int rc = th_proc_stop(&g_d, 30000);
    th_proc_stop(&g_sim, 5000);
    return rc == 0 ? 0 : -1;
}

static int count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* Open n connections without waiting for each (non-blocking connect), then
 * wait until all are established; the descriptors in fds. */
static int open_idle(int port, int *fds, int n)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int ok = 0;
    for (int i = 0; i < n; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fds[i] < 0) {
            fprintf(stderr, "\n    socket %d: %s\n", i, strerror(errno));
            break;
        }
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) {
            fprintf(stderr, "\n    connect %d: %s\n", i, strerror(errno));
            close(fds[i]);
            fds[i] = -1;
            break;
        }
        ok++;
    }
    /* established: writable, no error */
    long long until = th_mono_ms() + 60000;
    for (int i = 0; i < ok && th_mono_ms() < until; i++) {
        struct pollfd p = {.fd = fds[i], .events = POLLOUT};
        if (poll(&p, 1, 1000) <= 0) {
            i--;
            continue;
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fprintf(stderr, "\n    connection %d: %s\n", i, strerror(err));
            return i;
        }
    }
    return ok;
}

static void test_ten_thousand_idle(void)
{
    int *fds = calloc((size_t)g_want, sizeof *fds);
    CU_ASSERT_PTR_NOT_NULL_FATAL(fds);
    long long t0 = th_mono_ms();
    int n = open_idle(g_d.port, fds, g_want);
    CU_ASSERT_EQUAL(n, g_want);
    /* The daemon holds every one of them: accepted, not left in the
     * listen backlog. */
    long long until = th_mono_ms() + 60000;
    while (count_fds(g_d.pid) < g_want && th_mono_ms() < until)
        th_poll_pause();
    int held = count_fds(g_d.pid);
    CU_ASSERT(held >= g_want);
    fprintf(stderr, "\n    %d connections open in %lld ms; the daemon holds %d descriptors\n", n,
            th_mono_ms() - t0, held);

    th_resp r;
    CU_ASSERT_EQUAL(th_http("GET", g_d.port, "/healthz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
    char id[64];
    CU_ASSERT_EQUAL(th_start_run(g_d.port, "test_wait", "{\"waits\":0}", id), 202);
    json_object *v = th_wait_run(g_d.port, id, 60000);
    CU_ASSERT_PTR_NOT_NULL(v);
    TH_STR_EQ(v ? th_get_str(v, "status") : NULL, "succeeded");
    json_object_put(v);
    CU_ASSERT_EQUAL(th_http("GET", g_d.port, "/metrics", NULL, NULL, &r), 0);
    static const char gauge[] = "\nsofiia_http_connections ";
    const char *m = r.body ? strstr(r.body, gauge) : NULL;
    CU_ASSERT(m && strtol(m + strlen(gauge), NULL, 10) >= g_want);
    th_resp_free(&r);

    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    /* and it lets them go */
    until = th_mono_ms() + 60000;
    while (count_fds(g_d.pid) > g_want / 2 && th_mono_ms() < until)
        th_poll_pause();
    CU_ASSERT(count_fds(g_d.pid) < g_want / 2);
    CU_ASSERT_EQUAL(th_http("GET", g_d.port, "/healthz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);
}

int main(void)
{
    const char *n = getenv("SV_STRESS_CONNECTIONS");
    if (n && atoi(n) > 0)
        g_want = atoi(n);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)(g_want + OWN_FDS)) {
        printf("SKIP: the hard RLIMIT_NOFILE (%llu) is below the %d descriptors this test "
               "needs (ulimit -Hn)\n",
               (unsigned long long)rl.rlim_max, g_want + OWN_FDS);
        return 77;
    }
    alarm(300); /* a bounded CI step, whatever happens */
    static const sv_cu_test tests[] = {
        {"10,000 idle connections; /healthz and a run still answered", test_ten_thousand_idle},
    };
    static const sv_cu_suite suites[] = {
        {.name = "connections", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
