#!/usr/bin/env bats
# The fault-injection shim (t/shim/fault.c) on t/tools/faultprobe: every
# rule kind fires at the right call, only there, and is logged.  Under the
# sanitizer build faultprobe is built with ASan, so this also proves that
# the shim works preloaded into sanitized programs.
load helpers

P=$TTOOLS/faultprobe

size_is() {
	is "$(stat -c %s "$1")" "$2"
}

@test "fault: no rules, no faults and no log" {
	with_fault '' ok "$P" mkdir:d open:d/f write:10 pwrite:3 writev:4 \
	    fsync fdatasync ftruncate:5 reopen:d/f read:3 pread:2 \
	    rename:d/f:d/g
	output_is "mkdir 0
open 0
write 10
pwrite 3
writev 4
fsync 0
fdatasync 0
ftruncate 0
reopen 0
read 3
pread 2
rename 0"
	[ ! -e fault.log ]
	faults_fired 0
}

@test "fault: write fails at the Nth call only, and is logged" {
	with_fault 'write:2:ENOSPC' ok "$P" open:f write:10 write:10 write:10
	output_is "open 0
write 10
write -1 ENOSPC
write 10"
	size_is f 20
	faults_fired 1 "^write:2:ENOSPC pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
}

@test "fault: forever fails every call from the Nth on" {
	with_fault 'write:2:EIO:forever' ok "$P" open:f write:1 write:1 \
	    write:1 write:1
	output_is "open 0
write 1
write -1 EIO
write -1 EIO
write -1 EIO"
	faults_fired 3 '^write:[234]:EIO '
}

@test "fault: two rules on one call count the same calls" {
	with_fault 'write:1:EIO,write:3:EDQUOT' ok "$P" open:f write:1 write:1 \
	    write:1
	output_is "open 0
write -1 EIO
write 1
write -1 EDQUOT"
	faults_fired 2
}

@test "fault: an errno may be given by number" {
	with_fault 'write:1:28' ok "$P" open:f write:4
	output_is "open 0
write -1 ENOSPC"
	faults_fired 1 '^write:1:28 '
}

@test "fault: EINTR fails the call once, the retry goes through" {
	with_fault 'write:1:EINTR' ok "$P" open:f write:4 write:4
	output_is "open 0
write -1 EINTR
write 4"
	size_is f 4
	faults_fired 1
}

@test "fault: short writes write half the bytes, at least one" {
	with_fault 'write:1:short,write:2:short' ok "$P" open:f write:10 write:1
	output_is "open 0
write 5
write 1"
	size_is f 6
	faults_fired 2 ':short '
}

@test "fault: pwrite and writev fail and write short" {
	with_fault 'pwrite:1:EIO,pwrite:2:short,writev:1:short,writev:2:ENOSPC' \
	    ok "$P" open:f pwrite:8 pwrite:8 writev:9 writev:9
	output_is "open 0
pwrite -1 EIO
pwrite 4
writev 4
writev -1 ENOSPC"
	faults_fired 4
}

@test "fault: read and pread fail and read short" {
	printf 0123456789 >f
	with_fault 'read:1:EIO,read:2:short,pread:1:short' ok "$P" reopen:f \
	    read:4 read:4 pread:10
	output_is "reopen 0
read -1 EIO
read 2
pread 5"
	faults_fired 3
}

@test "fault: fdatasync and fsync fail at their own counts" {
	with_fault 'fdatasync:2:EIO,fsync:1:EIO' ok "$P" open:f write:3 \
	    fdatasync fdatasync fdatasync fsync fsync
	output_is "open 0
write 3
fdatasync 0
fdatasync -1 EIO
fdatasync 0
fsync -1 EIO
fsync 0"
	faults_fired 1 '^fdatasync:2:EIO '
	faults_fired 1 '^fsync:1:EIO '
}

@test "fault: fallocate and fstatvfs fail at their counts, and go through otherwise" {
	with_fault 'fallocate:2:ENOSPC,fstatvfs:1:EIO' ok "$P" open:f \
	    fallocate:4096 fallocate:8192 fallocate:16384 fstatvfs fstatvfs
	output_is "open 0
fallocate 0
fallocate -1 ENOSPC
fallocate 0
fstatvfs -1 EIO
fstatvfs 0"
	# Space past the end, the size kept: 16 KiB allocated, none written.
	is "$(stat -c '%s %b' f)" "0 32"
	faults_fired 1 "^fallocate:2:ENOSPC pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
	faults_fired 1 "^fstatvfs:1:EIO pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
}

@test "fault: sync_file_range fails at its count, and goes through otherwise" {
	with_fault 'sync_file_range:2:EIO' ok "$P" open:f write:3 syncrange \
	    syncrange syncrange
	output_is "open 0
write 3
syncrange 0
syncrange -1 EIO
syncrange 0"
	faults_fired 1 "^sync_file_range:2:EIO pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
}

