/*
 * synclog.h - the one public interface of the synclog log library.
 *
 * A log is a directory of segment files holding checksummed batches of
 * records (see synclog(5)).  Every public name starts with sl_ or SL_.
 * Functions return -1 (or NULL) and set errno on failure, and leave a
 * message for the user, read with sl_error().  Nothing here prints or
 * exits: only main() talks to the user.
 *
 * A map, by the file that implements each part, from the bottom up:
 *	batch.c		records as a batch holds them (sl_record_size)
 *	settings.c	the settings file that makes a directory a log
 *	error.c, io.c	the error convention; the standard descriptors
 *	spec.c, time.c	numbers, times, durations, offset specifications
 *	writer.c	appending: open, add, commit (and commit.c,
 *			writeback.c: in the background; -N)
 *	reader.c	reading: seek, next, follow, bounds, time lookups
 *	fmtopt.c, out.c, in.c, text.c, json.c, yaml.c, frame.c
 *			the record formats, in and out
 *	emit.c		-J and -Y output of what is not a record
 *	append.c	the append loop of logappend
 *	checkpoint.c	consumer checkpoints and their locks
 *	stat.c, compact.c, fsck.c
 *			keeping a log over time: logstat, logcompact, logfsck
 * The private layers below (bytes.h, batch.h, segment.h, index.h,
 * rewrite.h, fmt.h, log.h, io.h, writer.h) are the library's own.
 */
#ifndef SYNCLOG_H
#define SYNCLOG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SL_VERSION		"0.1.0"

#define SL_DEFAULT_SEGMENT_BYTES	(64ULL << 20)
#define SL_DEFAULT_MAX_RECORD_BYTES	(16ULL << 20)
#define SL_MAX_MAX_RECORD_BYTES		(1ULL << 30)
#define SL_NO_OFFSET		UINT64_MAX	/* "no expectation" for -x */
#define SL_NO_TIMESTAMP		INT64_MIN	/* input gave none: use now */

/* One header of a record: a name/value pair of arbitrary bytes. */
struct sl_header {
	const unsigned char	*name;
	size_t			 namelen;
	const unsigned char	*value;
	size_t			 valuelen;
};

/*
 * A record.  key == NULL means "no key" (distinct from keylen == 0 with a
 * non-NULL key); value == NULL means a tombstone (distinct from empty).
 * Records handed out by the library point into its buffers and stay
 * valid until the next call on the same object.
 */
struct sl_record {
	uint64_t		 offset;
	int64_t			 timestamp;	/* ms since the epoch, UTC */
	const unsigned char	*key;
	size_t			 keylen;
	const unsigned char	*value;
	size_t			 valuelen;
	const struct sl_header	*headers;
	size_t			 nheaders;
};

/* Bytes a record takes inside a batch: what the maximum record size limits. */
size_t	sl_record_size(const struct sl_record *);

/* ---- settings.c: the small file that identifies a log ------------- */

#define SL_REPLICA_MAX	128

struct sl_settings {
	char		id[33];		/* 32 lowercase hex digits + NUL */
	uint64_t	segment_bytes;
	uint64_t	max_record_bytes;
	/* A replica (logmirror pull) names what it mirrors, one word of
	 * printable ASCII; empty for a log of its own. */
	char		replica[SL_REPLICA_MAX];
};

/* Read DIR/settings.  -1 with errno ENOENT when DIR is not a log. */
int	sl_settings_read(const char *dir, struct sl_settings *);

/* ---- error.c, io.c: errors, and the standard descriptors --------- */

/*
 * The message of the last library call that failed in this thread,
 * "OBJECT: reason" (no program name, no newline); errno says what kind of
 * failure it was.  Every call that can fail leaves it: the library's one
 * error convention.
 */
const char *sl_error(void);

/*
 * The exit status a program gives for a failure with ERRNUM: 1 for damage
 * found in the data (EBADMSG), 2 for everything else (usage, system).
 */
int	sl_exit_status(int errnum);

