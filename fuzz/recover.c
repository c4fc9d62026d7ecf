/*
 * recover.c - fuzz recovery: a log whose only segment (and its index) is
 * made of arbitrary bytes is read (sl_reader, as a log and as a lone
 * segment), checked (sl_fsck), summed up (sl_stat) and recovered by a
 * writer (sl_writer_open), which then appends one record.
 *
 * Input: two bytes giving the index's length, the index, the segment.
 * Invariants: readers return offsets in increasing order and stop with
 * EBADMSG or at a clean end; a writer refuses only a log a reader finds
 * damaged; a writer that accepts a log that read cleanly leaves it
 * readable to the end, holding every record a reader saw before, and
 * appends at the offset after them; what a reader saw before damage is
 * still there after recovery.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "segment.h"
#include "fuzz.h"

#define MAXREC	1024

static char	dir[PATH_MAX], seg[PATH_MAX + 32], idx[PATH_MAX + 32];

struct seen {
	uint64_t	off[MAXREC];
	uint64_t	hash[MAXREC];
	size_t		n;
	int		failed;		/* stopped with an error */
};

static uint64_t
hash(const struct sl_record *r)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)r->timestamp;

	for (size_t i = 0; r->value && i < r->valuelen; i++)
		h = (h ^ r->value[i]) * 1099511628211ULL;
	h = (h ^ (r->value ? r->valuelen : UINT64_MAX)) * 1099511628211ULL;
	for (size_t i = 0; r->key && i < r->keylen; i++)
		h = (h ^ r->key[i]) * 1099511628211ULL;
	h = (h ^ (r->key ? r->keylen : UINT64_MAX)) * 1099511628211ULL;
	return h ^ r->nheaders;
}

static void
put(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || sl_write_full(fd, p, len) < 0) {
		perror(path);
		abort();
	}
	close(fd);
}

static void
read_all(const char *path, struct seen *s)
{
	struct sl_record r;
	sl_reader *rd;
	int f;

	s->n = 0;
	s->failed = 0;
	if ((rd = sl_reader_open(path)) == NULL) {
		s->failed = 1;
		return;
	}
	while (s->n < MAXREC && (f = sl_reader_next(rd, &r)) > 0) {
		FUZZ_ASSERT(s->n == 0 || r.offset > s->off[s->n - 1],
		    "offsets increase");
		s->off[s->n] = r.offset;
		s->hash[s->n++] = hash(&r);
	}
	if (s->n < MAXREC && f < 0) {
		FUZZ_ASSERT(errno == EBADMSG, "a read fails only on damage");
		s->failed = 1;
	}
	sl_reader_close(rd);
}

static void
cleanup(void);

static void
remove_dir(void)
{
	char path[PATH_MAX + 32];

	cleanup();
	unlink(seg);
	snprintf(path, sizeof path, "%s/settings", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock", dir);
	unlink(path);
	rmdir(dir);
}

static void
setup(void)
{
	static const char settings[] = "synclog 1\n"
	    "id 0123456789abcdef0123456789abcdef\n"
	    "segment-bytes 1048576\nmax-record-bytes 4096\n";
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX + 32];
	struct stat st;

	if (tmp == NULL || *tmp == '\0')
		tmp = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK)
		    == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof dir, "%s/synclog-fuzz-recover.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		abort();
	}
	snprintf(path, sizeof path, "%s/settings", dir);
	put(path, settings, sizeof settings - 1);
	snprintf(seg, sizeof seg, "%s/00000000000000000000.log", dir);
	snprintf(idx, sizeof idx, "%s/00000000000000000000.index", dir);
	atexit(remove_dir);
}

static void
cleanup(void)
{
	uint64_t *bases;
	size_t n;
	char path[PATH_MAX + 64], name[64];

	/* Whatever the writer made besides the one segment. */
	if (sl_segment_list_path(dir, &bases, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			sl_segment_name(name, sizeof name, bases[i], ".log");
			snprintf(path, sizeof path, "%s/%s", dir, name);
			unlink(path);
			sl_segment_name(name, sizeof name, bases[i], ".index");
			snprintf(path, sizeof path, "%s/%s", dir, name);
			unlink(path);
		}
		free(bases);
	}
	unlink(idx);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen before, lone, after;
	struct sl_writer_opts o = { .nosync = 1 };
	struct sl_fsck_opts fo = { SL_FSCK_CHECK, 0, NULL, NULL };
	struct sl_fsck_result fr;
	struct sl_stat st;
	struct sl_record r = { 0 };
	sl_writer *w;
	uint64_t first;
	size_t ilen;

	if (dir[0] == '\0')
		setup();
	if (size < 2)
		return 0;
	ilen = (data[0] | data[1] << 8) % (size - 1);
	put(idx, data + 2, ilen);
	put(seg, data + 2 + ilen, size - 2 - ilen);

	read_all(dir, &before);
	read_all(seg, &lone);
	sl_fsck(dir, &fo, &fr);
	sl_stat(dir, &st);

	if ((w = sl_writer_open(dir, &o)) == NULL) {
		FUZZ_ASSERT(errno == EBADMSG, "a writer refuses only damage");
		FUZZ_ASSERT(before.failed, "a writer refuses a log that reads");
		cleanup();
		return 0;
	}
	r.timestamp = 42;
	r.value = (const unsigned char *)"fuzz";
	r.valuelen = 4;
	FUZZ_ASSERT(sl_writer_add(w, &r) == 0, "add");
	FUZZ_ASSERT(sl_writer_commit(w, SL_NO_OFFSET, &first) == 0, "commit");
	sl_writer_close(w);

	read_all(dir, &after);
	/* Damage before the tail is no writer's business: it stays. */
	FUZZ_ASSERT(before.failed || !after.failed,
	    "a recovered log reads to its end");
	FUZZ_ASSERT(before.failed || before.n == MAXREC ||
	    after.n == before.n + 1, "recovery keeps every record");
	for (size_t i = 0; i < before.n && i < after.n; i++)
		FUZZ_ASSERT(after.off[i] == before.off[i] &&
		    after.hash[i] == before.hash[i], "records unchanged");
	if (!before.failed && after.n > 0 && after.n < MAXREC) {
		FUZZ_ASSERT(after.off[after.n - 1] == first,
		    "the new record is last");
		FUZZ_ASSERT(after.n < 2 || first > after.off[after.n - 2],
		    "appended after the end");
	}
	cleanup();
	return 0;
}
