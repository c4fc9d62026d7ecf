/*
 * push.c - logmirror push: consumer NAME of a local log publishes every
 * record, in offset order, to one subject of a stream, exactly once.
 *
 * Invariants:
 * - The records of this log on the subject are always a prefix of the
 *   log, in order.  Each message carries Nats-Msg-Id = log id and offset
 *   (a re-sent one is dropped as a duplicate) and an expectation the
 *   stream checks before it stores it: the first message after a
 *   (re)start expects the subject's last sequence to be the one of the
 *   record before it (Nats-Expected-Last-Subject-Sequence); every later
 *   one, sent without waiting, expects the stream's last message id to
 *   be the record before it (Nats-Expected-Last-Msg-Id).  So no message
 *   lands unless the one before it is the last in the stream: one that
 *   was lost in a leader change makes every later one of the window
 *   fail, and none lands after a newer one.  (nats-server 2.9 checks the
 *   per-subject expectation against what it has stored, not against
 *   what is in flight, so only the message id can be pipelined.)
 * - Any acknowledged message means every record before it is in the
 *   stream too; the checkpoint moves only to what was acknowledged.
 * - On any error: stop sending, wait for what is in flight, back off,
 *   read the last message of this subject, and resume after its offset,
 *   re-sending whatever the stream lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define ACK_WAIT	5000	/* ms an acknowledgement may take */

struct push {
	struct js	 j;
	const char	*log;
	char		 id[33];
	char		 mid[23];	/* the id in message ids */
	char		 subject[512];
	sl_reader	*r;
	int		 lockfd;
	/* Set by the ack handler, under mu. */
	pthread_mutex_t	 mu;
	uint64_t	 acked;		/* next offset the stream lacks */
	uint64_t	 ackseq;	/* stream sequence of the one before */
	atomic_int	 failed;	/* set under mu; read without, per
					 * record, by the main thread */
	char		 why[512];
	int		 contended;	/* the failure: another log's
					 * message between two of ours */
	/* The main thread's. */
	int		 first;		/* next publish waits, expecting
					 * the subject's sequence */
	uint64_t	 lastseq;	/* with first: the subject's last
					 * sequence, 0 none */
	char		 lastid[64];	/* message id of the last sent */
	uint64_t	 stallack;	/* acked when the window filled */
	uint64_t	 saved;		/* checkpoint as written */
	int		 have_saved;
	int		 located;	/* the stream's end was found */
	int64_t		 progress;	/* when something last moved */
	int64_t		 lastsave;	/* when send_record() last saved */
	struct bucket	*bk;
};

static void
on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	struct push *p = arg;
	const char *v;
	char id[23];
	uint64_t off;

	(void)js;
	pthread_mutex_lock(&p->mu);
	if (natsMsgHeader_Get(m, HDR_MSGID, &v) == NATS_OK &&
	    msgid_parse(v, id, &off) == 0) {
		if (pa != NULL) {
			/* The chain: this one stored means all before it. */
			if (off + 1 > p->acked) {
				p->acked = off + 1;
				p->ackseq = pa->Sequence;
			}
		} else if (pae != NULL && !p->failed) {
			snprintf(p->why, sizeof p->why, "offset %" PRIu64
			    ": %s", off, pae->ErrText && *pae->ErrText ?
			    pae->ErrText : natsStatus_GetText(pae->Err));
			p->contended =
			    pae->ErrCode == JSStreamWrongLastMsgIDErr;
			atomic_store(&p->failed, 1);
		}
	}
	pthread_mutex_unlock(&p->mu);
	natsMsg_Destroy(m);
}

