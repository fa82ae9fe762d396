/*
 * test_flood.c - units of what keeps the daemon up (core/flood.h): how many
 * connections fit under an open-file limit, the log rate limit, the
 * settings MAX_CONNECTIONS, CONNECTION_TIMEOUT_SEC and MAX_RUNS_ACTIVE, and a
 * plugin scan while descriptors have run out.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config.h"
#include "cu_run.h"
#include "flood.h"
#include "host.h"
#include "registry.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static void test_nofile_fit(void)
{
    uint64_t soft = 0;
    unsigned conns = 0;
    /* room enough: the soft limit rises to connections + reserve */
    CU_ASSERT_EQUAL(sv_nofile_fit(1024, 524288, 10000, &soft, &conns), 0);
    CU_ASSERT_EQUAL(soft, 10000 + SV_NOFILE_RESERVE);
    CU_ASSERT_EQUAL(conns, 10000);
    /* never lowered */
    CU_ASSERT_EQUAL(sv_nofile_fit(65536, 524288, 10000, &soft, &conns), 0);
    CU_ASSERT_EQUAL(soft, 65536);
    CU_ASSERT_EQUAL(conns, 10000);
    /* an unlimited hard limit */
    CU_ASSERT_EQUAL(sv_nofile_fit(1024, UINT64_MAX, 500, &soft, &conns), 0);
    CU_ASSERT_EQUAL(soft, 500 + SV_NOFILE_RESERVE);
    /* the hard limit is short: up to it, and fewer connections, the
     * reserve kept */
    CU_ASSERT_EQUAL(sv_nofile_fit(1024, 8192, 10000, &soft, &conns), 1);
    CU_ASSERT_EQUAL(soft, 8192);
    CU_ASSERT_EQUAL(conns, 8192 - SV_NOFILE_RESERVE);
    /* very short: half of it, at least 16 */
    CU_ASSERT_EQUAL(sv_nofile_fit(1024, 1024, 10000, &soft, &conns), 1);
    CU_ASSERT_EQUAL(soft, 1024);
    CU_ASSERT_EQUAL(conns, 512);
    CU_ASSERT_EQUAL(sv_nofile_fit(20, 20, 10000, &soft, &conns), 1);
    CU_ASSERT_EQUAL(conns, 16);
    /* few wanted, short limit: what is wanted fits */
    CU_ASSERT_EQUAL(sv_nofile_fit(1024, 1024, 100, &soft, &conns), 0);
    CU_ASSERT_EQUAL(conns, 100);
}

static void test_ratelimit(void)
{
    sv_ratelimit rl;
    uint64_t held = 99;
    sv_ratelimit_init(&rl, 1000);
    CU_ASSERT_EQUAL(sv_ratelimit_pass(&rl, 5000, &held), 1); /* the first passes */
    CU_ASSERT_EQUAL(held, 0);
    for (int i = 0; i < 7; i++)
        CU_ASSERT_EQUAL(sv_ratelimit_pass(&rl, 5000 + i * 100, &held), 0);
    CU_ASSERT_EQUAL(sv_ratelimit_pass(&rl, 5999, &held), 0);
    CU_ASSERT_EQUAL(sv_ratelimit_pass(&rl, 6000, &held), 1);
    CU_ASSERT_EQUAL(held, 8); /* the ones in between */
    CU_ASSERT_EQUAL(sv_ratelimit_pass(&rl, 9000, &held), 1);
    CU_ASSERT_EQUAL(held, 0);
    sv_ratelimit_destroy(&rl);

    static sv_ratelimit st = SV_RATELIMIT_INITIALIZER(1000);
    CU_ASSERT_EQUAL(sv_ratelimit_pass(&st, -50000, &held), 1); /* any clock */
    CU_ASSERT_EQUAL(sv_ratelimit_pass(&st, -49999, &held), 0);
}

