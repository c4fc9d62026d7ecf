#!/usr/bin/env bats
# Offset specifications, times and durations (lib/spec.c, lib/time.c),
# through t/tools/spectool.
# Relative times are computed from a fixed NOW: 2026-11-20T10:00:00Z.
load helpers

NOW=1795168800000

spec_is() {
	ok "$TTOOLS/spectool" spec "$1" "$NOW" || return 1
	output_is "$2"
}

time_is() {
	ok "$TTOOLS/spectool" time "$1" "$NOW" || return 1
	output_is "$2"
}

bad_spec() {
	fails 1 "$TTOOLS/spectool" spec "$1" "$NOW" || return 1
	stderr_is "spectool: $1: invalid offset specification"
}

bad_time() {
	fails 1 "$TTOOLS/spectool" time "$1" "$NOW" || return 1
	stderr_is "spectool: $1: invalid time"
}

format_is() {
	ok "$TTOOLS/spectool" format "$1" || return 1
	output_is "$2"
}

@test "spec: beginning and end" {
	spec_is beginning beginning
	spec_is end end
}

@test "spec: absolute offsets, up to the largest u64" {
	spec_is 0 "absolute 0"
	spec_is 42 "absolute 42"
	spec_is 007 "absolute 7"
	spec_is 18446744073709551615 "absolute 18446744073709551615"
}

@test "spec: N records before the end; -0 is the end" {
	spec_is -1 "from_end 1"
	spec_is -25 "from_end 25"
	spec_is -18446744073709551615 "from_end 18446744073709551615"
	spec_is -0 end
	spec_is -000 end
}

@test "spec: an offset past u64 is refused, not wrapped" {
	bad_spec 18446744073709551616
	bad_spec 99999999999999999999999
	bad_spec -18446744073709551616
}

@test "spec: s@TIME and e@TIME in every time form" {
	spec_is s@0 "time_start 0 1970-01-01T00:00:00.000Z"
	spec_is s@1795168800000 \
	    "time_start 1795168800000 2026-11-20T10:00:00.000Z"
	spec_is e@2026-11-20T10:00:00Z \
	    "time_end 1795168800000 2026-11-20T10:00:00.000Z"
	spec_is e@2026-11-20T12:00:00.250+02:00 \
	    "time_end 1795168800250 2026-11-20T10:00:00.250Z"
	spec_is s@-2h "time_start 1795161600000 2026-11-20T08:00:00.000Z"
	spec_is e@-30s "time_end 1795168770000 2026-11-20T09:59:30.000Z"
}

@test "spec: garbage is refused" {
	local s
	for s in '' begin Beginning END ' 5' '5 ' +5 --5 - 5abc 1e3 0x10 \
	    1,2 'end ' s@ e@ x@5 S@5 @5 s@garbage e@-10x s@2026-02-30 \
	    s5 's @5' 'beginning,end'; do
		bad_spec "$s"
	done
}

@test "spec: a bad time inside s@ and e@ is refused" {
	bad_spec s@9223372036854775808
	bad_spec s@-9223372036854775809
	bad_spec e@-1y
	bad_spec s@2025-02-29
}

@test "time: milliseconds since the epoch" {
	time_is 0 "0 1970-01-01T00:00:00.000Z"
	time_is 1 "1 1970-01-01T00:00:00.001Z"
	time_is 1795168800123 "1795168800123 2026-11-20T10:00:00.123Z"
	time_is 0001795168800000 "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 9223372036854775807 \
	    "9223372036854775807 +292278994-08-17T07:12:55.807Z"
}

@test "time: a bare number is milliseconds, never a year" {
	time_is 2026 "2026 1970-01-01T00:00:02.026Z"
	time_is 20261120 "20261120 1970-01-01T05:37:41.120Z"
}

@test "time: milliseconds past int64 are refused" {
	bad_time 9223372036854775808
	bad_time 18446744073709551616
	bad_time 99999999999999999999999999
}

@test "time: ISO 8601 with Z, T or a space, seconds optional" {
	time_is 2026-11-20T10:00:00Z "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20t10:00:00z "1795168800000 2026-11-20T10:00:00.000Z"
	time_is "2026-11-20 10:00:00Z" "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T10:00Z "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T23:59:59Z "1795219199000 2026-11-20T23:59:59.000Z"
}

@test "time: ISO 8601 without an offset is UTC" {
	time_is 2026-11-20T10:00:00 "1795168800000 2026-11-20T10:00:00.000Z"
	time_is "2026-11-20 10:00" "1795168800000 2026-11-20T10:00:00.000Z"
	TZ=Asia/Tokyo time_is 2026-11-20T10:00:00 \
	    "1795168800000 2026-11-20T10:00:00.000Z"
}

