/*
 * reader.c - the read path: position by offset or time, iterate records,
 * follow a growing log.  Readers take no lock and never write.
 *
 * Invariants:
 * - No record is returned unless its batch's CRC verified and its offset
 *   is above every offset returned before it.
 * - At the end of the last segment, bytes that do not form a valid batch
 *   are an incomplete tail (the end of the log for now) unless a valid
 *   batch follows them: that is corruption, reported with the segment,
 *   byte position and expected offset.  In any other segment, anything
 *   but a clean end is corruption (a segment is complete before the next
 *   one is created).
 * - Watches are in place before the data they guard is read, so a wait
 *   never sleeps through an append that happened after a read saw the end.
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "log.h"
#include "fmt.h"

struct sl_reader {
	char		*dir;		/* directory holding the segments */
	char		*file;		/* the lone segment, or NULL */
	struct sl_logpath lp;		/* the same, open (segment.c) */
	struct sl_settings set;
	size_t		 limit;
	uint64_t	*bases;
	size_t		 nbases;

	int		 fd;		/* current segment */
	uint64_t	 segbase;
	uint64_t	 pos;		/* byte of the next batch */
	uint64_t	 next;		/* least offset the next batch may hold */
	uint64_t	 want;		/* skip records below this */
	uint64_t	 curpos;	/* byte of the cursor's batch */
	struct sl_window win;
	struct sl_cursor cur;
	int		 incur;
	unsigned char	*scratch;
	size_t		 scap;

	int		 ino, wd_dir, wd_seg;
	int		 failed;
	char		 err[768];
};

static void
seterr(sl_reader *r, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	sl_seterr("%s", r->err);
	va_end(ap);
	errno = e;
}

/*
 * Segment BASE's file SUFFIX, opened read-only: of the log, or a new
 * descriptor of the lone segment (which has no index: ENOENT).
 */
static int
seg_open(const sl_reader *r, uint64_t base, const char *suffix)
{
	if (r->file == NULL)
		return sl_segment_open(r->lp.dirfd, base, suffix, O_RDONLY);
	if (strcmp(suffix, ".log") != 0) {
		errno = ENOENT;
		return -1;
	}
	return fcntl(r->lp.fd, F_DUPFD_CLOEXEC, 0);
}

static const char *
segname(const sl_reader *r, char *buf, size_t len)
{
	const char *slash;

	if (r->file != NULL) {
		slash = strrchr(r->file, '/');
		snprintf(buf, len, "%s", slash ? slash + 1 : r->file);
	} else
		sl_segment_name(buf, len, r->segbase, ".log");
	return buf;
}

static int
refresh(sl_reader *r)
{
	uint64_t *b;
	size_t n;

	if (r->file != NULL) {
		if (r->bases == NULL) {
			if ((r->bases = malloc(sizeof *r->bases)) == NULL)
				return -1;
			r->bases[0] = r->segbase;
			r->nbases = 1;
		}
		return 0;
	}
	if (sl_segment_list(r->lp.dirfd, &b, &n) < 0) {
		seterr(r, "%s", strerror(errno));
		return -1;
	}
	free(r->bases);
	r->bases = b;
	r->nbases = n;
	return 0;
}

static void
watch_segment(sl_reader *r)
{
	char path[PATH_MAX], name[64];

	if (r->ino < 0)
		return;
	if (r->wd_seg >= 0)
		inotify_rm_watch(r->ino, r->wd_seg);
	if (r->file != NULL)
		snprintf(path, sizeof path, "%s", r->file);
	else {
		sl_segment_name(name, sizeof name, r->segbase, ".log");
		snprintf(path, sizeof path, "%s/%s", r->dir, name);
	}
	r->wd_seg = inotify_add_watch(r->ino, path, IN_MODIFY |
	    IN_DONT_FOLLOW);
}

/* Open segment BASE and position at its start; -1 ENOENT if it is gone. */
static int
open_segment(sl_reader *r, uint64_t base)
{
	int fd;

	if ((fd = seg_open(r, base, ".log")) < 0)
		return -1;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->segbase = base;
	r->pos = 0;
	if (r->next < base)
		r->next = base;
	r->incur = 0;
	sl_window_drop(&r->win);
	watch_segment(r);
	return 0;
}

/* Segment BASE could not be opened: say which, and why. */
static int
cannot_open(sl_reader *r, uint64_t base)
{
	char name[64];

	if (r->file != NULL)
		snprintf(name, sizeof name, "%s", r->file);
	else
		sl_segment_name(name, sizeof name, base, ".log");
	seterr(r, "%s: %s", name, sl_open_strerror(errno));
	return -1;
}

