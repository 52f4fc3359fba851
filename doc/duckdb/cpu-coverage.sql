-- Per-CPU coverage, per boot: the trace events each CPU left, the events
-- its `CPU:N [LOST M EVENTS]` markers say it lost, and its first and last
-- trace timestamps in the order the lines were read (what `report` lists
-- under coverage.cpus).
SELECT boot, cpu,
       count(*) FILTER (WHERE kind <> 'lost-events') AS events,
       coalesce(sum(CAST(fields ->> 'count' AS UBIGINT))
                    FILTER (WHERE kind = 'lost-events'), 0) AS lost_events,
       first(trace_ts_ns ORDER BY input, line)
           FILTER (WHERE trace_ts_ns IS NOT NULL) AS first_trace_ts_ns,
       last(trace_ts_ns ORDER BY input, line)
           FILTER (WHERE trace_ts_ns IS NOT NULL) AS last_trace_ts_ns
FROM ev
WHERE cpu IS NOT NULL
GROUP BY boot, cpu
ORDER BY boot, cpu;
