/*
 * batch.h - batch.c: one batch (one write of a writer), encoded and
 * decoded: its header, its masked CRC, its records.  Above bytes.h, below
 * everything else; it knows nothing of files or of record formats.
 */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "synclog.h"
#include "bytes.h"

/*
 * A record's size as max-record-bytes counts it (synclog(5)): 28 bytes,
 * its key, its value, and 8 bytes and the name and value of each header.
 * It is the size of the encoding the format had before its fields became
 * varints, kept so that a limit means the same whatever the encoding;
 * the encoding takes at most SL_REC_SLACK bytes more (five bytes a
 * length, ten the offset gap and the time) and for small fields far less.
 */
#define SL_REC_FIXED	(4 + 4 + 8 + 4 + 4 + 4)
#define SL_REC_SLACK	16

/* A record's size as max-record-bytes counts it, without its headers. */
static inline size_t
sl_rec_base(const struct sl_record *r)
{
	return SL_REC_FIXED + (r->key ? r->keylen : 0) +
	    (r->value ? r->valuelen : 0);
}

/* sl_record_size, inline for a record without headers: the append path
 * asks twice per record, and a call costs as much as the sum. */
static inline size_t
sl_rec_size(const struct sl_record *r)
{
	return r->nheaders > 0 ? sl_record_size(r) : sl_rec_base(r);
}

/*
 * Batch header, little-endian, SL_BATCH_HDR bytes (see synclog(5)):
 *   0 magic u32  4 version u8  5 flags u8  6 reserved u16 (0)
 *   8 length u32 (whole batch)  12 count u32  16 base offset u64
 *   24 last offset delta u32  28 payload length u32 (uncompressed)
 *   32 first timestamp i64  40 max timestamp i64  48 crc u32
 * The masked CRC-32 covers bytes [0,48) and [52,length).
 */
#define SL_BATCH_MAGIC		0x474c5953u	/* "SYLG" */
#define SL_BATCH_VERSION	2
#define SL_BATCH_HDR		52
#define SL_BATCH_DEFLATE	0x01
/* The batch covers offsets past its last record, up to base + last
 * delta: a hole compaction or salvage left, kept so that the segment
 * still ends where the next one starts.  Only with it may count be 0. */
#define SL_BATCH_SPAN		0x02
#define SL_BATCH_TARGET		(1u << 20)	/* payload that ends a batch */
#define SL_ABSENT		0xffffffffu	/* key/value length: absent */

struct sl_batch {
	uint32_t	length;
	uint32_t	count;
	uint64_t	base;
	uint32_t	last_delta;
	uint32_t	payload_len;
	int64_t		first_ts;
	int64_t		max_ts;
	uint8_t		flags;
};

/*
 * A batch being built: the one encoder of batches, for the writer,
 * compaction and salvage.  Records are encoded into the payload as they
 * are added; the header and the CRC are made when the batch is sealed,
 * once its first offset is known.  BUF holds the header's room, then the
 * payload.
 */
struct sl_bbuild {
	unsigned char	*buf;
	size_t		 cap;
	size_t		 paylen;
	uint32_t	 count;
	uint64_t	 delta;		/* last record's offset - first's */
	int64_t		 first_ts, max_ts;
	uint32_t	 paycrc;	/* the payload's CRC, when paycrc_set */
	int		 paycrc_set;
	unsigned char	*zbuf;		/* the deflated batch, when smaller */
	size_t		 zcap;
	int		 based;		/* its records came with their offsets: */
	uint64_t	 base;		/* the first's (sl_writer_add_at) */
};

/*
 * Add REC, GAP offsets after the record before it (the first record's
 * GAP is ignored: it is at the batch's first offset).  The caller has
 * checked REC against the log's limits.  0, or -1 with errno (ENOMEM),
 * the batch as it was.
 */
int	sl_bb_add(struct sl_bbuild *, const struct sl_record *, uint64_t gap);

