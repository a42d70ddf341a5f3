/*
 * extract_date.c - relative and calendar dates in English, resolved against the turn's time.
 *
 * "last week", "next friday", "tomorrow", "in march", "3 days ago", "on december 6th",
 * "since 2019": each becomes a UTC day, month or year. Resolution is pure arithmetic on
 * civil dates (no locale, no time zone database, no libc time functions that read global
 * state), so the extractor stays deterministic and thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "lib/extract_int.h"
#include "util/isotime.h"

#define DAY_MS 86400000LL

static const char *const weekdays[] = {"monday", "tuesday", "wednesday", "thursday",
                                       "friday", "saturday", "sunday", NULL};
static const char *const months[] = {"january", "february", "march",     "april",
                                     "may",     "june",     "july",      "august",
                                     "september", "october", "november", "december", NULL};
static const char *const months3[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
                                      "aug", "sep", "oct", "nov", "dec", NULL};

/* Civil dates <-> days since 1970-01-01: the shared implementation in util/isotime.c. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    return eg_days_from_civil(y, m, d);
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    unsigned um, ud;

    eg_civil_from_days(z, y, &um, &ud);
    *m = (int)um;
    *d = (int)ud;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

static int list_index(const struct eg_tok *t, const char *const *list)
{
    int i;
    for (i = 0; list[i]; i++)
        if (t->w[0] == list[i][0] && strcmp(t->w, list[i]) == 0)
            return i;
    return -1;
}

static int month_of(const struct eg_tok *t)
{
    int m = list_index(t, months);
    if (m < 0 && strcmp(t->w, "may") != 0)
        m = list_index(t, months3);
    if (m < 0 && strcmp(t->w, "sept") == 0)
        m = 8;
    return m;
}

/* A small cardinal: digits 1..999, "a", "an", "one".."twelve", "couple", "few". */
static int small_number(const struct eg_tok *t)
{
    static const char *const words[] = {"zero", "one", "two",   "three", "four",
                                        "five", "six", "seven", "eight", "nine",
                                        "ten",  "eleven", "twelve", NULL};
    int i, v = 0;

    if (t->flags & TF_NUM) {
        if (t->len > 3)
            return -1;
        for (i = 0; i < t->len; i++)
            v = v * 10 + (t->w[i] - '0');
        return v;
    }
    if (strcmp(t->w, "a") == 0 || strcmp(t->w, "an") == 0)
        return 1;
    if (strcmp(t->w, "couple") == 0)
        return 2;
    if (strcmp(t->w, "few") == 0)
        return 3;
    return list_index(t, words);
}

/* "6", "6th", "1st", "22nd", "3rd": a day of the month, or -1. */
static int day_of_month(const struct eg_tok *t)
{
    int i = 0, v = 0;

    while (i < t->len && t->w[i] >= '0' && t->w[i] <= '9' && i < 2)
        v = v * 10 + (t->w[i++] - '0');
    if (i == 0 || v < 1 || v > 31)
        return -1;
    if (i == t->len)
        return v;
    if (strcmp(t->w + i, "st") == 0 || strcmp(t->w + i, "nd") == 0 ||
        strcmp(t->w + i, "rd") == 0 || strcmp(t->w + i, "th") == 0)
        return v;
    return -1;
}

static int year_of(const struct eg_tok *t)
{
    int i, v = 0;

    if (!(t->flags & TF_NUM) || t->len != 4)
        return -1;
    for (i = 0; i < 4; i++)
        v = v * 10 + (t->w[i] - '0');
    return (v >= 1900 && v <= 2200) ? v : -1;
}

static void set_day(struct eg_when *w, int64_t days)
{
    w->ms = days * DAY_MS;
    w->prec = EG_PREC_DAY;
}

static void set_month(struct eg_when *w, int64_t y, int m) /* m: 1..12, may overflow */
{
    y += floor_div(m - 1, 12);
    m = (int)((m - 1) - floor_div(m - 1, 12) * 12) + 1;
    w->ms = days_from_civil(y, m, 1) * DAY_MS;
    w->prec = EG_PREC_MONTH;
}

static void set_year(struct eg_when *w, int64_t y)
{
    w->ms = days_from_civil(y, 1, 1) * DAY_MS;
    w->prec = EG_PREC_YEAR;
}