/* Write the checkpoint if the stream acknowledged more (or less). */
static int
save(struct push *p)
{
	uint64_t a;

	if (!p->located)
		return 0;
	pthread_mutex_lock(&p->mu);
	a = p->acked;
	pthread_mutex_unlock(&p->mu);
	if (p->have_saved && a == p->saved)
		return 0;
	if (sl_checkpoint_write(p->log, opt.name, p->id, a) < 0) {
		js_seterr(NATS_OK, 0, "%s: checkpoint %s: %s", p->log,
		    opt.name, sl_error()[0] ? sl_error() : strerror(errno));
		return -1;
	}
	if (!p->have_saved || a > p->saved)
		p->progress = now_ms();
	p->saved = a;
	p->have_saved = 1;
	return 0;
}

/* Mark the window failed (the first reason stays). */
static void
fail_window(struct push *p, const char *why)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		snprintf(p->why, sizeof p->why, "%s", why);
		p->contended = 0;
		atomic_store(&p->failed, 1);
	}
	pthread_mutex_unlock(&p->mu);
}

/* Wait for every message in flight to be acknowledged or to fail; what
 * is still unanswered after ACK_WAIT is abandoned (the chain keeps it
 * from landing out of order) and the window fails. */
static void
drain(struct push *p)
{
	jsPubOptions po;
	natsMsgList pend = { 0 };

	if (p->j.js == NULL)
		return;
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT;
	if (js_PublishAsyncComplete(p->j.js, &po) == NATS_OK)
		return;
	if (js_PublishAsyncGetPendingList(&pend, p->j.js) == NATS_OK)
		natsMsgList_Destroy(&pend);
	fail_window(p, "no acknowledgement in time");
}

/*
 * Find where the stream's copy of this log ends and position the reader
 * after it.  0 done, 1 try again later (jserr() says why), -1 fatal.
 */
static int
locate(struct push *p)
{
	natsMsg *m = NULL;
	jsErrCode e = 0;
	natsStatus s;
	const char *v;
	char id[23];
	uint64_t off, resume, begin, end;

	s = js_GetLastMsg(&m, p->j.js, p->j.stream, p->subject, NULL, &e);
	if (s != NATS_OK && !(js_notfound(s, e) && e != JSStreamNotFoundErr)) {
		js_seterr(s, e, "%s: last message of %s", p->j.stream,
		    p->subject);
		return 1;
	}
	if (sl_reader_bounds(p->r, &begin, &end) < 0) {
		js_seterr(NATS_OK, 0, "%s", sl_error());
		return -1;
	}
	if (s != NATS_OK) {
		/* Nothing of ours there: from the checkpoint, or from the
		 * beginning for a new consumer. */
		resume = p->have_saved ? p->saved : begin;
		p->lastseq = 0;
	} else {
		if (natsMsgHeader_Get(m, HDR_MSGID, &v) != NATS_OK ||
		    msgid_parse(v, id, &off) < 0 || strcmp(id, p->mid) != 0) {
			js_seterr(NATS_OK, 0, "%s: subject %s holds another "
			    "log's records (message id %s), not those of log "
			    "%s", p->j.stream, p->subject,
			    natsMsgHeader_Get(m, HDR_MSGID, &v) == NATS_OK ?
			    v : "none", p->id);
			natsMsg_Destroy(m);
			return -1;
		}
		p->lastseq = natsMsg_GetSequence(m);
		natsMsg_Destroy(m);
		if (off >= end) {
			js_seterr(NATS_OK, 0, "%s: the stream holds offset %"
			    PRIu64 " of %s, whose end is %" PRIu64
			    ": the log lost records the stream has",
			    p->j.stream, off, p->log, end);
			return -1;
		}
		resume = off + 1;
		if (p->have_saved && p->saved > resume)
			notice("%s: the stream lacks offsets %" PRIu64 " to %"
			    PRIu64 " that it acknowledged: sending them again",
			    p->log, resume, p->saved - 1);
	}
	if (resume < begin && resume < end) {
		js_seterr(NATS_OK, 0, "%s: offsets %" PRIu64 " to %" PRIu64
		    " are gone from the log before the stream had them",
		    p->log, resume, begin - 1);
		return -1;
	}
	pthread_mutex_lock(&p->mu);
	p->acked = resume;
	p->ackseq = p->lastseq;
	p->why[0] = '\0';
	atomic_store(&p->failed, 0);
	pthread_mutex_unlock(&p->mu);
	if (sl_reader_seek(p->r, resume) < 0) {
		js_seterr(NATS_OK, 0, "%s", sl_error());
		return -1;
	}
	p->first = 1;
	p->lastid[0] = '\0';
	p->located = 1;
	return 0;
}

