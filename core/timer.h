/*
 * timer.h - one thread and a min-heap of deadlines.  A parked run or a run's
 * overall deadline costs one heap entry (a few dozen bytes), no thread.
 * Callbacks run on the timer thread and must only hand work on (enqueue).
 */
#ifndef SV_TIMER_H
#define SV_TIMER_H

#include <stddef.h>
#include <stdint.h>

typedef struct sv_timer sv_timer;

/* fired = 1 when due; fired = 0 when the timer is destroyed first, so the
 * owner can release what arg holds. */
typedef void (*sv_timer_fn)(void *arg, uint64_t tag, int fired);

int sv_timer_new(sv_timer **out);
#define SV_TIMER_NONE ((size_t)-1)

/*
 * Call fn(arg, tag, 1) at due_mono_ms (sv_mono_ms clock) or soon after.
 * slot (may be NULL) is where the timer keeps the entry's place in its heap
 * so sv_timer_cancel can find it: it must stay valid while the entry waits,
 * and reads SV_TIMER_NONE once the entry has fired or been cancelled.
 */
int sv_timer_add(sv_timer *t, int64_t due_mono_ms, sv_timer_fn fn, void *arg, uint64_t tag,
                 size_t *slot);
/* Take the entry of slot out before it fires; its fn(arg, tag, 0) is called
 * so the owner can release what it holds.  0, or -ENOENT when it already
 * fired (or is firing). */
int sv_timer_cancel(sv_timer *t, size_t *slot);
/* Entries waiting. */
size_t sv_timer_pending(sv_timer *t);
/* Stop the thread; every entry still waiting gets fn(arg, tag, 0). */
void sv_timer_free(sv_timer *t);

#endif