/*
 * Occupy any closed descriptor among 0, 1 and 2 with /dev/null (read-only),
 * so that a log file opened later never lands there and receives output or
 * diagnostics.  Call first thing in main.  -1 with errno on failure.
 */
int	sl_guard_stdio(void);

/* ---- spec.c: numbers ----------------------------------------------- */

/*
 * A decimal number of digits only (no sign, no space), with SUFFIXES an
 * optional K, M or G (powers of 1024): 0 and *V, or -1 with errno EINVAL
 * (not such a number) or ERANGE (more than 64 bits).  What every option
 * taking a count, a size or an offset accepts.
 */
int	sl_parse_u64(const char *s, int suffixes, uint64_t *v);

/* ---- time.c: the clock, times and durations ------------------------ */

/* Milliseconds since the epoch, from the real-time clock. */
int64_t	sl_now_ms(void);
/*
 * Parse TIME into ms since the epoch: `now`; a number of milliseconds,
 * signed; ISO 8601 (2026-11-20T10:00:00.123+01:00, the year signed and
 * longer outside 0000-9999); or a duration (sl_duration_parse, its unit
 * required) after - or +, relative to NOW_MS.  -1/EINVAL when bad or out
 * of range.
 */
int	sl_time_parse(const char *s, int64_t now_ms, int64_t *ms);
/* Bytes sl_time_format writes at most, the NUL included. */
#define SL_TIME_MAX	32
/*
 * Format MS as 2026-11-20T10:00:00.123Z into BUF, the year outside
 * 0000-9999 signed (+10000-01-01T..., -0001-12-31T...), as sl_time_parse
 * reads it back.  NULL/ERANGE when LEN is below what it needs.
 */
char   *sl_time_format(int64_t ms, char *buf, size_t len);
/*
 * Parse a duration: a number, a fraction of it if wanted (1.5), and a
 * unit (ms s m h d w), into *MS (truncated to whole milliseconds).
 * Without a unit the number counts UNIT milliseconds (1000: seconds);
 * UNIT 0 requires one.  -1/EINVAL when bad or beyond int64_t.  What every
 * option taking a time span accepts.
 */
int	sl_duration_parse(const char *s, int64_t unit, int64_t *ms);

/* ---- spec.c: offset specifications (resolved by reader.c) ---------- */

enum sl_spec_kind {
	SL_SPEC_BEGINNING,	/* beginning */
	SL_SPEC_END,		/* end */
	SL_SPEC_ABSOLUTE,	/* N */
	SL_SPEC_FROM_END,	/* -N */
	SL_SPEC_TIME_START,	/* s@TIME */
	SL_SPEC_TIME_END	/* e@TIME */
};

struct sl_spec {
	enum sl_spec_kind	kind;
	uint64_t		n;	/* ABSOLUTE, FROM_END */
	int64_t			time;	/* TIME_* in ms */
};

/* Parse an offset specification; relative times count from NOW_MS. */
int	sl_spec_parse(const char *s, int64_t now_ms, struct sl_spec *);

/* ---- writer.c, commit.c, writeback.c: appending --------------------- */

typedef struct sl_writer sl_writer;

struct sl_writer_opts {
	uint64_t	segment_bytes;		/* 0: default; used at creation */
	uint64_t	max_record_bytes;	/* 0: default; used at creation */
	int		nosync;			/* skip fdatasync (-N) */
	int		compress;		/* deflate each batch (-z) */
	/*
	 * NULL for every writer but a replica's (logmirror pull): a log
	 * whose settings name a replica is refused (EPERM).  Non-NULL: the
	 * replica's name, written into the settings of a log created now;
	 * an existing log must be a replica of the same (else EPERM).
	 */
	const char	*replica;
	/* Called (from any of the writer's threads) with a message about
	 * something that goes on without what failed: an index that cannot
	 * be made or written.  NULL: nothing is said. */
	void		(*warn)(void *arg, const char *msg);
	void		*warnarg;
};

/*
 * Open the log in DIR for appending, creating it if needed, and recover
 * its tail: an incomplete last batch is truncated; damage followed by valid
 * data is refused (errno EBADMSG, message in sl_error()).
 */
