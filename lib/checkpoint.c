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

/* Create DIR/consumers when missing, durably. */
static int
ensure_dir(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	if (ckpath(path, sizeof path, dir, NULL, NULL, NULL) == -1)
		return -1;
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	if (stat(dir, &st) == -1)
		return -1;
	if (mkdir(path, 0777) == -1 && errno != EEXIST)
		return -1;
	return sl_sync_dir(dir);
}

int
sl_checkpoint_read(const char *dir, const char *name, const char *id,
    struct sl_checkpoint *ck)
{
	unsigned char buf[CK_SIZE + 1];
	char path[PATH_MAX];
	size_t got = 0;
	ssize_t n;
	int fd, e;

	memset(ck, 0, sizeof *ck);
	if (sl_checkpoint_path(dir, name, path, sizeof path) == NULL)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	while (got < sizeof buf) {
		if ((n = read(fd, buf + got, sizeof buf - got)) == -1) {
			if (errno == EINTR)
				continue;
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
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

int
sl_checkpoint_write(const char *dir, const char *name, const char *id,
    uint64_t offset)
{
	unsigned char buf[CK_SIZE];
	char tmp[PATH_MAX], path[PATH_MAX], cdir[PATH_MAX];
	size_t idlen;
	int fd, rc, e;

	if (!sl_consumer_name_ok(name) || id == NULL ||
	    (idlen = strlen(id)) > 32) {
		errno = EINVAL;
		return -1;
	}
	if (ckpath(path, sizeof path, dir, "", name, CK_SUFFIX) == -1 ||
	    ckpath(tmp, sizeof tmp, dir, ".", name, ".tmp") == -1 ||
	    ckpath(cdir, sizeof cdir, dir, NULL, NULL, NULL) == -1)
		return -1;
	if (ensure_dir(dir) == -1)
		return -1;
	memset(buf, 0, sizeof buf);
	memcpy(buf, CK_MAGIC, 4);
	put16(buf + 4, CK_VERSION);
	sl_put64(buf + 8, offset);
	sl_put64(buf + 16, (uint64_t)sl_now_ms());
	memcpy(buf + 24, id, idlen);
	sl_put32(buf + CK_CRC_AT, (uint32_t)crc32(0L, buf, CK_CRC_AT));

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd == -1)
		return -1;
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
	if (rename(tmp, path) == -1)
		goto fail;
	return sl_sync_dir(cdir);
fail:
	e = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}

int
sl_checkpoint_remove(const char *dir, const char *name)
{
	char path[PATH_MAX], lock[PATH_MAX], cdir[PATH_MAX];

	if (sl_checkpoint_path(dir, name, path, sizeof path) == NULL ||
	    ckpath(lock, sizeof lock, dir, "", name, LOCK_SUFFIX) == -1 ||
	    ckpath(cdir, sizeof cdir, dir, NULL, NULL, NULL) == -1)
		return -1;
	if (unlink(path) == -1)
		return -1;
	if (unlink(lock) == -1 && errno != ENOENT)
		return -1;
	return sl_sync_dir(cdir);
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
sl_checkpoint_list(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	char **v = NULL, **nv;
	size_t n = 0, cap = 0, len, sl = strlen(CK_SUFFIX);
	DIR *d;
	int e;

	if (ckpath(path, sizeof path, dir, NULL, NULL, NULL) == -1)
		return NULL;
	if ((d = opendir(path)) == NULL) {
		struct stat st;

		/* A log nobody has consumed yet has no consumers/. */
		if (errno != ENOENT || stat(dir, &st) == -1)
			return NULL;
		return calloc(1, sizeof *v);
	}
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

int
sl_consumer_lock(const char *dir, const char *name, int wait)
{
	char path[PATH_MAX];
	struct stat a, b;
	int fd, e;

	if (!sl_consumer_name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	if (ckpath(path, sizeof path, dir, "", name, LOCK_SUFFIX) == -1 ||
	    ensure_dir(dir) == -1)
		return -1;
	for (;;) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd == -1)
			return -1;
		if (sl_lock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) == -1)
			goto fail;
		if (fstat(fd, &a) == -1)
			goto fail;
		/* The file we locked may have been removed meanwhile. */
		if (stat(path, &b) == -1) {
			if (errno != ENOENT)
				goto fail;
		} else if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
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
		return strerror(e);
	}
}
