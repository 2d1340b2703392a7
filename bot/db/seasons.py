"""Seasons as stored: a server's multi-week series, the films of a fixed running order, and a poll season's weekly
polls.

A server has at most one current season, and the database says so: a current season's ``current_guild_id`` is its
server's id, under a unique index (migration 0022), so of two creates at once (two processes on PostgreSQL) exactly
one stores its season.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.db.database import Database, Reader, Row, Transaction
from bot.db.shards import on_shards, shard_params


@dataclass(frozen=True)
class SeasonRecord:
    """A stored season; times as stored (see bot.db.times), ``film_ids`` by week for a fixed running order."""

    id: int
    guild_id: int
    theme_slug: str
    theme_title: str
    mode: str
    weeks: int
    starts_at: str
    ends_at: str
    notes: str
    created_by: int
    created_at: str
    ended_at: str | None
    ended_by: int | None
    film_ids: tuple[int, ...] = ()


_COLUMNS = """
id, guild_id, theme_slug, theme_title, mode, weeks, starts_at, ends_at, notes, created_by, created_at, ended_at,
ended_by
"""
# A season that ran its course stops being current when the next one is made (ended ones stopped when ended).
RETIRE_FINISHED = "UPDATE seasons SET current_guild_id = NULL WHERE current_guild_id = ? AND ends_at <= ?"
# Stored as the server's current season; no row comes back when the server already has one (the unique index).
INSERT_SEASON = """
INSERT INTO seasons (guild_id, theme_slug, theme_title, mode, weeks, starts_at, ends_at, notes, created_by, created_at,
                     current_guild_id)
VALUES (:guild_id, :theme_slug, :theme_title, :mode, :weeks, :starts_at, :ends_at, :notes, :created_by, :created_at,
        :guild_id)
ON CONFLICT DO NOTHING
RETURNING id
"""
ADD_FILM = "INSERT INTO season_films (season_id, week, film_id) VALUES (?, ?, ?)"
# Not ended early and not over by ``now``: the season that is running or still to come (at most one per server).
CURRENT = (
    f"SELECT {_COLUMNS} FROM seasons WHERE guild_id = ? AND ended_at IS NULL AND ends_at > ? ORDER BY starts_at, id"  # noqa: S608
)
# The season running at a moment: started by then, not over, and not ended early before it.
AT = (
    f"SELECT {_COLUMNS} FROM seasons WHERE guild_id = ? AND starts_at <= ? AND ends_at > ?"  # noqa: S608
    " AND (ended_at IS NULL OR ended_at > ?) ORDER BY starts_at DESC, id DESC"
)
FILMS = "SELECT film_id FROM season_films WHERE season_id = ? ORDER BY week"
END = "UPDATE seasons SET ended_at = ?, ended_by = ?, current_guild_id = NULL WHERE id = ? AND ended_at IS NULL"
BY_ID = f"SELECT {_COLUMNS} FROM seasons WHERE id = ?"  # noqa: S608
# Poll seasons of the given shards that are neither ended nor over: their weekly polls' timers are checked at start-up.
POLL_SEASONS = (
    f"SELECT {_COLUMNS} FROM seasons WHERE mode = 'poll' AND ended_at IS NULL AND ends_at > ?"  # noqa: S608
    " AND {on_shards} ORDER BY id"
)
RECORD_WEEK = """
INSERT INTO season_polls (season_id, week, poll_id, skipped, handled_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING
"""
WEEK_POLLS = """
SELECT sp.week, sp.poll_id, sp.skipped, p.status, p.closes_at, p.winner_film_id
FROM season_polls AS sp LEFT JOIN polls AS p ON p.id = sp.poll_id
WHERE sp.season_id = ? ORDER BY sp.week
"""


@dataclass(frozen=True)
class WeekPoll:
    """A handled week of a poll season: its poll (with the poll's status, deadline and winner) or why it has none."""

    week: int
    poll_id: int | None
    skipped: str | None
    status: str | None
    closes_at: str | None
    winner_film_id: int | None


def _season(row: Row, film_ids: Sequence[int]) -> SeasonRecord:
    return SeasonRecord(
        int(row[0]),
        int(row[1]),
        row[2],
        row[3],
        row[4],
        int(row[5]),
        row[6],
        row[7],
        row[8],
        int(row[9]),
        row[10],
        row[11],
        None if row[12] is None else int(row[12]),
        tuple(film_ids),
    )


async def insert_season(tx: Transaction, values: dict[str, object], film_ids: Sequence[int]) -> int | None:
    """Store a season as its server's current one, with its fixed films (week 1 first); its id, or None when the
    server already has a current season (running, or still to come at ``values["created_at"]``)."""
    await tx.execute(RETIRE_FINISHED, (values["guild_id"], values["created_at"]))
    found = await tx.fetchval(INSERT_SEASON, values)
    if found is None:
        return None
    season_id = int(found)
    for week, film_id in enumerate(film_ids, start=1):
        await tx.execute(ADD_FILM, (season_id, week, film_id))
    return season_id


async def current_seasons(db: Reader, guild_id: int, now: str) -> list[SeasonRecord]:
    """The server's seasons neither ended nor over at ``now``, soonest first, with their fixed films."""
    found = []
    for row in await db.fetchall(CURRENT, (guild_id, now)):
        films = [int(r[0]) for r in await db.fetchall(FILMS, (int(row[0]),))]
        found.append(_season(row, films))
    return found


async def season_at(db: Reader, guild_id: int, moment: str) -> SeasonRecord | None:
    """The server's season running at ``moment``, with its fixed films; None when none is."""
    row = await db.fetchone(AT, (guild_id, moment, moment, moment))
    if row is None:
        return None
    return _season(row, [int(r[0]) for r in await db.fetchall(FILMS, (int(row[0]),))])


async def end_season(db: Database | Transaction, season_id: int, now: str, ended_by: int) -> bool:
    """Mark a season ended; False when it already was."""
    return await db.execute(END, (now, ended_by, season_id)) > 0


async def season_by_id(db: Reader, season_id: int) -> SeasonRecord | None:
    row = await db.fetchone(BY_ID, (season_id,))
    if row is None:
        return None
    return _season(row, [int(r[0]) for r in await db.fetchall(FILMS, (int(row[0]),))])


async def poll_seasons(db: Reader, now: str, shard_count: int, shard_ids: Sequence[int]) -> list[SeasonRecord]:
    """The poll seasons of the servers on ``shard_ids`` that are neither ended nor over at ``now``."""
    query = POLL_SEASONS.format(on_shards=on_shards("guild_id", shard_ids))
    return [_season(row, ()) for row in await db.fetchall(query, (now, *shard_params(shard_count, shard_ids)))]


async def record_week(
    db: Database | Transaction, season_id: int, week: int, now: str, *, poll_id: int | None = None, skipped: str = ""
) -> bool:
    """Record how a poll season's week was handled: its poll, or why it has none; False when it already was."""
    return await db.execute(RECORD_WEEK, (season_id, week, poll_id, skipped or None, now)) > 0


async def week_polls(db: Reader, season_id: int) -> dict[int, WeekPoll]:
    """The handled weeks of a poll season, by week."""
    found = {}
    for row in await db.fetchall(WEEK_POLLS, (season_id,)):
        found[int(row[0])] = WeekPoll(
            int(row[0]),
            None if row[1] is None else int(row[1]),
            row[2],
            row[3],
            row[4],
            None if row[5] is None else int(row[5]),
        )
    return found
