#!/usr/bin/env bats
# logappend: the input formats, byte for byte: every byte value, absent
# versus empty keys and values, headers, timestamps, bad input.
# t/records.py makes -B streams and decodes them independently of lib/.
load helpers

records() { python3 "$BATS_TEST_DIRNAME/records.py" "$@"; }

# fields LOG: offset, key size, value size, key, value per record
# (a size of -1 means absent).
fields() { logcat -F '%o %K %S [%k] [%s] {%h}\n' "$1"; }

@test "logappend -B: the corpus of every byte value goes in and out byte for byte" {
	records corpus > in.b
	ok logappend -B L < in.b
	sh_ok 'logcat -B L | cmp - in.b'
}

@test "logappend -X | logcat -X reproduces every field for -J, -Y and -B" {
	records corpus > in.b
	ok logappend -B A < in.b
	for X in J Y B; do
		sh_ok "logcat -$X A > out.$X"
		ok logappend -$X B$X < out.$X
		sh_ok "logcat -B B$X | cmp - in.b"
		# And the second generation prints the same text.
		sh_ok "logcat -$X B$X | cmp - out.$X"
	done
}

@test "logappend -J, -Y, -B: random binary records round-trip exactly" {
	records random 42 400 > in.b
	ok logappend -B A < in.b
	sh_ok 'logcat -B A | cmp - in.b'
	for X in J Y B; do
		sh_ok "logcat -$X A | logappend -$X B$X"
		sh_ok "logcat -B B$X | cmp - in.b"
	done
}

@test "logappend text: every byte value but the delimiter is a value" {
	python3 -c 'import sys
sys.stdout.buffer.write(b"".join(bytes([c]) + b"\n" for c in range(256) if c != 10))' > nl.in
	ok logappend L < nl.in
	sh_ok 'logcat L | cmp - nl.in'
	is "$(logcat -F '%S' L | tr -d 1)" ""
	# The newline itself, with NUL as the delimiter.
	python3 -c 'import sys
sys.stdout.buffer.write(b"".join(bytes([c]) + b"\0" for c in range(1, 256)))' > nul.in
	ok logappend -0 Z < nul.in
	sh_ok 'logcat -0 Z | cmp - nul.in'
	ok logcat -F '%o\n' -o 9 -c 1 Z
	output_is 9
	sh_ok "logcat -F '%s' -o 9 -c 1 Z | od -An -c | tr -d ' '"
	output_is '\n'
}

@test "logappend text: all 256 bytes in one key and one value, with multi-byte delimiters" {
	python3 -c 'import sys
a = bytes(range(256))
sys.stdout.buffer.write((a + b"YY" + a + b"ZZ") * 3)' > in
	ok logappend -D ZZ -K YY L < in
	sh_ok 'logcat -D ZZ -K YY L | cmp - in'
	ok logcat -F '%K %S\n' L
	output_is "256 256
256 256
256 256"
	sh_ok 'logcat -D ZZ -K YY L | logappend -D ZZ -K YY M'
	sh_ok 'logcat -D ZZ -K YY M | cmp - in'
	# Escapes name the same delimiters.
	sh_ok 'logcat -D "\x5a\x5A" -K "\x59Y" M | cmp - in'
}

@test "logappend text: empty lines are empty values and the last line needs no delimiter" {
	printf 'a\n\n\nb' | logappend L
	ok fields L
	output_is "0 -1 1 [] [a] {}
1 -1 0 [] [] {}
2 -1 0 [] [] {}
3 -1 1 [] [b] {}"
}

@test "logappend -K: the first delimiter splits; without one the key is absent, before it it is empty" {
	printf 'k:v\n:v\nv\nk:\nk:v:w\n:\n' | logappend -K : L
	ok fields L
	output_is "0 1 1 [k] [v] {}
1 0 1 [] [v] {}
2 -1 1 [] [v] {}
3 1 0 [k] [] {}
4 1 3 [k] [v:w] {}
5 0 0 [] [] {}"
}

@test "logappend -J: absent, null and empty keys and values stay distinct" {
	cat > in <<'EOF'
{"value":"v"}
{"key":null,"value":"v"}
{"key":"","value":"v"}
{"key":"k","value":null}
{"key":"k","value":""}
{"key":"","value":""}
{"key":null,"value":null}
{"key_base64":"","value_base64":""}
{"key_base64":"AA==","value_base64":"/w=="}
EOF
	ok logappend -J L < in
	ok fields L
	output_is "0 -1 1 [] [v] {}
1 -1 1 [] [v] {}
2 0 1 [] [v] {}
3 1 -1 [k] [] {}
4 1 0 [k] [] {}
5 0 0 [] [] {}
6 -1 -1 [] [] {}
7 0 0 [] [] {}
8 1 1 [$(printf '\0')] [$(printf '\377')] {}"
	ok logcat -J -o 3 -c 4 L
	output_is "$(printf '%s\n' \
	    '{"offset":3,"timestamp":TS,"key":"k","value":null,"headers":[]}' \
	    '{"offset":4,"timestamp":TS,"key":"k","value":"","headers":[]}' \
	    '{"offset":5,"timestamp":TS,"key":"","value":"","headers":[]}' \
	    '{"offset":6,"timestamp":TS,"key":null,"value":null,"headers":[]}' |
	    sed "s/TS/$(logcat -F %T -c 1 L)/")"
}

