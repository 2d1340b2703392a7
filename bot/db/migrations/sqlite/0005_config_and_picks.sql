-- 0005: moderator configuration (the weekly picks schedule), its change history, and the weekly picks posts.

-- The weekly picks schedule lives with the other per-server settings. A server picks weekly when it has a picks
-- channel, a day and a time, and picks_enabled = 1.
ALTER TABLE guild_settings ADD COLUMN picks_day INTEGER CHECK (picks_day BETWEEN 0 AND 6);   -- 0 = Monday
ALTER TABLE guild_settings ADD COLUMN picks_time TEXT;                                        -- local 'HH:MM[:SS]'
ALTER TABLE guild_settings ADD COLUMN picks_count INTEGER NOT NULL DEFAULT 3 CHECK (picks_count BETWEEN 1 AND 10);
ALTER TABLE guild_settings ADD COLUMN picks_themes TEXT NOT NULL DEFAULT '[]';                -- JSON slugs; [] = all
ALTER TABLE guild_settings ADD COLUMN picks_poll INTEGER NOT NULL DEFAULT 0 CHECK (picks_poll IN (0, 1));
ALTER TABLE guild_settings ADD COLUMN picks_enabled INTEGER NOT NULL DEFAULT 1 CHECK (picks_enabled IN (0, 1));

-- Every configuration change: who, when, which setting, and its value before and after (as text; NULL = unset).
CREATE TABLE config_history (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    setting    TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX config_history_by_guild ON config_history (guild_id, id);

-- The next weekly slot of each server and the persisted timer (bot.core.timers) that fires it.
CREATE TABLE picks_schedule (
    guild_id     INTEGER PRIMARY KEY,
    timer_key    TEXT NOT NULL,
    slot_at      TEXT NOT NULL,        -- UTC (bot.core.clock.to_db)
    week_key     TEXT NOT NULL,        -- ISO week of the slot in the server's timezone, e.g. '2026-W11'
    scheduled_at TEXT NOT NULL
);

-- One row per server and week: the claim that makes each week's post happen exactly once. The row (and its films)
-- is written in one transaction before anything is posted; message_id is set once Discord accepted the post.
CREATE TABLE picks_posts (
    id           INTEGER PRIMARY KEY,
    guild_id     INTEGER NOT NULL,
    week_key     TEXT NOT NULL,
    theme_slug   TEXT NOT NULL,
    theme_title  TEXT NOT NULL,
    trigger      TEXT NOT NULL CHECK (trigger IN ('schedule', 'catch-up', 'now')),
    slot_at      TEXT,                 -- the scheduled slot it answers (NULL for /picks now)
    requested_by INTEGER,              -- the moderator behind /picks now
    channel_id   INTEGER NOT NULL,
    message_id   INTEGER,
    claimed_at   TEXT NOT NULL,
    posted_at    TEXT,
    poll_id      INTEGER,              -- the watch-party poll opened with the picks, if any
    UNIQUE (guild_id, week_key)
);
CREATE INDEX picks_posts_by_guild ON picks_posts (guild_id, claimed_at);

CREATE TABLE picks_post_films (
    post_id  INTEGER NOT NULL REFERENCES picks_posts (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    film_id  INTEGER NOT NULL REFERENCES films (id),
    reason   TEXT NOT NULL,
    PRIMARY KEY (post_id, position)
) WITHOUT ROWID;
CREATE INDEX picks_post_films_by_film ON picks_post_films (film_id);
