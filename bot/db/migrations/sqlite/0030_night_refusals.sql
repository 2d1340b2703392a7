-- 0029: the last time Discord refused to create or edit a night's event (a short reason and when), shown to
-- moderators in /config show until an event is made for the night.
ALTER TABLE screening_nights ADD COLUMN refused TEXT;
ALTER TABLE screening_nights ADD COLUMN refused_at TEXT;
