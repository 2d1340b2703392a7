"""Club statistics and member profiles as stored: club-wide figures read the running totals kept by triggers.

Only integers come back (counts and sums of half stars): bot.core divides, so both backends give the same averages.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import Reader, Row
from bot.db.reviews import FilmTotals


@dataclass(frozen=True)
class ClubTotals:
    films: int  # films with at least one review
    reviews: int
    half_stars: int  # the sum of every rating
    members: int  # members with at least one review
    screenings: int  # films the club has watched


@dataclass(frozen=True)
class MemberTotals:
    user_id: int
    reviews: int
    half_stars: int


@dataclass(frozen=True)
class ThemeCount:
    """A theme and how many of the films the club watched carry it."""

    slug: str
    title: str
    films: int


@dataclass(frozen=True)
class ThemeRatings:
    """A theme, how many of the films a member reviewed carry it, and the sum of those ratings in half stars."""

    slug: str
    title: str
    films: int
    half_stars: int


CLUB_TOTALS = """
SELECT coalesce(g.films, 0), coalesce(g.reviews, 0), coalesce(g.half_stars, 0), coalesce(g.members, 0),
       (SELECT count(*) FROM club_watched WHERE guild_id = k.guild_id)
FROM (SELECT CAST(:guild_id AS BIGINT) AS guild_id) AS k LEFT JOIN review_guild_totals g ON g.guild_id = k.guild_id
"""
# The club rating (bot.core.score.club_rating) in half stars, as a ratio of integers: a film with n reviews summing
# to h half stars rates (prior_half_stars + h) / (prior_reviews + n). Both backends divide the exact integers as
# IEEE doubles, so equal ratios round to the same double and sort as equal (and then by more reviews), the same way
# on SQLite and PostgreSQL.
TOP_RATED = """
SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = :guild_id
ORDER BY CAST(:prior_half_stars + half_stars AS DOUBLE PRECISION) / (:prior_reviews + reviews) DESC, reviews DESC
LIMIT :limit
"""
MOST_REVIEWED = """
SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = :guild_id
ORDER BY reviews DESC, half_stars DESC LIMIT :limit
"""
# (With equal numbers of reviews, the higher sum is the higher average: the index gives this order as it is.)
# In both lists, films tie exactly when they have the same number of reviews and the same sum of ratings.
TIED = """
SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = ? AND reviews = ? AND half_stars = ?
ORDER BY film_id
"""
MOST_ACTIVE = """
SELECT user_id, reviews, half_stars FROM review_member_totals WHERE guild_id = ?
ORDER BY reviews DESC, user_id LIMIT ?
"""
THEMES_WATCHED = """
SELECT t.slug, t.title, count(*)
FROM club_watched cw
JOIN film_themes ft ON ft.film_id = cw.film_id
JOIN themes t ON t.slug = ft.theme_slug
WHERE cw.guild_id = ? AND t.retired = 0
GROUP BY t.slug, t.title
"""
MEMBER_THEMES = """
SELECT t.slug, t.title, count(*), sum(r.rating)
FROM reviews r
JOIN film_themes ft ON ft.film_id = r.film_id
JOIN themes t ON t.slug = ft.theme_slug
WHERE r.guild_id = ? AND r.user_id = ? AND t.retired = 0
GROUP BY t.slug, t.title
"""


def _film_totals(rows: list[Row]) -> list[FilmTotals]:
    return [FilmTotals(int(r[0]), int(r[1]), int(r[2])) for r in rows]


async def club_totals(db: Reader, guild_id: int) -> ClubTotals:
    row = await db.fetchone(CLUB_TOTALS, {"guild_id": guild_id})
    if row is None:  # pragma: no cover - the query always returns its one row
        raise RuntimeError("the club totals query returned nothing")
    return ClubTotals(*(int(value) for value in row))


async def top_rated(
    db: Reader, guild_id: int, *, prior_reviews: int, prior_half_stars: int, limit: int
) -> list[FilmTotals]:
    """The ``limit`` films with the highest club rating (then more reviews); ties with the last come from
    :func:`tied`."""
    params = {
        "guild_id": guild_id,
        "prior_reviews": prior_reviews,
        "prior_half_stars": prior_half_stars,
        "limit": limit,
    }
    return _film_totals(await db.fetchall(TOP_RATED, params))


async def most_reviewed(db: Reader, guild_id: int, limit: int) -> list[FilmTotals]:
    """The ``limit`` films with the most reviews (then the higher sum); ties with the last come from :func:`tied`."""
    return _film_totals(await db.fetchall(MOST_REVIEWED, {"guild_id": guild_id, "limit": limit}))


async def tied(db: Reader, guild_id: int, reviews: int, half_stars: int) -> list[FilmTotals]:
    """Every film with exactly these totals, by film id."""
    return _film_totals(await db.fetchall(TIED, (guild_id, reviews, half_stars)))


async def most_active(db: Reader, guild_id: int, limit: int) -> list[MemberTotals]:
    """The ``limit`` members with the most reviews; the lower member id breaks ties."""
    rows = await db.fetchall(MOST_ACTIVE, (guild_id, limit))
    return [MemberTotals(int(r[0]), int(r[1]), int(r[2])) for r in rows]


async def themes_watched(db: Reader, guild_id: int) -> list[ThemeCount]:
    """Every current theme of the films the club watched, with how many of them carry it (in no order: titles sort
    differently under the backends' collations, so the caller ranks them)."""
    return [ThemeCount(r[0], r[1], int(r[2])) for r in await db.fetchall(THEMES_WATCHED, (guild_id,))]


async def member_themes(db: Reader, guild_id: int, user_id: int) -> list[ThemeRatings]:
    """Every current theme of the films a member reviewed, with how many and the sum of their ratings (no order)."""
    rows = await db.fetchall(MEMBER_THEMES, (guild_id, user_id))
    return [ThemeRatings(r[0], r[1], int(r[2]), int(r[3])) for r in rows]
