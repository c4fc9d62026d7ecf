/*
 * index.h - index.c: the sparse per-segment offset and time index, a
 * cache verified before use and rebuilt with the writer's rule.
 */
#ifndef SL_INDEX_H
#define SL_INDEX_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define SL_INDEX_INTERVAL	4096	/* bytes of batches between entries */
#define SL_INDEX_ENTRY		20

/*
 * Each entry: u32 offset - segment base, u32 byte position of a batch that
 * starts with that offset, i64 timestamp column, u32 CRC-32 of the
 * segment's base and the log's id followed by those 16 bytes.  The entry
 * at byte 0 carries the segment's seed: the largest timestamp of the log
 * before the segment (never less; INT64_MIN when none).  Any other entry
 * carries the largest timestamp of the segment's records before its batch.
 */
struct sl_ientry {
	size_t		index;		/* its number in the file */
	uint64_t	offset;
	uint64_t	pos;
	int64_t		maxts;
};

/* What every entry's checksum binds it to: its segment and its log, so
 * that an index copied from another segment or log is never believed. */
struct sl_ikey {
	uint64_t	base;		/* the segment's first offset */
	uint32_t	crc0;		/* CRC-32 of base (u64 LE) and log id */
};

/* ID is the log's id (settings), or NULL / "" when unknown. */
void	sl_ikey_init(struct sl_ikey *, uint64_t base, const char *id);

/* Number of whole entries in an open index file, or -1. */
ssize_t	sl_index_count(int fd);
int	sl_index_get(int fd, const struct sl_ikey *, size_t i,
	    struct sl_ientry *);
int	sl_index_put(int fd, const struct sl_ikey *, size_t i,
	    const struct sl_ientry *);

/*
 * The last entry with offset <= OFFSET whose batch verifies in segment FD
 * (stale or damaged entries are skipped): 1 found, 0 none, -1 error.
 */
int	sl_index_find_offset(int ifd, int sfd, const struct sl_ikey *,
	    size_t limit, uint64_t offset, struct sl_ientry *);
/* The last verified entry whose segment maximum before it is < MS (the
 * seed entry counts as INT64_MIN): 1 found, 0 none, -1 error. */
int	sl_index_find_time(int ifd, int sfd, const struct sl_ikey *,
	    size_t limit, int64_t ms, struct sl_ientry *);

/*
 * The seed of index IFD: 1 (*SEED set) when its first entry is an intact
 * entry for byte 0, 0 when there is none (empty, damaged, another
 * segment's, or written before seeds existed), -1 on a read error.
 */
int	sl_index_seed(int ifd, const struct sl_ikey *, int64_t *seed);

/*
 * The largest timestamp of the log before segment BASE of DIR (INT64_MIN
 * when none), from the seed and probe of the segment before it, walking
 * further back past segments without a seed: 1 known, 0 unknown (damage),
 * -1 error.
 */
int	sl_log_seed(int dirfd, const char *id, size_t limit,
	    uint64_t base, int64_t *seed);

/* Builds an index with the writer's rule while a segment is written or
 * scanned in order; entries are buffered and written to FD at offset 0. */
struct sl_ibuild {
	int		 fd;
	struct sl_ikey	 key;
	int		 seeded;	/* an entry for byte 0 is due */
	int64_t		 seed;
	int		 verify;	/* compare with FD instead of writing */
	int		 update;	/* write only what differs from FD */
	int		 differs;	/* verify: FD is not this index */
	uint64_t	 lastpos;	/* position of the last entry's batch */
	int64_t		 maxts;		/* largest timestamp so far */
	size_t		 n;		/* entries made */
	size_t		 blen;
	unsigned char	 buf[4096];
};

void	sl_ibuild_init(struct sl_ibuild *, int fd, const struct sl_ikey *);
/* Before the first batch: the segment's seed (without one, the index gets
 * no entry for byte 0 and time lookups cannot skip what is before it). */
void	sl_ibuild_seed(struct sl_ibuild *, int64_t seed);
/* Compare with the index open as FD (or -1: none) instead of writing it:
 * after sl_ibuild_finish, DIFFERS says whether it is another. */
void	sl_ibuild_verify(struct sl_ibuild *);
/* Every batch of the segment, in order, with its position. */
int	sl_ibuild_batch(struct sl_ibuild *, uint64_t pos,
	    const struct sl_batch *);
/* Bring FD up to date with the entries made (the writer does, after each
 * batch: another writer, or a reader, may look at the index next). */
int	sl_ibuild_flush(struct sl_ibuild *);
/* Compare with FD and rewrite only what differs, cutting what FD has
 * beyond the entries made at sl_ibuild_finish: the writer's mode, which
 * leaves an index that is right alone and mends one that is not. */
void	sl_ibuild_update(struct sl_ibuild *);
int	sl_ibuild_finish(struct sl_ibuild *);

/*
 * The last entry for OFFSET (or, BYTIME, for MS) as sl_index_find_* would
 * pick it, without verifying it: the caller checks it by scanning from it.
 * 1 found, 0 none, -1 error.
 */
int	sl_index_search(int ifd, const struct sl_ikey *, int bytime,
	    uint64_t offset, int64_t ms, struct sl_ientry *);

/*
 * Whether this thread verified the batch with header HDR at POS of file
 * FD lately (sl_batch_known_add): its checksum need not be computed again.
 */
int	sl_batch_known(int fd, uint64_t pos, const unsigned char *hdr);
void	sl_batch_known_add(int fd, uint64_t pos, const unsigned char *hdr);

/*
 * The largest timestamp of segment SFD (INT64_MIN when empty) from its
 * last index entry (IFD may be -1) and the headers after it; UPPER is the
 * next segment's first offset (UINT64_MAX: none).  1 known, 0 unknown
 * (scan instead), -1 error.
 */
int	sl_index_segmax(int ifd, int sfd, const struct sl_ikey *,
	    uint64_t upper, size_t limit, int64_t *max);
/* The same by a verified scan of every batch: 1, 0 damaged, -1 error. */
int	sl_segment_maxts(int sfd, uint64_t base, size_t limit, int64_t *max);

#endif /* SL_INDEX_H */
