/*
 * writer.c - the append path: records are encoded into a pending batch;
 * a commit takes the log's flock, catches up with whatever other writers
 * appended, writes the batch with one pwrite at the end of the active
 * segment, fdatasyncs it, and only then reports its offsets.  The
 * background commit is in commit.c, -N's machinery in writeback.c.
 *
 * Invariants kept under the lock:
 * - segend is the byte after the last valid batch of the active segment,
 *   next the offset after its last record; both are re-checked against the
 *   file at every commit, so concurrent writers interleave whole batches.
 * - Only the last segment of the directory is appended to, and it is
 *   verified from its first byte when loaded, by the one verdict readers
 *   follow (segment.c): an incomplete tail is truncated before anything is
 *   written after it; damage anywhere else is refused, never truncated.
 * - A segment is made only where none is: at the log's next offset, when
 *   no later segment exists, exclusively; so no offset is given twice,
 *   whatever other writers, compaction or salvage did meanwhile.
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
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "log.h"
#include "writer.h"



void
sl_wr_seterr(sl_writer *w, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof w->err, fmt, ap);
	va_end(ap);
	/* The calling thread's message too (the committer's own when it is
	 * the caller: sl_writer_wait hands it over). */
	sl_seterr("%s", w->err);
	errno = e;
}

/*
 * CALL failed with errno on segment BASE, losing what it was to put on
 * disk: the writer is unusable from now on.  Always -1.
 */
int
sl_wr_disk_failed(sl_writer *w, const char *call, uint64_t base)
{
	char name[64];
	int e = errno;

	w->broken = 1;
	sl_segment_name(name, sizeof name, base, ".log");
	sl_wr_seterr(w, "%s: %s: %s", name, call, strerror(e));
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
		/* The message of the failure that broke it, again. */
		sl_seterr("%s", w->err);
		errno = EIO;
		return -1;
	}
	if (ifneeded && w->sbase == base && w->send >= end)
		return 0;
	if (sl_datasync(fd) < 0)
		return sl_wr_disk_failed(w, "fdatasync", base);
	if (base > w->sbase || (base == w->sbase && end > w->send)) {
		w->sbase = base;
		w->send = end;
	}
	return 0;
}







static void
close_segment(sl_writer *w)
{
	if (w->segfd >= 0)
		close(w->segfd);
	if (w->idxfd >= 0)
		close(w->idxfd);
	w->segfd = w->idxfd = -1;
	sl_segscan_free(&w->scan);
}

/*
 * The index is a cache: when it cannot be made or written (no inode left,
 * a full disk), appending goes on without it, and the writer says so once
 * (readers then scan the segment; logfsck --repair rebuilds it).
 */
static void
index_failed(sl_writer *w, const char *what, int e)
{
	char name[64], msg[256];

	if (w->idxfd >= 0) {
		/* Cut a partly written entry, so the file stays whole. */
		if (ftruncate(w->idxfd, (off_t)(w->ib.n * SL_INDEX_ENTRY -
		    w->ib.blen)) < 0) {
			/* The next writer's load mends it. */
		}
	}
	w->idxbad = 1;
	w->ib.fd = -1;
	if (w->idxwarned || w->warn == NULL)
		return;
	w->idxwarned = 1;
	sl_segment_name(name, sizeof name, w->segbase, ".index");
	snprintf(msg, sizeof msg, "%s: %s: %s; appending without it "
	    "(logfsck --repair rebuilds it)", name, what, sl_open_strerror(e));
	w->warn(w->warnarg, msg);
}

/* Index the batch B at POS with the writer's rule (index.c), at once. */
static void
index_batch(sl_writer *w, uint64_t pos, const struct sl_batch *b)
{
	if (w->idxbad)
		return;
	if (sl_ibuild_batch(&w->ib, pos, b) < 0 ||
	    sl_ibuild_flush(&w->ib) < 0)
		index_failed(w, "write", errno);
}

/* The name of the active segment's file, for messages. */
static const char *
segname(const sl_writer *w, char *buf, size_t len)
{
	sl_segment_name(buf, len, w->segbase, ".log");
	return buf;
}

