/*
 * append.c - the append loop: records read from an input format go into
 * a writer in batches formed from whatever input is ready, and each
 * batch's offsets are reported once it is durable (logappend).
 *
 * Invariants:
 * - A batch is committed when the input pauses, so that a slow stream is
 *   visible to followers at once; a full batch is committed in the
 *   background while the next one is read and encoded, so that a fast
 *   one gets group commit.  Two batches at most are outstanding.
 * - Offsets are reported in order, and never later than the next wait
 *   for input: a producer that waits for its acknowledgement is never
 *   kept waiting by the loop.
 * - Bad input stops the loop after every record before it was committed
 *   and reported (with an expected offset, nothing is: the whole input
 *   is one batch); nothing of the bad record is written.
 * - Records without a time get the append time, read from the clock at
 *   most once per STAMP_EVERY records that arrive back to back, and
 *   afresh whenever the input may have paused.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "fmt.h"
#include "log.h"
#include "writer.h"

#define STAMP_EVERY	64	/* records per clock read, at most */
#define BATCH_MAX	(1u << 20)	/* bytes that end a batch */

struct loop {
	sl_writer		*w;
	sl_in			*in;
	const struct sl_append_opts *o;
	size_t			 target;	/* bytes that end a batch */
	struct sl_header	*hbuf;		/* the record's and o's */
	size_t			 hcap;
	int64_t			 now;		/* the clock, as last read */
	unsigned		 unstamped;	/* records stamped with it */
	int			 fresh;		/* it was read since the
						   input last paused */
};

/* Collect the batches in the background, in order, reporting their
 * offsets; with ONE, only the oldest.  0 or -1 (sl_error()). */
static int
collect(struct loop *l, int one)
{
	uint64_t first;
	size_t n;

	while (sl_writer_outstanding(l->w) > 0) {
		if (sl_writer_wait(l->w, &first, &n) < 0)
			return -1;
		if (n > 0 && l->o->acked != NULL)
			l->o->acked(l->o->arg, first, n);
		if (one)
			break;
	}
	return 0;
}

/* Commit the pending batch after those in the background, reporting
 * every offset in order.  0 or -1 (errno ESTALE: the expected offset). */
static int
commit(struct loop *l)
{
	size_t n = sl_writer_pending(l->w);
	uint64_t first;

	if (collect(l, 0) < 0 ||
	    sl_writer_commit(l->w, l->o->expect, &first) < 0)
		return -1;
	if (n > 0 && l->o->acked != NULL)
		l->o->acked(l->o->arg, first, n);
	return 0;
}

/*
 * A full batch while more input is ready: commit it in the background
 * and go on reading.  It is queued behind the batch in flight, if any,
 * which is collected then, so that the writer goes from one to the next
 * without waiting for the loop.
 */
static int
submit(struct loop *l)
{
	if (sl_writer_submit(l->w) < 0)
		return -1;
	return sl_writer_outstanding(l->w) > 1 ? collect(l, 1) : 0;
}

/* Add REC with the key and headers of the options applied (the writer
 * copies them). */
static int
add(struct loop *l, struct sl_record *rec)
{
	const struct sl_append_opts *o = l->o;
	size_t n = rec->nheaders + o->nheaders;

	if (o->key != NULL) {
		rec->key = o->key;
		rec->keylen = o->keylen;
	}
	if (o->nheaders > 0) {
		if (n > l->hcap) {
			struct sl_header *h = realloc(l->hbuf, n * sizeof *h);

			if (h == NULL)
				return -1;
			l->hbuf = h;
			l->hcap = n;
		}
		if (rec->nheaders > 0)
			memcpy(l->hbuf, rec->headers,
			    rec->nheaders * sizeof *l->hbuf);
		memcpy(l->hbuf + rec->nheaders, o->headers,
		    o->nheaders * sizeof *l->hbuf);
		rec->headers = l->hbuf;
		rec->nheaders = n;
	}
	return sl_writer_add(l->w, rec);
}

/* Stamp REC with the append time, unless it has a time of its own. */
static void
stamp(struct loop *l, struct sl_record *rec, int waited)
{
	if (waited)
		l->fresh = 0;
	if (rec->timestamp != SL_NO_TIMESTAMP)
		return;
	if (!l->fresh || ++l->unstamped >= STAMP_EVERY) {
		l->now = sl_now_ms();
		l->unstamped = 0;
		l->fresh = 1;
	}
	rec->timestamp = l->now;
}

/*
 * REC could not be added (errno E): 1, bad input, with the records before
 * it committed (without an expected offset); -1 for a system error.
 */
