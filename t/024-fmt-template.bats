#!/usr/bin/env bats
# Record formats, -F TEMPLATE: kcat's tokens, %I, escapes, bad templates.
load helpers

F=$TTOOLS/fmtcopy

@test "template: every token" {
	printf '{"timestamp":1795168800123,"key":"k1","value":"hello","headers":[{"name":"a","value":"1"},{"name":"b","value":""}]}\n' > in
	ok $F -t events -J -- -F 's=%s S=%S k=%k K=%K o=%o T=%T h=%h t=%t p=%p I=%I %%' < in
	output_is 's=hello S=5 k=k1 K=2 o=0 T=1795168800123 h=a=1,b= t=events p=0 I=2026-11-20T10:00:00.123Z %'
	ok $F -J -- --format '%s\n%k' < in
	output_is "$(printf 'hello\nk1')"
}

@test "template: tombstone and absent key have size -1 and print empty" {
	printf '{"value":null}\n{"key":"","value":""}\n' > in
	ok $F -J -- -F '[%s][%S][%k][%K][%h]\n' < in
	output_is '[][-1][][-1][]
[][0][][0][]'
}

@test "template: %I formats milliseconds as ISO 8601 UTC" {
	for ms in 0 -1 951782400000 4102444800000 253402300799999; do
		printf '{"value":"x","timestamp":%s}\n' $ms
	done > in
	ok $F -J -- -F '%I\n' < in
	output_is '1970-01-01T00:00:00.000Z
1969-12-31T23:59:59.999Z
2000-02-29T00:00:00.000Z
2100-01-01T00:00:00.000Z
9999-12-31T23:59:59.999Z'
}

@test "template: %I writes years outside 0000-9999 as logseek -v does" {
	local ms=(253402300800000 -62167219200001 -62198841600000
	    9223372036854775807 -9223372036854775807) iso off=0 t
	for t in "${ms[@]}"; do
		# a batch each: logseek -v shows a batch's time
		printf '{"value":"x","timestamp":%s}\n' $t | logappend -J L
	done
	ok logcat -F '%I\n' L
	output_is '+10000-01-01T00:00:00.000Z
-0001-12-31T23:59:59.999Z
-0002-12-31T00:00:00.000Z
+292278994-08-17T07:12:55.807Z
-292275055-05-16T16:47:04.193Z'
	local isos=("${lines[@]}")
	for iso in "${isos[@]}"; do
		ok logseek -v L $off
		is "$(cut -d' ' -f3 <<<"$output")" "$iso"
		# and each parses back to its own time
		ok "$TTOOLS/spectool" time "$iso"
		is "${output%% *}" "${ms[off]}"
		off=$((off + 1))
	done
}

@test "template: escapes \\n \\r \\t \\\\ \\0 \\xHH" {
	printf 'v\n' > in
	export tpl='%s\t|\r|\\|\0|\x41\x25s\n'
	sh_ok "$F -- -F \"\$tpl\" < in | od -An -c | tr -s ' '"
	output_is ' v \t | \r | \ | \0 | A % s \n'
}

@test "template: unknown tokens and bad escapes are refused" {
	for t in '%z' 'a%' '%' '%%%' '\q' 'x\x4' '%S %X'; do
		fails 2 $F -- -F "$t" < /dev/null
		stderr_has 'invalid argument'
	done
}

@test "template: it is an output format only" {
	fails 2 $F -F '%s' < /dev/null
	stderr_is 'fmtcopy: input format: Invalid argument'
}
