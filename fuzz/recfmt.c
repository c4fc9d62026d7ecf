/*
 * recfmt.c - fuzz the record-format parsers: sl_in over text (with
 * record and key delimiters), JSON Lines, YAML and binary frames, read
 * from a pipe or from a memfd, blocking or not; and the round trip
 * through sl_out that the SPEC promises: what -J, -Y and -B (and text,
 * for what text can hold) write reads back as the same records.
 *
 * Input: one byte choosing the format and its options, then the input.
 * Invariants: the parser returns records within the maximum record size,
 * then 0 at the end or -1 with a message; every record it returned,
 * written out in the same format and parsed again, is the same record:
 * key, value (absent distinct from empty), headers, and timestamp for
 * the formats that carry one.
 */

#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "fuzz.h"

#define MAXKEEP	256

/* A deep copy of a record. */
struct rec {
	int64_t		 ts;
	unsigned char	*key, *value;
	size_t		 keylen, valuelen;
	int		 haskey, hasvalue;
	struct sl_header *h;
	size_t		 nh;
	unsigned char	*arena;
};

static void *
copyof(const void *p, size_t n)
{
	unsigned char *q = malloc(n ? n : 1);

	if (q == NULL)
		abort();
	if (n > 0)
		memcpy(q, p, n);
	return q;
}

static void
keep(struct rec *k, const struct sl_record *r)
{
	k->ts = r->timestamp;
	k->haskey = r->key != NULL;
	k->hasvalue = r->value != NULL;
	k->key = copyof(r->key, r->key ? r->keylen : 0);
	k->keylen = r->key ? r->keylen : 0;
	k->value = copyof(r->value, r->value ? r->valuelen : 0);
	k->valuelen = r->value ? r->valuelen : 0;
	k->nh = r->nheaders;
	k->h = copyof(r->headers, r->nheaders * sizeof *r->headers);
	for (size_t i = 0; i < k->nh; i++) {
		k->h[i].name = copyof(r->headers[i].name, r->headers[i].namelen);
		k->h[i].value = copyof(r->headers[i].value,
		    r->headers[i].valuelen);
	}
}

static void
unkeep(struct rec *k)
{
	for (size_t i = 0; i < k->nh; i++) {
		free((void *)k->h[i].name);
		free((void *)k->h[i].value);
	}
	free(k->h);
	free(k->key);
	free(k->value);
}

static void
view(const struct rec *k, struct sl_record *r)
{
	memset(r, 0, sizeof *r);
	r->timestamp = k->ts;
	r->key = k->haskey ? k->key : NULL;
	r->keylen = k->keylen;
	r->value = k->hasvalue ? k->value : NULL;
	r->valuelen = k->valuelen;
	r->headers = k->h;
	r->nheaders = k->nh;
}

static int
same_value(const struct rec *k, const struct sl_record *r)
{
	return k->hasvalue == (r->value != NULL) && k->nh == 0 &&
	    r->nheaders == 0 && (!k->hasvalue || (k->valuelen ==
	    r->valuelen && memcmp(k->value, r->value, k->valuelen) == 0));
}

/*
 * Whether R is the record K.  Text carries no timestamp (WITH_TS 0), and
 * with -K it writes an absent key as an empty one, as kcat does: the
 * SPEC promises the exact round trip for -J, -Y and -B only.
 */
static int
same(const struct rec *k, const struct sl_record *r, int with_ts)
{
	if (!with_ts && !k->haskey && r->key != NULL && r->keylen == 0)
		return same_value(k, r);
	if ((k->haskey != (r->key != NULL)) ||
	    (k->hasvalue != (r->value != NULL)) ||
	    (k->haskey && (k->keylen != r->keylen ||
	    memcmp(k->key, r->key, k->keylen) != 0)) ||
	    (k->hasvalue && (k->valuelen != r->valuelen ||
	    memcmp(k->value, r->value, k->valuelen) != 0)) ||
	    k->nh != r->nheaders || (with_ts && k->ts != r->timestamp))
		return 0;
	for (size_t i = 0; i < k->nh; i++)
		if (k->h[i].namelen != r->headers[i].namelen ||
		    k->h[i].valuelen != r->headers[i].valuelen ||
		    memcmp(k->h[i].name, r->headers[i].name,
		    k->h[i].namelen) != 0 ||
		    memcmp(k->h[i].value, r->headers[i].value,
		    k->h[i].valuelen) != 0)
			return 0;
	return 1;
}

/* A descriptor to read DATA from: a memfd, or a pipe left open when
 * NONBLOCK (so that the parser meets SL_IN_AGAIN); *WFD its write end. */
