/*
 * internal.h - declarations shared by the library's own files, never
 * installed.  Sections are owned by the module named in their heading.
 */
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "synclog.h"

/* ==== io.c: the one place system I/O goes through ==================== */

/* Write all of BUF, retrying short writes and EINTR.  0 or -1/errno. */
int	sl_write_full(int fd, const void *buf, size_t len);
int	sl_pwrite_full(int fd, const void *buf, size_t len, off_t pos);
/* Read up to LEN bytes at POS, retrying EINTR and short reads; bytes read. */
ssize_t	sl_pread_full(int fd, void *buf, size_t len, off_t pos);
/* fdatasync / fsync, retrying EINTR only (a real failure is final). */
int	sl_datasync(int fd);
/* Start writing LEN bytes at POS of FD back to disk, without waiting
 * (sync_file_range WRITE), retrying EINTR.  0, 1 when the file system
 * cannot, or -1/errno. */
int	sl_writeback(int fd, off_t pos, off_t len);
/* How many bytes of FD's file are not yet on disk: dirty, or being
 * written back (cachestat, Linux 6.5); -1/errno if it cannot tell. */
int64_t	sl_unsynced(int fd);
/* fsync the directory DIR so that entries created in it are durable. */
int	sl_sync_dir(const char *dir);
/* Replace PATH atomically with LEN bytes of BUF (temp, fsync, rename,
 * directory fsync). */
int	sl_replace_file(const char *dir, const char *name, const void *buf,
	    size_t len);
/* flock with EINTR retry. */
int	sl_lock(int fd, int op);

/* Little-endian field access. */
static inline uint32_t
sl_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
sl_get64(const unsigned char *p)
{
	return (uint64_t)sl_get32(p) | (uint64_t)sl_get32(p + 4) << 32;
}

static inline void
sl_put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void
sl_put64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* One store: gcc makes 15 instructions of the two halves below. */
	memcpy(p, &v, sizeof v);
#else
	sl_put32(p, (uint32_t)v);
	sl_put32(p + 4, (uint32_t)(v >> 32));
#endif
}

/*
 * A record's size as max-record-bytes counts it (synclog(5)): 28 bytes,
 * its key, its value, and 8 bytes and the name and value of each header.
 * It is the size of the encoding the format had before its fields became
 * varints, kept so that a limit means the same whatever the encoding;
 * the encoding takes at most SL_REC_SLACK bytes more (five bytes a
 * length, ten the offset gap and the time) and for small fields far less.
 */
#define SL_REC_FIXED	(4 + 4 + 8 + 4 + 4 + 4)
#define SL_REC_SLACK	16

/* A record's size as max-record-bytes counts it, without its headers. */
static inline size_t
sl_rec_base(const struct sl_record *r)
{
	return SL_REC_FIXED + (r->key ? r->keylen : 0) +
	    (r->value ? r->valuelen : 0);
}

/* sl_record_size, inline for a record without headers: the append path
 * asks twice per record, and a call costs as much as the sum. */
static inline size_t
sl_rec_size(const struct sl_record *r)
{
	return r->nheaders > 0 ? sl_record_size(r) : sl_rec_base(r);
}

/*
 * Varints, as the records of a batch hold their fields (synclog(5)): seven
 * bits a byte, least significant first, the top bit set on every byte but
 * the last.  sl_putv returns the byte after; sl_getv takes one that ends
 * before END, is at most 64 bits and has no needless zero byte at its end
 * (so that a value has one encoding), else -1.  Inline: a reader takes
 * six of them per record, and a one-byte varint should cost a compare.
 */
