/*
 * logstat - show the bounds, size, time range and consumers of logs.
 *
 * Text output is one "name value" line per figure, a blank line between
 * logs; -J prints one JSON object per log per line and -Y one YAML
 * document per log, both through the library's emitter, in the names of
 * synclog(7); -P prints every log in the Prometheus text format, each
 * metric's samples together, for node_exporter's textfile collector.
 * Every log is reported even when an earlier one failed (the rval
 * pattern); a log that cannot be read, or a damaged checkpoint, makes the
 * exit status non-zero.  A damaged log is shown too, each figure the
 * damage hides as unknown: "-", null, or no sample.
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

enum { TEXT, JSON, YAML, PROM };

static int style = TEXT;
static int nprinted;

/* What is shown of a consumer. */
struct consumer {
	char			*name;
	int			 ok;	/* its checkpoint could be read */
	const char		*why;	/* when not */
	struct sl_checkpoint	 ck;
};

/* What is shown of a log. */
struct log {
	const char	*path;
	struct sl_stat	 s;
	int		 failed;	/* nothing of it can be shown */
	int		 isdir;
	char		**names;	/* its consumers, NULL when none */
	struct consumer	*c;
	size_t		 nc;
};

static const struct opt opts[] = {
	{ 'J', "json", NULL, "one JSON object per log, on a line" },
	{ 'P', "prometheus", NULL, "every log in Prometheus's text format" },
	{ 'Y', "yaml", NULL, "one YAML document per log" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logstat = {
	"logstat",
	"usage: logstat [-J | -P | -Y] log ...",
	0, opts, NULL
};

/* A warning after what is printed so far. */
#define warnmsg(...)	(fflush(stdout), warnx(__VA_ARGS__))

/* The consumer's lag, SL_STAT_UNKNOWN with the end. */
static uint64_t
lag(const struct log *l, const struct consumer *c)
{
	if (l->s.end == SL_STAT_UNKNOWN)
		return SL_STAT_UNKNOWN;
	return c->ck.offset < l->s.end ? l->s.end - c->ck.offset : 0;
}

/* Read the consumers of L; 0, 1 when one is damaged, 2 when none could
 * be listed. */
static int
consumers(struct log *l)
{
	struct consumer *c;
	int rval = 0;

	if ((l->names = sl_checkpoint_list(l->path)) == NULL) {
		warnmsg("%s: consumers: %s", l->path, strerror(errno));
		return 2;
	}
	for (l->nc = 0; l->names[l->nc] != NULL; l->nc++)
		;
	if ((l->c = calloc(l->nc + 1, sizeof(*l->c))) == NULL)
		err(2, NULL);
	for (size_t i = 0; i < l->nc; i++) {
		char msg[512];

		c = &l->c[i];
		c->name = l->names[i];
		c->ok = sl_checkpoint_read(l->path, c->name, l->s.id,
		    &c->ck) == 0;
		/* As every program says it (cmd/common/args.c). */
		if (!c->ok) {
			c->why = sl_checkpoint_strerror(errno);
			warnmsg("%s: %s: %s", l->path, c->name, ckpt_strerror(
			    errno, &c->ck, l->s.id, msg, sizeof msg));
			rval = 1;
		} else if (ckpt_outside(c->ck.offset, 0, l->s.end, msg,
		    sizeof msg) != NULL) {
			warnmsg("%s: %s: %s", l->path, c->name, msg);
			rval = 1;
		}
	}
	return rval;
}

/* Gather what is shown of PATH into L: 0, or the exit status. */
static int
gather(const char *path, struct log *l)
{
	struct stat st;
	int rval = 0, r;

	memset(l, 0, sizeof(*l));
	l->path = path;
	if (sl_stat(path, &l->s) < 0) {
		rval = l->s.damaged ? 1 : sl_exit_status(errno);
		warnmsg("%s: %s", path, sl_error());
		if (!l->s.damaged) {
			l->failed = 1;
			return rval;
		}
	}
	l->isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
	if (l->isdir && (r = consumers(l)) > rval)
		rval = r;
	return rval;
}

static void
release(struct log *l)
{
	sl_checkpoint_list_free(l->names);
	free(l->c);
}

/* ---- text ----------------------------------------------------------- */

/* A figure, or "-" when damage hid it. */
static const char *
figure(uint64_t v, char *buf, size_t len)
{
	if (v == SL_STAT_UNKNOWN)
		return "-";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

/* A time as "ISO MS", or "- -" when there is none. */
static void
text_time(const char *name, int64_t ms)
{
	char iso[SL_TIME_MAX];

	if (ms == SL_NO_TIMESTAMP)
		printf("%-12s - -\n", name);
	else
		printf("%-12s %s %" PRId64 "\n", name,
		    sl_time_format(ms, iso, sizeof iso), ms);
}

static void
text(const struct log *l)
{
	char iso[SL_TIME_MAX], n[24];

	if (nprinted++ > 0)
		putchar('\n');
	printf("%-12s %s\n", "log", l->path);
	printf("%-12s %s\n", "id", l->s.id[0] ? l->s.id : "-");
	printf("%-12s %" PRIu64 "\n", "segments", l->s.segments);
	printf("%-12s %" PRIu64 "\n", "bytes", l->s.bytes);
	printf("%-12s %" PRIu64 "\n", "index-bytes", l->s.index_bytes);
	printf("%-12s %s\n", "begin", figure(l->s.begin, n, sizeof n));
	printf("%-12s %s\n", "end", figure(l->s.end, n, sizeof n));
	printf("%-12s %s\n", "records", figure(l->s.records, n, sizeof n));
	text_time("first-time", l->s.first_ts);
	text_time("last-time", l->s.last_ts);
	text_time("max-time", l->s.max_ts);
	if (!l->isdir || l->names == NULL)
		return;
	printf("%-12s %zu\n", "consumers", l->nc);
	for (size_t i = 0; i < l->nc; i++) {
		const struct consumer *c = &l->c[i];

		if (c->ok)
			printf("%-12s %s %" PRIu64 " %s %s\n", "consumer",
			    c->name, c->ck.offset, figure(lag(l, c), n,
			    sizeof n), sl_time_format(c->ck.updated, iso,
			    sizeof iso));
		else
			printf("%-12s %s - - -\n", "consumer", c->name);
	}
}

/* ---- JSON and YAML -------------------------------------------------- */

/* A figure, or null when damage hid it. */
static void
emit_figure(sl_emit *e, const char *name, uint64_t v)
{
	if (v == SL_STAT_UNKNOWN)
		sl_emit_null(e, name);
	else
		sl_emit_u64(e, name, v);
}

static void
emit(sl_emit *e, const struct log *l)
{
	sl_emit_object(e, NULL);
	sl_emit_str(e, "log", l->path);
	sl_emit_str(e, "id", l->s.id[0] ? l->s.id : NULL);
	sl_emit_u64(e, "segments", l->s.segments);
	sl_emit_u64(e, "bytes", l->s.bytes);
	sl_emit_u64(e, "index_bytes", l->s.index_bytes);
	emit_figure(e, "begin", l->s.begin);
	emit_figure(e, "end", l->s.end);
	emit_figure(e, "records", l->s.records);
	sl_emit_time(e, "first_timestamp", l->s.first_ts);
	sl_emit_time(e, "last_timestamp", l->s.last_ts);
	sl_emit_time(e, "max_timestamp", l->s.max_ts);
	if (l->isdir && l->names != NULL) {
		sl_emit_list(e, "consumers");
		for (size_t i = 0; i < l->nc; i++) {
			const struct consumer *c = &l->c[i];

			sl_emit_object(e, NULL);
			sl_emit_str(e, "consumer", c->name);
			if (c->ok) {
				sl_emit_u64(e, "offset", c->ck.offset);
				emit_figure(e, "lag", lag(l, c));
				sl_emit_time(e, "updated", c->ck.updated);
			} else
				sl_emit_str(e, "error", c->why);
			sl_emit_end(e);
		}
		sl_emit_end(e);
	}
	sl_emit_end(e);
}

/* ---- Prometheus ----------------------------------------------------- */

/* Milliseconds as decimal seconds, exactly. */
static void
seconds(int64_t ms)
{
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;

	printf("%s%" PRIu64 ".%03u\n", ms < 0 ? "-" : "", a / 1000,
	    (unsigned)(a % 1000));
}

/* One family's HELP and TYPE lines. */
static void
family(const char *name, const char *help)
{
	printf("# HELP synclog_%s %s\n# TYPE synclog_%s gauge\n", name, help,
	    name);
}

/* The start of a sample: its name and labels, up to the value. */
static void
sample(const char *name, const struct log *l, const struct consumer *c)
{
	printf("synclog_%s{log=", name);
	sl_emit_label(stdout, l->path);
	if (c != NULL) {
		printf(",consumer=");
		sl_emit_label(stdout, c->name);
	}
	printf("} ");
}

/* The log-wide figures: a table, so that each is one family. */
static const struct {
	const char	*name, *help;
	size_t		 off;
} figures[] = {
	{ "begin_offset", "The offset of the log's first record.",
	    offsetof(struct sl_stat, begin) },
	{ "end_offset", "The offset the log's next record will get.",
	    offsetof(struct sl_stat, end) },
	{ "records", "The records in the log.",
	    offsetof(struct sl_stat, records) },
	{ "segments", "The segment files of the log.",
	    offsetof(struct sl_stat, segments) },
	{ "bytes", "The size of the log's segment files.",
	    offsetof(struct sl_stat, bytes) },
	{ "index_bytes", "The size of the log's index files.",
	    offsetof(struct sl_stat, index_bytes) },
};

static void
prometheus(const struct log *logs, size_t n, int64_t now)
{
	size_t i, j, k;
	uint64_t v;

	/* A figure damage hid has no sample. */
	for (k = 0; k < sizeof(figures) / sizeof(figures[0]); k++) {
		family(figures[k].name, figures[k].help);
		for (i = 0; i < n; i++) {
			if (logs[i].failed)
				continue;
			v = *(const uint64_t *)((const char *)&logs[i].s +
			    figures[k].off);
			if (v != SL_STAT_UNKNOWN) {
				sample(figures[k].name, &logs[i], NULL);
				printf("%" PRIu64 "\n", v);
			}
		}
	}
	family("max_timestamp_seconds", "The newest (largest) timestamp "
	    "of a record in the log, in seconds since the epoch.");
	for (i = 0; i < n; i++)
		if (!logs[i].failed &&
		    logs[i].s.max_ts != SL_NO_TIMESTAMP) {
			sample("max_timestamp_seconds", &logs[i], NULL);
			seconds(logs[i].s.max_ts);
		}
	family("consumer_offset", "The consumer's checkpoint: the next "
	    "offset it will apply.");
	for (i = 0; i < n; i++)
		for (j = 0; j < logs[i].nc; j++)
			if (logs[i].c[j].ok) {
				sample("consumer_offset", &logs[i], &logs[i].c[j]);
				printf("%" PRIu64 "\n", logs[i].c[j].ck.offset);
			}
	family("consumer_lag", "The records between the consumer's "
	    "checkpoint and the log's end.");
	for (i = 0; i < n; i++)
		for (j = 0; j < logs[i].nc; j++)
			if (logs[i].c[j].ok && lag(&logs[i],
			    &logs[i].c[j]) != SL_STAT_UNKNOWN) {
				sample("consumer_lag", &logs[i], &logs[i].c[j]);
				printf("%" PRIu64 "\n", lag(&logs[i],
				    &logs[i].c[j]));
			}
	family("consumer_update_age_seconds", "Seconds since the "
	    "consumer's checkpoint was last written.");
	for (i = 0; i < n; i++)
		for (j = 0; j < logs[i].nc; j++)
			if (logs[i].c[j].ok) {
				sample("consumer_update_age_seconds", &logs[i],
				    &logs[i].c[j]);
				seconds(now - logs[i].c[j].ck.updated);
			}
}

/* ---- main ----------------------------------------------------------- */

int
main(int argc, char *argv[])
{
	struct log *logs;
	sl_emit *e = NULL;
	int ch, rval = 0, r;

	prog_start(&logstat);
	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'J':
			style = JSON;
			break;
		case 'P':
			style = PROM;
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
	if ((logs = calloc(argc, sizeof(*logs))) == NULL)
		err(2, NULL);
	if ((style == JSON || style == YAML) && (e = sl_emit_open(stdout,
	    style == JSON ? SL_EMIT_JSON : SL_EMIT_YAML)) == NULL)
		err(2, NULL);
	/* Prometheus wants each metric's samples together: all logs are
	 * gathered first.  The others print each log as it comes. */
	for (int i = 0; i < argc; i++) {
		if ((r = gather(argv[i], &logs[i])) > rval)
			rval = r;
		if (logs[i].failed)
			continue;
		if (style == TEXT)
			text(&logs[i]);
		else if (e != NULL)
			emit(e, &logs[i]);
		if (style != PROM) {
			release(&logs[i]);
			memset(&logs[i], 0, sizeof(logs[i]));
			logs[i].failed = 1;
		}
	}
	if (style == PROM)
		prometheus(logs, argc, sl_now_ms());
	for (int i = 0; i < argc; i++)
		release(&logs[i]);
	free(logs);
	sl_emit_close(e);
	return prog_finish(rval);
}
