#!/usr/bin/env bats
# Record formats: records over the maximum record size are refused, early,
# without buffering the rest of the input.
load helpers

F=$TTOOLS/fmtcopy

big() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

@test "limits: an oversized text record names its line" {
	{ printf 'short\n'; big 200; printf '\nnext\n'; } > in
	fails 1 $F -m 100 < in
	stderr_is 'fmtcopy: stdin: line 2: record exceeds the maximum record size of 100 bytes'
	output_is short
	# a last record without delimiter is checked as well
	{ printf 'short\n'; big 200; } > in
	fails 1 $F -m 100 < in
	stderr_is 'fmtcopy: stdin: line 2: record exceeds the maximum record size of 100 bytes'
	# the key counts too
	{ big 60; printf '='; big 60; printf '\n'; } > in
	fails 1 $F -m 100 -K = < in
	ok $F -m 200 -K = < in
}

@test "limits: an oversized record in each format names it" {
	{ printf '{"value":"a"}\n{"value":"'; big 200; printf '"}\n'; } > in
	fails 1 $F -m 100 -J < in
	stderr_is 'fmtcopy: stdin: line 2: record exceeds the maximum record size of 100 bytes'
	sh_ok "$F -J -- -Y < in > y.in"
	fails 1 $F -m 100 -Y < y.in
	stderr_is 'fmtcopy: stdin: record 2 exceeds the maximum record size of 100 bytes'
	sh_ok "$F -J -- -B < in > b.in"
	fails 1 $F -m 100 -B < b.in
	stderr_is 'fmtcopy: stdin: record 2 exceeds the maximum record size of 100 bytes'
	for f in J Y B; do
		ok $F -m 1000 -$f < $(case $f in J) echo in;; Y) echo y.in;; B) echo b.in;; esac)
	done
}

@test "limits: headers count towards the size" {
	printf '{"value":"v","headers":[{"name":"%s","value":"x"}]}\n' "$(big 100)" > in
	fails 1 $F -m 100 -J < in
	stderr_has 'line 1: record exceeds the maximum record size of 100 bytes'
	ok $F -m 1000 -J < in
}

@test "limits: a huge record is refused before the input is read to its end" {
	# 200 MB never fit in the buffer: fmtcopy stops early, the writer
	# gets SIGPIPE, and it is fast.
	for f in '' -J -Y; do
		run --separate-stderr bash -c "{ printf '{\"value\":\"'; head -c 200000000 /dev/zero; } |
		    timeout 20 $F -m 1000 $f"
		is "$status" 1
		stderr_has 'exceeds the maximum record size of 1000 bytes'
	done
	printf '\377\377\377\077' > in
	fails 1 $F -m 1000 -B < in
	stderr_is 'fmtcopy: stdin: record 1 exceeds the maximum record size of 1000 bytes'
}
