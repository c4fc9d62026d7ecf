/*
 * spec.c - offset specifications (beginning, end, N, -N, s@TIME, e@TIME)
 * and the plain numbers every option takes.
 *
 * Invariants: every number is range-checked before it is used; an
 * overflow is an error, never a wrap.  Parsing only parses: times are
 * read by time.c, and turning a spec into an offset needs a log and
 * lives in the reader (sl_reader_resolve).
 */
#include <errno.h>
#include <string.h>

#include "synclog.h"

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
		if (sl_parse_u64(p, 0, &n) == -1) {
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
