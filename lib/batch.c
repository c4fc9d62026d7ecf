/*
 * batch.c - the encoding of one batch (one write of a writer): a fixed
 * header, a masked CRC-32 over the header and everything after the CRC
 * field, and the records, optionally deflated as a whole.  Decoding trusts
 * nothing before the CRC has verified; after it has, a malformed record is
 * still reported rather than followed out of bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "synclog.h"
#include "bytes.h"
#include "batch.h"

size_t
sl_record_size(const struct sl_record *r)
{
	size_t n = sl_rec_base(r);

	for (size_t i = 0; i < r->nheaders; i++)
		n += 8 + r->headers[i].namelen + r->headers[i].valuelen;
	return n;
}

size_t
sl_batch_limit(uint64_t max_record_bytes)
{
	if (max_record_bytes == 0 || max_record_bytes > SL_MAX_MAX_RECORD_BYTES)
		max_record_bytes = SL_MAX_MAX_RECORD_BYTES;
	/* A batch closes at SL_BATCH_TARGET, so its payload is at most the
	 * target plus one record; deflate may add a little to that. */
	return SL_BATCH_HDR + SL_BATCH_TARGET + max_record_bytes + 65536;
}

/* LevelDB's mask: a CRC of data that itself holds CRCs stays strong. */
static uint32_t
mask(uint32_t crc)
{
	return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

uint32_t
sl_batch_crc(const unsigned char *p, size_t length)
{
	uint32_t c = sl_crc32(0, p, 48);

	c = sl_crc32(c, p + SL_BATCH_HDR, length - SL_BATCH_HDR);
	return mask(c);
}

int
sl_batch_grow(unsigned char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 65536;
	unsigned char *nb;

	while (n < need)
		n *= 2;
	if ((nb = realloc(*buf, n)) == NULL)
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
}

uint32_t
sl_batch_crc_with(const unsigned char *p, uint32_t paycrc, size_t paylen)
{
	return mask((uint32_t)crc32_combine(sl_crc32(0, p, 48), paycrc,
	    (z_off_t)paylen));
}

int
sl_batch_header(const unsigned char *p, size_t limit, struct sl_batch *b)
{
	if (sl_get32(p) != SL_BATCH_MAGIC || p[4] != SL_BATCH_VERSION ||
	    (p[5] & ~(SL_BATCH_DEFLATE | SL_BATCH_SPAN)) != 0 || p[6] != 0 ||
	    p[7] != 0)
		return -1;
	b->flags = p[5];
	b->length = sl_get32(p + 8);
	b->count = sl_get32(p + 12);
	b->base = sl_get64(p + 16);
	b->last_delta = sl_get32(p + 24);
	b->payload_len = sl_get32(p + 28);
	b->first_ts = (int64_t)sl_get64(p + 32);
	b->max_ts = (int64_t)sl_get64(p + 40);
	if (b->length < SL_BATCH_HDR || b->length > limit ||
	    b->payload_len > limit ||
	    (b->count == 0 ? !(b->flags & SL_BATCH_SPAN) || b->payload_len != 0 :
	    b->last_delta < b->count - 1) ||
	    b->base > UINT64_MAX - 1 - b->last_delta)
		return -1;
	if (!(b->flags & SL_BATCH_DEFLATE) &&
	    b->payload_len != b->length - SL_BATCH_HDR)
		return -1;
	return 0;
}

int
sl_batch_crc_ok(const unsigned char *p, const struct sl_batch *b)
{
	return sl_batch_crc(p, b->length) == sl_get32(p + 48);
}

/* A key or value: its length plus one (0: absent), then its bytes. */
static unsigned char *
put_opt(unsigned char *p, const unsigned char *s, size_t n)
{
	if (s == NULL)
		return sl_putv(p, 0);
	p = sl_putv(p, (uint64_t)n + 1);
	if (n > 0)
		memcpy(p, s, n);
	return p + n;
}

/* A header's name or value: its length, then its bytes. */
static unsigned char *
put_str(unsigned char *p, const unsigned char *s, size_t n)
{
	p = sl_putv(p, n);
	if (n > 0)
		memcpy(p, s, n);
	return p + n;
}

unsigned char *
sl_record_encode(unsigned char *p, const struct sl_record *r, uint64_t gap,
    int64_t tsbase)
{
	uint64_t ts = sl_zigzag((uint64_t)r->timestamp - (uint64_t)tsbase);
	size_t n;

	/* The length comes first, and its own size depends on it. */
	n = sl_vlen(gap) + sl_vlen(ts) + sl_vlen(r->nheaders) +
	    (r->key ? sl_vlen((uint64_t)r->keylen + 1) + r->keylen : 1) +
	    (r->value ? sl_vlen((uint64_t)r->valuelen + 1) + r->valuelen : 1);
	for (size_t i = 0; i < r->nheaders; i++)
		n += sl_vlen(r->headers[i].namelen) + r->headers[i].namelen +
		    sl_vlen(r->headers[i].valuelen) + r->headers[i].valuelen;
	p = sl_putv(p, n);
	p = sl_putv(p, gap);
	p = sl_putv(p, ts);
	p = put_opt(p, r->key, r->keylen);
	p = put_opt(p, r->value, r->valuelen);
	p = sl_putv(p, r->nheaders);
	for (size_t i = 0; i < r->nheaders; i++) {
		p = put_str(p, r->headers[i].name, r->headers[i].namelen);
		p = put_str(p, r->headers[i].value, r->headers[i].valuelen);
	}
	return p;
}

/* ---- the batch builder -------------------------------------------------- */

int
sl_bb_add(struct sl_bbuild *bb, const struct sl_record *r, uint64_t gap)
{
	size_t size = sl_rec_size(r);

	if (sl_batch_reserve(&bb->buf, &bb->cap,
	    SL_BATCH_HDR + bb->paylen + size + SL_REC_SLACK) < 0)
		return -1;
	if (bb->count == 0) {
		bb->first_ts = bb->max_ts = r->timestamp;
		bb->delta = 0;
		gap = 0;
	} else {
		if (r->timestamp > bb->max_ts)
			bb->max_ts = r->timestamp;
		bb->delta += gap + 1;
	}
	bb->paylen = (size_t)(sl_record_encode(bb->buf + SL_BATCH_HDR +
	    bb->paylen, r, gap, bb->first_ts) - (bb->buf + SL_BATCH_HDR));
	bb->count++;
	bb->paycrc_set = 0;
	return 0;
}

/*
 * The bytes sl_record_encode writes for a record of a value alone, made
 * here with a memchr, a memcpy and a few stores: parsed, checked and
 * encoded one record at a time, plain lines cost 50 ns a record, which
 * made the thread reading the input the slower of logappend -N's two
 * (perf; t/045 compares the two encodings).
 */
size_t
sl_bb_add_lines(struct sl_bbuild *bb, const unsigned char *p, size_t n,
    unsigned char delim, int64_t ts, size_t target, size_t most,
    size_t *nrec)
{
	const unsigned char *s = p, *end = p + n, *e;
	size_t k = 0;
	uint64_t zts;

	if (bb->count == 0)
		bb->first_ts = bb->max_ts = ts;
	zts = sl_zigzag((uint64_t)ts - (uint64_t)bb->first_ts);
	while (bb->paylen < target &&
	    (e = memchr(s, delim, (size_t)(end - s))) != NULL) {
		size_t len = (size_t)(e - s), body;
		unsigned char *q;

		/* The input is read here first, from the page cache; the
		 * hardware's prefetch stops at each 4 KiB page, and memchr
		 * then waited on memory (a quarter of the thread's samples,
		 * perf).  A page ahead: -N went from 0.067 to 0.054 s. */
		__builtin_prefetch(e + 4096);
		if (SL_REC_FIXED + len > most || sl_batch_reserve(&bb->buf,
		    &bb->cap, SL_BATCH_HDR + bb->paylen + SL_REC_FIXED + len +
		    SL_REC_SLACK) < 0)
			break;
		/* gap, time, no key, the value, no headers */
		body = 1 + sl_vlen(zts) + 1 + sl_vlen(len + 1) + len + 1;
		q = bb->buf + SL_BATCH_HDR + bb->paylen;
		q = sl_putv(q, body);
		*q++ = 0;
		q = sl_putv(q, zts);
		*q++ = 0;
		q = sl_putv(q, len + 1);
		memcpy(q, s, len);
		q[len] = 0;
		bb->paylen = (size_t)(q + len + 1 - (bb->buf + SL_BATCH_HDR));
		if (bb->count++ > 0)
			bb->delta++;
		k++;
		s = e + 1;
	}
	if (k > 0) {
		if (ts > bb->max_ts)
			bb->max_ts = ts;
		bb->paycrc_set = 0;
	}
	*nrec = k;
	return (size_t)(s - p);
}

void
sl_bb_crc(struct sl_bbuild *bb)
{
	bb->paycrc = sl_crc32(0, bb->buf + SL_BATCH_HDR, bb->paylen);
	bb->paycrc_set = 1;
}

/* Deflate BB's payload into its zbuf: its length, or 0 when that is not
 * smaller (or deflate failed: the batch then goes as it is). */
static size_t
deflate_payload(struct sl_bbuild *bb)
{
	uLong bound = compressBound(bb->paylen);
	uLongf zlen = bound;

	if (SL_BATCH_HDR + bound > bb->zcap) {
		unsigned char *z = realloc(bb->zbuf, SL_BATCH_HDR + bound);

		if (z == NULL)
			return (size_t)-1;
		bb->zbuf = z;
		bb->zcap = SL_BATCH_HDR + bound;
	}
	if (compress2(bb->zbuf + SL_BATCH_HDR, &zlen, bb->buf + SL_BATCH_HDR,
	    bb->paylen, Z_DEFAULT_COMPRESSION) != Z_OK || zlen >= bb->paylen)
		return 0;
	return zlen;
}

const unsigned char *
sl_bb_seal(struct sl_bbuild *bb, uint64_t base, uint64_t last, int compress,
    struct sl_batch *b)
{
	unsigned char *p;
	size_t zlen = 0;
	uint64_t delta = bb->count > 0 ? bb->delta : 0;

	if (bb->buf == NULL && sl_batch_reserve(&bb->buf, &bb->cap,
	    SL_BATCH_HDR) < 0)
		return NULL;
	b->flags = 0;
	if (last != SL_NO_OFFSET && (bb->count == 0 || last > base + delta)) {
		b->flags |= SL_BATCH_SPAN;
		delta = last - base;
	}
	if (compress && bb->paylen > 0 &&
	    (zlen = deflate_payload(bb)) == (size_t)-1)
		return NULL;
	if (zlen > 0)
		b->flags |= SL_BATCH_DEFLATE;
	p = zlen > 0 ? bb->zbuf : bb->buf;
	b->length = (uint32_t)(SL_BATCH_HDR + (zlen > 0 ? zlen : bb->paylen));
	b->count = bb->count;
	b->base = base;
	b->last_delta = (uint32_t)delta;
	b->payload_len = (uint32_t)bb->paylen;
	/* A hole has no time of its own: it never raises a maximum. */
	b->first_ts = bb->count > 0 ? bb->first_ts : INT64_MIN;
	b->max_ts = bb->count > 0 ? bb->max_ts : INT64_MIN;
	sl_put32(p, SL_BATCH_MAGIC);
	p[4] = SL_BATCH_VERSION;
	p[5] = b->flags;
	p[6] = p[7] = 0;
	sl_put32(p + 8, b->length);
	sl_put32(p + 12, b->count);
	sl_put64(p + 16, base);
	sl_put32(p + 24, b->last_delta);
	sl_put32(p + 28, b->payload_len);
	sl_put64(p + 32, (uint64_t)b->first_ts);
	sl_put64(p + 40, (uint64_t)b->max_ts);
	sl_put32(p + 48, zlen == 0 && bb->paycrc_set ?
	    sl_batch_crc_with(p, bb->paycrc, bb->paylen) :
	    sl_batch_crc(p, b->length));
	return p;
}

void
sl_bb_reset(struct sl_bbuild *bb)
{
	bb->paylen = 0;
	bb->count = 0;
	bb->delta = 0;
	bb->paycrc_set = 0;
	bb->based = 0;
}

void
sl_bb_free(struct sl_bbuild *bb)
{
	free(bb->buf);
	free(bb->zbuf);
	memset(bb, 0, sizeof *bb);
}

int
sl_cursor_start(struct sl_cursor *c, const unsigned char *batch,
    const struct sl_batch *b, unsigned char **scratch, size_t *scap)
{
	const unsigned char *pay = batch + SL_BATCH_HDR;

	c->base = b->base;
	c->left = b->count;
	c->last_delta = b->last_delta;
	c->tsbase = b->first_ts;
	c->started = 0;
	c->span = (b->flags & SL_BATCH_SPAN) != 0;
	if (!(b->flags & SL_BATCH_DEFLATE)) {
		c->p = pay;
		c->end = pay + b->payload_len;
		return 0;
	}
	if (*scap < b->payload_len || *scratch == NULL) {
		size_t n = b->payload_len ? b->payload_len : 1;
		unsigned char *s = realloc(*scratch, n);

		if (s == NULL)
			return -1;
		*scratch = s;
		*scap = n;
	}
	uLongf out = b->payload_len;
	if (uncompress(*scratch, &out, pay, b->length - SL_BATCH_HDR) != Z_OK ||
	    out != b->payload_len) {
		errno = EBADMSG;
		return -1;
	}
	c->p = *scratch;
	c->end = *scratch + out;
	return 0;
}

int
sl_cursor_next(struct sl_cursor *c, struct sl_record *r)
{
	size_t hb;

	return sl_cursor_step(c, r, UINT64_MAX, 1, &hb);
}

void
sl_cursor_free(struct sl_cursor *c)
{
	free(c->hdrs);
	c->hdrs = NULL;
	c->hcap = 0;
}
