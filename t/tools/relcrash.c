/*
 * relcrash - crash loop driver for the reliability tests (t/06*.bats).
 *
 *	relcrash [-eTtu] [-c cycles] [-F rule]... [-k usec] [-m records]
 *	    [-P shim.so] [-r seed] [-v bytes] [-w usec] log -- command [arg]...
 *
 * Each cycle runs COMMAND (a writer such as `logappend -p LOG`) with a
 * fresh set of records on a pipe as its standard input, paced in random
 * chunks so that batches of every size form, and reads the offsets it
 * prints.  The writer is then killed with SIGKILL at a random moment
 * (-k: up to USEC microseconds after its start, a span that then adapts
 * to how long a whole run takes on this machine), or by a fault rule of
 * the shim (-F: SYNCLOG_FAULT=RULE with %d replaced by 1, 2, ... in
 * successive cycles and %n by one more than %d, until a run is no longer stopped by it; several -F
 * are run one after the other; -P names the shim to preload).
 *
 * Records already in the log at the start are kept as they are and must
 * stay so.  After every cycle the log is read with the library's reader, which
 * must succeed, and these invariants are checked:
 * - offsets are dense from 0, and the log only grows: what an earlier
 *   cycle saw is still there, byte for byte;
 * - every record is one the loop wrote, intact; each cycle's records are
 *   a prefix of its input, in order, after those of earlier cycles;
 * - every offset a writer printed holds the record it was printed for;
 * - a writer that exits 0 printed an offset for every record.
 * -e accepts an exit status of 1 or 2 (an injected error) besides 0 and
 * SIGKILL, with a one-line message "PROGRAM: ..." on stderr; with -u the
 * batch that failed is taken to be unsynced (the rules fail a sync): then
 * no offset of the log's last batch may have been printed; -t after a kill leaves crash debris (zeros, random bytes or a
 * prefix of a batch) after the last segment's data, half of the time, for
 * the next writer to recover; -T leaves some before every cycle, so that
 * every writer starts with a recovery.  Values are "cC.rK." and letters, up to -v bytes.
 *
 * The last line on stdout sums the run up; exit 0 when every invariant
 * held, 1 when one failed (the reason on stderr), 2 on a usage or system
 * error.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "ttools.h"

#define MAXRULES	16

static uint64_t	 seed = 1;
static uint64_t	 cycles = 100;
static uint64_t	 killus;		/* 0: no random kill */
static uint64_t	 paceus = 300;
static unsigned	 maxrec = 40;
static unsigned	 maxval = 200;
static int	 eflag, tflag, Tflag, uflag;
static const char *rules[MAXRULES];
static int	 nrules;
static const char *shim;
static const char *logdir;
static char	**cmd;

/* What the log held after the last cycle: (cycle << 32 | record). */
static uint64_t	*seen;
static size_t	 nseen, capseen;
/* Records the log held before the first cycle: a hash of each. */
static uint64_t	*foreign;
static size_t	 nforeign;

static uint64_t	 n_killed, n_completed, n_errors, n_acked, n_debris,
		 n_ruled;

/* A record's bytes, offset and timestamp. */
static uint64_t
hash(const struct sl_record *r)
{
	return mix64(record_hash(r) ^
	    mix64(r->offset ^ (uint64_t)r->timestamp));
}

static uint64_t rngstate;

static uint64_t
rnd(uint64_t n)
{
	rngstate = mix64(rngstate);
	return n ? rngstate % n : 0;
}

/* The value of record K of cycle C into BUF (maxval + 32 bytes). */
static size_t
value(uint32_t c, uint32_t k, char *buf)
{
	uint64_t h = mix64(seed ^ mix64((uint64_t)c << 32 | k));
	size_t len, n;

	n = (size_t)snprintf(buf, 32, "c%" PRIu32 ".r%" PRIu32 ".", c, k);
	len = n + h % (maxval + 1);
	for (; n < len; n++) {
		h = mix64(h);
		buf[n] = 'a' + h % 26;
	}
	return len;
}

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void __attribute__((noreturn))
fail(uint64_t cycle, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "relcrash: cycle %" PRIu64 ": ", cycle);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
dump_stderr(void)
{
	char buf[4096];
	ssize_t n;
	int fd;

	if ((fd = open("relcrash.err", O_RDONLY)) < 0)
		return;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, n, stderr);
	close(fd);
}

