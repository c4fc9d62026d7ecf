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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "synclog.h"

#define SPOOL_MAX	(64u << 20)	/* record bytes that end a batch */
#define SPOOL_MAP	(2u << 20)	/* bytes of a spool file kept mapped */
#define SPOOL_BUF	(1u << 20)	/* the buffer for bytes beyond them */
#define BACKOFF_MAX	60000		/* ms: the longest backoff */
#define EX_TEMPFAIL	75		/* "transient": never set aside */
#define PROGRESS_NS	250000000LL
#define CK_INTERVAL_NS	50000000L	/* checkpoint writes, at most one per */

extern char **environ;

/* What one consumer does: from the command line or a -c file. */
struct consumer {
	const char	*log;
	const char	*name;
	char	       **argv;
	struct sl_fmt	 fmt;
	uint64_t	 batch;
	int		 follow;
	const char	*start;		/* -o: a new consumer's start */
	unsigned	 retries;
	unsigned	 delay;		/* ms before the first retry */
	const char	*deadletter;
	int		 progress;
};

/*
 * The checkpoint writer, a thread that makes the applied position durable
 * while the main thread goes on reading and applying, so that the fsyncs
 * of each checkpoint overlap with work.  Commits coalesce, into one write
 * per CK_INTERVAL_NS at most unless ckdrain() waits: the file trails the
 * applied position by at most that and the write in progress, never leads
 * it.
 */
struct ckwriter {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* on CLOCK_MONOTONIC */
	pthread_t	 th;
	const char	*log, *name, *id;
	uint64_t	 want, done;
	struct timespec	 next;		/* no write before this, unless urgent */
	int		 urgent;	/* ckdrain waits: write at once */
	int		 err, quit, running;
};

/* A consumer at work. */
struct run {
	const struct consumer *c;
	sl_reader	*rd;
	sl_writer	*dl;
	struct sl_settings set;
	uint64_t	 ckpt;		/* next offset to apply */
	uint64_t	 at;		/* reader's next offset, or MAX */
	uint64_t	 applied;	/* records applied by this process */
	char		*path;		/* the command, found in PATH */
	int		 lock;		/* the consumer's lock */
	int		 watching;
	struct timespec	 t0, tshown;
	int		 shown;
	struct ckwriter	 ck;
	char	       **envp;		/* the command's environment */
	char		 envfirst[40];	/* LOGAPPLY_FIRST=, in envp */
	char		 envlast[40];	/* LOGAPPLY_LAST= */
};

/*
 * A spool file: an anonymous memory file whose first SPOOL_MAP bytes stay
 * mapped from batch to batch, so that records are formatted straight into
 * its pages; a batch longer than that goes on through a buffer and
 * pwrite(2).  The command gets a read-only descriptor of its own.
 */
struct spfile {
	int		 fd;
	int		 rfd;		/* the command's stdin */
	unsigned char	*map;
	size_t		 size;		/* the file's size */
	size_t		 off;		/* bytes spooled */
	int		 inmap;		/* bytes still go into the map */
	unsigned char	*buf;		/* beyond the map */
	size_t		 bufcap;
};

/* One batch, spooled. */
struct spool {
	struct spfile	*f;
	uint64_t	 first, last, n;
	int		 rerr;		/* reader failed after these */
	int		 rerrno;	/* with errno */
};

enum { OK, FAILED, STOPPED };

#define POOL_MAX	4
static struct spfile *pool[POOL_MAX];	/* spool files free for reuse */
static int	 npool;

static volatile sig_atomic_t stopping;
static int	 sigpipe[2] = { -1, -1 };
static sigset_t	 origmask;	/* restored when handlers are set */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: logapply [-01BfJqY] [-b count] [-D delim] [-d deadlog] "
	    "[-F template]\n"
	    "                [-K delim] [-o spec] [-R ms] [-r retries] "
	    "log name [--]\n"
	    "                command [arg ...]\n"
	    "       logapply [-1fq] [-b count] [-o spec] [-R ms] [-r retries] "
	    "-c file\n");
}

static uint64_t
number_arg(const char *s, const char *what, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (sl_parse_u64(s, 0, &v) < 0 || v < min || v > max)
		errx(2, "%s: invalid %s", s, what);
	return v;
}

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
static int
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

static long long
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

