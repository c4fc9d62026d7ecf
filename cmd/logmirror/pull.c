/*
 * pull.c - logmirror pull: a local replica of a stream, whose offsets are
 * the stream's sequences minus one, the same on every host.
 *
 * Invariants:
 * - The replica is written only here (its settings name the stream, and
 *   every other writer refuses it), and only at offsets past its end:
 *   messages deleted from the stream stay gaps (sl_writer_add_at).
 * - On resume, the replica's last record must be the stream's message at
 *   its sequence: a stream deleted and made again, or a replica that went
 *   its own way, is refused, never continued.
 * - The stream is read through an ephemeral pull consumer starting after
 *   the replica's end; on any error it is dropped and made again from
 *   the end, after a backoff: the replica itself is the position.
 * - Its deliveries are numbered 1, 2, 3...: one missing (a message sent
 *   for a fetch the client had given up on, say) is not a gap of the
 *   stream, and the consumer is made again from the replica's end.
 * - Fetched messages are committed (and synced, unless -N) in batches of
 *   about a MiB, or of what there is when the stream has no more, in the
 *   background while the next ones are fetched; a failed commit is
 *   fatal.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

#define SUBMIT_BYTES	(1u << 20)	/* a batch of the replica, about */

struct pull {
	struct js	 j;
	const char	*log;
	sl_writer	*w;
	natsSubscription *sub;
	char		 consumer[128];	/* the ephemeral consumer's name */
	uint64_t	 cseq;		/* its last delivery's sequence */
	uint64_t	 next;		/* the replica's next offset */
	uint64_t	 lastseq;	/* the stream's last sequence at start */
	struct decoded	 d;
	int64_t		 progress;
	int64_t		 lastpub;	/* when the bucket was published */
	struct bucket	*bk;
};

/* Collect the outstanding background commits; -1 when one failed. */
static int
collect(struct pull *p, int all)
{
	uint64_t first;
	size_t n;

	while (sl_writer_outstanding(p->w) > (all ? 0 : 1)) {
		if (sl_writer_wait(p->w, &first, &n) < 0) {
			js_seterr(NATS_OK, 0, "%s: %s", p->log,
			    errno == ESTALE ? "written by another logmirror "
			    "pull at the same time" : sl_error());
			return -1;
		}
		p->progress = now_ms();
	}
	return 0;
}

/* Hand the pending batch to the background committer. */
static int
submit(struct pull *p)
{
	if (sl_writer_pending(p->w) == 0)
		return 0;
	if (collect(p, 0) < 0)
		return -1;
	if (sl_writer_submit(p->w) < 0) {
		js_seterr(NATS_OK, 0, "%s: %s", p->log, sl_error());
		return -1;
	}
	return 0;
}

/*
 * The replica's last record must be the stream's message at its
 * sequence.  0 it is (or cannot be compared: the message is gone), 1
 * try again later, -1 refused.
 */
static int
verify(struct pull *p)
{
	struct sl_record mine, theirs;
	struct decoded d = { 0 };
	jsStreamInfo *si = NULL;
	sl_reader *r;
	natsMsg *m = NULL;
	jsErrCode e = 0;
	natsStatus s;
	uint64_t lastseq;
	int rc;

	if (js_stream_info(&p->j, NULL, &si, &e) != NATS_OK) {
		/* A replica of a stream that is gone: refused. */
		return e == JSStreamNotFoundErr && p->next > 0 ? -1 : 1;
	}
	lastseq = p->lastseq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	if (p->next == 0)
		return 0;
	if (lastseq < p->next) {
		js_seterr(NATS_OK, 0, "%s: a replica up to offset %" PRIu64
		    ", but stream %s ends at sequence %" PRIu64 ": not the "
		    "stream it replicates (deleted and made again?)", p->log,
		    p->next - 1, p->j.stream, lastseq);
		return -1;
	}
	s = js_GetMsg(&m, p->j.js, p->j.stream, p->next, NULL, &e);
	if (s != NATS_OK) {
		if (js_notfound(s, e) && e != JSStreamNotFoundErr)
			return 0;	/* deleted since: nothing to compare */
		js_seterr(s, e, "%s: message %" PRIu64, p->j.stream, p->next);
		return 1;
	}
	if ((r = sl_reader_open(p->log)) == NULL) {
		natsMsg_Destroy(m);
		js_seterr(NATS_OK, 0, "%s", sl_error());
		return -1;
	}
	rc = -1;
	if (sl_reader_seek(r, p->next - 1) < 0 ||
	    (rc = sl_reader_next(r, &mine)) != 1) {
		js_seterr(NATS_OK, 0, "%s: %s", p->log, rc == 0 ?
		    "its last record is missing" : sl_error());
		rc = -1;
	} else if (msg_to_rec(m, p->next - 1, &d, &theirs) < 0)
		rc = -1;
	else if (mine.offset != p->next - 1 || !rec_equal(&mine, &theirs)) {
		js_seterr(NATS_OK, 0, "%s: offset %" PRIu64 " differs from "
		    "message %" PRIu64 " of stream %s: the replica diverged "
		    "or the stream was made again", p->log, p->next - 1,
		    p->next, p->j.stream);
		rc = -1;
	} else
		rc = 0;
	decoded_free(&d);
	sl_reader_close(r);
	natsMsg_Destroy(m);
	return rc;
}

