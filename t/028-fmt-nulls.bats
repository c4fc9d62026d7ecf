#!/usr/bin/env bats
# kcat's conveniences in the output formats: -Z prints an absent key and a
# tombstone as NULL in text and templates (so that a tombstone differs
# from an empty value), %R is the value's length as 4 big-endian bytes,
# and %t names the log of each record, several logs too.
load helpers

F=$TTOOLS/fmtcopy

# Four records: key and value; no key, empty value; empty key, tombstone;
# no key, tombstone.
four() {
	printf '%s\n' '{"key":"k","value":"v"}' '{"value":""}' \
	    '{"key":"","value":null}' '{"value":null}'
}

@test "-Z: text tells a tombstone from an empty value, an absent key from an empty one" {
	four | logappend -J L
	ok logcat -Z -K '\t' L
	output_is "$(printf 'k\tv\nNULL\t\n\tNULL\nNULL\tNULL')"
	ok logcat --show-null L
	output_is "$(printf 'v\n\nNULL\nNULL')"
	# without -Z, as before: both empty
	ok logcat -K '|' L
	output_is "$(printf 'k|v\n|\n|\n|')"
	# multi-byte delimiters, and the library's own text path
	ok logcat -Z -K '::' -D '\r\n' L
	output_is "$(printf 'k::v\r\nNULL::\r\n::NULL\r\nNULL::NULL\r')"
	four > in.json
	sh_ok "'$F' -J -- -Z -K , < in.json | cmp - <(logcat -Z -K , L)"
}

@test "-Z: templates print NULL for %s and %k when absent; sizes stay -1" {
	four | logappend -J L
	ok logcat -Z -F '[%k][%s][%K][%S]\n' L
	output_is '[k][v][1][1]
[NULL][][-1][0]
[][NULL][0][-1]
[NULL][NULL][-1][-1]'
	ok logcat -F '[%k][%s]\n' L
	output_is '[k][v]
[][]
[][]
[][]'
}

@test "-Z: JSON, YAML and binary output keep null as they always do" {
	four | logappend -J L
	for X in J Y B; do
		sh_ok "logcat -$X L > plain.$X && logcat -Z -$X L | cmp - plain.$X"
	done
	# and it is for output: logappend does not take it
	expect 2 logappend -Z M < /dev/null
}

@test "%R: the value's length as a 32-bit big-endian signed integer, -1 for a tombstone" {
	four | logappend -J L
	printf '{"value":"%s"}\n' "$(head -c 300 /dev/zero | tr '\0' x)" |
	    logappend -J L
	sh_ok "logcat -F '%R' L | od -An -tx1 | tr -s ' \n' ' '"
	output_is " 00 00 00 01 00 00 00 00 ff ff ff ff ff ff ff ff 00 00 01 2c "
	# kcat's framing: %R%s reads back as length and bytes
	sh_ok "logcat -o 4 -F '%R%s' L | tail -c 300 | tr -d x | wc -c"
	output_is 0
}

@test "%t: the name of each record's log, when several logs are given" {
	mkdir -p a/b
	echo one | logappend a/b/first
	echo two | logappend second
	ok logcat -F '%t %s\n' a/b/first second/ a/b/first
	output_is "first one
second two
first one"
	# the same while following several logs
	ok timeout 10 logcat -f -c 2 -F '%t %s\n' a/b/first second
	output_is "first one
second two"
	ok logcat -F '%t\n' second
	output_is second
}
