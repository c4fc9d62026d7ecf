#!/usr/bin/env bats
# The runnable examples besides the demo: each runs against this build and
# checks its own outcome.
load helpers

E=$BATS_TEST_DIRNAME/../examples

@test "cron: the crontab line's command, run twice, applies only what is new" {
	ok "$E/cron/run"
	case $output in
	*"cron runs: cd \"\$SHOP\" && logapply -c consumers.yaml >>apply.log 2>&1"*) ;;
	*) false ;;
	esac
	case $output in
	*"after the first run:"*"db 1000 0 "*"search 1000 0 "*"db 1200 0 "*"search 1200 0 "*) ;;
	*) false ;;
	esac
	# The crontab line is what cron would read: five time fields.
	sh_ok "grep -E '^[*0-9]' '$E/cron/crontab' | awk '{ print (NF > 6) }'"
	output_is 1
}

@test "ci-check: only the last hour counts; a new bad record fails the check" {
	expect 0 "$E/ci-check/run"
	stderr_is "check-recent: events: 1 bad of 361 records since -1h
check-recent: events: 2 bad of 1082 records since -3h"
	case $output in
	*"events: 360 records since -1h, all good"*'{"offset":1081,"key":"listing:10000","problem":"no title"}'*) ;;
	*) false ;;
	esac
	logappend -J ev < /dev/null
	PATH=$E/ci-check:$PATH
	ok check-recent ev
	output_is "check-recent: ev: 0 records since -1h, all good"
	expect 2 check-recent
	expect 2 check-recent -x ev
	expect 2 check-recent nosuchlog
	stderr_has "check-recent: nosuchlog: cannot read the log"
}

@test "debug: logfsck --dump and logcat -F, then a damaged byte is found" {
	[ -x "$SYNCLOG_BUILD/bin/logfsck" ] || skip "logfsck is not built yet"
	expect 0 "$E/debug/run"
	case $output in *"logfsck exit status: 1"*"logcat exit status: 1"*) ;; *) false ;; esac
	# Both name the damaged batch's first offset; logcat printed the
	# first batch, and nothing after the damage.
	stderr_has "logfsck: events: 00000000000000000000.log: byte "
	stderr_has "offset 5"
	case $output in *"4 user:5"*) ;; *) false ;; esac
	case $output in *"5 listing:"*) false ;; esac
}
