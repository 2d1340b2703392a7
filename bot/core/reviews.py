"""Members' ratings and reviews: one per member per film per server, in half stars from 0.5 to 5.

Rules:
- A rating is 0.5 to 5 stars in half steps, stored as the integer 1 to 10 (:func:`half_stars`).
- A review's text is optional and at most :data:`MAX_REVIEW_LENGTH` characters; blank text is no text.
- One review per member per film: reviewing again replaces it and marks it edited.
- Reviewing a film takes it off the member's watchlist (they have seen it now).
- Members delete their own reviews; only moderators delete someone else's, and that removal is recorded.
- Where a review was posted is kept (:func:`record_post`), so deleting it can take its public posts down too.
- Lists are newest first; pages past the end show the last page (a button may be older than a deletion).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock, to_db
from bot.core.errors import NotFoundError, PermissionDenied, UserError
from bot.core.text import printable
from bot.db import reviews as store
from bot.db import watch as watch_store
from bot.db.database import Database
from bot.db.reviews import Removal, Review, ReviewValues

# Review and Removal are stored records (bot.db.reviews), named here for the cogs.
__all__ = [
    "MAX_REASON_LENGTH",
    "MAX_REVIEW_LENGTH",
    "MAX_STARS",
    "MIN_STARS",
    "PAGE_SIZE",
    "DeletedReview",
    "FilmReviewPage",
    "MemberReviewPage",
    "PostedReview",
    "RatingSummary",
    "Removal",
    "Review",
    "ReviewPost",
    "all_member_reviews",
    "clean_body",
    "delete_review",
    "film_ratings",
    "film_reviews",
    "get_review",
    "guild_ratings",
    "half_stars",
    "member_ratings",
    "member_reviews",
    "post_review",
    "rate",
    "record_post",
    "removals",
]


MIN_STARS = 0.5
MAX_STARS = 5.0
MAX_REVIEW_LENGTH = 2000
MAX_REASON_LENGTH = 200
PAGE_SIZE = 5


@dataclass(frozen=True)
class RatingSummary:
    """The club's view of one film: mean stars and how many members rated it."""

    film_id: int
    average: float
    count: int


@dataclass(frozen=True)
class PostedReview:
    review: Review
    replaced: bool  # an earlier review of the film was replaced
    unwatchlisted: bool  # the film was taken off the member's watchlist


@dataclass(frozen=True)
class ReviewPost:
    """A public message that showed a review."""

    channel_id: int
    message_id: int


@dataclass(frozen=True)
class DeletedReview:
    review: Review
    posts: tuple[ReviewPost, ...]  # its public messages, which the caller should now take down


@dataclass(frozen=True)
class FilmReviewPage:
    film_id: int
    count: int
    average: float | None
    histogram: tuple[int, ...]  # how many reviews gave 0.5, 1, 1.5 ... 5 stars (ten buckets)
    reviews: tuple[Review, ...]
    page: int
    pages: int


@dataclass(frozen=True)
class MemberReviewPage:
    user_id: int
    count: int
    average: float | None
    reviews: tuple[Review, ...]
    page: int
    pages: int


def half_stars(stars: float) -> int:
    """Stars (0.5 to 5, in half steps) as the stored integer 1 to 10; anything else is a member's mistake."""
    doubled = stars * 2
    if not MIN_STARS <= stars <= MAX_STARS or doubled != int(doubled):
        raise UserError("Ratings go from 0.5 to 5 stars in half steps, for example 3.5.")
    return int(doubled)


def clean_body(body: str | None) -> str | None:
    """The review text as stored: stripped, ``None`` when blank; too long is refused, never silently cut."""
    text = printable(body or "").strip() or None
    if text is not None and len(text) > MAX_REVIEW_LENGTH:
        raise UserError(f"Reviews can be at most {MAX_REVIEW_LENGTH} characters; yours has {len(text)}.")
    return text


