"""Letterboxd imports and exports as stored: what a member has, the writes of one import, and the export's rows.

A member's reviews as an import reads them come from bot.db.reviews (:func:`bot.db.reviews.member_reviews`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.db.database import Reader, Transaction


@dataclass(frozen=True)
class LetterboxdFilm:
    """What earlier imports said about one film (table ``letterboxd_films``; keys and dates as text)."""

    film_id: int
    rating: int | None
    rating_key: str | None
    body: str | None
    body_key: str | None
    body_spoiler: bool
    first_on: str | None
    last_on: str | None


@dataclass(frozen=True)
class Mark:
    """A film marked seen or put on the watchlist: where the mark came from, and when (database text)."""

    source: str
    at: str


@dataclass(frozen=True)
class ImportedReview:
    """A review an import writes (always with source ``letterboxd``, never marked edited)."""

    film_id: int
    rating: int
    body: str | None
    spoiler: bool
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class ExportRow:
    """One line of an export: a review, or a film marked seen without one (``rating`` and ``body`` None)."""

    film_id: int
    title: str
    year: int
    rating: int | None
    watched_at: str
    body: str | None
    source: str
    spoiler: bool
    letterboxd_uri: str | None = None  # the film's own Letterboxd page (a server film an import added)
    tmdb_id: int | None = None
    imdb_id: str | None = None


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
# (The existing row's columns are named with their table: PostgreSQL would find a bare name ambiguous.)
UPSERT_WATCHED = """
INSERT INTO member_watched (guild_id, user_id, film_id, source, watched_at)
VALUES (:guild_id, :user_id, :film_id, 'letterboxd', :at)
ON CONFLICT (guild_id, user_id, film_id) DO UPDATE SET watched_at = excluded.watched_at
WHERE member_watched.source = 'letterboxd' AND excluded.watched_at < member_watched.watched_at
"""
UPSERT_WATCHLIST = """
INSERT INTO watchlist (guild_id, user_id, film_id, source, added_at)
VALUES (:guild_id, :user_id, :film_id, 'letterboxd', :at)
ON CONFLICT (guild_id, user_id, film_id) DO UPDATE SET added_at = excluded.added_at
WHERE watchlist.source = 'letterboxd' AND excluded.added_at < watchlist.added_at
"""

# Reviews, then films marked as seen without a review; with :everything = 0 only what was done in the club (what
# came from Letterboxd stays out, so importing the file there duplicates nothing).
EXPORT_ROWS = """
SELECT f.id, f.title, f.year, r.rating, coalesce(mw.watched_at, r.created_at), r.body, r.source, r.spoiler,
       f.letterboxd_uri, f.tmdb_id, f.imdb_id
FROM reviews r
JOIN films f ON f.id = r.film_id
LEFT JOIN member_watched mw ON mw.guild_id = r.guild_id AND mw.user_id = r.user_id AND mw.film_id = r.film_id
WHERE r.guild_id = :guild_id AND r.user_id = :user_id AND (:everything = 1 OR r.source = 'discord')
  AND (f.guild_id IS NULL OR f.guild_id = r.guild_id)
UNION ALL
SELECT f.id, f.title, f.year, NULL, mw.watched_at, NULL, mw.source, 0, f.letterboxd_uri, f.tmdb_id, f.imdb_id
FROM member_watched mw
JOIN films f ON f.id = mw.film_id
WHERE mw.guild_id = :guild_id AND mw.user_id = :user_id AND (:everything = 1 OR mw.source != 'letterboxd')
  AND (f.guild_id IS NULL OR f.guild_id = mw.guild_id)
  AND NOT EXISTS (SELECT 1 FROM reviews r
                  WHERE r.guild_id = mw.guild_id AND r.user_id = mw.user_id AND r.film_id = mw.film_id
                    AND (:everything = 1 OR r.source = 'discord'))
