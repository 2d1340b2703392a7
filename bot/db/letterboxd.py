"""SQL for Letterboxd imports and exports: reads of what a member has, and the writes of one import."""

from __future__ import annotations

MEMBER_REVIEWS = """
SELECT film_id, rating, body, spoiler, source, created_at, updated_at, edited FROM reviews
WHERE guild_id = ? AND user_id = ?
"""
MEMBER_LETTERBOXD_FILMS = """
SELECT film_id, rating, rating_key, body, body_key, body_spoiler, first_on, last_on
FROM letterboxd_films WHERE guild_id = ? AND user_id = ?
"""
MEMBER_WATCHED = "SELECT film_id, source, watched_at FROM member_watched WHERE guild_id = ? AND user_id = ?"
MEMBER_WATCHLIST = "SELECT film_id, source, added_at FROM watchlist WHERE guild_id = ? AND user_id = ?"

UPSERT_LETTERBOXD_FILM = """
INSERT INTO letterboxd_films (guild_id, user_id, film_id, rating, rating_key, body, body_key, body_spoiler, first_on,
                              last_on)
VALUES (:guild_id, :user_id, :film_id, :rating, :rating_key, :body, :body_key, :body_spoiler, :first_on, :last_on)
ON CONFLICT (guild_id, user_id, film_id) DO UPDATE SET
    rating = excluded.rating, rating_key = excluded.rating_key, body = excluded.body, body_key = excluded.body_key,
    body_spoiler = excluded.body_spoiler, first_on = excluded.first_on, last_on = excluded.last_on
"""
# An imported review is dated by the export (first and last date it gives the film) and never marked edited: the
# same files give the same row whatever order they came in.
INSERT_REVIEW = """
INSERT INTO reviews (guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at, edited)
VALUES (:guild_id, :user_id, :film_id, :rating, :body, :spoiler, 'letterboxd', :created_at, :updated_at, 0)
"""
# Only ever an earlier import's review: one written on Discord is never overwritten.
UPDATE_REVIEW = """
UPDATE reviews SET rating = :rating, body = :body, spoiler = :spoiler, created_at = :created_at,
    updated_at = :updated_at, edited = 0
WHERE guild_id = :guild_id AND user_id = :user_id AND film_id = :film_id AND source = 'letterboxd'
"""
# New rows, or an earlier date for a row an import wrote; what a member or a screening recorded is left alone.
UPSERT_WATCHED = """
INSERT INTO member_watched (guild_id, user_id, film_id, source, watched_at)
VALUES (:guild_id, :user_id, :film_id, 'letterboxd', :at)
ON CONFLICT DO UPDATE SET watched_at = excluded.watched_at
WHERE source = 'letterboxd' AND excluded.watched_at < watched_at
"""
UPSERT_WATCHLIST = """
INSERT INTO watchlist (guild_id, user_id, film_id, source, added_at)
VALUES (:guild_id, :user_id, :film_id, 'letterboxd', :at)
ON CONFLICT DO UPDATE SET added_at = excluded.added_at WHERE source = 'letterboxd' AND excluded.added_at < added_at
"""

# Reviews, then films marked as seen without a review; with :everything = 0 only what was done in the club (what
# came from Letterboxd stays out, so importing the file there duplicates nothing).
EXPORT_ROWS = """
SELECT f.title, f.year, r.rating, coalesce(mw.watched_at, r.created_at) AS watched_at, r.body, r.source, r.spoiler
FROM reviews r
JOIN films f ON f.id = r.film_id
LEFT JOIN member_watched mw ON mw.guild_id = r.guild_id AND mw.user_id = r.user_id AND mw.film_id = r.film_id
WHERE r.guild_id = :guild_id AND r.user_id = :user_id AND (:everything OR r.source = 'discord')
UNION ALL
SELECT f.title, f.year, NULL, mw.watched_at, NULL, mw.source, 0
FROM member_watched mw
JOIN films f ON f.id = mw.film_id
WHERE mw.guild_id = :guild_id AND mw.user_id = :user_id AND (:everything OR mw.source != 'letterboxd')
  AND NOT EXISTS (SELECT 1 FROM reviews r
                  WHERE r.guild_id = mw.guild_id AND r.user_id = mw.user_id AND r.film_id = mw.film_id
                    AND (:everything OR r.source = 'discord'))
ORDER BY 4, 1
"""
