"""SQL for persisted timers.

Each timer belongs to the shard of its server (``guild_id``; a timer of no server belongs to shard 0), and a process
only claims and runs timers of its own shards. Claiming is one statement that picks the due timers and marks them
with the claiming process's instance id, so what the loop runs is exactly what it claimed (no read that a run
committed since can make stale). A claim stays with its instance (a retry is that instance's to run) until a new
process for the shard takes the shard's claims over when it starts; finishing or retrying is conditional on the
claim, so a process that lost its shards records nothing over the new owner's run, and cannot claim its timers back.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from bot.db.database import Database, Reader, Row
from bot.db.shards import on_shards, shard_params


@dataclass(frozen=True)
class TimerRow:
    """A timer as stored: times as database text, the payload as JSON text (decoded by bot.core.timers)."""

    id: int
    kind: str
    key: str
    guild_id: int | None
    due_at: str
    payload: str
    attempts: int
    last_error: str | None
    done_at: str | None
    outcome: str | None


@dataclass(frozen=True)
class Shards:
    """The shards a process runs (``ids``) out of the bot's ``count``, as the timer queries filter by them."""

    count: int
    ids: tuple[int, ...]


_COLUMNS = "id, kind, key, guild_id, due_at, payload, attempts, last_error, done_at, outcome"

SCHEDULE = """
INSERT INTO timers (kind, key, guild_id, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (kind, key) WHERE done_at IS NULL
DO UPDATE SET guild_id = excluded.guild_id, due_at = excluded.due_at, payload = excluded.payload, attempts = 0,
    last_error = NULL
RETURNING id
"""
CANCEL = "UPDATE timers SET done_at = ?, outcome = 'cancelled' WHERE kind = ? AND key = ? AND done_at IS NULL"
PENDING = f"SELECT {_COLUMNS} FROM timers WHERE done_at IS NULL AND kind = ? AND key = ?"  # noqa: S608
LATEST = f"SELECT {_COLUMNS} FROM timers WHERE kind = ? AND key = ? ORDER BY id DESC LIMIT 1"  # noqa: S608
# Each of these names the claim and the due_at that ran: if the handler moved its own timer meanwhile (scheduled the
# same kind and key again), the moved timer stays pending instead of being finished or pushed back with it; if
# another process took the timer over (this one lost its shard), its run is the one recorded.
FINISH = """
UPDATE timers SET done_at = :now, outcome = :outcome, attempts = :attempts, last_error = :error
WHERE id = :id AND done_at IS NULL AND due_at = :due_at AND claimed_by = :instance
"""
RETRY_LATER = """
UPDATE timers SET due_at = :retry_at, attempts = :attempts, last_error = :error
WHERE id = :id AND done_at IS NULL AND due_at = :due_at AND claimed_by = :instance
"""
# A handler moving its own timer on: only if nobody scheduled or cancelled it while it ran (that request stands).
MOVE_ON = """
UPDATE timers SET due_at = :next_at, attempts = 0, last_error = NULL
WHERE id = :id AND done_at IS NULL AND due_at = :due_at
"""

ERROR_LIMIT = 500


def _row(r: Row) -> TimerRow:
    return TimerRow(
        r["id"],
        r["kind"],
        r["key"],
        r["guild_id"],
        r["due_at"],
        r["payload"],
        r["attempts"],
        r["last_error"],
        r["done_at"],
        r["outcome"],
    )


def _on_shards(shards: Shards) -> str:
    """The condition for timers of ``shards`` (parameters: :func:`_shard_params`). A server's shard is Discord's
    ``(guild_id >> 22) % count``; a timer of no server is shard 0's. Every shard at once needs no condition."""
    if len(shards.ids) == shards.count:
        return "1 = 1"
    condition = on_shards("guild_id", shards.ids)
    return f"(guild_id IS NULL OR {condition})" if 0 in shards.ids else condition


def _shard_params(shards: Shards) -> tuple[int, ...]:
    return () if len(shards.ids) == shards.count else shard_params(shards.count, shards.ids)


def _not_running(running: int) -> str:
    """The condition leaving out the ``running`` timers (kind and key pairs) this process runs now."""
    return " ".join(["AND NOT (kind = ? AND key = ?)"] * running)


@functools.cache
def _claim_sql(shards: Shards, running: int) -> str:
    # The outer conditions repeat the inner ones: under PostgreSQL's READ COMMITTED an UPDATE re-checks its own WHERE
    # (not the subquery's) on a row another transaction changed meanwhile.
    claimable = f"done_at IS NULL AND due_at <= ? AND (claimed_by IS NULL OR claimed_by = ?) {_not_running(running)}"
    return f"""
UPDATE timers SET claimed_by = ?, claimed_at = ?
WHERE {claimable} AND id IN (
    SELECT id FROM timers WHERE {claimable} AND {_on_shards(shards)} ORDER BY due_at, id LIMIT ?
)
RETURNING {_COLUMNS}
"""  # noqa: S608 - built from fixed fragments; every value is a parameter


@functools.cache
def _take_over_sql(shards: Shards) -> str:
    return f"""
UPDATE timers SET claimed_by = ?
WHERE done_at IS NULL AND claimed_by <> ? AND {_on_shards(shards)}
"""  # noqa: S608 - built from fixed fragments; every value is a parameter


@functools.cache
def _next_due_sql(shards: Shards, running: int) -> str:
    return f"""
SELECT due_at FROM timers
WHERE done_at IS NULL AND (claimed_by IS NULL OR claimed_by = ?) {_not_running(running)} AND {_on_shards(shards)}
ORDER BY due_at, id LIMIT 1
"""  # noqa: S608 - built from fixed fragments; every value is a parameter


