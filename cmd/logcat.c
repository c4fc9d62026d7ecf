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
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "prog.h"

static struct sl_fmt fmt;
static struct sl_spec startspec = { SL_SPEC_BEGINNING, 0, 0 };
static struct sl_spec endspec;
static int hasend;			/* -o given an end */
static int64_t deadline = INT64_MAX;	/* -f: e@TIME by the clock */
static uint64_t count = UINT64_MAX;	/* -c */
static int eflag;			/* -e */
static int fflag;			/* -f */
static const char *gname;		/* -g */
static const unsigned char *keyfilter;	/* -k */
static size_t keyfilterlen;
static uint64_t printed, matched;
static sl_out *out;

static const struct opt opts[] = {
	OPTS_FORMAT,
	{ 'Z', "show-null", NULL, "print an absent key or value as NULL "
	    "(kcat's -Z)" },
	{ 'c', "count", "count", "print at most count records in all" },
	{ 'e', "exit", NULL, "exit when caught up: the default (kcat's -e)" },
	{ 'f', "follow", NULL, "wait for more records, like tail -f" },
	{ 'g', "consumer", "name", "start at consumer name's checkpoint" },
	{ 'k', "key", "key", "print only the records with this key" },
	{ 'o', "offset", "spec", "start at spec; a second -o or e@TIME ends" },
	{ 0, NULL, NULL, NULL }
};

/* kcat's letters that mean nothing here, or something else. */
static const struct opt_hint hints[] = {
	{ 'C', "not needed: logcat always reads (kcat -C)" },
	{ 'P', "logappend appends (kcat -P)" },
	{ 't', "a log is an operand, not an option (kcat -t TOPIC)" },
	{ 'b', "a log is a directory: no brokers (kcat -b)" },
	{ 'p', "a log has no partitions (kcat -p)" },
	{ 'G', "a consumer's checkpoint is -g NAME (kcat -G GROUP)" },
	{ 'q', "logcat says nothing but errors already (kcat -q)" },
	{ 'u', "output is flushed whenever logcat catches up (kcat -u)" },
	{ 0, NULL }
};

static const struct prog logcat = {
	"logcat",
	"usage: logcat [-0BeJYZf] [-c count] [-D delim] [-F template] [-g name] "
	    "[-K delim]\n"
	"              [-k key] [-o spec [-o spec]] log ...",
	0, opts, hints
};

/* -f, and a log that is not there but looks like kcat's -f FORMAT. */
#define FOLLOW_HINT	"-f is --follow; did you mean -F?"

static void
parse_spec(const char *arg, int nth)
{
	struct sl_spec s;

	if (strcmp(arg, "stored") == 0)
		errx(2, "-o: invalid offset specification: stored (a "
		    "consumer's checkpoint is -g NAME)");
	arg_spec('o', arg, &s);
	if (s.kind == SL_SPEC_TIME_END || nth == 1) {
		if (hasend)
			errx(2, "-o: more than one end given");
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

/* File scope, so that the sources stay reachable when errx() exits. */
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
			err(2, "stdout");
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
			err(2, "stdout");
		printed++;
	}
	return 1;
}

/* -g: where consumer GNAME of S would go on; it is only read. */
static uint64_t
consumer_start(struct src *s)
{
	struct sl_checkpoint ck;
	const char *id = sl_reader_settings(s->r)->id;
	char msg[512];
	uint64_t begin, end;

	if (sl_checkpoint_read(s->path, gname, id, &ck) < 0)
		errx(ckpt_status(errno), "%s: %s: %s", s->path, gname,
		    ckpt_strerror(errno, &ck, id, msg, sizeof msg));
	if (sl_reader_bounds(s->r, &begin, &end) < 0) {
		/* Damage hides the end: print what is good, then stop at it. */
		if (errno != EBADMSG)
			fail_reader(s->path);
		begin = 0;
		end = UINT64_MAX;
	}
	/* Below the beginning, what the consumer missed is gone: printing
	 * from the beginning would hide that. */
	if (ckpt_outside(ck.offset, begin, end, msg, sizeof msg) != NULL)
		errx(1, "%s: %s: %s", s->path, gname, msg);
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
		err(2, NULL);
	if ((slash = strrchr(name, '/')) != NULL && slash[1] != '\0')
		memmove(name, slash + 1, strlen(slash));
	return name;
}

