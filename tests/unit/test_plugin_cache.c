/* test_plugin_cache.c - PLUGIN_CACHE_DIR (its checks, the per-instance lock,
 * removing dead instances' copies) and the settings as an operator sees them
 * (--check-config's display, masking, what SIGHUP applies). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cu_run.h"
#include "plugin_cache.h"

static char g_err[512];
static char g_root[256];

static int suite_init(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/sv-cache-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_root) ? 0 : -1;
}

static int suite_clean(void)
{
    char cmd[PATH_MAX + 16];
    if (getenv("SV_TEST_KEEP"))
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_root);
    return system(cmd) == 0 ? 0 : -1;
}

/* A fresh directory under the suite's root: path into buf. */
static const char *fresh_dir(const char *name, mode_t mode, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", g_root, name);
    mkdir(buf, 0700);
    chmod(buf, mode);
    return buf;
}

static void touch(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT(fd >= 0);
    if (fd >= 0)
        close(fd);
}

static int exists(const char *dir, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void test_check(void)
{
    char dir[512], path[PATH_MAX];
    /* missing: fine while its parent can hold it */
    snprintf(path, sizeof path, "%s/not-yet", g_root);
    CU_ASSERT_EQUAL(sv_plugin_cache_check(path, g_err, sizeof g_err), 0);
    snprintf(path, sizeof path, "%s/no/such/parent", g_root);
    CU_ASSERT_EQUAL(sv_plugin_cache_check(path, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "PLUGIN_CACHE_DIR=\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "neither it nor its parent"));
    CU_ASSERT_EQUAL(sv_plugin_cache_check("relative/dir", g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "absolute"));
    /* a file */
    touch(g_root, "a-file");
    snprintf(path, sizeof path, "%s/a-file", g_root);
    CU_ASSERT_EQUAL(sv_plugin_cache_check(path, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "not a directory"));
    /* writable by every user: anyone could swap a copy before dlopen() */
    fresh_dir("open-to-all", 0777, dir, sizeof dir);
    CU_ASSERT_EQUAL(sv_plugin_cache_check(dir, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "writable by every user"));
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, dir));
    fresh_dir("good", 0700, dir, sizeof dir);
    CU_ASSERT_EQUAL(sv_plugin_cache_check(dir, g_err, sizeof g_err), 0);
    if (geteuid() == 0) {
        /* root passes every permission check: another owner stands in */
        fresh_dir("someone-elses", 0700, dir, sizeof dir);
        CU_ASSERT_EQUAL_FATAL(chown(dir, 65534, 65534), 0);
        CU_ASSERT_EQUAL(sv_plugin_cache_check(dir, g_err, sizeof g_err), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "owned by uid 65534"));
    } else {
        fresh_dir("read-only", 0500, dir, sizeof dir);
        CU_ASSERT_EQUAL(sv_plugin_cache_check(dir, g_err, sizeof g_err), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "not writable"));
        chmod(dir, 0700);
    }
}

static void test_open_creates_and_locks(void)
{
    char dir[512], name[64];
    sv_plugin_cache *c = NULL;
    snprintf(dir, sizeof dir, "%s/created", g_root);
    CU_ASSERT_EQUAL_FATAL(sv_plugin_cache_open(dir, &c, g_err, sizeof g_err), 0);
    struct stat st;
    CU_ASSERT_EQUAL(stat(dir, &st), 0);
    CU_ASSERT(S_ISDIR(st.st_mode));
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
    CU_ASSERT_STRING_EQUAL(sv_plugin_cache_dir(c), dir);
    snprintf(name, sizeof name, "sv-%ld.lock", (long)getpid());
    CU_ASSERT(exists(dir, name));
    /* the lock is held: opening it again cannot take it */
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR);
    CU_ASSERT(fd >= 0);
    CU_ASSERT_EQUAL(flock(fd, LOCK_EX | LOCK_NB), -1);
    close(fd);
    /* a copy of ours goes with the close, and so does the lock file */
    snprintf(name, sizeof name, "sv-%ld-1-hello.so", (long)getpid());
    touch(dir, name);
    sv_plugin_cache_close(c);
    CU_ASSERT(!exists(dir, name));
    snprintf(name, sizeof name, "sv-%ld.lock", (long)getpid());
    CU_ASSERT(!exists(dir, name));
}

/* Copies of an instance whose lock nobody holds go at start; those of a
 * live one (its lock held) stay; files of other names are left alone. */
