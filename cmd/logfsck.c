/*
 * logfsck - verify logs (or lone segment files); optionally repair a torn
 * tail and the indexes, or salvage damaged segments; dump the layout.
 *
 * Problems go to standard error, one line each, naming the file, byte
 * position and offset; what --repair and --salvage did, the --dump
 * listing and a summary line per log go to standard output.  Exit status:
 * 0 clean (or everything found was repaired), 1 problems remain, 2 usage
 * or system error.  Every argument is checked even after a failure.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "synclog.h"
#include "prog.h"

static const char *logpath;

static const struct opt opts[] = {
	{ 'd', "dump", NULL, "print every segment, batch and index" },
	{ 'r', "repair", NULL, "cut a torn tail, rebuild the indexes" },
	{ 's', "salvage", NULL, "also set damaged segments aside" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logfsck = {
	"logfsck",
	"usage: logfsck [-d] [-r | -s] log | segment ...",
	0, opts, NULL
};

/* "FILE: byte P: offset O: " for an event. */
static void
where(FILE *fp, const struct sl_fsck_event *ev)
{
	fprintf(fp, "%s: ", ev->file);
	if (ev->pos != SL_NO_OFFSET)
		fprintf(fp, "byte %" PRIu64 ": ", ev->pos);
	if (ev->offset != SL_NO_OFFSET)
		fprintf(fp, "offset %" PRIu64 ": ", ev->offset);
}

static void
dump_batch(const struct sl_fsck_event *ev)
{
	const struct sl_batch_info *b = ev->batch;

	printf("%s: byte %" PRIu64 ": offsets %" PRIu64 "-%" PRIu64
	    ": count %" PRIu32 " length %" PRIu64 " payload %" PRIu32
	    " compression %s crc %08" PRIx32 " %s first-timestamp %" PRId64
	    " max-timestamp %" PRId64 "\n", ev->file, b->pos, b->first, b->last,
	    b->count, b->length, b->payload, b->compressed ? "deflate" : "none",
	    b->crc, b->valid ? "valid" : "invalid", b->first_ts, b->max_ts);
}

static void
report(void *arg, const struct sl_fsck_event *ev)
{
	(void)arg;
	switch (ev->kind) {
	case SL_FSCK_SEGMENT:
		printf("%s: segment: %" PRIu64 " bytes, base offset %" PRIu64
		    "\n", ev->file, ev->pos, ev->offset);
		break;
	case SL_FSCK_BATCH:
		dump_batch(ev);
		break;
	case SL_FSCK_INDEX:
		if (ev->pos == SL_NO_OFFSET)
			printf("%s: index: %s\n", ev->file, ev->msg);
		else
			printf("%s: %s: offset %" PRIu64 " byte %" PRIu64 "\n",
			    ev->file, ev->msg, ev->offset, ev->pos);
		break;
	case SL_FSCK_PROBLEM:
		fflush(stdout);
		fprintf(stderr, "%s: %s: ", program_invocation_short_name,
		    logpath);
		where(stderr, ev);
		fprintf(stderr, "%s\n", ev->msg);
		break;
	case SL_FSCK_FIXED:
		printf("%s: ", logpath);
		where(stdout, ev);
		printf("%s\n", ev->msg);
		break;
	}
}

/* The line that ends a log's report. */
static void
summary(const struct sl_fsck_result *res)
{
	printf("%s: %" PRIu64 " segment%s, %" PRIu64 " batch%s, %" PRIu64
	    " record%s: ", logpath, res->segments, res->segments == 1 ? "" :
	    "s", res->batches, res->batches == 1 ? "" : "es", res->records,
	    res->records == 1 ? "" : "s");
	if (res->problems == 0)
		printf("clean\n");
	else if (res->fixed > 0)
		printf("%" PRIu64 " problem%s, %" PRIu64 " repaired\n",
		    res->problems, res->problems == 1 ? "" : "s", res->fixed);
	else
		printf("%" PRIu64 " problem%s\n", res->problems,
		    res->problems == 1 ? "" : "s");
}

int
main(int argc, char *argv[])
{
	struct sl_fsck_opts o = { SL_FSCK_CHECK, 0, report, NULL };
	struct sl_fsck_result res;
	int ch, rval = 0;

	prog_start(&logfsck);
	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'd':
			o.dump = 1;
			break;
		case 'r':
			if (o.mode == SL_FSCK_CHECK)
				o.mode = SL_FSCK_REPAIR;
			break;
		case 's':
			o.mode = SL_FSCK_SALVAGE;
			break;
		default:
			prog_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		prog_usage();
	for (int i = 0; i < argc; i++) {
		logpath = argv[i];
		if (sl_fsck(logpath, &o, &res) < 0) {
			/* The rval pattern: say it, remember it, go on. */
			fflush(stdout);
			warnx("%s: %s", logpath, sl_error());
			rval = 2;
			continue;
		}
		summary(&res);
		if (res.problems > res.fixed && rval == 0)
			rval = 1;
	}
	return prog_finish(rval);
}
