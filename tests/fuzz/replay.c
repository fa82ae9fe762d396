/*
 * replay.c - every file of every fuzz corpus through its target, built with
 * gcc as a plain test of `make check` (and so under AddressSanitizer and
 * valgrind in CI too): the seeds, and each input a fuzzer once found
 * wrong, stay regression tests.  A crash, a sanitizer report or a broken
 * invariant (abort) fails it.
 *
 *   replay                     every corpus under $SV_SRCDIR/tests/fuzz/corpus
 *   replay TARGET FILE...      these files through one target (to reproduce a
 *                              finding without clang)
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static const struct target {
    const char *name;
    int (*fn)(const uint8_t *data, size_t size);
} g_targets[] = {
    {"request", sv_fuzz_request},
    {"schema", sv_fuzz_schema},
    {"gateway", sv_fuzz_gateway},
    {"config", sv_fuzz_config},
    {"scenario", sv_fuzz_scenario},
    {"release_check", sv_fuzz_release_check},
    {"incident_triage", sv_fuzz_incident_triage},
};
#define N_TARGETS (sizeof g_targets / sizeof g_targets[0])

static int run_file(const struct target *t, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = b;
        }
    }
    fclose(f);
    if (!buf)
        return -1;
    t->fn(buf, len);
    free(buf);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; how many, or -1. */
static int run_dir(const struct target *t, const char *dir)
{
    DIR *d = opendir(dir);
    char *names[4096];
    int n = 0, rc = 0;
    if (!d) {
        fprintf(stderr, "replay: corpus %s: %s\n", dir, strerror(errno));
        return -1;
    }
    for (struct dirent *e; (e = readdir(d)) && n < 4096;)
        if (e->d_name[0] != '.')
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], name_cmp);
    for (int i = 0; i < n; i++) {
        char path[8192];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && run_file(t, path) < 0)
            rc = -1;
        free(names[i]);
    }
    return rc < 0 ? -1 : n;
}

int main(int argc, char **argv)
{
    int failed = 0;
    if (argc >= 3) {
        for (size_t i = 0; i < N_TARGETS; i++) {
            if (strcmp(g_targets[i].name, argv[1]) != 0)
                continue;
            for (int a = 2; a < argc; a++)
                failed |= run_file(&g_targets[i], argv[a]) < 0;
            sv_fuzz_request_cleanup();
            return failed;
        }
        fprintf(stderr, "replay: no target \"%s\"\n", argv[1]);
        return 2;
    }
    const char *src = getenv("SV_SRCDIR");
    for (size_t i = 0; i < N_TARGETS; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/tests/fuzz/corpus/%s", src ? src : ".", g_targets[i].name);
        int n = run_dir(&g_targets[i], dir);
        /* A corpus that went missing would pass silently otherwise. */
        if (n <= 0) {
            fprintf(stderr, "replay: the corpus of %s (%s) is missing or empty\n",
                    g_targets[i].name, dir);
            failed = 1;
            continue;
        }
        printf("%-16s %4d inputs replayed\n", g_targets[i].name, n);
    }
    sv_fuzz_request_cleanup();
    return failed;
}
