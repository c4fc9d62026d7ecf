/*
 * segment.c - a segment of a log, and the rules every tool follows about
 * it: its name and the sorted list of a log's segments; opening its files
 * relative to the log directory; scanning its batches through a read
 * window (one read(2) per megabyte rather than two per batch); the one
 * verdict on where its valid data ends, with its one message; and the
 * rule that segments join.  The writer, the readers, logstat, logfsck and
 * logcompact all ask here rather than decide on their own.
 *
 * Invariants: a scan never trusts a length field before the CRC over it
 * has verified; damage followed by valid data is corruption, wherever it
 * is, and only the last segment can have an incomplete tail; a lone file
 * is read as a segment only when it is one.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "log.h"

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
sl_segment_list(int dirfd, uint64_t **bases, size_t *n)
{
	DIR *d;
	struct dirent *de;
	uint64_t *v = NULL, *nv, base;
	size_t len = 0, cap = 0;
	int e;

	if ((d = sl_dir_list(dirfd)) == NULL)
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

int
sl_segment_list_path(const char *path, uint64_t **bases, size_t *n)
{
	int fd, r, e;

	if ((fd = sl_dir_open(path)) < 0)
		return -1;
	r = sl_segment_list(fd, bases, n);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
sl_segment_open(int dirfd, uint64_t base, const char *suffix, int flags)
{
	char name[64];

	sl_segment_name(name, sizeof name, base, suffix);
	return sl_openat(dirfd, name, flags);
}

int
sl_segment_create(int dirfd, uint64_t base, const char *suffix, int flags)
{
	char name[64];

	sl_segment_name(name, sizeof name, base, suffix);
	return sl_createat(dirfd, name, flags, 0644);
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

/* Whether a valid batch starts at POS of FD now. */
static int
whole_now(int fd, uint64_t pos, size_t limit, uint64_t next)
{
	struct sl_window w = { 0 };
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	int r;

	r = sl_scan_batch(&w, fd, pos, limit, next, &b, &p, &why) ==
	    SL_SCAN_OK;
	sl_window_free(&w);
	return r;
}

int
sl_segend_judge(int fd, enum sl_scan s, const char *why, uint64_t pos,
    uint64_t next, size_t limit, int last, struct sl_segend *e)
{
	uint64_t found = SL_NO_OFFSET;
	int f;

	e->pos = pos;
	e->next = next;
	e->found = SL_NO_OFFSET;
	e->why = why;
	if (s == SL_SCAN_EOF) {
		e->kind = SL_END_CLEAN;
		return 0;
	}
	if ((f = sl_scan_later(fd, pos, limit, next, &found)) < 0)
		return -1;
	if (f > 0) {
		e->kind = SL_END_CORRUPT;
		e->found = found;
		/* In the last segment, a writer may have finished the batch
		 * at POS, and written more, since it was read: a batch after
		 * it is then no proof of damage.  Read it again. */
		if (last && whole_now(fd, pos, limit, next))
			e->kind = SL_END_RETRY;
	} else
		e->kind = last ? SL_END_TORN : SL_END_CORRUPT;
	return 0;
}

int
sl_segend_fail(const struct sl_segend *e, const char *name)
{
	if (e->found != SL_NO_OFFSET)
		return sl_fail(EBADMSG, "%s: byte %" PRIu64 ": offset %" PRIu64
		    ": %s, followed by valid data at byte %" PRIu64, name,
		    e->pos, e->next, e->why, e->found);
	return sl_fail(EBADMSG, "%s: byte %" PRIu64 ": offset %" PRIu64 ": %s",
	    name, e->pos, e->next, e->why);
}

void
sl_segscan_init(struct sl_segscan *s, int fd, uint64_t pos, uint64_t next,
    size_t limit)
{
	s->fd = fd;
	s->pos = pos;
	s->next = next;
	s->limit = limit;
	memset(&s->win, 0, sizeof s->win);
	memset(&s->end, 0, sizeof s->end);
}

int
sl_segscan_next(struct sl_segscan *s, int last, struct sl_batch *b,
    const unsigned char **p)
{
	enum sl_scan r;
	const char *why;

	r = sl_scan_batch(&s->win, s->fd, s->pos, s->limit, s->next, b, p,
	    &why);
	if (r == SL_SCAN_ERROR)
		return -1;
	if (r == SL_SCAN_OK) {
		s->pos += b->length;
		s->next = sl_batch_end(b);
		return 1;
	}
	sl_window_drop(&s->win);
	if (sl_segend_judge(s->fd, r, why, s->pos, s->next, s->limit, last,
	    &s->end) < 0)
		return -1;
	if (s->end.kind == SL_END_RETRY)
		return sl_segscan_next(s, last, b, p);
	return 0;
}

