-- 0022 (assigned 0026): a screening counts its revisions (moved, cancelled, failed) and records when the last one was
-- made, so the calendar feed's SEQUENCE and LAST-MODIFIED tell subscribed calendars to replace what they hold.
ALTER TABLE screenings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE screenings ADD COLUMN modified_at TEXT;
