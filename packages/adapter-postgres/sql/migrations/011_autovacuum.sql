-- 011: autovacuum settings for the churning tables (issue 14).
--
-- A queue table churns: every job leaves a dead row version at its reserve (the one non-HOT
-- update, 010) and another when retention deletes it, and the `batches` rows go the same way.
-- PostgreSQL's default lets dead tuples reach 20 % of a table (autovacuum_vacuum_scale_factor
-- 0.2) before autovacuum runs: 20,000 on a table holding the default 100,000 finished jobs,
-- 2,000,000 on a backlog of ten million. Until a vacuum, the dead versions' index entries stay:
-- measured (enqueue 20k, reserve 800 + settle until drained, five rounds, autovacuum off,
-- fillfactor 50), after 100,000 jobs the indexes took 1,881 pages without a vacuum and 1,224
-- with a VACUUM after every 20,000 jobs (−35 %); each of those vacuums wrote 22–23 WAL bytes
-- per job. Here a vacuum starts once dead tuples reach 5 % of the table (plus the default
-- threshold of 50), so a large table is vacuumed four times as often as by default; a small
-- one costs little to vacuum anyway. Analyze keeps the default: the reserve functions turn
-- bitmap scans and sorts off (002), so their plans do not hang on fresh statistics.
--
-- The fillfactor stays 50 (010). Measured with bench/postgres/sql-variants.js
-- (`--fillfactors`, 2026-12-03): bulk enqueue wrote 636–641 WAL bytes per job at fillfactor
-- 50, 60, 70, 80 and 100 alike (a heap insert record per row, 341 B, plus three btree leaf
-- inserts, 72–87 B each; a page's initialisation is 34 B per job at 50), and its PostgreSQL
-- backend CPU, 13.5–16 µs per job, moved with the noise, not the fillfactor; 009's layout
-- (fillfactor 100) measured 630 B and 13–14.5 µs. The drain is where it matters: 438 B per
-- job at 50 against 615 at 60, 776 at 70, 888 at 80 and 1,190 at 100 (46 / 42 / 31 / 23 /
-- 0 % of updates HOT). (ALTER TABLE … SET (fillfactor = N) would only apply to new pages.)

ALTER TABLE errand.jobs SET (autovacuum_vacuum_scale_factor = 0.05);
ALTER TABLE errand.batches SET (autovacuum_vacuum_scale_factor = 0.05);
