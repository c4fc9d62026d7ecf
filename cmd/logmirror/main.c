/*
 * logmirror - carry a log beyond one machine over NATS JetStream:
 * push publishes a local log into a stream, pull keeps a local replica of
 * a stream, wait is the read-your-writes barrier across hosts.  Every
 * other synclog tool stays free of network code; the local log remains
 * where data is applied.  See logmirror(1).
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"
#include "prog.h"

struct mopts opt = {
	.name = "mirror",
	.batch = 1024,
	.window = 4096,
	.timeout_ms = -1,
	.giveup_ms = -2,	/* unset: 120 s, or never with -f */
};
volatile int stopping;

static const struct opt opts[] = {
	{ 'G', "give-up", "seconds", "push, pull: exit 2 after seconds without "
	    "progress" },
	{ 'N', "no-sync", NULL, "pull: do not sync the replica after a batch" },
	{ 'T', "timeout", "seconds", "wait: give up after seconds, exit 1" },
	{ 'b', "batch", "batch", "pull: messages fetched at once (1024)" },
	{ 'f', "follow", NULL, "push, pull: go on when caught up" },
	{ 'k', "bucket", "bucket", "the key-value bucket of checkpoints" },
	{ 'n', "name", "name", "push: the consumer name (mirror)" },
	{ 'o', "offset", "offset", "wait: the offset to wait for" },
	{ 'q', "quiet", NULL, "no notice of errors that are retried" },
	{ 'r', "replicas", "replicas", "push: a new stream's replicas (3)" },
	{ 's', "subject", "subject", "push: the subject to publish on" },
	{ 'w', "window", "window", "push: messages in flight at most (4096)" },
	{ 0, NULL, NULL, NULL }
};

static const struct prog logmirror = {
	"logmirror",
	"usage: logmirror push [-fq] [-G seconds] [-k bucket] [-n name] "
	    "[-r replicas]\n"
	"                      [-s subject] [-w window] log url\n"
	"       logmirror pull [-fNq] [-b batch] [-G seconds] [-k bucket] "
	    "url log\n"
	"       logmirror wait [-q] [-k bucket] [-o offset] [-T seconds] url "
	    "name ...",
	0, opts, NULL
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* The options, then the command: its operands left in *ARGCP, *ARGVP. */
static const char *
options(int *argcp, char ***argvp)
{
	int ch, argc = *argcp;
	char **argv = *argvp;
	const char *cmd;

	while ((ch = prog_getopt(argc, argv)) != -1) {
		switch (ch) {
		case 'G':
			opt.giveup_ms = arg_duration(ch, "time", optarg, 1000,
			    INT64_MAX);
			if (opt.giveup_ms == 0)
				opt.giveup_ms = -1;
			break;
		case 'N':
			opt.nosync = 1;
			break;
		case 'T':
			opt.timeout_ms = arg_duration(ch, "timeout", optarg,
			    1000, INT64_MAX);
			break;
		case 'b':
			opt.batch = (int)arg_u64(ch, "batch size", optarg, 0, 1,
			    1 << 20);
			break;
		case 'f':
			opt.follow = 1;
			break;
		case 'k':
			opt.bucket = optarg;
			break;
		case 'n':
			opt.name = arg_consumer(optarg);
			break;
		case 'o':
			opt.offset = optarg;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'r':
			opt.replicas = (int)arg_u64(ch, "number of replicas",
			    optarg, 0, 1, 5);
			break;
		case 's':
			opt.subject = optarg;
			break;
		case 'w':
			opt.window = (int)arg_u64(ch, "window", optarg, 0, 1,
			    1 << 20);
			break;
		default:
			prog_usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		prog_usage();
	cmd = argv[0];
	if (strcmp(cmd, "push") != 0 && strcmp(cmd, "pull") != 0 &&
	    strcmp(cmd, "wait") != 0)
		errx(2, "%s: unknown command (push, pull, wait)", cmd);
	*argcp = argc - 1;
	*argvp = argv + 1;
	if (strcmp(cmd, "wait") == 0 ? *argcp < 2 : *argcp != 2)
		prog_usage();
	return cmd;
}

int
main(int argc, char *argv[])
{
	struct sigaction sa;
	const char *cmd;
	int rc;

	prog_start(&logmirror);
	cmd = options(&argc, &argv);
	if (opt.giveup_ms == -2)
		opt.giveup_ms = opt.follow ? -1 : 120000;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(cmd, "push") == 0)
		rc = do_push(argv[0], argv[1]);
	else if (strcmp(cmd, "pull") == 0)
		rc = do_pull(argv[0], argv[1]);
	else
		rc = do_wait(argv[0], argv + 1, argc - 1);
	nats_Close();
	return prog_finish(rc);
}
