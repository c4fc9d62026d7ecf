/*
 * frame.c - the -B format: a lossless stream of length-prefixed binary
 * frames, one per record (layout in logcat(1)): LEN, offset, timestamp,
 * key, value and headers, integers little-endian.
 *
 * Invariants: a frame's parts must add up to its LEN exactly, an absent
 * key or value (length 0xffffffff) stays distinct from an empty one, and
 * a frame is refused as too large from its LEN alone, before its bytes
 * are buffered.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "synclog.h"
#include "bytes.h"
#include "fmt.h"

/* Bytes of a binary frame around its contents: LEN, offset, timestamp,
 * key length, value length, header count. */
#define FRAME_FIXED	(4 + 8 + 8 + 4 + 4 + 4)
#define FRAME_ABSENT	0xffffffffu	/* the length of an absent key or value */

/* ---- output --------------------------------------------------------- */

static unsigned char *
put_bytes32(unsigned char *p, const unsigned char *b, size_t n, int absent)
{
	sl_put32(p, absent ? FRAME_ABSENT : (uint32_t)n);
	p += 4;
	if (!absent && n > 0) {
		memcpy(p, b, n);
		p += n;
	}
	return p;
}

int
sl_rf_frame_out(sl_out *o, const struct sl_record *r)
{
	size_t kl = r->key != NULL ? r->keylen : 0;
	size_t vl = r->value != NULL ? r->valuelen : 0;
	size_t len = FRAME_FIXED - 4;
	unsigned char *p;

	len = sl_rf_addsz(len, sl_rf_addsz(kl, vl));
	for (size_t i = 0; i < r->nheaders; i++)
		len = sl_rf_addsz(len, sl_rf_addsz(8 + r->headers[i].namelen,
		    r->headers[i].valuelen));
	if (len > UINT32_MAX - 1 || kl >= FRAME_ABSENT || vl >= FRAME_ABSENT ||
	    r->nheaders > UINT32_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	if (sl_rf_reserve(o, len + 4) < 0)
		return -1;
	p = o->buf + o->len;
	sl_put32(p, (uint32_t)len);
	sl_put64(p + 4, r->offset);
	sl_put64(p + 12, (uint64_t)r->timestamp);
	p = put_bytes32(p + 20, r->key, kl, r->key == NULL);
	p = put_bytes32(p, r->value, vl, r->value == NULL);
	sl_put32(p, (uint32_t)r->nheaders);
	p += 4;
	for (size_t i = 0; i < r->nheaders; i++) {
		p = put_bytes32(p, r->headers[i].name, r->headers[i].namelen, 0);
		p = put_bytes32(p, r->headers[i].value, r->headers[i].valuelen,
		    0);
	}
	o->len = p - o->buf;
	return 0;
}


/* ---- input ---------------------------------------------------------- */

static int
get_bytes32(const unsigned char **pp, const unsigned char *e,
    const unsigned char **b, size_t *n, int absent_ok)
{
	const unsigned char *p = *pp;
	uint32_t len;

	if (e - p < 4)
		return -1;
	len = sl_get32(p);
	p += 4;
	if (len == FRAME_ABSENT && absent_ok) {
		*b = NULL;
		*n = 0;
	} else {
		if ((size_t)(e - p) < len)
			return -1;
		/* Present but empty still needs a non-NULL pointer. */
		*b = p;
		*n = len;
		p += len;
	}
	*pp = p;
	return 0;
}

int
sl_rf_frame_next(sl_in *in, struct sl_record *r)
{
	const unsigned char *p = in->buf + in->start, *e;
	size_t avail = in->end - in->start, len;
	uint64_t n = in->recno + 1;
	uint32_t nh;

	if (avail < 4 || avail - 4 < (len = sl_get32(p))) {
		if (avail >= 4 && len < FRAME_FIXED - 4)
			goto short_len;
		if (avail >= 4 && len > in->limit - 4)
			return sl_rf_toolarge(in, "record", n);
		if (!in->eof)
			return 0;
		if (avail == 0)
			return 0;
		return sl_rf_fail(in, EINVAL, "frame %llu: truncated",
		    (unsigned long long)n);
	}
	if (len < FRAME_FIXED - 4)
		goto short_len;
	in->recno++;
	e = p + 4 + len;
	memset(r, 0, sizeof(*r));
	r->timestamp = (int64_t)sl_get64(p + 12);
	p += 20;
	if (get_bytes32(&p, e, &r->key, &r->keylen, 1) < 0)
		goto overrun;
	if (get_bytes32(&p, e, &r->value, &r->valuelen, 1) < 0)
		goto overrun;
	if (e - p < 4)
		goto overrun;
	nh = sl_get32(p);
	p += 4;
	if (nh > (size_t)(e - p) / 8)
		goto overrun;
	if (sl_rf_headers(in, nh) < 0)
		return -1;
	for (uint32_t i = 0; i < nh; i++) {
		struct sl_header *h = &in->hdrs[i];

		if (get_bytes32(&p, e, &h->name, &h->namelen, 0) < 0 ||
		    get_bytes32(&p, e, &h->value, &h->valuelen, 0) < 0)
			goto overrun;
	}
	if (p != e)
		return sl_rf_fail(in, EINVAL, "frame %llu: length %zu exceeds "
		    "its contents by %zu bytes", (unsigned long long)n, len,
		    (size_t)(e - p));
	r->headers = nh > 0 ? in->hdrs : NULL;
	r->nheaders = nh;
	sl_rf_consume(in, 4 + len);
	if (sl_rf_check_size(in, r, "record", n) < 0)
		return -1;
	return 1;
short_len:
	return sl_rf_fail(in, EINVAL, "frame %llu: length %zu is too short",
	    (unsigned long long)n, len);
overrun:
	return sl_rf_fail(in, EINVAL, "frame %llu: contents exceed its "
	    "length %zu", (unsigned long long)n, len);
}

