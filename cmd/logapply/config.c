/*
 * config.c - logapply -c FILE: the consumers a YAML file defines, each
 * run by a child process of its own, with SIGINT and SIGTERM passed on;
 * the exit status is the worst of theirs.
 *
 * The whole file is checked before anything runs: a mistake is named by
 * the file, line and column where it is.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "synclog.h"
#include "extern.h"

static const char *cfgfile;

static void __attribute__((noreturn, format(printf, 2, 3)))
cfgerr(const yaml_node_t *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	errx(2, "%s:%zu:%zu: %s", cfgfile, n->start_mark.line + 1,
	    n->start_mark.column + 1, msg);
}

static const char *
scalar(const yaml_node_t *n, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		cfgerr(n, "%s must be a scalar", what);
	if (strlen((char *)n->data.scalar.value) != n->data.scalar.length)
		cfgerr(n, "%s contains a NUL byte", what);
	return (const char *)n->data.scalar.value;
}

static int
boolean(const yaml_node_t *n, const char *what)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char *s = scalar(n, what);
	int i;

	for (i = 0; yes[i] != NULL; i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (i = 0; no[i] != NULL; i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	cfgerr(n, "%s must be true or false", what);
}

static uint64_t
number(const yaml_node_t *n, const char *what, uint64_t min)
{
	const char *s = scalar(n, what);
	uint64_t v;

	if (sl_parse_u64(s, 0, &v) < 0 || v < min || v > UINT32_MAX)
		cfgerr(n, "%s must be a number from %" PRIu64 " to %" PRIu32,
		    what, min, UINT32_MAX);
	return v;
}

static char **
command(yaml_document_t *d, const yaml_node_t *n)
{
	yaml_node_item_t *it;
	char **argv;
	size_t i = 0;

	if (n->type == YAML_SCALAR_NODE) {
		if ((argv = calloc(4, sizeof *argv)) == NULL)
			err(2, NULL);
		argv[0] = "sh";
		argv[1] = "-c";
		argv[2] = (char *)scalar(n, "command");
		if (*argv[2] == '\0')
			cfgerr(n, "command is empty");
		return argv;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		cfgerr(n, "command must be a list of arguments or a string");
	it = n->data.sequence.items.start;
	if (it == n->data.sequence.items.top)
		cfgerr(n, "command is empty");
	if ((argv = calloc(n->data.sequence.items.top - it + 1,
	    sizeof *argv)) == NULL)
		err(2, NULL);
	for (; it < n->data.sequence.items.top; it++)
		argv[i++] = (char *)scalar(yaml_document_get_node(d, *it),
		    "an argument");
	return argv;
}

static void
format(struct consumer *c, const yaml_node_t *n)
{
	static const char *const names[] = { "text", "json", "yaml",
	    "binary", NULL };
	static const int opt[] = { 0, 'J', 'Y', 'B' };
	const char *s = scalar(n, "format");
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			break;
	if (names[i] == NULL)
		cfgerr(n, "format must be text, json, yaml or binary");
	sl_fmt_init(&c->fmt);
	c->fmt.logname = c->log;
	if (opt[i] != 0)
		sl_fmt_option(&c->fmt, opt[i], NULL);
}

/* One entry of the consumers list. */
static void
entry(yaml_document_t *d, const yaml_node_t *n, struct consumer *c)
{
	yaml_node_pair_t *p;
	const yaml_node_t *k, *v, *fmtnode = NULL;
	const char *key;

	if (n->type != YAML_MAPPING_NODE)
		cfgerr(n, "a consumer must be a mapping");
	c->log = c->name = NULL;
	c->argv = NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(d, p->key);
		v = yaml_document_get_node(d, p->value);
		key = scalar(k, "a key");
		if (strcmp(key, "name") == 0) {
			c->name = scalar(v, "name");
			if (!sl_consumer_name_ok(c->name))
				cfgerr(v, "%s: invalid consumer name", c->name);
		} else if (strcmp(key, "log") == 0) {
			c->log = scalar(v, "log");
			if (*c->log == '\0')
				cfgerr(v, "log is empty");
		} else if (strcmp(key, "command") == 0)
			c->argv = command(d, v);
		else if (strcmp(key, "batch") == 0)
			c->batch = number(v, "batch", 1);
		else if (strcmp(key, "format") == 0)
			fmtnode = v;
		else if (strcmp(key, "follow") == 0)
			c->follow = boolean(v, "follow");
		else if (strcmp(key, "offset") == 0)
			c->start = scalar(v, "offset");
		else if (strcmp(key, "retries") == 0)
			c->retries = number(v, "retries", 0);
		else if (strcmp(key, "dead-letter") == 0)
			c->deadletter = scalar(v, "dead-letter");
		else if (strcmp(key, "skip-lost") == 0)
			c->skip_lost = boolean(v, "skip-lost");
		else
			cfgerr(k, "unknown key %s", key);
	}
	if (c->name == NULL)
		cfgerr(n, "consumer without a name");
	if (c->log == NULL)
		cfgerr(n, "consumer %s without a log", c->name);
	if (c->argv == NULL)
		cfgerr(n, "consumer %s without a command", c->name);
	if (fmtnode != NULL)
		format(c, fmtnode);
	c->fmt.logname = c->log;
}

