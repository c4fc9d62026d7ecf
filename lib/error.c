/*
 * error.c - the library's one error convention.  A call that fails
 * returns -1 (or NULL) with errno set, and leaves a message for the user,
 * "OBJECT: reason" without the program's name, in a buffer of the calling
 * thread, read with sl_error().  A failure in one of the library's own
 * threads (the writer's committer) is handed to the caller's thread by the
 * call that reports it.  The program decides what to print and which exit
 * status follows (sl_exit_status).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "synclog.h"
#include "log.h"

static _Thread_local char message[1024];

const char *
sl_error(void)
{
	return message;
}

void
sl_vseterr(const char *fmt, va_list ap)
{
	char buf[sizeof message];
	int e = errno;

	/* Through a copy: the message may be made of the one before, as in
	 * sl_seterr("%s: %s", path, sl_error()). */
	vsnprintf(buf, sizeof buf, fmt, ap);
	memcpy(message, buf, sizeof message);
	errno = e;
}

void
sl_seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vseterr(fmt, ap);
	va_end(ap);
}

int
sl_fail(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vseterr(fmt, ap);
	va_end(ap);
	errno = errnum;
	return -1;
}

int
sl_exit_status(int errnum)
{
	/* Damage found is an answer about the data, not a failure to get
	 * one; a program maps its own negative answers (-x, a timeout) to 1
	 * itself. */
	return errnum == EBADMSG ? 1 : 2;
}
