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

int
do_wait(const char *url, char **names, int n)
{
	struct js j;
	kvStore *kv = NULL;
	kvWatcher *w = NULL;
	char bucket[300];
	uint64_t target, *at;
	int64_t deadline, left;
	natsStatus s;
	int rc = 2, missing, quiet = 0;

	if (js_parse_url(&j, url) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		return 2;
	}
	if ((at = calloc((size_t)n, sizeof *at)) == NULL) {
		fprintf(stderr, "logmirror: %s\n", strerror(errno));
		free(j.servers);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		arg_consumer(names[i]);	/* the words every program says */
		at[i] = UINT64_MAX;	/* not seen yet */
	}
	if (opt.bucket)
		snprintf(bucket, sizeof bucket, "%s", opt.bucket);
	else
		bucket_default(j.stream, bucket, sizeof bucket);
	target = 0;
	if (opt.offset) {
		if (sl_parse_u64(opt.offset, 0, &target) < 0 ||
		    target == UINT64_MAX) {
			fprintf(stderr, "logmirror: -o: invalid offset: %s\n",
			    opt.offset);
			goto out;
		}
		target++;		/* applied OFFSET: the checkpoint past it */
	}
	deadline = opt.timeout_ms >= 0 ? now_ms() + opt.timeout_ms : -1;
	if (setup(&j, bucket, &target, &kv, &w, deadline) < 0) {
		fprintf(stderr, "logmirror: %s\n", jserr());
		goto out;
	}
	for (;;) {
		kvEntry *e = NULL;

		missing = 0;
		for (int i = 0; i < n; i++)
			if (at[i] == UINT64_MAX || at[i] < target)
				missing++;
		if (missing == 0) {
			rc = 0;
			break;
		}
		if (stopping) {
			rc = 2;
			break;
		}
		left = deadline < 0 ? 1000 : deadline - now_ms();
		if (deadline >= 0 && left <= 0)
			s = NATS_TIMEOUT;
		else
			s = kvWatcher_Next(&e, w, left > 1000 ? 1000 : left);
		if (s == NATS_TIMEOUT && (deadline < 0 || now_ms() < deadline) &&
		    ++quiet >= 10) {
			/*
			 * Ten seconds of silence: watch anew, which also
			 * delivers every current value, in case the watch
			 * lost its consumer to a failed server.
			 */
			quiet = 0;
			kvWatcher_Destroy(w);
			w = NULL;
			if (watch(kv, &w, bucket, deadline) < 0) {
				fprintf(stderr, "logmirror: %s\n", jserr());
				break;
			}
			continue;
		}
		if (s == NATS_TIMEOUT) {
			if (deadline >= 0 && now_ms() >= deadline) {
				for (int i = 0; i < n; i++) {
					if (at[i] != UINT64_MAX &&
					    at[i] >= target)
						continue;
					if (at[i] == UINT64_MAX)
						fprintf(stderr, "logmirror: "
						    "%s: timed out: no "
						    "checkpoint in %s\n",
						    names[i], bucket);
					else
						fprintf(stderr, "logmirror: "
						    "%s: timed out at %" PRIu64
						    ", waiting for %" PRIu64
						    "\n", names[i], at[i],
						    target);
				}
				rc = 1;
				break;
			}
			continue;
		}
		if (s != NATS_OK) {
			/* Watch again (a server failed over, say). */
			js_seterr(s, 0, "checkpoint bucket %s: watch", bucket);
			notice("%s", jserr());
			kvWatcher_Destroy(w);
			w = NULL;
			if (watch(kv, &w, bucket, deadline) < 0) {
				fprintf(stderr, "logmirror: %s\n", jserr());
				break;
			}
			continue;
		}
		quiet = 0;
		if (e == NULL)		/* the initial values are all in */
			continue;
		for (int i = 0; i < n; i++) {
			uint64_t off;

			if (strcmp(kvEntry_Key(e), names[i]) == 0 &&
			    sscanf(kvEntry_ValueString(e), "%" SCNu64, &off)
			    == 1)
				at[i] = off;
		}
		kvEntry_Destroy(e);
	}
out:
	kvWatcher_Destroy(w);
	kvStore_Destroy(kv);
	js_close(&j);
	free(j.servers);
	free(at);
	return rc;
}
