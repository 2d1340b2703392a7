-- 0016: films a server adds itself (nominations, Letterboxd imports), its nominations, and film details from TMDb.

-- A film with a guild_id belongs to that one server: it works wherever a curated film does, but only there, and the
-- catalog loader never touches it. Its slug starts with '~', which curated slugs cannot contain.
ALTER TABLE films ADD COLUMN guild_id INTEGER;       -- NULL for a curated film
ALTER TABLE films ADD COLUMN tmdb_id INTEGER;        -- TMDb's movie id, when known (curated: from the catalog)
ALTER TABLE films ADD COLUMN letterboxd_uri TEXT;    -- the film's Letterboxd page, when it came from an import
ALTER TABLE films ADD COLUMN title_key TEXT;         -- a server film's normalised title, for its duplicate check
ALTER TABLE films ADD COLUMN added_by INTEGER;       -- the member who entered a server film
CREATE INDEX films_by_guild ON films (guild_id, id) WHERE guild_id IS NOT NULL;
CREATE INDEX films_by_tmdb ON films (tmdb_id) WHERE tmdb_id IS NOT NULL;
-- One server film per title and year, per TMDb id and per IMDb id in a server (curated twins are checked by the core).
CREATE UNIQUE INDEX films_server_title ON films (guild_id, title_key, year) WHERE guild_id IS NOT NULL;
CREATE UNIQUE INDEX films_server_tmdb ON films (guild_id, tmdb_id) WHERE guild_id IS NOT NULL AND tmdb_id IS NOT NULL;
CREATE UNIQUE INDEX films_server_imdb ON films (guild_id, imdb_id) WHERE guild_id IS NOT NULL AND imdb_id IS NOT NULL;
-- Bumped by every write to a server's films, so a process knows (one key read) when its title index of them is stale.
CREATE TABLE server_film_versions (
    guild_id    INTEGER PRIMARY KEY,
    version     INTEGER NOT NULL
);

-- A member's proposal that the club watch a film (curated or the server's). One row per film and server: nominating
-- a rejected or chosen film again reopens its row; a banned one cannot be nominated again.
CREATE TABLE nominations (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    film_id     INTEGER NOT NULL REFERENCES films (id),
    member_id   INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'banned', 'chosen')),
    created_at  TEXT NOT NULL,
    decided_by  INTEGER,
    decided_at  TEXT,
    UNIQUE (guild_id, film_id)
);
CREATE INDEX nominations_newest ON nominations (guild_id, id);
CREATE INDEX nominations_by_member ON nominations (guild_id, member_id, status);

ALTER TABLE guild_settings ADD COLUMN nominations_approval INTEGER NOT NULL DEFAULT 0 CHECK (nominations_approval IN (0, 1));
ALTER TABLE guild_settings ADD COLUMN nominations_limit INTEGER NOT NULL DEFAULT 3 CHECK (nominations_limit BETWEEN 1 AND 25);
ALTER TABLE guild_settings ADD COLUMN nominator_role_id INTEGER;   -- NULL: every member may nominate

-- What TMDb said of a film (JSON, see bot/core/details.py), kept until expires_at and refreshed after; one row per TMDb id.
CREATE TABLE tmdb_details (
    tmdb_id     INTEGER PRIMARY KEY,
    details     TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
-- TMDb's answers to title searches, by normalised query ('title|year').
CREATE TABLE tmdb_searches (
    query_key   TEXT PRIMARY KEY,
    results     TEXT NOT NULL,
    fetched_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
