-- 0003: members' ratings and reviews, watchlists, and what members and the club have watched (all per server).

-- Ratings are stored in half stars (1 = 0.5 stars ... 10 = 5 stars) so that no float ever needs rounding.
-- `source` says where the review was written: on Discord, or imported from a Letterboxd export (an import never
-- overwrites a review written on Discord). `edited` is set once a review has been replaced.
CREATE TABLE reviews (
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    film_id    BIGINT NOT NULL REFERENCES films (id),
    rating     BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 10),
    body       TEXT CHECK (body IS NULL OR length(body) <= 2000),
    spoiler    BIGINT NOT NULL DEFAULT 0 CHECK (spoiler IN (0, 1)),
    source     TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'letterboxd')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    edited     BIGINT NOT NULL DEFAULT 0 CHECK (edited IN (0, 1)),
    PRIMARY KEY (guild_id, user_id, film_id)
);
-- A film's reviews newest first (/reviews film pages) and a member's newest first (/reviews member, /profile);
-- a film's rating histogram (and so its count and average) straight from an index.
CREATE INDEX reviews_by_film ON reviews (guild_id, film_id, updated_at);
CREATE INDEX reviews_by_film_rating ON reviews (guild_id, film_id, rating);
CREATE INDEX reviews_by_member ON reviews (guild_id, user_id, updated_at);

-- Running totals per film and per member, kept in step with `reviews` by the triggers below, so that club-wide
-- statistics read one row per film or member instead of every review (100,000 reviews: see bench/reviews.py).
CREATE TABLE review_film_totals (
    guild_id   BIGINT NOT NULL,
    film_id    BIGINT NOT NULL,
    reviews    BIGINT NOT NULL,
    half_stars BIGINT NOT NULL,  -- the sum of the ratings, in half stars
    PRIMARY KEY (guild_id, film_id)
);
CREATE INDEX review_film_totals_by_count ON review_film_totals (guild_id, reviews, half_stars);

CREATE TABLE review_member_totals (
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    reviews    BIGINT NOT NULL,
    half_stars BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id)
);
CREATE INDEX review_member_totals_by_count ON review_member_totals (guild_id, reviews);

-- One row per server: how many films and members have reviews, how many reviews, and their sum.
CREATE TABLE review_guild_totals (
    guild_id   BIGINT PRIMARY KEY,
    films      BIGINT NOT NULL,
    members    BIGINT NOT NULL,
    reviews    BIGINT NOT NULL,
    half_stars BIGINT NOT NULL
);

-- The three triggers of sqlite/0003, statement for statement, as plpgsql functions.
CREATE FUNCTION reviews_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO review_film_totals AS t (guild_id, film_id, reviews, half_stars)
    VALUES (new.guild_id, new.film_id, 1, new.rating)
    ON CONFLICT (guild_id, film_id) DO UPDATE SET reviews = t.reviews + 1, half_stars = t.half_stars + excluded.half_stars;
    INSERT INTO review_member_totals AS t (guild_id, user_id, reviews, half_stars)
    VALUES (new.guild_id, new.user_id, 1, new.rating)
    ON CONFLICT (guild_id, user_id) DO UPDATE SET reviews = t.reviews + 1, half_stars = t.half_stars + excluded.half_stars;
    INSERT INTO review_guild_totals AS t (guild_id, films, members, reviews, half_stars)
    VALUES (
        new.guild_id,
        (SELECT CAST(reviews = 1 AS INTEGER) FROM review_film_totals
         WHERE guild_id = new.guild_id AND film_id = new.film_id),
        (SELECT CAST(reviews = 1 AS INTEGER) FROM review_member_totals
         WHERE guild_id = new.guild_id AND user_id = new.user_id),
        1,
        new.rating
    )
    ON CONFLICT (guild_id) DO UPDATE SET
        films = t.films + excluded.films, members = t.members + excluded.members,
        reviews = t.reviews + 1, half_stars = t.half_stars + excluded.half_stars;
    RETURN NULL;
END;
$$;
CREATE TRIGGER reviews_count_insert AFTER INSERT ON reviews
FOR EACH ROW EXECUTE FUNCTION reviews_count_insert();

CREATE FUNCTION reviews_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
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
    RETURN NULL;
END;
$$;
CREATE TRIGGER reviews_count_delete AFTER DELETE ON reviews
FOR EACH ROW EXECUTE FUNCTION reviews_count_delete();

-- Keys never change in practice (replacing a review updates it in place), so an update only moves the sums.
CREATE FUNCTION reviews_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE review_film_totals SET half_stars = half_stars - old.rating + new.rating
    WHERE guild_id = new.guild_id AND film_id = new.film_id;
    UPDATE review_member_totals SET half_stars = half_stars - old.rating + new.rating
    WHERE guild_id = new.guild_id AND user_id = new.user_id;
    UPDATE review_guild_totals SET half_stars = half_stars - old.rating + new.rating WHERE guild_id = new.guild_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER reviews_count_update AFTER UPDATE OF rating ON reviews
FOR EACH ROW WHEN (new.rating <> old.rating) EXECUTE FUNCTION reviews_count_update();

-- A moderator's removal of a review is recorded with what was removed.
CREATE TABLE review_removals (
    id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    film_id    BIGINT NOT NULL REFERENCES films (id),
    rating     BIGINT NOT NULL,
    body       TEXT,
    spoiler    BIGINT NOT NULL DEFAULT 0,
    removed_by BIGINT NOT NULL,
    reason     TEXT,
    removed_at TEXT NOT NULL
);
CREATE INDEX review_removals_by_guild ON review_removals (guild_id, removed_at);

CREATE TABLE watchlist (
    guild_id BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    film_id  BIGINT NOT NULL REFERENCES films (id),
    source   TEXT NOT NULL DEFAULT 'discord' CHECK (source IN ('discord', 'letterboxd')),
    added_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, film_id)
);
CREATE INDEX watchlist_by_film ON watchlist (guild_id, film_id);

-- What each member has seen (a rating also counts as seen; see bot.core.watch.seen_by).
CREATE TABLE member_watched (
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    film_id    BIGINT NOT NULL REFERENCES films (id),
    source     TEXT NOT NULL CHECK (source IN ('manual', 'letterboxd', 'screening')),
    watched_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, user_id, film_id)
);

-- What the club has screened together (or a moderator marked as seen).
CREATE TABLE club_watched (
    guild_id   BIGINT NOT NULL,
    film_id    BIGINT NOT NULL REFERENCES films (id),
    source     TEXT NOT NULL CHECK (source IN ('manual', 'screening')),
    reference  TEXT,                  -- e.g. the scheduled event id of the screening
    watched_at TEXT NOT NULL,
    PRIMARY KEY (guild_id, film_id)
);
