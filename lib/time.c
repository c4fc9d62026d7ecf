/*
 * time.c - the clock, and times and durations as text: the one ISO 8601
 * formatter and the one parser of times and durations for every program.
 *
 * Everything but sl_now_ms is computation on strings and integers: no
 * locale, no time zone, no mktime or timegm.  Civil dates become days
 * since the epoch in the proleptic Gregorian calendar, so a time means
 * the same instant on every machine.  Invariants:
 *   - every number is range-checked before it is used; an overflow is an
 *     error (EINVAL), never a wrap;
 *   - a time written without an offset is UTC, like every time synclog
 *     prints;
 *   - what sl_time_format writes, sl_time_parse reads back to the same
 *     millisecond, for every int64_t: years outside 0000-9999 are written
 *     with a sign and at least four digits (ISO 8601's expanded form) and
 *     read so;
 *   - a bare number is milliseconds, signed; a number with a unit after a
 *     sign is relative to now.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "synclog.h"
#include "fmt.h"

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
 * No step overflows for |Y| below 10^15.
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

/* ---- formatting ----------------------------------------------------- */

/* Write V (0 <= V < 10^WIDTH) as exactly WIDTH digits. */
static char *
digits(char *p, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		p[i] = '0' + v % 10;
		v /= 10;
	}
	return p + width;
}

size_t
sl_rf_isotime(int64_t ms, char *buf)
{
	int64_t days = ms / MS_PER_DAY, rem = ms % MS_PER_DAY, y;
	uint64_t ay, v;
	char *p = buf;
	int m, d, w;

	/* Floor division, written so that no step overflows at INT64_MIN. */
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	days_to_civil(days, &y, &m, &d);
	/* Years outside 0000-9999 get a sign, as ISO 8601 expands them. */
	if (y < 0 || y > 9999)
		*p++ = y < 0 ? '-' : '+';
	ay = y < 0 ? -(uint64_t)y : (uint64_t)y;
	for (w = 1, v = ay; v >= 10; v /= 10)
		w++;
	p = digits(p, ay, w < 4 ? 4 : w);
	*p++ = '-';
	p = digits(p, m, 2);
	*p++ = '-';
	p = digits(p, d, 2);
	*p++ = 'T';
	p = digits(p, rem / 3600000, 2);
	*p++ = ':';
	p = digits(p, rem / 60000 % 60, 2);
	*p++ = ':';
	p = digits(p, rem / 1000 % 60, 2);
	*p++ = '.';
	p = digits(p, rem % 1000, 3);
	*p++ = 'Z';
	return p - buf;
}

char *
sl_time_format(int64_t ms, char *buf, size_t len)
{
	char tmp[SL_TIME_MAX];
	size_t n = sl_rf_isotime(ms, tmp);

	if (n >= len) {
		errno = ERANGE;
		return NULL;
	}
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return buf;
}

/* ---- parsing -------------------------------------------------------- */

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
 * The year of a date: four digits (0000-9999), or a sign and four to
 * twelve digits (ISO 8601's expanded years, as sl_time_format writes the
 * years outside 0000-9999).
 */
static int
getyear(const char **sp, int64_t *y)
{
	const char *s = *sp;
	int64_t sign = 0, v = 0;
	size_t n;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (n = 0; isdig(s[n]) && n < 13; n++)
		v = v * 10 + (s[n] - '0');
	if (sign == 0 ? n != 4 : n < 4 || n > 12)
		return -1;
	*sp = s + n;
	*y = sign < 0 ? -v : v;
	return 0;
}

/* DAYS * MS_PER_DAY + REST, without overflow, in *MS; -1 when it does
 * not fit.  Before 1970 a day is borrowed from REST, so that the first
 * day that int64_t reaches only in part still counts. */
static int
compose(int64_t days, int64_t rest, int64_t *ms)
{
	int64_t t;

	if (days < 0) {
		days++;
		rest -= MS_PER_DAY;
	}
	if (__builtin_mul_overflow(days, MS_PER_DAY, &t) ||
	    __builtin_add_overflow(t, rest, &t))
		return -1;
	*ms = t;
	return 0;
}

/*
 * ISO 8601: YYYY-MM-DD (or +YYYYY-MM-DD, -YYYY-MM-DD), optionally
 * followed by T (or a space) and HH:MM[:SS[.FRACTION]] and a zone (Z,
 * +HH:MM, +HHMM, +HH; none is UTC).
 */
static int
parse_iso(const char *s, int64_t *ms)
{
	int mo, d, h = 0, mi = 0, sec = 0, frac = 0, east = 0;
	int64_t y;

	if (getyear(&s, &y) == -1 || getchr(&s, '-') == -1 ||
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
	return compose(civil_to_days(y, mo, d), (h * 3600LL + mi * 60 + sec -
	    east) * MS_PER_SEC + frac, ms);
}

int
sl_duration_parse(const char *s, int64_t unit, int64_t *ms)
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
	uint64_t n, num = 0, den = 1;
	int64_t whole;
	size_t i;

	if (getnum(&s, INT64_MAX, &n) == -1)
		goto bad;
	if (*s == '.') {
		/* A fraction of the unit, truncated to whole milliseconds. */
		for (s++, i = 0; isdig(*s); s++, i++)
			if (i < 9) {
				num = num * 10 + (uint64_t)(*s - '0');
				den *= 10;
			}
		if (i == 0 || i > 9)
			goto bad;
	}
	if (*s != '\0') {
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (strcmp(s, units[i].name) == 0)
				break;
		if (i == sizeof(units) / sizeof(units[0]))
			goto bad;
		unit = units[i].ms;
	}
	if (unit <= 0 || __builtin_mul_overflow((int64_t)n, unit, &whole) ||
	    __builtin_add_overflow(whole, (int64_t)(num * (uint64_t)unit / den),
	    &whole))
		goto bad;
	*ms = whole;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* After a sign: digits alone are milliseconds, digits and '-' an
 * expanded year, digits and a unit a duration. */
static int
parse_signed(const char *s, int64_t now, int64_t *ms)
{
	const char *p = s + 1;
	uint64_t n;
	int64_t d;

	if (getnum(&p, (uint64_t)INT64_MAX + (*s == '-'), &n) == 0 &&
	    *p == '\0') {
		*ms = *s == '-' ? (int64_t)(0 - n) : (int64_t)n;
		return 0;
	}
	if (*p == '-')
		return parse_iso(s, ms);
	if (sl_duration_parse(s + 1, 0, &d) == -1)
		return -1;
	if (*s == '-' ? __builtin_sub_overflow(now, d, ms) :
	    __builtin_add_overflow(now, d, ms))
		return -1;
	return 0;
}

int
sl_time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	const char *p = s;
	uint64_t n;
	int64_t t;
	int rv;

	if (strcmp(s, "now") == 0) {
		t = now_ms;
		rv = 0;
	} else if (*s == '-' || *s == '+')
		rv = parse_signed(s, now_ms, &t);
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
