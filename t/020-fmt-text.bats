#!/usr/bin/env bats
# Record formats, text: delimiters, key delimiters, escapes, partial input.
load helpers

F=$TTOOLS/fmtcopy

@test "text: lines in, lines out; a last line without newline still counts" {
	printf 'a\n\nb c\nlast' > in
	ok $F < in
	output_is "$(printf 'a\n\nb c\nlast')"
	ok $F -- -F '%o:%s|' < in
	output_is '0:a|1:|2:b c|3:last|'
}

@test "text: input ending with a delimiter has no extra empty record" {
	printf 'a\nb\n' > in
	ok $F -- -F '[%s]' < in
	output_is '[a][b]'
	printf '' > empty
	ok $F -- -F '[%s]' < empty
	output_is ''
	printf '\n' > nl
	ok $F -- -F '[%s]' < nl
	output_is '[]'
}

@test "text: -0 splits on NUL and writes NUL" {
	printf 'a\0b c\0\0d' > in
	ok $F -0 -- -F '[%s]' < in
	output_is '[a][b c][][d]'
	printf 'x\0y\0' > want
	sh_ok "printf 'x\ny\n' | $F -- -0 | cmp - want"
	sh_ok "printf 'x\ny\n' | $F -- --null | cmp - want"
}

@test "text: -D accepts escapes and multi-byte delimiters" {
	printf 'a\tb\tc' > in
	ok $F -D '\t' -- -F '[%s]' < in
	output_is '[a][b][c]'
	printf 'a\r\nb\r\n' > in
	ok $F -D '\r\n' -- -F '[%s]' < in
	output_is '[a][b]'
	printf 'aXYZbXYcXYZ' > in
	ok $F --delimiter XYZ -- -F '[%s]' < in
	output_is '[a][bXYc]'
	printf 'a\x01b\\c' > in
	ok $F -D '\x01' -- -F '[%s]' < in
	output_is '[a][b\c]'
	ok $F -D '\\' -- -F '[%s]' < in
	output_is "$(printf '[a\x01b][c]')"
	printf 'a\0\0b\0c' > in
	sh_ok "$F -D '\\0\\0' -- -F '[%s]' < in | tr '\\0' @"
	output_is '[a][b@c]'
}

@test "text: a delimiter split across reads is still found" {
	# 300000 bytes per record puts delimiters across the 256 KiB reads.
	python3 -c 'import sys
sys.stdout.write(("a" * 300000 + "<=>") * 5)' > in
	ok $F -D '<=>' -- -F '%S\n' < in
	output_is "$(printf '300000\n%.0s' 1 2 3 4 5)"
}

@test "text: -K splits at the first key delimiter; no delimiter means no key" {
	printf 'k1=v1\nnokey\n=v\nk=\nk=a=b\n' > in
	ok $F -K = -- -F '%K:%k|%S:%s\n' < in
	output_is "$(printf '2:k1|2:v1\n-1:|5:nokey\n0:|1:v\n1:k|0:\n1:k|3:a=b')"
	ok $F --key-delimiter '\t' -D ';' -- -F '%k/%s ' < <(printf 'a\tb;c\td\te;f')
	output_is "$(printf 'a/b c/d\te /f ')"
}

@test "text: output puts the key and key delimiter first; absent prints empty" {
	printf '{"key":"k","value":"v"}\n{"value":"w"}\n{"key":"","value":null}\n' > in
	ok $F -J -- -K ': ' < in
	output_is "$(printf 'k: v\n: w\n: ')"
	ok $F -J < in
	output_is "$(printf 'v\nw\n')"
	ok $F -J -- -K '\t' -D '\r\n' < in
	output_is "$(printf 'k\tv\r\n\tw\r\n\t\r')"
}

@test "text: the last of -D and -0 wins, and of -J -Y -B -F" {
	sh_ok "printf 'a,b\\0c' | $F -0 -D , -- -F '[%s]' | tr '\\0' @"
	output_is '[a][b@c]'
	ok $F -D , -0 -- -F '[%s]' < <(printf 'a,b\0c')
	output_is "$(printf '[a,b][c]')"
	ok $F -- -J -B -F '%s' -Y < <(printf 'a\n')
	output_is "$(printf -- '---\noffset: 0\ntimestamp: null\nkey: null\nvalue: "a"\nheaders: []\n...')"
}

@test "text: bad delimiters are refused" {
	for d in '' '\q' '\x4' '\xZZ' 'a\' "$(printf '%065d' 0)"; do
		fails 2 $F -D "$d" < /dev/null
		stderr_has 'invalid argument'
		fails 2 $F -- -K "$d" < /dev/null
	done
	ok $F -D "$(printf '%064d' 0)" < /dev/null
}

@test "text: all 256 byte values pass through values and keys" {
	python3 -c 'import sys
sys.stdout.buffer.write(bytes(b for b in range(256) if b not in (10, 61)))' > bytes
	{ cat bytes; printf '='; cat bytes; printf '\n'; } > in
	ok $F -K = -- -B < in
	sh_ok "$F -K = -- -B < in | $F -B -- -K = | cmp - in"
}

@test "text: with -n a record is returned before the input ends" {
	# Without -n's flush on SL_IN_AGAIN head would wait 2 s and time out.
	run bash -c "{ printf 'a\nb'; sleep 2; printf 'c\n'; } |
	    $F -n | timeout 1 head -n 1"
	is "$status" 0
	output_is a
	sh_ok "{ printf 'a\nb'; sleep 0.2; printf 'c\nd'; } | $F -n -- -F '[%s]'"
	output_is '[a][bc][d]'
}
