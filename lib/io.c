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

int
sl_datasync(int fd)
{
	int r;

	do
		r = fdatasync(fd);
	while (r < 0 && errno == EINTR);
	return r;
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
sl_replace_file(const char *dir, const char *name, const void *buf,
    size_t len)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, e;

	if ((size_t)snprintf(dst, sizeof dst, "%s/%s", dir, name) >= sizeof dst ||
	    (size_t)snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name,
	    (long)getpid()) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (sl_write_full(fd, buf, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, dst) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		return -1;
	}
	return sl_sync_dir(dir);
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
