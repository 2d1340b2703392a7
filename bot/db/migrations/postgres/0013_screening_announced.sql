-- 0013: a screening records when its announcement was posted (or refused by Discord), so that a restart between
-- creating the event and announcing it posts the announcement then, once. Screenings that already have an event
-- were announced by the code before this column.
ALTER TABLE screenings ADD COLUMN announced_at TEXT;
UPDATE screenings SET announced_at = created_at WHERE event_id IS NOT NULL;
