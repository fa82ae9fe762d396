/* test_auth.c - core/auth.c: the SUPERVISOR_INTERNAL_KEY syntax, matching
 * against several keys, workspace limits, loopback addresses; and the mode
 * check that guards PLUGIN_DIR and the plugin files (core/registry.c). */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "cu_run.h"
#include "registry.h"

#define S_OPS "ops-0123456789abcdef"
#define S_CI "ci-0123456789abcdef:with:colons"
#define S_OLD "old-0123456789abcdef"

static char g_err[512];

static void test_unset_and_plain(void)
{
    sv_auth *a = (sv_auth *)1;
    CU_ASSERT_EQUAL(sv_auth_parse(NULL, &a, g_err, sizeof g_err), 0);
    CU_ASSERT_PTR_NULL(a);
    CU_ASSERT_EQUAL(sv_auth_parse("", &a, g_err, sizeof g_err), 0);
    CU_ASSERT_PTR_NULL(a);
    /* today's form: one key of any length, id "default" */
    CU_ASSERT_EQUAL_FATAL(sv_auth_parse("k-internal", &a, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL(a->n, 1);
    const sv_auth_key *k = sv_auth_match(a, "k-internal");
    CU_ASSERT_PTR_NOT_NULL_FATAL(k);
    CU_ASSERT_STRING_EQUAL(k->id, "default");
    CU_ASSERT_FALSE(sv_auth_limited(k));
    CU_ASSERT(sv_auth_allows(k, "any-workspace"));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, "k-internaX"));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, "k-intern"));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, "k-internal2"));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, ""));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, NULL));
    /* the secret itself is not kept */
    CU_ASSERT_PTR_NULL(memmem(a->keys, sizeof *a->keys, "k-internal", 10));
    sv_auth_free(a);
    /* base64 keys ('+', '/', '=') are still one key */
    CU_ASSERT_EQUAL_FATAL(sv_auth_parse("q+r/s=", &a, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL(a->n, 1);
    CU_ASSERT_PTR_NOT_NULL(sv_auth_match(a, "q+r/s="));
    sv_auth_free(a);
    CU_ASSERT_PTR_NULL(sv_auth_match(NULL, "x"));
}

static void test_list(void)
{
    sv_auth *a = NULL;
    const char *spec = "ops:" S_OPS ",ci:" S_CI "@ws_a+ws.b:1,old:" S_OLD;
    CU_ASSERT_EQUAL_FATAL(sv_auth_parse(spec, &a, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL_FATAL(a->n, 3);
    const sv_auth_key *ops = sv_auth_match(a, S_OPS), *ci = sv_auth_match(a, S_CI),
                      *old = sv_auth_match(a, S_OLD);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ci);
    CU_ASSERT_PTR_NOT_NULL_FATAL(old);
    CU_ASSERT_STRING_EQUAL(ops->id, "ops");
    CU_ASSERT_STRING_EQUAL(ci->id, "ci"); /* the secret holds ':' after the first */
    CU_ASSERT_STRING_EQUAL(old->id, "old");
    CU_ASSERT_FALSE(sv_auth_limited(ops));
    CU_ASSERT(sv_auth_limited(ci));
    CU_ASSERT_EQUAL(ci->n_workspaces, 2);
    CU_ASSERT(sv_auth_allows(ci, "ws_a"));
    CU_ASSERT(sv_auth_allows(ci, "ws.b:1"));
    CU_ASSERT_FALSE(sv_auth_allows(ci, "ws_c"));
    CU_ASSERT_FALSE(sv_auth_allows(ci, "ws_"));
    CU_ASSERT_FALSE(sv_auth_allows(ci, NULL));
    CU_ASSERT(sv_auth_allows(ops, "ws_c"));
    CU_ASSERT(sv_auth_allows(NULL, "ws_c")); /* the API is open */
    /* neither the whole entry nor the id is a key */
    CU_ASSERT_PTR_NULL(sv_auth_match(a, "ops:" S_OPS));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, "ops"));
    CU_ASSERT_PTR_NULL(sv_auth_match(a, S_CI "@ws_a+ws.b:1"));
    sv_auth_free(a);
    /* one entry with an id is a list of one */
    CU_ASSERT_EQUAL_FATAL(sv_auth_parse("solo:" S_OPS, &a, g_err, sizeof g_err), 0);
    CU_ASSERT_STRING_EQUAL(sv_auth_match(a, S_OPS)->id, "solo");
    sv_auth_free(a);
}

