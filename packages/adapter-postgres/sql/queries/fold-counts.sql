-- Replaces the count log's rows by their sums (errand.fold_counts, migration 014).
SELECT errand.fold_counts() AS read
