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

/* The temporary name of segment BASE's file SUFFIX (".NNN.log.new.PID"). */
static void
tmp_name(char *buf, size_t len, uint64_t base, const char *suffix)
{
	char name[64];

	sl_segment_name(name, sizeof name, base, suffix);
	snprintf(buf, len, ".%s.new.%ld", name, (long)getpid());
}

/* Make the temporary file NAME afresh: one a dead process with our pid
 * left is garbage. */
static int
make_tmp(int dirfd, const char *name, int flags)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return sl_createat(dirfd, name, flags, 0644);
}

int
sl_newseg_open(struct sl_newseg *ns, int dirfd, const char *id,
    uint64_t base, int index_only)
{
	struct sl_ikey k;

	memset(ns, 0, sizeof *ns);
	ns->dirfd = dirfd;
	ns->id = id;
	ns->base = base;
	ns->fd = ns->ifd = -1;
	ns->mtime.tv_nsec = UTIME_OMIT;
	tmp_name(ns->tmp, sizeof ns->tmp, base, ".log");
	tmp_name(ns->itmp, sizeof ns->itmp, base, ".index");
	if (!index_only && (ns->fd = make_tmp(dirfd, ns->tmp, O_WRONLY)) < 0)
		return -1;
	if ((ns->ifd = make_tmp(dirfd, ns->itmp, O_RDWR)) < 0)
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

void
sl_newseg_mtime(struct sl_newseg *ns, const struct timespec *t)
{
	ns->mtime = *t;
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

int
sl_newseg_hole(struct sl_newseg *ns, uint64_t from, uint64_t to)
{
	struct sl_bbuild bb = { 0 };
	const unsigned char *p;
	struct sl_batch b;
	uint64_t last;
	int r = 0;

	for (; r == 0 && from <= to; from = last + 1) {
		/* A batch covers at most 2^32 offsets (its last delta). */
		last = to - from < UINT32_MAX ? to : from + UINT32_MAX - 1;
		if ((p = sl_bb_seal(&bb, from, last, 0, &b)) == NULL ||
		    sl_newseg_batch(ns, p, &b) < 0)
			r = -1;
		if (last == UINT64_MAX)
			break;
	}
	sl_bb_free(&bb);
	return r;
}

void
sl_newseg_abort(struct sl_newseg *ns)
{
	int e = errno;

	if (ns->fd >= 0) {
		close(ns->fd);
		unlinkat(ns->dirfd, ns->tmp, 0);
	}
	if (ns->ifd >= 0) {
		close(ns->ifd);
		unlinkat(ns->dirfd, ns->itmp, 0);
	}
	ns->fd = ns->ifd = -1;
	errno = e;
}

/* Whether the index NAME in DIRFD holds exactly the LEN bytes of FD. */
static int
same_index(int dirfd, const char *name, int fd, size_t len)
{
	unsigned char a[8192], b[8192];
	struct stat st;
	ssize_t n, m;
	int ofd, same = 0;

	if ((ofd = sl_openat(dirfd, name, O_RDONLY)) < 0)
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
	char name[64];
	int r = 1;

	if (sl_ibuild_finish(&ns->ib) < 0)
		goto fail;
	if (ns->fd >= 0) {
		struct timespec t[2] = { { 0, UTIME_OMIT }, ns->mtime };

		if (futimens(ns->fd, t) < 0 || fsync(ns->fd) < 0 ||
		    close(ns->fd) < 0) {
			ns->fd = -1;
			goto fail;
		}
		ns->fd = -1;
		sl_segment_name(name, sizeof name, ns->base, ".log");
		if (renameat(ns->dirfd, ns->tmp, ns->dirfd, name) < 0)
			goto fail;
	}
	sl_segment_name(name, sizeof name, ns->base, ".index");
	if (keep_same_index && same_index(ns->dirfd, name, ns->ifd,
	    ns->ib.n * SL_INDEX_ENTRY)) {
		r = 0;
		close(ns->ifd);
		ns->ifd = -1;
		unlinkat(ns->dirfd, ns->itmp, 0);
	} else {
		if (fsync(ns->ifd) < 0 || close(ns->ifd) < 0) {
			ns->ifd = -1;
			goto fail;
		}
		ns->ifd = -1;
		if (renameat(ns->dirfd, ns->itmp, ns->dirfd, name) < 0)
			goto fail;
	}
	if (sl_sync_dirfd(ns->dirfd) < 0)
		goto fail;
	return r;
fail:
	sl_newseg_abort(ns);
	return -1;
}

int
sl_segment_remove(int dirfd, uint64_t base)
{
	char name[64];

	sl_segment_name(name, sizeof name, base, ".log");
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	sl_segment_name(name, sizeof name, base, ".index");
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return 0;
}
