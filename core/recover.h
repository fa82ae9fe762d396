/*
 * recover.h - no run lost: with a durable store, this instance beats a
 * heartbeat and resumes the runs of instances that stopped beating
 * (killed, crashed, or stopped cleanly with runs unfinished), from each
 * run's last checkpoint.  docs/operations.md, "Several instances".
 */
#ifndef SV_RECOVER_H
#define SV_RECOVER_H

#include <stdint.h>

#include "executor.h"
#include "registry.h"
#include "store.h"

typedef struct sv_recover sv_recover;

typedef struct sv_recover_cfg {
    sv_store *store; /* durable, with the ownership ops */
    sv_exec *exec;
    sv_registry *reg;
    const char *node_id;    /* this instance */
    int64_t node_ttl_ms;    /* silent this long = dead; beats every fifth of it */
    int max_resumes;        /* MAX_RESUMES: crashes after which a run is not resumed */
    int quarantine_crashes; /* QUARANTINE_CRASHES (crash.h); 0: off */
} sv_recover_cfg;

/*
 * Beat once and resume, before returning, the runs this node id owned in a
 * previous life and those of dead nodes; then keep doing both in a thread.
 * 0, -EIO when the store does not answer the first beat, -ENOMEM.
 */
int sv_recover_start(const sv_recover_cfg *cfg, sv_recover **out);

/*
 * Take over no more runs from now on, but keep beating: called when a stop
 * begins, so that runs are not taken in while the executor stops, and the
 * runs still executing their last node are not declared dead meanwhile.
 */
void sv_recover_quiesce(sv_recover *rv);

/*
 * Stop the thread.  clean: also end the heartbeat now, so the runs left
 * unfinished are taken over at once rather than after node_ttl_ms.  Call
 * after the executor has stopped.
 */
void sv_recover_stop(sv_recover *rv, int clean);

/* One pass now (tests, and the start-up pass): how many runs it resumed. */
int sv_recover_pass(sv_recover *rv);

#endif
