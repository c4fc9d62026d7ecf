/*
 * json.c - the -J format: JSON Lines, one object per record.
 *
 * Output is exactly {"offset":N,"timestamp":N,"key":...,"value":...,
 * "headers":[{"name":...,"value":...}]} with no spaces.  A string that is
 * not strict UTF-8 goes out as its *_base64 field instead, so the output is
 * valid JSON for every record and reads back byte for byte.
 *
 * Input is parsed by a small strict parser of our own: one object per
 * line, and it keeps no state outside the sl_in it is given.  Decoded
 * strings never outgrow their source text, so one arena of the line's
 * length holds them all; strings without escapes point into the read
 * buffer.  A line is synclog's object, or kcat -J's envelope (ts,
 * payload, headers as a flat array or a map, the rest ignored), told
 * apart by the fields only one of them has; a line that mixes them is
 * refused.  kcat writes bytes that are not UTF-8 raw, and a deserialized
 * key or payload as any JSON value: both are taken from its lines only
 * (the value's text as the bytes), and the skipping of a JSON value
 * stops at 64 levels, so the recursion is bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "synclog.h"
#include "fmt.h"

/* ---- output --------------------------------------------------------- */

/* 0 copy as is, 1 escape, 2 the start of a multibyte sequence or bad. */
static const unsigned char jclass[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Append a string constant (its length known at compile time). */
#define put(p, s)	(memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/*
 * Whether any of the 8 bytes at P is a control, '"', '\\' or non-ASCII.
 * With every high bit clear, x - 0x01 sets a high bit exactly where a byte
 * of x is zero (borrows only spread from such a byte), and v - 0x20 where
 * a byte of v is below 0x20.
 */
static inline int
special8(const unsigned char *p)
{
	uint64_t v, q, b;

	memcpy(&v, p, 8);
	q = v ^ (ONES * '"');
	b = v ^ (ONES * '\\');
	return ((v | (v - ONES * 0x20) | (q - ONES) | (b - ONES)) & HIGHS) != 0;
}

/*
 * Write the escaped string S at P; NULL when S is not valid UTF-8.
 * The caller reserved 6 bytes per byte of S.
 */
static unsigned char *
escape(unsigned char *p, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *e = s + n, *run;
	size_t k;

	while (s < e) {
		run = s;
		/* Eight bytes at a time while none needs a second look. */
		while (e - s >= 8 && !special8(s))
			s += 8;
		while (s < e && jclass[*s] == 0)
			s++;
		memcpy(p, run, s - run);
		p += s - run;
		if (s == e)
			break;
		if (jclass[*s] == 2) {
			if ((k = sl_rf_utf8_seq(s, e - s)) == 0)
				return NULL;
			memcpy(p, s, k);
			p += k;
			s += k;
			continue;
		}
		*p++ = '\\';
		switch (*s) {
		case '"':
		case '\\':
			*p++ = *s;
			break;
		case '\n':
			*p++ = 'n';
			break;
		case '\t':
			*p++ = 't';
			break;
		case '\r':
			*p++ = 'r';
			break;
		case '\b':
			*p++ = 'b';
			break;
		case '\f':
			*p++ = 'f';
			break;
		default:
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[*s >> 4];
			*p++ = hex[*s & 15];
			break;
		}
		s++;
	}
	return p;
}

/* "NAME":"escaped", or "NAME_base64":"..." when S is not UTF-8. */
static unsigned char *
field(unsigned char *p, const char *name, size_t namelen,
    const unsigned char *s, size_t n)
{
	unsigned char *q;

	*p++ = '"';
	memcpy(p, name, namelen);
	p += namelen;
	if (s == NULL)
		return put(p, "\":null");
	q = put(p, "\":\"");
	if ((q = escape(q, s, n)) == NULL) {
		q = put(p, "_base64\":\"");
		q += sl_rf_b64_encode(q, s, n);
	}
	*q++ = '"';
	return q;
}

int
sl_rf_json_out(sl_out *o, const struct sl_record *r)
{
	size_t need = 128, kl = r->key != NULL ? r->keylen : 0;
	size_t vl = r->value != NULL ? r->valuelen : 0, m;
	unsigned char *p;

	/* Worst case 6 output bytes per byte, plus the fixed text. */
	m = kl + vl;
	for (size_t i = 0; i < r->nheaders; i++)
		m += r->headers[i].namelen + r->headers[i].valuelen + 8;
	if (m > (SIZE_MAX - need) / 6) {
		errno = EMSGSIZE;
		return -1;
	}
	if (sl_rf_reserve(o, need + 6 * m) < 0)
		return -1;
	p = o->buf + o->len;
	p = put(p, "{\"offset\":");
	p = sl_rf_u64(p, r->offset);
	p = put(p, ",\"timestamp\":");
	if (r->timestamp == SL_NO_TIMESTAMP)
		p = put(p, "null");
	else
		p = sl_rf_i64(p, r->timestamp);
	*p++ = ',';
	p = field(p, "key", 3, r->key, kl);
	*p++ = ',';
	p = field(p, "value", 5, r->value, vl);
	p = put(p, ",\"headers\":[");
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct sl_header *h = &r->headers[i];

		if (i > 0)
			*p++ = ',';
		*p++ = '{';
		p = field(p, "name", 4, h->name != NULL ? h->name :
		    (const unsigned char *)"", h->namelen);
		*p++ = ',';
		p = field(p, "value", 5, h->value != NULL ? h->value :
		    (const unsigned char *)"", h->valuelen);
		*p++ = '}';
	}
	p = put(p, "]}\n");
	o->len = p - o->buf;
	return 0;
}

