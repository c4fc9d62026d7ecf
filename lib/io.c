/*
 * io.c - every write, sync and lock of the library goes through here, so
 * that short writes and EINTR are handled once and tests can inject faults
 * at these calls (see t/shim/fault.c).  A failed fsync is never retried:
 * after one the kernel may have dropped the dirty pages, and a retry that
 * "succeeds" would lie about durability.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"

int
sl_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int
sl_pwrite_full(int fd, const void *buf, size_t len, off_t pos)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = pwrite(fd, p, len, pos);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		p += n;
		pos += n;
		len -= n;
	}
	return 0;
}

ssize_t
sl_pread_full(int fd, void *buf, size_t len, off_t pos)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, p + got, len - got, pos + got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

/* SYNC (fdatasync, fsync) of FD, retried on EINTR only. */
static int
sync_fd(int (*sync)(int), int fd)
{
	int r;

	do
		r = sync(fd);
	while (r < 0 && errno == EINTR);
	return r;
}

int
sl_datasync(int fd)
{
	return sync_fd(fdatasync, fd);
}

int
sl_writeback(int fd, off_t pos, off_t len)
{
	int r;

	do
		r = sync_file_range(fd, pos, len, SYNC_FILE_RANGE_WRITE);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == ENOSYS || errno == EINVAL || errno == ESPIPE ||
	    errno == EOPNOTSUPP))
		return 1;
	return r;
}

/*
 * cachestat(2) came with Linux 6.5; Debian 12's headers predate it.  Its
 * number is the one of the common system call table, which the
 * architectures named here use.
 */
#if !defined(SYS_cachestat) && (defined(__x86_64__) || \
    defined(__aarch64__) || defined(__riscv))
#define SYS_cachestat	451
#endif

int64_t
sl_unsynced(int fd)
{
#ifdef SYS_cachestat
	struct { uint64_t off, len; } range = { 0, 0 };	/* all of it */
	struct {
		uint64_t cache, dirty, writeback, evicted, recently_evicted;
	} cs;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || syscall(SYS_cachestat, fd, &range, &cs, 0) < 0)
		return -1;
	return (int64_t)((cs.dirty + cs.writeback) * (uint64_t)page);
#else
	(void)fd;
	errno = ENOSYS;
	return -1;
#endif
}

int
sl_sync_dir(const char *dir)
{
	int fd, r, e;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	do
		r = fsync(fd);
	while (r < 0 && errno == EINTR);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
sl_sync_dirfd(int dirfd)
{
	return sync_fd(fsync, dirfd);
}

int
sl_dir_open(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

DIR *
sl_dir_list(int dirfd)
{
	DIR *d;
	int fd, e;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
	}
	return d;
}

/* FD, when it is a regular file; else closed, and -1 with EINVAL. */
static int
regular(int fd)
{
	struct stat st;
	int e;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		return fd;
	e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	close(fd);
	errno = e;
	return -1;
}

int
sl_openat(int dirfd, const char *name, int flags)
{
	int fd;

	/* O_NONBLOCK: a FIFO put in a log file's place must not hang the
	 * open; on a regular file the flag changes nothing. */
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if ((fd = regular(fd)) < 0)
		return -1;
	if (fcntl(fd, F_SETFL, flags & (O_APPEND)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
sl_createat(int dirfd, const char *name, int flags, mode_t mode)
{
	return openat(dirfd, name, flags | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode);
}

int
sl_open_or_create(int dirfd, const char *name, int flags, mode_t mode)
{
	int fd;

	for (;;) {
		if ((fd = sl_createat(dirfd, name, flags, mode)) >= 0 ||
		    errno != EEXIST)
			return fd;
		if ((fd = sl_openat(dirfd, name, flags)) >= 0 ||
		    errno != ENOENT)
			return fd;
		/* Removed between the two: try again. */
	}
}

const char *
sl_open_strerror(int errnum)
{
	switch (errnum) {
	case ELOOP:
		return "a symbolic link, not followed";
	case EINVAL:
		return "not a regular file";
	default:
		return strerror(errnum);
	}
}

int
sl_replace_at(int dirfd, const char *name, const void *buf, size_t len)
{
	char tmp[NAME_MAX + 1];
	int fd, e;

	if ((size_t)snprintf(tmp, sizeof tmp, ".%s.tmp.%ld", name,
	    (long)getpid()) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* One left by a process that had this pid and died is garbage. */
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -1;
	if ((fd = sl_createat(dirfd, tmp, O_WRONLY, 0644)) < 0)
		return -1;
	if (sl_write_full(fd, buf, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	return sl_sync_dirfd(dirfd);
}

int
sl_lock(int fd, int op)
{
	int r;

	do
		r = flock(fd, op);
	while (r < 0 && errno == EINTR);
	return r;
}

int
sl_guard_stdio(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd <= 2)
		;
	if (fd < 0)
		return -1;
	return close(fd);
}
