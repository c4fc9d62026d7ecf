/*
 * fmt.h - the record formats, in and out: the private parts of sl_out and
 * sl_in, and what the format files share.  Nothing below this layer
 * (batch, segment, index) includes it.
 *
 *	fmtopt.c	the format options (-0 -B -D -F -J -K -Y)
 *	codec.c		decimal, UTF-8, base64, backslash escapes
 *	time.c		ISO 8601 times and durations (public, and %I)
 *	out.c		the output buffer and the dispatch to the formats
 *	in.c		the input buffer (read, mmap, poll) and its dispatch
 *	text.c		text in and out, -F templates out
 *	frame.c		-B frames in and out
 *	json.c		-J JSON Lines in and out
 *	yaml.c		-Y YAML documents in and out
 *	emit.c		-J and -Y of what is not a record (logstat, ...)
 */
#ifndef SL_FMT_H
#define SL_FMT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "synclog.h"
#include "bytes.h"

/* A compiled -F template: literal runs and tokens. */
enum {
	TOK_LIT, TOK_VALUE, TOK_VALUESIZE, TOK_KEY, TOK_KEYSIZE, TOK_OFFSET,
	TOK_TIME, TOK_ISOTIME, TOK_HEADERS, TOK_LOGNAME, TOK_PARTITION,
	TOK_VALUELEN32
};

struct sl_rf_item {
	int	tok;
	size_t	off, len;	/* TOK_LIT: bytes in sl_out.lit */
};

/* Output: one buffer that every format appends to. */
struct sl_out {
	int		 fd;		/* -1 with a sink */
	sl_out_sink	*sink;
	void		*sinkarg;
	int		 err;		/* sticky errno, 0 while healthy */
	struct sl_fmt	 fmt;
	unsigned char	*buf;
	size_t		 len, cap;
	struct sl_rf_item *tpl;		/* compiled -F template */
	size_t		 ntpl;
	unsigned char	*lit;		/* the template's literal bytes */
	void		*yaml;		/* yaml_emitter_t, -Y only */
};

/* Input: a read buffer holding [start, end) of not yet consumed bytes. */
struct sl_in {
	int		 fd;
	int		 err;		/* sticky errno after a failure */
	int		 eof;
	struct sl_fmt	 fmt;
	size_t		 max_record;
	unsigned char	*buf;
	size_t		 start, end, cap;
	size_t		 limit;		/* most bytes one record may occupy */
	size_t		 scan;		/* resume point of the format's scan,
					   relative to start */
	int		 mapped;	/* buf maps the file (sl_in_map) */
	off_t		 mapoff;	/* file position of buf[0] */
	off_t		 fsize;		/* the file's size, as last seen */
	uint64_t	 recno;		/* records begun */
	uint64_t	 lineno;	/* lines consumed (text, JSON, YAML) */
	int		 ystate;	/* YAML document splitter state */
	uint64_t	 ylines;	/* lines scanned in the pending chunk */
	unsigned char	*arena;		/* decoded strings of one record */
	size_t		 acap;
	struct sl_header *hdrs;
	size_t		 hcap;
	char		 msg[256];
};

/* Make room for N more bytes in the output buffer (flushing first). */
int	sl_rf_reserve(struct sl_out *, size_t n);
/* sl_rf_text with -Z: an absent key or value printed as NULL. */
int	sl_rf_text_null(struct sl_out *, const unsigned char *key, size_t kl,
	    const unsigned char *value, size_t vl);

/*
 * One record in the text format: [key keydelim] value delim.  Inline, the
 * room check too, and a one-byte delimiter stored rather than copied: it
 * runs for every record logcat prints, and the calls were a quarter of its
 * instructions.  KEY or VALUE may be NULL (absent) when its length is 0.
 */
