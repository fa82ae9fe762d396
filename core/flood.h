/*
 * flood.h - what keeps the daemon up under a flood of connections: the file
 * descriptors the connection limit needs (RLIMIT_NOFILE), and a rate limit
 * for log lines that a flood would otherwise multiply (one line a second,
 * with the count of those left out).
 */
#ifndef SV_FLOOD_H
#define SV_FLOOD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Descriptors kept for everything but client connections: the router's
 * connection cache (up to 1024), Redis, the listening socket, epoll and
 * wake-up pipes, plugin files, the log. */
#define SV_NOFILE_RESERVE 2048

/*
 * Fit `want` client connections into the open-file limits soft/hard: the
 * soft limit to set (*soft_out: want + SV_NOFILE_RESERVE, at most hard,
 * never below soft) and the connections that fit under it (*conns_out:
 * want, or fewer when the hard limit is too low).  Pure, for tests.
 * 1 when fewer connections fit than wanted, else 0.
 */
int sv_nofile_fit(uint64_t soft, uint64_t hard, unsigned want, uint64_t *soft_out,
                  unsigned *conns_out);

/*
 * Raise this process's soft RLIMIT_NOFILE so that `want` connections fit
 * (sv_nofile_fit), and return how many do.  When fewer fit, or the limit
 * cannot be changed, one warning line says what to raise.
 */
unsigned sv_nofile_raise(unsigned want);

/* One line per interval; what is held back is counted. */
typedef struct sv_ratelimit {
    pthread_mutex_t lock;
    int64_t interval_ms;
    int64_t last_ms; /* when the last line passed; INT64_MIN: never */
    uint64_t held;   /* lines held back since then */
} sv_ratelimit;

#define SV_RATELIMIT_INITIALIZER(interval_ms)                                                      \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, (interval_ms), INT64_MIN, 0                                     \
    }

void sv_ratelimit_init(sv_ratelimit *rl, int64_t interval_ms);
void sv_ratelimit_destroy(sv_ratelimit *rl);
/* May a line go out at now_ms?  1 and, in *held, how many were held back
 * since the last one (reset to 0); or 0 (this one is counted instead). */
int sv_ratelimit_pass(sv_ratelimit *rl, int64_t now_ms, uint64_t *held);

#endif
