#!/usr/bin/env bats
# examples/cluster: the story of logmirror, run as a user would, checked
# by its own end (every replica equal, the store agreeing with the log)
# and by what it prints.
load helpers

@test "examples/cluster: two hosts push, a third pulls and applies, the leader killed midway" {
	require nats-server
	require sqlite3
	ok "$BATS_TEST_DIRNAME/../examples/cluster/run"
	case $output in
	*"== kill -9 the stream's leader, n"[123]", at "*" messages"*) ;;
	*) echo "$output" >&2; false ;;
	esac
	grep -qx "pushed: host-a 3001, host-b 3001 records" <<<"$output"
	grep -Eqx "n[123]: 6002 1 6002 \(messages first last\)" <<<"$output"
	is "$(grep -c "^n[123]: 6002 1 6002 " <<<"$output")" 3
	c=$(sed -n 's/^logcat -B host-c\/replica | sha256sum: //p' <<<"$output")
	d=$(sed -n 's/^logcat -B host-d\/replica | sha256sum: //p' <<<"$output")
	[ -n "$c" ]
	is "$c" "$d"
	grep -qx "store: 98 keys, each the latest value of the log; applied through offset 6001" <<<"$output"
	# Nothing is left running.
	run pgrep -f "synclog-cluster"
	is "$status" 1
}
