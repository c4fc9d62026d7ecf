/*
 * logapply - a consumer: keep a store in sync by running a command on
 * batches of a log's records, remembering durably how far it got.
 *
 * Invariants:
 * - One process per consumer: the consumer's lock is held from the start
 *   to the exit, and a killed process releases it.
 * - A batch is spooled whole into an anonymous memory file before its
 *   command starts, and that file (read-only) is the command's stdin.  The
 *   command therefore always reads the complete batch, even when logapply
 *   is killed meanwhile, so a store that records LOGAPPLY_LAST in the same
 *   transaction as the data never records a batch it got only half of.
 * - The checkpoint moves to LAST+1 only after the command exited 0, or
 *   after the one record that fails alone is durably in the dead-letter
 *   log; it never moves backwards and is replaced atomically.
 * - Work overlaps: the next batch is spooled while the command applies
 *   the current one, and a thread writes the checkpoints, coalescing
 *   them, so that fsyncs stay off the main path.  The checkpoint file may
 *   trail the applied position, never lead it: by at most CK_INTERVAL_NS
 *   (one write per interval while batches come faster) and the write in
 *   progress.  It is on disk before logapply sleeps (-f) or exits.
 * - Memory is bounded: a batch ends at -b records or SPOOL_MAX bytes of
 *   records.  Records are formatted straight into the spool file's first
 *   SPOOL_MAP bytes, which stay mapped from batch to batch, and the rest
 *   through one buffer; no system call per record.  Spool files are
 *   reused once their command has exited.
 * - Nothing per batch but the spool, the fork and the wait: the command's
 *   environment is built once, its LOGAPPLY_FIRST/LAST rewritten in place.
 * - A checkpoint that is damaged, foreign or beyond the log's end stops
 *   the consumer with exit 1; nothing is applied from a guess.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"
#include "prog.h"
#include "extern.h"

volatile sig_atomic_t stopping;
sigset_t	 origmask;
static int	 sigpipe[2] = { -1, -1 };

static const struct opt opts[] = {
	OPTS_FORMAT,
	{ '1', "one", NULL, "run command once per record, as -b 1" },
	{ 'R', "retry-delay", "ms", "wait ms before the first retry (100)" },
	{ 'b', "batch", "count", "put up to count records in a batch (1000)" },
	{ 'c', "config", "file", "run every consumer the YAML file defines" },
	{ 'd', "dead-letter", "deadlog", "set records that fail alone aside "
	    "in deadlog" },
	{ 'f', "follow", NULL, "when caught up, wait for more records" },
	{ 'o', "offset", "spec", "where a new consumer starts (beginning)" },
	{ 'q', "quiet", NULL, "show no progress line" },
	{ 'r', "retries", "retries", "run a failed batch again up to retries "
	    "times" },
	{ 's', "skip-lost", NULL, "skip records removed before they were "
	    "applied" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logapply = {
	"logapply",
	"usage: logapply [-01BfJqsY] [-b count] [-D delim] [-d deadlog] "
	    "[-F template]\n"
	"                [-K delim] [-o spec] [-R ms] [-r retries] "
	    "log name [--]\n"
	"                command [arg ...]\n"
	"       logapply [-1fqs] [-b count] [-o spec] [-R ms] [-r retries] "
	    "-c file",
	1, opts, NULL
};

static void
onsignal(int sig)
{
	int e = errno;

	(void)sig;
	stopping = 1;
	if (sigpipe[1] != -1)
		(void)!write(sigpipe[1], "", 1);
	errno = e;
}

static void
catch_signals(void)
{
	struct sigaction sa;

	if (pipe2(sigpipe, O_CLOEXEC | O_NONBLOCK) == -1)
		err(2, "pipe");
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		err(2, "sigaction");
	sigprocmask(SIG_SETMASK, &origmask, NULL);
}

/* Sleep MS milliseconds (-1: until a signal) or until FD is readable. */
int
sleep_or_signal(int fd, int ms)
{
	struct pollfd p[2];
	char buf[64];
	int n;

	p[0].fd = sigpipe[0];
	p[0].events = POLLIN;
	p[1].fd = fd;
	p[1].events = POLLIN;
	if ((n = poll(p, fd == -1 ? 1 : 2, ms)) == -1 && errno != EINTR)
		err(2, "poll");
	while (read(sigpipe[0], buf, sizeof buf) > 0)
		;
	return n > 0 && fd != -1 && (p[1].revents & POLLIN);
}

