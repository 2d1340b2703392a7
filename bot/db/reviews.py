"""Ratings and reviews as stored: the statements, and the records they return.

Ratings are integers (half stars, 1 to 10) and sums of them; averages are left to bot.core, which divides in Python,
so SQLite and PostgreSQL give the same figures to the last bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.db.database import Database, Reader, Row, Transaction
from bot.db.times import from_db


@dataclass(frozen=True)
class Review:
    """A member's review of a film, as stored."""

    guild_id: int
    user_id: int
    film_id: int
    rating: int  # half stars, 1 to 10
    body: str | None
    spoiler: bool
    source: str  # "discord" or "letterboxd"
    created_at: datetime
    updated_at: datetime
    edited: bool

    @property
    def stars(self) -> float:
        return self.rating / 2


@dataclass(frozen=True)
class ReviewValues:
    """What writing a member's review stores, checked by bot.core.reviews; ``now`` is database text."""

    guild_id: int
    user_id: int
    film_id: int
    rating: int
    body: str | None
    spoiler: bool
    source: str
    now: str


@dataclass(frozen=True)
class Removal:
    """A moderator's removal of someone else's review, as recorded."""

    id: int
    guild_id: int
    user_id: int
    film_id: int
    rating: int
    body: str | None
    spoiler: bool
    removed_by: int
    reason: str | None
    removed_at: datetime


@dataclass(frozen=True)
class FilmTotals:
    """A film's running totals in one server: how many reviews, and the sum of their ratings in half stars."""

    film_id: int
    reviews: int
    half_stars: int


_REVIEW_COLUMNS = "guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at, edited"

# Writing a review is "insert, or replace the member's review of that film" inside one transaction, as two plain
# statements rather than an UPSERT: which path ran is the caller's answer (replaced or not), and on SQLite an outer
# statement's conflict clause also governs the statements of the triggers it fires (the running totals, the
# recommendation caches). Plain statements behave the same on both backends.
INSERT_REVIEW = """
INSERT INTO reviews (guild_id, user_id, film_id, rating, body, spoiler, source, created_at, updated_at, edited)
VALUES (:guild_id, :user_id, :film_id, :rating, :body, :spoiler, :source, :now, :now, 0)
"""
REPLACE_REVIEW = """
UPDATE reviews SET rating = :rating, body = :body, spoiler = :spoiler, source = :source, updated_at = :now, edited = 1
WHERE guild_id = :guild_id AND user_id = :user_id AND film_id = :film_id
"""
EXISTS_REVIEW = "SELECT 1 FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"
# Read from the running totals (kept by triggers), not from every review; in primary-key order, so every caller
# meets the films in the same order on both backends.
FILM_TOTALS = "SELECT film_id, reviews, half_stars FROM review_film_totals WHERE guild_id = ? ORDER BY film_id"
MEMBER_RATINGS = "SELECT film_id, rating FROM reviews WHERE guild_id = ? AND user_id = ? ORDER BY film_id"
GUILD_RATINGS = "SELECT user_id, film_id, rating FROM reviews WHERE guild_id = ? ORDER BY user_id, film_id"

GET_REVIEW = f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"  # noqa: S608
DELETE_REVIEW = "DELETE FROM reviews WHERE guild_id = ? AND user_id = ? AND film_id = ?"
RECORD_REMOVAL = """
INSERT INTO review_removals (guild_id, user_id, film_id, rating, body, spoiler, removed_by, reason, removed_at)
VALUES (:guild_id, :user_id, :film_id, :rating, :body, :spoiler, :removed_by, :reason, :now)
"""
# Only while the review exists: a post recorded after its review was deleted would never be taken down.
RECORD_POST = """
INSERT INTO review_posts (guild_id, user_id, film_id, channel_id, message_id)
SELECT CAST(:guild_id AS BIGINT), CAST(:user_id AS BIGINT), CAST(:film_id AS BIGINT), CAST(:channel_id AS BIGINT),
       CAST(:message_id AS BIGINT)
WHERE EXISTS (SELECT 1 FROM reviews WHERE guild_id = :guild_id AND user_id = :user_id AND film_id = :film_id)
ON CONFLICT DO NOTHING
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
RECENT = f"""
SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = ? ORDER BY updated_at DESC, film_id DESC, user_id DESC LIMIT ?
"""  # noqa: S608
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
MEMBER_REVIEWS = f"SELECT {_REVIEW_COLUMNS} FROM reviews WHERE guild_id = ? AND user_id = ? ORDER BY film_id"  # noqa: S608


def _review(row: Row) -> Review:
    return Review(
        guild_id=int(row[0]),
        user_id=int(row[1]),
        film_id=int(row[2]),
        rating=int(row[3]),
        body=row[4],
        spoiler=bool(row[5]),
        source=row[6],
        created_at=from_db(row[7]),
        updated_at=from_db(row[8]),
        edited=bool(row[9]),
    )


async def save_review(tx: Transaction, values: ReviewValues) -> bool:
    """Insert the review, or replace the member's earlier one (marked edited); return whether it replaced one."""
    params = {
        "guild_id": values.guild_id,
        "user_id": values.user_id,
        "film_id": values.film_id,
        "rating": values.rating,
        "body": values.body,
        "spoiler": int(values.spoiler),
        "source": values.source,
        "now": values.now,
    }
    if await review_exists(tx, values.guild_id, values.user_id, values.film_id):
        await tx.execute(REPLACE_REVIEW, params)
        return True
    await tx.execute(INSERT_REVIEW, params)
    return False