/*
 * A pull consumer of the whole stream (no filter) from the replica's end,
 * ephemeral: made here, bound to by its name.  The servers place it on
 * any member of the stream, and a follower's copy may lag (a server that
 * restarted and is catching up) or, after a crash, even differ from the
 * leader's (nats-server 2.9.10 was seen to lose messages in the middle of
 * a restarted follower's copy and number the rest on): only the leader's
 * copy is the stream.  So a consumer placed elsewhere is deleted and made
 * again, up to PLACE_TRIES times.
 */
#define PLACE_TRIES	16

static int
subscribe(struct pull *p)
{
	jsConsumerConfig cc;
	jsConsumerInfo *ci = NULL;
	jsStreamInfo *si = NULL;
	jsSubOptions so;
	jsErrCode e = 0;
	natsStatus s;
	char leader[128] = "";
	const char *at;

	if (js_stream_info(&p->j, NULL, &si, &e) != NATS_OK)
		return -1;
	if (si->Cluster != NULL && si->Cluster->ReplicasLen > 0)
		snprintf(leader, sizeof leader, "%s", si->Cluster->Leader);
	jsStreamInfo_Destroy(si);
	jsConsumerConfig_Init(&cc);
	cc.DeliverPolicy = js_DeliverByStartSequence;
	cc.OptStartSeq = p->next + 1;
	cc.AckPolicy = js_AckNone;
	cc.InactiveThreshold = (int64_t)30 * 1000000000;
	cc.MemoryStorage = true;
	for (int tries = 1;; tries++) {
		e = 0;
		s = js_AddConsumer(&ci, p->j.js, p->j.stream, &cc, NULL, &e);
		if (s != NATS_OK) {
			js_seterr(s, e, "%s: consumer", p->j.stream);
			return -1;
		}
		at = ci->Cluster != NULL && ci->Cluster->Leader != NULL ?
		    ci->Cluster->Leader : "";
		if (leader[0] == '\0' || strcmp(at, leader) == 0)
			break;
		if (tries == PLACE_TRIES) {
			notice("%s: its consumer is on %s, not on the stream's "
			    "leader %s, after %d tries", p->j.stream,
			    at[0] ? at : "no server", leader, tries);
			break;
		}
		js_DeleteConsumer(p->j.js, p->j.stream, ci->Name, NULL, &e);
		jsConsumerInfo_Destroy(ci);
		ci = NULL;
	}
	jsSubOptions_Init(&so);
	so.Stream = p->j.stream;
	so.Consumer = ci->Name;
	snprintf(p->consumer, sizeof p->consumer, "%s", ci->Name);
	p->cseq = 0;
	so.Config = cc;
	s = js_PullSubscribe(&p->sub, p->j.js, NULL, NULL, NULL, &so, &e);
	jsConsumerInfo_Destroy(ci);
	if (s != NATS_OK) {
		js_seterr(s, e, "%s: consumer", p->j.stream);
		p->sub = NULL;
		return -1;
	}
	return 0;
}

/*
 * Drop the consumer (best effort: the server drops it anyway once it
 * has been idle for 30 s).  libnats 3.4 may still be handing a late
 * message of the subscription (one for a fetch that timed out) to it
 * while it is destroyed, a use after free: a round trip to the server
 * after the unsubscribe first, so that its reader is past whatever the
 * server sent before it.
 */
static void
unsubscribe(struct pull *p)
{
	jsErrCode e = 0;

	if (p->sub) {
		natsSubscription_Unsubscribe(p->sub);
		if (p->j.nc != NULL)
			natsConnection_FlushTimeout(p->j.nc, 1000);
		natsSubscription_Destroy(p->sub);
		if (p->j.js && p->consumer[0] != '\0')
			js_DeleteConsumer(p->j.js, p->j.stream, p->consumer,
			    NULL, &e);
	}
	p->sub = NULL;
	p->consumer[0] = '\0';
}

