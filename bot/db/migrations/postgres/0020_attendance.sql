-- 0020: attendance at screenings.

-- Each stretch a member spent in the channel while the screening ran; left_at NULL while they are still there.
-- Written as members come and go, so a restart mid-screening loses nothing (start-up closes or opens stretches to
-- match the channel as Discord reports it).
CREATE TABLE attendance_intervals (
    screening_id  BIGINT NOT NULL REFERENCES screenings (id),
    user_id       BIGINT NOT NULL,
    joined_at     TEXT NOT NULL,
    left_at       TEXT,
    PRIMARY KEY (screening_id, user_id, joined_at)
);
-- At most one open stretch per member and screening.
CREATE UNIQUE INDEX attendance_open ON attendance_intervals (screening_id, user_id) WHERE left_at IS NULL;

-- Members recorded as attending when the screening ended (present for at least the configured share of the film).
CREATE TABLE attendance (
    screening_id  BIGINT NOT NULL REFERENCES screenings (id),
    guild_id      BIGINT NOT NULL,
    user_id       BIGINT NOT NULL,
    seconds       BIGINT NOT NULL,
    recorded_at   TEXT NOT NULL,
    PRIMARY KEY (screening_id, user_id)
);
CREATE INDEX attendance_by_member ON attendance (guild_id, user_id);
-- The voice channel of a running screening, looked up at every voice-state change.
CREATE INDEX screenings_by_channel ON screenings (channel_id) WHERE channel_id IS NOT NULL;
