-- Deletes unique locks whose holder no longer blocks and rate-window starts past their
-- window, up to $1 of each (flow_retention, migration 006). Returns the locks looked at.
SELECT errand.flow_retention($1) AS seen
