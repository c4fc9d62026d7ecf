/*
 * fault.c - an LD_PRELOAD shim that makes chosen calls fail, so that the
 * tests reach every error path of the synclog programs: full disks, failed
 * fsyncs, short writes, crashes between two calls.
 *
 * SYNCLOG_FAULT is a comma-separated list of rules
 *
 *	CALL[@TYPE][~SUBSTR]:N:ACTION[:forever]
 *
 * CALL	write pwrite writev read pread fsync fdatasync ftruncate
 *	sync_file_range cachestat mmap lseek fallocate fstatvfs (calls on a
 *	descriptor;
 *	cachestat, which libc has no function for, as syscall(2) makes it;
 *	mmap of a file only, never an anonymous one); open (only opens that
 *	may create: O_CREAT, O_TMPFILE, creat), mkdir, rename, unlink
 *	(unlink and unlinkat; calls on a path).
 * TYPE	for descriptor calls, which descriptors count: file (the default:
 *	regular files other than 0, 1 and 2), dir, std (0, 1 and 2,
 *	whatever they are), pipe (pipes and sockets), any.
 * SUBSTR	only calls whose path contains SUBSTR; for a descriptor, the
 *	path /proc/self/fd names.
 * N	the rule fires at the Nth call (from 1) that matches CALL, TYPE and
 *	SUBSTR in this process; with "forever" at every one from the Nth on.
 * ACTION	an errno name (ENOSPC, EIO, ...) or number: fail with it, without
 *	making the call; "short": a write or read of half the bytes (at
 *	least 1); "kill": SIGKILL just before the call; "killafter": make
 *	the call, then SIGKILL; "stall": wait until the file named by
 *	SYNCLOG_FAULT_GATE exists (checked every 5 ms, for 60 s at most),
 *	then make the call, so a test can look at the world while a call,
 *	a slow fsync say, is in progress; "stall-ERRNO": wait so, then
 *	fail with ERRNO; "skip" (fsync, fdatasync, sync_file_range only):
 *	report success without making the call, as a disk that says yes
 *	and does nothing.
 *
 * SYNCLOG_FAULT_LOG=FILE appends one line per injected fault,
 * "CALL[@TYPE][~SUBSTR]:N:ACTION pid=PID path=PATH", written before the
 * call is failed or the process killed, so a test can prove its fault
 * fired.  SYNCLOG_FAULT_EXE=NAME limits the rules to processes whose
 * program name is NAME (children inherit LD_PRELOAD and count afresh).
 *
 * Invariants: with no rule for a call, the call goes straight to the next
 * definition (libc, or a sanitizer's interceptor), errno untouched; the
 * shim's own I/O uses raw system calls, so it never counts or recurses
 * into itself; a malformed SYNCLOG_FAULT stops the process with exit 125
 * before main, so a typo can never pass for a fault that did not fire.
 * Only calls through libc's exported functions are seen: libc's internal
 * calls (stdio flushing, fopen, mkstemp) are not.
 */
#undef _FORTIFY_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum call {
	C_WRITE, C_PWRITE, C_WRITEV, C_READ, C_PREAD, C_FSYNC, C_FDATASYNC,
	C_FTRUNCATE, C_SYNCRANGE, C_CACHESTAT, C_MMAP, C_LSEEK, C_FALLOCATE,
	C_FSTATVFS,
	C_OPEN, C_MKDIR, C_RENAME, C_UNLINK,	/* calls on a path from here */
	NCALLS
};

static const char *const callnames[NCALLS] = {
	"write", "pwrite", "writev", "read", "pread", "fsync", "fdatasync",
	"ftruncate", "sync_file_range", "cachestat", "mmap", "lseek",
	"fallocate", "fstatvfs", "open", "mkdir", "rename", "unlink"
};

enum type { T_FILE, T_DIR, T_STD, T_PIPE, T_ANY };
enum action {
	A_ERRNO, A_SHORT, A_KILL, A_KILLAFTER, A_STALL, A_STALLFAIL, A_SKIP
};
/* What a wrapper does with its call. */
enum fate { GO, FAIL, SHORT, GO_KILL, SKIP };

#define MAXRULES	32

struct rule {
	enum call	 call;
	enum type	 type;
	const char	*what;		/* CALL[@TYPE][~SUBSTR], for the log */
	const char	*sub;		/* NULL: any path */
	uint64_t	 n;
	int		 forever;
	enum action	 action;
	int		 err;
	const char	*actname;
	uint64_t	 count;		/* matching calls so far (atomic) */
};

