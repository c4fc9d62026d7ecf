-- pg-apply.sql - one batch of JSON Lines records (psql's stdin) applied to
-- entities in the transaction psql -1 opens; see pg-apply.
SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS synclog_progress (
	consumer	text PRIMARY KEY,
	next_offset	bigint NOT NULL,
	log_id		text
);
CREATE TABLE IF NOT EXISTS entities (
	key		text PRIMARY KEY,
	value		text NOT NULL,
	applied_offset	bigint NOT NULL
);
INSERT INTO synclog_progress VALUES (:'consumer', 0, NULL)
    ON CONFLICT DO NOTHING;
-- The lock that makes the offset check and the change one unit.
SELECT next_offset FROM synclog_progress WHERE consumer = :'consumer'
    FOR UPDATE \gset
SELECT :next_offset > :last AS all_done, :next_offset > :first AS some_done,
    :next_offset - 1 AS done_to \gset
\if :all_done
\warn pg-apply: offsets :first-:last already applied, skipped
\elif :some_done
\warn pg-apply: offsets :first-:done_to already applied, skipped
\endif
CREATE TEMP TABLE guard (ok boolean CONSTRAINT same_log CHECK (ok))
    ON COMMIT DROP;
INSERT INTO guard SELECT log_id IS NULL OR :'logid' = '' OR log_id = :'logid'
    FROM synclog_progress WHERE consumer = :'consumer';

-- One JSON document a line: CSV with quote and delimiter bytes that JSON
-- text never holds raw, so every line is one field, backslashes intact.
CREATE TEMP TABLE batch (doc jsonb NOT NULL CONSTRAINT keyed_text_record
    CHECK (jsonb_typeof(doc->'offset') = 'number' AND
    jsonb_typeof(doc->'key') = 'string' AND
    jsonb_typeof(doc->'value') IN ('string', 'null'))) ON COMMIT DROP;
\copy batch FROM pstdin WITH (FORMAT csv, QUOTE E'\x01', DELIMITER E'\x02')
CREATE TEMP TABLE todo ON COMMIT DROP AS
SELECT DISTINCT ON (doc->>'key') doc->>'key' AS key,
    doc->>'value' AS value, (doc->>'offset')::bigint AS off
FROM batch
WHERE (doc->>'offset')::bigint >= :next_offset
ORDER BY doc->>'key', (doc->>'offset')::bigint DESC;

DELETE FROM entities WHERE key IN (SELECT key FROM todo WHERE value IS NULL);
INSERT INTO entities (key, value, applied_offset)
SELECT key, value, off FROM todo WHERE value IS NOT NULL
ON CONFLICT (key) DO UPDATE
    SET value = excluded.value, applied_offset = excluded.applied_offset;
UPDATE synclog_progress
SET next_offset = greatest(next_offset, :last + 1),
    log_id = coalesce(nullif(:'logid', ''), log_id)
WHERE consumer = :'consumer';
