/*
 * emit.c - -J and -Y output of what is not a record: logstat's figures,
 * logcheckpoint's consumers.  One emitter, so that the same thing has the
 * same name and the same form in every program (the vocabulary is in
 * synclog(7), MACHINE OUTPUT).
 *
 * An object is a JSON line, or a YAML document; its fields are numbers,
 * strings, null, times (two fields: NAME in milliseconds and NAME_iso) and
 * lists of objects.  JSON is compact, one object per line; YAML is block
 * style, every string double-quoted, so that no name or path is read as a
 * number, a boolean or null.  Strings are shown, not round-tripped: bytes
 * that are not UTF-8 become U+FFFD.
 *
 * Invariants: the output is valid JSON or YAML whatever the strings hold;
 * nesting is bounded (EMIT_DEPTH); the emitter only writes to the stream
 * it was given, whose errors the caller finds with ferror or fclose.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "fmt.h"

#define EMIT_DEPTH	8

enum { OBJECT, LIST };

struct sl_emit {
	FILE	*f;
	int	 yaml;
	int	 depth;			/* open levels */
	struct {
		int	kind;		/* OBJECT or LIST */
		size_t	n;		/* fields or items so far */
		int	item;		/* an object that is a list item */
		int	nl;		/* YAML: a newline before the first */
	} lv[EMIT_DEPTH];
};

sl_emit *
sl_emit_open(FILE *f, enum sl_emit_style style)
{
	sl_emit *e;

	if (style != SL_EMIT_JSON && style != SL_EMIT_YAML) {
		errno = EINVAL;
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->f = f;
	e->yaml = style == SL_EMIT_YAML;
	return e;
}

int
sl_emit_close(sl_emit *e)
{
	int rv;

	if (e == NULL)
		return 0;
	rv = e->depth == 0 ? 0 : -1;
	free(e);
	if (rv < 0)
		errno = EINVAL;
	return rv;
}

/*
 * A string, double-quoted: JSON's escapes, which a YAML double-quoted
 * scalar reads the same.  Besides what JSON must escape: DEL, and the
 * characters YAML takes for line breaks or a byte order mark.
 */
static void
putstr(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), n;
	unsigned c;

	putc('"', f);
	while (len > 0) {
		c = *p;
		n = c < 0x80 ? 1 : sl_rf_utf8_seq(p, len);
		if (n == 0) {
			fputs("\\ufffd", f);
			n = 1;
		} else if (c == '"' || c == '\\') {
			putc('\\', f);
			putc(c, f);
		} else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else if ((n == 2 && c == 0xc2 && p[1] == 0x85) ||
		    (n == 3 && c == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9)) ||
		    (n == 3 && c == 0xef && p[1] == 0xbb && p[2] == 0xbf))
			fprintf(f, "\\u%04x", n == 2 ? 0x85 : c == 0xef ?
			    0xfeff : 0x2000 | (p[2] & 0x3f));
		else
			fwrite(p, 1, n, f);
		p += n;
		len -= n;
	}
	putc('"', f);
}

void
sl_emit_label(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), n;

	/* The text format's escapes are these three; it must be UTF-8. */
	putc('"', f);
	for (; len > 0; p += n, len -= n) {
		n = *p < 0x80 ? 1 : sl_rf_utf8_seq(p, len);
		if (n == 0) {
			fputs("\xef\xbf\xbd", f);
			n = 1;
		} else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else
			fwrite(p, 1, n, f);
	}
	putc('"', f);
}

/* Two spaces a level of YAML nesting, the top object's fields at none. */
static void
indent(sl_emit *e, int level)
{
	for (int i = 0; i < level; i++)
		fputs("  ", e->f);
}

/*
 * Start a field NAME (or, in a list, an item) of the innermost level:
 * the separator, the indentation and the name.  A YAML list item's first
 * field carries the "- " of its item.
 */
