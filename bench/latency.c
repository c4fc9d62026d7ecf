/*
 * latency - follow latency of a log: the time from a line entering
 * logappend's standard input to logcat -f printing it.
 *
 *	latency [-n samples] [-r lines_per_second] [-w warmups] log
 *	    [logappend option]...
 *	latency -s [-n samples] [-r appends_per_second] [-w warmups] file
 *	latency -p [-n samples] [-r lines_per_second] [-w warmups]
 *
 * It starts `logcat -f LOG` and `logappend [OPTION]... LOG` (found in
 * PATH; the log must exist and be empty: logcat prints it from the start,
 * so that however late logcat comes up, on a slow or loaded machine, it
 * misses no line), writes numbered ~100-byte lines into
 * logappend through a pipe at a steady pace, and reads logcat's output
 * through another, stamping each line as it is sent and as it comes back
 * with the same monotonic clock.  The first WARMUPS lines are not counted
 * (they pay for page faults and the first segment).  Prints the number of
 * samples and the median, 90th, 99th percentile and largest latency in
 * milliseconds, and exits 0 when every line came back in order.  Both
 * children are ended on every path: logappend by the end of its input,
 * logcat by SIGTERM.
 *
 * With -s it measures the floor of that latency instead: how long
 * fdatasync of a 100-byte append to FILE takes at the same pace, since a
 * line that arrives while logappend syncs the previous one waits for it.
 * With -p the machine's own floor: the same lines through `cat | cat`,
 * the same number of processes to wake (on a virtual machine whose idle
 * CPUs the host must wake, this alone can reach milliseconds).
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINELEN	100

static pid_t catpid = -1, apppid = -1;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
cleanup(void)
{
	if (catpid > 0)
		kill(catpid, SIGTERM);
}

/* Start ARGV with its stdin from INFD or its stdout to OUTFD (-1: keep). */
static pid_t
spawn(char **argv, int infd, int outfd)
{
	pid_t pid;

	if ((pid = fork()) < 0)
		err(1, "fork");
	if (pid > 0)
		return pid;
	if (infd >= 0 && dup2(infd, 0) < 0)
		err(127, "dup2");
	if (outfd >= 0 && dup2(outfd, 1) < 0)
		err(127, "dup2");
	execvp(argv[0], argv);
	err(127, "%s", argv[0]);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
report(double *lat, int nsamp)
{
	qsort(lat, nsamp, sizeof *lat, cmpd);
#define PCT(p)	(lat[(int)((nsamp - 1) * (p) + 0.5)] * 1e3)
	printf("samples %d p50 %.3f p90 %.3f p99 %.3f max %.3f\n", nsamp,
	    PCT(0.50), PCT(0.90), PCT(0.99), lat[nsamp - 1] * 1e3);
}

/* -s: the time fdatasync takes after each 100-byte append to PATH. */
static int
synctime(const char *path, int nsamp, int warm, double rate, double *lat)
{
	char line[LINELEN];
	double t;
	int fd;

	memset(line, 'x', sizeof line);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		err(1, "%s", path);
	for (int i = 0; i < warm + nsamp; i++) {
		if (write(fd, line, sizeof line) != sizeof line)
			err(1, "%s", path);
		t = now();
		if (fdatasync(fd) < 0)
			err(1, "%s: fdatasync", path);
		if (i >= warm)
			lat[i - warm] = now() - t;
		usleep((useconds_t)(1e6 / rate));
	}
	close(fd);
	report(lat, nsamp);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: latency [-n samples] [-r rate] [-w warmups] "
	    "log [logappend option]...\n"
	    "       latency -s [-n samples] [-r rate] [-w warmups] file\n"
	    "       latency -p [-n samples] [-r rate] [-w warmups]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	char *catargv[] = { "logcat", "-f", NULL, NULL };
	char **appargv, line[LINELEN + 1], buf[65536], *end;
	int ch, nsamp = 1000, warm = 50, total, sent = 0, got = 0, status;
	int sflag = 0, pflag = 0;
	double rate = 500, *tsent, *lat, next, t;
	int topipe[2], frompipe[2];
	size_t have = 0;

	while ((ch = getopt(argc, argv, "+n:pr:sw:")) != -1) {
		switch (ch) {
		case 'p':
			pflag = 1;
			break;
		case 's':
			sflag = 1;
			break;
		case 'n':
			nsamp = strtol(optarg, &end, 10);
			if (*end != '\0' || nsamp < 1)
				usage();
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*end != '\0' || rate <= 0)
				usage();
			break;
		case 'w':
			warm = strtol(optarg, &end, 10);
			if (*end != '\0' || warm < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < (pflag ? 0 : 1))
		usage();
	total = warm + nsamp;
	if ((tsent = calloc(total, sizeof *tsent)) == NULL ||
	    (lat = calloc(total, sizeof *lat)) == NULL ||
	    (appargv = calloc(argc + 3, sizeof *appargv)) == NULL)
		err(1, NULL);
	if (sflag)
		return synctime(argv[0], nsamp, warm, rate, lat);
	if (pflag) {
		appargv[0] = catargv[0] = "cat";
		appargv[1] = catargv[1] = NULL;
	} else {
		appargv[0] = "logappend";
		for (int i = 1; i < argc; i++)
			appargv[i] = argv[i];
		appargv[argc] = argv[0];
		catargv[2] = argv[0];
	}

	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);
	/* Close-on-exec, so that neither child holds the other's pipe (and
	 * logappend sees the end of its input when we close ours). */
	if (pipe2(topipe, O_CLOEXEC) < 0 || pipe2(frompipe, O_CLOEXEC) < 0)
		err(1, "pipe");
	if (pflag) {
		int mid[2];

		if (pipe2(mid, O_CLOEXEC) < 0)
			err(1, "pipe");
		catpid = spawn(catargv, mid[0], frompipe[1]);
		apppid = spawn(appargv, topipe[0], mid[1]);
		close(mid[0]);
		close(mid[1]);
	} else {
		catpid = spawn(catargv, -1, frompipe[1]);
		apppid = spawn(appargv, topipe[0], -1);
	}
	close(frompipe[1]);
	close(topipe[0]);
	/* Let logcat reach its first wait before the clock starts; if it is
	 * slower, only the first (warm-up) lines wait for it. */
	usleep(200000);

	next = now();
	while (got < total) {
		struct pollfd pfd = { frompipe[0], POLLIN, 0 };
		struct timespec to = { 0, 0 };
		double wait = sent < total ? next - now() : 5.0;
		int n;

		if (wait > 0) {
			to.tv_sec = (time_t)wait;
			to.tv_nsec = (long)((wait - to.tv_sec) * 1e9);
		}
		if ((n = ppoll(&pfd, 1, &to, NULL)) < 0 && errno != EINTR)
			err(1, "ppoll");
		if (n == 0 && sent == total)
			errx(1, "timed out after %d of %d lines", got, total);
		if (pfd.revents & (POLLIN | POLLHUP)) {
			ssize_t r = read(frompipe[0], buf + have,
			    sizeof buf - have);
			char *p = buf, *nl;

			if (r < 0 && errno != EINTR)
				err(1, "read");
			if (r == 0)
				errx(1, "%s ended after %d lines", catargv[0],
				    got);
			t = now();
			if (r > 0)
				have += r;
			while ((nl = memchr(p, '\n', buf + have - p)) != NULL) {
				long i = strtol(p, NULL, 10);

				if (i != got)
					errx(1, "line %ld came back as "
					    "number %d", i, got);
				lat[got++] = t - tsent[i];
				p = nl + 1;
			}
			have -= p - buf;
			memmove(buf, p, have);
		}
		if (sent < total && now() >= next) {
			int len = snprintf(line, sizeof line, "%09d ", sent);

			memset(line + len, 'x', LINELEN - 1 - len);
			line[LINELEN - 1] = '\n';
			tsent[sent] = now();
			if (write(topipe[1], line, LINELEN) != LINELEN)
				err(1, "write to %s", appargv[0]);
			sent++;
			next += 1 / rate;
		}
	}
	close(topipe[1]);
	if (waitpid(apppid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		errx(1, "%s failed", appargv[0]);
	kill(catpid, SIGTERM);
	waitpid(catpid, NULL, 0);
	catpid = -1;

	report(lat + warm, nsamp);
	return 0;
}