/*
 * Add the fetched messages to the pending batch: 0 done, 1 a delivery
 * is missing (make the consumer again), -1 fatal.
 */
static int
take(struct pull *p, natsMsgList *list)
{
	struct sl_record rec;

	for (int i = 0; i < list->Count; i++) {
		natsMsg *m = list->Msgs[i];
		uint64_t seq, cseq;
		jsMsgMetaData *md = NULL;

		if (natsMsg_GetMetaData(&md, m) != NATS_OK) {
			/* A status message, not one of the stream's. */
			continue;
		}
		seq = md->Sequence.Stream;
		cseq = md->Sequence.Consumer;
		jsMsgMetaData_Destroy(md);
		if (cseq <= p->cseq)	/* delivered again */
			continue;
		if (cseq != p->cseq + 1) {
			js_seterr(NATS_OK, 0, "%s: delivery %" PRIu64 " of the "
			    "consumer is missing", p->j.stream, p->cseq + 1);
			return 1;
		}
		p->cseq = cseq;
		if (seq <= p->next)	/* already there */
			continue;
		if (msg_to_rec(m, seq - 1, &p->d, &rec) < 0)
			return -1;
		if (sl_writer_add_at(p->w, &rec) < 0 && (errno != ENOBUFS ||
		    submit(p) < 0 || sl_writer_add_at(p->w, &rec) < 0)) {
			js_seterr(NATS_OK, 0, "%s: offset %" PRIu64 ": %s",
			    p->log, seq - 1, errno == EMSGSIZE ? "larger than "
			    "the replica's maximum record size" :
			    strerror(errno));
			return -1;
		}
		p->next = seq;
	}
	return 0;
}

static int
finish(struct pull *p, int rc)
{
	if (p->w && (submit(p) < 0 || collect(p, 1) < 0) && rc == 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		rc = 2;
	}
	if (rc == 0 && p->j.nc && bucket_sync(&p->bk, &p->j, p->log) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		rc = 2;
	}
	bucket_close(p->bk);
	unsubscribe(p);
	js_close(&p->j);
	free(p->j.servers);
	decoded_free(&p->d);
	sl_writer_close(p->w);
	return rc;
}

static int
fatal(struct pull *p, int status)
{
	fprintf(stderr, "logmirror: %s\n", jserr());
	return finish(p, status);
}

/* Back off after a failure, unless it lasted too long. */
static int
retry(struct pull *p, int64_t *delay)
{
	unsubscribe(p);
	if (opt.giveup_ms >= 0 && now_ms() - p->progress > opt.giveup_ms) {
		js_seterr(NATS_OK, 0, "%s: giving up after %" PRId64 " s "
		    "without progress: %s", p->log, opt.giveup_ms / 1000,
		    jserr());
		return -1;
	}
	notice("%s: %s; retrying in %" PRId64 " ms", p->log, jserr(), *delay);
	*delay = backoff(*delay);
	return 0;
}

/*
 * Add a fetched batch to the replica, and hand it to the committer when
 * it ends a burst or fills about a MiB; with -f and -k, publish the
 * bucket every second.  0 go on, 1 done (without -f: all the stream held
 * at start is in), -1 fatal (jserr() says why).
 */
static int
add_batch(struct pull *p, natsMsgList *list, int64_t *delay)
{
	int got = list->Count, r;

	r = take(p, list);
	natsMsgList_Destroy(list);
	/* A batch of the log a sync: of a MiB or so, or of what there is
	 * when the stream has no more now. */
	if (r < 0 || ((r > 0 || got < opt.batch ||
	    sl_writer_pending_bytes(p->w) >= SUBMIT_BYTES ||
	    (!opt.follow && p->next >= p->lastseq)) && submit(p) < 0))
		return -1;
	if (r > 0) {
		/* From the replica's end again, at once. */
		notice("%s", jserr());
		unsubscribe(p);
		return 0;
	}
	*delay = 100;
	/* Without -f: done at what the stream held at start. */
	if (!opt.follow && p->next >= p->lastseq)
		return 1;
	if (opt.follow && opt.bucket && now_ms() - p->lastpub >= 1000) {
		if (bucket_sync(&p->bk, &p->j, p->log) < 0)
			notice("%s", jserr());
		p->lastpub = now_ms();
	}
	return 0;
}

/*
 * Without -f, its consumer has nothing more, yet the replica is short of
 * the stream's last sequence at start: whether every message between was
 * deleted (1), or the consumer's server holds less than the stream's
 * leader (0: a server that restarted and has not caught up yet; its
 * consumer must not end the run short).  -1 error.
 */