static void
field(sl_emit *e, const char *name)
{
	int d = e->depth - 1, lvl;

	if (d < 0)
		return;
	if (e->yaml && e->lv[d].n == 0 && e->lv[d].nl)
		putc('\n', e->f);
	if (!e->yaml) {
		if (e->lv[d].n > 0)
			putc(',', e->f);
		if (e->lv[d].kind == OBJECT)
			fprintf(e->f, "\"%s\":", name);
	} else if (e->lv[d].kind == OBJECT) {
		/* The top object's fields are at column 0, a list's items
		 * at their list's field, and their fields two further. */
		lvl = 0;
		for (int i = 1; i <= d; i++)
			lvl += e->lv[i].kind == OBJECT;
		if (e->lv[d].item && e->lv[d].n == 0) {
			indent(e, lvl - 1);
			fputs("- ", e->f);
		} else
			indent(e, lvl);
		fprintf(e->f, "%s:", name);
	}
	e->lv[d].n++;
}

/* After a scalar: the end of a YAML line. */
static void
eol(sl_emit *e)
{
	if (e->yaml)
		putc('\n', e->f);
}

void
sl_emit_str(sl_emit *e, const char *name, const char *s)
{
	field(e, name);
	if (e->yaml)
		putc(' ', e->f);
	if (s == NULL)
		fputs("null", e->f);
	else
		putstr(e->f, s);
	eol(e);
}

void
sl_emit_u64(sl_emit *e, const char *name, uint64_t v)
{
	field(e, name);
	fprintf(e->f, e->yaml ? " %" PRIu64 : "%" PRIu64, v);
	eol(e);
}

void
sl_emit_i64(sl_emit *e, const char *name, int64_t v)
{
	field(e, name);
	fprintf(e->f, e->yaml ? " %" PRId64 : "%" PRId64, v);
	eol(e);
}

void
sl_emit_null(sl_emit *e, const char *name)
{
	sl_emit_str(e, name, NULL);
}

void
sl_emit_time(sl_emit *e, const char *name, int64_t ms)
{
	char iso[SL_TIME_MAX], n[64];

	snprintf(n, sizeof(n), "%s_iso", name);
	if (ms == SL_NO_TIMESTAMP) {
		sl_emit_null(e, name);
		sl_emit_null(e, n);
		return;
	}
	sl_emit_i64(e, name, ms);
	sl_emit_str(e, n, sl_time_format(ms, iso, sizeof(iso)));
}

/* Open a level of KIND; 0, or -1 when too deep. */
static int
push(sl_emit *e, int kind, int item, int nl)
{
	if (e->depth == EMIT_DEPTH) {
		errno = EINVAL;
		return -1;
	}
	e->lv[e->depth].kind = kind;
	e->lv[e->depth].n = 0;
	e->lv[e->depth].item = item;
	e->lv[e->depth].nl = nl;
	e->depth++;
	return 0;
}

int
sl_emit_object(sl_emit *e, const char *name)
{
	int d = e->depth - 1, item = d >= 0 && e->lv[d].kind == LIST;

	if (d < 0) {
		fputs(e->yaml ? "---\n" : "{", e->f);
		return push(e, OBJECT, 0, 0);
	}
	if (item) {
		if (e->yaml && e->lv[d].n == 0)
			putc('\n', e->f);
		else if (!e->yaml && e->lv[d].n > 0)
			putc(',', e->f);
		e->lv[d].n++;
	} else
		field(e, name);
	if (!e->yaml)
		putc('{', e->f);
	return push(e, OBJECT, item, !item);
}

int
sl_emit_list(sl_emit *e, const char *name)
{
	field(e, name);
	if (!e->yaml)
		putc('[', e->f);
	return push(e, LIST, 0, 0);
}

int
sl_emit_end(sl_emit *e)
{
	int d = e->depth - 1, lvl = 0;

	if (d < 0) {
		errno = EINVAL;
		return -1;
	}
	if (!e->yaml) {
		putc(e->lv[d].kind == LIST ? ']' : '}', e->f);
		if (d == 0)
			putc('\n', e->f);
	} else if (e->lv[d].n == 0) {
		/* An empty list or object still says what it is. */
		for (int i = 1; i < d; i++)
			lvl += e->lv[i].kind == OBJECT;
		if (e->lv[d].item) {
			indent(e, lvl);
			fputs("- {}\n", e->f);
		} else
			fputs(e->lv[d].kind == LIST ? " []\n" : d > 0 ?
			    " {}\n" : "{}\n", e->f);
	}
	e->depth--;
	return 0;
}