@test "time: a date alone is midnight UTC" {
	time_is 2026-11-20 "1795132800000 2026-11-20T00:00:00.000Z"
	time_is 1970-01-01 "0 1970-01-01T00:00:00.000Z"
	TZ=America/New_York time_is 2026-11-20 \
	    "1795132800000 2026-11-20T00:00:00.000Z"
}

@test "time: fractions of 1 to 9 digits are truncated to milliseconds" {
	time_is 2026-11-20T10:00:00.5Z "1795168800500 2026-11-20T10:00:00.500Z"
	time_is 2026-11-20T10:00:00.05Z "1795168800050 2026-11-20T10:00:00.050Z"
	time_is 2026-11-20T10:00:00.123Z "1795168800123 2026-11-20T10:00:00.123Z"
	time_is 2026-11-20T10:00:00.1239Z \
	    "1795168800123 2026-11-20T10:00:00.123Z"
	time_is 2026-11-20T10:00:00.999999999Z \
	    "1795168800999 2026-11-20T10:00:00.999Z"
	time_is 2026-11-20T10:00:00,25Z "1795168800250 2026-11-20T10:00:00.250Z"
	time_is 2026-11-20T10:00:00.000000001 \
	    "1795168800000 2026-11-20T10:00:00.000Z"
}

@test "time: bad fractions are refused" {
	bad_time 2026-11-20T10:00:00.1234567890Z
	bad_time 2026-11-20T10:00:00.Z
	bad_time 2026-11-20T10:00:00.
	bad_time 2026-11-20T10:00.5Z
	bad_time 2026-11-20T10:00:00.5.5Z
}

@test "time: offsets +HH:MM, +HHMM, +HH, -00:00" {
	time_is 2026-11-20T12:00:00+02:00 \
	    "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T04:30:00-0530 \
	    "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T15:30:00+05:30 \
	    "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T05:00:00-05 "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T10:00:00-00:00 \
	    "1795168800000 2026-11-20T10:00:00.000Z"
	time_is 2026-11-20T10:00:00.5+0000 \
	    "1795168800500 2026-11-20T10:00:00.500Z"
	# An offset can move the instant into another day, month and year.
	time_is 2027-01-01T01:00:00+02:00 \
	    "1798758000000 2026-12-31T23:00:00.000Z"
}

@test "time: bad offsets are refused" {
	local s
	for s in +24:00 +01:60 +1 +123 +01:0 +01: +01:00:00 '+ 01' Z+01 \
	    UTC GMT +01:00Z; do
		bad_time "2026-11-20T10:00:00$s"
	done
	bad_time 2026-11-20Z
	bad_time 2026-11-20+01:00
}

@test "time: February 29 exists in leap years only" {
	time_is 2024-02-29 "1709164800000 2024-02-29T00:00:00.000Z"
	time_is 2000-02-29 "951782400000 2000-02-29T00:00:00.000Z"
	time_is 2024-02-29T23:59:59.999Z \
	    "1709251199999 2024-02-29T23:59:59.999Z"
	bad_time 2025-02-29
	bad_time 2026-02-29T10:00:00Z
	bad_time 1900-02-29
	bad_time 2100-02-29
	bad_time 2024-02-30
}

@test "time: out-of-range fields are refused" {
	local s
	for s in 2026-00-10 2026-13-10 2026-11-00 2026-11-31 2026-04-31 \
	    2026-01-32 2026-11-20T24:00:00Z 2026-11-20T10:60:00Z \
	    2026-11-20T10:00:60Z 2026-11-20T99:99:99Z; do
		bad_time "$s"
	done
	time_is 2026-01-31 "1769817600000 2026-01-31T00:00:00.000Z"
	time_is 2026-04-30 "1777507200000 2026-04-30T00:00:00.000Z"
}

@test "time: malformed ISO 8601 is refused" {
	local s
	for s in '' 2026-11 2026-1-20 2026-11-2 26-11-20 20261-11-20 \
	    2026/11/20 2026-11-20T 2026-11-20T10 2026-11-20T10:0 \
	    2026-11-20T1:00:00Z 2026-11-20X10:00:00Z 2026-11-20T10:00:00Zjunk \
	    '2026-11-20T10:00:00Z ' ' 2026-11-20' 2026-11-20T10:00:00ZZ \
	    '2026-11-20  10:00:00Z' 2026-11-20T10-00-00Z x 1.5 Now NOW now+1s \
	    -2026-1-20 +123456789012345-01-01 ++2026-11-20 +202-11-20; do
		bad_time "$s"
	done
}

