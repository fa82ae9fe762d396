/*
 * test_ops.c - what an operator does to a running daemon: several daemons
 * sharing one PLUGIN_CACHE_DIR (a dead one's copies removed at the next
 * start, a live one's kept), and SIGHUP re-reading the configuration file
 * (LOG_LEVEL and PLUGIN_SCAN_MS applied, the rest named, a bad file refused).
 */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cu_run.h"
#include "harness.h"

static char g_root[256];

static int suite_init(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/sv-ops.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_root) ? 0 : -1;
}

static int suite_clean(void)
{
    char cmd[300];
    if (getenv("SV_TEST_KEEP"))
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
    CU_ASSERT_EQUAL(rename(tmp, path), 0);
}

/* Files in dir whose name starts with prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static int copies_of(const char *dir, pid_t pid)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "sv-%ld-", (long)pid);
    return count_prefix(dir, prefix);
}

static int has_file(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* The first log line whose msg is msg, parsed (caller puts), or NULL. */
static json_object *log_line(const th_proc *d, const char *msg, int nth)
{
    size_t len = 0;
    char *text = th_read_file(d->log_path, &len);
    json_object *found = NULL;
    for (char *line = text ? strtok(text, "\n") : NULL; line && !found; line = strtok(NULL, "\n")) {
        json_object *o = json_tokener_parse(line);
        const char *m = o ? th_get_str(o, "msg") : NULL;
        if (m && strcmp(m, msg) == 0 && nth-- == 0)
            found = json_object_get(o);
        json_object_put(o);
    }
    free(text);
    return found;
}

/* Does the JSON array at key of line hold a string containing needle? */
static int array_has(json_object *line, const char *key, const char *needle)
{
    json_object *a = th_get(line, key);
    for (long i = 0; a && i < th_len(line, key); i++)
        if (strstr(json_object_get_string(json_object_array_get_idx(a, (size_t)i)), needle))
            return 1;
    return 0;
}

static void test_shared_cache(void)
{
    char cache[300], env[400];
    th_proc a, b, c;
    snprintf(cache, sizeof cache, "%s/cache", g_root);
    CU_ASSERT_EQUAL_FATAL(mkdir(cache, 0700), 0);
    /* what a crashed daemon of long ago left */
    char path[400];
    snprintf(path, sizeof path, "%s/sv-2147483000-1-release_check.so", cache);
    write_text(path, "old copy");
    snprintf(path, sizeof path, "%s/sv-2147483000.lock", cache);
    write_text(path, "");
    snprintf(env, sizeof env, "PLUGIN_CACHE_DIR=%s", cache);
    const char *const envs[] = {env, NULL};
    const char *const plugins[] = {"test_chain", NULL};

    CU_ASSERT_EQUAL_FATAL(th_daemon_start(plugins, envs, NULL, &a), 0);
    CU_ASSERT(th_log_contains(&a, "stale plugin copies removed", 5000));
    CU_ASSERT(th_log_contains(&a, "2147483000", 1000));
    CU_ASSERT_EQUAL(copies_of(cache, 2147483000), 0);
    CU_ASSERT(!has_file(cache, "sv-2147483000.lock"));
    CU_ASSERT_EQUAL(copies_of(cache, a.pid), 1);

    /* a second daemon on the same directory leaves the first one's copy */
    CU_ASSERT_EQUAL_FATAL(th_daemon_start(plugins, envs, NULL, &b), 0);
    CU_ASSERT_EQUAL(copies_of(cache, a.pid), 1);
    CU_ASSERT_EQUAL(copies_of(cache, b.pid), 1);
    CU_ASSERT(!th_log_contains(&b, "stale plugin copies removed", 0));

    /* the first dies without a word: the next start removes its copy */
    pid_t dead = a.pid;
    kill(a.pid, SIGKILL);
    th_proc_stop(&a, 5000);
    CU_ASSERT_EQUAL(copies_of(cache, dead), 1);
    CU_ASSERT_EQUAL_FATAL(th_daemon_start(plugins, envs, NULL, &c), 0);
    CU_ASSERT(th_log_contains(&c, "stale plugin copies removed", 5000));
    CU_ASSERT_EQUAL(copies_of(cache, dead), 0);
    CU_ASSERT_EQUAL(copies_of(cache, b.pid), 1);
    CU_ASSERT_EQUAL(copies_of(cache, c.pid), 1);

    /* clean stops take their copies and lock files with them */
    CU_ASSERT_EQUAL(th_proc_stop(&b, 10000), 0);
    CU_ASSERT_EQUAL(th_proc_stop(&c, 10000), 0);
    CU_ASSERT_EQUAL(count_prefix(cache, "sv-"), 0);
}

