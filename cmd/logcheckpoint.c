/*
 * logcheckpoint - list, read, set, shift, delete and wait for the
 * checkpoints of a log's consumers.
 *
 * Invariants: reading (list, get, wait) takes no lock and never writes;
 * every change is made under the consumer's lock, so it is refused while
 * a logapply holds that consumer, and -i compares and sets atomically
 * with respect to other changes.  A checkpoint is never set past the
 * log's end.  A damaged or foreign checkpoint is reported, never taken
 * for some offset; only -s and -d may overwrite one (that is the repair).
 */
#include <sys/inotify.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"
#include "prog.h"

enum mode { M_SHOW, M_SET, M_SHIFT, M_DELETE, M_WAIT };

static enum mode mode = M_SHOW;
static int	 dryrun, json, yaml;
static const char *ifold;		/* -i, as given */
static uint64_t	 ifoff;			/* -i, unless none */
static struct sl_spec setspec, waitspec;
static int	 haswait;		/* -o given */
static double	 timeout = -1;
static intmax_t	 shiftn;

static const char *logdir;
static sl_reader *rd;
static struct sl_settings settings;

static const struct opt opts[] = {
	{ 'd', "delete", NULL, "delete the consumer" },
	{ 'i', "if", "old", "change only if the checkpoint is old (or none)" },
	{ 'J', "json", NULL, "list or print as JSON Lines" },
	{ 'n', "dry-run", NULL, "change nothing, print what would change" },
	{ 'o', "offset", "spec", "with -w: wait for the record spec names" },
	{ 'S', "shift", "n", "move the checkpoint by n records (signed)" },
	{ 's', "set", "spec", "set the checkpoint to spec" },
	{ 'T', "timeout", "seconds", "with -w: give up after seconds" },
	{ 'w', "wait", NULL, "wait until every name applied the last record" },
	{ 'Y', "yaml", NULL, "list or print as YAML" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logcheckpoint = {
	"logcheckpoint",
	"usage: logcheckpoint [-J | -Y] log [name]\n"
	"       logcheckpoint [-n] [-i old] -s spec | -S n | -d log name\n"
	"       logcheckpoint -w [-o spec] [-T seconds] log name ...",
	0, opts, NULL
};

/* A message for checkpoint error E of a consumer (CK for details). */
static const char *
ckerr(int e, const struct sl_checkpoint *ck, char *buf, size_t len)
{
	return ckpt_strerror(e, ck, settings.id, buf, len);
}

static void
bounds(uint64_t *begin, uint64_t *end)
{
	/* Damage before the end of the log hides its end (and so every
	 * lag and limit): a data problem, exit 1; logfsck says more. */
	if (sl_reader_bounds(rd, begin, end) == -1)
		fail_reader(logdir);
}

/*
 * Read NAME's checkpoint: 0; 1 and a warning when it lies outside the log
 * (below its beginning, or beyond its end): it is still shown, as a
 * script needs it to recover; -1 and a warning when it cannot be read.
 */
static int
getck(const char *name, struct sl_checkpoint *ck, uint64_t begin,
    uint64_t end)
{
	char msg[512];

	if (sl_checkpoint_read(logdir, name, settings.id, ck) == -1) {
		warnx("%s: %s: %s", logdir, name, ckerr(errno, ck, msg,
		    sizeof msg));
		return -1;
	}
	if (ckpt_outside(ck->offset, begin, end, msg, sizeof msg) != NULL) {
		warnx("%s: %s: %s", logdir, name, msg);
		return 1;
	}
	return 0;
}

/*
 * One consumer: text, or an object of the emitter E (a JSON line, a YAML
 * document).  END UINT64_MAX: the log's end is unknown, and so is the
 * lag (null, or - in text).
 */
static void
show(sl_emit *e, const char *name, const struct sl_checkpoint *ck,
    uint64_t end, int full)
{
	char tbuf[SL_TIME_MAX], lag[24] = "-";

	if (e != NULL) {
		sl_emit_object(e, NULL);
		sl_emit_str(e, "consumer", name);
		sl_emit_u64(e, "offset", ck->offset);
		if (end == UINT64_MAX)
			sl_emit_null(e, "lag");
		else
			sl_emit_u64(e, "lag", end - ck->offset);
		sl_emit_time(e, "updated", ck->updated);
		sl_emit_end(e);
	} else if (full) {
		if (end != UINT64_MAX)
			snprintf(lag, sizeof lag, "%" PRIu64, end - ck->offset);
		printf("%s %" PRIu64 " %s %s\n", name, ck->offset, lag,
		    sl_time_format(ck->updated, tbuf, sizeof tbuf));
	} else
		printf("%" PRIu64 "\n", ck->offset);
}

/* List every consumer, or show one: 0, or 1 when one could not be shown. */
static int
cmd_show(char **names)
{
	struct sl_checkpoint ck;
	sl_emit *e = NULL;
	char **list = NULL;
	uint64_t begin, end;
	int r, rval = 0;

	/*
	 * Damage before the end hides where the log ends: the checkpoints
	 * are still shown (a script may need them to recover), lags unknown,
	 * and the exit status says there is a data problem.
	 */
	if (sl_reader_bounds(rd, &begin, &end) == -1) {
		if (errno != EBADMSG)
			fail_reader(logdir);
		warnx("%s: %s; lags unknown", logdir, sl_error());
		begin = 0;
		end = UINT64_MAX;
		rval = 1;
	}
	if (names[0] == NULL) {
		if ((list = sl_checkpoint_list(logdir)) == NULL)
			err(2, "%s", logdir);
		names = list;
	}
	if ((json || yaml) && (e = sl_emit_open(stdout, json ? SL_EMIT_JSON :
	    SL_EMIT_YAML)) == NULL)
		err(2, NULL);
	for (; *names != NULL; names++) {
		if ((r = getck(*names, &ck, begin, end)) != 0)
			rval = 1;
		if (r >= 0)
			show(e, *names, &ck, ck.offset > end ? UINT64_MAX :
			    end, list != NULL);
	}
	sl_emit_close(e);
	sl_checkpoint_list_free(list);
	return rval;
}

/* Where -s or -S takes NAME from its current checkpoint CUR (or none). */
static uint64_t
target(const char *name, const struct sl_checkpoint *cur, int have)
{
	uint64_t off, begin, end;
	intmax_t n = shiftn;

	/*
	 * The offset first, the end after: a writer may append between the
	 * two, and the end only grows, so that end, -N and s@TIME, which
	 * resolve against the end of their moment, are never beyond it.
	 */
	if (mode == M_SET) {
		if (sl_reader_resolve(rd, &setspec, &off) == -1)
			fail_reader(logdir);
	} else {
		if (!have)
			errx(1, "%s: %s: no such consumer", logdir, name);
		if (n < 0 && (uintmax_t)-(n + 1) >= cur->offset)
			errx(2, "%s: %s: shift by %jd goes before offset 0",
			    logdir, name, n);
		off = cur->offset + n;
		if (n > 0 && off < cur->offset)
			off = UINT64_MAX;
	}
	bounds(&begin, &end);
	if (off > end)
		errx(2, "%s: %s: offset %" PRIu64 " is beyond the end of the "
		    "log (%" PRIu64 ")", logdir, name, off, end);
	/* There it would have lost what lies below the beginning. */
	if (off < begin)
		errx(2, "%s: %s: offset %" PRIu64 " is below the beginning of "
		    "the log (%" PRIu64 ")", logdir, name, off, begin);
	return off;
}

/* -s, -S and -d, under the consumer's lock. */
static int
cmd_change(const char *name)
{
	struct sl_checkpoint ck;
	char msg[512], old[24] = "none";
	uint64_t off = 0;
	int lk, have, e;

	if ((lk = sl_consumer_lock(logdir, name, 0)) == -1) {
		e = errno;
		if (e == EWOULDBLOCK)
			errx(1, "%s: %s: %s", logdir, name,
			    sl_checkpoint_strerror(e));
		errno = e;
		err(2, "%s: %s", logdir, name);
	}
	have = sl_checkpoint_read(logdir, name, settings.id, &ck) == 0;
	if (!have) {
		e = errno;
		if (e != ENOENT && (mode == M_SHIFT || ifold != NULL))
			errx(1, "%s: %s: %s", logdir, name,
			    ckerr(e, &ck, msg, sizeof msg));
		if (e != ENOENT && e != EBADMSG && e != ESTALE) {
			errno = e;
			err(2, "%s: %s", logdir, name);
		}
		if (e == ENOENT && mode == M_DELETE)
			errx(1, "%s: %s: no such consumer", logdir, name);
		if (e == EBADMSG || e == ESTALE)
			snprintf(old, sizeof old, "%s", e == EBADMSG ?
			    "damaged" : "foreign");
	} else
		snprintf(old, sizeof old, "%" PRIu64, ck.offset);
	if (ifold != NULL && strcmp(ifold, "none") != 0 &&
	    (!have || ck.offset != ifoff))
		errx(1, "%s: %s: checkpoint is %s, not %s", logdir, name, old,
		    ifold);
	if (ifold != NULL && strcmp(ifold, "none") == 0 && have)
		errx(1, "%s: %s: checkpoint is %s, not none", logdir, name,
		    old);
	if (mode != M_DELETE)
		off = target(name, &ck, have);
	if (dryrun) {
		if (mode == M_DELETE)
			printf("%s %s deleted\n", name, old);
		else
			printf("%s %s %" PRIu64 "\n", name, old, off);
	} else if (mode == M_DELETE) {
		if (sl_checkpoint_remove(logdir, name) == -1)
			err(2, "%s: %s", logdir, name);
		return 0;
	} else if (sl_checkpoint_write(logdir, name, settings.id, off) == -1)
		err(2, "%s: %s", logdir, name);
	sl_consumer_unlock(lk);
	return 0;
}

static int
remaining_ms(const struct timespec *deadline)
{
	struct timespec now;
	long long ns;

	if (timeout < 0)
		return -1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
	    (deadline->tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	ns = (ns + 999999) / 1000000;
	return ns > INT_MAX ? INT_MAX : (int)ns;
}

/*
 * The checkpoint every NAME must reach for -w: past the record -o names,
 * written yet or not (end names the next one to be written, as it does
 * for logcat -o), or, for e@TIME, past every record before TIME; without
 * -o, past the last record there is now.
 */
static uint64_t
wait_target(void)
{
	uint64_t off, end;

	bounds(NULL, &end);
	if (!haswait)
		return end;
	if (waitspec.kind == SL_SPEC_ABSOLUTE)
		off = waitspec.n;
	else if (sl_reader_resolve(rd, &waitspec, &off) == -1)
		fail_reader(logdir);
	if (waitspec.kind == SL_SPEC_TIME_END)
		return off;
	return off == UINT64_MAX ? off : off + 1;
}

/*
 * -w: sleep on inotify events of the consumers directory until every
 * checkpoint has reached the target.  Checkpoints are replaced by rename,
 * so IN_MOVED_TO sees every change.
 */
static int
cmd_wait(char **names)
{
	struct sl_checkpoint ck;
	struct timespec deadline;
	struct pollfd pfd;
	char dir[PATH_MAX], msg[512], buf[4096];
	uint64_t want, begin;
	char **np;
	int ino, ms, n;

	want = wait_target();
	if (sl_checkpoint_path(logdir, NULL, dir, sizeof dir) == NULL)
		err(2, "%s", logdir);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (timeout >= 0) {
		deadline.tv_sec += (time_t)timeout;
		deadline.tv_nsec += (long)((timeout - (time_t)timeout) * 1e9);
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
	}
	if ((ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		err(2, "inotify");
	/* Watch first, then read, so no change falls between. */
	if (inotify_add_watch(ino, dir, IN_MOVED_TO | IN_CLOSE_WRITE |
	    IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF) == -1) {
		if (errno == ENOENT)
			errx(1, "%s: %s: no such consumer", logdir, names[0]);
		err(2, "%s", dir);
	}
	for (;;) {
		bounds(&begin, NULL);
		for (np = names; *np != NULL; np++) {
			if (sl_checkpoint_read(logdir, *np, settings.id,
			    &ck) == -1)
				errx(ckpt_status(errno), "%s: %s: %s", logdir,
				    *np, ckerr(errno, &ck, msg, sizeof msg));
			/* Below the beginning it cannot get anywhere
			 * without being moved on: no use waiting. */
			if (ckpt_outside(ck.offset, begin, UINT64_MAX, msg,
			    sizeof msg) != NULL)
				errx(1, "%s: %s: %s", logdir, *np, msg);
			if (ck.offset < want)
				break;
		}
		if (*np == NULL)
			return 0;
		if ((ms = remaining_ms(&deadline)) == 0)
			errx(1, "%s: %s: timeout at offset %" PRIu64
			    ", waiting for %" PRIu64, logdir, *np, ck.offset,
			    want);
		pfd.fd = ino;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, ms)) == -1 && errno != EINTR)
			err(2, "poll");
		while (n > 0 && read(ino, buf, sizeof buf) > 0)
			;
	}
}

static void
setmode(enum mode m)
{
	if (mode != M_SHOW && mode != m)
		errx(2, "-s, -S, -d and -w exclude each other");
	mode = m;
}

/* The options; what is left of ARGV is the log and the names. */
static void
options(int *argcp, char ***argvp)
{
	char *ep;
	int64_t ms;
	int ch, argc;

	while ((ch = prog_getopt(*argcp, *argvp)) != -1) {
		switch (ch) {
		case 'J':
			json = 1;
			yaml = 0;
			break;
		case 'S':
			setmode(M_SHIFT);
			errno = 0;
			shiftn = strtoimax(optarg, &ep, 10);
			if (*optarg == '\0' || *ep != '\0' || errno != 0)
				errx(2, "-S: invalid shift: %s", optarg);
			break;
		case 'T':
			if (sl_duration_parse(optarg, 1000, &ms) < 0 ||
			    ms > 1000000000000LL)
				errx(2, "-T: invalid timeout: %s", optarg);
			timeout = ms / 1000.0;
			break;
		case 'Y':
			yaml = 1;
			json = 0;
			break;
		case 'd':
			setmode(M_DELETE);
			break;
		case 'i':
			ifold = optarg;
			if (strcmp(optarg, "none") != 0)
				ifoff = arg_u64(ch, "offset", optarg, 0, 0,
				    UINT64_MAX - 1);
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'o':
			arg_spec(ch, optarg, &waitspec);
			haswait = 1;
			break;
		case 's':
			setmode(M_SET);
			arg_spec(ch, optarg, &setspec);
			break;
		case 'w':
			setmode(M_WAIT);
			break;
		default:
			prog_usage();
		}
	}
	argc = *argcp -= optind;
	*argvp += optind;
	if (argc < 1 || (mode == M_SHOW && argc > 2) ||
	    ((mode == M_SET || mode == M_SHIFT || mode == M_DELETE) &&
	    argc != 2) || (mode == M_WAIT && argc < 2))
		prog_usage();
	if ((dryrun || ifold) && (mode == M_SHOW || mode == M_WAIT))
		errx(2, "-n and -i go with -s, -S or -d");
	if ((haswait || timeout >= 0) && mode != M_WAIT)
		errx(2, "-o and -T go with -w");
	if ((json || yaml) && mode != M_SHOW)
		errx(2, "-J and -Y go with listing or showing a consumer");
	for (int i = 1; i < argc; i++)
		arg_consumer((*argvp)[i]);
}

int
main(int argc, char *argv[])
{
	int rval;

	prog_start(&logcheckpoint);
	options(&argc, &argv);

	logdir = argv[0];
	if ((rd = sl_reader_open(logdir)) == NULL)
		fail_open();
	if (sl_settings_read(logdir, &settings) == -1)
		errx(2, "%s: not a log directory", logdir);

	switch (mode) {
	case M_SHOW:
		rval = cmd_show(argv + 1);
		break;
	case M_WAIT:
		rval = cmd_wait(argv + 1);
		break;
	default:
		rval = cmd_change(argv[1]);
		break;
	}
	sl_reader_close(rd);
	return prog_finish(rval);
}