sl_writer	*sl_writer_open(const char *dir, const struct sl_writer_opts *);

/*
 * Add a record to the pending batch (copied; the caller's buffers may be
 * reused).  A timestamp of SL_NO_TIMESTAMP becomes the current time.
 * -1 with EMSGSIZE when the record exceeds the log's maximum record size;
 * the pending batch is unchanged then.
 */
int		 sl_writer_add(sl_writer *, const struct sl_record *);

/*
 * Add a record at REC->offset, which must be greater than the offset of
 * the pending record before it (else EINVAL): the offsets between stay a
 * gap, as compaction leaves them.  Only for a batch whose records all come
 * this way (EINVAL after sl_writer_add).  At commit the batch's first
 * offset must be at or past the log's next offset (else ESTALE, nothing
 * written).  ENOBUFS: the batch cannot take it; commit first.  The
 * writer of a replica (logmirror pull), whose offsets are the stream's.
 */
int		 sl_writer_add_at(sl_writer *, const struct sl_record *);



/* Records and encoded bytes in the pending batch. */
size_t		 sl_writer_pending(const sl_writer *);
size_t		 sl_writer_pending_bytes(const sl_writer *);

/*
 * Commit the pending batch in the background, as sl_writer_commit with no
 * EXPECT would, and return at once with an empty pending batch to fill:
 * the write and sync overlap the caller's work (when no thread can be
 * made, the commit runs at once in the caller's).  Batches are committed
 * in the order submitted, each only once the one before is synced, and
 * none after one that failed (those report ECANCELED).  Two at most are
 * outstanding (submitted, not yet collected by sl_writer_wait): -1 with
 * EBUSY beyond; -1 with EIO after a failed sync.  An empty pending batch
 * is a no-op.
 */
int		 sl_writer_submit(sl_writer *);

/* The number of batches submitted and not yet collected. */
size_t		 sl_writer_outstanding(const sl_writer *);

/*
 * Wait for the oldest outstanding batch, if any: *N is its number of
 * records (0 when none was outstanding) and *FIRST its first offset,
 * durable unless nosync.  -1 when its commit failed (errno and message as
 * for sl_writer_commit; nothing of it was reported).  sl_writer_commit
 * and sl_writer_close wait for all, but drop what they collect.
 */
int		 sl_writer_wait(sl_writer *, uint64_t *first, size_t *n);

/*
 * Write the pending batch as one batch: take the log's lock, catch up with
 * other writers, check EXPECT (SL_NO_OFFSET or the required next offset;
 * a mismatch fails with errno ESTALE and writes nothing), write, fdatasync
 * unless nosync, release the lock.  On success *FIRST is the batch's first
 * offset.  An empty pending batch is a no-op that still checks EXPECT.
 * After a failed sync the writer is unusable (errno EIO and a message).
 */
int		 sl_writer_commit(sl_writer *, uint64_t expect, uint64_t *first);


/* Drop the pending batch. */
void		 sl_writer_discard(sl_writer *);

/* The next offset the log will assign (as last seen under the lock; not
 * while a batch is in flight). */
uint64_t	 sl_writer_next_offset(const sl_writer *);

const struct sl_settings *sl_writer_settings(const sl_writer *);
/*
 * Wait for every outstanding batch (dropping what it collects) and stop
 * the writer's threads: -1 with errno and sl_error() when the disk
 * reported an error no batch has reported yet (with nosync, handing the
 * disk what was written).  The writer can then only be closed.
 */
int		 sl_writer_finish(sl_writer *);
/* sl_writer_finish, its result ignored, and free the writer. */
int		 sl_writer_close(sl_writer *);

/* ---- reader.c: reading --------------------------------------------- */

typedef struct sl_reader sl_reader;

/*
 * Open a log directory, or a single segment file, for reading.  Readers
 * take no lock.  The reader starts at the log's first record.
 */
sl_reader	*sl_reader_open(const char *path);