static char *
rule_for(const char *tmpl, uint64_t n)
{
	static char buf[512];
	char num[32];
	const char *p;
	size_t len = 0;

	for (p = tmpl; *p != '\0' && len + 32 < sizeof buf; p++) {
		if (p[0] == '%' && (p[1] == 'd' || p[1] == 'n')) {
			snprintf(num, sizeof num, "%" PRIu64, n + (p[1] == 'n'));
			len += snprintf(buf + len, sizeof buf - len, "%s", num);
			p++;
		} else
			buf[len++] = *p;
	}
	buf[len] = '\0';
	return buf;
}

struct run {
	int	 status;
	char	*out;
	size_t	 outlen;
	int	 killed_by_us;
	uint64_t us;		/* from start to exit */
};

/* Run the command on INPUT, perhaps killing it; collect its stdout. */
static void
run_child(uint64_t cycle, const char *rule, const char *input, size_t inlen,
    const size_t *chunks, size_t nchunks, struct run *rr)
{
	int in[2], out[2], errfd;
	pid_t pid;
	uint64_t start, kill_at, next_chunk;
	size_t written = 0, ci = 0, chunk_end, cap = 4096;
	struct pollfd pfd[2];

	memset(rr, 0, sizeof *rr);
	if ((rr->out = malloc(cap)) == NULL)
		err(2, "malloc");
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		err(2, "pipe");
	if ((errfd = open("relcrash.err", O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0644)) < 0)
		err(2, "relcrash.err");
	start = now_us();
	if ((pid = fork()) < 0)
		err(2, "fork");
	if (pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
		    dup2(errfd, 2) < 0)
			_exit(126);
		if (rule != NULL) {
			const char *a = getenv("ASAN_OPTIONS");
			char opt[1024];

			snprintf(opt, sizeof opt, "%s%sverify_asan_link_order=0",
			    a ? a : "", a && *a ? ":" : "");
			setenv("ASAN_OPTIONS", opt, 1);
			setenv("SYNCLOG_FAULT", rule, 1);
			if (shim != NULL)
				setenv("LD_PRELOAD", shim, 1);
		}
		execvp(cmd[0], cmd);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(errfd);
	if (fcntl(in[1], F_SETFL, O_NONBLOCK) < 0)
		err(2, "fcntl");
	kill_at = killus && rule == NULL ? start + rnd(killus) : UINT64_MAX;
	next_chunk = start;
	chunk_end = nchunks ? chunks[0] : inlen;
	for (;;) {
		uint64_t t = now_us();
		int timeout = -1, nfd = 0, wfd = -1;

		if (t >= kill_at) {
			kill(pid, SIGKILL);
			rr->killed_by_us = 1;
			kill_at = UINT64_MAX;
		}
		if (in[1] >= 0 && written == inlen) {
			close(in[1]);
			in[1] = -1;
		}
		pfd[nfd].fd = out[0];
		pfd[nfd++].events = POLLIN;
		if (in[1] >= 0) {
			if (t >= next_chunk) {
				pfd[nfd].fd = in[1];
				pfd[nfd].events = POLLOUT;
				wfd = nfd++;
			} else
				timeout = (int)((next_chunk - t + 999) / 1000);
		}
		if (kill_at != UINT64_MAX) {
			int kt = (int)((kill_at - t + 999) / 1000);

			if (timeout < 0 || kt < timeout)
				timeout = kt;
		}
		if (poll(pfd, nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			err(2, "poll");
		}
		if (pfd[0].revents) {
			ssize_t n;

			if (rr->outlen == cap && (rr->out = realloc(rr->out,
			    cap *= 2)) == NULL)
				err(2, "realloc");
			n = read(out[0], rr->out + rr->outlen,
			    cap - rr->outlen);
			if (n < 0 && errno != EINTR)
				err(2, "read");
			if (n == 0)
				break;
			if (n > 0)
				rr->outlen += n;
		}
		if (wfd >= 0 && (pfd[wfd].revents & (POLLOUT | POLLERR))) {
			ssize_t n = write(in[1], input + written,
			    chunk_end - written);

			if (n < 0 && errno == EPIPE) {
				written = inlen;
				continue;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				err(2, "write to the writer");
			if (n > 0)
				written += n;
			if (written == chunk_end && written < inlen) {
				ci++;
				chunk_end = ci < nchunks ? chunks[ci] : inlen;
				next_chunk = now_us() + rnd(paceus + 1);
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
	while (waitpid(pid, &rr->status, 0) < 0)
		if (errno != EINTR)
			err(2, "waitpid");
	rr->us = now_us() - start;
	(void)cycle;
}

static void
leave_debris(void)
{
	uint64_t *bases;
	size_t n, len;
	char path[PATH_MAX], name[64];
	unsigned char buf[4096];
	struct stat st;
	int fd, kind;

	if (sl_segment_list_path(logdir, &bases, &n) < 0 || n == 0) {
		if (n == 0)
			free(bases);
		return;
	}
	sl_segment_name(name, sizeof name, bases[n - 1], ".log");
	free(bases);
	snprintf(path, sizeof path, "%s/%s", logdir, name);
	if ((fd = open(path, O_RDWR)) < 0 || fstat(fd, &st) < 0)
		err(2, "%s", path);
	len = 1 + rnd(sizeof buf);
	kind = (int)rnd(3);
	if (kind == 0)
		memset(buf, 0, len);
	else if (kind == 1)
		for (size_t i = 0; i < len; i++)
			buf[i] = (unsigned char)rnd(256);
	else {
		/* A torn copy of the file's first batch: a real header that
		 * promises more bytes than follow. */
		ssize_t got = sl_pread_full(fd, buf, sizeof buf, 0);
		struct sl_batch b;

		if (got < SL_BATCH_HDR ||
		    sl_batch_header(buf, SIZE_MAX, &b) < 0) {
			close(fd);
			return;
		}
		len = 1 + rnd(b.length < (size_t)got ? b.length - 1 :
		    (uint64_t)got);
	}
	if (sl_pwrite_full(fd, buf, len, st.st_size) < 0)
		err(2, "%s", path);
	close(fd);
	n_debris++;
}

/* Read the whole log and check it against what was written before. */
static void
verify(uint64_t cycle, uint32_t c, const uint64_t *printed, size_t nprinted)
{
	sl_reader *r;
	struct sl_record rec;
	char *want = malloc(maxval + 32);
	size_t i = 0, wl;
	uint64_t prev = UINT64_MAX;
	int f;

	if (want == NULL)
		err(2, "malloc");
	if ((r = sl_reader_open(logdir)) == NULL) {
		/* Killed before the log existed: fine if nothing was. */
		if (nseen == 0 && nprinted == 0)
			goto out;
		fail(cycle, "cannot open the log: %s", sl_error());
	}
	while ((f = sl_reader_next(r, &rec)) > 0) {
		unsigned cc, kk;

		if (rec.offset != i)
			fail(cycle, "offset %" PRIu64 " where %zu was due",
			    rec.offset, i);
		if (i < nforeign) {
			if (hash(&rec) != foreign[i])
				fail(cycle, "offset %zu: an earlier record "
				    "changed", i);
			if (i == capseen) {
				capseen = capseen ? capseen * 2 : 1024;
				if ((seen = realloc(seen, capseen *
				    sizeof *seen)) == NULL)
					err(2, "realloc");
			}
			seen[i++] = UINT64_MAX - 1;	/* not ours */
			continue;
		}
		if (rec.value == NULL || sscanf((const char *)rec.value,
		    "c%u.r%u.", &cc, &kk) != 2)
			fail(cycle, "offset %zu: not a record of ours", i);
		wl = value(cc, kk, want);
		if (rec.valuelen != wl || memcmp(rec.value, want, wl) != 0 ||
		    rec.key != NULL)
			fail(cycle, "offset %zu: record c%u.r%u damaged", i, cc,
			    kk);
		uint64_t id = (uint64_t)cc << 32 | kk;
		if (i < nseen && seen[i] != id)
			fail(cycle, "offset %zu: held c%u.r%u, now c%u.r%u", i,
			    (unsigned)(seen[i] >> 32), (unsigned)seen[i], cc,
			    kk);
		if (prev == UINT64_MAX ? kk != 0 :
		    (cc == prev >> 32 ? kk != (uint32_t)prev + 1 :
		    cc < prev >> 32 || kk != 0))
			fail(cycle, "offset %zu: c%u.r%u out of order", i, cc,
			    kk);
		if (cc > c)
			fail(cycle, "offset %zu: record of a future cycle", i);
		prev = id;
		if (i == capseen) {
			capseen = capseen ? capseen * 2 : 1024;
			if ((seen = realloc(seen, capseen * sizeof *seen)) ==
			    NULL)
				err(2, "realloc");
		}
		seen[i++] = id;
	}
	if (f < 0)
		fail(cycle, "reading the log: %s", sl_error());
	if (i < nseen)
		fail(cycle, "the log shrank from %zu to %zu records", nseen, i);
	nseen = i;
	for (size_t k = 0; k < nprinted; k++) {
		uint64_t o = printed[k];

		if (o >= nseen || seen[o] != ((uint64_t)c << 32 | k))
			fail(cycle, "printed offset %" PRIu64 " for c%u.r%zu, "
			    "which the log does not hold there", o, c, k);
	}
	sl_reader_close(r);
out:
	free(want);
}

/* Remember the records the log holds before the loop begins. */
static void
take_foreign(void)
{
	struct sl_record rec;
	sl_reader *r;
	size_t cap = 0;
	int f;

	if ((r = sl_reader_open(logdir)) == NULL)
		return;
	while ((f = sl_reader_next(r, &rec)) > 0) {
		if (rec.offset != nforeign)
			errx(2, "%s: not dense at offset %" PRIu64, logdir,
			    rec.offset);
		if (nforeign == cap && (foreign = realloc(foreign,
		    (cap = cap ? cap * 2 : 1024) * sizeof *foreign)) == NULL)
			err(2, "realloc");
		foreign[nforeign++] = hash(&rec);
	}
	if (f < 0)
		errx(2, "%s: %s", logdir, sl_error());
	sl_reader_close(r);
}

/* The failed writer's message: one line naming the program. */
static void
check_message(uint64_t cycle)
{
	char buf[4096], want[256];
	const char *prog = strrchr(cmd[0], '/');
	ssize_t n;
	int fd;

	prog = prog ? prog + 1 : cmd[0];
	snprintf(want, sizeof want, "%s: ", prog);
	if ((fd = open("relcrash.err", O_RDONLY)) < 0)
		err(2, "relcrash.err");
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		err(2, "relcrash.err");
	buf[n] = '\0';
	if (strncmp(buf, want, strlen(want)) != 0 || n == 0 ||
	    buf[n - 1] != '\n' || strchr(buf, '\n') != buf + n - 1)
		fail(cycle, "the writer failed without a one-line message "
		    "\"%s...\": %s", want, buf);
}

/* Base offset of the log's last batch (UINT64_MAX when it has none). */
static uint64_t
last_base(void)
{
	struct sl_window w = { 0 };
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	uint64_t *bases, base = UINT64_MAX, pos;
	size_t n;
	char path[PATH_MAX], name[64];
	int fd;

	if (sl_segment_list_path(logdir, &bases, &n) < 0) {
		if (errno == ENOENT)
			return base;
		err(2, "%s", logdir);
	}
	while (n > 0 && base == UINT64_MAX) {
		sl_segment_name(name, sizeof name, bases[--n], ".log");
		snprintf(path, sizeof path, "%s/%s", logdir, name);
		if ((fd = open(path, O_RDONLY)) < 0)
			err(2, "%s", path);
		for (pos = 0; sl_scan_batch(&w, fd, pos, SIZE_MAX, 0, &b, &p,
		    &why) == SL_SCAN_OK; pos += b.length)
			base = b.base;
		close(fd);
		sl_window_drop(&w);
	}
	sl_window_free(&w);
	free(bases);
	return base;
}

static void
one_cycle(uint64_t cycle, const char *rule, int *stopped_by_rule)
{
	uint32_t c = (uint32_t)cycle;
	unsigned n = rule ? maxrec : 1 + (unsigned)rnd(maxrec);
	char *input = malloc((size_t)n * (maxval + 33)), *p, *end;
	size_t *chunks = malloc(n * sizeof *chunks), nchunks = 0, len = 0;
	uint64_t *printed = malloc(n * sizeof *printed);
	size_t nprinted = 0;
	struct run rr;

	if (input == NULL || chunks == NULL || printed == NULL)
		err(2, "malloc");
	if (Tflag)
		leave_debris();
	for (unsigned k = 0; k < n; k++) {
		len += value(c, k, input + len);
		input[len++] = '\n';
		if (k + 1 == n || rnd(4) == 0)
			chunks[nchunks++] = len;
	}
	run_child(cycle, rule, input, len, chunks, nchunks, &rr);
	for (p = rr.out, end = rr.out + rr.outlen; p < end; ) {
		char *nl = memchr(p, '\n', end - p), *e;
		uint64_t o;

		if (nl == NULL)
			fail(cycle, "partial output line");
		errno = 0;
		o = strtoull(p, &e, 10);
		if (e != nl || errno || p == nl)
			fail(cycle, "bad output line: %.*s", (int)(nl - p), p);
		if (nprinted == n)
			fail(cycle, "more offsets printed than records");
		if (nprinted > 0 && o != printed[nprinted - 1] + 1)
			fail(cycle, "offsets printed not dense: %" PRIu64
			    " after %" PRIu64, o, printed[nprinted - 1]);
		printed[nprinted++] = o;
		p = nl + 1;
	}
	*stopped_by_rule = 0;
	if (WIFSIGNALED(rr.status) && WTERMSIG(rr.status) == SIGKILL) {
		n_killed++;
		if (!rr.killed_by_us) {
			n_ruled++;
			*stopped_by_rule = 1;
		}
	} else if (WIFEXITED(rr.status) && WEXITSTATUS(rr.status) == 0) {
		n_completed++;
		/* Aim the kills at the span a whole run takes here. */
		if (killus)
			killus = (killus + rr.us) / 2 + 1;
		if (nprinted != n) {
			dump_stderr();
			fail(cycle, "exit 0 after printing %zu offsets for %u "
			    "records", nprinted, n);
		}
	} else if (eflag && WIFEXITED(rr.status) &&
	    (WEXITSTATUS(rr.status) == 1 || WEXITSTATUS(rr.status) == 2)) {
		n_errors++;
		*stopped_by_rule = 1;
		check_message(cycle);
	} else {
		dump_stderr();
		fail(cycle, "writer %s %d%s%s", WIFEXITED(rr.status) ?
		    "exited" : "killed by signal", WIFEXITED(rr.status) ?
		    WEXITSTATUS(rr.status) : WTERMSIG(rr.status),
		    rule ? " under " : "", rule ? rule : "");
	}
	n_acked += nprinted;
	if (killus && rr.killed_by_us && nprinted == 0 && killus < 10000000)
		killus = killus * 9 / 8 + 1;
	verify(cycle, c, printed, nprinted);
	if (uflag && WIFEXITED(rr.status) && WEXITSTATUS(rr.status) != 0 &&
	    nprinted > 0 && printed[nprinted - 1] >= last_base())
		fail(cycle, "offset %" PRIu64 " of the unsynced last batch "
		    "was printed", printed[nprinted - 1]);
	if (tflag && WIFSIGNALED(rr.status) && rnd(2) == 0)
		leave_debris();
	free(rr.out);
	free(input);
	free(chunks);
	free(printed);
}

static uint64_t
number(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno)
		errx(2, "-%s: bad number: %s", opt, s);
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: relcrash [-eTtu] [-c cycles] [-F rule]... "
	    "[-k usec] [-m records]\n"
	    "           [-P shim.so] [-r seed] [-v bytes] [-w usec] log -- "
	    "command [arg]...\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	uint64_t cycle = 0;
	int ch, stopped;

	while ((ch = getopt(argc, argv, "F:P:Tc:ek:m:r:tuv:w:")) != -1) {
		switch (ch) {
		case 'F':
			if (nrules == MAXRULES)
				errx(2, "too many -F");
			rules[nrules++] = optarg;
			break;
		case 'P':
			shim = optarg;
			break;
		case 'T':
			Tflag = 1;
			break;
		case 'c':
			cycles = number("c", optarg);
			break;
		case 'e':
			eflag = 1;
			break;
		case 'k':
			killus = number("k", optarg);
			break;
		case 'm':
			maxrec = (unsigned)number("m", optarg);
			if (maxrec == 0 || maxrec > 100000)
				errx(2, "-m: from 1 to 100000");
			break;
		case 'r':
			seed = number("r", optarg);
			break;
		case 't':
			tflag = 1;
			break;
		case 'u':
			uflag = 1;
			break;
		case 'v':
			maxval = (unsigned)number("v", optarg);
			if (maxval > (1u << 20))
				errx(2, "-v: at most 1M");
			break;
		case 'w':
			paceus = number("w", optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	logdir = argv[0];
	cmd = argv + 1;
	signal(SIGPIPE, SIG_IGN);
	rngstate = mix64(seed);
	take_foreign();
	if (nrules == 0)
		for (cycle = 0; cycle < cycles; cycle++)
			one_cycle(cycle, NULL, &stopped);
	for (int i = 0; i < nrules; i++) {
		uint64_t fired = 0;

		for (uint64_t nth = 1; cycle < UINT32_MAX; nth++) {
			one_cycle(cycle++, rule_for(rules[i], nth), &stopped);
			if (!stopped)
				break;
			fired++;
			if (cycles && fired >= cycles)
				break;
		}
		printf("rule %s: stopped the writer %" PRIu64 " times\n",
		    rules[i], fired);
	}
	printf("crash loop: %" PRIu64 " cycles (%" PRIu64 " killed, %" PRIu64
	    " by a rule, %" PRIu64 " errors, %" PRIu64 " completed, %" PRIu64
	    " with debris), %" PRIu64 " offsets acknowledged, %zu records in "
	    "the log, 0 lost\n", cycle, n_killed, n_ruled, n_errors,
	    n_completed, n_debris, n_acked, nseen);
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
}