/*
 * Open the first segment with a base above AFTER (or the first at all when
 * FIRST), skipping segments deleted under us.  1 opened, 0 none, -1 error.
 */
static int
open_following(sl_reader *r, uint64_t after, int first)
{
	for (;;) {
		size_t i;

		for (i = 0; i < r->nbases; i++)
			if (first || r->bases[i] > after)
				break;
		if (i == r->nbases)
			return 0;
		if (open_segment(r, r->bases[i]) == 0)
			return 1;
		if (errno != ENOENT)
			return cannot_open(r, r->bases[i]);
		if (refresh(r) < 0)
			return -1;
	}
}

sl_reader *
sl_reader_open(const char *path)
{
	sl_reader *r;
	int e;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		sl_set_open_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	r->fd = r->ino = r->wd_dir = r->wd_seg = -1;
	if (sl_logpath_open(path, &r->lp) < 0) {
		sl_set_open_error("%s: %s", path, sl_error());
		goto fail;
	}
	r->set = r->lp.set;
	if (r->lp.fd >= 0) {
		const char *slash = strrchr(path, '/');

		if ((r->file = strdup(path)) == NULL)
			goto fail_errno;
		r->dir = slash == NULL ? strdup(".") :
		    strndup(path, slash - path + (slash == path));
		r->segbase = r->lp.base;
	} else
		r->dir = strdup(path);
	if (r->dir == NULL)
		goto fail_errno;
	r->limit = sl_batch_limit(r->set.max_record_bytes);
	if (refresh(r) < 0) {
		sl_set_open_error("%s: %s", path, r->err);
		goto fail;
	}
	if (r->file != NULL) {
		if (open_segment(r, r->segbase) < 0) {
			sl_set_open_error("%s: %s", path, strerror(errno));
			goto fail;
		}
	} else if (open_following(r, 0, 1) < 0) {
		sl_set_open_error("%s: %s", path, r->err);
		goto fail;
	}
	return r;
fail_errno:
	sl_set_open_error("%s: %s", path, strerror(errno));
fail:
	e = errno;
	sl_reader_close(r);
	errno = e;
	return NULL;
}

/* Position FD-less state at the index entry for OFFSET in the current
 * segment, if the index has a good one. */
static int
seek_in_segment(sl_reader *r, uint64_t offset)
{
	struct sl_ientry e;
	struct sl_ikey k;
	int ifd, f;

	if ((ifd = seg_open(r, r->segbase, ".index")) < 0)
		return 0;	/* no index: scan from the start */
	sl_ikey_init(&k, r->segbase, r->set.id);
	f = sl_index_find_offset(ifd, r->fd, &k, r->limit, offset, &e);
	close(ifd);
	if (f > 0) {
		r->pos = e.pos;
		r->next = e.offset;
	}
	return 0;
}

/*
 * OFFSET lies below the first segment listed: the log begins after it,
 * or the listing missed the segment that holds it (one compaction renamed
 * into place as the directory was read; nothing names it to look for, as
 * sl_segment_chain can for a later one).  Believed once a listing made
 * afterwards agrees.
 */
static int
confirm_first(sl_reader *r, uint64_t offset)
{
	uint64_t first;

	for (int tries = 0; tries < 8; tries++) {
		if (r->file != NULL || r->nbases == 0 || r->bases[0] <= offset)
			return 0;
		first = r->bases[0];
		if (refresh(r) < 0)
			return -1;
		if (r->nbases > 0 && r->bases[0] == first)
			return 0;
	}
	return 0;
}

int
sl_reader_seek(sl_reader *r, uint64_t offset)
{
	size_t i;
	int f;

	r->failed = 0;
	r->incur = 0;
	r->want = offset;
	if (refresh(r) < 0 || confirm_first(r, offset) < 0)
		return -1;
	r->next = 0;
	for (;;) {
		/* The last segment whose base is <= OFFSET, or the first. */
		for (i = r->nbases; i > 0 && r->bases[i - 1] > offset; i--)
			;
		if (r->nbases == 0)
			return 0;
		if (open_segment(r, r->bases[i > 0 ? i - 1 : 0]) == 0)
			break;
		if (errno != ENOENT)
			return cannot_open(r, r->bases[i > 0 ? i - 1 : 0]);
		if (refresh(r) < 0)
			return -1;
	}
	if ((f = seek_in_segment(r, offset)) < 0)
		return -1;
	return 0;
}

static int
corrupt(sl_reader *r, uint64_t pos, const char *why)
{
	char name[64];

	r->failed = 1;
	errno = EBADMSG;
	seterr(r, "%s: byte %" PRIu64 ": offset %" PRIu64 ": %s",
	    segname(r, name, sizeof name), pos, r->next, why);
	return -1;
}

