/*
 * faultprobe - a tiny program for testing the fault shim (t/shim/fault.c):
 * it performs the operations named by its arguments, in order, with the
 * plain libc calls the synclog programs use, and reports each result on
 * stdout as "OP RESULT" or "OP -1 ERRNAME".  A failed operation does not
 * stop it: the test reads which call failed from the report.
 *
 *	mkdir:PATH	open:PATH (O_RDWR|O_CREAT|O_TRUNC)	reopen:PATH (O_RDWR)
 *	opendir:PATH	write:N		pwrite:N (at 0)		writev:N
 *	read:N		pread:N (at 0)	fsync	fdatasync	ftruncate:N
 *	syncrange (sync_file_range WRITE of the whole file)
 *	unsynced (the library's cachestat of the whole file: its dirty bytes)
 *	mmap (a page of the file, shared, then unmapped: 0)
 *	anonmap (an anonymous page, then unmapped: 0)	lseek:N (SEEK_SET)
 *	fallocate:N (N bytes at 0, the file's size kept)
 *	fstatvfs
 *	rename:FROM:TO	close		stdout:TEXT (write(2) to descriptor 1)
 *
 * The open, reopen and opendir operations make their descriptor the
 * current one, which the descriptor operations use.
 * Exit 0 when every operation ran, 2 on a usage error.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"

static char	buf[1 << 16];
static int	cur = -1;

static void
report(const char *op, long rv)
{
	const char *name;

	if (rv >= 0)
		printf("%s %ld\n", op, rv);
	else {
		name = strerrorname_np(errno);
		printf("%s -1 %s\n", op, name ? name : "?");
	}
	/* Flush now: a kill must not lose the lines before it. */
	if (fflush(stdout) == EOF)
		err(2, "stdout");
}

static size_t
size(const char *op, const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = arg ? strtoul(arg, &end, 10) : 0;
	if (arg == NULL || *arg == '\0' || *end || errno || n > sizeof(buf))
		errx(2, "%s: want a size up to %zu", op, sizeof(buf));
	return n;
}

static long
setcur(long fd)
{
	if (fd >= 0) {
		if (cur >= 0)
			close(cur);
		cur = (int)fd;
		return 0;
	}
	return fd;
}

static void
run(char *op)
{
	char *arg, *arg2;
	struct iovec iov[2];
	size_t n;
	long rv;

	if ((arg = strchr(op, ':')) != NULL)
		*arg++ = '\0';
	if (strcmp(op, "mkdir") == 0 && arg)
		rv = mkdir(arg, 0777);
	else if (strcmp(op, "open") == 0 && arg)
		rv = setcur(open(arg, O_RDWR | O_CREAT | O_TRUNC, 0666));
	else if (strcmp(op, "reopen") == 0 && arg)
		rv = setcur(open(arg, O_RDWR));
	else if (strcmp(op, "opendir") == 0 && arg)
		rv = setcur(open(arg, O_RDONLY | O_DIRECTORY));
	else if (strcmp(op, "write") == 0)
		rv = write(cur, buf, size(op, arg));
	else if (strcmp(op, "pwrite") == 0)
		rv = pwrite(cur, buf, size(op, arg), 0);
	else if (strcmp(op, "writev") == 0) {
		n = size(op, arg);
		iov[0].iov_base = buf;
		iov[0].iov_len = n / 2;
		iov[1].iov_base = buf + n / 2;
		iov[1].iov_len = n - n / 2;
		rv = writev(cur, iov, 2);
	} else if (strcmp(op, "read") == 0)
		rv = read(cur, buf, size(op, arg));
	else if (strcmp(op, "pread") == 0)
		rv = pread(cur, buf, size(op, arg), 0);
	else if (strcmp(op, "fsync") == 0 && !arg)
		rv = fsync(cur);
	else if (strcmp(op, "fdatasync") == 0 && !arg)
		rv = fdatasync(cur);
	else if (strcmp(op, "syncrange") == 0 && !arg)
		rv = sync_file_range(cur, 0, 0, SYNC_FILE_RANGE_WRITE);
	else if (strcmp(op, "unsynced") == 0 && !arg)
		rv = (long)sl_unsynced(cur);
	else if ((strcmp(op, "mmap") == 0 || strcmp(op, "anonmap") == 0) &&
	    !arg) {
		int anon = op[0] == 'a';
		void *m = mmap(NULL, 4096, PROT_READ, anon ?
		    MAP_PRIVATE | MAP_ANONYMOUS : MAP_SHARED, anon ? -1 : cur,
		    0);

		rv = m == MAP_FAILED ? -1 : munmap(m, 4096);
	} else if (strcmp(op, "lseek") == 0)
		rv = (long)lseek(cur, (off_t)size(op, arg), SEEK_SET);
	else if (strcmp(op, "ftruncate") == 0)
		rv = ftruncate(cur, (off_t)size(op, arg));
	else if (strcmp(op, "fallocate") == 0)
		rv = fallocate(cur, FALLOC_FL_KEEP_SIZE, 0,
		    (off_t)size(op, arg));
	else if (strcmp(op, "fstatvfs") == 0 && !arg) {
		struct statvfs fs;

		rv = fstatvfs(cur, &fs);
	} else if (strcmp(op, "rename") == 0 && arg &&
	    (arg2 = strchr(arg, ':')) != NULL) {
		*arg2++ = '\0';
		rv = rename(arg, arg2);
	} else if (strcmp(op, "close") == 0 && !arg) {
		rv = close(cur);
		cur = -1;
	} else if (strcmp(op, "stdout") == 0 && arg) {
		/* Ours goes first: the line must not split the report's. */
		n = strlen(arg);
		arg[n] = '\n';
		rv = write(STDOUT_FILENO, arg, n + 1);
		arg[n] = '\0';
	} else
		errx(2, "%s: unknown operation", op);
	report(op, rv);
}

int
main(int argc, char *argv[])
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: faultprobe OP...\n");
		return 2;
	}
	memset(buf, 'x', sizeof(buf));
	for (i = 1; i < argc; i++)
		run(argv[i]);
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
}
