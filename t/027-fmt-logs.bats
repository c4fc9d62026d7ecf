#!/usr/bin/env bats
# Record formats through the programs: logcat's output read back by
# logappend copies a log exactly but for offsets, in -J, -Y and -B.
load helpers

F=$TTOOLS/fmtcopy

@test "logs: logcat -X a | logappend -X b copies every record, X = J Y B" {
	sh_ok "$F -g 300 -s 21 -- -B > orig"
	ok logappend -B a < orig
	sh_ok "logcat -B a > a.b"
	for f in J Y B; do
		sh_ok "logcat -$f a | logappend -$f b$f"
		sh_ok "logcat -B b$f | cmp - a.b"
	done
	# and a.b is orig but for the append time of records without one
	sh_ok "$F -B -- -F '%T\n' < orig | grep -c -- -9223372036854775808"
	absent=$output
	[ "$absent" -gt 0 ]
	sh_ok "$F -B -- -F '%k%s%h|%K %S\n' < orig > want"
	sh_ok "logcat -F '%k%s%h|%K %S\n' a | cmp - want"
}

@test "logs: text keys and delimiters through logappend and logcat" {
	printf 'k1\tv1\0nokey\0\tempty key\0' > in
	ok logappend -0 -K '\t' L < in
	# an absent key prints as empty, before the key delimiter
	printf 'k1\tv1\0\tnokey\0\tempty key\0' > want
	sh_ok "logcat -0 -K '\t' L | cmp - want"
	ok logcat -F '%K:%k:%s\n' L
	output_is '2:k1:v1
-1::nokey
0::empty key'
}

@test "logs: logcat -J and -Y output is what jq and PyYAML read" {
	require jq
	require python3
	python3 -c 'import yaml' 2>/dev/null || skip "PyYAML is not installed"
	sh_ok "$F -g 200 -s 4 -- -B | logappend -B L"
	sh_ok "logcat -J L | jq -c .offset | tail -n 1"
	output_is 199
	sh_ok "logcat -Y L | python3 -c 'import sys, yaml
print(sum(1 for d in yaml.safe_load_all(sys.stdin.buffer)))'"
	output_is 200
}
