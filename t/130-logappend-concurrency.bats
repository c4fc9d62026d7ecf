#!/usr/bin/env bats
# logappend: concurrent writers interleave whole batches, keep each input's
# order and write offsets densely; a million lines go in and out intact.
load helpers

# check_writers N COUNT: the log L holds, for each writer i of N, the lines
# "i:1" .. "i:COUNT" in order, and offsets 0.. with no gap.
check_writers() {
	local n=$1 count=$2 i
	logcat -F '%o %s\n' L > all
	is "$(wc -l < all)" $((n * count)) || return 1
	awk '$1 != NR - 1 { print "offset " $1 " at line " NR; exit 1 }' all ||
	    return 1
	for ((i = 1; i <= n; i++)); do
		grep " $i:" all | cut -d: -f2 | cmp - <(seq 1 "$count") ||
		    return 1
	done
}

@test "four concurrent appenders: offsets dense, each input's order kept" {
	local i
	for i in 1 2 3 4; do
		seq 1 20000 | sed "s/^/$i:/" > in.$i
	done
	for i in 1 2 3 4; do
		logappend -s 64K L < in.$i &
	done
	wait
	check_writers 4 20000
	# They really did interleave: batches of different writers alternate.
	[ "$(awk '{ split($2, a, ":"); if (a[1] != p) n++; p = a[1] } END { print n }' all)" -gt 4 ]
	[ "$(ls L/*.log | wc -l)" -gt 4 ]
}

@test "four concurrent appenders of slow streams, with -p: each prints its own offsets" {
	local i
	for i in 1 2 3 4; do
		(for j in $(seq 0 19); do
			seq $((j * 50 + 1)) $((j * 50 + 50)) | sed "s/^/$i:/"
			sleep 0.01
		done) | logappend -p L > offs.$i &
	done
	wait
	check_writers 4 1000
	# The offsets writer i printed hold writer i's lines, in order.
	for i in 1 2 3 4; do
		awk -v i=$i 'NR == FNR { v[$1] = $2; next }
		    v[$1] != i ":" FNR { print "writer " i ": offset " $1; exit 1 }' \
		    all offs.$i
	done
	[ -z "$(cat offs.* | sort -n | uniq -d)" ]
}

@test "a killed writer does not block the next one" {
	seq 1 10 | logappend L
	# Killed while it holds the lock for its batch.
	with_fault 'pwrite~.log:1:kill' expect 137 logappend L <<<lost
	faults_fired 1
	ok timeout 10 logappend -p L <<<next
	output_is 10
}

@test "must show: a million lines go in and come out identical" {
	sh_ok 'seq 1 1000000 | logappend L && logcat L | cmp - <(seq 1 1000000)'
}