long long
elapsed_ns(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL +
	    (b->tv_nsec - a->tv_nsec);
}

/* The progress line on a terminal: records applied, rate, lag. */
static void
progress(struct run *r, int last)
{
	struct timespec now;
	uint64_t end;
	double secs;

	if (!r->c->progress)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!last && r->shown && elapsed_ns(&r->tshown, &now) < PROGRESS_NS)
		return;
	if (last && !r->shown)
		return;
	if (sl_reader_bounds(r->rd, NULL, &end) == -1 || end < r->ckpt)
		end = r->ckpt;
	secs = elapsed_ns(&r->t0, &now) / 1e9;
	fprintf(stderr, "\rlogapply: %s: %" PRIu64 " applied, %.0f/s, "
	    "lag %" PRIu64 "\033[K%s", r->c->name, r->applied,
	    secs > 0 ? r->applied / secs : 0.0, end - r->ckpt,
	    last ? "\n" : "");
	r->tshown = now;
	r->shown = 1;
}

/* Stop this consumer with STATUS and a message about it. */
void
die(struct run *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->shown)
		fputc('\n', stderr);
	/* What was applied before the failure stays applied. */
	if (ckdrain(&r->ck) != 0)
		warnx("%s: %s: checkpoint: %s", r->c->log, r->c->name,
		    strerror(r->ck.err));
	errx(status, "%s: %s: %s", r->c->log, r->c->name, msg);
}

/* Wait for the log to grow; 0 when a signal asks to stop. */
static int
wait_for_more(struct run *r)
{
	int fd;

	if ((fd = sl_reader_fd(r->rd)) == -1)
		die(r, 2, "%s", sl_error());
	if (!r->watching) {
		/* The watch is new: read once more before sleeping. */
		r->watching = 1;
		return !stopping;
	}
	if (sleep_or_signal(fd, -1) && sl_reader_wait(r->rd, 0) == -1)
		die(r, 2, "%s", sl_error());
	return !stopping;
}

/*
 * The records from FROM on are to be applied next: when the log now begins
 * above FROM, the ones below its beginning were removed (by retention)
 * before this consumer applied them.  FROM when nothing is lost; else,
 * with -s, the log's beginning, where to go on (which is said on standard
 * error); else LOST: the caller stops the consumer with lostfail() once
 * what came before FROM is committed.
 */
uint64_t
lost(struct run *r, uint64_t from)
{
	uint64_t begin;

	if (sl_reader_bounds(r->rd, &begin, NULL) == -1) {
		if (errno != EBADMSG)
			die(r, 2, "%s", sl_error());
		return from;	/* the reader stops at the damage */
	}
	if (from >= begin)
		return from;
	if (!r->c->skip_lost)
		return LOST;
	if (r->shown)
		fputc('\n', stderr);
	warnx("%s: %s: skipping offsets %" PRIu64 "-%" PRIu64 ", removed "
	    "before they were applied", r->c->log, r->c->name, from,
	    begin - 1);
	return begin;
}

/* Stop: the records from the checkpoint on were removed (exit 1). */
void
lostfail(struct run *r)
{
	char msg[512];
	uint64_t begin = UINT64_MAX;

	sl_reader_bounds(r->rd, &begin, NULL);
	if (ckpt_outside(r->ckpt, begin, UINT64_MAX, msg, sizeof msg) == NULL)
		snprintf(msg, sizeof msg, "records from %" PRIu64 " on were "
		    "removed before they were applied", r->ckpt);
	die(r, 1, "%s", msg);
}

