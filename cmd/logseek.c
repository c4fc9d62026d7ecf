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
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"

static const char *progname = "logseek";
static int vflag;
static const char *logpath;

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-v] log spec ...\n", progname);
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

static void
readerr(sl_reader *r)
{
	die(errno == EBADMSG ? 1 : 2, "%s: %s", logpath, sl_reader_error(r));
}

/* Resolve one spec and print the answer; 0 found, 1 negative answer. */
static int
seek1(sl_reader *r, const char *arg)
{
	struct sl_spec spec;
	struct sl_where w;
	char when[40];
	uint64_t off, end;
	int n = 0;

	if (sl_spec_parse(arg, sl_now_ms(), &spec) < 0)
		die(2, "invalid offset specification: %s", arg);
	if (sl_reader_resolve(r, &spec, &off) < 0)
		readerr(r);
	if (spec.kind != SL_SPEC_END && (n = sl_reader_locate(r, off, &w)) < 0)
		readerr(r);
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
		readerr(r);
	if (vflag)
		printf("%" PRIu64 " - - - -\n", end);
	else
		printf("%" PRIu64 "\n", end);
	if (spec.kind == SL_SPEC_END || spec.kind == SL_SPEC_TIME_END)
		return 0;
	fflush(stdout);
	if (spec.kind == SL_SPEC_TIME_START)
		fprintf(stderr, "%s: %s: no record at or after %s\n", progname,
		    logpath, sl_time_format(spec.time, when, sizeof when));
	else
		fprintf(stderr, "%s: %s: no record at or after offset %"
		    PRIu64 "\n", progname, logpath, off);
	return 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "version",	no_argument,	NULL, 'V' },
		{ "help",	no_argument,	NULL, 'h' },
		{ "verbose",	no_argument,	NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	sl_reader *r;
	int ch, status = 0;

	if (sl_guard_stdio() < 0)
		err(2, "/dev/null");
	while ((ch = getopt_long(argc, argv, "+Vhv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("%s synclog %s\n", progname, SL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
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
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	logpath = argv[0];
	if ((r = sl_reader_open(logpath)) == NULL)
		die(errno == EBADMSG ? 1 : 2, "%s", sl_open_error());
	for (int i = 1; i < argc; i++)
		status |= seek1(r, argv[i]);
	sl_reader_close(r);
	if (fclose(stdout) == EOF)
		die(2, "stdout: %s", strerror(errno));
	return status;
}
