/*
 * wait.c - logmirror wait: the read-your-writes barrier across hosts.
 * It watches the checkpoint bucket (a key-value watch: the server pushes
 * each change, nothing polls) until every named consumer's checkpoint
 * has passed OFFSET, by default the stream's last message as it is when
 * the wait starts.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "prog.h"

/* A wait: the names, their checkpoints and the watch on the bucket. */
struct wait {
	struct js	 j;
	kvStore		*kv;
	kvWatcher	*w;
	char		 bucket[300];
	char		**names;	/* the consumers waited for */
	int		 n;
	uint64_t	*at;		/* their checkpoints, UINT64_MAX
					 * not seen yet */
	uint64_t	 target;	/* the checkpoint each must reach */
	int64_t		 deadline;	/* < 0 none */
	int		 quiet;		/* silent seconds in a row */
};

/* Whether a failure may pass: before the deadline, back off. */
static int
again(int64_t deadline, int64_t *delay)
{
	if (stopping || (deadline >= 0 && now_ms() + *delay > deadline))
		return 0;
	*delay = backoff(*delay);
	return 1;
}

/* A watch of every key of the bucket, retried until DEADLINE. */
static int
watch(kvStore *kv, kvWatcher **w, const char *bucket, int64_t deadline)
{
	kvWatchOptions wo;
	int64_t delay = 100;
	natsStatus s;

	kvWatchOptions_Init(&wo);
	wo.IgnoreDeletes = true;
	while ((s = kvStore_WatchAll(w, kv, &wo)) != NATS_OK) {
		js_seterr(s, 0, "checkpoint bucket %s: watch", bucket);
		if (!again(deadline, &delay))
			return -1;
	}
	return 0;
}

/*
 * Connect, find the target (unless -o gave it) and the bucket, and watch
 * it, retrying what may pass (an election, a server restarting) until
 * DEADLINE; a bucket that does not exist is final.
 */
static int
setup(struct js *j, const char *bucket, uint64_t *target, kvStore **kv,
    kvWatcher **w, int64_t deadline)
{
	jsStreamInfo *si;
	int64_t delay = 100;
	natsStatus s;

	while (js_connect(j, 0, NULL, NULL) < 0)
		if (!again(deadline, &delay))
			return -1;
	if (!opt.offset) {
		while (js_stream(j, 0, &si) < 0)
			if (!again(deadline, &delay))
				return -1;
		*target = si->State.LastSeq;	/* offset LastSeq - 1 applied */
		jsStreamInfo_Destroy(si);
	}
	while ((s = js_KeyValue(kv, j->js, bucket)) != NATS_OK) {
		js_seterr(s, 0, "checkpoint bucket %s", bucket);
		if (s == NATS_NOT_FOUND || !again(deadline, &delay))
			return -1;
	}
	return watch(*kv, w, bucket, deadline);
}

/* How many of the names have no checkpoint at the target yet. */
static int
missing(const struct wait *wt)
{
	int n = 0;

	for (int i = 0; i < wt->n; i++)
		if (wt->at[i] == UINT64_MAX || wt->at[i] < wt->target)
			n++;
	return n;
}

/* Say where each name the deadline found short of the target is. */
static void
timed_out(const struct wait *wt)
{
	for (int i = 0; i < wt->n; i++) {
		if (wt->at[i] != UINT64_MAX && wt->at[i] >= wt->target)
			continue;
		if (wt->at[i] == UINT64_MAX)
			fprintf(stderr, "logmirror: %s: timed out: no "
			    "checkpoint in %s\n", wt->names[i], wt->bucket);
		else
			fprintf(stderr, "logmirror: %s: timed out at %" PRIu64
			    ", waiting for %" PRIu64 "\n", wt->names[i],
			    wt->at[i], wt->target);
	}
}

/* Drop the watch and watch anew; -1 and a message on failure. */
static int
rewatch(struct wait *wt)
{
	kvWatcher_Destroy(wt->w);
	wt->w = NULL;
	if (watch(wt->kv, &wt->w, wt->bucket, wt->deadline) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		return -1;
	}
	return 0;
}