@test "time: dates before 1970 give negative milliseconds" {
	time_is 1969-12-31T23:59:59.999Z "-1 1969-12-31T23:59:59.999Z"
	time_is 1969-12-31 "-86400000 1969-12-31T00:00:00.000Z"
	time_is 1900-01-01T00:00:00Z "-2208988800000 1900-01-01T00:00:00.000Z"
	time_is 0000-01-01T00:00:00Z \
	    "-62167219200000 0000-01-01T00:00:00.000Z"
	time_is 0000-02-29 "-62162121600000 0000-02-29T00:00:00.000Z"
	time_is 9999-12-31T23:59:59.999Z \
	    "253402300799999 9999-12-31T23:59:59.999Z"
}

@test "time: relative to now in every unit" {
	time_is -500ms "1795168799500 2026-11-20T09:59:59.500Z"
	time_is -30s "1795168770000 2026-11-20T09:59:30.000Z"
	time_is -10m "1795168200000 2026-11-20T09:50:00.000Z"
	time_is -2h "1795161600000 2026-11-20T08:00:00.000Z"
	time_is -7d "1794564000000 2026-11-13T10:00:00.000Z"
	time_is -1w "1794564000000 2026-11-13T10:00:00.000Z"
	time_is -0s "1795168800000 2026-11-20T10:00:00.000Z"
	time_is -1000d "1708768800000 2024-02-24T10:00:00.000Z"
}

@test "time: relative times without a known unit are refused" {
	local s
	for s in - -m -10y -10M -10H -10min -10mss -10S '-10 m' -1.h -.5h \
	    --10m -10m5s -h10 +m + +10y -1.1234567890s; do
		bad_time "$s"
	done
}

@test "time: now, and +DURATION after now" {
	time_is now "1795168800000 2026-11-20T10:00:00.000Z"
	time_is +10m "1795169400000 2026-11-20T10:10:00.000Z"
	time_is +1h "1795172400000 2026-11-20T11:00:00.000Z"
	time_is +0s "1795168800000 2026-11-20T10:00:00.000Z"
	time_is +500ms "1795168800500 2026-11-20T10:00:00.500Z"
	time_is -1.5h "1795163400000 2026-11-20T08:30:00.000Z"
	time_is +0.25s "1795168800250 2026-11-20T10:00:00.250Z"
	# counting on from the latest representable time overflows
	fails 1 "$TTOOLS/spectool" time +1ms 9223372036854775807
	stderr_is "spectool: +1ms: invalid time"
}

@test "time: a signed number without a unit is milliseconds, before 1970 too" {
	time_is -10 "-10 1969-12-31T23:59:59.990Z"
	time_is -1000 "-1000 1969-12-31T23:59:59.000Z"
	time_is +1000 "1000 1970-01-01T00:00:01.000Z"
	time_is -9223372036854775808 \
	    "-9223372036854775808 -292275055-05-16T16:47:04.192Z"
	bad_time -9223372036854775809
	bad_time +9223372036854775808
	spec_is s@-5000 "time_start -5000 1969-12-31T23:59:55.000Z"
	spec_is e@-1 "time_end -1 1969-12-31T23:59:59.999Z"
}

@test "time: years outside 0000-9999 parse as they are formatted" {
	time_is +10000-01-01T00:00:00.000Z \
	    "253402300800000 +10000-01-01T00:00:00.000Z"
	time_is -0001-12-31T23:59:59.999Z \
	    "-62167219200001 -0001-12-31T23:59:59.999Z"
	time_is -0002-12-31 "-62198841600000 -0002-12-31T00:00:00.000Z"
	time_is +292278994-08-17T07:12:55.807Z \
	    "9223372036854775807 +292278994-08-17T07:12:55.807Z"
	time_is -292275055-05-16T16:47:04.192Z \
	    "-9223372036854775808 -292275055-05-16T16:47:04.192Z"
	# a millisecond beyond either end is refused, not wrapped
	bad_time +292278994-08-17T07:12:55.808Z
	bad_time -292275055-05-16T16:47:04.191Z
	bad_time +999999999999-01-01
	# the sign's year 0000 and four-digit years are the plain ones
	time_is +2026-11-20T10:00:00Z "1795168800000 2026-11-20T10:00:00.000Z"
	time_is -0000-01-01 "-62167219200000 0000-01-01T00:00:00.000Z"
}