def _pages(count: int, page: int, per_page: int) -> tuple[int, int]:
    """(pages, the page to show): at least one page; a page past the end shows the last one."""
    pages = max(1, -(-count // per_page))
    return pages, min(max(page, 0), pages - 1)


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
    values = _review_values(guild_id, user_id, film_id, stars, body, spoiler, source, clock)
    async with db.transaction() as tx:
        return await store.save_review(tx, values)


def _review_values(
    guild_id: int,
    user_id: int,
    film_id: int,
    stars: float,
    body: str | None,
    spoiler: bool,
    source: str,
    clock: Clock,
) -> ReviewValues:
    """The checked values of one review, ready to write; raises :class:`UserError` before anything is written."""
    rating = half_stars(stars)
    text = clean_body(body)
    return ReviewValues(
        guild_id=guild_id,
        user_id=user_id,
        film_id=film_id,
        rating=rating,
        body=text,
        spoiler=spoiler and text is not None,  # a spoiler flag means nothing without text
        source=source,
        now=to_db(clock.now()),
    )


async def post_review(
    db: Database,
    clock: Clock,
    *,
    guild_id: int,
    user_id: int,
    film_id: int,
    stars: float,
    body: str | None = None,
    spoiler: bool = False,
) -> PostedReview:
    """A member's review from Discord: saved (or replacing theirs) and the film taken off their watchlist."""
    values = _review_values(guild_id, user_id, film_id, stars, body, spoiler, "discord", clock)
    async with db.transaction() as tx:
        replaced = await store.save_review(tx, values)
        unwatchlisted = await watch_store.remove_from_watchlist(tx, guild_id, user_id, film_id)
        record = await store.get_review(tx, guild_id, user_id, film_id)
    if record is None:  # pragma: no cover - written just above, in the same transaction
        raise RuntimeError("the review vanished inside its own transaction")
    return PostedReview(record, replaced=replaced, unwatchlisted=unwatchlisted)


async def get_review(db: Database, guild_id: int, user_id: int, film_id: int) -> Review | None:
    return await store.get_review(db, guild_id, user_id, film_id)


async def record_post(
    db: Database, *, guild_id: int, user_id: int, film_id: int, channel_id: int, message_id: int
) -> None:
    """Remember the public message that shows a member's review, so deleting the review deletes the message too.
    Nothing is recorded if the review was deleted in the meantime."""
    await store.record_post(
        db, guild_id=guild_id, user_id=user_id, film_id=film_id, channel_id=channel_id, message_id=message_id
    )


async def delete_review(
    db: Database,
    clock: Clock,
    *,
    guild_id: int,
    film_id: int,
    author_id: int,
    actor_id: int,
    actor_is_moderator: bool,
    reason: str | None = None,
) -> DeletedReview:
    """Delete ``author_id``'s review of a film. Anyone may delete their own; deleting someone else's needs a
    moderator and is recorded in ``review_removals`` with the reason. Returns what was deleted, with the public posts
    that showed it (forgotten here: the caller takes them down)."""
    removal = author_id != actor_id
    if removal and not actor_is_moderator:
        raise PermissionDenied("Only moderators can remove someone else's review.")
    cleaned_reason = printable(reason or "").strip() or None
    if cleaned_reason is not None and len(cleaned_reason) > MAX_REASON_LENGTH:
        raise UserError(f"Keep the reason under {MAX_REASON_LENGTH} characters.")
    async with db.transaction() as tx:
        record = await store.get_review(tx, guild_id, author_id, film_id)
        if record is None:
            whose = "You have" if not removal else "That member has"
            raise NotFoundError(f"{whose} no review of that film.")
        posts = tuple(ReviewPost(*post) for post in await store.review_posts(tx, guild_id, author_id, film_id))
        await store.forget_posts(tx, guild_id, author_id, film_id)
        await store.delete_review(tx, guild_id, author_id, film_id)
        if removal:
            await store.record_removal(tx, record, actor_id, cleaned_reason, to_db(clock.now()))
    return DeletedReview(record, posts)


async def removals(db: Database, guild_id: int, limit: int = 25) -> list[Removal]:
    """The most recent moderator removals in a server, newest first."""
    return await store.removals(db, guild_id, limit)


async def film_reviews(
    db: Database, guild_id: int, film_id: int, page: int = 0, per_page: int = PAGE_SIZE
) -> FilmReviewPage:
    """One page of a film's reviews (newest first) with the club's average, count and rating histogram."""
    histogram = [0] * 10
    for rating, n in (await store.film_histogram(db, guild_id, film_id)).items():
        histogram[rating - 1] = n
    count = sum(histogram)
    total = sum(half * n for half, n in enumerate(histogram, start=1))
    pages, page = _pages(count, page, per_page)
    records = await store.film_page(db, guild_id, film_id, per_page, page * per_page) if count else []
    return FilmReviewPage(
        film_id=film_id,
        count=count,
        average=total / 2 / count if count else None,
        histogram=tuple(histogram),
        reviews=tuple(records),
        page=page,
        pages=pages,
    )


async def member_reviews(
    db: Database, guild_id: int, user_id: int, page: int = 0, per_page: int = PAGE_SIZE
) -> MemberReviewPage:
    """One page of a member's reviews, newest first, with how many they wrote and their average rating."""
    count, total = await store.member_totals(db, guild_id, user_id)
    pages, page = _pages(count, page, per_page)
    records = await store.member_page(db, guild_id, user_id, per_page, page * per_page) if count else []
    return MemberReviewPage(
        user_id=user_id,
        count=count,
        average=total / 2 / count if count else None,
        reviews=tuple(records),
        page=page,
        pages=pages,
    )


async def all_member_reviews(db: Database, guild_id: int, user_id: int) -> list[Review]:
    """Every review a member wrote in a server (for exports), by film id."""
    return await store.member_reviews(db, guild_id, user_id)


async def film_ratings(db: Database, guild_id: int) -> dict[int, RatingSummary]:
    """Every rated film in the server with its mean and count, by film id."""
    return {
        t.film_id: RatingSummary(t.film_id, t.half_stars / 2 / t.reviews, t.reviews)
        for t in await store.film_totals(db, guild_id)
    }


async def member_ratings(db: Database, guild_id: int, user_id: int) -> dict[int, float]:
    """film id -> stars, for one member, by film id."""
    return {film_id: half / 2 for film_id, half in (await store.member_ratings(db, guild_id, user_id)).items()}


async def guild_ratings(db: Database, guild_id: int) -> list[tuple[int, int, float]]:
    """(member, film, stars) for every rating in the server, by member then film: the input of taste-based
    recommendations."""
    return [(user_id, film_id, half / 2) for user_id, film_id, half in await store.guild_ratings(db, guild_id)]
