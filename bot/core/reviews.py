"""Members' ratings and reviews: one per member per film per server, in half stars from 0.5 to 5."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock, to_db
from bot.core.errors import UserError
from bot.db import reviews as sql
from bot.db.database import Database

MIN_STARS = 0.5
MAX_STARS = 5.0
MAX_REVIEW_LENGTH = 2000


@dataclass(frozen=True)
class RatingSummary:
    """The club's view of one film: mean stars and how many members rated it."""

    film_id: int
    average: float
    count: int


def half_stars(stars: float) -> int:
    """Stars (0.5 to 5, in half steps) as the stored integer 1 to 10; anything else is a member's mistake."""
    doubled = stars * 2
    if not MIN_STARS <= stars <= MAX_STARS or doubled != int(doubled):
        raise UserError("Ratings go from 0.5 to 5 stars in half steps, for example 3.5.")
    return int(doubled)


async def rate(
    db: Database,
    clock: Clock,
    *,
    guild_id: int,
    user_id: int,
    film_id: int,
    stars: float,
    body: str | None = None,
    spoiler: bool = False,
    source: str = "discord",
) -> bool:
    """Record (or replace) a member's rating and review; return whether it replaced an earlier one."""
    rating = half_stars(stars)
    text = (body or "").strip() or None
    if text is not None and len(text) > MAX_REVIEW_LENGTH:
        raise UserError(f"Reviews can be at most {MAX_REVIEW_LENGTH} characters; yours has {len(text)}.")
    row = await db.fetchone_write(
        sql.UPSERT_REVIEW,
        {
            "guild_id": guild_id,
            "user_id": user_id,
            "film_id": film_id,
            "rating": rating,
            "body": text,
            "spoiler": int(spoiler),
            "source": source,
            "now": to_db(clock.now()),
        },
    )
    return bool(row[0])


async def film_ratings(db: Database, guild_id: int) -> dict[int, RatingSummary]:
    """Every rated film in the server with its mean and count."""
    rows = await db.fetchall(sql.FILM_RATINGS, (guild_id,))
    return {row[0]: RatingSummary(row[0], float(row[1]), int(row[2])) for row in rows}


async def member_ratings(db: Database, guild_id: int, user_id: int) -> dict[int, float]:
    """film id -> stars, for one member."""
    return {row[0]: float(row[1]) for row in await db.fetchall(sql.MEMBER_RATINGS, (guild_id, user_id))}


async def guild_ratings(db: Database, guild_id: int) -> list[tuple[int, int, float]]:
    """(member, film, stars) for every rating in the server: the input of taste-based recommendations."""
    return [(row[0], row[1], float(row[2])) for row in await db.fetchall(sql.GUILD_RATINGS, (guild_id,))]
