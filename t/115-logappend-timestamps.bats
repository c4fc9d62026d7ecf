#!/usr/bin/env bats
# logappend: a record whose input gives no timestamp gets the time of the
# append, wherever it comes in a batch and whatever came before it; a
# timestamp the input gives is kept, and the one value that means "none"
# (-9223372036854775808) is refused in JSON and YAML.
load helpers

T=1796662320000		# 2026-12-07T00:12:00Z

# stamped LOG BEFORE AFTER: every record of LOG whose value is not "a"
# has a timestamp from BEFORE to AFTER (ms); "a" has exactly $T.
stamped() {
	local off ts v
	while read -r off ts v; do
		if [ "$v" = a ]; then
			is "$ts" "$T" || return 1
		elif [ "$ts" -lt "$2" ] || [ "$ts" -gt "$3" ]; then
			echo "record $off ($v): timestamp $ts is not the append time ($2..$3)" >&2
			return 1
		fi
	done < <(logcat -F '%o %T %s\n' "$1")
}

@test "logappend -J: records without a timestamp after one with it get the append time" {
	local before after
	before=$(date +%s%3N)
	printf '{"timestamp":%s,"value":"a"}\n{"value":"b"}\n{"timestamp":null,"value":"c"}\n{"value":"d"}\n' \
	    $T | logappend -J L
	after=$(date +%s%3N)
	ok logcat -c 4 -F '%s\n' L
	output_is "a
b
c
d"
	stamped L "$before" "$after"
	# the same after a record at the fast plain-text path's time, too
	printf '{"value":"e"}\n{"timestamp":%s,"value":"a"}\n{"value":"f"}\n' $T |
	    logappend -J L
	stamped L "$before" "$(date +%s%3N)"
}

@test "logappend -Y: records without a timestamp after one with it get the append time" {
	local before after
	before=$(date +%s%3N)
	printf -- '---\ntimestamp: %s\nvalue: "a"\n...\n---\nvalue: "b"\n...\n---\ntimestamp: null\nvalue: "c"\n...\n' \
	    $T | logappend -Y L
	after=$(date +%s%3N)
	ok logcat -F '%s' L
	output_is abc
	stamped L "$before" "$after"
}

@test "logappend -B: frames without a timestamp after one with it get the append time" {
	local before after
	# fmtcopy writes "none" as the frame's smallest timestamp.
	printf '{"timestamp":%s,"value":"a"}\n{"value":"b"}\n{"timestamp":null,"value":"c"}\n' \
	    $T | "$TTOOLS/fmtcopy" -J -- -B > in.b
	before=$(date +%s%3N)
	ok logappend -B L < in.b
	after=$(date +%s%3N)
	ok logcat -F '%s' L
	output_is abc
	stamped L "$before" "$after"
}

@test "logappend -J and -Y refuse the timestamp that means none" {
	printf '{"value":"ok"}\n{"timestamp":-9223372036854775808,"value":"x"}\n' > in.json
	fails 1 logappend -J L < in.json
	stderr_is "logappend: stdin: line 2: timestamp -9223372036854775808 is reserved at column 14"
	printf -- '---\nvalue: "ok"\n...\n---\ntimestamp: -9223372036854775808\nvalue: "x"\n...\n' > in.yaml
	fails 1 logappend -Y M < in.yaml
	stderr_is "logappend: stdin: line 5, column 12: timestamp -9223372036854775808 is reserved"
	# What came before the bad record is appended; nothing of it.
	ok logcat L M
	output_is "ok
ok"
	# One more and it is an ordinary time, kept exactly.
	printf '{"timestamp":-9223372036854775807,"value":"x"}\n' | logappend -J N
	ok logcat -F '%T\n' N
	output_is -9223372036854775807
}
