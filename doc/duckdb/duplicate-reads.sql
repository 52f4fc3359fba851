-- Duplicate read completions: two or more `read-done` events of one eb
-- between its `alloc` and its next alloc or release (a `before-release`),
-- in one boot. Each alloc or release of an eb starts a new stretch of its
-- events; a stretch with two reads is what `report` calls
-- duplicate-read-completion.
WITH eb_events AS (
    SELECT boot, eb, kind, input, line, cpu,
           count(*) FILTER (WHERE kind IN ('alloc', 'before-release'))
               OVER (PARTITION BY boot, eb ORDER BY input, line) AS stretch
    FROM ev
    WHERE eb IS NOT NULL AND kind IN ('alloc', 'read-done', 'before-release')
)
SELECT boot, eb, count(*) AS reads,
       list(cpu ORDER BY input, line) AS cpus,
       min(line) AS first_read_line
FROM eb_events
WHERE kind = 'read-done'
GROUP BY boot, eb, stretch
HAVING count(*) >= 2
ORDER BY boot, eb, first_read_line;