/* Position at the first record whose offset is >= OFFSET. */
int		 sl_reader_seek(sl_reader *, uint64_t offset);

/*
 * Next record: 1 and *REC filled, 0 at the end of the log (an incomplete
 * tail under a writer is the end), -1 on error.  On corruption errno is
 * EBADMSG and sl_error() names the segment, byte position and offset.
 */
int		 sl_reader_next(sl_reader *, struct sl_record *rec);

/*
 * Block until the log may have grown (inotify; no polling), at most
 * TIMEOUT_MS (-1: forever).  1 maybe more data, 0 timeout, -1 error
 * (EINTR when a signal arrived).
 */
int		 sl_reader_wait(sl_reader *, int timeout_ms);

/* A descriptor that becomes readable when the log may have grown. */
int		 sl_reader_fd(sl_reader *);

/*
 * First offset and next offset (one past the last record) of the log as it
 * is now.  For an empty log both are the next offset to be written.  Either
 * may be NULL; the first alone is found even when damage in the last
 * segment hides the end (EBADMSG when the end is asked for).
 */
int		 sl_reader_bounds(sl_reader *, uint64_t *begin, uint64_t *end);

/*
 * The first offset whose record has a timestamp >= MS by Kafka's rule (the
 * maximum timestamp seen so far), or the end offset when there is none.
 */
int		 sl_reader_find_time(sl_reader *, int64_t ms, uint64_t *offset);

/*
 * Resolve a spec to an offset.  For SL_SPEC_TIME_END the result is the
 * offset to stop before.
 */
int		 sl_reader_resolve(sl_reader *, const struct sl_spec *,
		    uint64_t *offset);

/* The settings of the log (zeroed id when reading a lone segment). */
const struct sl_settings *sl_reader_settings(const sl_reader *);
void		 sl_reader_close(sl_reader *);

/* ---- fmtopt.c, out.c, in.c (text.c, json.c, yaml.c, frame.c):
 * the record formats ------------------------------------------------ */

enum sl_fmt_kind {
	SL_FMT_TEXT,		/* value + delimiter, optional key + delimiter */
	SL_FMT_JSON,		/* -J JSON Lines */
	SL_FMT_YAML,		/* -Y YAML documents */
	SL_FMT_BINARY,		/* -B length-prefixed frames */
	SL_FMT_TEMPLATE		/* -F TEMPLATE, output only */
};

#define SL_DELIM_MAX	64

struct sl_fmt {
	enum sl_fmt_kind kind;
	unsigned char	 delim[SL_DELIM_MAX];	/* record delimiter (-D, -0) */
	size_t		 delimlen;
	unsigned char	 keydelim[SL_DELIM_MAX];	/* -K; keydelimlen 0: none */
	size_t		 keydelimlen;
	const char	*template;		/* -F */
	const char	*logname;		/* %t in templates */
	int		 shownull;		/* -Z: absent key, value as NULL */
};

/*
 * The options every program shares for formats: the short letters for
 * getopt strings, and the matching struct option entries for getopt_long
 * (-0 --null, -B --binary, -D --delimiter, -F --format, -J --json,
 * -K --key-delimiter, -Y --yaml).
 */
#define SL_FMT_OPTSTRING	"0BD:F:JK:Y"
#define SL_FMT_LONGOPTS \
	{ "null",		no_argument,		NULL, '0' }, \
	{ "binary",		no_argument,		NULL, 'B' }, \
	{ "delimiter",		required_argument,	NULL, 'D' }, \
	{ "format",		required_argument,	NULL, 'F' }, \
	{ "json",		no_argument,		NULL, 'J' }, \
	{ "key-delimiter",	required_argument,	NULL, 'K' }, \
	{ "yaml",		no_argument,		NULL, 'Y' }

/* Defaults: text, newline-delimited, no key. */
void	sl_fmt_init(struct sl_fmt *);

/*
 * Apply one format option (CH is the short option letter, ARG its argument
 * or NULL): those of SL_FMT_OPTSTRING, and Z (output only: text and
 * templates print an absent key or a tombstone as NULL, as kcat -Z does).
 * 0 on success; -1 with errno EINVAL for a bad delimiter or template.
 */
