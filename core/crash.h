/*
 * crash.h - what a crash leaves behind.  A plugin runs in the daemon's
 * process, so a node that dereferences a bad pointer kills it.  Before it
 * dies, the fatal signal's handler writes one JSON line to stderr naming the
 * signal and the graph, version, node and run that were executing on the
 * crashing thread, and, with Redis, records the crash there (on the run,
 * and per graph version), with a connection and command text prepared in
 * advance and sent by write(2): nothing in the handler allocates or locks.
 * Then the signal is raised again and the process dies as it would have.
 *
 * The records are what stops a poison run from crash-looping the fleet
 * (recover.c resumes a run at most MAX_RESUMES times after crashes) and
 * what quarantines a graph version that keeps crashing
 * (QUARANTINE_CRASHES).  A kill -9, an OOM kill or a clean hand-over
 * writes none.
 */
#ifndef SV_CRASH_H
#define SV_CRASH_H

/* Install the handlers.  redis_fd: a connected, authenticated socket to the
 * run store (its database selected) for the crash records, or -1. */
int sv_crash_install(int redis_fd);

/* Let this thread's crashes be handled on a stack of their own (a stack
 * overflow too); call at the start of every thread that runs node code. */
void sv_crash_thread_init(void);
/* Its stack freed (before the thread exits). */
void sv_crash_thread_fini(void);

/* What this thread executes now, for the crash line (NULLs: nothing). */
void sv_crash_enter(const char *run_id, const char *graph, const char *version, const char *node);
void sv_crash_leave(void);

/*
 * Quarantine: the per-version crash counts as the store has them (pairs of
 * "graph@version", count), kept for sv_crash_quarantined; threshold 0 turns
 * it off.  Logs a version the first time it reaches the threshold.
 */
struct sv_strvec;
void sv_crash_quarantine_set(const struct sv_strvec *pairs, int threshold);
/* Is graph@version quarantined?  1 with its count in *count, or 0. */
int sv_crash_quarantined(const char *graph, const char *version, long *count);

/* The key of the per-version crash counts, and the field of a run's hash. */
#define SV_CRASH_KEY "sv:crashes"
#define SV_CRASH_FIELD "crashes"

#endif
