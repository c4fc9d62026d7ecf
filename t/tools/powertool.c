/*
 * powertool - power-cut simulation for the reliability tests, on the
 * journal of t/shim/powercut.c (format in t/shim/powercut.h).
 *
 *	powertool run -P shim.so [-i input] [-w usec] [-r seed] ROOT JOURNAL
 *	    -- command [arg]...
 *	powertool count JOURNAL
 *	powertool replay [-m mode] [-r seed] JOURNAL BASE OUT K
 *	powertool check [-NS] [-k offsets] [-l log] [-m mode]... [-o dir]
 *	    [-r seed] [-s step] JOURNAL BASE
 *
 * run: runs COMMAND with the shim journaling what it does under ROOT;
 * each line of INPUT becomes an INPUT entry and is fed to the command's
 * standard input in randomly paced chunks (so that batches of all sizes
 * form); each line the command prints becomes an ACK entry (after the
 * sync that allowed it, since it is read after it was printed) and is
 * copied to stdout.  Exits with the command's status (128 + signal).
 *
 * replay: rebuilds in OUT the directory ROOT as a power cut after the
 * first K entries would have left it, starting from BASE (a copy of ROOT
 * taken before the run, taken as wholly durable), and prints the lines
 * acknowledged before the cut.  The model: a file's data survives as of
 * the beginning of its last fsync or fdatasync (what another thread wrote
 * while the sync ran is not counted as synced); a directory entry (creation, rename,
 * removal) survives only once its directory was fsynced.  MODE says what
 * becomes of what was not synced:
 *	cut	nothing of it survives
 *	zero	files keep their length, the unsynced bytes read as zeros
 *	garbage	likewise, random bytes
 *	prefix	a random part of the unsynced appended bytes survives
 *	keep	all data survives, directory entries only when synced
 *	names	all directory changes survive, data as in zero
 *	pages	the file keeps its length; each 4 KiB page holding unsynced
 *		data has, at random, its new or its old content (zeros
 *		past the synced length): the disk wrote some pages and not
 *		others, in no particular order
 *
 * check: replays every K (every STEP-th) in every MODE (default: all)
 * and checks the log LOG (default L) of each result with the library:
 * it reads without error; its offsets are dense; it holds BASE's records
 * and then a prefix of the INPUT records, in order; every acknowledged
 * offset holds its record (not with -N, whose writer never syncs); and a
 * new writer recovers it and appends at the next offset.  With -S (for a
 * run of logcompact) the log must instead hold a subset of BASE's
 * records, offsets unchanged, that includes every offset listed (one a
 * line) in the file OFFSETS, and the next writer appends after BASE's
 * last record.  The first
 * violation stops it with exit 1, leaving the rebuilt directory in DIR
 * (default powercheck.out) and the reason on stderr; else the last line
 * on stdout sums the run up.
 */
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "synclog.h"
#include "io.h"
#include "ttools.h"
#include "../shim/powercut.h"

/* ---- the journal ----------------------------------------------------- */

struct ent {
	struct pc_entry	 h;
	char		*path, *path2;
	unsigned char	*data;
	size_t		 off;		/* byte position in the journal */
	/* FSYNC: the entries before index SINCE are what it covers; SNAP is
	 * its file as it was then (taken during the replay), NEXT the next
	 * sync with the same SINCE. */
	size_t		 since;
	size_t		 next;
	int		 snapped;
	unsigned char	*snap;
	size_t		 snaplen;
};

static struct ent *ents;
static size_t	 nents;
static size_t	*syncs_at;	/* [i]: the first FSYNC whose SINCE is i */

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		err(2, "malloc");
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	if ((p = realloc(p, n ? n : 1)) == NULL)
		err(2, "realloc");
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/*
 * Work out what each sync covers: the entries journaled before it began
 * (without that mark, every entry before it).
 */
static void
link_syncs(void)
{
	size_t i, lo, hi;

	syncs_at = xmalloc((nents + 1) * sizeof *syncs_at);
	for (i = 0; i <= nents; i++)
		syncs_at[i] = SIZE_MAX;
	for (i = nents; i-- > 0; ) {
		struct ent *e = &ents[i];

		if (e->h.type != PC_FSYNC)
			continue;
		if (e->h.b == 0)
			e->since = i;
		else {
			for (lo = 0, hi = i; lo < hi; ) {
				size_t mid = lo + (hi - lo) / 2;

				if (ents[mid].off < e->h.b - 1)
					lo = mid + 1;
				else
					hi = mid;
			}
			e->since = lo;
		}
		e->next = syncs_at[e->since];
		syncs_at[e->since] = i;
	}
}

