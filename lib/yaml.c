/*
 * yaml.c - the -Y format: a YAML stream with one document per record,
 * a mapping of offset, timestamp, key, value and headers (a sequence of
 * name/value mappings).
 *
 * Output goes through libyaml's emitter.  Strings are double-quoted, so
 * that "" stays distinct from null, and bytes that are not strict UTF-8
 * become !!binary base64 scalars.  Every document ends with "...", so a
 * reader on a pipe knows a record is complete without waiting for the
 * next one.
 *
 * Input is split into documents by their markers ("---" and "..." at the
 * start of a line, which YAML reserves at column 0 even inside scalars)
 * and each document is parsed by libyaml's parser on its own.  Memory is
 * thus bounded by one record, and a document already buffered can be
 * returned without blocking on the next one.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "synclog.h"
#include "fmt.h"

#define TAG_BINARY	"tag:yaml.org,2002:binary"
#define TAG_NULL	"tag:yaml.org,2002:null"
#define TAG_STR		"tag:yaml.org,2002:str"

/* ---- output --------------------------------------------------------- */

struct yout {
	yaml_emitter_t	 em;
	int		 started;
	unsigned char	*scratch;	/* base64 text of a !!binary scalar */
	size_t		 scap;
};

static int
ywrite(void *data, unsigned char *buf, size_t size)
{
	sl_out *o = data;

	if (sl_rf_reserve(o, size) < 0)
		return 0;
	memcpy(o->buf + o->len, buf, size);
	o->len += size;
	return 1;
}

/* Emit EV; on failure the output is unusable from then on. */
static int
emit(sl_out *o, yaml_event_t *ev)
{
	struct yout *y = o->yaml;

	if (yaml_emitter_emit(&y->em, ev))
		return 0;
	if (o->err == 0)
		o->err = y->em.error == YAML_MEMORY_ERROR ? ENOMEM : EIO;
	errno = o->err;
	return -1;
}

static int
plain(sl_out *o, const char *s)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
	    (int)strlen(s), 1, 0, YAML_PLAIN_SCALAR_STYLE)) {
		errno = ENOMEM;
		return -1;
	}
	return emit(o, &ev);
}

static int
number(sl_out *o, int64_t v, int isunsigned)
{
	unsigned char buf[24], *e;

	e = isunsigned ? sl_rf_u64(buf, (uint64_t)v) : sl_rf_i64(buf, v);
	*e = '\0';
	return plain(o, (char *)buf);
}

/* A double-quoted string, !!binary when not UTF-8, or null. */
static int
bytes(sl_out *o, const unsigned char *s, size_t n)
{
	struct yout *y = o->yaml;
	yaml_event_t ev;
	unsigned char *nb;
	size_t need;
	int ok;

	if (s == NULL)
		return plain(o, "null");
	if (n > INT_MAX / 2) {
		errno = EMSGSIZE;
		return -1;
	}
	if (n == 0)
		s = (const unsigned char *)"";
	if (sl_rf_utf8_valid(s, n))
		ok = yaml_scalar_event_initialize(&ev, NULL, NULL,
		    (yaml_char_t *)s, (int)n, 0, 1,
		    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	else {
		need = (n + 2) / 3 * 4;
		if (need > y->scap) {
			if ((nb = realloc(y->scratch, need)) == NULL)
				return -1;
			y->scratch = nb;
			y->scap = need;
		}
		need = sl_rf_b64_encode(y->scratch, s, n);
		ok = yaml_scalar_event_initialize(&ev, NULL,
		    (yaml_char_t *)TAG_BINARY, y->scratch, (int)need, 0, 0,
		    YAML_DOUBLE_QUOTED_SCALAR_STYLE);
	}
	if (!ok) {
		errno = ENOMEM;
		return -1;
	}
	return emit(o, &ev);
}

static int
mapping(sl_out *o, int start)
{
	yaml_event_t ev;

	if (start)
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		    YAML_BLOCK_MAPPING_STYLE);
	else
		yaml_mapping_end_event_initialize(&ev);
	return emit(o, &ev);
}

int
sl_rf_yaml_out_open(sl_out *o)
{
	struct yout *y;

	if ((y = calloc(1, sizeof(*y))) == NULL)
		return -1;
	if (!yaml_emitter_initialize(&y->em)) {
		free(y);
		errno = ENOMEM;
		return -1;
	}
	yaml_emitter_set_output(&y->em, ywrite, o);
	yaml_emitter_set_encoding(&y->em, YAML_UTF8_ENCODING);
	yaml_emitter_set_unicode(&y->em, 1);
	yaml_emitter_set_width(&y->em, -1);
	yaml_emitter_set_break(&y->em, YAML_LN_BREAK);
	o->yaml = y;
	return 0;
}

