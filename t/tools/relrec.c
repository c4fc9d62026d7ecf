/*
 * relrec - records for the concurrency tests (t/080-rel-*.bats): each
 * input's records are generated from a seed and checked in what logcat
 * prints, without keeping them.
 *
 *	relrec gen [-m max] [-r seed] [-f from] [-u until] ID N
 *	relrec check [-s] [-m max] [-r seed] [-t file] INPUTS N [file]
 *	relrec count [file]
 *
 * gen writes N records of input ID as logappend -B frames: key "ID.I",
 * a value of 1 to MAX bytes (default 1 MiB; every power of two as
 * frequent as any other) of arbitrary bytes derived
 * from SEED, ID and I, no timestamp (the append time is taken); with -f
 * and -u only records FROM to UNTIL - 1 of them.
 *
 * check reads logcat -B output (frames with offsets) and checks: offsets
 * dense; every record one of the INPUTS inputs' (0 .. INPUTS-1), intact,
 * none twice; each input's records in its order; all N of each there.
 * With -s (after retention) the log may begin after offset 0 and each
 * input's records be a suffix of its N.  -t FILE: FILE (a follower's
 * output) holds the same frames from the same first offset on, byte for
 * byte, and may hold earlier ones.
 *
 * count prints the number of whole frames and the next offset after them.
 * Exit 0 when all holds, 1 when not (the first problem on stderr), 2 on
 * a usage or system error.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "bytes.h"
#include "batch.h"
#include "ttools.h"

static uint64_t seed = 1;
static uint64_t maxlen = 1 << 20;
static uint64_t from, until = UINT64_MAX;

/* The value of record I of input ID into *BUF (grown as needed). */
static size_t
value(uint64_t id, uint64_t i, unsigned char **buf, size_t *cap)
{
	uint64_t h = mix64(seed ^ mix64(id << 32 ^ i)), x;
	unsigned bits = 0, k;
	size_t len;

	/* A power of two 2^K, K evenly from 0 to log2(maxlen), then
	 * evenly up to the next one: every order of magnitude is frequent. */
	while (bits < 63 && (2ULL << bits) <= maxlen)
		bits++;
	k = (unsigned)(h % (bits + 1));
	len = ((size_t)1 << k) + (size_t)(mix64(h) % ((uint64_t)1 << k));
	if (len > maxlen)
		len = maxlen;
	if (len > *cap) {
		if ((*buf = realloc(*buf, len)) == NULL)
			err(2, "realloc");
		*cap = len;
	}
	x = h;
	for (size_t b = 0; b < len; b++) {
		if (b % 8 == 0)
			x = mix64(x);
		(*buf)[b] = (unsigned char)(x >> (b % 8 * 8));
	}
	return len;
}

static void
put32(unsigned char *p, uint32_t v)
{
	sl_put32(p, v);
}

static int
gen(uint64_t id, uint64_t n)
{
	unsigned char *v = NULL, hdr[64];
	size_t cap = 0, len;
	char key[64];

	for (uint64_t i = from; i < n && i < until; i++) {
		size_t kl = (size_t)snprintf(key, sizeof key, "%" PRIu64 ".%"
		    PRIu64, id, i);

		len = value(id, i, &v, &cap);
		/* LEN, offset, timestamp, key, value, no headers. */
		put32(hdr, (uint32_t)(8 + 8 + 4 + kl + 4 + len + 4));
		sl_put64(hdr + 4, 0);
		sl_put64(hdr + 12, (uint64_t)SL_NO_TIMESTAMP);
		put32(hdr + 20, (uint32_t)kl);
		if (fwrite(hdr, 1, 24, stdout) != 24 ||
		    fwrite(key, 1, kl, stdout) != kl)
			err(2, "stdout");
		put32(hdr, (uint32_t)len);
		if (fwrite(hdr, 1, 4, stdout) != 4 ||
		    fwrite(v, 1, len, stdout) != len)
			err(2, "stdout");
		put32(hdr, 0);
		if (fwrite(hdr, 1, 4, stdout) != 4)
			err(2, "stdout");
	}
	free(v);
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
}

