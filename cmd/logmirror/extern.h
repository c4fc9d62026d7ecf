/*
 * extern.h - logmirror's private interface: the JetStream plumbing
 * (js.c), the record <-> message mapping (codec.c), the checkpoint bucket
 * (bucket.c), and the three jobs (push.c, pull.c, wait.c).
 */
#ifndef LOGMIRROR_EXTERN_H
#define LOGMIRROR_EXTERN_H

#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "synclog.h"

/* Options every job shares (main.c). */
struct mopts {
	const char	*name;		/* -n: push's consumer name */
	const char	*subject;	/* -s */
	const char	*bucket;	/* -k: the checkpoint bucket, or NULL */
	const char	*offset;	/* -o: wait's offset */
	int64_t		 replicas;	/* -r: 0 = 3, or 1 on one server */
	int		 follow;	/* -f */
	int		 nosync;	/* -N */
	int		 batch;		/* -b: pull's fetch size */
	int		 window;	/* -w: push's messages in flight */
	int64_t		 timeout_ms;	/* -T: wait's timeout; < 0 none */
	int64_t		 giveup_ms;	/* -G: give up after this long
					 * without progress; < 0 never */
	int		 quiet;		/* -q: no retry notices */
};

extern struct mopts opt;
extern volatile int stopping;	/* SIGINT or SIGTERM arrived */

/* ---- js.c ----------------------------------------------------------- */

struct js {
	char		*servers;	/* "nats://h:p,nats://h:p" */
	char		 stream[256];
	natsConnection	*nc;
	jsCtx		*js;
	int64_t		 maxmsg;	/* largest message the stream takes */
};

/* Parse URL (nats://host:port[,host:port...]/STREAM) into J. */
int	js_parse_url(struct js *j, const char *url);
/*
 * Connect (reconnecting by itself afterwards), with the asynchronous
 * publish window and ack handler given (0, NULL: none).  -1 and a message
 * (jserr()) on failure.
 */
int	js_connect(struct js *j, int window, jsPubAckHandler ack, void *arg);
void	js_close(struct js *j);
/*
 * The stream's info; when missing and CREATE, create it with the subject
 * pattern "STREAM.>" and REPLICAS.  Sets j->maxmsg.  The caller destroys
 * *SI.
 */
int	js_stream(struct js *j, int create, jsStreamInfo **si);
/*
 * The stream's info as its leader gives it: an answer of a server that
 * sees no leader is refused (NATS_ERR, *E 0).  Otherwise js_GetStreamInfo.
 */
natsStatus js_stream_info(struct js *j, jsOptions *o, jsStreamInfo **si,
	    jsErrCode *e);
/* The message of the last js_* failure in this thread. */
const char *jserr(void);
void	js_seterr(natsStatus s, jsErrCode e, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Whether S / E say "no such message" or "no such stream". */
int	js_notfound(natsStatus s, jsErrCode e);

/* Sleep MS milliseconds unless a signal stops us; the next backoff. */
int64_t	backoff(int64_t ms);
int64_t	now_ms(void);
/* A notice on stderr, unless -q. */
void	notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- codec.c -------------------------------------------------------- */

#define HDR_TIME	"Synclog-Time"
#define HDR_KEY		"Synclog-Key"
#define HDR_KEY64	"Synclog-Key-Base64"
#define HDR_TOMB	"Synclog-Tombstone"
#define HDR_HEADERS	"Synclog-Headers"
#define HDR_MSGID	"Nats-Msg-Id"

/*
 * The message for record R of the log whose message id prefix is ID
 * (msgid_prefix), published on SUBJECT:
 * its payload the value, its headers the rest (synclog(5) "Mirrored
 * records").  *SIZE: the bytes the server counts against its maximum.
 */
int	rec_to_msg(natsMsg **m, const char *subject, const char *id,
	    const struct sl_record *r, size_t *size);
/*
 * Decode message M into R (offset OFFSET), pointing into M and into
 * *BUF (grown as needed; the caller frees it).  -1 with a message
 * (jserr()) when its synclog headers are malformed.
 */
struct decoded {
	unsigned char	*buf, *kbuf;	/* the header list's, the key's */
	size_t		 cap, kcap;
	struct sl_header *hdrs;
	size_t		 hcap;
};
int	msg_to_rec(natsMsg *m, uint64_t offset, struct decoded *d,
	    struct sl_record *r);
void	decoded_free(struct decoded *d);
/* Whether two records are equal in all but their offsets. */
int	rec_equal(const struct sl_record *a, const struct sl_record *b);
/*
 * A message id is "LOGID-OFFSET", LOGID the log id's 128 bits in 22
 * base64url digits (synclog(5)): the id of a log id in hexadecimal into
 * OUT[23] (-1 when HEXID is not one), and the parse of a message id (0,
 * LOGID in ID[23] and *OFF).
 */
int	msgid_prefix(const char *hexid, char *out);
int	msgid_parse(const char *s, char *id, uint64_t *off);

/* ---- bucket.c ------------------------------------------------------- */

/*
 * The checkpoints of the consumers of the log in DIR, published to the
 * bucket -k names: one key per consumer, "OFFSET LOGID UPDATED", written
 * with the revision as compare-and-set.
 */
struct bucket;
struct bucket *bucket_open(struct js *j, const char *name, int create);
/* Publish what changed since the last call; -1 and jserr() on failure. */
int	bucket_publish(struct bucket *b, const char *dir);
void	bucket_close(struct bucket *b);
/* With -k: open the bucket (*B, once) and publish; -1 and jserr(). */
int	bucket_sync(struct bucket **b, struct js *j, const char *dir);
/* The default bucket name of stream STREAM. */
void	bucket_default(const char *stream, char *buf, size_t len);

/* ---- the jobs ------------------------------------------------------- */

int	do_push(const char *log, const char *url);
int	do_pull(const char *url, const char *log);
int	do_wait(const char *url, char **names, int n);

#endif /* LOGMIRROR_EXTERN_H */
