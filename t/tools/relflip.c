/*
 * relflip - damage a log in every way one bit flip or one truncation can,
 * and check that each is classified as synclog(5) says (t/075-rel-*.bats).
 *
 *	relflip [-bit] [-c name] [-f every] [-s step] log
 *
 * The log, a scratch copy, must be intact.  relflip maps its batches,
 * then, one case at a time, damages one file in place, checks, and puts
 * the file back (checked byte for byte before the next case):
 *	-b	every bit of every segment flipped, one at a time;
 *	-t	every segment cut at every length below its size;
 *	-i	every bit of every index file flipped, and each index
 *		replaced by garbage, zeros, a cut copy, another segment's
 *		index and an empty file;
 *	-c NAME	every bit of consumer NAME's checkpoint flipped.
 * -s STEP takes every STEP-th byte only; -f N runs the library's logfsck
 * check (sl_fsck) on every N-th case only (it is the slowest part).
 *
 * The classification, where B is the batch holding the damage and S its
 * segment:
 * - S is the last segment and B its last batch (or the cut is inside its
 *   last batch): an incomplete tail.  A reader returns every record before
 *   B and ends cleanly; logfsck reports an incomplete tail at B.
 * - Otherwise: corruption.  A reader returns every record before B, then
 *   fails with EBADMSG and "S: byte POS: offset OFF: ..." naming B's
 *   position and first offset; logfsck reports a problem at B.
 * - A sealed segment cut exactly between batches no longer ends where
 *   the next one starts (compaction and salvage keep a segment's end):
 *   a reader returns every record before the cut, then fails with
 *   EBADMSG and "NEXT: offsets A-B lost" (or "offset A lost"), NEXT the
 *   segment after S and A the first offset cut off; logfsck reports a
 *   problem in NEXT at offset A.
 * - A damaged index changes no answer: seeking to the first and last
 *   offset of every batch of its segment returns that record, and every
 *   time lookup returns the first offset whose timestamp is at or after
 *   the time asked, as a scan of the whole log finds it.
 * - A flipped checkpoint is refused as damaged (EBADMSG), never read as
 *   some offset.
 * Every record a reader returns is compared with the intact log's record
 * at that offset.  The last line on stdout sums the run up; exit 0 when
 * every case was classified right, 1 at the first one that was not (on
 * stderr), 2 on a usage or system error.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "batch.h"
#include "segment.h"
#include "ttools.h"

struct bmap {
	uint64_t	pos, len, base, last;
};

struct seg {
	uint64_t	 base;
	char		 name[64];
	char		 path[PATH_MAX];
	unsigned char	*data;
	size_t		 size;
	struct bmap	*b;
	size_t		 nb;
};

static const char *logdir;
static struct seg *segs;
static size_t	 nsegs;
/* The intact log: a hash of each record, by offset (dense from 0). */
static uint64_t	*rhash;
static int64_t	*rts;		/* and its timestamp */
static size_t	 nrec;
static uint64_t	 fsck_every = 1, ncase, nfsck;

/* A record's bytes and timestamp. */
static uint64_t
rec_hash(const struct sl_record *r)
{
	return mix64(record_hash(r) ^ (uint64_t)r->timestamp);
}

