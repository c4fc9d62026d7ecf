/*
 * fmtcopy - test tool: read records from stdin in one record format and
 * write them to stdout in another, through sl_in and sl_out only.
 *
 *	fmtcopy [-n] [-m max] [-t logname] [in-options] [-- out-options]
 *
 * The options before "--" are the shared format options (-0BD:F:JK:Y)
 * for the input, those after it (and -Z) for the output.  Records get offsets 0,
 * 1, 2...  -n reads without blocking (SL_IN_AGAIN, then poll), -m sets
 * the maximum record size, -t the log name for %t.  -g COUNT ignores
 * stdin and generates COUNT pseudo-random records from seed -s SEED:
 * every byte value, absent and empty keys, tombstones and empty values,
 * headers, strings that YAML and JSON find awkward, timestamps absent or
 * extreme.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"

static void
usage(void)
{
	fprintf(stderr, "usage: fmtcopy [-n] [-g count] [-m max] [-s seed] "
	    "[-t logname] [in-options] [-- out-options]\n");
	exit(2);
}

static int	 nonblock;
static long long gencount = -1;
static uint64_t	 seed = 1;
static size_t	 maxrec = SL_DEFAULT_MAX_RECORD_BYTES;
static const char *logname;


/* ---- the generator --------------------------------------------------- */

static uint64_t
rnd(void)
{
	/* xorshift64*: deterministic for a seed, good enough for tests. */
	seed ^= seed >> 12;
	seed ^= seed << 25;
	seed ^= seed >> 27;
	return seed * 2685821657736338717ULL;
}

static const char *awkward[] = {
	"", "null", "Null", "~", "true", "no", "1", "-1", "0x1F", "1e3",
	"- a", "? x", ": ", "a: b", "#", "# c", "'", "\"", "\\", "---",
	"...", "--- x", "\n---\n", "\n...\n", "---\n", " lead", "trail ",
	"a\tb", "\r\n", "\n", "\n\n", "\xc2\x85", "\xe2\x80\xa8",
	"\xe2\x80\xa9", "\xef\xbb\xbf", "\xef\xbf\xbe", "\xef\xbf\xbf",
	"\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\x7f", "%YAML 1.1", "&a",
	"*a", "!tag", "|", ">", "@", "`", "{a: b}", "[1]", "\"\\u0000\"",
	"\xed\xa0\x80", "\xc0\x80", "\xf4\x90\x80\x80", "\xe0\x80\xaf",
	"\xc2", "\xe2\x82", "\xff", "\x1b[0m", "\x01\x02\x03",
	"key_base64", "value", "{\"value\":1}",
};

/* Fill BUF with one generated string; its length. */
static size_t
genstr(unsigned char *buf, size_t cap)
{
	size_t n, i;
	const char *a;

	switch (rnd() % 8) {
	case 0:				/* any bytes */
		n = rnd() % 64;
		for (i = 0; i < n; i++)
			buf[i] = rnd();
		return n;
	case 1:				/* a long line with spaces */
		n = rnd() % 3000;
		for (i = 0; i < n; i++)
			buf[i] = rnd() % 5 == 0 ? ' ' : 'a' + rnd() % 26;
		return n;
	case 2:				/* printable ASCII */
		n = rnd() % 40;
		for (i = 0; i < n; i++)
			buf[i] = 0x20 + rnd() % 95;
		return n;
	default:			/* awkward pieces glued together */
		n = 0;
		for (int k = rnd() % 4; k >= 0; k--) {
			a = awkward[rnd() % (sizeof(awkward) /
			    sizeof(awkward[0]))];
			if (n + strlen(a) > cap)
				break;
			memcpy(buf + n, a, strlen(a));
			n += strlen(a);
		}
		return n;
	}
}

static unsigned char	 gkey[4096], gval[4096], gh[16][2][4096];
static struct sl_header	 ghdrs[16];