"""


async def letterboxd_films(db: Reader, guild_id: int, user_id: int) -> list[LetterboxdFilm]:
    rows = await db.fetchall(MEMBER_LETTERBOXD_FILMS, (guild_id, user_id))
    return [LetterboxdFilm(int(r[0]), r[1], r[2], r[3], r[4], bool(r[5]), r[6], r[7]) for r in rows]


async def watched_marks(db: Reader, guild_id: int, user_id: int) -> dict[int, Mark]:
    """film id -> how the member came to have it marked seen."""
    return {int(r[0]): Mark(r[1], r[2]) for r in await db.fetchall(MEMBER_WATCHED, (guild_id, user_id))}


async def watchlist_marks(db: Reader, guild_id: int, user_id: int) -> dict[int, Mark]:
    """film id -> how the film came to be on the member's watchlist."""
    return {int(r[0]): Mark(r[1], r[2]) for r in await db.fetchall(MEMBER_WATCHLIST, (guild_id, user_id))}


async def save_letterboxd_films(tx: Transaction, guild_id: int, user_id: int, films: Iterable[LetterboxdFilm]) -> None:
    """Store (or replace) what the imports so far said about these films."""
    await tx.executemany(
        UPSERT_LETTERBOXD_FILM,
        [
            {
                "guild_id": guild_id,
                "user_id": user_id,
                "film_id": f.film_id,
                "rating": f.rating,
                "rating_key": f.rating_key,
                "body": f.body,
                "body_key": f.body_key,
                "body_spoiler": int(f.body_spoiler),
                "first_on": f.first_on,
                "last_on": f.last_on,
            }
            for f in films
        ],
    )


def _review_params(guild_id: int, user_id: int, review: ImportedReview) -> dict[str, int | str | None]:
    return {
        "guild_id": guild_id,
        "user_id": user_id,
        "film_id": review.film_id,
        "rating": review.rating,
        "body": review.body,
        "spoiler": int(review.spoiler),
        "created_at": review.created_at,
        "updated_at": review.updated_at,
    }


async def insert_reviews(tx: Transaction, guild_id: int, user_id: int, reviews: Iterable[ImportedReview]) -> None:
    await tx.executemany(INSERT_REVIEW, [_review_params(guild_id, user_id, r) for r in reviews])


async def update_reviews(tx: Transaction, guild_id: int, user_id: int, reviews: Iterable[ImportedReview]) -> None:
    """Rewrite reviews an earlier import wrote (a review written on Discord is left as it is)."""
    await tx.executemany(UPDATE_REVIEW, [_review_params(guild_id, user_id, r) for r in reviews])


async def mark_watched(tx: Transaction, guild_id: int, user_id: int, marks: dict[int, str]) -> None:
    """film id -> date: mark the films seen, or move an imported mark to an earlier date."""
    params = [{"guild_id": guild_id, "user_id": user_id, "film_id": f, "at": at} for f, at in marks.items()]
    await tx.executemany(UPSERT_WATCHED, params)


async def add_to_watchlist(tx: Transaction, guild_id: int, user_id: int, marks: dict[int, str]) -> None:
    """film id -> date: put the films on the watchlist, or move an imported entry to an earlier date."""
    params = [{"guild_id": guild_id, "user_id": user_id, "film_id": f, "at": at} for f, at in marks.items()]
    await tx.executemany(UPSERT_WATCHLIST, params)


async def export_rows(db: Reader, guild_id: int, user_id: int, *, everything: bool) -> list[ExportRow]:
    """A member's export, by date watched, then title, year and film. Sorted here rather than in SQL: the two
    backends collate titles differently, and the file must be the same on both."""
    params = {"guild_id": guild_id, "user_id": user_id, "everything": int(everything)}
    rows = [
        ExportRow(
            int(r[0]),
            r[1],
            int(r[2]),
            r[3],
            r[4],
            r[5],
            r[6],
            bool(r[7]),
            r[8],
            None if r[9] is None else int(r[9]),
            r[10],
        )
        for r in await db.fetchall(EXPORT_ROWS, params)
    ]
    return sorted(rows, key=lambda row: (row.watched_at, row.title, row.year, row.film_id))
