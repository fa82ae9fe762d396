/* store_contract_threads.c - the store contract's concurrency test: four
 * threads of mixed operations on one store, then every count checked behind
 * the table's back (store_contract.c holds the rest of the contract). */
#include "store_contract_internal.h"

#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_THREADS 4
#define OPS_PER_THREAD 10000
#define RUNS_PER_THREAD (OPS_PER_THREAD / 10)
#define SHARED_KEYS 100

struct worker {
    sv_store *st;
    int t;
    int errors;
    unsigned events[RUNS_PER_THREAD];
    unsigned claims_won;
    unsigned pushed, popped;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sv_store *st = w->st;
    char id[40], key[40], json[64];
    unsigned created = 0;

    for (unsigned i = 0; i < OPS_PER_THREAD; i++) {
        unsigned own = created ? (i * 7919u) % created : 0;
        sv_sc_run_id(id, (unsigned)w->t << 24 | own);
        char *s = NULL;
        int rc = 0, flag = 0;
        switch (i % 10) {
        case 0:
            sv_sc_run_id(id, (unsigned)w->t << 24 | created);
            snprintf(json, sizeof json, "{\"t\":%d,\"i\":%u}", w->t, i);
            rc = st->ops->run_create(st, id, json, json, (int64_t)i);
            created++;
            break;
        case 1:
        case 2:
        case 3:
            rc = st->ops->event_append(st, id, "{\"type\":\"node_start\"}", EVENT_CAP);
            if (rc == 0)
                w->events[own]++;
            break;
        case 4:
            /* Every other put keeps the summary. */
            rc = st->ops->run_put(st, id, "{\"status\":\"running\"}",
                                  i % 20 == 4 ? "{\"status\":\"running\"}" : NULL, NULL);
            break;
        case 5:
            rc = st->ops->run_get(st, id, &s);
            free(s);
            break;
        case 6:
            rc = st->ops->cancel_set(st, id);
            if (rc == 0)
                rc = st->ops->cancel_get(st, id, &flag);
            if (rc == 0 && flag != 1)
                rc = -EPROTO;
            break;
        case 7:
            /* Every thread races for the same keys: one winner each. */
            snprintf(key, sizeof key, "shared:%u", (i / 10) % SHARED_KEYS);
            snprintf(json, sizeof json, "t%d", w->t);
            rc = st->ops->idem_claim(st, key, json, &s);
            if (rc == 0)
                w->claims_won++;
            else if (rc == -EEXIST && s && s[0] == 't')
                rc = 0;
            free(s);
            break;
        case 8:
            snprintf(json, sizeof json, "q%d:%u", w->t, i);
            rc = st->ops->queue_push(st, json);
            if (rc == 0)
                w->pushed++;
            break;
        case 9:
            rc = st->ops->queue_pop(st, &s);
            if (rc == 0)
                w->popped++;
            else if (rc == -ENOENT)
                rc = 0;
            free(s);
            break;
        }
        if (rc != 0)
            w->errors++;
    }
    return NULL;
}

void sv_sc_test_concurrent_mixed_ops(void)
{
    sv_store *st = sv_sc_new_store(3600);
    struct worker w[N_THREADS];
    pthread_t th[N_THREADS];
    size_t total_events = 0, pushed = 0, popped = 0, won = 0;

    memset(w, 0, sizeof w);
    for (int t = 0; t < N_THREADS; t++) {
        w[t].st = st;
        w[t].t = t;
        CU_ASSERT_FATAL(pthread_create(&th[t], NULL, worker_main, &w[t]) == 0);
    }
    for (int t = 0; t < N_THREADS; t++)
        pthread_join(th[t], NULL);

    for (int t = 0; t < N_THREADS; t++) {
        CU_ASSERT_EQUAL(w[t].errors, 0);
        won += w[t].claims_won;
        pushed += w[t].pushed;
        popped += w[t].popped;
        /* Each run holds exactly the events its thread appended. */
        int events_match = 1;
        for (unsigned r = 0; r < RUNS_PER_THREAD; r++) {
            char id[40];
            sv_strvec ev = {0};
            uint64_t dropped = 1;
            sv_sc_run_id(id, (unsigned)t << 24 | r);
            events_match &= st->ops->events_get(st, id, &ev, &dropped) == 0 &&
                            ev.n == w[t].events[r] && dropped == 0;
            total_events += ev.n;
            sv_strvec_free(&ev);
        }
        CU_ASSERT(events_match);
    }
    CU_ASSERT_EQUAL(won, SHARED_KEYS);

    size_t runs, events, claims, queued;
    CU_ASSERT_EQUAL(sv_sc_backend()->counts(st, &runs, &events, &claims, &queued), 0);
    CU_ASSERT_EQUAL(runs, N_THREADS * RUNS_PER_THREAD);
    CU_ASSERT_EQUAL(events, total_events);
    CU_ASSERT_EQUAL(claims, SHARED_KEYS);
    CU_ASSERT_EQUAL(queued, pushed - popped);

    sv_strvec sums = {0};
    CU_ASSERT_EQUAL(st->ops->run_summaries(st, SIZE_MAX, &sums), 0);
    CU_ASSERT_EQUAL(sums.n, N_THREADS * RUNS_PER_THREAD);
    /* Each is the create's or the put's, whole. */
    int whole = 1;
    for (size_t i = 0; i < sums.n; i++)
        whole &= strncmp(sums.v[i], "{\"t\":", 5) == 0 ||
                 strcmp(sums.v[i], "{\"status\":\"running\"}") == 0;
    CU_ASSERT(whole);
    sv_strvec_free(&sums);

    size_t drained = 0;
    char *s;
    while (st->ops->queue_pop(st, &s) == 0) {
        drained++;
        free(s);
    }
    CU_ASSERT_EQUAL(drained, pushed - popped);
    st->ops->destroy(st);
}
