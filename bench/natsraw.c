/*
 * natsraw - the raw libnats rates logmirror is measured against, on the
 * same cluster in the same run (bench/mirror.bash):
 *
 *	natsraw pub SERVERS STREAM N	create STREAM (3 replicas, subjects
 *					STREAM.>) and publish N messages of
 *					100 bytes, asynchronously, each with
 *					a message id, 4096 in flight
 *	natsraw fetch SERVERS STREAM N	read N messages of STREAM through an
 *					ephemeral pull consumer, 1024 a fetch
 *
 * SERVERS is a comma-separated list of nats://host:port.  What logmirror
 * does besides (reading the log, the expectation header, encoding the
 * record; decoding, writing and syncing the replica) is what the
 * comparison measures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static void
die(const char *what, natsStatus s, jsErrCode e)
{
	fprintf(stderr, "natsraw: %s: %s (%d)\n", what, natsStatus_GetText(s),
	    (int)e);
	exit(1);
}

static void
on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *arg)
{
	(void)js;
	(void)pa;
	(void)arg;
	if (pae != NULL) {
		fprintf(stderr, "natsraw: publish: %s\n",
		    pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
		exit(1);
	}
	natsMsg_Destroy(m);
}

int
main(int argc, char **argv)
{
	natsConnection *nc;
	natsOptions *o;
	jsOptions jo;
	jsCtx *js;
	jsErrCode e = 0;
	natsStatus s;
	const char *urls[16];
	char *list, *tok, subj[300], id[64], data[100];
	int nurls = 0;
	long n;

	if (argc != 5 || (strcmp(argv[1], "pub") && strcmp(argv[1], "fetch"))) {
		fprintf(stderr, "usage: natsraw pub|fetch servers stream n\n");
		return 2;
	}
	n = atol(argv[4]);
	list = strdup(argv[2]);
	for (tok = strtok(list, ","); tok && nurls < 16; tok = strtok(NULL, ","))
		urls[nurls++] = tok;
	if ((s = natsOptions_Create(&o)) != NATS_OK ||
	    (s = natsOptions_SetServers(o, urls, nurls)) != NATS_OK ||
	    (s = natsConnection_Connect(&nc, o)) != NATS_OK)
		die("connect", s, 0);
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = 4096;
	jo.PublishAsync.AckHandler = on_ack;
	if ((s = natsConnection_JetStream(&js, nc, &jo)) != NATS_OK)
		die("jetstream", s, 0);
	if (strcmp(argv[1], "pub") == 0) {
		jsStreamConfig sc;
		jsStreamInfo *si;
		const char *subjs[1] = { subj };

		snprintf(subj, sizeof subj, "%s.>", argv[3]);
		jsStreamConfig_Init(&sc);
		sc.Name = argv[3];
		sc.Subjects = subjs;
		sc.SubjectsLen = 1;
		sc.Replicas = nurls >= 3 ? 3 : 1;
		/* A cluster under load may take more than the request's
		 * timeout to place a stream: a few tries. */
		for (int try = 0; (s = js_AddStream(&si, js, &sc, NULL,
		    &e)) == NATS_TIMEOUT && try < 5; try++)
			;
		if (s != NATS_OK)
			die("add stream", s, e);
		jsStreamInfo_Destroy(si);
		snprintf(subj, sizeof subj, "%s.raw", argv[3]);
		memset(data, 'x', sizeof data);
		for (long i = 0; i < n; i++) {
			jsPubOptions po;
			natsMsg *m;

			jsPubOptions_Init(&po);
			snprintf(id, sizeof id, "raw-%ld", i);
			po.MsgId = id;
			if ((s = natsMsg_Create(&m, subj, NULL, data,
			    sizeof data)) != NATS_OK)
				die("message", s, 0);
			while ((s = js_PublishMsgAsync(js, &m, &po)) ==
			    NATS_TIMEOUT)
				;
			if (s != NATS_OK)
				die("publish", s, 0);
		}
		jsPubOptions po;
		jsPubOptions_Init(&po);
		po.MaxWait = 60000;
		if ((s = js_PublishAsyncComplete(js, &po)) != NATS_OK)
			die("publish complete", s, 0);
	} else {
		jsConsumerConfig cc;
		jsConsumerInfo *ci;
		jsSubOptions so;
		natsSubscription *sub;
		long got = 0;

		jsConsumerConfig_Init(&cc);
		cc.DeliverPolicy = js_DeliverAll;
		cc.AckPolicy = js_AckNone;
		cc.MemoryStorage = true;
		if ((s = js_AddConsumer(&ci, js, argv[3], &cc, NULL, &e)) !=
		    NATS_OK)
			die("consumer", s, e);
		jsSubOptions_Init(&so);
		so.Stream = argv[3];
		so.Consumer = ci->Name;
		so.Config = cc;
		if ((s = js_PullSubscribe(&sub, js, NULL, NULL, NULL, &so, &e)) !=
		    NATS_OK)
			die("subscribe", s, e);
		jsConsumerInfo_Destroy(ci);
		while (got < n) {
			natsMsgList l;

			if ((s = natsSubscription_Fetch(&l, sub, 1024, 5000,
			    &e)) != NATS_OK)
				die("fetch", s, e);
			got += l.Count;
			natsMsgList_Destroy(&l);
		}
		natsSubscription_Destroy(sub);
	}
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	free(list);
	nats_Close();
	return 0;
}