/*
 * Send M, the message of record R, as the first after a (re)start and
 * wait for its acknowledgement: the subject's last must be the record
 * before it.  0 sent, 1 failed (try again after a resync).
 */
static int
publish_first(struct push *p, const struct sl_record *r, natsMsg *m)
{
	jsPubOptions po;
	jsPubAck *pa = NULL;
	jsErrCode e = 0;
	natsStatus s;
	const char *id;

	natsMsgHeader_Get(m, HDR_MSGID, &id);
	jsPubOptions_Init(&po);
	po.MaxWait = ACK_WAIT;
	if (p->lastseq == 0)
		po.ExpectNoMessage = true;
	else
		po.ExpectLastSubjectSeq = p->lastseq;
	snprintf(p->lastid, sizeof p->lastid, "%s", id);
	s = js_PublishMsg(&pa, p->j.js, m, &po, &e);
	natsMsg_Destroy(m);
	if (s != NATS_OK) {
		js_seterr(s, e, "%s: offset %" PRIu64, p->j.stream, r->offset);
		return 1;
	}
	pthread_mutex_lock(&p->mu);
	if (r->offset + 1 > p->acked) {
		p->acked = r->offset + 1;
		p->ackseq = pa->Sequence;
	}
	pthread_mutex_unlock(&p->mu);
	jsPubAck_Destroy(pa);
	p->first = 0;
	return 0;
}

/*
 * Send M, the message of record R, without waiting: the stream's last
 * message id must be the one sent before it.  While the window is full,
 * wait for it to move, and fail it when no acknowledgement comes for
 * ACK_WAIT.  0 sent, 1 failed (try again after a resync).
 */
static int
publish_next(struct push *p, const struct sl_record *r, natsMsg *m)
{
	jsPubOptions po;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.ExpectLastMsgId = p->lastid;
	/* No deadline of libnats's for each message (its timer walks every
	 * pending one: a third of push's CPU, perf); a full window that
	 * gets no acknowledgement for ACK_WAIT fails here instead. */
	po.MaxWait = 0;
	for (int64_t since = -1;;) {
		uint64_t a;

		s = js_PublishMsgAsync(p->j.js, &m, &po);
		if (s != NATS_TIMEOUT || stopping ||
		    atomic_load(&p->failed))
			break;
		pthread_mutex_lock(&p->mu);
		a = p->acked;
		pthread_mutex_unlock(&p->mu);
		if (since < 0 || a != p->stallack) {
			since = now_ms();
			p->stallack = a;
		} else if (now_ms() - since > ACK_WAIT) {
			fail_window(p, "no acknowledgement in time");
			break;
		}
	}
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		js_seterr(s, 0, "%s: offset %" PRIu64, p->j.stream, r->offset);
		return 1;
	}
	/* The options held a pointer to lastid: it is copied by now. */
	snprintf(p->lastid, sizeof p->lastid, "%s-%" PRIu64, p->mid,
	    r->offset);
	return 0;
}

/* Publish record R: 0 sent, 1 failed (try again after a resync), -1
 * fatal. */
static int
publish(struct push *p, const struct sl_record *r)
{
	natsMsg *m;
	size_t size;

	if (rec_to_msg(&m, p->subject, p->mid, r, &size) < 0)
		return -1;
	if ((int64_t)size > p->j.maxmsg) {
		natsMsg_Destroy(m);
		js_seterr(NATS_OK, 0, "%s: offset %" PRIu64 ": the record "
		    "takes %zu bytes as a message, more than the %" PRId64
		    " the stream takes", p->log, r->offset, size, p->j.maxmsg);
		errno = EMSGSIZE;
		return -1;
	}
	if (p->first)
		return publish_first(p, r, m);
	return publish_next(p, r, m);
}

