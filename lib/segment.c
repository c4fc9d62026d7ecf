/*
 * segment.c - segment files: their names, the sorted list of a log's
 * segments, and scanning batches through a read window so that a reader
 * makes one read(2) per megabyte rather than two per batch.  A scan never
 * trusts a length field before the CRC over it has verified.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"

#define WINDOW_MIN	(1u << 20)

void
sl_segment_name(char *buf, size_t len, uint64_t base, const char *suffix)
{
	snprintf(buf, len, "%020" PRIu64 "%s", base, suffix);
}

int
sl_segment_parse(const char *name, uint64_t *base)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < SL_SEGMENT_DIGITS; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (name[i] - '0')) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	if (strcmp(name + i, ".log") != 0)
		return -1;
	*base = v;
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
sl_segment_list(const char *dir, uint64_t **bases, size_t *n)
{
	DIR *d;
	struct dirent *de;
	uint64_t *v = NULL, *nv, base;
	size_t len = 0, cap = 0;
	int e;

	if ((d = opendir(dir)) == NULL)
		return -1;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (sl_segment_parse(de->d_name, &base) < 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto fail;
			v = nv;
		}
		v[len++] = base;
		errno = 0;
	}
	if (errno != 0)
		goto fail;
	closedir(d);
	if (len > 1)
		qsort(v, len, sizeof *v, cmp_u64);
	*bases = v;
	*n = len;
	return 0;
fail:
	e = errno;
	closedir(d);
	free(v);
	errno = e;
	return -1;
}

ssize_t
sl_window_get(struct sl_window *w, int fd, uint64_t at, size_t need)
{
	ssize_t n;

	if (w->len > 0 && at >= w->pos && at + need <= w->pos + w->len)
		return w->pos + w->len - at;
	if (w->len > 0 && at >= w->pos && at <= w->pos + w->len) {
		/* Keep the bytes from AT on; read after them. */
		size_t keep = w->pos + w->len - at;

		memmove(w->buf, w->buf + (at - w->pos), keep);
		w->len = keep;
	} else
		w->len = 0;
	w->pos = at;
	if (need > w->cap || w->cap < WINDOW_MIN) {
		size_t cap = need > WINDOW_MIN ? need : WINDOW_MIN;
		unsigned char *b = realloc(w->buf, cap);

		if (b == NULL)
			return -1;
		w->buf = b;
		w->cap = cap;
	}
	while (w->len < need) {
		n = sl_pread_full(fd, w->buf + w->len, w->cap - w->len,
		    at + w->len);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		w->len += n;
	}
	return w->len;
}

void
sl_window_drop(struct sl_window *w)
{
	w->len = 0;
}

void
sl_window_free(struct sl_window *w)
{
	free(w->buf);
	memset(w, 0, sizeof *w);
}

enum sl_scan
sl_scan_batch(struct sl_window *w, int fd, uint64_t at, size_t limit,
    uint64_t next, struct sl_batch *b, const unsigned char **p,
    const char **why)
{
	ssize_t have;

	*why = NULL;
	if ((have = sl_window_get(w, fd, at, SL_BATCH_HDR)) < 0)
		return SL_SCAN_ERROR;
	if (have == 0)
		return SL_SCAN_EOF;
	if (have < SL_BATCH_HDR) {
		/* Too short for a header: torn if it could begin one. */
		*why = "incomplete batch header";
		return SL_SCAN_SHORT;
	}
	if (sl_batch_header(w->buf + (at - w->pos), limit, b) < 0) {
		*why = "bad batch header";
		return SL_SCAN_BAD;
	}
	if ((have = sl_window_get(w, fd, at, b->length)) < 0)
		return SL_SCAN_ERROR;
	if ((size_t)have < b->length) {
		*why = "incomplete batch";
		return SL_SCAN_SHORT;
	}
	*p = w->buf + (at - w->pos);
	if (!sl_batch_crc_ok(*p, b)) {
		*why = "checksum mismatch";
		return SL_SCAN_BAD;
	}
	if (b->base < next) {
		*why = "offset out of sequence";
		return SL_SCAN_BAD;
	}
	return SL_SCAN_OK;
}

int
sl_scan_later(int fd, uint64_t at, size_t limit, uint64_t next,
    uint64_t *found)
{
	struct sl_window w = { 0 }, bw = { 0 };
	unsigned char magic[4];
	uint64_t pos = at + 1;
	ssize_t have;
	int r = 0;

	sl_put32(magic, SL_BATCH_MAGIC);
	for (;;) {
		if ((have = sl_window_get(&w, fd, pos, WINDOW_MIN)) < 0) {
			r = -1;
			break;
		}
		if (have < SL_BATCH_HDR)
			break;
		unsigned char *s = w.buf + (pos - w.pos);
		unsigned char *m = memmem(s, have - SL_BATCH_HDR + 4, magic, 4);

		if (m == NULL) {
			pos += have - SL_BATCH_HDR + 1;
			continue;
		}
		uint64_t cand = pos + (m - s);
		struct sl_batch b;
		const unsigned char *p;
		const char *why;

		if (sl_scan_batch(&bw, fd, cand, limit, next, &b, &p, &why) ==
		    SL_SCAN_OK) {
			*found = cand;
			r = 1;
			break;
		}
		pos = cand + 1;
	}
	sl_window_free(&w);
	sl_window_free(&bw);
	return r;
}