/* spec is refused with `why` in the reason, which shows no secret. */
static void bad(const char *spec, const char *why)
{
    sv_auth *a = (sv_auth *)1;
    g_err[0] = '\0';
    CU_ASSERT_EQUAL(sv_auth_parse(spec, &a, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_PTR_NULL(a);
    if (!strstr(g_err, why))
        fprintf(stderr, "\n    %s: expected \"%s\" in \"%s\"\n", spec, why, g_err);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, why));
    CU_ASSERT_PTR_NULL(strstr(g_err, "0123456789abcdef"));
    CU_ASSERT_PTR_NULL(strstr(g_err, "p@ssw0rd"));
    CU_ASSERT_PTR_NULL(strchr(g_err, '\n'));
}

static void test_bad_specs(void)
{
    bad("has space", "space or control character");
    bad("tab\there", "space or control character");
    bad("ops:short", "key \"ops\": the secret must be 16-512 characters");
    bad(":" S_OPS, "entry 1: the id");
    bad("bad*id:" S_OPS, "entry 1: the id");
    bad("an-id-that-is-much-too-long-for-a-key-id:" S_OPS, "entry 1: the id");
    bad("p@ssw0rd", "entry 1 has no id");
    bad("a:" S_OPS ",", "entry 2 is empty");
    bad("a:" S_OPS ",,b:" S_OLD, "entry 2 is empty");
    bad("a:" S_OPS ",b-0123456789abcdef", "entry 2 has no id");
    bad("a:" S_OPS "@", "key \"a\": an empty workspace");
    bad("a:" S_OPS "@ws+", "key \"a\": an empty workspace");
    bad("a:" S_OPS "@ws++x", "key \"a\": an empty workspace");
    bad("a:" S_OPS "@ws/x", "\"ws/x\" is not a workspace id");
    bad("a:" S_OPS "@ws@x", "\"ws@x\" is not a workspace id");
    bad("a:" S_OPS ",a:" S_OLD, "key id \"a\" is given twice");
    bad("a:" S_OPS ",b:" S_OPS, "keys \"a\" and \"b\" have the same secret");
    char longsecret[600];
    memset(longsecret, 'x', sizeof longsecret);
    memcpy(longsecret, "a:", 2);
    longsecret[2 + SV_AUTH_SECRET_MAX + 1] = '\0';
    bad(longsecret, "16-512 characters");
    longsecret[2 + SV_AUTH_SECRET_MAX] = '\0';
    sv_auth *a = NULL;
    CU_ASSERT_EQUAL(sv_auth_parse(longsecret, &a, g_err, sizeof g_err), 0);
    sv_auth_free(a);
}

static void test_config_key(void)
{
    sv_config c;
    sv_config_defaults(&c);
    const char *spec = "ops:" S_OPS ",ci:" S_CI "@ws_a";
    CU_ASSERT_EQUAL(sv_config_set(&c, "SUPERVISOR_INTERNAL_KEY", spec, 1, g_err, sizeof g_err), 0);
    CU_ASSERT_STRING_EQUAL(c.internal_key, spec);
    CU_ASSERT_EQUAL(sv_config_set(&c, "SUPERVISOR_INTERNAL_KEY", "ops:" S_OPS ",ops:" S_OLD, 0,
                                  g_err, sizeof g_err),
                    -EINVAL);
    CU_ASSERT_EQUAL(strncmp(g_err, "SUPERVISOR_INTERNAL_KEY: ", 25), 0);
    CU_ASSERT_PTR_NULL(strstr(g_err, "0123456789abcdef"));
    CU_ASSERT_STRING_EQUAL(c.internal_key, spec); /* unchanged */
    CU_ASSERT_EQUAL(sv_config_set(&c, "SUPERVISOR_INTERNAL_KEY", "", 0, g_err, sizeof g_err), 0);
    CU_ASSERT_PTR_NULL(c.internal_key);
    sv_config_free(&c);
}

