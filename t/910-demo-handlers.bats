#!/usr/bin/env bats
# The demo's parts that need no synclog program: the event generator and
# the logapply handlers (fed hand-written JSON Lines batches, the format
# logapply gives them), each idempotent by offset.
load helpers

D=$BATS_TEST_DIRNAME/../examples/demo
H=$D/handlers

# batch FIRST LAST: run the rest of the line as a handler on stdin with
# the environment logapply would give it.
batch() {
	local first=$1 last=$2
	shift 2
	LOGAPPLY_FIRST=$first LOGAPPLY_LAST=$last LOGAPPLY_LOG_ID=${LOGID-0a1b} \
	    LOGAPPLY_CONSUMER=t "$@"
}

rec() {	# rec OFFSET KEY VALUE|-: one record as logapply writes it
	if [ "$3" = - ]; then
		jq -n -c --argjson o "$1" --arg k "$2" \
		    '{offset: $o, timestamp: 1, key: $k, value: null, headers: []}'
	else
		jq -n -c --argjson o "$1" --arg k "$2" --arg v "$3" \
		    '{offset: $o, timestamp: 1, key: $k, value: $v, headers: []}'
	fi
}

listing() {	# listing ID TITLE PRICE [STATUS]
	jq -n -c --argjson id "$1" --arg t "$2" --arg p "$3" --arg s "${4:-active}" \
	    '{id: $id, seller: 1, title: $t, description: "\($t), like new.",
	      price: $p, status: $s}'
}

user() {	# user ID NAME
	jq -n -c --argjson id "$1" --arg n "$2" \
	    '{id: $id, name: $n, email: "u\($id)@example.com", city: "Cork"}'
}

dump_db() {
	sqlite3 "$1" "SELECT * FROM users ORDER BY key;
	    SELECT * FROM listings ORDER BY key;
	    SELECT * FROM synclog_progress"
}

@test "gen-events is deterministic and its output is what logappend -J reads" {
	sh_ok "'$D/gen-events' -n 500 > a && '$D/gen-events' -n 500 > b && cmp a b"
	is "$(wc -l < a)" 500
	sh_ok "jq -e -s 'all(.[]; (.key | test(\"^(user|listing):[0-9]+$\"))
	    and (.value == null or (.value | fromjson | type == \"object\"))
	    and .headers[0].name == \"event\")' a"
	# The stream is pinned: the same bytes with every awk and on every
	# machine (timestamps come from -t, here the default).
	is "$(sha256sum < a | cut -c1-16)" 464d216a45992b38
	for awk in gawk mawk nawk original-awk "busybox awk"; do
		command -v "${awk%% *}" >/dev/null || continue
		sh_ok "AWK='$awk' '$D/gen-events' -n 500 | sha256sum | cut -c1-16"
		output_is 464d216a45992b38
	done
	sh_ok "'$D/gen-events' -n 3 -t 1000000 -S 1 | jq -r .timestamp | tr '\n' ' '"
	output_is "998000 999000 1000000 "
}

@test "gen-events: -s changes the stream, usage errors exit 2" {
	sh_ok "'$D/gen-events' -n 50 -s 1 > a && '$D/gen-events' -n 50 -s 2 > b"
	expect 1 cmp -s a b
	expect 2 "$D/gen-events" -n x
	expect 2 "$D/gen-events" extra
	expect 2 "$D/gen-events" -q
	ok "$D/gen-events" -h
	case $output in usage:*) ;; *) false ;; esac
}

@test "db-apply: creates, updates and deletes by key, prices in cents" {
	{
		rec 0 user:1 "$(user 1 'Ada O'"'"'Neil')"
		rec 1 listing:7 "$(listing 7 'Oak desk' 12.99)"
		rec 2 listing:8 "$(listing 8 'Teak "Nordic" rug' 5.50)"
		rec 3 listing:7 "$(listing 7 'Oak desk, restored' 14.49 sold)"
		rec 4 listing:8 -
		rec 5 other:1 "not json, ignored"
	} > b1
	batch 0 5 expect 0 "$H/db-apply" db.sqlite < b1
	is "$(dump_db db.sqlite)" "user:1|1|Ada O'Neil|u1@example.com|Cork
listing:7|7|1|Oak desk, restored|Oak desk, restored, like new.|1449|sold
1|6|0a1b"
}

