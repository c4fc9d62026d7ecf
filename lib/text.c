/*
 * text.c - the text formats: plain records (value, or key DELIM value,
 * then the record delimiter) in and out, and -F templates out.
 *
 * Invariants: text input splits on the delimiter only (the first key
 * delimiter of a record splits its key), so any byte but the delimiter
 * passes through; a record longer than the maximum is refused once its
 * bytes exceed it, before the rest is buffered.  A template is compiled
 * once into items (literal runs and tokens); each record then costs one
 * room check and copies.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "fmt.h"

/* ---- templates ------------------------------------------------------ */

int
sl_rf_tpl_compile(const char *t, struct sl_rf_item **itemsp, size_t *np,
    unsigned char **litp)
{
	static const char toks[] = "sSRkKoTIhtp";
	static const int tokv[] = { TOK_VALUE, TOK_VALUESIZE, TOK_VALUELEN32,
	    TOK_KEY, TOK_KEYSIZE, TOK_OFFSET, TOK_TIME, TOK_ISOTIME,
	    TOK_HEADERS, TOK_LOGNAME, TOK_PARTITION };
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
			if ((c = sl_rf_unescape1(&t)) < 0)
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

/* Bytes the template's tokens take for R at most. */
static size_t
tpl_need(const sl_out *o, const struct sl_record *r, size_t nl)
{
	size_t need = 0, n;

	for (size_t i = 0; i < o->ntpl; i++) {
		switch (o->tpl[i].tok) {
		case TOK_LIT:
			n = o->tpl[i].len;
			break;
		case TOK_VALUE:
			n = r->value != NULL ? r->valuelen : 4;
			break;
		case TOK_KEY:
			n = r->key != NULL ? r->keylen : 4;
			break;
		case TOK_HEADERS:
			n = 0;
			for (size_t j = 0; j < r->nheaders; j++)
				n = sl_rf_addsz(n, sl_rf_addsz(
				    r->headers[j].namelen,
				    r->headers[j].valuelen + 2));
			break;
		case TOK_LOGNAME:
			n = nl;
			break;
		default:
			n = SL_TIME_MAX + 20;
			break;
		}
		need = sl_rf_addsz(need, n);
	}
	return need;
}

/* The bytes of %s or %k: S, or NULL when absent with -Z. */
static unsigned char *
tpl_bytes(unsigned char *p, const unsigned char *s, size_t n, int shownull)
{
	if (s == NULL) {
		if (shownull) {
			memcpy(p, "NULL", 4);
			p += 4;
		}
		return p;
	}
	if (n > 0)
		memcpy(p, s, n);
	return p + n;
}

static unsigned char *
tpl_headers(unsigned char *p, const struct sl_record *r)
{
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
	return p;
}

int
sl_rf_tpl_out(sl_out *o, const struct sl_record *r)
{
	const char *name = o->fmt.logname != NULL ? o->fmt.logname : "";
	size_t nl = strlen(name);
	int z = o->fmt.shownull;
	unsigned char *p;
	uint32_t v;

	if (sl_rf_reserve(o, tpl_need(o, r, nl)) < 0)
		return -1;
	p = o->buf + o->len;
	for (size_t i = 0; i < o->ntpl; i++) {
		switch (o->tpl[i].tok) {
		case TOK_LIT:
			memcpy(p, o->lit + o->tpl[i].off, o->tpl[i].len);
			p += o->tpl[i].len;
			break;
		case TOK_VALUE:
			p = tpl_bytes(p, r->value, r->valuelen, z);
			break;
		case TOK_VALUESIZE:
			p = r->value != NULL ? sl_rf_u64(p, r->valuelen) :
			    sl_rf_i64(p, -1);
			break;
		case TOK_VALUELEN32:
			/* kcat's %R: big-endian, -1 for a tombstone. */
			v = r->value != NULL ? (uint32_t)r->valuelen :
			    UINT32_MAX;
			*p++ = v >> 24;
			*p++ = v >> 16;
			*p++ = v >> 8;
			*p++ = v;
			break;
		case TOK_KEY:
			p = tpl_bytes(p, r->key, r->keylen, z);
			break;
		case TOK_KEYSIZE:
			p = r->key != NULL ? sl_rf_u64(p, r->keylen) :
			    sl_rf_i64(p, -1);
			break;
		case TOK_OFFSET:
			p = sl_rf_u64(p, r->offset);
			break;
		case TOK_TIME:
			p = sl_rf_i64(p, r->timestamp);
			break;
		case TOK_ISOTIME:
			p += sl_rf_isotime(r->timestamp, (char *)p);
			break;
		case TOK_HEADERS:
			p = tpl_headers(p, r);
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

/* ---- text output with -Z -------------------------------------------- */

int
sl_rf_text_null(sl_out *o, const unsigned char *key, size_t kl,
    const unsigned char *value, size_t vl)
{
	const struct sl_fmt *f = &o->fmt;
	unsigned char *p;

	if (sl_rf_reserve(o, sl_rf_addsz(kl, vl) + 8 + 2 * SL_DELIM_MAX) < 0)
		return -1;
	p = o->buf + o->len;
	if (f->keydelimlen > 0) {
		p = tpl_bytes(p, key, kl, 1);
		memcpy(p, f->keydelim, f->keydelimlen);
		p += f->keydelimlen;
	}
	p = tpl_bytes(p, value, vl, 1);
	memcpy(p, f->delim, f->delimlen);
	o->len = p + f->delimlen - o->buf;
	return 0;
}

/* ---- text input ---------------------------------------------------- */

/* 1 record, 0 need more input (or the end when eof), -1 error. */
int
sl_rf_text_next(sl_in *in, struct sl_record *r)
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
	sl_rf_consume(in, skip);
	if (sl_rf_check_size(in, r, "line", in->recno) < 0)
		return -1;
	return 1;
}

