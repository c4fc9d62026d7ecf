/*
 * stat.c - the figures logstat shows: bounds, record count, sizes, time
 * range.
 *
 * Counting records must not cost a read of every payload, so sealed
 * segments are walked by their batch headers alone (64 KiB reads, one per
 * batch when batches are large); the CRCs are logfsck's business.  The tail
 * of the last segment, from its last good index entry on, is scanned and
 * verified as a reader does, so that the end offset is the one logcat and
 * logseek see, and a torn tail under a writer is the end, not damage.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"

#define HOP_BUF		(64u << 10)

struct walk {
	struct sl_stat	*s;
	const char	*dir;
	const char	*file;		/* lone segment, or NULL */
	size_t		 limit;
	uint64_t	 next;		/* least offset of the next batch */
	int		 any;		/* a batch seen */
	uint64_t	 lastseg, lastpos;	/* the last batch seen */
	unsigned char	*buf;
};

static int
fail(struct sl_stat *s, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof s->err, fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static void
seg_path(const struct walk *w, uint64_t base, const char *suffix, char *buf,
    size_t len)
{
	char name[64];

	if (w->file != NULL && strcmp(suffix, ".log") == 0) {
		snprintf(buf, len, "%s", w->file);
		return;
	}
	sl_segment_name(name, sizeof name, base, suffix);
	snprintf(buf, len, "%s/%s", w->dir, name);
}

static void
seg_name(const struct walk *w, uint64_t base, char *buf, size_t len)
{
	const char *slash;

	if (w->file != NULL) {
		slash = strrchr(w->file, '/');
		snprintf(buf, len, "%s", slash ? slash + 1 : w->file);
	} else
		sl_segment_name(buf, len, base, ".log");
}

static void
count(struct walk *w, uint64_t base, uint64_t pos, const struct sl_batch *b)
{
	struct sl_stat *s = w->s;

	if (!w->any) {
		s->begin = b->base;
		s->first_ts = b->first_ts;
	}
	w->any = 1;
	s->records += b->count;
	if (b->max_ts > s->max_ts || s->max_ts == SL_NO_TIMESTAMP)
		s->max_ts = b->max_ts;
	w->next = b->base + b->last_delta + 1;
	w->lastseg = base;
	w->lastpos = pos;
}

/* Walk the headers of segment FD from byte 0 to STOP, a batch boundary. */
static int
hop(struct walk *w, int fd, uint64_t base, uint64_t stop)
{
	struct sl_batch b;
	uint64_t pos = 0, bpos = 0;
	size_t blen = 0;
	ssize_t n;
	char name[256];

	while (pos < stop) {
		if (blen == 0 || pos + SL_BATCH_HDR > bpos + blen) {
			if ((n = sl_pread_full(fd, w->buf, HOP_BUF, pos)) < 0)
				return fail(w->s, errno, "%s", strerror(errno));
			bpos = pos;
			blen = n;
		}
		if (pos + SL_BATCH_HDR > bpos + blen ||
		    sl_batch_header(w->buf + (pos - bpos), w->limit, &b) < 0 ||
		    b.base < w->next || pos + b.length > stop) {
			seg_name(w, base, name, sizeof name);
			return fail(w->s, EBADMSG, "%s: byte %" PRIu64
			    ": offset %" PRIu64 ": damaged batch; run logfsck",
			    name, pos, w->next);
		}
		count(w, base, pos, &b);
		pos += b.length;
	}
	return 0;
}

/* The last segment: headers up to its last good index entry, then a
 * verified scan to the end of the valid batches. */
static int
tail(struct walk *w, int fd, uint64_t base)
{
	struct sl_window win = { 0 };
	struct sl_ientry e;
	struct sl_ikey k;
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	char path[PATH_MAX];
	uint64_t pos = 0;
	enum sl_scan r;
	int ifd;

	seg_path(w, base, ".index", path, sizeof path);
	if (w->file == NULL && (ifd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		sl_ikey_init(&k, base, w->s->id);
		if (sl_index_find_offset(ifd, fd, &k, w->limit, UINT64_MAX,
		    &e) > 0 && e.offset >= w->next)
			pos = e.pos;
		close(ifd);
	}
	if (hop(w, fd, base, pos) < 0)
		return -1;
	while ((r = sl_scan_batch(&win, fd, pos, w->limit, w->next, &b, &p,
	    &why)) == SL_SCAN_OK) {
		count(w, base, pos, &b);
		pos += b.length;
	}
	sl_window_free(&win);
	if (r == SL_SCAN_ERROR)
		return fail(w->s, errno, "%s", strerror(errno));
	if (r != SL_SCAN_EOF) {
		/* An incomplete tail is the end; damage before data is not. */
		uint64_t found;
		char name[64];
		int f = sl_scan_later(fd, pos, w->limit, w->next, &found);

		if (f < 0)
			return fail(w->s, errno, "%s", strerror(errno));
		if (f > 0) {
			seg_name(w, base, name, sizeof name);
			return fail(w->s, EBADMSG, "%s: byte %" PRIu64
			    ": offset %" PRIu64 ": %s, followed by valid data "
			    "at byte %" PRIu64, name, pos, w->next, why, found);
		}
	}
	return 0;
}

/* The timestamp of the last record of the last batch. */
static int
last_ts(struct walk *w)
{
	struct sl_window win = { 0 };
	struct sl_cursor c = { 0 };
	struct sl_record rec;
	struct sl_batch b;
	const unsigned char *p;
	const char *why;
	unsigned char *scratch = NULL;
	size_t scap = 0;
	char path[PATH_MAX];
	int fd, f, r = -1;

	seg_path(w, w->lastseg, ".log", path, sizeof path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return fail(w->s, errno, "%s: %s", path, strerror(errno));
	if (sl_scan_batch(&win, fd, w->lastpos, w->limit, 0, &b, &p, &why) !=
	    SL_SCAN_OK || sl_cursor_start(&c, p, &b, &scratch, &scap) < 0) {
		seg_name(w, w->lastseg, path, sizeof path);
		fail(w->s, EBADMSG, "%s: byte %" PRIu64 ": %s; run logfsck",
		    path, w->lastpos, why ? why : "bad compressed payload");
		goto out;
	}
	while ((f = sl_cursor_next(&c, &rec)) > 0)
		w->s->last_ts = rec.timestamp;
	if (f < 0) {
		seg_name(w, w->lastseg, path, sizeof path);
		fail(w->s, EBADMSG, "%s: byte %" PRIu64 ": malformed record",
		    path, w->lastpos);
		goto out;
	}
	r = 0;
out:
	sl_cursor_free(&c);
	sl_window_free(&win);
	free(scratch);
	close(fd);
	return r;
}

static int
walk_segments(struct walk *w, const uint64_t *bases, size_t n)
{
	struct sl_stat *s = w->s;
	struct stat st;
	char path[PATH_MAX];
	int fd, r;

	for (size_t i = 0; i < n; i++) {
		seg_path(w, bases[i], ".log", path, sizeof path);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT && w->file == NULL)
				continue;	/* removed by retention */
			return fail(s, errno, "%s: %s", path, strerror(errno));
		}
		if (fstat(fd, &st) < 0) {
			close(fd);
			return fail(s, errno, "%s: %s", path, strerror(errno));
		}
		s->segments++;
		s->bytes += st.st_size;
		if (w->next < bases[i])
			w->next = bases[i];
		if (i + 1 < n)
			r = hop(w, fd, bases[i], st.st_size);
		else
			r = tail(w, fd, bases[i]);
		close(fd);
		if (r < 0)
			return -1;
		seg_path(w, bases[i], ".index", path, sizeof path);
		if (w->file == NULL && stat(path, &st) == 0)
			s->index_bytes += st.st_size;
	}
	return 0;
}

int
sl_stat(const char *path, struct sl_stat *s)
{
	struct sl_settings set;
	struct walk w = { 0 };
	struct stat st;
	uint64_t *bases = NULL, one;
	size_t n = 0;
	char *dir = NULL;
	int r = -1;

	memset(s, 0, sizeof *s);
	s->first_ts = s->last_ts = s->max_ts = SL_NO_TIMESTAMP;
	w.s = s;
	if (stat(path, &st) < 0)
		return fail(s, errno, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (sl_settings_read(path, &set) < 0)
			return fail(s, errno, "%s", errno == ENOENT ?
			    "not a synclog log (no settings file)" :
			    errno == EBADMSG ? "damaged settings file" :
			    strerror(errno));
		memcpy(s->id, set.id, sizeof s->id);
		w.dir = path;
		if (sl_segment_list(path, &bases, &n) < 0)
			return fail(s, errno, "%s", strerror(errno));
	} else {
		const char *slash = strrchr(path, '/');

		w.file = path;
		dir = slash ? strndup(path, slash - path + (slash == path)) :
		    strdup(".");
		if (dir == NULL)
			return fail(s, errno, "%s", strerror(errno));
		w.dir = dir;
		memset(&set, 0, sizeof set);
		if (sl_settings_read(dir, &set) < 0)
			memset(&set, 0, sizeof set);
		if (sl_segment_parse(slash ? slash + 1 : path, &one) < 0)
			one = 0;
		bases = &one;
		n = 1;
	}
	w.limit = sl_batch_limit(set.max_record_bytes);
	if ((w.buf = malloc(HOP_BUF)) == NULL) {
		fail(s, errno, "%s", strerror(errno));
		goto out;
	}
	if (walk_segments(&w, bases, n) < 0)
		goto out;
	s->end = w.next;
	if (n > 0 && s->end < bases[n - 1])
		s->end = bases[n - 1];
	if (!w.any)
		s->begin = s->end;
	else if (last_ts(&w) < 0)
		goto out;
	r = 0;
out:
	free(w.buf);
	if (bases != &one)
		free(bases);
	free(dir);
	return r;
}
