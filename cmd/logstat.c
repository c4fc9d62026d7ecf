/*
 * logstat - show the bounds, size, time range and consumers of logs.
 *
 * Text output is one "name value" line per figure, a blank line between
 * logs; -J prints one JSON object per log per line, -Y one YAML document
 * per log.  Every log is reported even when an earlier one failed (the
 * rval pattern); a log that cannot be read, or a damaged checkpoint,
 * makes the exit status non-zero.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synclog.h"
#include "prog.h"

enum { TEXT, JSON, YAML };

static int style = TEXT;
static int nprinted;

static const struct opt opts[] = {
	{ 'J', "json", NULL, "one JSON object per log, on a line" },
	{ 'Y', "yaml", NULL, "one YAML document per log" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logstat = {
	"logstat",
	"usage: logstat [-J | -Y] log ...",
	0, opts, NULL
};

/* A warning after what is printed so far. */
#define warnmsg(...)	(fflush(stdout), warnx(__VA_ARGS__))

/* Length of the UTF-8 sequence at P (strictly valid), or 0. */
static size_t
utf8len(const unsigned char *p, size_t len)
{
	size_t n;
	uint32_t c;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, c = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, c = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, c = p[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return n;
}

/*
 * A JSON string (also a valid YAML double-quoted scalar).  Bytes that are
 * not UTF-8 become U+FFFD: paths are shown, not round-tripped.
 */
static void
putstr(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, len = strlen(s);

	putchar('"');
	while (len > 0) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p);
			n = 1;
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p);
			n = 1;
		} else if (*p < 0x80) {
			putchar(*p);
			n = 1;
		} else if ((n = utf8len(p, len)) > 0)
			fwrite(p, 1, n, stdout);
		else {
			fputs("\\ufffd", stdout);
			n = 1;
		}
		p += n;
		len -= n;
	}
	putchar('"');
}

/* One "name value" pair in the current style; LAST ends a JSON object. */
static void
key(const char *k)
{
	switch (style) {
	case TEXT:
		printf("%-12s ", k);
		break;
	case JSON:
		printf(",\"%s\":", k);
		break;
	case YAML:
		printf("%s: ", k);
		break;
	}
}

static void
end_line(void)
{
	if (style != JSON)
		putchar('\n');
}

static void
num(const char *k, uint64_t v)
{
	key(k);
	printf("%" PRIu64, v);
	end_line();
}

/* A time as text "ISO MS", or two JSON/YAML fields NAME_time, NAME_timestamp. */
static void
when(const char *name, int64_t ms)
{
	char iso[40], k[64];

	if (style == TEXT) {
		snprintf(k, sizeof k, "%s-time", name);
		key(k);
		if (ms == SL_NO_TIMESTAMP)
			printf("- -");
		else
			printf("%s %" PRId64, sl_time_format(ms, iso, sizeof iso),
			    ms);
		end_line();
		return;
	}
	snprintf(k, sizeof k, "%s_timestamp", name);
	key(k);
	if (ms == SL_NO_TIMESTAMP)
		printf("null");
	else
		printf("%" PRId64, ms);
	end_line();
	snprintf(k, sizeof k, "%s_time", name);
	key(k);
	if (ms == SL_NO_TIMESTAMP)
		printf("null");
	else
		putstr(sl_time_format(ms, iso, sizeof iso));
	end_line();
}

/* The consumers of DIR and their lag behind END; 1 if one is damaged. */
static int
consumers(const char *dir, const struct sl_stat *s)
{
	struct sl_checkpoint ck;
	char **names, iso[40];
	size_t n;
	int rval = 0;

	if ((names = sl_checkpoint_list(dir)) == NULL) {
		warnmsg("%s: consumers: %s", dir, strerror(errno));
		return 2;
	}
	for (n = 0; names[n] != NULL; n++)
		;
	if (style == TEXT)
		num("consumers", n);
	else {
		key("consumers");
		printf(style == JSON ? "[" : n ? "\n" : "[]\n");
	}
	for (size_t i = 0; i < n; i++) {
		int ok = sl_checkpoint_read(dir, names[i], s->id, &ck) == 0;
		const char *why = ok ? NULL : sl_checkpoint_strerror(errno);
		char msg[512];

		/* As every program says it (cmd/common/args.c). */
		if (!ok) {
			warnmsg("%s: %s: %s", dir, names[i], ckpt_strerror(errno,
			    &ck, s->id, msg, sizeof msg));
			rval = 1;
		}
		if (ok && ckpt_outside(ck.offset, 0, s->end, msg,
		    sizeof msg) != NULL) {
			warnmsg("%s: %s: %s", dir, names[i], msg);
			rval = 1;
		}
		if (style == TEXT) {
			key("consumer");
			if (ok)
				printf("%s %" PRIu64 " %" PRIu64 " %s\n",
				    names[i], ck.offset, ck.offset < s->end ?
				    s->end - ck.offset : 0,
				    sl_time_format(ck.updated, iso, sizeof iso));
			else
				printf("%s - - -\n", names[i]);
			continue;
		}
		printf(style == JSON ? "%s{\"name\":" : "  - name: ",
		    i ? "," : "");
		putstr(names[i]);
		if (style == YAML)
			printf("\n   ");
		if (!ok) {
			printf(style == JSON ? ",\"error\":" : " error: ");
			putstr(why);
		} else {
			printf(style == JSON ? ",\"offset\":%" PRIu64
			    ",\"lag\":%" PRIu64 ",\"updated\":%" PRId64
			    ",\"updated_time\":" : " offset: %" PRIu64
			    "\n    lag: %" PRIu64 "\n    updated: %" PRId64
			    "\n    updated_time: ", ck.offset,
			    ck.offset < s->end ? s->end - ck.offset : 0,
			    ck.updated);
			putstr(sl_time_format(ck.updated, iso, sizeof iso));
		}
		printf(style == JSON ? "}" : "\n");
	}
	if (style == JSON)
		printf("]");
	sl_checkpoint_list_free(names);
	return rval;
}

static int
stat1(const char *path)
{
	struct sl_stat s;
	struct stat st;
	int rval = 0;

	if (sl_stat(path, &s) < 0) {
		warnmsg("%s: %s", path, s.err);
		return sl_exit_status(errno);
	}
	if (style == TEXT && nprinted++ > 0)
		putchar('\n');
	switch (style) {
	case TEXT:
		key("log");
		break;
	case JSON:
		printf("{\"log\":");
		break;
	case YAML:
		printf("---\nlog: ");
		break;
	}
	if (style == TEXT)
		fputs(path, stdout);
	else
		putstr(path);
	end_line();
	key("id");
	if (style == TEXT)
		fputs(s.id[0] ? s.id : "-", stdout);
	else if (s.id[0])
		putstr(s.id);
	else
		printf("null");
	end_line();
	num("segments", s.segments);
	num("bytes", s.bytes);
	num(style == TEXT ? "index-bytes" : "index_bytes", s.index_bytes);
	num("begin", s.begin);
	num("end", s.end);
	num("records", s.records);
	when("first", s.first_ts);
	when("last", s.last_ts);
	when("max", s.max_ts);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rval = consumers(path, &s);
	if (style == JSON)
		printf("}\n");
	return rval;
}

int
main(int argc, char *argv[])
{
	int ch, rval = 0, r;

	prog_start(&logstat);
	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'J':
			style = JSON;
			break;
		case 'Y':
			style = YAML;
			break;
		default:
			prog_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		prog_usage();
	for (int i = 0; i < argc; i++)
		if ((r = stat1(argv[i])) > rval)
			rval = r;
	return prog_finish(rval);
}
