/*
 * log.h - settings.c: the settings file that makes a directory a log, and
 * the message of a failed open.
 */
#ifndef SL_LOG_H
#define SL_LOG_H

#include "synclog.h"

/* Set the message sl_open_error returns. */
void	sl_set_open_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
int	sl_settings_create(const char *dir, const struct sl_writer_opts *,
	    struct sl_settings *);

#endif /* SL_LOG_H */
