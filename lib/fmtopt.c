/*
 * fmtopt.c - the format options every program shares (-0 -B -D -F -J -K
 * -Y, and -Z on output): one parser, so that a delimiter or a template means the same to
 * logcat, logappend and logapply.
 *
 * Invariants: an option is checked whole when it is given (a template is
 * compiled once and thrown away), so a bad one is refused before any
 * record is read or written; struct sl_fmt holds no allocation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"
#include "fmt.h"

void
sl_fmt_init(struct sl_fmt *f)
{
	memset(f, 0, sizeof(*f));
	f->kind = SL_FMT_TEXT;
	f->delim[0] = '\n';
	f->delimlen = 1;
}

static int
set_delim(unsigned char *d, size_t *dlen, const char *arg)
{
	unsigned char tmp[SL_DELIM_MAX];
	size_t n;

	if (arg == NULL || sl_unescape(arg, tmp, sizeof(tmp), &n) < 0)
		goto bad;
	if (n == 0)
		goto bad;
	memcpy(d, tmp, n);
	*dlen = n;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
sl_fmt_option(struct sl_fmt *f, int ch, const char *arg)
{
	struct sl_rf_item *items;
	unsigned char *lit;
	size_t n;

	switch (ch) {
	case '0':
		f->delim[0] = '\0';
		f->delimlen = 1;
		return 0;
	case 'B':
		f->kind = SL_FMT_BINARY;
		return 0;
	case 'D':
		return set_delim(f->delim, &f->delimlen, arg);
	case 'F':
		/* Refuse a bad template now rather than at the first record. */
		if (arg == NULL || sl_rf_tpl_compile(arg, &items, &n, &lit) < 0) {
			errno = EINVAL;
			return -1;
		}
		free(items);
		free(lit);
		f->kind = SL_FMT_TEMPLATE;
		f->template = arg;
		return 0;
	case 'J':
		f->kind = SL_FMT_JSON;
		return 0;
	case 'K':
		return set_delim(f->keydelim, &f->keydelimlen, arg);
	case 'Y':
		f->kind = SL_FMT_YAML;
		return 0;
	case 'Z':
		f->shownull = 1;
		return 0;
	}
	errno = EINVAL;
	return -1;
}
