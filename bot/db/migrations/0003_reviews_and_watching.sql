-- 0003: members' ratings and reviews, watchlists, and what members and the club have watched (all per server).

-- Ratings are stored in half stars (1 = 0.5 stars ... 10 = 5 stars) so that no float ever needs rounding.
CREATE TABLE reviews (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    film_id    INTEGER NOT NULL REFERENCES films (id),
    rating     INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 10),
    body       TEXT CHECK (body IS NULL OR length(body) <= 2000),
    spoiler    INTEGER NOT NULL DEFAULT 0 CHECK (spoiler IN (0, 1)),
    source     TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'letterboxd')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    edited     INTEGER NOT NULL DEFAULT 0 CHECK (edited IN (0, 1)),
    PRIMARY KEY (guild_id, user_id, film_id)
) WITHOUT ROWID;
CREATE INDEX reviews_by_film ON reviews (guild_id, film_id);

-- A moderator's removal of a review is recorded with what was removed.
CREATE TABLE review_removals (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    film_id    INTEGER NOT NULL REFERENCES films (id),
    rating     INTEGER NOT NULL,
    body       TEXT,
    removed_by INTEGER NOT NULL,
    reason     TEXT,
    removed_at TEXT NOT NULL
);

CREATE TABLE watchlist (
    guild_id INTEGER NOT NULL,
    user_id  INTEGER NOT NULL,
    film_id  INTEGER NOT NULL REFERENCES films (id),
    source   TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'letterboxd')),
    added_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, film_id)
) WITHOUT ROWID;
CREATE INDEX watchlist_by_film ON watchlist (guild_id, film_id);

-- What each member has seen (a rating also counts as seen; see bot.core.watch.seen_by).
CREATE TABLE member_watched (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    film_id    INTEGER NOT NULL REFERENCES films (id),
    source     TEXT NOT NULL CHECK (source IN ('manual', 'letterboxd', 'screening')),
    watched_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, film_id)
) WITHOUT ROWID;

-- What the club has screened together (or a moderator marked as seen).
CREATE TABLE club_watched (
    guild_id   INTEGER NOT NULL,
    film_id    INTEGER NOT NULL REFERENCES films (id),
    source     TEXT NOT NULL CHECK (source IN ('manual', 'screening')),
    reference  TEXT,                  -- e.g. the scheduled event id of the screening
    watched_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, film_id)
) WITHOUT ROWID;
