/*
 * segment.h - segment.c: segment files, their names and listing, and
 * scanning their batches through a read window.
 */
#ifndef SL_SEGMENT_H
#define SL_SEGMENT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define SL_SEGMENT_DIGITS	20

/* Name of the file for segment BASE with SUFFIX (".log", ".index"). */
void	sl_segment_name(char *buf, size_t len, uint64_t base,
	    const char *suffix);
/* Parse "NNNN....log"; 0 and *BASE on success. */
int	sl_segment_parse(const char *name, uint64_t *base);
/* Sorted base offsets of the segments in directory DIRFD; *N of them
 * (malloc'd). */
int	sl_segment_list(int dirfd, uint64_t **bases, size_t *n);
/* The same for the directory named PATH (the test tools' way). */
int	sl_segment_list_path(const char *path, uint64_t **bases, size_t *n);

/*
 * The file SUFFIX (".log", ".index") of segment BASE in the log directory
 * DIRFD, opened as sl_openat does (never through a symbolic link, a
 * regular file only); sl_segment_create makes it, exclusively.
 */
int	sl_segment_open(int dirfd, uint64_t base, const char *suffix,
	    int flags);
int	sl_segment_create(int dirfd, uint64_t base, const char *suffix,
	    int flags);

/*
 * A window of file bytes for scanning batches with few system calls.
 * Bytes [pos, pos+len) of the file are in buf.
 */
struct sl_window {
	unsigned char	*buf;
	size_t		 cap, len;
	uint64_t	 pos;
};

/* Make [at, at+need) present; bytes available from AT (may be < need). */
ssize_t	sl_window_get(struct sl_window *, int fd, uint64_t at, size_t need);
void	sl_window_drop(struct sl_window *);
void	sl_window_free(struct sl_window *);

enum sl_scan {
	SL_SCAN_OK,		/* a valid batch */
	SL_SCAN_EOF,		/* clean end of file */
	SL_SCAN_SHORT,		/* bytes end inside a batch (incomplete) */
	SL_SCAN_BAD,		/* not a valid batch here */
	SL_SCAN_ERROR		/* I/O error, errno set */
};

/*
 * Read the batch at AT through W.  On OK, *B is its header and *P points
 * to its bytes inside the window (valid until the next window call).
 * NEXT is the smallest offset the batch may start at.
 */
enum sl_scan sl_scan_batch(struct sl_window *w, int fd, uint64_t at,
	    size_t limit, uint64_t next, struct sl_batch *b,
	    const unsigned char **p, const char **why);

/*
 * Whether a valid batch with base offset >= NEXT starts anywhere after
 * byte AT of the file: 1 yes (*FOUND its position), 0 no, -1 error.
 */
int	sl_scan_later(int fd, uint64_t at, size_t limit, uint64_t next,
	    uint64_t *found);

/*
 * The one verdict on where a segment's valid data ends.  A scan from the
 * segment's start stops at POS, the byte after its last valid batch,
 * expecting offset NEXT there:
 * - CLEAN: the file ends there;
 * - TORN: what follows is not a batch and no valid batch comes after it:
 *   an incomplete tail, which a crash leaves (or a writer is making), the
 *   end of the log for readers, truncated by the next writer;
 * - CORRUPT: damage, followed by a valid batch at byte FOUND (or, in a
 *   segment that is not the log's last, any incomplete tail: a segment is
 *   complete before the next one is made).  Never truncated: readers stop
 *   there with exit 1, writers refuse, logfsck --salvage recovers.
 */
enum sl_end {
	SL_END_CLEAN,
	SL_END_TORN,
	SL_END_CORRUPT,
	SL_END_RETRY		/* the batch at pos is whole now: a writer
				   was writing it (last segment only) */
};

struct sl_segend {
	enum sl_end	 kind;
	uint64_t	 pos;		/* byte after the last valid batch */
	uint64_t	 next;		/* offset after its last record */
	uint64_t	 found;		/* CORRUPT: a valid batch after, or NONE */
	const char	*why;		/* TORN, CORRUPT: what is wrong at pos */
};

