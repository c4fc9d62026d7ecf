/*
 * timeit - run commands side by side, several times, and print the median
 * wall time and the peak resident memory of each.
 *
 *	timeit [-n runs] [-w warmups] NAME SETUP CMD [NAME SETUP CMD]...
 *
 * Each round runs every command once, in turn, so that a change in the
 * machine's load (other processes on a shared host) hits baseline and
 * candidate alike.  SETUP (empty: none) runs untimed before its command,
 * through sh -c, and must exit 0: it resets state, like removing the log
 * an append wrote.  CMD is timed from fork to exit; when it is a plain
 * word list with < and > redirections it is executed directly, so that a
 * shell's start-up is not part of a millisecond-sized measurement;
 * anything else goes through sh -c.  A command that fails stops everything
 * with exit 1.  Output, one line per command:
 *
 *	NAME MEDIAN_S MIN_S MAX_S MAXRSS_KIB
 *
 * MAXRSS is the largest ru_maxrss of any timed run (the process and the
 * children it waited for).
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXARGS	64

struct cmd {
	const char	*name, *setup, *line;
	double		*t;
	long		 maxrss;
};

static void
usage(void)
{
	fprintf(stderr, "usage: timeit [-n runs] [-w warmups] "
	    "name setup cmd ...\n");
	exit(2);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Whether LINE needs a shell: anything beyond words and < > files. */
static int
needs_shell(const char *line)
{
	const char *p;

	if (strpbrk(line, "|&;$`'\"\\(){}*?[]~#!") != NULL)
		return 1;
	/* A redirection must start a word (no 2>, no a<b). */
	for (p = line; (p = strpbrk(p, "<>")) != NULL; p++)
		if (p > line && p[-1] != ' ' && p[-1] != '\t')
			return 1;
	return 0;
}

static void
redirect(const char *path, int out)
{
	int fd = out ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) :
	    open(path, O_RDONLY);

	if (fd < 0)
		err(127, "%s", path);
	if (dup2(fd, out ? 1 : 0) < 0)
		err(127, "dup2");
	close(fd);
}

/* In the child: run LINE directly, or through sh -c. */
static void __attribute__((noreturn))
execline(const char *line)
{
	char *copy, *w, *argv[MAXARGS + 1];
	int argc = 0;

	if (needs_shell(line)) {
		execl("/bin/sh", "sh", "-c", line, (char *)NULL);
		err(127, "/bin/sh");
	}
	if ((copy = strdup(line)) == NULL)
		err(127, NULL);
	for (w = strtok(copy, " \t\n"); w != NULL; w = strtok(NULL, " \t\n")) {
		if (*w == '<' || *w == '>') {
			const char *path = w[1] ? w + 1 : strtok(NULL, " \t\n");

			if (path == NULL)
				errx(127, "%s: redirection without a file", line);
			redirect(path, *w == '>');
		} else if (argc < MAXARGS)
			argv[argc++] = w;
		else
			errx(127, "%s: too many words", line);
	}
	if (argc == 0)
		errx(127, "empty command");
	argv[argc] = NULL;
	execvp(argv[0], argv);
	err(127, "%s", argv[0]);
}

/* Run LINE; its wall time in seconds, its ru_maxrss in *RSS. */
static double
run(const char *line, long *rss)
{
	struct rusage ru;
	double t0, t1;
	pid_t pid;
	int status;

	t0 = now();
	if ((pid = fork()) < 0)
		err(1, "fork");
	if (pid == 0)
		execline(line);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			err(1, "wait4");
	t1 = now();
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		errx(1, "%s: %s %d", line, WIFEXITED(status) ? "exit status" :
		    "killed by signal", WIFEXITED(status) ? WEXITSTATUS(status) :
		    WTERMSIG(status));
	if (rss != NULL)
		*rss = ru.ru_maxrss;
	return t1 - t0;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char *argv[])
{
	struct cmd *c;
	int ch, runs = 5, warm = 1, n;
	long rss;
	char *end;

	while ((ch = getopt(argc, argv, "n:w:")) != -1) {
		switch (ch) {
		case 'n':
			runs = strtol(optarg, &end, 10);
			if (*end != '\0' || runs < 1)
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
	if (argc == 0 || argc % 3 != 0)
		usage();
	n = argc / 3;
	if ((c = calloc(n, sizeof *c)) == NULL)
		err(1, NULL);
	for (int i = 0; i < n; i++) {
		c[i].name = argv[3 * i];
		c[i].setup = argv[3 * i + 1];
		c[i].line = argv[3 * i + 2];
		if ((c[i].t = calloc(runs, sizeof *c[i].t)) == NULL)
			err(1, NULL);
	}
	for (int r = 0; r < warm + runs; r++)
		for (int i = 0; i < n; i++) {
			if (c[i].setup[0] != '\0')
				run(c[i].setup, NULL);
			double t = run(c[i].line, &rss);

			if (r < warm)
				continue;
			c[i].t[r - warm] = t;
			if (rss > c[i].maxrss)
				c[i].maxrss = rss;
		}
	for (int i = 0; i < n; i++) {
		double *t = c[i].t, med;

		qsort(t, runs, sizeof *t, cmpd);
		med = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
		printf("%s %.6f %.6f %.6f %ld\n", c[i].name, med, t[0],
		    t[runs - 1], c[i].maxrss);
	}
	if (fclose(stdout) == EOF)
		err(1, "stdout");
	return 0;
}