static void
load_journal(const char *path)
{
	struct stat st;
	unsigned char *buf, *p, *end;
	size_t cap = 0;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		err(2, "%s", path);
	buf = xmalloc(st.st_size);
	if (sl_pread_full(fd, buf, st.st_size, 0) != st.st_size)
		err(2, "%s: short read", path);
	close(fd);
	for (p = buf, end = buf + st.st_size; p < end; ) {
		struct ent *e;

		if (nents == cap)
			ents = xrealloc(ents, (cap = cap ? 2 * cap : 256) *
			    sizeof *ents);
		e = &ents[nents];
		memset(e, 0, sizeof *e);
		e->off = (size_t)(p - buf);
		if ((size_t)(end - p) < sizeof e->h)
			errx(2, "%s: truncated entry", path);
		memcpy(&e->h, p, sizeof e->h);
		p += sizeof e->h;
		if (e->h.magic != PC_MAGIC || (size_t)(end - p) <
		    (uint64_t)e->h.pathlen + e->h.path2len + e->h.datalen)
			errx(2, "%s: bad entry %zu", path, nents);
		e->path = xstrndup((char *)p, e->h.pathlen);
		p += e->h.pathlen;
		e->path2 = e->h.path2len ? xstrndup((char *)p, e->h.path2len) :
		    NULL;
		p += e->h.path2len;
		/* NUL-terminated: an ACK's data is parsed as a number. */
		e->data = xmalloc(e->h.datalen + 1);
		memcpy(e->data, p, e->h.datalen);
		e->data[e->h.datalen] = '\0';
		p += e->h.datalen;
		nents++;
	}
	free(buf);
	link_syncs();
}

static void
journal_append(int fd, uint32_t type, uint64_t a, const void *data,
    size_t len)
{
	struct pc_entry e;
	struct iovec iov[2];

	memset(&e, 0, sizeof e);
	e.magic = PC_MAGIC;
	e.type = type;
	e.pid = (uint32_t)getpid();
	e.a = a;
	e.datalen = len;
	iov[0].iov_base = &e;
	iov[0].iov_len = sizeof e;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = len;
	if (writev(fd, iov, 2) != (ssize_t)(sizeof e + len))
		err(2, "journal");
}

/* ---- the file system model -------------------------------------------- */

struct node {
	size_t		 dursince;	/* the SINCE of the sync behind dur */
	struct node	*all;		/* every node, for freeing */
	int		 dir;
	unsigned char	*cur, *dur;
	size_t		 curlen, curcap, durlen;
};

struct name {
	char		*path;
	struct node	*node;
};

struct ns {
	struct name	*v;
	size_t		 n, cap;
};

static struct ns cur, dur;
static struct {
	uint64_t	 ino;
	struct node	*node;
} *imap;
static size_t	 nimap, capimap;

static struct node *nodes;

static struct node *
node_new(int dir)
{
	struct node *n = calloc(1, sizeof *n);

	if (n == NULL)
		err(2, "calloc");
	n->dir = dir;
	n->all = nodes;
	nodes = n;
	return n;
}

static void
nodes_free(void)
{
	struct node *n;

	while ((n = nodes) != NULL) {
		nodes = n->all;
		free(n->cur);
		free(n->dur);
		free(n);
	}
}

static struct name *
ns_find(struct ns *s, const char *path)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].path, path) == 0)
			return &s->v[i];
	return NULL;
}

static struct node *
ns_get(struct ns *s, const char *path)
{
	struct name *m = ns_find(s, path);

	return m ? m->node : NULL;
}

static void
ns_set(struct ns *s, const char *path, struct node *n)
{
	struct name *m = ns_find(s, path);

	if (m != NULL) {
		m->node = n;
		return;
	}
	if (s->n == s->cap)
		s->v = xrealloc(s->v, (s->cap = s->cap ? 2 * s->cap : 64) *
		    sizeof *s->v);
	s->v[s->n].path = xstrndup(path, strlen(path));
	s->v[s->n++].node = n;
}

static void
ns_del(struct ns *s, const char *path)
{
	struct name *m = ns_find(s, path);

	if (m == NULL)
		return;
	free(m->path);
	*m = s->v[--s->n];
}

static void
ns_clear(struct ns *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].path);
	s->n = 0;
}

/* Whether PATH's directory is DIR ("" for the root). */
static int
in_dir(const char *path, const char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t dl = strlen(dir);

	if (slash == NULL)
		return dl == 0;
	return (size_t)(slash - path) == dl && strncmp(path, dir, dl) == 0;
}

static void
imap_set(uint64_t ino, struct node *n)
{
	for (size_t i = 0; i < nimap; i++)
		if (imap[i].ino == ino) {
			imap[i].node = n;
			return;
		}
	if (nimap == capimap)
		imap = xrealloc(imap, (capimap = capimap ? 2 * capimap : 64) *
		    sizeof *imap);
	imap[nimap].ino = ino;
	imap[nimap++].node = n;
}

