"""The host rota as stored: a server's volunteers with their place in the rotation, screenings' hosts, and the
offers of a turn from one host to another (swaps)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import Database, Reader, Transaction


@dataclass(frozen=True)
class Volunteer:
    guild_id: int
    user_id: int
    joined_at: str
    turn: int


@dataclass(frozen=True)
class Swap:
    id: int
    guild_id: int
    screening_id: int
    from_user: int
    to_user: int
    status: str
    created_at: str


# Turn order: who hosted least recently first (turns are numbered in the server: a join or a turn takes the next).
VOLUNTEERS = """
SELECT guild_id, user_id, joined_at, turn FROM host_volunteers WHERE guild_id = ? ORDER BY turn, joined_at, user_id
"""
VOLUNTEER = "SELECT guild_id, user_id, joined_at, turn FROM host_volunteers WHERE guild_id = ? AND user_id = ?"
LAST_TURN = "SELECT COALESCE(MAX(turn), 0) FROM host_volunteers WHERE guild_id = ?"
FIRST_TURN = "SELECT COALESCE(MIN(turn), 0) FROM host_volunteers WHERE guild_id = ?"
JOIN = """
INSERT INTO host_volunteers (guild_id, user_id, joined_at, turn) VALUES (?, ?, ?, ?)
ON CONFLICT (guild_id, user_id) DO NOTHING
"""
LEAVE = "DELETE FROM host_volunteers WHERE guild_id = ? AND user_id = ?"
# Compare-and-set: a second planner that read the same turn changes nothing and reads again.
TAKE_TURN = "UPDATE host_volunteers SET turn = ? WHERE guild_id = ? AND user_id = ? AND turn = ?"
SET_TURN = "UPDATE host_volunteers SET turn = ? WHERE guild_id = ? AND user_id = ?"
SET_HOST = "UPDATE screenings SET host_id = ? WHERE id = ?"
# A host's turns still to come: not started, not over, not called off.
UPCOMING_TURNS = """
SELECT id FROM screenings
WHERE guild_id = ? AND host_id = ? AND status IN ('planned', 'scheduled') AND started_at IS NULL AND starts_at > ?
ORDER BY starts_at, id
"""
UPCOMING_HOSTS = """
SELECT id, host_id FROM screenings
WHERE guild_id = ? AND host_id IS NOT NULL AND status IN ('planned', 'scheduled') AND started_at IS NULL
  AND starts_at > ?
