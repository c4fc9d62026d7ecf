/*
 * log.h - settings.c: the settings file that makes a directory a log, and
 * the message of a failed open.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdarg.h>

#include "synclog.h"

/* Set the message of a failed open (sl_error()). */
void	sl_set_open_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* The settings of the log whose directory is DIRFD, as sl_settings_read;
 * make them (the log's id drawn at random), atomically. */
int	sl_settings_readat(int dirfd, struct sl_settings *);
int	sl_settings_create(int dirfd, const struct sl_writer_opts *,
	    struct sl_settings *);

/* error.c: set the message sl_error() returns (errno kept), or set it
 * and errno and return -1. */
void	sl_seterr(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
void	sl_vseterr(const char *fmt, va_list ap);
int	sl_fail(int errnum, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif /* SL_LOG_H */
