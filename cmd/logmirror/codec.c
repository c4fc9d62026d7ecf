/*
 * codec.c - a record as a JetStream message and back, losslessly
 * (synclog(5), "Mirrored records"): the payload is the value, so that a
 * plain NATS client sees it; the timestamp, the key and the headers ride
 * in headers.  NATS headers are text lines in a map: a name or value with
 * CR, LF, NUL, a colon in a name, spaces at either end, or bytes outside
 * printable ASCII would not survive, nor would the order of headers or a
 * repeated name.  So a key or header list that is not plain travels
 * base64-encoded, and the list whenever there is more than one header.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "extern.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of P (N bytes) into OUT (4 * ((N + 2) / 3) + 1 bytes), ended. */
static void
b64_encode(const unsigned char *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		*out++ = b64[p[i] >> 2];
		*out++ = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*out++ = b64[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*out++ = b64[p[i + 2] & 63];
	}
	if (i < n) {
		*out++ = b64[p[i] >> 2];
		if (i + 1 < n) {
			*out++ = b64[(p[i] & 3) << 4 | p[i + 1] >> 4];
			*out++ = b64[(p[i + 1] & 15) << 2];
		} else {
			*out++ = b64[(p[i] & 3) << 4];
			*out++ = '=';
		}
		*out++ = '=';
	}
	*out = '\0';
}

static int
b64_val(int c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* Decode base64 S into OUT (at least strlen(S) * 3 / 4 bytes): its length,
 * or -1 when S is not base64. */
static ssize_t
b64_decode(const char *s, unsigned char *out)
{
	size_t n = strlen(s), o = 0;
	int v[4];

	if (n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int pad = 0;

		for (int k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64_val(s[i + k])) < 0)
				return -1;
		}
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	return (ssize_t)o;
}

/*
 * Whether bytes P (N) travel as a NATS header value as they are:
 * printable ASCII, not empty, no space at either end.  NAME: as a header
 * name (no space, no colon at all, and none of the names reserved for
 * NATS and for this mapping).
 */
static int
plain(const unsigned char *p, size_t n, int name)
{
	if (n == 0 || p[0] == ' ' || p[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] < ' ' || p[i] > '~' ||
		    (name && (p[i] == ' ' || p[i] == ':')))
			return 0;
	if (name && ((n >= 5 && strncasecmp((const char *)p, "Nats-", 5) ==
	    0) || (n >= 8 && strncasecmp((const char *)p, "Synclog-", 8) == 0)))
		return 0;
	return 1;
}

