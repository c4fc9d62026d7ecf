/*
 * slowdir.c - an LD_PRELOAD shim that holds directory listings in
 * progress, so that a test can change a directory while another process
 * is listing it (t/091: a reader's listing of the segments against
 * logcompact's renames).  libc fills its buffer with one getdents64 call
 * of about 32 KiB of entries; a listing of a larger directory is several
 * calls, and a pause between two of them is exactly where it is not a
 * snapshot.  Only timing changes: every entry is returned as libc
 * returns it.
 *
 * SLOWDIR_EVERY=N, SLOWDIR_USEC=U: after every N entries readdir returns,
 * sleep U microseconds (default 1000): slow listings, for stress runs.
 *
 * SLOWDIR_GATE=FILE, SLOWDIR_NTH=K (default 1): in the K-th listing of
 * the process (counted by opendir and fdopendir), after its first entry,
 * create FILE.held and wait until FILE exists (checked every 5 ms, for
 * 60 s at most), then go on: a test makes its change while the listing is held.
 * With SLOWDIR_ARM=ARMFILE instead of SLOWDIR_NTH, the listing held is the
 * first one that starts while ARMFILE exists (the shim removes it): a
 * test arms the shim at the moment it chooses.
 *
 * SLOWDIR_MATCH=SUBSTR: only directories whose path contains SUBSTR.
 * Without SLOWDIR_EVERY and SLOWDIR_GATE the shim does nothing.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long every, usec, nth = 1, listings;
static const char *match, *gate, *arm;
static unsigned long seen;
static DIR *held;		/* the listing to hold, until it is held */
static int inited;

static void
init(void)
{
	const char *s;

	inited = 1;
	every = (s = getenv("SLOWDIR_EVERY")) != NULL ? strtoul(s, NULL, 10) : 0;
	usec = (s = getenv("SLOWDIR_USEC")) != NULL ? strtoul(s, NULL, 10) : 1000;
	nth = (s = getenv("SLOWDIR_NTH")) != NULL ? strtoul(s, NULL, 10) : 1;
	gate = getenv("SLOWDIR_GATE");
	arm = getenv("SLOWDIR_ARM");
	match = getenv("SLOWDIR_MATCH");
}

static void
nap(unsigned long us)
{
	struct timespec ts;

	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

static int
wanted(DIR *d)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	if (match == NULL)
		return 1;
	snprintf(link, sizeof link, "/proc/self/fd/%d", dirfd(d));
	if ((n = readlink(link, path, sizeof path - 1)) < 0)
		return 0;
	path[n] = '\0';
	return strstr(path, match) != NULL;
}

static void
hold(void)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, i;

	snprintf(path, sizeof path, "%s.held", gate);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
		close(fd);
	for (i = 0; i < 12000 && stat(gate, &st) < 0; i++)
		nap(5000);
}

/* A listing begins: count it, and choose it to hold. */
static DIR *
begin(DIR *d)
{
	if (d == NULL || gate == NULL || !wanted(d))
		return d;
	if (arm != NULL ? unlink(arm) == 0 : ++listings == nth)
		held = d;
	return d;
}

DIR *
opendir(const char *name)
{
	static DIR *(*next)(const char *);

	if (!inited)
		init();
	if (next == NULL &&
	    (next = (DIR *(*)(const char *))dlsym(RTLD_NEXT, "opendir")) == NULL)
		abort();
	return begin(next(name));
}

/* The synclog library lists a log through a descriptor (sl_dir_list). */
DIR *
fdopendir(int fd)
{
	static DIR *(*next)(int);

	if (!inited)
		init();
	if (next == NULL &&
	    (next = (DIR *(*)(int))dlsym(RTLD_NEXT, "fdopendir")) == NULL)
		abort();
	return begin(next(fd));
}

static void
after(DIR *d, const void *de)
{
	if (de == NULL || !wanted(d))
		return;
	if (held == d) {
		held = NULL;
		hold();
	}
	if (every != 0 && ++seen % every == 0)
		nap(usec);
}

struct dirent *
readdir(DIR *d)
{
	static struct dirent *(*next)(DIR *);
	struct dirent *de;

	if (!inited)
		init();
	if (next == NULL &&
	    (next = (struct dirent *(*)(DIR *))dlsym(RTLD_NEXT, "readdir")) == NULL)
		abort();
	de = next(d);
	after(d, de);
	return de;
}

struct dirent64 *
readdir64(DIR *d)
{
	static struct dirent64 *(*next)(DIR *);
	struct dirent64 *de;

	if (!inited)
		init();
	if (next == NULL && (next = (struct dirent64 *(*)(DIR *))dlsym(RTLD_NEXT,
	    "readdir64")) == NULL)
		abort();
	de = next(d);
	after(d, de);
	return de;
}
