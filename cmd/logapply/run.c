/*
 * run.c - logapply's runs of its command: the command found once in
 * PATH, its environment made once, a batch spawned on its spool file,
 * retried with backoff, and, with a dead-letter log, split in halves until
 * the records that fail alone are found and set aside.
 *
 * The checkpoint moves to LAST+1 only after the command exited 0, or
 * after the one record that fails alone is durably in the dead-letter log.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "extern.h"

extern char **environ;

/*
 * The command's environment, made once: ours without any LOGAPPLY_
 * variable, then the consumer's; spawn() rewrites FIRST and LAST in place.
 * No setenv(3) per batch: it would keep every value it was ever given.
 */
void
mkenv(struct run *r)
{
	static const char *const ours[] = { "LOGAPPLY_CONSUMER=",
	    "LOGAPPLY_LOG=", "LOGAPPLY_LOG_ID=", "LOGAPPLY_FIRST=",
	    "LOGAPPLY_LAST=", NULL };
	size_t n = 0, i, k;

	while (environ[n] != NULL)
		n++;
	if ((r->envp = calloc(n + 6, sizeof *r->envp)) == NULL)
		die(r, 2, "%s", strerror(errno));
	for (i = k = 0; i < n; i++) {
		size_t j;

		for (j = 0; ours[j] != NULL; j++)
			if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
				break;
		if (ours[j] == NULL)
			r->envp[k++] = environ[i];
	}
	if (asprintf(&r->envp[k++], "LOGAPPLY_CONSUMER=%s", r->c->name) ==
	    -1 ||
	    asprintf(&r->envp[k++], "LOGAPPLY_LOG=%s", r->c->log) == -1 ||
	    asprintf(&r->envp[k++], "LOGAPPLY_LOG_ID=%s", r->set.id) == -1)
		die(r, 2, "%s", strerror(errno));
	r->envp[k++] = r->envfirst;
	r->envp[k++] = r->envlast;
	r->envp[k] = NULL;
}

void
freeenv(struct run *r)
{
	size_t i;

	if (r->envp == NULL)
		return;
	for (i = 0; r->envp[i] != r->envfirst; i++)
		;
	/* The three that mkenv() allocated come just before. */
	free(r->envp[i - 1]);
	free(r->envp[i - 2]);
	free(r->envp[i - 3]);
	free(r->envp);
	r->envp = NULL;
}

/*
 * Start the command on spool S.  It gets its own process group, so that a
 * ^C meant for logapply lets it finish the batch.  It also inherits the
 * consumer's lock: if logapply is killed, the command may still be
 * applying its batch, and no other logapply may start on the consumer
 * until it is done.
 *
 * vfork(2), as posix_spawn(3) does, without what glibc's adds per call (a
 * stack mapped and unmapped, which costs the checkpoint thread a TLB
 * shootdown, and a sigaction(2) for each of the 64 signals): the child
 * shares our memory until it execs, so it makes only system calls, with
 * every signal blocked until the two we catch are back to their default.
 * Its copy of the descriptor table and of the handlers is its own.
 */
static pid_t
spawn(struct run *r, struct spool *s)
{
	struct sigaction dfl;
	sigset_t all, old;
	volatile int e = 0;	/* the child's errno, in our memory */
	pid_t pid;
	int fd = s->f->rfd, lk = r->lock;

	/* No batch starts once a checkpoint could not be written. */
	ckcheck(r);
	if (lseek(fd, 0, SEEK_SET) == -1)
		die(r, 2, "spool: %s", strerror(errno));
	snprintf(r->envfirst, sizeof r->envfirst, "LOGAPPLY_FIRST=%" PRIu64,
	    s->first);
	snprintf(r->envlast, sizeof r->envlast, "LOGAPPLY_LAST=%" PRIu64,
	    s->last);
	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if ((pid = vfork()) == 0) {
		if (sigaction(SIGINT, &dfl, NULL) == -1 ||
		    sigaction(SIGTERM, &dfl, NULL) == -1 ||
		    setpgid(0, 0) == -1 || dup2(fd, STDIN_FILENO) == -1 ||
		    fcntl(lk, F_SETFD, 0) == -1 ||
		    sigprocmask(SIG_SETMASK, &old, NULL) == -1) {
			e = errno;
			_exit(127);
		}
		execve(r->path, r->c->argv, r->envp);
		e = errno;
		_exit(127);
	}
	if (pid == -1)
		e = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		if (pid > 0)
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
		die(r, 2, "%s: %s", r->c->argv[0], strerror(e));
	}
	return pid;
}

