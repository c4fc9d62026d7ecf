/*
 * rewrite.c - replacing a sealed segment or an index by a new version
 * while readers and a writer keep working (logcompact, logfsck --repair
 * and --salvage).
 *
 * Invariants:
 * - A new file is written under a temporary name that no reader or writer
 *   takes for a segment (".NNN.log.new.PID"), fsynced, and only then
 *   renamed over the old name, and the directory fsynced: after a crash at
 *   any step the name holds either the old file or the new one, whole.
 * - A segment is renamed into place before its index, so that no one ever
 *   reads a new index with an old segment (an old index with a new segment
 *   only names batches that are no longer there, or timestamps that are
 *   too large; both are safe, see reader.c).
 * - A reader that has the old segment open keeps reading the old file,
 *   which stays whole until it is closed.
 * - Maintenance tools hold an flock on the log directory itself, so two of
 *   them never rewrite the same log at once; writers and readers ignore
 *   it.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "index.h"
#include "rewrite.h"

int
sl_maint_lock(const char *dir, int op)
{
	int fd, e;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (sl_lock(fd, op) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
sl_maint_tmpname(const char *name)
{
	uint64_t base;
	char seg[64];
	const char *p;

	if (name[0] != '.')
		return 0;
	if ((p = strstr(name, ".new.")) == NULL ||
	    (size_t)(p - name - 1) >= sizeof seg)
		return 0;
	memcpy(seg, name + 1, p - name - 1);
	seg[p - name - 1] = '\0';
	if (sl_segment_parse(seg, &base) == 0)
		return 1;
	/* NNN.index: check the digits with the .log parser. */
	if (strlen(seg) == SL_SEGMENT_DIGITS + 6 &&
	    strcmp(seg + SL_SEGMENT_DIGITS, ".index") == 0) {
		memcpy(seg + SL_SEGMENT_DIGITS, ".log", 5);
		return sl_segment_parse(seg, &base) == 0;
	}
	return 0;
}

static int
path_in(char *buf, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
tmp_path(char *buf, size_t len, const char *dir, uint64_t base,
    const char *suffix)
{
	char name[64], tmp[128];

	sl_segment_name(name, sizeof name, base, suffix);
	snprintf(tmp, sizeof tmp, ".%s.new.%ld", name, (long)getpid());
	return path_in(buf, len, dir, tmp);
}

int
sl_newseg_open(struct sl_newseg *ns, const char *dir, const char *id,
    uint64_t base, int index_only)
{
	struct sl_ikey k;

	memset(ns, 0, sizeof *ns);
	ns->dir = dir;
	ns->id = id;
	ns->base = base;
	ns->fd = ns->ifd = -1;
	if (!index_only) {
		if (tmp_path(ns->tmp, sizeof ns->tmp, dir, base, ".log") < 0)
			return -1;
		unlink(ns->tmp);
		ns->fd = open(ns->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0644);
		if (ns->fd < 0)
			return -1;
	}
	if (tmp_path(ns->itmp, sizeof ns->itmp, dir, base, ".index") < 0)
		goto fail;
	unlink(ns->itmp);
	ns->ifd = open(ns->itmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (ns->ifd < 0)
		goto fail;
	sl_ikey_init(&k, base, id);
	sl_ibuild_init(&ns->ib, ns->ifd, &k);
	return 0;
fail:
	sl_newseg_abort(ns);
	return -1;
}

void
sl_newseg_seed(struct sl_newseg *ns, int64_t seed)
{
	sl_ibuild_seed(&ns->ib, seed);
}

int
sl_newseg_batch(struct sl_newseg *ns, const unsigned char *p,
    const struct sl_batch *b)
{
	if (ns->fd >= 0 && sl_write_full(ns->fd, p, b->length) < 0)
		return -1;
	if (sl_ibuild_batch(&ns->ib, ns->pos, b) < 0)
		return -1;
	ns->pos += b->length;
	ns->records += b->count;
	return 0;
}

void
sl_newseg_abort(struct sl_newseg *ns)
{
	int e = errno;

	if (ns->fd >= 0) {
		close(ns->fd);
		unlink(ns->tmp);
	}
	if (ns->ifd >= 0) {
		close(ns->ifd);
		unlink(ns->itmp);
	}
	ns->fd = ns->ifd = -1;
	errno = e;
}

/* Whether the index at PATH holds exactly the LEN bytes of FD. */
static int
same_index(const char *path, int fd, size_t len)
{
	unsigned char a[8192], b[8192];
	struct stat st;
	ssize_t n, m;
	int ofd, same = 0;

	if ((ofd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (fstat(ofd, &st) < 0 || (uint64_t)st.st_size != len)
		goto out;
	for (off_t at = 0; (size_t)at < len; at += n) {
		n = sl_pread_full(fd, a, sizeof a, at);
		m = sl_pread_full(ofd, b, sizeof b, at);
		if (n <= 0 || n != m || memcmp(a, b, n) != 0)
			goto out;
	}
	same = 1;
out:
	close(ofd);
	return same;
}

int
sl_newseg_commit(struct sl_newseg *ns, int keep_same_index)
{
	char name[64], dst[PATH_MAX];
	int r = 1;

	if (sl_ibuild_finish(&ns->ib) < 0)
		goto fail;
	if (ns->fd >= 0) {
		if (fsync(ns->fd) < 0 || close(ns->fd) < 0) {
			ns->fd = -1;
			goto fail;
		}
		ns->fd = -1;
		sl_segment_name(name, sizeof name, ns->base, ".log");
		if (path_in(dst, sizeof dst, ns->dir, name) < 0 ||
		    rename(ns->tmp, dst) < 0)
			goto fail;
	}
	sl_segment_name(name, sizeof name, ns->base, ".index");
	if (path_in(dst, sizeof dst, ns->dir, name) < 0)
		goto fail;
	if (keep_same_index &&
	    same_index(dst, ns->ifd, ns->ib.n * SL_INDEX_ENTRY)) {
		r = 0;
		close(ns->ifd);
		ns->ifd = -1;
		unlink(ns->itmp);
	} else {
		if (fsync(ns->ifd) < 0 || close(ns->ifd) < 0) {
			ns->ifd = -1;
			goto fail;
		}
		ns->ifd = -1;
		if (rename(ns->itmp, dst) < 0)
			goto fail;
	}
	if (sl_sync_dir(ns->dir) < 0)
		goto fail;
	return r;
fail:
	sl_newseg_abort(ns);
	return -1;
}

int
sl_segment_remove(const char *dir, uint64_t base)
{
	char name[64], path[PATH_MAX];

	sl_segment_name(name, sizeof name, base, ".log");
	if (path_in(path, sizeof path, dir, name) < 0 ||
	    (unlink(path) < 0 && errno != ENOENT))
		return -1;
	sl_segment_name(name, sizeof name, base, ".index");
	if (path_in(path, sizeof path, dir, name) < 0 ||
	    (unlink(path) < 0 && errno != ENOENT))
		return -1;
	return 0;
}
