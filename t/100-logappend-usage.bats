#!/usr/bin/env bats
# logappend: command line, usage, and the errors it reports before it
# writes anything (bad options, paths that are not logs).
load helpers

USAGE='usage: logappend [-0BJNYpz] [-D delim] [-H name=value] [-K delim] [-k key]
                 [-m bytes] [-s bytes] [-x offset] log'

# usage_fails ARG...: logappend ARG... exits 2 with the usage on stderr.
usage_fails() {
	expect 2 logappend "$@" </dev/null || return 1
	case $stderr in
	*"$USAGE") ;;
	*) printf 'stderr lacks the usage: %s\n' "$stderr" >&2; return 1 ;;
	esac
	[ ! -e L ] || { echo "a log was created" >&2; return 1; }
}

# refused MESSAGE ARG...: logappend ARG... L exits 2 saying MESSAGE,
# and creates no log.
refused() {
	local msg=$1
	shift
	fails 2 logappend "$@" L </dev/null || return 1
	stderr_is "logappend: $msg" || return 1
	[ ! -e L ] || { echo "a log was created" >&2; return 1; }
}

@test "logappend --help prints the usage and the options on stdout and exits 0" {
	ok logappend --help
	[[ $output == "$USAGE"$'\n\n'* ]]
	is "${lines[2]}" "  -0, --null                    text records end with a NUL byte"
	is "${lines[-1]}" "  -V, --version                 print the version and exit"
	ok logappend -h
	[[ $output == "$USAGE"$'\n\n'* ]]
	[ ! -e L ]
}

@test "logappend --version prints the library version" {
	local v
	v=$(sed -n 's/^#define SL_VERSION[[:space:]]*"\(.*\)"$/\1/p' \
	    "$BATS_TEST_DIRNAME/../lib/synclog.h")
	[ -n "$v" ]
	ok logappend --version
	output_is "logappend synclog $v"
	ok logappend -V
	output_is "logappend synclog $v"
}

@test "logappend needs exactly one log" {
	usage_fails
	usage_fails L M
	usage_fails -p
}

@test "logappend: an unknown option or a missing argument is a usage error" {
	usage_fails -q L
	stderr_has "logappend: invalid option -- 'q'"
	usage_fails --no-such-option L
	stderr_has "unrecognized option"
	usage_fails L -k
	stderr_has "requires an argument"
	usage_fails --expect
}

@test "logappend: bad option values are refused before the log is touched" {
	refused "-m: invalid size: x" -m x
	refused "-m: invalid size: -5" -m -5
	refused "-m: invalid size: 10T" -m 10T
	# Out of range: the same words as a value that is no number, and
	# the range (cmd/common/args.c, for every program).
	refused "-m: invalid size: 0 (from 1 to 1G)" -m 0
	refused "-m: invalid size: 2G (from 1 to 1G)" -m 2G
	refused "-s: invalid size: 1023 (from 1K to 2G)" -s 1023
	refused "-s: invalid size: 3G (from 1K to 2G)" -s 3G
	refused "-s: invalid size: 1KK" -s 1KK
	# Digits only, as every program's numbers (sl_parse_u64).
	refused "-s: invalid size: +4K" -s +4K
	refused "-s: invalid size:  4K" -s ' 4K'
	refused "-s: invalid size: 16777216T" -s 16777216T
	refused "-s: invalid size: 18014398509481984K" -s 18014398509481984K
	refused "-x: invalid offset: -1" -x -1
	refused "-x: invalid offset: 1x" -x 1x
	refused "-x: invalid offset:" -x ''
	refused "-x: invalid offset: 18446744073709551615 (from 0 to 18446744073709551614)" -x 18446744073709551615
	refused "-x: invalid offset: 18446744073709551616" -x 18446744073709551616
	refused "-H: expected NAME=VALUE: novalue" -H novalue
	refused "-D: invalid delimiter:" -D ''
	refused '-D: invalid delimiter: \xZZ' -D '\xZZ'
	refused '-K: invalid delimiter: \' -K '\'
	# -F is no option of logappend: getopt says so, and why.
	usage_fails -F '%s\n' L
	stderr_has "logappend: invalid option -- 'F'
logappend: -F: templates are for output only (logcat -F)
usage: "
	refused "-k and -K cannot be used together" -k key -K :
}

