/*
 * isotime.c - ISO-8601 parsing and formatting without the C library's locale and
 * time-zone state (timegm is not C11, and mktime reads TZ), so results never depend on
 * the machine.
 */
#include "util/isotime.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t eg_days_from_civil(int64_t y, int64_t mm, int64_t dd)
{
    /* Signed throughout, so a day 0 from a caller's date arithmetic lands on the day
     * before instead of wrapping around. */
    int64_t era, yoe, doy, doe;

    y -= mm <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (mm + (mm > 2 ? -3 : 9)) + 2) / 5 + dd - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void eg_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9')
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int month_days(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 ? 28 + leap : days[m - 1];
}

int eg_iso_parse(const char *text, int64_t *out_ms)
{
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0, ms = 0, off = 0;

    if (!text || digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
            return -1;
        if (*p == ':') {
            p++;
            if (digits(&p, 2, &s))
                return -1;
            if (*p == '.' || *p == ',') {
                int scale = 100, n = 0;
                p++;
                while (*p >= '0' && *p <= '9') {
                    ms += (*p - '0') * scale;
                    scale /= 10;
                    p++;
                    n++;
                }
                if (n == 0)
                    return -1;
            }
        }
        if (h > 23 || mi > 59 || s > 60)
            return -1;
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om;
            p++;
            if (digits(&p, 2, &oh))
                return -1;
            if (*p == ':')
                p++;
            if (digits(&p, 2, &om) || oh > 23 || om > 59)
                return -1;
            off = sign * (oh * 60 + om);
        }
    }
    if (*p != '\0')
        return -1;
    *out_ms = ((eg_days_from_civil(y, mo, d) * 86400 + h * 3600 +
                mi * 60 + s - off * 60) *
               1000) +
              ms;
    return 0;
}

void eg_iso_format(int64_t ms, char *out)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400, y;
    unsigned m, d;

    eg_civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, EG_ISO_LEN, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60),
                 (int)(ms - secs * 1000));
        return;
    }
    /* The common case by hand: every ingested turn formats two times, and snprintf was
     * ~3,600 instructions of each. */
    {
        int f[7] = {(int)y, (int)m, (int)d, (int)(rem / 3600), (int)(rem / 60 % 60),
                    (int)(rem % 60), (int)(ms - secs * 1000)};
        static const char sep[7] = {'-', '-', 'T', ':', ':', '.', 'Z'};
        static const int width[7] = {4, 2, 2, 2, 2, 2, 3};
        char *p = out;

        for (int i = 0; i < 7; i++) {
            for (int k = width[i] - 1, v = f[i]; k >= 0; k--, v /= 10)
                p[k] = (char)('0' + v % 10);
            p += width[i];
            *p++ = sep[i];
        }
        *p = '\0';
    }
}

int64_t eg_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