/*
 * The reader failed with ERRNUM.  Offsets it found lost below the log's
 * beginning, now above the checkpoint, are retention's doing while the
 * consumer ran: said as lostfail() says it.  Else its message (exit 1 for
 * damage).
 */
void
readfail(struct run *r, int errnum)
{
	char msg[1024];
	uint64_t begin;

	snprintf(msg, sizeof msg, "%s", sl_error());
	if (errnum == EBADMSG && sl_reader_bounds(r->rd, &begin, NULL) == 0 &&
	    begin > r->ckpt)
		lostfail(r);
	errno = errnum;
	die(r, sl_exit_status(errnum), "%s", msg);
}

/*
 * Where the consumer starts: its checkpoint, or, for a new consumer, what
 * -o resolves to, committed at once.  The offset is found first and the
 * log's end after: a writer may append in between, and the end only
 * grows, so that `end` and -N, resolved against the end of their moment,
 * are never beyond it.
 */
static uint64_t
where(struct run *r)
{
	const struct consumer *c = r->c;
	struct sl_checkpoint ck;
	struct sl_spec spec;
	char msg[512];
	uint64_t end, off, next;
	int isnew = 0;

	if (sl_checkpoint_read(c->log, c->name, r->set.id, &ck) == 0)
		off = ck.offset;
	else if (errno != ENOENT)
		die(r, ckpt_status(errno), "%s", errno == EBADMSG ||
		    errno == ESTALE ? ckpt_strerror(errno, &ck, r->set.id,
		    msg, sizeof msg) : strerror(errno));
	else {
		if (sl_spec_parse(c->start, sl_now_ms(), &spec) == -1)
			die(r, 2, "%s: invalid offset specification",
			    c->start);
		if (sl_reader_resolve(r->rd, &spec, &off) == -1)
			die(r, sl_exit_status(errno), "%s",
			    sl_error());
		isnew = 1;
	}
	if (sl_reader_bounds(r->rd, NULL, &end) == -1) {
		/* Damage before the end hides where the log ends: apply what
		 * is good, and the reader stops with exit 1 at the damage. */
		if (errno != EBADMSG)
			die(r, 2, "%s", sl_error());
		end = UINT64_MAX;
	}
	if (isnew && off > end)
		die(r, 2, "start offset %" PRIu64 " is beyond the end of the "
		    "log (%" PRIu64 ")", off, end);
	r->ckpt = off;
	if (isnew)
		commit(r, off);
	else if (ckpt_outside(off, 0, end, msg, sizeof msg) != NULL)
		die(r, 1, "%s", msg);
	else if ((next = lost(r, off)) == LOST)
		lostfail(r);
	else if (next != off)
		commit(r, off = next);	/* -s: what is lost is passed */
	return off;
}

