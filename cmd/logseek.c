/*
 * logseek - print the offset that an offset specification resolves to.
 *
 * The answer is where `logcat -o SPEC` would start: the first record at or
 * after the resolved offset (compaction may have left a gap there), or the
 * end offset when there is none, which is a negative answer (exit 1) for
 * every spec but `end` and `e@TIME`.  Lookups go through the sparse
 * indexes, so the cost does not grow with the size of the log.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "synclog.h"
#include "prog.h"

static int vflag;
static const char *logpath;

static const struct opt opts[] = {
	{ 'v', "verbose", NULL, "add the timestamp, segment and byte "
	    "position" },
	{ 0, NULL, NULL, NULL }
};

/* Options end at the log: a spec may start with a minus sign. */
static const struct prog logseek = {
	"logseek",
	"usage: logseek [-v] log spec ...",
	1, opts, NULL
};

/* The answers so far, then the failure. */
static void
readerr(void)
{
	int e = errno;

	fflush(stdout);
	errno = e;
	fail_reader(logpath);
}

/* Resolve one spec and print the answer; 0 found, 1 negative answer. */
static int
seek1(sl_reader *r, struct sl_spec spec)
{
	struct sl_where w;
	char when[40];
	uint64_t off, end;
	int n = 0;

	if (sl_reader_resolve(r, &spec, &off) < 0)
		readerr();
	if (spec.kind != SL_SPEC_END && (n = sl_reader_locate(r, off, &w)) < 0)
		readerr();
	if (n > 0) {
		if (vflag)
			printf("%" PRIu64 " %" PRId64 " %s %s %" PRIu64 "\n",
			    w.offset, w.timestamp,
			    sl_time_format(w.timestamp, when, sizeof when),
			    w.segment, w.pos);
		else
			printf("%" PRIu64 "\n", w.offset);
		return 0;
	}
	/* No record: a time spec already resolved to the end. */
	end = off;
	if (spec.kind != SL_SPEC_END && spec.kind != SL_SPEC_TIME_START &&
	    spec.kind != SL_SPEC_TIME_END && sl_reader_bounds(r, NULL, &end) < 0)
		readerr();
	if (vflag)
		printf("%" PRIu64 " - - - -\n", end);
	else
		printf("%" PRIu64 "\n", end);
	if (spec.kind == SL_SPEC_END || spec.kind == SL_SPEC_TIME_END)
		return 0;
	fflush(stdout);
	if (spec.kind == SL_SPEC_TIME_START)
		warnx("%s: no record at or after %s", logpath,
		    sl_time_format(spec.time, when, sizeof when));
	else
		warnx("%s: no record at or after offset %" PRIu64, logpath,
		    off);
	return 1;
}

int
main(int argc, char *argv[])
{
	struct sl_spec *specs;
	sl_reader *r;
	int ch, status = 0;

	prog_start(&logseek);
	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'v':
			vflag = 1;
			break;
		default:
			prog_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		prog_usage();
	logpath = argv[0];
	/* Every spec is checked before the first answer. */
	if ((specs = calloc(argc, sizeof *specs)) == NULL)
		err(2, NULL);
	for (int i = 1; i < argc; i++)
		arg_spec(0, argv[i], &specs[i]);
	if ((r = sl_reader_open(logpath)) == NULL)
		fail_open();
	for (int i = 1; i < argc; i++)
		status |= seek1(r, specs[i]);
	sl_reader_close(r);
	free(specs);
	return prog_finish(status);
}
