/* flood.c - see flood.h. */
#include "flood.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>

int sv_nofile_fit(uint64_t soft, uint64_t hard, unsigned want, uint64_t *soft_out,
                  unsigned *conns_out)
{
    uint64_t need = (uint64_t)want + SV_NOFILE_RESERVE;
    uint64_t to = need < hard ? need : hard;
    if (to < soft)
        to = soft; /* never lower what the operator gave */
    *soft_out = to;
    if (to >= need) {
        *conns_out = want;
        return 0;
    }
    /* Too few: keep the reserve, and at least a few connections (the
     * process then runs out of descriptors in its own calls first, which
     * it survives, rather than refusing every client). */
    uint64_t fit = to > 2 * SV_NOFILE_RESERVE ? to - SV_NOFILE_RESERVE : to / 2;
    if (fit < 16)
        fit = 16;
    *conns_out = fit < want ? (unsigned)fit : want;
    return *conns_out < want;
}

unsigned sv_nofile_raise(unsigned want)
{
    struct rlimit rl;
    uint64_t soft = 0;
    unsigned conns = want;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
        sv_logf(SV_LEVEL_WARN, "RLIMIT_NOFILE: cannot read it (%s)", strerror(errno));
        return want;
    }
    uint64_t cur = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
    uint64_t max = rl.rlim_max == RLIM_INFINITY ? UINT64_MAX : rl.rlim_max;
    int short_of = sv_nofile_fit(cur, max, want, &soft, &conns);
    int rc = 0;
    if (soft != cur) {
        rl.rlim_cur = soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)soft;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
            rc = -errno;
            /* Stuck with the soft limit as it is. */
            short_of = sv_nofile_fit(cur, cur, want, &soft, &conns);
        }
    }
    if (short_of) {
        /* One line, with what to change: the limit or MAX_CONNECTIONS. */
        json_object *f = json_object_new_object();
        json_object_object_add(f, "max_connections", json_object_new_int64(want));
        json_object_object_add(f, "accepted_connections", json_object_new_int64(conns));
        json_object_object_add(f, "nofile_soft", json_object_new_int64((int64_t)soft));
        json_object_object_add(f, "nofile_hard", json_object_new_int64((int64_t)max));
        json_object_object_add(f, "nofile_needed",
                               json_object_new_int64((int64_t)want + SV_NOFILE_RESERVE));
        if (rc < 0)
            json_object_object_add(f, "reason", json_object_new_string(strerror(-rc)));
        sv_log(SV_LEVEL_WARN,
               "RLIMIT_NOFILE is below what MAX_CONNECTIONS needs: fewer connections are "
               "accepted; raise the limit (systemd LimitNOFILE=, docker --ulimit nofile=) or "
               "lower MAX_CONNECTIONS",
               f);
    }
    return conns;
}

void sv_ratelimit_init(sv_ratelimit *rl, int64_t interval_ms)
{
    pthread_mutex_init(&rl->lock, NULL);
    rl->interval_ms = interval_ms;
    rl->last_ms = INT64_MIN;
    rl->held = 0;
}

void sv_ratelimit_destroy(sv_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->lock);
}

int sv_ratelimit_pass(sv_ratelimit *rl, int64_t now_ms, uint64_t *held)
{
    int pass = 0;
    pthread_mutex_lock(&rl->lock);
    if (rl->last_ms == INT64_MIN || now_ms - rl->last_ms >= rl->interval_ms) {
        pass = 1;
        rl->last_ms = now_ms;
        *held = rl->held;
        rl->held = 0;
    } else {
        rl->held++;
    }
    pthread_mutex_unlock(&rl->lock);
    return pass;
}