int	sl_fmt_option(struct sl_fmt *, int ch, const char *arg);

/* Decode \n \t \0 \\ \xHH escapes of S into BUF; -1/EINVAL when bad. */
int	sl_unescape(const char *s, unsigned char *buf, size_t bufsize,
	    size_t *len);

typedef struct sl_out sl_out;

/*
 * Formatted, buffered output to descriptor FD.  Writes go through a full
 * write loop; an error is returned (and sticks) with errno set.
 */
sl_out	*sl_out_open(int fd, const struct sl_fmt *);
int	 sl_out_record(sl_out *, const struct sl_record *);
/* The log name %t prints from the next record on (NAME is not copied). */
void	 sl_out_logname(sl_out *, const char *name);
int	 sl_out_flush(sl_out *);
/* Flush and free; the descriptor is left open. */
int	 sl_out_close(sl_out *);
/*
 * Output into memory that SINK provides: when N more bytes do not fit (and
 * at a flush, N = 0) SINK(ARG, BUF, LEN, N, &CAP) takes the LEN bytes at BUF
 * and returns where the next go, CAP >= N bytes; NULL with errno on error.
 * The first call, from sl_out_open_sink, has BUF NULL.
 */
typedef unsigned char *sl_out_sink(void *arg, unsigned char *buf, size_t len,
	    size_t n, size_t *cap);
sl_out	*sl_out_open_sink(const struct sl_fmt *, sl_out_sink *, void *arg);

/*
 * Limits and totals of sl_reader_print.  A limit of UINT64_MAX is none.
 */
struct sl_print {
	uint64_t	 end;		/* stop at the first record >= END */
	uint64_t	 max;		/* ... or once N reaches MAX */
	uint64_t	 maxbytes;	/* ... or once BYTES reaches MAXBYTES */
	uint64_t	 n;		/* records printed, added to */
	uint64_t	 first, last;	/* offsets of the first and last, n > 0 */
	uint64_t	 bytes;		/* their sl_record_size sum, added to */
};

/*
 * sl_reader_next and sl_out_record in a loop, within P's limits, but
 * faster: text is formatted straight from each batch.  A record at or
 * past P->end is left unread.  1 a limit reached, 0 at the end of the log
 * as sl_reader_next's 0, -1 a reader error as sl_reader_next's, -2 an
 * output error (errno set).  Records printed before an error stay in OUT.
 */
int	 sl_reader_print(sl_reader *, sl_out *, struct sl_print *p);

typedef struct sl_in sl_in;

#define SL_IN_AGAIN	2	/* sl_in_next: no complete record ready */

/*
 * Parse records from descriptor FD in format FMT (not TEMPLATE).  Records
 * whose sl_record_size exceeds MAX_RECORD are an error; memory stays
 * bounded by MAX_RECORD plus a constant.
 */
sl_in	*sl_in_open(int fd, const struct sl_fmt *, size_t max_record);

/*
 * Next record: 1 and *REC filled (offset 0, timestamp SL_NO_TIMESTAMP when
 * the input has none), 0 at end of input, -1 on bad input or a read error
 * (sl_error() names the record's line or number).
 * With BLOCK 0 it returns SL_IN_AGAIN instead of waiting for input.
 */
int	 sl_in_next(sl_in *, struct sl_record *rec, int block);
/* Number of the record last returned, counting from 1 (for messages). */
uint64_t sl_in_recno(const sl_in *);

/*
 * Read IN's descriptor, if it is a regular file and IN reads text, by
 * mapping it a window at a time rather than by copying it: 1 if so, 0
 * otherwise (nothing changes then).  Call it before the first record.
 * A file cut shorter while it is read raises SIGBUS on the next access to
 * what is gone, in whichever call parses it (sl_in_next, sl_append): the
 * caller asks for this only when it handles SIGBUS.
 */
int	 sl_in_map(sl_in *);

void	 sl_in_close(sl_in *);

/* ---- emit.c: machine output of what is not a record -------------- */