/*
 * Whether a segment after the current one exists now.  The directory is
 * listed again only at the last known segment: listing it at every
 * segment's end made reading N segments cost N listings.
 */
static int
has_later(sl_reader *r)
{
	if (r->nbases > 0 && r->bases[r->nbases - 1] > r->segbase)
		return 1;
	if (refresh(r) < 0)
		return -1;
	return r->nbases > 0 && r->bases[r->nbases - 1] > r->segbase;
}

/*
 * The segment after the current one, which ended cleanly at offset
 * r->next: it must start there (segment.c, sl_segment_chain), or the
 * offsets between are lost (a segment deleted, or retention removing
 * what this reader had yet to read).  1 opened, 0 none, -1 error.
 */
static int
next_segment(sl_reader *r)
{
	uint64_t end = r->next;
	char prev[64], name[64];
	int f;

	segname(r, prev, sizeof prev);
	if ((f = open_following(r, r->segbase, 0)) <= 0)
		return f;
	f = sl_segment_chain(r->file != NULL ? -1 : r->lp.dirfd, end,
	    r->segbase, prev, segname(r, name, sizeof name));
	if (f == 1) {
		/* The listing missed segment END (renamed into place as it
		 * was read): read it, and list again for what follows. */
		r->next = end;
		if (open_segment(r, end) == 0)
			return refresh(r) < 0 ? -1 : 1;
		if (errno != ENOENT)
			return cannot_open(r, end);
		/* Gone since (retention): the offsets are lost after all. */
		f = sl_segment_chain(-1, end, r->segbase, prev, name);
	}
	if (f < 0) {
		r->failed = 1;
		r->next = end;
		seterr(r, "%s", sl_error());
		errno = EBADMSG;
		return -1;
	}
	return 1;
}

/*
 * Whether the current segment's name now holds another file: logfsck
 * --repair and --salvage write a new one under the same name (under the
 * writers' lock), and appends go there.  A reader of the old file would
 * wait at its end forever, or stop at damage the new one no longer has:
 * open the new one and go on after what was read (r->want: nothing
 * twice).  1 reopened, 0 the same file (or none), -1 error.
 */