/* Open the log, take the consumer, find where it starts. */
static void
start(struct run *r)
{
	const struct consumer *c = r->c;
	struct stat st;
	int lk;

	if ((r->path = findprog(c->argv[0])) == NULL)
		die(r, 2, "%s: %s", c->argv[0], errno == ENOENT &&
		    strchr(c->argv[0], '/') == NULL ? "command not found" :
		    strerror(errno));
	if ((r->rd = sl_reader_open(c->log)) == NULL)
		fail_open();
	r->set = *sl_reader_settings(r->rd);
	/* A lone segment file has no consumers. */
	if (stat(c->log, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    r->set.id[0] == '\0')
		errx(2, "%s: not a log directory", c->log);
	if ((lk = sl_consumer_lock(c->log, c->name, 0)) == -1) {
		if (errno == EWOULDBLOCK)
			die(r, 1, "consumer is locked by another logapply");
		die(r, 2, "lock: %s", strerror(errno));
	}
	r->lock = lk;
	r->ckpt = where(r);
	r->at = UINT64_MAX;
	if (c->deadletter != NULL) {
		if ((r->dl = sl_writer_open(c->deadletter, NULL)) == NULL)
			fail_open();
		if (strcmp(sl_writer_settings(r->dl)->id, r->set.id) == 0)
			die(r, 2, "the dead-letter log is the log itself");
	}
	mkenv(r);
}

/* Run consumer C until it is caught up (or forever with follow). */
int
consume(const struct consumer *c)
{
	struct run r;
	struct spool cur, nxt;
	int rc;

	memset(&r, 0, sizeof r);
	r.c = c;
	catch_signals();
	start(&r);
	ckstart(&r);
	clock_gettime(CLOCK_MONOTONIC, &r.t0);
	spool(&r, r.ckpt, UINT64_MAX, c->batch, &cur);
	for (;;) {
		if (cur.n == 0) {
			unspool(&cur);
			if (cur.lost)
				lostfail(&r);
			if (cur.rerr)
				break;
			if (stopping || !c->follow)
				break;
			/* Caught up: the checkpoint says so before we sleep. */
			if (ckdrain(&r.ck) != 0)
				ckfail(&r);
			if (!wait_for_more(&r))
				break;
			spool(&r, r.ckpt, UINT64_MAX, c->batch, &cur);
			continue;
		}
		rc = apply(&r, &cur, &nxt);
		unspool(&cur);
		progress(&r, 0);
		if (cur.rerr || rc == STOPPED || stopping) {
			unspool(&nxt);
			break;
		}
		cur = nxt;
	}
	progress(&r, 1);
	ckstop(&r);
	free(r.path);
	freeenv(&r);
	if (cur.rerr)
		readfail(&r, cur.rerrno);
	if (r.dl != NULL && sl_writer_close(r.dl) == -1)
		die(&r, 2, "%s: %s", c->deadletter, strerror(errno));
	sl_reader_close(r.rd);
	return 0;
}

/*
 * The options into C, *CFG (-c), *QUIET (-q) and *FMTSET (a format
 * option given); the index of the first operand.
 */
static int
options(int argc, char *argv[], struct consumer *c, const char **cfg,
    int *quiet, int *fmtset)
{
	struct sl_spec spec;
	int ch;

	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case '0': case 'B': case 'D': case 'F': case 'J': case 'K':
		case 'Y':
			arg_format(&c->fmt, ch, optarg);
			*fmtset = 1;
			break;
		case '1':
			c->batch = 1;
			break;
		case 'R':
			c->delay = (unsigned)arg_duration(ch, "delay", optarg, 1,
			    BACKOFF_MAX);
			break;
		case 'b':
			c->batch = arg_u64(ch, "batch size", optarg, 0, 1,
			    UINT32_MAX);
			break;
		case 'c':
			*cfg = optarg;
			break;
		case 'd':
			c->deadletter = optarg;
			break;
		case 'f':
			c->follow = 1;
			break;
		case 'o':
			arg_spec(ch, optarg, &spec);
			c->start = optarg;
			break;
		case 'q':
			*quiet = 1;
			break;
		case 'r':
			c->retries = (unsigned)arg_u64(ch, "retry count",
			    optarg, 0, 0, 1000000);
			break;
		case 's':
			c->skip_lost = 1;
			break;
		default:
			prog_usage();
		}
	}
	return optind;
}

int
main(int argc, char *argv[])
{
	struct consumer c;
	const char *cfg = NULL;
	int quiet = 0, fmtset = 0, i;

	sigprocmask(SIG_SETMASK, NULL, &origmask);
	prog_start(&logapply);
	memset(&c, 0, sizeof c);
	sl_fmt_init(&c.fmt);
	c.batch = 1000;
	c.start = "beginning";
	c.delay = 100;
	i = options(argc, argv, &c, &cfg, &quiet, &fmtset);
	argc -= i;
	argv += i;

	if (cfg != NULL) {
		if (argc != 0 || fmtset || c.deadletter != NULL)
			prog_usage();
		return run_config(cfg, &c);
	}
	if (argc >= 3 && strcmp(argv[2], "--") == 0) {
		argv[2] = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 3)
		prog_usage();
	c.log = argv[0];
	c.name = arg_consumer(argv[1]);
	c.argv = argv + 2;
	c.fmt.logname = c.log;
	c.progress = !quiet && isatty(STDERR_FILENO);
	return consume(&c);
}
