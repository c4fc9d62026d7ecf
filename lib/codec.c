/*
 * codec.c - the byte codecs the record formats share: decimal numbers,
 * strict UTF-8, base64 and the backslash escapes of delimiters and
 * templates.
 *
 * Invariants: every function is pure computation on the buffers it is
 * given (no allocation, no global state, no locale), so each can be
 * fuzzed alone; decoders reject what their encoders never produce, so a
 * byte string has exactly one encoding.
 */
#include <errno.h>
#include <string.h>

#include "synclog.h"
#include "fmt.h"

/* ---- escapes --------------------------------------------------------- */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
sl_rf_unescape1(const char **s)
{
	const char *p = *s;
	int hi, lo;

	switch (*p) {
	case 'n':
		*s = p + 1;
		return '\n';
	case 't':
		*s = p + 1;
		return '\t';
	case 'r':
		*s = p + 1;
		return '\r';
	case '0':
		*s = p + 1;
		return '\0';
	case '\\':
		*s = p + 1;
		return '\\';
	case 'x':
		if ((hi = hexval((unsigned char)p[1])) < 0 ||
		    (lo = hexval((unsigned char)p[2])) < 0)
			return -1;
		*s = p + 3;
		return hi << 4 | lo;
	}
	return -1;
}

int
sl_unescape(const char *s, unsigned char *buf, size_t bufsize, size_t *len)
{
	size_t n = 0;
	int c;

	while (*s != '\0') {
		if (*s == '\\') {
			s++;
			if ((c = sl_rf_unescape1(&s)) < 0) {
				errno = EINVAL;
				return -1;
			}
		} else
			c = (unsigned char)*s++;
		if (n == bufsize) {
			errno = EINVAL;
			return -1;
		}
		buf[n++] = c;
	}
	*len = n;
	return 0;
}

/* ---- numbers, UTF-8, base64 ------------------------------------------ */

unsigned char *
sl_rf_u64(unsigned char *p, uint64_t v)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	unsigned char tmp[20], *t = tmp + sizeof(tmp);
	size_t n;

	/* Two digits per division: numbers are on every JSON line. */
	while (v >= 100) {
		t -= 2;
		memcpy(t, pairs + v % 100 * 2, 2);
		v /= 100;
	}
	if (v >= 10) {
		t -= 2;
		memcpy(t, pairs + v * 2, 2);
	} else
		*--t = '0' + v;
	n = tmp + sizeof(tmp) - t;
	memcpy(p, t, n);
	return p + n;
}

unsigned char *
sl_rf_i64(unsigned char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return sl_rf_u64(p, -(uint64_t)v);
	}
	return sl_rf_u64(p, v);
}

size_t
sl_rf_utf8_seq(const unsigned char *p, size_t n)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (c == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (c == 0xed)
			hi = 0x9f;		/* surrogates */
		if (n < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c == 0xf0)
		lo = 0x90;			/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;			/* beyond U+10FFFF */
	if (n < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xc0) != 0x80 ||
	    (p[3] & 0xc0) != 0x80)
		return 0;
	return 4;
}

int
sl_rf_utf8_valid(const unsigned char *p, size_t n)
{
	const unsigned char *e = p + n;
	size_t k;

	while (p < e) {
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((k = sl_rf_utf8_seq(p, e - p)) == 0)
			return 0;
		p += k;
	}
	return 1;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
sl_rf_b64_encode(unsigned char *dst, const unsigned char *src, size_t n)
{
	unsigned char *d = dst;
	uint32_t v;

	for (; n >= 3; n -= 3, src += 3) {
		v = (uint32_t)src[0] << 16 | (uint32_t)src[1] << 8 | src[2];
		*d++ = b64[v >> 18];
		*d++ = b64[v >> 12 & 63];
		*d++ = b64[v >> 6 & 63];
		*d++ = b64[v & 63];
	}
	if (n > 0) {
		v = (uint32_t)src[0] << 16 | (n > 1 ? (uint32_t)src[1] << 8 : 0);
		*d++ = b64[v >> 18];
		*d++ = b64[v >> 12 & 63];
		*d++ = n > 1 ? b64[v >> 6 & 63] : '=';
		*d++ = '=';
	}
	return d - dst;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict: groups of four, '=' only as the padding of the last group, and
 * the unused bits of a padded group zero, so that every byte string has
 * exactly one encoding.
 */
static int
b64ws(int c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

ssize_t
sl_rf_b64_decode(unsigned char *dst, const unsigned char *src, size_t n,
    int ws)
{
	unsigned char *d = dst;
	uint32_t v = 0;
	int k = 0, pad = 0, c;
	size_t i;

	/* D never passes the byte being read, so in place is safe. */
	for (i = 0; i < n; i++) {
		c = src[i];
		if (ws && b64ws(c))
			continue;
		if (c == '=') {
			if (k < 2)
				return -1;
			pad++;
			v <<= 6;
			if (++k == 4)
				break;
			continue;
		}
		if (pad > 0 || (c = b64val(c)) < 0)
			return -1;
		v = v << 6 | c;
		if (++k == 4) {
			*d++ = v >> 16;
			*d++ = v >> 8;
			*d++ = v;
			v = 0;
			k = 0;
		}
	}
	if (pad == 0)
		return k == 0 ? d - dst : -1;
	if (k != 4)
		return -1;
	/* Only whitespace may follow the padding. */
	for (i++; i < n; i++)
		if (!ws || !b64ws(src[i]))
			return -1;
	if ((pad == 2 && (v & 0xffff) != 0) || (pad == 1 && (v & 0xff) != 0))
		return -1;
	*d++ = v >> 16;
	if (pad == 1)
		*d++ = v >> 8;
	return d - dst;
}