/* Month (0-based) with optional day/year after it, at t[i]; next occurrence from today. */
static int month_expr(const struct eg_tok *t, int i, int n, int64_t today, int64_t y, int m,
                      int d, struct eg_when *w, int past)
{
    int mon = month_of(&t[i]), used = 1, day = -1, yr = -1;

    if (mon < 0)
        return 0;
    /* "may" is far more often the modal verb: take it only with a day or year after it. */
    if (i + 1 < n && (day = day_of_month(&t[i + 1])) > 0) {
        used = 2;
        if (i + 2 < n && (yr = year_of(&t[i + 2])) > 0)
            used = 3;
        else if (i + 3 < n && (t[i + 2].flags & TF_PUNCT) && (yr = year_of(&t[i + 3])) > 0)
            used = 4;
    } else if (i + 1 < n && (yr = year_of(&t[i + 1])) > 0) {
        used = 2;
    } else if (strcmp(t[i].w, "may") == 0 || strcmp(t[i].w, "march") == 0 ||
               t[i].len < 3) {
        return 0;
    }
    if (yr < 0) {
        yr = (int)y;
        /* A month before this one is next year's, unless the sentence looks back. */
        if (!past && (mon + 1 < m || (mon + 1 == m && day > 0 && day < d)))
            yr++;
        if (past && (mon + 1 > m || (mon + 1 == m && day > d)))
            yr--;
    }
    if (day > 0)
        set_day(w, days_from_civil(yr, mon + 1, day));
    else
        set_month(w, yr, mon + 1);
    (void)today;
    return used;
}

int eg_x_date(const struct eg_tok *t, int i, int n, int64_t turn_ms, int past,
              struct eg_when *w)
{
    int64_t today = floor_div(turn_ms, DAY_MS), y;
    int m, d, wd, k, v, prefix = 0;
    const char *a;

    if (i >= n)
        return 0;
    civil_from_days(today, &y, &m, &d);
    wd = (int)((today % 7 + 7 + 3) % 7); /* 1970-01-01 was a Thursday: 0 = Monday */
    w->ms = 0;
    w->prec = EG_PREC_NONE;
    w->kind = 0;

    a = t[i].w;
    /* Leading words that only say how the date is used. */
    if (strcmp(a, "since") == 0 || strcmp(a, "until") == 0 || strcmp(a, "till") == 0 ||
        strcmp(a, "by") == 0 || strcmp(a, "due") == 0 || strcmp(a, "before") == 0) {
        int r;
        if (i + 1 >= n)
            return 0;
        /* a deadline or an end looks forward whatever the tense; "since" looks back */
        r = eg_x_date(t, i + 1, n, turn_ms, a[0] == 's', w);
        if (r == 0 && (strcmp(t[i + 1].w, "summer") == 0 || strcmp(t[i + 1].w, "winter") == 0 ||
                       strcmp(t[i + 1].w, "spring") == 0 || strcmp(t[i + 1].w, "fall") == 0 ||
                       strcmp(t[i + 1].w, "autumn") == 0)) {
            /* "before summer", "by spring": the season's first month */
            const char *sw = t[i + 1].w;
            int sm = sw[1] == 'u' ? 6 : sw[1] == 'i' ? 12 : sw[1] == 'p' ? 3 : 9;
            set_month(w, (a[0] == 's' || past) ? y - (sm > m) : y + (sm + 2 < m), sm);
            r = 1;
        }
        if (r == 0 && year_of(&t[i + 1]) > 0) { /* "since 2015", "by 2030" */
            set_year(w, year_of(&t[i + 1]));
            r = 1;
        }
        if (r == 0 && (strcmp(t[i + 1].w, "march") == 0 || strcmp(t[i + 1].w, "may") == 0)) {
            /* after "by"/"until"/"since", "march" and "may" can only be months */
            int mon = t[i + 1].w[0] == 'm' && t[i + 1].w[1] == 'a' && t[i + 1].w[2] == 'r' ? 3
                                                                                          : 5;
            int sincep = a[0] == 's';
            set_month(w, (sincep || past) ? y - (mon > m) : y + (mon < m), mon);
            r = 1;
        }
        if (r == 0)
            return 0;
        w->kind = a[0] == 's' ? 1 : (a[0] == 'u' || a[0] == 't') ? 2 : 3;
        return r + 1;
    }
    if (strcmp(a, "on") == 0 || strcmp(a, "in") == 0 || strcmp(a, "this") == 0 ||
        strcmp(a, "next") == 0 || strcmp(a, "last") == 0 || strcmp(a, "the") == 0)
        prefix = 1;