static int
source(const uint8_t *data, size_t size, int pipe_, int *wfd)
{
	int fds[2], fd;

	*wfd = -1;
	if (pipe_ && size <= 65536 && pipe2(fds, O_CLOEXEC) == 0) {
		if (fcntl(fds[1], F_SETPIPE_SZ, 65536) < 0 ||
		    (size > 0 && write(fds[1], data, size) != (ssize_t)size)) {
			close(fds[0]);
			close(fds[1]);
			return -1;
		}
		*wfd = fds[1];
		return fds[0];
	}
	if ((fd = memfd_create("fuzz", MFD_CLOEXEC)) < 0)
		return -1;
	if ((size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Parse everything from FD; keep up to MAXKEEP records. */
static size_t
parse(int fd, int wfd, const struct sl_fmt *fmt, size_t max, struct rec *kept,
    int *failed)
{
	struct sl_record r;
	sl_in *in = sl_in_open(fd, fmt, max);
	size_t n = 0;
	int f, block = wfd < 0;

	*failed = 0;
	if (in == NULL)
		abort();
	for (;;) {
		f = sl_in_next(in, &r, block);
		if (f == SL_IN_AGAIN) {
			FUZZ_ASSERT(!block, "AGAIN only when not blocking");
			/* The writer is done: the rest is the end. */
			close(wfd);
			wfd = -1;
			block = 1;
			continue;
		}
		if (f <= 0)
			break;
		FUZZ_ASSERT(sl_record_size(&r) <= max, "within the limit");
		if (n < MAXKEEP && kept != NULL)
			keep(&kept[n], &r);
		n++;
	}
	if (f < 0) {
		FUZZ_ASSERT(sl_error()[0] != '\0', "a message");
		*failed = 1;
	}
	if (wfd >= 0)
		close(wfd);
	sl_in_close(in);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec kept[MAXKEEP];
	struct sl_fmt fmt;
	struct sl_record r;
	size_t max, n, m;
	int sel, fd, wfd, failed, out;

	if (size < 1)
		return 0;
	sel = data[0];
	data++;
	size--;
	sl_fmt_init(&fmt);
	switch (sel & 3) {
	case 0:
		if (sel & 4)
			sl_fmt_option(&fmt, '0', NULL);
		if (sel & 8)
			sl_fmt_option(&fmt, 'D', "\\r\\n");
		if (sel & 16)
			sl_fmt_option(&fmt, 'K', sel & 8 ? "::" : "\\t");
		break;
	case 1:
		sl_fmt_option(&fmt, 'J', NULL);
		break;
	case 2:
		sl_fmt_option(&fmt, 'Y', NULL);
		break;
	default:
		sl_fmt_option(&fmt, 'B', NULL);
		break;
	}
	max = sel & 128 ? 64 : 1 << 20;
	if ((fd = source(data, size, sel & 32, &wfd)) < 0)
		return 0;
	if (!(sel & 64) && wfd >= 0) {
		close(wfd);
		wfd = -1;
	}
	n = parse(fd, wfd, &fmt, max, kept, &failed);
	close(fd);
	if (n > MAXKEEP)
		n = MAXKEEP;

	/* Round trip: write what was read, read it back. */
	if ((out = memfd_create("out", MFD_CLOEXEC)) < 0)
		goto done;
	sl_out *o = sl_out_open(out, &fmt);

	FUZZ_ASSERT(o != NULL, "sl_out_open");
	for (size_t i = 0; i < n; i++) {
		view(&kept[i], &r);
		FUZZ_ASSERT(sl_out_record(o, &r) == 0, "write a record");
	}
	FUZZ_ASSERT(sl_out_close(o) == 0, "flush");
	FUZZ_ASSERT(lseek(out, 0, SEEK_SET) == 0, "rewind");
	{
		sl_in *in = sl_in_open(out, &fmt, max);
		int f;

		FUZZ_ASSERT(in != NULL, "sl_in_open");
		for (m = 0; (f = sl_in_next(in, &r, 1)) > 0; m++) {
			FUZZ_ASSERT(m < n, "no more records than written");
			FUZZ_ASSERT(same(&kept[m], &r, (sel & 3) != 0),
			    "a record reads back as it was written");
		}
		if (f < 0)
			fprintf(stderr, "round trip: %s\n", sl_error());
		FUZZ_ASSERT(f == 0, "what was written reads back");
		FUZZ_ASSERT(m == n, "every record reads back");
		sl_in_close(in);
	}
	close(out);
done:
	for (size_t i = 0; i < n; i++)
		unkeep(&kept[i]);
	(void)failed;
	return 0;
}
