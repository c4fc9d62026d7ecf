/*
 * logcompact - retention (drop the oldest sealed segments by age, size or
 * offsets) and compaction (keep the latest record of each key) of a log,
 * while its readers and writer keep working.
 *
 * All the work, and every invariant, is in lib/compact.c; this file reads
 * the options and prints, with -v or -n, one line per segment changed.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"

static const char *progname = "logcompact";
static int vflag;

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-knuv] [-a age] [-b bytes] [-g age] "
	    "[-m bytes] [-r records] log\n", progname);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* An age: a duration, seconds without a unit. */
static int64_t
parse_age(int opt, const char *s)
{
	int64_t ms;

	if (sl_duration_parse(s, 1000, &ms) < 0)
		die(2, "-%c: invalid age (seconds, or N followed by ms, s, m, "
		    "h, d or w): %s", opt, s);
	return ms;
}

/* A count, or with SIZE a byte count with an optional K, M or G suffix. */
static uint64_t
parse_num(int opt, const char *s, int size)
{
	uint64_t v;

	/* Within int64_t: sizes and counts are compared with signed sums. */
	if (sl_parse_u64(s, size, &v) < 0 || v > INT64_MAX)
		die(2, "-%c: invalid number: %s", opt, s);
	return v;
}

static void
report(void *arg, const struct sl_compact_event *ev)
{
	(void)arg;
	if (!vflag)
		return;
	switch (ev->kind) {
	case SL_COMPACT_REMOVE:
		printf("remove %s: offsets %" PRIu64 "-%" PRIu64 ", %" PRIu64
		    " bytes (%s)\n", ev->segment, ev->base, ev->limit - 1,
		    ev->bytes, ev->why);
		break;
	case SL_COMPACT_REWRITE:
		printf("compact %s: %" PRIu64 " -> %" PRIu64 " records, %"
		    PRIu64 " -> %" PRIu64 " bytes\n", ev->segment, ev->records,
		    ev->new_records, ev->bytes, ev->new_bytes);
		break;
	case SL_COMPACT_PASS:
		printf("pass: the key map is full (%" PRIu64 " keys); "
		    "next pass from offset %" PRIu64 "\n", ev->records,
		    ev->base);
		break;
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "version",		no_argument,		NULL, 'V' },
		{ "max-age",		required_argument,	NULL, 'a' },
		{ "max-bytes",		required_argument,	NULL, 'b' },
		{ "grace",		required_argument,	NULL, 'g' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "compact",		no_argument,		NULL, 'k' },
		{ "memory",		required_argument,	NULL, 'm' },
		{ "dry-run",		no_argument,		NULL, 'n' },
		{ "max-records",	required_argument,	NULL, 'r' },
		{ "keep-unconsumed",	no_argument,		NULL, 'u' },
		{ "verbose",		no_argument,		NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct sl_compact_opts o = { 0 };
	struct sl_compact_result res;
	const char *logpath;
	int ch;

	o.max_age = -1;
	o.max_bytes = UINT64_MAX;
	o.max_records = UINT64_MAX;
	o.grace = SL_COMPACT_GRACE;
	o.report = report;
	if (sl_guard_stdio() < 0)
		err(2, "/dev/null");
	while ((ch = getopt_long(argc, argv, "Va:b:g:hkm:nr:uv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("%s synclog %s\n", progname, SL_VERSION);
			return 0;
		case 'a':
			o.max_age = parse_age(ch, optarg);
			break;
		case 'b':
			o.max_bytes = parse_num(ch, optarg, 1);
			break;
		case 'g':
			o.grace = parse_age(ch, optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'k':
			o.compact = 1;
			break;
		case 'm':
			o.memory = parse_num(ch, optarg, 1);
			if (o.memory < 4096)
				die(2, "-m: at least 4K: %s", optarg);
			break;
		case 'n':
			o.dry_run = 1;
			vflag = 1;
			break;
		case 'r':
			o.max_records = parse_num(ch, optarg, 0);
			break;
		case 'u':
			o.keep_unconsumed = 1;
			break;
		case 'v':
			vflag = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1) {
		usage(stderr);
		return 2;
	}
	if (!o.compact && o.max_age < 0 && o.max_bytes == UINT64_MAX &&
	    o.max_records == UINT64_MAX)
		die(2, "nothing to do: give -a, -b, -r or -k");
	logpath = argv[0];
	o.now = sl_now_ms();
	if (sl_compact(logpath, &o, &res) < 0)
		die(errno == EBADMSG ? 1 : 2, "%s: %s", logpath, res.err);
	if (vflag)
		printf("%s: %s%" PRIu64 " segments removed, %" PRIu64
		    " compacted, %" PRIu64 " records and %" PRIu64
		    " bytes freed\n", logpath, o.dry_run ? "dry run: " : "",
		    res.removed, res.rewritten, res.records, res.bytes);
	if (fclose(stdout) == EOF)
		die(2, "stdout: %s", strerror(errno));
	return 0;
}
