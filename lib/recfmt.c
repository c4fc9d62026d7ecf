/*
 * recfmt.c - the record formats every program shares: option parsing,
 * delimiter escapes, the buffered output (text, -F template, -B frames)
 * and the buffered input (text, -B frames), and the dispatch to json.c
 * and yaml.c.
 *
 * Invariants: output goes into one buffer that is written with full-write
 * loops (or handed to a sink that provides the memory), and the first
 * write or sink error sticks; the text path copies bytes and
 * makes no system call or allocation per record.  Input is read(2) into
 * one buffer holding at most one record beyond what was consumed; it grows
 * only as far as a record of the maximum size needs, so a record that is
 * too large is refused before the input is buffered.  A record returned
 * points into that buffer and stays valid until the next call.  Nothing
 * here keeps global state, so parsers can be fuzzed.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "fmt.h"

/* Output is gathered in a buffer of this size.  A reader holds its
 * window of a megabyte batch as well: with a megabyte here too, the two
 * did not fit the 2 MiB cache of a core, and logcat took 3-8 % longer
 * (bench/timeit, medians of 21 and 31 runs). */
#define OUT_BUFSIZE	(256u << 10)
#define IN_BUFSIZE	(256u << 10)
#define IN_MAPSIZE	(1u << 20)	/* a mapped input's window */

/* Bytes of a binary frame around its contents: LEN, offset, timestamp,
 * key length, value length, header count. */
#define FRAME_FIXED	(4 + 8 + 8 + 4 + 4 + 4)

enum {
	TOK_LIT, TOK_VALUE, TOK_VALUESIZE, TOK_KEY, TOK_KEYSIZE, TOK_OFFSET,
	TOK_TIME, TOK_ISOTIME, TOK_HEADERS, TOK_LOGNAME, TOK_PARTITION
};

struct sl_rf_item {
	int	tok;
	size_t	off, len;	/* TOK_LIT: bytes in sl_out.lit */
};

/* ---- options -------------------------------------------------------- */

void
sl_fmt_init(struct sl_fmt *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = SL_FMT_TEXT;
	f->delim[0] = '\n';
	f->delimlen = 1;
}

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

