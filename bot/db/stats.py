"""SQL for club statistics and member profiles; club-wide figures read the running totals kept by triggers."""

from __future__ import annotations

CLUB_TOTALS = """
SELECT coalesce(g.films, 0), coalesce(g.reviews, 0), coalesce(g.half_stars, 0), coalesce(g.members, 0),
       (SELECT count(*) FROM club_watched WHERE guild_id = k.guild_id)
FROM (SELECT :guild_id AS guild_id) AS k LEFT JOIN review_guild_totals g ON g.guild_id = k.guild_id
"""
# The club rating (bot.core.score.club_rating) in half stars, as a ratio of integers: a film with n reviews summing
# to h half stars rates (prior_half_stars + h) / (prior_reviews + n). Dividing exact integers rounds equal ratios to
# the same double, so equal ratings sort as equal (and then by more reviews).
TOP_RATED = """
SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = :guild_id
ORDER BY (:prior_half_stars + half_stars) * 1.0 / (:prior_reviews + reviews) DESC, reviews DESC LIMIT :limit
"""
MOST_REVIEWED = """
SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = :guild_id
ORDER BY reviews DESC, half_stars DESC LIMIT :limit
"""
# (With equal numbers of reviews, the higher sum is the higher average: the index gives this order as it is.)
# In both lists, films tie exactly when they have the same number of reviews and the same sum of ratings.
TIED = (
    "SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = ? AND reviews = ? AND half_stars = ?"
)
MOST_ACTIVE = """
SELECT user_id, reviews, half_stars FROM review_member_totals WHERE guild_id = ?
ORDER BY reviews DESC, user_id LIMIT ?
"""
THEMES_WATCHED = """
SELECT t.slug, t.title, count(*) AS films
FROM club_watched cw
JOIN film_themes ft ON ft.film_id = cw.film_id
JOIN themes t ON t.slug = ft.theme_slug
WHERE cw.guild_id = ? AND t.retired = 0
GROUP BY t.slug ORDER BY films DESC, t.title LIMIT ?
"""
MEMBER_THEMES = """
SELECT t.slug, t.title, count(*), sum(r.rating)
FROM reviews r
JOIN film_themes ft ON ft.film_id = r.film_id
JOIN themes t ON t.slug = ft.theme_slug
WHERE r.guild_id = ? AND r.user_id = ? AND t.retired = 0
GROUP BY t.slug
"""
