/*
 * rewrite.h - rewrite.c: replacing a segment or its index atomically
 * (logcompact, logfsck), and the maintenance lock they hold.
 */
#ifndef SL_REWRITE_H
#define SL_REWRITE_H

#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include "index.h"

/* An flock (OP: LOCK_SH or LOCK_EX) on the log directory itself, held by
 * maintenance tools; a descriptor to close, or -1. */
int	sl_maint_lock(const char *dir, int op);
/* Whether NAME is a temporary file of ours (".NNN.log.new.PID"). */
int	sl_maint_tmpname(const char *name);

/* A segment (or, INDEX_ONLY, just an index) being written under a
 * temporary name, to replace segment BASE of the log directory DIRFD. */
struct sl_newseg {
	int		 dirfd;
	const char	*id;		/* the log's id, for the index */
	uint64_t	 base;
	int		 fd, ifd;
	uint64_t	 pos;		/* bytes of batches so far */
	uint64_t	 records;
	struct sl_ibuild ib;
	struct timespec	 mtime;		/* to keep, unless UTIME_OMIT */
	char		 tmp[128], itmp[128];
};

int	sl_newseg_open(struct sl_newseg *, int dirfd, const char *id,
	    uint64_t base, int index_only);
/* Before the first batch: the segment's seed (sl_ibuild_seed). */
void	sl_newseg_seed(struct sl_newseg *, int64_t seed);
/* The new segment keeps the old one's modification time T: when it was
 * written, which a tombstone's grace counts from (compact.c). */
void	sl_newseg_mtime(struct sl_newseg *, const struct timespec *t);
/* Append batch P (B->length bytes; index only: just note it). */
int	sl_newseg_batch(struct sl_newseg *, const unsigned char *p,
	    const struct sl_batch *);
/* Append batches of no record covering offsets FROM to TO (inclusive): a
 * hole that compaction or salvage leaves, kept so that the segment still
 * ends where the next begins (SL_BATCH_SPAN). */
int	sl_newseg_hole(struct sl_newseg *, uint64_t from, uint64_t to);
/*
 * Sync and rename into place: the segment, then its index, then sync the
 * directory.  With KEEP_SAME_INDEX an index equal to the one in place is
 * dropped instead.  1 replaced, 0 index unchanged, -1 error (temporary
 * files removed).
 */
int	sl_newseg_commit(struct sl_newseg *, int keep_same_index);
void	sl_newseg_abort(struct sl_newseg *);
/* Unlink segment BASE and its index (the caller syncs the directory). */
int	sl_segment_remove(int dirfd, uint64_t base);

#endif /* SL_REWRITE_H */
