-- 0021: the club's recurring screening nights, one row per night the bot keeps a Discord event for (the next one),
-- so a restart finds its event, a night a moderator deleted is not made again, and a poll's winner fills it.

CREATE TABLE screening_nights (
    id            INTEGER PRIMARY KEY,
    guild_id      INTEGER NOT NULL,
    starts_at     TEXT NOT NULL,      -- the night's start (UTC, see bot.db.times)
    channel_id    INTEGER NOT NULL,   -- the voice or stage channel it was planned for
    event_id      INTEGER,            -- its Discord scheduled event, once created
    screening_id  INTEGER REFERENCES screenings (id),  -- set when a film fills it
    state         TEXT NOT NULL CHECK (state IN ('open', 'filled', 'cancelled', 'deleted', 'lapsed')),
    created_at    TEXT NOT NULL,
    UNIQUE (guild_id, starts_at)
);
CREATE UNIQUE INDEX screening_nights_by_screening ON screening_nights (screening_id);
CREATE INDEX screening_nights_by_event ON screening_nights (event_id);
