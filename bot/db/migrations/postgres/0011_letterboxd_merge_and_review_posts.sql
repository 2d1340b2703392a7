-- 0011: what Letterboxd imports said about each film (so files imported one at a time merge, in any order), and
-- where each review was posted (so deleting a review deletes its public post).

-- One row per member and film that any Letterboxd import named. The review a member sees is derived from it: the
-- rating of the newest rated entry, the text of the newest review. `rating_key` and `body_key` are the sort keys of
-- those entries (bot.core.letterboxd.entry_key: "date|rank|watched date|line", compared as text); `first_on` and
-- `last_on` the earliest and latest dates the files give the film. Text without a rating waits here for a rating.
CREATE TABLE letterboxd_films (
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    film_id    BIGINT NOT NULL REFERENCES films (id),
    rating     BIGINT CHECK (rating IS NULL OR rating BETWEEN 1 AND 10),
    rating_key TEXT,
    body       TEXT,
    body_key   TEXT,
    first_on   TEXT,
    last_on    TEXT,
    PRIMARY KEY (guild_id, user_id, film_id)
);

-- Reviews imported before this migration: their rating and text are dated by the review, ranked below any real
-- entry of that day, so a later import of the same export changes nothing and a newer one wins.
INSERT INTO letterboxd_films (guild_id, user_id, film_id, rating, rating_key, body, body_key, first_on, last_on)
SELECT guild_id, user_id, film_id, rating, substr(updated_at, 1, 10) || '|0|0001-01-01|00000000',
       body, CASE WHEN body IS NULL THEN NULL ELSE substr(updated_at, 1, 10) || '|0|0001-01-01|00000000' END,
       substr(created_at, 1, 10), substr(updated_at, 1, 10)
FROM reviews WHERE source = 'letterboxd';

-- The public messages that showed a review (its first post, and the post of each replacement).
CREATE TABLE review_posts (
    guild_id   BIGINT NOT NULL,
    user_id    BIGINT NOT NULL,
    film_id    BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (guild_id, user_id, film_id, message_id)
);
