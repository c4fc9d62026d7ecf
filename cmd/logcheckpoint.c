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
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"

enum mode { M_SHOW, M_SET, M_SHIFT, M_DELETE, M_WAIT };

static enum mode mode = M_SHOW;
static int	 dryrun, json, yaml;
static const char *ifold, *setspec, *waitspec;
static double	 timeout = -1;
static intmax_t	 shiftn;

static const char *logdir;
static sl_reader *rd;
static struct sl_settings settings;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: logcheckpoint [-J | -Y] log [name]\n"
	    "       logcheckpoint [-n] [-i old] -s spec | -S n | -d log name\n"
	    "       logcheckpoint -w [-o spec] [-T seconds] log name ...\n");
}

/* A message for checkpoint error E of consumer NAME (ck for details). */
static const char *
ckerr(int e, const struct sl_checkpoint *ck, char *buf, size_t len)
{
	if (e == EBADMSG && ck != NULL && ck->damage != NULL)
		snprintf(buf, len, "damaged checkpoint (%s); set it again "
		    "with logcheckpoint -s", ck->damage);
	else if (e == ESTALE && ck != NULL)
		snprintf(buf, len, "checkpoint belongs to another log "
		    "(id %s, this log is %s)", ck->id, settings.id);
	else
		snprintf(buf, len, "%s", sl_checkpoint_strerror(e));
	return buf;
}

static void
bounds(uint64_t *begin, uint64_t *end)
{
	/* Damage before the end of the log hides its end (and so every
	 * lag and limit): a data problem, exit 1; logfsck says more. */
	if (sl_reader_bounds(rd, begin, end) == -1)
		errx(errno == EBADMSG ? 1 : 2, "%s: %s", logdir,
		    sl_reader_error(rd));
}