/* A failure that may pass: back off, unless it lasted too long. */
static int
retry(struct push *p, int64_t *delay)
{
	if (opt.giveup_ms >= 0 && now_ms() - p->progress > opt.giveup_ms) {
		js_seterr(NATS_OK, 0, "%s: giving up after %" PRId64 " s "
		    "without progress: %s", p->log, opt.giveup_ms / 1000,
		    p->why[0] ? p->why : jserr());
		return -1;
	}
	notice("%s: %s; retrying in %" PRId64 " ms", p->log,
	    p->why[0] ? p->why : jserr(), *delay);
	*delay = backoff(*delay);
	return 0;
}

/*
 * Whether the window failed only because another log's message came
 * between two of ours (two pushers on one stream: the pipelined
 * expectation is on the stream's last message id).  The stream is fine
 * and our chain intact: resynchronise at once, without a backoff or a
 * notice.  A lost message fails this way too; the resync finds it.
 */
static int
contended(struct push *p)
{
	int c;

	pthread_mutex_lock(&p->mu);
	c = p->contended;
	pthread_mutex_unlock(&p->mu);
	return c;
}

/* Resynchronise until it works, stopping, or giving up. */
static int
resync(struct push *p, int64_t *delay)
{
	int r;

	drain(p);
	for (;;) {
		if (stopping)
			return 0;
		if (p->j.nc == NULL) {
			struct js j = p->j;

			if (js_connect(&j, opt.window, on_ack, p) == 0)
				p->j = j;
		}
		if (p->j.nc != NULL) {
			jsStreamInfo *si;

			if (js_stream(&p->j, 1, &si) == 0) {
				jsStreamInfo_Destroy(si);
				if ((r = locate(p)) <= 0) {
					/* The records it found are acked. */
					if (r == 0 && save(p) < 0)
						return -1;
					return r;
				}
			}
		}
		p->why[0] = '\0';
		if (retry(p, delay) < 0)
			return -1;
	}
}

static int
finish(struct push *p, int rc)
{
	if (rc == 0 && p->j.nc && bucket_sync(&p->bk, &p->j, p->log) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		rc = 2;
	}
	bucket_close(p->bk);
	js_close(&p->j);
	free(p->j.servers);
	sl_reader_close(p->r);
	sl_consumer_unlock(p->lockfd);
	pthread_mutex_destroy(&p->mu);
	return rc;
}

static int
fatal(struct push *p, int status)
{
	fprintf(stderr, "logmirror: %s\n", jserr());
	save(p);
	return finish(p, status);
}

/*
 * Open log LOG and the stream's URL, take consumer -n's lock, read its
 * checkpoint and name the subject: 0, or the exit status of a failure,
 * said.
 */
static int
start(struct push *p, const char *log, const char *url)
{
	struct sl_checkpoint ck;

	p->log = log;
	p->lockfd = -1;
	pthread_mutex_init(&p->mu, NULL);
	if (js_parse_url(&p->j, url) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		return 2;
	}
	if ((p->r = sl_reader_open(log)) == NULL) {
		fprintf(stderr, "logmirror: %s\n", sl_error());
		free(p->j.servers);
		return errno == EBADMSG ? 1 : 2;
	}
	snprintf(p->id, sizeof p->id, "%s", sl_reader_settings(p->r)->id);
	if (msgid_prefix(p->id, p->mid) < 0) {
		fprintf(stderr, "logmirror: %s: not a log directory\n", log);
		return finish(p, 2);
	}
	if ((p->lockfd = sl_consumer_lock(log, opt.name, 0)) < 0) {
		fprintf(stderr, "logmirror: %s: consumer %s: %s\n", log,
		    opt.name, errno == EWOULDBLOCK ? "held by another process"
		    : sl_checkpoint_strerror(errno));
		return finish(p, 2);
	}
	if (sl_checkpoint_read(log, opt.name, p->id, &ck) == 0) {
		p->saved = ck.offset;
		p->have_saved = 1;
	} else if (errno != ENOENT) {
		fprintf(stderr, "logmirror: %s: consumer %s: %s\n", log,
		    opt.name, sl_checkpoint_strerror(errno));
		return finish(p, errno == EBADMSG || errno == ESTALE ? 1 : 2);
	}
	if (opt.subject)
		snprintf(p->subject, sizeof p->subject, "%s", opt.subject);
	else
		snprintf(p->subject, sizeof p->subject, "%s.%s", p->j.stream,
		    p->id);
	return 0;
}

