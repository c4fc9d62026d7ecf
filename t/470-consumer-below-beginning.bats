#!/usr/bin/env bats
# A consumer whose checkpoint fell below the log's beginning (retention
# removed records it had not applied) is stopped with exit 1 and told the
# lost range, by every program that would otherwise go on from the
# beginning; only logapply -s (or logcheckpoint -s) moves it on.
load helpers

# mklog: records 1..6000 in 16K segments, starting at offsets 0, 1752,
# 3392 and 5032.
mklog() {
	sh_ok 'seq 1 6000 | logappend -s 16K L'
	is "$(ls L/*.log | tr '\n' ' ')" "L/00000000000000000000.log L/00000000000000001752.log L/00000000000000003392.log L/00000000000000005032.log "
}

teardown() {
	[ -z "${APPLY-}" ] || kill "$APPLY" 2>/dev/null || true
}

LOST="checkpoint 3000 is below the beginning of the log (3392): offsets 3000-3391 were removed before the consumer applied them; logapply -s skips what is lost, logcheckpoint -s sets the checkpoint"

@test "below the beginning: logapply stops with exit 1, naming the lost range" {
	mklog
	ok logcheckpoint -s 3000 L slowpoke
	ok logcompact -r 1000 L
	ok logseek L beginning
	output_is 3392
	fails 1 logapply L slowpoke -- cat
	stderr_is "logapply: L: slowpoke: $LOST"
	output_is ""
	ok logcheckpoint -n -s beginning L slowpoke
	output_is "slowpoke 3000 3392"
	# Nothing moved: the next run says the same.
	fails 1 logapply -f L slowpoke -- cat
	stderr_is "logapply: L: slowpoke: $LOST"
}

@test "below the beginning: said so when damage in the last segment hides the end too" {
	mklog
	ok logcheckpoint -s 3000 L slowpoke
	ok logcompact -r 1000 L
	# Two small batches after the last one indexed; a byte of the first
	# of them flipped, valid data after it.
	at=$(stat -c %s L/00000000000000005032.log)
	ok logappend L <<<6001
	ok logappend L <<<6002
	printf 'X' | dd of=L/00000000000000005032.log bs=1 seek=$((at + 56)) \
	    conv=notrunc status=none
	fails 1 logstat L
	# The beginning needs no end: the lost range is still what stops it
	# (before, it went on from 3392 and met the damage later).
	fails 1 logapply L slowpoke -- cat
	stderr_is "logapply: L: slowpoke: $LOST"
	output_is ""
}

@test "below the beginning: logapply -s skips what is lost, says so, and goes on" {
	mklog
	ok logcheckpoint -s 3000 L slowpoke
	ok logcompact -r 1000 L
	expect 0 logapply -s -b 1000 L slowpoke -- sh -c 'echo "$LOGAPPLY_FIRST-$LOGAPPLY_LAST"'
	stderr_is "logapply: L: slowpoke: skipping offsets 3000-3391, removed before they were applied"
	output_is "3392-4391
4392-5391
5392-5999"
	ok logcheckpoint L slowpoke
	output_is 6000
	# Once past, nothing more to say.
	ok logapply -s L slowpoke -- cat
	output_is ""
}

@test "below the beginning: skip-lost in a -c file" {
	mklog
	ok logcheckpoint -s 3000 L a
	ok logcheckpoint -s 3000 L b
	ok logcompact -r 1000 L
	cat > c.yaml <<-'EOF'
	consumers:
	  - {name: a, log: L, command: [cat], skip-lost: true}
	  - {name: b, log: L, command: [cat]}
	EOF
	expect 1 logapply -c c.yaml
	[[ $stderr == *"logapply: L: a: skipping offsets 3000-3391, removed before they were applied"* ]]
	[[ $stderr == *"logapply: L: b: $LOST"* ]]
	ok logcheckpoint L a
	output_is 6000
	fails 1 logcheckpoint L b
	stderr_is "logcheckpoint: L: b: $LOST"
}

@test "below the beginning: retention while logapply runs stops it at the hole" {
	mklog
	# The first batch waits until retention has removed the first two
	# segments; the reader goes on in the first, which it has open, to
	# its last record (1751), and meets the hole at the next.
	logapply -b 10 L c -- sh -c '
	    if [ "$LOGAPPLY_FIRST" = 0 ]; then
		touch started
		while [ ! -e go ]; do sleep 0.01; done
	    fi
	    cat >/dev/null' >out 2>err 3>&- &
	APPLY=$!
	wait_until test -e started
	ok logcompact -r 1000 L
	touch go
	local rc=0
	wait "$APPLY" || rc=$?
	APPLY=
	is "$rc" 1
	is "$(cat err)" "logapply: L: c: checkpoint 1752 is below the beginning of the log (3392): offsets 1752-3391 were removed before the consumer applied them; logapply -s skips what is lost, logcheckpoint -s sets the checkpoint"
	ok logcheckpoint -n -s beginning L c
	output_is "c 1752 3392"
}

@test "below the beginning: logcat -g refuses to start there" {
	mklog
	ok logcheckpoint -s 3000 L slowpoke
	ok logcat -g slowpoke -c 1 L
	output_is 3001
	ok logcompact -r 1000 L
	fails 1 logcat -g slowpoke L
	stderr_is "logcat: L: slowpoke: $LOST"
	output_is ""
	ok logcheckpoint -s beginning L slowpoke
	ok logcat -g slowpoke -c 1 L
	output_is 3393
}

@test "below the beginning: logcheckpoint lists it with a warning, exit 1, and -w does not wait" {
	mklog
	ok logcheckpoint -s 3000 L slowpoke
	ok logcheckpoint -s end L fast
	ok logcompact -r 1000 L
	fails 1 logcheckpoint L
	stderr_is "logcheckpoint: L: slowpoke: $LOST"
	# Still shown: a script needs the offset to recover; its lag counts
	# the records lost too.
	[[ $(sed -n 1p <<<"$output") == "fast 6000 0 "* ]]
	[[ $(sed -n 2p <<<"$output") == "slowpoke 3000 3000 "* ]]
	fails 1 logcheckpoint -J L
	[[ $(sed -n 2p <<<"$output") == '{"consumer":"slowpoke","offset":3000,"lag":3000,'* ]]
	fails 1 logcheckpoint L slowpoke
	stderr_is "logcheckpoint: L: slowpoke: $LOST"
	output_is 3000
	# It cannot catch up without being moved: waiting would never end.
	fails 1 logcheckpoint -w -T 10 L fast slowpoke
	stderr_is "logcheckpoint: L: slowpoke: $LOST"
	ok logcheckpoint -w L fast
	# Not below it, though: that would be the same hole.
	fails 2 logcheckpoint -s 3391 L slowpoke
	stderr_is "logcheckpoint: L: slowpoke: offset 3391 is below the beginning of the log (3392)"
	fails 2 logcheckpoint -S 1 L slowpoke
	stderr_is "logcheckpoint: L: slowpoke: offset 3001 is below the beginning of the log (3392)"
	fails 2 logcheckpoint -s 0 L new
	# Moved on, it is an ordinary consumer again.
	ok logcheckpoint -S 392 L slowpoke
	ok logcheckpoint L slowpoke
	output_is 3392
}
