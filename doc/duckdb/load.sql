-- Load `tracesift events` NDJSON into a table. The columns are named so
-- that DuckDB does not have to guess them from a sample: eb starts are
-- exact unsigned 64-bit integers, `fields` and `args` stay JSON (query
-- them with ->> 'key').
CREATE TABLE ev AS
SELECT * FROM read_json('events.ndjson', format = 'newline_delimited', columns = {
    input: 'UINTEGER', line: 'UBIGINT', lines: 'UINTEGER', boot: 'UINTEGER',
    kind: 'VARCHAR', eb: 'UBIGINT', event: 'VARCHAR', cpu: 'UINTEGER',
    pid: 'UINTEGER', comm: 'VARCHAR', trace_ts_ns: 'UBIGINT',
    trace_ts_counter: 'UBIGINT', console_ts_ns: 'UBIGINT',
    fields: 'JSON', args: 'JSON'});
