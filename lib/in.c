/*
 * in.c - buffered input of records: read(2) into one buffer (or a file
 * mapped a window at a time), polled when the caller must not block, and
 * the dispatch to the formats (text.c, frame.c, json.c, yaml.c).
 *
 * Invariants: the buffer holds at most one record beyond what was
 * consumed; it grows only as far as a record of the maximum size needs,
 * so a record that is too large is refused before the input is buffered.
 * A record returned points into that buffer (or the record's arena) and
 * stays valid until the next call.  The first failure sticks, with its
 * message.  Nothing here keeps global state, so the parsers can be fuzzed.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "batch.h"
#include "fmt.h"
#include "log.h"

#define IN_BUFSIZE	(256u << 10)
#define IN_MAPSIZE	(1u << 20)	/* a mapped input's window */

int
sl_rf_fail(sl_in *in, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->msg, sizeof(in->msg), fmt, ap);
	va_end(ap);
	in->err = err;
	sl_seterr("%s", in->msg);
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

int
sl_rf_check_size(sl_in *in, const struct sl_record *r, const char *where,
    uint64_t n)
{
	if (sl_rec_size(r) > in->max_record)
		return sl_rf_toolarge(in, where, n);
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
			rv = sl_rf_text_next(in, r);
			break;
		case SL_FMT_JSON:
			rv = sl_rf_json_next(in, r);
			break;
		case SL_FMT_YAML:
			rv = sl_rf_yaml_next(in, r);
			break;
		case SL_FMT_BINARY:
			rv = sl_rf_frame_next(in, r);
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
	sl_rf_consume(in, bytes);
	in->recno += records;
	in->lineno += records;
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
