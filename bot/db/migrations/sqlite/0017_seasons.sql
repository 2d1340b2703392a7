-- 0017: seasons, a club's multi-week series on one theme, with its running order (fixed films, a weekly poll, or
-- the weekly picks) and programme notes.

CREATE TABLE seasons (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    theme_slug   TEXT NOT NULL,      -- a curated theme's slug or a collection's '@<id>'
    theme_title  TEXT NOT NULL,      -- as it was when the season was made
    mode         TEXT NOT NULL CHECK (mode IN ('fixed', 'poll', 'picks')),
    weeks        INTEGER NOT NULL CHECK (weeks BETWEEN 1 AND 52),
    starts_at    TEXT NOT NULL,
    ends_at      TEXT NOT NULL,      -- starts_at + weeks * 7 days
    notes        TEXT NOT NULL,
    created_by   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    ended_at     TEXT,               -- set when a moderator ends or cancels it early
    ended_by     INTEGER
);
CREATE INDEX seasons_by_guild ON seasons (guild_id, id);

-- The fixed running order: one film per week (mode 'fixed' only).
CREATE TABLE season_films (
    season_id    INTEGER NOT NULL REFERENCES seasons (id) ON DELETE CASCADE,
    week         INTEGER NOT NULL CHECK (week BETWEEN 1 AND 52),
    film_id      INTEGER NOT NULL REFERENCES films (id),
    PRIMARY KEY (season_id, week)
);