/*
 * Add the lines at P (N bytes) as records of the line without DELIM,
 * dense, with no key and no headers, timestamp TS, as sl_bb_add would:
 * only lines ended by DELIM, while the payload holds fewer than TARGET
 * bytes, stopping before a line whose record would take more than MOST
 * bytes.  Returns the bytes taken and in *NREC the records added.  The
 * fast path of plain text input.
 */
size_t	sl_bb_add_lines(struct sl_bbuild *, const unsigned char *p, size_t n,
	    unsigned char delim, int64_t ts, size_t target, size_t most,
	    size_t *nrec);

/* Work out the payload's CRC now, in a thread that has the time, so that
 * sealing only adds the header's (not for a batch to be deflated). */
void	sl_bb_crc(struct sl_bbuild *);

/*
 * Seal the batch as starting at offset BASE and covering offsets up to
 * LAST (SL_NO_OFFSET: its last record's; more makes it a SPAN batch, the
 * only kind that may hold no record).  With COMPRESS, deflated when that
 * is smaller.  Returns its bytes (valid until the builder changes) and
 * fills *B with its header; NULL with errno when out of memory.
 */
const unsigned char *sl_bb_seal(struct sl_bbuild *, uint64_t base,
	    uint64_t last, int compress, struct sl_batch *b);

/* Empty the builder for the next batch, keeping its buffers. */
void	sl_bb_reset(struct sl_bbuild *);
void	sl_bb_free(struct sl_bbuild *);

/* Room for NEED bytes in the batch buffer *BUF of *CAP bytes (doubling
 * from 64 KiB); 0, or -1 with errno and the buffer as it was.  The check
 * inline: the append path makes it for every record. */
int	sl_batch_grow(unsigned char **buf, size_t *cap, size_t need);

static inline int
sl_batch_reserve(unsigned char **buf, size_t *cap, size_t need)
{
	return need <= *cap ? 0 : sl_batch_grow(buf, cap, need);
}

/* Largest batch (and payload) a log with this record limit may hold. */
size_t	sl_batch_limit(uint64_t max_record_bytes);

/*
 * Parse and check a batch header (magic, version, sizes within LIMIT).
 * 0 on success; -1 when it cannot be the start of a batch.
 */
int	sl_batch_header(const unsigned char *p, size_t limit,
	    struct sl_batch *);

/* Verify the masked CRC of a whole batch of B->length bytes at P. */
int	sl_batch_crc_ok(const unsigned char *p, const struct sl_batch *);
uint32_t sl_batch_crc(const unsigned char *p, size_t length);
/* The same, of a batch whose payload of PAYLEN bytes has CRC-32 PAYCRC
 * (sl_crc32 from 0). */
uint32_t sl_batch_crc_with(const unsigned char *p, uint32_t paycrc,
	    size_t paylen);

/*
 * Append the encoding of REC to a payload buffer, which has room for its
 * sl_record_size plus SL_REC_SLACK; returns the byte after it.  GAP: the
 * offsets skipped since the record before (or the offset minus the
 * batch's base, for the first); TSBASE: the batch's first timestamp.
 */
unsigned char *sl_record_encode(unsigned char *p, const struct sl_record *,
	    uint64_t gap, int64_t tsbase);

/*
 * A cursor over the records of one verified batch.  sl_cursor_start
 * inflates a compressed payload into SCRATCH (grown as needed).
 */
struct sl_cursor {
	const unsigned char	*p, *end;
	uint64_t		 base;
	uint32_t		 left;
	uint64_t		 prev;		/* last offset returned, or none */
	uint32_t		 last_delta;
	int64_t			 tsbase;	/* the batch's first timestamp */
	int			 started;
	int			 span;		/* SL_BATCH_SPAN: may end early */
	struct sl_header	*hdrs;
	size_t			 hcap;
};

int	sl_cursor_start(struct sl_cursor *, const unsigned char *batch,
	    const struct sl_batch *, unsigned char **scratch, size_t *scap);
/* 1 record, 0 batch done, -1 malformed (the CRC held, so a writer bug). */
int	sl_cursor_next(struct sl_cursor *, struct sl_record *);

