/*
 * it_time.c - RFC 3339 date-times.  A plugin cannot call the core's parser,
 * and timegm()/gmtime_r() depend on the C library's time_t range, so the
 * calendar arithmetic is done here on plain integers (days from civil).
 */
#include "it.h"

#include <stdio.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t it_days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void it_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int it_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* Exactly n digits at *p; -1 when they are not there. */
static int it_digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

int it_time_parse(const char *s, int64_t *ms)
{
    int rc = SV_EINVAL;
    const char *p = s;
    int64_t frac_ms = 0;
    int offset_min = 0;

    if (!s || !ms)
        goto out;
    int y = it_digits(&p, 4);
    if (y < 0 || *p++ != '-')
        goto out;
    int mo = it_digits(&p, 2);
    if (mo < 1 || mo > 12 || *p++ != '-')
        goto out;
    int d = it_digits(&p, 2);
    if (d < 1 || d > it_days_in_month(y, mo))
        goto out;
    if (*p != 'T' && *p != 't' && *p != ' ')
        goto out;
    p++;
    int h = it_digits(&p, 2);
    if (h < 0 || h > 23 || *p++ != ':')
        goto out;
    int mi = it_digits(&p, 2);
    if (mi < 0 || mi > 59 || *p++ != ':')
        goto out;
    /* 60 is a leap second; it rolls into the next minute like the core's. */
    int sec = it_digits(&p, 2);
    if (sec < 0 || sec > 60)
        goto out;
    if (*p == '.') {
        int n = 0;
        int64_t scale = 100;
        for (p++; *p >= '0' && *p <= '9'; p++, n++) {
            frac_ms += (*p - '0') * scale;
            scale /= 10;
        }
        if (n == 0)
            goto out;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1;
        int oh = it_digits(&p, 2);
        if (oh < 0 || oh > 23 || *p++ != ':')
            goto out;
        int om = it_digits(&p, 2);
        if (om < 0 || om > 59)
            goto out;
        offset_min = sign * (oh * 60 + om);
    } else {
        goto out;
    }
    if (*p != '\0')
        goto out;
    int64_t secs = it_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    *ms = (secs - (int64_t)offset_min * 60) * 1000 + frac_ms;
    rc = 0;
out:
    return rc;
}

void it_time_format(int64_t ms, char buf[IT_TS_LEN])
{
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days -= 1;
    }
    int64_t y;
    int m, d;
    it_civil_from_days(days, &y, &m, &d);
    /* Years outside 0..9999 cannot come from a parsed input; clamp the shape. */
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    int n = snprintf(buf, IT_TS_LEN, "%04d-%02d-%02dT%02d:%02d:%02d", (int)y, m, d,
                     (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    if (n < 0 || n >= IT_TS_LEN)
        return;
    if (frac)
        snprintf(buf + n, (size_t)(IT_TS_LEN - n), ".%03dZ", (int)frac);
    else
        snprintf(buf + n, (size_t)(IT_TS_LEN - n), "Z");
}