/* Read NAME's checkpoint, -1 and a warning when it cannot be used. */
static int
getck(const char *name, struct sl_checkpoint *ck, uint64_t end)
{
	char msg[256];

	if (sl_checkpoint_read(logdir, name, settings.id, ck) == -1) {
		warnx("%s: %s: %s", logdir, name, ckerr(errno, ck, msg,
		    sizeof msg));
		return -1;
	}
	if (end != UINT64_MAX && ck->offset > end) {
		warnx("%s: %s: checkpoint %" PRIu64 " is beyond the end of "
		    "the log (%" PRIu64 ")", logdir, name, ck->offset, end);
		return -1;
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
	uint64_t end;
	int rval = 0;

	/*
	 * Damage before the end hides where the log ends: the checkpoints
	 * are still shown (a script may need them to recover), lags unknown,
	 * and the exit status says there is a data problem.
	 */
	if (sl_reader_bounds(rd, NULL, &end) == -1) {
		if (errno != EBADMSG)
			errx(2, "%s: %s", logdir, sl_reader_error(rd));
		warnx("%s: %s; lags unknown", logdir, sl_reader_error(rd));
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
		if (getck(*names, &ck, end) == -1) {
			rval = 1;
			continue;
		}
		show(e, *names, &ck, end, list != NULL);
	}
	sl_emit_close(e);
	sl_checkpoint_list_free(list);
	return rval;
}

static uint64_t
parse_u64(const char *s, const char *what)
{
	uint64_t v;

	if (sl_parse_u64(s, 0, &v) < 0 || v == UINT64_MAX)
		errx(2, "%s: invalid %s", s, what);
	return v;
}

/* Where -s or -S takes NAME from its current checkpoint CUR (or none). */
static uint64_t
target(const char *name, const struct sl_checkpoint *cur, int have)
{
	struct sl_spec spec;
	uint64_t off, end;
	intmax_t n = shiftn;

	bounds(NULL, &end);
	if (mode == M_SET) {
		if (sl_spec_parse(setspec, sl_now_ms(), &spec) == -1)
			errx(2, "%s: invalid offset specification", setspec);
		if (sl_reader_resolve(rd, &spec, &off) == -1)
			errx(2, "%s", sl_reader_error(rd));
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
	if (off > end)
		errx(2, "%s: %s: offset %" PRIu64 " is beyond the end of the "
		    "log (%" PRIu64 ")", logdir, name, off, end);
	return off;
}

/* -s, -S and -d, under the consumer's lock. */
static int
cmd_change(const char *name)
{
	struct sl_checkpoint ck;
	char msg[256], old[24] = "none";
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
	    (!have || ck.offset != parse_u64(ifold, "offset")))
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

/* The checkpoint every NAME must reach for -w. */
static uint64_t
wait_target(void)
{
	struct sl_spec spec;
	uint64_t off, end;

	bounds(NULL, &end);
	if (waitspec == NULL)
		return end;
	if (sl_spec_parse(waitspec, sl_now_ms(), &spec) == -1)
		errx(2, "%s: invalid offset specification", waitspec);
	switch (spec.kind) {
	case SL_SPEC_END:
		return end;
	case SL_SPEC_ABSOLUTE:
		return spec.n == UINT64_MAX ? spec.n : spec.n + 1;
	default:
		break;
	}
	if (sl_reader_resolve(rd, &spec, &off) == -1)
		errx(2, "%s", sl_reader_error(rd));
	if (spec.kind == SL_SPEC_TIME_END || off >= end)
		return off > end ? end : off;
	return off + 1;
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
	char dir[PATH_MAX], msg[256], buf[4096];
	uint64_t want;
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
		for (np = names; *np != NULL; np++) {
			if (sl_checkpoint_read(logdir, *np, settings.id,
			    &ck) == -1) {
				if (errno == ENOENT || errno == EBADMSG ||
				    errno == ESTALE)
					errx(1, "%s: %s: %s", logdir, *np,
					    ckerr(errno, &ck, msg, sizeof msg));
				err(2, "%s: %s", logdir, *np);
			}
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
checkname(const char *name)
{
	if (!sl_consumer_name_ok(name))
		errx(2, "%s: invalid consumer name (use letters, digits, "
		    "'.', '_' and '-', not starting with '.')", name);
}

static void
setmode(enum mode m)
{
	if (mode != M_SHOW && mode != m)
		errx(2, "-s, -S, -d and -w exclude each other");
	mode = m;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json",	no_argument,		NULL, 'J' },
		{ "shift",	required_argument,	NULL, 'S' },
		{ "timeout",	required_argument,	NULL, 'T' },
		{ "yaml",	no_argument,		NULL, 'Y' },
		{ "delete",	no_argument,		NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "if",		required_argument,	NULL, 'i' },
		{ "dry-run",	no_argument,		NULL, 'n' },
		{ "offset",	required_argument,	NULL, 'o' },
		{ "set",	required_argument,	NULL, 's' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "wait",	no_argument,		NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	char *ep;
	int64_t ms;
	int ch, rval, i;

	if (sl_guard_stdio() < 0)
		err(2, "/dev/null");
	while ((ch = getopt_long(argc, argv, "JS:T:VYdhi:no:s:w", longopts,
	    NULL)) != -1) {
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
				errx(2, "%s: invalid shift", optarg);
			break;
		case 'T':
			if (sl_duration_parse(optarg, 1000, &ms) < 0 ||
			    ms > 1000000000000LL)
				errx(2, "%s: invalid timeout", optarg);
			timeout = ms / 1000.0;
			break;
		case 'V':
			printf("logcheckpoint synclog %s\n", SL_VERSION);
			return 0;
		case 'Y':
			yaml = 1;
			json = 0;
			break;
		case 'd':
			setmode(M_DELETE);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'i':
			ifold = optarg;
			break;
		case 'n':
			dryrun = 1;
			break;
		case 'o':
			waitspec = optarg;
			break;
		case 's':
			setmode(M_SET);
			setspec = optarg;
			break;
		case 'w':
			setmode(M_WAIT);
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (argc < 1 || (mode == M_SHOW && argc > 2) ||
	    ((mode == M_SET || mode == M_SHIFT || mode == M_DELETE) &&
	    argc != 2) || (mode == M_WAIT && argc < 2)) {
		usage(stderr);
		return 2;
	}
	if ((dryrun || ifold) && (mode == M_SHOW || mode == M_WAIT))
		errx(2, "-n and -i go with -s, -S or -d");
	if ((waitspec || timeout >= 0) && mode != M_WAIT)
		errx(2, "-o and -T go with -w");
	if ((json || yaml) && mode != M_SHOW)
		errx(2, "-J and -Y go with listing or showing a consumer");
	for (i = 1; i < argc; i++)
		checkname(argv[i]);
	if (ifold != NULL && strcmp(ifold, "none") != 0)
		parse_u64(ifold, "offset");

	logdir = argv[0];
	if ((rd = sl_reader_open(logdir)) == NULL)
		errx(2, "%s", sl_open_error());
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
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return rval;
}
