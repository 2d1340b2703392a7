-- 0003: members' ratings and reviews, watchlists, and what members and the club have watched (all per server).

-- Ratings are stored in half stars (1 = 0.5 stars ... 10 = 5 stars) so that no float ever needs rounding.
-- `source` says where the review was written: on Discord, or imported from a Letterboxd export (an import never
-- overwrites a review written on Discord). `edited` is set once a review has been replaced.
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
-- A film's reviews newest first (/reviews film pages) and a member's newest first (/reviews member, /profile);
-- a film's rating histogram (and so its count and average) straight from an index.
CREATE INDEX reviews_by_film ON reviews (guild_id, film_id, updated_at);
CREATE INDEX reviews_by_film_rating ON reviews (guild_id, film_id, rating);
CREATE INDEX reviews_by_member ON reviews (guild_id, user_id, updated_at);

-- Running totals per film and per member, kept in step with `reviews` by the triggers below, so that club-wide
-- statistics read one row per film or member instead of every review (100,000 reviews: see bench/reviews.py).
CREATE TABLE review_film_totals (
    guild_id   INTEGER NOT NULL,
    film_id    INTEGER NOT NULL,
    reviews    INTEGER NOT NULL,
    half_stars INTEGER NOT NULL,  -- the sum of the ratings, in half stars
    PRIMARY KEY (guild_id, film_id)
) WITHOUT ROWID;
CREATE INDEX review_film_totals_by_count ON review_film_totals (guild_id, reviews, half_stars);

CREATE TABLE review_member_totals (
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    reviews    INTEGER NOT NULL,
    half_stars INTEGER NOT NULL,
    PRIMARY KEY (guild_id, user_id)
) WITHOUT ROWID;
CREATE INDEX review_member_totals_by_count ON review_member_totals (guild_id, reviews);

-- One row per server: how many films and members have reviews, how many reviews, and their sum.
CREATE TABLE review_guild_totals (
    guild_id   INTEGER PRIMARY KEY,
    films      INTEGER NOT NULL,
    members    INTEGER NOT NULL,
    reviews    INTEGER NOT NULL,
    half_stars INTEGER NOT NULL
);

CREATE TRIGGER reviews_count_insert AFTER INSERT ON reviews
BEGIN
    INSERT INTO review_film_totals (guild_id, film_id, reviews, half_stars) VALUES (new.guild_id, new.film_id, 1, new.rating)
    ON CONFLICT (guild_id, film_id) DO UPDATE SET reviews = reviews + 1, half_stars = half_stars + excluded.half_stars;
    INSERT INTO review_member_totals (guild_id, user_id, reviews, half_stars) VALUES (new.guild_id, new.user_id, 1, new.rating)
    ON CONFLICT (guild_id, user_id) DO UPDATE SET reviews = reviews + 1, half_stars = half_stars + excluded.half_stars;
    INSERT INTO review_guild_totals (guild_id, films, members, reviews, half_stars)
    VALUES (
        new.guild_id,
        (SELECT reviews = 1 FROM review_film_totals WHERE guild_id = new.guild_id AND film_id = new.film_id),
        (SELECT reviews = 1 FROM review_member_totals WHERE guild_id = new.guild_id AND user_id = new.user_id),
        1,
        new.rating
    )
    ON CONFLICT (guild_id) DO UPDATE SET
        films = films + excluded.films, members = members + excluded.members,
        reviews = reviews + 1, half_stars = half_stars + excluded.half_stars;
END;

CREATE TRIGGER reviews_count_delete AFTER DELETE ON reviews
BEGIN
    UPDATE review_film_totals SET reviews = reviews - 1, half_stars = half_stars - old.rating
    WHERE guild_id = old.guild_id AND film_id = old.film_id;
    UPDATE review_member_totals SET reviews = reviews - 1, half_stars = half_stars - old.rating
    WHERE guild_id = old.guild_id AND user_id = old.user_id;
    UPDATE review_guild_totals SET
        films = films - (SELECT count(*) FROM review_film_totals
                         WHERE guild_id = old.guild_id AND film_id = old.film_id AND reviews <= 0),
        members = members - (SELECT count(*) FROM review_member_totals
                             WHERE guild_id = old.guild_id AND user_id = old.user_id AND reviews <= 0),
        reviews = reviews - 1,
        half_stars = half_stars - old.rating
    WHERE guild_id = old.guild_id;
    DELETE FROM review_film_totals WHERE guild_id = old.guild_id AND film_id = old.film_id AND reviews <= 0;
    DELETE FROM review_member_totals WHERE guild_id = old.guild_id AND user_id = old.user_id AND reviews <= 0;
END;

-- Keys never change in practice (replacing a review updates it in place), so an update only moves the sums.
CREATE TRIGGER reviews_count_update AFTER UPDATE OF rating ON reviews WHEN new.rating != old.rating
BEGIN
    UPDATE review_film_totals SET half_stars = half_stars - old.rating + new.rating
    WHERE guild_id = new.guild_id AND film_id = new.film_id;
    UPDATE review_member_totals SET half_stars = half_stars - old.rating + new.rating
    WHERE guild_id = new.guild_id AND user_id = new.user_id;
    UPDATE review_guild_totals SET half_stars = half_stars - old.rating + new.rating WHERE guild_id = new.guild_id;
END;

-- A moderator's removal of a review is recorded with what was removed.
CREATE TABLE review_removals (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    film_id    INTEGER NOT NULL REFERENCES films (id),
    rating     INTEGER NOT NULL,
    body       TEXT,
    spoiler    INTEGER NOT NULL DEFAULT 0,
    removed_by INTEGER NOT NULL,
    reason     TEXT,
    removed_at TEXT NOT NULL
);
CREATE INDEX review_removals_by_guild ON review_removals (guild_id, removed_at);

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
