/*
 * settings.c - the log's settings file: a random log id (so that a
 * checkpoint of a deleted and recreated log is refused), the segment size
 * and the maximum record size, fixed when the log is created.  Written
 * once, atomically; a text file so that `cat` explains a log.
 */
#include <sys/random.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "log.h"

void
sl_set_open_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sl_vseterr(fmt, ap);
	va_end(ap);
}

int
sl_settings_read(const char *dir, struct sl_settings *s)
{
	int fd, r, e;

	if ((fd = sl_dir_open(dir)) < 0)
		return -1;
	r = sl_settings_readat(fd, s);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

int
sl_settings_readat(int dirfd, struct sl_settings *s)
{
	char line[256], word[64], val[128];
	FILE *f;
	int version = 0, e, fd;

	memset(s, 0, sizeof *s);
	if ((fd = sl_openat(dirfd, "settings", O_RDONLY)) < 0)
		return -1;
	if ((f = fdopen(fd, "r")) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %127s", word, val) != 2)
			goto bad;
		if (strcmp(word, "synclog") == 0)
			version = atoi(val);
		else if (strcmp(word, "id") == 0) {
			if (strlen(val) != 32 ||
			    strspn(val, "0123456789abcdef") != 32)
				goto bad;
			memcpy(s->id, val, 33);
		} else if (strcmp(word, "segment-bytes") == 0) {
			if (sl_parse_u64(val, 0, &s->segment_bytes) < 0)
				goto bad;
		} else if (strcmp(word, "max-record-bytes") == 0) {
			if (sl_parse_u64(val, 0, &s->max_record_bytes) < 0)
				goto bad;
		} else if (strcmp(word, "replica") == 0) {
			if (strlen(val) >= sizeof s->replica)
				goto bad;
			memcpy(s->replica, val, strlen(val) + 1);
		}
	}
	if (ferror(f)) {
		e = errno;
		fclose(f);
		errno = e;
		return -1;
	}
	fclose(f);
	if (version != 1 || s->id[0] == '\0' || s->segment_bytes < 1024 ||
	    s->max_record_bytes == 0 ||
	    s->max_record_bytes > SL_MAX_MAX_RECORD_BYTES) {
		errno = EBADMSG;
		return -1;
	}
	return 0;
bad:
	fclose(f);
	errno = EBADMSG;
	return -1;
}

int
sl_settings_create(int dirfd, const struct sl_writer_opts *o,
    struct sl_settings *s)
{
	unsigned char rnd[16];
	char text[512];
	int n;

	memset(s, 0, sizeof *s);
	s->segment_bytes = o && o->segment_bytes ? o->segment_bytes :
	    SL_DEFAULT_SEGMENT_BYTES;
	s->max_record_bytes = o && o->max_record_bytes ?
	    o->max_record_bytes : SL_DEFAULT_MAX_RECORD_BYTES;
	if (s->segment_bytes < 1024 || s->segment_bytes > UINT32_MAX ||
	    s->max_record_bytes > SL_MAX_MAX_RECORD_BYTES) {
		errno = EINVAL;
		return -1;
	}
	if (o && o->replica) {
		size_t len = strlen(o->replica);

		/* One word of printable ASCII, so that it reads back. */
		if (len == 0 || len >= sizeof s->replica)
			return sl_fail(EINVAL, "replica name too long or empty");
		for (size_t i = 0; i < len; i++)
			if (o->replica[i] <= ' ' || o->replica[i] > '~')
				return sl_fail(EINVAL,
				    "replica name not one printable word");
		memcpy(s->replica, o->replica, len + 1);
	}
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	n = snprintf(text, sizeof text,
	    "# synclog log settings: fixed at creation, see synclog(5)\n"
	    "synclog 1\nid %s\nsegment-bytes %" PRIu64
	    "\nmax-record-bytes %" PRIu64 "\n%s%s%s",
	    s->id, s->segment_bytes, s->max_record_bytes,
	    s->replica[0] ? "replica " : "", s->replica,
	    s->replica[0] ? "\n" : "");
	return sl_replace_at(dirfd, "settings", text, n);
}
