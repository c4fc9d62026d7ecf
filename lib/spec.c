/*
 * spec.c - time parsing and formatting, and offset specifications.
 *
 * Everything here is computation on strings and integers: no locale, no
 * time zone, no mktime or timegm.  Civil dates become days since the epoch
 * in the proleptic Gregorian calendar, so a time means the same instant on
 * every machine.  Invariants:
 *   - every number is range-checked before it is used; an overflow is an
 *     error (EINVAL), never a wrap;
 *   - a time written without an offset is UTC, like every time synclog
 *     prints;
 *   - parsing only parses: turning a spec into an offset needs a log and
 *     lives in the reader (sl_reader_resolve).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "synclog.h"

#define MS_PER_SEC	1000LL
#define SEC_PER_DAY	86400LL
#define MS_PER_DAY	(SEC_PER_DAY * MS_PER_SEC)

int64_t
sl_now_ms(void)
{
	struct timespec ts;

	/* CLOCK_REALTIME always exists; the check is for form's sake. */
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * MS_PER_SEC + ts.tv_nsec / 1000000;
}

static int
isdig(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * Read one or more decimal digits at *SP into *V, advancing *SP.
 * -1 when there is no digit or the number exceeds MAX.
 */
static int
getnum(const char **sp, uint64_t max, uint64_t *v)
{
	const char *s = *sp;
	uint64_t n = 0;
	unsigned d;

	if (!isdig(*s))
		return -1;
	for (; isdig(*s); s++) {
		d = (unsigned)(*s - '0');
		if (n > (max - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*sp = s;
	*v = n;
	return 0;
}

/* Read exactly WIDTH digits at *SP into *V, advancing *SP. */
static int
getfixed(const char **sp, int width, int *v)
{
	const char *s = *sp;
	int i, n = 0;

	for (i = 0; i < width; i++, s++) {
		if (!isdig(*s))
			return -1;
		n = n * 10 + (*s - '0');
	}
	*sp = s;
	*v = n;
	return 0;
}

/* Consume the character C at *SP; -1 when it is not there. */
static int
getchr(const char **sp, char c)
{
	if (**sp != c)
		return -1;
	(*sp)++;
	return 0;
}

static int
isleap(int64_t y)
{
	return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int
monthdays(int64_t y, int m)
{
	static const int mdays[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return m == 2 && isleap(y) ? 29 : mdays[m - 1];
}

/*
 * Days from 1970-01-01 to Y-M-D.  The year is counted from March so that
 * the leap day falls at its end, and split into 400-year eras of exactly
 * 146097 days; the floor division keeps it right before year 0 too.
 */
static int64_t
civil_to_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;				/* 0..399 */
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;	/* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;	/* 0..146096 */
	return era * 146097 + doe - 719468;	/* 719468: 0000-03-01..1970 */
}

/* The inverse of civil_to_days. */
static void
days_to_civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The fraction after the decimal mark: 1-9 digits, truncated to ms. */
static int
getfraction(const char **sp, int *ms)
{
	const char *s = *sp;
	size_t i;
	int n = 0;

	for (i = 0; isdig(s[i]); i++)
		if (i < 3)
			n = n * 10 + (s[i] - '0');
	if (i == 0 || i > 9)
		return -1;
	*sp = s + i;
	for (; i < 3; i++)
		n *= 10;
	*ms = n;
	return 0;
}

/* Z, or +HH:MM, +HHMM, +HH (or -), as seconds east of UTC. */
static int
getzone(const char **sp, int *east)
{
	int sign, h, m = 0;

	if (**sp == 'Z' || **sp == 'z') {
		(*sp)++;
		*east = 0;
		return 0;
	}
	if (**sp != '+' && **sp != '-')
		return -1;
	sign = **sp == '-' ? -1 : 1;
	(*sp)++;
	if (getfixed(sp, 2, &h) == -1)
		return -1;
	if (getchr(sp, ':') == 0) {
		if (getfixed(sp, 2, &m) == -1)
			return -1;
	} else if (isdig(**sp) && getfixed(sp, 2, &m) == -1)
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*east = sign * (h * 3600 + m * 60);
	return 0;
}

/*
 * ISO 8601: YYYY-MM-DD, optionally followed by T (or a space) and
 * HH:MM[:SS[.FRACTION]] and a zone (Z, +HH:MM, +HHMM, +HH; none is UTC).
 */
static int
parse_iso(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, east = 0;

	if (getfixed(&s, 4, &y) == -1 || getchr(&s, '-') == -1 ||
	    getfixed(&s, 2, &mo) == -1 || getchr(&s, '-') == -1 ||
	    getfixed(&s, 2, &d) == -1)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > monthdays(y, mo))
		return -1;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (getfixed(&s, 2, &h) == -1 || getchr(&s, ':') == -1 ||
		    getfixed(&s, 2, &mi) == -1)
			return -1;
		if (getchr(&s, ':') == 0) {
			if (getfixed(&s, 2, &sec) == -1)
				return -1;
			/* ISO 8601 allows a comma as the decimal mark. */
			if ((getchr(&s, '.') == 0 || getchr(&s, ',') == 0) &&
			    getfraction(&s, &frac) == -1)
				return -1;
		}
		if (h > 23 || mi > 59 || sec > 59)
			return -1;
		if (*s != '\0' && getzone(&s, &east) == -1)
			return -1;
	}
	if (*s != '\0')
		return -1;
	/* Years 0000-9999 and zones under a day: no overflow is possible. */
	*ms = ((civil_to_days(y, mo, d) * SEC_PER_DAY + h * 3600 + mi * 60 +
	    sec - east) * MS_PER_SEC) + frac;
	return 0;
}

/* -N followed by a unit (ms s m h d w): N units before NOW. */
static int
parse_relative(const char *s, int64_t now, int64_t *ms)
{
	static const struct {
		const char	*name;
		int64_t		 ms;
	} units[] = {
		{ "ms", 1 },
		{ "s", MS_PER_SEC },
		{ "m", 60 * MS_PER_SEC },
		{ "h", 3600 * MS_PER_SEC },
		{ "d", MS_PER_DAY },
		{ "w", 7 * MS_PER_DAY },
	};
	uint64_t n;
	int64_t delta;
	size_t i;

	if (getnum(&s, INT64_MAX, &n) == -1)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s, units[i].name) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return -1;
	if (n > (uint64_t)(INT64_MAX / units[i].ms))
		return -1;
	delta = (int64_t)n * units[i].ms;
	if (now < INT64_MIN + delta)
		return -1;
	*ms = now - delta;
	return 0;
}

int
sl_parse_u64(const char *s, int suffixes, uint64_t *v)
{
	uint64_t n = 0;
	int shift = 0;

	if (*s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (UINT64_MAX - (uint64_t)(*s - '0')) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if (suffixes)
		switch (*s) {
		case 'k': case 'K': shift = 10; s++; break;
		case 'm': case 'M': shift = 20; s++; break;
		case 'g': case 'G': shift = 30; s++; break;
		}
	if (*s != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (n > UINT64_MAX >> shift) {
		errno = ERANGE;
		return -1;
	}
	*v = n << shift;
	return 0;
}

int
sl_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	const char *p = s;
	uint64_t n;
	int64_t t;
	int rv;

	if (*s == '-')
		rv = parse_relative(s + 1, now_ms, &t);
	else if (getnum(&p, INT64_MAX, &n) == 0 && *p == '\0') {
		t = (int64_t)n;
		rv = 0;
	} else
		rv = parse_iso(s, &t);
	if (rv == -1) {
		errno = EINVAL;
		return -1;
	}
	*ms = t;
	return 0;
}

char *
sl_time_format(int64_t ms, char *buf, size_t len)
{
	int64_t days, rem, y;
	int m, d, n;

	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	days_to_civil(days, &y, &m, &d);
	/* Years outside 0000-9999 get a sign, as ISO 8601 expands them. */
	n = snprintf(buf, len, y >= 0 && y <= 9999 ?
	    "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ" :
	    "%+05lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
	    (int)(rem / 3600000), (int)(rem / 60000 % 60),
	    (int)(rem / 1000 % 60), (int)(rem % 1000));
	if (n < 0 || (size_t)n >= len) {
		errno = ERANGE;
		return NULL;
	}
	return buf;
}

int
sl_spec_parse(const char *s, int64_t now_ms, struct sl_spec *spec)
{
	struct sl_spec r;
	const char *p = s;
	uint64_t n;

	memset(&r, 0, sizeof(r));
	if (strcmp(s, "beginning") == 0)
		r.kind = SL_SPEC_BEGINNING;
	else if (strcmp(s, "end") == 0)
		r.kind = SL_SPEC_END;
	else if ((s[0] == 's' || s[0] == 'e') && s[1] == '@') {
		r.kind = s[0] == 's' ? SL_SPEC_TIME_START : SL_SPEC_TIME_END;
		if (sl_time_parse(s + 2, now_ms, &r.time) == -1)
			return -1;
	} else {
		if (*p == '-')
			p++;
		if (getnum(&p, UINT64_MAX, &n) == -1 || *p != '\0') {
			errno = EINVAL;
			return -1;
		}
		r.n = n;
		if (*s != '-')
			r.kind = SL_SPEC_ABSOLUTE;
		else if (n == 0)
			r.kind = SL_SPEC_END;	/* -0: nothing before the end */
		else
			r.kind = SL_SPEC_FROM_END;
	}
	*spec = r;
	return 0;
}
