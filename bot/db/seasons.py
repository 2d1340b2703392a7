"""Seasons as stored: a server's multi-week series and the films of a fixed running order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.db.database import Database, Reader, Row, Transaction


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
INSERT_SEASON = """
INSERT INTO seasons (guild_id, theme_slug, theme_title, mode, weeks, starts_at, ends_at, notes, created_by, created_at)
VALUES (:guild_id, :theme_slug, :theme_title, :mode, :weeks, :starts_at, :ends_at, :notes, :created_by, :created_at)
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
END = "UPDATE seasons SET ended_at = ?, ended_by = ? WHERE id = ? AND ended_at IS NULL"


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


async def insert_season(tx: Transaction, values: dict[str, object], film_ids: Sequence[int]) -> int:
    """Store a season and its fixed films (week 1 first); its id."""
    season_id = int(await tx.fetchval(INSERT_SEASON, values))
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


async def end_season(db: Database, season_id: int, now: str, ended_by: int) -> bool:
    """Mark a season ended; False when it already was."""
    return await db.execute(END, (now, ended_by, season_id)) > 0