static struct rule	 rules[MAXRULES];
static int		 nrules;
static unsigned		 callmask;	/* 1 << CALL for each call with rules */
static const char	*logpath;
static char		 config[4096];
static int		 inited;

#define E(x)	{ #x, x }
static const struct {
	const char	*name;
	int		 err;
} errnames[] = {
	E(E2BIG), E(EACCES), E(EAGAIN), E(EBADF), E(EBUSY), E(ECANCELED),
	E(EDQUOT), E(EEXIST), E(EFAULT), E(EFBIG), E(EINTR), E(EINVAL),
	E(EIO), E(EISDIR), E(ELOOP), E(EMFILE), E(EMLINK), E(ENAMETOOLONG),
	E(ENFILE), E(ENODEV), E(ENOENT), E(ENOLCK), E(ENOMEM), E(ENOSPC),
	E(ENOSYS), E(ENOTDIR), E(ENOTEMPTY), E(ENOTSUP), E(ENXIO),
	E(EOVERFLOW), E(EPERM), E(EPIPE), E(EROFS), E(ESPIPE), E(ESTALE),
	E(ETXTBSY), E(EWOULDBLOCK), E(EXDEV),
};

/* The shim's own output: raw system calls, never through the wrappers. */
static void
rawputs(int fd, const char *s)
{
	syscall(SYS_write, fd, s, strlen(s));
}

static void
die(const char *rule, const char *why)
{
	rawputs(2, "fault.so: SYNCLOG_FAULT: ");
	rawputs(2, rule);
	rawputs(2, ": ");
	rawputs(2, why);
	rawputs(2, "\n");
	_exit(125);
}

__attribute__((noreturn)) static void
killself(void)
{
	kill(getpid(), SIGKILL);
	_exit(137);	/* not reached */
}

/* Wait for SYNCLOG_FAULT_GATE to exist (raw calls: nothing is counted). */
static void
stall(void)
{
	const char *gate = getenv("SYNCLOG_FAULT_GATE");
	struct timespec ts = { 0, 5000000 };
	struct stat st;
	int i;

	for (i = 0; gate != NULL && i < 12000; i++) {
		if (syscall(SYS_newfstatat, AT_FDCWD, gate, &st, 0) == 0)
			return;
		syscall(SYS_nanosleep, &ts, NULL);
	}
}

/* The next definition of NAME after ours: libc's, or an interceptor's. */
static void *
next(const char *name, void **slot)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (p == NULL) {
		if ((p = dlsym(RTLD_NEXT, name)) == NULL)
			die(name, "no next definition");
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}

#define NEXT(name) ({ \
	static void *slot_; \
	(__typeof__(&name))next(#name, &slot_); \
})

static int
parse_action(struct rule *r, char *s)
{
	char *end;
	long v;
	size_t i;

	r->actname = s;
	if (strcmp(s, "short") == 0) {
		r->action = A_SHORT;
		return r->call <= C_PREAD ? 0 : -1;
	}
	if (strcmp(s, "stall") == 0) {
		r->action = A_STALL;
		return 0;
	}
	if (strcmp(s, "skip") == 0) {
		r->action = A_SKIP;
		return r->call == C_FSYNC || r->call == C_FDATASYNC ||
		    r->call == C_SYNCRANGE ? 0 : -1;
	}
	if (strcmp(s, "kill") == 0 || strcmp(s, "killafter") == 0) {
		r->action = s[4] ? A_KILLAFTER : A_KILL;
		return 0;
	}
	if (strncmp(s, "stall-", 6) == 0) {
		r->action = A_STALLFAIL;
		s += 6;
	} else
		r->action = A_ERRNO;
	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (strcmp(s, errnames[i].name) == 0) {
			r->err = errnames[i].err;
			return 0;
		}
	errno = 0;
	v = strtol(s, &end, 10);
	if (*s < '1' || *s > '9' || *end != '\0' || errno || v > 4095)
		return -1;
	r->err = (int)v;
	return 0;
}