/* One frame of logcat -B output. */
struct frame {
	uint64_t	 offset;
	const unsigned char *key, *value;
	size_t		 keylen, valuelen;
	int		 haskey, hasvalue;
	const unsigned char *raw;
	size_t		 rawlen;
};

struct file {
	unsigned char	*p;
	size_t		 len, pos;
	const char	*name;
};

static void
slurp(struct file *f, const char *path)
{
	FILE *fp = path ? fopen(path, "rb") : stdin;
	size_t cap = 1 << 20, n;

	f->name = path ? path : "stdin";
	if (fp == NULL)
		err(2, "%s", path);
	f->len = f->pos = 0;
	if ((f->p = malloc(cap)) == NULL)
		err(2, "malloc");
	while ((n = fread(f->p + f->len, 1, cap - f->len, fp)) > 0) {
		f->len += n;
		if (f->len == cap && (f->p = realloc(f->p, cap *= 2)) == NULL)
			err(2, "realloc");
	}
	if (ferror(fp))
		err(2, "%s", f->name);
	if (path)
		fclose(fp);
}

/* 1 a frame, 0 the end, -1 a partial frame. */
static int
next_frame(struct file *f, struct frame *fr)
{
	const unsigned char *p = f->p + f->pos, *e;
	uint32_t len, kl, vl;

	if (f->pos == f->len)
		return 0;
	if (f->len - f->pos < 4 || f->len - f->pos - 4 <
	    (len = sl_get32(p)) || len < 28)
		return -1;
	e = p + 4 + len;
	fr->raw = p;
	fr->rawlen = 4 + len;
	fr->offset = sl_get64(p + 4);
	p += 20;
	kl = sl_get32(p);
	p += 4;
	fr->haskey = kl != SL_ABSENT;
	if (!fr->haskey)
		kl = 0;
	if ((size_t)(e - p) < kl + 4)
		return -1;
	fr->key = p;
	fr->keylen = kl;
	p += kl;
	vl = sl_get32(p);
	p += 4;
	fr->hasvalue = vl != SL_ABSENT;
	if (!fr->hasvalue)
		vl = 0;
	if ((size_t)(e - p) < vl)
		return -1;
	fr->value = p;
	fr->valuelen = vl;
	f->pos += fr->rawlen;
	return 1;
}

