/*
 * store_contract_internal.h - what the files of the store contract share
 * (store_contract.c, store_contract_threads.c); not for the backends' test
 * programs, which use store_contract.h.
 */
#ifndef SV_STORE_CONTRACT_INTERNAL_H
#define SV_STORE_CONTRACT_INTERNAL_H

#include "store_contract.h"

#define TTL_SEC 10
#define EVENT_CAP 1000

/* The backend set by sv_store_contract_use. */
const sv_store_backend *sv_sc_backend(void);
/* A fresh store of the backend (the test stops if there is none). */
sv_store *sv_sc_new_store(int64_t ttl_sec);
/* The i-th well-formed run id. */
void sv_sc_run_id(char buf[40], unsigned i);
/* The concurrency test (store_contract_threads.c). */
void sv_sc_test_concurrent_mixed_ops(void);

#endif