static int
reopen_replaced(sl_reader *r)
{
	struct stat have, now;
	char name[64];

	if (r->file != NULL || r->fd < 0)
		return 0;
	sl_segment_name(name, sizeof name, r->segbase, ".log");
	if (fstat(r->fd, &have) < 0) {
		seterr(r, "%s: %s", name, strerror(errno));
		return -1;
	}
	/* Not a regular file (a symbolic link planted there): not a
	 * segment logfsck wrote; the file this reader has stays its own. */
	if (fstatat(r->lp.dirfd, name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(now.st_mode) ||
	    (now.st_ino == have.st_ino && now.st_dev == have.st_dev))
		return 0;
	if (r->want < r->next)
		r->want = r->next;
	r->next = 0;
	if (open_segment(r, r->segbase) < 0)
		return errno == ENOENT ? 0 : cannot_open(r, r->segbase);
	return seek_in_segment(r, r->want) < 0 ? -1 : 1;
}

/*
 * The bytes at r->pos are not a valid batch (KIND).  Decide, by the one
 * verdict every reader and the writer follow (segment.c), between the
 * end of the log for now (0), corruption (-1), or "read again" (1).
 */
static int
not_a_batch(sl_reader *r, enum sl_scan kind, const char *why, int retried)
{
	struct sl_segend e;
	char name[64];
	int later;

	sl_window_drop(&r->win);
	if ((later = has_later(r)) < 0)
		return -1;
	/* A writer completes a segment before starting the next: read once
	 * more in case it was still being written. */
	if (later && !retried)
		return 1;
	if (sl_segend_judge(r->fd, kind, why, r->pos, r->next, r->limit,
	    !later, &e) < 0) {
		seterr(r, "%s", strerror(errno));
		return -1;
	}
	switch (e.kind) {
	case SL_END_CLEAN:
		if (later)
			return next_segment(r);
		return reopen_replaced(r);	/* or the end for now */
	case SL_END_TORN:
		/* An incomplete tail: the end for now, unless a repair
		 * replaced the segment. */
		return reopen_replaced(r);
	case SL_END_RETRY:
		return 1;	/* a writer finished it meanwhile */
	case SL_END_CORRUPT:
		break;
	}
	/* Damage in a file salvage has replaced since: read its copy. */
	if ((later = reopen_replaced(r)) != 0)
		return later;
	r->failed = 1;
	sl_segend_fail(&e, segname(r, name, sizeof name));
	seterr(r, "%s", sl_error());
	errno = EBADMSG;
	return -1;
}

/*
 * Make the next batch with records at or after r->want the cursor's:
 * 1 done, 0 the end of the log for now, -1 error.
 */
static int
next_batch(sl_reader *r)
{
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	enum sl_scan s;
	int retried = 0, f;

	for (;;) {
		if (r->fd < 0) {
			if (refresh(r) < 0)
				return -1;
			if ((f = open_following(r, 0, 1)) <= 0)
				return f;
		}
		s = sl_scan_batch(&r->win, r->fd, r->pos, r->limit, r->next,
		    &b, &p, &why);
		if (s == SL_SCAN_ERROR) {
			seterr(r, "%s", strerror(errno));
			return -1;
		}
		if (s != SL_SCAN_OK) {
			f = not_a_batch(r, s, why, retried);
			if (f <= 0)
				return f;
			retried = !retried;
			continue;
		}
		retried = 0;
		uint64_t batch_pos = r->pos;

		r->pos += b.length;
		r->next = b.base + b.last_delta + 1;
		if (r->next <= r->want)
			continue;	/* wholly before the start: skip */
		if (sl_cursor_start(&r->cur, p, &b, &r->scratch, &r->scap) < 0) {
			r->pos = batch_pos;
			r->next = b.base;
			return corrupt(r, batch_pos, "bad compressed payload");
		}
		r->curpos = batch_pos;
		r->incur = 1;
		return 1;
	}
}

/* The cursor's batch holds a malformed record (its CRC held: a writer's
 * bug): name the batch and the offset the record would have had. */
static int
malformed(sl_reader *r)
{
	r->incur = 0;
	r->next = r->cur.started ? r->cur.prev + 1 : r->cur.base;
	return corrupt(r, r->curpos, "malformed record");
}

int
sl_reader_next(sl_reader *r, struct sl_record *rec)
{
	int f;

	if (r->failed) {
		errno = EBADMSG;
		return -1;
	}
	for (;;) {
		if (r->incur) {
			f = sl_cursor_next(&r->cur, rec);
			if (f > 0 && rec->offset < r->want)
				continue;
			if (f > 0)
				return 1;
			if (f < 0)
				return malformed(r);
			r->incur = 0;
			continue;
		}
		if ((f = next_batch(r)) <= 0)
			return f;
	}
}

/*
 * print_batch's loop, TEXT a constant in each copy.  The text format
 * is written straight from the batch: no headers stored, no format
 * dispatch, nothing but the decoding and the copy per record.
 */
static inline __attribute__((always_inline)) int
print_loop(struct sl_cursor *c, struct sl_out *o, uint64_t want,
    struct sl_print *pr, int text)
{
	struct sl_record rec;
	size_t hb;
	int f;

	for (;;) {
		if (pr->n >= pr->max || pr->bytes >= pr->maxbytes)
			return 1;
		if ((f = sl_cursor_step(c, &rec, pr->end, !text, &hb)) <= 0)
			return f;
		if (f == 2)
			return 1;
		if (rec.offset < want)
			continue;
		if (text ? sl_rf_text(o, rec.key, rec.keylen, rec.value,
		    rec.valuelen) < 0 : sl_out_record(o, &rec) < 0)
			return -2;
		if (pr->n++ == 0)
			pr->first = rec.offset;
		pr->last = rec.offset;
		pr->bytes += sl_rec_base(&rec) + hb;
	}
}

/*
 * Print the batch's records at or after WANT into O within PR's limits
 * (sl_reader_print): 1 a limit reached (a record at or past PR->end
 * stays unread), 0 batch done, -1 malformed, -2 output error (errno).
 * Here, not in batch.c: the batch layer knows nothing of formats.
 */
static int
print_batch(struct sl_cursor *c, struct sl_out *o, uint64_t want,
    struct sl_print *pr)
{
	if (o->fmt.kind == SL_FMT_TEXT)
		return print_loop(c, o, want, pr, 1);
	return print_loop(c, o, want, pr, 0);
}

int
sl_reader_print(sl_reader *r, sl_out *o, struct sl_print *pr)
{
	int f;

	if (r->failed) {
		errno = EBADMSG;
		return -1;
	}
	for (;;) {
		if (pr->n >= pr->max || pr->bytes >= pr->maxbytes)
			return 1;
		if (r->incur) {
			f = print_batch(&r->cur, o, r->want, pr);
			if (f == 1 || f == -2)
				return f;
			if (f < 0)
				return malformed(r);
			r->incur = 0;
			continue;
		}
		if ((f = next_batch(r)) <= 0)
			return f;
	}
}

/* The offset after the last valid batch of the last segment. */
static int
find_end(sl_reader *r, uint64_t *end)
{
	struct sl_segscan sc;
	struct sl_ientry e;
	struct sl_batch b;
	struct sl_ikey k;
	const unsigned char *p;
	char name[64];
	uint64_t base, pos = 0, next;
	int fd, ifd, f;

	if (r->nbases == 0) {
		*end = 0;
		return 0;
	}
	base = r->bases[r->nbases - 1];
	next = base;
	if (r->file != NULL)
		segname(r, name, sizeof name);
	else
		sl_segment_name(name, sizeof name, base, ".log");
	if ((fd = seg_open(r, base, ".log")) < 0) {
		seterr(r, "%s: %s", name, sl_open_strerror(errno));
		return -1;
	}
	if ((ifd = seg_open(r, base, ".index")) >= 0) {
		sl_ikey_init(&k, base, r->set.id);
		if (sl_index_find_offset(ifd, fd, &k, r->limit, UINT64_MAX,
		    &e) > 0) {
			pos = e.pos;
			next = e.offset;
		}
		close(ifd);
	}
	sl_segscan_init(&sc, fd, pos, next, r->limit);
	while ((f = sl_segscan_next(&sc, 1, &b, &p)) > 0)
		;
	sl_segscan_free(&sc);
	close(fd);
	/* What ends the scan must be a clean end or an incomplete tail, as
	 * for sl_reader_next: not a read error, not damage before data. */
	if (f < 0) {
		seterr(r, "%s: %s", name, strerror(errno));
		return -1;
	}
	if (sc.end.kind == SL_END_CORRUPT) {
		sl_segend_fail(&sc.end, name);
		seterr(r, "%s", sl_error());
		errno = EBADMSG;
		return -1;
	}
	*end = sc.next;
	return 0;
}

int
sl_reader_bounds(sl_reader *r, uint64_t *begin, uint64_t *end)
{
	uint64_t e = 0;

	/* The beginning alone needs no end (which damage in the last
	 * segment may hide), unless the log has no segment. */
	if (refresh(r) < 0 ||
	    ((end != NULL || r->nbases == 0) && find_end(r, &e) < 0))
		return -1;
	if (begin != NULL)
		*begin = r->nbases > 0 ? r->bases[0] : e;
	if (end != NULL)
		*end = e;
	return 0;
}

/*
 * Lookups by time (sl_reader_find_time) and by offset (sl_reader_locate)
 * read a few kilobytes and one batch, whatever the size of the log.
 *
 * The answer to a time lookup is the first record, in offset order, whose
 * timestamp is >= MS: it lies in the first segment holding such a record.
 * The segments' seeds (index.c: the largest timestamp of the log before
 * each) rule out, by a binary search that reads the first entry of about
 * log2(segments) indexes, every segment before the last one whose seed is
 * below MS; that one usually holds the answer.  A sealed segment that does
 * not (seeds may be too large, never too small) is ruled out by
 * sl_index_segmax, a few small reads whatever its size, and the search
 * goes on with the next.  Within the segment that holds the answer, the
 * index names the batch to start from and at most about SL_INDEX_INTERVAL
 * bytes and one batch are scanned.
 *
 * An index entry is checked by scanning from it: the batch it names must
 * be there, verified, with the offset it gives; if not, the entries are
 * verified one by one (sl_index_find_*) or the segment is scanned from its
 * start.  A verified batch is remembered (sl_batch_known_add), so the seek
 * and read that usually follow a lookup do not checksum it again.
 *
 * The index is opened before its segment: logcompact renames a rewritten
 * segment into place before its index, so an index is never newer than the
 * segment it is read with (an older one only makes a time lookup start
 * earlier, which is safe).
 */

/* What a lookup looks for: the first record with timestamp >= MS
 * (BYTIME), or with offset >= OFF. */
struct look {
	int		 bytime;
	int64_t		 ms;
	uint64_t	 off;
};

/* sl_scan_batch, but a batch this thread verified lately is not
 * checksummed again, and one it verifies now is remembered. */
static enum sl_scan
scan_known(struct sl_window *w, int fd, uint64_t at, size_t limit,
    uint64_t next, struct sl_batch *b, const unsigned char **p,
    const char **why)
{
	enum sl_scan s;
	ssize_t have;

	if ((have = sl_window_get(w, fd, at, SL_BATCH_HDR)) < 0)
		return SL_SCAN_ERROR;
	if (have >= SL_BATCH_HDR &&
	    sl_batch_header(w->buf + (at - w->pos), limit, b) == 0 &&
	    b->base >= next && sl_batch_known(fd, at, w->buf + (at - w->pos))) {
		if ((have = sl_window_get(w, fd, at, b->length)) < 0)
			return SL_SCAN_ERROR;
		if ((size_t)have >= b->length) {
			*p = w->buf + (at - w->pos);
			*why = NULL;
			return SL_SCAN_OK;
		}
	}
	if ((s = sl_scan_batch(w, fd, at, limit, next, b, p, why)) ==
	    SL_SCAN_OK)
		sl_batch_known_add(fd, at, *p);
	return s;
}

/* Open BASE's index (or -1) and then the segment; -1 ENOENT if gone. */
static int
open_for_lookup(sl_reader *r, uint64_t base, int *ifd)
{
	int fd, e;

	*ifd = seg_open(r, base, ".index");
	if ((fd = seg_open(r, base, ".log")) < 0) {
		e = errno;
		if (*ifd >= 0)
			close(*ifd);
		errno = e;
	}
	return fd;
}

/*
 * Where to start looking in segment SFD: the index entry for LK, checked
 * by the scan (CHECK set), or, with CHECK 0, one verified up front.
 */
static int
start_at(sl_reader *r, int ifd, int sfd, uint64_t base,
    const struct look *lk, int check, struct sl_ientry *e)
{
	struct sl_ikey k;

	if (ifd < 0)
		return 0;
	sl_ikey_init(&k, base, r->set.id);
	if (check)
		return sl_index_search(ifd, &k, lk->bytime, lk->off, lk->ms, e);
	if (lk->bytime)
		return sl_index_find_time(ifd, sfd, &k, r->limit, lk->ms, e);
	return sl_index_find_offset(ifd, sfd, &k, r->limit, lk->off, e);
}

/*
 * The first record for LK in the verified batch B at POS, whose bytes are
 * P: 1 found (*W filled), 0 none, -1 malformed (*WHY says how).
 */
static int
find_in_batch(sl_reader *r, struct sl_cursor *c, const unsigned char *p,
    const struct sl_batch *b, uint64_t pos, const struct look *lk,
    struct sl_where *w, const char **why)
{
	struct sl_record rec;
	int f;

	if (lk->bytime ? b->max_ts < lk->ms :
	    b->base + b->last_delta < lk->off)
		return 0;
	if (sl_cursor_start(c, p, b, &r->scratch, &r->scap) < 0) {
		*why = "bad compressed payload";
		return -1;
	}
	while ((f = sl_cursor_next(c, &rec)) > 0)
		if (lk->bytime ? rec.timestamp >= lk->ms :
		    rec.offset >= lk->off) {
			w->offset = rec.offset;
			w->timestamp = rec.timestamp;
			w->pos = pos;
			return 1;
		}
	if (f < 0)
		*why = "malformed record";
	return f;
}

/*
 * The first record for LK in segment BASE: 1 found (*W filled), 0 none,
 * -1 error.  In a sealed segment (LAST 0) anything but a clean end is
 * corruption.
 */
static int
look_in_segment(sl_reader *r, uint64_t base, int last,
    const struct look *lk, struct sl_where *w)
{
	struct sl_window win = { 0 };
	struct sl_cursor c = { 0 };
	struct sl_ientry e;
	struct sl_batch b;
	const unsigned char *p;
	const char *why = NULL;
	char name[64];
	uint64_t pos, next;
	enum sl_scan s = SL_SCAN_EOF;
	int fd, ifd, found = 0, f, check = 1, first;

	if ((fd = open_for_lookup(r, base, &ifd)) < 0)
		return errno == ENOENT ? 0 : -1;
again:
	pos = 0;
	next = base;
	if ((f = start_at(r, ifd, fd, base, lk, check, &e)) < 0)
		goto fail;
	if (f > 0) {
		pos = e.pos;
		next = e.offset;
	}
	for (first = f > 0 && check; !found; first = 0) {
		s = scan_known(&win, fd, pos, r->limit, next, &b, &p, &why);
		if (first && (s != SL_SCAN_OK || b.base != e.offset)) {
			/* The entry does not name its batch: verify them. */
			sl_window_drop(&win);
			check = 0;
			goto again;
		}
		if (s != SL_SCAN_OK)
			break;
		if ((found = find_in_batch(r, &c, p, &b, pos, lk, w,
		    &why)) < 0) {
			found = 0;
			s = SL_SCAN_BAD;
			break;
		}
		if (!found) {
			pos += b.length;
			next = sl_batch_end(&b);
		}
	}
	if (!found && s == SL_SCAN_ERROR)
		goto fail;
	if (r->file == NULL)
		sl_segment_name(name, sizeof name, base, ".log");
	else
		segname(r, name, sizeof name);
	/* A sealed segment must end cleanly (the one verdict). */
	if (!found && !last && s != SL_SCAN_EOF) {
		struct sl_segend end;

		sl_window_drop(&win);
		if (sl_segend_judge(fd, s, why, pos, next, r->limit, 0,
		    &end) < 0)
			goto fail;
		sl_segend_fail(&end, name);
		seterr(r, "%s", sl_error());
		found = -1;
	}
	sl_cursor_free(&c);
	sl_window_free(&win);
	if (ifd >= 0)
		close(ifd);
	close(fd);
	if (found > 0)
		snprintf(w->segment, sizeof w->segment, "%s", name);
	if (found < 0)
		errno = EBADMSG;
	return found;
fail:
	f = errno;
	sl_cursor_free(&c);
	sl_window_free(&win);
	if (ifd >= 0)
		close(ifd);
	close(fd);
	errno = f;
	seterr(r, "%s", strerror(errno));
	return -1;
}

/*
 * The largest timestamp of sealed segment BASE (the next one starting at
 * UPPER): 1 and *MAX, 0 when unknown, -1 on an error, GONE when the
 * segment went meanwhile (retention).
 */
enum { GONE = 2 };

static int
segmax_of(sl_reader *r, uint64_t base, uint64_t upper, int64_t *max)
{
	struct sl_ikey k;
	int fd, ifd, f, e;

	if ((fd = open_for_lookup(r, base, &ifd)) < 0) {
		if (errno == ENOENT)
			return GONE;
		seterr(r, "%s", strerror(errno));
		return -1;
	}
	sl_ikey_init(&k, base, r->set.id);
	f = sl_index_segmax(ifd, fd, &k, upper, r->limit, max);
	e = errno;
	if (ifd >= 0)
		close(ifd);
	close(fd);
	if (f < 0) {
		errno = e;
		seterr(r, "%s", strerror(errno));
		return -1;
	}
	return f;
}

/* Whether sealed segment BASE (the next one starting at UPPER) may hold a
 * timestamp >= MS: 1 maybe, 0 no. */
static int
may_hold(sl_reader *r, uint64_t base, uint64_t upper, int64_t ms)
{
	int64_t max;
	int f;

	if ((f = segmax_of(r, base, upper, &max)) == GONE)
		return 0;
	if (f < 0)
		return -1;
	return f == 0 || max >= ms;
}

/* The seed of segment BASE: 1 known (*SEED), 0 not (no index, or none in
 * it: the caller does without), -1 on a read error. */
static int
seed_of(sl_reader *r, uint64_t base, int64_t *seed)
{
	struct sl_ikey k;
	int ifd, f, e;

	if ((ifd = seg_open(r, base, ".index")) < 0)
		return 0;
	sl_ikey_init(&k, base, r->set.id);
	f = sl_index_seed(ifd, &k, seed);
	e = errno;
	close(ifd);
	errno = e;
	if (f < 0)
		seterr(r, "%s", strerror(errno));
	return f;
}

/* Segments tried after one without a seed before giving up on the half
 * above it. */
#define SEED_TRIES	4

/*
 * Whether the seed SEED of segment I (> 0) holds against the segment
 * before it: at least that one's seed and its largest timestamp, as the
 * writer made it.  1 yes, 0 no or unknown, -1 error.
 */
static int
seed_holds(sl_reader *r, size_t i, int64_t seed)
{
	int64_t prev, max;
	int f;

	if ((f = seed_of(r, r->bases[i - 1], &prev)) != 0)
		if (f < 0 || prev > seed)
			return f < 0 ? -1 : 0;
	if ((f = segmax_of(r, r->bases[i - 1], r->bases[i], &max)) == GONE)
		return 1;	/* gone meanwhile: holds nothing */
	if (f < 0)
		return -1;
	return f > 0 && max <= seed;
}

/*
 * Where a time lookup may start: *START, the last segment whose seed is
 * below MS, found by binary search (segment 0 always may: nothing is
 * before it).  Seeds never decrease along the log; should the ones seen
 * decrease, or the one chosen not hold against the segment before it, an
 * index is damaged and the lookup starts at segment 0, probing every
 * segment.  Starting earlier than needed is always right, only slower; a
 * segment without a seed counts as one that may not be skipped.
 */
static int
start_segment(sl_reader *r, int64_t ms, size_t *start)
{
	size_t lo = 0, hi = r->nbases, mid, m;
	int64_t seed, slo = INT64_MIN, shi = INT64_MAX;
	int f = 0;

	/* Invariant: segment lo may start; none from hi on may. */
	while (hi - lo > 1) {
		mid = lo + (hi - lo) / 2;
		for (m = mid; m < hi && m < mid + SEED_TRIES; m++)
			if ((f = seed_of(r, r->bases[m], &seed)) != 0)
				break;
		if (f < 0)
			return -1;
		if (f == 0) {
			hi = mid;
			continue;
		}
		if (seed < slo || seed > shi) {
			*start = 0;	/* not monotone: trust none */
			return 0;
		}
		if (seed < ms) {
			lo = m;
			slo = seed;
		} else {
			hi = m;
			shi = seed;
		}
	}
	if (lo > 0 && (f = seed_holds(r, lo, slo)) <= 0) {
		if (f < 0)
			return -1;
		lo = 0;
	}
	*start = lo;
	return 0;
}

/*
 * The first record at or after MS: from the segment start_segment names,
 * each sealed segment that cannot hold one (sl_index_segmax) is passed, and
 * the first that may is searched through its index.
 */
int
sl_reader_find_time(sl_reader *r, int64_t ms, uint64_t *offset)
{
	struct look lk = { 1, ms, 0 };
	struct sl_where w;
	size_t i;
	int f;

	if (refresh(r) < 0 || start_segment(r, ms, &i) < 0)
		return -1;
	for (; i < r->nbases; i++) {
		int last = i + 1 == r->nbases;

		if (!last && (f = may_hold(r, r->bases[i], r->bases[i + 1],
		    ms)) <= 0) {
			if (f < 0)
				return -1;
			continue;
		}
		if ((f = look_in_segment(r, r->bases[i], last, &lk, &w)) < 0)
			return -1;
		if (f > 0) {
			*offset = w.offset;
			return 0;
		}
	}
	return sl_reader_bounds(r, NULL, offset);
}

int
sl_reader_locate(sl_reader *r, uint64_t offset, struct sl_where *w)
{
	struct look lk = { 0, 0, offset };
	size_t i;
	int f;

	if (refresh(r) < 0)
		return -1;
	/* The last segment whose base is <= OFFSET, or the first. */
	for (i = r->nbases; i > 0 && r->bases[i - 1] > offset; i--)
		;
	for (i = i > 0 ? i - 1 : 0; i < r->nbases; i++)
		if ((f = look_in_segment(r, r->bases[i], i + 1 == r->nbases,
		    &lk, w)) != 0)
			return f;
	return 0;
}

int
sl_reader_resolve(sl_reader *r, const struct sl_spec *s, uint64_t *offset)
{
	uint64_t begin, end;

	switch (s->kind) {
	case SL_SPEC_ABSOLUTE:
		*offset = s->n;
		return 0;
	case SL_SPEC_TIME_START:
	case SL_SPEC_TIME_END:
		return sl_reader_find_time(r, s->time, offset);
	case SL_SPEC_BEGINNING:
		/* Not the end: a reader from the start must print every good
		 * record before damage in the last segment, then stop. */
		if (refresh(r) < 0)
			return -1;
		*offset = r->nbases > 0 ? r->bases[0] : 0;
		return 0;
	default:
		break;
	}
	if (sl_reader_bounds(r, &begin, &end) < 0)
		return -1;
	if (s->kind == SL_SPEC_END)
		*offset = end;
	else
		*offset = end - begin < s->n ? begin : end - s->n;
	return 0;
}

static int
watch_init(sl_reader *r)
{
	if ((r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
		return -1;
	if (r->file == NULL &&
	    (r->wd_dir = inotify_add_watch(r->ino, r->dir,
	    IN_CREATE | IN_MOVED_TO)) < 0)
		return -1;
	if (r->fd >= 0)
		watch_segment(r);
	return 0;
}

int
sl_reader_fd(sl_reader *r)
{
	if (r->ino < 0 && watch_init(r) < 0) {
		seterr(r, "inotify: %s", strerror(errno));
		return -1;
	}
	return r->ino;
}

int
sl_reader_wait(sl_reader *r, int timeout_ms)
{
	struct pollfd pfd;
	char buf[4096];
	int n;

	if (r->ino < 0) {
		/* Watches made now may have missed a recent append: have the
		 * caller read again before sleeping. */
		if (sl_reader_fd(r) < 0)
			return -1;
		return 1;
	}
	pfd.fd = r->ino;
	pfd.events = POLLIN;
	n = poll(&pfd, 1, timeout_ms);
	if (n < 0) {
		seterr(r, "poll: %s", strerror(errno));
		return -1;
	}
	if (n == 0)
		return 0;
	while (read(r->ino, buf, sizeof buf) > 0)
		;
	return 1;
}

const struct sl_settings *
sl_reader_settings(const sl_reader *r)
{
	return &r->set;
}

void
sl_reader_close(sl_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	if (r->ino >= 0)
		close(r->ino);
	sl_window_free(&r->win);
	sl_cursor_free(&r->cur);
	free(r->scratch);
	free(r->bases);
	free(r->dir);
	free(r->file);
	sl_logpath_close(&r->lp);
	free(r);
}