/* The file an entry is about: by inode, or by its path at first sight. */
static struct node *
file_of(const struct ent *e)
{
	struct node *n;

	for (size_t i = 0; i < nimap; i++)
		if (imap[i].ino == e->h.ino)
			return imap[i].node;
	if ((n = ns_get(&cur, e->path)) == NULL) {
		n = node_new(0);
		ns_set(&cur, e->path, n);
	}
	imap_set(e->h.ino, n);
	return n;
}

static void
resize(struct node *n, size_t len)
{
	if (len > n->curcap) {
		size_t cap = n->curcap ? n->curcap : 4096;

		while (cap < len)
			cap *= 2;
		n->cur = xrealloc(n->cur, cap);
		n->curcap = cap;
	}
	if (len > n->curlen)
		memset(n->cur + n->curlen, 0, len - n->curlen);
	n->curlen = len;
}

static void
file_sync(struct node *n)
{
	free(n->dur);
	n->dur = xmalloc(n->curlen);
	if (n->curlen > 0)
		memcpy(n->dur, n->cur, n->curlen);
	n->durlen = n->curlen;
}

/* The file of sync E as it is now, or NULL when it is not known yet. */
static struct node *
file_now(const struct ent *e)
{
	for (size_t i = 0; i < nimap; i++)
		if (imap[i].ino == e->h.ino)
			return imap[i].node;
	return ns_get(&cur, e->path);
}

/* Take, before entry I, the snapshots of the syncs that cover up to it. */
static void
snapshots(size_t i)
{
	for (size_t f = syncs_at[i]; f != SIZE_MAX; f = ents[f].next) {
		struct ent *e = &ents[f];
		struct node *n = file_now(e);

		free(e->snap);
		e->snap = NULL;
		e->snaplen = 0;
		e->snapped = 1;
		if (n == NULL)
			continue;	/* nothing of it was written yet */
		e->snap = xmalloc(n->curlen);
		if (n->curlen > 0)
			memcpy(e->snap, n->cur, n->curlen);
		e->snaplen = n->curlen;
	}
}

static void
apply(const struct ent *e)
{
	struct node *n;
	size_t i;

	switch (e->h.type) {
	case PC_OPEN:
		if (e->h.a) {
			n = node_new(0);
			ns_set(&cur, e->path, n);
			imap_set(e->h.ino, n);
		} else
			n = file_of(e);
		if (e->h.b)
			resize(n, 0);
		break;
	case PC_WRITE:
		n = file_of(e);
		if (e->h.a + e->h.b > n->curlen)
			resize(n, e->h.a + e->h.b);
		memcpy(n->cur + e->h.a, e->data, e->h.b);
		break;
	case PC_TRUNC:
		resize(file_of(e), e->h.a);
		break;
	case PC_FSYNC:
		/* The file as the sync began, unless a sync that began
		 * later made it durable already. */
		n = file_of(e);
		if (e->snapped && e->since >= n->dursince) {
			free(n->dur);
			n->dur = e->snap;
			n->durlen = e->snaplen;
			n->dursince = e->since;
			((struct ent *)e)->snap = NULL;
			((struct ent *)e)->snapped = 0;
		}
		break;
	case PC_DIRSYNC:
		/* The directory's entries become what they are now. */
		for (i = 0; i < dur.n; )
			if (in_dir(dur.v[i].path, e->path) &&
			    ns_find(&cur, dur.v[i].path) == NULL)
				ns_del(&dur, dur.v[i].path);
			else
				i++;
		for (i = 0; i < cur.n; i++)
			if (in_dir(cur.v[i].path, e->path))
				ns_set(&dur, cur.v[i].path, cur.v[i].node);
		break;
	case PC_RENAME:
		if ((n = ns_get(&cur, e->path)) != NULL) {
			ns_del(&cur, e->path);
			ns_set(&cur, e->path2, n);
		}
		break;
	case PC_UNLINK:
	case PC_RMDIR:
		ns_del(&cur, e->path);
		break;
	case PC_MKDIR:
		ns_set(&cur, e->path, node_new(1));
		break;
	}
}

