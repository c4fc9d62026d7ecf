/*
 * logappend - append records read from standard input to a log: its
 * options and output around the library's append loop (lib/append.c).
 *
 * Records are gathered into a batch for as long as input is ready without
 * waiting; when the input pauses the batch is written and synced, and only
 * then are its offsets printed.  So a slow stream is visible to followers
 * at once, and a fast one gets group commit.  Bad input stops the program
 * with exit 1 after the records before it were committed; nothing of the
 * bad record is written.  With -x the whole input is one batch, written
 * only if the log's next offset is as given.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "prog.h"

#define MAX_EXTRA_HEADERS	64

static struct sl_fmt fmt;
static struct sl_writer_opts wopts;
static const char *keyopt;		/* -k */
static struct sl_header extra[MAX_EXTRA_HEADERS];	/* -H */
static size_t nextra;
static int pflag;			/* -p */
static struct sl_append_opts aopts = { .expect = SL_NO_OFFSET };
static const char *logpath;
static sigjmp_buf shrunk;		/* where SIGBUS goes (sl_in_map) */

static const struct opt opts[] = {
	OPTS_FORMAT_IN,
	{ 'H', "header", "name=value", "add this header to every record" },
	{ 'N', "no-sync", NULL, "do not fsync: a power cut may lose records" },
	{ 'k', "key", "key", "give every record this key" },
	{ 'm', "max-record-bytes", "bytes", "a new log's maximum record size "
	    "(16M)" },
	{ 'p', "print-offsets", NULL, "print each record's offset once "
	    "durable" },
	{ 's', "segment-bytes", "bytes", "a new log's segment size (64M)" },
	{ 'x', "expect", "offset", "append only if the next offset is offset" },
	{ 'z', "compress", NULL, "deflate each batch" },
	{ 0, NULL, NULL, NULL }
};

static const struct opt_hint hints[] = {
	{ 'F', "templates are for output only (logcat -F)" },
	{ 0, NULL }
};

static const struct prog logappend = {
	"logappend",
	"usage: logappend [-0BJNYpz] [-D delim] [-H name=value] [-K delim] "
	    "[-k key]\n"
	"                 [-m bytes] [-s bytes] [-x offset] log",
	0, opts, hints
};

static void
add_header(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL)
		errx(2, "-H: expected NAME=VALUE: %s", arg);
	if (nextra == MAX_EXTRA_HEADERS)
		errx(2, "-H: more than %d headers", MAX_EXTRA_HEADERS);
	extra[nextra].name = (const unsigned char *)arg;
	extra[nextra].namelen = eq - arg;
	extra[nextra].value = (const unsigned char *)eq + 1;
	extra[nextra].valuelen = strlen(eq + 1);
	nextra++;
}

/* The writer goes on without what failed (an index): say so. */
static void
warn_writer(void *arg, const char *msg)
{
	(void)arg;
	warnx("%s: %s", logpath, msg);
}

/* sl_append's acknowledgement: print the offsets now durable (-p). */
static void
acked(void *arg, uint64_t first, size_t n)
{
	(void)arg;
	if (!pflag)
		return;
	for (size_t i = 0; i < n; i++)
		printf("%" PRIu64 "\n", first + i);
	if (fflush(stdout) == EOF)
		err(2, "stdout");
}

/* A mapped input file was cut short under us: what is gone is gone. */
static void
on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(shrunk, 1);
}

/*
 * Read a regular file on stdin through a mapping, which spares the copy
 * of every byte that read makes: a fifth of the time of `logappend -N`
 * on a file, in the thread that was the slower of the two (perf).  A
 * file that shrinks as it is read raises SIGBUS where the bytes it lost
 * are touched, always in this thread (the parsing of the input): it ends
 * the append as a bad record would, with what came before committed.
 */
static void
map_input(sl_in *in)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigbus;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL) < 0)
		err(2, "sigaction");
	sl_in_map(in);
}

/* The log failed: exit 1 for damage or a wrong -x, 2 otherwise. */
static void __attribute__((noreturn))
log_failed(void)
{
	errx(errno == ESTALE ? 1 : sl_exit_status(errno), "%s: %s", logpath,
	    sl_error());
}

/* Parse the command line into the globals; the log's path. */
static const char *
options(int argc, char *argv[])
{
	int ch;

	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case '0': case 'B': case 'D': case 'J': case 'K': case 'Y':
			arg_format(&fmt, ch, optarg);
			break;
		case 'H':
			add_header(optarg);
			break;
		case 'N':
			wopts.nosync = 1;
			break;
		case 'k':
			keyopt = optarg;
			break;
		case 'm':
			wopts.max_record_bytes = arg_u64(ch, "size", optarg, 1,
			    1, SL_MAX_MAX_RECORD_BYTES);
			break;
		case 'p':
			pflag = 1;
			break;
		case 's':
			wopts.segment_bytes = arg_u64(ch, "size", optarg, 1,
			    1024, 1ULL << 31);
			break;
		case 'x':
			aopts.expect = arg_u64(ch, "offset", optarg, 0, 0,
			    SL_NO_OFFSET - 1);
			break;
		case 'z':
			wopts.compress = 1;
			break;
		default:
			prog_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		prog_usage();
	if (keyopt != NULL && fmt.keydelimlen > 0)
		errx(2, "-k and -K cannot be used together");
	return argv[0];
}

int
main(int argc, char *argv[])
{
	sl_writer *w;
	sl_in *in;

	prog_start(&logappend);
	sl_fmt_init(&fmt);
	logpath = options(argc, argv);
	wopts.warn = warn_writer;
	aopts.key = (const unsigned char *)keyopt;
	aopts.keylen = keyopt != NULL ? strlen(keyopt) : 0;
	aopts.headers = extra;
	aopts.nheaders = nextra;
	aopts.acked = acked;

	if ((w = sl_writer_open(logpath, &wopts)) == NULL)
		fail_open();
	if ((in = sl_in_open(STDIN_FILENO, &fmt,
	    sl_writer_settings(w)->max_record_bytes)) == NULL)
		err(2, "stdin");
	map_input(in);
	if (sigsetjmp(shrunk, 1) != 0) {
		if (aopts.expect == SL_NO_OFFSET &&
		    sl_append_flush(w, &aopts) < 0)
			log_failed();
		errx(1, "stdin: the input file shrank while it was read");
	}
	switch (sl_append(w, in, &aopts)) {
	case 1:
		errx(1, "stdin: %s", sl_error());
	case -1:
		log_failed();
	}
	sl_in_close(in);
	if (sl_writer_finish(w) < 0)
		errx(sl_exit_status(errno), "%s: %s", logpath, sl_error());
	sl_writer_close(w);
	return prog_finish(0);
}