static void
generate(struct sl_record *r, uint64_t i)
{
	size_t n;

	memset(r, 0, sizeof(*r));
	if (i < 4) {
		/* All 256 byte values, in key, value and one header; then
		 * all 128 ASCII ones, which stay strings. */
		size_t m = i < 3 ? 256 : 128;

		for (n = 0; n < m; n++)
			gkey[n] = gval[n] = gh[0][0][n] = gh[0][1][n] =
			    (unsigned char)(i < 3 ? n + i * 85 : n);
		r->key = gkey;
		r->keylen = m;
		r->value = gval;
		r->valuelen = m;
		ghdrs[0].name = gh[0][0];
		ghdrs[0].namelen = m;
		ghdrs[0].value = gh[0][1];
		ghdrs[0].valuelen = m;
		r->headers = ghdrs;
		r->nheaders = 1;
		r->timestamp = i == 0 ? SL_NO_TIMESTAMP : i == 1 ? INT64_MAX :
		    i == 2 ? INT64_MIN + 1 : 0;
		return;
	}
	switch (rnd() % 4) {
	case 0:
		r->timestamp = SL_NO_TIMESTAMP;
		break;
	case 1:
		r->timestamp = (int64_t)rnd();
		break;
	default:
		r->timestamp = 1700000000000LL + (int64_t)(rnd() % 100000000000);
		break;
	}
	if (rnd() % 4 != 0) {
		r->key = gkey;
		r->keylen = genstr(gkey, sizeof(gkey));
	}
	if (rnd() % 6 != 0) {
		r->value = gval;
		r->valuelen = genstr(gval, sizeof(gval));
	}
	r->nheaders = rnd() % 3 == 0 ? rnd() % 17 : 0;
	for (n = 0; n < r->nheaders; n++) {
		ghdrs[n].name = gh[n][0];
		ghdrs[n].namelen = genstr(gh[n][0], sizeof(gh[n][0]));
		ghdrs[n].value = gh[n][1];
		ghdrs[n].valuelen = genstr(gh[n][1], sizeof(gh[n][1]));
	}
	r->headers = r->nheaders > 0 ? ghdrs : NULL;
}

static void
fmtopts(int argc, char **argv, struct sl_fmt *f, int first)
{
	static const struct option longopts[] = {
		SL_FMT_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *optstr = first ? SL_FMT_OPTSTRING "g:m:ns:t:" :
	    SL_FMT_OPTSTRING "Z";
	char *end;
	int ch;

	while ((ch = getopt_long(argc, argv, optstr, longopts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			gencount = strtoll(optarg, &end, 10);
			if (*end != '\0' || gencount < 0)
				usage();
			break;
		case 's':
			seed = strtoull(optarg, &end, 10);
			if (*end != '\0')
				usage();
			break;
		case 'm':
			errno = 0;
			maxrec = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || *optarg == '\0')
				usage();
			break;
		case 'n':
			nonblock = 1;
			break;
		case 't':
			logname = optarg;
			break;
		case '?':
			usage();
			break;
		default:
			if (sl_fmt_option(f, ch, optarg) < 0)
				errx(2, "-%c: %s: invalid argument", ch,
				    optarg != NULL ? optarg : "");
		}
	}
}

int
main(int argc, char *argv[])
{
	struct sl_fmt in_fmt, out_fmt;
	struct sl_record rec;
	struct pollfd pfd;
	uint64_t off = 0;
	int r, rv = 0;
	sl_out *out;
	sl_in *in;

	sl_fmt_init(&in_fmt);
	sl_fmt_init(&out_fmt);
	fmtopts(argc, argv, &in_fmt, 1);
	if (optind > 1 && optind <= argc &&
	    strcmp(argv[optind - 1], "--") == 0) {
		argc -= optind - 1;
		argv += optind - 1;
		optind = 0;
		fmtopts(argc, argv, &out_fmt, 0);
	}
	if (optind < argc)
		usage();
	out_fmt.logname = logname;

	if ((in = sl_in_open(STDIN_FILENO, &in_fmt, maxrec)) == NULL)
		err(2, "input format");
	if ((out = sl_out_open(STDOUT_FILENO, &out_fmt)) == NULL)
		err(2, "output format");
	for (; gencount >= 0; gencount--) {
		if (gencount == 0)
			goto done;
		generate(&rec, off);
		rec.offset = off++;
		if (sl_out_record(out, &rec) < 0)
			err(2, "stdout");
	}
	for (;;) {
		r = sl_in_next(in, &rec, !nonblock);
		if (r == SL_IN_AGAIN) {
			if (sl_out_flush(out) < 0)
				err(2, "stdout");
			pfd.fd = STDIN_FILENO;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				err(2, "poll");
			continue;
		}
		if (r < 0) {
			warnx("stdin: %s", sl_error());
			rv = 1;
			break;
		}
		if (r == 0)
			break;
		rec.offset = off++;
		if (sl_out_record(out, &rec) < 0)
			err(2, "stdout");
	}
done:
	if (sl_out_close(out) < 0)
		err(2, "stdout");
	sl_in_close(in);
	return rv;
}
