-- 0009: a screening records when its Discord event was started, so the start happens once and is re-armed after
-- a restart.
ALTER TABLE screenings ADD COLUMN started_at TEXT;
