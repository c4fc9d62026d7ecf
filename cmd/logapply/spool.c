/*
 * spool.c - logapply's spool files: each batch is written whole into an
 * anonymous memory file before its command starts, and that file,
 * read-only, is the command's standard input.
 *
 * A spool file's first SPOOL_MAP bytes stay mapped from batch to batch,
 * so that records are formatted straight into its pages (no system call
 * per record); a longer batch goes on through one buffer and pwrite(2).
 * Files are kept in a small pool and reused once their command exited.
 */
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "extern.h"

static void	 spool1(struct run *, uint64_t, uint64_t, uint64_t,
		    struct spool *);

#define POOL_MAX	4
static struct spfile *pool[POOL_MAX];	/* spool files free for reuse */
static int	 npool;

/* A spool file from the pool, or a new one. */
static struct spfile *
spfile(struct run *r)
{
	struct spfile *f;
	char path[64];

	if (npool > 0)
		return pool[--npool];
	if ((f = calloc(1, sizeof *f)) == NULL)
		die(r, 2, "%s", strerror(errno));
	if ((f->fd = memfd_create("logapply", MFD_CLOEXEC)) == -1)
		die(r, 2, "memfd_create: %s", strerror(errno));
	if (ftruncate(f->fd, SPOOL_MAP) == -1)
		die(r, 2, "spool: %s", strerror(errno));
	f->size = SPOOL_MAP;
	if ((f->map = mmap(NULL, SPOOL_MAP, PROT_READ | PROT_WRITE,
	    MAP_SHARED, f->fd, 0)) == MAP_FAILED)
		die(r, 2, "spool: mmap: %s", strerror(errno));
	/* Read-only, so that no command (or a process it leaves behind)
	 * can shorten the file under the map; without /proc, the file. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", f->fd);
	if ((f->rfd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		f->rfd = f->fd;
	return f;
}

static void
spclose(struct spfile *f)
{
	if (f->rfd != f->fd)
		close(f->rfd);
	close(f->fd);
	munmap(f->map, SPOOL_MAP);
	free(f->buf);
	free(f);
}

/*
 * sl_out's sink: the map while the batch fits in it (the bytes are in
 * place already), then a buffer that is written at the end of the file.
 */
static unsigned char *
spsink(void *arg, unsigned char *buf, size_t len, size_t n, size_t *cap)
{
	struct spfile *f = arg;
	unsigned char *nb;
	ssize_t w;
	size_t c;

	if (f->inmap) {
		f->off += len;
		if (SPOOL_MAP - f->off >= n) {
			*cap = SPOOL_MAP - f->off;
			return f->map + f->off;
		}
		f->inmap = 0;
	} else {
		while (len > 0) {
			if ((w = pwrite(f->fd, buf, len, (off_t)f->off)) ==
			    -1) {
				if (errno == EINTR)
					continue;
				return NULL;
			}
			buf += w;
			len -= (size_t)w;
			f->off += (size_t)w;
		}
		if (f->off > f->size)
			f->size = f->off;
	}
	if (f->bufcap < n || f->buf == NULL) {
		c = n > SPOOL_BUF ? n : SPOOL_BUF;
		if ((nb = malloc(c)) == NULL)
			return NULL;
		free(f->buf);
		f->buf = nb;
		f->bufcap = c;
	}
	*cap = f->bufcap;
	return f->buf;
}

/*
 * Spool the records with offsets in [FROM, UPTO], at most MAX of them,
 * into a new memory file.  S->n is 0 when there is none yet; S->rerr is
 * set when the reader failed after S->n good records.
 *
 * A batch with a gap (its first record after FROM, or fewer records than
 * offsets) may be one that retention cut into while it was read (the
 * reader goes on reading a removed segment it has open): when the log now
 * begins above FROM, the records from FROM up were removed before they
 * were applied.  With -s, the batch is spooled again from the log's
 * beginning; else it is none, with S->lost set, so that what runs now is
 * committed before the consumer stops.
 */
void
spool(struct run *r, uint64_t from, uint64_t upto, uint64_t max,
    struct spool *s)
{
	uint64_t next;

	for (;;) {
		spool1(r, from, upto, max, s);
		if (s->rerr || s->n == 0 || (s->first == from &&
		    s->last - s->first + 1 == s->n))
			return;
		if ((next = lost(r, from)) == from)
			return;		/* a gap compaction left */
		unspool(s);
		memset(s, 0, sizeof *s);
		r->at = UINT64_MAX;	/* the reader seeks again */
		if (next == LOST) {
			s->lost = 1;
			return;
		}
		from = next;
		if (upto != UINT64_MAX && from > upto)
			return;		/* nothing of it is left */
	}
}

static void
spool1(struct run *r, uint64_t from, uint64_t upto, uint64_t max,
    struct spool *s)
{
	/* UPTO is inclusive; UINT64_MAX means no end at all. */
	struct sl_print p = { .end = upto == UINT64_MAX ? UINT64_MAX :
	    upto + 1, .max = max, .maxbytes = SPOOL_MAX };
	struct spfile *f;
	sl_out *out;
	int rc;

	memset(s, 0, sizeof *s);
	if (r->at != from) {
		if (sl_reader_seek(r->rd, from) == -1) {
			s->rerr = 1;
			s->rerrno = errno;
			return;
		}
		r->at = from;
	}
	f = s->f = spfile(r);
	f->off = 0;
	f->inmap = 1;
	/* The map is all writable: the file is at least as long. */
	if (f->size < SPOOL_MAP) {
		if (ftruncate(f->fd, SPOOL_MAP) == -1)
			die(r, 2, "spool: %s", strerror(errno));
		f->size = SPOOL_MAP;
	}
	if ((out = sl_out_open_sink(&r->c->fmt, spsink, f)) == NULL)
		die(r, 2, "spool: %s", strerror(errno));
	if ((rc = sl_reader_print(r->rd, out, &p)) == -2)
		die(r, 2, "spool: %s", strerror(errno));
	if (rc == -1) {
		s->rerr = 1;
		s->rerrno = errno;
		r->at = UINT64_MAX;
	} else if (p.n > 0)
		r->at = p.last + 1;	/* what the reader returns next */
	s->n = p.n;
	s->first = p.first;
	s->last = p.last;
	if (sl_out_close(out) == -1)
		die(r, 2, "spool: %s", strerror(errno));
	/* The command reads to the end of the file: the batch, exactly. */
	if (f->size != f->off) {
		if (ftruncate(f->fd, (off_t)f->off) == -1)
			die(r, 2, "spool: %s", strerror(errno));
		f->size = f->off;
	}
	free(f->buf);
	f->buf = NULL;
	f->bufcap = 0;
}

/*
 * Done with a spool, whose command has exited: keep its file for a later
 * batch, whose pages it then reuses.
 */
void
unspool(struct spool *s)
{
	if (s->f == NULL)
		return;
	if (npool < POOL_MAX)
		pool[npool++] = s->f;
	else
		spclose(s->f);
	s->f = NULL;
}