/* The model of BASE: everything durable. */
static void
load_base(const char *base, const char *rel)
{
	char path[2 * PATH_MAX], sub[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof path, "%s%s%s", base, *rel ? "/" : "", rel);
	if ((d = opendir(path)) == NULL)
		err(2, "%s", path);
	while ((de = readdir(d)) != NULL) {
		struct node *n;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "",
		    de->d_name);
		snprintf(path, sizeof path, "%s/%s", base, sub);
		if (lstat(path, &st) < 0)
			err(2, "%s", path);
		if (S_ISDIR(st.st_mode)) {
			n = node_new(1);
			ns_set(&cur, sub, n);
			ns_set(&dur, sub, n);
			load_base(base, sub);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		n = node_new(0);
		resize(n, st.st_size);
		int fd = open(path, O_RDONLY);

		if (fd < 0 || sl_pread_full(fd, n->cur, st.st_size, 0) !=
		    st.st_size)
			err(2, "%s", path);
		close(fd);
		file_sync(n);
		ns_set(&cur, sub, n);
		ns_set(&dur, sub, n);
	}
	closedir(d);
}

static void
model_reset(const char *base)
{
	ns_clear(&cur);
	ns_clear(&dur);
	nodes_free();
	nimap = 0;
	for (size_t i = 0; i < nents; i++) {
		free(ents[i].snap);
		ents[i].snap = NULL;
		ents[i].snapped = 0;
	}
	load_base(base, "");
}

/* ---- rebuilding a directory ------------------------------------------- */

enum mode { M_CUT, M_ZERO, M_GARBAGE, M_PREFIX, M_KEEP, M_NAMES, M_PAGES,
	NMODES };
static const char *const modenames[NMODES] = {
	"cut", "zero", "garbage", "prefix", "keep", "names", "pages"
};

static uint64_t rngstate = 1;

static uint64_t
rnd(uint64_t n)
{
	uint64_t x = (rngstate += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return n ? x % n : x;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	if (remove(path) < 0)
		err(2, "%s", path);
	return 0;
}

static void
rm_tree(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0 && errno == ENOENT)
		return;
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		err(2, "%s", dir);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct name *)a)->path,
	    ((const struct name *)b)->path);
}

/* Whether every directory above PATH is in S. */
static int
reachable(struct ns *s, const char *path)
{
	char buf[PATH_MAX], *slash;
	struct node *n;

	snprintf(buf, sizeof buf, "%s", path);
	while ((slash = strrchr(buf, '/')) != NULL) {
		*slash = '\0';
		if ((n = ns_get(s, buf)) == NULL || !n->dir)
			return 0;
	}
	return 1;
}

static void
write_file(const char *path, const struct node *n, enum mode m)
{
	size_t extra = n->curlen > n->durlen ? n->curlen - n->durlen : 0;
	const unsigned char *p = n->dur;
	size_t len = n->durlen;
	unsigned char *tail = NULL;
	int fd;

	if (m == M_PAGES) {
		/* Page by page: the new content or the old. */
		tail = xmalloc(n->curlen);
		for (size_t at = 0; at < n->curlen; at += 4096) {
			size_t pl = n->curlen - at < 4096 ? n->curlen - at : 4096;

			for (size_t i = 0; i < pl; i++)
				tail[at + i] = at + i < n->durlen ?
				    n->dur[at + i] : 0;
			if (memcmp(tail + at, n->cur + at, pl) != 0 && rnd(2))
				memcpy(tail + at, n->cur + at, pl);
		}
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 ||
		    sl_pwrite_full(fd, tail, n->curlen, 0) < 0)
			err(2, "%s", path);
		free(tail);
		close(fd);
		return;
	}
	if (m == M_KEEP) {
		p = n->cur;
		len = n->curlen;
		extra = 0;
	} else if (m == M_PREFIX && extra > 0 &&
	    (n->durlen == 0 || memcmp(n->cur, n->dur, n->durlen) == 0)) {
		/* A prefix of what was appended after the sync. */
		p = n->cur;
		len = n->durlen + rnd(extra + 1);
		extra = 0;
	} else if (m == M_CUT || m == M_PREFIX)
		extra = 0;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0 ||
	    sl_pwrite_full(fd, p, len, 0) < 0)
		err(2, "%s", path);
	if (extra > 0) {
		tail = xmalloc(extra);
		for (size_t i = 0; i < extra; i++)
			tail[i] = m == M_GARBAGE ? (unsigned char)rnd(256) : 0;
		if (sl_pwrite_full(fd, tail, extra, len) < 0)
			err(2, "%s", path);
		free(tail);
	}
	close(fd);
}

static void
rebuild(const char *out, enum mode m)
{
	struct ns *s = m == M_NAMES ? &cur : &dur;
	char path[2 * PATH_MAX];

	rm_tree(out);
	if (mkdir(out, 0755) < 0)
		err(2, "%s", out);
	/* Parents sort before their children. */
	if (s->n > 0)
		qsort(s->v, s->n, sizeof *s->v, cmp_name);
	for (size_t i = 0; i < s->n; i++) {
		const struct name *e = &s->v[i];

		if (!reachable(s, e->path))
			continue;
		snprintf(path, sizeof path, "%s/%s", out, e->path);
		if (e->node->dir) {
			if (mkdir(path, 0755) < 0)
				err(2, "%s", path);
		} else
			write_file(path, e->node, m == M_NAMES ? M_ZERO : m);
	}
}