/*
 * Wait for the command: OK when it exited 0; otherwise FAILED with a
 * description in WHY and *TEMP set for a transient failure: EX_TEMPFAIL,
 * or a signal (the command was killed: out of memory, by a person, by a
 * shutdown), which says nothing against the records.
 */
static int
reap(struct run *r, pid_t pid, char *why, size_t len, int *temp)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			die(r, 2, "waitpid: %s", strerror(errno));
	*temp = 0;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return OK;
	if (WIFEXITED(st)) {
		*temp = WEXITSTATUS(st) == EX_TEMPFAIL;
		snprintf(why, len, "exit status %d", WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		*temp = 1;
		snprintf(why, len, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	}
	else
		snprintf(why, len, "wait status %#x", st);
	return FAILED;
}

/*
 * Up to TRIES runs, with exponential backoff before each but the first
 * (and before the first too when FAILED already); STOPPED on a signal.
 */
static int
attempt(struct run *r, struct spool *s, unsigned tries, int failed,
    char *why, size_t len, int *temp)
{
	unsigned delay = r->c->delay;
	unsigned i;

	for (i = 0; i < tries; i++) {
		if (i > 0 || failed) {
			if (stopping)
				return STOPPED;
			sleep_or_signal(-1, (int)delay);
			if (stopping)
				return STOPPED;
			delay = delay > BACKOFF_MAX / 2 ? BACKOFF_MAX :
			    delay * 2;
		}
		if (reap(r, spawn(r, s), why, len, temp) == OK)
			return OK;
	}
	return FAILED;
}

static void
header(struct sl_header *h, const char *name, const char *value)
{
	h->name = (const unsigned char *)name;
	h->namelen = strlen(name);
	h->value = (const unsigned char *)value;
	h->valuelen = strlen(value);
}

/*
 * Append the record at OFFSET to the dead-letter log, durably, with
 * headers saying where it came from and why it failed.
 */
static void
deadletter(struct run *r, uint64_t offset, const char *why)
{
	struct sl_record rec, dead;
	struct sl_header *h;
	char off[24];
	uint64_t first;
	int rc;

	if (sl_reader_seek(r->rd, offset) == -1 ||
	    (rc = sl_reader_next(r->rd, &rec)) == -1)
		die(r, sl_exit_status(errno), "%s", sl_error());
	if (rc == 0 || rec.offset != offset)
		die(r, 1, "record %" PRIu64 " vanished", offset);
	r->at = offset + 1;
	if ((h = calloc(rec.nheaders + 5, sizeof *h)) == NULL)
		die(r, 2, "%s", strerror(errno));
	if (rec.nheaders > 0)
		memcpy(h, rec.headers, rec.nheaders * sizeof *h);
	snprintf(off, sizeof off, "%" PRIu64, offset);
	header(&h[rec.nheaders], "logapply.log", r->c->log);
	header(&h[rec.nheaders + 1], "logapply.log_id", r->set.id);
	header(&h[rec.nheaders + 2], "logapply.offset", off);
	header(&h[rec.nheaders + 3], "logapply.consumer", r->c->name);
	header(&h[rec.nheaders + 4], "logapply.error", why);
	dead = rec;
	dead.headers = h;
	dead.nheaders = rec.nheaders + 5;
	if (sl_writer_add(r->dl, &dead) == -1 ||
	    sl_writer_commit(r->dl, SL_NO_OFFSET, &first) == -1)
		die(r, errno == EMSGSIZE ? 1 : 2, "dead letter %s: %s",
		    r->c->deadletter, errno == EMSGSIZE ?
		    "record too large" : sl_error());
	free(h);
	warnx("%s: %s: offset %" PRIu64 " failed (%s); appended to %s at "
	    "offset %" PRIu64, r->c->log, r->c->name, offset, why,
	    r->c->deadletter, first);
}

static void
range_msg(char *buf, size_t len, const struct spool *s)
{
	if (s->first == s->last)
		snprintf(buf, len, "offset %" PRIu64, s->first);
	else
		snprintf(buf, len, "offsets %" PRIu64 "-%" PRIu64, s->first,
		    s->last);
}

/*
 * Apply spool S: run it with retries; when it still fails and there is a
 * dead-letter log, split it in halves until the records that fail alone
 * are found, apply the others and set those aside.  TOP: S is a whole
 * batch, tried as often as a single record.  DONE: S ran and failed once
 * already (with WHY and TEMP).
 */
static int
settle(struct run *r, struct spool *s, int top, int done, char *why,
    size_t len, int temp)
{
	struct spool h;
	uint64_t mid, lo, hi;
	char where[64];
	unsigned tries;
	int rc = FAILED, half;

	tries = top || s->n == 1 ? r->c->retries + 1 : 1;
	if ((unsigned)done < tries && (rc = attempt(r, s, tries - done, done,
	    why, len, &temp)) == OK) {
		r->applied += s->n;
		commit(r, s->last + 1);
		return OK;
	}
	range_msg(where, sizeof where, s);
	if (rc == STOPPED) {
		/* A signal came during the backoff, after a failure. */
		warnx("%s: %s: command failed on %s (%s); stopping",
		    r->c->log, r->c->name, where, why);
		return STOPPED;
	}
	if (r->dl == NULL || temp)
		die(r, 1, "command failed on %s (%s)%s", where, why,
		    r->dl != NULL ? "; a transient failure is never set aside" :
		    "");
	if (s->n == 1) {
		deadletter(r, s->first, why);
		commit(r, s->last + 1);
		return OK;
	}
	mid = s->first + (s->last - s->first) / 2;
	for (half = 0; half < 2; half++) {
		if (stopping)
			return STOPPED;
		lo = half ? mid + 1 : s->first;
		hi = half ? s->last : mid;
		spool(r, lo, hi, UINT64_MAX, &h);
		if (h.lost)
			lostfail(r);
		if (h.rerr)
			readfail(r, h.rerrno);
		rc = h.n > 0 ? settle(r, &h, 0, 0, why, len, 0) : OK;
		unspool(&h);
		if (rc != OK)
			return rc;
	}
	return OK;
}

/*
 * Apply batch CUR and spool the next one into NXT while its command
 * runs, so that reading the log and applying it overlap.
 */
int
apply(struct run *r, struct spool *cur, struct spool *nxt)
{
	char why[128];
	uint64_t at;
	pid_t pid;
	int rc, temp;

	pid = spawn(r, cur);
	memset(nxt, 0, sizeof *nxt);
	if (!cur->rerr && !stopping)
		spool(r, cur->last + 1, UINT64_MAX, r->c->batch, nxt);
	if (reap(r, pid, why, sizeof why, &temp) == OK) {
		r->applied += cur->n;
		commit(r, cur->last + 1);
		return OK;
	}
	at = r->at;
	rc = settle(r, cur, 1, 1, why, sizeof why, temp);
	if (r->at != at)
		r->at = UINT64_MAX;	/* the next spool seeks back */
	return rc;
}

/*
 * The program the command runs, searched in PATH once rather than at every
 * batch, as execvp(3) would.
 */
char *
findprog(const char *prog)
{
	const char *path, *p, *q;
	char *buf;
	size_t len;

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == -1 ? NULL : strdup(prog);
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/local/bin:/bin:/usr/bin";
	for (p = path; ; p = q + 1) {
		q = strchrnul(p, ':');
		len = q == p ? 1 : (size_t)(q - p);
		if ((buf = malloc(len + strlen(prog) + 2)) == NULL)
			return NULL;
		sprintf(buf, "%.*s/%s", (int)len, q == p ? "." : p, prog);
		if (access(buf, X_OK) == 0)
			return buf;
		free(buf);
		if (*q == '\0')
			break;
	}
	errno = ENOENT;
	return NULL;
}

