/* util.c - clocks, RFC 3339 timestamps, random ids, SHA-256. */
#include "util.h"

#include <ctype.h>
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

void sv_format_ts(int64_t us, char buf[SV_TS_LEN])
{
    time_t secs = (time_t)(us / 1000000);
    long frac = (long)(us % 1000000);
    if (frac < 0) {
        frac += 1000000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* strftime bounds every field, so the fixed 32-char shape always fits. */
    size_t n = strftime(buf, SV_TS_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, SV_TS_LEN - n, ".%06ld+00:00", frac);
}

/* Read exactly n digits; -1 when they are not there. */
static int read_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : d[m - 1];
}

int sv_parse_ts(const char *s, int64_t *us)
{
    if (!s)
        return -EINVAL;
    const char *p = s;
    int Y = read_digits(&p, 4);
    if (Y < 0 || *p++ != '-')
        return -EINVAL;
    int M = read_digits(&p, 2);
    if (M < 1 || M > 12 || *p++ != '-')
        return -EINVAL;
    int D = read_digits(&p, 2);
    if (D < 1 || D > days_in_month(Y, M))
        return -EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return -EINVAL;
    p++;
    int h = read_digits(&p, 2);
    if (h < 0 || h > 23 || *p++ != ':')
        return -EINVAL;
    int mi = read_digits(&p, 2);
    if (mi < 0 || mi > 59 || *p++ != ':')
        return -EINVAL;
    int sec = read_digits(&p, 2);
    if (sec < 0 || sec > 60)
        return -EINVAL;
    int64_t frac_us = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        int64_t scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (digits < 6)
                frac_us += (*p - '0') * scale;
            scale /= 10;
            digits++;
            p++;
        }
        if (digits == 0)
            return -EINVAL;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = read_digits(&p, 2);
        if (oh < 0 || oh > 23 || *p++ != ':')
            return -EINVAL;
        int om = read_digits(&p, 2);
        if (om < 0 || om > 59)
            return -EINVAL;
        offset_min = sign * (oh * 60 + om);
    } else {
        return -EINVAL;
    }
    if (*p != '\0')
        return -EINVAL;
    struct tm tm = {.tm_year = Y - 1900,
                    .tm_mon = M - 1,
                    .tm_mday = D,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    time_t t = timegm(&tm);
    *us = ((int64_t)t - (int64_t)offset_min * 60) * 1000000 + frac_us;
    return 0;
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
