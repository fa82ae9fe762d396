/*
 * test_starter.c - what a graph author does, from an installed tree only:
 * `make install DESTDIR=...`; the installed `sofiia-ctl new-graph` writes a
 * graph; its Makefile builds it and runs its unit test on the installed test
 * kit with nothing but pkg-config (PKG_CONFIG_SYSROOT_DIR, PKG_CONFIG_PATH);
 * `cp NAME.so $PLUGIN_DIR` drops it into a running daemon, which runs it
 * against router-sim with the starter's own scenario.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cu_run.h"
#include "harness.h"

#define GRAPH "hello_starter"

static char g_tmp[256];

/* A shell command in a clean make environment (not the outer make's jobs);
 * its output in g_tmp/NAME.log, shown when its exit status is not `expect`.
 * The exit status. */
static int sh_expect(const char *name, const char *cmd, int expect)
{
    char line[8192];
    snprintf(line, sizeof line, "(unset MAKEFLAGS MFLAGS MAKELEVEL; %s) >'%s/%s.log' 2>&1", cmd,
             g_tmp, name);
    int st = system(line);
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (rc != expect) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s.log", g_tmp, name);
        char *log = th_read_file(path, NULL);
        fprintf(stderr, "\n--- %s: exit %d\n%s\n---\n", cmd, rc, log ? log : "(no output)");
        free(log);
    }
    return rc;
}

static int sh(const char *name, const char *cmd)
{
    return sh_expect(name, cmd, 0);
}

static int log_has(const char *name, const char *needle)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s.log", g_tmp, name);
    char *log = th_read_file(path, NULL);
    int has = log && strstr(log, needle);
    free(log);
    return has;
}

static void test_starter(void)
{
    char cmd[4096], pc[2048], dir[512];
    snprintf(g_tmp, sizeof g_tmp, "%s/sv-starter.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_tmp));

    /* 1. the installed tree */
    snprintf(cmd, sizeof cmd, "${MAKE:-make} -C '%s' install DESTDIR='%s/root'",
             getenv("SV_BUILDDIR"), g_tmp);
    CU_ASSERT_EQUAL_FATAL(sh("install", cmd), 0);
    /* pkg-config only, pointed at it */
    snprintf(pc, sizeof pc,
             "export PKG_CONFIG_SYSROOT_DIR='%s/root' PKG_CONFIG_PATH='%s/root%s/pkgconfig'", g_tmp,
             g_tmp, SV_INST_LIBDIR);

    /* 2. the starter, written by the installed sofiia-ctl */
    snprintf(dir, sizeof dir, "%s/work/" GRAPH, g_tmp);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s/work' && '%s/root%s/sofiia-ctl' new-graph " GRAPH " '%s'", g_tmp, g_tmp,
             SV_INST_BINDIR, dir);
    CU_ASSERT_EQUAL_FATAL(sh("new-graph", cmd), 0);
    CU_ASSERT(log_has("new-graph", "wrote "));
    CU_ASSERT(log_has("new-graph", "make check"));
    /* a second time: it never writes over a directory */
    CU_ASSERT_EQUAL(sh_expect("again", cmd, 1), 1);
    CU_ASSERT(log_has("again", "File exists"));

    /* 3. make && make check, as the README says (a sanitizer build's kit
     * needs its runtime: the same flags then) */
    char flags[400] = "";
    if (SV_TEST_SAN_CFLAGS[0])
        snprintf(flags, sizeof flags, " CFLAGS='-O1 -g %s'", SV_TEST_SAN_CFLAGS);
    snprintf(cmd, sizeof cmd, "%s; cd '%s' && make%s && make check%s", pc, dir, flags, flags);
    CU_ASSERT_EQUAL_FATAL(sh("make", cmd), 0);
    CU_ASSERT(log_has("make", "test_" GRAPH ": all passed"));
    /* the flags came from the installed tree */
    CU_ASSERT(log_has("make", "/root" SV_INST_PREFIX "/include"));

    /* 4. cp NAME.so $PLUGIN_DIR into a running daemon, with its scenario */
    th_proc sim, d;
    char scenario[700], plugins[300];
    snprintf(scenario, sizeof scenario, "%s/" GRAPH ".scenario.json", dir);
    CU_ASSERT_FATAL(th_sim_start(scenario, NULL, &sim) == 0);
    CU_ASSERT_FATAL(th_daemon_start(NULL, NULL, &sim, &d) == 0);
    th_plugin_dir(&d, plugins, sizeof plugins);
    snprintf(cmd, sizeof cmd, "cd '%s' && cp " GRAPH ".so '%s'", dir, plugins);
    CU_ASSERT_EQUAL(sh("cp", cmd), 0);
    CU_ASSERT(th_log_contains(&d, "\"graph\":\"" GRAPH "\"", 10000));
    char id[64];
    long st = 0;
    for (long long until = th_mono_ms() + 10000; th_mono_ms() < until; th_poll_pause())
        if ((st = th_start_run(d.port, GRAPH, "{\"what\":\"build\",\"poll_ms\":100}", id)) == 202)
            break;
    CU_ASSERT_EQUAL_FATAL(st, 202);
    json_object *v = th_wait_run(d.port, id, 20000);
    TH_STR_EQ(th_get_str(v, "status"), "succeeded");
    CU_ASSERT_EQUAL(th_get_int(v, "result.polls", 0), 3);
    const char *out = th_get_str(v, "result.output");
    /* the job id submit got back is the run's id (the scenario's template) */
    CU_ASSERT(out && strcmp(out, id) == 0);
    json_object_put(v);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 20000), 0);
    th_proc_stop(&sim, 5000);

    if (!getenv("SV_TEST_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"new-graph, make check on the installed kit, run in the daemon", test_starter},
    };
    static const sv_cu_suite suites[] = {
        {.name = "starter", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