@test "db-apply: a replayed batch changes nothing, a partly applied one only its new part" {
	{ rec 0 listing:1 "$(listing 1 A 1.00)"; rec 1 listing:2 "$(listing 2 B 2.00)"; } > b1
	{ rec 2 listing:1 "$(listing 1 A2 3.00)"; rec 3 listing:2 -; } > b2
	batch 0 1 ok "$H/db-apply" db.sqlite < b1
	batch 2 3 ok "$H/db-apply" db.sqlite < b2
	dump_db db.sqlite > before
	batch 0 1 expect 0 "$H/db-apply" db.sqlite < b1
	stderr_is "db-apply: offsets 0-1 already applied, skipped"
	dump_db db.sqlite > after
	ok cmp before after
	# 2-3 applied, 4 new: only 4 counts.
	{ cat b2; rec 4 listing:3 "$(listing 3 C 4.00)"; } > b3
	batch 2 4 expect 0 "$H/db-apply" db.sqlite < b3
	stderr_is "db-apply: offsets 2-3 already applied, skipped"
	is "$(sqlite3 db.sqlite 'SELECT key, title FROM listings ORDER BY key; SELECT next_offset FROM synclog_progress')" \
	    "listing:1|A2
listing:3|C
5"
}

@test "db-apply --v1 keeps release 1's bug: the cents are lost" {
	rec 0 listing:1 "$(listing 1 A 129.99)" > b
	batch 0 0 ok "$H/db-apply" --v1 v1.sqlite < b
	batch 0 0 ok "$H/db-apply" v2.sqlite < b
	is "$(sqlite3 v1.sqlite 'SELECT price_cents FROM listings')" 12900
	is "$(sqlite3 v2.sqlite 'SELECT price_cents FROM listings')" 12999
}

@test "db-apply refuses bad records and another log, and changes nothing" {
	rec 0 listing:1 "$(listing 1 A 1.00)" > b
	batch 0 0 ok "$H/db-apply" db.sqlite < b
	dump_db db.sqlite > before
	rec 1 listing:1 "not json" > bad
	batch 1 1 fails 1 "$H/db-apply" db.sqlite < bad
	stderr_has "db-apply: db.sqlite: offsets 1-1 not applied"
	echo '{"offset":1,"key":"listing:1","value_base64":"AAE="}' > bin
	batch 1 1 fails 1 "$H/db-apply" db.sqlite < bin
	stderr_has keyed_text_record
	echo '{"offset":1,"value":"x"}' > nokey
	batch 1 1 fails 1 "$H/db-apply" db.sqlite < nokey
	echo '{"offset":1,' > torn
	batch 1 1 fails 1 "$H/db-apply" db.sqlite < torn
	rec 1 listing:2 "$(listing 2 B 2.00)" > other
	LOGID=ffff batch 1 1 fails 1 "$H/db-apply" db.sqlite < other
	stderr_has same_log
	dump_db db.sqlite > after
	ok cmp before after
}

@test "db-apply: usage and environment errors" {
	expect 2 "$H/db-apply"
	expect 2 "$H/db-apply" a b
	ok "$H/db-apply" --help
	LOGAPPLY_LAST=1 fails 1 "$H/db-apply" db.sqlite < /dev/null
	stderr_is "db-apply: LOGAPPLY_FIRST: not an offset: ''"
	LOGAPPLY_FIRST=1 LOGAPPLY_LAST=x fails 1 "$H/db-apply" db.sqlite < /dev/null
	LOGAPPLY_FIRST=1 LOGAPPLY_LAST=1 LOGAPPLY_LOG_ID="a';" \
	    fails 1 "$H/db-apply" db.sqlite < /dev/null
	[ ! -e db.sqlite ]
}

@test "search-apply indexes the active listings' titles and descriptions" {
	{
		rec 0 listing:1 "$(listing 1 'Walnut desk lamp' 9.99)"
		rec 1 listing:2 "$(listing 2 'Brass teapot' 19.99)"
		rec 2 listing:3 "$(listing 3 'Walnut mirror' 5.00 sold)"
		rec 3 user:1 "$(user 1 Ada)"
		rec 4 listing:01 "$(listing 99 'Walnut odd key' 1.00)"
	} > b1
	batch 0 4 ok "$H/search-apply" s.sqlite < b1
	q="SELECT key FROM listings_fts WHERE listings_fts MATCH 'walnut' ORDER BY rowid"
	is "$(sqlite3 s.sqlite "$q")" listing:1
	{ rec 5 listing:1 "$(listing 1 'Walnut desk lamp' 9.99 sold)"
	  rec 6 listing:3 "$(listing 3 'Walnut mirror' 5.00)"
	  rec 7 listing:2 -; } > b2
	batch 5 7 ok "$H/search-apply" s.sqlite < b2
	is "$(sqlite3 s.sqlite "$q")" listing:3
	is "$(sqlite3 s.sqlite 'SELECT count(*) FROM listings_fts')" 1
	batch 0 4 expect 0 "$H/search-apply" s.sqlite < b1
	stderr_is "search-apply: offsets 0-4 already applied, skipped"
	is "$(sqlite3 s.sqlite "$q")" listing:3
	expect 2 "$H/search-apply"
}