/* Decode the escape after the backslash at *S; advance *S past it. */
static int
unescape1(const char **s)
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
			if ((c = unescape1(&s)) < 0) {
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

static int
set_delim(unsigned char *d, size_t *dlen, const char *arg)
{
	unsigned char tmp[SL_DELIM_MAX];
	size_t n;

	if (arg == NULL || sl_unescape(arg, tmp, sizeof(tmp), &n) < 0)
		goto bad;
	if (n == 0)
		goto bad;
	memcpy(d, tmp, n);
	*dlen = n;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int tpl_compile(const char *, struct sl_rf_item **, size_t *,
    unsigned char **);

int
sl_fmt_option(struct sl_fmt *f, int ch, const char *arg)
{
	struct sl_rf_item *items;
	unsigned char *lit;
	size_t n;

	switch (ch) {
	case '0':
		f->delim[0] = '\0';
		f->delimlen = 1;
		return 0;
	case 'B':
		f->kind = SL_FMT_BINARY;
		return 0;
	case 'D':
		return set_delim(f->delim, &f->delimlen, arg);
	case 'F':
		/* Refuse a bad template now rather than at the first record. */
		if (arg == NULL || tpl_compile(arg, &items, &n, &lit) < 0) {
			errno = EINVAL;
			return -1;
		}
		free(items);
		free(lit);
		f->kind = SL_FMT_TEMPLATE;
		f->template = arg;
		return 0;
	case 'J':
		f->kind = SL_FMT_JSON;
		return 0;
	case 'K':
		return set_delim(f->keydelim, &f->keydelimlen, arg);
	case 'Y':
		f->kind = SL_FMT_YAML;
		return 0;
	}
	errno = EINVAL;
	return -1;
}

/* ---- shared helpers ------------------------------------------------- */

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

/* ---- ISO 8601 time for %I -------------------------------------------- */

static int64_t
floordiv(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* 2026-11-20T10:00:00.123Z; days to civil date after Howard Hinnant. */
static size_t
isotime(int64_t ms, char *buf, size_t len)
{
	/* Written so that no step overflows, even for INT64_MIN. */
	int64_t frac = ms % 1000 < 0 ? ms % 1000 + 1000 : ms % 1000;
	int64_t s = ms / 1000 - (ms % 1000 < 0), days = floordiv(s, 86400);
	int64_t sod = s - days * 86400, z, era, doe, yoe, y, doy, mp, d, m;
	int n;

	z = days + 719468;
	era = floordiv(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	n = snprintf(buf, len, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
	    (long long)y, (long long)m, (long long)d, (long long)(sod / 3600),
	    (long long)(sod / 60 % 60), (long long)(sod % 60),
	    (long long)frac);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

/* ---- templates ------------------------------------------------------ */

static int
tpl_compile(const char *t, struct sl_rf_item **itemsp, size_t *np,
    unsigned char **litp)
{
	static const char toks[] = "sSkKoTIhtp";
	static const int tokv[] = { TOK_VALUE, TOK_VALUESIZE, TOK_KEY,
	    TOK_KEYSIZE, TOK_OFFSET, TOK_TIME, TOK_ISOTIME, TOK_HEADERS,
	    TOK_LOGNAME, TOK_PARTITION };
	struct sl_rf_item *items;
	unsigned char *lit;
	size_t n = 0, nlit = 0, len = strlen(t);
	const char *q;
	int c;

	/* At most one item per template byte, and literals shrink. */
	items = calloc(len + 1, sizeof(*items));
	lit = malloc(len + 1);
	if (items == NULL || lit == NULL)
		goto fail;
	while (*t != '\0') {
		if (*t == '%' && t[1] != '%') {
			if (t[1] == '\0' || (q = strchr(toks, t[1])) == NULL)
				goto bad;
			items[n++].tok = tokv[q - toks];
			t += 2;
			continue;
		}
		if (*t == '%') {
			c = '%';
			t += 2;
		} else if (*t == '\\') {
			t++;
			if ((c = unescape1(&t)) < 0)
				goto bad;
		} else
			c = (unsigned char)*t++;
		if (n == 0 || items[n - 1].tok != TOK_LIT) {
			items[n].tok = TOK_LIT;
			items[n].off = nlit;
			items[n++].len = 0;
		}
		lit[nlit++] = c;
		items[n - 1].len++;
	}
	*itemsp = items;
	*np = n;
	*litp = lit;
	return 0;
bad:
	errno = EINVAL;
fail:
	c = errno;
	free(items);
	free(lit);
	errno = c;
	return -1;
}

/* ---- output --------------------------------------------------------- */

static sl_out *
out_open(int fd, sl_out_sink *sink, void *arg, const struct sl_fmt *f)
{
	sl_out *o;
	int e;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return NULL;
	o->fd = fd;
	o->sink = sink;
	o->sinkarg = arg;
	o->fmt = *f;
	if (sink != NULL)
		o->buf = sink(arg, NULL, 0, 0, &o->cap);
	else if ((o->buf = malloc(OUT_BUFSIZE)) != NULL)
		o->cap = OUT_BUFSIZE;
	if (o->buf == NULL)
		goto fail;
	switch (f->kind) {
	case SL_FMT_TEXT:
		if (f->delimlen == 0 || f->delimlen > SL_DELIM_MAX ||
		    f->keydelimlen > SL_DELIM_MAX)
			goto inval;
		break;
	case SL_FMT_TEMPLATE:
		if (f->template == NULL ||
		    tpl_compile(f->template, &o->tpl, &o->ntpl, &o->lit) < 0)
			goto inval;
		break;
	case SL_FMT_YAML:
		if (sl_rf_yaml_out_open(o) < 0)
			goto fail;
		break;
	case SL_FMT_JSON:
	case SL_FMT_BINARY:
		break;
	default:
		goto inval;
	}
	return o;
inval:
	errno = EINVAL;
fail:
	e = errno;
	free(o->tpl);
	free(o->lit);
	if (sink == NULL)
		free(o->buf);
	free(o);
	errno = e;
	return NULL;
}

sl_out *
sl_out_open(int fd, const struct sl_fmt *f)
{
	return out_open(fd, NULL, NULL, f);
}

sl_out *
sl_out_open_sink(const struct sl_fmt *f, sl_out_sink *sink, void *arg)
{
	if (sink == NULL) {
		errno = EINVAL;
		return NULL;
	}
	return out_open(-1, sink, arg, f);
}

/* Hand the buffered bytes to the sink, with room for N more after. */
static int
sink_flush(sl_out *o, size_t n)
{
	unsigned char *nb;
	size_t cap = 0;

	if ((nb = o->sink(o->sinkarg, o->buf, o->len, n, &cap)) == NULL) {
		o->err = errno;
		return -1;
	}
	if (cap < n) {
		o->err = ENOBUFS;
		errno = o->err;
		return -1;
	}
	o->buf = nb;
	o->cap = cap;
	o->len = 0;
	return 0;
}

int
sl_out_flush(sl_out *o)
{
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	if (o->sink != NULL)
		return o->len > 0 ? sink_flush(o, 0) : 0;
	if (o->len > 0 && sl_write_full(o->fd, o->buf, o->len) < 0) {
		o->err = errno;
		return -1;
	}
	o->len = 0;
	return 0;
}

int
sl_rf_reserve(sl_out *o, size_t n)
{
	unsigned char *nb;

	if (o->cap - o->len >= n)
		return 0;
	if (o->sink != NULL) {
		if (o->err != 0) {
			errno = o->err;
			return -1;
		}
		return sink_flush(o, n);
	}
	if (sl_out_flush(o) < 0)
		return -1;
	if (n > o->cap) {
		if ((nb = realloc(o->buf, n)) == NULL) {
			o->err = errno;
			return -1;
		}
		o->buf = nb;
		o->cap = n;
	}
	return 0;
}

/* Sum of A and B, or SIZE_MAX when it does not fit. */
static size_t
addsz(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int
text_out(sl_out *o, const struct sl_record *r)
{
	return sl_rf_text(o, r->key, r->key != NULL ? r->keylen : 0,
	    r->value, r->value != NULL ? r->valuelen : 0);
}

static int
tpl_out(sl_out *o, const struct sl_record *r)
{
	size_t kl = r->key != NULL ? r->keylen : 0;
	size_t vl = r->value != NULL ? r->valuelen : 0;
	size_t need = 0, hl = 0;
	const char *name = o->fmt.logname != NULL ? o->fmt.logname : "";
	size_t nl = strlen(name);
	unsigned char *p;

	for (size_t i = 0; i < r->nheaders; i++)
		hl = addsz(hl, addsz(r->headers[i].namelen,
		    r->headers[i].valuelen + 2));
	for (size_t i = 0; i < o->ntpl; i++) {
		switch (o->tpl[i].tok) {
		case TOK_LIT:
			need = addsz(need, o->tpl[i].len);
			break;
		case TOK_VALUE:
			need = addsz(need, vl);
			break;
		case TOK_KEY:
			need = addsz(need, kl);
			break;
		case TOK_HEADERS:
			need = addsz(need, hl);
			break;
		case TOK_LOGNAME:
			need = addsz(need, nl);
			break;
		default:
			need = addsz(need, 48);
			break;
		}
	}
	if (sl_rf_reserve(o, need) < 0)
		return -1;
	p = o->buf + o->len;
	for (size_t i = 0; i < o->ntpl; i++) {
		switch (o->tpl[i].tok) {
		case TOK_LIT:
			memcpy(p, o->lit + o->tpl[i].off, o->tpl[i].len);
			p += o->tpl[i].len;
			break;
		case TOK_VALUE:
			if (vl > 0)
				memcpy(p, r->value, vl);
			p += vl;
			break;
		case TOK_VALUESIZE:
			p = r->value != NULL ? sl_rf_u64(p, vl) :
			    sl_rf_i64(p, -1);
			break;
		case TOK_KEY:
			if (kl > 0)
				memcpy(p, r->key, kl);
			p += kl;
			break;
		case TOK_KEYSIZE:
			p = r->key != NULL ? sl_rf_u64(p, kl) :
			    sl_rf_i64(p, -1);
			break;
		case TOK_OFFSET:
			p = sl_rf_u64(p, r->offset);
			break;
		case TOK_TIME:
			p = sl_rf_i64(p, r->timestamp);
			break;
		case TOK_ISOTIME:
			p += isotime(r->timestamp, (char *)p, 48);
			break;
		case TOK_HEADERS:
			for (size_t j = 0; j < r->nheaders; j++) {
				const struct sl_header *h = &r->headers[j];

				if (j > 0)
					*p++ = ',';
				if (h->namelen > 0)
					memcpy(p, h->name, h->namelen);
				p += h->namelen;
				*p++ = '=';
				if (h->valuelen > 0)
					memcpy(p, h->value, h->valuelen);
				p += h->valuelen;
			}
			break;
		case TOK_LOGNAME:
			memcpy(p, name, nl);
			p += nl;
			break;
		case TOK_PARTITION:
			*p++ = '0';
			break;
		}
	}
	o->len = p - o->buf;
	return 0;
}

static unsigned char *
put_bytes32(unsigned char *p, const unsigned char *b, size_t n, int absent)
{
	sl_put32(p, absent ? SL_ABSENT : (uint32_t)n);
	p += 4;
	if (!absent && n > 0) {
		memcpy(p, b, n);
		p += n;
	}
	return p;
}

static int
binary_out(sl_out *o, const struct sl_record *r)
{
	size_t kl = r->key != NULL ? r->keylen : 0;
	size_t vl = r->value != NULL ? r->valuelen : 0;
	size_t len = FRAME_FIXED - 4;
	unsigned char *p;

	len = addsz(len, addsz(kl, vl));
	for (size_t i = 0; i < r->nheaders; i++)
		len = addsz(len, addsz(8 + r->headers[i].namelen,
		    r->headers[i].valuelen));
	if (len > UINT32_MAX - 1 || kl >= SL_ABSENT || vl >= SL_ABSENT ||
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

int
sl_out_record(sl_out *o, const struct sl_record *r)
{
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	switch (o->fmt.kind) {
	case SL_FMT_TEXT:
		return text_out(o, r);
	case SL_FMT_JSON:
		return sl_rf_json_out(o, r);
	case SL_FMT_YAML:
		return sl_rf_yaml_out(o, r);
	case SL_FMT_BINARY:
		return binary_out(o, r);
	case SL_FMT_TEMPLATE:
		return tpl_out(o, r);
	}
	errno = EINVAL;
	return -1;
}

int
sl_out_close(sl_out *o)
{
	int rv = 0, e = 0;

	if (o == NULL)
		return 0;
	if (o->fmt.kind == SL_FMT_YAML && sl_rf_yaml_out_close(o) < 0) {
		rv = -1;
		e = errno;
	}
	if (sl_out_flush(o) < 0 && rv == 0) {
		rv = -1;
		e = errno;
	}
	free(o->tpl);
	free(o->lit);
	if (o->sink == NULL)
		free(o->buf);
	free(o);
	if (rv < 0)
		errno = e;
	return rv;
}

/* ---- input ---------------------------------------------------------- */

int
sl_rf_fail(sl_in *in, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->msg, sizeof(in->msg), fmt, ap);
	va_end(ap);
	in->err = err;
	errno = err;
	return -1;
}

int
sl_rf_toolarge(sl_in *in, const char *where, uint64_t n)
{
	if (strcmp(where, "line") == 0)
		return sl_rf_fail(in, EMSGSIZE, "line %llu: record exceeds "
		    "the maximum record size of %zu bytes",
		    (unsigned long long)n, in->max_record);
	return sl_rf_fail(in, EMSGSIZE, "%s %llu exceeds the maximum record "
	    "size of %zu bytes", where, (unsigned long long)n, in->max_record);
}

int
sl_rf_arena(sl_in *in, size_t n)
{
	unsigned char *a;

	if (n <= in->acap)
		return 0;
	if ((a = realloc(in->arena, n)) == NULL)
		return sl_rf_fail(in, errno, "%s", strerror(errno));
	in->arena = a;
	in->acap = n;
	return 0;
}

int
sl_rf_headers(sl_in *in, size_t n)
{
	struct sl_header *h;
	size_t cap = in->hcap > 0 ? in->hcap : 8;

	if (n <= in->hcap)
		return 0;
	while (cap < n)
		cap = cap > SIZE_MAX / 2 ? n : cap * 2;
	if (cap > SIZE_MAX / sizeof(*h) ||
	    (h = realloc(in->hdrs, cap * sizeof(*h))) == NULL)
		return sl_rf_fail(in, ENOMEM, "%s", strerror(ENOMEM));
	in->hdrs = h;
	in->hcap = cap;
	return 0;
}

/* Saturating A * K + B, for the buffer bound of each format. */
static size_t
bound(size_t a, size_t k, size_t b)
{
	if (a > (SIZE_MAX - b) / k)
		return SIZE_MAX / 2;
	return a * k + b;
}

sl_in *
sl_in_open(int fd, const struct sl_fmt *f, size_t max_record)
{
	sl_in *in;

	if (f->kind == SL_FMT_TEMPLATE || f->delimlen == 0 ||
	    f->delimlen > SL_DELIM_MAX || f->keydelimlen > SL_DELIM_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if ((in = calloc(1, sizeof(*in))) == NULL)
		return NULL;
	in->fd = fd;
	in->fmt = *f;
	in->max_record = max_record;
	/*
	 * The most bytes a record within max_record can take in each
	 * format: text adds delimiters; JSON spends at most 6 bytes on one
	 * byte (\u0000) and under 6 times the 8 bytes a header costs in the
	 * log on its field names; YAML escapes take at most 4 bytes a byte
	 * (\x01), and its headers are as dear as JSON's; a frame adds no
	 * more than the log does.
	 */
	switch (f->kind) {
	case SL_FMT_TEXT:
		in->limit = bound(max_record, 1, 2 * SL_DELIM_MAX + 1);
		break;
	case SL_FMT_JSON:
	case SL_FMT_YAML:
		in->limit = bound(max_record, 6, 1u << 20);
		break;
	default:
		in->limit = bound(max_record, 2, 1u << 20);
		break;
	}
	in->cap = IN_BUFSIZE;
	if ((in->buf = malloc(in->cap)) == NULL) {
		free(in);
		return NULL;
	}
	return in;
}

/* A mapped input's buffer between two windows: never NULL, so that
 * buf + start is always defined. */
static unsigned char nomap[1];

int
sl_in_map(sl_in *in)
{
	struct stat st;

	if (in->fmt.kind != SL_FMT_TEXT || in->end > 0 || in->eof ||
	    fstat(in->fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (in->mapoff = lseek(in->fd, 0, SEEK_CUR)) < 0)
		return 0;
	free(in->buf);
	in->buf = nomap;
	in->cap = 0;
	in->fsize = st.st_size;
	in->mapped = 1;
	return 1;
}

/*
 * in_fill of a mapped input: map a window from the first pending byte
 * on, twice as long as the pending bytes when a record outgrows it, up
 * to the end of the file as it is now.  The file position follows, so
 * that it is where read would have left it.
 */
static int
map_fill(sl_in *in)
{
	off_t pos = in->mapoff + (off_t)in->start;
	off_t have = in->mapoff + (off_t)in->end;
	off_t at = pos & ~(off_t)(sysconf(_SC_PAGESIZE) - 1);
	size_t len = IN_MAPSIZE;
	struct stat st;
	void *m;

	if (have >= in->fsize) {
		if (fstat(in->fd, &st) < 0)
			return sl_rf_fail(in, errno, "%s", strerror(errno));
		if (st.st_size <= have) {
			in->eof = 1;
			return 0;
		}
		in->fsize = st.st_size;
	}
	if ((size_t)(have - at) > in->limit)
		return sl_rf_toolarge(in, "record", in->recno + 1);
	while (len < 2 * (size_t)(have - at))
		len *= 2;
	if ((off_t)len > in->fsize - at)
		len = (size_t)(in->fsize - at);
	if (in->buf != nomap && munmap(in->buf, in->cap) < 0)
		return sl_rf_fail(in, errno, "%s", strerror(errno));
	in->buf = nomap;
	in->cap = in->start = in->end = 0;
	m = mmap(NULL, len, PROT_READ, MAP_SHARED | MAP_POPULATE, in->fd, at);
	if (m == MAP_FAILED)
		return sl_rf_fail(in, errno, "%s", strerror(errno));
	in->buf = m;
	in->cap = len;
	in->start = (size_t)(pos - at);
	in->end = len;
	in->mapoff = at;
	if (lseek(in->fd, at + (off_t)len, SEEK_SET) < 0)
		return sl_rf_fail(in, errno, "%s", strerror(errno));
	return 0;
}

/*
 * Read more input after the pending bytes: 0 read something (or reached
 * the end), SL_IN_AGAIN nothing ready without blocking, -1 error.
 */
static int
in_fill(sl_in *in, int block)
{
	size_t pending = in->end - in->start, cap;
	struct pollfd pfd;
	unsigned char *nb;
	ssize_t n;
	int r;

	if (in->mapped)
		return map_fill(in);
	if (in->start > 0 && in->cap - in->end < in->cap / 2) {
		memmove(in->buf, in->buf + in->start, pending);
		in->start = 0;
		in->end = pending;
	}
	if (in->end == in->cap) {
		cap = in->cap > in->limit / 2 ? in->limit : in->cap * 2;
		if (cap <= in->cap)
			return sl_rf_toolarge(in, "record", in->recno + 1);
		if ((nb = realloc(in->buf, cap)) == NULL)
			return sl_rf_fail(in, errno, "%s", strerror(errno));
		in->buf = nb;
		in->cap = cap;
	}
	for (;;) {
		if (!block) {
			pfd.fd = in->fd;
			pfd.events = POLLIN;
			pfd.revents = 0;
			if ((r = poll(&pfd, 1, 0)) < 0) {
				if (errno == EINTR)
					continue;
				return sl_rf_fail(in, errno, "%s",
				    strerror(errno));
			}
			if (r == 0)
				return SL_IN_AGAIN;
		}
		n = read(in->fd, in->buf + in->end, in->cap - in->end);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!block)
				return SL_IN_AGAIN;
			pfd.fd = in->fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return sl_rf_fail(in, errno, "%s",
				    strerror(errno));
			continue;
		}
		return sl_rf_fail(in, errno, "%s", strerror(errno));
	}
	if (n == 0)
		in->eof = 1;
	in->end += n;
	return 0;
}

static void
consume(sl_in *in, size_t n)
{
	in->start += n;
	in->scan = 0;
	if (in->start == in->end && !in->mapped)
		in->start = in->end = 0;
}

static inline int
check_size(sl_in *in, const struct sl_record *r, const char *where,
    uint64_t n)
{
	if (sl_rec_size(r) > in->max_record)
		return sl_rf_toolarge(in, where, n);
	return 0;
}

/* 1 record, 0 need more input (or the end when eof), -1 error. */
static int
text_next(sl_in *in, struct sl_record *r)
{
	const struct sl_fmt *f = &in->fmt;
	unsigned char *p = in->buf + in->start, *d, *k;
	size_t avail = in->end - in->start, dl = f->delimlen, len, skip;

	if (dl == 1)
		d = memchr(p + in->scan, f->delim[0], avail - in->scan);
	else
		d = memmem(p + in->scan, avail - in->scan, f->delim, dl);
	if (d != NULL) {
		len = d - p;
		skip = len + dl;
	} else if (!in->eof) {
		/* The next scan starts where a delimiter may begin. */
		in->scan = avail >= dl - 1 ? avail - (dl - 1) : 0;
		if (in->scan > in->max_record + f->keydelimlen)
			return sl_rf_toolarge(in, "line", in->recno + 1);
		return 0;
	} else if (avail == 0)
		return 0;
	else
		len = skip = avail;
	in->recno++;
	in->lineno++;
	memset(r, 0, sizeof(*r));
	r->timestamp = SL_NO_TIMESTAMP;
	r->value = p;
	r->valuelen = len;
	if (f->keydelimlen > 0 && (k = memmem(p, len, f->keydelim,
	    f->keydelimlen)) != NULL) {
		r->key = p;
		r->keylen = k - p;
		r->value = k + f->keydelimlen;
		r->valuelen = len - r->keylen - f->keydelimlen;
	}
	consume(in, skip);
	if (check_size(in, r, "line", in->recno) < 0)
		return -1;
	return 1;
}

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
	if (len == SL_ABSENT && absent_ok) {
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

static int
binary_next(sl_in *in, struct sl_record *r)
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
	consume(in, 4 + len);
	if (check_size(in, r, "record", n) < 0)
		return -1;
	return 1;
short_len:
	return sl_rf_fail(in, EINVAL, "frame %llu: length %zu is too short",
	    (unsigned long long)n, len);
overrun:
	return sl_rf_fail(in, EINVAL, "frame %llu: contents exceed its "
	    "length %zu", (unsigned long long)n, len);
}

int
sl_in_next(sl_in *in, struct sl_record *r, int block)
{
	int rv;

	if (in->err != 0) {
		errno = in->err;
		return -1;
	}
	for (;;) {
		switch (in->fmt.kind) {
		case SL_FMT_TEXT:
			rv = text_next(in, r);
			break;
		case SL_FMT_JSON:
			rv = sl_rf_json_next(in, r);
			break;
		case SL_FMT_YAML:
			rv = sl_rf_yaml_next(in, r);
			break;
		case SL_FMT_BINARY:
			rv = binary_next(in, r);
			break;
		default:
			errno = EINVAL;
			return -1;
		}
		if (rv != 0 || in->eof)
			return rv;
		if ((rv = in_fill(in, block)) != 0)
			return rv;
	}
}

int
sl_in_lines(const sl_in *in, const unsigned char **p, size_t *n,
    unsigned char *delim)
{
	const struct sl_fmt *f = &in->fmt;

	if (f->kind != SL_FMT_TEXT || f->delimlen != 1 ||
	    f->keydelimlen != 0 || in->err != 0)
		return 0;
	*p = in->buf + in->start;
	*n = in->end - in->start;
	*delim = f->delim[0];
	return 1;
}

void
sl_in_skip(sl_in *in, size_t bytes, uint64_t records)
{
	consume(in, bytes);
	in->recno += records;
	in->lineno += records;
}

const char *
sl_in_error(const sl_in *in)
{
	return in->msg[0] != '\0' ? in->msg : "no error";
}

uint64_t
sl_in_recno(const sl_in *in)
{
	return in->recno;
}

void
sl_in_close(sl_in *in)
{
	if (in == NULL)
		return;
	sl_rf_yaml_in_close(in);
	if (in->mapped) {
		if (in->buf != nomap)
			munmap(in->buf, in->cap);
	} else
		free(in->buf);
	free(in->arena);
	free(in->hdrs);
	free(in);
}
