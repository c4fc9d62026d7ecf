/*
 * ckpt.c - logapply's checkpoint writer: a thread that makes the applied
 * position durable while the main thread goes on reading and applying,
 * so that the fsyncs of each checkpoint overlap with work.
 *
 * Commits coalesce, into one write per CK_INTERVAL_NS at most unless
 * ckdrain() waits: the file trails the applied position by at most that
 * and the write in progress, and never leads it.  A failed write stops
 * the writer; the main thread learns of it at its next commit or drain.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "synclog.h"
#include "extern.h"

static void *
ckthread(void *arg)
{
	struct ckwriter *w = arg;
	struct timespec now;
	uint64_t off;
	int rc;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->want == w->done && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->want == w->done)
			break;
		/* Commits coming faster than CK_INTERVAL_NS are gathered into
		 * one write, unless someone waits for it. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!w->urgent && !w->quit && elapsed_ns(&now, &w->next) > 0) {
			pthread_cond_timedwait(&w->cv, &w->mu, &w->next);
			continue;
		}
		off = w->want;
		pthread_mutex_unlock(&w->mu);
		rc = sl_checkpoint_write(w->log, w->name, w->id, off);
		clock_gettime(CLOCK_MONOTONIC, &now);
		pthread_mutex_lock(&w->mu);
		if (rc == -1) {
			w->err = errno;
			pthread_cond_broadcast(&w->cv);
			break;
		}
		w->done = off;
		w->next = now;
		w->next.tv_nsec += CK_INTERVAL_NS;
		if (w->next.tv_nsec >= 1000000000L) {
			w->next.tv_sec++;
			w->next.tv_nsec -= 1000000000L;
		}
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Wait until the checkpoint file holds every commit; 0 or an errno. */
int
ckdrain(struct ckwriter *w)
{
	int e;

	if (!w->running)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->urgent = 1;
	pthread_cond_broadcast(&w->cv);
	while (w->err == 0 && w->done != w->want)
		pthread_cond_wait(&w->cv, &w->mu);
	w->urgent = 0;
	e = w->err;
	pthread_mutex_unlock(&w->mu);
	return e;
}

/* Start the checkpoint writer with signals blocked: main handles them. */
void
ckstart(struct run *r)
{
	struct ckwriter *w = &r->ck;
	pthread_condattr_t ca;
	sigset_t all, old;
	int e;

	w->log = r->c->log;
	w->name = r->c->name;
	w->id = r->set.id;
	w->want = w->done = r->ckpt;
	if ((e = pthread_mutex_init(&w->mu, NULL)) != 0 ||
	    (e = pthread_condattr_init(&ca)) != 0 ||
	    (e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (e = pthread_cond_init(&w->cv, &ca)) != 0)
		die(r, 2, "pthread: %s", strerror(e));
	pthread_condattr_destroy(&ca);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&w->th, NULL, ckthread, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		die(r, 2, "pthread_create: %s", strerror(e));
	w->running = 1;
}

/* Make every commit durable, then stop the writer. */
void
ckstop(struct run *r)
{
	struct ckwriter *w = &r->ck;

	if (!w->running)
		return;
	if (ckdrain(w) != 0)
		ckfail(r);
	pthread_mutex_lock(&w->mu);
	w->quit = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	w->running = 0;
}

/*
 * A checkpoint could not be written: say so once and stop.  The writer
 * has stopped at the failure; what it wrote before stays.
 */
void
ckfail(struct run *r)
{
	struct ckwriter *w = &r->ck;

	if (w->running) {
		pthread_join(w->th, NULL);
		w->running = 0;		/* nothing more for die() to drain */
	}
	die(r, 2, "checkpoint: %s", strerror(w->err));
}

/* Stop (ckfail) if a checkpoint write failed already. */
void
ckcheck(struct run *r)
{
	struct ckwriter *w = &r->ck;
	int e;

	if (!w->running)
		return;
	pthread_mutex_lock(&w->mu);
	e = w->err;
	pthread_mutex_unlock(&w->mu);
	if (e != 0)
		ckfail(r);
}

/* The batch up to NEXT is applied: hand the checkpoint to the writer. */
void
commit(struct run *r, uint64_t next)
{
	struct ckwriter *w = &r->ck;

	r->ckpt = next;
	if (!w->running) {
		if (sl_checkpoint_write(r->c->log, r->c->name, r->set.id,
		    next) == -1)
			die(r, 2, "checkpoint: %s", strerror(errno));
		return;
	}
	pthread_mutex_lock(&w->mu);
	if (w->err != 0) {
		pthread_mutex_unlock(&w->mu);
		ckfail(r);
	}
	/* With a commit pending already, the writer is busy or waits for its
	 * interval to end, and takes the latest then: no need to wake it. */
	if (w->want == w->done)
		pthread_cond_broadcast(&w->cv);
	w->want = next;
	pthread_mutex_unlock(&w->mu);
}

