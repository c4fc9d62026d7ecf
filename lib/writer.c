/*
 * writer.c - the append path: records are encoded into a pending batch;
 * a commit takes the log's flock, catches up with whatever other writers
 * appended, writes the batch with one pwrite at the end of the active
 * segment, fdatasyncs it, and only then reports its offsets.
 *
 * Invariants kept under the lock:
 * - segend is the byte after the last valid batch of the active segment,
 *   next the offset after its last record; both are re-checked against the
 *   file at every commit, so concurrent writers interleave whole batches.
 * - An incomplete tail (torn, zeroed, garbage, with nothing valid after
 *   it) is truncated before anything is written after it; damage followed
 *   by a valid batch is corruption and is refused, never truncated.
 * - A failed fdatasync makes the writer unusable: nothing it wrote since
 *   the last good sync may be reported durable, and no fdatasync follows
 *   it.
 * - A batch is written only after the one before it was synced (in the
 *   durable mode), so that a power cut can damage only the last batch of
 *   the log: damage followed by a valid batch is then never a crash's
 *   doing, and is refused as corruption.
 * - A segment is created (O_EXCL, directory fsync) only after the previous
 *   one's last batch was synced, so only the last segment can have a tail
 *   to recover.  Every writer syncs the old segment when it rotates,
 *   whatever its own mode, unless its own sync covered the segment to its
 *   end: the last batch may be another process's, written with -N.  A
 *   durable writer that moves on to a segment another writer made syncs
 *   the directory before it acknowledges a batch there: the other may
 *   have used -N, which syncs no directory.
 *
 * A batch can also be committed in the background (sl_writer_submit): a
 * thread of the writer's, started at the first, takes it through the same
 * steps while the caller fills the next one, so that encoding overlaps the
 * write and the sync.  Batches are committed one at a time, in the order
 * they were handed over: one in flight and at most one queued behind it,
 * which the thread takes as soon as the one before is synced (with no
 * wake-up of the caller's in between), and never after a failure.  There
 * are two batch buffers: the caller gets the one of a finished batch back
 * when it collects that batch (sl_writer_wait).  The thread owns
 * everything but the filling batch and the settings while anything is
 * outstanding; the queue, the results and the spare buffer are under the
 * mutex.  With -N, a third thread hands the disk what the committer
 * wrote (writeback()); it shares only its own few fields, under wmu.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "log.h"

#define WRITEBACK	(4u << 20)	/* -N: hand the disk this much at once */
#define ROTATE_LEFT	(2 * WRITEBACK)	/* -N: rotate with no more unwritten */
#define LEFTOVER	(1u << 20)	/* allocated past the end: a reservation */

/* A batch: header room, then the encoded records. */
struct pending {
	unsigned char	*buf;
	size_t		 cap, paylen, npend;
	int64_t		 first_ts, max_ts;
	uint32_t	 paycrc;	/* the payload's CRC, if paycrc_set */
	int		 paycrc_set;
	/* sl_writer_add_at's batch: its records' first and last offsets,
	 * which the commit keeps (gaps and all) instead of the log's next. */
	int		 at;
	uint64_t	 base, last;
};

struct sl_writer {
	char		*dir;
	int		 lockfd;
	struct sl_settings set;
	size_t		 limit;
	int		 nosync, compress, broken;
	int		 dirsync;	/* sync the directory before acking */
	uint64_t	 sbase, send;	/* segment and bytes known synced */
	uint64_t	 wbbase, wbend;	/* -N: segment and bytes handed to disk */
	unsigned	 wbgen;		/* -N: the seggen of wbbase */
	int		 nowb;		/* -N: the file system cannot */
	/* -N: space reserved up to rsvend (0: not yet) in the segment of
	 * seggen rsvgen, which this writer found at rsvfrom bytes. */
	uint64_t	 rsvfrom, rsvend;
	unsigned	 rsvgen;
	/* -N: when the full segment, of seggen rgen, was last seen not
	 * ready to close. */
	int64_t		 rlast;
	unsigned	 rgen;
	long		 page;		/* the page size */
	unsigned	 seggen;	/* segments loaded so far */
	/*
	 * -N's write-back thread, which hands the disk what the committer
	 * wrote (see writeback()).  It owns its descriptor of the segment;
	 * the committer hands it a new one in wnextfd, and the range to
	 * write back, [0, wwant) of that segment.  All under wmu.
	 */
	pthread_t	 wthread;
	int		 wrunning;	/* the thread exists (the committer's) */
	unsigned	 wgen;		/* the seggen of the descriptor it was
					 * handed last (the committer's) */
	pthread_mutex_t	 wmu;
	pthread_cond_t	 wcv;
	int		 wnextfd;	/* a new segment's descriptor, or -1 */
	uint64_t	 wnextbase, wbase;	/* its segment, the thread's */
	uint64_t	 wwant;		/* bytes of it to hand over */
	int		 werr;		/* a failure, final: its errno */
	uint64_t	 werrbase;	/* and segment */
	int		 wcannot;	/* the file system cannot */
	int		 wquit;

	int		 segfd, idxfd;	/* active segment and its index */
	uint64_t	 segbase;
	uint64_t	 segend;	/* bytes of valid batches */
	uint64_t	 next;		/* next offset to assign */
	int64_t		 segmax;	/* largest timestamp in the segment */
	int64_t		 seed;		/* largest of the log before it */
	int		 seedok;	/* seed known: index it at byte 0 */
	size_t		 nidx;		/* index entries */
	uint64_t	 idxpos;	/* position of the last entry's batch */
	int		 idxbad;	/* stop indexing after a failed write */
	struct sl_window win;

	struct pending	 fill;		/* sl_writer_add's */
	struct pending	 flight;	/* the committer's */
	/* The background commit: the committer thread, its queue of one
	 * batch, the buffer it gives back, and the results, oldest at
	 * rhead (outstanding: submitted, not yet collected). */
	pthread_t	 thread;
	int		 running;	/* the thread exists */
	pthread_mutex_t	 mu;
	pthread_cond_t	 work, done;
	struct pending	 queued;	/* handed over, not yet taken (mu) */
	int		 nqueued;	/* (mu) */
	int		 quit;		/* (mu) */
	int		 cfailed;	/* a background commit failed (the
					 * thread's, or the caller's without
					 * one) */
	struct pending	 spare;		/* a finished batch's buffer (mu) */
	struct result {
		int	 finished;	/* (mu) */
		int	 rc, err;
		uint64_t first;
		size_t	 n;
	}		 res[2];
	unsigned	 rhead, outstanding;
	unsigned char	*zbuf;
	size_t		 zcap;
	char		 err[768];
};

