/*
 * js.c - logmirror's JetStream plumbing: the URL, the connection (which
 * libnats re-establishes by itself, to any server of the cluster), the
 * stream, messages for errors, and the backoff every job uses.  Nothing
 * here knows the order rules: push.c and pull.c keep them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "extern.h"

static _Thread_local char errbuf[1024];

const char *
jserr(void)
{
	return errbuf;
}

void
js_seterr(natsStatus s, jsErrCode e, const char *fmt, ...)
{
	char what[512];
	const char *last = NULL;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (s == NATS_OK) {
		snprintf(errbuf, sizeof errbuf, "%s", what);
		return;
	}
	{
		natsStatus ls = NATS_OK;

		/* The thread's last error, if it is this one. */
		last = nats_GetLastError(&ls);
		if (ls != s)
			last = NULL;
	}
	if (e != 0)
		snprintf(errbuf, sizeof errbuf, "%s: %s (jetstream error %d)",
		    what, last && *last ? last : natsStatus_GetText(s), (int)e);
	else
		snprintf(errbuf, sizeof errbuf, "%s: %s", what,
		    last && *last ? last : natsStatus_GetText(s));
}

int
js_notfound(natsStatus s, jsErrCode e)
{
	return s == NATS_NOT_FOUND || e == JSNoMessageFoundErr ||
	    e == JSStreamNotFoundErr;
}

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
backoff(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	if (!stopping)
		nanosleep(&ts, NULL);
	return ms * 2 > 5000 ? 5000 : ms * 2;
}

