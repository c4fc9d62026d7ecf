/*
 * writeback.c - what the writer does for speed with -N, where nothing is
 * synced per batch: hand the disk what was written a few megabytes at a
 * time (a thread of its own), reserve the rest of a segment's space once
 * it is being filled, and close a full segment only once the disk has
 * caught up.  None of it changes what is in the log: a failure to reserve
 * costs speed, a write-back error is final as a failed sync is.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "writer.h"

#define WRITEBACK	(4u << 20)	/* -N: hand the disk this much at once */
#define ROTATE_LEFT	(2 * WRITEBACK)	/* -N: rotate with no more unwritten */
#define LEFTOVER	(1u << 20)	/* allocated past the end: a reservation */

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
		r = sl_wr_disk_failed(w, "sync_file_range", w->werrbase);
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
int
sl_wr_writeback(sl_writer *w, uint64_t end)
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
	return sl_wr_disk_failed(w, "sync_file_range", w->segbase);
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
 * back when the writer closes (sl_wr_release()) or, after a writer was killed,
 * by the next one to load the segment (sl_wr_cut_spare()).
 */
void
sl_wr_reserve(sl_writer *w, size_t add)
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
 * file system's rounding explains holds a reservation (sl_wr_reserve()), this
 * writer's, a killed writer's, or a live one's, which goes on without
 * it.  Cut the file at its size, which frees that space.  A failure costs
 * disk space, not data, and the next writer tries again.
 */
void
sl_wr_cut_spare(int fd)
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
void
sl_wr_release(sl_writer *w)
{
	if (w->segfd < 0 || w->broken || w->rsvgen != w->seggen ||
	    w->rsvend <= w->segend || sl_lock(w->lockfd, LOCK_EX) < 0)
		return;
	sl_wr_cut_spare(w->segfd);
	sl_wr_mark(w);
	/* Closing the lock's descriptor, next, unlocks it anyway. */
	if (sl_lock(w->lockfd, LOCK_UN) < 0)
		return;
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
int
sl_wr_rotate_due(sl_writer *w)
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
