/*
 * powercut.c - an LD_PRELOAD shim that journals every change a program
 * makes to the files under one directory, so that t/tools/powertool.c can
 * rebuild that directory as a power cut at any moment would have left it:
 * only what was fsynced survives for sure.
 *
 * SYNCLOG_POWERCUT_DIR=DIR	the directory watched (absolute path)
 * SYNCLOG_POWERCUT_JOURNAL=FILE	the journal the entries are appended to
 *
 * Journaled, once the call has succeeded, for regular files and
 * directories under DIR: opens that create, truncate or may write (with
 * whether they created the file), write, pwrite, writev, ftruncate,
 * fsync and fdatasync of a file (FSYNC) or a directory (DIRSYNC), rename,
 * unlink, mkdir.  A descriptor call names the file by inode number and by
 * its current path, so the tool can follow a file across renames.
 *
 * Entry: struct pc_entry (below), then PATH, PATH2 and DATA bytes; the
 * whole entry goes out in one writev to the journal, opened O_APPEND, so
 * that entries of processes working under one lock stay in call order.
 *
 * Invariants: the shim never changes what a call does or returns; its
 * own I/O uses raw system calls, so it never journals itself; without
 * the two variables it does nothing.  Calls libc makes internally
 * (stdio's buffer flushes, fopen) are not seen: synclog writes its files
 * with write(2) and pwrite(2).
 */
#undef _FORTIFY_SOURCE
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "powercut.h"

static char	 root[PATH_MAX];
static size_t	 rootlen;
static int	 jfd = -1;
static int	 inited;

static void
init(void)
{
	const char *d, *j;

	if (__atomic_exchange_n(&inited, 1, __ATOMIC_ACQ_REL))
		return;
	d = getenv("SYNCLOG_POWERCUT_DIR");
	j = getenv("SYNCLOG_POWERCUT_JOURNAL");
	if (d == NULL || j == NULL || *d != '/' || strlen(d) >= sizeof root)
		return;
	strcpy(root, d);
	rootlen = strlen(root);
	while (rootlen > 1 && root[rootlen - 1] == '/')
		root[--rootlen] = '\0';
	jfd = (int)syscall(SYS_openat, AT_FDCWD, j,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

__attribute__((constructor)) static void
powercut_init(void)
{
	init();
}

static void *
next(const char *name, void **slot)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p == NULL) {
		if ((p = dlsym(RTLD_NEXT, name)) == NULL) {
			static const char msg[] = "powercut.so: no next symbol\n";

			syscall(SYS_write, 2, msg, sizeof msg - 1);
			_exit(125);
		}
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}

#define NEXT(name) ({ \
	static void *slot_; \
	(__typeof__(&name))next(#name, &slot_); \
})

/*
 * Make PATH (relative to DIRFD or the working directory) absolute and
 * lexically clean into BUF; return the part after the root ("" for the
 * root itself), or NULL when it is not under the root.
 */
static const char *
under_root(int dirfd, const char *path, char *buf)
{
	char tmp[2 * PATH_MAX], proc[64];
	char *parts[PATH_MAX / 2], *s, *save;
	size_t n = 0, len = 0;
	long r;

	if (jfd < 0 || path == NULL)
		return NULL;
	if (path[0] == '/')
		snprintf(tmp, sizeof tmp, "%s", path);
	else {
		if (dirfd == AT_FDCWD) {
			if (syscall(SYS_getcwd, tmp, PATH_MAX) < 0)
				return NULL;
		} else {
			snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
			r = syscall(SYS_readlinkat, AT_FDCWD, proc, tmp,
			    PATH_MAX - 1);
			if (r < 0)
				return NULL;
			tmp[r] = '\0';
		}
		len = strlen(tmp);
		snprintf(tmp + len, sizeof tmp - len, "/%s", path);
	}
	for (s = strtok_r(tmp, "/", &save); s != NULL;
	    s = strtok_r(NULL, "/", &save)) {
		if (strcmp(s, ".") == 0)
			continue;
		if (strcmp(s, "..") == 0) {
			if (n > 0)
				n--;
			continue;
		}
		parts[n++] = s;
	}
	len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(parts[i]);

		if (len + l + 2 >= PATH_MAX)
			return NULL;
		buf[len++] = '/';
		memcpy(buf + len, parts[i], l);
		len += l;
		buf[len] = '\0';
	}
	if (len == 0)
		strcpy(buf, "/");
	if (strncmp(buf, root, rootlen) != 0)
		return NULL;
	if (buf[rootlen] == '\0')
		return buf + rootlen;
	if (buf[rootlen] != '/')
		return NULL;
	return buf + rootlen + 1;
}

/* The path of FD relative to the root, or NULL; *ST its stat. */
static const char *
fd_under_root(int fd, char *buf, struct stat *st)
{
	char proc[64], tmp[PATH_MAX];
	long r;

	if (jfd < 0 || fd < 0 || fd == jfd)
		return NULL;
	if (syscall(SYS_fstat, fd, st) < 0 ||
	    !(S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)))
		return NULL;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	if ((r = syscall(SYS_readlinkat, AT_FDCWD, proc, tmp,
	    sizeof tmp - 1)) < 0)
		return NULL;
	tmp[r] = '\0';
	return under_root(AT_FDCWD, tmp, buf);
}

