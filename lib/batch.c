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
	    (p[5] & ~SL_BATCH_DEFLATE) != 0 || p[6] != 0 || p[7] != 0)
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
	    b->payload_len > limit || b->count == 0 ||
	    b->last_delta < b->count - 1 ||
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