/*
 * -J and -Y output of figures and lists (logstat, logcheckpoint) in the
 * vocabulary of synclog(7): an object is a JSON line or a YAML document;
 * inside it, fields and lists of objects.  Strings are for showing (bytes
 * that are not UTF-8 become U+FFFD).  Output goes to F; its errors are
 * F's (ferror, fclose).
 */
typedef struct sl_emit sl_emit;

enum sl_emit_style { SL_EMIT_JSON, SL_EMIT_YAML };

sl_emit	*sl_emit_open(FILE *f, enum sl_emit_style);
/* Free the emitter: -1/EINVAL when an object or list was left open. */
int	 sl_emit_close(sl_emit *);
/*
 * Open an object: at the top a new line or document (NAME unused), in a
 * list an item (NAME unused), in an object the field NAME.  -1/EINVAL
 * beyond 8 levels.
 */
int	 sl_emit_object(sl_emit *, const char *name);
/* Open a list of objects, the field NAME. */
int	 sl_emit_list(sl_emit *, const char *name);
/* Close the innermost object or list. */
int	 sl_emit_end(sl_emit *);
/* Fields: a string (NULL: null), numbers, null. */
void	 sl_emit_str(sl_emit *, const char *name, const char *s);
void	 sl_emit_u64(sl_emit *, const char *name, uint64_t v);
void	 sl_emit_i64(sl_emit *, const char *name, int64_t v);
void	 sl_emit_null(sl_emit *, const char *name);
/* A time: NAME in ms since the epoch and NAME_iso as sl_time_format
 * writes it, both null for SL_NO_TIMESTAMP. */
void	 sl_emit_time(sl_emit *, const char *name, int64_t ms);
/* S as a Prometheus label value (quoted, escaped, UTF-8) on F. */
void	 sl_emit_label(FILE *f, const char *s);

/* ---- append.c: the append loop -------------------------------------- */

/* What sl_append does besides appending. */
struct sl_append_opts {
	const unsigned char	*key;		/* every record's key, or NULL:
						   the input's */
	size_t			 keylen;
	const struct sl_header	*headers;	/* added to every record's */
	size_t			 nheaders;
	uint64_t		 expect;	/* SL_NO_OFFSET, or the offset
						   the input must start at,
						   all of it one batch */
	/* Called with each batch's offsets, in order, once it is durable
	 * (written, with nosync), and before the loop waits for input. */
	void			(*acked)(void *arg, uint64_t first, size_t n);
	void			*arg;
};

/*
 * Append every record of IN to W: batches formed from whatever input is
 * ready, each committed when the input pauses, full ones in the
 * background while the next is read.  Records without a time get the
 * append time.  0 at the end of the input, everything committed and
 * acknowledged; 1 on bad input (sl_error() names the record), what came
 * before committed and acknowledged unless EXPECT was given; -1 with
 * errno when the log failed (ESTALE: not at EXPECT, nothing written).
 */
int	sl_append(sl_writer *, sl_in *, const struct sl_append_opts *);

/* Commit what sl_append left pending when it was interrupted (a SIGBUS
 * of a mapped input cut short: sl_in_map), acknowledging it: 0 or -1. */
int	sl_append_flush(sl_writer *, const struct sl_append_opts *);

/* ---- checkpoint.c: consumer checkpoints ---------------------------- */

/*
 * Consumer NAME of log DIR keeps its checkpoint, the next offset it has
 * not applied, in DIR/consumers/NAME.ckpt (format in synclog(5)), and
 * DIR/consumers/NAME.lock is flocked by the one process that may move it.
 * Checkpoint errors use errno: ENOENT no such consumer, EBADMSG damaged,
 * ESTALE written for another log id, ERANGE beyond the log's end (found
 * by the caller), EINVAL bad name, EWOULDBLOCK locked by another process.
 */
#define SL_CONSUMER_NAME_MAX	128

