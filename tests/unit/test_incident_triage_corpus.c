/*
 * test_incident_triage_corpus.c - the cause classifier of incident_triage on
 * real error messages: tests/data/triage-corpus.jsonl holds messages as
 * PostgreSQL, MySQL, HikariCP, nginx, Envoy, the JVM, the Go runtime, the
 * Linux OOM killer and others print them, each with its cause and where the
 * program prints it.  The test classifies every one, prints the confusion
 * table and the misses, and fails under 95% right.  Causes no single message
 * can show (a recent deploy, a configuration change) are judged by the
 * scenarios of test_incident_triage_scenarios, not here.
 *
 * One JSON object per line: {"id","cause","stack","message","source"}.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cu_run.h"
#include "it.h"

#define CORPUS "tests/data/triage-corpus.jsonl"
#define MIN_MESSAGES 120
#define MIN_STACKS 15
#define MIN_ACCURACY 0.95
#define MAX_STACKS 128

/* The cause id of a key ("connection_pool"), IT_CAUSE_NONE for "none", or
 * -2 when the key is not a cause at all. */
static int cause_of_key(const char *key)
{
    if (key && strcmp(key, "none") == 0)
        return IT_CAUSE_NONE;
    for (int id = 0; key && id < IT_CAUSE_COUNT; id++)
        if (strcmp(it_cause_get(id)->key, key) == 0)
            return id;
    return -2;
}

static FILE *open_corpus(void)
{
    char path[1024];
    const char *src = getenv("SV_SRCDIR");
    snprintf(path, sizeof path, "%s/%s", src && *src ? src : "..", CORPUS);
    FILE *f = fopen(path, "r");
    if (!f)
        fprintf(stderr, "\n  cannot open %s (set SV_SRCDIR to the source tree)\n", path);
    return f;
}

static const char *str_of(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Column label of a cause id in the table (IT_CAUSE_NONE is the last). */
static const char *short_name(int id)
{
    static const char *const names[IT_CAUSE_COUNT] = {
        "pool", "mem",  "tmout", "5xx",  "depl",  "refus", "dns",
        "tls",  "disk", "rate",  "lock", "crash", "conf",
    };
    return id >= 0 && id < IT_CAUSE_COUNT ? names[id] : "none";
}

static void print_table(long confusion[IT_CAUSE_COUNT + 1][IT_CAUSE_COUNT + 1])
{
    printf("\n  confusion (rows: labelled cause, columns: classified as)\n  %-22s", "");
    for (int c = 0; c <= IT_CAUSE_COUNT; c++)
        printf("%6s", short_name(c == IT_CAUSE_COUNT ? IT_CAUSE_NONE : c));
    printf("\n");
    for (int r = 0; r < IT_CAUSE_COUNT; r++) {
        long total = 0;
        for (int c = 0; c <= IT_CAUSE_COUNT; c++)
            total += confusion[r][c];
        if (total == 0)
            continue;
        printf("  %-22s", it_cause_get(r)->key);
        for (int c = 0; c <= IT_CAUSE_COUNT; c++)
            printf("%6ld", confusion[r][c]);
        printf("\n");
    }
}

static void test_corpus_classified(void)
{
    char line[8192];
    long confusion[IT_CAUSE_COUNT + 1][IT_CAUSE_COUNT + 1];
    char stacks[MAX_STACKS][64];
    int n_stacks = 0, lineno = 0;
    long total = 0, right = 0;
    FILE *f = open_corpus();

    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    memset(confusion, 0, sizeof confusion);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        json_object *o = json_tokener_parse(line);
        const char *id = str_of(o, "id"), *cause = str_of(o, "cause");
        const char *msg = str_of(o, "message"), *src = str_of(o, "source");
        const char *stack = str_of(o, "stack");
        int want = cause_of_key(cause);
        /* Every entry says what it is and where it comes from. */
        if (!o || !id || !msg || !*msg || !src || !*src || !stack || !*stack || want < 0) {
            fprintf(stderr, "\n  %s:%d: bad entry (needs id, cause, stack, message, source)\n",
                    CORPUS, lineno);
            CU_FAIL("bad corpus entry");
            json_object_put(o);
            continue;
        }
        int seen = 0;
        for (int i = 0; i < n_stacks && !seen; i++)
            seen = strcmp(stacks[i], stack) == 0;
        if (!seen && n_stacks < MAX_STACKS)
            snprintf(stacks[n_stacks++], sizeof stacks[0], "%s", stack);

        it_match m;
        it_match_text(msg, &m);
        int col = m.cause == IT_CAUSE_NONE ? IT_CAUSE_COUNT : m.cause;
        confusion[want][col]++;
        total++;
        if (m.cause == want)
            right++;
        else
            printf("\n  miss %-30s labelled %-22s got %-22s (%s)\n      %s", id, cause,
                   m.cause == IT_CAUSE_NONE ? "none" : it_cause_get(m.cause)->key,
                   m.why[0] ? m.why : "no rule", msg);
        json_object_put(o);
    }
    fclose(f);
    print_table(confusion);
    double accuracy = total ? (double)right / (double)total : 0;
    printf("\n  %ld of %ld messages right (%.1f%%), %d stacks\n", right, total, accuracy * 100.0,
           n_stacks);
    CU_ASSERT(total >= MIN_MESSAGES);
    CU_ASSERT(n_stacks >= MIN_STACKS);
    CU_ASSERT(accuracy >= MIN_ACCURACY);
}

int main(void)
{
    static const sv_cu_test tests[] = {
        {"real messages classified, 95% or better", test_corpus_classified},
    };
    static const sv_cu_suite suites[] = {
        {.name = "incident_triage_corpus", SV_CU_TESTS(tests)},
    };
    return sv_cu_run(suites, sizeof suites / sizeof suites[0]);
}
