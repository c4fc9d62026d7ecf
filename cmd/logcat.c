/*
 * logcat - print the records of one or more logs.
 *
 * Logs are printed one after the other, like cat(1); with -f they are
 * followed like tail -f, woken by inotify.  Output is flushed whenever a
 * reader has caught up, so a follower shows a record as soon as it is
 * written.  On corruption every good record before it has been printed
 * and flushed before the error, and the exit status is 1.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"

static const char *progname = "logcat";
static struct sl_fmt fmt;
static struct sl_spec startspec = { SL_SPEC_BEGINNING, 0, 0 };
static struct sl_spec endspec;
static int hasend;			/* -o given an end */
static int64_t deadline = INT64_MAX;	/* -f: e@TIME by the clock */
static uint64_t count = UINT64_MAX;	/* -c */
static int fflag;			/* -f */
static const char *gname;		/* -g */
static const unsigned char *keyfilter;	/* -k */
static size_t keyfilterlen;
static uint64_t printed, matched;
static sl_out *out;

static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-0BJYZf] [-c count] [-D delim] [-F template] "
	    "[-g name] [-K delim]\n"
	    "              [-k key] [-o spec [-o spec]] log ...\n", progname);
}

static void __attribute__((noreturn))
die(int status, const char *fmt_, ...)
{
	va_list ap;

	if (out != NULL)
		sl_out_flush(out);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt_);
	vfprintf(stderr, fmt_, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void
parse_spec(const char *arg, int nth)
{
	struct sl_spec s;

	if (sl_spec_parse(arg, sl_now_ms(), &s) < 0)
		die(2, "-o: invalid offset specification: %s", arg);
	if (s.kind == SL_SPEC_TIME_END || nth == 1) {
		if (hasend)
			die(2, "-o: more than one end given");
		endspec = s;
		hasend = 1;
	} else
		startspec = s;
}

/* One log being printed. */
struct src {
	const char	*path;
	char		*name;		/* %t: its last component */
	sl_reader	*r;
	uint64_t	 end;		/* stop before this offset */
	int		 timed;		/* or before a timestamp >= endspec's */
	int		 done;
};

/* File scope, so that the sources stay reachable when die() exits. */
static struct src *srcs;

/* Print what SRC has now.  0 caught up, 1 finished, -1 corrupt. */
static int
drain(struct src *s)
{
	struct sl_record rec;
	int r;

	sl_out_logname(out, s->name);
	if (keyfilter == NULL && !s->timed) {
		/* Nothing to look at per record: the library's loop, which
		 * formats text straight from each batch. */
		struct sl_print p = { .end = s->end, .max = count - printed,
		    .maxbytes = UINT64_MAX };

		r = sl_reader_print(s->r, out, &p);
		printed += p.n;
		matched += p.n;
		if (r == -2)
			die(2, "stdout: %s", strerror(errno));
		if (r < 0)
			return -1;
		return r == 0 && fflag ? 0 : 1;
	}
	while (printed < count) {
		r = sl_reader_next(s->r, &rec);
		if (r < 0)
			return -1;
		if (r == 0)
			return fflag ? 0 : 1;
		if (rec.offset >= s->end ||
		    (s->timed && rec.timestamp >= endspec.time))
			return 1;
		if (keyfilter != NULL && (rec.key == NULL ||
		    rec.keylen != keyfilterlen ||
		    memcmp(rec.key, keyfilter, keyfilterlen) != 0))
			continue;
		matched++;
		if (sl_out_record(out, &rec) < 0)
			die(2, "stdout: %s", strerror(errno));
		printed++;
	}
	return 1;
}

/* -g: where consumer GNAME of S would go on; it is only read. */
static uint64_t
consumer_start(struct src *s)
{
	struct sl_checkpoint ck;
	uint64_t end;

	if (sl_checkpoint_read(s->path, gname,
	    sl_reader_settings(s->r)->id, &ck) < 0)
		die(errno == ENOENT || errno == EBADMSG || errno == ESTALE ?
		    1 : 2, "%s: %s: %s%s%s%s", s->path, gname,
		    sl_checkpoint_strerror(errno), ck.damage ? " (" : "",
		    ck.damage ? ck.damage : "", ck.damage ? ")" : "");
	if (sl_reader_bounds(s->r, NULL, &end) < 0) {
		/* Damage hides the end: print what is good, then stop at it. */
		if (errno != EBADMSG)
			die(2, "%s: %s", s->path, sl_reader_error(s->r));
		end = UINT64_MAX;
	}
	if (ck.offset > end)
		die(1, "%s: %s: checkpoint %" PRIu64 " is beyond the end of "
		    "the log (%" PRIu64 ")", s->path, gname, ck.offset, end);
	return ck.offset;
}

/* %t: the last component of PATH, trailing slashes aside. */
static char *
logname(const char *path)
{
	size_t len = strlen(path);
	char *name, *slash;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if ((name = strndup(path, len)) == NULL)
		die(2, "%s", strerror(errno));
	if ((slash = strrchr(name, '/')) != NULL && slash[1] != '\0')
		memmove(name, slash + 1, strlen(slash));
	return name;
}

static void
open_src(struct src *s, const char *path)
{
	uint64_t start, now;

	s->path = path;
	s->name = logname(path);
	s->end = UINT64_MAX;
	if ((s->r = sl_reader_open(path)) == NULL)
		die(errno == EBADMSG ? 1 : 2, "%s", sl_open_error());
	if (fflag && sl_reader_fd(s->r) < 0)
		die(2, "%s: %s", path, sl_reader_error(s->r));
	if (sl_reader_resolve(s->r, &startspec, &start) < 0 ||
	    (hasend && sl_reader_bounds(s->r, NULL, &now) < 0) ||
	    (hasend && sl_reader_resolve(s->r, &endspec, &s->end) < 0))
		die(sl_reader_error(s->r)[0] && errno == EBADMSG ? 1 : 2,
		    "%s: %s", path, sl_reader_error(s->r));
	/*
	 * No record at or after e@TIME yet: stop at the first one that
	 * comes, not at the end as it is now (records before TIME may
	 * still be appended, above all with -f).
	 */
	if (hasend && endspec.kind == SL_SPEC_TIME_END && s->end >= now) {
		s->end = UINT64_MAX;
		s->timed = 1;
	}
	if (gname != NULL)
		start = consumer_start(s);
	if (sl_reader_seek(s->r, start) < 0)
		die(2, "%s: %s", path, sl_reader_error(s->r));
}

/* Follow every unfinished source until all are done or COUNT is met. */
static int
follow(int n)
{
	struct pollfd *pfd;
	int64_t now;
	int live, ms, r;

	if ((pfd = calloc(n, sizeof *pfd)) == NULL)
		die(2, "%s", strerror(errno));
	for (;;) {
		/* Read before the drain: what was written by then is seen. */
		now = sl_now_ms();
		live = 0;
		for (int i = 0; i < n; i++) {
			if (srcs[i].done)
				continue;
			if ((r = drain(&srcs[i])) < 0) {
				free(pfd);
				return -1 - i;
			}
			if (r > 0 || printed >= count)
				srcs[i].done = 1;
			else
				live++;
		}
		if (sl_out_flush(out) < 0)
			die(2, "stdout: %s", strerror(errno));
		if (live == 0 || printed >= count || now >= deadline)
			break;
		for (int i = 0; i < n; i++) {
			pfd[i].fd = srcs[i].done ? -1 : sl_reader_fd(srcs[i].r);
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		ms = deadline == INT64_MAX ? -1 : deadline - now > INT_MAX ?
		    INT_MAX : (int)(deadline - now);
		if (poll(pfd, n, ms) < 0 && errno != EINTR)
			die(2, "poll: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				sl_reader_wait(srcs[i].r, 0);
	}
	free(pfd);
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		SL_FMT_LONGOPTS,
		{ "version",	no_argument,		NULL, 'V' },
		{ "show-null",	no_argument,		NULL, 'Z' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "follow",	no_argument,		NULL, 'f' },
		{ "consumer",	required_argument,	NULL, 'g' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "key",	required_argument,	NULL, 'k' },
		{ "offset",	required_argument,	NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	static unsigned char keybuf[4096];
	int ch, nspec = 0, status = 0, r;

	sl_fmt_init(&fmt);
	if (sl_guard_stdio() < 0)
		err(2, "/dev/null");
	while ((ch = getopt_long(argc, argv, "0BD:F:JK:VYZc:fg:hk:o:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case '0': case 'B': case 'D': case 'F': case 'J': case 'K':
		case 'Y': case 'Z':
			if (sl_fmt_option(&fmt, ch, optarg) < 0)
				die(2, "-%c: invalid argument: %s", ch, optarg);
			break;
		case 'V':
			printf("%s synclog %s\n", progname, SL_VERSION);
			return 0;
		case 'c':
			if (sl_parse_u64(optarg, 0, &count) < 0)
				die(2, "-c: invalid count: %s", optarg);
			break;
		case 'f':
			fflag = 1;
			break;
		case 'g':
			if (!sl_consumer_name_ok(optarg))
				die(2, "-g: invalid consumer name: %s", optarg);
			gname = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'k':
			if (sl_unescape(optarg, keybuf, sizeof keybuf,
			    &keyfilterlen) < 0)
				die(2, "-k: invalid key: %s", optarg);
			keyfilter = keybuf;
			break;
		case 'o':
			if (nspec == 2)
				die(2, "-o: at most a start and an end");
			parse_spec(optarg, nspec++);
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return 2;
	}
	/* An end time still to come is also a time to stop following. */
	if (hasend && endspec.kind == SL_SPEC_TIME_END &&
	    endspec.time > sl_now_ms())
		deadline = endspec.time;
	if (startspec.kind == SL_SPEC_TIME_END)
		die(2, "-o: e@TIME is an end, not a start");
	if (gname != NULL && nspec > hasend)
		die(2, "-g: the consumer's checkpoint is the start, -o gives "
		    "only an end");

	if ((srcs = calloc(argc, sizeof *srcs)) == NULL)
		die(2, "%s", strerror(errno));
	for (int i = 0; i < argc; i++)
		open_src(&srcs[i], argv[i]);
	if ((out = sl_out_open(STDOUT_FILENO, &fmt)) == NULL)
		die(2, "-F: invalid template: %s", fmt.template ?
		    fmt.template : "");
	if (fflag)
		r = follow(argc);
	else {
		r = 0;
		for (int i = 0; i < argc && printed < count; i++)
			if (drain(&srcs[i]) < 0) {
				r = -1 - i;
				break;
			}
	}
	if (r < 0) {
		struct src *s = &srcs[-1 - r];

		die(errno == EBADMSG ? 1 : 2, "%s: %s", s->path,
		    sl_reader_error(s->r));
	}
	if (sl_out_close(out) < 0) {
		out = NULL;
		die(2, "stdout: %s", strerror(errno));
	}
	out = NULL;
	for (int i = 0; i < argc; i++) {
		sl_reader_close(srcs[i].r);
		free(srcs[i].name);
	}
	free(srcs);
	if (keyfilter != NULL && matched == 0)
		status = 1;
	return status;
}
