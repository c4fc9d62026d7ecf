/*
 * logappend - append records read from standard input to a log.
 *
 * Records are gathered into a batch for as long as input is ready without
 * waiting; when the input pauses (or a batch is full) the batch is written
 * and synced, and only then are its offsets printed.  So a slow stream is
 * visible to followers at once, and a fast one gets group commit.
 *
 * In the durable mode the syncs run in a second thread (the writer's
 * defer_sync): the main thread writes a batch and goes back to its input
 * while the disk syncs, so a line that arrives during a sync is written
 * (and reaches followers) at once instead of waiting for it; the sync
 * thread prints offsets once a sync that began after their batch was
 * written has succeeded, and the program exits only when everything it
 * wrote is synced.  Group commit comes for free: one sync covers every
 * batch written while the previous one ran.
 *
 * Bad input stops the program with exit 1 after the records before it
 * were committed; nothing of the bad record is written.  With -x the whole
 * input is one batch, written only if the log's next offset is as given.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"

#define MAX_EXTRA_HEADERS	64
#define STAMP_EVERY		64	/* records per clock read, at most */
#define QUEUE_MAX		256	/* batches written, not yet synced */

static const char *progname = "logappend";
static struct sl_fmt fmt;
static struct sl_writer_opts wopts;
static const char *keyopt;		/* -k */
static struct sl_header extra[MAX_EXTRA_HEADERS];	/* -H */
static size_t nextra;
static int pflag;			/* -p */
static uint64_t expect = SL_NO_OFFSET;	/* -x */
static const char *logpath;
static uint64_t batch_target;

/*
 * Batches written and waiting for the sync thread (durable mode only): a
 * ring of first offset and count, bounded so that the input waits for the
 * disk when it runs far ahead.
 */
static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	pthread_t	 th;
	sl_writer	*w;
	uint64_t	 first[QUEUE_MAX], count[QUEUE_MAX];
	size_t		 head, n;
	int		 on;		/* the thread runs */
	int		 quit;		/* no more batches */
	int		 err;		/* the thread stopped: 1 sync, 2 stdout */
	int		 errnum;
} sq = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-0BJNYpz] [-D delim] [-H name=value] "
	    "[-K delim] [-k key]\n"
	    "                 [-m bytes] [-s bytes] [-x offset] log\n",
	    progname);
}

static void __attribute__((noreturn))
die(int status, const char *fmt_, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt_);
	vfprintf(stderr, fmt_, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* A byte count with an optional K, M or G suffix (powers of 1024). */
static uint64_t
parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0 || *s == '-')
		die(2, "-%s: invalid size: %s", opt, s);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		die(2, "-%s: invalid size: %s", opt, s);
	return (uint64_t)v << shift;
}

static void
add_header(const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL)
		die(2, "-H: expected NAME=VALUE: %s", arg);
	if (nextra == MAX_EXTRA_HEADERS)
		die(2, "-H: more than %d headers", MAX_EXTRA_HEADERS);
	extra[nextra].name = (const unsigned char *)arg;
	extra[nextra].namelen = eq - arg;
	extra[nextra].value = (const unsigned char *)eq + 1;
	extra[nextra].valuelen = strlen(eq + 1);
	nextra++;
}

static void
print_offsets(uint64_t first, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		printf("%" PRIu64 "\n", first + i);
}

/*
 * The sync thread: sync, then print what the sync covered.  A failure
 * ends the program.
 */
static void *
syncer(void *arg)
{
	uint64_t through;
	int failed;

	(void)arg;
	pthread_mutex_lock(&sq.mu);
	for (;;) {
		while (sq.n == 0 && !sq.quit)
			pthread_cond_wait(&sq.cv, &sq.mu);
		if (sq.n == 0) {
			pthread_mutex_unlock(&sq.mu);
			return NULL;
		}
		pthread_mutex_unlock(&sq.mu);
		failed = sl_writer_sync(sq.w, &through) < 0;
		pthread_mutex_lock(&sq.mu);
		if (failed) {
			sq.err = 1;
			break;
		}
		while (sq.n > 0 && sq.first[sq.head] + sq.count[sq.head] <=
		    through) {
			if (pflag)
				print_offsets(sq.first[sq.head],
				    sq.count[sq.head]);
			sq.head = (sq.head + 1) % QUEUE_MAX;
			sq.n--;
		}
		if (pflag && fflush(stdout) == EOF) {
			sq.err = 2;
			sq.errnum = errno;
			break;
		}
		pthread_cond_broadcast(&sq.cv);
	}
	/*
	 * Stop at once rather than at the next input, which may be hours
	 * away: nothing may be acknowledged any more.  _exit, because the
	 * main thread may be anywhere, and stdout holds nothing unflushed.
	 */
	if (sq.err == 1)
		fprintf(stderr, "%s: %s: %s\n", progname, logpath,
		    sl_writer_error(sq.w));
	else
		fprintf(stderr, "%s: stdout: %s\n", progname,
		    strerror(sq.errnum));
	_exit(2);
}