static void
seterr(sl_writer *w, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	errno = e;
}

/*
 * CALL failed with errno on segment BASE, losing what it was to put on
 * disk: the writer is unusable from now on.  Always -1.
 */
static int
disk_failed(sl_writer *w, const char *call, uint64_t base)
{
	char name[64];
	int e = errno;

	w->broken = 1;
	sl_segment_name(name, sizeof name, base, ".log");
	seterr(w, "%s: %s: %s", name, call, strerror(e));
	errno = e;
	return -1;
}

/*
 * fdatasync FD, a descriptor of segment BASE whose first END bytes are to
 * be durable, unless an earlier sync failed: a failed sync may have
 * dropped the dirty pages, and a retry that succeeds would say nothing
 * about them.  IFNEEDED: not when a sync is known to have covered them.
 */
static int
datasync(sl_writer *w, int fd, uint64_t base, uint64_t end, int ifneeded)
{
	if (w->broken) {
		errno = EIO;
		return -1;
	}
	if (ifneeded && w->sbase == base && w->send >= end)
		return 0;
	if (sl_datasync(fd) < 0)
		return disk_failed(w, "fdatasync", base);
	if (base > w->sbase || (base == w->sbase && end > w->send)) {
		w->sbase = base;
		w->send = end;
	}
	return 0;
}

/*
 * The write-back thread: it hands the disk each range the committer gives
 * it (sync_file_range WRITE), until a call fails or it is told to quit,
 * which it does only once it has made the last hand-over.  That
 * call can block, on a busy disk for milliseconds (a queue full of
 * requests, a page still being written), and it costs the CPU the file
 * system's work of mapping the pages; here it does so beside the
 * committer's writes instead of between them (in `logappend -N` of a
 * million records, 5 to 10 ms of the committer's 55 to 70, perf trace).
 */