static int
mode_of(const char *s)
{
	for (int i = 0; i < NMODES; i++)
		if (strcmp(s, modenames[i]) == 0)
			return i;
	errx(2, "unknown mode: %s", s);
}

/* ---- checking a rebuilt log -------------------------------------------- */

/* A record by a hash of its key, value and headers, and its timestamp. */
struct val {
	uint64_t	 h;
	int64_t		 ts;
	int		 has_ts;
};

static struct val *basev;	/* records of BASE's log */
static size_t	 nbase;
static int	 base_has_log;
static char	 base_id[33];
/* The records each `powertool run` fed its command, run by run. */
struct run {
	uint32_t	 pid;
	struct val	*in;
	size_t		 n;
};
static struct run *runs;
static size_t	 nruns;
/* For each offset of the log last read: its run (or -1) and input. */
static struct {
	long		 run;
	size_t		 idx;
} *where;
static size_t	 capwhere;

/* An input line: a value, no key, no headers, the time unknown. */
static void
val_set(struct val *v, const unsigned char *p, size_t len)
{
	struct sl_record r = { 0 };

	r.value = p;
	r.valuelen = len;
	v->h = record_hash(&r);
	v->has_ts = 0;
}

static void
val_rec(struct val *v, const struct sl_record *r)
{
	v->h = record_hash(r);
	v->ts = r->timestamp;
	v->has_ts = 1;
}

static int
val_eq(const struct val *v, const struct sl_record *r)
{
	return record_hash(r) == v->h && (!v->has_ts || v->ts == r->timestamp);
}

static struct run *
run_of(uint32_t pid, int create)
{
	for (size_t i = 0; i < nruns; i++)
		if (runs[i].pid == pid)
			return &runs[i];
	if (!create)
		return NULL;
	runs = xrealloc(runs, (nruns + 1) * sizeof *runs);
	memset(&runs[nruns], 0, sizeof *runs);
	runs[nruns].pid = pid;
	return &runs[nruns++];
}

static void
read_base(const char *base, const char *log)
{
	char path[PATH_MAX];
	struct sl_record rec;
	sl_reader *r;
	int f = 0;

	snprintf(path, sizeof path, "%s/%s", base, log);
	if ((r = sl_reader_open(path)) == NULL)
		return;
	base_has_log = 1;
	memcpy(base_id, sl_reader_settings(r)->id, sizeof base_id);
	while ((f = sl_reader_next(r, &rec)) > 0) {
		if (rec.offset != nbase)
			errx(2, "%s: not dense", path);
		basev = xrealloc(basev, (nbase + 1) * sizeof *basev);
		val_rec(&basev[nbase++], &rec);
	}
	if (f < 0)
		errx(2, "%s: %s", path, sl_error());
	sl_reader_close(r);
}

static int	 Nflag, Sflag;
static uint8_t	*must;		/* -k: per offset of BASE, must survive */
static const char *failmsg;
static char	 failbuf[1024];

static int
bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(failbuf, sizeof failbuf, fmt, ap);
	va_end(ap);
	failmsg = failbuf;
	return -1;
}

/*
 * Read the log; its records must be BASE's, then a prefix of each run's
 * input, run after run, then perhaps the check's own "recovered".
 */
