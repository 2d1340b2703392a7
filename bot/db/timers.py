"""SQL for persisted timers."""

from __future__ import annotations

from bot.db.database import Database, Reader

SCHEDULE = """
INSERT INTO timers (kind, key, due_at, payload, created_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, key) WHERE done_at IS NULL
DO UPDATE SET due_at = excluded.due_at, payload = excluded.payload, attempts = 0, last_error = NULL
RETURNING id
"""
CANCEL = "UPDATE timers SET done_at = ?, outcome = 'cancelled' WHERE kind = ? AND key = ? AND done_at IS NULL"
NEXT_DUE = "SELECT min(due_at) FROM timers WHERE done_at IS NULL"
DUE = """
SELECT id, kind, key, due_at, payload, attempts FROM timers
WHERE done_at IS NULL AND due_at <= ? ORDER BY due_at, id LIMIT ?
"""
PENDING = "SELECT id, kind, key, due_at, payload, attempts FROM timers WHERE done_at IS NULL AND kind = ? AND key = ?"
FINISH = "UPDATE timers SET done_at = ?, outcome = ? WHERE id = ? AND done_at IS NULL"
RETRY_LATER = "UPDATE timers SET due_at = ?, attempts = attempts + 1, last_error = ? WHERE id = ? AND done_at IS NULL"


async def schedule(db: Database, kind: str, key: str, due_at: str, payload: str, created_at: str) -> int:
    row = await db.fetchone_write(SCHEDULE, (kind, key, due_at, payload, created_at))
    return int(row[0])


async def cancel(db: Database, kind: str, key: str, now: str) -> bool:
    return await db.execute_rowcount(CANCEL, (now, kind, key)) > 0


async def next_due(db: Reader) -> str | None:
    value = await db.fetchval(NEXT_DUE)
    return None if value is None else str(value)


async def due(db: Reader, now: str, limit: int) -> list[tuple[int, str, str, str, str, int]]:
    rows = await db.fetchall(DUE, (now, limit))
    return [(r["id"], r["kind"], r["key"], r["due_at"], r["payload"], r["attempts"]) for r in rows]


async def pending(db: Reader, kind: str, key: str) -> tuple[int, str, str, str, str, int] | None:
    r = await db.fetchone(PENDING, (kind, key))
    return None if r is None else (r["id"], r["kind"], r["key"], r["due_at"], r["payload"], r["attempts"])


async def finish(db: Database, timer_id: int, now: str, outcome: str) -> None:
    await db.execute(FINISH, (now, outcome, timer_id))


async def retry_later(db: Database, timer_id: int, due_at: str, error: str) -> None:
    await db.execute(RETRY_LATER, (due_at, error[:500], timer_id))
