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
/* Sorted base offsets of the segments in DIR; *N of them (malloc'd). */
int	sl_segment_list(const char *dir, uint64_t **bases, size_t *n);

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

#endif /* SL_SEGMENT_H */
