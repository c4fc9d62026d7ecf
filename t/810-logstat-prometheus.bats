#!/usr/bin/env bats
# logstat -P: the figures of logs and consumers in the Prometheus text
# exposition format, checked by promtool (Debian's prometheus package),
# and the crontab line of logstat(1) that publishes them for
# node_exporter's textfile collector.
load helpers

T0=1795168800000	# 2026-11-20T10:00:00Z

ten() {
	local i
	for ((i = 0; i < 10; i++)); do
		printf '{"timestamp":%d,"value":"v%d"}\n' \
		    $((T0 + i * 1000 + (i == 5 ? 60000 : 0))) $i
	done | logappend -J "$1"
}

# value METRIC LABELS: the value of one sample of $output.
value() {
	awk -v s="synclog_$1{$2}" '$1 == s { print $2 }' <<<"$output"
}

@test "logstat -P: promtool finds the exposition clean, for several logs and their consumers" {
	require promtool
	ten L
	seq 1 3 | logappend M
	: | logappend E
	ok logcheckpoint -s 4 L db
	ok logcheckpoint -s end L cache
	ok logcheckpoint -s 1 M db
	ok logstat -P L M E
	printf '%s\n' "$output" > out.prom
	sh_ok 'promtool check metrics < out.prom'
	output_is ""
	# every family once, its samples together, each a gauge with help
	[ "$(grep -c '^# TYPE synclog_[a-z_]* gauge$' out.prom)" -eq 10 ]
	[ "$(grep -c '^# HELP synclog_' out.prom)" -eq 10 ]
	[ "$(grep -v '^#' out.prom | awk -F'{' '{print $1}' | uniq | sort | uniq -d)" = "" ]
	ok logstat -P L M E
	is "$(value begin_offset 'log="L"')" 0
	is "$(value end_offset 'log="L"')" 10
	is "$(value end_offset 'log="M"')" 3
	is "$(value records 'log="E"')" 0
	is "$(value segments 'log="L"')" 1
	is "$(value bytes 'log="L"')" "$(stat -c %s L/00000000000000000000.log)"
	is "$(value index_bytes 'log="L"')" "$(stat -c %s L/00000000000000000000.index)"
	# the newest timestamp, not the last; none for an empty log
	is "$(value max_timestamp_seconds 'log="L"')" 1795168865.000
	is "$(value max_timestamp_seconds 'log="E"')" ""
	is "$(value consumer_offset 'log="L",consumer="db"')" 4
	is "$(value consumer_lag 'log="L",consumer="db"')" 6
	is "$(value consumer_lag 'log="L",consumer="cache"')" 0
	is "$(value consumer_lag 'log="M",consumer="db"')" 2
	# seconds since the checkpoint was written: small and not negative
	local age
	age=$(value consumer_update_age_seconds 'log="L",consumer="db"')
	[[ $age =~ ^[0-9]+\.[0-9]{3}$ ]]
	[ "${age%.*}" -lt 3600 ]
}

@test "logstat -P: the same figures as logstat -J" {
	require jq
	ten L
	ok logcheckpoint -s 7 L db
	ok logstat -J L
	local j=$output
	ok logstat -P L
	for f in begin end records segments bytes index_bytes; do
		local m=$f
		case $f in begin | end) m=${f}_offset ;; esac
		is "$(value $m 'log="L"')" "$(jq .$f <<<"$j")"
	done
	is "$(value consumer_offset 'log="L",consumer="db"')" \
	    "$(jq '.consumers[0].offset' <<<"$j")"
	is "$(value consumer_lag 'log="L",consumer="db"')" \
	    "$(jq '.consumers[0].lag' <<<"$j")"
}

@test "logstat -P: labels escape quotes, backslashes and newlines, and stay UTF-8" {
	require promtool
	local odd=$'a"b\\c\nd\xff'
	mkdir "$odd"
	seq 1 2 | logappend "$odd/L"
	ok logcheckpoint -s 1 "$odd/L" c
	ok logstat -P "$odd/L"
	printf '%s\n' "$output" > out.prom
	sh_ok 'promtool check metrics < out.prom'
	grep -qF 'synclog_end_offset{log="a\"b\\c\nd'$'\xef\xbf\xbd''/L"} 2' out.prom
	grep -qF ',consumer="c"} 1' out.prom
}

@test "logstat -P: a damaged checkpoint has no samples, the others do, and the status is 1" {
	require promtool
	ten L
	ok logcheckpoint -s 4 L db
	ok logcheckpoint -s 2 L other
	printf 'garbage' > L/consumers/db.ckpt
	fails 1 logstat -P L
	stderr_is "logstat: L: db: damaged checkpoint (file too short); set it again with logcheckpoint -s"
	printf '%s\n' "$output" > out.prom
	! grep -q 'consumer="db"' out.prom
	is "$(value consumer_lag 'log="L",consumer="other"')" 8
	sh_ok 'promtool check metrics < out.prom'
	# a log that cannot be read has none either; the status is the worst
	fails 2 logstat -P L nolog
	stderr_has "logstat: nolog: No such file or directory"
	is "$(grep -v '^synclog_consumer_update_age' <<<"$output")" \
	    "$(grep -v '^synclog_consumer_update_age' out.prom)"
}

@test "logstat -P: a damaged log has the samples the damage leaves whole, and the status is 1" {
	require promtool
	require python3
	for i in 1 2 3; do echo "rec$i" | logappend K; done
	ok logcheckpoint -s 1 K db
	ten L
	ok logcheckpoint -s 4 L db
	# damage followed by data: the end and the count are unknown
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1)
f.seek(100); f.write(bytes([b[0] ^ 1]))' K/00000000000000000000.log
	fails 1 logstat -P K L
	stderr_is "logstat: K: 00000000000000000000.log: byte 62: offset 1: checksum mismatch, followed by valid data at byte 124"
	printf '%s\n' "$output" > out.prom
	is "$(value begin_offset 'log="K"')" 0
	is "$(value segments 'log="K"')" 1
	is "$(value bytes 'log="K"')" "$(stat -c %s K/00000000000000000000.log)"
	is "$(value consumer_offset 'log="K",consumer="db"')" 1
	! grep -Eq '^synclog_(end_offset|records|max_timestamp_seconds|consumer_lag)\{log="K"' out.prom
	is "$(value end_offset 'log="L"')" 10
	is "$(value consumer_lag 'log="L",consumer="db"')" 6
	sh_ok 'promtool check metrics < out.prom'
}

@test "logstat(1)'s crontab line publishes the file atomically, only when logstat succeeds" {
	local line dir=$BATS_TEST_TMPDIR/textfile
	line=$(grep '^\* \* \* \* \* ' "$BATS_TEST_DIRNAME/../man/logstat.1")
	[ -n "$line" ]
	mkdir "$dir"
	ten "$BATS_TEST_TMPDIR/events"
	line=${line#\* \* \* \* \* }
	line=${line//\/var\/lib\/prometheus\/node-exporter/$dir}
	line=${line//\/srv\/events/$BATS_TEST_TMPDIR/events}
	ok sh -c "$line"
	[ -f "$dir/synclog.prom" ] && [ ! -e "$dir/synclog.prom.tmp" ]
	grep -q '^synclog_end_offset{log=".*/events"} 10$' "$dir/synclog.prom"
	# a failing logstat leaves the last good file in place
	mv "$BATS_TEST_TMPDIR/events" "$BATS_TEST_TMPDIR/gone"
	expect 2 sh -c "$line"
	grep -q '^synclog_end_offset{log=".*/events"} 10$' "$dir/synclog.prom"
}