int
sl_rf_yaml_out(sl_out *o, const struct sl_record *r)
{
	struct yout *y = o->yaml;
	yaml_event_t ev;

	if (!y->started) {
		yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
		if (emit(o, &ev) < 0)
			return -1;
		y->started = 1;
	}
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0);
	if (emit(o, &ev) < 0 || mapping(o, 1) < 0 ||
	    plain(o, "offset") < 0 || number(o, (int64_t)r->offset, 1) < 0 ||
	    plain(o, "timestamp") < 0 ||
	    (r->timestamp == SL_NO_TIMESTAMP ? plain(o, "null") :
	    number(o, r->timestamp, 0)) < 0 ||
	    plain(o, "key") < 0 || bytes(o, r->key, r->keylen) < 0 ||
	    plain(o, "value") < 0 || bytes(o, r->value, r->valuelen) < 0 ||
	    plain(o, "headers") < 0)
		return -1;
	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
	    YAML_BLOCK_SEQUENCE_STYLE);
	if (emit(o, &ev) < 0)
		return -1;
	for (size_t i = 0; i < r->nheaders; i++) {
		const struct sl_header *h = &r->headers[i];
		const unsigned char *e = (const unsigned char *)"";

		if (mapping(o, 1) < 0 || plain(o, "name") < 0 ||
		    bytes(o, h->name != NULL ? h->name : e, h->namelen) < 0 ||
		    plain(o, "value") < 0 ||
		    bytes(o, h->value != NULL ? h->value : e, h->valuelen) < 0 ||
		    mapping(o, 0) < 0)
			return -1;
	}
	yaml_sequence_end_event_initialize(&ev);
	if (emit(o, &ev) < 0 || mapping(o, 0) < 0)
		return -1;
	yaml_document_end_event_initialize(&ev, 0);
	return emit(o, &ev);
}

int
sl_rf_yaml_out_close(sl_out *o)
{
	struct yout *y = o->yaml;
	yaml_event_t ev;
	int rv = 0;

	if (y == NULL)
		return 0;
	if (y->started && o->err == 0) {
		yaml_stream_end_event_initialize(&ev);
		rv = emit(o, &ev);
	}
	yaml_emitter_delete(&y->em);
	free(y->scratch);
	free(y);
	o->yaml = NULL;
	return rv;
}

/* ---- input: splitting the stream into documents -------------------- */

enum { LINE_OTHER, LINE_CONTENT, LINE_START, LINE_END };

#define SEEN_START	1
#define SEEN_CONTENT	2

static int
marker(const unsigned char *p, size_t n, int c)
{
	return n >= 3 && p[0] == c && p[1] == c && p[2] == c &&
	    (n == 3 || p[3] == ' ' || p[3] == '\t' || p[3] == '\r');
}

static int
classify(const unsigned char *p, size_t n)
{
	size_t i;

	if (marker(p, n, '-'))
		return LINE_START;
	if (marker(p, n, '.'))
		return LINE_END;
	if (n > 0 && p[0] == '%')
		return LINE_OTHER;		/* a directive */
	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r');
	    i++)
		;
	if (i == n || p[i] == '#')
		return LINE_OTHER;		/* blank or comment */
	return LINE_CONTENT;
}

/*
 * Find the end of the next document: 1 and *LEN its bytes, 0 need more
 * input (or nothing left at the end), -1 error.
 */
static int
split(sl_in *in, size_t *len)
{
	const unsigned char *p = in->buf + in->start, *line, *nl;
	size_t avail = in->end - in->start, ll, next;
	int kind;

	while (in->scan < avail) {
		line = p + in->scan;
		nl = memchr(line, '\n', avail - in->scan);
		if (nl == NULL && !in->eof)
			break;
		ll = nl != NULL ? (size_t)(nl - line) : avail - in->scan;
		next = in->scan + ll + (nl != NULL);
		kind = classify(line, ll);
		if (kind == LINE_START && in->ystate != 0) {
			*len = in->scan;
			return 1;
		}
		in->ylines++;
		in->scan = next;
		if (kind == LINE_END) {
			*len = next;
			return 1;
		}
		if (kind == LINE_START)
			in->ystate |= SEEN_START;
		else if (kind == LINE_CONTENT)
			in->ystate |= SEEN_CONTENT;
	}
	if (in->eof) {
		*len = avail;
		return avail > 0;
	}
	if (avail > in->limit - 1)
		return sl_rf_toolarge(in, "record", in->recno + 1);
	return 0;
}