static int
refused(struct loop *l, const struct sl_record *rec, int e)
{
	size_t size = sl_record_size(rec);

	if (l->o->expect == SL_NO_OFFSET && commit(l) < 0)
		return -1;
	if (e == EMSGSIZE) {
		sl_seterr("record %" PRIu64 ": %zu bytes exceeds the maximum "
		    "record size of %" PRIu64 " bytes", sl_in_recno(l->in), size,
		    sl_writer_settings(l->w)->max_record_bytes);
		return 1;
	}
	if (e == ENOBUFS) {
		sl_seterr("input too large for one batch with -x");
		return 1;
	}
	errno = e;
	return sl_fail(e, "%s", strerror(e));
}

/* Take REC, one record parsed: 0, 1 bad input, -1 error. */
static int
take(struct loop *l, struct sl_record *rec, int waited)
{
	const struct sl_append_opts *o = l->o;
	int r;

	stamp(l, rec, waited);
	/* Two large batches at once would double the memory a huge record
	 * needs: let the one in flight finish first. */
	if ((rec->nheaders > 0 || rec->valuelen > l->target / 4) &&
	    sl_record_size(rec) > l->target / 2 && collect(l, 0) < 0)
		return -1;
	/* add's work is for a key and headers; a call that does nothing
	 * else costs a tenth of a record's (callgrind). */
	r = o->key == NULL && o->nheaders == 0 ? sl_writer_add(l->w, rec) :
	    add(l, rec);
	if (r < 0 && errno == ENOBUFS && o->expect == SL_NO_OFFSET) {
		if (submit(l) < 0)
			return -1;
		r = add(l, rec);
	}
	if (r < 0)
		return refused(l, rec, errno);
	if (o->expect == SL_NO_OFFSET &&
	    sl_writer_pending_bytes(l->w) >= l->target)
		return submit(l);
	return 0;
}

/*
 * Plain lines, in bulk: one clock read for all the lines read so far
 * (they were all there before it).  1 when lines were taken.
 */
static int
take_lines(struct loop *l, int *err)
{
	const unsigned char *lines;
	unsigned char delim;
	size_t n, k;

	*err = 0;
	if (!sl_in_lines(l->in, &lines, &n, &delim) || n == 0 ||
	    (n = sl_writer_add_lines(l->w, lines, n, delim,
	    l->now = sl_now_ms(), l->target, &k)) == 0)
		return 0;
	l->unstamped = 0;
	l->fresh = 1;
	sl_in_skip(l->in, n, k);
	if (sl_writer_pending_bytes(l->w) >= l->target && submit(l) < 0)
		*err = -1;
	return 1;
}

/* The loop itself: 0 at the end of input, 1 bad input, -1 error. */
static int
run(struct loop *l)
{
	const struct sl_append_opts *o = l->o;
	struct sl_record rec;
	int r, block, acks, err;
	/* Plain lines go the fast way, in bulk, whatever is read of them
	 * (with an expected offset they would have to stay one batch). */
	int fast = o->key == NULL && o->nheaders == 0 &&
	    o->expect == SL_NO_OFFSET;

	for (;;) {
		/* With an expected offset everything is one batch: never
		 * commit early. */
		block = o->expect != SL_NO_OFFSET ||
		    sl_writer_pending(l->w) == 0;
		if (fast && take_lines(l, &err)) {
			if (err < 0)
				return -1;
			continue;
		}
		/* Nothing pending, and the input would make the loop wait:
		 * the batches in the background are collected first, so
		 * that their offsets are not kept waiting. */
		acks = block && o->expect == SL_NO_OFFSET &&
		    sl_writer_outstanding(l->w) > 0;
		r = sl_in_next(l->in, &rec, acks ? 0 : block);
		if (r == SL_IN_AGAIN) {
			if ((acks ? collect(l, 0) : commit(l)) < 0)
				return -1;
			continue;
		}
		if (r == 0)
			return 0;
		if (r < 0) {
			/* sl_in_next left its message in sl_error(); a
			 * commit that succeeds leaves it be. */
			if (o->expect == SL_NO_OFFSET && commit(l) < 0)
				return -1;
			return 1;
		}
		if ((r = take(l, &rec, block)) != 0)
			return r;
	}
}

int
sl_append(sl_writer *w, sl_in *in, const struct sl_append_opts *o)
{
	struct loop l = { 0 };
	int r;

	l.w = w;
	l.in = in;
	l.o = o;
	/* Batches of a megabyte, but several to a segment even when the
	 * segments are small, so that rotation stays close to the size. */
	l.target = sl_writer_settings(w)->segment_bytes / 8;
	if (l.target > BATCH_MAX)
		l.target = BATCH_MAX;
	if ((r = run(&l)) == 0)
		r = commit(&l);
	free(l.hbuf);
	return r;
}

int
sl_append_flush(sl_writer *w, const struct sl_append_opts *o)
{
	struct loop l = { 0 };

	l.w = w;
	l.o = o;
	return commit(&l);
}