static void
journal(uint32_t type, uint64_t ino, uint64_t a, uint64_t b,
    const char *path, const char *path2, const struct iovec *data,
    int ndata)
{
	struct pc_entry e;
	struct iovec iov[3 + 64];
	int n = 0, saved = errno;
	uint64_t dlen = 0;

	if (ndata > 64)
		ndata = 64;
	for (int i = 0; i < ndata; i++)
		dlen += data[i].iov_len;
	memset(&e, 0, sizeof e);
	e.magic = PC_MAGIC;
	e.type = type;
	e.pid = (uint32_t)getpid();
	e.ino = ino;
	e.a = a;
	e.b = b;
	e.pathlen = path ? (uint32_t)strlen(path) : 0;
	e.path2len = path2 ? (uint32_t)strlen(path2) : 0;
	e.datalen = dlen;
	iov[n].iov_base = &e;
	iov[n++].iov_len = sizeof e;
	if (e.pathlen) {
		iov[n].iov_base = (void *)path;
		iov[n++].iov_len = e.pathlen;
	}
	if (e.path2len) {
		iov[n].iov_base = (void *)path2;
		iov[n++].iov_len = e.path2len;
	}
	for (int i = 0; i < ndata; i++)
		if (data[i].iov_len > 0)
			iov[n++] = data[i];
	syscall(SYS_writev, jfd, iov, n);
	errno = saved;
}

/* After a successful write of N bytes of IOV to FD at POS (-1: current). */
static void
journal_write(int fd, const struct iovec *iov, int cnt, ssize_t n, off_t pos)
{
	char buf[PATH_MAX];
	struct iovec cut[64];
	struct stat st;
	const char *rel;
	size_t left = (size_t)n;
	int k = 0;

	if (n <= 0 || (rel = fd_under_root(fd, buf, &st)) == NULL ||
	    !S_ISREG(st.st_mode))
		return;
	if (pos < 0)
		pos = (off_t)syscall(SYS_lseek, fd, 0, SEEK_CUR) - n;
	for (int i = 0; i < cnt && left > 0 && k < 64; i++) {
		cut[k] = iov[i];
		if (cut[k].iov_len > left)
			cut[k].iov_len = left;
		left -= cut[k].iov_len;
		k++;
	}
	journal(PC_WRITE, st.st_ino, (uint64_t)pos, (uint64_t)n, rel, NULL,
	    cut, k);
}

ssize_t
write(int fd, const void *b, size_t len)
{
	ssize_t n = NEXT(write)(fd, b, len);
	struct iovec iov = { (void *)b, len };

	journal_write(fd, &iov, 1, n, -1);
	return n;
}

ssize_t
pwrite(int fd, const void *b, size_t len, off_t pos)
{
	ssize_t n = NEXT(pwrite)(fd, b, len, pos);
	struct iovec iov = { (void *)b, len };

	journal_write(fd, &iov, 1, n, pos);
	return n;
}

ssize_t
pwrite64(int fd, const void *b, size_t len, off64_t pos)
{
	ssize_t n = NEXT(pwrite64)(fd, b, len, pos);
	struct iovec iov = { (void *)b, len };

	journal_write(fd, &iov, 1, n, pos);
	return n;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t n = NEXT(writev)(fd, iov, cnt);

	journal_write(fd, iov, cnt, n, -1);
	return n;
}

static void
journal_fd(uint32_t type, int fd, uint64_t a, uint64_t b)
{
	char buf[PATH_MAX];
	struct stat st;
	const char *rel;

	if ((rel = fd_under_root(fd, buf, &st)) == NULL)
		return;
	if (S_ISDIR(st.st_mode)) {
		if (type == PC_FSYNC)
			journal(PC_DIRSYNC, st.st_ino, 0, 0, rel, NULL, NULL,
			    0);
		return;
	}
	journal(type, st.st_ino, a, b, rel, NULL, NULL, 0);
}

/*
 * Where the journal ends as a sync begins, plus 1 (0: unknown).  A sync
 * makes durable what was written before it began, not what another
 * thread writes while it runs: the tool counts only the writes journaled
 * before this point (a write is journaled after it completed, so those
 * completed before the sync began).
 */
static uint64_t
sync_begins(void)
{
	struct stat st;

	if (jfd < 0 || syscall(SYS_fstat, jfd, &st) < 0)
		return 0;
	return (uint64_t)st.st_size + 1;
}

int
fsync(int fd)
{
	uint64_t begin = sync_begins();
	int r = NEXT(fsync)(fd);

	if (r == 0)
		journal_fd(PC_FSYNC, fd, 0, begin);
	return r;
}

int
fdatasync(int fd)
{
	uint64_t begin = sync_begins();
	int r = NEXT(fdatasync)(fd);

	if (r == 0)
		journal_fd(PC_FSYNC, fd, 0, begin);
	return r;
}

