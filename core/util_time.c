/* util_time.c - RFC 3339 timestamps: kept apart from util.c (which needs
 * libcrypto for its hashes) so the SDK's test kit can link the schema
 * validator, which parses date-times, without it. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