/* A cache directory that cannot serve stops the start with one line naming
 * the setting (the noexec case needs a mount: tests/deploy/test_noexec.sh). */
static void test_bad_cache_refused(void)
{
    char cache[300], env[400];
    th_proc d;
    snprintf(cache, sizeof cache, "%s/open-to-all", g_root);
    CU_ASSERT_EQUAL_FATAL(mkdir(cache, 0700), 0);
    chmod(cache, 0777);
    snprintf(env, sizeof env, "PLUGIN_CACHE_DIR=%s", cache);
    const char *const envs[] = {env, NULL};
    const char *const plugins[] = {"test_chain", NULL};
    CU_ASSERT_NOT_EQUAL(th_daemon_start(plugins, envs, NULL, &d), 0);
    CU_ASSERT(th_log_contains(&d, "bad configuration", 0));
    CU_ASSERT(th_log_contains(&d, "PLUGIN_CACHE_DIR=", 0));
    CU_ASSERT(th_log_contains(&d, "writable by every user", 0));
}

static void test_sighup_reload(void)
{
    char conf[300], env[400];
    th_proc d;
    snprintf(conf, sizeof conf, "%s/sofiia-supervisor.conf", g_root);
    write_text(conf, "# as started\nLOG_LEVEL=info\nPLUGIN_SCAN_MS=1000\n");
    snprintf(env, sizeof env, "SUPERVISOR_CONFIG=%s", conf);
    const char *const envs[] = {env, NULL};
    const char *const plugins[] = {"test_chain", NULL};
    CU_ASSERT_EQUAL_FATAL(th_daemon_start(plugins, envs, NULL, &d), 0);

    /* a live setting, one that waits for a restart, one the environment
     * overrides (the harness sets WORKER_THREADS=2) */
    write_text(conf, "LOG_LEVEL=debug\nPLUGIN_SCAN_MS=200\nRUN_TTL_SEC=60\nWORKER_THREADS=7\n");
    kill(d.pid, SIGHUP);
    CU_ASSERT_FATAL(th_log_contains(&d, "SIGHUP: configuration reloaded", 10000));
    json_object *line = log_line(&d, "SIGHUP: configuration reloaded", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT(array_has(line, "changed", "LOG_LEVEL: info -> debug"));
    CU_ASSERT(array_has(line, "changed", "PLUGIN_SCAN_MS: 1000 -> 200"));
    CU_ASSERT(array_has(line, "restart_needed", "RUN_TTL_SEC"));
    CU_ASSERT(!array_has(line, "restart_needed", "WORKER_THREADS"));
    CU_ASSERT(!array_has(line, "changed", "WORKER_THREADS"));
    TH_STR_EQ(th_get_str(line, "level"), "warn"); /* something waits for a restart */
    TH_STR_EQ(th_get_str(line, "file"), conf);
    json_object_put(line);
    /* the plugins are rescanned too, as before */
    CU_ASSERT(th_log_contains(&d, "SIGHUP: rescanning", 5000));

    /* a bad file changes nothing and says why */
    write_text(conf, "LOG_LEVEL=loud\n");
    kill(d.pid, SIGHUP);
    CU_ASSERT(th_log_contains(&d, "configuration not reloaded", 10000));
    CU_ASSERT(th_log_contains(&d, "LOG_LEVEL=\\\"loud\\\"", 1000));
    th_resp r;
    CU_ASSERT_EQUAL(th_http("GET", d.port, "/healthz", NULL, NULL, &r), 0);
    CU_ASSERT_EQUAL(r.status, 200);
    th_resp_free(&r);

    /* down to error: the change line is still written (at the lower level) */
    write_text(conf, "LOG_LEVEL=error\nPLUGIN_SCAN_MS=200\nRUN_TTL_SEC=60\n");
    kill(d.pid, SIGHUP);
    CU_ASSERT(th_log_contains(&d, "LOG_LEVEL: debug -> error", 10000));
    line = log_line(&d, "SIGHUP: configuration reloaded", 1);
    CU_ASSERT_PTR_NOT_NULL(line);
    TH_STR_EQ(th_get_str(line, "level"), "warn");
    json_object_put(line);
    CU_ASSERT_EQUAL(th_proc_stop(&d, 10000), 0);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"PLUGIN_CACHE_DIR shared: dead copies removed, live kept", test_shared_cache},
        {"PLUGIN_CACHE_DIR writable by all: start refused", test_bad_cache_refused},
        {"SIGHUP: live settings applied, restart named, bad file kept out", test_sighup_reload},
    };
    static const sv_cu_suite suites[] = {
        {.name = "operations", SV_CU_TESTS(tests), .init = suite_init, .clean = suite_clean},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
