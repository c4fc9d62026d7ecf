/*
 * writer.h - the writer's private parts, shared by its three files:
 * writer.c, the append path (open, add, commit under the lock, the
 * active segment); commit.c, the committer thread that commits batches
 * in the background; writeback.c, what -N does for speed (handing the
 * disk what was written, reserving a segment's space, closing a full
 * segment late).  Nothing outside them includes it.
 */
#ifndef SL_WRITER_H
#define SL_WRITER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "synclog.h"
#include "batch.h"
#include "segment.h"
#include "index.h"

struct sl_writer {
	char		*dir;		/* as given, for messages */
	int		 dirfd;
	int		 lockfd;
	void		(*warn)(void *, const char *);
	void		*warnarg;
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
	struct sl_ibuild ib;		/* the index, with the writer's rule */
	int		 idxbad;	/* the index could not be kept */
	int		 idxwarned;	/* and that was said */
	struct sl_segscan scan;		/* of the active segment */

	struct sl_bbuild	 fill;		/* sl_writer_add's */
	struct sl_bbuild	 flight;	/* the committer's */
	/* The background commit: the committer thread, its queue of one
	 * batch, the buffer it gives back, and the results, oldest at
	 * rhead (outstanding: submitted, not yet collected). */
	pthread_t	 thread;
	int		 running;	/* the thread exists */
	pthread_mutex_t	 mu;
	pthread_cond_t	 work, done;
	struct sl_bbuild	 queued;	/* handed over, not yet taken (mu) */
	int		 nqueued;	/* (mu) */
	int		 quit;		/* (mu) */
	int		 cfailed;	/* a background commit failed (the
					 * thread's, or the caller's without
					 * one) */
	struct sl_bbuild	 spare;		/* a finished batch's buffer (mu) */
	struct result {
		int	 finished;	/* (mu) */
		int	 rc, err;
		uint64_t first;
		size_t	 n;
	}		 res[2];
	unsigned	 rhead, outstanding;
	unsigned char	 known[64];	/* the mark of the active segment as
					 * this writer left it (writer.c) */
	unsigned char	 marked[64];	/* the mark in the lock file, as this
					 * writer last read or wrote it */
	char		 err[768];
};

/*
 * The writer's call that only the append loop (append.c) makes: the
 * plain-lines fast path.
 */
/*
 * Add the lines at P (N bytes) as sl_writer_add would add records whose
 * value is the line without its DELIM, with no key, no headers and
 * timestamp TS: line by line, only lines ended by DELIM, while the pending
 * batch holds fewer than TARGET bytes, stopping before a line whose record
 * would take more than TARGET / 4 bytes or exceed the maximum record size
 * (sl_writer_add reports that one).  Returns the bytes taken and in *NREC
 * the records added; 0 when none.  The fast path of plain text input
 * (sl_in_lines).
 */
size_t	sl_writer_add_lines(sl_writer *, const unsigned char *p,
	    size_t n, unsigned char delim, int64_t ts, size_t target,
	    size_t *nrec);


/* writer.c: set the writer's message (errno kept); a disk failure, which
 * makes the writer unusable (always -1); commit batch B under the lock. */
void	sl_wr_seterr(sl_writer *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	sl_wr_disk_failed(sl_writer *, const char *call, uint64_t base);
int	sl_wr_commit(sl_writer *, struct sl_bbuild *b, uint64_t expect,
	    uint64_t *first);
/* Under the lock, after a verification or a write: mark the active
 * segment as the writers left it (the verification mark, in the lock
 * file, see writer.c). */
void	sl_wr_mark(sl_writer *);

/* writeback.c: -N's write-back of the first END bytes of the active
 * segment, its reservation, and whether a full segment is to be closed
 * before the next batch (in the durable mode: at once). */
int	sl_wr_writeback(sl_writer *, uint64_t end);
void	sl_wr_reserve(sl_writer *, size_t add);
void	sl_wr_cut_spare(int fd);
void	sl_wr_release(sl_writer *);
int	sl_wr_rotate_due(sl_writer *);

/* commit.c: set a thread's QUIT under MU, wake it on CV, wait for it. */
void	sl_wr_stop_thread(pthread_mutex_t *mu, pthread_cond_t *cv, int *quit,
	    pthread_t th);

#endif /* SL_WRITER_H */