@test "logappend -Y: absent, null and empty keys and values stay distinct" {
	cat > in <<'EOF'
value: v
---
key: null
value: v
---
key: ""
value: v
---
key: k
value: ~
---
key: k
value: ""
---
key: !!binary ""
value: !!binary "/w=="
EOF
	ok logappend -Y L < in
	ok fields L
	output_is "0 -1 1 [] [v] {}
1 -1 1 [] [v] {}
2 0 1 [] [v] {}
3 1 -1 [k] [] {}
4 1 0 [k] [] {}
5 0 1 [] [$(printf '\377')] {}"
}

@test "logappend: headers from the input come first, then -H in order" {
	echo '{"value":"v","headers":[{"name":"in","value":"1"},{"name":"in","value":"2"}]}' > in
	ok logappend -J -H a=1 -H 'b=x=y' -H 'e=' -H '=n' L < in
	ok logcat -F '%h\n' L
	output_is "in=1,in=2,a=1,b=x=y,e=,=n"
	ok logcat -J L
	[[ $output == *'"headers":[{"name":"in","value":"1"},{"name":"in","value":"2"},{"name":"a","value":"1"},{"name":"b","value":"x=y"},{"name":"e","value":""},{"name":"","value":"n"}]}' ]]
	# -H applies to text input too, to every record.
	printf 'a\nb\n' | logappend -H h=v T
	ok logcat -F '%s:%h\n' T
	output_is "a:h=v
b:h=v"
}

@test "logappend: header names and values keep every byte" {
	records corpus > in.b
	ok logappend -B L < in.b
	# Record 1 holds all 256 bytes in one header's name and value.
	ok logcat -F '%h' -o 0 -c 1 L
	python3 -c 'import sys
a = bytes(range(256))
sys.stdout.buffer.write(a + b"=" + a)' > want
	sh_ok "logcat -F '%h' -o 0 -c 1 L | cmp - want"
}

@test "logappend -k sets the key of every record, replacing the input's" {
	printf 'a\nb\n' | logappend -k 'the key' L
	echo '{"key":"in","value":"c"}' | logappend -J -k K L
	ok logcat -K = L
	output_is "the key=a
the key=b
K=c"
	# An empty -k is an empty key, not an absent one.
	echo d | logappend -k '' L
	ok logcat -F '%K' -o 3 L
	output_is 0
}

@test "logappend: a timestamp given by the input is kept exactly" {
	cat > in <<'EOF'
{"timestamp":0,"value":"a"}
{"timestamp":-1,"value":"b"}
{"timestamp":9223372036854775807,"value":"c"}
{"timestamp":1795168800123,"value":"d","offset":99}
EOF
	ok logappend -J L < in
	ok logcat -F '%o %T %I %s\n' L
	output_is "0 0 1970-01-01T00:00:00.000Z a
1 -1 1969-12-31T23:59:59.999Z b
2 9223372036854775807 +292278994-08-17T07:12:55.807Z c
3 1795168800123 2026-11-20T10:00:00.123Z d"
	printf -- '---\ntimestamp: 1795168800123\nvalue: y\n' | logappend -Y L
	ok logcat -F '%T\n' -o 4 L
	output_is 1795168800123
}

@test "logappend: without a timestamp in the input a record gets the append time" {
	local before after ts
	before=$(date +%s%3N)
	printf 'a\nb\n' | logappend L
	echo '{"value":"c","timestamp":null}' | logappend -J L
	echo '{"value":"d"}' | logappend -J L
	printf -- 'value: e\n' | logappend -Y L
	printf -- 'value: f\ntimestamp: null\n' | logappend -Y L
	after=$(date +%s%3N)
	for ts in $(logcat -F '%T\n' L); do
		[ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ] || {
			echo "timestamp $ts not in [$before, $after]" >&2
			return 1
		}
	done
	is "$(logcat -F '%T\n' L | wc -l)" 6
}

@test "logappend: -B with timestamp INT64_MIN means the append time" {
	local before after
	python3 -c 'import struct, sys
body = struct.pack("<Qq", 0, -2**63) + struct.pack("<I", 0xffffffff) + struct.pack("<I", 1) + b"v" + struct.pack("<I", 0)
sys.stdout.buffer.write(struct.pack("<I", len(body)) + body)' > in.b
	before=$(date +%s%3N)
	ok logappend -B L < in.b
	after=$(date +%s%3N)
	ts=$(logcat -F %T L)
	[ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ]
}

@test "logappend: bad JSON stops at its line after committing the records before it" {
	printf '{"value":"a"}\n{"value":"b"}\nnot json\n{"value":"c"}\n' > in
	fails 1 logappend -p -J L < in
	output_is "0
1"
	stderr_is "logappend: stdin: line 3: expected '{' at column 1"
	ok logcat L
	output_is "a
b"
}

