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

#include "internal.h"

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

static unsigned char *
put_bytes(unsigned char *p, const unsigned char *s, size_t n, int present)
{
	if (!present) {
		sl_put32(p, SL_ABSENT);
		return p + 4;
	}
	sl_put32(p, (uint32_t)n);
	if (n > 0)
		memcpy(p + 4, s, n);
	return p + 4 + n;
}

unsigned char *
sl_record_encode(unsigned char *p, const struct sl_record *r, uint32_t delta)
{
	unsigned char *start = p;

	p += 4;
	sl_put32(p, delta);
	sl_put64(p + 4, (uint64_t)r->timestamp);
	p = put_bytes(p + 12, r->key, r->keylen, r->key != NULL);
	p = put_bytes(p, r->value, r->valuelen, r->value != NULL);
	sl_put32(p, (uint32_t)r->nheaders);
	p += 4;
	for (size_t i = 0; i < r->nheaders; i++) {
		p = put_bytes(p, r->headers[i].name, r->headers[i].namelen, 1);
		p = put_bytes(p, r->headers[i].value, r->headers[i].valuelen,
		    1);
	}
	sl_put32(start, (uint32_t)(p - start - 4));
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

/*
 * Take the length-prefixed field at *PP, which must end by END; absent
 * allowed only where ABSENT_OK.  An empty field points somewhere non-NULL
 * (""): NULL means absent.  Inline, with the cursor in a local, because
 * it runs for every field of every record a reader returns.
 */
static inline int
take(const unsigned char **pp, const unsigned char *end,
    const unsigned char **s, size_t *n, int absent_ok)
{
	const unsigned char *p = *pp;
	uint32_t len;

	if (end - p < 4)
		return -1;
	len = sl_get32(p);
	p += 4;
	if (len == SL_ABSENT) {
		if (!absent_ok)
			return -1;
		*s = NULL;
		*n = 0;
	} else {
		if ((size_t)(end - p) < len)
			return -1;
		*s = len > 0 ? p : (const unsigned char *)"";
		*n = len;
		p += len;
	}
	*pp = p;
	return 0;
}

int
sl_cursor_next(struct sl_cursor *c, struct sl_record *r)
{
	const unsigned char *p = c->p, *end;
	uint32_t reclen, delta, nh;
	uint64_t off;

	if (c->left == 0)
		return p == c->end ? 0 : -1;
	if (c->end - p < SL_REC_FIXED)
		return -1;
	reclen = sl_get32(p);
	if ((size_t)(c->end - p - 4) < reclen)
		return -1;
	end = p + 4 + reclen;
	delta = sl_get32(p + 4);
	/* Room for the records after this one, up to the last delta: no
	 * record is returned outside the batch's offsets, even when the
	 * CRC held over a writer's mistake. */
	if (delta > c->last_delta || c->left - 1 > c->last_delta - delta)
		return -1;
	off = c->base + delta;
	if (c->started && off <= c->prev)
		return -1;
	r->offset = off;
	r->timestamp = (int64_t)sl_get64(p + 8);
	p += 16;
	if (take(&p, end, &r->key, &r->keylen, 1) < 0 ||
	    take(&p, end, &r->value, &r->valuelen, 1) < 0 || end - p < 4)
		return -1;
	nh = sl_get32(p);
	p += 4;
	if (nh > (size_t)(end - p) / 8)
		return -1;
	if (nh > c->hcap) {
		struct sl_header *h = realloc(c->hdrs, nh * sizeof *h);

		if (h == NULL)
			return -1;
		c->hdrs = h;
		c->hcap = nh;
	}
	for (uint32_t i = 0; i < nh; i++) {
		struct sl_header *h = &c->hdrs[i];

		if (take(&p, end, &h->name, &h->namelen, 0) < 0 ||
		    take(&p, end, &h->value, &h->valuelen, 0) < 0)
			return -1;
	}
	if (p != end)
		return -1;
	c->p = p;
	r->headers = c->hdrs;
	r->nheaders = nh;
	c->prev = off;
	c->started = 1;
	c->left--;
	if (c->left == 0 && (p != c->end || delta != c->last_delta))
		return -1;
	return 1;
}

void
sl_cursor_free(struct sl_cursor *c)
{
	free(c->hdrs);
	c->hdrs = NULL;
	c->hcap = 0;
}