static inline size_t
sl_vlen(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline unsigned char *
sl_putv(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static inline int
sl_getv(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t x = 0;
	unsigned shift;

	if (p < end && *p < 0x80) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	for (shift = 0; p < end && shift <= 63; shift += 7) {
		unsigned c = *p++;

		if (shift == 63 && c > 1)
			return -1;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			if (c == 0)
				return -1;
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* A signed difference as an unsigned varint: 0, -1, 1, -2... -> 0, 1, 2,
 * 3...  Modulo 2^64 both ways, so every pair of times has one. */
static inline uint64_t
sl_zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t)-(int64_t)(d >> 63);
}

static inline uint64_t
sl_unzigzag(uint64_t z)
{
	return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
}

/* ==== crc32.c: zlib's CRC-32, computed by ISA-L when built with it === */

/* Exactly crc32_z(CRC, P, N) of zlib (with ISA-L, 10-20x faster). */
uint32_t sl_crc32(uint32_t crc, const unsigned char *p, size_t n);
/* Which code computes it: "isa-l" or "zlib". */
extern const char sl_crc32_impl[];

/* ==== batch.c: one batch, encoded and decoded ======================== */

/*
 * Batch header, little-endian, SL_BATCH_HDR bytes (see synclog(5)):
 *   0 magic u32  4 version u8  5 flags u8  6 reserved u16 (0)
 *   8 length u32 (whole batch)  12 count u32  16 base offset u64
 *   24 last offset delta u32  28 payload length u32 (uncompressed)
 *   32 first timestamp i64  40 max timestamp i64  48 crc u32
 * The masked CRC-32 covers bytes [0,48) and [52,length).
 */
#define SL_BATCH_MAGIC		0x474c5953u	/* "SYLG" */
#define SL_BATCH_VERSION	2
#define SL_BATCH_HDR		52
#define SL_BATCH_DEFLATE	0x01
#define SL_BATCH_TARGET		(1u << 20)	/* payload that ends a batch */
#define SL_ABSENT		0xffffffffu	/* key/value length: absent */

struct sl_batch {
	uint32_t	length;
	uint32_t	count;
	uint64_t	base;
	uint32_t	last_delta;
	uint32_t	payload_len;
	int64_t		first_ts;
	int64_t		max_ts;
	uint8_t		flags;
};

/* Room for NEED bytes in the batch buffer *BUF of *CAP bytes (doubling
 * from 64 KiB); 0, or -1 with errno and the buffer as it was.  The check
 * inline: the append path makes it for every record. */
int	sl_batch_grow(unsigned char **buf, size_t *cap, size_t need);

static inline int
sl_batch_reserve(unsigned char **buf, size_t *cap, size_t need)
{
	return need <= *cap ? 0 : sl_batch_grow(buf, cap, need);
}

/* Largest batch (and payload) a log with this record limit may hold. */
size_t	sl_batch_limit(uint64_t max_record_bytes);

/*
 * Parse and check a batch header (magic, version, sizes within LIMIT).
 * 0 on success; -1 when it cannot be the start of a batch.
 */
int	sl_batch_header(const unsigned char *p, size_t limit,
	    struct sl_batch *);

/* Verify the masked CRC of a whole batch of B->length bytes at P. */
int	sl_batch_crc_ok(const unsigned char *p, const struct sl_batch *);
uint32_t sl_batch_crc(const unsigned char *p, size_t length);
/* The same, of a batch whose payload of PAYLEN bytes has CRC-32 PAYCRC
 * (sl_crc32 from 0). */
uint32_t sl_batch_crc_with(const unsigned char *p, uint32_t paycrc,
	    size_t paylen);

/*
 * Append the encoding of REC to a payload buffer, which has room for its
 * sl_record_size plus SL_REC_SLACK; returns the byte after it.  GAP: the
 * offsets skipped since the record before (or the offset minus the
 * batch's base, for the first); TSBASE: the batch's first timestamp.
 */
unsigned char *sl_record_encode(unsigned char *p, const struct sl_record *,
	    uint64_t gap, int64_t tsbase);

/*
 * A cursor over the records of one verified batch.  sl_cursor_start
 * inflates a compressed payload into SCRATCH (grown as needed).
 */
struct sl_cursor {
	const unsigned char	*p, *end;
	uint64_t		 base;
	uint32_t		 left;
	uint64_t		 prev;		/* last offset returned, or none */
	uint32_t		 last_delta;
	int64_t			 tsbase;	/* the batch's first timestamp */
	int			 started;
	struct sl_header	*hdrs;
	size_t			 hcap;
};

int	sl_cursor_start(struct sl_cursor *, const unsigned char *batch,
	    const struct sl_batch *, unsigned char **scratch, size_t *scap);
/* 1 record, 0 batch done, -1 malformed (the CRC held, so a writer bug). */
int	sl_cursor_next(struct sl_cursor *, struct sl_record *);
/*
 * Print the batch's records at or after WANT into O within PR's limits
 * (sl_reader_print): 1 a limit reached (a record at or past PR->end
 * stays unread), 0 batch done, -1 malformed, -2 output error (errno).
 */
int	sl_cursor_print(struct sl_cursor *, struct sl_out *, uint64_t want,
	    struct sl_print *);
void	sl_cursor_free(struct sl_cursor *);

/* ==== segment.c: segment files, listing, tail scanning =============== */

#define SL_SEGMENT_DIGITS	20
#define SL_INDEX_INTERVAL	4096	/* bytes of batches between entries */
#define SL_INDEX_ENTRY		20

/* Name of the file for segment BASE with SUFFIX (".log", ".index"). */
void	sl_segment_name(char *buf, size_t len, uint64_t base,
	    const char *suffix);
/* Parse "NNNN....log"; 0 and *BASE on success. */
int	sl_segment_parse(const char *name, uint64_t *base);
/* Sorted base offsets of the segments in DIR; *N of them (malloc'd). */
int	sl_segment_list(const char *dir, uint64_t **bases, size_t *n);

/*
 * A window of file bytes for scanning batches with few system calls.
 * Bytes [pos, pos+len) of the file are in buf.
 */
struct sl_window {
	unsigned char	*buf;
	size_t		 cap, len;
	uint64_t	 pos;
};

/* Make [at, at+need) present; bytes available from AT (may be < need). */
ssize_t	sl_window_get(struct sl_window *, int fd, uint64_t at, size_t need);
void	sl_window_drop(struct sl_window *);
void	sl_window_free(struct sl_window *);

enum sl_scan {
	SL_SCAN_OK,		/* a valid batch */
	SL_SCAN_EOF,		/* clean end of file */
	SL_SCAN_SHORT,		/* bytes end inside a batch (incomplete) */
	SL_SCAN_BAD,		/* not a valid batch here */
	SL_SCAN_ERROR		/* I/O error, errno set */
};

/*
 * Read the batch at AT through W.  On OK, *B is its header and *P points
 * to its bytes inside the window (valid until the next window call).
 * NEXT is the smallest offset the batch may start at.
 */
enum sl_scan sl_scan_batch(struct sl_window *w, int fd, uint64_t at,
	    size_t limit, uint64_t next, struct sl_batch *b,
	    const unsigned char **p, const char **why);

/*
 * Whether a valid batch with base offset >= NEXT starts anywhere after
 * byte AT of the file: 1 yes (*FOUND its position), 0 no, -1 error.
 */
int	sl_scan_later(int fd, uint64_t at, size_t limit, uint64_t next,
	    uint64_t *found);

/* ==== index.c: the sparse per-segment index (a cache) ================ */

/*
 * Each entry: u32 offset - segment base, u32 byte position of a batch that
 * starts with that offset, i64 timestamp column, u32 CRC-32 of the
 * segment's base and the log's id followed by those 16 bytes.  The entry
 * at byte 0 carries the segment's seed: the largest timestamp of the log
 * before the segment (never less; INT64_MIN when none).  Any other entry
 * carries the largest timestamp of the segment's records before its batch.
 */
struct sl_ientry {
	size_t		index;		/* its number in the file */
	uint64_t	offset;
	uint64_t	pos;
	int64_t		maxts;
};

/* What every entry's checksum binds it to: its segment and its log, so
 * that an index copied from another segment or log is never believed. */
struct sl_ikey {
	uint64_t	base;		/* the segment's first offset */
	uint32_t	crc0;		/* CRC-32 of base (u64 LE) and log id */
};

/* ID is the log's id (settings), or NULL / "" when unknown. */
void	sl_ikey_init(struct sl_ikey *, uint64_t base, const char *id);

/* Number of whole entries in an open index file, or -1. */
ssize_t	sl_index_count(int fd);
int	sl_index_get(int fd, const struct sl_ikey *, size_t i,
	    struct sl_ientry *);
int	sl_index_put(int fd, const struct sl_ikey *, size_t i,
	    const struct sl_ientry *);

/*
 * The last entry with offset <= OFFSET whose batch verifies in segment FD
 * (stale or damaged entries are skipped): 1 found, 0 none, -1 error.
 */
int	sl_index_find_offset(int ifd, int sfd, const struct sl_ikey *,
	    size_t limit, uint64_t offset, struct sl_ientry *);
/* The last verified entry whose segment maximum before it is < MS (the
 * seed entry counts as INT64_MIN): 1 found, 0 none, -1 error. */
int	sl_index_find_time(int ifd, int sfd, const struct sl_ikey *,
	    size_t limit, int64_t ms, struct sl_ientry *);

/*
 * The seed of index IFD: 1 (*SEED set) when its first entry is an intact
 * entry for byte 0, 0 when there is none (empty, damaged, another
 * segment's, or written before seeds existed), -1 on a read error.
 */
int	sl_index_seed(int ifd, const struct sl_ikey *, int64_t *seed);

/*
 * The largest timestamp of the log before segment BASE of DIR (INT64_MIN
 * when none), from the seed and probe of the segment before it, walking
 * further back past segments without a seed: 1 known, 0 unknown (damage),
 * -1 error.
 */
int	sl_log_seed(const char *dir, const char *id, size_t limit,
	    uint64_t base, int64_t *seed);

/* ==== settings.c ===================================================== */

/* Set the message sl_open_error returns. */
void	sl_set_open_error(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
int	sl_settings_create(const char *dir, const struct sl_writer_opts *,
	    struct sl_settings *);

/* ==== recfmt.c, json.c, yaml.c: record formats ======================= */

/* Output: one buffer that every format appends to. */
struct sl_out {
	int		 fd;		/* -1 with a sink */
	sl_out_sink	*sink;
	void		*sinkarg;
	int		 err;		/* sticky errno, 0 while healthy */
	struct sl_fmt	 fmt;
	unsigned char	*buf;
	size_t		 len, cap;
	struct sl_rf_item *tpl;		/* compiled -F template */
	size_t		 ntpl;
	unsigned char	*lit;		/* the template's literal bytes */
	void		*yaml;		/* yaml_emitter_t, -Y only */
};

/* Input: a read buffer holding [start, end) of not yet consumed bytes. */
struct sl_in {
	int		 fd;
	int		 err;		/* sticky errno after a failure */
	int		 eof;
	struct sl_fmt	 fmt;
	size_t		 max_record;
	unsigned char	*buf;
	size_t		 start, end, cap;
	size_t		 limit;		/* most bytes one record may occupy */
	size_t		 scan;		/* resume point of the format's scan,
					   relative to start */
	int		 mapped;	/* buf maps the file (sl_in_map) */
	off_t		 mapoff;	/* file position of buf[0] */
	off_t		 fsize;		/* the file's size, as last seen */
	uint64_t	 recno;		/* records begun */
	uint64_t	 lineno;	/* lines consumed (text, JSON, YAML) */
	int		 ystate;	/* YAML document splitter state */
	uint64_t	 ylines;	/* lines scanned in the pending chunk */
	unsigned char	*arena;		/* decoded strings of one record */
	size_t		 acap;
	struct sl_header *hdrs;
	size_t		 hcap;
	char		 msg[256];
};

/* Make room for N more bytes in the output buffer (flushing first). */
int	sl_rf_reserve(struct sl_out *, size_t n);

/*
 * One record in the text format: [key keydelim] value delim.  Inline, the
 * room check too, and a one-byte delimiter stored rather than copied: it
 * runs for every record logcat prints, and the calls were a quarter of its
 * instructions.  KEY or VALUE may be NULL (absent) when its length is 0.
 */
static inline int
sl_rf_text(struct sl_out *o, const unsigned char *key, size_t kl,
    const unsigned char *value, size_t vl)
{
	const struct sl_fmt *f = &o->fmt;
	size_t need = kl + vl + 2 * SL_DELIM_MAX;
	unsigned char *p;

	/* Both are lengths of bytes in memory: the sum cannot wrap. */
	if (o->cap - o->len < need && sl_rf_reserve(o, need) < 0)
		return -1;
	p = o->buf + o->len;
	if (f->keydelimlen > 0) {
		if (kl > 0)
			memcpy(p, key, kl);
		p += kl;
		memcpy(p, f->keydelim, f->keydelimlen);
		p += f->keydelimlen;
	}
	if (vl > 0)
		memcpy(p, value, vl);
	p += vl;
	if (f->delimlen == 1)
		*p++ = f->delim[0];
	else {
		memcpy(p, f->delim, f->delimlen);
		p += f->delimlen;
	}
	o->len = p - o->buf;
	return 0;
}
/* Append a decimal number; the caller reserved 20 bytes. */
unsigned char *sl_rf_u64(unsigned char *p, uint64_t v);
unsigned char *sl_rf_i64(unsigned char *p, int64_t v);

/* Length of the valid UTF-8 sequence at P (strict), 0 when invalid. */
size_t	sl_rf_utf8_seq(const unsigned char *p, size_t n);
int	sl_rf_utf8_valid(const unsigned char *p, size_t n);
/* Standard base64 with padding; returns bytes written (4 * ceil(n/3)). */
size_t	sl_rf_b64_encode(unsigned char *dst, const unsigned char *src,
	    size_t n);
/* Decode in place (DST may equal SRC); skips whitespace when WS.
 * Returns bytes decoded or -1 when malformed. */
ssize_t	sl_rf_b64_decode(unsigned char *dst, const unsigned char *src,
	    size_t n, int ws);

/* Set the input's message (printf-like) and sticky errno; returns -1. */
int	sl_rf_fail(struct sl_in *, int err, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The "exceeds the maximum record size" failure. */
int	sl_rf_toolarge(struct sl_in *, const char *where, uint64_t n);
/* Make the arena and header array hold at least N bytes / headers. */
int	sl_rf_arena(struct sl_in *, size_t n);
int	sl_rf_headers(struct sl_in *, size_t n);

int	sl_rf_json_out(struct sl_out *, const struct sl_record *);
int	sl_rf_json_next(struct sl_in *, struct sl_record *);
int	sl_rf_yaml_out_open(struct sl_out *);
int	sl_rf_yaml_out(struct sl_out *, const struct sl_record *);
int	sl_rf_yaml_out_close(struct sl_out *);
int	sl_rf_yaml_next(struct sl_in *, struct sl_record *);
void	sl_rf_yaml_in_close(struct sl_in *);

/* ==== maintenance: index rebuild and probe (index.c), segment walks
 * (walk.c), rewriting segments (rewrite.c); owned by logfsck/logcompact */

/* Builds an index with the writer's rule while a segment is written or
 * scanned in order; entries are buffered and written to FD at offset 0. */
struct sl_ibuild {
	int		 fd;
	struct sl_ikey	 key;
	int		 seeded;	/* an entry for byte 0 is due */
	int64_t		 seed;
	int		 verify;	/* compare with FD instead of writing */
	int		 differs;	/* verify: FD is not this index */
	uint64_t	 lastpos;	/* position of the last entry's batch */
	int64_t		 maxts;		/* largest timestamp so far */
	size_t		 n;		/* entries made */
	size_t		 blen;
	unsigned char	 buf[4096];
};

void	sl_ibuild_init(struct sl_ibuild *, int fd, const struct sl_ikey *);
/* Before the first batch: the segment's seed (without one, the index gets
 * no entry for byte 0 and time lookups cannot skip what is before it). */
void	sl_ibuild_seed(struct sl_ibuild *, int64_t seed);
/* Compare with the index open as FD (or -1: none) instead of writing it:
 * after sl_ibuild_finish, DIFFERS says whether it is another. */
void	sl_ibuild_verify(struct sl_ibuild *);
/* Every batch of the segment, in order, with its position. */
int	sl_ibuild_batch(struct sl_ibuild *, uint64_t pos,
	    const struct sl_batch *);
int	sl_ibuild_finish(struct sl_ibuild *);

/*
 * The last entry for OFFSET (or, BYTIME, for MS) as sl_index_find_* would
 * pick it, without verifying it: the caller checks it by scanning from it.
 * 1 found, 0 none, -1 error.
 */
int	sl_index_search(int ifd, const struct sl_ikey *, int bytime,
	    uint64_t offset, int64_t ms, struct sl_ientry *);

/*
 * Whether this thread verified the batch with header HDR at POS of file
 * FD lately (sl_batch_known_add): its checksum need not be computed again.
 */
int	sl_batch_known(int fd, uint64_t pos, const unsigned char *hdr);
void	sl_batch_known_add(int fd, uint64_t pos, const unsigned char *hdr);

/*
 * The largest timestamp of segment SFD (INT64_MIN when empty) from its
 * last index entry (IFD may be -1) and the headers after it; UPPER is the
 * next segment's first offset (UINT64_MAX: none).  1 known, 0 unknown
 * (scan instead), -1 error.
 */
int	sl_index_segmax(int ifd, int sfd, const struct sl_ikey *,
	    uint64_t upper, size_t limit, int64_t *max);
/* The same by a verified scan of every batch: 1, 0 damaged, -1 error. */
int	sl_segment_maxts(int sfd, uint64_t base, size_t limit, int64_t *max);

/* An flock (OP: LOCK_SH or LOCK_EX) on the log directory itself, held by
 * maintenance tools; a descriptor to close, or -1. */
int	sl_maint_lock(const char *dir, int op);
/* Whether NAME is a temporary file of ours (".NNN.log.new.PID"). */
int	sl_maint_tmpname(const char *name);

/* Fill in a batch header (LEN bytes in all, payload after the header)
 * and its CRC; returns LEN. */
size_t	sl_batch_seal(unsigned char *p, size_t len, uint64_t base,
	    uint32_t count, uint32_t last_delta, uint32_t paylen,
	    int64_t first_ts, int64_t max_ts, int flags);

/* A segment (or, INDEX_ONLY, just an index) being written under a
 * temporary name, to replace segment BASE of DIR. */
struct sl_newseg {
	const char	*dir;
	const char	*id;		/* the log's id, for the index */
	uint64_t	 base;
	int		 fd, ifd;
	uint64_t	 pos;		/* bytes of batches so far */
	uint64_t	 records;
	struct sl_ibuild ib;
	char		 tmp[4096], itmp[4096];
};

int	sl_newseg_open(struct sl_newseg *, const char *dir, const char *id,
	    uint64_t base, int index_only);
/* Before the first batch: the segment's seed (sl_ibuild_seed). */
void	sl_newseg_seed(struct sl_newseg *, int64_t seed);
/* Append batch P (B->length bytes; index only: just note it). */
int	sl_newseg_batch(struct sl_newseg *, const unsigned char *p,
	    const struct sl_batch *);
/*
 * Sync and rename into place: the segment, then its index, then sync the
 * directory.  With KEEP_SAME_INDEX an index equal to the one in place is
 * dropped instead.  1 replaced, 0 index unchanged, -1 error (temporary
 * files removed).
 */
int	sl_newseg_commit(struct sl_newseg *, int keep_same_index);
void	sl_newseg_abort(struct sl_newseg *);
/* Unlink segment BASE and its index (the caller syncs the directory). */
int	sl_segment_remove(const char *dir, uint64_t base);

#endif /* SL_INTERNAL_H */
