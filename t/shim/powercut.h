/*
 * powercut.h - the journal format shared by the power-cut shim
 * (t/shim/powercut.c) and the tool that replays it (t/tools/powertool.c).
 * Host byte order: a journal never leaves the machine that wrote it.
 */
#ifndef POWERCUT_H
#define POWERCUT_H

#include <stdint.h>

#define PC_MAGIC	0x54554350u	/* "PCUT" */

enum pc_type {
	PC_OPEN = 1,	/* ino, a: created, b: truncated; path */
	PC_WRITE,	/* ino, a: position, b: bytes; path; data */
	PC_TRUNC,	/* ino, a: new length; path */
	PC_FSYNC,	/* ino, b: journal size as it began + 1 (0: unknown);
			   path: fsync or fdatasync of a file */
	PC_DIRSYNC,	/* path: fsync of a directory */
	PC_RENAME,	/* path -> path2 */
	PC_UNLINK,	/* path */
	PC_MKDIR,	/* path */
	PC_RMDIR,	/* path */
	PC_INPUT,	/* data: one record given to the program (powertool) */
	PC_ACK		/* a: its number; data: one line the program printed */
};

struct pc_entry {
	uint32_t	magic;
	uint32_t	type;
	uint32_t	pid;
	uint32_t	pathlen;	/* bytes of path after the entry */
	uint32_t	path2len;	/* then of path2 */
	uint32_t	pad;
	uint64_t	ino;
	uint64_t	a, b;
	uint64_t	datalen;	/* then of data */
};

#endif /* POWERCUT_H */
