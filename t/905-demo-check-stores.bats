#!/usr/bin/env bats
# check-stores, the demo's final verdict: it must say "agree" only when a
# store's content, its recorded offset and its checkpoint all match the log.
load helpers

D=$BATS_TEST_DIRNAME/../examples/demo
H=$D/handlers

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	PATH=$D:$H:$PATH
	"$D/gen-events" -n 300 > ev.jsonl
	logappend -J events < ev.jsonl
	mkdir stores
	logapply -J events db -- db-apply stores/db.sqlite
	logapply -J events search -- search-apply stores/search.sqlite
	logapply -J events cache -- cache-apply stores/cache
}

@test "check-stores: stores kept by logapply agree with the log" {
	ok check-stores events db:db:stores/db.sqlite \
	    search:search:stores/search.sqlite cache:cache:stores/cache
	is "$(printf '%s\n' "$output" | tail -n 1)" \
	    "all 3 stores agree with the log at offset 300"
	is "$(printf '%s\n' "$output" | awk 'NR > 1 && $NF == "yes"' | wc -l)" 3
}

@test "check-stores: a changed row, a missing file, an extra key are found" {
	sqlite3 stores/db.sqlite "UPDATE listings SET title = 'x' WHERE rowid = 1"
	expect 1 check-stores -d events db:db:stores/db.sqlite
	case $output in *"NO: content"*"  log:   "*"  store: "*) ;; *) false ;; esac
	is "$(printf '%s\n' "$output" | tail -n 1)" \
	    "stores disagree with the log (end offset 300)"
	rm "stores/cache/$(ls stores/cache | head -n 1)"
	expect 1 check-stores events cache:cache:stores/cache
	echo extra > stores/cache/extra
	expect 1 check-stores events search:search:stores/search.sqlite \
	    cache:cache:stores/cache
	is "$(printf '%s\n' "$output" | grep -c '^search .* yes$')" 1
}

@test "check-stores: a store behind the log does not agree" {
	head -n 1 ev.jsonl | logappend -J events
	expect 1 check-stores events search:search:stores/search.sqlite
	case $output in *"NO: not at 301"*) ;; *) false ;; esac
	ok logapply -J events search -- search-apply stores/search.sqlite
	ok check-stores events search:search:stores/search.sqlite
}

@test "check-stores: usage errors" {
	expect 2 check-stores events
	expect 2 check-stores events nokind
	stderr_is "check-stores: nokind: not KIND:CONSUMER:TARGET with KIND db, search or cache"
	expect 2 check-stores events db:db
	expect 2 check-stores events db:nosuch:stores/db.sqlite
	stderr_has "nosuch"
	expect 2 check-stores nolog db:db:stores/db.sqlite
	ok check-stores --help
}