static void *
ckthread(void *arg)
{
	struct ckwriter *w = arg;
	struct timespec now;
	uint64_t off;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->want == w->done && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->want == w->done)
			break;
		/* Commits coming faster than CK_INTERVAL_NS are gathered into
		 * one write, unless someone waits for it. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!w->urgent && !w->quit && elapsed_ns(&now, &w->next) > 0) {
			pthread_cond_timedwait(&w->cv, &w->mu, &w->next);
			continue;
		}
		off = w->want;
		pthread_mutex_unlock(&w->mu);
		rc = sl_checkpoint_write(w->log, w->name, w->id, off);
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_lock(&w->mu);
		if (rc == -1) {
			w->err = errno;
			pthread_cond_broadcast(&w->cv);
			break;
		}
		w->done = off;
		w->next = now;
		w->next.tv_nsec += CK_INTERVAL_NS;
		if (w->next.tv_nsec >= 1000000000L) {
			w->next.tv_sec++;
			w->next.tv_nsec -= 1000000000L;
		}
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Wait until the checkpoint file holds every commit; 0 or an errno. */
static int
ckdrain(struct ckwriter *w)
{
	int e;

	if (!w->running)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->urgent = 1;
	pthread_cond_broadcast(&w->cv);
	while (w->err == 0 && w->done != w->want)
		pthread_cond_wait(&w->cv, &w->mu);
	w->urgent = 0;
	e = w->err;
	pthread_mutex_unlock(&w->mu);
	return e;
}

/* Stop this consumer with STATUS and a message about it. */
static void __attribute__((noreturn, format(printf, 3, 4)))
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