/* CALL[@TYPE][~SUBSTR], cut into its parts in place. */
static int
parse_what(struct rule *r, char *s)
{
	static const char *const types[] = {
		[T_FILE] = "file", [T_DIR] = "dir", [T_STD] = "std",
		[T_PIPE] = "pipe", [T_ANY] = "any"
	};
	char *type, *sub;
	int i;

	if ((sub = strchr(s, '~')) != NULL) {
		*sub++ = '\0';
		if (*sub == '\0')
			return -1;
		r->sub = sub;
	}
	if ((type = strchr(s, '@')) != NULL)
		*type++ = '\0';
	for (i = 0; i < NCALLS; i++)
		if (strcmp(s, callnames[i]) == 0)
			break;
	if (i == NCALLS)
		return -1;
	r->call = i;
	r->type = T_FILE;
	if (type == NULL)
		return 0;
	if (r->call >= C_OPEN)
		return -1;		/* a path call has no descriptor */
	for (i = 0; i <= T_ANY; i++)
		if (strcmp(type, types[i]) == 0) {
			r->type = i;
			return 0;
		}
	return -1;
}

/* CALL[@TYPE][~SUBSTR]:N:ACTION[:forever] */
static void
parse_rule(char *s)
{
	static char copies[sizeof(config)];
	static size_t used;
	char *field[4], *end;
	int nf = 0;
	struct rule *r;

	if (nrules == MAXRULES)
		die(s, "too many rules");
	r = &rules[nrules];
	/* The log names the rule as written: keep a copy before cutting. */
	r->what = strcpy(copies + used, s);
	used += strlen(s) + 1;
	for (end = s; nf < 4 && end != NULL; nf++) {
		field[nf] = end;
		if ((end = strchr(end, ':')) != NULL)
			*end++ = '\0';
	}
	if (nf < 3 || end != NULL)
		die(r->what, "want CALL:N:ACTION[:forever]");
	if ((end = strchr(r->what, ':')) != NULL)
		*end = '\0';		/* the log adds the count and action */
	if (parse_what(r, field[0]) == -1)
		die(r->what, "unknown call or type");
	errno = 0;
	r->n = strtoull(field[1], &end, 10);
	if (field[1][0] < '1' || field[1][0] > '9' || *end || errno)
		die(field[1], "N must be a number from 1");
	if (parse_action(r, field[2]) == -1)
		die(field[2], "unknown action, or one this call cannot "
		    "take");
	if (nf == 4 && strcmp(field[3], "forever") != 0)
		die(field[3], "want forever");
	r->forever = nf == 4;
	callmask |= 1u << r->call;
	nrules++;
}

static void
init(void)
{
	const char *env, *exe;
	char *s, *comma;

	if (__atomic_exchange_n(&inited, 1, __ATOMIC_ACQ_REL))
		return;
	if ((env = getenv("SYNCLOG_FAULT")) == NULL || *env == '\0')
		return;
	exe = getenv("SYNCLOG_FAULT_EXE");
	if (exe != NULL && *exe != '\0' &&
	    strcmp(exe, program_invocation_short_name) != 0)
		return;
	if (strlen(env) >= sizeof(config))
		die("", "too long");
	strcpy(config, env);
	for (s = config; s != NULL; s = comma) {
		if ((comma = strchr(s, ',')) != NULL)
			*comma++ = '\0';
		if (*s != '\0')
			parse_rule(s);
	}
	logpath = getenv("SYNCLOG_FAULT_LOG");
}

__attribute__((constructor)) static void
fault_init(void)
{
	init();
}

static int
type_matches(enum type t, int fd, const struct stat *st, int statok)
{
	switch (t) {
	case T_FILE:
		return statok && S_ISREG(st->st_mode) && fd > 2;
	case T_DIR:
		return statok && S_ISDIR(st->st_mode);
	case T_STD:
		return fd >= 0 && fd <= 2;
	case T_PIPE:
		return statok && (S_ISFIFO(st->st_mode) ||
		    S_ISSOCK(st->st_mode));
	default:
		return 1;
	}
}

/* The path of descriptor FD into BUF, or "?" */
static const char *
fdpath(int fd, char *buf, size_t len)
{
	char proc[64];
	long n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	n = syscall(SYS_readlinkat, AT_FDCWD, proc, buf, len - 1);
	if (n < 0)
		return "?";
	buf[n] = '\0';
	return buf;
}

/*
 * The path a *at call names: PATH itself when it is absolute or relative
 * to the working directory, else DIRFD's path and PATH, so that rules and
 * the fault log see the same paths whether a program opens files by name
 * or, as the synclog library does, relative to a directory descriptor.
 * Only worked out when a rule may match C.
 */
