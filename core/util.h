/* util.h - small helpers shared by the core: clocks, timestamps, ids, hashes. */
#ifndef SV_UTIL_H
#define SV_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock in microseconds / milliseconds since the epoch. */
int64_t sv_now_us(void);
int64_t sv_now_ms(void);
/* Monotonic clock in milliseconds (for deadlines and durations). */
int64_t sv_mono_ms(void);
/* The same in microseconds (node and tool call durations for /metrics). */
int64_t sv_mono_us(void);

/* A condition variable whose timed waits run on the monotonic clock, so
 * wall-clock jumps neither fire nor stall them.  0 or -errno. */
int sv_cond_init_mono(pthread_cond_t *c);
/* Wait on c (from sv_cond_init_mono, m held) until signalled or until
 * due_mono_ms (sv_mono_ms's clock) has passed. */
void sv_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, int64_t due_mono_ms);

/* RFC 3339 UTC with microseconds and "+00:00": buf needs SV_TS_LEN bytes. */
#define SV_TS_LEN 33
void sv_format_ts(int64_t us, char buf[SV_TS_LEN]);
/* Parse any RFC 3339 timestamp (offset Z or +hh:mm, optional fraction) into
 * microseconds since the epoch; 0 or -EINVAL. */
int sv_parse_ts(const char *s, int64_t *us);

/* Fill buf with n cryptographically random bytes; 0 or -EIO. */
int sv_random_bytes(void *buf, size_t n);
/* A run id: "gr_" + 32 lowercase hex chars; buf needs SV_RUN_ID_LEN bytes. */
#define SV_RUN_ID_LEN 36
int sv_run_id_new(char buf[SV_RUN_ID_LEN]);
/* Is s a well-formed run id? */
int sv_run_id_valid(const char *s);

/* Lowercase hex SHA-256 of data: out needs 65 bytes. */
void sv_sha256_hex(const void *data, size_t len, char out[65]);

/* Compare two strings in time independent of where they differ. */
int sv_consttime_equal(const char *a, const char *b);

/* Random double in [0, 1) for jitter (not cryptographic). */
double sv_rand_unit(void);

#endif
