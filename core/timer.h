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
/* Call fn(arg, tag, 1) at due_mono_ms (sv_mono_ms clock) or soon after. */
int sv_timer_add(sv_timer *t, int64_t due_mono_ms, sv_timer_fn fn, void *arg, uint64_t tag);
/* Entries waiting. */
size_t sv_timer_pending(sv_timer *t);
/* Stop the thread; every entry still waiting gets fn(arg, tag, 0). */
void sv_timer_free(sv_timer *t);

#endif
