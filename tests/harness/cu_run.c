/* cu_run.c - see cu_run.h. */
#include "cu_run.h"

#include <CUnit/Basic.h>
#include <stdio.h>

int sv_cu_run(const sv_cu_suite *suites, size_t n_suites)
{
    int rc = 2;
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    for (size_t i = 0; i < n_suites; i++) {
        const sv_cu_suite *s = &suites[i];
        CU_pSuite cs =
            CU_add_suite_with_setup_and_teardown(s->name, s->init, s->clean, s->setup, s->teardown);
        if (!cs)
            goto out;
        for (size_t j = 0; j < s->n_tests; j++)
            if (!CU_add_test(cs, s->tests[j].name, s->tests[j].fn))
                goto out;
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    if (CU_basic_run_tests() != CUE_SUCCESS)
        goto out;
    rc = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
                     CU_get_number_of_suites_failed() >
                 0
             ? 1
             : 0;
out:
    if (rc == 2)
        fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
    CU_cleanup_registry();
    return rc;
}
