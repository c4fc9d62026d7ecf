/*
 * addat - test tool for a replica's writer (sl_writer_add_at):
 *
 *	addat [-r NAME] LOG [OFFSET | commit]...
 *
 * opens LOG as the writer of a replica of NAME (default "s"; "-" opens it
 * as an ordinary writer), then for each argument adds a record whose value
 * is "vOFFSET" at OFFSET, or commits the pending batch.  Prints each
 * commit's first offset and the log's next offset, or the errno name of
 * the call that failed, and goes on: "add 3: EINVAL", "commit: ESTALE",
 * "commit 0 next 6".  Exit 2 when LOG cannot be opened (with the message).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synclog.h"

static const char *
ename(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ESTALE: return "ESTALE";
	case ENOBUFS: return "ENOBUFS";
	case EMSGSIZE: return "EMSGSIZE";
	case EPERM: return "EPERM";
	default: return strerror(e);
	}
}

int
main(int argc, char **argv)
{
	struct sl_writer_opts o = { 0 };
	sl_writer *w;
	int i = 1;

	o.replica = "s";
	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		o.replica = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: addat [-r name] log [offset|commit]...\n");
		return 2;
	}
	if ((w = sl_writer_open(argv[i], &o)) == NULL) {
		fprintf(stderr, "addat: %s (%s)\n", sl_error(),
		    ename(errno));
		return 2;
	}
	for (i++; i < argc; i++) {
		uint64_t first;

		if (strcmp(argv[i], "commit") == 0) {
			if (sl_writer_commit(w, SL_NO_OFFSET, &first) < 0) {
				printf("commit: %s\n", ename(errno));
				sl_writer_discard(w);
			} else
				printf("commit %" PRIu64 " next %" PRIu64 "\n",
				    first, sl_writer_next_offset(w));
		} else {
			struct sl_record r = { 0 };
			char v[32];

			r.offset = strtoull(argv[i], NULL, 10);
			r.timestamp = 1000 + (int64_t)r.offset;
			snprintf(v, sizeof v, "v%" PRIu64, r.offset);
			r.value = (const unsigned char *)v;
			r.valuelen = strlen(v);
			if (sl_writer_add_at(w, &r) < 0)
				printf("add %s: %s\n", argv[i], ename(errno));
		}
	}
	sl_writer_close(w);
	return fclose(stdout) == 0 ? 0 : 2;
}