static int
tail_deleted(struct pull *p)
{
	jsStreamInfo *si = NULL;
	jsOptions o;
	jsErrCode e = 0;
	uint64_t gone = 0;
	int i;

	jsOptions_Init(&o);
	o.Stream.Info.DeletedDetails = true;
	if (js_stream_info(&p->j, &o, &si, &e) != NATS_OK)
		return -1;
	for (i = 0; i < si->State.DeletedLen; i++)
		if (si->State.Deleted[i] > p->next &&
		    si->State.Deleted[i] <= p->lastseq)
			gone++;
	jsStreamInfo_Destroy(si);
	if (gone == p->lastseq - p->next)
		return 1;
	js_seterr(NATS_OK, 0, "%s: its consumer's server has nothing after "
	    "sequence %" PRIu64 ", the stream holds up to %" PRIu64 ": a "
	    "server behind the others; a new consumer", p->j.stream, p->next,
	    p->lastseq);
	return 0;
}

/*
 * Fetch the next batch and add it.  When nothing comes, commit what
 * there is: caught up, unless the consumer is gone or behind the stream;
 * after a failure, back off.  0 go on, 1 done, -1 fatal (jserr() says
 * why).
 */
static int
fetch(struct pull *p, int64_t *delay)
{
	natsMsgList list;
	jsErrCode e = 0;
	natsStatus s;

	s = natsSubscription_Fetch(&list, p->sub, opt.batch,
	    opt.follow ? 1000 : 500, &e);
	if (s == NATS_OK)
		return add_batch(p, &list, delay);
	if (s == NATS_TIMEOUT) {
		jsConsumerInfo *ci = NULL;

		/* Nothing came: caught up, or the consumer is gone. */
		e = 0;
		s = js_GetConsumerInfo(&ci, p->j.js, p->j.stream,
		    p->consumer, NULL, &e);
		if (s == NATS_OK) {
			uint64_t pending = ci->NumPending;

			jsConsumerInfo_Destroy(ci);
			if (submit(p) < 0 || collect(p, 1) < 0)
				return -1;
			if (opt.follow &&
			    bucket_sync(&p->bk, &p->j, p->log) < 0)
				notice("%s", jserr());
			if (opt.follow || pending > 0 || p->next >= p->lastseq) {
				p->progress = now_ms();
				return pending == 0 && !opt.follow;
			}
			if (tail_deleted(p) > 0)
				return 1;
			/* Not progress: a server that stays behind ends
			 * the run after the -G time. */
			return retry(p, delay) < 0 ? -1 : 0;
		}
	}
	js_seterr(s, e, "%s: fetch", p->j.stream);
	if (submit(p) < 0 || collect(p, 1) < 0)
		return -1;
	if (retry(p, delay) < 0)
		return -1;
	return 0;
}

int
do_pull(const char *url, const char *log)
{
	struct pull p = { 0 };
	struct sl_writer_opts wo = { 0 };
	int64_t delay = 100;
	int verified = 0, r;

	p.log = log;
	if (js_parse_url(&p.j, url) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		return 2;
	}
	wo.nosync = opt.nosync;
	wo.replica = p.j.stream;
	if ((p.w = sl_writer_open(log, &wo)) == NULL) {
		fprintf(stderr, "logmirror: %s\n", sl_error());
		free(p.j.servers);
		return errno == EBADMSG ? 1 : 2;
	}
	p.next = sl_writer_next_offset(p.w);
	p.progress = now_ms();
	while (!stopping) {
		if (p.j.nc == NULL && js_connect(&p.j, 0, NULL, NULL) < 0) {
			p.j.nc = NULL;
			if (retry(&p, &delay) < 0)
				return fatal(&p, 2);
			continue;
		}
		if (!verified) {
			if ((r = verify(&p)) < 0)
				return fatal(&p, 1);
			if (r > 0) {
				if (retry(&p, &delay) < 0)
					return fatal(&p, 2);
				continue;
			}
			verified = 1;
			/* The bucket at once, so that waiters find it. */
			if (bucket_sync(&p.bk, &p.j, log) < 0)
				notice("%s", jserr());
			p.lastpub = now_ms();
		}
		if (p.sub == NULL && subscribe(&p) < 0) {
			if (retry(&p, &delay) < 0)
				return fatal(&p, 2);
			continue;
		}
		if ((r = fetch(&p, &delay)) < 0)
			return fatal(&p, 2);
		if (r > 0)
			break;
	}
	return finish(&p, 0);
}