static int
read_log(const char *path, size_t *count, int required)
{
	struct sl_record rec;
	sl_reader *r;
	size_t i = 0, j = 0;
	long ri = 0;
	int f;

	if ((r = sl_reader_open(path)) == NULL) {
		/* No log at all is a prefix too, unless BASE had one. */
		if (!required && errno == ENOENT) {
			*count = SIZE_MAX;
			return 0;
		}
		return bad("cannot open the log: %s", sl_error());
	}
	if (base_has_log && strcmp(sl_reader_settings(r)->id, base_id) != 0)
		return bad("the log id changed");
	while (Sflag && (f = sl_reader_next(r, &rec)) > 0) {
		if ((i > 0 && rec.offset <= where[i - 1].idx) ||
		    (rec.offset < nbase ? !val_eq(&basev[rec.offset], &rec) :
		    rec.offset != nbase || rec.valuelen != 9 ||
		    memcmp(rec.value, "recovered", 9) != 0)) {
			sl_reader_close(r);
			return bad("offset %" PRIu64 ": not the record written "
			    "there", rec.offset);
		}
		if (i == capwhere)
			where = xrealloc(where, (capwhere = capwhere ?
			    2 * capwhere : 1024) * sizeof *where);
		where[i].run = -1;
		where[i++].idx = rec.offset;
	}
	while (!Sflag && (f = sl_reader_next(r, &rec)) > 0) {
		if (rec.offset != i) {
			sl_reader_close(r);
			return bad("offset %" PRIu64 " where %zu was due",
			    rec.offset, i);
		}
		if (i == capwhere)
			where = xrealloc(where, (capwhere = capwhere ?
			    2 * capwhere : 1024) * sizeof *where);
		where[i].run = -1;
		if (i < nbase) {
			if (!val_eq(&basev[i], &rec))
				goto wrong;
			i++;
			continue;
		}
		while ((size_t)ri < nruns && (j == runs[ri].n ||
		    !val_eq(&runs[ri].in[j], &rec))) {
			/* The rest of this run's input never made it. */
			ri++;
			j = 0;
		}
		if ((size_t)ri < nruns) {
			where[i].run = ri;
			where[i++].idx = j++;
			continue;
		}
		if (rec.value && rec.valuelen == 9 &&
		    memcmp(rec.value, "recovered", 9) == 0) {
			i++;
			continue;
		}
wrong:
		sl_reader_close(r);
		return bad("offset %zu: not the record written there", i);
	}
	if (f < 0) {
		bad("reading: %s", sl_error());
		sl_reader_close(r);
		return -1;
	}
	sl_reader_close(r);
	*count = i;
	if (Sflag && must != NULL) {
		/* Each required offset, in order, against those present. */
		size_t j = 0;

		for (uint64_t o = 0; o < nbase; o++) {
			while (j < i && where[j].idx < o)
				j++;
			if (must[o] && (j == i || where[j].idx != o))
				return bad("offset %" PRIu64 " is lost", o);
		}
	}
	return 0;
}


static uint64_t	 n_points, n_acks_checked, n_recovered;

static int
check_point(const char *out, const char *log, size_t k)
{
	char path[PATH_MAX];
	size_t count, again;
	struct sl_writer_opts o = { .nosync = 1 };
	struct sl_record rec = { 0 };
	sl_writer *w;
	uint64_t first;

	snprintf(path, sizeof path, "%s/%s", out, log);
	if (read_log(path, &count, base_has_log) < 0)
		return -1;
	if (!Nflag && !Sflag)
		for (size_t i = 0; i < k; i++) {
			const struct ent *e = &ents[i];
			uint64_t o;

			if (e->h.type != PC_ACK)
				continue;
			o = strtoull((char *)e->data, NULL, 10);
			if (count == SIZE_MAX || o >= count)
				return bad("acknowledged offset %" PRIu64
				    " is lost (the log holds %zu records)", o,
				    count == SIZE_MAX ? 0 : count);
			if (where[o].run < 0 || runs[where[o].run].pid !=
			    e->h.pid || where[o].idx != e->h.a)
				return bad("acknowledged offset %" PRIu64
				    " does not hold input %" PRIu64 " of the "
				    "run that printed it", o, e->h.a);
			n_acks_checked++;
		}
	/* The next writer recovers the log and appends after its end. */
	if ((w = sl_writer_open(path, &o)) == NULL)
		return bad("the next writer cannot open the log: %s",
		    sl_error());
	rec.timestamp = SL_NO_TIMESTAMP;
	rec.value = (const unsigned char *)"recovered";
	rec.valuelen = 9;
	if (sl_writer_add(w, &rec) < 0 ||
	    sl_writer_commit(w, SL_NO_OFFSET, &first) < 0) {
		bad("the next writer cannot append: %s", sl_error());
		sl_writer_close(w);
		return -1;
	}
	sl_writer_close(w);
	if (count == SIZE_MAX)
		count = 0;
	if (Sflag) {
		if (first != nbase)
			return bad("the next writer appended at %" PRIu64
			    ", not %zu", first, nbase);
		if (read_log(path, &again, 1) < 0)
			return -1;
		if (again != count + 1)
			return bad("after recovery %zu records, not %zu",
			    again, count + 1);
		n_recovered++;
		return 0;
	}
	if (first != count)
		return bad("the next writer appended at %" PRIu64 ", not %zu",
		    first, count);
	if (read_log(path, &again, 1) < 0)
		return -1;
	if (again != count + 1)
		return bad("after recovery the log holds %zu records, not %zu",
		    again, count + 1);
	n_recovered++;
	return 0;
}

/*
 * The logs this tool rebuilds are scratch copies, checked and thrown
 * away: syncing them (the library does when it creates a settings file)
 * would only cost time, so this program's own syncs are no-ops.  The
 * commands `run` starts are not affected.
 */
int
fsync(int fd)
{
	(void)fd;
	return 0;
}