/* ---- input: one document ------------------------------------------- */

struct yp {
	sl_in		*in;
	yaml_parser_t	 parser;
	yaml_event_t	 ev;
	int		 have;		/* ev holds an event to delete */
	const unsigned char *doc;	/* the document's bytes */
	uint64_t	 line0;		/* lines before the document */
	unsigned char	*arena;
	size_t		 alen;
};

/* A decoded scalar: bytes in the arena, or null. */
struct ystr {
	const unsigned char	*p;
	size_t			 n;
	int			 set;
};

static int
yerr_at(struct yp *y, yaml_mark_t m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
yerr_at(struct yp *y, yaml_mark_t m, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return sl_rf_fail(y->in, EINVAL, "line %llu, column %zu: %s",
	    (unsigned long long)(y->line0 + m.line + 1), m.column + 1, msg);
}

static int
next(struct yp *y)
{
	if (y->have) {
		yaml_event_delete(&y->ev);
		y->have = 0;
	}
	if (!yaml_parser_parse(&y->parser, &y->ev)) {
		if (y->parser.error == YAML_MEMORY_ERROR)
			return sl_rf_fail(y->in, ENOMEM, "%s",
			    strerror(ENOMEM));
		if (y->parser.error == YAML_READER_ERROR) {
			/* The reader only knows the byte offset. */
			yaml_mark_t m = { 0, 0, 0 };

			for (size_t i = 0; i < y->parser.problem_offset; i++)
				if (y->doc[i] == '\n') {
					m.line++;
					m.column = 0;
				} else
					m.column++;
			y->parser.problem_mark = m;
		}
		return yerr_at(y, y->parser.problem_mark, "%s",
		    y->parser.problem != NULL ? y->parser.problem :
		    "invalid YAML");
	}
	y->have = 1;
	if (y->ev.type == YAML_ALIAS_EVENT)
		return yerr_at(y, y->ev.start_mark,
		    "aliases are not supported");
	return 0;
}

static const char *
evname(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SCALAR_EVENT:
		return "a scalar";
	case YAML_SEQUENCE_START_EVENT:
		return "a sequence";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	default:
		return "the end of a collection";
	}
}

static int
isnull(const yaml_event_t *ev)
{
	const char *t = (const char *)ev->data.scalar.tag;
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (t != NULL)
		return strcmp(t, TAG_NULL) == 0;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return n == 0 || (n == 1 && v[0] == '~') || (n == 4 &&
	    (memcmp(v, "null", 4) == 0 || memcmp(v, "Null", 4) == 0 ||
	    memcmp(v, "NULL", 4) == 0));
}

/* The scalar value of the current event, as bytes or null. */
static int
ybytes(struct yp *y, const char *field, struct ystr *out)
{
	yaml_event_t *ev = &y->ev;
	const char *tag = (const char *)ev->data.scalar.tag;
	unsigned char *d = y->arena + y->alen;
	size_t n = ev->data.scalar.length;
	ssize_t k;

	if (ev->type != YAML_SCALAR_EVENT)
		return yerr_at(y, ev->start_mark, "%s must be a scalar, not %s",
		    field, evname(ev->type));
	out->set = 1;
	if (isnull(ev)) {
		out->p = NULL;
		out->n = 0;
		return 0;
	}
	if (n > y->in->acap - y->alen)
		return yerr_at(y, ev->start_mark, "%s is too long", field);
	if (tag != NULL && strcmp(tag, TAG_BINARY) == 0) {
		k = sl_rf_b64_decode(d, ev->data.scalar.value, n, 1);
		if (k < 0)
			return yerr_at(y, ev->start_mark, "bad base64 in %s",
			    field);
		n = k;
	} else
		memcpy(d, ev->data.scalar.value, n);
	out->p = d;
	out->n = n;
	y->alen += n;
	return 0;
}