int
ftruncate(int fd, off_t len)
{
	int r = NEXT(ftruncate)(fd, len);

	if (r == 0)
		journal_fd(PC_TRUNC, fd, (uint64_t)len, 0);
	return r;
}

int
ftruncate64(int fd, off64_t len)
{
	int r = NEXT(ftruncate64)(fd, len);

	if (r == 0)
		journal_fd(PC_TRUNC, fd, (uint64_t)len, 0);
	return r;
}

/* ---- path calls ---------------------------------------------------- */

static int
may_change(int flags)
{
	return (flags & (O_CREAT | O_TRUNC)) || (flags & O_ACCMODE) != O_RDONLY;
}

/* Before an open: whether PATH exists.  After: journal it. */
static int
exists(int dirfd, const char *path)
{
	struct stat st;

	return syscall(SYS_newfstatat, dirfd, path, &st, 0) == 0;
}

static void
journal_open(int dirfd, const char *path, int flags, int fd, int existed)
{
	char buf[PATH_MAX];
	struct stat st;
	const char *rel;

	if (fd < 0 || (rel = under_root(dirfd, path, buf)) == NULL ||
	    syscall(SYS_fstat, fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	journal(PC_OPEN, st.st_ino, !existed, (flags & O_TRUNC) != 0, rel,
	    NULL, NULL, 0);
}

#define GETMODE(flags, mode) do { \
	va_list ap_; \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_start(ap_, flags); \
		(mode) = va_arg(ap_, mode_t); \
		va_end(ap_); \
	} \
} while (0)

#define OPEN(dirfd, path, flags, call) do { \
	int watch_ = jfd >= 0 && may_change(flags); \
	int existed_ = watch_ ? exists(dirfd, path) : 1; \
	int fd_ = (call); \
	if (watch_) \
		journal_open(dirfd, path, flags, fd_, existed_); \
	return fd_; \
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	GETMODE(flags, mode);
	OPEN(AT_FDCWD, path, flags, NEXT(open)(path, flags, mode));
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	GETMODE(flags, mode);
	OPEN(AT_FDCWD, path, flags, NEXT(open64)(path, flags, mode));
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	GETMODE(flags, mode);
	OPEN(dirfd, path, flags, NEXT(openat)(dirfd, path, flags, mode));
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	GETMODE(flags, mode);
	OPEN(dirfd, path, flags, NEXT(openat64)(dirfd, path, flags, mode));
}

int
creat(const char *path, mode_t mode)
{
	OPEN(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC,
	    NEXT(creat)(path, mode));
}

int
creat64(const char *path, mode_t mode)
{
	OPEN(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC,
	    NEXT(creat64)(path, mode));
}

static void
journal_path(uint32_t type, int dirfd, const char *path, int dirfd2,
    const char *path2)
{
	char b1[PATH_MAX], b2[PATH_MAX];
	const char *r1, *r2 = NULL;

	if ((r1 = under_root(dirfd, path, b1)) == NULL)
		return;
	if (path2 != NULL && (r2 = under_root(dirfd2, path2, b2)) == NULL)
		return;
	journal(type, 0, 0, 0, r1, r2, NULL, 0);
}

int
rename(const char *from, const char *to)
{
	int r = NEXT(rename)(from, to);

	if (r == 0)
		journal_path(PC_RENAME, AT_FDCWD, from, AT_FDCWD, to);
	return r;
}

int
renameat(int fd1, const char *from, int fd2, const char *to)
{
	int r = NEXT(renameat)(fd1, from, fd2, to);

	if (r == 0)
		journal_path(PC_RENAME, fd1, from, fd2, to);
	return r;
}

int
renameat2(int fd1, const char *from, int fd2, const char *to, unsigned fl)
{
	int r = NEXT(renameat2)(fd1, from, fd2, to, fl);

	if (r == 0)
		journal_path(PC_RENAME, fd1, from, fd2, to);
	return r;
}

int
unlink(const char *path)
{
	int r = NEXT(unlink)(path);

	if (r == 0)
		journal_path(PC_UNLINK, AT_FDCWD, path, 0, NULL);
	return r;
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	int r = NEXT(unlinkat)(dirfd, path, flags);

	if (r == 0)
		journal_path(flags & AT_REMOVEDIR ? PC_RMDIR : PC_UNLINK,
		    dirfd, path, 0, NULL);
	return r;
}

int
rmdir(const char *path)
{
	int r = NEXT(rmdir)(path);

	if (r == 0)
		journal_path(PC_RMDIR, AT_FDCWD, path, 0, NULL);
	return r;
}

int
mkdir(const char *path, mode_t mode)
{
	int r = NEXT(mkdir)(path, mode);

	if (r == 0)
		journal_path(PC_MKDIR, AT_FDCWD, path, 0, NULL);
	return r;
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	int r = NEXT(mkdirat)(dirfd, path, mode);

	if (r == 0)
		journal_path(PC_MKDIR, dirfd, path, 0, NULL);
	return r;
}
