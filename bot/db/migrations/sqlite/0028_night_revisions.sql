-- 0028: a night counts its revisions (moved, filled, ended, reopened) and records when the last one was made, so the
-- calendar feed's SEQUENCE and LAST-MODIFIED follow it as they follow screenings (0026); slot_at is the configured
-- slot a night stands for once a moderator moved its event in Discord (NULL: it is at its slot).
ALTER TABLE screening_nights ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE screening_nights ADD COLUMN modified_at TEXT;
ALTER TABLE screening_nights ADD COLUMN slot_at TEXT;
