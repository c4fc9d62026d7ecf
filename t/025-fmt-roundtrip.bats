#!/usr/bin/env bats
# Record formats: -J, -Y and -B read back give the same records, byte for
# byte (compared as -B frames, which hold every field).
load helpers

F=$TTOOLS/fmtcopy

@test "roundtrip: random records through -J, -Y and -B" {
	ok $F -g 1500 -s 11 -- -B
	sh_ok "$F -g 1500 -s 11 -- -B > orig"
	for f in J Y B; do
		sh_ok "$F -B -- -$f < orig > mid.$f"
		sh_ok "$F -$f -- -B < mid.$f | cmp - orig"
	done
	# the first records hold all 256 byte values in key, value, header
	sh_ok "$F -B -- -F '%S %K\n' < orig | head -n 4"
	output_is '256 256
256 256
256 256
128 128'
}

@test "roundtrip: chains of formats keep every record" {
	sh_ok "$F -g 800 -s 5 -- -B > orig"
	sh_ok "$F -B -- -J < orig | $F -J -- -Y | $F -Y -- -B | $F -B -- -Y |
	    $F -Y -- -J | $F -J -- -B | cmp - orig"
}

@test "roundtrip: empty versus absent key, empty versus tombstone value" {
	printf '%s\n' '{"key":"","value":""}' '{"key":null,"value":null}' \
	    '{"value":""}' '{"key":"","value":null}' > in
	sh_ok "$F -J -- -B < in > orig"
	for f in J Y B; do
		sh_ok "$F -B -- -$f < orig | $F -$f -- -F '%K %S|'"
		output_is '0 0|-1 -1|-1 0|0 -1|'
	done
}

@test "roundtrip: many headers, empty names and values" {
	awk 'BEGIN {
		printf "{\"value\":\"v\",\"headers\":["
		for (i = 1; i <= 2000; i++) {
			if (i > 1) printf ","
			if (i % 3 == 0) printf "{\"name\":\"\",\"value\":\"\"}"
			if (i % 3 == 1) printf "{\"name\":\"n%d\",\"value\":\"\"}", i
			if (i % 3 == 2) printf "{\"name\":\"\",\"value\":\"v%d\"}", i
		}
		printf "]}\n"
	}' > in
	sh_ok "$F -J -- -B < in > orig"
	for f in J Y B; do
		sh_ok "$F -B -- -$f < orig | $F -$f -- -B | cmp - orig"
	done
	sh_ok "$F -B -- -F '%h\n' < orig | tr ',' '\n' | wc -l"
	output_is 2000
}

@test "roundtrip: timestamps given and absent" {
	printf '%s\n' '{"value":"a"}' '{"value":"b","timestamp":0}' \
	    '{"value":"c","timestamp":-1}' \
	    '{"value":"d","timestamp":9223372036854775807}' \
	    '{"value":"e","timestamp":-9223372036854775807}' > in
	for f in J Y B; do
		sh_ok "$F -J -- -$f < in | $F -$f -- -F '%T '"
		output_is '-9223372036854775808 0 -1 9223372036854775807 -9223372036854775807 '
	done
}

@test "roundtrip: large records cross read buffer boundaries" {
	# 300 KiB values against the 256 KiB read buffer, in every format
	python3 -c 'import json, sys
for i in range(4):
    sys.stdout.write(json.dumps({"key": str(i), "value": chr(65 + i) * 300000 + "\u00e9\n\"", "headers": [{"name": "h", "value": "\u0001" * 70000}]}) + "\n")' > in
	sh_ok "$F -J -- -B < in > orig"
	for f in J Y B; do
		sh_ok "$F -B -- -$f < orig | $F -$f -- -B | cmp - orig"
	done
}