@test "duration: a number, a fraction, a unit; bare numbers count the unit given" {
	local d
	d() { ok "$TTOOLS/spectool" duration "$1" "$2" && output_is "$3"; }
	d 10m 1000 600000
	d 10 1000 10000
	d 10 1 10
	d 0 1000 0
	d 1.5 1000 1500
	d 0.0005 1000 0
	d 1.5h 1 5400000
	d 2w 1000 1209600000
	d 250ms 1000 250
	d 9223372036854775807 1 9223372036854775807
	d 9223372036854775.807 1000 9223372036854775807
	for s in '' -1 +1 1x 1.5.5 .5 5. 1e3 ' 1' '1 ' 1M 10mins \
	    9223372036854775808 9223372036854776s 9223372036854775.808; do
		fails 1 "$TTOOLS/spectool" duration "$s" 1000 || return 1
		stderr_is "spectool: $s: invalid duration" || return 1
	done
	# a unit is required where none was given
	fails 1 "$TTOOLS/spectool" duration 10 0
	ok "$TTOOLS/spectool" duration 10s 0
	output_is 10000
}

@test "time: relative times that overflow are refused" {
	bad_time -9223372036854775808ms
	bad_time -9223372036854775807s
	bad_time -15250284453w
	bad_time -99999999999999999999ms
	ok "$TTOOLS/spectool" time -15250284452w 0
	output_is "-9223372036569600000 -292275055-05-20T00:00:00.000Z"
	# Counting back from the earliest representable time.
	ok "$TTOOLS/spectool" time -1ms -9223372036854775807
	output_is "-9223372036854775808 -292275055-05-16T16:47:04.192Z"
	fails 1 "$TTOOLS/spectool" time -2ms -9223372036854775807
	stderr_is "spectool: -2ms: invalid time"
}

@test "time: relative times count from the clock by default" {
	local before after
	before=$(date +%s%3N)
	ok "$TTOOLS/spectool" time -1h
	after=$(date +%s%3N)
	set -- $output
	[ "$1" -ge $((before - 3600000)) ] && [ "$1" -le $((after - 3600000)) ]
}

@test "now: the real-time clock in milliseconds" {
	local before after
	before=$(date +%s%3N)
	ok "$TTOOLS/spectool" now
	after=$(date +%s%3N)
	[ "$output" -ge "$before" ] && [ "$output" -le "$after" ]
}

@test "format: UTC with three fraction digits, before 1970 too" {
	format_is 0 1970-01-01T00:00:00.000Z
	format_is 1795168800123 2026-11-20T10:00:00.123Z
	format_is -1 1969-12-31T23:59:59.999Z
	format_is -999 1969-12-31T23:59:59.001Z
	format_is -1000 1969-12-31T23:59:59.000Z
	format_is -1001 1969-12-31T23:59:58.999Z
	format_is -86400000 1969-12-31T00:00:00.000Z
	format_is -86400001 1969-12-30T23:59:59.999Z
	format_is -2208988800000 1900-01-01T00:00:00.000Z
	format_is -62167219200000 0000-01-01T00:00:00.000Z
	format_is -62167219200001 -0001-12-31T23:59:59.999Z
	format_is 253402300800000 +10000-01-01T00:00:00.000Z
	format_is 951868799999 2000-02-29T23:59:59.999Z
	format_is 951868800000 2000-03-01T00:00:00.000Z
	format_is 4107542400000 2100-03-01T00:00:00.000Z
}

@test "format: the extremes of int64" {
	format_is 9223372036854775807 +292278994-08-17T07:12:55.807Z
	format_is -9223372036854775808 -292275055-05-16T16:47:04.192Z
}

@test "format: agrees with date(1) and parses back to the same instant" {
	local ms sec expect
	for ms in 1 59999 86399999 951782399999 1234567890123 1795168800000 \
	    -1 -86399999 -2208988800001 -5000000000000 253402300799999; do
		sec=$(( ms >= 0 ? ms / 1000 : (ms - 999) / 1000 ))
		expect=$(date -u -d "@$sec" +%Y-%m-%dT%H:%M:%S)
		expect=$expect.$(printf %03d $(( ms - sec * 1000 )))Z
		ok "$TTOOLS/spectool" format "$ms"
		output_is "$expect"
		time_is "$expect" "$ms $expect"
	done
}

@test "spectool: usage errors exit 2" {
	expect 2 "$TTOOLS/spectool"
	expect 2 "$TTOOLS/spectool" bogus x
	expect 2 "$TTOOLS/spectool" spec
	expect 2 "$TTOOLS/spectool" time -1h notanumber
	expect 2 "$TTOOLS/spectool" format 1.5
	expect 2 "$TTOOLS/spectool" duration 1
}