/* The next change the watch brings, waiting a second at most. */
static natsStatus
next(struct wait *wt, kvEntry **e)
{
	int64_t left;

	left = wt->deadline < 0 ? 1000 : wt->deadline - now_ms();
	if (wt->deadline >= 0 && left <= 0)
		return NATS_TIMEOUT;
	return kvWatcher_Next(e, wt->w, left > 1000 ? 1000 : left);
}

/* Take the checkpoint of entry E when its key is one of the names. */
static void
take(struct wait *wt, kvEntry *e)
{
	for (int i = 0; i < wt->n; i++) {
		uint64_t off;

		if (strcmp(kvEntry_Key(e), wt->names[i]) == 0 &&
		    sscanf(kvEntry_ValueString(e), "%" SCNu64, &off) == 1)
			wt->at[i] = off;
	}
}

/*
 * Follow the watch until every name's checkpoint reaches the target: 0,
 * 1 timed out, 2 stopped or failed (said).
 */
static int
await_all(struct wait *wt)
{
	kvEntry *e;
	natsStatus s;

	for (;;) {
		if (missing(wt) == 0)
			return 0;
		if (stopping)
			return 2;
		e = NULL;
		s = next(wt, &e);
		if (s == NATS_TIMEOUT && (wt->deadline < 0 ||
		    now_ms() < wt->deadline) && ++wt->quiet >= 10) {
			/*
			 * Ten seconds of silence: watch anew, which also
			 * delivers every current value, in case the watch
			 * lost its consumer to a failed server.
			 */
			wt->quiet = 0;
			if (rewatch(wt) < 0)
				return 2;
			continue;
		}
		if (s == NATS_TIMEOUT) {
			if (wt->deadline >= 0 && now_ms() >= wt->deadline) {
				timed_out(wt);
				return 1;
			}
			continue;
		}
		if (s != NATS_OK) {
			/* Watch again (a server failed over, say). */
			js_seterr(s, 0, "checkpoint bucket %s: watch",
			    wt->bucket);
			notice("%s", jserr());
			if (rewatch(wt) < 0)
				return 2;
			continue;
		}
		wt->quiet = 0;
		if (e == NULL)		/* the initial values are all in */
			continue;
		take(wt, e);
		kvEntry_Destroy(e);
	}
}

int
do_wait(const char *url, char **names, int n)
{
	struct wait wt = { 0 };
	int rc = 2;

	if (js_parse_url(&wt.j, url) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		return 2;
	}
	if ((wt.at = calloc((size_t)n, sizeof *wt.at)) == NULL) {
		fprintf(stderr, "logmirror: %s\n", strerror(errno));
		free(wt.j.servers);
		return 2;
	}
	wt.names = names;
	wt.n = n;
	for (int i = 0; i < n; i++) {
		arg_consumer(names[i]);	/* the words every program says */
		wt.at[i] = UINT64_MAX;	/* not seen yet */
	}
	if (opt.bucket)
		snprintf(wt.bucket, sizeof wt.bucket, "%s", opt.bucket);
	else
		bucket_default(wt.j.stream, wt.bucket, sizeof wt.bucket);
	wt.target = 0;
	if (opt.offset) {
		if (sl_parse_u64(opt.offset, 0, &wt.target) < 0 ||
		    wt.target == UINT64_MAX) {
			fprintf(stderr, "logmirror: -o: invalid offset: %s\n",
			    opt.offset);
			goto out;
		}
		wt.target++;	/* applied OFFSET: the checkpoint past it */
	}
	wt.deadline = opt.timeout_ms >= 0 ? now_ms() + opt.timeout_ms : -1;
	if (setup(&wt.j, wt.bucket, &wt.target, &wt.kv, &wt.w,
	    wt.deadline) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		goto out;
	}
	rc = await_all(&wt);
out:
	kvWatcher_Destroy(wt.w);
	kvStore_Destroy(wt.kv);
	js_close(&wt.j);
	free(wt.j.servers);
	free(wt.at);
	return rc;
}