struct sl_checkpoint {
	uint64_t	 offset;	/* next offset to apply */
	int64_t		 updated;	/* ms since the epoch of the last write */
	char		 id[33];	/* id of the log it was written for */
	const char	*damage;	/* with EBADMSG: what is wrong (static) */
};

/* 1 when NAME is [A-Za-z0-9._-]+, not starting with '.' or '-' (an option),
 * not too long. */
int	sl_consumer_name_ok(const char *name);

/* Path of NAME's checkpoint (NAME NULL: of the consumers directory). */
char   *sl_checkpoint_path(const char *dir, const char *name, char *buf,
	    size_t len);

/* Read NAME's checkpoint; with a non-empty ID, ESTALE unless it matches. */
int	sl_checkpoint_read(const char *dir, const char *name, const char *id,
	    struct sl_checkpoint *);

/*
 * Atomically replace NAME's checkpoint with OFFSET for log id ID (temporary
 * file, fsync, rename, directory fsync), creating consumers/ if needed;
 * the caller holds the consumer's lock.
 */
int	sl_checkpoint_write(const char *dir, const char *name, const char *id,
	    uint64_t offset);

/* Durably remove NAME's checkpoint and lock file; the caller holds the lock. */
int	sl_checkpoint_remove(const char *dir, const char *name);

/* Sorted, NULL-terminated names of DIR's consumers (empty when none). */
char  **sl_checkpoint_list(const char *dir);
void	sl_checkpoint_list_free(char **);

/*
 * Lock consumer NAME: a descriptor holding an exclusive flock on its lock
 * file, released by sl_consumer_unlock or the holder's death; without
 * WAIT, EWOULDBLOCK while another process holds it.
 */
int	sl_consumer_lock(const char *dir, const char *name, int wait);
int	sl_consumer_unlock(int fd);

/* A message for a checkpoint errno, strerror(3) for the others. */
const char *sl_checkpoint_strerror(int errnum);

/* ---- reader.c, stat.c, compact.c, fsck.c: keeping a log over time
 * (logseek, logstat, logcompact, logfsck) ----------------------------- */

/* Where a record is: what sl_reader_locate finds. */
struct sl_where {
	uint64_t	offset;
	int64_t		timestamp;
	char		segment[256];	/* segment file name */
	uint64_t	pos;		/* byte position of its batch */
};

/*
 * The first record at or after OFFSET, found through the indexes without
 * moving the reader: 1 and *W filled, 0 when there is none, -1 on error
 * (EBADMSG: damage met on the way).
 */
int	sl_reader_locate(sl_reader *, uint64_t offset, struct sl_where *w);

/*
 * What logstat shows of a log (or of a lone segment file).  A figure
 * damage hides is SL_STAT_UNKNOWN (a timestamp, SL_NO_TIMESTAMP).
 */
#define SL_STAT_UNKNOWN		UINT64_MAX

struct sl_stat {
	uint64_t	begin;		/* first record's offset; end when empty */
	uint64_t	end;		/* next offset */
	uint64_t	records;
	uint64_t	segments;
	uint64_t	bytes;		/* of the segment files */
	uint64_t	index_bytes;	/* of the index files */
	int64_t		first_ts;	/* first and last record's timestamps, */
	int64_t		last_ts;	/* SL_NO_TIMESTAMP when empty */
	int64_t		max_ts;		/* largest timestamp */
	char		id[33];		/* empty for a lone segment */
	int		damaged;	/* sl_stat failed on damage: the
					   figures are what it left whole */
};

/*
 * Gather the statistics of the log or segment at PATH, reading batch
 * headers (the tail of the last segment is verified as a reader would).
 * -1 with errno (EBADMSG: damage found) and sl_error() on failure; when
 * the damage was in the segments, S->damaged is set and *S holds the
 * figures the damage leaves whole, the others unknown (logstat(1) says
 * which).
 */
int	sl_stat(const char *path, struct sl_stat *s);

/* One thing logcompact did or, with dry_run, would do. */
enum sl_compact_kind {
	SL_COMPACT_REMOVE,	/* a whole segment dropped by retention */
	SL_COMPACT_REWRITE,	/* a sealed segment compacted */
	SL_COMPACT_PASS		/* the key map filled: another pass starts */
};

