"""SQL for ratings and reviews."""

from __future__ import annotations

_REVIEW_COLUMNS = "guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at, edited"

# Writing a review is "insert, or replace the member's review of that film" inside one transaction, as two plain
# statements rather than an UPSERT: other features' triggers on `reviews` may use INSERT OR IGNORE, which SQLite turns
# into an error when the outer statement is an UPSERT taking its DO UPDATE path.
INSERT_REVIEW = """
INSERT INTO reviews (guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at, edited)
VALUES (:guild_id, :user_id, :film_id, :rating, :body, :spoiler, :source, :now, :now, 0)
"""
REPLACE_REVIEW = """
UPDATE reviews SET rating = :rating, body = :body, spoiler = :spoiler, source = :source, updated_at = :now, edited = 1
WHERE guild_id = :guild_id AND user_id = :user_id AND film_id = :film_id
"""
EXISTS_REVIEW = "SELECT 1 FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"
# Read from the running totals (kept by triggers), not from every review.
FILM_RATINGS = """
SELECT film_id, half_stars / 2.0 / reviews AS average, reviews FROM review_film_totals WHERE guild_id = ?
"""
MEMBER_RATINGS = "SELECT film_id, rating / 2.0 FROM reviews WHERE guild_id = ? AND user_id = ?"
GUILD_RATINGS = "SELECT user_id, film_id, rating / 2.0 FROM reviews WHERE guild_id = ?"

GET_REVIEW = f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"  # noqa: S608
DELETE_REVIEW = "DELETE FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"
RECORD_REMOVAL = """
INSERT INTO review_removals (guild_id, user_id, film_id, rating, body, spoiler, removed_by, reason, removed_at)
VALUES (:guild_id, :user_id, :film_id, :rating, :body, :spoiler, :removed_by, :reason, :now)
"""
# Only while the review exists: a post recorded after its review was deleted would never be taken down.
RECORD_POST = """
INSERT OR IGNORE INTO review_posts (guild_id, user_id, film_id, channel_id, message_id)
SELECT :guild_id, :user_id, :film_id, :channel_id, :message_id
WHERE EXISTS (SELECT 1 FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id AND film_id = :film_id)
"""
REVIEW_POSTS = """
SELECT channel_id, message_id FROM review_posts WHERE guild_id = ? AND user_id = ? AND film_id = ? ORDER BY message_id
"""
FORGET_POSTS = "DELETE FROM review_posts WHERE guild_id = ? AND user_id = ? AND film_id = ?"
REMOVALS = """
SELECT id, guild_id, user_id, film_id, rating, body, spoiler, removed_by, reason, removed_at
FROM review_removals WHERE guild_id = ? ORDER BY removed_at DESC, id DESC LIMIT ?
"""

# Index-only (reviews_by_film_rating): the histogram also gives the count and the average.
FILM_HISTOGRAM = "SELECT rating, count(*) FROM reviews WHERE guild_id = ? AND film_id = ? GROUP BY rating"
# Newest first; the member id breaks ties so that pages never overlap. Both keys descend, so the index
# reviews_by_film (whose entries end with the primary key) gives the order as it is, with no sort per page; the page
# is found in the index alone and only its rows are read, so a deep page skips index entries, not reviews.
FILM_PAGE = f"""
SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = :guild_id AND film_id = :film_id AND user_id IN (
    SELECT user_id FROM reviews WHERE guild_id = :guild_id AND film_id = :film_id
    ORDER BY updated_at DESC, user_id DESC LIMIT :limit OFFSET :offset
)
ORDER BY updated_at DESC, user_id DESC
"""  # noqa: S608

MEMBER_TOTALS = "SELECT reviews, half_stars FROM review_member_totals WHERE guild_id = ? AND user_id = ?"
MEMBER_PAGE = f"""
SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id AND film_id IN (
    SELECT film_id FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id
    ORDER BY updated_at DESC, film_id DESC LIMIT :limit OFFSET :offset
)
ORDER BY updated_at DESC, film_id DESC
"""  # noqa: S608
MEMBER_REVIEWS = f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = ? AND user_id = ?"  # noqa: S608