@test "fault: skip says a sync succeeded without making it" {
	require strace
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	with_fault 'fdatasync:1:skip,sync_file_range:2:skip' ok strace -f \
	    -e trace=fdatasync,sync_file_range -o trace "$P" open:f write:3 \
	    fdatasync fdatasync syncrange syncrange
	output_is "open 0
write 3
fdatasync 0
fdatasync 0
syncrange 0
syncrange 0"
	faults_fired 1 "^fdatasync:1:skip pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
	faults_fired 1 '^sync_file_range:2:skip '
	# Only the calls not skipped reached the kernel.
	is "$(grep -c '^[0-9]* *fdatasync(' trace)" 1
	is "$(grep -c '^[0-9]* *sync_file_range(' trace)" 1
}

@test "fault: mmap of a file and lseek fail at their count; anonymous maps are not counted" {
	with_fault 'mmap:2:ENOMEM,lseek:1:ESPIPE' ok "$P" open:f write:100 \
	    mmap anonmap mmap anonmap mmap lseek:5 lseek:7
	output_is "open 0
write 100
mmap 0
anonmap 0
mmap -1 ENOMEM
anonmap 0
mmap 0
lseek -1 ESPIPE
lseek 7"
	faults_fired 2
	faults_fired 1 "^mmap:2:ENOMEM pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
	faults_fired 1 "^lseek:1:ESPIPE pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
}

@test "fault: cachestat, made through syscall(2), fails at its count" {
	# Written and not synced: some bytes are dirty, unless the kernel
	# has no cachestat (before Linux 6.5), which the first call shows.
	with_fault 'cachestat:2:ENOSYS' ok "$P" open:f write:3 unsynced \
	    unsynced unsynced fdatasync unsynced
	case $(sed -n 3p <<<"$output") in
	"unsynced -1 ENOSYS") skip "cachestat(2) needs Linux 6.5, this is $(uname -r)" ;;
	esac
	output_is "open 0
write 3
unsynced 4096
unsynced -1 ENOSYS
unsynced 4096
fdatasync 0
unsynced 0"
	faults_fired 1 "^cachestat:2:ENOSYS pid=[0-9]+ path=$BATS_TEST_TMPDIR/f\$"
	# Other system calls made through syscall(2) go through: the shim's
	# own, which write its log.
	rm fault.log
	with_fault 'cachestat:1:EIO,write:1:EIO' ok "$P" open:g write:1
	output_is "open 0
write -1 EIO"
	faults_fired 1 "^write:1:EIO pid=[0-9]+ path=$BATS_TEST_TMPDIR/g\$"
}

@test "fault: directories count for @dir only" {
	mkdir d
	with_fault 'fsync:1:EIO' ok "$P" opendir:d fsync open:d/f fsync
	output_is "opendir 0
fsync 0
open 0
fsync -1 EIO"
	rm fault.log
	with_fault 'fsync@dir:1:EIO' ok "$P" open:d/f fsync opendir:d fsync
	output_is "open 0
fsync 0
opendir 0
fsync -1 EIO"
	faults_fired 1 "^fsync@dir:1:EIO pid=[0-9]+ path=$BATS_TEST_TMPDIR/d\$"
}

@test "fault: ftruncate fails" {
	with_fault 'ftruncate:1:EFBIG' ok "$P" open:f ftruncate:100 ftruncate:7
	output_is "open 0
ftruncate -1 EFBIG
ftruncate 0"
	size_is f 7
	faults_fired 1
}

@test "fault: a pipe on stdout is not counted, @std and @pipe are" {
	with_fault 'write:1:ENOSPC' ok "$P" stdout:hello open:f write:3
	output_is "hello
stdout 6
open 0
write -1 ENOSPC"
	faults_fired 1 '^write:1:ENOSPC '
	with_fault 'write@std:1:EPIPE,write@pipe:2:EIO' ok "$P" stdout:a \
	    stdout:b open:f write:3
	output_is "stdout -1 EPIPE
stdout -1 EIO
open 0
write 3"
	faults_fired 1 '^write@std:1:EPIPE '
	faults_fired 1 '^write@pipe:2:EIO '
}

@test "fault: a regular file on stdout is not counted by default" {
	with_fault 'write:1:EIO' "$P" stdout:x open:f write:3 >out
	is "$(cat out)" "x
stdout 2
open 0
write -1 EIO"
	faults_fired 1
}

@test "fault: open counts only opens that create" {
	: >old
	with_fault 'open:2:EACCES' ok "$P" reopen:old open:a reopen:old open:b \
	    open:c
	output_is "reopen 0
open 0
reopen 0
open -1 EACCES
open 0"
	[ -e a ] && [ ! -e b ] && [ -e c ]
	faults_fired 1 '^open:2:EACCES pid=[0-9]+ path=b$'
}

@test "fault: ~SUBSTR picks calls by path" {
	with_fault 'open~.tmp:1:EROFS,write~seg:1:ENOSPC' ok "$P" open:a.log \
	    write:2 open:x.tmp open:seg.log write:2
	output_is "open 0
write 2
open -1 EROFS
open 0
write -1 ENOSPC"
	faults_fired 1 "^write~seg:1:ENOSPC .*path=$BATS_TEST_TMPDIR/seg.log\$"
	faults_fired 1 '^open~\.tmp:1:EROFS .*path=x\.tmp$'
}