struct sl_compact_event {
	enum sl_compact_kind kind;
	const char	*segment;	/* file name inside the log */
	uint64_t	 base;		/* segment's first offset ... */
	uint64_t	 limit;		/* ... and the next segment's */
	uint64_t	 records, new_records;
	uint64_t	 bytes, new_bytes;
	const char	*why;		/* REMOVE: "age", "bytes", "records" */
};

struct sl_compact_opts {
	int64_t		 max_age;	/* ms; < 0: no limit */
	uint64_t	 max_bytes;	/* UINT64_MAX: no limit */
	uint64_t	 max_records;	/* UINT64_MAX: no limit */
	int		 compact;	/* keep the latest record of each key */
	int64_t		 grace;		/* ms a latest tombstone is kept */
	size_t		 memory;	/* bytes of the key map; 0: default */
	int		 keep_unconsumed;
	int		 dry_run;
	int64_t		 now;		/* ms since the epoch */
	void		(*report)(void *arg, const struct sl_compact_event *);
	void		*arg;
};

#define SL_COMPACT_MEMORY	(64u << 20)
#define SL_COMPACT_GRACE	(24LL * 3600 * 1000)

struct sl_compact_result {
	uint64_t	removed;	/* segments dropped */
	uint64_t	rewritten;	/* segments compacted */
	uint64_t	records;	/* records dropped or compacted away */
	uint64_t	bytes;		/* bytes freed */
	uint64_t	passes;		/* compaction passes */
};

/*
 * Apply retention, then compaction, to the log in DIR (see logcompact(1)).
 * Only sealed segments change; each change is atomic.  -1 with errno and
 * sl_error() on failure (EBADMSG: damage found; nothing more was changed).
 */
int	sl_compact(const char *dir, const struct sl_compact_opts *,
	    struct sl_compact_result *res);

/* logfsck: what it verifies, and what it may change. */
enum sl_fsck_mode {
	SL_FSCK_CHECK,		/* change nothing */
	SL_FSCK_REPAIR,		/* truncate a torn tail, rebuild indexes */
	SL_FSCK_SALVAGE		/* also set damaged segments aside */
};

/* A batch as --dump shows it. */
struct sl_batch_info {
	uint64_t	pos, length;
	uint64_t	first, last;	/* offsets */
	uint32_t	count, payload;
	uint32_t	crc;		/* as stored */
	int		compressed;
	int		valid;		/* checksum verified */
	int64_t		first_ts, max_ts;
};

enum sl_fsck_kind {
	SL_FSCK_SEGMENT,	/* dump: a segment (pos: its size) */
	SL_FSCK_BATCH,		/* dump: a batch */
	SL_FSCK_INDEX,		/* dump: an index file (offset: entries) */
	SL_FSCK_PROBLEM,	/* something is wrong */
	SL_FSCK_FIXED		/* what repair or salvage did */
};

struct sl_fsck_event {
	enum sl_fsck_kind kind;
	const char	*file;		/* inside the log, or the segment path */
	uint64_t	 pos;		/* SL_NO_OFFSET: none */
	uint64_t	 offset;	/* SL_NO_OFFSET: none */
	const char	*msg;
	const struct sl_batch_info *batch;
};

struct sl_fsck_opts {
	enum sl_fsck_mode mode;
	int		 dump;
	void		(*report)(void *arg, const struct sl_fsck_event *);
	void		*arg;
};

struct sl_fsck_result {
	uint64_t	segments, batches, records;
	uint64_t	problems;	/* found */
	uint64_t	fixed;		/* of them, repaired */
};

/*
 * Verify the log (or lone segment) at PATH: every batch and record, the
 * offset sequence across segments, every index, the checkpoints.  0 when
 * the check ran (RES counts the problems), -1 with errno and sl_error() when
 * it could not.
 */
int	sl_fsck(const char *path, const struct sl_fsck_opts *,
	    struct sl_fsck_result *res);

#endif /* SYNCLOG_H */