/* Parse FILE into *N consumers, each starting as a copy of DEF. */
static struct consumer *
config(const char *file, const struct consumer *def, size_t *n)
{
	static yaml_document_t doc;	/* its strings live until exit */
	yaml_parser_t parser;
	yaml_node_t *root, *k, *v = NULL, *item;
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	struct consumer *cs;
	size_t i, j;
	FILE *f;

	cfgfile = file;
	if ((f = fopen(file, "r")) == NULL)
		err(2, "%s", file);
	if (!yaml_parser_initialize(&parser))
		errx(2, "%s: out of memory", file);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc))
		errx(2, "%s:%zu:%zu: %s%s%s", file,
		    parser.problem_mark.line + 1,
		    parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "invalid YAML",
		    parser.context ? " " : "",
		    parser.context ? parser.context : "");
	yaml_parser_delete(&parser);
	fclose(f);
	if ((root = yaml_document_get_root_node(&doc)) == NULL)
		errx(2, "%s: empty file", file);
	if (root->type != YAML_MAPPING_NODE)
		cfgerr(root, "the top level must be a mapping with consumers");
	for (p = root->data.mapping.pairs.start;
	    p < root->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(&doc, p->key);
		if (strcmp(scalar(k, "a key"), "consumers") != 0)
			cfgerr(k, "unknown key %s", scalar(k, "a key"));
		v = yaml_document_get_node(&doc, p->value);
	}
	if (v == NULL)
		cfgerr(root, "no consumers");
	if (v->type != YAML_SEQUENCE_NODE)
		cfgerr(v, "consumers must be a list");
	it = v->data.sequence.items.start;
	*n = v->data.sequence.items.top - it;
	if (*n == 0)
		cfgerr(v, "no consumers");
	if ((cs = calloc(*n, sizeof *cs)) == NULL)
		err(2, NULL);
	for (i = 0; i < *n; i++) {
		item = yaml_document_get_node(&doc, it[i]);
		cs[i] = *def;
		entry(&doc, item, &cs[i]);
		for (j = 0; j < i; j++)
			if (strcmp(cs[j].name, cs[i].name) == 0 &&
			    strcmp(cs[j].log, cs[i].log) == 0)
				cfgerr(item, "consumer %s of %s is defined "
				    "twice", cs[i].name, cs[i].log);
	}
	return cs;
}

static struct consumer *cs;	/* global: reachable in every child */
static size_t ncs;
static pid_t *children;
static size_t nchildren;

static void
forward(int sig)
{
	size_t i;
	int e = errno;

	for (i = 0; i < nchildren; i++)
		if (children[i] > 0)
			kill(children[i], sig);
	errno = e;
}

/* Run every consumer of FILE at once; the worst status of them all. */
int
run_config(const char *file, const struct consumer *def)
{
	struct sigaction sa;
	sigset_t block;
	size_t n, i, left;
	pid_t pid;
	int st, rval = 0, code;

	cs = config(file, def, &n);
	ncs = n;
	if ((children = calloc(n, sizeof *children)) == NULL)
		err(2, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = forward;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	fflush(stdout);
	fflush(stderr);
	/* No signal before each process has its handlers in place. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &origmask);
	for (i = 0; i < n; i++) {
		if ((pid = fork()) == -1) {
			warn("fork");
			rval = 2;
			break;
		}
		if (pid == 0) {
			/* A message in one write, not mixed with another
			 * consumer's (err(3) writes it in pieces). */
			setvbuf(stderr, NULL, _IOLBF, BUFSIZ);
			exit(consume(&cs[i]));
		}
		children[i] = pid;
		nchildren = i + 1;
	}
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		err(2, "sigaction");
	sigprocmask(SIG_SETMASK, &origmask, NULL);
	for (left = nchildren; left > 0; left--) {
		while ((pid = wait(&st)) == -1)
			if (errno != EINTR)
				err(2, "wait");
		for (i = 0; i < nchildren && children[i] != pid; i++)
			;
		if (i < nchildren)
			children[i] = 0;
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
		if (WIFSIGNALED(st))
			warnx("%s: %s: killed by signal %d", cs[i].log,
			    cs[i].name, WTERMSIG(st));
		if (code > rval)
			rval = code > 2 ? 2 : code;
	}
	for (i = 0; i < ncs; i++)
		free(cs[i].argv);
	free(cs);
	free(children);
	return rval;
}