/* Report why the sync thread stopped; called with sq.mu held. */
static void __attribute__((noreturn))
sync_failed(void)
{
	if (sq.err == 2)
		die(2, "stdout: %s", strerror(sq.errnum));
	die(2, "%s: %s", logpath, sl_writer_error(sq.w));
}

static void
sync_start(sl_writer *w)
{
	sigset_t all, old;
	int e;

	sq.w = w;
	/* Signals stay with the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&sq.th, NULL, syncer, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		die(2, "pthread_create: %s", strerror(e));
	sq.on = 1;
}

/* Wait until every batch written is synced (and its offsets printed). */
static void
sync_drain(void)
{
	if (!sq.on)
		return;
	pthread_mutex_lock(&sq.mu);
	pthread_cond_broadcast(&sq.cv);
	while (sq.n > 0 && sq.err == 0)
		pthread_cond_wait(&sq.cv, &sq.mu);
	if (sq.err != 0)
		sync_failed();
	pthread_mutex_unlock(&sq.mu);
}

static void
sync_stop(void)
{
	if (!sq.on)
		return;
	sync_drain();
	pthread_mutex_lock(&sq.mu);
	sq.quit = 1;
	pthread_cond_broadcast(&sq.cv);
	pthread_mutex_unlock(&sq.mu);
	pthread_join(sq.th, NULL);
	sq.on = 0;
}

/* Write the pending batch; print its offsets once it is synced. */
static void
commit(sl_writer *w)
{
	size_t n = sl_writer_pending(w);
	uint64_t first;

	if (sl_writer_commit(w, expect, &first) < 0) {
		/* A failed sync in the other thread is the cause. */
		if (sq.on) {
			pthread_mutex_lock(&sq.mu);
			while (sq.n > 0 && sq.err == 0)
				pthread_cond_wait(&sq.cv, &sq.mu);
			pthread_mutex_unlock(&sq.mu);
		}
		if (errno == ESTALE)
			die(1, "%s: %s", logpath, sl_writer_error(w));
		die(2, "%s: %s", logpath, sl_writer_error(w));
	}
	if (n == 0)
		return;
	if (!sq.on) {
		if (pflag) {
			print_offsets(first, n);
			if (fflush(stdout) == EOF)
				die(2, "stdout: %s", strerror(errno));
		}
		return;
	}
	pthread_mutex_lock(&sq.mu);
	while (sq.n == QUEUE_MAX && sq.err == 0)
		pthread_cond_wait(&sq.cv, &sq.mu);
	if (sq.err != 0)
		sync_failed();
	sq.first[(sq.head + sq.n) % QUEUE_MAX] = first;
	sq.count[(sq.head + sq.n) % QUEUE_MAX] = n;
	sq.n++;
	pthread_cond_broadcast(&sq.cv);
	pthread_mutex_unlock(&sq.mu);
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
				die(2, "%s", strerror(errno));
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

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		SL_FMT_LONGOPTS,
		{ "header",		required_argument,	NULL, 'H' },
		{ "no-sync",		no_argument,		NULL, 'N' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "key",		required_argument,	NULL, 'k' },
		{ "max-record-bytes",	required_argument,	NULL, 'm' },
		{ "print-offsets",	no_argument,		NULL, 'p' },
		{ "segment-bytes",	required_argument,	NULL, 's' },
		{ "expect",		required_argument,	NULL, 'x' },
		{ "compress",		no_argument,		NULL, 'z' },
		{ NULL, 0, NULL, 0 }
	};
	struct sl_record rec;
	struct sl_header *hbuf = NULL;
	size_t hcap = 0;
	sl_writer *w;
	sl_in *in;
	char *end;
	int64_t now = 0;
	unsigned unstamped = 0;
	int ch, r;

	if (sl_guard_stdio() < 0)
		die(2, "/dev/null: %s", strerror(errno));
	sl_fmt_init(&fmt);
	while ((ch = getopt_long(argc, argv, "0BD:F:H:JK:NVYhk:m:ps:x:z",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case '0': case 'B': case 'D': case 'J': case 'K': case 'Y':
			if (sl_fmt_option(&fmt, ch, optarg) < 0)
				die(2, "-%c: invalid delimiter: %s", ch,
				    optarg);
			break;
		case 'F':
			die(2, "-F: templates are for output only");
		case 'H':
			add_header(optarg);
			break;
		case 'N':
			wopts.nosync = 1;
			break;
		case 'V':
			printf("%s synclog %s\n", progname, SL_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'k':
			keyopt = optarg;
			break;
		case 'm':
			wopts.max_record_bytes = parse_size("m", optarg);
			if (wopts.max_record_bytes == 0 ||
			    wopts.max_record_bytes > SL_MAX_MAX_RECORD_BYTES)
				die(2, "-m: must be from 1 to %llu bytes",
				    (unsigned long long)SL_MAX_MAX_RECORD_BYTES);
			break;
		case 'p':
			pflag = 1;
			break;
		case 's':
			wopts.segment_bytes = parse_size("s", optarg);
			if (wopts.segment_bytes < 1024 ||
			    wopts.segment_bytes > (1ULL << 31))
				die(2, "-s: must be from 1K to 2G bytes");
			break;
		case 'x':
			errno = 0;
			expect = strtoull(optarg, &end, 10);
			if (*optarg == '-' || end == optarg || *end != '\0' ||
			    errno != 0 || expect == SL_NO_OFFSET)
				die(2, "-x: invalid offset: %s", optarg);
			break;
		case 'z':
			wopts.compress = 1;
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
	if (keyopt != NULL && fmt.keydelimlen > 0)
		die(2, "-k and -K cannot be used together");
	logpath = argv[0];

	wopts.defer_sync = !wopts.nosync;
	if ((w = sl_writer_open(logpath, &wopts)) == NULL)
		die(errno == EBADMSG ? 1 : 2, "%s", sl_open_error());
	if (wopts.defer_sync)
		sync_start(w);
	/* Batches of a megabyte, but several to a segment even when the
	 * segments are small, so that rotation stays close to the size. */
	batch_target = sl_writer_settings(w)->segment_bytes / 8;
	if (batch_target > (1u << 20))
		batch_target = 1u << 20;
	if ((in = sl_in_open(STDIN_FILENO, &fmt,
	    sl_writer_settings(w)->max_record_bytes)) == NULL)
		die(2, "stdin: %s", strerror(errno));

	for (;;) {
		/* With -x everything is one batch: never commit early. */
		int block = expect != SL_NO_OFFSET || sl_writer_pending(w) == 0;

		r = sl_in_next(in, &rec, block);
		if (r == SL_IN_AGAIN) {
			commit(w);
			continue;
		}
		if (r == 0)
			break;
		if (r < 0) {
			if (expect == SL_NO_OFFSET)
				commit(w);
			sync_drain();
			die(1, "stdin: %s", sl_in_error(in));
		}
		/*
		 * Records without a time get the append time here rather than
		 * in the writer: a clock read can cost as much as the rest of
		 * a record's work (50 ns on a virtual machine), so it is read
		 * once per STAMP_EVERY records that arrive back to back, and
		 * afresh whenever sl_in_next may have waited for input.
		 */
		if (rec.timestamp == SL_NO_TIMESTAMP) {
			if (block || ++unstamped >= STAMP_EVERY) {
				now = sl_now_ms();
				unstamped = 0;
			}
			rec.timestamp = now;
		}
		r = add(w, &rec, &hbuf, &hcap);
		if (r < 0 && errno == ENOBUFS && expect == SL_NO_OFFSET) {
			commit(w);
			r = add(w, &rec, &hbuf, &hcap);
		}
		if (r < 0) {
			int e = errno;
			size_t size = sl_record_size(&rec);

			if (expect == SL_NO_OFFSET)
				commit(w);
			sync_drain();
			if (e == EMSGSIZE)
				die(1, "stdin: record %" PRIu64 ": %zu bytes "
				    "exceeds the maximum record size of %"
				    PRIu64 " bytes", sl_in_recno(in), size,
				    sl_writer_settings(w)->max_record_bytes);
			if (e == ENOBUFS)
				die(1, "stdin: input too large for one batch "
				    "with -x");
			die(2, "%s", strerror(e));
		}
		if (expect == SL_NO_OFFSET &&
		    sl_writer_pending_bytes(w) >= batch_target)
			commit(w);
	}
	commit(w);
	sync_stop();
	sl_in_close(in);
	free(hbuf);
	if (sl_writer_close(w) < 0)
		die(2, "%s: %s", logpath, strerror(errno));
	if (fclose(stdout) == EOF)
		die(2, "stdout: %s", strerror(errno));
	return 0;
}
