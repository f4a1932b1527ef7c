-- 013: autovacuum on the churning tables runs unthrottled (issue 14).
--
-- By default autovacuum sleeps 2 ms after every 200 cost units (autovacuum_vacuum_cost_delay,
-- vacuum_cost_limit): about 40 MB of dirtied pages a second at most. A queue table at a high
-- rate leaves more dead row versions than that can clear. Measured with the soak bench
-- (bench/soak, 3M jobs at 15,567 jobs/s, two workers, retention 60 s and 100,000 finished
-- jobs, a VACUUM of the run's tables every 30 s standing in for autovacuum on 2 shared
-- cores): throttled like autovacuum, the schema grew from 1,632 MB at 70 s to 3,163 MB at the
-- end of the steady phase (1.94×) and kept growing; unthrottled, it stayed between 1,018 and
-- 1,060 MB (1.04×). Each unthrottled round took ~12 s of CPU on the 2 cores.
--
-- Only these two tables: the rest of the database keeps the server's settings. A server that
-- must keep vacuum I/O down can set its own value back:
--   ALTER TABLE errand.jobs SET (autovacuum_vacuum_cost_delay = 2);

ALTER TABLE errand.jobs SET (autovacuum_vacuum_cost_delay = 0);
ALTER TABLE errand.batches SET (autovacuum_vacuum_cost_delay = 0);