/* Start the checkpoint writer with signals blocked: main handles them. */
static void
ckstart(struct run *r)
{
	struct ckwriter *w = &r->ck;
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	w->log = r->c->log;
	w->name = r->c->name;
	w->id = r->set.id;
	w->want = w->done = r->ckpt;
	if ((e = pthread_mutex_init(&w->mu, NULL)) != 0 ||
	    (e = pthread_condattr_init(&ca)) != 0 ||
	    (e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (e = pthread_cond_init(&w->cv, &ca)) != 0)
		die(r, 2, "pthread: %s", strerror(e));
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&w->th, NULL, ckthread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		die(r, 2, "pthread_create: %s", strerror(e));
	w->running = 1;
}

/* Make every commit durable, then stop the writer. */
static void
ckstop(struct run *r)
{
	struct ckwriter *w = &r->ck;
	int e;

	if (!w->running)
		return;
	if ((e = ckdrain(w)) != 0)
		die(r, 2, "checkpoint: %s", strerror(e));
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	w->running = 0;
}

static void
ckfail(struct run *r)
{
	die(r, 2, "checkpoint: %s", strerror(r->ck.err));
}

/* The batch up to NEXT is applied: hand the checkpoint to the writer. */
static void
commit(struct run *r, uint64_t next)
{
	struct ckwriter *w = &r->ck;

	r->ckpt = next;
	if (!w->running) {
		if (sl_checkpoint_write(r->c->log, r->c->name, r->set.id,
		    next) == -1)
			die(r, 2, "checkpoint: %s", strerror(errno));
		return;
	}
	pthread_mutex_lock(&w->mu);
	if (w->err != 0) {
		pthread_mutex_unlock(&w->mu);
		ckfail(r);
	}
	/* With a commit pending already, the writer is busy or waits for its
	 * interval to end, and takes the latest then: no need to wake it. */
	if (w->want == w->done)
		pthread_cond_broadcast(&w->cv);
	w->want = next;
	pthread_mutex_unlock(&w->mu);
}

/* A spool file from the pool, or a new one. */
static struct spfile *
spfile(struct run *r)
{
	struct spfile *f;
	char path[64];

	if (npool > 0)
		return pool[--npool];
	if ((f = calloc(1, sizeof *f)) == NULL)
		die(r, 2, "%s", strerror(errno));
	if ((f->fd = memfd_create("logapply", MFD_CLOEXEC)) == -1)
		die(r, 2, "memfd_create: %s", strerror(errno));
	if (ftruncate(f->fd, SPOOL_MAP) == -1)
		die(r, 2, "spool: %s", strerror(errno));
	f->size = SPOOL_MAP;
	if ((f->map = mmap(NULL, SPOOL_MAP, PROT_READ | PROT_WRITE,
	    MAP_SHARED, f->fd, 0)) == MAP_FAILED)
		die(r, 2, "spool: mmap: %s", strerror(errno));
	/* Read-only, so that no command (or a process it leaves behind)
	 * can shorten the file under the map; without /proc, the file. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", f->fd);
	if ((f->rfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		f->rfd = f->fd;
	return f;
}

static void
spclose(struct spfile *f)
{
	if (f->rfd != f->fd)
		close(f->rfd);
	close(f->fd);
	munmap(f->map, SPOOL_MAP);
	free(f->buf);
	free(f);
}

/*
 * sl_out's sink: the map while the batch fits in it (the bytes are in
 * place already), then a buffer that is written at the end of the file.
 */
static unsigned char *
spsink(void *arg, unsigned char *buf, size_t len, size_t n, size_t *cap)
{
	struct spfile *f = arg;
	unsigned char *nb;
	ssize_t w;
	size_t c;

	if (f->inmap) {
		f->off += len;
		if (SPOOL_MAP - f->off >= n) {
			*cap = SPOOL_MAP - f->off;
			return f->map + f->off;
		}
		f->inmap = 0;
	} else {
		while (len > 0) {
			if ((w = pwrite(f->fd, buf, len, (off_t)f->off)) ==
			    -1) {
				if (errno == EINTR)
					continue;
				return NULL;
			}
			buf += w;
			len -= (size_t)w;
			f->off += (size_t)w;
		}
		if (f->off > f->size)
			f->size = f->off;
	}
	if (f->bufcap < n || f->buf == NULL) {
		c = n > SPOOL_BUF ? n : SPOOL_BUF;
		if ((nb = malloc(c)) == NULL)
			return NULL;
		free(f->buf);
		f->buf = nb;
		f->bufcap = c;
	}
	*cap = f->bufcap;
	return f->buf;
}

/*
 * Spool the records with offsets in [FROM, UPTO], at most MAX of them,
 * into a new memory file.  S->n is 0 when there is none yet; S->rerr is
 * set when the reader failed after S->n good records.
 */
static void
spool(struct run *r, uint64_t from, uint64_t upto, uint64_t max,
    struct spool *s)
{
	/* UPTO is inclusive; UINT64_MAX means no end at all. */
	struct sl_print p = { .end = upto == UINT64_MAX ? UINT64_MAX :
	    upto + 1, .max = max, .maxbytes = SPOOL_MAX };
	struct spfile *f;
	sl_out *out;
	int rc;

	memset(s, 0, sizeof *s);
	if (r->at != from) {
		if (sl_reader_seek(r->rd, from) == -1) {
			s->rerr = 1;
			s->rerrno = errno;
			return;
		}
		r->at = from;
	}
	f = s->f = spfile(r);
	f->off = 0;
	f->inmap = 1;
	/* The map is all writable: the file is at least as long. */
	if (f->size < SPOOL_MAP) {
		if (ftruncate(f->fd, SPOOL_MAP) == -1)
			die(r, 2, "spool: %s", strerror(errno));
		f->size = SPOOL_MAP;
	}
	if ((out = sl_out_open_sink(&r->c->fmt, spsink, f)) == NULL)
		die(r, 2, "spool: %s", strerror(errno));
	if ((rc = sl_reader_print(r->rd, out, &p)) == -2)
		die(r, 2, "spool: %s", strerror(errno));
	if (rc == -1) {
		s->rerr = 1;
		s->rerrno = errno;
		r->at = UINT64_MAX;
	} else if (p.n > 0)
		r->at = p.last + 1;	/* what the reader returns next */
	s->n = p.n;
	s->first = p.first;
	s->last = p.last;
	if (sl_out_close(out) == -1)
		die(r, 2, "spool: %s", strerror(errno));
	/* The command reads to the end of the file: the batch, exactly. */
	if (f->size != f->off) {
		if (ftruncate(f->fd, (off_t)f->off) == -1)
			die(r, 2, "spool: %s", strerror(errno));
		f->size = f->off;
	}
	free(f->buf);
	f->buf = NULL;
	f->bufcap = 0;
}

/*
 * Done with a spool, whose command has exited: keep its file for a later
 * batch, whose pages it then reuses.
 */
static void
unspool(struct spool *s)
{
	if (s->f == NULL)
		return;
	if (npool < POOL_MAX)
		pool[npool++] = s->f;
	else
		spclose(s->f);
	s->f = NULL;
}

/*
 * The command's environment, made once: ours without any LOGAPPLY_
 * variable, then the consumer's; spawn() rewrites FIRST and LAST in place.
 * No setenv(3) per batch: it would keep every value it was ever given.
 */
static void
mkenv(struct run *r)
{
	static const char *const ours[] = { "LOGAPPLY_CONSUMER=",
	    "LOGAPPLY_LOG=", "LOGAPPLY_LOG_ID=", "LOGAPPLY_FIRST=",
	    "LOGAPPLY_LAST=", NULL };
	size_t n = 0, i, k;

	while (environ[n] != NULL)
		n++;
	if ((r->envp = calloc(n + 6, sizeof *r->envp)) == NULL)
		die(r, 2, "%s", strerror(errno));
	for (i = k = 0; i < n; i++) {
		size_t j;

		for (j = 0; ours[j] != NULL; j++)
			if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
				break;
		if (ours[j] == NULL)
			r->envp[k++] = environ[i];
	}
	if (asprintf(&r->envp[k++], "LOGAPPLY_CONSUMER=%s", r->c->name) ==
	    -1 ||
	    asprintf(&r->envp[k++], "LOGAPPLY_LOG=%s", r->c->log) == -1 ||
	    asprintf(&r->envp[k++], "LOGAPPLY_LOG_ID=%s", r->set.id) == -1)
		die(r, 2, "%s", strerror(errno));
	r->envp[k++] = r->envfirst;
	r->envp[k++] = r->envlast;
	r->envp[k] = NULL;
}

static void
freeenv(struct run *r)
{
	size_t i;

	if (r->envp == NULL)
		return;
	for (i = 0; r->envp[i] != r->envfirst; i++)
		;
	/* The three that mkenv() allocated come just before. */
	free(r->envp[i - 1]);
	free(r->envp[i - 2]);
	free(r->envp[i - 3]);
	free(r->envp);
	r->envp = NULL;
}

/*
 * Start the command on spool S.  It gets its own process group, so that a
 * ^C meant for logapply lets it finish the batch.  It also inherits the
 * consumer's lock: if logapply is killed, the command may still be
 * applying its batch, and no other logapply may start on the consumer
 * until it is done.
 *
 * vfork(2), as posix_spawn(3) does, without what glibc's adds per call (a
 * stack mapped and unmapped, which costs the checkpoint thread a TLB
 * shootdown, and a sigaction(2) for each of the 64 signals): the child
 * shares our memory until it execs, so it makes only system calls, with
 * every signal blocked until the two we catch are back to their default.
 * Its copy of the descriptor table and of the handlers is its own.
 */
static pid_t
spawn(struct run *r, struct spool *s)
{
	struct sigaction dfl;
	sigset_t all, old;
	volatile int e = 0;	/* the child's errno, in our memory */
	pid_t pid;
	int fd = s->f->rfd, lk = r->lock;

	if (lseek(fd, 0, SEEK_SET) == -1)
		die(r, 2, "spool: %s", strerror(errno));
	snprintf(r->envfirst, sizeof r->envfirst, "LOGAPPLY_FIRST=%" PRIu64,
	    s->first);
	snprintf(r->envlast, sizeof r->envlast, "LOGAPPLY_LAST=%" PRIu64,
	    s->last);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((pid = vfork()) == 0) {
		if (sigaction(SIGINT, &dfl, NULL) == -1 ||
		    sigaction(SIGTERM, &dfl, NULL) == -1 ||
		    setpgid(0, 0) == -1 || dup2(fd, STDIN_FILENO) == -1 ||
		    fcntl(lk, F_SETFD, 0) == -1 ||
		    sigprocmask(SIG_SETMASK, &old, NULL) == -1) {
			e = errno;
			_exit(127);
		}
		execve(r->path, r->c->argv, r->envp);
		e = errno;
		_exit(127);
	}
	if (pid == -1)
		e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		if (pid > 0)
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
		die(r, 2, "%s: %s", r->c->argv[0], strerror(e));
	}
	return pid;
}

/*
 * Wait for the command: OK when it exited 0; otherwise FAILED with a
 * description in WHY and *TEMP set for EX_TEMPFAIL.
 */
static int
reap(struct run *r, pid_t pid, char *why, size_t len, int *temp)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			die(r, 2, "waitpid: %s", strerror(errno));
	*temp = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return OK;
	if (WIFEXITED(st)) {
		*temp = WEXITSTATUS(st) == EX_TEMPFAIL;
		snprintf(why, len, "exit status %d", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st))
		snprintf(why, len, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		snprintf(why, len, "wait status %#x", st);
	return FAILED;
}

/*
 * Up to TRIES runs, with exponential backoff before each but the first
 * (and before the first too when FAILED already); STOPPED on a signal.
 */
static int
attempt(struct run *r, struct spool *s, unsigned tries, int failed,
    char *why, size_t len, int *temp)
{
	unsigned delay = r->c->delay;
	unsigned i;

	for (i = 0; i < tries; i++) {
		if (i > 0 || failed) {
			if (stopping)
				return STOPPED;
			sleep_or_signal(-1, (int)delay);
			if (stopping)
				return STOPPED;
			delay = delay > BACKOFF_MAX / 2 ? BACKOFF_MAX :
			    delay * 2;
		}
		if (reap(r, spawn(r, s), why, len, temp) == OK)
			return OK;
	}
	return FAILED;
}

static void
header(struct sl_header *h, const char *name, const char *value)
{
	h->name = (const unsigned char *)name;
	h->namelen = strlen(name);
	h->value = (const unsigned char *)value;
	h->valuelen = strlen(value);
}

/*
 * Append the record at OFFSET to the dead-letter log, durably, with
 * headers saying where it came from and why it failed.
 */
static void
deadletter(struct run *r, uint64_t offset, const char *why)
{
	struct sl_record rec, dead;
	struct sl_header *h;
	char off[24];
	uint64_t first;
	int rc;

	if (sl_reader_seek(r->rd, offset) == -1 ||
	    (rc = sl_reader_next(r->rd, &rec)) == -1)
		die(r, 1, "%s", sl_reader_error(r->rd));
	if (rc == 0 || rec.offset != offset)
		die(r, 1, "record %" PRIu64 " vanished", offset);
	r->at = offset + 1;
	if ((h = calloc(rec.nheaders + 5, sizeof *h)) == NULL)
		die(r, 2, "%s", strerror(errno));
	if (rec.nheaders > 0)
		memcpy(h, rec.headers, rec.nheaders * sizeof *h);
	snprintf(off, sizeof off, "%" PRIu64, offset);
	header(&h[rec.nheaders], "logapply.log", r->c->log);
	header(&h[rec.nheaders + 1], "logapply.log_id", r->set.id);
	header(&h[rec.nheaders + 2], "logapply.offset", off);
	header(&h[rec.nheaders + 3], "logapply.consumer", r->c->name);
	header(&h[rec.nheaders + 4], "logapply.error", why);
	dead = rec;
	dead.headers = h;
	dead.nheaders = rec.nheaders + 5;
	if (sl_writer_add(r->dl, &dead) == -1 ||
	    sl_writer_commit(r->dl, SL_NO_OFFSET, &first) == -1)
		die(r, errno == EMSGSIZE ? 1 : 2, "dead letter %s: %s",
		    r->c->deadletter, errno == EMSGSIZE ?
		    "record too large" : sl_writer_error(r->dl));
	free(h);
	warnx("%s: %s: offset %" PRIu64 " failed (%s); appended to %s at "
	    "offset %" PRIu64, r->c->log, r->c->name, offset, why,
	    r->c->deadletter, first);
}

static void
range_msg(char *buf, size_t len, const struct spool *s)
{
	if (s->first == s->last)
		snprintf(buf, len, "offset %" PRIu64, s->first);
	else
		snprintf(buf, len, "offsets %" PRIu64 "-%" PRIu64, s->first,
		    s->last);
}

/*
 * Apply spool S: run it with retries; when it still fails and there is a
 * dead-letter log, split it in halves until the records that fail alone
 * are found, apply the others and set those aside.  TOP: S is a whole
 * batch, tried as often as a single record.  DONE: S ran and failed once
 * already (with WHY and TEMP).
 */
static int
settle(struct run *r, struct spool *s, int top, int done, char *why,
    size_t len, int temp)
{
	struct spool h;
	uint64_t mid, lo, hi;
	char where[64];
	unsigned tries;
	int rc = FAILED, half;

	tries = top || s->n == 1 ? r->c->retries + 1 : 1;
	if ((unsigned)done < tries && (rc = attempt(r, s, tries - done, done,
	    why, len, &temp)) == OK) {
		r->applied += s->n;
		commit(r, s->last + 1);
		return OK;
	}
	range_msg(where, sizeof where, s);
	if (rc == STOPPED) {
		/* A signal came during the backoff, after a failure. */
		warnx("%s: %s: command failed on %s (%s); stopping",
		    r->c->log, r->c->name, where, why);
		return STOPPED;
	}
	if (r->dl == NULL || temp)
		die(r, 1, "command failed on %s (%s)%s", where, why,
		    temp ? "; a transient failure is never set aside" : "");
	if (s->n == 1) {
		deadletter(r, s->first, why);
		commit(r, s->last + 1);
		return OK;
	}
	mid = s->first + (s->last - s->first) / 2;
	for (half = 0; half < 2; half++) {
		if (stopping)
			return STOPPED;
		lo = half ? mid + 1 : s->first;
		hi = half ? s->last : mid;
		spool(r, lo, hi, UINT64_MAX, &h);
		if (h.rerr)
			die(r, h.rerrno == EBADMSG ? 1 : 2, "%s",
			    sl_reader_error(r->rd));
		rc = h.n > 0 ? settle(r, &h, 0, 0, why, len, 0) : OK;
		unspool(&h);
		if (rc != OK)
			return rc;
	}
	return OK;
}

/*
 * Apply batch CUR and spool the next one into NXT while its command
 * runs, so that reading the log and applying it overlap.
 */
static int
apply(struct run *r, struct spool *cur, struct spool *nxt)
{
	char why[128];
	uint64_t at;
	pid_t pid;
	int rc, temp;

	pid = spawn(r, cur);
	memset(nxt, 0, sizeof *nxt);
	if (!cur->rerr && !stopping)
		spool(r, cur->last + 1, UINT64_MAX, r->c->batch, nxt);
	if (reap(r, pid, why, sizeof why, &temp) == OK) {
		r->applied += cur->n;
		commit(r, cur->last + 1);
		return OK;
	}
	at = r->at;
	rc = settle(r, cur, 1, 1, why, sizeof why, temp);
	if (r->at != at)
		r->at = UINT64_MAX;	/* the next spool seeks back */
	return rc;
}

/* Wait for the log to grow; 0 when a signal asks to stop. */
static int
wait_for_more(struct run *r)
{
	int fd;

	if ((fd = sl_reader_fd(r->rd)) == -1)
		die(r, 2, "%s", sl_reader_error(r->rd));
	if (!r->watching) {
		/* The watch is new: read once more before sleeping. */
		r->watching = 1;
		return !stopping;
	}
	if (sleep_or_signal(fd, -1) && sl_reader_wait(r->rd, 0) == -1)
		die(r, 2, "%s", sl_reader_error(r->rd));
	return !stopping;
}

/*
 * The program the command runs, searched in PATH once rather than at every
 * batch, as execvp(3) would.
 */
static char *
findprog(const char *prog)
{
	const char *path, *p, *q;
	char *buf;
	size_t len;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == -1 ? NULL : strdup(prog);
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (p = path; ; p = q + 1) {
		q = strchrnul(p, ':');
		len = q == p ? 1 : (size_t)(q - p);
		if ((buf = malloc(len + strlen(prog) + 2)) == NULL)
			return NULL;
		sprintf(buf, "%.*s/%s", (int)len, q == p ? "." : p, prog);
		if (access(buf, X_OK) == 0)
			return buf;
		free(buf);
		if (*q == '\0')
			break;
	}
	errno = ENOENT;
	return NULL;
}

/* Open the log, take the consumer, find where it starts. */
static void
start(struct run *r)
{
	const struct consumer *c = r->c;
	struct sl_checkpoint ck;
	struct sl_spec spec;
	struct stat st;
	uint64_t end, off;
	int lk;

	if ((r->path = findprog(c->argv[0])) == NULL)
		die(r, 2, "%s: %s", c->argv[0], errno == ENOENT &&
		    strchr(c->argv[0], '/') == NULL ? "command not found" :
		    strerror(errno));
	if ((r->rd = sl_reader_open(c->log)) == NULL)
		errx(2, "%s", sl_open_error());
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
	if (sl_reader_bounds(r->rd, NULL, &end) == -1) {
		/* Damage before the end hides where the log ends: apply what
		 * is good, and the reader stops with exit 1 at the damage. */
		if (errno != EBADMSG)
			die(r, 2, "%s", sl_reader_error(r->rd));
		end = UINT64_MAX;
	}
	if (sl_checkpoint_read(c->log, c->name, r->set.id, &ck) == 0) {
		if (ck.offset > end)
			die(r, 1, "checkpoint %" PRIu64 " is beyond the end of "
			    "the log (%" PRIu64 "): the log lost records or "
			    "was replaced; check it with logfsck, then set "
			    "the checkpoint with logcheckpoint -s",
			    ck.offset, end);
		r->ckpt = ck.offset;
	} else if (errno == EBADMSG)
		die(r, 1, "damaged checkpoint (%s); set it with "
		    "logcheckpoint -s", ck.damage);
	else if (errno == ESTALE)
		die(r, 1, "checkpoint belongs to another log (id %s, this "
		    "log is %s); set it with logcheckpoint -s", ck.id,
		    r->set.id);
	else if (errno != ENOENT)
		die(r, 2, "checkpoint: %s", strerror(errno));
	else {
		if (sl_spec_parse(c->start, sl_now_ms(), &spec) == -1)
			die(r, 2, "%s: invalid offset specification",
			    c->start);
		if (sl_reader_resolve(r->rd, &spec, &off) == -1)
			die(r, 2, "%s", sl_reader_error(r->rd));
		if (off > end)
			die(r, 2, "start offset %" PRIu64 " is beyond the end "
			    "of the log (%" PRIu64 ")", off, end);
		commit(r, off);
	}
	r->at = UINT64_MAX;
	if (c->deadletter != NULL) {
		if ((r->dl = sl_writer_open(c->deadletter, NULL)) == NULL)
			errx(2, "%s", sl_open_error());
		if (strcmp(sl_writer_settings(r->dl)->id, r->set.id) == 0)
			die(r, 2, "the dead-letter log is the log itself");
	}
	mkenv(r);
}

/* Run consumer C until it is caught up (or forever with follow). */
static int
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
		die(&r, cur.rerrno == EBADMSG ? 1 : 2, "%s",
		    sl_reader_error(r.rd));
	if (r.dl != NULL && sl_writer_close(r.dl) == -1)
		die(&r, 2, "%s: %s", c->deadletter, strerror(errno));
	sl_reader_close(r.rd);
	return 0;
}