/* ---- input ---------------------------------------------------------- */

struct jp {
	sl_in			*in;
	const unsigned char	*s, *p, *e;	/* line, cursor, end */
	unsigned char		*arena;
	size_t			 alen;
	const unsigned char	*raw;	/* the first byte in a string that is
					   not UTF-8: kcat's lines only */
};

/* A string as parsed: its decoded bytes, or null. */
struct jstr {
	const unsigned char	*p;	/* NULL: JSON null */
	size_t			 n;
	int			 set;	/* the field appeared */
};

static int
jerr(struct jp *j, const char *what)
{
	return sl_rf_fail(j->in, EINVAL, "line %llu: %s at column %zu",
	    (unsigned long long)j->in->lineno, what, (size_t)(j->p - j->s) + 1);
}

/* A field name, printable and short, for messages. */
static const char *
shown(const struct jstr *s, char *buf, size_t len)
{
	size_t i, n = s->n < len - 4 ? s->n : len - 4;

	for (i = 0; i < n; i++)
		buf[i] = s->p[i] >= 0x20 && s->p[i] < 0x7f ? s->p[i] : '?';
	if (n < s->n)
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

static int
jfielderr(struct jp *j, const char *fmt, const struct jstr *name)
{
	char b[40], m[96];

	snprintf(m, sizeof(m), fmt, shown(name, b, sizeof(b)));
	return sl_rf_fail(j->in, EINVAL, "line %llu: %s",
	    (unsigned long long)j->in->lineno, m);
}

static void
ws(struct jp *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int
expect(struct jp *j, int c)
{
	char what[32];

	ws(j);
	if (j->p < j->e && *j->p == c) {
		j->p++;
		return 0;
	}
	snprintf(what, sizeof(what), "expected '%c'", c);
	return jerr(j, j->p < j->e ? what : "unexpected end of line");
}

static int
hex4(const unsigned char *p, unsigned *v)
{
	unsigned x = 0;
	int d;

	for (int i = 0; i < 4; i++) {
		d = p[i];
		if (d >= '0' && d <= '9')
			d -= '0';
		else if (d >= 'a' && d <= 'f')
			d -= 'a' - 10;
		else if (d >= 'A' && d <= 'F')
			d -= 'A' - 10;
		else
			return -1;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}

static unsigned char *
utf8_put(unsigned char *d, unsigned c)
{
	if (c < 0x80)
		*d++ = c;
	else if (c < 0x800) {
		*d++ = 0xc0 | c >> 6;
		*d++ = 0x80 | (c & 0x3f);
	} else if (c < 0x10000) {
		*d++ = 0xe0 | c >> 12;
		*d++ = 0x80 | (c >> 6 & 0x3f);
		*d++ = 0x80 | (c & 0x3f);
	} else {
		*d++ = 0xf0 | c >> 18;
		*d++ = 0x80 | (c >> 12 & 0x3f);
		*d++ = 0x80 | (c >> 6 & 0x3f);
		*d++ = 0x80 | (c & 0x3f);
	}
	return d;
}

/* The \uXXXX escape at j->p (after the backslash and 'u'). */
static int
uescape(struct jp *j, unsigned char **dp)
{
	unsigned c, lo;

	if (j->e - j->p < 4 || hex4(j->p, &c) < 0)
		return jerr(j, "bad \\u escape");
	j->p += 4;
	if (c >= 0xdc00 && c <= 0xdfff) {
		j->p -= 6;
		return jerr(j, "lone surrogate in \\u escape");
	}
	if (c >= 0xd800 && c <= 0xdbff) {
		if (j->e - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    hex4(j->p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
			j->p -= 6;
			return jerr(j, "lone surrogate in \\u escape");
		}
		j->p += 6;
		c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
	}
	*dp = utf8_put(*dp, c);
	return 0;
}

/* The escape at j->p, after its backslash, decoded at *DP. */
static int
jescape(struct jp *j, unsigned char **dp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *q;

	if (*j->p == 'u') {
		j->p++;
		return uescape(j, dp);
	}
	if (*j->p == '\0' || (q = strchr(from, *j->p)) == NULL) {
		j->p--;
		return jerr(j, "invalid escape in string");
	}
	j->p++;
	*(*dp)++ = to[q - from];
	return 0;
}

/* A string at j->p (its opening quote); decoded into the arena if needed. */
static int
jstring(struct jp *j, struct jstr *out)
{
	const unsigned char *start;
	unsigned char *d;
	size_t k;

	ws(j);
	if (j->p == j->e || *j->p != '"')
		return jerr(j, j->p == j->e ? "unexpected end of line" :
		    "expected a string");
	start = ++j->p;
	/* Fast path: no escapes, so the bytes are the string. */
	while (j->p < j->e && *j->p != '"' && *j->p != '\\') {
		if (*j->p < 0x20)
			return jerr(j, "control character in string");
		if (*j->p >= 0x80) {
			if ((k = sl_rf_utf8_seq(j->p, j->e - j->p)) == 0) {
				if (j->raw == NULL)
					j->raw = j->p;
				k = 1;
			}
			j->p += k;
		} else
			j->p++;
	}
	if (j->p == j->e)
		return jerr(j, "unterminated string");
	if (*j->p == '"') {
		out->p = start;
		out->n = j->p - start;
		j->p++;
		return 0;
	}
	d = j->arena + j->alen;
	out->p = d;
	memcpy(d, start, j->p - start);
	d += j->p - start;
	while (j->p < j->e && *j->p != '"') {
		if (*j->p == '\\') {
			if (++j->p == j->e)
				break;
			if (jescape(j, &d) < 0)
				return -1;
		} else if (*j->p < 0x20)
			return jerr(j, "control character in string");
		else if (*j->p >= 0x80) {
			if ((k = sl_rf_utf8_seq(j->p, j->e - j->p)) == 0) {
				if (j->raw == NULL)
					j->raw = j->p;
				k = 1;
			}
			memcpy(d, j->p, k);
			d += k;
			j->p += k;
		} else
			*d++ = *j->p++;
	}
	if (j->p == j->e)
		return jerr(j, "unterminated string");
	j->p++;
	out->n = d - out->p;
	j->alen += out->n;
	return 0;
}

static int
literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->e - j->p) >= n && memcmp(j->p, word, n) == 0) {
		j->p += n;
		return 1;
	}
	return 0;
}

/* A string or null. */
static int
jstring_or_null(struct jp *j, struct jstr *out)
{
	ws(j);
	out->set = 1;
	if (literal(j, "null")) {
		out->p = NULL;
		out->n = 0;
		return 0;
	}
	return jstring(j, out);
}

static int
isdigit_(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * A JSON number.  With V it must be an integer that fits in int64_t;
 * without, any valid number is skipped.
 */
static int
jnumber(struct jp *j, int64_t *v, const char *name)
{
	const unsigned char *s;
	uint64_t x = 0, lim;
	int neg = 0, isint = 1;
	char what[64];

	ws(j);
	s = j->p;
	if (j->p < j->e && *j->p == '-') {
		neg = 1;
		j->p++;
	}
	if (j->p == j->e || !isdigit_(*j->p))
		return jerr(j, "expected a number");
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->e && isdigit_(*j->p))
			j->p++;
	if (j->p < j->e && *j->p == '.') {
		isint = 0;
		if (++j->p == j->e || !isdigit_(*j->p))
			return jerr(j, "bad number");
		while (j->p < j->e && isdigit_(*j->p))
			j->p++;
	}
	if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
		isint = 0;
		j->p++;
		if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p == j->e || !isdigit_(*j->p))
			return jerr(j, "bad number");
		while (j->p < j->e && isdigit_(*j->p))
			j->p++;
	}
	if (v == NULL)
		return 0;
	if (!isint) {
		j->p = s;
		snprintf(what, sizeof(what), "%s is not an integer", name);
		return jerr(j, what);
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (s += neg; s < j->p; s++) {
		if (x > (lim - (*s - '0')) / 10) {
			j->p = s;
			snprintf(what, sizeof(what), "%s out of range", name);
			return jerr(j, what);
		}
		x = x * 10 + (*s - '0');
	}
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

static int
is(const struct jstr *s, const char *name)
{
	return s->n == strlen(name) && memcmp(s->p, name, s->n) == 0;
}

/* Turn a *_base64 string into its bytes, in place. */
static int
unbase64(struct jp *j, struct jstr *s, const char *name)
{
	ssize_t n;

	if (s->p == NULL)
		return 0;
	if ((n = sl_rf_b64_decode((unsigned char *)s->p, s->p, s->n, 0)) < 0)
		return sl_rf_fail(j->in, EINVAL, "line %llu: bad base64 in "
		    "%s_base64", (unsigned long long)j->in->lineno, name);
	s->n = n;
	return 0;
}

/* Pick the plain or the _base64 form of a field. */
static int
pick(struct jp *j, struct jstr *plain, struct jstr *b64, const char *name,
    const char *where, struct jstr *out)
{
	if (plain->set && b64->set)
		return sl_rf_fail(j->in, EINVAL, "line %llu: %s%s and "
		    "%s_base64 both given", (unsigned long long)j->in->lineno,
		    where, name, name);
	if (b64->set) {
		if (unbase64(j, b64, name) < 0)
			return -1;
		*out = *b64;
	} else
		*out = *plain;
	return 0;
}

/*
 * After a member of an object or array: 0 a comma (another follows), 1
 * CLOSE (the end), -1 anything else.
 */
static inline __attribute__((always_inline)) int
jnext(struct jp *j, int close)
{
	char what[32];
	int c;

	ws(j);
	if (j->p == j->e)
		return jerr(j, "unexpected end of line");
	c = *j->p++;
	if (c == close)
		return 1;
	if (c == ',')
		return 0;
	j->p--;
	snprintf(what, sizeof(what), "expected ',' or '%c'", close);
	return jerr(j, what);
}

/* Whether the object or array just opened is empty (and so closed). */
static int
jempty(struct jp *j, int close)
{
	ws(j);
	if (j->p < j->e && *j->p == close) {
		j->p++;
		return 1;
	}
	return 0;
}

/*
 * Any JSON value, checked and skipped: *START and *END its text.  Nesting
 * deeper than 64 is refused, so the recursion is bounded.
 */
static int
jskip(struct jp *j, int depth, const unsigned char **start)
{
	struct jstr t;
	int r, close;

	ws(j);
	*start = j->p;
	if (depth > 64)
		return jerr(j, "nested too deeply");
	if (j->p == j->e)
		return jerr(j, "unexpected end of line");
	switch (*j->p) {
	case '"':
		return jstring(j, &t);
	case '{':
	case '[':
		close = *j->p++ == '{' ? '}' : ']';
		if (jempty(j, close))
			return 0;
		do {
			const unsigned char *q;

			if (close == '}' && (jstring(j, &t) < 0 ||
			    expect(j, ':') < 0))
				return -1;
			if (jskip(j, depth + 1, &q) < 0)
				return -1;
		} while ((r = jnext(j, close)) == 0);
		return r < 0 ? -1 : 0;
	}
	if (literal(j, "true") || literal(j, "false") || literal(j, "null"))
		return 0;
	if (*j->p != '-' && !isdigit_(*j->p))
		return jerr(j, "expected a value");
	return jnumber(j, NULL, "value");
}

/* One {"name":...,"value":...} of synclog's headers array. */
static int
jheader(struct jp *j, struct sl_header *h, size_t idx)
{
	struct jstr f, name = {0}, nameb = {0}, val = {0}, valb = {0}, *t;
	struct jstr n, v;
	char where[40];
	int r = 1;

	if (expect(j, '{') < 0)
		return -1;
	if (!jempty(j, '}'))
		do {
			if (jstring(j, &f) < 0)
				return -1;
			if (is(&f, "name"))
				t = &name;
			else if (is(&f, "name_base64"))
				t = &nameb;
			else if (is(&f, "value"))
				t = &val;
			else if (is(&f, "value_base64"))
				t = &valb;
			else
				return jfielderr(j,
				    "unknown header field \"%s\"", &f);
			if (t->set)
				return jfielderr(j,
				    "duplicate header field \"%s\"", &f);
			if (expect(j, ':') < 0 || jstring(j, t) < 0)
				return -1;
			t->set = 1;
		} while ((r = jnext(j, '}')) == 0);
	if (r < 0)
		return -1;
	snprintf(where, sizeof(where), "header %zu: ", idx + 1);
	if (pick(j, &name, &nameb, "name", where, &n) < 0 ||
	    pick(j, &val, &valb, "value", where, &v) < 0)
		return -1;
	if (!n.set || !v.set)
		return sl_rf_fail(j->in, EINVAL, "line %llu: header %zu: "
		    "missing %s", (unsigned long long)j->in->lineno, idx + 1,
		    n.set ? "value" : "name");
	h->name = n.p;
	h->namelen = n.n;
	h->value = v.p;
	h->valuelen = v.n;
	return 0;
}

/* Add header NAME (a string) = V (a string, or null: empty). */
static int
jaddheader(struct jp *j, size_t *nh, const struct jstr *name,
    const struct jstr *v)
{
	struct sl_header *h;

	if (sl_rf_headers(j->in, *nh + 1) < 0)
		return -1;
	h = &j->in->hdrs[(*nh)++];
	h->name = name->p;
	h->namelen = name->n;
	h->value = v->p != NULL ? v->p : (const unsigned char *)"";
	h->valuelen = v->n;
	return 0;
}

/* kcat's headers as a map: {"name": "value" | null | [values], ...}. */
static int
jheadermap(struct jp *j, size_t *nh)
{
	struct jstr name, v;
	int r;

	if (jempty(j, '}'))
		return 0;
	do {
		if (jstring(j, &name) < 0 || expect(j, ':') < 0)
			return -1;
		ws(j);
		if (j->p < j->e && *j->p == '[') {
			j->p++;
			if (jempty(j, ']'))
				continue;
			do {
				if (jstring_or_null(j, &v) < 0 ||
				    jaddheader(j, nh, &name, &v) < 0)
					return -1;
			} while ((r = jnext(j, ']')) == 0);
			if (r < 0)
				return -1;
		} else if (jstring_or_null(j, &v) < 0 ||
		    jaddheader(j, nh, &name, &v) < 0)
			return -1;
	} while ((r = jnext(j, '}')) == 0);
	return r < 0 ? -1 : 0;
}

/* kcat's headers as a flat array: ["name", "value" | null, ...]. */
static int
jheaderflat(struct jp *j, size_t *nh)
{
	struct jstr name, v;
	int r;

	do {
		if (jstring(j, &name) < 0)
			return -1;
		if (jnext(j, ']') != 0)
			return j->in->err != 0 ? -1 :
			    jerr(j, "a header name without a value");
		if (jstring_or_null(j, &v) < 0 ||
		    jaddheader(j, nh, &name, &v) < 0)
			return -1;
	} while ((r = jnext(j, ']')) == 0);
	return r < 0 ? -1 : 0;
}

/*
 * The headers in any of their forms: synclog's array of objects, kcat's
 * flat array or its map, or null.  *KCAT is set for kcat's forms.
 */
static int
jheaders(struct jp *j, size_t *nh, int *kcat)
{
	int r;

	*nh = 0;
	ws(j);
	if (literal(j, "null"))
		return 0;
	if (j->p < j->e && *j->p == '{') {
		j->p++;
		*kcat = 1;
		return jheadermap(j, nh);
	}
	if (expect(j, '[') < 0)
		return -1;
	if (jempty(j, ']'))
		return 0;
	if (j->p < j->e && *j->p == '"') {
		*kcat = 1;
		return jheaderflat(j, nh);
	}
	do {
		if (sl_rf_headers(j->in, *nh + 1) < 0 ||
		    jheader(j, &j->in->hdrs[*nh], *nh) < 0)
			return -1;
		++*nh;
	} while ((r = jnext(j, ']')) == 0);
	return r < 0 ? -1 : 0;
}

/*
 * The fields of a record's line.  Two envelopes are read: synclog's own
 * (offset, timestamp, key, value, headers, and the *_base64 forms) and
 * kcat -J's (topic, partition, offset, tstype, ts, broker, headers, key,
 * payload, and what kcat's deserializers add), told apart by the fields
 * only one of them has.
 */
enum {
	F_OFFSET, F_TIMESTAMP, F_KEY, F_KEYB64, F_VALUE, F_VALUEB64,
	F_HEADERS, F_TS, F_PAYLOAD, F_IGNORE, F_ERROR
};
enum { BOTH, OURS, KCAT };

#define JF(name, kind, who)	{ name, sizeof(name) - 1, kind, who }
static const struct {
	const char	*name;
	size_t		 len;
	int		 kind, who;
} jfields[] = {
	JF("offset",		F_OFFSET,	BOTH),
	JF("timestamp",		F_TIMESTAMP,	OURS),
	JF("key",		F_KEY,		BOTH),
	JF("key_base64",	F_KEYB64,	OURS),
	JF("value",		F_VALUE,	OURS),
	JF("value_base64",	F_VALUEB64,	OURS),
	JF("headers",		F_HEADERS,	BOTH),
	JF("ts",		F_TS,		KCAT),
	JF("payload",		F_PAYLOAD,	KCAT),
	JF("topic",		F_IGNORE,	KCAT),
	JF("partition",		F_IGNORE,	KCAT),
	JF("tstype",		F_IGNORE,	KCAT),
	JF("broker",		F_IGNORE,	KCAT),
	JF("key_schema_id",	F_IGNORE,	KCAT),
	JF("value_schema_id",	F_IGNORE,	KCAT),
	JF("key_error",		F_ERROR,	KCAT),
	JF("payload_error",	F_ERROR,	KCAT),
};
#define NFIELDS	(sizeof(jfields) / sizeof(jfields[0]))

struct jrec {
	struct jstr	 key, keyb, val, valb;
	int64_t		 ts;
	size_t		 nh;
	uint32_t	 seen;		/* a bit per field of jfields */
	int		 ours, kcat;	/* fields only one envelope has */
	const unsigned char *json;	/* a key or payload that is not a
					   string (kcat -s): where */
};

/* A timestamp: an integer, or null for none; the one reserved value
 * that means none is refused. */
static int
jtimestamp(struct jp *j, const char *name, int64_t *ts)
{
	const unsigned char *at;

	ws(j);
	at = j->p;
	if (literal(j, "null")) {
		*ts = SL_NO_TIMESTAMP;
		return 0;
	}
	if (jnumber(j, ts, name) < 0)
		return -1;
	if (*ts == SL_NO_TIMESTAMP) {
		j->p = at;
		return jerr(j, "timestamp -9223372036854775808 is reserved");
	}
	return 0;
}

/* kcat's key or payload: a string, null, or (from a deserializer) any
 * JSON value, taken as its text. */
static int
jkcatbytes(struct jp *j, struct jrec *jr, struct jstr *out)
{
	const unsigned char *start;

	ws(j);
	if (j->p < j->e && (*j->p == '"' || *j->p == 'n'))
		return jstring_or_null(j, out);
	if (jskip(j, 0, &start) < 0)
		return -1;
	if (jr->json == NULL)
		jr->json = start;
	out->set = 1;
	out->p = start;
	out->n = j->p - start;
	return 0;
}

/* The value of the field at index I. */
static int
jfield(struct jp *j, struct jrec *jr, size_t i, const struct jstr *f)
{
	const unsigned char *start;

	switch (jfields[i].kind) {
	case F_OFFSET:
		return literal(j, "null") ? 0 : jnumber(j, NULL, "offset");
	case F_TIMESTAMP:
	case F_TS:
		return jtimestamp(j, jfields[i].name, &jr->ts);
	case F_KEY:
		return jkcatbytes(j, jr, &jr->key);
	case F_KEYB64:
		return jstring_or_null(j, &jr->keyb);
	case F_VALUE:
		return jstring_or_null(j, &jr->val);
	case F_VALUEB64:
		return jstring_or_null(j, &jr->valb);
	case F_PAYLOAD:
		return jkcatbytes(j, jr, &jr->val);
	case F_HEADERS:
		return jheaders(j, &jr->nh, &jr->kcat);
	case F_ERROR:
		return jfielderr(j, "kcat could not deserialize this record "
		    "(it says \"%s\")", f);
	}
	return jskip(j, 0, &start);
}

/* The object's fields into JR, and which envelope they make. */
static int
jfields_(struct jp *j, struct jrec *jr)
{
	struct jstr f;
	size_t i;
	int r;

	if (expect(j, '{') < 0)
		return -1;
	if (jempty(j, '}'))
		return 0;
	do {
		if (jstring(j, &f) < 0 || expect(j, ':') < 0)
			return -1;
		/* Length and first byte first: this runs for every field
		 * of every line. */
		for (i = 0; i < NFIELDS && (f.n != jfields[i].len ||
		    f.p[0] != jfields[i].name[0] ||
		    memcmp(f.p, jfields[i].name, f.n) != 0); i++)
			;
		if (i == NFIELDS)
			return jfielderr(j, "unknown field \"%s\"", &f);
		if (jr->seen & (uint32_t)1 << i)
			return jfielderr(j, "duplicate field \"%s\"", &f);
		jr->seen |= (uint32_t)1 << i;
		ws(j);
		if (jfield(j, jr, i, &f) < 0)
			return -1;
		if (jfields[i].who == OURS)
			jr->ours = 1;
		else if (jfields[i].who == KCAT)
			jr->kcat = 1;
	} while ((r = jnext(j, '}')) == 0);
	return r < 0 ? -1 : 0;
}

static int
jobject(struct jp *j, struct sl_record *r)
{
	struct jrec jr;
	struct jstr k, v;

	memset(&jr, 0, sizeof(jr));
	jr.ts = SL_NO_TIMESTAMP;
	if (jfields_(j, &jr) < 0)
		return -1;
	ws(j);
	if (j->p != j->e)
		return jerr(j, "trailing characters after the object");
	if (jr.ours && jr.kcat)
		return sl_rf_fail(j->in, EINVAL, "line %llu: synclog's and "
		    "kcat's fields mixed in one record",
		    (unsigned long long)j->in->lineno);
	/* Only kcat writes bytes that are not UTF-8, and other JSON as
	 * a key. */
	if (!jr.kcat && (j->raw != NULL || jr.json != NULL)) {
		j->p = j->raw != NULL ? j->raw : jr.json;
		return jerr(j, j->raw != NULL ? "invalid UTF-8 in string" :
		    "expected a string");
	}
	if (pick(j, &jr.key, &jr.keyb, "key", "", &k) < 0 ||
	    pick(j, &jr.val, &jr.valb, "value", "", &v) < 0)
		return -1;
	if (!v.set)
		return sl_rf_fail(j->in, EINVAL, "line %llu: missing %s",
		    (unsigned long long)j->in->lineno, jr.kcat ? "payload" :
		    "value");
	memset(r, 0, sizeof(*r));
	r->timestamp = jr.ts;
	r->key = k.p;
	r->keylen = k.n;
	r->value = v.p;
	r->valuelen = v.n;
	r->headers = jr.nh > 0 ? j->in->hdrs : NULL;
	r->nheaders = jr.nh;
	return 0;
}

/* Parse the line [P, P+N) into R. */
static int
jline(sl_in *in, unsigned char *p, size_t n, struct sl_record *r)
{
	struct jp j;

	if (sl_rf_arena(in, n + 16) < 0)
		return -1;
	j.in = in;
	j.s = j.p = p;
	j.e = p + n;
	j.arena = in->arena;
	j.alen = 0;
	j.raw = NULL;
	return jobject(&j, r);
}

static int
blank(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

int
sl_rf_json_next(sl_in *in, struct sl_record *r)
{
	unsigned char *p, *nl;
	size_t avail, len, skip;

	for (;;) {
		p = in->buf + in->start;
		avail = in->end - in->start;
		nl = memchr(p + in->scan, '\n', avail - in->scan);
		if (nl != NULL) {
			len = nl - p;
			skip = len + 1;
		} else if (!in->eof) {
			in->scan = avail;
			if (avail > in->limit - 1)
				return sl_rf_toolarge(in, "line",
				    in->lineno + 1);
			return 0;
		} else if (avail == 0)
			return 0;
		else
			len = skip = avail;
		in->lineno++;
		in->start += skip;
		in->scan = 0;
		if (blank(p, len)) {
			if (in->start == in->end)
				in->start = in->end = 0;
			continue;
		}
		in->recno++;
		if (jline(in, p, len, r) < 0)
			return -1;
		if (sl_record_size(r) > in->max_record)
			return sl_rf_toolarge(in, "line", in->lineno);
		return 1;
	}
}