    if (!prefix) {
        if (strcmp(a, "today") == 0 || strcmp(a, "tonight") == 0) {
            set_day(w, today);
            return 1;
        }
        if (strcmp(a, "tomorrow") == 0) {
            set_day(w, today + 1);
            return 1;
        }
        if (strcmp(a, "yesterday") == 0) {
            set_day(w, today - 1);
            return 1;
        }
        /* "3 days ago", "a week ago", "two years ago" */
        if ((v = small_number(&t[i])) > 0 && i + 2 < n && strcmp(t[i + 2].w, "ago") == 0) {
            const char *u = t[i + 1].w;
            if (strncmp(u, "day", 3) == 0)
                set_day(w, today - v);
            else if (strncmp(u, "week", 4) == 0)
                set_day(w, today - 7LL * v);
            else if (strncmp(u, "month", 5) == 0)
                set_month(w, y, m - v);
            else if (strncmp(u, "year", 4) == 0)
                set_year(w, y - v);
            else
                return 0;
            return 3;
        }
        if ((wd = list_index(&t[i], weekdays)) >= 0) {
            int cur = (int)((today % 7 + 7 + 3) % 7);
            /* "friday" said on a Friday means the next one (or, looking back, the last) */
            if (past)
                set_day(w, today - ((cur - wd + 7) % 7 ? (cur - wd + 7) % 7 : 7));
            else
                set_day(w, today + ((wd - cur + 7) % 7 ? (wd - cur + 7) % 7 : 7));
            return 1;
        }
        if ((k = month_expr(t, i, n, today, y, m, d, w, past)) > 0)
            return k;
        return 0;
    }

