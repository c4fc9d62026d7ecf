/*
 * spectool - test driver for lib/spec.c and lib/time.c.  It prints what
 * sl_spec_parse, sl_time_parse, sl_time_format and sl_duration_parse
 * make of their input so that the tests
 * can check every form from the shell:
 *
 *	spectool spec STRING [NOW_MS]	the kind, then n or the time
 *	spectool time STRING [NOW_MS]	ms since the epoch and the ISO form
 *	spectool format MS		the ISO form
 *	spectool duration STRING UNIT	sl_duration_parse's ms
 *	spectool now			sl_now_ms()
 *
 * Relative times count from NOW_MS when given, else from the clock.
 * Exit 0 ok, 1 the input was refused (one line on stderr), 2 usage.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"

static void
usage(void)
{
	fprintf(stderr, "usage: spectool spec|time STRING [NOW_MS]\n"
	    "       spectool format MS\n"
	    "       spectool duration STRING UNIT_MS\n"
	    "       spectool now\n");
	exit(2);
}

static int64_t
getms(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0)
		errx(2, "%s: invalid milliseconds", s);
	return v;
}

static const char *
fmt(int64_t ms)
{
	static char buf[64];

	if (sl_time_format(ms, buf, sizeof(buf)) == NULL)
		err(1, "%" PRId64, ms);
	return buf;
}

static void
spec(const char *s, int64_t now)
{
	static const char *kinds[] = {
		[SL_SPEC_BEGINNING] = "beginning",
		[SL_SPEC_END] = "end",
		[SL_SPEC_ABSOLUTE] = "absolute",
		[SL_SPEC_FROM_END] = "from_end",
		[SL_SPEC_TIME_START] = "time_start",
		[SL_SPEC_TIME_END] = "time_end",
	};
	struct sl_spec sp;

	if (sl_spec_parse(s, now, &sp) == -1)
		errx(1, "%s: invalid offset specification", s);
	switch (sp.kind) {
	case SL_SPEC_ABSOLUTE:
	case SL_SPEC_FROM_END:
		printf("%s %" PRIu64 "\n", kinds[sp.kind], sp.n);
		break;
	case SL_SPEC_TIME_START:
	case SL_SPEC_TIME_END:
		printf("%s %" PRId64 " %s\n", kinds[sp.kind], sp.time,
		    fmt(sp.time));
		break;
	default:
		printf("%s\n", kinds[sp.kind]);
	}
}

int
main(int argc, char *argv[])
{
	int64_t now, ms;

	if (argc < 2)
		usage();
	if (strcmp(argv[1], "now") == 0 && argc == 2)
		printf("%" PRId64 "\n", sl_now_ms());
	else if (strcmp(argv[1], "format") == 0 && argc == 3)
		printf("%s\n", fmt(getms(argv[2])));
	else if (strcmp(argv[1], "duration") == 0 && argc == 4) {
		if (sl_duration_parse(argv[2], getms(argv[3]), &ms) == -1)
			errx(1, "%s: invalid duration", argv[2]);
		printf("%" PRId64 "\n", ms);
	}
	else if ((strcmp(argv[1], "spec") == 0 ||
	    strcmp(argv[1], "time") == 0) && (argc == 3 || argc == 4)) {
		now = argc == 4 ? getms(argv[3]) : sl_now_ms();
		if (argv[1][0] == 's')
			spec(argv[2], now);
		else if (sl_time_parse(argv[2], now, &ms) == -1)
			errx(1, "%s: invalid time", argv[2]);
		else
			printf("%" PRId64 " %s\n", ms, fmt(ms));
	} else
		usage();
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
}