static int
ytimestamp(struct yp *y, int64_t *ts)
{
	yaml_event_t *ev = &y->ev;
	const unsigned char *s = ev->data.scalar.value;
	size_t n = ev->data.scalar.length, i = 0;
	uint64_t x = 0, lim = INT64_MAX;
	int neg = 0;

	if (ev->type != YAML_SCALAR_EVENT)
		return yerr_at(y, ev->start_mark,
		    "timestamp must be a scalar, not %s", evname(ev->type));
	if (isnull(ev)) {
		*ts = SL_NO_TIMESTAMP;
		return 0;
	}
	if (n > 0 && s[0] == '-') {
		neg = 1;
		lim++;
		i++;
	}
	if (i == n)
		goto bad;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			goto bad;
		if (x > (lim - (s[i] - '0')) / 10)
			return yerr_at(y, ev->start_mark,
			    "timestamp out of range");
		x = x * 10 + (s[i] - '0');
	}
	*ts = neg ? (int64_t)(0 - x) : (int64_t)x;
	/* The one value that would read as none. */
	if (*ts == SL_NO_TIMESTAMP)
		return yerr_at(y, ev->start_mark,
		    "timestamp -9223372036854775808 is reserved");
	return 0;
bad:
	return yerr_at(y, ev->start_mark, "timestamp is not an integer");
}

static int
fieldname(struct yp *y, const char *what)
{
	if (y->ev.type != YAML_SCALAR_EVENT)
		return yerr_at(y, y->ev.start_mark, "%s: expected a field name, "
		    "not %s", what, evname(y->ev.type));
	return 0;
}

static int
keyis(struct yp *y, const char *name)
{
	return y->ev.data.scalar.length == strlen(name) &&
	    memcmp(y->ev.data.scalar.value, name, strlen(name)) == 0;
}