    if (i + 1 >= n)
        return 0;
    {
        const char *b = t[i + 1].w;
        int cur = wd;
        int64_t base;

        if (strcmp(a, "next") == 0 || strcmp(a, "last") == 0 || strcmp(a, "this") == 0) {
            int dir = a[0] == 'n' ? 1 : a[0] == 'l' ? -1 : 0;
            if (strcmp(b, "week") == 0) {
                set_day(w, today + 7LL * dir);
                return 2;
            }
            if (strcmp(b, "month") == 0) {
                set_month(w, y, m + dir);
                return 2;
            }
            if (strcmp(b, "year") == 0) {
                set_year(w, y + dir);
                return 2;
            }
            if (strcmp(b, "weekend") == 0) {
                base = today + ((5 - cur + 7) % 7); /* the coming Saturday */
                if (dir < 0)
                    base -= 7;
                if (dir > 0 && cur <= 5)
                    base += 7;
                set_day(w, base);
                return 2;
            }
            if (strcmp(b, "night") == 0 || strcmp(b, "morning") == 0 ||
                strcmp(b, "evening") == 0 || strcmp(b, "afternoon") == 0) {
                set_day(w, today + (dir < 0 ? -1 : 0));
                return 2;
            }
            if (strcmp(b, "summer") == 0 || strcmp(b, "winter") == 0 ||
                strcmp(b, "spring") == 0 || strcmp(b, "fall") == 0 ||
                strcmp(b, "autumn") == 0) {
                static const int start[] = {6, 12, 3, 9, 9};
                int sm = b[1] == 'u' ? start[0] : b[1] == 'i' ? start[1]
                         : b[1] == 'p' ? start[2] : start[3];
                int64_t yy = y;
                if (dir > 0 && sm <= m)
                    yy++;
                if (dir < 0 && sm >= m)
                    yy--;
                if (dir == 0 && !past && sm + 2 < m)
                    yy++; /* "this summer", said in November about plans: the next one */
                set_month(w, yy, sm);
                return 2;
            }
            if ((k = list_index(&t[i + 1], weekdays)) >= 0) {
                /* "next saturday" is the one in next week (Monday-based), even when this
                 * week's is still ahead: on a Friday it is eight days away, not tomorrow. */
                if (dir > 0)
                    base = today - cur + 7 + k;
                else if (dir < 0)
                    base = today - ((cur - k + 7) % 7 ? (cur - k + 7) % 7 : 7);
                else
                    base = today + (k - cur + 7) % 7;
                set_day(w, base);
                return 2;
            }
            if (month_of(&t[i + 1]) >= 0 && strcmp(b, "may") != 0) {
                int mon = month_of(&t[i + 1]) + 1;
                int64_t yy = y;
                if (dir > 0 && mon <= m)
                    yy++;
                if (dir < 0 && mon >= m)
                    yy--;
                if (dir == 0 && mon < m)
                    yy++;
                set_month(w, yy, mon);
                return 2;
            }
            return 0;
        }
        if (strcmp(a, "in") == 0 && (strcmp(b, "the") == 0 || strcmp(b, "spring") == 0 ||
                                     strcmp(b, "summer") == 0 || strcmp(b, "fall") == 0 ||
                                     strcmp(b, "autumn") == 0 || strcmp(b, "winter") == 0)) {
            /* "in the spring", "in summer": the coming one (or the last, looking back) */
            int k0 = strcmp(b, "the") == 0 ? i + 2 : i + 1, sm;
            const char *sw;
            int64_t yy = y;
            if (k0 >= n)
                return 0;
            sw = t[k0].w;
            if (strcmp(sw, "spring") == 0)
                sm = 3;
            else if (strcmp(sw, "summer") == 0)
                sm = 6;
            else if (strcmp(sw, "fall") == 0 || strcmp(sw, "autumn") == 0)
                sm = 9;
            else if (strcmp(sw, "winter") == 0)
                sm = 12;
            else
                return 0;
            if (!past && sm + 2 < m)
                yy++;
            if (past && sm > m)
                yy--;
            set_month(w, yy, sm);
            return k0 + 1 - i;
        }
        if (strcmp(a, "in") == 0) {
            int yr;
            /* "in 2 weeks", "in three days", "in a month" */
            if ((v = small_number(&t[i + 1])) > 0 && i + 2 < n) {
                const char *u = t[i + 2].w;
                if (strncmp(u, "day", 3) == 0)
                    set_day(w, today + v);
                else if (strncmp(u, "week", 4) == 0)
                    set_day(w, today + 7LL * v);
                else if (strncmp(u, "month", 5) == 0)
                    set_month(w, y, m + v);
                else if (strncmp(u, "year", 4) == 0)
                    set_year(w, y + v);
                else
                    goto not_count;
                return 3;
            }
        not_count:
            if ((yr = year_of(&t[i + 1])) > 0) {
                set_year(w, yr);
                return 2;
            }
            if (strcmp(b, "may") == 0) { /* "in may" is the month */
                int64_t yy = past ? y - (5 > m) : y + (5 < m);
                set_month(w, yy, 5);
                return 2;
            }
            if ((k = month_expr(t, i + 1, n, today, y, m, d, w, past)) > 0)
                return k + 1;
            if (strcmp(b, "march") == 0) {
                set_month(w, past ? y - (3 > m) : y + (3 < m), 3);
                return 2;
            }
            return 0;
        }
        if (strcmp(a, "on") == 0 || strcmp(a, "the") == 0) {
            if ((k = list_index(&t[i + 1], weekdays)) >= 0) {
                if (past)
                    set_day(w, today - ((cur - k + 7) % 7 ? (cur - k + 7) % 7 : 7));
                else
                    set_day(w, today + ((k - cur + 7) % 7 ? (k - cur + 7) % 7 : 7));
                return 2;
            }
            if ((k = month_expr(t, i + 1, n, today, y, m, d, w, past)) > 0)
                return k + 1;
            /* "on the 6th" / "the 6th of december" */
            {
                int j = i + 1, dd, mon;
                if (strcmp(t[j].w, "the") == 0)
                    j++;
                if (j < n && (dd = day_of_month(&t[j])) > 0 && !(t[j].flags & TF_NUM)) {
                    if (j + 2 < n && strcmp(t[j + 1].w, "of") == 0 &&
                        (mon = month_of(&t[j + 2])) >= 0) {
                        int64_t yy = y + (mon + 1 < m || (mon + 1 == m && dd < d));
                        set_day(w, days_from_civil(yy, mon + 1, dd));
                        return j + 3 - i;
                    }
                    set_day(w, days_from_civil(dd >= d ? y : y + (m == 12),
                                               dd >= d ? m : (m % 12) + 1, dd));
                    return j + 1 - i;
                }
            }
        }
    }
    return 0;
}

int eg_x_date_fmt(const struct eg_when *w, char *buf, size_t cap)
{
    int64_t y;
    int m, d, r;

    civil_from_days(floor_div(w->ms, DAY_MS), &y, &m, &d);
    if (w->prec == EG_PREC_YEAR)
        r = snprintf(buf, cap, "%04lld", (long long)y);
    else if (w->prec == EG_PREC_MONTH)
        r = snprintf(buf, cap, "%04lld-%02d", (long long)y, m);
    else
        r = snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
    if (r < 0)
        r = 0;
    if ((size_t)r >= cap)
        r = (int)cap - 1;
    return r;
}
