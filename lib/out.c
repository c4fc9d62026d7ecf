/*
 * out.c - formatted, buffered output: the buffer every output format
 * appends to, written to a descriptor or handed to a sink, and the
 * dispatch to the formats (text.c, frame.c, json.c, yaml.c).
 *
 * Invariants: output goes into one buffer that is written with full-write
 * loops (or handed to a sink that provides the memory), and the first
 * write or sink error sticks; the text path copies bytes and makes no
 * system call or allocation per record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "io.h"
#include "fmt.h"

/* Output is gathered in a buffer of this size.  A reader holds its
 * window of a megabyte batch as well: with a megabyte here too, the two
 * did not fit the 2 MiB cache of a core, and logcat took 3-8 % longer
 * (bench/timeit, medians of 21 and 31 runs). */
#define OUT_BUFSIZE	(256u << 10)

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
		    sl_rf_tpl_compile(f->template, &o->tpl, &o->ntpl, &o->lit) < 0)
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



int
sl_out_record(sl_out *o, const struct sl_record *r)
{
	if (o->err != 0) {
		errno = o->err;
		return -1;
	}
	switch (o->fmt.kind) {
	case SL_FMT_TEXT:
		return sl_rf_text(o, r->key, r->key != NULL ? r->keylen : 0,
		    r->value, r->value != NULL ? r->valuelen : 0);
	case SL_FMT_JSON:
		return sl_rf_json_out(o, r);
	case SL_FMT_YAML:
		return sl_rf_yaml_out(o, r);
	case SL_FMT_BINARY:
		return sl_rf_frame_out(o, r);
	case SL_FMT_TEMPLATE:
		return sl_rf_tpl_out(o, r);
	}
	errno = EINVAL;
	return -1;
}

void
sl_out_logname(sl_out *o, const char *name)
{
	o->fmt.logname = name;
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
