/*
 * logappend - append records read from standard input to a log.
 *
 * Records are gathered into a batch for as long as input is ready without
 * waiting; when the input pauses the batch is written and synced, and only
 * then are its offsets printed.  A full batch is written and synced in the
 * background (one at a time) while the next one is read and encoded.  So
 * a slow stream is visible to followers at once, and a fast one gets group
 * commit: what arrives while one sync runs forms the next batch.
 *
 * Bad input stops the program with exit 1 after the records before it
 * were committed; nothing of the bad record is written.  With -x the whole
 * input is one batch, written only if the log's next offset is as given.
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
#define STAMP_EVERY		64	/* records per clock read, at most */

static struct sl_fmt fmt;
static struct sl_writer_opts wopts;
static const char *keyopt;		/* -k */
static struct sl_header extra[MAX_EXTRA_HEADERS];	/* -H */
static size_t nextra;
static int pflag;			/* -p */
static uint64_t expect = SL_NO_OFFSET;	/* -x */
static const char *logpath;
static uint64_t batch_target;
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

static void
print_offsets(uint64_t first, size_t n)
{
	if (pflag && n > 0) {
		for (size_t i = 0; i < n; i++)
			printf("%" PRIu64 "\n", first + i);
		if (fflush(stdout) == EOF)
			errx(2, "stdout: %s", strerror(errno));
	}
}

/* Wait for the batches in the background, if any, and print their
 * offsets, in order; with ONE, for the oldest only. */
static void
collect(sl_writer *w, int one)
{
	uint64_t first;
	size_t n;

	while (sl_writer_outstanding(w) > 0) {
		if (sl_writer_wait(w, &first, &n) < 0)
			errx(2, "%s: %s", logpath, sl_writer_error(w));
		print_offsets(first, n);
		if (one)
			break;
	}
}

/* Write the pending batch and print its offsets, those of the batches
 * in the background first. */
static void
commit(sl_writer *w)
{
	size_t n = sl_writer_pending(w);
	uint64_t first;

	collect(w, 0);
	if (sl_writer_commit(w, expect, &first) < 0) {
		if (errno == ESTALE)
			errx(1, "%s: %s", logpath, sl_writer_error(w));
		errx(2, "%s: %s", logpath, sl_writer_error(w));
	}
	print_offsets(first, n);
}

/*
 * A full batch while more input is ready: write it in the background and
 * go on reading.  It is queued behind the batch in flight, if any, which
 * is collected then (two batches at most are outstanding), so that the
 * writer goes from one to the next without waiting for us.  A pause in
 * the input commits in the foreground instead, so that offsets are
 * printed, and the input read again, only once what came before is
 * durable.
 */
static void
submit(sl_writer *w)
{
	if (sl_writer_submit(w) < 0)
		errx(2, "%s: %s", logpath, sl_writer_error(w));
	if (sl_writer_outstanding(w) > 1)
		collect(w, 1);
}

/* Add REC with -k and -H applied; headers are copied by the writer. */
static int
add(sl_writer *w, struct sl_record *rec, struct sl_header **hbuf,
    size_t *hcap)
{
	if (keyopt != NULL) {
		rec->key = (const unsigned char *)keyopt;
		rec->keylen = strlen(keyopt);
	}
	if (nextra > 0) {
		size_t n = rec->nheaders + nextra;

		if (n > *hcap) {
			struct sl_header *h = realloc(*hbuf, n * sizeof *h);

			if (h == NULL)
				errx(2, "%s", strerror(errno));
			*hbuf = h;
			*hcap = n;
		}
		if (rec->nheaders > 0)
			memcpy(*hbuf, rec->headers,
			    rec->nheaders * sizeof **hbuf);
		memcpy(*hbuf + rec->nheaders, extra, nextra * sizeof **hbuf);
		rec->headers = *hbuf;
		rec->nheaders = n;
	}
	return sl_writer_add(w, rec);
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
		errx(2, "sigaction: %s", strerror(errno));
	sl_in_map(in);
}