static int
check(uint64_t inputs, uint64_t n, int suffix, const char *path,
    const char *follower)
{
	struct file f, t;
	struct frame fr;
	uint64_t *next, first = 0, count = 0, prev = 0;
	unsigned char *v = NULL;
	size_t cap = 0;
	int r;

	if ((next = calloc(inputs, sizeof *next)) == NULL)
		err(2, "calloc");
	for (uint64_t i = 0; i < inputs; i++)
		next[i] = suffix ? UINT64_MAX : 0;
	slurp(&f, path);
	while ((r = next_frame(&f, &fr)) > 0) {
		uint64_t id, i;
		char key[64];
		size_t len;

		if (count == 0)
			first = fr.offset;
		else if (fr.offset != prev + 1)
			errx(1, "offset %" PRIu64 " after %" PRIu64, fr.offset,
			    prev);
		if (!suffix && count == 0 && first != 0)
			errx(1, "the log begins at %" PRIu64, first);
		prev = fr.offset;
		count++;
		if (!fr.haskey || fr.keylen >= sizeof key)
			errx(1, "offset %" PRIu64 ": not a record of ours",
			    fr.offset);
		memcpy(key, fr.key, fr.keylen);
		key[fr.keylen] = '\0';
		if (sscanf(key, "%" SCNu64 ".%" SCNu64, &id, &i) != 2 ||
		    id >= inputs || i >= n)
			errx(1, "offset %" PRIu64 ": key %s not ours", fr.offset,
			    key);
		if (next[id] == UINT64_MAX)
			next[id] = i;	/* the first kept after retention */
		if (i != next[id])
			errx(1, "offset %" PRIu64 ": record %s where %" PRIu64
			    ".%" PRIu64 " was due (lost, doubled or out of "
			    "order)", fr.offset, key, id, next[id]);
		len = value(id, i, &v, &cap);
		if (!fr.hasvalue || fr.valuelen != len ||
		    memcmp(fr.value, v, len) != 0)
			errx(1, "offset %" PRIu64 ": record %s damaged", fr.offset,
			    key);
		next[id]++;
	}
	if (r < 0)
		errx(1, "%s: a partial frame after offset %" PRIu64, f.name, prev);
	/* After retention an input may have nothing left, having finished
	 * before the first offset kept. */
	for (uint64_t id = 0; id < inputs; id++)
		if (next[id] != n && !(suffix && next[id] == UINT64_MAX &&
		    first > 0))
			errx(1, "input %" PRIu64 ": %" PRIu64 " of %" PRIu64
			    " records", id, next[id] == UINT64_MAX ? 0 :
			    next[id], n);
	if (follower != NULL) {
		struct frame ff;

		slurp(&t, follower);
		while ((r = next_frame(&t, &ff)) > 0 && ff.offset < first)
			;
		if (r <= 0)
			errx(1, "%s: nothing from offset %" PRIu64, follower, first);
		t.pos -= ff.rawlen;
		if (t.len - t.pos != f.len || memcmp(t.p + t.pos, f.p, f.len))
			errx(1, "%s: differs from the log from offset %" PRIu64,
			    follower, first);
		free(t.p);
	}
	printf("%" PRIu64 " records of %" PRIu64 " inputs, offsets %" PRIu64
	    "-%" PRIu64 ", each once, intact, in its input's order\n", count,
	    inputs, first, prev);
	free(f.p);
	free(next);
	free(v);
	return 0;
}

static int
count(const char *path)
{
	struct file f;
	struct frame fr;
	uint64_t n = 0, end = 0;

	slurp(&f, path);
	while (next_frame(&f, &fr) > 0) {
		n++;
		end = fr.offset + 1;
	}
	printf("%" PRIu64 " %" PRIu64 "\n", n, end);
	free(f.p);
	return 0;
}

static uint64_t
num(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno)
		errx(2, "%s: not a number", s);
	return v;
}

int
main(int argc, char *argv[])
{
	const char *cmd, *follower = NULL;
	int ch, sflag = 0;

	if (argc < 2)
		goto usage;
	cmd = argv[1];
	argc--;
	argv++;
	while ((ch = getopt(argc, argv, "f:m:r:st:u:")) != -1) {
		switch (ch) {
		case 'f':
			from = num(optarg);
			break;
		case 'u':
			until = num(optarg);
			break;
		case 'm':
			maxlen = num(optarg);
			if (maxlen == 0)
				maxlen = 1;
			break;
		case 'r':
			seed = num(optarg);
			break;
		case 's':
			sflag = 1;
			break;
		case 't':
			follower = optarg;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "gen") == 0 && argc == 2)
		return gen(num(argv[0]), num(argv[1]));
	if (strcmp(cmd, "check") == 0 && (argc == 2 || argc == 3))
		return check(num(argv[0]), num(argv[1]), sflag,
		    argc == 3 ? argv[2] : NULL, follower);
	if (strcmp(cmd, "count") == 0 && argc <= 1)
		return count(argc == 1 ? argv[0] : NULL);
usage:
	fprintf(stderr, "usage: relrec gen [-m max] [-r seed] [-f from] "
	    "[-u until] id n\n"
	    "       relrec check [-s] [-m max] [-r seed] [-t file] inputs n "
	    "[file]\n"
	    "       relrec count [file]\n");
	return 2;
}
