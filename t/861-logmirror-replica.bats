#!/usr/bin/env bats
# The library side of a replica, without a server: the settings' replica
# line, which every writer but the replica's own refuses, and
# sl_writer_add_at, records at given offsets with gaps kept
# (t/tools/addat.c).
load helpers

@test "replica: records at given offsets keep their gaps, in one batch or several" {
	ok "$TTOOLS/addat" r 0 1 5 commit 9 commit
	output_is "commit 0 next 6
commit 9 next 10"
	ok logcat -F '%o %s %T\n' r
	output_is "0 v0 1000
1 v1 1001
5 v5 1005
9 v9 1009"
	ok logfsck r
	grep -qx 'replica s' r/settings
	ok logseek r 3
	output_is 5
}

@test "replica: a batch before the log's end is refused whole (ESTALE); offsets only grow" {
	ok "$TTOOLS/addat" r 4 5 commit
	ok "$TTOOLS/addat" r 3 8 commit 7 6 commit
	output_is "commit: ESTALE
add 6: EINVAL
commit 7 next 8"
	ok logcat -F '%o %s\n' r
	output_is "4 v4
5 v5
7 v7"
}

@test "replica: every other writer refuses it, and it refuses to become another's" {
	ok "$TTOOLS/addat" r 0 commit
	fails 2 logappend r <<<"x"
	stderr_is "logappend: r: a replica of s: only logmirror pull writes to it"
	fails 2 logcompact --max-records 1 r
	stderr_is "logcompact: r: a replica of s: only logmirror pull writes to it"
	expect 2 "$TTOOLS/addat" -r - r 1 commit
	stderr_is "addat: r: a replica of s: only logmirror pull writes to it (EPERM)"
	expect 2 "$TTOOLS/addat" -r other r 1 commit
	stderr_is "addat: r: a replica of s, not of other (EPERM)"
	seq 3 | ok logappend own
	expect 2 "$TTOOLS/addat" own 5 commit
	stderr_is "addat: own: a log of its own, not a replica of s (EPERM)"
	ok logcat own
	output_is "$(seq 3)"
}
