#!/usr/bin/env bats
# The PostgreSQL consumer: a throwaway cluster (initdb + pg_ctl on a unix
# socket in a temporary directory, as user postgres when run as root),
# batches applied by psql, a replay skipped, the table equal to the log.
load helpers

E=$BATS_TEST_DIRNAME/../examples/postgres

@test "postgres: pg-apply keeps a table equal to the log, replays change nothing" {
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
	    skip "PostgreSQL server binaries are not installed"
	require psql
	expect 0 env -u PGHOST TMPDIR=/tmp "$E/run"
	case $output in
	*"live keys in the log: 191; rows in PostgreSQL: 191"*"PostgreSQL agrees with the log.") ;;
	*) false ;;
	esac
	stderr_is "pg-apply: offsets 300-499 already applied, skipped
pg-apply: offsets 500-599 already applied, skipped"
	# The cluster was stopped and its directory removed.
	dir=$(printf '%s\n' "$output" | sed -n 's/^Starting a throwaway PostgreSQL cluster in //p')
	[ -n "$dir" ] && [ ! -e "$dir" ]
}

@test "postgres: pg-apply checks its environment" {
	require psql
	LOGAPPLY_FIRST=1 LOGAPPLY_LAST= fails 1 "$E/pg-apply" < /dev/null
	LOGAPPLY_FIRST=1 LOGAPPLY_LAST=2 LOGAPPLY_LOG_ID="x'" \
	    fails 1 "$E/pg-apply" < /dev/null
	expect 2 "$E/pg-apply" extra
}