static void *
writeback_thread(void *arg)
{
	sl_writer *w = arg;
	uint64_t done = 0, want;
	int fd = -1, r;

	pthread_mutex_lock(&w->wmu);
	for (;;) {
		if (w->wnextfd >= 0) {
			if (fd >= 0)
				close(fd);
			fd = w->wnextfd;
			w->wnextfd = -1;
			w->wbase = w->wnextbase;
			done = 0;
		}
		if (w->wwant <= done) {
			/* Told to quit, it first makes the last hand-over it
			 * was given, so that its error is reported too. */
			if (w->wquit)
				break;
			pthread_cond_wait(&w->wcv, &w->wmu);
			continue;
		}
		want = w->wwant;
		pthread_mutex_unlock(&w->wmu);
		r = sl_writeback(fd, (off_t)done, (off_t)(want - done));
		pthread_mutex_lock(&w->wmu);
		if (r == 0) {
			done = want;
			continue;
		}
		if (r > 0)
			w->wcannot = 1;
		else {
			w->werr = errno;
			w->werrbase = w->wbase;
		}
		break;
	}
	pthread_mutex_unlock(&w->wmu);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * Hand the thread the active segment's first END bytes, starting it
 * first if need be: 0, 1 when there is no thread to do it, or -1 when
 * an earlier hand-over failed.
 */
static int
hand_over(sl_writer *w, uint64_t end)
{
	int fd = -1, r = 0;

	if (!w->wrunning) {
		if (pthread_create(&w->wthread, NULL, writeback_thread, w) != 0)
			return 1;
		w->wrunning = 1;
	}
	if (w->wgen != w->seggen &&
	    (fd = fcntl(w->segfd, F_DUPFD_CLOEXEC, 0)) < 0)
		return 1;
	pthread_mutex_lock(&w->wmu);
	if (w->werr) {
		errno = w->werr;
		r = disk_failed(w, "sync_file_range", w->werrbase);
	} else if (w->wcannot)
		w->nowb = 1;
	else {
		if (fd >= 0) {
			/* One not taken yet is no longer wanted. */
			if (w->wnextfd >= 0)
				close(w->wnextfd);
			w->wnextfd = fd;
			w->wnextbase = w->segbase;
			w->wgen = w->seggen;
			fd = -1;
		}
		w->wwant = end;
		pthread_cond_signal(&w->wcv);
	}
	pthread_mutex_unlock(&w->wmu);
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * -N: start writing the active segment's first END bytes to disk, without
 * waiting, once WRITEBACK bytes have gathered since the last time.  The
 * segment is synced when it rotates; were all its pages still dirty then,
 * that one fdatasync would wait for the whole segment (a third of the
 * time -N took to append a million records, measured), while the disk
 * can as well write them as they come.  The thread above does it, or,
 * without one, the committer.  A trickle is left to the kernel's own
 * writeback.  Only whole pages go: a page handed over half written would
 * be written twice, and the next write to it might wait for the first.
 * An I/O error reported here is final, as a failed sync; one the thread
 * gets is reported at the next batch, or when the writer is closed.
 */
static int
writeback(sl_writer *w, uint64_t end)
{
	if (w->nowb)
		return 0;
	end -= end % (uint64_t)w->page;
	if (w->wbbase != w->segbase || w->wbgen != w->seggen ||
	    w->wbend > end) {
		w->wbbase = w->segbase;
		w->wbgen = w->seggen;
		w->wbend = 0;
	}
	if (end - w->wbend < WRITEBACK)
		return 0;
	switch (hand_over(w, end)) {
	case 0:
		w->wbend = end;
		return 0;
	case -1:
		return -1;
	}
	switch (sl_writeback(w->segfd, (off_t)w->wbend,
	    (off_t)(end - w->wbend))) {
	case 0:
		w->wbend = end;
		return 0;
	case 1:
		w->nowb = 1;
		return 0;
	}
	return disk_failed(w, "sync_file_range", w->segbase);
}

/*
 * -N: reserve the rest of the active segment's space in one piece once
 * this writer has put WRITEBACK bytes in it (fallocate, the file's size
 * left as it is, so that readers see nothing of it).  The file system
 * then allocates the segment's blocks at once rather than page by page as
 * the write-back finds them: `logappend -N` of a million records took
 * 3-7 % less time (bench/README.md).  A writer of a few records does not
 * bother.  The reservation is a hint, and its failure changes nothing (a
 * file system without fallocate, a full disk: the writes will tell).  It
 * takes at most a quarter of the free space, so as never to be the cause
 * of another program's ENOSPC.  What the segment did not fill is given
 * back when the writer closes (release()) or, after a writer was killed,
 * by the next one to load the segment (cut_spare()).
 */
static void
reserve(sl_writer *w, size_t add)
{
	struct statvfs fs;
	uint64_t len;

	if (w->rsvgen != w->seggen) {
		w->rsvgen = w->seggen;
		w->rsvfrom = w->segend;
		w->rsvend = 0;
	}
	if (w->rsvend != 0 || w->segend + add - w->rsvfrom < WRITEBACK)
		return;
	w->rsvend = w->segend + add;	/* tried: none past this batch */
	if (w->segend >= w->set.segment_bytes)
		return;
	len = w->set.segment_bytes - w->segend;
	if (fstatvfs(w->segfd, &fs) < 0 ||
	    (uint64_t)fs.f_bavail * fs.f_frsize / 4 < len)
		return;
	if (fallocate(w->segfd, FALLOC_FL_KEEP_SIZE, (off_t)w->segend,
	    (off_t)len) == 0)
		w->rsvend = w->set.segment_bytes;
}

/*
 * Under the lock: a segment with more space allocated past its end than a
 * file system's rounding explains holds a reservation (reserve()), this
 * writer's, a killed writer's, or a live one's, which goes on without
 * it.  Cut the file at its size, which frees that space.  A failure costs
 * disk space, not data, and the next writer tries again.
 */
static void
cut_spare(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0 || st.st_blocks <= 0 ||
	    (uint64_t)st.st_blocks * 512 <= (uint64_t)st.st_size + LEFTOVER)
		return;
	if (ftruncate(fd, st.st_size) < 0)
		return;
}

/* On close: give back what of this writer's reservation the active
 * segment has not filled. */
static void
release(sl_writer *w)
{
	if (w->segfd < 0 || w->broken || w->rsvgen != w->seggen ||
	    w->rsvend <= w->segend || sl_lock(w->lockfd, LOCK_EX) < 0)
		return;
	cut_spare(w->segfd);
	/* Closing the lock's descriptor, next, unlocks it anyway. */
	if (sl_lock(w->lockfd, LOCK_UN) < 0)
		return;
}

static int
open_in(const sl_writer *w, uint64_t base, const char *suffix, int flags)
{
	char name[64], path[PATH_MAX];

	sl_segment_name(name, sizeof name, base, suffix);
	if ((size_t)snprintf(path, sizeof path, "%s/%s", w->dir, name) >=
	    sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, flags | O_CLOEXEC, 0644);
}

static void
close_segment(sl_writer *w)
{
	if (w->segfd >= 0)
		close(w->segfd);
	if (w->idxfd >= 0)
		close(w->idxfd);
	w->segfd = w->idxfd = -1;
	sl_window_free(&w->win);
}

/* Record an index entry for the batch at POS if one is due: the seed for
 * the first batch, then one every SL_INDEX_INTERVAL bytes (index.c). */
static void
index_batch(sl_writer *w, uint64_t pos, uint64_t base)
{
	struct sl_ientry e = { 0, base, pos, pos == 0 ? w->seed : w->segmax };
	struct sl_ikey k;

	if (w->idxbad || (pos == 0 ? !w->seedok || w->nidx != 0 :
	    pos < w->idxpos || pos - w->idxpos < SL_INDEX_INTERVAL))
		return;
	sl_ikey_init(&k, w->segbase, w->set.id);
	if (sl_index_put(w->idxfd, &k, w->nidx, &e) < 0) {
		/* The index is a cache: stop extending it, keep appending.
		 * Cut a partly written entry so the file stays aligned. */
		w->idxbad = 1;
		if (ftruncate(w->idxfd, (off_t)w->nidx * SL_INDEX_ENTRY) < 0)
			return;
		return;
	}
	w->nidx++;
	w->idxpos = pos;
}

/*
 * Scan the active segment from segend to its end, taking every valid
 * batch; truncate an incomplete tail, refuse damage followed by data.
 */
static int
scan_tail(sl_writer *w)
{
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	uint64_t found;
	char name[64];
	int r;

	for (;;) {
		switch (sl_scan_batch(&w->win, w->segfd, w->segend, w->limit,
		    w->next, &b, &p, &why)) {
		case SL_SCAN_OK:
			index_batch(w, w->segend, b.base);
			w->segend += b.length;
			w->next = b.base + b.last_delta + 1;
			if (b.max_ts > w->segmax)
				w->segmax = b.max_ts;
			continue;
		case SL_SCAN_EOF:
			sl_window_drop(&w->win);
			return 0;
		case SL_SCAN_ERROR:
			seterr(w, "read: %s", strerror(errno));
			return -1;
		case SL_SCAN_SHORT:
		case SL_SCAN_BAD:
			break;
		}
		sl_window_drop(&w->win);
		sl_segment_name(name, sizeof name, w->segbase, ".log");
		r = sl_scan_later(w->segfd, w->segend, w->limit, w->next,
		    &found);
		if (r < 0) {
			seterr(w, "%s: %s", name, strerror(errno));
			return -1;
		}
		if (r > 0) {
			errno = EBADMSG;
			seterr(w, "%s: byte %" PRIu64 ": offset %" PRIu64
			    ": %s, followed by valid data at byte %" PRIu64
			    "; refusing to write, run logfsck", name,
			    w->segend, w->next, why, found);
			return -1;
		}
		if (ftruncate(w->segfd, (off_t)w->segend) < 0 ||
		    (!w->nosync && datasync(w, w->segfd, w->segbase, w->segend,
		    0) < 0)) {
			seterr(w, "%s: truncating torn tail: %s", name,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
}

/*
 * The seed of segment BASE, which W is about to load: on rotation the
 * running maximum, for a new log none, else the index's or, without one
 * (a crash before the first entry, an old or damaged index), the one
 * worked out from the segments before.  1 known, 0 not, -1 error.
 */
static int
find_seed(sl_writer *w, uint64_t base, int create, int *fromidx)
{
	struct sl_ikey k;
	int fd, r;

	*fromidx = 0;
	if (create && w->segfd < 0) {
		w->seed = INT64_MIN;
		return 1;
	}
	if (create) {
		if (w->segmax > w->seed)
			w->seed = w->segmax;
		return w->seedok;
	}
	sl_ikey_init(&k, base, w->set.id);
	if ((fd = open_in(w, base, ".index", O_RDONLY)) >= 0) {
		r = sl_index_seed(fd, &k, &w->seed);
		close(fd);
		if (r != 0) {
			*fromidx = r > 0;
			return r;
		}
	}
	return sl_log_seed(w->dir, w->set.id, w->limit, base, &w->seed);
}

/*
 * Open segment BASE (creating it when CREATE) and find its end, starting
 * from the last index entry that verifies.
 */
static int
load_segment(sl_writer *w, uint64_t base, int create)
{
	struct sl_ientry e;
	struct sl_ikey k;
	char name[64];
	int r, fromidx, flags = O_RDWR | (create ? O_CREAT | O_EXCL : 0);

	sl_segment_name(name, sizeof name, base, ".log");
	if ((r = find_seed(w, base, create, &fromidx)) < 0) {
		seterr(w, "%s: seed: %s", name, strerror(errno));
		return -1;
	}
	w->seedok = r;
	close_segment(w);
	if ((w->segfd = open_in(w, base, ".log", flags)) < 0) {
		seterr(w, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (!create)
		cut_spare(w->segfd);
	if (create && !w->nosync && sl_sync_dir(w->dir) < 0) {
		seterr(w, "directory sync: %s", strerror(errno));
		return -1;
	}
	if ((w->idxfd = open_in(w, base, ".index", O_RDWR | O_CREAT |
	    (create ? O_TRUNC : 0))) < 0) {
		seterr(w, "%s: index: %s", name, strerror(errno));
		return -1;
	}
	w->segbase = base;
	w->seggen++;
	w->segend = 0;
	w->next = base;
	w->segmax = INT64_MIN;
	w->nidx = 0;
	w->idxpos = 0;
	w->idxbad = 0;
	/* An index without the seed it should have is rebuilt. */
	sl_ikey_init(&k, base, w->set.id);
	r = create || (w->seedok && !fromidx) ? 0 :
	    sl_index_find_offset(w->idxfd, w->segfd, &k, w->limit,
	    UINT64_MAX, &e);
	if (r < 0) {
		seterr(w, "%s: index: %s", name, strerror(errno));
		return -1;
	}
	if (r > 0) {
		w->segend = w->idxpos = e.pos;
		w->next = e.offset;
		w->segmax = e.pos == 0 ? INT64_MIN : e.maxts;
		/* Keep entries up to the one found; later ones are stale. */
		w->nidx = e.index + 1;
	}
	if (ftruncate(w->idxfd, (off_t)w->nidx * SL_INDEX_ENTRY) < 0)
		w->idxbad = 1;
	return scan_tail(w);
}

/* Open the last segment of the log, or create the first. */
static int
load_last(sl_writer *w)
{
	uint64_t *bases;
	size_t n;
	int r;

	if (sl_segment_list(w->dir, &bases, &n) < 0) {
		seterr(w, "%s", strerror(errno));
		return -1;
	}
	r = n == 0 ? load_segment(w, 0, 1) : load_segment(w, bases[n - 1], 0);
	free(bases);
	return r;
}

/*
 * Whether the index W extends is no longer in the directory: logfsck
 * --repair renamed a new one over it (or it was removed), and entries
 * added to the old file would be lost.  One fstat: its link count.
 */
static int
index_gone(sl_writer *w)
{
	struct stat st;

	return w->idxfd >= 0 && fstat(w->idxfd, &st) == 0 && st.st_nlink == 0;
}

/*
 * Under the lock: bring segend/next up to date with the files.  Another
 * writer may have appended, rotated, or (logfsck) replaced the segment or
 * its index.
 */
static int
catch_up(sl_writer *w)
{
	struct stat fs, ps;
	char name[64], path[PATH_MAX];
	int fd;

	sl_segment_name(name, sizeof name, w->segbase, ".log");
	snprintf(path, sizeof path, "%s/%s", w->dir, name);
	if (fstat(w->segfd, &fs) < 0) {
		seterr(w, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (stat(path, &ps) < 0 || ps.st_ino != fs.st_ino ||
	    ps.st_dev != fs.st_dev || (uint64_t)fs.st_size < w->segend ||
	    index_gone(w)) {
		if (load_last(w) < 0)
			return -1;
		w->dirsync = 1;
	} else if ((uint64_t)fs.st_size > w->segend) {
		/* Another writer appended: their index entries too. */
		ssize_t n = sl_index_count(w->idxfd);
		struct sl_ientry e;
		struct sl_ikey k;

		sl_ikey_init(&k, w->segbase, w->set.id);
		if (n > 0 && (size_t)n > w->nidx &&
		    sl_index_get(w->idxfd, &k, n - 1, &e) == 0 &&
		    e.pos >= w->segend) {
			/* Entries past our end are theirs; ours resume after. */
			w->nidx = n;
			w->idxpos = e.pos;
		}
		if (scan_tail(w) < 0)
			return -1;
	}
	/* A full segment may have been rotated by someone else. */
	while (w->segend >= w->set.segment_bytes) {
		fd = open_in(w, w->next, ".log", O_RDONLY);
		if (fd < 0) {
			if (errno == ENOENT)
				break;
			seterr(w, "%s", strerror(errno));
			return -1;
		}
		close(fd);
		if (load_segment(w, w->next, 0) < 0)
			return -1;
		w->dirsync = 1;
	}
	return 0;
}

/* fsync the directory holding DIR, so that DIR's own entry is durable. */
static int
sync_parent(const char *dir)
{
	char parent[PATH_MAX], *slash;

	snprintf(parent, sizeof parent, "%s", dir);
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	else
		strcpy(parent, ".");
	if (sl_sync_dir(parent) < 0) {
		sl_set_open_error("%s: directory sync: %s", parent,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A replica's offsets are its stream's: only its own writer (logmirror
 * pull, with opts->replica naming the same) may add to it, and that
 * writer only to a replica of the same.
 */
static int
check_replica(sl_writer *w, const char *dir, const struct sl_writer_opts *o)
{
	const char *want = o ? o->replica : NULL;

	if (w->set.replica[0] != '\0' && want == NULL) {
		sl_set_open_error("%s: a replica of %s: only logmirror pull "
		    "writes to it", dir, w->set.replica);
		errno = EPERM;
		return -1;
	}
	if (want != NULL && strcmp(w->set.replica, want) != 0) {
		if (w->set.replica[0] == '\0')
			sl_set_open_error("%s: a log of its own, not a replica "
			    "of %s", dir, want);
		else
			sl_set_open_error("%s: a replica of %s, not of %s", dir,
			    w->set.replica, want);
		errno = EPERM;
		return -1;
	}
	return 0;
}

sl_writer *
sl_writer_open(const char *dir, const struct sl_writer_opts *o)
{
	sl_writer *w;
	char path[PATH_MAX];
	int created = 0, e;

	if ((w = calloc(1, sizeof *w)) == NULL ||
	    (w->dir = strdup(dir)) == NULL) {
		sl_set_open_error("%s: %s", dir, strerror(errno));
		free(w);
		return NULL;
	}
	if ((e = pthread_mutex_init(&w->mu, NULL)) != 0 ||
	    (e = pthread_cond_init(&w->work, NULL)) != 0 ||
	    (e = pthread_cond_init(&w->done, NULL)) != 0 ||
	    (e = pthread_mutex_init(&w->wmu, NULL)) != 0 ||
	    (e = pthread_cond_init(&w->wcv, NULL)) != 0) {
		/* Not with the default attributes on Linux. */
		sl_set_open_error("%s: %s", dir, strerror(e));
		free(w->dir);
		free(w);
		return NULL;
	}
	w->segfd = w->idxfd = w->lockfd = w->wnextfd = -1;
	if ((w->page = sysconf(_SC_PAGESIZE)) <= 0)
		w->page = 4096;
	w->nosync = o ? o->nosync : 0;
	w->compress = o ? o->compress : 0;
	if (mkdir(dir, 0755) == 0)
		created = 1;
	else if (errno != EEXIST) {
		sl_set_open_error("%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (created && !w->nosync && sync_parent(dir) < 0)
		goto fail;
	snprintf(path, sizeof path, "%s/lock", dir);
	if ((w->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    sl_lock(w->lockfd, LOCK_EX) < 0) {
		sl_set_open_error("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (sl_settings_read(dir, &w->set) < 0) {
		if (errno != ENOENT) {
			sl_set_open_error("%s/settings: %s", dir,
			    errno == EBADMSG ? "damaged settings file" :
			    strerror(errno));
			goto fail;
		}
		if (sl_settings_create(dir, o, &w->set) < 0) {
			sl_set_open_error("%s: creating log: %s", dir,
			    strerror(errno));
			goto fail;
		}
		snprintf(path, sizeof path, "%s/consumers", dir);
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			sl_set_open_error("%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (check_replica(w, dir, o) < 0)
		goto fail;
	w->limit = sl_batch_limit(w->set.max_record_bytes);
	if (load_last(w) < 0) {
		sl_set_open_error("%s: %s", dir, w->err);
		goto fail;
	}
	/*
	 * A writer that crashed between creating an entry (the log, its
	 * settings, a segment) and syncing its directory left an entry that
	 * a power cut may still take away, with everything appended to it
	 * since.  Sync both directories once before acknowledging anything.
	 */
	if (!created && !w->nosync && (sl_sync_dir(dir) < 0 ?
	    (sl_set_open_error("%s: directory sync: %s", dir,
	    strerror(errno)), 1) : sync_parent(dir) < 0))
		goto fail;
	if (sl_lock(w->lockfd, LOCK_UN) < 0) {
		sl_set_open_error("%s: unlock: %s", dir, strerror(errno));
		goto fail;
	}
	return w;
fail:
	e = errno;
	sl_writer_close(w);
	errno = e;
	return NULL;
}

int
sl_writer_add(sl_writer *w, const struct sl_record *r)
{
	size_t size = sl_rec_size(r);
	struct pending *b = &w->fill;
	struct sl_record rec;

	if (b->npend > 0 && b->at) {
		errno = EINVAL;
		return -1;
	}
	if (size > w->set.max_record_bytes) {
		errno = EMSGSIZE;
		return -1;
	}
	if (b->npend > 0 && b->paylen + size >
	    SL_BATCH_TARGET + w->set.max_record_bytes) {
		errno = ENOBUFS;
		return -1;
	}
	if (b->npend >= UINT32_MAX - 1) {
		errno = ENOBUFS;
		return -1;
	}
	if (sl_batch_reserve(&b->buf, &b->cap,
	    SL_BATCH_HDR + b->paylen + size + SL_REC_SLACK) < 0)
		return -1;
	/* Copy the record only to stamp it: a copy of a record its caller
	 * has just filled in stalls on store forwarding (perf), and
	 * logappend stamps records itself. */
	if (r->timestamp == SL_NO_TIMESTAMP) {
		rec = *r;
		rec.timestamp = sl_now_ms();
		r = &rec;
	}
	if (b->npend == 0)
		b->first_ts = b->max_ts = r->timestamp;
	else if (r->timestamp > b->max_ts)
		b->max_ts = r->timestamp;
	/* Offsets are dense: no gap before any record. */
	b->paylen = (size_t)(sl_record_encode(b->buf + SL_BATCH_HDR +
	    b->paylen, r, 0, b->first_ts) - (b->buf + SL_BATCH_HDR));
	b->npend++;
	return 0;
}

int
sl_writer_add_at(sl_writer *w, const struct sl_record *r)
{
	struct pending *b = &w->fill;
	size_t size = sl_rec_size(r);
	uint64_t gap;

	if (b->npend > 0 && (!b->at || r->offset <= b->last)) {
		errno = EINVAL;
		return -1;
	}
	if (r->timestamp == SL_NO_TIMESTAMP) {
		errno = EINVAL;
		return -1;
	}
	if (size > w->set.max_record_bytes) {
		errno = EMSGSIZE;
		return -1;
	}
	/* The batch's last offset is its base plus a 32-bit delta. */
	if (b->npend > 0 && (b->paylen + size > SL_BATCH_TARGET +
	    w->set.max_record_bytes || b->npend >= UINT32_MAX - 1 ||
	    r->offset - b->base > UINT32_MAX - 1)) {
		errno = ENOBUFS;
		return -1;
	}
	if (sl_batch_reserve(&b->buf, &b->cap,
	    SL_BATCH_HDR + b->paylen + size + SL_REC_SLACK) < 0)
		return -1;
	if (b->npend == 0) {
		b->at = 1;
		b->base = r->offset;
		b->first_ts = b->max_ts = r->timestamp;
		gap = 0;
	} else {
		gap = r->offset - b->last - 1;
		if (r->timestamp > b->max_ts)
			b->max_ts = r->timestamp;
	}
	b->last = r->offset;
	b->paylen = (size_t)(sl_record_encode(b->buf + SL_BATCH_HDR +
	    b->paylen, r, gap, b->first_ts) - (b->buf + SL_BATCH_HDR));
	b->npend++;
	return 0;
}

/*
 * A fast path: logappend's default input, plain lines, was parsed, put in
 * a struct sl_record, checked and encoded one record at a time, at 50 ns
 * a record, and that made the thread reading the input the slower of
 * the two in `logappend -N` (perf).  Here a record is a memchr, a memcpy
 * and a few stores: the bytes sl_record_encode writes for a record of a
 * value alone (t/045 compares the two).
 */
size_t
sl_writer_add_lines(sl_writer *w, const unsigned char *p, size_t n,
    unsigned char delim, int64_t ts, size_t target, size_t *nrec)
{
	struct pending *b = &w->fill;
	const unsigned char *s = p, *end = p + n, *e;
	size_t most = target / 4, k = 0;
	uint64_t zts;

	if (most > w->set.max_record_bytes)
		most = w->set.max_record_bytes;
	if (b->npend > 0 && b->at) {
		*nrec = 0;
		return 0;
	}
	if (b->npend == 0)
		b->first_ts = b->max_ts = ts;
	zts = sl_zigzag((uint64_t)ts - (uint64_t)b->first_ts);
	while (b->paylen < target &&
	    (e = memchr(s, delim, (size_t)(end - s))) != NULL) {
		size_t len = (size_t)(e - s), body;
		unsigned char *q;

		/* The input is read here first, from the page cache; the
		 * hardware's prefetch stops at each 4 KiB page, and memchr
		 * then waited on memory (a quarter of the thread's samples,
		 * perf).  A page ahead: -N went from 0.067 to 0.054 s. */
		__builtin_prefetch(e + 4096);
		if (SL_REC_FIXED + len > most || sl_batch_reserve(&b->buf,
		    &b->cap, SL_BATCH_HDR + b->paylen + SL_REC_FIXED + len +
		    SL_REC_SLACK) < 0)
			break;
		/* gap, time, no key, the value, no headers */
		body = 1 + sl_vlen(zts) + 1 + sl_vlen(len + 1) + len + 1;
		q = b->buf + SL_BATCH_HDR + b->paylen;
		q = sl_putv(q, body);
		*q++ = 0;
		q = sl_putv(q, zts);
		*q++ = 0;
		q = sl_putv(q, len + 1);
		memcpy(q, s, len);
		q[len] = 0;
		b->paylen = (size_t)(q + len + 1 - (b->buf + SL_BATCH_HDR));
		b->npend++;
		k++;
		s = e + 1;
	}
	if (k > 0 && ts > b->max_ts)
		b->max_ts = ts;
	*nrec = k;
	return (size_t)(s - p);
}

size_t
sl_writer_pending(const sl_writer *w)
{
	return w->fill.npend;
}

size_t
sl_writer_pending_bytes(const sl_writer *w)
{
	return w->fill.paylen;
}

void
sl_writer_discard(sl_writer *w)
{
	w->fill.npend = 0;
	w->fill.paylen = 0;
	w->fill.paycrc_set = 0;
	w->fill.at = 0;
}

/* Fill in the header of batch B; deflate it if asked and worth it.
 * Returns the batch and its length. */
static unsigned char *
seal(sl_writer *w, struct pending *b, uint64_t base, size_t *lenp)
{
	unsigned char *p = b->buf;
	size_t len = SL_BATCH_HDR + b->paylen;
	int flags = 0;

	if (w->compress) {
		uLong bound = compressBound(b->paylen);

		if (SL_BATCH_HDR + bound > w->zcap) {
			unsigned char *z = realloc(w->zbuf,
			    SL_BATCH_HDR + bound);

			if (z == NULL)
				return NULL;
			w->zbuf = z;
			w->zcap = SL_BATCH_HDR + bound;
		}
		uLongf zlen = bound;
		if (compress2(w->zbuf + SL_BATCH_HDR, &zlen,
		    b->buf + SL_BATCH_HDR, b->paylen, Z_DEFAULT_COMPRESSION) ==
		    Z_OK && zlen < b->paylen) {
			p = w->zbuf;
			len = SL_BATCH_HDR + zlen;
			flags = SL_BATCH_DEFLATE;
		}
	}
	sl_put32(p, SL_BATCH_MAGIC);
	p[4] = SL_BATCH_VERSION;
	p[5] = flags;
	p[6] = p[7] = 0;
	sl_put32(p + 8, (uint32_t)len);
	sl_put32(p + 12, (uint32_t)b->npend);
	sl_put64(p + 16, base);
	sl_put32(p + 24, (uint32_t)(b->at ? b->last - base : b->npend - 1));
	sl_put32(p + 28, (uint32_t)b->paylen);
	sl_put64(p + 32, (uint64_t)b->first_ts);
	sl_put64(p + 40, (uint64_t)b->max_ts);
	sl_put32(p + 48, flags == 0 && b->paycrc_set ?
	    sl_batch_crc_with(p, b->paycrc, b->paylen) : sl_batch_crc(p, len));
	*lenp = len;
	return p;
}

/*
 * Start a new segment at the next offset.  The old one must be complete on
 * disk first, in every mode (its last batch may be another writer's, not
 * synced yet): only the last segment may have a tail to recover, so that a
 * power cut leaves a valid prefix of the log.
 */
static int
rotate(sl_writer *w)
{
	if (datasync(w, w->segfd, w->segbase, w->segend, 1) < 0)
		return -1;
	return load_segment(w, w->next, 1);
}

/*
 * Whether the active segment is to be closed before the next batch: once
 * it is full, in the durable mode at once.  With -N, closing it waits for
 * whatever of it the disk has not written yet, and the writer can fill
 * the page cache faster than the disk empties it: a million records
 * (105 MB) took `logappend -N` 1.6 times as long with that sync at 64
 * MiB as without it (bench/README.md).  So a full segment goes on
 * growing, up to twice its size, while more than ROTATE_LEFT of it is
 * still to be written (cachestat), and is then closed with a short sync.
 * Without cachestat, or without write-back of our own, it is closed at
 * once, as in the durable mode.
 */
static int
rotate_due(sl_writer *w)
{
	struct timespec now;
	int64_t left, t;

	if (w->segend < w->set.segment_bytes)
		return 0;
	if (!w->nosync || w->nowb ||
	    w->segend - w->set.segment_bytes >= w->set.segment_bytes)
		return 1;
	/* A look costs 40 us for 100 MB, a tenth of writing a batch: one a
	 * millisecond at most (a tick of the coarse clock, 1 to 4 ms), the
	 * pace of a disk catching up. */
	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) == 0) {
		t = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
		if (w->rgen == w->seggen && t - w->rlast < 1000000)
			return 0;
		w->rgen = w->seggen;
		w->rlast = t;
	}
	left = sl_unsynced(w->segfd);
	return left < 0 || left <= ROTATE_LEFT;
}

static int
commit_locked(sl_writer *w, struct pending *b, uint64_t expect,
    uint64_t *first)
{
	unsigned char *p;
	uint64_t base;
	size_t len;
	char name[64];

	if (catch_up(w) < 0)
		return -1;
	if (expect != SL_NO_OFFSET && expect != w->next) {
		errno = ESTALE;
		seterr(w, "next offset is %" PRIu64 ", not %" PRIu64, w->next,
		    expect);
		return -1;
	}
	if (b->npend > 0 && b->at && b->base < w->next) {
		errno = ESTALE;
		seterr(w, "next offset is %" PRIu64 ", past %" PRIu64, w->next,
		    b->base);
		return -1;
	}
	if (first)
		*first = w->next;
	if (b->npend == 0)
		return 0;
	if (rotate_due(w) && rotate(w) < 0)
		return -1;
	base = b->at ? b->base : w->next;
	if ((p = seal(w, b, base, &len)) == NULL) {
		seterr(w, "%s", strerror(errno));
		return -1;
	}
	if (w->nosync)
		reserve(w, len);
	sl_segment_name(name, sizeof name, w->segbase, ".log");
	if (sl_pwrite_full(w->segfd, p, len, (off_t)w->segend) < 0) {
		int e = errno;

		/* Leave the log as it was: cut what part of it landed. */
		if (ftruncate(w->segfd, (off_t)w->segend) < 0)
			w->broken = 1;
		errno = e;
		seterr(w, "%s: write: %s", name, strerror(errno));
		return -1;
	}
	if (w->nosync ? writeback(w, w->segend + len) < 0 :
	    datasync(w, w->segfd, w->segbase, w->segend + len, 0) < 0)
		return -1;
	/*
	 * The segment is another writer's, which may have made it with -N:
	 * its name is durable only once the directory is synced.
	 */
	if (!w->nosync && w->dirsync) {
		if (sl_sync_dir(w->dir) < 0) {
			seterr(w, "directory sync: %s", strerror(errno));
			return -1;
		}
		w->dirsync = 0;
	}
	index_batch(w, w->segend, base);
	w->segend += len;
	if (first)
		*first = base;
	w->next = b->at ? b->last + 1 : w->next + b->npend;
	if (b->max_ts > w->segmax)
		w->segmax = b->max_ts;
	b->npend = 0;
	b->paylen = 0;
	b->paycrc_set = 0;
	b->at = 0;
	return 0;
}

/* Commit batch B under the log's lock. */
static int
commit(sl_writer *w, struct pending *b, uint64_t expect, uint64_t *first)
{
	int r, e;

	if (w->broken) {
		errno = EIO;
		return -1;
	}
	if (sl_lock(w->lockfd, LOCK_EX) < 0) {
		seterr(w, "lock: %s", strerror(errno));
		return -1;
	}
	r = commit_locked(w, b, expect, first);
	e = errno;
	if (sl_lock(w->lockfd, LOCK_UN) < 0 && r == 0) {
		seterr(w, "lock: %s", strerror(errno));
		return -1;
	}
	errno = e;
	return r;
}

/* The result slot of the batch submitted after the I-th outstanding. */
static struct result *
slot(sl_writer *w, unsigned i)
{
	return &w->res[(w->rhead + i) % 2];
}

/*
 * Commit B, a batch submitted, into its result R; or, after a failure of
 * one before it, cancel it, writing nothing.
 */
static void
settle(sl_writer *w, struct pending *b, struct result *r)
{
	if (w->cfailed) {
		r->rc = -1;
		r->err = ECANCELED;
		return;
	}
	r->rc = commit(w, b, SL_NO_OFFSET, &r->first);
	r->err = errno;
	w->cfailed = r->rc < 0;
}

/*
 * The committer thread: it commits the queued batch, records the result
 * in the oldest unfinished slot, gives the buffer back, and takes the
 * next one at once if it is queued already.  After a failure it takes
 * nothing more: a batch queued then is reported cancelled (ECANCELED),
 * nothing of it written, so no batch is ever written after one that
 * failed.
 */
static void *
committer(void *arg)
{
	sl_writer *w = arg;
	struct result *r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->nqueued && !w->quit)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->nqueued)
			break;
		w->flight = w->queued;
		memset(&w->queued, 0, sizeof w->queued);
		w->nqueued = 0;
		pthread_cond_signal(&w->done);
		/* The slot: the first unfinished one. */
		r = w->res[w->rhead].finished ? &w->res[(w->rhead + 1) % 2] :
		    &w->res[w->rhead];
		pthread_mutex_unlock(&w->mu);
		settle(w, &w->flight, r);
		pthread_mutex_lock(&w->mu);
		r->finished = 1;
		/* The buffer goes back to the caller, emptied. */
		w->flight.npend = w->flight.paylen = 0;
		w->flight.paycrc_set = 0;
		w->flight.at = 0;
		if (w->spare.buf == NULL)
			w->spare = w->flight;
		else
			free(w->flight.buf);
		memset(&w->flight, 0, sizeof w->flight);
		pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * Give back to the system the buffer of B if a batch of a huge record
 * made it huge, unless B still holds records.
 */
static void
shrink(struct pending *b)
{
	if (b->npend == 0 && b->cap > 4 * (SL_BATCH_HDR + SL_BATCH_TARGET)) {
		free(b->buf);
		memset(b, 0, sizeof *b);
	}
}

/* With the mutex held and no buffer to fill: take the spare one. */
static void
take_spare(sl_writer *w)
{
	shrink(&w->spare);
	w->fill = w->spare;
	memset(&w->spare, 0, sizeof w->spare);
}

int
sl_writer_wait(sl_writer *w, uint64_t *first, size_t *n)
{
	struct result r;

	*n = 0;
	if (w->outstanding == 0)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (!w->res[w->rhead].finished)
		pthread_cond_wait(&w->done, &w->mu);
	r = w->res[w->rhead];
	w->res[w->rhead].finished = 0;
	w->rhead = (w->rhead + 1) % 2;
	w->outstanding--;
	if (w->fill.buf == NULL)
		take_spare(w);
	pthread_mutex_unlock(&w->mu);
	shrink(&w->fill);
	if (r.rc < 0) {
		errno = r.err;
		if (r.err == ECANCELED)
			seterr(w, "a batch before failed");
		return -1;
	}
	*first = r.first;
	*n = r.n;
	return 0;
}

/* Start the committer thread, unless it runs already; 0 or an errno. */
static int
start_committer(sl_writer *w)
{
	int e;

	if (w->running)
		return 0;
	if ((e = pthread_create(&w->thread, NULL, committer, w)) != 0)
		return e;
	w->running = 1;
	return 0;
}

size_t
sl_writer_outstanding(const sl_writer *w)
{
	return w->outstanding;
}

int
sl_writer_submit(sl_writer *w)
{
	struct result *r;

	if (w->outstanding > 1) {
		errno = EBUSY;
		return -1;
	}
	if (w->broken) {
		errno = EIO;
		return -1;
	}
	if (w->fill.npend == 0)
		return 0;
	r = slot(w, w->outstanding);
	r->n = w->fill.npend;
	/* Without a thread (out of processes, say), commit it here: slower,
	 * the same result, collected the same way. */
	if (start_committer(w) != 0) {
		settle(w, &w->fill, r);
		r->finished = 1;
		w->fill.npend = w->fill.paylen = 0;
		w->fill.at = 0;
		w->outstanding++;
		return 0;
	}
	/*
	 * The payload's CRC here, the header's in the committer (the first
	 * offset is known only there), the two combined: the committer's
	 * is the thread that writes (and syncs) every byte, the slower of
	 * the two when the input is ready, and a CRC of the payload was a
	 * fifth of its time (perf, -N).  A batch to deflate has its CRC
	 * over what deflate makes, there.
	 */
	if (!w->compress) {
		w->fill.paycrc = sl_crc32(0, w->fill.buf + SL_BATCH_HDR,
		    w->fill.paylen);
		w->fill.paycrc_set = 1;
	}
	/* Hand the batch over; the next is filled in the buffer the
	 * committer gives back, or a new one. */
	pthread_mutex_lock(&w->mu);
	/* The one before may not be taken yet. */
	while (w->nqueued)
		pthread_cond_wait(&w->done, &w->mu);
	w->queued = w->fill;
	w->nqueued = 1;
	w->outstanding++;
	take_spare(w);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int
sl_writer_commit(sl_writer *w, uint64_t expect, uint64_t *first)
{
	uint64_t f;
	size_t n;
	int rc = 0, e = 0;

	while (w->outstanding > 0)
		if (sl_writer_wait(w, &f, &n) < 0 && rc == 0) {
			rc = -1;
			e = errno;
		}
	if (rc < 0) {
		errno = e;
		return -1;
	}
	return commit(w, &w->fill, expect, first);
}

uint64_t
sl_writer_next_offset(const sl_writer *w)
{
	return w->next;
}

const struct sl_settings *
sl_writer_settings(const sl_writer *w)
{
	return &w->set;
}

const char *
sl_writer_error(const sl_writer *w)
{
	return w->err;
}

/* Set the thread's QUIT under MU, wake it on CV, and wait for its end. */
static void
stop_thread(pthread_mutex_t *mu, pthread_cond_t *cv, int *quit,
    pthread_t th)
{
	pthread_mutex_lock(mu);
	*quit = 1;
	pthread_cond_signal(cv);
	pthread_mutex_unlock(mu);
	pthread_join(th, NULL);
}

int
sl_writer_finish(sl_writer *w)
{
	uint64_t f;
	size_t n;

	while (w->outstanding > 0)
		sl_writer_wait(w, &f, &n);
	if (w->running) {
		stop_thread(&w->mu, &w->work, &w->quit, w->thread);
		w->running = 0;
	}
	if (w->wrunning) {
		stop_thread(&w->wmu, &w->wcv, &w->wquit, w->wthread);
		w->wrunning = 0;
		if (w->wnextfd >= 0)
			close(w->wnextfd);
		w->wnextfd = -1;
		if (w->werr && !w->broken) {
			errno = w->werr;
			return disk_failed(w, "sync_file_range", w->werrbase);
		}
	}
	return 0;
}

int
sl_writer_close(sl_writer *w)
{
	if (w == NULL)
		return 0;
	sl_writer_finish(w);
	release(w);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wcv);
	pthread_mutex_destroy(&w->wmu);
	close_segment(w);
	if (w->lockfd >= 0)
		close(w->lockfd);
	free(w->fill.buf);
	free(w->flight.buf);
	free(w->queued.buf);
	free(w->spare.buf);
	free(w->zbuf);
	free(w->dir);
	free(w);
	return 0;
}
