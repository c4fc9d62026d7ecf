/*
 * checkpoint.c - consumer checkpoints: how far each consumer has applied
 * a log, and the lock that makes one process at a time move it.
 *
 * Consumer NAME of log DIR owns two files in DIR/consumers/:
 *
 *	NAME.ckpt	the checkpoint, 64 bytes, little-endian:
 *			  0  magic     4  "SLCK"
 *			  4  version   2  1
 *			  6  flags     2  0
 *			  8  offset    8  next offset not yet applied
 *			 16  updated   8  ms since the epoch of this write
 *			 24  log id   32  the log's id, lowercase hex
 *			 56  reserved  4  0
 *			 60  crc       4  CRC-32 (zlib) of bytes 0..59
 *	NAME.lock	empty; flocked by whoever may move the checkpoint
 *
 * Invariants: a checkpoint is never rewritten in place: the new one is
 * written to .NAME.tmp, fsynced, renamed over the old one and the
 * directory fsynced, so a crash leaves the old or the new file, whole.
 * Any other size, magic, version or checksum is damage (EBADMSG), never
 * read as some offset.  Names are [A-Za-z0-9._-] and never start with a
 * dot, so temporary files cannot collide with a consumer, and NAME.ckpt
 * and NAME.lock of different names never coincide.  The lock is an flock,
 * so a killed holder releases it; its file is checked after locking to be
 * the one in the directory, so removing it under the lock is safe.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "synclog.h"
#include "bytes.h"
#include "io.h"
#include "log.h"

#define CK_SIZE		64
#define CK_MAGIC	"SLCK"
#define CK_VERSION	1
#define CK_CRC_AT	60
#define CK_SUFFIX	".ckpt"
#define LOCK_SUFFIX	".lock"

static void
put16(unsigned char *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static uint16_t
get16(const unsigned char *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

int
sl_consumer_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' || name[0] == '.' || name[0] == '-')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= SL_CONSUMER_NAME_MAX)
			return 0;
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') ||
		    name[i] == '.' || name[i] == '_' || name[i] == '-'))
			return 0;
	}
	return 1;
}

/* DIR/consumers[/PREFIX NAME SUFFIX] into BUF; -1/ENAMETOOLONG. */
static int
ckpath(char *buf, size_t len, const char *dir, const char *prefix,
    const char *name, const char *suffix)
{
	int n;

	if (name == NULL)
		n = snprintf(buf, len, "%s/consumers", dir);
	else
		n = snprintf(buf, len, "%s/consumers/%s%s%s", dir, prefix,
		    name, suffix);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

char *
sl_checkpoint_path(const char *dir, const char *name, char *buf, size_t len)
{
	if (name != NULL && !sl_consumer_name_ok(name)) {
		errno = EINVAL;
		return NULL;
	}
	if (ckpath(buf, len, dir, "", name, name ? CK_SUFFIX : "") == -1)
		return NULL;
	return buf;
}

/* NAME SUFFIX (or PREFIX NAME SUFFIX) into BUF; -1/ENAMETOOLONG. */
static int
ckname(char *buf, size_t len, const char *prefix, const char *name,
    const char *suffix)
{
	int n = snprintf(buf, len, "%s%s%s", prefix, name, suffix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/*
 * The consumers directory of log DIR, opened as a descriptor and never
 * through a symbolic link: every checkpoint and lock file is opened
 * relative to it.  With CREATE it is made when missing, durably.  -1
 * with errno ENOENT when it is missing (and not made).
 */
static int
cons_open(const char *dir, int create)
{
	int dfd, cfd, e;

	if ((dfd = sl_dir_open(dir)) < 0)
		return -1;
	for (;;) {
		cfd = openat(dfd, "consumers", O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC);
		if (cfd >= 0 || errno != ENOENT || !create)
			break;
		if ((mkdirat(dfd, "consumers", 0777) < 0 && errno != EEXIST) ||
		    sl_sync_dirfd(dfd) < 0) {
			cfd = -1;
			break;
		}
	}
	e = errno;
	close(dfd);
	if (cfd < 0 && e == ENOTDIR)
		e = ELOOP;	/* a symbolic link, or a file, in its place */
	errno = e;
	return cfd;
}

/* The message of a checkpoint failure with errno, for sl_error(). */
static int
ckfail(void)
{
	sl_seterr("%s", sl_checkpoint_strerror(errno));
	return -1;
}

/* Close FD, keeping errno, and return R. */
static int
close_keep(int fd, int r)
{
	int e = errno;

	close(fd);
	errno = e;
	return r;
}

static int
ck_read(const char *dir, const char *name, const char *id,
    struct sl_checkpoint *ck)
{
	unsigned char buf[CK_SIZE + 1];
	char file[SL_CONSUMER_NAME_MAX + 16];
	ssize_t got;
	int fd, cfd;

	memset(ck, 0, sizeof *ck);
	if (!sl_consumer_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (ckname(file, sizeof file, "", name, CK_SUFFIX) < 0 ||
	    (cfd = cons_open(dir, 0)) < 0)
		return -1;
	fd = sl_openat(cfd, file, O_RDONLY);
	close_keep(cfd, 0);
	if (fd < 0)
		return -1;
	got = sl_pread_full(fd, buf, sizeof buf, 0);
	close_keep(fd, 0);
	if (got < 0)
		return -1;
	if (got != CK_SIZE)
		ck->damage = got < CK_SIZE ? "file too short" : "file too long";
	else if (memcmp(buf, CK_MAGIC, 4) != 0)
		ck->damage = "bad magic";
	else if (sl_get32(buf + CK_CRC_AT) !=
	    (uint32_t)crc32(0L, buf, CK_CRC_AT))
		ck->damage = "checksum mismatch";
	else if (get16(buf + 4) != CK_VERSION)
		ck->damage = "unsupported version";
	if (ck->damage != NULL) {
		errno = EBADMSG;
		return -1;
	}
	ck->offset = sl_get64(buf + 8);
	ck->updated = (int64_t)sl_get64(buf + 16);
	memcpy(ck->id, buf + 24, 32);
	ck->id[32] = '\0';
	if (id != NULL && id[0] != '\0' && strcmp(id, ck->id) != 0) {
		errno = ESTALE;
		return -1;
	}
	return 0;
}

static int
ck_write(const char *dir, const char *name, const char *id,
    uint64_t offset)
{
	unsigned char buf[CK_SIZE];
	char tmp[SL_CONSUMER_NAME_MAX + 16], file[SL_CONSUMER_NAME_MAX + 16];
	size_t idlen;
	int fd = -1, cfd, rc;

	if (!sl_consumer_name_ok(name) || id == NULL ||
	    (idlen = strlen(id)) > 32) {
		errno = EINVAL;
		return -1;
	}
	if (ckname(file, sizeof file, "", name, CK_SUFFIX) < 0 ||
	    ckname(tmp, sizeof tmp, ".", name, ".tmp") < 0)
		return -1;
	memset(buf, 0, sizeof buf);
	memcpy(buf, CK_MAGIC, 4);
	put16(buf + 4, CK_VERSION);
	sl_put64(buf + 8, offset);
	sl_put64(buf + 16, (uint64_t)sl_now_ms());
	memcpy(buf + 24, id, idlen);
	sl_put32(buf + CK_CRC_AT, (uint32_t)crc32(0L, buf, CK_CRC_AT));

	if ((cfd = cons_open(dir, 1)) < 0)
		return -1;
	/* The lock's holder is the only writer: a temporary file there is
	 * one a crash left.  A new one is made exclusively, so that nothing
	 * put in its place is written through. */
	if ((unlinkat(cfd, tmp, 0) < 0 && errno != ENOENT) ||
	    (fd = sl_createat(cfd, tmp, O_WRONLY, 0666)) < 0)
		goto fail;
	if (sl_write_full(fd, buf, sizeof buf) == -1)
		goto fail;
	while ((rc = fsync(fd)) == -1 && errno == EINTR)
		;
	if (rc == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(cfd, tmp, cfd, file) == -1)
		goto fail;
	return close_keep(cfd, sl_sync_dirfd(cfd));
fail:
	if (fd != -1)
		close_keep(fd, 0);
	if (fd != -1 || errno != EEXIST)
		unlinkat(cfd, tmp, 0);
	return close_keep(cfd, -1);
}

static int
ck_remove(const char *dir, const char *name)
{
	char file[SL_CONSUMER_NAME_MAX + 16], lock[SL_CONSUMER_NAME_MAX + 16];
	int cfd;

	if (!sl_consumer_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (ckname(file, sizeof file, "", name, CK_SUFFIX) < 0 ||
	    ckname(lock, sizeof lock, "", name, LOCK_SUFFIX) < 0 ||
	    (cfd = cons_open(dir, 0)) < 0)
		return -1;
	if (unlinkat(cfd, file, 0) == -1 ||
	    (unlinkat(cfd, lock, 0) == -1 && errno != ENOENT))
		return close_keep(cfd, -1);
	return close_keep(cfd, sl_sync_dirfd(cfd));
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
sl_checkpoint_list(const char *dir)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, len, sl = strlen(CK_SUFFIX);
	DIR *d;
	int e, cfd;

	if ((cfd = cons_open(dir, 0)) < 0) {
		struct stat st;

		/* A log nobody has consumed yet has no consumers/. */
		if (errno != ENOENT || stat(dir, &st) == -1)
			return NULL;
		return calloc(1, sizeof *v);
	}
	if ((d = fdopendir(cfd)) == NULL)
		return close_keep(cfd, 0), NULL;
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		len = strlen(de->d_name);
		if (len <= sl || strcmp(de->d_name + len - sl, CK_SUFFIX) != 0)
			continue;
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 16;
			if ((nv = realloc(v, cap * sizeof *v)) == NULL)
				goto fail;
			v = nv;
		}
		if ((v[n] = strndup(de->d_name, len - sl)) == NULL)
			goto fail;
		if (!sl_consumer_name_ok(v[n])) {
			free(v[n]);
			continue;
		}
		n++;
	}
	closedir(d);
	if (v == NULL && (v = malloc(sizeof *v)) == NULL)
		return NULL;
	v[n] = NULL;
	qsort(v, n, sizeof *v, namecmp);
	return v;
fail:
	e = errno;
	closedir(d);
	while (n > 0)
		free(v[--n]);
	free(v);
	errno = e;
	return NULL;
}

void
sl_checkpoint_list_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static int
ck_lock(const char *dir, const char *name, int wait)
{
	char lock[SL_CONSUMER_NAME_MAX + 16];
	struct stat a, b;
	int fd, cfd;

	if (!sl_consumer_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (ckname(lock, sizeof lock, "", name, LOCK_SUFFIX) < 0 ||
	    (cfd = cons_open(dir, 1)) < 0)
		return -1;
	for (;;) {
		if ((fd = sl_open_or_create(cfd, lock, O_RDWR, 0666)) == -1)
			return close_keep(cfd, -1);
		if (sl_lock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1 ||
		    fstat(fd, &a) == -1)
			break;
		/* The file we locked may have been removed meanwhile. */
		if (fstatat(cfd, lock, &b, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno != ENOENT)
				break;
		} else if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return close_keep(cfd, fd);
		close(fd);
	}
	close_keep(fd, 0);
	return close_keep(cfd, -1);
}

/* The public calls: each failure also leaves its message in sl_error(). */
int
sl_checkpoint_read(const char *dir, const char *name, const char *id,
    struct sl_checkpoint *ck)
{
	return ck_read(dir, name, id, ck) < 0 ? ckfail() : 0;
}

int
sl_checkpoint_write(const char *dir, const char *name, const char *id,
    uint64_t offset)
{
	return ck_write(dir, name, id, offset) < 0 ? ckfail() : 0;
}

int
sl_checkpoint_remove(const char *dir, const char *name)
{
	return ck_remove(dir, name) < 0 ? ckfail() : 0;
}

int
sl_consumer_lock(const char *dir, const char *name, int wait)
{
	int fd = ck_lock(dir, name, wait);

	return fd < 0 ? ckfail() : fd;
}

int
sl_consumer_unlock(int fd)
{
	return close(fd);
}

const char *
sl_checkpoint_strerror(int e)
{
	switch (e) {
	case ENOENT:
		return "no such consumer";
	case EBADMSG:
		return "damaged checkpoint";
	case ESTALE:
		return "checkpoint belongs to another log";
	case ERANGE:
		return "checkpoint is beyond the end of the log";
	case EINVAL:
		return "invalid consumer name";
	case EWOULDBLOCK:
		return "consumer is locked by a running logapply";
	default:
		return sl_open_strerror(e);
	}
}