@test "fault: mkdir and rename fail without doing anything" {
	: >f
	with_fault 'mkdir:2:EEXIST,rename:1:EXDEV' ok "$P" mkdir:d1 mkdir:d2 \
	    rename:f:g rename:f:h
	output_is "mkdir 0
mkdir -1 EEXIST
rename -1 EXDEV
rename 0"
	[ -d d1 ] && [ ! -e d2 ] && [ ! -e g ] && [ -e h ] && [ ! -e f ]
	faults_fired 1 '^mkdir:2:EEXIST pid=[0-9]+ path=d2$'
	faults_fired 1 '^rename:1:EXDEV pid=[0-9]+ path=f -> g$'
}

@test "fault: rename~SUBSTR matches either path" {
	: >a.tmp
	: >b
	with_fault 'rename~checkpoint:1:EIO' ok "$P" rename:b:c \
	    rename:a.tmp:checkpoint
	output_is "rename 0
rename -1 EIO"
	faults_fired 1
}

@test "fault: kill stops the process just before the call" {
	with_fault 'write:2:kill' expect 137 "$P" open:f write:10 write:10 \
	    write:10
	output_is "open 0
write 10"
	size_is f 10
	faults_fired 1 '^write:2:kill '
}

@test "fault: killafter makes the call, then stops the process" {
	with_fault 'write:2:killafter' expect 137 "$P" open:f write:10 \
	    write:10 write:10
	output_is "open 0
write 10"
	size_is f 20
	faults_fired 1 '^write:2:killafter '
}

@test "fault: kill around fdatasync and rename" {
	: >a
	with_fault 'rename:1:kill' expect 137 "$P" rename:a:b
	[ -e a ] && [ ! -e b ]
	with_fault 'rename:1:killafter' expect 137 "$P" rename:a:b
	[ ! -e a ] && [ -e b ]
	with_fault 'fdatasync:1:killafter' expect 137 "$P" open:f write:5 \
	    fdatasync write:5
	size_is f 5
	faults_fired 3
}

@test "fault: SYNCLOG_FAULT_EXE limits the rules to one program" {
	SYNCLOG_FAULT_EXE=logappend with_fault 'write:1:EIO' ok "$P" open:f \
	    write:1
	output_is "open 0
write 1"
	faults_fired 0
	SYNCLOG_FAULT_EXE=faultprobe with_fault 'write:1:EIO' ok "$P" open:f \
	    write:1
	output_is "open 0
write -1 EIO"
	faults_fired 1
}

@test "fault: children inherit the shim and count afresh" {
	with_fault 'write:1:EIO' bash -c "'$P' open:f write:1 >out1;
	    '$P' open:g write:1 >out2"
	is "$(cat out1 out2)" "open 0
write -1 EIO
open 0
write -1 EIO"
	faults_fired 2
}

@test "fault: a malformed rule stops the program before main" {
	local r
	for r in write:0:EIO write:1:EBOGUS bogus:1:EIO fsync:1:short \
	    write:1:skip ftruncate:1:skip rename:1:skip \
	    mkdir@dir:1:EIO write write:1 write:1:EIO:sometimes \
	    write:1:EIO:forever:x write@nope:1:EIO 'write~:1:EIO' write:x:EIO \
	    write:-1:EIO write:1:0 write:1:-5; do
		with_fault "$r" expect 125 "$P" open:f write:1
		is "$output" ""
		case $stderr in
		"fault.so: SYNCLOG_FAULT: "*) ;;
		*) printf 'rule %s: stderr %s\n' "$r" "$stderr" >&2; return 1 ;;
		esac
	done
	[ ! -e f ]
	faults_fired 0
}

@test "fault: with_fault keeps fails working and cleans up after itself" {
	printf 'some data\n' >in
	# dd writes through descriptor 1, reopened on its output file.
	with_fault 'write@std:1:ENOSPC' fails 1 dd if=in of=out status=none
	stderr_has 'No space left on device'
	faults_fired 1 '^write@std:1:ENOSPC .*/out$'
	# The stand-in function is gone: the next call runs without the shim.
	run type -t dd
	output_is file
	ok dd if=in of=out2 status=none
	cmp in out2
	faults_fired 1
}

@test "fault: faults_fired fails when the fault did not fire" {
	with_fault 'write:5:EIO' ok "$P" open:f write:1
	run faults_fired 1
	[ "$status" -ne 0 ]
	faults_fired 0
}

@test "fault: stall waits for the gate, then makes the call; stall-ERRNO then fails it" {
	export SYNCLOG_FAULT_GATE=$PWD/gate
	with_fault 'fdatasync:1:stall,fsync:1:stall-EIO' "$P" open:f write:3 \
	    fdatasync fsync >out &
	wait_until grep -q '^fdatasync:1:stall ' fault.log
	# Held at the gate: nothing reported yet past the write.
	is "$(cat out)" "open 0
write 3"
	touch gate
	wait $!
	is "$(cat out)" "open 0
write 3
fdatasync 0
fsync -1 EIO"
	faults_fired 1 '^fdatasync:1:stall '
	faults_fired 1 '^fsync:1:stall-EIO '
}