@test "cache-apply to a directory: a file per key, names escaped, idempotent" {
	{
		rec 0 listing:1 '{"a":1}'
		rec 1 'a/b' 'slash'
		rec 2 '.hidden%' "it's \$(not run) \"q\"
line 2"
		rec 3 '' 'empty key'
		rec 4 gone 'x'
		rec 5 gone -
	} > b1
	batch 0 5 ok "$H/cache-apply" c < b1
	is "$(ls c | sort | tr '\n' ' ')" "% %2Ehidden%25 a%2Fb listing:1 "
	is "$(cat c/%2Ehidden%25)" "it's \$(not run) \"q\"
line 2"
	is "$(cat c/.synclog-progress)" "6 0a1b"
	rec 6 listing:1 '{"a":2}' > b2
	batch 6 6 ok "$H/cache-apply" c < b2
	# A replay of the older batch must not bring back the old value.
	batch 0 5 expect 0 "$H/cache-apply" c < b1
	stderr_is "cache-apply: offsets 0-5 already applied, skipped"
	is "$(cat c/listing:1)" '{"a":2}'
	LOGID=ffff batch 7 7 fails 1 "$H/cache-apply" c < b2
	stderr_is "cache-apply: c: cache holds log 0a1b, not ffff"
	echo '{"offset":7,"key":"k","value":"a\u0000b"}' > nul
	batch 7 7 fails 1 "$H/cache-apply" c < nul
	echo '{"offset":7,"key":"k","value_base64":"AA=="}' > b64
	batch 7 7 fails 1 "$H/cache-apply" c < b64
	[ ! -e c/k ]
	is "$(cat c/.synclog-progress)" "7 0a1b"
	is "$(ls -a c | grep -c stage)" 0
	expect 2 "$H/cache-apply"
}

@test "cache-apply to Redis: one atomic script a batch, idempotent" {
	require redis-server
	redis-server --port 0 --unixsocket "$PWD/r.sock" --save '' \
	    --appendonly no --logfile "$PWD/redis.log" &
	rpid=$!
	for _ in $(seq 100); do
		redis-cli -s r.sock ping >/dev/null 2>&1 && break
		sleep 0.05
	done
	{ rec 0 listing:1 '{"a":1}'; rec 1 k2 'v2'; rec 2 k2 -; rec 3 k3 'v3'; } > b1
	rec 4 listing:1 '{"a":2}' > b2
	batch 0 3 expect 0 "$H/cache-apply" redis:./r.sock < b1 &&
	batch 4 4 expect 0 "$H/cache-apply" redis:./r.sock < b2 &&
	batch 0 3 expect 0 "$H/cache-apply" redis:./r.sock < b1 &&
	stderr_is "cache-apply: offsets 0-3 already applied, skipped" &&
	is "$(redis-cli -s r.sock GET listing:1)" '{"a":2}' &&
	is "$(redis-cli -s r.sock EXISTS k2)" 0 &&
	is "$(redis-cli -s r.sock HGET synclog:consumer:progress next_offset)" 5 &&
	LOGID=ffff batch 5 5 fails 1 "$H/cache-apply" redis:./r.sock < b2 &&
	stderr_has "cache holds log 0a1b, not ffff" &&
	echo '{"offset":5,"key":"x","value":' > bad &&
	batch 5 5 fails 1 "$H/cache-apply" redis:./r.sock < bad &&
	is "$(redis-cli -s r.sock EXISTS x)" 0
	st=$?
	kill "$rpid"
	wait "$rpid" || true
	[ "$st" -eq 0 ]
	batch 5 5 fails 1 "$H/cache-apply" redis:./r.sock < b2
	stderr_has "offsets 5-5 not applied"
}
