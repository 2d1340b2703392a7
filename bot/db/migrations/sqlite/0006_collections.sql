-- 0006: servers' own collections (moderator-made themes), and per-server change counters for recommendation caches.

-- A collection is a theme that one server's moderators made: it lives beside the curated themes, in that server only.
-- `slug` is the normalised name (bot.core.text.normalise_title), unique per server, so "Friday Noir" and
-- "friday noir!" are the same collection.
CREATE TABLE collections (
    id          INTEGER PRIMARY KEY,
    guild_id    INTEGER NOT NULL,
    slug        TEXT NOT NULL,
    title       TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (guild_id, slug)
);

-- The films of a collection, in the order moderators added them.
CREATE TABLE collection_films (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    film_id       INTEGER NOT NULL REFERENCES films (id),
    position      INTEGER NOT NULL,
    added_by      INTEGER NOT NULL,
    added_at      TEXT NOT NULL,
    PRIMARY KEY (collection_id, film_id)
) WITHOUT ROWID;
CREATE INDEX collection_films_by_film ON collection_films (film_id);

-- One row per server, bumped by the triggers below whenever what recommendations read changes: ratings, what was
-- watched or watchlisted, and collections. Recommendation caches (club statistics, the taste model) compare these
-- counters with one primary-key read and rebuild only when they moved, whichever feature wrote the change.
-- The triggers use no conflict clause (no INSERT OR IGNORE): an outer UPSERT's conflict handling would override it.
CREATE TABLE recommend_versions (
    guild_id    INTEGER PRIMARY KEY,
    ratings     INTEGER NOT NULL DEFAULT 0,
    watching    INTEGER NOT NULL DEFAULT 0,
    collections INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER recommend_reviews_insert AFTER INSERT ON reviews
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET ratings = ratings + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_reviews_update AFTER UPDATE OF rating ON reviews
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET ratings = ratings + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_reviews_delete AFTER DELETE ON reviews
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT old.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = old.guild_id);
    UPDATE recommend_versions SET ratings = ratings + 1 WHERE guild_id = old.guild_id;
END;

CREATE TRIGGER recommend_member_watched_insert AFTER INSERT ON member_watched
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET watching = watching + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_member_watched_delete AFTER DELETE ON member_watched
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT old.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = old.guild_id);
    UPDATE recommend_versions SET watching = watching + 1 WHERE guild_id = old.guild_id;
END;
CREATE TRIGGER recommend_club_watched_insert AFTER INSERT ON club_watched
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET watching = watching + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_club_watched_delete AFTER DELETE ON club_watched
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT old.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = old.guild_id);
    UPDATE recommend_versions SET watching = watching + 1 WHERE guild_id = old.guild_id;
END;
CREATE TRIGGER recommend_watchlist_insert AFTER INSERT ON watchlist
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET watching = watching + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_watchlist_delete AFTER DELETE ON watchlist
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT old.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = old.guild_id);
    UPDATE recommend_versions SET watching = watching + 1 WHERE guild_id = old.guild_id;
END;

CREATE TRIGGER recommend_collections_insert AFTER INSERT ON collections
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET collections = collections + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_collections_update AFTER UPDATE ON collections
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT new.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = new.guild_id);
    UPDATE recommend_versions SET collections = collections + 1 WHERE guild_id = new.guild_id;
END;
CREATE TRIGGER recommend_collections_delete AFTER DELETE ON collections
BEGIN
    INSERT INTO recommend_versions (guild_id) SELECT old.guild_id
    WHERE NOT EXISTS (SELECT 1 FROM recommend_versions WHERE guild_id = old.guild_id);
    UPDATE recommend_versions SET collections = collections + 1 WHERE guild_id = old.guild_id;
END;
CREATE TRIGGER recommend_collection_films_insert AFTER INSERT ON collection_films
BEGIN
    UPDATE recommend_versions SET collections = collections + 1
    WHERE guild_id = (SELECT guild_id FROM collections WHERE id = new.collection_id);
END;
CREATE TRIGGER recommend_collection_films_delete AFTER DELETE ON collection_films
BEGIN
    UPDATE recommend_versions SET collections = collections + 1
    WHERE guild_id = (SELECT guild_id FROM collections WHERE id = old.collection_id);
END;
