/* util.c - clocks, random ids, SHA-256 (timestamps: util_time.c). */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pthread.h>

int64_t sv_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sv_now_ms(void)
{
    return sv_now_us() / 1000;
}

int64_t sv_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int sv_cond_init_mono(pthread_cond_t *c)
{
    pthread_condattr_t ca;
    int rc = -pthread_condattr_init(&ca);
    if (rc == 0)
        rc = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = -pthread_cond_init(c, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

void sv_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *m, int64_t due_mono_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(due_mono_ms / 1000),
                          .tv_nsec = (long)(due_mono_ms % 1000) * 1000000L};
    pthread_cond_timedwait(c, m, &ts);
}

int sv_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t r = getrandom(p, n, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

int sv_run_id_new(char buf[SV_RUN_ID_LEN])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    int rc = sv_random_bytes(raw, sizeof raw);
    if (rc < 0)
        return rc;
    memcpy(buf, "gr_", 3);
    for (size_t i = 0; i < sizeof raw; i++) {
        buf[3 + 2 * i] = hex[raw[i] >> 4];
        buf[4 + 2 * i] = hex[raw[i] & 15];
    }
    buf[35] = '\0';
    return 0;
}

int sv_run_id_valid(const char *s)
{
    if (!s || strncmp(s, "gr_", 3) != 0 || strlen(s) != 35)
        return 0;
    for (const char *p = s + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

/* OpenSSL 3 looks the algorithm up on every EVP_sha256() use; two hashes per
 * tool call make fetching it once worth it. */
static EVP_MD *g_sha256;
static pthread_once_t g_sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    g_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void sv_sha256_hex(const void *data, size_t len, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;
    pthread_once(&g_sha256_once, sha256_fetch);
    EVP_Digest(data, len, md, &mdlen, g_sha256 ? g_sha256 : EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int sv_consttime_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    /* Walk the secret's length whatever the guess is, so timing tells
     * neither where they differ nor how long the secret is beyond lb. */
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < lb; i++)
        diff |= (unsigned char)((i < la ? a[i] : 0) ^ b[i]);
    return diff == 0;
}

double sv_rand_unit(void)
{
    static _Thread_local unsigned int seed;
    if (seed == 0)
        seed = (unsigned int)sv_now_us() ^ (unsigned int)(uintptr_t)&seed;
    return (double)rand_r(&seed) / ((double)RAND_MAX + 1.0);
}
