"""Weekly picks as stored: the per-week claims with their films, and each server's next scheduled slot."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.db.database import Database, Reader, Row, Transaction, placeholders
from bot.db.times import from_db, maybe_from_db


@dataclass(frozen=True)
class PicksPost:
    """A claimed week, with its films in the post's order: posted once ``message_id`` is set."""

    id: int
    guild_id: int
    week_key: str
    theme_slug: str
    theme_title: str
    trigger: str
    slot_at: datetime | None
    requested_by: int | None
    channel_id: int
    message_id: int | None
    claimed_at: datetime
    posted_at: datetime | None
    film_ids: tuple[int, ...] = ()
    poll_wanted: bool = False  # the server asked for a watch-party poll when the week was claimed
    poll_id: int | None = None

    @property
    def posted(self) -> bool:
        return self.message_id is not None

    @property
    def marker(self) -> str:
        """The text in the post's footer that identifies it, so a crashed post can be found and not repeated."""
        return f"{self.week_key} · #{self.id}"


@dataclass(frozen=True)
class PostFilm:
    """One film of a claimed week, in the post's order, with the reason it was picked."""

    film_id: int
    reason: str


@dataclass(frozen=True)
class ScheduleRow:
    """The server's pending weekly slot: the key of its timer and when it is due (database text)."""

    timer_key: str
    slot_at: str


_POST_COLUMNS = """
id, guild_id, week_key, theme_slug, theme_title, trigger, slot_at, requested_by, channel_id, message_id, claimed_at,
posted_at, poll_wanted, poll_id
"""

# The claim: at most one row per server and week. DO NOTHING + RETURNING gives no row when the week is taken.
CLAIM = """
INSERT INTO picks_posts (guild_id, week_key, theme_slug, theme_title, trigger, slot_at, requested_by, channel_id,
                         claimed_at, poll_wanted)
VALUES (:guild_id, :week_key, :theme_slug, :theme_title, :trigger, :slot_at, :requested_by, :channel_id, :claimed_at,
        :poll_wanted)
ON CONFLICT (guild_id, week_key) DO NOTHING
RETURNING id
"""
ADD_FILM = "INSERT INTO picks_post_films (post_id, position, film_id, reason) VALUES (?, ?, ?, ?)"
MARK_POSTED = "UPDATE picks_posts SET message_id = ?, posted_at = ? WHERE id = ? AND message_id IS NULL"
# Run inside the transaction that stores the poll (bot.core.polls.create_poll's ``record``): no row changed means
# another attempt recorded a poll first, and this one is rolled back.
SET_POLL = "UPDATE picks_posts SET poll_id = ? WHERE id = ? AND poll_id IS NULL AND poll_wanted = 1"
POLL_OF = "SELECT poll_id FROM picks_posts WHERE id = ?"
RELEASE = "DELETE FROM picks_posts WHERE id = ? AND message_id IS NULL"

# The f-strings below join constant SQL fragments; values always go through placeholders.
POST_FOR_WEEK = f"SELECT {_POST_COLUMNS} FROM picks_posts WHERE guild_id = ? AND week_key = ?"  # noqa: S608
POST_BY_ID = f"SELECT {_POST_COLUMNS} FROM picks_posts WHERE id = ?"  # noqa: S608
RECENT_POSTS = f"""
SELECT {_POST_COLUMNS} FROM picks_posts WHERE guild_id = ? ORDER BY claimed_at DESC, id DESC LIMIT ?
"""  # noqa: S608
POST_FILMS = "SELECT film_id, reason FROM picks_post_films WHERE post_id = ? ORDER BY position"

#: Films of a server's posts in the given weeks (``{weeks}``: one placeholder per week key): the no-repeat window.
FILMS_IN_WEEKS = """
SELECT DISTINCT pf.film_id FROM picks_post_films pf JOIN picks_posts p ON p.id = pf.post_id
WHERE p.guild_id = ? AND p.week_key IN ({weeks})
"""
LAST_THEME = "SELECT theme_slug FROM picks_posts WHERE guild_id = ? ORDER BY claimed_at DESC, id DESC LIMIT 1"
LATEST_POSTED_FILMS = """
SELECT film_id FROM picks_post_films
WHERE post_id = (SELECT id FROM picks_posts WHERE guild_id = ? AND message_id IS NOT NULL
                 ORDER BY posted_at DESC, id DESC LIMIT 1)
ORDER BY position
"""

GET_SCHEDULE = "SELECT timer_key, slot_at FROM picks_schedule WHERE guild_id = ?"
SAVE_SCHEDULE = """
INSERT INTO picks_schedule (guild_id, timer_key, slot_at, week_key, scheduled_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (guild_id) DO UPDATE SET
    timer_key = excluded.timer_key, slot_at = excluded.slot_at, week_key = excluded.week_key,
    scheduled_at = excluded.scheduled_at
"""
DELETE_SCHEDULE = "DELETE FROM picks_schedule WHERE guild_id = ?"