static void test_settings(void)
{
    sv_config c;
    char err[512];
    CU_ASSERT_EQUAL_FATAL(sv_config_defaults(&c), 0);
    CU_ASSERT_EQUAL(c.max_connections, 10000);
    CU_ASSERT_EQUAL(c.connection_timeout_sec, 60);
    CU_ASSERT(c.max_runs_active >= 20000); /* issue 7: 20,000 waiting runs are admitted */
    CU_ASSERT_EQUAL(sv_config_set(&c, "MAX_CONNECTIONS", "20000", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.max_connections, 20000);
    CU_ASSERT_EQUAL(sv_config_set(&c, "MAX_CONNECTIONS", "8", 0, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "MAX_CONNECTIONS=\"8\": out of range (expected 16.."));
    CU_ASSERT_EQUAL(sv_config_set(&c, "CONNECTION_TIMEOUT_SEC", "5", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.connection_timeout_sec, 5);
    CU_ASSERT_EQUAL(sv_config_set(&c, "CONNECTION_TIMEOUT_SEC", "0", 0, err, sizeof err), -EINVAL);
    CU_ASSERT_EQUAL(sv_config_set(&c, "MAX_RUNS_ACTIVE", "5", 0, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.max_runs_active, 5);
    CU_ASSERT_EQUAL(sv_config_set(&c, "MAX_RUNS_ACTIVE", "lots", 0, err, sizeof err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "MAX_RUNS_ACTIVE=\"lots\": not a whole number"));
    char *env[] = {"MAX_RUNS_ACTIVE=7", "MAX_CONNECTIONS=100", "CONNECTION_TIMEOUT_SEC=9", NULL};
    CU_ASSERT_EQUAL(sv_config_load_env(&c, env, err, sizeof err), 0);
    CU_ASSERT_EQUAL(c.max_runs_active, 7);
    CU_ASSERT_EQUAL(c.max_connections, 100);
    CU_ASSERT_EQUAL(c.connection_timeout_sec, 9);
    sv_config_free(&c);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Out of descriptors (a connection flood), PLUGIN_DIR cannot be read for a
 * moment: the graphs loaded stay loaded (they were all unloaded, as if
 * their files were gone). */
static void test_scan_without_descriptors(void)
{
    char dir[] = "/tmp/sv-flood-plugins.XXXXXX", copies[] = "/tmp/sv-flood-copies.XXXXXX";
    char from[512], to[600], buf[65536];
    const char *build = getenv("SV_BUILDDIR");
    sv_registry *reg = NULL;
    CU_ASSERT_PTR_NOT_NULL_FATAL(build);
    CU_ASSERT_FATAL(mkdtemp(dir) && mkdtemp(copies));
    snprintf(from, sizeof from, "%s/tests/plugins/.libs/test_chain.so", build);
    snprintf(to, sizeof to, "%s/test_chain.so", dir);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    CU_ASSERT_FATAL(in && out);
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
        fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
    CU_ASSERT_EQUAL_FATAL(sv_registry_new(dir, copies, sv_host_table(), &reg), 0);
    CU_ASSERT_EQUAL(sv_registry_scan(reg, 0), 1);
    /* no descriptor left: every one below the soft limit is in use */
    struct rlimit rl, none;
    getrlimit(RLIMIT_NOFILE, &rl);
    none = rl;
    int lowest = dup(0);
    close(lowest);
    none.rlim_cur = (rlim_t)lowest;
    CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_NOFILE, &none), 0);
    int still = sv_registry_scan(reg, 0);
    setrlimit(RLIMIT_NOFILE, &rl);
    CU_ASSERT_EQUAL(still, 1);
    sv_graph_ent *e = sv_registry_get(reg, "test_chain");
    CU_ASSERT_PTR_NOT_NULL(e);
    sv_graph_ent_unref(e);
    /* and a file really gone still takes its graph */
    unlink(to);
    CU_ASSERT_EQUAL(sv_registry_scan(reg, 0), 0);
    sv_registry_free(reg);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    nftw(copies, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"connections that fit under RLIMIT_NOFILE", test_nofile_fit},
        {"the log rate limit", test_ratelimit},
        {"MAX_CONNECTIONS, CONNECTION_TIMEOUT_SEC, MAX_RUNS_ACTIVE", test_settings},
        {"a plugin scan without descriptors unloads nothing", test_scan_without_descriptors},
    };
    static const sv_cu_suite suites[] = {{.name = "flood", SV_CU_TESTS(tests)}};
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
