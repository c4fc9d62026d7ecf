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
#include <inttypes.h>
#include <stdio.h>

#include "synclog.h"
#include "prog.h"

static int vflag;

static const struct opt opts[] = {
	{ 'a', "max-age", "age", "drop segments whose records are all older" },
	{ 'b', "max-bytes", "bytes", "drop the oldest segments beyond bytes" },
	{ 'g', "grace", "age", "keep a latest tombstone this long (24h)" },
	{ 'k', "compact", NULL, "keep only the latest record of each key" },
	{ 'm', "memory", "bytes", "the key map's memory (64M)" },
	{ 'n', "dry-run", NULL, "change nothing, say what would change" },
	{ 'r', "max-records", "records", "drop the oldest segments beyond "
	    "records" },
	{ 'u', "keep-unconsumed", NULL, "keep what a consumer has not "
	    "applied" },
	{ 'v', "verbose", NULL, "say what changed, one line per segment" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logcompact = {
	"logcompact",
	"usage: logcompact [-knuv] [-a age] [-b bytes] [-g age] [-m bytes] "
	    "[-r records] log",
	0, opts, NULL
};

/* An age: a duration, seconds without a unit. */
static int64_t
parse_age(int opt, const char *s)
{
	int64_t ms;

	if (sl_duration_parse(s, 1000, &ms) < 0)
		errx(2, "-%c: invalid age (seconds, or N followed by ms, s, m, "
		    "h, d or w): %s", opt, s);
	return ms;
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
	struct sl_compact_opts o = { 0 };
	struct sl_compact_result res;
	const char *logpath;
	int ch;

	o.max_age = -1;
	o.max_bytes = UINT64_MAX;
	o.max_records = UINT64_MAX;
	o.grace = SL_COMPACT_GRACE;
	o.report = report;
	prog_start(&logcompact);
	while ((ch = prog_getopt(argc, argv)) != -1) {
		/* Sizes and counts within int64_t: lib/compact.c sums them
		 * signed. */
		switch (ch) {
		case 'a':
			o.max_age = parse_age(ch, optarg);
			break;
		case 'b':
			o.max_bytes = arg_u64(ch, "size", optarg, 1, 0,
			    INT64_MAX);
			break;
		case 'g':
			o.grace = parse_age(ch, optarg);
			break;
		case 'k':
			o.compact = 1;
			break;
		case 'm':
			o.memory = arg_u64(ch, "size", optarg, 1, 4096,
			    INT64_MAX);
			break;
		case 'n':
			o.dry_run = 1;
			vflag = 1;
			break;
		case 'r':
			o.max_records = arg_u64(ch, "count", optarg, 0, 0,
			    INT64_MAX);
			break;
		case 'u':
			o.keep_unconsumed = 1;
			break;
		case 'v':
			vflag = 1;
			break;
		default:
			prog_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		prog_usage();
	if (!o.compact && o.max_age < 0 && o.max_bytes == UINT64_MAX &&
	    o.max_records == UINT64_MAX)
		errx(2, "nothing to do: give -a, -b, -r or -k");
	logpath = argv[0];
	o.now = sl_now_ms();
	if (sl_compact(logpath, &o, &res) < 0) {
		int e = errno;

		fflush(stdout);		/* what -v said was done */
		errx(sl_exit_status(e), "%s: %s", logpath, sl_error());
	}
	if (vflag)
		printf("%s: %s%" PRIu64 " segments removed, %" PRIu64
		    " compacted, %" PRIu64 " records and %" PRIu64
		    " bytes freed\n", logpath, o.dry_run ? "dry run: " : "",
		    res.removed, res.rewritten, res.records, res.bytes);
	return prog_finish(0);
}