void
sl_segscan_free(struct sl_segscan *s)
{
	sl_window_free(&s->win);
}

int
sl_segment_chain(int dirfd, uint64_t end, uint64_t base, const char *prev,
    const char *name)
{
	struct stat st;
	char there[64];

	if (end == base)
		return 0;
	sl_segment_name(there, sizeof there, end, ".log");
	/* (Not PREV itself: one cut short to nothing ends where it began.) */
	if (dirfd >= 0 && end < base && strcmp(there, prev) != 0 &&
	    fstatat(dirfd, there, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode))
		return 1;
	if (end + 1 == base)
		return sl_fail(EBADMSG, "%s: offset %" PRIu64 " lost: no "
		    "segment holds it (a segment deleted, renamed or cut "
		    "short)", name, end);
	if (end < base)
		return sl_fail(EBADMSG, "%s: offsets %" PRIu64 "-%" PRIu64
		    " lost: no segment holds them (a segment deleted, "
		    "renamed or cut short)", name, end, base - 1);
	return sl_fail(EBADMSG, "%s: offset %" PRIu64 ": out of sequence: "
	    "%s ends at offset %" PRIu64, name, base, prev, end - 1);
}

/*
 * Whether the lone file FD, named NAME, is a segment: named like one (its
 * damage, even at byte 0, is then for the reader to report), or starting
 * with a batch header (a segment copied under another name).
 */
static int
is_segment(int fd, const char *name)
{
	unsigned char h[SL_BATCH_HDR];
	struct sl_batch b;
	uint64_t base;
	ssize_t n;

	if (sl_segment_parse(name, &base) == 0)
		return 1;
	if ((n = sl_pread_full(fd, h, sizeof h, 0)) < 0)
		return -1;
	/* The header alone, with no limit on its sizes. */
	return n == (ssize_t)sizeof h &&
	    sl_batch_header(h, SIZE_MAX, &b) == 0;
}

int
sl_logpath_open(const char *path, struct sl_logpath *lp)
{
	const char *slash;
	struct stat st;
	char *dir;
	int f;

	memset(lp, 0, sizeof *lp);
	lp->dirfd = lp->fd = -1;
	if (stat(path, &st) < 0)
		return sl_fail(errno, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if ((lp->dirfd = sl_dir_open(path)) < 0)
			return sl_fail(errno, "%s", strerror(errno));
		if (sl_settings_readat(lp->dirfd, &lp->set) == 0)
			return 0;
		f = errno;
		sl_logpath_close(lp);
		return sl_fail(f, "%s", f == ENOENT ?
		    "not a synclog log (no settings file)" : f == EBADMSG ?
		    "damaged settings file" : sl_open_strerror(f));
	}
	slash = strrchr(path, '/');
	dir = slash == NULL ? strdup(".") :
	    strndup(path, slash - path + (slash == path));
	if (dir == NULL)
		return sl_fail(errno, "%s", strerror(errno));
	snprintf(lp->name, sizeof lp->name, "%s", slash ? slash + 1 : path);
	lp->dirfd = sl_dir_open(dir);
	free(dir);
	if (lp->dirfd < 0)
		return sl_fail(errno, "%s", strerror(errno));
	/* The file itself as the user named it: a symbolic link they give
	 * is theirs to give. */
	if ((lp->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		f = errno;
		sl_logpath_close(lp);
		return sl_fail(f, "%s", strerror(f));
	}
	if ((f = is_segment(lp->fd, lp->name)) <= 0) {
		f = f < 0 ? errno : EINVAL;
		sl_logpath_close(lp);
		return sl_fail(f, "%s", f == EINVAL ?
		    "not a synclog segment" : strerror(f));
	}
	if (sl_segment_parse(lp->name, &lp->base) < 0)
		lp->base = 0;
	if (sl_settings_readat(lp->dirfd, &lp->set) < 0)
		memset(&lp->set, 0, sizeof lp->set);
	return 0;
}

void
sl_logpath_close(struct sl_logpath *lp)
{
	if (lp->fd >= 0)
		close(lp->fd);
	if (lp->dirfd >= 0)
		close(lp->dirfd);
	lp->fd = lp->dirfd = -1;
}