static void test_clean_dead_keeps_live(void)
{
    char dir[512], path[PATH_MAX], mine[64];
    sv_plugin_cache *c = NULL;
    fresh_dir("shared", 0700, dir, sizeof dir);
    /* dead: a lock file left behind, and one with none at all */
    touch(dir, "sv-2147483000-1-release_check.so");
    touch(dir, "sv-2147483000-2-incident_triage.so");
    touch(dir, "sv-2147483000.lock");
    touch(dir, "sv-2147483001-7-hello.so");
    /* live: another process's lock, held here through a descriptor of our
     * own (flock locks belong to open file descriptions) */
    touch(dir, "sv-2147483002-1-hello.so");
    snprintf(path, sizeof path, "%s/sv-2147483002.lock", dir);
    int live = open(path, O_RDWR | O_CREAT, 0600);
    CU_ASSERT_FATAL(live >= 0);
    CU_ASSERT_EQUAL(flock(live, LOCK_EX | LOCK_NB), 0);
    /* an earlier process with our own pid */
    snprintf(mine, sizeof mine, "sv-%ld-3-old.so", (long)getpid());
    touch(dir, mine);
    /* not ours to touch */
    touch(dir, "notes.txt");
    touch(dir, "sv-x-1-odd.so");

    CU_ASSERT_EQUAL_FATAL(sv_plugin_cache_open(dir, &c, g_err, sizeof g_err), 0);
    CU_ASSERT(!exists(dir, "sv-2147483000-1-release_check.so"));
    CU_ASSERT(!exists(dir, "sv-2147483000-2-incident_triage.so"));
    CU_ASSERT(!exists(dir, "sv-2147483000.lock"));
    CU_ASSERT(!exists(dir, "sv-2147483001-7-hello.so"));
    CU_ASSERT(!exists(dir, "sv-2147483001.lock"));
    CU_ASSERT(!exists(dir, mine));
    CU_ASSERT(exists(dir, "sv-2147483002-1-hello.so"));
    CU_ASSERT(exists(dir, "sv-2147483002.lock"));
    CU_ASSERT(exists(dir, "notes.txt"));
    CU_ASSERT(exists(dir, "sv-x-1-odd.so"));

    /* that instance ends: the next look removes its copies */
    close(live);
    CU_ASSERT_EQUAL(sv_plugin_cache_clean(c), 1);
    CU_ASSERT(!exists(dir, "sv-2147483002-1-hello.so"));
    CU_ASSERT(!exists(dir, "sv-2147483002.lock"));
    sv_plugin_cache_close(c);
}

/* A live process with our pid in the same directory (another pid
 * namespace): refused, and its files are left as they are. */