@test "logappend: a JSON record without a value is refused" {
	echo '{"key":"a"}' > in
	fails 1 logappend -J L < in
	stderr_is "logappend: stdin: line 1: missing value"
	ok logcat L
	output_is ""
}

@test "logappend: bad YAML stops at its document after committing the ones before" {
	printf -- '---\nvalue: a\n---\n[x\n' > in
	fails 1 logappend -p -Y L < in
	output_is 0
	stderr_has "logappend: stdin: line 4"
	ok logcat L
	output_is a
}

@test "logappend: a truncated frame at the end of -B input is refused, the rest kept" {
	records random 1 3 > in.b
	head -c -1 in.b > cut.b
	fails 1 logappend -p -B L < cut.b
	output_is "0
1"
	stderr_is "logappend: stdin: frame 3: truncated"
	ok logcat -F '%o\n' L
	output_is "0
1"
}

@test "logappend: a frame whose length disagrees with its contents is refused" {
	printf '\005\000\000\000abcde' > short.b
	fails 1 logappend -B L < short.b
	stderr_is "logappend: stdin: frame 1: length 5 is too short"
	ok logcat L
	output_is ""
}

@test "logappend: a record at the maximum size is taken, one byte more is refused" {
	# 28 bytes of fixed overhead per record, plus key, value and headers.
	head -c 72 /dev/zero | tr '\0' a > max
	head -c 73 /dev/zero | tr '\0' a > over
	ok logappend -m 100 L < max
	cp -a L before
	fails 1 logappend L < over
	stderr_is "logappend: stdin: line 1: record exceeds the maximum record size of 100 bytes"
	diff -r before L
	# Headers count: -H pushes the same record over the limit.
	fails 1 logappend -H h=v L < max
	stderr_is "logappend: stdin: record 1: 110 bytes exceeds the maximum record size of 100 bytes"
	diff -r before L
}

@test "logappend: an oversized record is refused whole, in every format" {
	local big
	big=$(head -c 200 /dev/zero | tr '\0' x)
	sh_ok 'echo first | logappend -m 100 L'
	cp -a L before
	fails 1 logappend L <<<"$big"
	diff -r before L
	fails 1 logappend -J L <<<"{\"value\":\"$big\"}"
	stderr_has "exceeds the maximum record size of 100 bytes"
	diff -r before L
	fails 1 logappend -Y L <<<"value: $big"
	stderr_has "exceeds the maximum record size of 100 bytes"
	diff -r before L
	ok logcat -B L
	python3 -c 'import struct, sys
body = struct.pack("<Qq", 0, 5) + struct.pack("<I", 0xffffffff) + struct.pack("<I", 200) + b"x" * 200 + struct.pack("<I", 0)
sys.stdout.buffer.write(struct.pack("<I", len(body)) + body)' > big.b
	fails 1 logappend -B L < big.b
	stderr_has "exceeds the maximum record size of 100 bytes"
	diff -r before L
	ok logcat L
	output_is first
}

@test "logappend: records before an oversized one are committed, nothing of it" {
	local big
	big=$(head -c 200 /dev/zero | tr '\0' x)
	sh_ok 'echo first | logappend -m 100 L'
	fails 1 logappend -p L < <(printf 'a\n%s\nb\n' "$big")
	output_is 1
	stderr_is "logappend: stdin: line 2: record exceeds the maximum record size of 100 bytes"
	ok logcat L
	output_is "first
a"
}

# A regular file on stdin is read through a mapping, 1 MiB at a time.
hundreds() {
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%099d\n", i }'
}

@test "logappend: a mapping of the input that fails ends the append as bad input, with the windows before committed" {
	hundreds 30000 > in
	# The second window: the first MiB holds 10485 whole lines.
	with_fault 'mmap@std:2:ENOMEM' fails 1 logappend L < in
	stderr_is "logappend: stdin: Cannot allocate memory"
	faults_fired 1
	sh_ok "logcat L | cmp - <(head -n 10485 in)"
	ok logfsck L
	# The first: nothing is appended.
	rm -rf L fault.log
	with_fault 'mmap@std:1:ENOMEM' fails 1 logappend L < in
	stderr_is "logappend: stdin: Cannot allocate memory"
	faults_fired 1
	ok logcat L
	output_is ""
}

@test "logappend: a seek on the mapped input that fails is an error; one that says it cannot seek means read(2)" {
	hundreds 30000 > in
	# The seek after the first window's mapping (the first finds where
	# the file is read from).
	with_fault 'lseek@std:2:EIO' fails 1 logappend L < in
	stderr_is "logappend: stdin: Input/output error"
	faults_fired 1 '^lseek@std:2:EIO '
	ok logcat L
	output_is ""
	# A file that cannot tell its position is read, never mapped.
	rm -rf L fault.log
	with_fault 'lseek@std:1:ESPIPE,mmap@std:1:ENOMEM' ok logappend L < in
	faults_fired 1 '^lseek@std:1:ESPIPE '
	sh_ok "logcat L | cmp - in"
}