/* Varint, as in synclog(5). */
static unsigned char *
putv(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static int
getv(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t r = 0;

	for (int shift = 0; shift < 64 && p < end; shift += 7) {
		r |= (uint64_t)(*p & 0x7f) << shift;
		if (!(*p++ & 0x80)) {
			*v = r;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* Set header NAME to the C string VALUE, counting its wire size. */
static natsStatus
hset(natsMsg *m, const char *name, const char *value, size_t *size)
{
	*size += strlen(name) + 2 + strlen(value) + 2;
	return natsMsgHeader_Set(m, name, value);
}

/* A copy of P (N bytes) as a C string (it has no NUL: it is plain). */
static char *
cstr(const unsigned char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* The encoded header list of R, in base64, as a C string. */
static char *
headers_b64(const struct sl_record *r)
{
	size_t n = 0;
	unsigned char *raw, *p;
	char *out;

	for (size_t i = 0; i < r->nheaders; i++)
		n += 20 + r->headers[i].namelen + r->headers[i].valuelen;
	if ((raw = malloc(n + 10)) == NULL)
		return NULL;
	p = putv(raw, r->nheaders);
	for (size_t i = 0; i < r->nheaders; i++) {
		p = putv(p, r->headers[i].namelen);
		if (r->headers[i].namelen)
			memcpy(p, r->headers[i].name, r->headers[i].namelen);
		p += r->headers[i].namelen;
		p = putv(p, r->headers[i].valuelen);
		if (r->headers[i].valuelen)
			memcpy(p, r->headers[i].value, r->headers[i].valuelen);
		p += r->headers[i].valuelen;
	}
	n = (size_t)(p - raw);
	if ((out = malloc(4 * ((n + 2) / 3) + 1)) != NULL)
		b64_encode(raw, n, out);
	free(raw);
	return out;
}

/*
 * Set R's key header: the key as it is when it is plain, else in base64
 * after a '=' (Synclog-Key-Base64).
 */
static natsStatus
set_key(natsMsg *m, const struct sl_record *r, size_t *sz)
{
	natsStatus s;
	char *str = NULL;
	int p = plain(r->key, r->keylen, 0);

	if (p)
		str = cstr(r->key, r->keylen);
	else if ((str = malloc(4 * ((r->keylen + 2) / 3) + 2)) != NULL) {
		/* A leading '=' keeps an empty key's value non-empty. */
		str[0] = '=';
		b64_encode(r->key, r->keylen, str + 1);
	}
	if (str == NULL)
		return NATS_NO_MEMORY;
	s = hset(m, p ? HDR_KEY : HDR_KEY64, str, sz);
	free(str);
	return s;
}

/*
 * Add each plain header of R as itself, for plain clients; *ALL is
 * cleared when R has one that is not plain.
 */
static natsStatus
add_plain(natsMsg *m, const struct sl_record *r, size_t *sz, int *all)
{
	natsStatus s;

	for (size_t i = 0; i < r->nheaders; i++) {
		const struct sl_header *h = &r->headers[i];
		char *name, *value;

		if (!plain(h->name, h->namelen, 1) ||
		    !plain(h->value, h->valuelen, 0)) {
			*all = 0;
			continue;
		}
		if ((name = cstr(h->name, h->namelen)) == NULL ||
		    (value = cstr(h->value, h->valuelen)) == NULL) {
			free(name);
			return NATS_NO_MEMORY;
		}
		s = natsMsgHeader_Add(m, name, value);
		*sz += h->namelen + 2 + h->valuelen + 2;
		free(name);
		free(value);
		if (s != NATS_OK)
			return s;
	}
	return NATS_OK;
}

/* Set R's exact header list (order, repeats, any bytes), encoded. */
static natsStatus
set_list(natsMsg *m, const struct sl_record *r, size_t *sz)
{
	natsStatus s;
	char *str;

	if ((str = headers_b64(r)) == NULL)
		return NATS_NO_MEMORY;
	s = hset(m, HDR_HEADERS, str, sz);
	free(str);
	return s;
}

int
rec_to_msg(natsMsg **mp, const char *subject, const char *id,
    const struct sl_record *r, size_t *size)
{
	natsMsg *m = NULL;
	natsStatus s;
	char buf[64];
	size_t sz = strlen("NATS/1.0\r\n\r\n");
	int all = 1;

	s = natsMsg_Create(&m, subject, NULL, r->value ? (const char *)
	    r->value : "", r->value ? (int)r->valuelen : 0);
	if (s != NATS_OK)
		goto fail;
	snprintf(buf, sizeof buf, "%s-%" PRIu64, id, r->offset);
	if ((s = hset(m, HDR_MSGID, buf, &sz)) != NATS_OK)
		goto fail;
	snprintf(buf, sizeof buf, "%" PRId64, r->timestamp);
	if ((s = hset(m, HDR_TIME, buf, &sz)) != NATS_OK)
		goto fail;
	if (r->value == NULL && (s = hset(m, HDR_TOMB, "true", &sz)) != NATS_OK)
		goto fail;
	if (r->key != NULL && (s = set_key(m, r, &sz)) != NATS_OK)
		goto fail;
	/* Plain headers as themselves, for plain clients; the exact list
	 * encoded unless one plain header is all there is. */
	if ((s = add_plain(m, r, &sz, &all)) != NATS_OK)
		goto fail;
	if ((r->nheaders > 1 || (r->nheaders == 1 && !all)) &&
	    (s = set_list(m, r, &sz)) != NATS_OK)
		goto fail;
	*size = sz + (r->value ? r->valuelen : 0);
	*mp = m;
	return 0;
fail:
	natsMsg_Destroy(m);
	js_seterr(s, 0, "offset %" PRIu64 ": message", r->offset);
	return -1;
}

/* Room for N bytes in *BUF of *CAP bytes. */
static unsigned char *
room(unsigned char **buf, size_t *cap, size_t n)
{
	if (n > *cap) {
		size_t c = *cap ? *cap : 256;
		unsigned char *b;

		while (c < n)
			c *= 2;
		if ((b = realloc(*buf, c)) == NULL)
			return NULL;
		*buf = b;
		*cap = c;
	}
	return *buf;
}

static int
bad(uint64_t offset, const char *what)
{
	js_seterr(NATS_OK, 0, "offset %" PRIu64 ": bad %s header", offset,
	    what);
	errno = EBADMSG;
	return -1;
}

/* Decode the Synclog-Headers list V into D's buffer. */
static int
decode_list(const char *v, uint64_t offset, struct decoded *d,
    struct sl_record *r)
{
	const unsigned char *p, *end;
	uint64_t nh, len;
	unsigned char *raw;
	ssize_t n;

	if ((raw = room(&d->buf, &d->cap, strlen(v) + 1)) == NULL)
		return -1;
	if ((n = b64_decode(v, raw)) < 0)
		return bad(offset, HDR_HEADERS);
	p = raw;
	end = p + n;
	if (getv(&p, end, &nh) < 0 || nh > (uint64_t)(end - p) / 2)
		return bad(offset, HDR_HEADERS);
	if (nh > d->hcap) {
		struct sl_header *h = realloc(d->hdrs, nh * sizeof *h);

		if (h == NULL)
			return -1;
		d->hdrs = h;
		d->hcap = nh;
	}
	for (uint64_t i = 0; i < nh; i++) {
		struct sl_header *h = &d->hdrs[i];

		if (getv(&p, end, &len) < 0 || len > (uint64_t)(end - p))
			return bad(offset, HDR_HEADERS);
		h->name = len ? p : (const unsigned char *)"";
		h->namelen = (size_t)len;
		p += len;
		if (getv(&p, end, &len) < 0 || len > (uint64_t)(end - p))
			return bad(offset, HDR_HEADERS);
		h->value = len ? p : (const unsigned char *)"";
		h->valuelen = (size_t)len;
		p += len;
	}
	if (p != end)
		return bad(offset, HDR_HEADERS);
	r->headers = d->hdrs;
	r->nheaders = (size_t)nh;
	return 0;
}

/* The plain headers of M, other than the reserved ones, as R's. */
static int
plain_headers(natsMsg *m, struct decoded *d, struct sl_record *r)
{
	const char **keys = NULL, **vals = NULL;
	int nk = 0, nv = 0;
	size_t n = 0;

	r->headers = NULL;
	r->nheaders = 0;
	if (natsMsgHeader_Keys(m, &keys, &nk) != NATS_OK)
		return 0;
	for (int i = 0; i < nk; i++) {
		if (!plain((const unsigned char *)keys[i], strlen(keys[i]), 1))
			continue;
		if (natsMsgHeader_Values(m, keys[i], &vals, &nv) != NATS_OK)
			continue;
		if (n + (size_t)nv > d->hcap) {
			size_t cap = n + (size_t)nv + 8;
			struct sl_header *h = realloc(d->hdrs, cap * sizeof *h);

			if (h == NULL) {
				free(vals);
				free(keys);
				return -1;
			}
			d->hdrs = h;
			d->hcap = cap;
		}
		for (int k = 0; k < nv; k++) {
			d->hdrs[n].name = (const unsigned char *)keys[i];
			d->hdrs[n].namelen = strlen(keys[i]);
			d->hdrs[n].value = (const unsigned char *)vals[k];
			d->hdrs[n].valuelen = strlen(vals[k]);
			n++;
		}
		free(vals);
	}
	free(keys);
	r->headers = d->hdrs;
	r->nheaders = n;
	return 0;
}

int
msg_to_rec(natsMsg *m, uint64_t offset, struct decoded *d,
    struct sl_record *r)
{
	const char *v;
	char *end;
	ssize_t n;

	memset(r, 0, sizeof *r);
	r->offset = offset;
	if (natsMsgHeader_Get(m, HDR_TIME, &v) == NATS_OK) {
		errno = 0;
		r->timestamp = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			return bad(offset, HDR_TIME);
	} else	/* a plain client's message: the stream's time */
		r->timestamp = natsMsg_GetTime(m) / 1000000;
	r->value = (const unsigned char *)natsMsg_GetData(m);
	r->valuelen = (size_t)natsMsg_GetDataLength(m);
	if (r->value == NULL)
		r->value = (const unsigned char *)"";
	if (natsMsgHeader_Get(m, HDR_TOMB, &v) == NATS_OK) {
		if (r->valuelen != 0)
			return bad(offset, HDR_TOMB);
		r->value = NULL;
	}
	if (natsMsgHeader_Get(m, HDR_KEY, &v) == NATS_OK) {
		r->key = (const unsigned char *)v;
		r->keylen = strlen(v);
	} else if (natsMsgHeader_Get(m, HDR_KEY64, &v) == NATS_OK) {
		unsigned char *k;

		if (v[0] != '=' ||
		    (k = room(&d->kbuf, &d->kcap, strlen(v) + 1)) == NULL ||
		    (n = b64_decode(v + 1, k)) < 0)
			return bad(offset, HDR_KEY64);
		r->key = n > 0 ? k : (const unsigned char *)"";
		r->keylen = (size_t)n;
	}
	if (natsMsgHeader_Get(m, HDR_HEADERS, &v) == NATS_OK)
		return decode_list(v, offset, d, r);
	return plain_headers(m, d, r);
}

void
decoded_free(struct decoded *d)
{
	free(d->buf);
	free(d->kbuf);
	free(d->hdrs);
	memset(d, 0, sizeof *d);
}

static int
bytes_equal(const unsigned char *a, size_t an, const unsigned char *b,
    size_t bn)
{
	if ((a == NULL) != (b == NULL))
		return 0;
	return a == NULL || (an == bn && (an == 0 || memcmp(a, b, an) == 0));
}

int
rec_equal(const struct sl_record *a, const struct sl_record *b)
{
	if (a->timestamp != b->timestamp || a->nheaders != b->nheaders ||
	    !bytes_equal(a->key, a->keylen, b->key, b->keylen) ||
	    !bytes_equal(a->value, a->valuelen, b->value, b->valuelen))
		return 0;
	for (size_t i = 0; i < a->nheaders; i++)
		if (!bytes_equal(a->headers[i].name, a->headers[i].namelen,
		    b->headers[i].name, b->headers[i].namelen) ||
		    !bytes_equal(a->headers[i].value, a->headers[i].valuelen,
		    b->headers[i].value, b->headers[i].valuelen))
			return 0;
	return 1;
}

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int
msgid_prefix(const char *hexid, char *out)
{
	unsigned char b[16];
	unsigned v;
	int k = 0;

	if (strlen(hexid) != 32 || strspn(hexid, "0123456789abcdef") != 32)
		return -1;
	for (int i = 0; i < 16; i++) {
		sscanf(hexid + 2 * i, "%2x", &v);
		b[i] = (unsigned char)v;
	}
	/* 128 bits, 6 at a time: 21 full digits and one of 2 bits. */
	for (int bit = 0; bit < 128; bit += 6) {
		unsigned x = 0;

		for (int j = 0; j < 6; j++) {
			int n = bit + j;

			x <<= 1;
			if (n < 128)
				x |= (b[n / 8] >> (7 - n % 8)) & 1;
		}
		out[k++] = b64url[x];
	}
	out[k] = '\0';
	return 0;
}

int
msgid_parse(const char *s, char *id, uint64_t *off)
{
	char *end;

	if (strlen(s) < 24 || s[22] != '-' || strspn(s, b64url) < 22 ||
	    s[23] < '0' || s[23] > '9')
		return -1;
	errno = 0;
	*off = strtoull(s + 23, &end, 10);
	if (errno || *end)
		return -1;
	memcpy(id, s, 22);
	id[22] = '\0';
	return 0;
}