static void test_same_pid_elsewhere(void)
{
    char dir[512], path[PATH_MAX], copy[64];
    sv_plugin_cache *c = NULL;
    fresh_dir("namespaces", 0700, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/sv-%ld.lock", dir, (long)getpid());
    snprintf(copy, sizeof copy, "sv-%ld-1-hello.so", (long)getpid());
    touch(dir, copy);
    int other = open(path, O_RDWR | O_CREAT, 0600);
    CU_ASSERT_FATAL(other >= 0);
    CU_ASSERT_EQUAL(flock(other, LOCK_EX | LOCK_NB), 0);
    CU_ASSERT_EQUAL(sv_plugin_cache_open(dir, &c, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "pid namespace"));
    CU_ASSERT(exists(dir, copy));
    close(other);
}

static void test_config_setting(void)
{
    sv_config c;
    CU_ASSERT_EQUAL_FATAL(sv_config_defaults(&c), 0);
    CU_ASSERT_PTR_NOT_NULL(c.plugin_cache_dir);
    CU_ASSERT_EQUAL(c.plugin_cache_dir[0], '/');
    CU_ASSERT_EQUAL(sv_config_set(&c, "PLUGIN_CACHE_DIR", "/var/lib/x", 1, g_err, sizeof g_err), 0);
    CU_ASSERT_STRING_EQUAL(c.plugin_cache_dir, "/var/lib/x");
    const char *bad[] = {"", "relative", "./x", NULL};
    for (const char **b = bad; *b; b++) {
        CU_ASSERT_EQUAL(sv_config_set(&c, "PLUGIN_CACHE_DIR", *b, 1, g_err, sizeof g_err), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "PLUGIN_CACHE_DIR"));
    }
    char longer[300];
    memset(longer, 'a', sizeof longer - 1);
    longer[0] = '/';
    longer[sizeof longer - 1] = '\0';
    CU_ASSERT_EQUAL(sv_config_set(&c, "PLUGIN_CACHE_DIR", longer, 1, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_STRING_EQUAL(c.plugin_cache_dir, "/var/lib/x");
    sv_config_free(&c);
}

/* Every setting has a display, help and a place in --check-config. */
static void test_every_key_shown(void)
{
    sv_config c;
    char buf[1024];
    CU_ASSERT_EQUAL_FATAL(sv_config_defaults(&c), 0);
    for (const char *const *k = sv_config_keys(); *k; k++) {
        if (sv_config_format(&c, *k, 1, buf, sizeof buf) != 0)
            fprintf(stderr, "%s: no display in core/config_show.c\n", *k);
        CU_ASSERT_EQUAL(sv_config_format(&c, *k, 1, buf, sizeof buf), 0);
    }
    CU_ASSERT_EQUAL(sv_config_format(&c, "NO_SUCH_KEY", 1, buf, sizeof buf), -ENOENT);
    sv_config_free(&c);
}

static void test_masking(void)
{
    sv_config c;
    char buf[1024];
    sv_config_defaults(&c);
    sv_config_set(&c, "SUPERVISOR_API_KEY", "router-secret-1", 0, g_err, sizeof g_err);
    sv_config_set(&c, "REDIS_URL", "redis://:p4ss@redis:6379/2", 0, g_err, sizeof g_err);
    sv_config_format(&c, "SUPERVISOR_API_KEY", 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "********");
    sv_config_format(&c, "SUPERVISOR_API_KEY", 0, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "router-secret-1");
    sv_config_format(&c, "REDIS_URL", 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "redis://:********@redis:6379/2");
    sv_config_set(&c, "REDIS_URL", "redis://user:p4ss@redis:6379", 0, g_err, sizeof g_err);
    sv_config_format(&c, "REDIS_URL", 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "redis://user:********@redis:6379");
    sv_config_set(&c, "REDIS_URL", "redis://redis:6379", 0, g_err, sizeof g_err);
    sv_config_format(&c, "REDIS_URL", 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "redis://redis:6379");
    sv_config_format(&c, "SUPERVISOR_INTERNAL_KEY", 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "");
    sv_config_set(&c, "SUPERVISOR_LISTEN", "[::1]:9000", 0, g_err, sizeof g_err);
    sv_config_format(&c, "SUPERVISOR_LISTEN", 1, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "[::1]:9000");
    sv_config_free(&c);
}

/* SIGHUP: live settings change in place, the others are named. */
static void test_reload_diff(void)
{
    sv_config cur, next;
    sv_config_defaults(&cur);
    sv_config_defaults(&next);
    sv_config_set(&next, "LOG_LEVEL", "debug", 1, g_err, sizeof g_err);
    sv_config_set(&next, "PLUGIN_SCAN_MS", "250", 1, g_err, sizeof g_err);
    sv_config_set(&next, "RUN_TTL_SEC", "60", 1, g_err, sizeof g_err);
    sv_config_set(&next, "SUPERVISOR_API_KEY", "new-router-key", 1, g_err, sizeof g_err);
    json_object *changed = json_object_new_array(), *restart = json_object_new_array();
    CU_ASSERT_EQUAL(sv_config_reload(&cur, &next, changed, restart), 4);
    CU_ASSERT_EQUAL(cur.log_level, SV_LEVEL_DEBUG);
    CU_ASSERT_EQUAL(cur.plugin_scan_ms, 250);
    CU_ASSERT_EQUAL(cur.run_ttl_sec, 86400); /* waits for a restart */
    CU_ASSERT_PTR_NULL(cur.api_key);
    const char *all = json_object_to_json_string(changed);
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "LOG_LEVEL: info -> debug"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "PLUGIN_SCAN_MS: 1000 -> 250"));
    all = json_object_to_json_string(restart);
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "RUN_TTL_SEC"));
    CU_ASSERT_PTR_NOT_NULL(strstr(all, "SUPERVISOR_API_KEY"));
    CU_ASSERT_PTR_NULL(strstr(all, "new-router-key"));
    CU_ASSERT(sv_config_is_live("LOG_LEVEL"));
    CU_ASSERT(!sv_config_is_live("WORKER_THREADS"));
    json_object_put(changed);
    json_object_put(restart);
    sv_config_free(&cur);
    sv_config_free(&next);
}

int main(void)
{
    static const sv_cu_test cache[] = {
        {"check: missing, relative, a file, open to all, owner or rights", test_check},
        {"open creates 0700 and holds the lock; close removes ours", test_open_creates_and_locks},
        {"dead instances' copies removed, a live one's kept", test_clean_dead_keeps_live},
        {"our pid locked by a live process elsewhere: refused", test_same_pid_elsewhere},
    };
    static const sv_cu_test show[] = {
        {"PLUGIN_CACHE_DIR values", test_config_setting},
        {"every setting has a display", test_every_key_shown},
        {"keys and the Redis password masked", test_masking},
        {"SIGHUP: live changes applied, the rest named", test_reload_diff},
    };
    static const sv_cu_suite suites[] = {
        {.name = "plugin cache", SV_CU_TESTS(cache), .init = suite_init, .clean = suite_clean},
        {.name = "settings shown", SV_CU_TESTS(show)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
