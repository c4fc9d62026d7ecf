/*
 * args.c - option arguments and the failures several programs report,
 * each mistake in one set of words whichever program meets it.
 *
 * A bad option argument is "-CH: invalid WHAT: ARG", exit 2, before
 * anything is read or written.  A library failure ends with its own
 * message and sl_exit_status(errno): 1 for damage, 2 otherwise.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "prog.h"

/* N, or with SUFFIXES as 4K, 1M, 2G when it is a multiple of those. */
static const char *
size_str(uint64_t n, int suffixes, char *buf, size_t len)
{
	static const char units[] = "KMG";
	int u = -1;

	while (suffixes && u < 2 && n >= 1024 && n % 1024 == 0) {
		n /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, len, "%" PRIu64, n);
	else
		snprintf(buf, len, "%" PRIu64 "%c", n, units[u]);
	return buf;
}

uint64_t
arg_u64(int ch, const char *what, const char *s, int suffixes, uint64_t min,
    uint64_t max)
{
	char lo[32], hi[32];
	uint64_t v;

	if (sl_parse_u64(s, suffixes, &v) < 0)
		errx(2, "-%c: invalid %s: %s", ch, what, s);
	if (v < min || v > max) {
		size_str(min, suffixes, lo, sizeof lo);
		if (max == UINT64_MAX)
			errx(2, "-%c: invalid %s: %s (at least %s)", ch, what,
			    s, lo);
		errx(2, "-%c: invalid %s: %s (from %s to %s)", ch, what, s,
		    lo, size_str(max, suffixes, hi, sizeof hi));
	}
	return v;
}

int64_t
arg_duration(int ch, const char *what, const char *s, int64_t unit,
    int64_t max)
{
	int64_t ms;

	if (sl_duration_parse(s, unit, &ms) < 0 || ms > max)
		errx(2, "-%c: invalid %s: %s", ch, what, s);
	return ms;
}

void
arg_spec(int ch, const char *s, struct sl_spec *spec)
{
	if (sl_spec_parse(s, sl_now_ms(), spec) == 0)
		return;
	if (ch == 0)
		errx(2, "invalid offset specification: %s", s);
	errx(2, "-%c: invalid offset specification: %s", ch, s);
}

void
arg_format(struct sl_fmt *f, int ch, const char *s)
{
	if (sl_fmt_option(f, ch, s) == 0)
		return;
	if (ch == 'F')
		errx(2, "-F: invalid template: %s", s);
	errx(2, "-%c: invalid delimiter: %s", ch, s);
}

const char *
arg_consumer(const char *name)
{
	if (!sl_consumer_name_ok(name))
		errx(2, "%s: invalid consumer name (letters, digits, '.', '_' "
		    "and '-', not starting with '.' or '-')", name);
	return name;
}

void
fail_open(void)
{
	errx(sl_exit_status(errno), "%s", sl_error());
}

void
fail_reader(const char *path)
{
	errx(sl_exit_status(errno), "%s: %s", path, sl_error());
}

int
ckpt_status(int errnum)
{
	return errnum == ENOENT || errnum == EBADMSG || errnum == ESTALE ?
	    1 : 2;
}

const char *
ckpt_strerror(int errnum, const struct sl_checkpoint *ck, const char *id,
    char *buf, size_t len)
{
	if (errnum == EBADMSG && ck->damage != NULL)
		snprintf(buf, len, "damaged checkpoint (%s); set it again "
		    "with logcheckpoint -s", ck->damage);
	else if (errnum == ESTALE)
		snprintf(buf, len, "checkpoint belongs to another log (id %s, "
		    "this log is %s); set it again with logcheckpoint -s",
		    ck->id, id);
	else
		snprintf(buf, len, "%s", sl_checkpoint_strerror(errnum));
	return buf;
}

const char *
ckpt_outside(uint64_t off, uint64_t begin, uint64_t end, char *buf,
    size_t len)
{
	char range[128];

	if (off > end && end != UINT64_MAX) {
		snprintf(buf, len, "checkpoint %" PRIu64 " is beyond the end "
		    "of the log (%" PRIu64 "): the log lost records or was "
		    "replaced; check it with logfsck, then set it again with "
		    "logcheckpoint -s", off, end);
		return buf;
	}
	if (off >= begin)
		return NULL;
	if (begin - off == 1)
		snprintf(range, sizeof range, "offset %" PRIu64 " was removed "
		    "before the consumer applied it", off);
	else
		snprintf(range, sizeof range, "offsets %" PRIu64 "-%" PRIu64
		    " were removed before the consumer applied them", off,
		    begin - 1);
	snprintf(buf, len, "checkpoint %" PRIu64 " is below the beginning of "
	    "the log (%" PRIu64 "): %s; logapply -s skips what is lost, "
	    "logcheckpoint -s sets the checkpoint", off, begin, range);
	return buf;
}
