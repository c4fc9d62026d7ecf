/*
 * prog.h - what every synclog program shares that is not the library's,
 * because it talks to the user (cmd/common/, linked into every program).
 *
 * - One option table per program, from which getopt's string, the long
 *   options, the --help text and the completion (which reads --help) are
 *   all made, so that they cannot drift apart; -h/--help and
 *   -V/--version are in every table.
 * - The parsing of option arguments and the messages of the mistakes met
 *   there, so that the same mistake gets the same words in every program.
 * - The messages about a consumer's checkpoint that several programs give.
 *
 * Diagnostics are err(3)'s, "PROGRAM: OBJECT: reason"; the exit status of
 * a library failure is sl_exit_status(errno).
 */
#ifndef PROG_H
#define PROG_H

#include <getopt.h>		/* optarg, optind */
#include <stdint.h>

#include "synclog.h"

/*
 * One option: its letter, its long name, the name of its argument (NULL:
 * it takes none) and one line of help, said as the man page's option
 * list says it.
 */
struct opt {
	int		 ch;
	const char	*name;
	const char	*arg;
	const char	*help;
};

/* The record format options (sl_fmt_option), worded for both ways. */
#define OPTS_FORMAT_IN \
	{ '0', "null", NULL, "text records end with a NUL byte" }, \
	{ 'B', "binary", NULL, "records as lossless binary frames" }, \
	{ 'D', "delimiter", "delim", "text records end with delim "	\
	    "(default: newline)" }, \
	{ 'J', "json", NULL, "records as JSON Lines" }, \
	{ 'K', "key-delimiter", "delim", "the key and delim come before "	\
	    "the value" }, \
	{ 'Y', "yaml", NULL, "records as YAML documents" }
#define OPTS_FORMAT \
	OPTS_FORMAT_IN, \
	{ 'F', "format", "template", "each record as template (tokens: logcat(1))" }

/*
 * A letter that is no option of this program but one of a neighbour's
 * (kcat's, another synclog program's): a line of advice printed after
 * getopt's complaint.
 */
struct opt_hint {
	int		 ch;
	const char	*hint;
};

struct prog {
	const char	*name;		/* as its man page names it */
	const char	*usage;		/* "usage: ...", the SYNOPSIS */
	int		 in_order;	/* options end at the first operand */
	const struct opt *opts;		/* ended by { 0 } */
	const struct opt_hint *hints;	/* NULL, or ended by { 0 } */
};

/* First thing in main: guard descriptors 0-2 (sl_guard_stdio). */
void	prog_start(const struct prog *);

/*
 * getopt_long over the program's table: the next option letter, or -1
 * after the last (optind, optarg as getopt's).  It answers -h and -V
 * itself (exit 0), and a mistake with getopt's message, a hint if there
 * is one, and the usage (exit 2).
 */
int	prog_getopt(int argc, char *argv[]);

/* The usage on standard error, exit 2. */
void	prog_usage(void) __attribute__((noreturn));

/* Close standard output, an error in writing it being exit 2; RVAL. */
int	prog_finish(int rval);

/*
 * Option arguments (CH the option's letter, for the message).  A bad one
 * ends the program with exit 2 and "-CH: invalid WHAT: ARG".
 */
/* A number of digits (SUFFIXES: with K, M or G) from MIN to MAX. */
uint64_t arg_u64(int ch, const char *what, const char *s, int suffixes,
	    uint64_t min, uint64_t max);
/* An offset specification; CH 0: an operand, not an option's. */
/* A duration (sl_duration_parse; a bare number counts UNIT ms) of at most
 * MAX ms, or exit 2 saying what is wrong. */
int64_t	arg_duration(int ch, const char *what, const char *s, int64_t unit,
	    int64_t max);
void	arg_spec(int ch, const char *s, struct sl_spec *);
/* A record format option, for sl_fmt_option. */
void	arg_format(struct sl_fmt *, int ch, const char *s);
/* A consumer name (the message is the same for an operand). */
const char *arg_consumer(const char *name);

/* "LOG: MESSAGE" of the last failed open, with its exit status. */
void	fail_open(void) __attribute__((noreturn));
/* "PATH: MESSAGE" of a reader's failure, with its exit status. */
void	fail_reader(const char *path) __attribute__((noreturn));

/*
 * Checkpoints.  The exit status of a failed sl_checkpoint_read with
 * ERRNUM: 1 when the answer is about the consumer (no such consumer,
 * damaged, foreign), 2 for a system error.
 */
int	ckpt_status(int errnum);
/* Its message, with the details CK holds; ID is the log's id. */
const char *ckpt_strerror(int errnum, const struct sl_checkpoint *ck,
	    const char *id, char *buf, size_t len);
/*
 * NULL when checkpoint OFF lies within the log [BEGIN, END], else what is
 * wrong with it: below the beginning (the records in between were
 * removed before the consumer applied them) or beyond the end.  END
 * UINT64_MAX: unknown, nothing is beyond it.
 */
const char *ckpt_outside(uint64_t off, uint64_t begin, uint64_t end,
	    char *buf, size_t len);

#endif /* PROG_H */