@test "logappend: sizes take K, M and G suffixes" {
	sh_ok 'echo a | logappend -s 4k -m 1M L'
	grep -qx 'segment-bytes 4096' L/settings
	grep -qx 'max-record-bytes 1048576' L/settings
	sh_ok 'echo a | logappend --segment-bytes=2G --max-record-bytes=1G M'
	grep -qx 'segment-bytes 2147483648' M/settings
	grep -qx 'max-record-bytes 1073741824' M/settings
}

@test "logappend: -s and -m apply when the log is created, later they are ignored" {
	sh_ok 'echo a | logappend L'
	sh_ok 'echo b | logappend -s 1K -m 10 L'
	grep -qx 'segment-bytes 67108864' L/settings
	grep -qx 'max-record-bytes 16777216' L/settings
	ok logcat L
	output_is "a
b"
}

@test "logappend: every option has a long form" {
	# One run per long option; each must be accepted and do its job.
	sh_ok 'printf "a\0" | logappend --null --print-offsets L'
	output_is 0
	sh_ok 'echo b | logappend --no-sync --compress --expect=1 L'
	sh_ok 'echo c | logappend --key=K --header=h=v L'
	sh_ok 'printf "k|d;" | logappend --delimiter=";" --key-delimiter="|" L'
	sh_ok 'echo "{\"value\":\"e\"}" | logappend --json L'
	sh_ok 'printf -- "---\nvalue: f\n" | logappend --yaml L'
	sh_ok 'logcat -B -o 5 L | logappend --binary L'
	ok logcat -F '%o %k %s %h\n' L
	output_is "0  a 
1  b 
2 K c h=v
3 k d 
4  e 
5  f 
6  f "
}

@test "logappend creates the log and a missing parent is an error" {
	sh_ok 'echo a | logappend L'
	[ -d L ] && [ -f L/settings ]
	fails 2 logappend no/such/dir/L <<<a
	stderr_is "logappend: no/such/dir/L: No such file or directory"
	[ ! -e no ]
}

@test "logappend: a regular file where the log should be is refused" {
	echo data > F
	fails 2 logappend F <<<a
	stderr_is "logappend: F: Not a directory"
	is "$(cat F)" data
}

@test "logappend: a damaged settings file is a data problem (exit 1)" {
	mkdir L
	echo junk > L/settings
	fails 1 logappend L <<<a
	stderr_is "logappend: L/settings: damaged settings file"
	is "$(ls L | tr '\n' ' ')" "lock settings "
}

@test "logappend: a settings file that cannot be read is an error (exit 2)" {
	# A directory stands in for an unreadable file: this works as root too.
	mkdir -p L/settings
	fails 2 logappend L <<<a
	stderr_is "logappend: L/settings: Is a directory"
}

@test "logappend: a segment that cannot be opened is an error (exit 2)" {
	sh_ok 'echo a | logappend L'
	rm L/00000000000000000000.log
	mkdir L/00000000000000000000.log
	fails 2 logappend L <<<b
	stderr_is "logappend: L: 00000000000000000000.log: Is a directory"
}

@test "logappend: a log directory without write permission is refused" {
	perm_dir
	sh_ok 'echo a | logappend L'
	chmod 555 L
	chmod 444 L/00000000000000000000.log
	expect 2 unprivileged logappend L <<<b
	chmod 755 L
	chmod 644 L/00000000000000000000.log
	stderr_has "logappend: L/lock: Permission denied"
	ok logcat L
	output_is a
	cd / && rm -rf "$PERM_DIR"
}

@test "logappend: empty input creates an empty log and prints nothing" {
	ok logappend -p L </dev/null
	output_is ""
	[ -f L/settings ]
	ok logcat L
	output_is ""
}

@test "logappend: an error writing the offsets is reported (exit 2)" {
	[ -w /dev/full ] || skip "no /dev/full"
	expect 2 bash -c 'seq 1 3 | logappend -p L >/dev/full'
	stderr_is "logappend: stdout: No space left on device"
	# The batch was durable before its offsets were printed.
	ok logcat L
	output_is "$(seq 1 3)"
}