static const char *
atpath(enum call c, int dirfd, const char *path, char *buf, size_t len)
{
	char dir[PATH_MAX];

	if (!inited)
		init();
	if (!(callmask & 1u << c) || path == NULL || path[0] == '/' ||
	    dirfd == AT_FDCWD)
		return path;
	snprintf(buf, len, "%s/%s", fdpath(dirfd, dir, sizeof(dir)), path);
	return buf;
}

static void
logfault(const struct rule *r, uint64_t count, const char *path,
    const char *path2)
{
	char line[2 * PATH_MAX + 256];
	long fd;

	if (logpath == NULL || *logpath == '\0')
		return;
	snprintf(line, sizeof(line), "%s:%llu:%s pid=%d path=%s%s%s\n",
	    r->what, (unsigned long long)count, r->actname, (int)getpid(),
	    path, path2 ? " -> " : "", path2 ? path2 : "");
	fd = syscall(SYS_openat, AT_FDCWD, logpath,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		rawputs(2, "fault.so: cannot open SYNCLOG_FAULT_LOG\n");
		return;
	}
	syscall(SYS_write, fd, line, strlen(line));
	syscall(SYS_close, fd);
}

/*
 * Count this call against every rule for it and decide its fate.  FD is
 * the descriptor of a descriptor call (PATH NULL), else -1 and PATH (and
 * PATH2 for rename) the paths.  errno is set for FAIL and kept otherwise.
 */
static enum fate
decide(enum call c, int fd, const char *path, const char *path2)
{
	char buf[PATH_MAX];
	struct stat st;
	struct rule *r, *hit = NULL;
	uint64_t count, hitcount = 0;
	int i, saved = errno, statok = 0;

	if (!inited)
		init();
	if (!(callmask & 1u << c))
		return GO;
	if (c < C_OPEN) {
		statok = fstat(fd, &st) == 0;
		path = NULL;
	}
	for (i = 0; i < nrules; i++) {
		r = &rules[i];
		if (r->call != c)
			continue;
		if (c < C_OPEN && !type_matches(r->type, fd, &st, statok))
			continue;
		if (r->sub != NULL) {
			if (path == NULL && c < C_OPEN)
				path = fdpath(fd, buf, sizeof(buf));
			if (strstr(path, r->sub) == NULL && (path2 == NULL ||
			    strstr(path2, r->sub) == NULL))
				continue;
		}
		count = __atomic_add_fetch(&r->count, 1, __ATOMIC_RELAXED);
		if (hit == NULL && (count == r->n ||
		    (r->forever && count > r->n))) {
			hit = r;
			hitcount = count;
		}
	}
	if (hit == NULL) {
		errno = saved;
		return GO;
	}
	if (path == NULL)
		path = fdpath(fd, buf, sizeof(buf));
	logfault(hit, hitcount, path, path2);
	errno = saved;
	switch (hit->action) {
	case A_ERRNO:
		errno = hit->err;
		return FAIL;
	case A_KILL:
		killself();
	case A_SHORT:
		return SHORT;
	case A_STALL:
		stall();
		errno = saved;
		return GO;
	case A_STALLFAIL:
		stall();
		errno = hit->err;
		return FAIL;
	case A_SKIP:
		return SKIP;
	default:
		return GO_KILL;
	}
}

static size_t
half(size_t n)
{
	return n > 1 ? n / 2 : n;
}

/* Run the call's result through the fate: kill after the call if asked. */
#define DONE(f, call) do { \
	__typeof__(call) rv_ = (call); \
	if ((f) == GO_KILL) \
		killself(); \
	return rv_; \
} while (0)

/* The whole body of a wrapper of descriptor call C on FD with no action
 * of its own (no short, no skip): fail, or make CALL. */
#define PLAIN(c, fd, call) do { \
	enum fate f_ = decide(c, fd, NULL, NULL); \
	if (f_ == FAIL) \
		return -1; \
	DONE(f_, call); \
} while (0)

/* ---- descriptor calls ---------------------------------------------- */

