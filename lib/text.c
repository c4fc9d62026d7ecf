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

int
sl_rf_tpl_out(sl_out *o, const struct sl_record *r)
{
	size_t kl = r->key != NULL ? r->keylen : 0;
	size_t vl = r->value != NULL ? r->valuelen : 0;
	size_t need = 0, hl = 0;
	const char *name = o->fmt.logname != NULL ? o->fmt.logname : "";
	size_t nl = strlen(name);
	unsigned char *p;

	for (size_t i = 0; i < r->nheaders; i++)
		hl = sl_rf_addsz(hl, sl_rf_addsz(r->headers[i].namelen,
		    r->headers[i].valuelen + 2));
	for (size_t i = 0; i < o->ntpl; i++) {
		switch (o->tpl[i].tok) {
		case TOK_LIT:
			need = sl_rf_addsz(need, o->tpl[i].len);
			break;
		case TOK_VALUE:
			need = sl_rf_addsz(need, vl);
			break;
		case TOK_KEY:
			need = sl_rf_addsz(need, kl);
			break;
		case TOK_HEADERS:
			need = sl_rf_addsz(need, hl);
			break;
		case TOK_LOGNAME:
			need = sl_rf_addsz(need, nl);
			break;
		default:
			need = sl_rf_addsz(need, 48);
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
			p += sl_rf_isotime(r->timestamp, (char *)p);
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