/* Whether a segment after the active one exists: 1, 0, -1 error. */
static int
has_later(sl_writer *w)
{
	uint64_t *bases;
	size_t n;
	int r;

	if (sl_segment_list(w->dirfd, &bases, &n) < 0)
		return -1;
	r = n > 0 && bases[n - 1] > w->segbase;
	free(bases);
	return r;
}

/*
 * Scan the active segment from segend to the end of its valid batches,
 * taking (and indexing) each, and act on the one verdict the readers
 * follow too (segment.c): a clean end; an incomplete tail, truncated, but
 * only in the log's last segment; damage followed by valid data, or any
 * damage in a segment that is not the last: refused, never written after.
 */
static int
scan_tail(sl_writer *w)
{
	struct sl_batch b;
	const unsigned char *p;
	char name[64];
	int f;

	w->scan.pos = w->segend;
	w->scan.next = w->next;
	while ((f = sl_segscan_next(&w->scan, 1, &b, &p)) > 0) {
		index_batch(w, w->segend, &b);
		w->segend = w->scan.pos;
		w->next = w->scan.next;
		if (b.max_ts > w->segmax)
			w->segmax = b.max_ts;
	}
	segname(w, name, sizeof name);
	if (f < 0) {
		sl_wr_seterr(w, "%s: read: %s", name, strerror(errno));
		return -1;
	}
	if (w->scan.end.kind == SL_END_CLEAN)
		return 0;
	if (w->scan.end.kind == SL_END_TORN && (f = has_later(w)) != 0) {
		if (f < 0) {
			sl_wr_seterr(w, "%s", strerror(errno));
			return -1;
		}
		w->scan.end.kind = SL_END_CORRUPT;
	}
	if (w->scan.end.kind == SL_END_CORRUPT) {
		sl_segend_fail(&w->scan.end, name);
		sl_wr_seterr(w, "%s; refusing to write, run logfsck", sl_error());
		errno = EBADMSG;
		return -1;
	}
	if (ftruncate(w->segfd, (off_t)w->segend) < 0 ||
	    (!w->nosync && datasync(w, w->segfd, w->segbase, w->segend,
	    0) < 0)) {
		sl_wr_seterr(w, "%s: truncating torn tail: %s", name,
		    strerror(errno));
		return -1;
	}
	return 0;
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
	if ((fd = sl_segment_open(w->dirfd, base, ".index", O_RDONLY)) >= 0) {
		r = sl_index_seed(fd, &k, &w->seed);
		close(fd);
		if (r != 0) {
			*fromidx = r > 0;
			return r;
		}
	}
	return sl_log_seed(w->dirfd, w->set.id, w->limit, base, &w->seed);
}

/* Open (or, CREATE, make) segment BASE's index; -1 when it cannot be
 * had, which only costs readers a scan. */