ssize_t
write(int fd, const void *buf, size_t n)
{
	enum fate f = decide(C_WRITE, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(write)(fd, buf, f == SHORT ? half(n) : n));
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	enum fate f = decide(C_PWRITE, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(pwrite)(fd, buf, f == SHORT ? half(n) : n, off));
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
	enum fate f = decide(C_PWRITE, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(pwrite64)(fd, buf, f == SHORT ? half(n) : n, off));
}

ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct iovec cut[IOV_MAX];
	enum fate f = decide(C_WRITEV, fd, NULL, NULL);
	size_t total = 0, want;
	int i;

	if (f == FAIL)
		return -1;
	if (f == SHORT && iovcnt > 0 && iovcnt <= IOV_MAX) {
		for (i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		want = half(total);
		for (i = 0; i < iovcnt && want > 0; i++) {
			cut[i] = iov[i];
			if (cut[i].iov_len > want)
				cut[i].iov_len = want;
			want -= cut[i].iov_len;
		}
		return NEXT(writev)(fd, cut, i);
	}
	DONE(f, NEXT(writev)(fd, iov, iovcnt));
}

ssize_t
read(int fd, void *buf, size_t n)
{
	enum fate f = decide(C_READ, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(read)(fd, buf, f == SHORT ? half(n) : n));
}

/* What read() becomes under _FORTIFY_SOURCE. */
ssize_t	__read_chk(int, void *, size_t, size_t);

ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	enum fate f = decide(C_READ, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(__read_chk)(fd, buf, f == SHORT ? half(n) : n, buflen));
}

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	enum fate f = decide(C_PREAD, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(pread)(fd, buf, f == SHORT ? half(n) : n, off));
}

ssize_t
pread64(int fd, void *buf, size_t n, off64_t off)
{
	enum fate f = decide(C_PREAD, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(pread64)(fd, buf, f == SHORT ? half(n) : n, off));
}

int
fsync(int fd)
{
	enum fate f = decide(C_FSYNC, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	if (f == SKIP)
		return 0;
	DONE(f, NEXT(fsync)(fd));
}

int
fdatasync(int fd)
{
	enum fate f = decide(C_FDATASYNC, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	if (f == SKIP)
		return 0;
	DONE(f, NEXT(fdatasync)(fd));
}

int
sync_file_range(int fd, off64_t off, off64_t len, unsigned flags)
{
	enum fate f = decide(C_SYNCRANGE, fd, NULL, NULL);

	if (f == FAIL)
		return -1;
	if (f == SKIP)
		return 0;
	DONE(f, NEXT(sync_file_range)(fd, off, len, flags));
}

/* cachestat(2)'s number, which Debian 12's headers do not have yet. */
#if !defined(SYS_cachestat) && defined(__x86_64__)
#define SYS_cachestat	451
#endif

/*
 * syscall(2), for cachestat alone: every other number goes straight
 * through.  Six arguments are passed on whatever the call takes, as libc's
 * own syscall does.
 */
long
syscall(long n, ...)
{
	va_list ap;
	long a[6];
	int i;

	va_start(ap, n);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
#ifdef SYS_cachestat
	if (n == SYS_cachestat) {
		enum fate f = decide(C_CACHESTAT, (int)a[0], NULL, NULL);

		if (f == FAIL)
			return -1;
		DONE(f, NEXT(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]));
	}
#endif
	return NEXT(syscall)(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

int
ftruncate(int fd, off_t len)
{
	PLAIN(C_FTRUNCATE, fd, NEXT(ftruncate)(fd, len));
}

int
ftruncate64(int fd, off64_t len)
{
	PLAIN(C_FTRUNCATE, fd, NEXT(ftruncate64)(fd, len));
}

/* A map counts only when it is of a file: never an anonymous one. */
static enum fate
map_fate(int flags, int fd)
{
	return (flags & MAP_ANONYMOUS) || fd < 0 ? GO :
	    decide(C_MMAP, fd, NULL, NULL);
}

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	enum fate f = map_fate(flags, fd);

	if (f == FAIL)
		return MAP_FAILED;
	DONE(f, NEXT(mmap)(addr, len, prot, flags, fd, off));
}

void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	enum fate f = map_fate(flags, fd);

	if (f == FAIL)
		return MAP_FAILED;
	DONE(f, NEXT(mmap64)(addr, len, prot, flags, fd, off));
}

off_t
lseek(int fd, off_t off, int whence)
{
	PLAIN(C_LSEEK, fd, NEXT(lseek)(fd, off, whence));
}

off64_t
lseek64(int fd, off64_t off, int whence)
{
	PLAIN(C_LSEEK, fd, NEXT(lseek64)(fd, off, whence));
}

int
fallocate(int fd, int mode, off_t off, off_t len)
{
	PLAIN(C_FALLOCATE, fd, NEXT(fallocate)(fd, mode, off, len));
}

int
fallocate64(int fd, int mode, off64_t off, off64_t len)
{
	PLAIN(C_FALLOCATE, fd, NEXT(fallocate64)(fd, mode, off, len));
}

int
fstatvfs(int fd, struct statvfs *buf)
{
	PLAIN(C_FSTATVFS, fd, NEXT(fstatvfs)(fd, buf));
}

int
fstatvfs64(int fd, struct statvfs64 *buf)
{
	PLAIN(C_FSTATVFS, fd, NEXT(fstatvfs64)(fd, buf));
}

/* ---- path calls ---------------------------------------------------- */

static int
creates(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

static enum fate
decide_open(const char *path, int flags)
{
	return creates(flags) ? decide(C_OPEN, -1, path, NULL) : GO;
}

#define GETMODE(flags, mode) do { \
	va_list ap_; \
	if (creates(flags)) { \
		va_start(ap_, flags); \
		(mode) = va_arg(ap_, mode_t); \
		va_end(ap_); \
	} \
} while (0)

int
open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	enum fate f;

	GETMODE(flags, mode);
	if ((f = decide_open(path, flags)) == FAIL)
		return -1;
	DONE(f, NEXT(open)(path, flags, mode));
}