def _post(r: Row, film_ids: tuple[int, ...]) -> PicksPost:
    return PicksPost(
        id=r["id"],
        guild_id=r["guild_id"],
        week_key=r["week_key"],
        theme_slug=r["theme_slug"],
        theme_title=r["theme_title"],
        trigger=r["trigger"],
        slot_at=maybe_from_db(r["slot_at"]),
        requested_by=r["requested_by"],
        channel_id=r["channel_id"],
        message_id=r["message_id"],
        claimed_at=from_db(r["claimed_at"]),
        posted_at=maybe_from_db(r["posted_at"]),
        film_ids=film_ids,
        poll_wanted=bool(r["poll_wanted"]),
        poll_id=r["poll_id"],
    )


# -- claims -----------------------------------------------------------------------------------------------------------


async def claim(tx: Transaction, values: dict[str, Any], films: Iterable[tuple[int, str]]) -> int | None:
    """Claim a week (the named parameters of :data:`CLAIM`) with its films, ``(film id, reason)`` in the post's
    order; return the claim's id, or ``None`` (and write nothing) when the week is already claimed."""
    row = await tx.fetchone(CLAIM, values)
    if row is None:
        return None
    post_id = int(row[0])
    await tx.executemany(
        ADD_FILM, [(post_id, position, film_id, reason) for position, (film_id, reason) in enumerate(films, start=1)]
    )
    return post_id


async def mark_posted(db: Database, post_id: int, message_id: int, now: str) -> None:
    """Record the post's message, once: a second call leaves the first message."""
    await db.execute(MARK_POSTED, (message_id, now, post_id))


async def release(db: Database, post_id: int) -> None:
    """Delete a claim that was never posted (its films go with it)."""
    await db.execute(RELEASE, (post_id,))


async def set_poll(tx: Transaction, post_id: int, poll_id: int) -> bool:
    """Note the week's watch-party poll; False when the week has one already (or was claimed without)."""
    return await tx.execute(SET_POLL, (poll_id, post_id)) == 1


async def poll_of(db: Reader, post_id: int) -> int | None:
    value = await db.fetchval(POLL_OF, (post_id,))
    return None if value is None else int(value)


async def _with_films(db: Reader, row: Row) -> PicksPost:
    films = await post_films(db, int(row["id"]))
    return _post(row, tuple(film.film_id for film in films))


async def post_for_week(db: Reader, guild_id: int, week_key: str) -> PicksPost | None:
    row = await db.fetchone(POST_FOR_WEEK, (guild_id, week_key))
    return None if row is None else await _with_films(db, row)


async def post_by_id(db: Reader, post_id: int) -> PicksPost | None:
    row = await db.fetchone(POST_BY_ID, (post_id,))
    return None if row is None else await _with_films(db, row)


async def recent_posts(db: Reader, guild_id: int, limit: int) -> list[PicksPost]:
    """The server's latest claims with their films, newest first."""
    return [await _with_films(db, row) for row in await db.fetchall(RECENT_POSTS, (guild_id, limit))]


async def post_films(db: Reader, post_id: int) -> list[PostFilm]:
    """A claim's films in the post's order."""
    return [PostFilm(int(r["film_id"]), r["reason"]) for r in await db.fetchall(POST_FILMS, (post_id,))]


# -- choosing ---------------------------------------------------------------------------------------------------------


async def films_in_weeks(db: Reader, guild_id: int, week_keys: Sequence[str]) -> set[int]:
    """The films of the server's claims in any of these weeks."""
    if not week_keys:
        return set()
    query = FILMS_IN_WEEKS.format(weeks=placeholders(len(week_keys)))
    return {int(row[0]) for row in await db.fetchall(query, (guild_id, *week_keys))}


async def last_theme(db: Reader, guild_id: int) -> str | None:
    """The theme of the server's latest claim (where the rotation goes on from)."""
    value = await db.fetchval(LAST_THEME, (guild_id,))
    return None if value is None else str(value)


async def latest_posted_films(db: Reader, guild_id: int) -> list[int]:
    """The film ids of the server's most recent posted week, in order ([] before the first one)."""
    return [int(row[0]) for row in await db.fetchall(LATEST_POSTED_FILMS, (guild_id,))]


# -- the schedule -----------------------------------------------------------------------------------------------------


async def schedule_of(db: Reader, guild_id: int) -> ScheduleRow | None:
    row = await db.fetchone(GET_SCHEDULE, (guild_id,))
    return None if row is None else ScheduleRow(row["timer_key"], row["slot_at"])


async def save_schedule(db: Database, guild_id: int, timer_key: str, slot_at: str, week_key: str, now: str) -> None:
    """Remember the server's pending slot (replacing the one before)."""
    await db.execute(SAVE_SCHEDULE, (guild_id, timer_key, slot_at, week_key, now))


async def delete_schedule(db: Database, guild_id: int) -> None:
    await db.execute(DELETE_SCHEDULE, (guild_id,))
