#!/usr/bin/env bats
# logcat: command line, what it reads (logs, several logs, a lone segment),
# -k, -c, -g, and its errors.
load helpers

USAGE='usage: logcat [-0BeJYZf] [-c count] [-D delim] [-F template] [-g name] [-K delim]
              [-k key] [-o spec [-o spec]] log ...'

seg0=L/00000000000000000000.log

usage_fails() {
	expect 2 logcat "$@" || return 1
	case $stderr in
	*"$USAGE") ;;
	*) printf 'stderr lacks the usage: %s\n' "$stderr" >&2; return 1 ;;
	esac
	[ -z "$output" ]
}

# refused MESSAGE ARG...: logcat ARG... L exits 2 saying MESSAGE, printing
# nothing.
refused() {
	local msg=$1
	shift
	fails 2 logcat "$@" L || return 1
	stderr_is "logcat: $msg" || return 1
	output_is ""
}

@test "logcat --help prints the usage and the options on stdout and exits 0" {
	ok logcat --help
	[[ $output == "$USAGE"$'\n\n'* ]]
	is "${lines[4]}" "  -c, --count=count          print at most count records in all"
	ok logcat -h
	[[ $output == "$USAGE"$'\n\n'* ]]
}

@test "logcat --version prints the library version" {
	local v
	v=$(sed -n 's/^#define SL_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	    "$BATS_TEST_DIRNAME/../lib/synclog.h")
	[ -n "$v" ]
	ok logcat --version
	output_is "logcat synclog $v"
	ok logcat -V
	output_is "logcat synclog $v"
}

@test "logcat needs a log; unknown options and missing arguments are usage errors" {
	usage_fails
	usage_fails -c 1
	usage_fails -q L
	stderr_has "logcat: invalid option -- 'q'"
	usage_fails --no-such-option L
	usage_fails L -o
	stderr_has "requires an argument"
}

@test "logcat: bad option values are refused before anything is printed" {
	seq 1 3 | logappend L
	refused "-c: invalid count: -1" -c -1
	refused "-c: invalid count: x" -c x
	refused "-c: invalid count: 1x" -c 1x
	refused "-c: invalid count: 18446744073709551616" -c 18446744073709551616
	refused "-o: invalid offset specification: bad" -o bad
	refused "-o: invalid offset specification: s@yesterday" -o s@yesterday
	refused "-o: at most a start and an end" -o 1 -o 2 -o 3
	refused "-o: more than one end given" -o e@0 -o e@1
	refused "-o: more than one end given" -o e@0 -o 1
	refused '-k: invalid key: a\x' -k 'a\x'
	# The words every program uses for the same mistake (logappend -D,
	# logapply -D, logcheckpoint's operand name: cmd/common/args.c).
	refused '-D: invalid delimiter: \q' -D '\q'
	refused "-D: invalid delimiter:" -D ''
	refused "-F: invalid template: %Q" -F %Q
	refused "-F: invalid template: 50%" -F '50%'
	refused ".x: invalid consumer name (letters, digits, '.', '_' and '-', not starting with '.' or '-')" -g .x
	refused "a/b: invalid consumer name (letters, digits, '.', '_' and '-', not starting with '.' or '-')" -g a/b
	refused "-g: the consumer's checkpoint is the start, -o gives only an end" -g c -o 1
}

@test "logcat: every option has a long form" {
	printf 'k:a\nk:b\nj:c\n' | logappend -K : L
	ok logcat --key=k --count=1 --offset=0 --key-delimiter== L
	output_is "k=a"
	ok logcat --format='%o\n' --offset=-1 L
	output_is 2
	ok logcat --null --delimiter=';' L
	output_is "a;b;c;"
	ok logcat --json --count=1 L
	[[ $output == '{"offset":0,'* ]]
	ok logcat --yaml --count=1 L
	[[ $output == '---'* ]]
	sh_ok 'logcat --binary L | logappend -B M'
	ok timeout 10 logcat --follow --count=3 M
	output_is "a
b
c"
	logcheckpoint -s 2 L cons
	ok logcat --consumer=cons L
	output_is c
}

@test "logcat: an empty log prints nothing and exits 0" {
	logappend L </dev/null
	ok logcat L
	output_is ""
	ok logcat -J L
	output_is ""
}

@test "logcat: a missing log is an error (exit 2)" {
	fails 2 logcat nosuch
	stderr_is "logcat: nosuch: No such file or directory"
}

@test "logcat: a directory that is not a log is an error (exit 2)" {
	mkdir D
	fails 2 logcat D
	stderr_is "logcat: D: not a synclog log (no settings file)"
}

@test "logcat: a damaged settings file is a data problem (exit 1)" {
	mkdir L
	echo junk > L/settings
	fails 1 logcat L
	stderr_is "logcat: L: damaged settings file"
}

@test "logcat: a segment that cannot be read is an error (exit 2)" {
	# A directory where the segment should be: works when run as root.
	echo a | logappend L
	rm $seg0
	mkdir $seg0
	fails 2 logcat L
	stderr_has "Is a directory"
}

@test "logcat: a segment without read permission is an error (exit 2)" {
	perm_dir
	echo a | logappend L
	chmod 000 $seg0
	expect 2 unprivileged logcat L
	chmod 644 $seg0
	stderr_has "Permission denied"
	cd / && rm -rf "$PERM_DIR"
}

@test "logcat: several logs are printed one after the other" {
	seq 1 3 | logappend A
	seq 4 5 | logappend B
	ok logcat A B A
	output_is "$(seq 1 5; seq 1 3)"
	ok logcat -F '%o:%s ' B A
	output_is "0:4 1:5 0:1 1:2 2:3 "
}

@test "logcat: with several logs, a missing one is an error (exit 2)" {
	seq 1 3 | logappend A
	fails 2 logcat A nosuch
	stderr_is "logcat: nosuch: No such file or directory"
}

@test "logcat: with several logs, corruption in one stops after its good records (exit 1)" {
	seq 1 3 | logappend A
	for i in 1 2 3; do echo "b$i" | logappend B; done
	# Damage the middle one of B's three batches.
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(90); b = f.read(1); f.seek(90); f.write(bytes([b[0] ^ 1]))' \
	    B/00000000000000000000.log
	fails 1 logcat A B A
	output_is "$(seq 1 3; echo b1)"
	stderr_has "logcat: B: 00000000000000000000.log: byte "
}

@test "logcat -c prints at most COUNT records, across logs" {
	seq 1 5 | logappend A
	seq 6 9 | logappend B
	ok logcat -c 2 A
	output_is "1
2"
	ok logcat -c 7 A B
	output_is "$(seq 1 7)"
	ok logcat -c 100 A
	output_is "$(seq 1 5)"
	ok logcat -c 0 A
	output_is ""
}

@test "logcat -k prints only records with that key, byte for byte" {
	printf 'a:1\nb:2\na:3\n:4\n5\nab:6\nA:7\n' | logappend -K : L
	printf 'x\ty:8\n' | logappend -K : L
	ok logcat -k a L
	output_is "1
3"
	ok logcat -K '|' -k ab L
	output_is "ab|6"
	ok logcat -k '' L
	output_is 4
	ok logcat -k 'x\ty' L
	output_is 8
	ok logcat -k '\x41' L
	output_is 7
}

@test "logcat -k exits 1 without a message when nothing matched" {
	printf 'a:1\n2\n' | logappend -K : L
	expect 1 logcat -k zz L
	output_is ""
	is "$stderr" ""
	# An absent key matches nothing, not even the empty key.
	expect 1 logcat -k '' L
	logappend L </dev/null
	printf '' | logappend E
	expect 1 logcat -k a E
}

@test "logcat -k with -c counts matching records" {
	printf 'a:1\nb:2\na:3\nb:4\na:5\n' | logappend -K : L
	ok logcat -k a -c 2 L
	output_is "1
3"
	ok logcat -k b -c 5 L
	output_is "2
4"
}

@test "logcat -k with several logs: exit 0 when any log matched" {
	printf 'a:1\n' | logappend -K : A
	printf 'b:2\n' | logappend -K : B
	ok logcat -k b A B
	output_is 2
	expect 1 logcat -k c A B
}

@test "logcat reads a lone segment file, with offsets from its name" {
	seq 1 1000 | logappend -s 4K L
	segs=(L/*.log)
	[ "${#segs[@]}" -ge 3 ]
	second=${segs[1]}
	base=$((10#$(basename "$second" .log)))
	ok logcat -F '%o %s\n' -c 1 "$second"
	output_is "$base $((base + 1))"
	# Only that segment: it ends where the next one begins.
	third=$((10#$(basename "${segs[2]}" .log)))
	ok logcat -F '%o\n' "$second"
	is "${lines[-1]}" $((third - 1))
	ok logcat -o $((base + 5)) -c 2 "$second"
	output_is "$((base + 6))
$((base + 7))"
	# Copied away under another name it still reads, offsets intact.
	cp "$second" lone.seg
	ok logcat -F '%o\n' -c 1 lone.seg
	output_is $base
}

@test "logcat: an error writing the output is reported (exit 2)" {
	[ -w /dev/full ] || skip "no /dev/full"
	seq 1 3 | logappend L
	expect 2 bash -c 'logcat L >/dev/full'
	stderr_is "logcat: stdout: No space left on device"
}

@test "logcat -g starts at the consumer's checkpoint and never moves it" {
	seq 1 5 | logappend L
	logcheckpoint -s 2 L c
	cp L/consumers/c.ckpt ckpt.before
	ok logcat -g c L
	output_is "3
4
5"
	ok logcat -g c -o e@0 L
	output_is ""
	cmp ckpt.before L/consumers/c.ckpt
	fails 1 logcat -g nosuch L
	stderr_is "logcat: L: nosuch: no such consumer"
}
