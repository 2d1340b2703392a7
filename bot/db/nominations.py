"""Nominations: a member's proposal that the club watch a film, one row per film and server, and its status."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.db.database import Reader, Row, Transaction, placeholders
from bot.db.times import from_db, maybe_from_db

_COLUMNS = "id, guild_id, film_id, member_id, status, created_at, decided_by, decided_at"
BY_ID = f"SELECT {_COLUMNS} FROM nominations WHERE id = ? AND guild_id = ?"  # noqa: S608
BY_FILM = f"SELECT {_COLUMNS} FROM nominations WHERE guild_id = ? AND film_id = ?"  # noqa: S608
OPEN_OF_MEMBER = """
SELECT count(*) FROM nominations WHERE guild_id = ? AND member_id = ? AND status IN ('pending', 'approved')
"""
# DO NOTHING: two members nominating one film at the same moment (PostgreSQL) get one nomination and a refusal,
# not a constraint error.
INSERT = """
INSERT INTO nominations (guild_id, film_id, member_id, status, created_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, film_id) DO NOTHING
"""
REOPEN = """
UPDATE nominations SET member_id = ?, status = ?, created_at = ?, decided_by = NULL, decided_at = NULL
WHERE id = ? AND status IN ('rejected', 'chosen')
"""
DECIDE = """
UPDATE nominations SET status = ?, decided_by = ?, decided_at = ?
WHERE id = ? AND guild_id = ? AND status IN ({statuses})
"""
DELETE_OPEN = "DELETE FROM nominations WHERE id = ? AND guild_id = ? AND status IN ('pending', 'approved')"
# Newest first: a reopened nomination is as new as its reopening.
PAGE = f"""
SELECT {_COLUMNS} FROM nominations WHERE guild_id = ? AND status IN ({{statuses}})
ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?
"""  # noqa: S608
COUNT = "SELECT count(*) FROM nominations WHERE guild_id = ? AND status IN ({statuses})"
# Oldest first: the ones that have waited longest go on a ballot first.
FILMS_WITH_STATUS = """
SELECT n.film_id FROM nominations n JOIN films f ON f.id = n.film_id
WHERE n.guild_id = ? AND n.status IN ({statuses}) AND f.retired = 0 AND (f.guild_id IS NULL OR f.guild_id = n.guild_id)
ORDER BY n.created_at, n.id LIMIT ?
"""
MARK_CHOSEN = """
UPDATE nominations SET status = 'chosen', decided_by = NULL, decided_at = ?
WHERE guild_id = ? AND film_id = ? AND status IN ('pending', 'approved')
"""

ALL_STATUSES = ("pending", "approved", "rejected", "banned", "chosen")


@dataclass(frozen=True)
class Nomination:
    id: int
    guild_id: int
    film_id: int
    member_id: int
    status: str
    created_at: datetime
    decided_by: int | None
    decided_at: datetime | None


def _nomination(row: Row) -> Nomination:
    return Nomination(
        id=int(row["id"]),
        guild_id=int(row["guild_id"]),
        film_id=int(row["film_id"]),
        member_id=int(row["member_id"]),
        status=row["status"],
        created_at=from_db(row["created_at"]),
        decided_by=None if row["decided_by"] is None else int(row["decided_by"]),
        decided_at=maybe_from_db(row["decided_at"]),
    )


async def get(db: Reader, guild_id: int, nomination_id: int) -> Nomination | None:
    row = await db.fetchone(BY_ID, (nomination_id, guild_id))
    return None if row is None else _nomination(row)


async def for_film(db: Reader, guild_id: int, film_id: int) -> Nomination | None:
    row = await db.fetchone(BY_FILM, (guild_id, film_id))
    return None if row is None else _nomination(row)


async def open_count(db: Reader, guild_id: int, member_id: int) -> int:
    """How many of the member's nominations are pending or approved."""
    return int(await db.fetchval(OPEN_OF_MEMBER, (guild_id, member_id)))


async def insert(tx: Transaction, guild_id: int, film_id: int, member_id: int, status: str, now: str) -> int | None:
    """The new nomination's id; None when the film was nominated meanwhile (by another transaction)."""
    if await tx.execute(INSERT, (guild_id, film_id, member_id, status, now)) != 1:
        return None
    created = await for_film(tx, guild_id, film_id)
    return None if created is None else created.id


async def reopen(tx: Transaction, nomination_id: int, member_id: int, status: str, now: str) -> bool:
    """A rejected or chosen nomination proposed again: the new nominator's, as new; False if its status moved."""
    return await tx.execute(REOPEN, (member_id, status, now, nomination_id)) == 1


async def decide(
    tx: Transaction,
    guild_id: int,
    nomination_id: int,
    status: str,
    decided_by: int,
    now: str,
    from_statuses: Sequence[str],
) -> bool:
    """Set the status if it is one of ``from_statuses``; return whether it changed."""
    query = DECIDE.format(statuses=placeholders(len(from_statuses)))
    return await tx.execute(query, (status, decided_by, now, nomination_id, guild_id, *from_statuses)) == 1


async def delete_open(tx: Transaction, guild_id: int, nomination_id: int) -> bool:
    """Withdraw a pending or approved nomination; return whether it was one."""
    return await tx.execute(DELETE_OPEN, (nomination_id, guild_id)) == 1


async def page(db: Reader, guild_id: int, statuses: Sequence[str], limit: int, offset: int) -> list[Nomination]:
    """The server's nominations with one of ``statuses``, newest first."""
    query = PAGE.format(statuses=placeholders(len(statuses)))
    return [_nomination(row) for row in await db.fetchall(query, (guild_id, *statuses, limit, offset))]


async def count(db: Reader, guild_id: int, statuses: Sequence[str]) -> int:
    query = COUNT.format(statuses=placeholders(len(statuses)))
    return int(await db.fetchval(query, (guild_id, *statuses)))


async def films_with_status(db: Reader, guild_id: int, statuses: Sequence[str], limit: int) -> list[int]:
    """The nominated films (not retired) with one of ``statuses``, the longest-waiting first."""
    query = FILMS_WITH_STATUS.format(statuses=placeholders(len(statuses)))
    return [int(row[0]) for row in await db.fetchall(query, (guild_id, *statuses, limit))]


async def mark_chosen(tx: Transaction, guild_id: int, film_id: int, now: str) -> bool:
    """The club chose the film (a poll it won closed): its open nomination, if any, is done."""
    return await tx.execute(MARK_CHOSEN, (now, guild_id, film_id)) == 1
