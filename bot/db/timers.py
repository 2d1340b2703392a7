"""SQL for persisted timers."""

from __future__ import annotations

from dataclasses import dataclass

from bot.db.database import Database, Reader, Row


@dataclass(frozen=True)
class TimerRow:
    """A timer as stored: times as database text, the payload as JSON text (decoded by bot.core.timers)."""

    id: int
    kind: str
    key: str
    due_at: str
    payload: str
    attempts: int
    last_error: str | None
    done_at: str | None
    outcome: str | None


_COLUMNS = "id, kind, key, due_at, payload, attempts, last_error, done_at, outcome"

SCHEDULE = """
INSERT INTO timers (kind, key, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, key) WHERE done_at IS NULL
DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, attempts = 0, last_error = NULL
RETURNING id
"""
CANCEL = "UPDATE timers SET done_at = ?, outcome = 'cancelled' WHERE kind = ? AND key = ? AND done_at IS NULL"
# The earliest pending timers: the loop skips those already running, so it asks for one more than it runs.
NEXT_DUE = "SELECT kind, key, due_at FROM timers WHERE done_at IS NULL ORDER BY due_at, id LIMIT ?"
DUE = f"SELECT {_COLUMNS} FROM timers WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?"  # noqa: S608
PENDING = f"SELECT {_COLUMNS} FROM timers WHERE done_at IS NULL AND kind = ? AND key = ?"  # noqa: S608
LATEST = f"SELECT {_COLUMNS} FROM timers WHERE kind = ? AND key = ? ORDER BY id DESC LIMIT 1"  # noqa: S608
# Each of these names the due_at that ran: if the handler moved its own timer meanwhile (scheduled the same kind and
# key again), the moved timer stays pending instead of being finished or pushed back with it.
FINISH = """
UPDATE timers SET done_at = :now, outcome = :outcome, attempts = :attempts, last_error = :error
WHERE id = :id AND done_at IS NULL AND due_at = :due_at
"""
RETRY_LATER = """
UPDATE timers SET due_at = :retry_at, attempts = :attempts, last_error = :error
WHERE id = :id AND done_at IS NULL AND due_at = :due_at
"""
PURGE_FINISHED = "DELETE FROM timers WHERE done_at IS NOT NULL AND done_at < ?"

ERROR_LIMIT = 500


def _row(r: Row) -> TimerRow:
    return TimerRow(
        r["id"],
        r["kind"],
        r["key"],
        r["due_at"],
        r["payload"],
        r["attempts"],
        r["last_error"],
        r["done_at"],
        r["outcome"],
    )


async def schedule(db: Database, kind: str, key: str, due_at: str, payload: str, created_at: str) -> int:
    row = await db.fetchone_write(SCHEDULE, (kind, key, due_at, payload, created_at))
    return int(row[0])


async def cancel(db: Database, kind: str, key: str, now: str) -> bool:
    return await db.execute(CANCEL, (now, kind, key)) > 0


async def next_due(db: Reader, limit: int) -> list[tuple[str, str, str]]:
    """(kind, key, due_at) of the ``limit`` earliest pending timers."""
    return [(r["kind"], r["key"], r["due_at"]) for r in await db.fetchall(NEXT_DUE, (limit,))]


async def due(db: Reader, now: str, limit: int) -> list[TimerRow]:
    return [_row(r) for r in await db.fetchall(DUE, (now, limit))]


async def pending(db: Reader, kind: str, key: str) -> TimerRow | None:
    r = await db.fetchone(PENDING, (kind, key))
    return None if r is None else _row(r)


async def latest(db: Reader, kind: str, key: str) -> TimerRow | None:
    r = await db.fetchone(LATEST, (kind, key))
    return None if r is None else _row(r)


async def finish(
    db: Database, timer: TimerRow, now: str, outcome: str, *, attempts: int, error: str | None = None
) -> None:
    params = {
        "now": now,
        "outcome": outcome,
        "attempts": attempts,
        "error": None if error is None else error[:ERROR_LIMIT],
        "id": timer.id,
        "due_at": timer.due_at,
    }
    if error is None:  # a success keeps the last failure, if any, for whoever investigates
        params["error"] = timer.last_error
    await db.execute(FINISH, params)


async def retry_later(db: Database, timer: TimerRow, retry_at: str, *, attempts: int, error: str) -> None:
    params = {
        "retry_at": retry_at,
        "attempts": attempts,
        "error": error[:ERROR_LIMIT],
        "id": timer.id,
        "due_at": timer.due_at,
    }
    await db.execute(RETRY_LATER, params)


async def purge_finished(db: Database, before: str) -> int:
    """Delete timers that finished (done, cancelled or failed) before ``before``; return how many."""
    return await db.execute(PURGE_FINISHED, (before,))