/*
 * Judge the end of segment FD, whose scan stopped at POS with S and WHY
 * (sl_scan_batch), expecting offset NEXT.  LAST: the log's last segment.
 * 0 and *E, or -1 with errno on an I/O error.
 */
int	sl_segend_judge(int fd, enum sl_scan s, const char *why, uint64_t pos,
	    uint64_t next, size_t limit, int last, struct sl_segend *e);

/*
 * The one message for a CORRUPT end of the segment named NAME, in
 * sl_error(): "NAME: byte P: offset N: WHY[, followed by valid data at
 * byte Q]".  Returns -1 with errno EBADMSG.
 */
int	sl_segend_fail(const struct sl_segend *, const char *name);

/*
 * A scan of a segment's batches, in order, from byte POS where offset NEXT
 * is expected: each valid batch, then the verdict on what ends them.  The
 * one loop the writer, the readers, logstat, logfsck and logcompact use.
 */
struct sl_segscan {
	int		 fd;
	size_t		 limit;
	uint64_t	 pos;		/* of the next batch */
	uint64_t	 next;		/* least offset it may start at */
	struct sl_window win;
	struct sl_segend end;		/* after sl_segscan_next returned 0 */
};

void	sl_segscan_init(struct sl_segscan *, int fd, uint64_t pos,
	    uint64_t next, size_t limit);
/*
 * The next valid batch: 1, *B its header and *P its bytes (valid until the
 * next call), and the scan past it; 0 at the end of the valid batches,
 * with S->end judged (LAST as for sl_segend_judge); -1 with errno on an
 * I/O error.
 */
int	sl_segscan_next(struct sl_segscan *, int last, struct sl_batch *b,
	    const unsigned char **p);
void	sl_segscan_free(struct sl_segscan *);

/* The offset after batch B: where the next batch, or segment, starts. */
static inline uint64_t
sl_batch_end(const struct sl_batch *b)
{
	return b->base + b->last_delta + 1;
}

/*
 * Between two segments that follow each other: the first, PREV, ends at
 * offset END (after its last batch, its holes included); the next in a
 * listing of directory DIRFD, NAME, starts at BASE.  They join when END ==
 * BASE: a segment is made at the offset where the one before ended, and
 * compaction and salvage keep every segment's end (SL_BATCH_SPAN).  0 when
 * they join.  1 when they do not but segment END exists now: a listing
 * read while compaction renamed that segment into place can miss it, so a
 * gap is believed only when the segment is missing by name too (DIRFD -1:
 * a lone file, nothing to look for); read segment END instead.  Else -1
 * with errno EBADMSG and sl_error() naming the offsets lost between them
 * (a segment deleted or renamed) or the overlap.
 */
int	sl_segment_chain(int dirfd, uint64_t end, uint64_t base,
	    const char *prev, const char *name);

/*
 * What a path given to a reader names: a log directory, or a single
 * segment file (for ad-hoc debugging).  A lone file must be a segment:
 * one that begins with a batch header, or an empty one named like one;
 * anything else ("logcat /var/log/dpkg.log") is not read as an empty log.
 */
struct sl_logpath {
	int		 dirfd;		/* the log, or the lone file's dir */
	int		 fd;		/* the lone segment, or -1 */
	char		 name[256];	/* its file name */
	uint64_t	 base;		/* its base (from the name; 0 if none) */
	struct sl_settings set;		/* zeroed for a lone segment outside
					   a log */
};

/*
 * Open PATH: 0, or -1 with errno and sl_error(), which the caller puts
 * after PATH: "not a synclog log (no settings file)", "damaged settings
 * file", "not a synclog segment" (errno EINVAL), or strerror's.
 */
int	sl_logpath_open(const char *path, struct sl_logpath *);
void	sl_logpath_close(struct sl_logpath *);

#endif /* SL_SEGMENT_H */
