# lib.sh - what the demo's logapply handlers share (sourced, not run).
#
# A handler is run by logapply once per batch with the batch's records on
# stdin as JSON Lines (format: json) and LOGAPPLY_FIRST, LOGAPPLY_LAST and
# LOGAPPLY_LOG_ID in its environment.  It must be idempotent by offset: the
# store keeps the next offset it needs in the same transaction as the data
# and ignores records below it, so that a batch replayed after a crash (the
# store committed, the checkpoint did not) changes nothing.
#
# Every value in the demo's log is an entity's whole state, so within a
# batch only the last record of each key matters; the SQLite handlers apply
# just that, set-wise, in one transaction.

prog=${0##*/}

die() {
	echo "$prog: $*" >&2
	exit 1
}

# hl_env: check the variables logapply passes.  LOGAPPLY_LOG_ID may be
# missing (a hand-made batch); when present the store remembers it and
# refuses batches of another log, such as a deleted and recreated one.
hl_env() {
	case ${LOGAPPLY_FIRST-} in
	'' | *[!0-9]*) die "LOGAPPLY_FIRST: not an offset: '${LOGAPPLY_FIRST-}'" ;;
	esac
	case ${LOGAPPLY_LAST-} in
	'' | *[!0-9]*) die "LOGAPPLY_LAST: not an offset: '${LOGAPPLY_LAST-}'" ;;
	esac
	case ${LOGAPPLY_LOG_ID-} in
	*[!0-9a-f]*) die "LOGAPPLY_LOG_ID: not a log id: '$LOGAPPLY_LOG_ID'" ;;
	esac
}

# hl_sqlite DB SCHEMA_SQL APPLY_SQL: apply the batch on stdin to the SQLite
# database DB in one transaction.  APPLY_SQL reads the temporary table
# todo(off, key, value): the last record of each key of the batch that the
# store has not applied yet (value NULL for a tombstone).
hl_sqlite() {
	db=$1 schema=$2 apply=$3
	if [ -n "${LOGAPPLY_LOG_ID-}" ]; then
		logid="'$LOGAPPLY_LOG_ID'"
	else
		logid=NULL
	fi
	status=$({
		cat <<-SQL
		.bail on
		.timeout 10000
		BEGIN IMMEDIATE;
		$schema
		CREATE TABLE IF NOT EXISTS synclog_progress(
		    one INTEGER PRIMARY KEY CHECK (one = 1),
		    next_offset INTEGER NOT NULL,
		    log_id TEXT);
		INSERT OR IGNORE INTO synclog_progress VALUES (1, 0, NULL);
		CREATE TEMP TABLE guard(ok INTEGER CONSTRAINT same_log CHECK (ok));
		INSERT INTO guard SELECT log_id IS NULL OR $logid IS NULL OR
		    log_id = $logid FROM synclog_progress;
		CREATE TEMP TABLE batch(doc TEXT NOT NULL
		    CONSTRAINT keyed_text_record CHECK (json_valid(doc) AND
		    json_type(doc, '\$.offset') IS 'integer' AND
		    json_type(doc, '\$.key') IS 'text' AND
		    (json_type(doc, '\$.value') IS 'text' OR
		    json_type(doc, '\$.value') IS 'null')));
		SQL
		# Each line becomes one string literal: JSON text never holds a
		# raw NUL, and doubling the quotes is all SQL quoting needs.
		sed -e '/^$/d' -e "s/'/''/g" \
		    -e "s/.*/INSERT INTO batch VALUES('&');/"
		cat <<-SQL
		CREATE TEMP TABLE todo AS
		SELECT off, key, value FROM (
		    SELECT json_extract(doc, '\$.offset') AS off,
		        json_extract(doc, '\$.key') AS key,
		        json_extract(doc, '\$.value') AS value,
		        row_number() OVER (PARTITION BY json_extract(doc, '\$.key')
		            ORDER BY json_extract(doc, '\$.offset') DESC) AS nth
		    FROM batch)
		WHERE nth = 1 AND off >= (SELECT next_offset FROM synclog_progress);
		SELECT next_offset FROM synclog_progress;
		$apply
		UPDATE synclog_progress
		SET next_offset = max(next_offset, $LOGAPPLY_LAST + 1),
		    log_id = coalesce($logid, log_id);
		COMMIT;
		SQL
	} | sqlite3 -batch "$db") || die "$db: offsets $LOGAPPLY_FIRST-$LOGAPPLY_LAST not applied"
	hl_report "$status"
}

# hl_report NEXT: after the commit, say so when the store had already
# applied (part of) the batch, so that a replay after a crash is visible.
# DEMO_APPLY_DELAY then slows the handler down, so that the demo can kill
# a consumer between its store's commit and its checkpoint.
hl_report() {
	if [ -n "${DEMO_APPLY_DELAY-}" ]; then
		sleep "$DEMO_APPLY_DELAY"
	fi
	if [ "$1" -gt "$LOGAPPLY_LAST" ]; then
		echo "$prog: offsets $LOGAPPLY_FIRST-$LOGAPPLY_LAST already applied, skipped" >&2
	elif [ "$1" -gt "$LOGAPPLY_FIRST" ]; then
		echo "$prog: offsets $LOGAPPLY_FIRST-$(($1 - 1)) already applied, skipped" >&2
	fi
}