ORDER BY starts_at, id
"""
_SWAP_COLUMNS = "id, guild_id, screening_id, from_user, to_user, status, created_at"
INSERT_SWAP = """
INSERT INTO host_swaps (guild_id, screening_id, from_user, to_user, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id
"""
SWAP = f"SELECT {_SWAP_COLUMNS} FROM host_swaps WHERE id = ?"  # noqa: S608
SETTLE_SWAP = "UPDATE host_swaps SET status = ? WHERE id = ? AND status = 'offered'"
# Offers still open that no longer apply: their screening's turn is gone (begun, called off, failed, given to someone
# else) or superseded. The rows stay, as the rota's history.
VOID_SWAPS_OF_SCREENING = "UPDATE host_swaps SET status = 'void' WHERE screening_id = ? AND status = 'offered'"
VOID_SWAPS_OF_MEMBER = """
UPDATE host_swaps SET status = 'void'
WHERE guild_id = ? AND (from_user = CAST(? AS BIGINT) OR to_user = CAST(? AS BIGINT)) AND status = 'offered'
"""
OPEN_SWAPS = f"""
SELECT {_SWAP_COLUMNS} FROM host_swaps WHERE guild_id = ? AND status = 'offered' ORDER BY created_at, id
"""  # noqa: S608


async def volunteers(db: Reader, guild_id: int) -> list[Volunteer]:
    """The server's volunteers in turn order (who hosts next first)."""
    return [Volunteer(r[0], r[1], r[2], r[3]) for r in await db.fetchall(VOLUNTEERS, (guild_id,))]


async def volunteer(db: Reader, guild_id: int, user_id: int) -> Volunteer | None:
    r = await db.fetchone(VOLUNTEER, (guild_id, user_id))
    return None if r is None else Volunteer(r[0], r[1], r[2], r[3])


async def join(db: Database, guild_id: int, user_id: int, now: str) -> bool:
    """Add a volunteer behind everyone in the rotation; False if they were one already."""
    async with db.transaction() as tx:
        last = int(await tx.fetchval(LAST_TURN, (guild_id,)))
        return await tx.execute(JOIN, (guild_id, user_id, now, last + 1)) > 0


async def leave(db: Database | Transaction, guild_id: int, user_id: int) -> bool:
    return await db.execute(LEAVE, (guild_id, user_id)) > 0


async def take_turn(tx: Database | Transaction, guild_id: int) -> int | None:
    """The volunteer whose turn it is, moved to the back of the rotation; None when there is none."""
    for _attempt in range(10):
        rows = await volunteers(tx, guild_id)
        if not rows:
            return None
        chosen = rows[0]
        last = int(await tx.fetchval(LAST_TURN, (guild_id,)))
        if await tx.execute(TAKE_TURN, (last + 1, guild_id, chosen.user_id, chosen.turn)) > 0:
            return chosen.user_id
    return None


async def put_first(tx: Transaction, guild_id: int, user_id: int) -> bool:
    """Move a volunteer ahead of everyone in the rotation (they host next); False if they are not one."""
    first = int(await tx.fetchval(FIRST_TURN, (guild_id,)))
    return await tx.execute(SET_TURN, (first - 1, guild_id, user_id)) > 0


async def set_turn(db: Database | Transaction, guild_id: int, user_id: int, turn: int) -> None:
    await db.execute(SET_TURN, (turn, guild_id, user_id))


async def set_host(db: Database | Transaction, screening_id: int, host_id: int | None) -> None:
    await db.execute(SET_HOST, (host_id, screening_id))


async def upcoming_turns(db: Reader, guild_id: int, user_id: int, now: str) -> list[int]:
    """The ids of the host's screenings still to come, soonest first."""
    return [r[0] for r in await db.fetchall(UPCOMING_TURNS, (guild_id, user_id, now))]


async def upcoming_hosts(db: Reader, guild_id: int, now: str) -> list[tuple[int, int]]:
    """(screening id, host id) of the server's screenings still to come that have a host, soonest first."""
    return [(r[0], r[1]) for r in await db.fetchall(UPCOMING_HOSTS, (guild_id, now))]


async def offer(
    db: Database | Transaction, guild_id: int, screening_id: int, from_user: int, to_user: int, now: str
) -> int:
    return int((await db.fetchone_write(INSERT_SWAP, (guild_id, screening_id, from_user, to_user, now)))[0])


async def swap(db: Reader, swap_id: int) -> Swap | None:
    r = await db.fetchone(SWAP, (swap_id,))
    return None if r is None else Swap(r[0], r[1], r[2], r[3], r[4], r[5], r[6])


async def settle(tx: Database | Transaction, swap_id: int, status: str) -> bool:
    """Accept, decline or void an offer still open; False if it was settled already (a second click)."""
    return await tx.execute(SETTLE_SWAP, (status, swap_id)) > 0


async def void_swaps_of(tx: Database | Transaction, screening_ids: list[int]) -> int:
    """Void the open offers of these screenings' turns; how many were open."""
    return sum([await tx.execute(VOID_SWAPS_OF_SCREENING, (screening_id,)) for screening_id in screening_ids])


async def void_swaps_of_member(tx: Database | Transaction, guild_id: int, user_id: int) -> int:
    """Void the open offers a member made or was made in a server (they left the rota); how many were open."""
    return await tx.execute(VOID_SWAPS_OF_MEMBER, (guild_id, user_id, user_id))


async def open_swaps(db: Reader, guild_id: int) -> list[Swap]:
    """The server's offers still waiting for an answer, oldest first."""
    return [Swap(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in await db.fetchall(OPEN_SWAPS, (guild_id,))]