int
fdatasync(int fd)
{
	(void)fd;
	return 0;
}

/* ---- subcommands ---------------------------------------------------- */

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0)
		err(2, "%s", path);
	buf = xmalloc(st.st_size + 1);
	if (sl_pread_full(fd, buf, st.st_size, 0) != st.st_size)
		err(2, "%s", path);
	close(fd);
	buf[st.st_size] = '\0';
	*len = st.st_size;
	return buf;
}

static int
cmd_run(int argc, char *argv[])
{
	const char *shim = NULL, *inpath = NULL;
	char *input = NULL, *line = NULL, root[PATH_MAX];
	size_t inlen = 0, written = 0, chunk_end = 0, llen = 0, lcap = 0;
	uint64_t paceus = 300, next_chunk = 0, nack = 0;
	int ch, jfd, in[2], out[2], status;
	pid_t pid;

	while ((ch = getopt(argc, argv, "P:i:r:w:")) != -1) {
		switch (ch) {
		case 'P':
			shim = optarg;
			break;
		case 'i':
			inpath = optarg;
			break;
		case 'r':
			rngstate = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			paceus = strtoull(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 3 || shim == NULL)
		errx(2, "usage: powertool run -P shim [-i input] [-r seed] "
		    "[-w usec] root journal -- command...");
	if (realpath(argv[0], root) == NULL)
		err(2, "%s", argv[0]);
	if ((jfd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT, 0644)) < 0)
		err(2, "%s", argv[1]);
	if (inpath != NULL) {
		input = slurp(inpath, &inlen);
		for (char *p = input, *nl; p < input + inlen; p = nl + 1) {
			if ((nl = memchr(p, '\n', input + inlen - p)) == NULL)
				errx(2, "%s: last line unterminated", inpath);
			journal_append(jfd, PC_INPUT, 0, p, nl - p);
		}
	}
	if (pipe(in) < 0 || pipe(out) < 0)
		err(2, "pipe");
	signal(SIGPIPE, SIG_IGN);
	if ((pid = fork()) < 0)
		err(2, "fork");
	if (pid == 0) {
		const char *a = getenv("ASAN_OPTIONS");
		char opt[1024];

		snprintf(opt, sizeof opt, "%s%sverify_asan_link_order=0",
		    a ? a : "", a && *a ? ":" : "");
		setenv("ASAN_OPTIONS", opt, 1);
		setenv("SYNCLOG_POWERCUT_DIR", root, 1);
		setenv("SYNCLOG_POWERCUT_JOURNAL", argv[1], 1);
		a = getenv("LD_PRELOAD");
		snprintf(opt, sizeof opt, "%s%s%s", a ? a : "", a && *a ? ":" :
		    "", shim);
		setenv("LD_PRELOAD", opt, 1);
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(126);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	for (;;) {
		struct pollfd pfd[2];
		int nfd = 0, timeout = -1, wi = -1;
		uint64_t t = now_us();

		if (in[1] >= 0 && written == inlen) {
			close(in[1]);
			in[1] = -1;
		}
		pfd[nfd].fd = out[0];
		pfd[nfd++].events = POLLIN;
		if (in[1] >= 0) {
			if (t >= next_chunk) {
				pfd[nfd].fd = in[1];
				pfd[nfd].events = POLLOUT;
				wi = nfd++;
			} else
				timeout = (int)((next_chunk - t + 999) / 1000);
		}
		if (poll(pfd, nfd, timeout) < 0) {
			if (errno == EINTR)
				continue;
			err(2, "poll");
		}
		if (pfd[0].revents) {
			char buf[4096];
			ssize_t n = read(out[0], buf, sizeof buf);

			if (n < 0 && errno != EINTR)
				err(2, "read");
			if (n == 0)
				break;
			for (ssize_t i = 0; i < n; i++) {
				if (llen == lcap)
					line = xrealloc(line, lcap = lcap ?
					    2 * lcap : 256);
				line[llen++] = buf[i];
				if (buf[i] != '\n')
					continue;
				journal_append(jfd, PC_ACK, nack++, line,
				    llen - 1);
				fwrite(line, 1, llen, stdout);
				llen = 0;
			}
		}
		if (wi >= 0 && pfd[wi].revents) {
			if (written == chunk_end) {
				/* The next chunk: up to 8 lines. */
				int lines = 1 + (int)rnd(8);

				while (chunk_end < inlen && lines > 0)
					if (input[chunk_end++] == '\n')
						lines--;
			}
			ssize_t n = write(in[1], input + written,
			    chunk_end - written);

			if (n < 0 && errno == EPIPE)
				written = chunk_end = inlen;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				err(2, "write");
			else if (n > 0)
				written += n;
			if (written == chunk_end)
				next_chunk = now_us() + rnd(paceus + 1);
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			err(2, "waitpid");
	if (fflush(stdout) == EOF)
		err(2, "stdout");
	free(input);
	free(line);
	return WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

static size_t
point(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v > nents)
		errx(2, "%s: not a crash point from 0 to %zu", s, nents);
	return v;
}

static int
cmd_replay(int argc, char *argv[])
{
	enum mode m = M_CUT;
	size_t k;
	int ch;

	while ((ch = getopt(argc, argv, "m:r:")) != -1) {
		switch (ch) {
		case 'm':
			m = mode_of(optarg);
			break;
		case 'r':
			rngstate = strtoull(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 4)
		errx(2, "usage: powertool replay [-m mode] [-r seed] journal "
		    "base out k");
	load_journal(argv[0]);
	k = point(argv[3]);
	model_reset(argv[1]);
	for (size_t i = 0; i < k; i++) {
		snapshots(i);
		apply(&ents[i]);
		if (ents[i].h.type == PC_ACK)
			printf("%.*s\n", (int)ents[i].h.datalen,
			    (char *)ents[i].data);
	}
	rebuild(argv[2], m);
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
}

static int
cmd_check(int argc, char *argv[])
{
	const char *log = "L", *outdir = "powercheck.out", *reqpath = NULL;
	int modes[NMODES], nmodes = 0, ch;
	size_t step = 1;

	while ((ch = getopt(argc, argv, "NSk:l:m:o:r:s:")) != -1) {
		switch (ch) {
		case 'N':
			Nflag = 1;
			break;
		case 'S':
			Sflag = 1;
			break;
		case 'k':
			reqpath = optarg;
			break;
		case 'l':
			log = optarg;
			break;
		case 'm':
			if (nmodes < NMODES)
				modes[nmodes++] = mode_of(optarg);
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'r':
			rngstate = strtoull(optarg, NULL, 10);
			break;
		case 's':
			step = strtoull(optarg, NULL, 10);
			if (step == 0)
				step = 1;
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		errx(2, "usage: powertool check [-NS] [-k offsets] [-l log] "
		    "[-m mode]... [-o dir] [-r seed] [-s step] journal base");
	if (nmodes == 0)
		for (nmodes = 0; nmodes < NMODES; nmodes++)
			modes[nmodes] = nmodes;
	load_journal(argv[0]);
	read_base(argv[1], log);
	if (reqpath != NULL) {
		size_t len;
		char *text = slurp(reqpath, &len), *p, *end;

		must = calloc(nbase + 1, 1);
		if (must == NULL)
			err(2, "calloc");
		for (p = text; *p != '\0'; p = end) {
			uint64_t o = strtoull(p, &end, 10);

			if (end == p || o >= nbase)
				errx(2, "%s: not an offset of the base log",
				    reqpath);
			must[o] = 1;
			while (*end == '\n')
				end++;
		}
		free(text);
	}
	for (size_t i = 0; i < nents; i++)
		if (ents[i].h.type == PC_INPUT) {
			struct run *ru = run_of(ents[i].h.pid, 1);

			ru->in = xrealloc(ru->in, (ru->n + 1) * sizeof *ru->in);
			val_set(&ru->in[ru->n++], ents[i].data,
			    ents[i].h.datalen);
		}
	/* Each point in each mode; the last point always. */
	for (size_t k = 0; k <= nents; k += (k + step > nents && k < nents) ?
	    nents - k : step) {
		for (int mi = 0; mi < nmodes; mi++) {
			model_reset(argv[1]);
			for (size_t i = 0; i < k; i++) {
				snapshots(i);
				apply(&ents[i]);
			}
			rebuild(outdir, modes[mi]);
			if (check_point(outdir, log, k) < 0) {
				fprintf(stderr, "powertool: crash point %zu of "
				    "%zu, mode %s: %s (rebuilt log kept in "
				    "%s)\n", k, nents, modenames[modes[mi]],
				    failmsg, outdir);
				return 1;
			}
			n_points++;
		}
	}
	rm_tree(outdir);
	printf("power cut: %zu journal entries, %" PRIu64 " crash points "
	    "rebuilt in %d modes, %" PRIu64 " acknowledged offsets checked, "
	    "%" PRIu64 " logs recovered, 0 lost\n", nents, n_points, nmodes,
	    n_acks_checked, n_recovered);
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return 0;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "replay") == 0)
		return cmd_replay(argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "count") == 0 && argc == 3) {
		load_journal(argv[2]);
		printf("%zu\n", nents);
		return 0;
	}
usage:
	fprintf(stderr, "usage: powertool run|replay|check|count ...\n");
	return 2;
}
