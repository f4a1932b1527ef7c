-- StatusStoreFlow.recurringState. $1 tasks text[]
SELECT task, last_tick, job_id FROM errand.store_flow_recurring WHERE task = ANY ($1::text[])
