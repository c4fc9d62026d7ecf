/*
 * commit.c - batches committed in the background (sl_writer_submit): a
 * thread of the writer's, started at the first, takes each batch through
 * the same steps as sl_writer_commit while the caller fills the next one,
 * so that encoding overlaps the write and the sync.
 *
 * Invariants: batches are committed one at a time, in the order they were
 * handed over: one in flight and at most one queued behind it, which the
 * thread takes as soon as the one before is synced (with no wake-up of
 * the caller's in between), and never after a failure (a batch queued
 * then is reported cancelled, nothing of it written).  There are two
 * batch buffers: the caller gets the one of a finished batch back when it
 * collects that batch (sl_writer_wait).  The thread owns everything but
 * the filling batch and the settings while anything is outstanding; the
 * queue, the results and the spare buffer are under the mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "batch.h"
#include "log.h"
#include "writer.h"

/* The result slot of the batch submitted after the I-th outstanding. */
static struct result *
slot(sl_writer *w, unsigned i)
{
	return &w->res[(w->rhead + i) % 2];
}

/*
 * Commit B, a batch submitted, into its result R; or, after a failure of
 * one before it, cancel it, writing nothing.
 */
static void
settle(sl_writer *w, struct sl_bbuild *b, struct result *r)
{
	if (w->cfailed) {
		r->rc = -1;
		r->err = ECANCELED;
		return;
	}
	r->rc = sl_wr_commit(w, b, SL_NO_OFFSET, &r->first);
	r->err = errno;
	w->cfailed = r->rc < 0;
}

/*
 * The committer thread: it commits the queued batch, records the result
 * in the oldest unfinished slot, gives the buffer back, and takes the
 * next one at once if it is queued already.  After a failure it takes
 * nothing more: a batch queued then is reported cancelled (ECANCELED),
 * nothing of it written, so no batch is ever written after one that
 * failed.
 */
static void *
committer(void *arg)
{
	sl_writer *w = arg;
	struct result *r;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->nqueued && !w->quit)
			pthread_cond_wait(&w->work, &w->mu);
		if (!w->nqueued)
			break;
		w->flight = w->queued;
		memset(&w->queued, 0, sizeof w->queued);
		w->nqueued = 0;
		pthread_cond_signal(&w->done);
		/* The slot: the first unfinished one. */
		r = w->res[w->rhead].finished ? &w->res[(w->rhead + 1) % 2] :
		    &w->res[w->rhead];
		pthread_mutex_unlock(&w->mu);
		settle(w, &w->flight, r);
		pthread_mutex_lock(&w->mu);
		r->finished = 1;
		/* The buffer goes back to the caller, emptied. */
		sl_bb_reset(&w->flight);
		if (w->spare.buf == NULL)
			w->spare = w->flight;
		else
			sl_bb_free(&w->flight);
		memset(&w->flight, 0, sizeof w->flight);
		pthread_cond_signal(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/*
 * Give back to the system the buffer of B if a batch of a huge record
 * made it huge, unless B still holds records.
 */
static void
shrink(struct sl_bbuild *b)
{
	if (b->count == 0 && b->cap > 4 * (SL_BATCH_HDR + SL_BATCH_TARGET))
		sl_bb_free(b);
}

/* With the mutex held and no buffer to fill: take the spare one. */
static void
take_spare(sl_writer *w)
{
	shrink(&w->spare);
	w->fill = w->spare;
	memset(&w->spare, 0, sizeof w->spare);
}

int
sl_writer_wait(sl_writer *w, uint64_t *first, size_t *n)
{
	struct result r;

	*n = 0;
	if (w->outstanding == 0)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (!w->res[w->rhead].finished)
		pthread_cond_wait(&w->done, &w->mu);
	r = w->res[w->rhead];
	w->res[w->rhead].finished = 0;
	w->rhead = (w->rhead + 1) % 2;
	w->outstanding--;
	if (w->fill.buf == NULL)
		take_spare(w);
	pthread_mutex_unlock(&w->mu);
	shrink(&w->fill);
	if (r.rc < 0) {
		errno = r.err;
		if (r.err == ECANCELED)
			sl_wr_seterr(w, "a batch before failed");
		else
			sl_seterr("%s", w->err);
		errno = r.err;
		return -1;
	}
	*first = r.first;
	*n = r.n;
	return 0;
}

/* Start the committer thread, unless it runs already; 0 or an errno. */
static int
start_committer(sl_writer *w)
{
	int e;

	if (w->running)
		return 0;
	if ((e = pthread_create(&w->thread, NULL, committer, w)) != 0)
		return e;
	w->running = 1;
	return 0;
}

size_t
sl_writer_outstanding(const sl_writer *w)
{
	return w->outstanding;
}

int
sl_writer_submit(sl_writer *w)
{
	struct result *r;

	if (w->outstanding > 1) {
		errno = EBUSY;
		return -1;
	}
	if (w->broken) {
		/* The message of the failure that broke it, again. */
		sl_seterr("%s", w->err);
		errno = EIO;
		return -1;
	}
	if (w->fill.count == 0)
		return 0;
	r = slot(w, w->outstanding);
	r->n = w->fill.count;
	/* Without a thread (out of processes, say), commit it here: slower,
	 * the same result, collected the same way. */
	if (start_committer(w) != 0) {
		settle(w, &w->fill, r);
		r->finished = 1;
		sl_bb_reset(&w->fill);
		w->outstanding++;
		return 0;
	}
	/*
	 * The payload's CRC here, the header's in the committer (the first
	 * offset is known only there), the two combined: the committer's
	 * is the thread that writes (and syncs) every byte, the slower of
	 * the two when the input is ready, and a CRC of the payload was a
	 * fifth of its time (perf, -N).  A batch to deflate has its CRC
	 * over what deflate makes, there.
	 */
	if (!w->compress) {
		sl_bb_crc(&w->fill);
	}
	/* Hand the batch over; the next is filled in the buffer the
	 * committer gives back, or a new one. */
	pthread_mutex_lock(&w->mu);
	/* The one before may not be taken yet. */
	while (w->nqueued)
		pthread_cond_wait(&w->done, &w->mu);
	w->queued = w->fill;
	w->nqueued = 1;
	w->outstanding++;
	take_spare(w);
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

/* Set the thread's QUIT under MU, wake it on CV, and wait for its end. */
void
sl_wr_stop_thread(pthread_mutex_t *mu, pthread_cond_t *cv, int *quit,
    pthread_t th)
{
	pthread_mutex_lock(mu);
	*quit = 1;
	pthread_cond_signal(cv);
	pthread_mutex_unlock(mu);
	pthread_join(th, NULL);
}
