#!/usr/bin/env bats
# Record formats, -B binary frames: exact layout, strict lengths.
load helpers

F=$TTOOLS/fmtcopy

# hex: the bytes of stdin as one line of hex digits.
hex() { od -An -tx1 -v | tr -d ' \n'; }

@test "binary: the frame layout is little-endian and exact" {
	printf '{"timestamp":1,"key":"k","value":"vv","headers":[{"name":"n","value":""}]}\n{"value":null}\n' > in
	sh_ok "$F -J -- -B < in | od -An -tx1 -v | tr -d ' \n'"
	#        LEN      offset           timestamp        keylen  k  vallen  v v  count   nlen   n  vlen
	output_is "28000000""0000000000000000""0100000000000000""01000000""6b""02000000""7676""01000000""01000000""6e""00000000\
1c000000""0100000000000000""0000000000000080""ffffffff""ffffffff""00000000"
}

@test "binary: absent key and tombstone differ from empty ones" {
	printf '{"key":"","value":""}\n{"value":null}\n' > in
	sh_ok "$F -J -- -B < in | $F -B -- -F '%K %S|'"
	output_is '0 0|-1 -1|'
}

@test "binary: INT64_MIN means no timestamp on input" {
	printf '{"value":"a","timestamp":null}\n{"value":"b","timestamp":-5}\n' > in
	sh_ok "$F -J -- -B < in | $F -B -- -J"
	output_is '{"offset":0,"timestamp":null,"key":null,"value":"a","headers":[]}
{"offset":1,"timestamp":-5,"key":null,"value":"b","headers":[]}'
}

@test "binary: the offset of input frames is ignored" {
	printf '{"value":"a"}\n{"value":"b"}\n' > in
	sh_ok "$F -J -- -B < in > f && $F -B -- -B < f > g && $F -B -- -B < g | cmp - f"
	sh_ok "cat f f | $F -B -- -F '%o '"
	output_is '0 1 2 3 '
}

@test "binary: bad frames are refused naming the frame" {
	printf '{"value":"a"}\n' > in
	sh_ok "$F -J -- -B < in > good"
	try() {
		fails 1 $F -B < bad
		stderr_is "fmtcopy: stdin: $1"
	}
	{ cat good; head -c 20 good; } > bad
	try 'frame 2: truncated'
	{ cat good; head -c 3 good; } > bad
	try 'frame 2: truncated'
	{ cat good; printf '\020\0\0\0'; head -c 40 /dev/zero; } > bad
	try 'frame 2: length 16 is too short'
	# LEN one more than the contents, then one less
	{ printf '\036\0\0\0'; tail -c +5 good; printf x; } > bad
	try 'frame 1: length 30 exceeds its contents by 1 bytes'
	{ printf '\034\0\0\0'; tail -c +5 good; } > bad
	try 'frame 1: contents exceed its length 28'
	# a key length beyond the frame, a header count beyond the frame
	{ head -c 20 good; printf '\0\1\0\0'; tail -c +25 good; } > bad
	try 'frame 1: contents exceed its length 29'
	{ head -c 29 good; printf '\1\0\0\0'; } > bad
	try 'frame 1: contents exceed its length 29'
	ok $F -B < good
	output_is a
}
