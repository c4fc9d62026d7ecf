/*
 * logmirror - carry a log beyond one machine over NATS JetStream:
 * push publishes a local log into a stream, pull keeps a local replica of
 * a stream, wait is the read-your-writes barrier across hosts.  Every
 * other synclog tool stays free of network code; the local log remains
 * where data is applied.  See logmirror(1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extern.h"

struct mopts opt = {
	.name = "mirror",
	.batch = 1024,
	.window = 4096,
	.timeout_ms = -1,
	.giveup_ms = -2,	/* unset: 120 s, or never with -f */
};
volatile int stopping;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: logmirror push [-fq] [-G secs] [-k bucket] [-n name] "
	    "[-r replicas]\n"
	    "                      [-s subject] [-w window] log url\n"
	    "       logmirror pull [-fNq] [-b batch] [-G secs] [-k bucket] "
	    "url log\n"
	    "       logmirror wait [-q] [-k bucket] [-o offset] [-T secs] url "
	    "name ...\n"
	    "url: nats://host:port[,host:port...]/STREAM\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t
seconds(const char *opt_, const char *s)
{
	uint64_t v;

	if (sl_parse_u64(s, 0, &v) < 0 || v > INT64_MAX / 1000) {
		fprintf(stderr, "logmirror: -%s: invalid number of seconds: "
		    "%s\n", opt_, s);
		exit(2);
	}
	return (int64_t)v * 1000;
}

static int
count(const char *opt_, const char *s, uint64_t max)
{
	uint64_t v;

	if (sl_parse_u64(s, 0, &v) < 0 || v == 0 || v > max) {
		fprintf(stderr, "logmirror: -%s: invalid count: %s\n", opt_,
		    s);
		exit(2);
	}
	return (int)v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "batch",	required_argument,	NULL, 'b' },
		{ "follow",	no_argument,		NULL, 'f' },
		{ "give-up",	required_argument,	NULL, 'G' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "bucket",	required_argument,	NULL, 'k' },
		{ "no-sync",	no_argument,		NULL, 'N' },
		{ "name",	required_argument,	NULL, 'n' },
		{ "offset",	required_argument,	NULL, 'o' },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "replicas",	required_argument,	NULL, 'r' },
		{ "subject",	required_argument,	NULL, 's' },
		{ "timeout",	required_argument,	NULL, 'T' },
		{ "version",	no_argument,		NULL, 'V' },
		{ "window",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct sigaction sa;
	const char *cmd;
	int ch, rc;

	if (sl_guard_stdio() < 0)
		return 2;
	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return fclose(stdout) == 0 ? 0 : 2;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("logmirror %s\n", SL_VERSION);
		return fclose(stdout) == 0 ? 0 : 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "push") != 0 && strcmp(cmd, "pull") != 0 &&
	    strcmp(cmd, "wait") != 0) {
		fprintf(stderr, "logmirror: %s: unknown command (push, pull, "
		    "wait)\n", cmd);
		return 2;
	}
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "G:NT:Vb:fhk:n:o:qr:s:w:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'G':
			opt.giveup_ms = seconds("G", optarg);
			if (opt.giveup_ms == 0)
				opt.giveup_ms = -1;
			break;
		case 'N':
			opt.nosync = 1;
			break;
		case 'T':
			opt.timeout_ms = seconds("T", optarg);
			break;
		case 'V':
			printf("logmirror %s\n", SL_VERSION);
			return fclose(stdout) == 0 ? 0 : 2;
		case 'b':
			opt.batch = count("b", optarg, 1 << 20);
			break;
		case 'f':
			opt.follow = 1;
			break;
		case 'h':
			usage(stdout);
			return fclose(stdout) == 0 ? 0 : 2;
		case 'k':
			opt.bucket = optarg;
			break;
		case 'n':
			if (!sl_consumer_name_ok(optarg)) {
				fprintf(stderr, "logmirror: -n: bad consumer "
				    "name: %s\n", optarg);
				return 2;
			}
			opt.name = optarg;
			break;
		case 'o':
			opt.offset = optarg;
			break;
		case 'q':
			opt.quiet = 1;
			break;
		case 'r':
			opt.replicas = count("r", optarg, 5);
			break;
		case 's':
			opt.subject = optarg;
			break;
		case 'w':
			opt.window = count("w", optarg, 1 << 20);
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (opt.giveup_ms == -2)
		opt.giveup_ms = opt.follow ? -1 : 120000;
	if ((strcmp(cmd, "wait") == 0 ? argc < 2 : argc != 2)) {
		usage(stderr);
		return 2;
	}
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
	if (fclose(stdout) != 0 && rc == 0)
		rc = 2;
	return rc;
}