async def review_exists(db: Reader, guild_id: int, user_id: int, film_id: int) -> bool:
    return await db.fetchone(EXISTS_REVIEW, (guild_id, user_id, film_id)) is not None


async def get_review(db: Reader, guild_id: int, user_id: int, film_id: int) -> Review | None:
    row = await db.fetchone(GET_REVIEW, (guild_id, user_id, film_id))
    return None if row is None else _review(row)


async def delete_review(tx: Transaction, guild_id: int, user_id: int, film_id: int) -> bool:
    return await tx.execute(DELETE_REVIEW, (guild_id, user_id, film_id)) > 0


async def record_removal(tx: Transaction, review: Review, removed_by: int, reason: str | None, now: str) -> None:
    await tx.execute(
        RECORD_REMOVAL,
        {
            "guild_id": review.guild_id,
            "user_id": review.user_id,
            "film_id": review.film_id,
            "rating": review.rating,
            "body": review.body,
            "spoiler": int(review.spoiler),
            "removed_by": removed_by,
            "reason": reason,
            "now": now,
        },
    )


async def removals(db: Reader, guild_id: int, limit: int) -> list[Removal]:
    """The ``limit`` most recent removals in a server, newest first."""
    return [
        Removal(
            id=int(r[0]),
            guild_id=int(r[1]),
            user_id=int(r[2]),
            film_id=int(r[3]),
            rating=int(r[4]),
            body=r[5],
            spoiler=bool(r[6]),
            removed_by=int(r[7]),
            reason=r[8],
            removed_at=from_db(r[9]),
        )
        for r in await db.fetchall(REMOVALS, (guild_id, limit))
    ]


async def record_post(
    db: Database, *, guild_id: int, user_id: int, film_id: int, channel_id: int, message_id: int
) -> None:
    """Remember a public message showing a review, unless the review no longer exists (or it is known already)."""
    await db.execute(
        RECORD_POST,
        {
            "guild_id": guild_id,
            "user_id": user_id,
            "film_id": film_id,
            "channel_id": channel_id,
            "message_id": message_id,
        },
    )


async def review_posts(db: Reader, guild_id: int, user_id: int, film_id: int) -> list[tuple[int, int]]:
    """(channel id, message id) of every public message that showed a review, oldest first."""
    rows = await db.fetchall(REVIEW_POSTS, (guild_id, user_id, film_id))
    return [(int(r[0]), int(r[1])) for r in rows]


async def forget_posts(tx: Transaction, guild_id: int, user_id: int, film_id: int) -> None:
    await tx.execute(FORGET_POSTS, (guild_id, user_id, film_id))


async def recent(db: Reader, guild_id: int, limit: int) -> list[Review]:
    """The server's latest reviews (written or edited), newest first."""
    return [_review(row) for row in await db.fetchall(RECENT, (guild_id, limit))]


async def film_histogram(db: Reader, guild_id: int, film_id: int) -> dict[int, int]:
    """rating (half stars) -> how many reviews of the film gave it; ratings nobody gave are absent."""
    return {int(r[0]): int(r[1]) for r in await db.fetchall(FILM_HISTOGRAM, (guild_id, film_id))}


async def film_page(db: Reader, guild_id: int, film_id: int, limit: int, offset: int) -> list[Review]:
    """A page of a film's reviews, newest first (the member id breaks ties)."""
    params = {"guild_id": guild_id, "film_id": film_id, "limit": limit, "offset": offset}
    return [_review(r) for r in await db.fetchall(FILM_PAGE, params)]


async def member_totals(db: Reader, guild_id: int, user_id: int) -> tuple[int, int]:
    """(reviews, sum of their ratings in half stars) of a member; (0, 0) for none."""
    row = await db.fetchone(MEMBER_TOTALS, (guild_id, user_id))
    return (int(row[0]), int(row[1])) if row is not None else (0, 0)


async def member_page(db: Reader, guild_id: int, user_id: int, limit: int, offset: int) -> list[Review]:
    """A page of a member's reviews, newest first (the film id breaks ties)."""
    params = {"guild_id": guild_id, "user_id": user_id, "limit": limit, "offset": offset}
    return [_review(r) for r in await db.fetchall(MEMBER_PAGE, params)]


async def member_reviews(db: Reader, guild_id: int, user_id: int) -> list[Review]:
    """Every review a member wrote in a server, by film id."""
    return [_review(r) for r in await db.fetchall(MEMBER_REVIEWS, (guild_id, user_id))]


async def film_totals(db: Reader, guild_id: int) -> list[FilmTotals]:
    """Every reviewed film of a server with its running totals, by film id."""
    return [FilmTotals(int(r[0]), int(r[1]), int(r[2])) for r in await db.fetchall(FILM_TOTALS, (guild_id,))]


async def member_ratings(db: Reader, guild_id: int, user_id: int) -> dict[int, int]:
    """film id -> half stars, for one member, by film id."""
    return {int(r[0]): int(r[1]) for r in await db.fetchall(MEMBER_RATINGS, (guild_id, user_id))}


async def guild_ratings(db: Reader, guild_id: int) -> list[tuple[int, int, int]]:
    """(member, film, half stars) for every rating in the server, by member then film."""
    return [(int(r[0]), int(r[1]), int(r[2])) for r in await db.fetchall(GUILD_RATINGS, (guild_id,))]