/*
 * Take the field at *PP, which must end by END: its length (plus one when
 * ABSENT_OK, 0 then meaning absent), then its bytes.  An empty field
 * points somewhere non-NULL (""): NULL means absent.  Inline, with the
 * cursor in a local, because it runs for every field of every record a
 * reader returns.
 */
static inline int
sl_field_take(const unsigned char **pp, const unsigned char *end,
    const unsigned char **s, size_t *n, int absent_ok)
{
	const unsigned char *p = *pp;
	uint64_t len;

	if (sl_getv(&p, end, &len) < 0)
		return -1;
	if (absent_ok) {
		if (len == 0) {
			*s = NULL;
			*n = 0;
			*pp = p;
			return 0;
		}
		len--;
	}
	if ((uint64_t)(end - p) < len)
		return -1;
	*s = len > 0 ? p : (const unsigned char *)"";
	*n = (size_t)len;
	*pp = p + len;
	return 0;
}

/*
 * Decode the cursor's next record into *R: 1, and the cursor past it; 0 at
 * the batch's end; -1 malformed.  A record at offset STOP or later is
 * decoded but not consumed (2).  KEEP: store the headers in the cursor,
 * as sl_cursor_next must; without it they are checked and only counted,
 * R->headers left NULL.  *HBYTES: what the headers add to sl_record_size.
 * Always inline, so that each caller gets a copy with KEEP a constant
 * (sl_cursor_next here, the reader's print loop).
 */
static inline __attribute__((always_inline)) int
sl_cursor_step(struct sl_cursor *c, struct sl_record *r, uint64_t stop, int keep,
    size_t *hbytes)
{
	const unsigned char *p = c->p, *end, *name, *value;
	uint64_t reclen, gap, ts, nh, off, limit;
	size_t namelen, valuelen, hb = 0;

	if (c->left == 0)
		return p == c->end ? 0 : -1;
	if (sl_getv(&p, c->end, &reclen) < 0 ||
	    (uint64_t)(c->end - p) < reclen)
		return -1;
	end = p + reclen;
	if (sl_getv(&p, end, &gap) < 0 || sl_getv(&p, end, &ts) < 0)
		return -1;
	/* Room for the records after this one, up to the last delta: no
	 * record is returned outside the batch's offsets, even when the
	 * CRC held over a writer's mistake.  sl_batch_header saw to it
	 * that neither sum overflows, and the record before left room. */
	limit = c->base + c->last_delta - (c->left - 1);
	off = c->started ? c->prev + 1 : c->base;
	if (gap > limit - off)
		return -1;
	off += gap;
	r->offset = off;
	r->timestamp = (int64_t)((uint64_t)c->tsbase + sl_unzigzag(ts));
	if (sl_field_take(&p, end, &r->key, &r->keylen, 1) < 0 ||
	    sl_field_take(&p, end, &r->value, &r->valuelen, 1) < 0 ||
	    sl_getv(&p, end, &nh) < 0 || nh > (uint64_t)(end - p) / 2)
		return -1;
	if (keep && nh > c->hcap) {
		struct sl_header *h = realloc(c->hdrs, nh * sizeof *h);

		if (h == NULL)
			return -1;
		c->hdrs = h;
		c->hcap = nh;
	}
	for (uint64_t i = 0; i < nh; i++) {
		if (sl_field_take(&p, end, &name, &namelen, 0) < 0 ||
		    sl_field_take(&p, end, &value, &valuelen, 0) < 0)
			return -1;
		hb += 8 + namelen + valuelen;
		if (keep) {
			c->hdrs[i].name = name;
			c->hdrs[i].namelen = namelen;
			c->hdrs[i].value = value;
			c->hdrs[i].valuelen = valuelen;
		}
	}
	if (p != end)
		return -1;
	r->headers = keep ? c->hdrs : NULL;
	r->nheaders = nh;
	*hbytes = hb;
	if (off >= stop)
		return 2;
	c->p = p;
	c->prev = off;
	c->started = 1;
	c->left--;
	if (c->left == 0 && (p != c->end || (off != limit && !c->span)))
		return -1;
	return 1;
}
void	sl_cursor_free(struct sl_cursor *);



#endif /* SL_BATCH_H */