/* ---- -c FILE: many consumers, one child each ----------------------- */

static const char *cfgfile;

static void __attribute__((noreturn, format(printf, 2, 3)))
cfgerr(const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errx(2, "%s:%zu:%zu: %s", cfgfile, n->start_mark.line + 1,
	    n->start_mark.column + 1, msg);
}

static const char *
scalar(const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		cfgerr(n, "%s must be a scalar", what);
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
		cfgerr(n, "%s contains a NUL byte", what);
	return (const char *)n->data.scalar.value;
}

static int
boolean(const yaml_node_t *n, const char *what)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char *s = scalar(n, what);
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	cfgerr(n, "%s must be true or false", what);
}

static uint64_t
number(const yaml_node_t *n, const char *what, uint64_t min)
{
	const char *s = scalar(n, what);
	uint64_t v;

	if (sl_parse_u64(s, 0, &v) < 0 || v < min || v > UINT32_MAX)
		cfgerr(n, "%s must be a number from %" PRIu64 " to %" PRIu32,
		    what, min, UINT32_MAX);
	return v;
}

static char **
command(yaml_document_t *d, const yaml_node_t *n)
{
	yaml_node_item_t *it;
	char **argv;
	size_t i = 0;

	if (n->type == YAML_SCALAR_NODE) {
		if ((argv = calloc(4, sizeof *argv)) == NULL)
			err(2, NULL);
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = (char *)scalar(n, "command");
		if (*argv[2] == '\0')
			cfgerr(n, "command is empty");
		return argv;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		cfgerr(n, "command must be a list of arguments or a string");
	it = n->data.sequence.items.start;
	if (it == n->data.sequence.items.top)
		cfgerr(n, "command is empty");
	if ((argv = calloc(n->data.sequence.items.top - it + 1,
	    sizeof *argv)) == NULL)
		err(2, NULL);
	for (; it < n->data.sequence.items.top; it++)
		argv[i++] = (char *)scalar(yaml_document_get_node(d, *it),
		    "an argument");
	return argv;
}

static void
format(struct consumer *c, const yaml_node_t *n)
{
	static const char *const names[] = { "text", "json", "yaml",
	    "binary", NULL };
	static const int opt[] = { 0, 'J', 'Y', 'B' };
	const char *s = scalar(n, "format");
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			break;
	if (names[i] == NULL)
		cfgerr(n, "format must be text, json, yaml or binary");
	sl_fmt_init(&c->fmt);
	c->fmt.logname = c->log;
	if (opt[i] != 0)
		sl_fmt_option(&c->fmt, opt[i], NULL);
}

/* One entry of the consumers list. */
static void
entry(yaml_document_t *d, const yaml_node_t *n, struct consumer *c)
{
	yaml_node_pair_t *p;
	const yaml_node_t *k, *v, *fmtnode = NULL;
	const char *key;

	if (n->type != YAML_MAPPING_NODE)
		cfgerr(n, "a consumer must be a mapping");
	c->log = c->name = NULL;
	c->argv = NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(d, p->key);
		v = yaml_document_get_node(d, p->value);
		key = scalar(k, "a key");
		if (strcmp(key, "name") == 0) {
			c->name = scalar(v, "name");
			if (!sl_consumer_name_ok(c->name))
				cfgerr(v, "%s: invalid consumer name", c->name);
		} else if (strcmp(key, "log") == 0) {
			c->log = scalar(v, "log");
			if (*c->log == '\0')
				cfgerr(v, "log is empty");
		} else if (strcmp(key, "command") == 0)
			c->argv = command(d, v);
		else if (strcmp(key, "batch") == 0)
			c->batch = number(v, "batch", 1);
		else if (strcmp(key, "format") == 0)
			fmtnode = v;
		else if (strcmp(key, "follow") == 0)
			c->follow = boolean(v, "follow");
		else if (strcmp(key, "offset") == 0)
			c->start = scalar(v, "offset");
		else if (strcmp(key, "retries") == 0)
			c->retries = number(v, "retries", 0);
		else if (strcmp(key, "dead-letter") == 0)
			c->deadletter = scalar(v, "dead-letter");
		else
			cfgerr(k, "unknown key %s", key);
	}
	if (c->name == NULL)
		cfgerr(n, "consumer without a name");
	if (c->log == NULL)
		cfgerr(n, "consumer %s without a log", c->name);
	if (c->argv == NULL)
		cfgerr(n, "consumer %s without a command", c->name);
	if (fmtnode != NULL)
		format(c, fmtnode);
	c->fmt.logname = c->log;
}

