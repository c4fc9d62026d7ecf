/*
 * opt.c - a program's option table made into getopt_long's string and
 * long options, its --help text, its usage and its version.
 *
 * The table is the one description of a program's options; nothing else
 * lists them, so that what getopt accepts, what --help says (and the bash
 * completion, which reads --help) cannot disagree.  t/010 checks the man
 * pages against --help and getopt.
 */
#include <ctype.h>
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "prog.h"

#define MAXOPTS	64

static const struct opt builtin[] = {
	{ 'h', "help", NULL, "print this help and exit" },
	{ 'V', "version", NULL, "print the version and exit" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog *prog;
static char	 optstring[2 * MAXOPTS + 2];
static struct option longopts[MAXOPTS + 1];

/* The program's options, then -h and -V: the Nth, or NULL past them. */
static const struct opt *
nth(size_t n)
{
	size_t i;

	for (i = 0; prog->opts[i].ch != 0; i++)
		if (i == n)
			return &prog->opts[i];
	return n - i < 2 ? &builtin[n - i] : NULL;
}

void
prog_start(const struct prog *p)
{
	const struct opt *o;
	char *s = optstring;
	size_t i;

	prog = p;
	if (sl_guard_stdio() < 0)
		err(2, "/dev/null");
	if (p->in_order)
		*s++ = '+';
	for (i = 0; (o = nth(i)) != NULL; i++) {
		if (i == MAXOPTS)
			errx(2, "more than %d options", MAXOPTS);
		*s++ = (char)o->ch;
		if (o->arg != NULL)
			*s++ = ':';
		longopts[i].name = o->name;
		longopts[i].has_arg = o->arg != NULL ? required_argument :
		    no_argument;
		longopts[i].val = o->ch;
	}
	*s = '\0';
}

static void
usage(FILE *f)
{
	fprintf(f, "%s\n", prog->usage);
}

void
prog_usage(void)
{
	usage(stderr);
	exit(2);
}

/* "-c, --count=count": the letter, the long name and its argument. */
static int
optname(char *buf, size_t len, const struct opt *o)
{
	return snprintf(buf, len, "-%c, --%s%s%s", o->ch, o->name,
	    o->arg != NULL ? "=" : "", o->arg != NULL ? o->arg : "");
}

/* The man pages' order: digits, then letters, A before a before B. */
static int
bylist(const void *a, const void *b)
{
	const struct opt *x = *(const struct opt *const *)a;
	const struct opt *y = *(const struct opt *const *)b;
	int cx = tolower(x->ch), cy = tolower(y->ch);

	if (cx != cy)
		return cx - cy;
	return x->ch - y->ch;
}

/*
 * The usage, then one line per option, sorted as the man page lists them
 * (-h and -V last), with the help texts in a column.
 */
static void __attribute__((noreturn))
help(void)
{
	const struct opt *o, *list[MAXOPTS];
	char buf[128];
	int w, width = 0;
	size_t i, n;

	for (n = 0; (o = nth(n)) != NULL; n++) {
		list[n] = o;
		if ((w = optname(buf, sizeof buf, o)) > width)
			width = w;
	}
	qsort(list, n - 2, sizeof list[0], bylist);
	usage(stdout);
	printf("\n");
	for (i = 0; i < n; i++) {
		optname(buf, sizeof buf, list[i]);
		printf("  %-*s  %s\n", width, buf, list[i]->help);
	}
	exit(prog_finish(0));
}

/* After getopt's complaint about option letter CH, the hint if any. */
static void
hint(int ch)
{
	const struct opt_hint *h;
	const struct opt *o;
	size_t i;

	for (i = 0; (o = nth(i)) != NULL; i++)
		if (o->ch == ch)
			return;		/* an option without its argument */
	for (h = prog->hints; h != NULL && h->ch != 0; h++)
		if (h->ch == ch)
			warnx("-%c: %s", ch, h->hint);
}

int
prog_getopt(int argc, char *argv[])
{
	int ch;

	switch (ch = getopt_long(argc, argv, optstring, longopts, NULL)) {
	case 'h':
		help();
	case 'V':
		printf("%s synclog %s\n", prog->name, SL_VERSION);
		exit(prog_finish(0));
	case '?':
		hint(optopt);
		prog_usage();
	}
	return ch;
}

int
prog_finish(int rval)
{
	if (fclose(stdout) == EOF)
		err(2, "stdout");
	return rval;
}
