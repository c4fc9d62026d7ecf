/*
 * extern.h - what the files of logapply share: a consumer (main.c), its
 * checkpoint writer (ckpt.c), its spool files (spool.c), the runs of its
 * command (run.c) and the consumers of a -c file (config.c).
 */
#ifndef LOGAPPLY_EXTERN_H
#define LOGAPPLY_EXTERN_H

#include <sys/types.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "synclog.h"

#define SPOOL_MAX	(64u << 20)	/* record bytes that end a batch */
#define SPOOL_MAP	(2u << 20)	/* bytes of a spool file kept mapped */
#define SPOOL_BUF	(1u << 20)	/* the buffer for bytes beyond them */
#define BACKOFF_MAX	60000		/* ms: the longest backoff */
#define EX_TEMPFAIL	75		/* "transient": never set aside */
#define PROGRESS_NS	250000000LL
#define CK_INTERVAL_NS	50000000L	/* checkpoint writes, at most one per */


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
	int		 skip_lost;	/* -s: pass what retention removed */
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
	int		 lost;		/* none: records at FROM were removed */
};

enum { OK, FAILED, STOPPED };

extern volatile sig_atomic_t stopping;	/* SIGINT or SIGTERM came */
extern sigset_t	 origmask;	/* restored when handlers are set */

/* main.c */
int	 consume(const struct consumer *);
#define LOST	UINT64_MAX	/* lost(): records were removed unapplied */
uint64_t lost(struct run *, uint64_t from);
void	 lostfail(struct run *) __attribute__((noreturn));
void	 readfail(struct run *, int errnum) __attribute__((noreturn));
void	 die(struct run *, int status, const char *fmt, ...)
	    __attribute__((noreturn, format(printf, 3, 4)));
int	 sleep_or_signal(int fd, int ms);
long long elapsed_ns(const struct timespec *, const struct timespec *);

/* ckpt.c */
void	 ckstart(struct run *);
int	 ckdrain(struct ckwriter *);
void	 ckstop(struct run *);
void	 ckfail(struct run *) __attribute__((noreturn));
void	 ckcheck(struct run *);
void	 commit(struct run *, uint64_t next);

/* spool.c */
void	 spool(struct run *, uint64_t from, uint64_t upto, uint64_t max,
	    struct spool *);
void	 unspool(struct spool *);

/* run.c */
char	*findprog(const char *prog);
void	 mkenv(struct run *);
void	 freeenv(struct run *);
int	 apply(struct run *, struct spool *cur, struct spool *nxt);

/* config.c */
int	 run_config(const char *file, const struct consumer *def);

#endif /* LOGAPPLY_EXTERN_H */
