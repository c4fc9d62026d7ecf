/*
 * io.h - io.c: the one place system I/O goes through, so that short writes
 * and EINTR are handled once and tests can inject faults at these calls.
 */
#ifndef SL_IO_H
#define SL_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <dirent.h>

/* Write all of BUF, retrying short writes and EINTR.  0 or -1/errno. */
int	sl_write_full(int fd, const void *buf, size_t len);
int	sl_pwrite_full(int fd, const void *buf, size_t len, off_t pos);
/* Read up to LEN bytes at POS, retrying EINTR and short reads; bytes read. */
ssize_t	sl_pread_full(int fd, void *buf, size_t len, off_t pos);
/* fdatasync / fsync, retrying EINTR only (a real failure is final). */
int	sl_datasync(int fd);
/* Start writing LEN bytes at POS of FD back to disk, without waiting
 * (sync_file_range WRITE), retrying EINTR.  0, 1 when the file system
 * cannot, or -1/errno. */
int	sl_writeback(int fd, off_t pos, off_t len);
/* How many bytes of FD's file are not yet on disk: dirty, or being
 * written back (cachestat, Linux 6.5); -1/errno if it cannot tell. */
int64_t	sl_unsynced(int fd);
/* fsync the directory DIR so that entries created in it are durable. */
int	sl_sync_dir(const char *dir);
int	sl_sync_dirfd(int dirfd);

/*
 * Files inside a log are opened relative to its directory's descriptor,
 * never through a symbolic link, and only when they are regular files, so
 * that a log directory is never a door to another file (synclog(7),
 * promise 9).  NAME is one path component.
 *
 * sl_dir_open: the directory PATH itself (a symbolic link naming it is
 * followed: the user named it).  sl_openat: an existing file; -1 with
 * ELOOP for a symbolic link, EINVAL for what is not a regular file.
 * sl_createat: a new file, exclusively (EEXIST if the name is taken, by
 * anything).  sl_open_or_create: the one or the other.
 */
int	sl_dir_open(const char *path);
/* The entries of directory DIRFD, from its beginning, through a
 * descriptor of its own (closedir closes it; DIRFD stays open). */
DIR	*sl_dir_list(int dirfd);
int	sl_openat(int dirfd, const char *name, int flags);
int	sl_createat(int dirfd, const char *name, int flags, mode_t mode);
int	sl_open_or_create(int dirfd, const char *name, int flags, mode_t mode);
/* The reason for a failed sl_openat and the like: strerror(3), but for
 * what only they report (a symbolic link, not a regular file). */
const char *sl_open_strerror(int errnum);

/* Replace NAME in DIRFD atomically with LEN bytes of BUF (a temporary file
 * made exclusively, fsync, rename, directory fsync). */
int	sl_replace_at(int dirfd, const char *name, const void *buf, size_t len);
/* flock with EINTR retry. */
int	sl_lock(int fd, int op);

#endif /* SL_IO_H */