/* Parse FILE into *N consumers, each starting as a copy of DEF. */
static struct consumer *
config(const char *file, const struct consumer *def, size_t *n)
{
	static yaml_document_t doc;	/* its strings live until exit */
	yaml_parser_t parser;
	yaml_node_t *root, *k, *v = NULL, *item;
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	struct consumer *cs;
	size_t i, j;
	FILE *f;

	cfgfile = file;
	if ((f = fopen(file, "r")) == NULL)
		err(2, "%s", file);
	if (!yaml_parser_initialize(&parser))
		errx(2, "%s: out of memory", file);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc))
		errx(2, "%s:%zu:%zu: %s%s%s", file,
		    parser.problem_mark.line + 1,
		    parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "invalid YAML",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
	yaml_parser_delete(&parser);
	fclose(f);
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		errx(2, "%s: empty file", file);
	if (root->type != YAML_MAPPING_NODE)
		cfgerr(root, "the top level must be a mapping with consumers");
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&doc, p->key);
		if (strcmp(scalar(k, "a key"), "consumers") != 0)
			cfgerr(k, "unknown key %s", scalar(k, "a key"));
		v = yaml_document_get_node(&doc, p->value);
	}
	if (v == NULL)
		cfgerr(root, "no consumers");
	if (v->type != YAML_SEQUENCE_NODE)
		cfgerr(v, "consumers must be a list");
	it = v->data.sequence.items.start;
	*n = v->data.sequence.items.top - it;
	if (*n == 0)
		cfgerr(v, "no consumers");
	if ((cs = calloc(*n, sizeof *cs)) == NULL)
		err(2, NULL);
	for (i = 0; i < *n; i++) {
		item = yaml_document_get_node(&doc, it[i]);
		cs[i] = *def;
		entry(&doc, item, &cs[i]);
		for (j = 0; j < i; j++)
			if (strcmp(cs[j].name, cs[i].name) == 0 &&
			    strcmp(cs[j].log, cs[i].log) == 0)
				cfgerr(item, "consumer %s of %s is defined "
				    "twice", cs[i].name, cs[i].log);
	}
	return cs;
}