static inline int
sl_rf_text(struct sl_out *o, const unsigned char *key, size_t kl,
    const unsigned char *value, size_t vl)
{
	const struct sl_fmt *f = &o->fmt;
	size_t need = kl + vl + 2 * SL_DELIM_MAX;
	unsigned char *p;

	if ((key == NULL || value == NULL) && f->shownull)
		return sl_rf_text_null(o, key, kl, value, vl);
	/* Both are lengths of bytes in memory: the sum cannot wrap. */
	if (o->cap - o->len < need && sl_rf_reserve(o, need) < 0)
		return -1;
	p = o->buf + o->len;
	if (f->keydelimlen > 0) {
		if (kl > 0)
			memcpy(p, key, kl);
		p += kl;
		memcpy(p, f->keydelim, f->keydelimlen);
		p += f->keydelimlen;
	}
	if (vl > 0)
		memcpy(p, value, vl);
	p += vl;
	if (f->delimlen == 1)
		*p++ = f->delim[0];
	else {
		memcpy(p, f->delim, f->delimlen);
		p += f->delimlen;
	}
	o->len = p - o->buf;
	return 0;
}
/* Sum of A and B, or SIZE_MAX when it does not fit. */
static inline size_t
sl_rf_addsz(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* ---- codec.c -------------------------------------------------------- */

/* Append a decimal number; the caller reserved 20 bytes. */
unsigned char *sl_rf_u64(unsigned char *p, uint64_t v);
unsigned char *sl_rf_i64(unsigned char *p, int64_t v);

/* Length of the valid UTF-8 sequence at P (strict), 0 when invalid. */
size_t	sl_rf_utf8_seq(const unsigned char *p, size_t n);
int	sl_rf_utf8_valid(const unsigned char *p, size_t n);
/* Standard base64 with padding; returns bytes written (4 * ceil(n/3)). */
size_t	sl_rf_b64_encode(unsigned char *dst, const unsigned char *src,
	    size_t n);
/* Decode in place (DST may equal SRC); skips whitespace when WS.
 * Returns bytes decoded or -1 when malformed. */
ssize_t	sl_rf_b64_decode(unsigned char *dst, const unsigned char *src,
	    size_t n, int ws);

/* Decode the escape after the backslash at *S (n t r 0 \\ xHH), advance
 * *S past it: the byte, or -1 when there is no such escape. */
int	sl_rf_unescape1(const char **s);

/* ---- time.c --------------------------------------------------------- */

/* Write MS as sl_time_format does into BUF (SL_TIME_MAX bytes), without
 * the NUL; returns its length. */
size_t	sl_rf_isotime(int64_t ms, char *buf);

/* ---- in.c: what the input formats share ---------------------------- */

/* Set the input's message (printf-like) and sticky errno; returns -1. */
int	sl_rf_fail(struct sl_in *, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The "exceeds the maximum record size" failure. */
int	sl_rf_toolarge(struct sl_in *, const char *where, uint64_t n);
/* Make the arena and header array hold at least N bytes / headers. */
int	sl_rf_arena(struct sl_in *, size_t n);
int	sl_rf_headers(struct sl_in *, size_t n);

/* -1 and the "exceeds" failure when R is larger than the maximum. */
int	sl_rf_check_size(struct sl_in *, const struct sl_record *r,
	    const char *where, uint64_t n);

/* Mark N bytes of the input as parsed. */
static inline void
sl_rf_consume(struct sl_in *in, size_t n)
{
	in->start += n;
	in->scan = 0;
	if (in->start == in->end && !in->mapped)
		in->start = in->end = 0;
}

/* ---- the formats: one record out (0 or -1 and errno), one record in
 * (1 record, 0 need more input or the end at eof, -1 failed) -------- */

int	sl_rf_tpl_compile(const char *t, struct sl_rf_item **items,
	    size_t *nitems, unsigned char **lit);
int	sl_rf_tpl_out(struct sl_out *, const struct sl_record *);
int	sl_rf_text_next(struct sl_in *, struct sl_record *);
int	sl_rf_frame_out(struct sl_out *, const struct sl_record *);
int	sl_rf_frame_next(struct sl_in *, struct sl_record *);
int	sl_rf_json_out(struct sl_out *, const struct sl_record *);
int	sl_rf_json_next(struct sl_in *, struct sl_record *);
int	sl_rf_yaml_out_open(struct sl_out *);
int	sl_rf_yaml_out(struct sl_out *, const struct sl_record *);
int	sl_rf_yaml_out_close(struct sl_out *);
int	sl_rf_yaml_next(struct sl_in *, struct sl_record *);
void	sl_rf_yaml_in_close(struct sl_in *);

/* For the append loop (append.c). */
/*
 * When IN reads plain lines (text, a one-byte delimiter, no key
 * delimiter): 1, with the bytes read but not yet parsed in *P and *N and
 * the delimiter in *DELIM, so that a caller can parse whole lines in bulk
 * (sl_writer_add_lines); it then says what it took with sl_in_skip.  0
 * for any other format, or after an error.
 */
int	 sl_in_lines(const sl_in *, const unsigned char **p, size_t *n,
	    unsigned char *delim);
/* Mark BYTES of those, holding RECORDS whole lines, as parsed. */
void	 sl_in_skip(sl_in *, size_t bytes, uint64_t records);

#endif /* SL_FMT_H */
