/*
 * replay.c - a main() for the harnesses without libFuzzer: it runs every
 * file named, or every file in every directory named, through
 * LLVMFuzzerTestOneInput once.  `make fuzz-replay` links it with each
 * harness under AddressSanitizer and UndefinedBehaviorSanitizer and
 * replays the committed corpus, so that every fix stays fixed.
 *
 *	NAME-replay FILE|DIR...
 *
 * Prints "NAME: N inputs replayed" and exits 0; a broken invariant or a
 * sanitizer report aborts with the input's name on stderr first.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static unsigned long ninputs;
static const char *current;

/* Name the input that broke, whatever way it broke. */
static void
say_input(void)
{
	static const char what[] = "fuzz-replay: input: ";

	if (current == NULL)
		return;
	write(2, what, sizeof what - 1);
	write(2, current, strlen(current));
	write(2, "\n", 1);
}

void	__asan_on_error(void);

void
__asan_on_error(void)
{
	say_input();
}

static void
on_signal(int sig)
{
	say_input();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
one(const char *path)
{
	struct stat st;
	unsigned char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		err(2, "%s", path);
	if ((buf = malloc(st.st_size ? st.st_size : 1)) == NULL)
		err(2, "malloc");
	while (got < (size_t)st.st_size) {
		if ((n = read(fd, buf + got, st.st_size - got)) < 0) {
			if (errno == EINTR)
				continue;
			err(2, "%s", path);
		}
		if (n == 0)
			break;
		got += n;
	}
	close(fd);
	current = path;
	LLVMFuzzerTestOneInput(buf, got);
	current = NULL;
	free(buf);
	ninputs++;
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
walk(const char *path)
{
	struct stat st;
	struct dirent *de;
	char **names = NULL, sub[PATH_MAX];
	size_t n = 0;
	DIR *d;

	if (stat(path, &st) < 0)
		err(2, "%s", path);
	if (!S_ISDIR(st.st_mode)) {
		one(path);
		return;
	}
	if ((d = opendir(path)) == NULL)
		err(2, "%s", path);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if ((names = realloc(names, (n + 1) * sizeof *names)) == NULL ||
		    (names[n++] = strdup(de->d_name)) == NULL)
			err(2, "malloc");
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp);
	for (size_t i = 0; i < n; i++) {
		snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
		walk(sub);
		free(names[i]);
	}
	free(names);
}

int
main(int argc, char *argv[])
{
	const char *name = strrchr(argv[0], '/');

	name = name ? name + 1 : argv[0];
	if (argc < 2) {
		fprintf(stderr, "usage: %s file|dir...\n", name);
		return 2;
	}
	signal(SIGABRT, on_signal);
	signal(SIGSEGV, on_signal);
	signal(SIGBUS, on_signal);
	for (int i = 1; i < argc; i++)
		walk(argv[i]);
	printf("%s: %lu inputs replayed\n", name, ninputs);
	return 0;
}
