/*
 * cu_run.h - the one CUnit main every test program shares: register the
 * suites, run them verbosely, and turn the result into an exit status that
 * fails on any failed assertion, test or suite set-up.
 */
#ifndef SV_CU_RUN_H
#define SV_CU_RUN_H

#include <stddef.h>
#include <CUnit/CUnit.h>

typedef struct sv_cu_test {
    const char *name;
    CU_TestFunc fn;
} sv_cu_test;

typedef struct sv_cu_suite {
    const char *name;
    const sv_cu_test *tests;
    size_t n_tests;
    CU_InitializeFunc init;   /* may be NULL: once before the suite */
    CU_CleanupFunc clean;     /* may be NULL: once after it */
    CU_SetUpFunc setup;       /* may be NULL: before each test */
    CU_TearDownFunc teardown; /* may be NULL: after each test */
} sv_cu_suite;

/* The tests and their count, for sv_cu_suite's two members. */
#define SV_CU_TESTS(arr) .tests = (arr), .n_tests = sizeof(arr) / sizeof((arr)[0])

/* Run the suites: 0 when everything passed, 1 when anything failed, 2 when
 * CUnit itself could not be set up. */
int sv_cu_run(const sv_cu_suite *suites, size_t n_suites);

#endif