/* A field name safe to print. */
static const char *
shown(struct yp *y, char *buf, size_t len)
{
	size_t n = y->ev.data.scalar.length, i;
	const unsigned char *v = y->ev.data.scalar.value;

	if (n > len - 4)
		n = len - 4;
	for (i = 0; i < n; i++)
		buf[i] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
	if (n < y->ev.data.scalar.length)
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

static int
yheader(struct yp *y, struct sl_header *h, size_t idx)
{
	struct ystr name = {0}, val = {0}, *t;
	yaml_mark_t start = y->ev.start_mark;
	char b[40];

	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yerr_at(y, y->ev.start_mark, "header %zu must be a "
		    "mapping, not %s", idx + 1, evname(y->ev.type));
	for (;;) {
		if (next(y) < 0)
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (fieldname(y, "header") < 0)
			return -1;
		if (keyis(y, "name"))
			t = &name;
		else if (keyis(y, "value"))
			t = &val;
		else
			return yerr_at(y, y->ev.start_mark,
			    "unknown header field \"%s\"",
			    shown(y, b, sizeof(b)));
		if (t->set)
			return yerr_at(y, y->ev.start_mark,
			    "duplicate header field \"%s\"",
			    shown(y, b, sizeof(b)));
		if (next(y) < 0 || ybytes(y, t == &name ? "header name" :
		    "header value", t) < 0)
			return -1;
		if (t->p == NULL)
			return yerr_at(y, y->ev.start_mark, "header %zu: %s "
			    "is null", idx + 1, t == &name ? "name" : "value");
	}
	if (!name.set || !val.set)
		return yerr_at(y, start, "header %zu: missing %s", idx + 1,
		    name.set ? "value" : "name");
	h->name = name.p;
	h->namelen = name.n;
	h->value = val.p;
	h->valuelen = val.n;
	return 0;
}

static int
yheaders(struct yp *y, size_t *nh)
{
	size_t n = 0;

	*nh = 0;
	if (y->ev.type == YAML_SCALAR_EVENT && isnull(&y->ev))
		return 0;
	if (y->ev.type != YAML_SEQUENCE_START_EVENT)
		return yerr_at(y, y->ev.start_mark, "headers must be a "
		    "sequence, not %s", evname(y->ev.type));
	for (;;) {
		if (next(y) < 0)
			return -1;
		if (y->ev.type == YAML_SEQUENCE_END_EVENT)
			break;
		if (sl_rf_headers(y->in, n + 1) < 0 ||
		    yheader(y, &y->in->hdrs[n], n) < 0)
			return -1;
		n++;
	}
	*nh = n;
	return 0;
}

/* The fields of a record's mapping, from its first field on. */
static int
yfields(struct yp *y, struct sl_record *r, yaml_mark_t start)
{
	struct ystr key = {0}, val = {0}, *t;
	int seen_off = 0, seen_ts = 0, seen_h = 0, *seen;
	int64_t ts = SL_NO_TIMESTAMP;
	size_t nh = 0;
	char b[40];

	for (;;) {
		if (next(y) < 0)
			return -1;
		if (y->ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (fieldname(y, "record") < 0)
			return -1;
		t = NULL;
		if (keyis(y, "offset"))
			seen = &seen_off;
		else if (keyis(y, "timestamp"))
			seen = &seen_ts;
		else if (keyis(y, "headers"))
			seen = &seen_h;
		else if (keyis(y, "key"))
			seen = &(t = &key)->set;
		else if (keyis(y, "value"))
			seen = &(t = &val)->set;
		else
			return yerr_at(y, y->ev.start_mark,
			    "unknown field \"%s\"", shown(y, b, sizeof(b)));
		if (*seen)
			return yerr_at(y, y->ev.start_mark,
			    "duplicate field \"%s\"", shown(y, b, sizeof(b)));
		*seen = 1;
		if (next(y) < 0)
			return -1;
		if (t != NULL) {
			if (ybytes(y, t == &key ? "key" : "value", t) < 0)
				return -1;
		} else if (seen == &seen_ts) {
			if (ytimestamp(y, &ts) < 0)
				return -1;
		} else if (seen == &seen_h) {
			if (yheaders(y, &nh) < 0)
				return -1;
		} else if (y->ev.type != YAML_SCALAR_EVENT)
			return yerr_at(y, y->ev.start_mark, "offset must be "
			    "a scalar, not %s", evname(y->ev.type));
	}
	if (!val.set)
		return yerr_at(y, start, "missing value");
	memset(r, 0, sizeof(*r));
	r->timestamp = ts;
	r->key = key.p;
	r->keylen = key.n;
	r->value = val.p;
	r->valuelen = val.n;
	r->headers = nh > 0 ? y->in->hdrs : NULL;
	r->nheaders = nh;
	return 0;
}

/* 1 record, 0 the document held no record, -1 error. */
static int
ydocument(struct yp *y, struct sl_record *r)
{
	yaml_mark_t start;

	if (next(y) < 0)
		return -1;
	if (y->ev.type != YAML_STREAM_START_EVENT)
		return yerr_at(y, y->ev.start_mark, "expected a stream");
	if (next(y) < 0)
		return -1;
	if (y->ev.type == YAML_STREAM_END_EVENT)
		return 0;
	if (next(y) < 0)
		return -1;
	start = y->ev.start_mark;
	/* An empty document ("---" alone) holds no record. */
	if (y->ev.type == YAML_SCALAR_EVENT && isnull(&y->ev)) {
		if (next(y) < 0 || next(y) < 0)
			return -1;
		if (y->ev.type != YAML_STREAM_END_EVENT)
			return yerr_at(y, y->ev.start_mark,
			    "unexpected content after the document");
		return 0;
	}
	if (y->ev.type != YAML_MAPPING_START_EVENT)
		return yerr_at(y, start, "a record must be a mapping, not %s",
		    evname(y->ev.type));
	if (yfields(y, r, start) < 0 || next(y) < 0)
		return -1;
	/* The splitter hands over one document; anything after it is bad. */
	if (next(y) < 0)
		return -1;
	if (y->ev.type != YAML_STREAM_END_EVENT)
		return yerr_at(y, y->ev.start_mark,
		    "unexpected content after the document");
	return 1;
}

static int
yparse(sl_in *in, const unsigned char *p, size_t n, struct sl_record *r)
{
	struct yp y;
	int rv;

	/* Scalars never grow by more than half ("\L" is 3 bytes). */
	if (sl_rf_arena(in, 2 * n + 64) < 0)
		return -1;
	memset(&y, 0, sizeof(y));
	y.in = in;
	y.line0 = in->lineno;
	y.arena = in->arena;
	y.doc = p;
	if (!yaml_parser_initialize(&y.parser))
		return sl_rf_fail(in, ENOMEM, "%s", strerror(ENOMEM));
	yaml_parser_set_input_string(&y.parser, p, n);
	rv = ydocument(&y, r);
	if (y.have)
		yaml_event_delete(&y.ev);
	yaml_parser_delete(&y.parser);
	return rv;
}

int
sl_rf_yaml_next(sl_in *in, struct sl_record *r)
{
	const unsigned char *p;
	size_t len = 0;
	int rv;

	for (;;) {
		if ((rv = split(in, &len)) <= 0)
			return rv;
		p = in->buf + in->start;
		in->recno++;
		rv = yparse(in, p, len, r);
		in->start += len;
		in->scan = 0;
		in->ystate = 0;
		in->lineno += in->ylines;
		in->ylines = 0;
		if (rv < 0)
			return -1;
		if (rv == 0) {
			in->recno--;
			continue;
		}
		if (sl_record_size(r) > in->max_record)
			return sl_rf_toolarge(in, "record", in->recno);
		return 1;
	}
}

void
sl_rf_yaml_in_close(sl_in *in)
{
	(void)in;
}