static struct consumer *cs;	/* global: reachable in every child */
static size_t ncs;
static pid_t *children;
static size_t nchildren;

static void
forward(int sig)
{
	size_t i;
	int e = errno;

	for (i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], sig);
	errno = e;
}

/* Run every consumer of FILE at once; the worst status of them all. */
static int
run_config(const char *file, const struct consumer *def)
{
	struct sigaction sa;
	sigset_t block;
	size_t n, i, left;
	pid_t pid;
	int st, rval = 0, code;

	cs = config(file, def, &n);
	ncs = n;
	if ((children = calloc(n, sizeof *children)) == NULL)
		err(2, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	fflush(stdout);
	fflush(stderr);
	/* No signal before each process has its handlers in place. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &origmask);
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			warn("fork");
			rval = 2;
			break;
		}
		if (pid == 0)
			exit(consume(&cs[i]));
		children[i] = pid;
		nchildren = i + 1;
	}
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		err(2, "sigaction");
	sigprocmask(SIG_SETMASK, &origmask, NULL);
	for (left = nchildren; left > 0; left--) {
		while ((pid = wait(&st)) == -1)
			if (errno != EINTR)
				err(2, "wait");
		for (i = 0; i < nchildren && children[i] != pid; i++)
			;
		if (i < nchildren)
			children[i] = 0;
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
		if (WIFSIGNALED(st))
			warnx("%s: %s: killed by signal %d", cs[i].log,
			    cs[i].name, WTERMSIG(st));
		if (code > rval)
			rval = code > 2 ? 2 : code;
	}
	for (i = 0; i < ncs; i++)
		free(cs[i].argv);
	free(cs);
	free(children);
	return rval;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "one",		no_argument,		NULL, '1' },
		{ "retry-delay",	required_argument,	NULL, 'R' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "batch",		required_argument,	NULL, 'b' },
		{ "config",		required_argument,	NULL, 'c' },
		{ "dead-letter",	required_argument,	NULL, 'd' },
		{ "follow",		no_argument,		NULL, 'f' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "offset",		required_argument,	NULL, 'o' },
		{ "quiet",		no_argument,		NULL, 'q' },
		{ "retries",		required_argument,	NULL, 'r' },
		SL_FMT_LONGOPTS,
		{ NULL,			0,			NULL, 0 }
	};
	struct consumer c;
	struct sl_spec spec;
	const char *cfg = NULL;
	int64_t delay;
	int ch, quiet = 0, fmtset = 0;

	sigprocmask(SIG_SETMASK, NULL, &origmask);
	memset(&c, 0, sizeof c);
	sl_fmt_init(&c.fmt);
	c.batch = 1000;
	c.start = "beginning";
	c.delay = 100;
	if (sl_guard_stdio() < 0)
		err(2, "/dev/null");
	while ((ch = getopt_long(argc, argv, "+01BD:F:JK:R:VYb:c:d:fho:qr:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case '0':
		case 'B':
		case 'D':
		case 'F':
		case 'J':
		case 'K':
		case 'Y':
			if (sl_fmt_option(&c.fmt, ch, optarg) == -1)
				errx(2, "%s: invalid delimiter", optarg);
			fmtset = 1;
			break;
		case '1':
			c.batch = 1;
			break;
		case 'R':
			if (sl_duration_parse(optarg, 1, &delay) < 0 ||
			    delay > BACKOFF_MAX)
				errx(2, "%s: invalid delay", optarg);
			c.delay = (unsigned)delay;
			break;
		case 'V':
			printf("logapply synclog %s\n", SL_VERSION);
			return 0;
		case 'b':
			c.batch = number_arg(optarg, "batch size", 1,
			    UINT32_MAX);
			break;
		case 'c':
			cfg = optarg;
			break;
		case 'd':
			c.deadletter = optarg;
			break;
		case 'f':
			c.follow = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'o':
			c.start = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'r':
			c.retries = (unsigned)number_arg(optarg, "retry count",
			    0, 1000000);
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (sl_spec_parse(c.start, sl_now_ms(), &spec) == -1)
		errx(2, "%s: invalid offset specification", c.start);
	if (cfg != NULL) {
		if (argc != 0 || fmtset || c.deadletter != NULL) {
			usage(stderr);
			return 2;
		}
		return run_config(cfg, &c);
	}
	if (argc >= 3 && strcmp(argv[2], "--") == 0) {
		argv[2] = argv[1];
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	if (argc < 3) {
		usage(stderr);
		return 2;
	}
	c.log = argv[0];
	c.name = argv[1];
	c.argv = argv + 2;
	c.fmt.logname = c.log;
	if (!sl_consumer_name_ok(c.name))
		errx(2, "%s: invalid consumer name (use letters, digits, '.', "
		    "'_' and '-', not starting with '.')", c.name);
	c.progress = !quiet && isatty(STDERR_FILENO);
	return consume(&c);
}