static void
open_src(struct src *s, const char *path)
{
	uint64_t start, now = 0;
	int timed;

	s->path = path;
	s->name = logname(path);
	s->end = UINT64_MAX;
	if ((s->r = sl_reader_open(path)) == NULL) {
		if (errno == ENOENT && fflag && strchr(path, '%') != NULL)
			errx(2, "%s: no such log (" FOLLOW_HINT ")", path);
		fail_open();
	}
	if (fflag && sl_reader_fd(s->r) < 0)
		fail_reader(path);
	/* Only e@TIME needs where the log ends now: damage past an end
	 * given as an offset does not stop what comes before it. */
	timed = hasend && endspec.kind == SL_SPEC_TIME_END;
	if (sl_reader_resolve(s->r, &startspec, &start) < 0 ||
	    (timed && sl_reader_bounds(s->r, NULL, &now) < 0) ||
	    (hasend && sl_reader_resolve(s->r, &endspec, &s->end) < 0))
		fail_reader(path);
	/*
	 * No record at or after e@TIME yet: stop at the first one that
	 * comes, not at the end as it is now (records before TIME may
	 * still be appended, above all with -f).
	 */
	if (timed && s->end >= now) {
		s->end = UINT64_MAX;
		s->timed = 1;
	}
	if (gname != NULL)
		start = consumer_start(s);
	if (sl_reader_seek(s->r, start) < 0)
		fail_reader(path);
}

/* Follow every unfinished source until all are done or COUNT is met. */
static int
follow(int n)
{
	struct pollfd *pfd;
	int64_t now;
	int live, ms, r;

	if ((pfd = calloc(n, sizeof *pfd)) == NULL)
		err(2, NULL);
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
			err(2, "stdout");
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
			err(2, "poll");
		for (int i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				sl_reader_wait(srcs[i].r, 0);
	}
	free(pfd);
	return 0;
}

/* The options; what is left of ARGV is the logs. */
static void
options(int *argcp, char ***argvp)
{
	static unsigned char keybuf[4096];
	int ch, nspec = 0;

	while ((ch = prog_getopt(*argcp, *argvp)) != -1) {
		switch (ch) {
		case '0': case 'B': case 'D': case 'F': case 'J': case 'K':
		case 'Y': case 'Z':
			arg_format(&fmt, ch, optarg);
			break;
		case 'c':
			count = arg_u64(ch, "count", optarg, 0, 0, UINT64_MAX);
			break;
		case 'e':
			eflag = 1;
			break;
		case 'f':
			fflag = 1;
			break;
		case 'g':
			gname = arg_consumer(optarg);
			break;
		case 'k':
			if (sl_unescape(optarg, keybuf, sizeof keybuf,
			    &keyfilterlen) < 0)
				errx(2, "-k: invalid key: %s", optarg);
			keyfilter = keybuf;
			break;
		case 'o':
			if (nspec == 2)
				errx(2, "-o: at most a start and an end");
			parse_spec(optarg, nspec++);
			break;
		default:
			prog_usage();
		}
	}
	*argcp -= optind;
	*argvp += optind;
	if (*argcp < 1)
		prog_usage();
	if (eflag && fflag)
		errx(2, "-e and -f exclude each other (" FOLLOW_HINT ")");
	/* An end time still to come is also a time to stop following. */
	if (hasend && endspec.kind == SL_SPEC_TIME_END &&
	    endspec.time > sl_now_ms())
		deadline = endspec.time;
	if (startspec.kind == SL_SPEC_TIME_END)
		errx(2, "-o: e@TIME is an end, not a start");
	if (gname != NULL && nspec > hasend)
		errx(2, "-g: the consumer's checkpoint is the start, -o gives "
		    "only an end");
}

int
main(int argc, char *argv[])
{
	int status = 0, r;

	prog_start(&logcat);
	sl_fmt_init(&fmt);
	options(&argc, &argv);
	if ((srcs = calloc(argc, sizeof *srcs)) == NULL)
		err(2, NULL);
	for (int i = 0; i < argc; i++)
		open_src(&srcs[i], argv[i]);
	if ((out = sl_out_open(STDOUT_FILENO, &fmt)) == NULL)
		err(2, "stdout");
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
		/* Every good record before the damage goes out first. */
		int e = errno;

		sl_out_flush(out);
		errno = e;
		fail_reader(srcs[-1 - r].path);
	}
	if (sl_out_close(out) < 0)
		err(2, "stdout");
	for (int i = 0; i < argc; i++) {
		sl_reader_close(srcs[i].r);
		free(srcs[i].name);
	}
	free(srcs);
	if (keyfilter != NULL && matched == 0)
		status = 1;
	return prog_finish(status);
}