static void test_loopback(void)
{
    CU_ASSERT(sv_auth_loopback("127.0.0.1"));
    CU_ASSERT(sv_auth_loopback("127.1.2.3"));
    CU_ASSERT(sv_auth_loopback("::1"));
    CU_ASSERT(sv_auth_loopback("::ffff:127.0.0.1"));
    CU_ASSERT_FALSE(sv_auth_loopback("0.0.0.0"));
    CU_ASSERT_FALSE(sv_auth_loopback("::"));
    CU_ASSERT_FALSE(sv_auth_loopback("10.0.0.1"));
    CU_ASSERT_FALSE(sv_auth_loopback("128.0.0.1"));
    CU_ASSERT_FALSE(sv_auth_loopback("::ffff:10.0.0.1"));
    CU_ASSERT_FALSE(sv_auth_loopback("localhost")); /* config.c makes it 127.0.0.1 first */
}

/* A group this process is not in, or 0 when it is in every one tried. */
static gid_t foreign_gid(void)
{
    for (gid_t g = 54321; g < 54400; g++) {
        int mine = g == getegid();
        int n = getgroups(0, NULL);
        gid_t *gs = calloc((size_t)(n > 0 ? n : 1), sizeof *gs);
        n = getgroups(n, gs);
        for (int i = 0; i < n; i++)
            mine |= gs[i] == g;
        free(gs);
        if (!mine)
            return g;
    }
    return 0;
}

static void test_mode_check(void)
{
    char why[256];
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_gid = getegid();
    st.st_mode = S_IFDIR | 0755;
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), 0);
    st.st_mode = S_IFDIR | 0700;
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), 0);
    st.st_mode = S_IFDIR | 0777;
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), -EPERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "writable by every user (mode 0777)"));
    st.st_mode = S_IFDIR | 01777; /* sticky, like /tmp: anyone may still add a file */
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), -EPERM);
    st.st_mode = S_IFREG | 0666;
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), -EPERM);
    /* group-writable: fine for our own group, not for another */
    st.st_mode = S_IFDIR | 02775;
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), 0);
    st.st_gid = foreign_gid();
    CU_ASSERT_FATAL(st.st_gid != 0);
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), -EPERM);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "writable by group"));
    st.st_mode = S_IFREG | 0644; /* another group that cannot write: fine */
    CU_ASSERT_EQUAL(sv_registry_check_mode(&st, why, sizeof why), 0);
}

static void test_config_plugin_dir_mode(void)
{
    char dir[] = "/tmp/svmode.XXXXXX";
    sv_config c;
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    sv_config_defaults(&c);
    CU_ASSERT_EQUAL(sv_config_set(&c, "PLUGIN_DIR", dir, 0, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL(chmod(dir, 0755), 0);
    CU_ASSERT_EQUAL(sv_config_validate(&c, g_err, sizeof g_err), 0);
    CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
    CU_ASSERT_EQUAL(sv_config_validate(&c, g_err, sizeof g_err), -EINVAL);
    CU_ASSERT_EQUAL(strncmp(g_err, "PLUGIN_DIR=\"", 12), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(g_err, "writable by every user"));
    sv_config_free(&c);
    rmdir(dir);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"unset, and the plain key of before (id default)", test_unset_and_plain},
        {"a list: ids, secrets with ':', workspaces", test_list},
        {"bad specs: one line, no secret shown", test_bad_specs},
        {"SUPERVISOR_INTERNAL_KEY through config", test_config_key},
        {"loopback addresses", test_loopback},
        {"plugin dir and file modes", test_mode_check},
        {"a world-writable PLUGIN_DIR is a bad setting", test_config_plugin_dir_mode},
    };
    static const sv_cu_suite suites[] = {
        {.name = "auth", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