static void
load(void)
{
	uint64_t *bases;
	size_t n;
	struct sl_window w = { 0 };
	sl_reader *r;
	struct sl_record rec;
	int f;

	if (sl_segment_list_path(logdir, &bases, &n) < 0 || n == 0)
		errx(2, "%s: no segments", logdir);
	if ((segs = calloc(n, sizeof *segs)) == NULL)
		err(2, "calloc");
	for (size_t i = 0; i < n; i++) {
		struct seg *s = &segs[nsegs++];
		struct sl_batch b;
		const unsigned char *p;
		const char *why;
		struct stat st;
		int fd;

		s->base = bases[i];
		sl_segment_name(s->name, sizeof s->name, s->base, ".log");
		snprintf(s->path, sizeof s->path, "%s/%s", logdir, s->name);
		if ((fd = open(s->path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
			err(2, "%s", s->path);
		s->size = st.st_size;
		if ((s->data = malloc(s->size + 1)) == NULL)
			err(2, "malloc");
		if (sl_pread_full(fd, s->data, s->size, 0) != (ssize_t)s->size)
			err(2, "%s", s->path);
		for (uint64_t pos = 0; pos < s->size; pos += b.length) {
			if (sl_scan_batch(&w, fd, pos, SIZE_MAX, 0, &b, &p,
			    &why) != SL_SCAN_OK)
				errx(2, "%s: byte %" PRIu64 ": not intact: %s",
				    s->path, pos, why);
			if ((s->b = realloc(s->b, (s->nb + 1) *
			    sizeof *s->b)) == NULL)
				err(2, "realloc");
			s->b[s->nb].pos = pos;
			s->b[s->nb].len = b.length;
			s->b[s->nb].base = b.base;
			s->b[s->nb++].last = b.base + b.last_delta;
		}
		sl_window_drop(&w);
		close(fd);
	}
	sl_window_free(&w);
	free(bases);
	if ((r = sl_reader_open(logdir)) == NULL)
		errx(2, "%s", sl_error());
	while ((f = sl_reader_next(r, &rec)) > 0) {
		if (rec.offset != nrec)
			errx(2, "%s: offsets not dense", logdir);
		if ((rhash = realloc(rhash, (nrec + 1) * sizeof *rhash)) ==
		    NULL || (rts = realloc(rts, (nrec + 1) * sizeof *rts)) ==
		    NULL)
			err(2, "realloc");
		rts[nrec] = rec.timestamp;
		rhash[nrec++] = rec_hash(&rec);
	}
	if (f < 0)
		errx(2, "%s: %s", logdir, sl_error());
	sl_reader_close(r);
}

static void
put_back(const struct seg *s)
{
	struct stat st;
	unsigned char *now;
	int fd;

	if ((fd = open(s->path, O_RDWR)) < 0 ||
	    sl_pwrite_full(fd, s->data, s->size, 0) < 0 ||
	    ftruncate(fd, (off_t)s->size) < 0 || fstat(fd, &st) < 0)
		err(2, "%s", s->path);
	if ((now = malloc(s->size + 1)) == NULL)
		err(2, "malloc");
	if ((size_t)st.st_size != s->size || sl_pread_full(fd, now, s->size,
	    0) != (ssize_t)s->size || memcmp(now, s->data, s->size) != 0)
		errx(2, "%s: could not be put back", s->path);
	free(now);
	close(fd);
}

struct expect {
	const char	*what;		/* for messages */
	int		 corrupt;	/* else a clean end (a torn tail) */
	int		 lost;		/* corrupt: a lost range before seg */
	const struct seg *seg;		/* where the reader must stop */
	uint64_t	 pos, off;
	uint64_t	 skip_from, skip_to;	/* offsets a gap hides */
	uint64_t	 upto;		/* offsets returned: [0, upto) */
};

/* Collect logfsck's first problem. */
struct fsck_seen {
	int	 n;
	char	 file[64];
	uint64_t pos, off;
	char	 msg[256];
};

static void
fsck_report(void *arg, const struct sl_fsck_event *ev)
{
	struct fsck_seen *fs = arg;

	/* A cut segment's index is stale too: that is not the problem
	 * looked for, which the walk of the segments reports. */
	if (ev->kind != SL_FSCK_PROBLEM || (ev->file != NULL &&
	    strstr(ev->file, ".index") != NULL) || fs->n++ > 0)
		return;
	snprintf(fs->file, sizeof fs->file, "%s", ev->file ? ev->file : "");
	fs->pos = ev->pos;
	fs->off = ev->offset;
	snprintf(fs->msg, sizeof fs->msg, "%s", ev->msg ? ev->msg : "");
}

static void
check(const struct expect *x)
{
	sl_reader *r;
	struct sl_record rec;
	uint64_t want = 0;
	char prefix[256];
	int f;

	ncase++;
	if ((r = sl_reader_open(logdir)) == NULL)
		errx(1, "%s: cannot open: %s", x->what, sl_error());
	while ((f = sl_reader_next(r, &rec)) > 0) {
		if (want == x->skip_from)
			want = x->skip_to;
		if (rec.offset != want || want >= x->upto)
			errx(1, "%s: offset %" PRIu64 " returned, %" PRIu64
			    " due (up to %" PRIu64 ")", x->what, rec.offset,
			    want, x->upto);
		if (rec_hash(&rec) != rhash[want])
			errx(1, "%s: offset %" PRIu64 ": a damaged record was "
			    "returned", x->what, want);
		want++;
	}
	if (want == x->skip_from)
		want = x->skip_to;
	if (want != x->upto)
		errx(1, "%s: %" PRIu64 " records returned, %" PRIu64 " due "
		    "(%s)", x->what, want, x->upto, f < 0 ?
		    sl_error() : "clean end");
	if (x->corrupt) {
		if (x->lost && x->off + 1 == x->seg->base)
			snprintf(prefix, sizeof prefix, "%s: offset %" PRIu64
			    " lost: ", x->seg->name, x->off);
		else if (x->lost)
			snprintf(prefix, sizeof prefix, "%s: offsets %" PRIu64
			    "-%" PRIu64 " lost: ", x->seg->name, x->off,
			    x->seg->base - 1);
		else
			snprintf(prefix, sizeof prefix, "%s: byte %" PRIu64
			    ": offset %" PRIu64 ": ", x->seg->name, x->pos,
			    x->off);
		if (f >= 0)
			errx(1, "%s: corruption taken for the end of the log",
			    x->what);
		if (errno != EBADMSG || strncmp(sl_error(), prefix,
		    strlen(prefix)) != 0)
			errx(1, "%s: reported as \"%s\", not \"%s...\"", x->what,
			    sl_error(), prefix);
	} else if (f < 0)
		errx(1, "%s: a clean end was due, not: %s", x->what,
		    sl_error());
	sl_reader_close(r);

	if (ncase % fsck_every == 0 && x->seg != NULL) {
		struct fsck_seen fs = { 0 };
		struct sl_fsck_opts o = { SL_FSCK_CHECK, 0, fsck_report, &fs };
		struct sl_fsck_result res;

		nfsck++;
		if (sl_fsck(logdir, &o, &res) < 0)
			errx(1, "%s: logfsck could not run: %s", x->what,
			    sl_error());
		if (res.problems == 0)
			errx(1, "%s: logfsck found no problem", x->what);
		if (strcmp(fs.file, x->seg->name) != 0 || fs.pos != x->pos ||
		    fs.off != x->off)
			errx(1, "%s: logfsck reported %s: byte %" PRIu64
			    ": offset %" PRIu64 ": %s; %s: byte %" PRIu64
			    ": offset %" PRIu64 " was due", x->what, fs.file,
			    fs.pos, fs.off, fs.msg, x->seg->name, x->pos,
			    x->off);
	}
}

/* The batch of S holding byte POS. */
static size_t
batch_at(const struct seg *s, uint64_t pos)
{
	size_t i;

	for (i = 0; i + 1 < s->nb && pos >= s->b[i + 1].pos; i++)
		;
	return i;
}

static void
expect_damage(struct expect *x, const struct seg *s, size_t bi)
{
	x->seg = s;
	x->pos = s->b[bi].pos;
	x->off = s->b[bi].base;
	x->upto = s->b[bi].base;
	x->corrupt = !(s == &segs[nsegs - 1] && bi == s->nb - 1);
	x->lost = 0;
	x->skip_from = x->skip_to = UINT64_MAX;
}

static uint64_t nflips, ntorn, ncorrupt, ngap, ncuts, nckflips;

static size_t
nbatches(void)
{
	size_t n = 0;

	for (size_t i = 0; i < nsegs; i++)
		n += segs[i].nb;
	return n;
}

static void
flips(uint64_t step)
{
	char what[128];
	struct expect x;

	for (size_t si = 0; si < nsegs; si++) {
		struct seg *s = &segs[si];

		for (uint64_t pos = 0; pos < s->size; pos += step) {
			for (int bit = 0; bit < 8; bit++) {
				int fd = open(s->path, O_WRONLY);
				unsigned char c = s->data[pos] ^ (1u << bit);

				if (fd < 0 || sl_pwrite_full(fd, &c, 1, pos) < 0)
					err(2, "%s", s->path);
				close(fd);
				snprintf(what, sizeof what, "%s: bit %d of byte %"
				    PRIu64 " flipped", s->name, bit, pos);
				x.what = what;
				expect_damage(&x, s, batch_at(s, pos));
				check(&x);
				x.corrupt ? ncorrupt++ : ntorn++;
				nflips++;
				put_back(s);
			}
		}
	}
}

static void
cuts(uint64_t step)
{
	char what[128];
	struct expect x;

	for (size_t si = 0; si < nsegs; si++) {
		struct seg *s = &segs[si];
		int last = si == nsegs - 1;

		for (uint64_t len = 0; len < s->size; len += step) {
			size_t bi = batch_at(s, len);

			if (truncate(s->path, (off_t)len) < 0)
				err(2, "%s", s->path);
			snprintf(what, sizeof what, "%s: cut at %" PRIu64,
			    s->name, len);
			x.what = what;
			if (len == s->b[bi].pos) {
				/* Between batches: the rest is missing, the
				 * end of the log in the last segment, a lost
				 * range before the next in any other. */
				x.corrupt = !last;
				x.lost = !last;
				x.seg = last ? NULL : &segs[si + 1];
				x.pos = SL_NO_OFFSET;
				x.off = s->b[bi].base;
				x.upto = s->b[bi].base;
				x.skip_from = x.skip_to = UINT64_MAX;
				last ? ntorn++ : ngap++;
			} else {
				expect_damage(&x, s, bi);
				/* Cut inside a batch: torn only at the end. */
				x.corrupt = !last;
				x.corrupt ? ncorrupt++ : ntorn++;
			}
			check(&x);
			ncuts++;
			put_back(s);
		}
	}
}

static uint64_t nidx, nseeks, ntimes;
static int	 notime;		/* -I: no time lookups on flipped indexes */

/* Every answer that goes through segment S's index is still right. */
static void
check_index(const struct seg *s, const char *what, int times)
{
	sl_reader *r;
	struct sl_record rec;
	uint64_t off;

	ncase++;
	if ((r = sl_reader_open(logdir)) == NULL)
		errx(1, "%s: cannot open: %s", what, sl_error());
	for (size_t bi = 0; bi < s->nb; bi++) {
		uint64_t want[2] = { s->b[bi].base, s->b[bi].last };

		for (int k = 0; k < 2; k++) {
			if (sl_reader_seek(r, want[k]) < 0 ||
			    sl_reader_next(r, &rec) != 1)
				errx(1, "%s: seek to %" PRIu64 ": %s", what,
				    want[k], sl_error());
			if (rec.offset != want[k] ||
			    rec_hash(&rec) != rhash[want[k]])
				errx(1, "%s: seek to %" PRIu64 " returned %" PRIu64,
				    what, want[k], rec.offset);
			nseeks++;
		}
		/* The first offset at or after the batch's first time. */
		int64_t t = rts[s->b[bi].base];
		uint64_t first = 0;

		if (!times)
			continue;
		while (first < nrec && rts[first] < t)
			first++;
		if (sl_reader_find_time(r, t, &off) < 0)
			errx(1, "%s: time %" PRId64 ": %s", what, t,
			    sl_error());
		if (off != first)
			errx(1, "%s: time %" PRId64 " found %" PRIu64 ", not %"
			    PRIu64, what, t, off, first);
		ntimes++;
	}
	sl_reader_close(r);
}

static void
write_file(const char *path, const void *p, size_t len)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    sl_pwrite_full(fd, p, len, 0) < 0 || close(fd) < 0)
		err(2, "%s", path);
}

static void
index_damage(uint64_t step)
{
	char path[PATH_MAX], other[PATH_MAX], what[PATH_MAX + 64];
	unsigned char *orig, *buf;

	for (size_t si = 0; si < nsegs; si++) {
		const struct seg *s = &segs[si];
		struct stat st;
		ssize_t n;
		int fd;

		snprintf(path, sizeof path, "%s/%.20s.index", logdir, s->name);
		if ((fd = open(path, O_RDWR)) < 0 || fstat(fd, &st) < 0)
			err(2, "%s", path);
		n = st.st_size;
		if ((orig = malloc(n + 4096)) == NULL ||
		    (buf = malloc(n + 4096)) == NULL)
			err(2, "malloc");
		if (sl_pread_full(fd, orig, n, 0) != n)
			err(2, "%s", path);
		close(fd);
		for (ssize_t pos = 0; pos < n; pos += step)
			for (int bit = 0; bit < 8; bit++) {
				memcpy(buf, orig, n);
				buf[pos] ^= 1u << bit;
				write_file(path, buf, n);
				snprintf(what, sizeof what, "%s: bit %d of byte "
				    "%zd flipped", path, bit, pos);
				check_index(s, what, !notime);
				nidx++;
			}
		/* Whole-file damage. */
		for (int kind = 0; kind < 5; kind++) {
			size_t len = n;

			if (kind == 0)
				for (ssize_t i = 0; i < n + 4096; i++)
					buf[i] = (unsigned char)(i * 131 + 7);
			if (kind == 0)
				len = n + 4096;
			if (kind == 1)
				memset(buf, 0, len = n + 4096);
			if (kind == 2) {
				memcpy(buf, orig, n);
				len = n > 0 ? (size_t)n - 1 - (n - 1) / 2 : 0;
			}
			if (kind == 3) {
				/* Another segment's index: stale entries. */
				struct stat ost;
				int ofd;

				snprintf(other, sizeof other,
				    "%s/%.20s.index", logdir,
				    segs[(si + 1) % nsegs].name);
				if ((ofd = open(other, O_RDONLY)) < 0 ||
				    fstat(ofd, &ost) < 0)
					err(2, "%s", other);
				len = (size_t)ost.st_size > (size_t)n + 4096 ?
				    (size_t)n + 4096 : (size_t)ost.st_size;
				if (sl_pread_full(ofd, buf, len, 0) < 0)
					err(2, "%s", other);
				close(ofd);
			}
			if (kind == 4)
				len = 0;
			write_file(path, buf, len);
			snprintf(what, sizeof what, "%s: damage %d", path,
			    kind);
			check_index(s, what, 1);
			nidx++;
		}
		write_file(path, orig, n);
		free(orig);
		free(buf);
	}
}

static void
checkpoint_flips(const char *name)
{
	char path[PATH_MAX];
	unsigned char buf[256];
	struct sl_checkpoint ck;
	ssize_t n;
	int fd;

	if (sl_checkpoint_path(logdir, name, path, sizeof path) == NULL ||
	    (fd = open(path, O_RDWR)) < 0)
		err(2, "%s: checkpoint %s", logdir, name);
	if ((n = sl_pread_full(fd, buf, sizeof buf, 0)) <= 0)
		err(2, "%s", path);
	for (ssize_t pos = 0; pos < n; pos++)
		for (int bit = 0; bit < 8; bit++) {
			unsigned char c = buf[pos] ^ (1u << bit);

			if (sl_pwrite_full(fd, &c, 1, pos) < 0)
				err(2, "%s", path);
			ncase++;
			if (sl_checkpoint_read(logdir, name, "", &ck) == 0)
				errx(1, "%s: bit %d of byte %zd flipped: read as "
				    "offset %" PRIu64, path, bit, pos,
				    ck.offset);
			if (errno != EBADMSG)
				errx(1, "%s: bit %d of byte %zd flipped: %s, "
				    "not damage", path, bit, pos,
				    strerror(errno));
			if (sl_pwrite_full(fd, buf + pos, 1, pos) < 0)
				err(2, "%s", path);
			nckflips++;
		}
	close(fd);
	if (sl_checkpoint_read(logdir, name, "", &ck) < 0)
		errx(2, "%s: not put back", path);
}

int
main(int argc, char *argv[])
{
	const char *ckname = NULL;
	uint64_t step = 1;
	int ch, bflag = 0, iflag = 0, tflag = 0;

	while ((ch = getopt(argc, argv, "Ibc:f:is:t")) != -1) {
		switch (ch) {
		case 'I':
			notime = 1;
			break;
		case 'b':
			bflag = 1;
			break;
		case 'i':
			iflag = 1;
			break;
		case 'c':
			ckname = optarg;
			break;
		case 'f':
			fsck_every = strtoull(optarg, NULL, 10);
			if (fsck_every == 0)
				fsck_every = UINT64_MAX;
			break;
		case 's':
			step = strtoull(optarg, NULL, 10);
			if (step == 0)
				step = 1;
			break;
		case 't':
			tflag = 1;
			break;
		default:
			goto usage;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		goto usage;
	logdir = argv[0];
	load();
	if (bflag)
		flips(step);
	if (tflag)
		cuts(step);
	if (iflag)
		index_damage(step);
	if (ckname != NULL)
		checkpoint_flips(ckname);
	if (bflag || tflag)
		printf("damage: %" PRIu64 " bit flips and %" PRIu64
		    " truncations of %zu segments (%zu batches): %" PRIu64
		    " torn tails, %" PRIu64 " corruptions and %" PRIu64
		    " lost ranges classified right (%" PRIu64 " by logfsck too), "
		    "no damaged record returned\n", nflips, ncuts, nsegs,
		    nbatches(), ntorn, ncorrupt, ngap, nfsck);
	if (iflag)
		printf("damage: %" PRIu64 " damaged indexes of %zu segments: "
		    "%" PRIu64 " seeks and %" PRIu64 " time lookups right, no "
		    "damaged record returned\n", nidx, nsegs, nseeks, ntimes);
	if (ckname != NULL)
		printf("damage: %" PRIu64 " checkpoint bit flips refused, "
		    "none read as an offset\n", nckflips);
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
usage:
	fprintf(stderr, "usage: relflip [-bit] [-c name] [-f every] "
	    "[-s step] log\n");
	return 2;
}