/*
 * Publish record R and, every half second, write the checkpoint (and
 * with -f publish it to the bucket).  0 sent or to be sent again after a
 * resync, else the exit status of a fatal failure (jserr() says why).
 */
static int
send_record(struct push *p, const struct sl_record *r)
{
	int rc;

	if ((rc = publish(p, r)) < 0) {
		drain(p);
		return errno == EMSGSIZE ? 1 : 2;
	}
	if (rc > 0) {
		/* Resynchronised at the top of the loop. */
		fail_window(p, jserr());
		return 0;
	}
	if (now_ms() - p->lastsave >= 500) {
		if (save(p) < 0)
			return 2;
		if (opt.follow && bucket_sync(&p->bk, &p->j, p->log) < 0)
			notice("%s", jserr());
		p->lastsave = now_ms();
	}
	return 0;
}

/*
 * Caught up with the log: everything sent must be acknowledged, then the
 * checkpoint is written and, with -f, more records awaited.  0 go on, 1
 * done (without -f), -1 fatal (jserr() says why).
 */
static int
caught_up(struct push *p, int64_t *delay)
{
	drain(p);
	if (atomic_load(&p->failed))
		return 0;
	if (save(p) < 0)
		return -1;
	*delay = 100;
	if (opt.follow && bucket_sync(&p->bk, &p->j, p->log) < 0)
		notice("%s", jserr());
	if (!opt.follow)
		return 1;
	if (sl_reader_wait(p->r, 1000) < 0 && errno != EINTR) {
		js_seterr(NATS_OK, 0, "%s: %s", p->log, strerror(errno));
		return -1;
	}
	p->progress = now_ms();
	return 0;
}

int
do_push(const char *log, const char *url)
{
	struct push p = { 0 };
	struct sl_record rec;
	int64_t delay = 100;
	int rc, r;

	if ((rc = start(&p, log, url)) != 0)
		return rc;
	p.progress = now_ms();
	if (js_connect(&p.j, opt.window, on_ack, &p) < 0) {
		/* Not yet: resync() tries again, with backoff. */
		notice("%s", jserr());
		p.j.nc = NULL;
	}
	if (resync(&p, &delay) < 0)
		return fatal(&p, 2);
	/* The bucket at once, so that waiters find it. */
	if (p.j.nc && bucket_sync(&p.bk, &p.j, log) < 0)
		notice("%s", jserr());
	while (!stopping) {
		if (atomic_load_explicit(&p.failed, memory_order_acquire)) {
			/* One failed: the rest of the window fails too. */
			if ((!contended(&p) && retry(&p, &delay) < 0) ||
			    resync(&p, &delay) < 0)
				return fatal(&p, 2);
			continue;
		}
		if ((rc = sl_reader_next(p.r, &rec)) < 0) {
			js_seterr(NATS_OK, 0, "%s", sl_error());
			drain(&p);
			return fatal(&p, errno == EBADMSG ? 1 : 2);
		}
		if (rc == 1) {
			if ((r = send_record(&p, &rec)) != 0)
				return fatal(&p, r);
			continue;
		}
		if ((r = caught_up(&p, &delay)) < 0)
			return fatal(&p, 2);
		if (r > 0)
			break;
	}
	drain(&p);
	if (save(&p) < 0)
		return fatal(&p, 2);
	return finish(&p, 0);
}