/* Append every record of IN but the last batch, which is pending. */
static void
append(sl_writer *w, sl_in *in)
{
	struct sl_record rec;
	static struct sl_header *hbuf;	/* -k, -H: reachable to the end */
	static size_t hcap;
	int64_t now = 0;
	unsigned unstamped = 0;
	int r, fast, acks, fresh = 0;

	/* Plain lines go the fast way, in bulk, whatever is read of them
	 * (with -x they would have to stay one batch). */
	fast = keyopt == NULL && nextra == 0 && expect == SL_NO_OFFSET;
	for (;;) {
		/* With -x everything is one batch: never commit early. */
		int block = expect != SL_NO_OFFSET || sl_writer_pending(w) == 0;
		const unsigned char *lines;
		unsigned char delim;
		size_t n, k;

		/* One clock read for all the lines read so far: they were
		 * all there before it.  The record parsed next, one by one,
		 * may have the same time. */
		if (fast && sl_in_lines(in, &lines, &n, &delim) && n > 0 &&
		    (n = sl_writer_add_lines(w, lines, n, delim,
		    now = sl_now_ms(), batch_target, &k)) > 0) {
			unstamped = 0;
			fresh = 1;
			sl_in_skip(in, n, k);
			if (sl_writer_pending_bytes(w) >= batch_target)
				submit(w);
			continue;
		}
		/*
		 * Nothing pending, and the input would make us wait: a batch
		 * committed in the background must not wait for it to have
		 * its offsets printed (a producer may be waiting for them).
		 */
		acks = block && expect == SL_NO_OFFSET &&
		    sl_writer_outstanding(w) > 0;
		r = sl_in_next(in, &rec, acks ? 0 : block);
		if (r == SL_IN_AGAIN) {
			if (acks)
				collect(w, 0);
			else
				commit(w);
			continue;
		}
		if (r == 0)
			break;
		if (r < 0) {
			if (expect == SL_NO_OFFSET)
				commit(w);
			errx(1, "stdin: %s", sl_in_error(in));
		}
		/*
		 * Records without a time get the append time here rather than
		 * in the writer: a clock read can cost as much as the rest of
		 * a record's work (50 ns on a virtual machine), so it is read
		 * once per STAMP_EVERY records that arrive back to back, and
		 * afresh whenever sl_in_next may have waited for input, or the
		 * clock was not read since (records that carried their own
		 * time do not read it).
		 */
		if (block)
			fresh = 0;
		if (rec.timestamp == SL_NO_TIMESTAMP) {
			if (!fresh || ++unstamped >= STAMP_EVERY) {
				now = sl_now_ms();
				unstamped = 0;
				fresh = 1;
			}
			rec.timestamp = now;
		}
		/* Two large batches at once would double the memory a huge
		 * record needs: let the one in flight finish first. */
		if ((rec.nheaders > 0 || rec.valuelen > batch_target / 4) &&
		    sl_record_size(&rec) > batch_target / 2)
			collect(w, 0);
		/* add's work is for -k and -H; a call that does nothing
		 * else costs a tenth of a record's (callgrind). */
		r = keyopt == NULL && nextra == 0 ? sl_writer_add(w, &rec) :
		    add(w, &rec, &hbuf, &hcap);
		if (r < 0 && errno == ENOBUFS && expect == SL_NO_OFFSET) {
			submit(w);
			r = add(w, &rec, &hbuf, &hcap);
		}
		if (r < 0) {
			int e = errno;
			size_t size = sl_record_size(&rec);

			if (expect == SL_NO_OFFSET)
				commit(w);
			if (e == EMSGSIZE)
				errx(1, "stdin: record %" PRIu64 ": %zu bytes "
				    "exceeds the maximum record size of %"
				    PRIu64 " bytes", sl_in_recno(in), size,
				    sl_writer_settings(w)->max_record_bytes);
			if (e == ENOBUFS)
				errx(1, "stdin: input too large for one batch "
				    "with -x");
			errx(2, "%s", strerror(e));
		}
		if (expect == SL_NO_OFFSET &&
		    sl_writer_pending_bytes(w) >= batch_target)
			submit(w);
	}
	free(hbuf);
	hbuf = NULL;
	hcap = 0;
}

int
main(int argc, char *argv[])
{
	sl_writer *w;
	sl_in *in;
	int ch;

	prog_start(&logappend);
	sl_fmt_init(&fmt);
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
			expect = arg_u64(ch, "offset", optarg, 0, 0,
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
	logpath = argv[0];
	wopts.warn = warn_writer;

	if ((w = sl_writer_open(logpath, &wopts)) == NULL)
		fail_open();
	/* Batches of a megabyte, but several to a segment even when the
	 * segments are small, so that rotation stays close to the size. */
	batch_target = sl_writer_settings(w)->segment_bytes / 8;
	if (batch_target > (1u << 20))
		batch_target = 1u << 20;
	if ((in = sl_in_open(STDIN_FILENO, &fmt,
	    sl_writer_settings(w)->max_record_bytes)) == NULL)
		err(2, "stdin");

	map_input(in);
	if (sigsetjmp(shrunk, 1) != 0) {
		if (expect == SL_NO_OFFSET)
			commit(w);
		errx(1, "stdin: the input file shrank while it was read");
	}
	append(w, in);
	commit(w);
	sl_in_close(in);
	if (sl_writer_finish(w) < 0)
		errx(sl_exit_status(errno), "%s: %s", logpath,
		    sl_writer_error(w));
	sl_writer_close(w);
	return prog_finish(0);
}