int
open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	enum fate f;

	GETMODE(flags, mode);
	if ((f = decide_open(path, flags)) == FAIL)
		return -1;
	DONE(f, NEXT(open64)(path, flags, mode));
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	char buf[PATH_MAX];
	mode_t mode = 0;
	enum fate f;

	GETMODE(flags, mode);
	if ((f = decide_open(creates(flags) ? atpath(C_OPEN, dirfd, path, buf,
	    sizeof(buf)) : path, flags)) == FAIL)
		return -1;
	DONE(f, NEXT(openat)(dirfd, path, flags, mode));
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	char buf[PATH_MAX];
	mode_t mode = 0;
	enum fate f;

	GETMODE(flags, mode);
	if ((f = decide_open(creates(flags) ? atpath(C_OPEN, dirfd, path, buf,
	    sizeof(buf)) : path, flags)) == FAIL)
		return -1;
	DONE(f, NEXT(openat64)(dirfd, path, flags, mode));
}

int
creat(const char *path, mode_t mode)
{
	enum fate f = decide(C_OPEN, -1, path, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(creat)(path, mode));
}

int
creat64(const char *path, mode_t mode)
{
	enum fate f = decide(C_OPEN, -1, path, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(creat64)(path, mode));
}

int
mkdir(const char *path, mode_t mode)
{
	enum fate f = decide(C_MKDIR, -1, path, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(mkdir)(path, mode));
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	enum fate f = decide(C_MKDIR, -1, atpath(C_MKDIR, dirfd, path, buf,
	    sizeof(buf)), NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(mkdirat)(dirfd, path, mode));
}

int
rename(const char *from, const char *to)
{
	enum fate f = decide(C_RENAME, -1, from, to);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(rename)(from, to));
}

int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	char b1[PATH_MAX], b2[PATH_MAX];
	enum fate f = decide(C_RENAME, -1, atpath(C_RENAME, fromfd, from, b1,
	    sizeof(b1)), atpath(C_RENAME, tofd, to, b2, sizeof(b2)));

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(renameat)(fromfd, from, tofd, to));
}

int
renameat2(int fromfd, const char *from, int tofd, const char *to,
    unsigned int flags)
{
	char b1[PATH_MAX], b2[PATH_MAX];
	enum fate f = decide(C_RENAME, -1, atpath(C_RENAME, fromfd, from, b1,
	    sizeof(b1)), atpath(C_RENAME, tofd, to, b2, sizeof(b2)));

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(renameat2)(fromfd, from, tofd, to, flags));
}

int
unlink(const char *path)
{
	enum fate f = decide(C_UNLINK, -1, path, NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(unlink)(path));
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	char buf[PATH_MAX];
	enum fate f = decide(C_UNLINK, -1, atpath(C_UNLINK, dirfd, path, buf,
	    sizeof(buf)), NULL);

	if (f == FAIL)
		return -1;
	DONE(f, NEXT(unlinkat)(dirfd, path, flags));
}
