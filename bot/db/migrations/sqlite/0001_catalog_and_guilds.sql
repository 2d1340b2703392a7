-- 0001: the catalog (films, themes and their links), full-text search over it, and per-guild settings.

-- Curated themes from data/*.toml. A theme removed from the files is retired, never deleted.
CREATE TABLE themes (
    slug         TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    source_file  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    retired      INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    added_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

-- Films and series. `id` is the internal key everything else points at; `slug` is the catalog's stable id.
-- Upserts go by slug and keep `id`, so reviews, ballots and picks survive a catalog reload.
CREATE TABLE films (
    id           INTEGER PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    year         INTEGER NOT NULL,
    runtime      INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    episodes     INTEGER,
    seasons      INTEGER,
    blurb        TEXT NOT NULL,
    imdb_id      TEXT,
    directors    TEXT NOT NULL DEFAULT '[]',   -- JSON array
    featuring    TEXT NOT NULL DEFAULT '[]',   -- JSON array: artists, subjects, principal cast
    countries    TEXT NOT NULL DEFAULT '[]',   -- JSON array of ISO 3166 codes
    alt_titles   TEXT NOT NULL DEFAULT '[]',   -- JSON array
    prompts      TEXT NOT NULL DEFAULT '[]',   -- JSON array
    source_file  TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    retired      INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
    added_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);

CREATE TABLE film_themes (
    film_id    INTEGER NOT NULL REFERENCES films (id) ON DELETE CASCADE,
    theme_slug TEXT NOT NULL REFERENCES themes (slug) ON UPDATE CASCADE,
    position   INTEGER NOT NULL,
    PRIMARY KEY (film_id, theme_slug)
) WITHOUT ROWID;
CREATE INDEX film_themes_by_theme ON film_themes (theme_slug, film_id);

-- Full-text search over titles, people (directors and featured) and blurbs; rowid = films.id. Kept in step by the
-- catalog loader, and only for films that are not retired. "Films with this person" is a phrase query on `people`.
-- No prefix indexes: they doubled the cost of loading a large catalog, and prefix queries work without them.
CREATE VIRTUAL TABLE film_search USING fts5 (
    title, alt_titles, people, blurb,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- The hash of the catalog files last loaded, so that an unchanged catalog reloads as a no-op.
CREATE TABLE catalog_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    content_hash TEXT NOT NULL,
    source       TEXT NOT NULL,
    loaded_at    TEXT NOT NULL
);

-- Per-guild settings; a guild without a row uses the defaults below.
CREATE TABLE guild_settings (
    guild_id                 INTEGER PRIMARY KEY,
    picks_channel_id         INTEGER,
    polls_channel_id         INTEGER,
    announcements_channel_id INTEGER,
    moderator_role_id        INTEGER,
    voter_role_id            INTEGER,
    timezone                 TEXT NOT NULL DEFAULT 'UTC',
    updated_at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
