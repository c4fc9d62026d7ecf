#!/usr/bin/env bats
# logcat for hands used to kcat: -e is accepted, and a kcat letter used
# the kcat way gets a one-line hint rather than a puzzle.
load helpers

USAGE_START='usage: logcat [-0BeJYZf]'

@test "logcat -e (kcat's exit at the end) is what logcat does anyway" {
	seq 1 3 | logappend dpkg
	ok logcat -e dpkg
	output_is "$(seq 1 3)"
	ok logcat --exit -c 2 dpkg
	output_is "$(seq 1 2)"
	ok logcat -e -F '%o %s\n' dpkg
	output_is "0 1
1 2
2 3"
}

@test "logcat -f FORMAT, kcat's way, says -f is --follow and points to -F" {
	seq 1 3 | logappend dpkg
	fails 2 logcat -f '%k %s\n' dpkg
	stderr_is 'logcat: %k %s\n: no such log (-f is --follow; did you mean -F?)'
	output_is ""
	# With -e (kcat -e -f FMT) the mix cannot be meant.
	fails 2 logcat -e -f '%s' dpkg
	stderr_is "logcat: -e and -f exclude each other (-f is --follow; did you mean -F?)"
	# A missing log without a %, or without -f, is only missing.
	fails 2 logcat -f nosuch
	stderr_is "logcat: nosuch: No such file or directory"
	fails 2 logcat '%s'
	stderr_is "logcat: %s: No such file or directory"
}

@test "logcat: kcat's letters it does not have are usage errors with a hint" {
	seq 1 3 | logappend dpkg
	check() {
		local ch=$1 hint=$2
		shift 2
		expect 2 logcat "$@" || return 1
		[[ $stderr == *"logcat: invalid option -- '$ch'
logcat: -$ch: $hint
$USAGE_START"* ]] || { echo "stderr: $stderr" >&2; return 1; }
	}
	check C "not needed: logcat always reads (kcat -C)" -C dpkg
	check P "logappend appends (kcat -P)" -P dpkg
	check t "a log is an operand, not an option (kcat -t TOPIC)" -t dpkg
	check b "a log is a directory: no brokers (kcat -b)" -b localhost dpkg
	check p "a log has no partitions (kcat -p)" -p 0 dpkg
	check G "a consumer's checkpoint is -g NAME (kcat -G GROUP)" -G grp dpkg
	check q "logcat says nothing but errors already (kcat -q)" -q dpkg
	check u "output is flushed whenever logcat catches up (kcat -u)" -u dpkg
	# A letter nobody has: getopt's word and the usage, no hint.
	expect 2 logcat -j dpkg
	[[ $stderr == "logcat: invalid option -- 'j'
$USAGE_START"* ]]
	fails 2 logcat -o stored dpkg
	stderr_is "logcat: -o: invalid offset specification: stored (a consumer's checkpoint is -g NAME)"
}
