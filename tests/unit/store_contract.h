/*
 * store_contract.h - what every store backend must do alike, as CUnit tests
 * that each backend's test program runs against stores it makes.  Time does
 * not move in these tests: expiry is tested per backend (an injected clock
 * for the embedded store, real seconds for Redis).
 */
#ifndef SV_STORE_CONTRACT_H
#define SV_STORE_CONTRACT_H

#include "cu_run.h"
#include "store.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sv_store_backend {
    const char *name; /* the ops->name its stores have */
    int durable;      /* and their ops->durable */
    /* A fresh store holding nothing, with this TTL; NULL fails the test. */
    sv_store *(*make)(int64_t ttl_sec);
    /* What the store holds right now, counted behind the table's back: live
     * runs, kept events, idempotency claims, queued ids.  Any pointer may be
     * NULL; 0 or a negative errno. */
    int (*counts)(sv_store *st, size_t *runs, size_t *events, size_t *claims, size_t *queued);
} sv_store_backend;

/* The backend the contract tests use; set it before running them. */
void sv_store_contract_use(const sv_store_backend *backend);

/* The contract tests, for an sv_cu_suite. */
extern const sv_cu_test sv_store_contract_tests[];
extern const size_t sv_store_contract_n_tests;

#endif