static int
open_index(sl_writer *w, uint64_t base, int create)
{
	char name[64];

	if (!create)
		return sl_open_or_create(w->dirfd, (sl_segment_name(name,
		    sizeof name, base, ".index"), name), O_RDWR, 0644);
	/* One left by a segment that a crash or logfsck took away is not
	 * this segment's: make a new one. */
	sl_segment_name(name, sizeof name, base, ".index");
	if (unlinkat(w->dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return sl_createat(w->dirfd, name, O_RDWR, 0644);
}

/*
 * The verification mark, in the lock file: the state (device, inode,
 * size, change and modification times) of the last segment when a writer
 * last verified it or wrote to it, under the lock.  Every writer writes
 * it after each batch, so a segment in the state its mark names has been
 * changed by writers alone since it was verified, and its verified bytes
 * need not be read again: opening a log whose last segment is large stays
 * as cheap as opening a small one.  Any other change (a byte flipped with
 * dd, a truncation, a crash between a write and the mark) leaves the
 * segment in another state, and the writer verifies it from its first
 * byte before it writes.  A mark is a hint: one that cannot be read or
 * written only costs that verification.
 */
#define MARK_MAGIC	0x4d56534cu	/* "LSVM" */
#define MARK_BYTES	64

/* Fill in the mark for the active segment as ST shows it. */
static void
mark_encode(unsigned char *m, const sl_writer *w, const struct stat *st)
{
	memset(m, 0, MARK_BYTES);
	sl_put32(m, MARK_MAGIC);
	sl_put32(m + 4, 1);
	sl_put64(m + 8, w->segbase);
	sl_put64(m + 16, (uint64_t)st->st_dev);
	sl_put64(m + 24, (uint64_t)st->st_ino);
	sl_put64(m + 32, (uint64_t)st->st_size);
	sl_put64(m + 40, (uint64_t)st->st_ctim.tv_sec * 1000000000u +
	    (uint64_t)st->st_ctim.tv_nsec);
	sl_put64(m + 48, (uint64_t)st->st_mtim.tv_sec * 1000000000u +
	    (uint64_t)st->st_mtim.tv_nsec);
	sl_put32(m + 56, sl_crc32(0, m, 56));
}

/*
 * Whether the active segment, now in state ST, is as writers left it: as
 * this writer last saw it after its own verification or write, or as the
 * mark in the lock file says another writer did.
 */
static int
mark_vouches(sl_writer *w, const struct stat *st)
{
	unsigned char have[MARK_BYTES], want[MARK_BYTES];

	mark_encode(want, w, st);
	if (memcmp(w->known, want, sizeof want) == 0)
		return 1;
	if (sl_pread_full(w->lockfd, have, sizeof have, 0) !=
	    (ssize_t)sizeof have || memcmp(have, want, sizeof have) != 0)
		return 0;
	memcpy(w->marked, have, sizeof have);
	return 1;
}

/* Remember the active segment's state as this writer leaves it. */
static void
know(sl_writer *w)
{
	struct stat st;

	if (w->segfd >= 0 && fstat(w->segfd, &st) == 0)
		mark_encode(w->known, w, &st);
	else
		memset(w->known, 0, sizeof w->known);
}

void
sl_wr_mark(sl_writer *w)
{
	know(w);
	/* Written only when it changes: a run that writes no batch leaves
	 * the lock file, and so the log, exactly as it was. */
	if (w->segfd < 0 || w->broken || sl_get32(w->known) == 0 ||
	    memcmp(w->known, w->marked, MARK_BYTES) == 0)
		return;
	if (sl_pwrite_full(w->lockfd, w->known, MARK_BYTES, 0) < 0)
		return;		/* the next writer verifies the segment */
	memcpy(w->marked, w->known, MARK_BYTES);
}

/*
 * Where to start the scan of segment BASE, which the mark vouches for:
 * its last index entry that names a valid batch (the bytes before it are
 * as they were when verified), and the index state up to it.  0 from the
 * start (no such entry), 1 set, -1 error.
 */
static int
resume_at_entry(sl_writer *w)
{
	struct sl_ientry e;
	int r;

	if (w->idxfd < 0)
		return 0;
	if ((r = sl_index_find_offset(w->idxfd, w->segfd, &w->ib.key,
	    w->limit, UINT64_MAX, &e)) <= 0)
		return r;
	w->segend = e.pos;
	w->next = e.offset;
	w->segmax = e.pos == 0 ? INT64_MIN : e.maxts;
	/* The batch at e.pos is indexed already: the scan takes up from
	 * it with the index as it stands up to that entry. */
	w->ib.n = e.index + 1;
	w->ib.lastpos = e.pos;
	w->ib.maxts = w->segmax;
	w->ib.seeded = 0;
	return 1;
}

/*
 * Open segment BASE (making it, exclusively, when CREATE: -1 with EEXIST
 * when it exists) and verify it to its end from byte 0, as a reader
 * would read it: damage anywhere in it stops the writer, whose batches
 * would otherwise sit where no reader can reach them.  Its index is
 * checked along the way and mended where it differs.
 */
static int
load_segment(sl_writer *w, uint64_t base, int create)
{
	struct sl_ikey k;
	struct stat st;
	char name[64];
	int r, fromidx, vouched = 0;

	sl_segment_name(name, sizeof name, base, ".log");
	if ((r = find_seed(w, base, create, &fromidx)) < 0) {
		sl_wr_seterr(w, "%s: seed: %s", name, strerror(errno));
		return -1;
	}
	w->seedok = r;
	close_segment(w);
	w->segfd = create ? sl_segment_create(w->dirfd, base, ".log", O_RDWR) :
	    sl_segment_open(w->dirfd, base, ".log", O_RDWR);
	if (w->segfd < 0) {
		sl_wr_seterr(w, "%s: %s", name, sl_open_strerror(errno));
		return -1;
	}
	if (!create)
		sl_wr_cut_spare(w->segfd);
	if (create && !w->nosync && sl_sync_dirfd(w->dirfd) < 0) {
		sl_wr_seterr(w, "directory sync: %s", strerror(errno));
		return -1;
	}
	w->segbase = base;
	w->seggen++;
	w->segend = 0;
	w->next = base;
	w->segmax = INT64_MIN;
	w->idxbad = 0;
	sl_ikey_init(&k, base, w->set.id);
	if ((w->idxfd = open_index(w, base, create)) < 0)
		index_failed(w, create ? "create" : "open", errno);
	sl_ibuild_init(&w->ib, w->idxfd, &k);
	sl_ibuild_update(&w->ib);
	if (w->seedok)
		sl_ibuild_seed(&w->ib, w->seed);
	/* The whole segment, unless the mark vouches for it (and its index
	 * has the seed it should have). */
	if (!create && (!w->seedok || fromidx) && fstat(w->segfd, &st) == 0 &&
	    mark_vouches(w, &st) && (vouched = resume_at_entry(w)) < 0) {
		sl_wr_seterr(w, "%s: index: %s", name, strerror(errno));
		return -1;
	}
	sl_segscan_init(&w->scan, w->segfd, w->segend, w->next, w->limit);
	if (scan_tail(w) < 0)
		return -1;
	if (!w->idxbad && sl_ibuild_finish(&w->ib) < 0)
		index_failed(w, "write", errno);
	if (create)
		know(w);	/* a new segment is marked by its batch */
	else
		sl_wr_mark(w);
	return 0;
}

/* Open the last segment of the log, or create the first. */
static int
load_last(sl_writer *w)
{
	uint64_t *bases;
	size_t n;
	int r;

	for (;;) {
		if (sl_segment_list(w->dirfd, &bases, &n) < 0) {
			sl_wr_seterr(w, "%s", strerror(errno));
			return -1;
		}
		r = n == 0 ? load_segment(w, 0, 1) :
		    load_segment(w, bases[n - 1], 0);
		free(bases);
		/* Another writer made the first segment meanwhile. */
		if (r == 0 || n > 0 || errno != EEXIST)
			return r;
	}
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
	char name[64];
	int fd, vouched, later = 0, moved = 0;

	segname(w, name, sizeof name);
	if (fstat(w->segfd, &fs) < 0) {
		sl_wr_seterr(w, "%s: %s", name, strerror(errno));
		return -1;
	}
	/* The mark speaks of the segment its writer left last; when it
	 * does not vouch for this one, another may have gone on after. */
	vouched = mark_vouches(w, &fs);
	if (!vouched && (later = has_later(w)) < 0) {
		sl_wr_seterr(w, "%s", strerror(errno));
		return -1;
	}
	if (later || fstatat(w->dirfd, name, &ps, AT_SYMLINK_NOFOLLOW) < 0 ||
	    ps.st_ino != fs.st_ino || ps.st_dev != fs.st_dev ||
	    (uint64_t)fs.st_size < w->segend || index_gone(w)) {
		if (load_last(w) < 0)
			return -1;
		w->dirsync = moved = 1;
	} else if (!vouched) {
		/* Changed by something else than a writer since this one
		 * wrote: verified again from its first byte. */
		if (load_segment(w, w->segbase, 0) < 0)
			return -1;
	} else if ((uint64_t)fs.st_size > w->segend) {
		/* Another writer appended; its index entries are checked as
		 * the scan goes, with the same rule. */
		if (scan_tail(w) < 0)
			return -1;
	}
	/*
	 * A full segment may have been rotated by someone else; and a
	 * segment loaded just now may not be the last (one that salvage
	 * left holding a hole, say): only the last is appended to, and
	 * only it is read, so that damage in a sealed segment between is
	 * the readers' to report, not a reason to stop writing.
	 */
	while (moved || w->segend >= w->set.segment_bytes) {
		uint64_t was = w->segbase;

		/* An empty segment: what starts at its end is itself. */
		if (w->next <= w->segbase)
			break;
		fd = sl_segment_open(w->dirfd, w->next, ".log", O_RDONLY);
		if (fd < 0) {
			if (errno == ENOENT)
				break;
			sl_wr_seterr(w, "%s", sl_open_strerror(errno));
			return -1;
		}
		close(fd);
		if (load_last(w) < 0)
			return -1;
		/* A listing that did not show it yet: step to it. */
		if (w->segbase <= was && load_segment(w, w->next, 0) < 0)
			return -1;
		w->dirsync = moved = 1;
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
 * Whether directory DIRFD may become a log: only when it holds nothing
 * but what making one leaves (the lock, consumers/, a settings file
 * being written), so that `logappend` never takes over a directory of
 * other files; or when it has a settings file now (another writer made
 * it a log since it was found without one: its segments are then no
 * reason to refuse).  1 yes, 0 no, -1 error.
 */
static int
fresh_dir(int dirfd)
{
	DIR *d;
	struct dirent *de;
	int other = 0, settings = 0, e;

	if ((d = sl_dir_list(dirfd)) == NULL)
		return -1;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;

		if (strcmp(n, "settings") == 0)
			settings = 1;
		else if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 ||
		    strcmp(n, "lock") == 0 ||
		    strncmp(n, ".settings.tmp.", 14) == 0)
			continue;
		else if (strcmp(n, "consumers") == 0 && de->d_type == DT_DIR)
			continue;	/* made by the first writer, or empty */
		else
			other = 1;
	}
	e = errno;
	closedir(d);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return settings || !other;
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

/* Under the lock: DIR has no settings file; make it a log if it may
 * become one. */
static int
make_log(sl_writer *w, const char *dir, const struct sl_writer_opts *o)
{
	int f;

	if (errno != ENOENT) {
		sl_set_open_error("%s/settings: %s", dir, errno == EBADMSG ?
		    "damaged settings file" : sl_open_strerror(errno));
		return -1;
	}
	if ((f = fresh_dir(w->dirfd)) <= 0) {
		if (f == 0)
			errno = EEXIST;
		sl_set_open_error("%s: %s", dir, f < 0 ? strerror(errno) :
		    "not a synclog log (no settings file) and not empty: "
		    "refusing to make it one");
		return -1;
	}
	if (sl_settings_create(w->dirfd, o, &w->set) < 0) {
		sl_set_open_error("%s: creating log: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (mkdirat(w->dirfd, "consumers", 0755) < 0 && errno != EEXIST) {
		sl_set_open_error("%s/consumers: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* A writer of DIR with nothing open yet, or NULL (sl_error()). */
static sl_writer *
new_writer(const char *dir)
{
	sl_writer *w;
	int e;

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
	w->segfd = w->idxfd = w->lockfd = w->wnextfd = w->dirfd = -1;
	return w;
}

sl_writer *
sl_writer_open(const char *dir, const struct sl_writer_opts *o)
{
	sl_writer *w;
	int created = 0, e;

	if ((w = new_writer(dir)) == NULL)
		return NULL;
	if ((w->page = sysconf(_SC_PAGESIZE)) <= 0)
		w->page = 4096;
	w->nosync = o ? o->nosync : 0;
	w->compress = o ? o->compress : 0;
	w->warn = o ? o->warn : NULL;
	w->warnarg = o ? o->warnarg : NULL;
	if (mkdir(dir, 0755) == 0)
		created = 1;
	else if (errno != EEXIST) {
		sl_set_open_error("%s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((w->dirfd = sl_dir_open(dir)) < 0) {
		sl_set_open_error("%s: %s", dir, strerror(errno));
		goto fail;
	}
	if (created && !w->nosync && sync_parent(dir) < 0)
		goto fail;
	/* Not even a lock file in a directory that will not become a log. */
	if (!created && sl_settings_readat(w->dirfd, &w->set) < 0 &&
	    errno == ENOENT && fresh_dir(w->dirfd) == 0) {
		errno = EEXIST;
		sl_set_open_error("%s: not a synclog log (no settings file) "
		    "and not empty: refusing to make it one", dir);
		goto fail;
	}
	if ((w->lockfd = sl_open_or_create(w->dirfd, "lock", O_RDWR,
	    0644)) < 0 || sl_lock(w->lockfd, LOCK_EX) < 0) {
		sl_set_open_error("%s/lock: %s", dir, sl_open_strerror(errno));
		goto fail;
	}
	if ((sl_settings_readat(w->dirfd, &w->set) < 0 &&
	    make_log(w, dir, o) < 0) || check_replica(w, dir, o) < 0)
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
	if (!created && !w->nosync && (sl_sync_dirfd(w->dirfd) < 0 ?
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
	struct sl_bbuild *b = &w->fill;
	struct sl_record rec;

	if (b->count > 0 && b->based) {
		errno = EINVAL;		/* a batch of sl_writer_add_at's */
		return -1;
	}
	if (size > w->set.max_record_bytes) {
		errno = EMSGSIZE;
		return -1;
	}
	if (b->count > 0 && b->paylen + size >
	    SL_BATCH_TARGET + w->set.max_record_bytes) {
		errno = ENOBUFS;
		return -1;
	}
	if (b->count >= UINT32_MAX - 1) {
		errno = ENOBUFS;
		return -1;
	}
	/* Copy the record only to stamp it: a copy of a record its caller
	 * has just filled in stalls on store forwarding (perf), and
	 * logappend stamps records itself. */
	if (r->timestamp == SL_NO_TIMESTAMP) {
		rec = *r;
		rec.timestamp = sl_now_ms();
		r = &rec;
	}
	/* Offsets are dense: no gap before any record. */
	return sl_bb_add(b, r, 0);
}

int
sl_writer_add_at(sl_writer *w, const struct sl_record *r)
{
	struct sl_bbuild *b = &w->fill;
	uint64_t last = b->base + b->delta;

	if ((b->count > 0 && (!b->based || r->offset <= last)) ||
	    r->timestamp == SL_NO_TIMESTAMP) {
		errno = EINVAL;
		return -1;
	}
	if (sl_rec_size(r) > w->set.max_record_bytes) {
		errno = EMSGSIZE;
		return -1;
	}
	/* The batch's last offset is its base plus a 32-bit delta. */
	if (b->count > 0 && (b->paylen + sl_rec_size(r) > SL_BATCH_TARGET +
	    w->set.max_record_bytes || b->count >= UINT32_MAX - 1 ||
	    r->offset - b->base > UINT32_MAX - 1)) {
		errno = ENOBUFS;
		return -1;
	}
	if (sl_bb_add(b, r, b->count > 0 ? r->offset - last - 1 : 0) < 0)
		return -1;
	if (b->count == 1) {
		b->based = 1;
		b->base = r->offset;
	}
	return 0;
}

size_t
sl_writer_add_lines(sl_writer *w, const unsigned char *p, size_t n,
    unsigned char delim, int64_t ts, size_t target, size_t *nrec)
{
	size_t most = target / 4;

	if (w->fill.count > 0 && w->fill.based) {
		*nrec = 0;
		return 0;	/* a batch of sl_writer_add_at's */
	}
	if (most > w->set.max_record_bytes)
		most = w->set.max_record_bytes;
	return sl_bb_add_lines(&w->fill, p, n, delim, ts, target, most, nrec);
}

size_t
sl_writer_pending(const sl_writer *w)
{
	return w->fill.count;
}

size_t
sl_writer_pending_bytes(const sl_writer *w)
{
	return w->fill.paylen;
}

void
sl_writer_discard(sl_writer *w)
{
	sl_bb_reset(&w->fill);
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
	int f;

	if (datasync(w, w->segfd, w->segbase, w->segend, 1) < 0)
		return -1;
	/*
	 * Never make a segment where the log may already have gone on: a
	 * segment after this one, made by another writer however it came
	 * about, holds offsets at or past ours, and a new one at w->next
	 * would give them out again.  The last segment is the one to go
	 * on with (the caller checks whether it is full in turn).
	 */
	if ((f = has_later(w)) != 0) {
		if (f < 0) {
			sl_wr_seterr(w, "%s", strerror(errno));
			return -1;
		}
		w->dirsync = 1;
		return load_last(w);
	}
	if (load_segment(w, w->next, 1) == 0)
		return 0;
	if (errno != EEXIST)
		return -1;
	w->dirsync = 1;
	return load_last(w);
}


static int
commit_locked(sl_writer *w, struct sl_bbuild *b, uint64_t expect,
    uint64_t *first)
{
	const unsigned char *p;
	struct sl_batch hdr;
	size_t len;
	char name[64];

	if (catch_up(w) < 0)
		return -1;
	if (b->count > 0 && b->based && b->base < w->next) {
		errno = ESTALE;
		sl_wr_seterr(w, "next offset is %" PRIu64 ", past %" PRIu64,
		    w->next, b->base);
		return -1;
	}
	if (expect != SL_NO_OFFSET && expect != w->next) {
		errno = ESTALE;
		sl_wr_seterr(w, "next offset is %" PRIu64 ", not %" PRIu64, w->next,
		    expect);
		return -1;
	}
	if (first)
		*first = w->next;
	if (b->count == 0)
		return 0;
	while (sl_wr_rotate_due(w))
		if (rotate(w) < 0)
			return -1;
	if ((p = sl_bb_seal(b, b->based ? b->base : w->next, SL_NO_OFFSET,
	    w->compress, &hdr)) == NULL) {
		sl_wr_seterr(w, "%s", strerror(errno));
		return -1;
	}
	len = hdr.length;
	if (w->nosync)
		sl_wr_reserve(w, len);
	sl_segment_name(name, sizeof name, w->segbase, ".log");
	if (sl_pwrite_full(w->segfd, p, len, (off_t)w->segend) < 0) {
		int e = errno;

		/* Leave the log as it was: cut what part of it landed. */
		if (ftruncate(w->segfd, (off_t)w->segend) < 0)
			w->broken = 1;
		errno = e;
		sl_wr_seterr(w, "%s: write: %s", name, strerror(errno));
		return -1;
	}
	if (w->nosync ? sl_wr_writeback(w, w->segend + len) < 0 :
	    datasync(w, w->segfd, w->segbase, w->segend + len, 0) < 0)
		return -1;
	/*
	 * The segment is another writer's, which may have made it with -N:
	 * its name is durable only once the directory is synced.
	 */
	if (!w->nosync && w->dirsync) {
		if (sl_sync_dirfd(w->dirfd) < 0) {
			sl_wr_seterr(w, "directory sync: %s", strerror(errno));
			return -1;
		}
		w->dirsync = 0;
	}
	index_batch(w, w->segend, &hdr);
	w->segend += len;
	if (first)
		*first = hdr.base;
	w->next = hdr.base + hdr.last_delta + 1;
	if (hdr.max_ts > w->segmax)
		w->segmax = hdr.max_ts;
	sl_bb_reset(b);
	sl_wr_mark(w);
	return 0;
}

/* Commit batch B under the log's lock. */
int
sl_wr_commit(sl_writer *w, struct sl_bbuild *b, uint64_t expect,
    uint64_t *first)
{
	int r, e;

	if (w->broken) {
		/* The message of the failure that broke it, again. */
		sl_seterr("%s", w->err);
		errno = EIO;
		return -1;
	}
	if (sl_lock(w->lockfd, LOCK_EX) < 0) {
		sl_wr_seterr(w, "lock: %s", strerror(errno));
		return -1;
	}
	r = commit_locked(w, b, expect, first);
	e = errno;
	if (sl_lock(w->lockfd, LOCK_UN) < 0 && r == 0) {
		sl_wr_seterr(w, "lock: %s", strerror(errno));
		return -1;
	}
	errno = e;
	return r;
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
	return sl_wr_commit(w, &w->fill, expect, first);
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


int
sl_writer_finish(sl_writer *w)
{
	uint64_t f;
	size_t n;

	while (w->outstanding > 0)
		sl_writer_wait(w, &f, &n);
	if (w->running) {
		sl_wr_stop_thread(&w->mu, &w->work, &w->quit, w->thread);
		w->running = 0;
	}
	if (w->wrunning) {
		sl_wr_stop_thread(&w->wmu, &w->wcv, &w->wquit, w->wthread);
		w->wrunning = 0;
		if (w->wnextfd >= 0)
			close(w->wnextfd);
		w->wnextfd = -1;
		if (w->werr && !w->broken) {
			errno = w->werr;
			return sl_wr_disk_failed(w, "sync_file_range", w->werrbase);
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
	sl_wr_release(w);
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wcv);
	pthread_mutex_destroy(&w->wmu);
	close_segment(w);
	if (w->lockfd >= 0)
		close(w->lockfd);
	if (w->dirfd >= 0)
		close(w->dirfd);
	sl_bb_free(&w->fill);
	sl_bb_free(&w->flight);
	sl_bb_free(&w->queued);
	sl_bb_free(&w->spare);
	free(w->dir);
	free(w);
	return 0;
}