void
notice(const char *fmt, ...)
{
	va_list ap;

	if (opt.quiet)
		return;
	va_start(ap, fmt);
	fputs("logmirror: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int
js_parse_url(struct js *j, const char *url)
{
	const char *p, *slash;
	size_t len, n = 0;
	char *out;

	memset(j, 0, sizeof *j);
	if (strncmp(url, "nats://", 7) != 0) {
		js_seterr(NATS_OK, 0, "%s: not a nats:// URL", url);
		return -1;
	}
	p = url + 7;
	if ((slash = strchr(p, '/')) == NULL || slash[1] == '\0' ||
	    slash == p) {
		js_seterr(NATS_OK, 0, "%s: expected nats://HOST:PORT[,...]/"
		    "STREAM", url);
		return -1;
	}
	len = strlen(slash + 1);
	if (len >= sizeof j->stream ||
	    strpbrk(slash + 1, " \t.*>/\\") != NULL) {
		js_seterr(NATS_OK, 0, "%s: bad stream name", slash + 1);
		return -1;
	}
	memcpy(j->stream, slash + 1, len + 1);
	/* Each server of the list, as a nats:// URL of its own. */
	if ((out = malloc(4 * (size_t)(slash - p) + 8)) == NULL) {
		js_seterr(NATS_OK, 0, "%s", strerror(errno));
		return -1;
	}
	out[0] = '\0';
	while (p < slash) {
		const char *c = memchr(p, ',', (size_t)(slash - p));
		size_t l = (size_t)((c ? c : slash) - p);

		if (l > 0) {
			n += (size_t)sprintf(out + n, "%snats://%.*s",
			    n ? "," : "", (int)l, p);
		}
		p += l + (c != NULL);
	}
	j->servers = out;
	return 0;
}

int
js_connect(struct js *j, int window, jsPubAckHandler ack, void *arg)
{
	natsOptions *o = NULL;
	jsOptions jo;
	natsStatus s;
	const char *urls[64];
	char *list, *tok, *save = NULL;
	int n = 0;

	if ((list = strdup(j->servers)) == NULL) {
		js_seterr(NATS_NO_MEMORY, 0, "%s", j->servers);
		return -1;
	}
	for (tok = strtok_r(list, ",", &save); tok && n < 64;
	    tok = strtok_r(NULL, ",", &save))
		urls[n++] = tok;
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, urls, n);
	free(list);
	if (s != NATS_OK ||
	    (s = natsOptions_SetTimeout(o, 2000)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(o, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(o, 250)) != NATS_OK ||
	    (s = natsOptions_SetReconnectBufSize(o, 64 << 20)) != NATS_OK ||
	    (s = natsOptions_SetPingInterval(o, 2000)) != NATS_OK ||
	    (s = natsOptions_SetMaxPingsOut(o, 3)) != NATS_OK ||
	    (s = natsConnection_Connect(&j->nc, o)) != NATS_OK) {
		js_seterr(s, 0, "%s", j->servers);
		natsOptions_Destroy(o);
		return -1;
	}
	natsOptions_Destroy(o);
	jsOptions_Init(&jo);
	jo.Wait = 5000;
	if (window > 0) {
		jo.PublishAsync.MaxPending = window;
		jo.PublishAsync.AckHandler = ack;
		jo.PublishAsync.AckHandlerClosure = arg;
		jo.PublishAsync.StallWait = 500;
	}
	if ((s = natsConnection_JetStream(&j->js, j->nc, &jo)) != NATS_OK) {
		js_seterr(s, 0, "%s", j->servers);
		natsConnection_Destroy(j->nc);
		j->nc = NULL;
		return -1;
	}
	return 0;
}

void
js_close(struct js *j)
{
	if (j->js)
		jsCtx_Destroy(j->js);
	if (j->nc) {
		natsConnection_Close(j->nc);
		natsConnection_Destroy(j->nc);
	}
	j->js = NULL;
	j->nc = NULL;
}

/* How many servers the connection knows of: a single one gets R1. */
static int
cluster_size(struct js *j)
{
	char **urls = NULL;
	int n = 0;

	if (natsConnection_GetServers(j->nc, &urls, &n) != NATS_OK)
		return 1;
	for (int i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	return n;
}

/*
 * A clustered stream's members that see no leader answer an info request
 * too, each from its own replica, and the first answer wins: one of a
 * server that restarted and is still catching up would say the stream
 * ends where that server's copy does.  Only an answer that names the
 * leader is the stream's word; another is an error to retry (NATS_ERR,
 * e 0).  On failure jserr() says why.
 */
natsStatus
js_stream_info(struct js *j, jsOptions *o, jsStreamInfo **si, jsErrCode *e)
{
	natsStatus s;

	*si = NULL;
	*e = 0;
	s = js_GetStreamInfo(si, j->js, j->stream, o, e);
	if (s != NATS_OK) {
		js_seterr(s, *e, "%s", j->stream);
		*si = NULL;
		return s;
	}
	if ((*si)->Cluster != NULL && (*si)->Cluster->ReplicasLen > 0 &&
	    ((*si)->Cluster->Leader == NULL ||
	    (*si)->Cluster->Leader[0] == '\0')) {
		js_seterr(NATS_OK, 0, "%s: answered by a server that sees no "
		    "leader of the stream (an election, or a server catching "
		    "up)", j->stream);
		jsStreamInfo_Destroy(*si);
		*si = NULL;
		return NATS_ERR;
	}
	return NATS_OK;
}

int
js_stream(struct js *j, int create, jsStreamInfo **si)
{
	jsStreamConfig sc;
	jsErrCode e = 0;
	natsStatus s;
	char subj[300];
	const char *subjs[1] = { subj };
	int64_t mp;

	s = js_stream_info(j, NULL, si, &e);
	if (s != NATS_OK && js_notfound(s, e) && create) {
		jsStreamConfig_Init(&sc);
		snprintf(subj, sizeof subj, "%s.>", j->stream);
		sc.Name = j->stream;
		sc.Subjects = subjs;
		sc.SubjectsLen = 1;
		sc.Storage = js_FileStorage;
		sc.Replicas = opt.replicas > 0 ? opt.replicas :
		    cluster_size(j) >= 3 ? 3 : 1;
		/* A day of message ids: a re-sent record is dropped. */
		sc.Duplicates = (int64_t)24 * 3600 * 1000000000;
		e = 0;
		s = js_AddStream(si, j->js, &sc, NULL, &e);
		/* Another pusher may have made it meanwhile. */
		if (s != NATS_OK && e == JSStreamNameExistErr)
			return js_stream(j, 0, si);
		if (s != NATS_OK)
			js_seterr(s, e, "%s", j->stream);
	}
	if (s != NATS_OK) {
		*si = NULL;
		return -1;
	}
	mp = natsConnection_GetMaxPayload(j->nc);
	j->maxmsg = mp;
	if ((*si)->Config && (*si)->Config->MaxMsgSize > 0 &&
	    (*si)->Config->MaxMsgSize < mp)
		j->maxmsg = (*si)->Config->MaxMsgSize;
	return 0;
}