@functools.cache
def _purge_sql(shards: Shards) -> str:
    return f"DELETE FROM timers WHERE done_at IS NOT NULL AND done_at < ? AND {_on_shards(shards)}"  # noqa: S608


async def schedule(
    db: Database, kind: str, key: str, guild_id: int | None, due_at: str, payload: str, created_at: str
) -> int:
    row = await db.fetchone_write(SCHEDULE, (kind, key, guild_id, due_at, payload, created_at))
    return int(row[0])


async def cancel(db: Database, kind: str, key: str, now: str) -> bool:
    return await db.execute(CANCEL, (now, kind, key)) > 0


async def claim_due(
    db: Database, shards: Shards, instance: str, now: str, running: Sequence[tuple[str, str]], limit: int
) -> list[TimerRow]:
    """Claim for ``instance`` the ``limit`` earliest due timers of ``shards`` that are unclaimed or its own, leaving
    out the ``running`` (kind, key) pairs; return them, earliest first."""
    excluded = tuple(value for pair in running for value in pair)
    claimable = (now, instance, *excluded)
    params = (instance, now, *claimable, *claimable, *_shard_params(shards), limit)
    async with db.transaction() as tx:  # a writing statement returning many rows
        rows = [_row(r) for r in await tx.fetchall(_claim_sql(shards, len(running)), params)]
    return sorted(rows, key=lambda row: (row.due_at, row.id))


async def take_over(db: Database, shards: Shards, instance: str) -> int:
    """Make ``instance`` the claimant of every pending timer of ``shards`` another instance claimed; return how many.
    For a process that has just become the one running ``shards``: their claimants are gone (they died mid-run, or
    stopped), and their timers are now its own to run."""
    return await db.execute(_take_over_sql(shards), (instance, instance, *_shard_params(shards)))


async def next_due(db: Reader, shards: Shards, instance: str, running: Sequence[tuple[str, str]]) -> str | None:
    """When the earliest pending timer of ``shards`` that ``instance`` may claim is due, leaving out the ``running``
    (kind, key) pairs."""
    excluded = tuple(value for pair in running for value in pair)
    params = (instance, *excluded, *_shard_params(shards))
    due_at = await db.fetchval(_next_due_sql(shards, len(running)), params)
    return None if due_at is None else str(due_at)


async def pending(db: Reader, kind: str, key: str) -> TimerRow | None:
    r = await db.fetchone(PENDING, (kind, key))
    return None if r is None else _row(r)


async def _which(db: Reader, pairs: Sequence[tuple[str, str]], *, pending: bool) -> set[tuple[str, str]]:
    """Which of these (kind, key) pairs have a timer (only a pending one, with ``pending``): one query per 400
    pairs, for start-up's re-arming of many at once."""
    found: set[tuple[str, str]] = set()
    still = "done_at IS NULL AND " if pending else ""
    for start in range(0, len(pairs), 400):
        chunk = pairs[start : start + 400]
        either = " OR ".join(["(kind = ? AND key = ?)"] * len(chunk))
        query = f"SELECT DISTINCT kind, key FROM timers WHERE {still}({either})"  # noqa: S608 - placeholders only
        rows = await db.fetchall(query, [value for pair in chunk for value in pair])
        found.update((str(r[0]), str(r[1])) for r in rows)
    return found


async def ever_armed(db: Reader, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (kind, key) pairs ever had a timer, pending or finished."""
    return await _which(db, pairs, pending=False)


async def pending_pairs(db: Reader, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (kind, key) pairs have a pending timer."""
    return await _which(db, pairs, pending=True)


async def latest(db: Reader, kind: str, key: str) -> TimerRow | None:
    r = await db.fetchone(LATEST, (kind, key))
    return None if r is None else _row(r)


async def move_on(db: Database, timer_id: int, due_at: str, next_at: str) -> bool:
    """Move the pending timer ``timer_id`` from ``due_at`` to ``next_at``; False if it was moved or ended meanwhile."""
    return await db.execute(MOVE_ON, {"id": timer_id, "due_at": due_at, "next_at": next_at}) > 0


async def finish(
    db: Database, timer: TimerRow, instance: str, now: str, outcome: str, *, attempts: int, error: str | None = None
) -> bool:
    """Record how ``instance``'s run of ``timer`` ended; False if the timer moved or was taken over meanwhile."""
    params = {
        "now": now,
        "outcome": outcome,
        "attempts": attempts,
        "error": None if error is None else error[:ERROR_LIMIT],
        "id": timer.id,
        "due_at": timer.due_at,
        "instance": instance,
    }
    if error is None:  # a success keeps the last failure, if any, for whoever investigates
        params["error"] = timer.last_error
    return await db.execute(FINISH, params) > 0


async def retry_later(
    db: Database, timer: TimerRow, instance: str, retry_at: str, *, attempts: int, error: str
) -> bool:
    """Push ``instance``'s failed run of ``timer`` back to ``retry_at``; False if it moved or was taken over."""
    params = {
        "retry_at": retry_at,
        "attempts": attempts,
        "error": error[:ERROR_LIMIT],
        "id": timer.id,
        "due_at": timer.due_at,
        "instance": instance,
    }
    return await db.execute(RETRY_LATER, params) > 0


async def purge_finished(db: Database, shards: Shards, before: str) -> int:
    """Delete timers of ``shards`` that finished (done, cancelled or failed) before ``before``; return how many."""
    return await db.execute(_purge_sql(shards), (before, *_shard_params(shards)))
