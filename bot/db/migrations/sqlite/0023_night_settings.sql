-- 0024: per-server screening-night settings (`/config screenings thread_after: archive_days: attendance_share:`).
-- thread_after_minutes: the discussion thread opens this long after the start (0: at the start). NULL in the other
-- two: the bot-wide THREAD_ARCHIVE_DAYS and ATTENDANCE_SHARE.
ALTER TABLE guild_settings ADD COLUMN thread_after_minutes INTEGER NOT NULL DEFAULT 0
    CHECK (thread_after_minutes BETWEEN 0 AND 240);
ALTER TABLE guild_settings ADD COLUMN thread_archive_days INTEGER CHECK (thread_archive_days BETWEEN 1 AND 30);
ALTER TABLE guild_settings ADD COLUMN attendance_share INTEGER CHECK (attendance_share BETWEEN 10 AND 100);
