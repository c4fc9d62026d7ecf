#!/usr/bin/env bats
# The checkpoint file (synclog(5), CHECKPOINTS): its layout, and damaged,
# foreign and beyond-the-end checkpoints, which are errors, never a silent
# restart.
load helpers

mklog() {
	sh_ok "seq 1 $1 | logappend -N L"
}

logid() { sed -n 's/^id //p' L/settings; }

# ckpt FILE OFFSET ID [VERSION [MAGIC]]: write a checkpoint file by hand,
# as synclog(5) describes it.
ckpt() {
	python3 - "$@" <<'EOF'
import struct, sys, zlib
f, off, lid = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
ver = int(sys.argv[4]) if len(sys.argv) > 4 else 1
magic = sys.argv[5].encode() if len(sys.argv) > 5 else b"SLCK"
b = magic + struct.pack("<HHQq", ver, 0, off, 1795000000000) + lid.ljust(32, b"\0") + b"\0" * 4
open(f, "wb").write(b + struct.pack("<I", zlib.crc32(b)))
EOF
}

# flip BYTE FILE: invert one bit of a byte.
flip() {
	python3 -c 'import sys
p, f = int(sys.argv[1]), sys.argv[2]
with open(f, "r+b") as h:
    h.seek(p); b = h.read(1); h.seek(p); h.write(bytes([b[0] ^ 0x04]))' "$1" "$2"
}

@test "a checkpoint is 64 bytes: magic, version, offset, time, log id, CRC-32" {
	require python3
	mklog 10
	t0=$(date +%s%3N)
	ok logcheckpoint -s 7 L c
	t1=$(date +%s%3N)
	f=L/consumers/c.ckpt
	is "$(stat -c %s $f)" 64
	sh_ok "python3 -c '
import struct, sys, zlib
b = open(\"$f\", \"rb\").read()
magic, ver, flags, off, ms = struct.unpack(\"<4sHHQq\", b[:24])
lid, res, crc = b[24:56], b[56:60], struct.unpack(\"<I\", b[60:])[0]
assert crc == zlib.crc32(b[:60]), \"crc\"
print(magic.decode(), ver, flags, off, lid.decode(), res.hex(), ms)'"
	set -- $output
	is "$1 $2 $3 $4 $5 $6" "SLCK 1 0 7 $(logid) 00000000"
	[ "$7" -ge "$t0" ] && [ "$7" -le "$t1" ]
	# A file written by hand to the same layout is read back.
	ckpt $f 3 "$(logid)"
	ok logcheckpoint L c
	output_is 3
}

@test "a damaged checkpoint is an error everywhere, and -s or -d repairs it" {
	require python3
	mklog 10
	f=L/consumers/c.ckpt
	for damage in short long magic crc version zero; do
		ok logcheckpoint -s 5 L c
		case $damage in
		short) truncate -s 63 $f; why="file too short" ;;
		long) printf x >> $f; why="file too long" ;;
		magic) ckpt $f 5 "$(logid)" 1 SLCX; why="bad magic" ;;
		crc) flip 9 $f; why="checksum mismatch" ;;
		version) ckpt $f 5 "$(logid)" 2; why="unsupported version" ;;
		zero) truncate -s 0 $f; truncate -s 64 $f; why="bad magic" ;;
		esac
		fails 1 logcheckpoint L c
		stderr_is "logcheckpoint: L: c: damaged checkpoint ($why); set it again with logcheckpoint -s"
		fails 1 logcheckpoint -S 1 L c
		fails 1 logcheckpoint -i 5 -s 6 L c
		fails 1 logcheckpoint -w -T 0 L c
		fails 1 logapply L c -- cat
		# The same words as logcheckpoint's: one message per mistake.
		stderr_is "logapply: L: c: damaged checkpoint ($why); set it again with logcheckpoint -s"
		output_is ""
		fails 1 logcat -g c L
		output_is ""
	done
	ok logcheckpoint -n -s 3 L c
	output_is "c damaged 3"
	ok logcheckpoint -s 3 L c
	ok logcheckpoint L c
	output_is 3
	truncate -s 10 $f
	ok logcheckpoint -d L c
	fails 1 logcheckpoint L c
	stderr_has "no such consumer"
}

@test "listing skips a damaged checkpoint with a warning and exit 1" {
	mklog 10
	ok logcheckpoint -s 1 L a
	ok logcheckpoint -s 2 L b
	ok logcheckpoint -s 3 L c
	truncate -s 0 L/consumers/b.ckpt
	fails 1 logcheckpoint L
	stderr_is "logcheckpoint: L: b: damaged checkpoint (file too short); set it again with logcheckpoint -s"
	[ "${#lines[@]}" -eq 2 ]
	case ${lines[0]} in "a 1 9 "*) ;; *) false ;; esac
	case ${lines[1]} in "c 3 7 "*) ;; *) false ;; esac
}

@test "a checkpoint of another log (deleted and recreated) is refused" {
	mklog 10
	ok logcheckpoint -s 4 L c
	old=$(logid)
	mv L/consumers/c.ckpt keep
	rm -rf L
	mklog 10
	mkdir -p L/consumers
	mv keep L/consumers/c.ckpt
	msg="checkpoint belongs to another log (id $old, this log is $(logid)); set it again with logcheckpoint -s"
	fails 1 logcheckpoint L c
	stderr_is "logcheckpoint: L: c: $msg"
	fails 1 logcheckpoint L
	fails 1 logcheckpoint -S 1 L c
	fails 1 logapply L c -- cat
	stderr_is "logapply: L: c: $msg"
	output_is ""
	fails 1 logcat -g c L
	ok logcheckpoint -n -s 0 L c
	output_is "c foreign 0"
	ok logcheckpoint -s 0 L c
	ok logapply L c -- cat
	is "${#lines[@]}" 10
}

@test "a checkpoint beyond the end of the log is an error, never a restart" {
	require python3
	mklog 10
	ckpt L/consumers/c.ckpt 12 "$(logid)"
	fails 1 logcheckpoint L c
	output_is 12	# shown all the same: a script needs it to recover
	# Every program says the same of it (cmd/common/args.c).
	msg="checkpoint 12 is beyond the end of the log (10): the log lost records or was replaced; check it with logfsck, then set it again with logcheckpoint -s"
	stderr_is "logcheckpoint: L: c: $msg"
	fails 1 logcheckpoint L
	fails 1 logapply L c -- cat
	stderr_is "logapply: L: c: $msg"
	output_is ""
	fails 1 logcat -g c L
	ok logcheckpoint -s end L c
	ok logapply L c -- cat
	output_is ""
}

@test "a log that lost its tail leaves its consumer's checkpoint beyond the end" {
	sh_ok 'seq 1 5 | logappend -N L'
	size=$(stat -c %s L/00000000000000000000.log)
	sh_ok 'seq 6 10 | logappend -N L'
	ok logapply L c -- cat
	is "${#lines[@]}" 10
	truncate -s "$size" L/00000000000000000000.log
	fails 1 logapply L c -- cat
	stderr_has "checkpoint 10 is beyond the end of the log (5)"
	ok logcheckpoint -s end L c
	sh_ok 'echo again | logappend -N L'
	ok logapply L c -- cat
	output_is again
}
