"""SQL for ratings and reviews."""

from __future__ import annotations

UPSERT_REVIEW = """
INSERT INTO reviews (guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at, edited)
VALUES (:guild_id, :user_id, :film_id, :rating, :body, :spoiler, :source, :now, :now, 0)
ON CONFLICT (guild_id, user_id, film_id) DO UPDATE SET
    rating = excluded.rating, body = excluded.body, spoiler = excluded.spoiler, source = excluded.source,
    updated_at = excluded.updated_at, edited = 1
RETURNING edited
"""
FILM_RATINGS = """
SELECT film_id, avg(rating) / 2.0 AS average, count(*) AS count FROM reviews WHERE guild_id = ? GROUP BY film_id
"""
MEMBER_RATINGS = "SELECT film_id, rating / 2.0 FROM reviews WHERE guild_id = ? AND user_id = ?"
GUILD_RATINGS = "SELECT user_id, film_id, rating / 2.0 FROM reviews WHERE guild_id = ?"
